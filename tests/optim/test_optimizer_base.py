"""The Optimizer base and the guarantees every optimizer keeps: float32 stays float32,
buffers are updated in place, bad hyperparameters are named, grad None is skipped,
and a Lion step matches a hand-written NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest

import axon
from axon import optim

ALL_OPTIMIZERS = [
    (optim.SGD, dict(lr=0.1)),
    (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01, maximize=True)),
    (optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.5)),
    (optim.Adam, dict(lr=0.01)),
    (optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.1, maximize=True)),
    (optim.AdamW, dict(lr=0.01, amsgrad=True)),
    (optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.1)),
    (optim.RMSprop, dict(lr=0.01, maximize=True)),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.1)),
    (optim.Adafactor, dict(lr=0.01, weight_decay=0.1)),
    (optim.Adafactor, dict(maximize=True)),
    (optim.Lion, dict(lr=1e-3, weight_decay=0.1)),
    (optim.Lion, dict(lr=1e-3, maximize=True)),
]
IDS = [f"{cls.__name__}-{i}" for i, (cls, _) in enumerate(ALL_OPTIMIZERS)]


def make_params(dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(6, 5), (5,), (2, 3, 4), ()]
    return [axon.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]


def set_grads(params, rng, dtype=np.float32):
    for p in params:
        p.grad = axon.tensor(rng.standard_normal(p.shape).astype(dtype))


@pytest.mark.parametrize("cls, kwargs", ALL_OPTIMIZERS, ids=IDS)
def test_float32_stays_float32_and_buffers_update_in_place(cls, kwargs):
    params = make_params()
    arrays = [p.data for p in params]
    opt = cls(params, **kwargs)
    rng = np.random.default_rng(1)
    set_grads(params, rng)
    opt.step()
    buffers = {
        (id(p), k): v for p in params for k, v in opt.state[p].items() if isinstance(v, np.ndarray)
    }
    assert buffers or (cls is optim.SGD and "momentum" not in kwargs)
    for _ in range(3):
        set_grads(params, rng)
        opt.step()
    for p, a in zip(params, arrays, strict=True):
        assert p.data is a, "the parameter array must be updated in place"
        assert p.data.dtype == np.float32
        assert np.all(np.isfinite(p.data))
        for k, v in opt.state[p].items():
            if isinstance(v, np.ndarray):
                assert v.dtype == np.float32, f"state {k} became {v.dtype}"
                assert v is buffers[(id(p), k)], f"state {k} was reallocated"
            else:
                assert isinstance(v, int), f"state {k} should be a Python int, got {type(v)}"


@pytest.mark.parametrize("cls, kwargs", ALL_OPTIMIZERS, ids=IDS)
def test_numpy_float64_hyperparameters_do_not_upcast(cls, kwargs):
    params = make_params()
    opt = cls(params, **kwargs)
    for group in opt.param_groups:
        group["lr"] = np.float64(group["lr"])  # e.g. written by a user's NumPy schedule
    set_grads(params, np.random.default_rng(2))
    opt.step()
    assert all(p.data.dtype == np.float32 for p in params)


@pytest.mark.parametrize("cls, kwargs", ALL_OPTIMIZERS, ids=IDS)
def test_params_without_grad_are_skipped(cls, kwargs):
    params = make_params()
    before = [p.data.copy() for p in params]
    opt = cls(params, **kwargs)
    params[0].grad = axon.tensor(np.ones((6, 5), dtype=np.float32))
    opt.step()
    assert not np.array_equal(params[0].data, before[0])
    for p, b in zip(params[1:], before[1:], strict=True):
        np.testing.assert_array_equal(p.data, b)
        assert not opt.state[p]
    assert opt.step() is None  # grads kept: steps again


def test_step_runs_without_recording_a_graph_and_leaves_grad_alone():
    w = axon.randn(3, 4, requires_grad=True)
    w.grad = axon.ones(3, 4)
    grad_before = w.grad.data.copy()
    optim.Adam([w], lr=0.1, weight_decay=0.1, maximize=True).step()
    assert w.is_leaf and w.grad_fn is None
    np.testing.assert_array_equal(w.grad.data, grad_before)


def test_step_bumps_the_version_so_stale_graphs_refuse_backward():
    w = axon.randn(3, requires_grad=True)
    loss = (w * w).sum()
    w.grad = axon.ones(3)
    optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_training_a_small_regression_reduces_the_loss():
    axon.manual_seed(0)
    x, w_true = axon.randn(64, 5), axon.randn(5, 1)
    y = x @ w_true
    w, b = axon.zeros(5, 1, requires_grad=True), axon.zeros(1, requires_grad=True)
    opt = optim.AdamW(optim.weight_decay_groups([("w", w), ("b", b)], 0.01), lr=0.05)
    losses = []
    for _ in range(200):
        loss = ((x @ w + b - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-2 * losses[0]


def test_closure_is_called_with_grad_enabled_and_its_loss_returned():
    w = axon.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with axon.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(5.0)
    np.testing.assert_allclose(w.data, [0.8, 1.6], rtol=1e-6)


def test_zero_grad_to_none_or_to_zeros():
    w = axon.randn(2, 2, requires_grad=True)
    opt = optim.SGD([w])
    w.grad = axon.ones(2, 2)
    g = w.grad.data
    opt.zero_grad(set_to_none=False)
    assert w.grad.data is g and not g.any()
    opt.zero_grad()
    assert w.grad is None


def test_param_groups_get_defaults_and_keep_overrides():
    a, b = axon.randn(2, requires_grad=True), axon.randn(2, requires_grad=True)
    opt = optim.Adam([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, betas=(0.8, 0.9))
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["betas"] == (0.8, 0.9)
    c = axon.randn(3, requires_grad=True)
    opt.add_param_group({"params": [c], "weight_decay": 0.3})
    assert opt.param_groups[2]["weight_decay"] == 0.3 and opt.param_groups[2]["lr"] == 0.1


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: optim.Adam(p, lr=-1.0), "Adam: invalid learning rate -1.0 (must be >= 0)"),
        (
            lambda p: optim.AdamW(p, betas=(1.0, 0.999)),
            "AdamW: invalid beta1 1.0 (must be in [0, 1))",
        ),
        (lambda p: optim.Adam(p, betas=(0.9, -0.1)), "Adam: invalid beta2 -0.1"),
        (lambda p: optim.Adam(p, eps=-1e-8), "Adam: invalid epsilon -1e-08"),
        (lambda p: optim.AdamW(p, weight_decay=-0.1), "AdamW: invalid weight_decay -0.1"),
        (lambda p: optim.SGD(p, lr=-0.1), "SGD: invalid learning rate -0.1"),
        (lambda p: optim.SGD(p, momentum=-0.5), "SGD: invalid momentum -0.5"),
        (lambda p: optim.SGD(p, nesterov=True), "SGD: nesterov=True needs momentum > 0"),
        (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "dampening=0.1"),
        (lambda p: optim.RMSprop(p, alpha=-0.9), "RMSprop: invalid alpha -0.9"),
        (lambda p: optim.RMSprop(p, momentum=-1.0), "RMSprop: invalid momentum -1.0"),
        (lambda p: optim.Adagrad(p, lr_decay=-0.1), "Adagrad: invalid lr_decay -0.1"),
        (
            lambda p: optim.Adagrad(p, initial_accumulator_value=-1.0),
            "Adagrad: invalid initial_accumulator_value -1.0",
        ),
        (
            lambda p: optim.Adafactor(p, d=0.5),
            "Adafactor: invalid clipping threshold d 0.5 (must be >= 1)",
        ),
        (
            lambda p: optim.Adafactor(p, beta2_decay=0.8),
            "Adafactor: invalid beta2_decay 0.8 (must be <= 0)",
        ),
        (lambda p: optim.Adafactor(p, eps=(-1.0, 1e-3)), "Adafactor: invalid epsilon1 -1.0"),
        (lambda p: optim.Lion(p, betas=(0.9, 1.5)), "Lion: invalid beta2 1.5"),
        (lambda p: optim.Lion(p, lr=-1e-4), "Lion: invalid learning rate -0.0001"),
        (
            lambda p: optim.Adam([{"params": p, "lr": -2.0}], lr=0.1),
            "Adam: invalid learning rate -2.0",
        ),
    ],
)
def test_bad_hyperparameters_raise_value_error_naming_them(make, message):
    with pytest.raises(ValueError) as info:
        make([axon.randn(2, requires_grad=True)])
    assert message in str(info.value)


def test_bad_parameter_lists_are_rejected():
    w = axon.randn(2, requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [w]}, {"params": [w]}])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([w, w])
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(w)
    with pytest.raises(TypeError, match="not a set"):
        optim.SGD([{"params": {w}}])
    with pytest.raises(TypeError, match="axon Tensors"):
        optim.SGD([np.zeros(2)])
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2])


def test_adafactor_state_is_factored_for_matrices():
    w = axon.zeros(1000, 500, requires_grad=True)
    b = axon.zeros(500, requires_grad=True)
    w.grad, b.grad = axon.randn(1000, 500), axon.randn(500)
    opt = optim.Adafactor([w, b])
    opt.step()
    sizes = {k: v.size for k, v in opt.state[w].items() if isinstance(v, np.ndarray)}
    assert sizes == {"row_var": 1000, "col_var": 500}
    assert opt.state[w]["row_var"].shape == (1000, 1) and opt.state[w]["col_var"].shape == (1, 500)
    assert opt.state[b]["variance"].shape == (500,)  # vectors keep a full (small) estimate


def test_adafactor_factors_the_last_two_dims_of_higher_rank_tensors():
    w = axon.randn(3, 40, 50, requires_grad=True)
    w.grad = axon.randn(3, 40, 50)
    opt = optim.Adafactor([w])
    opt.step()
    assert opt.state[w]["row_var"].shape == (3, 40, 1) and opt.state[w]["col_var"].shape == (
        3,
        1,
        50,
    )


def lion_reference(p, g, m, lr, beta1, beta2, wd):
    """Lion as written in the paper (Chen et al., 2023, Algorithm 2), out of place."""
    update = np.sign(beta1 * m + (1 - beta1) * g)
    p = p - lr * (update + wd * p)
    m = beta2 * m + (1 - beta2) * g
    return p, m


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        dict(lr=1e-2, weight_decay=0.5),
        dict(lr=3e-3, betas=(0.5, 0.9)),
        dict(lr=1e-2, maximize=True, weight_decay=0.1),
    ],
)
def test_lion_matches_the_papers_algorithm(kwargs):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((7, 3))
    w = axon.tensor(w0, requires_grad=True)
    opt = optim.Lion([w], **kwargs)
    lr, (beta1, beta2), wd = (
        kwargs.get("lr", 1e-4),
        kwargs.get("betas", (0.9, 0.99)),
        kwargs.get("weight_decay", 0.0),
    )
    sign = -1.0 if kwargs.get("maximize") else 1.0
    p, m = w0.copy(), np.zeros_like(w0)
    for _ in range(50):
        g = np.sin(3 * p) + rng.standard_normal(p.shape)
        w.grad = axon.tensor(g)
        opt.step()
        p, m = lion_reference(p, sign * g, m, lr, beta1, beta2, wd)
        np.testing.assert_allclose(w.data, p, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(opt.state[w]["exp_avg"], m, rtol=1e-12, atol=1e-14)


def test_threaded_update_of_a_large_parameter_is_bitwise_identical():
    from axon.optim import _threads

    rng = np.random.default_rng(0)
    w0, grads = (
        rng.standard_normal((700, 600)).astype(np.float32),
        rng.standard_normal((3, 700, 600)).astype(np.float32),
    )
    results = []
    for threads in (1, 3):
        old = _threads.get_num_threads()
        _threads.set_num_threads(threads)
        try:
            w = axon.tensor(w0, requires_grad=True)
            opt = optim.AdamW([w], lr=0.01, amsgrad=True)
            for g in grads:
                w.grad = axon.tensor(g)
                opt.step()
            results.append(w.data.copy())
        finally:
            _threads.set_num_threads(old)
    np.testing.assert_array_equal(results[0], results[1])


def test_non_contiguous_parameters_are_updated_through_their_views():
    base = np.zeros((8, 6), dtype=np.float32)
    w = axon.from_numpy(base.T)  # a transposed view: not C-contiguous
    w.requires_grad_(True)
    w.grad = axon.ones(6, 8)
    optim.Adam([w], lr=0.1).step()
    np.testing.assert_allclose(base, -0.1, rtol=1e-5)
