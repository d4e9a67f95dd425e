"""Every optimizer and option combination: 50 steps match torch.optim in float64 (rtol 1e-6).

The problem: three parameters (2-D, 1-D, 3-D) in two param groups with
different hyperparameters; the gradient depends on the current weights
(sin(3p) + 0.1 p, nonconvex) plus a fixed noise sequence, so any drift between
the two implementations would grow. The 1-D parameter has no gradient on every
third step.
"""

from __future__ import annotations

import numpy as np
import pytest

import axon
from axon import optim

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

SHAPES = [(4, 3), (5,), (2, 3, 4)]
STEPS = 50


def make_problem(seed=0):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s) for s in SHAPES]
    noise = [[0.5 * rng.standard_normal(s) for s in SHAPES] for _ in range(STEPS)]
    return init, noise


def gradient(values, noise_t, i, t):
    """The gradient of parameter i at step t, or None (param 1 skips every third step)."""
    if i == 1 and t % 3 == 2:
        return None
    return np.sin(3 * values) + 0.1 * values + noise_t[i]


def groups_spec(group1_overrides):
    """Param indices of each group and the overrides of the second group."""
    return [({"params": [0, 1]}), ({"params": [2], **group1_overrides})]


def run_axon(cls, kwargs, group1, init, noise, dtype=np.float64):
    params = [axon.tensor(a.astype(dtype), requires_grad=True) for a in init]
    opt = cls(
        [{**g, "params": [params[i] for i in g["params"]]} for g in groups_spec(group1)], **kwargs
    )
    for t in range(STEPS):
        for i, p in enumerate(params):
            g = gradient(p.data, noise[t], i, t)
            p.grad = None if g is None else axon.tensor(g.astype(dtype))
        opt.step()
    return [p.data for p in params], opt


def run_torch(cls, kwargs, group1, init, noise):
    params = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in init]
    opt = cls(
        [{**g, "params": [params[i] for i in g["params"]]} for g in groups_spec(group1)], **kwargs
    )
    for t in range(STEPS):
        for i, p in enumerate(params):
            g = gradient(p.detach().numpy(), noise[t], i, t)
            p.grad = None if g is None else torch.tensor(g)
        opt.step()
    return [p.detach().numpy() for p in params]


# (axon class, torch class name, constructor kwargs, second group's overrides)
CASES = [
    (optim.SGD, "SGD", dict(lr=0.05), dict(lr=0.02)),
    (optim.SGD, "SGD", dict(lr=0.05, momentum=0.9), dict(momentum=0.5, weight_decay=0.1)),
    (optim.SGD, "SGD", dict(lr=0.05, momentum=0.9, dampening=0.3), dict(dampening=0.0)),
    (optim.SGD, "SGD", dict(lr=0.05, momentum=0.9, nesterov=True), dict(lr=0.01)),
    (optim.SGD, "SGD", dict(lr=0.05, weight_decay=0.1), dict(weight_decay=0.0)),
    (
        optim.SGD,
        "SGD",
        dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.05, maximize=True),
        dict(lr=0.02),
    ),
    (optim.Adam, "Adam", dict(lr=0.05), dict(lr=0.01)),
    (optim.Adam, "Adam", dict(lr=0.05, amsgrad=True), dict(betas=(0.8, 0.9))),
    (optim.Adam, "Adam", dict(lr=0.05, weight_decay=0.1), dict(weight_decay=0.0)),
    (optim.Adam, "Adam", dict(lr=0.05, maximize=True), dict(eps=1e-3)),
    (
        optim.Adam,
        "Adam",
        dict(lr=0.05, betas=(0.5, 0.9), eps=1e-6, amsgrad=True, weight_decay=0.05, maximize=True),
        dict(lr=0.02),
    ),
    (
        optim.Adam,
        "Adam",
        dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
        dict(amsgrad=True),
    ),
    (optim.AdamW, "AdamW", dict(lr=0.05), dict(weight_decay=0.0)),
    (optim.AdamW, "AdamW", dict(lr=0.05, weight_decay=0.2, amsgrad=True), dict(lr=0.01)),
    (optim.AdamW, "AdamW", dict(lr=0.05, maximize=True), dict(betas=(0.8, 0.95))),
    (
        optim.AdamW,
        "AdamW",
        dict(lr=0.05, weight_decay=0.1, amsgrad=True, maximize=True, eps=1e-5),
        dict(amsgrad=False),
    ),
    (optim.RMSprop, "RMSprop", dict(lr=0.01), dict(lr=0.003)),
    (optim.RMSprop, "RMSprop", dict(lr=0.01, centered=True), dict(alpha=0.9)),
    (optim.RMSprop, "RMSprop", dict(lr=0.01, momentum=0.9), dict(momentum=0.0)),
    (optim.RMSprop, "RMSprop", dict(lr=0.01, momentum=0.9, centered=True), dict(weight_decay=0.1)),
    (optim.RMSprop, "RMSprop", dict(lr=0.01, weight_decay=0.1, maximize=True), dict(centered=True)),
    (
        optim.RMSprop,
        "RMSprop",
        dict(
            lr=0.01,
            alpha=0.9,
            eps=1e-4,
            momentum=0.5,
            centered=True,
            weight_decay=0.05,
            maximize=True,
        ),
        dict(lr=0.02),
    ),
    (optim.Adagrad, "Adagrad", dict(lr=0.1), dict(lr=0.05)),
    (optim.Adagrad, "Adagrad", dict(lr=0.1, lr_decay=0.05), dict(lr_decay=0.0)),
    # (torch ignores a per-group initial_accumulator_value, so only the constructor's is compared)
    (optim.Adagrad, "Adagrad", dict(lr=0.1, weight_decay=0.1), dict(weight_decay=0.0)),
    (
        optim.Adagrad,
        "Adagrad",
        dict(lr=0.1, initial_accumulator_value=0.1, eps=1e-4),
        dict(eps=1e-10),
    ),
    (
        optim.Adagrad,
        "Adagrad",
        dict(lr=0.1, maximize=True, lr_decay=0.01, weight_decay=0.05),
        dict(lr=0.2),
    ),
    (optim.Adafactor, "Adafactor", {}, dict(lr=0.05)),
    (optim.Adafactor, "Adafactor", dict(lr=0.05, weight_decay=0.1), dict(weight_decay=0.0)),
    (optim.Adafactor, "Adafactor", dict(lr=0.05, maximize=True), dict(d=2.0)),
    (
        optim.Adafactor,
        "Adafactor",
        dict(lr=0.05, beta2_decay=-0.5, eps=(1e-20, 1e-2)),
        dict(eps=(None, 1e-3)),
    ),
    (
        optim.Adafactor,
        "Adafactor",
        dict(lr=0.1, d=1.5, weight_decay=0.05, maximize=True),
        dict(beta2_decay=-0.9),
    ),
]


@pytest.mark.parametrize(
    "cls, torch_name, kwargs, group1", CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)]
)
def test_matches_torch_for_50_steps(cls, torch_name, kwargs, group1):
    init, noise = make_problem()
    ours, _ = run_axon(cls, kwargs, group1, init, noise)
    theirs = run_torch(getattr(torch.optim, torch_name), kwargs, group1, init, noise)
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert not np.allclose(a, init[i]), f"param {i} never moved"
        np.testing.assert_allclose(
            a, b, rtol=1e-6, atol=1e-10, err_msg=f"{torch_name} {kwargs} param {i}"
        )


def test_state_names_and_values_match_torch_adam():
    """Not just the weights: the moment buffers agree too (and have PyTorch's names)."""
    init, noise = make_problem(1)
    _, opt = run_axon(optim.Adam, dict(lr=0.05, amsgrad=True), {}, init, noise)
    params = [torch.tensor(a, requires_grad=True) for a in init]
    topt = torch.optim.Adam([{"params": params[:2]}, {"params": params[2:]}], lr=0.05, amsgrad=True)
    for t in range(STEPS):
        for i, p in enumerate(params):
            g = gradient(p.detach().numpy(), noise[t], i, t)
            p.grad = None if g is None else torch.tensor(g)
        topt.step()
    ours, theirs = opt.state_dict()["state"], topt.state_dict()["state"]
    assert set(ours) == set(theirs)
    for idx in ours:
        assert set(ours[idx]) == set(theirs[idx])
        assert ours[idx]["step"] == int(theirs[idx]["step"])
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            np.testing.assert_allclose(
                ours[idx][key], theirs[idx][key].numpy(), rtol=1e-6, atol=1e-12
            )
