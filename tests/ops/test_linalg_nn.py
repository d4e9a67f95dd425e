"""matmul (every rank combination and batch broadcasting), softmax and log-softmax."""

import numpy as np
import pytest
import torch

import axon
from tests.helpers import check_op, uniform_inputs

MATMUL = [
    ((4,), (4,)),  # 1-D @ 1-D -> 0-d
    ((4,), (4, 3)),  # 1-D @ 2-D
    ((3, 4), (4,)),  # 2-D @ 1-D
    ((3, 4), (4, 2)),
    ((1, 1), (1, 1)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),  # batch dims broadcast
    ((3, 4), (2, 4, 5)),  # 2-D @ batched
    ((2, 3, 4), (4, 5)),  # batched @ 2-D (folded weight gradient)
    ((2, 3, 4), (4,)),
    ((4,), (2, 4, 3)),
    ((1, 3, 4), (2, 1, 4, 2)),
]


@pytest.mark.parametrize("shapes", MATMUL, ids=[f"{a}@{b}" for a, b in MATMUL])
def test_matmul(shapes):
    check_op(lambda a, b: a @ b, np.matmul, torch.matmul, [shapes])
    check_op(axon.matmul, np.matmul, None, [shapes])


def test_matmul_method_and_reflected_numpy_operand():
    check_op(lambda a, b: a.matmul(b), np.matmul, torch.matmul, [((2, 3), (3, 2))])
    w = np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32)
    x = axon.randn(2, 3, requires_grad=True)
    y = w.T @ x.T  # ndarray @ Tensor -> Tensor.__rmatmul__
    assert isinstance(y, axon.Tensor) and y.shape == (2, 2)
    np.testing.assert_allclose(y.data, w.T @ x.data.T, rtol=1e-6)


def test_matmul_mixed_float_dtypes_promote():
    a = axon.ones(2, 3, dtype=np.float32)
    b = axon.ones(3, 2, dtype=np.float64, requires_grad=True)
    y = a @ b
    assert y.dtype == np.float64
    y.sum().backward()
    assert b.grad.dtype == np.float64


@pytest.mark.parametrize(
    "a, b, message",
    [
        (
            (32, 784),
            (512, 10),
            "matmul: shapes (32, 784) and (512, 10) are not aligned: 784 != 512",
        ),
        ((3,), (4,), "matmul: shapes (3,) and (4,) are not aligned: 3 != 4"),
        (
            (2, 3, 4),
            (5, 4, 2),
            "matmul: batch dims of shapes (2, 3, 4) and (5, 4, 2) don't broadcast",
        ),
        ((), (3,), "matmul: both operands need at least 1 dim"),
    ],
)
def test_matmul_errors(a, b, message):
    with pytest.raises(ValueError) as info:
        axon.ones(*a) @ axon.ones(*b)
    assert message in str(info.value)


SOFTMAX = [((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1), ((2, 3, 4), -3), ((5,), 0), ((1, 1), -1)]


@pytest.mark.parametrize("shape, dim", SOFTMAX)
def test_softmax(shape, dim):
    def ref(x):
        e = np.exp(x - x.max(axis=dim, keepdims=True))
        return e / e.sum(axis=dim, keepdims=True)

    check_op(
        lambda x: x.softmax(dim),
        ref,
        lambda x: x.softmax(dim),
        [(shape,)],
        make_inputs=uniform_inputs((-3, 3)),
    )
    check_op(lambda x: axon.softmax(x, dim=dim), ref, None, [(shape,)])


@pytest.mark.parametrize("shape, dim", SOFTMAX)
def test_log_softmax(shape, dim):
    def ref(x):
        s = x - x.max(axis=dim, keepdims=True)
        return s - np.log(np.exp(s).sum(axis=dim, keepdims=True))

    check_op(
        lambda x: x.log_softmax(dim),
        ref,
        lambda x: x.log_softmax(dim),
        [(shape,)],
        make_inputs=uniform_inputs((-3, 3)),
    )
    check_op(lambda x: axon.log_softmax(x, dim), ref, None, [(shape,)])


def test_softmax_of_a_0d_tensor():
    x = axon.tensor(3.0, requires_grad=True)
    y = x.softmax(0)
    assert y.shape == () and y.item() == 1.0
    assert x.log_softmax(-1).item() == 0.0


def test_softmax_large_logits_and_masked_rows():
    logits = np.array([[1000.0, 0.0, -1000.0], [0.0, -np.inf, 1.0]], dtype=np.float32)
    x = axon.tensor(logits, requires_grad=True)
    with np.errstate(over="raise"):
        y = x.softmax(-1)
        ly = x.log_softmax(-1)
    t = torch.tensor(logits, requires_grad=True)
    np.testing.assert_allclose(y.data, t.softmax(-1).detach().numpy(), rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(ly.data, t.log_softmax(-1).detach().numpy(), rtol=1e-6)
    y.backward(axon.tensor(np.ones((2, 3), np.float32)))
    assert np.isfinite(x.grad.data).all()


def test_softmax_bad_dim():
    with pytest.raises(IndexError, match=r"softmax: dim 2 is out of range"):
        axon.ones(2, 3).softmax(2)


# ------------------------------------------------------------------ linear
LINEAR = [
    ((4, 3), (5, 3), (5,)),
    ((2, 4, 3), (5, 3), (5,)),
    ((3,), (2, 3), (2,)),
    ((1, 3), (1, 3), (1,)),
]


@pytest.mark.parametrize("shapes", LINEAR, ids=[str(s[0]) for s in LINEAR])
def test_linear(shapes):
    import torch.nn.functional as TF

    check_op(
        lambda x, w, b: axon.nn.functional.linear(x, w, b),
        lambda x, w, b: x @ w.T + b,
        TF.linear,
        [shapes],
    )
    check_op(
        lambda x, w: axon.nn.functional.linear(x, w), lambda x, w: x @ w.T, TF.linear, [shapes[:2]]
    )


def test_linear_double_backward_matches_torch():
    import torch.nn.functional as TF

    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in ((2, 4, 3), (5, 3), (5,))]
    xs = [axon.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    gs = axon.autograd.grad(axon.nn.functional.linear(*xs).tanh().sum(), xs, create_graph=True)
    hs = axon.autograd.grad(sum((g * g).sum() for g in gs), xs)
    tgs = torch.autograd.grad(TF.linear(*ts).tanh().sum(), ts, create_graph=True)
    ths = torch.autograd.grad(sum((g * g).sum() for g in tgs), ts)
    for h, th in zip(hs, ths, strict=True):
        np.testing.assert_allclose(h.data, th.numpy(), rtol=1e-9, atol=1e-12)


def test_linear_errors():
    with pytest.raises(
        ValueError, match=r"linear: input of shape \(2, 4\) doesn't match weight of shape \(5, 3\)"
    ):
        axon.nn.functional.linear(axon.ones(2, 4), axon.ones(5, 3))
    with pytest.raises(ValueError, match="linear: bias shape"):
        axon.nn.functional.linear(axon.ones(2, 3), axon.ones(5, 3), axon.ones(4))


def test_linear_module_parity():
    from axon import nn
    from tests.helpers import check_module_parity

    torch.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((3, 6)).astype(np.float32)
    check_module_parity(nn.Linear(6, 4), torch.nn.Linear(6, 4), [x])
