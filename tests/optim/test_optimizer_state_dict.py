"""Saving and loading optimizer + scheduler state mid-run continues the run exactly."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import axon
from axon import optim
from axon.optim import lr_scheduler

STEPS, CUT = 40, 17


def grads_at(t, shapes):
    rng = np.random.default_rng(1000 + t)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def make_params(values):
    return [axon.tensor(v.copy(), requires_grad=True) for v in values]


INITIAL = [
    np.random.default_rng(0).standard_normal(s).astype(np.float32)
    for s in [(6, 4), (4,), (2, 3, 5)]
]
SHAPES = [v.shape for v in INITIAL]

SETUPS = {
    "Adam+StepLR": (
        lambda ps: optim.Adam(
            [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.02}], lr=0.05, amsgrad=True
        ),
        lambda o: lr_scheduler.StepLR(o, step_size=7, gamma=0.5),
    ),
    "AdamW+WarmupCosine": (
        lambda ps: optim.AdamW(ps, lr=0.05, weight_decay=0.1),
        lambda o: lr_scheduler.WarmupCosine(o, warmup_steps=10, total_steps=30, min_lr=1e-3),
    ),
    "SGD-momentum+OneCycle": (
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
        lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.2, total_steps=STEPS),
    ),
    "Adafactor+Sequential": (
        lambda ps: optim.Adafactor(ps, lr=0.05, weight_decay=0.01),
        lambda o: lr_scheduler.SequentialLR(
            o,
            [
                lr_scheduler.LinearLR(o, 0.1, total_iters=5),
                lr_scheduler.CosineAnnealingLR(o, T_max=30),
            ],
            milestones=[5],
        ),
    ),
    "RMSprop+Exponential": (
        lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
        lambda o: lr_scheduler.ExponentialLR(o, gamma=0.95),
    ),
    "Adagrad+MultiStep": (
        lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01),
        lambda o: lr_scheduler.MultiStepLR(o, [5, 20, 20], gamma=0.5),
    ),
    "Lion+Lambda": (
        lambda ps: optim.Lion(ps, lr=1e-3, weight_decay=0.1),
        lambda o: lr_scheduler.LambdaLR(o, lambda s: 1 / (1 + s)),
    ),
}


def train(opt, sched, params, steps):
    lrs = []
    for t in steps:
        for p, g in zip(params, grads_at(t, SHAPES), strict=True):
            p.grad = None if (p.ndim == 1 and t % 4 == 3) else axon.tensor(g)
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    return lrs


def assert_plain(obj, path="state_dict"):
    """Only NumPy arrays and Python data: what a checkpoint can store as JSON + arrays."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            assert isinstance(k, (str, int)), f"{path}: key {k!r}"
            assert_plain(v, f"{path}[{k!r}]")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            assert_plain(v, f"{path}[{i}]")
    else:
        assert obj is None or isinstance(obj, (np.ndarray, bool, int, float, str)), (
            f"{path}: {type(obj)}"
        )


@pytest.mark.parametrize("name", list(SETUPS))
def test_resumed_run_matches_uninterrupted_run_exactly(name):
    make_opt, make_sched = SETUPS[name]
    params = make_params(INITIAL)
    opt = make_opt(params)
    sched = make_sched(opt)
    full_lrs = train(opt, sched, params, range(STEPS))

    params = make_params(INITIAL)
    opt = make_opt(params)
    sched = make_sched(opt)
    first_lrs = train(opt, sched, params, range(CUT))
    saved = pickle.dumps(
        {"opt": opt.state_dict(), "sched": sched.state_dict(), "params": [p.data for p in params]}
    )
    del opt, sched, params

    checkpoint = pickle.loads(saved)
    assert_plain(checkpoint["opt"])
    assert_plain(checkpoint["sched"])
    params = make_params(checkpoint["params"])
    opt = make_opt(params)
    sched = make_sched(opt)  # as in PyTorch: build the scheduler, then load both
    opt.load_state_dict(checkpoint["opt"])
    sched.load_state_dict(checkpoint["sched"])
    rest_lrs = train(opt, sched, params, range(CUT, STEPS))

    assert first_lrs + rest_lrs == full_lrs
    reference = make_params(INITIAL)
    ref_opt = make_opt(reference)
    train(ref_opt, make_sched(ref_opt), reference, range(STEPS))
    for p, r in zip(params, reference, strict=True):
        np.testing.assert_array_equal(p.data, r.data)


def test_loading_the_optimizer_before_building_the_scheduler_also_resumes():
    make_opt, make_sched = SETUPS["AdamW+WarmupCosine"]
    params = make_params(INITIAL)
    opt = make_opt(params)
    sched = make_sched(opt)
    train(opt, sched, params, range(CUT))
    opt_state, sched_state = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    expected = train(opt, sched, params, range(CUT, STEPS))

    params = make_params(INITIAL)
    opt = make_opt(params)
    opt.load_state_dict(opt_state)
    sched = make_sched(opt)  # this overwrites the lrs with step 0's ...
    sched.load_state_dict(sched_state)  # ... and loading puts the saved ones back
    assert opt.param_groups[0]["lr"] == sched_state["_last_lr"][0]
    assert train(opt, sched, params, range(CUT, STEPS)) == expected


def test_state_dict_names_params_by_index_like_torch():
    a, b, c = (axon.randn(2, requires_grad=True) for _ in range(3))
    opt = optim.SGD([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1, momentum=0.9)
    for p in (a, c):
        p.grad = axon.ones(2)
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sorted(sd["state"]) == [0, 2]
    assert sd["state"][0]["momentum_buffer"] is opt.state[a]["momentum_buffer"]
    assert sd["param_groups"][1]["lr"] == 0.5


def test_load_state_dict_copies_casts_and_checks_sizes():
    w = axon.randn(3, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    w.grad = axon.ones(3)
    opt.step()
    sd = copy.deepcopy(opt.state_dict())
    sd["state"][0]["exp_avg"] = sd["state"][0]["exp_avg"].astype(np.float64)
    sd["param_groups"][0]["lr"] = 0.01

    w2 = axon.randn(3, requires_grad=True)
    opt2 = optim.Adam([w2], lr=0.1)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == 0.01 and opt2.param_groups[0]["params"][0] is w2
    assert opt2.state[w2]["exp_avg"].dtype == np.float32
    assert opt2.state[w2]["exp_avg_sq"] is not sd["state"][0]["exp_avg_sq"]
    assert opt2.state[w2]["step"] == 1

    with pytest.raises(
        ValueError, match="parameter group 0 has 2 parameters, the saved group has 1"
    ):
        optim.Adam(
            [axon.randn(3, requires_grad=True), axon.randn(3, requires_grad=True)]
        ).load_state_dict(sd)
    with pytest.raises(ValueError, match="2 parameter groups"):
        optim.Adam([w2]).load_state_dict({"state": {}, "param_groups": sd["param_groups"] * 2})
