"""The Tensor API: dtypes, conversions, repr, operators, promotion, errors, float32 guards."""

import numpy as np
import pytest
import torch

import axon


# -------------------------------------------------------------------- dtypes
@pytest.mark.parametrize(
    "data, dtype",
    [
        (1.5, np.float32),
        ([1.0, 2.0], np.float32),
        ([[1, 2]], np.int64),
        (3, np.int64),
        ([True, False], np.bool_),
        (np.zeros(2), np.float64),
        (np.zeros(2, np.float32), np.float32),
        (np.float64(2.0), np.float64),
        (np.zeros(2, np.int32), np.int32),
        (np.zeros(2, np.float16), np.float16),
        ([1, 2.5], np.float32),
    ],
)
def test_default_dtypes(data, dtype):
    assert axon.tensor(data).dtype == dtype
    assert axon.Tensor(data).dtype == dtype
    assert torch.tensor(data).numpy().dtype == dtype  # the same rules as PyTorch


def test_explicit_dtype_and_float16_storage():
    x = axon.tensor([1.0, 2.0], dtype=axon.float16)
    assert x.dtype == np.float16 and (x + x).dtype == np.float16 and (x * 2.5).dtype == np.float16
    assert x.float().dtype == np.float32 and (x + axon.ones(2)).dtype == np.float32
    assert axon.tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert axon.float32 == np.float32 and axon.long == np.int64 and axon.double == np.float64


def test_float16_tensors_get_float16_gradients():
    x = axon.tensor([0.5, -1.0, 2.0], dtype=axon.float16, requires_grad=True)
    y = (x.exp() * 0.5 + x * x).sum()
    assert y.dtype == np.float16
    y.backward()
    assert x.grad.dtype == np.float16
    np.testing.assert_allclose(x.grad.data, 0.5 * np.exp([0.5, -1.0, 2.0]) + 2 * x.data, rtol=2e-3)


@pytest.mark.parametrize("data", [[1, 2], [True], np.arange(3)])
def test_requires_grad_on_an_integer_tensor_raises(data):
    with pytest.raises(
        TypeError, match=r"requires_grad=True needs a floating-point tensor.*x\.float\(\)"
    ):
        axon.tensor(data, requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        axon.tensor(data).requires_grad_()


def test_requires_grad_flag():
    x = axon.ones(2)
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    y = axon.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)


# --------------------------------------------------------------- conversions
def test_item_numpy_tolist():
    x = axon.tensor([[1.5]])
    assert x.item() == 1.5 and isinstance(x.item(), float)
    assert axon.tensor(3).item() == 3 and isinstance(axon.tensor(3).item(), int)
    with pytest.raises(ValueError, match=r"item\(\): only one-element tensors.*shape \(2,\)"):
        axon.ones(2).item()
    a = axon.tensor([1.0, 2.0])
    assert a.numpy() is a.data  # shared, as torch's numpy()
    w = axon.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"numpy\(\).*requires grad.*detach\(\)"):
        w.numpy()
    assert w.detach().numpy().tolist() == [1.0, 2.0]
    assert axon.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert float(axon.tensor(2.5)) == 2.5 and int(axon.tensor([7])) == 7
    assert np.asarray(a).dtype == np.float32 and np.asarray(a, dtype=np.float64).dtype == np.float64
    assert list(range(10))[axon.tensor(3)] == 3  # __index__


def test_numpy_array_of_a_tensor_is_a_copy():
    t = axon.tensor([1.0, 2.0])
    a = np.array(t)  # NumPy 2 asks __array__ for a copy
    a[0] = 9.0
    assert t.tolist() == [1.0, 2.0]
    assert np.asarray(t) is t.data  # asarray may share, as for torch tensors


def test_shape_properties():
    x = axon.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.ndim == 3 and x.dim() == 3
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.numel() == 24 and len(x) == 2
    assert x.T.shape == (4, 3, 2) and x.mT.shape == (2, 4, 3)
    assert axon.zeros(2, 3).T.shape == (3, 2)
    with pytest.raises(TypeError, match="0-d"):
        len(axon.tensor(1.0))
    assert [t.shape for t in axon.zeros(3, 2)] == [(2,)] * 3


def test_astype_float_double_long():
    x = axon.tensor([1.7, -2.2])
    assert x.double().dtype == np.float64 and x.float() is x
    assert x.long().tolist() == [1, -2] and x.long().dtype == np.int64
    assert x.astype(np.float16).dtype == np.float16 and x.half().dtype == np.float16
    assert x.int().dtype == np.int32 and x.bool().dtype == np.bool_


def test_bool_of_a_tensor():
    assert bool(axon.tensor([1.0])) and not bool(axon.tensor(0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(axon.ones(2))


def test_contiguous_and_clone():
    x = axon.tensor(np.arange(6.0).reshape(2, 3))
    assert x.contiguous() is x
    t = x.T
    c = t.contiguous()
    assert c.data.flags.c_contiguous and c.tolist() == t.tolist()


# ---------------------------------------------------------------------- repr
@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.tensor([1.0, 2.0], requires_grad=True),
        lambda m: m.tensor([1.0, 2.5]),
        lambda m: m.tensor([1, 2]),
        lambda m: m.tensor([True, False]),
        lambda m: m.tensor([[1.0, 2.0], [3.0, 4.0]]),
        lambda m: m.tensor([1.0, 2.0], dtype=m.float64),
        lambda m: m.tensor([1, 2], dtype=m.int32),
        lambda m: m.tensor([1.0, 2.0], dtype=m.float16),
        lambda m: m.tensor([1.0, 2.0], requires_grad=True) * 2,
        lambda m: m.tensor([[1.0, 2.0]], requires_grad=True).sum(),
        lambda m: m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True) * 2,
        lambda m: m.tensor([[0.1234567, 2.0], [float("nan"), float("inf")]]),
        lambda m: m.tensor([1e-5, 1.0]),
        lambda m: m.tensor(2.5),
    ],
)
def test_repr_looks_like_pytorch(make):
    ours = repr(make(axon))
    theirs = repr(make(torch)).replace("torch.", "axon.").replace("Backward0", "Backward")
    assert ours == theirs


def test_repr_examples():
    assert (
        repr(axon.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    )
    assert (
        repr(axon.tensor([1.0, 2.0], requires_grad=True) * 2)
        == "tensor([2., 4.], grad_fn=<MulBackward>)"
    )
    assert repr(axon.tensor(np.zeros(2))) == "tensor([0., 0.], dtype=axon.float64)"
    assert "..." in repr(axon.zeros(5000))  # long tensors are summarised


# ----------------------------------------------------------------- operators
def _pairs():
    a = np.array([1.0, -2.0, 3.0], dtype=np.float32)
    return a, axon.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


@pytest.mark.parametrize(
    "op",
    [
        lambda x: x + 2,
        lambda x: 2 + x,
        lambda x: x - 2,
        lambda x: 2 - x,
        lambda x: x * 3,
        lambda x: 3 * x,
        lambda x: x / 4,
        lambda x: 4 / x,
        lambda x: x**2,
        lambda x: 2**x,
        lambda x: -x,
        lambda x: +x,
        lambda x: abs(x),
        lambda x: x + 0.5,
        lambda x: 0.5 - x,
        lambda x: 1.5 / x,
        lambda x: 1.5**x,
        lambda x: x @ x,
        lambda x: x.reshape(3, 1) @ x.reshape(1, 3),
    ],
)
def test_python_operators_match_torch(op):
    _, x, tx = _pairs()
    y, ty = op(x), op(tx)
    assert isinstance(y, axon.Tensor) and y.dtype == np.float32
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-6)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    "op",
    [
        lambda n, x: n + x,
        lambda n, x: n - x,
        lambda n, x: n * x,
        lambda n, x: n / x,
        lambda n, x: n**x,
        lambda n, x: n @ x,
        lambda n, x: n < x,
        lambda n, x: n >= x,
        lambda n, x: n == x,
    ],
)
def test_numpy_array_on_the_left_gives_a_tensor(op):
    n = np.array([2.0, 0.5, 1.0], dtype=np.float32)
    _, x, tx = _pairs()
    y = op(n, x)
    assert isinstance(y, axon.Tensor), type(y)
    expected = op(torch.from_numpy(n), tx)
    np.testing.assert_allclose(y.data, expected.detach().numpy(), rtol=1e-6)
    if y.requires_grad:
        y.sum().backward()
        expected.sum().backward()
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-6)


def test_comparison_operators():
    x = axon.tensor([1.0, 2.0, 3.0])
    assert (x < 2).tolist() == [True, False, False] and (x <= 2).tolist() == [True, True, False]
    assert (x > 2).tolist() == [False, False, True] and (x >= 2).tolist() == [False, True, True]
    assert (x == 2).tolist() == [False, True, False] and (x != 2).tolist() == [True, False, True]
    assert (2 < x).tolist() == [False, False, True]  # reflected  # noqa: SIM300
    assert (x == axon.tensor([1.0, 0.0, 3.0])).dtype == np.bool_
    assert hash(x) == id(x)  # tensors stay usable as dict keys despite __eq__


@pytest.mark.parametrize(
    "expr, dtype",
    [
        (lambda: axon.tensor([1, 2]) + 0.5, np.float32),
        (lambda: 0.5 * axon.tensor([1, 2]), np.float32),
        (lambda: axon.tensor([1, 2]) * 2, np.int64),
        (lambda: axon.tensor([1, 2]) / 2, np.float32),
        (lambda: axon.tensor([1, 2]) / axon.tensor([2, 4]), np.float32),
        (lambda: 2 / axon.tensor([1, 2]), np.float32),
        (
            lambda: (
                axon.tensor([1, 2]) // 1 if False else axon.tensor([1, 2]) + axon.tensor([0.5, 1.0])
            ),
            np.float32,
        ),
        (lambda: axon.tensor([1, 2]) + axon.ones(2, dtype=np.float64), np.float64),
        (lambda: axon.ones(2) + axon.ones(2, dtype=np.float64), np.float64),
        (lambda: axon.ones(2) * np.float64(2.0), np.float32),  # NumPy scalars act as Python numbers
        (lambda: np.float64(2.0) * axon.ones(2), np.float32),
        (lambda: axon.ones(2) ** np.float64(2.0), np.float32),
        (lambda: axon.tensor([1, 2]) * np.float64(0.5), np.float32),
        (lambda: axon.tensor([True, False]) + 1, np.int64),
        (lambda: axon.tensor([1, 2]) ** 0.5, np.float32),
        (lambda: axon.exp(axon.tensor([1, 2])), np.float32),
        (lambda: axon.tensor([1, 4]).sqrt(), np.float32),
        (lambda: axon.sigmoid(axon.tensor([True])), np.float32),
        (lambda: axon.where(axon.tensor([True, False]), axon.tensor([1, 2]), 0.5), np.float32),
        (lambda: axon.maximum(axon.tensor([1, 2]), 1.5), np.float32),
        (lambda: axon.ones(2).clamp(np.float64(0.1), np.float64(0.5)), np.float32),
        (lambda: axon.tensor([1, 2]).clamp(0.5), np.float32),
        (lambda: axon.tensor([1, 2]).clamp(0, 1), np.int64),
        (lambda: axon.nn.functional.elu(axon.ones(2), np.float64(0.5)), np.float32),
        (lambda: axon.nn.functional.leaky_relu(axon.ones(2), np.float64(0.1)), np.float32),
        (
            lambda: axon.ones(2) * axon.tensor(np.float64(2.0)),
            np.float32,
        ),  # a 0-d tensor acts as a scalar
        (lambda: axon.tensor(np.float64(2.0)) - axon.ones(2), np.float32),
        (
            lambda: axon.tensor(np.float64(2.0)) * axon.tensor(1.0),
            np.float64,
        ),  # both 0-d: ordinary promotion
        (lambda: axon.where(axon.tensor([True, False]), 1.0, 0.0), np.float32),
        (lambda: axon.where(axon.tensor([True, False]), 1, 0), np.int64),
        (lambda: axon.where(axon.tensor([True, False]), 1, np.float64(0.5)), np.float32),
    ],
)
def test_type_promotion_follows_pytorch(expr, dtype):
    assert expr().dtype == dtype


# -------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "fn, error, message",
    [
        (
            lambda: axon.ones(32, 784) @ axon.ones(512, 10),
            ValueError,
            "matmul: shapes (32, 784) and (512, 10) are not aligned: 784 != 512",
        ),
        (
            lambda: axon.ones(2, 3).reshape(4),
            ValueError,
            "reshape: cannot view a tensor of shape (2, 3) (6 elements) as (4,)",
        ),
        (
            lambda: axon.ones(2, 3).view(-1, 4),
            ValueError,
            "reshape: cannot view a tensor of shape (2, 3)",
        ),
        (lambda: axon.ones(2, 3).reshape(-1, -1), ValueError, "reshape"),
        (
            lambda: axon.cat([axon.ones(2, 3), axon.ones(2, 4)]),
            ValueError,
            "cat: shapes [(2, 3), (2, 4)] must match except in dim 0",
        ),
        (lambda: axon.cat([axon.ones(2, 3), axon.ones(3)], 0), ValueError, "cat: shapes"),
        (lambda: axon.cat([]), ValueError, "cat: expected a non-empty list"),
        (
            lambda: axon.stack([axon.ones(2), axon.ones(3)]),
            ValueError,
            "stack: expects tensors of equal shape",
        ),
        (
            lambda: axon.ones(2, 3).sum(2),
            IndexError,
            "sum: dim 2 is out of range for a tensor with 2 dims (shape (2, 3))",
        ),
        (lambda: axon.ones(2, 3).mean(-3), IndexError, "mean: dim -3 is out of range"),
        (lambda: axon.ones(2, 3).max(5), IndexError, "amax: dim 5 is out of range"),
        (lambda: axon.ones(2, 3).argmax(2), IndexError, "argmax: dim 2 is out of range"),
        (
            lambda: axon.ones(3)[5],
            IndexError,
            "indexing a tensor of shape (3,): index 5 is out of bounds",
        ),
        (lambda: axon.ones(3, 2)[1, 2], IndexError, "indexing a tensor of shape (3, 2)"),
        (lambda: axon.ones(3)[[0, 3]], IndexError, "indexing a tensor of shape (3,)"),
        (lambda: axon.ones(3)[0, 0], IndexError, "indexing a tensor of shape (3,)"),
        (
            lambda: axon.index_select(axon.ones(3, 2), 0, [5]),
            IndexError,
            "index_select on a tensor of shape (3, 2), dim 0",
        ),
        (
            lambda: axon.ones(3) + axon.ones(4),
            ValueError,
            "add: shapes (3,) and (4,) can't be broadcast together",
        ),
        (lambda: axon.ones(3) * axon.ones(2, 2), ValueError, "mul: shapes (3,) and (2, 2)"),
        (lambda: axon.ones(3) / axon.ones(4), ValueError, "div: shapes (3,) and (4,)"),
        (lambda: axon.ones(3) - axon.ones(4), ValueError, "sub: shapes"),
        (lambda: axon.ones(3) < axon.ones(4), ValueError, "less: shapes (3,) and (4,)"),
        (lambda: axon.maximum(axon.ones(3), axon.ones(4)), ValueError, "maximum: shapes"),
        (lambda: axon.ones(2, 3).transpose(0, 2), IndexError, "transpose: dim 2 is out of range"),
        (lambda: axon.ones(2, 3).permute(0, 0), ValueError, "permute: (0, 0) is not a permutation"),
        (
            lambda: axon.ones(2, 3).expand(4, 3, 2),
            ValueError,
            "expand: cannot expand shape (2, 3) to (4, 3, 2)",
        ),
        (lambda: axon.ones(2, 3).expand(3), ValueError, "expand: target (3,) has fewer dims"),
        (lambda: axon.ones(3).expand(-1, 3), ValueError, "expand: -1 can't size a new leading dim"),
        (lambda: axon.ones(2, 3).unsqueeze(3), IndexError, "unsqueeze: dim 3 is out of range"),
        (lambda: axon.ones(2, 3).squeeze(2), IndexError, "squeeze: dim 2 is out of range"),
        (
            lambda: axon.ones(2, 3).flatten(1, 0),
            ValueError,
            "flatten: start_dim 1 comes after end_dim 0",
        ),
        (lambda: axon.ones(4).split(0), ValueError, "split: split_size must be positive"),
        (lambda: axon.ones(4).chunk(0), ValueError, "chunk: chunks must be positive"),
        (lambda: axon.ones(2, 3).softmax(3), IndexError, "softmax: dim 3 is out of range"),
    ],
)
def test_errors_name_the_op_and_the_shapes(fn, error, message):
    with pytest.raises(error) as info:
        fn()
    assert message in str(info.value)


# ------------------------------------------------------------ float32 guards
def test_mlp_forward_backward_keeps_float32():
    rng = np.random.default_rng(0)
    x = axon.tensor(rng.standard_normal((8, 5)).astype(np.float32))
    target = axon.tensor(rng.integers(0, 3, 8))
    w1 = axon.tensor(
        (rng.standard_normal((5, 16)) / np.sqrt(5)).astype(np.float32), requires_grad=True
    )
    b1 = axon.zeros(16, requires_grad=True)
    g = axon.ones(16, requires_grad=True)
    w2 = axon.tensor(rng.standard_normal((16, 3)).astype(np.float32), requires_grad=True)
    b2 = axon.zeros(3, requires_grad=True)
    params = [w1, b1, g, w2, b2]

    h = x @ w1 + b1
    # layer norm written with primitives, incl. a NumPy float64 scalar and int arithmetic
    mu = h.mean(-1, keepdim=True)
    var = ((h - mu) ** 2).mean(-1, keepdim=True)
    h = (h - mu) / (var + 1e-5).sqrt() * g
    h = axon.nn.functional.gelu(h) + axon.relu(h) * 0.1 + h.tanh().sigmoid() / np.sqrt(16)
    h = axon.nn.functional.softplus(h).clamp(max=5.0) - axon.nn.functional.silu(h) * h.std(
        -1, keepdim=True
    )
    keep = axon.tensor(rng.random((8, 16)) > 0.2)
    h = axon.where(keep, h / 0.8, 0.0)
    logits = h @ w2 + b2
    logits = axon.cat([logits[:4], logits[4:]]).reshape(2, 4, 3).reshape(8, 3)
    logp = logits.log_softmax(-1)
    nll = -logp[np.arange(8), target.data].mean()
    loss = nll + 1e-3 * sum((p * p).sum() for p in params) + logits.logsumexp(-1).exp().mean() * 0
    loss = loss + (logits.softmax(-1).amax(-1) - axon.tensor(np.float64(0.5))).abs().mean() * 0.1

    for t in (h, logits, logp, nll, loss):
        assert t.dtype == np.float32, t
    loss.backward()
    for p in params:
        assert p.grad is not None and p.grad.dtype == np.float32
        assert np.isfinite(p.grad.data).all()
