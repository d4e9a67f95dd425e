"""Every scheduler's lr sequence over 200 steps matches torch.optim.lr_scheduler's,
for the normal loop ``optimizer.step(); scheduler.step()``, with two param groups."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest

import axon
from axon import optim
from axon.optim import lr_scheduler, schedules

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

STEPS = 200


def optimizers(kind="SGD"):
    """The same two-group optimizer in axon and torch (lrs 0.1 and 0.03)."""
    ours = [axon.zeros(2, requires_grad=True), axon.zeros(3, requires_grad=True)]
    theirs = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    kwargs = dict(lr=0.1, momentum=0.9) if kind == "SGD" else dict(lr=0.1)

    def make(mod, ps):
        return getattr(mod, kind)([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.03}], **kwargs)

    return make(optim, ours), make(torch.optim, theirs)


def lr_sequence(opt, sched, metrics=None, steps=STEPS, extra=None):
    seq = []
    for t in range(steps):
        seq.append([g["lr"] for g in opt.param_groups] + (extra(opt) if extra else []))
        assert seq[-1][:2] == list(sched.get_last_lr())
        opt.step()
        sched.step(metrics[t]) if metrics is not None else sched.step()
    return np.array(seq)


def compare(make_ours, make_theirs, kind="SGD", metrics=None, extra=None, steps=STEPS):
    ours_opt, torch_opt = optimizers(kind)
    ours = lr_sequence(ours_opt, make_ours(ours_opt), metrics, steps, extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's deprecation chatter
        theirs = lr_sequence(torch_opt, make_theirs(torch_opt), metrics, steps, extra)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-15)
    return ours


def same(name, **kwargs):
    """Build the scheduler of this name with these arguments from a module (axon or torch)."""
    return (
        lambda o: getattr(lr_scheduler, name)(o, **kwargs),
        lambda o: getattr(torch.optim.lr_scheduler, name)(o, **kwargs),
    )


CASES = {
    "Lambda": same("LambdaLR", lr_lambda=lambda s: 0.97**s),
    "Lambda-per-group": same(
        "LambdaLR", lr_lambda=[lambda s: 1 / (1 + 0.1 * s), lambda s: 0.5 ** (s // 40)]
    ),
    "Step": same("StepLR", step_size=30, gamma=0.5),
    "Step-1": same("StepLR", step_size=1, gamma=0.99),
    "MultiStep": same("MultiStepLR", milestones=[30, 80, 80, 150], gamma=0.5),
    "Exponential": same("ExponentialLR", gamma=0.98),
    "Linear-warmup": same("LinearLR", start_factor=0.25, total_iters=40),
    "Linear-decay": same("LinearLR", start_factor=1.0, end_factor=0.1, total_iters=100),
    "Cosine": same("CosineAnnealingLR", T_max=200),
    "Cosine-periodic": same("CosineAnnealingLR", T_max=50, eta_min=0.01),
    "OneCycle-cos": same("OneCycleLR", max_lr=[0.5, 0.2], total_steps=200),
    "OneCycle-linear": same(
        "OneCycleLR", max_lr=0.5, total_steps=200, anneal_strategy="linear", pct_start=0.25
    ),
    "OneCycle-three-phase": same(
        "OneCycleLR",
        max_lr=0.5,
        epochs=10,
        steps_per_epoch=20,
        three_phase=True,
        div_factor=10.0,
        final_div_factor=100.0,
    ),
    "OneCycle-no-momentum": same("OneCycleLR", max_lr=0.5, total_steps=250, cycle_momentum=False),
}


@pytest.mark.parametrize("name", list(CASES))
def test_lr_sequence_matches_torch(name):
    ours = compare(*CASES[name], extra=lambda o: [o.param_groups[0]["momentum"]])
    assert len(np.unique(ours[:, 0])) > 1


@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_one_cycle_cycles_adam_beta1_like_torch(strategy):
    make = same(
        "OneCycleLR", max_lr=0.01, total_steps=200, anneal_strategy=strategy, base_momentum=0.8
    )
    ours = compare(*make, kind="Adam", extra=lambda o: [g["betas"][0] for g in o.param_groups])
    assert ours[:, 2].min() == pytest.approx(0.8) and ours[0, 2] == pytest.approx(0.95)


def sequential(mod, o):
    s = mod.lr_scheduler if mod is torch.optim else lr_scheduler
    warm = s.LinearLR(o, start_factor=0.1, total_iters=20)
    decay = s.CosineAnnealingLR(o, T_max=180, eta_min=1e-4)
    return s.SequentialLR(o, [warm, decay], milestones=[20])


def sequential_three(mod, o):
    s = mod.lr_scheduler if mod is torch.optim else lr_scheduler
    return s.SequentialLR(
        o,
        [
            s.LinearLR(o, start_factor=0.5, total_iters=10),
            s.ExponentialLR(o, gamma=0.97),
            s.StepLR(o, step_size=25, gamma=0.5),
        ],
        milestones=[10, 60],
    )


@pytest.mark.parametrize("build", [sequential, sequential_three])
def test_sequential_lr_matches_torch(build):
    compare(lambda o: build(optim, o), lambda o: build(torch.optim, o))
    opt, _ = optimizers()
    sched = build(optim, opt)
    for _ in range(30):
        sched.step()
    assert sched.get_lr() == sched.get_last_lr()


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        dict(mode="min", factor=0.5, patience=5, cooldown=3, threshold=1e-3),
        dict(
            mode="max",
            factor=0.3,
            patience=2,
            threshold=0.05,
            threshold_mode="abs",
            min_lr=[0.01, 0.005],
        ),
        dict(
            mode="min",
            factor=0.1,
            patience=0,
            threshold_mode="abs",
            threshold=0.0,
            min_lr=1e-3,
            eps=1e-3,
        ),
    ],
)
def test_reduce_on_plateau_matches_torch(kwargs):
    rng = np.random.default_rng(0)
    steps = np.arange(STEPS)
    # improves fast, then slowly, then plateaus with noise; 'max' sees the negative
    metric = 1.0 / (1 + 0.2 * np.minimum(steps, 60)) + 0.02 * rng.standard_normal(STEPS)
    metric = -metric if kwargs.get("mode") == "max" else metric
    ours = compare(
        lambda o: lr_scheduler.ReduceLROnPlateau(o, **kwargs),
        lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, **kwargs),
        metrics=metric,
    )
    assert len(np.unique(ours[:, 0])) > 1


def test_warmup_cosine_matches_torch_linear_then_cosine_until_the_floor():
    warm, total, floor = 25, 150, 1e-3
    ours_opt, torch_opt = optimizers()
    ours = lr_sequence(
        ours_opt, lr_scheduler.WarmupCosine(ours_opt, warm, total, min_lr=floor, start_factor=0.1)
    )
    s = torch.optim.lr_scheduler
    theirs = lr_sequence(
        torch_opt,
        s.SequentialLR(
            torch_opt,
            [
                s.LinearLR(torch_opt, start_factor=0.1, total_iters=warm),
                s.CosineAnnealingLR(torch_opt, T_max=total - warm, eta_min=floor),
            ],
            milestones=[warm],
        ),
    )
    np.testing.assert_allclose(ours[: total + 1], theirs[: total + 1], rtol=1e-10)
    assert np.all(
        ours[total:] == floor
    )  # and it stays at the floor (torch's cosine would rise again)


def test_warmup_cosine_shape():
    lrs = [
        schedules.warmup_cosine(t, 1.0, warmup_steps=10, total_steps=110, min_lr=0.1)
        for t in range(200)
    ]
    assert lrs[0] == 0.0 and lrs[5] == pytest.approx(0.5) and lrs[10] == 1.0
    assert (
        lrs[60] == pytest.approx(0.55)
        and lrs[110] == pytest.approx(0.1)
        and set(lrs[110:]) == {0.1}
    )
    assert all(a <= b for a, b in itertools.pairwise(lrs[:11]))
    assert all(a >= b for a, b in itertools.pairwise(lrs[10:]))
    assert schedules.warmup_cosine(0, 1.0, 0, 100) == 1.0  # no warm-up: starts at the peak


def test_pure_schedules_agree_with_the_classes():
    for t in (0, 7, 50, 199):
        assert schedules.cosine_annealing(t, 0.1, 50, 0.01) == pytest.approx(
            0.01 + 0.09 * (1 + math.cos(math.pi * t / 50)) / 2
        )
        assert schedules.step_lr(t, 0.1, 30, 0.5) == pytest.approx(0.1 * 0.5 ** (t // 30))
    assert schedules.one_cycle(0, 1.0, 100) == pytest.approx(1 / 25)
    assert schedules.one_cycle(29, 1.0, 100) == pytest.approx(1.0)
    assert schedules.one_cycle(99, 1.0, 100) == pytest.approx(1 / 25 / 1e4)
    seq = lambda t: schedules.sequential(t, [lambda s: 1.0 + s, lambda s: 10.0 * s], [5])  # noqa: E731
    assert [seq(t) for t in range(4, 8)] == [5.0, 0.0, 10.0, 20.0]


def test_one_cycle_refuses_to_step_past_total_steps():
    opt, _ = optimizers()
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="tried to step 4 times; total_steps is 3"):
        sched.step()


def test_scheduler_argument_errors():
    opt, _ = optimizers()
    with pytest.raises(ValueError, match="invalid start_factor 0"):
        lr_scheduler.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match=r"invalid factor 1\.5"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="expected 2 values"):
        lr_scheduler.LambdaLR(opt, [lambda s: 1.0])
    with pytest.raises(ValueError, match="expected 1 milestones"):
        lr_scheduler.SequentialLR(
            opt, [lr_scheduler.StepLR(opt, 5), lr_scheduler.StepLR(opt, 5)], []
        )
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), 5)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(optimizers()[0], 5, last_epoch=3)
