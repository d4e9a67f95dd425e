"""Property-based tests (hypothesis): broadcasting, reductions and indexing on random shapes."""

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import axon

SETTINGS = settings(max_examples=40, deadline=None)

BINARY_OPS = {
    "add": (lambda a, b: a + b, torch.add),
    "sub": (lambda a, b: a - b, torch.sub),
    "mul": (lambda a, b: a * b, torch.mul),
    "div": (lambda a, b: a / b, torch.div),
    "pow": (lambda a, b: a**b, torch.pow),
    "maximum": (axon.maximum, torch.maximum),
    "minimum": (axon.minimum, torch.minimum),
    "where": (lambda a, b: axon.where(a > 0.5, a, b), lambda a, b: torch.where(a > 0.5, a, b)),
}


def _sum_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """The reference for undoing broadcasting, written independently of axon."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for i, s in enumerate(shape):
        if s == 1 and g.shape[i] != 1:
            g = g.sum(axis=i, keepdims=True)
    return g


@SETTINGS
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
    op=st.sampled_from(sorted(BINARY_OPS)),
    seed=st.integers(0, 2**16),
)
def test_binary_broadcasting(shapes, op, seed):
    (sa, sb), out_shape = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(seed)
    a_np = rng.uniform(0.5, 2.0, sa)  # positive: valid for pow's base and div's divisor
    b_np = rng.uniform(0.5, 2.0, sb) * rng.choice([-1, 1], sb)
    a, b = axon.tensor(a_np, requires_grad=True), axon.tensor(b_np, requires_grad=True)
    fn, tfn = BINARY_OPS[op]
    y = fn(a, b)
    assert y.shape == np.broadcast_shapes(sa, sb) == out_shape
    g = rng.standard_normal(out_shape)
    y.backward(axon.tensor(g))
    assert a.grad.shape == sa and b.grad.shape == sb
    assert a.grad.dtype == b.grad.dtype == np.float64

    ta, tb = torch.tensor(a_np, requires_grad=True), torch.tensor(b_np, requires_grad=True)
    ty = tfn(ta, tb)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.grad.data, tb.grad.numpy(), rtol=1e-10, atol=1e-12)
    if op in ("add", "mul"):  # and against an explicit sum-reduction reference
        ga = g if op == "add" else g * np.broadcast_to(b_np, out_shape)
        gb = g if op == "add" else g * np.broadcast_to(a_np, out_shape)
        np.testing.assert_allclose(a.grad.data, _sum_to(ga, sa), rtol=1e-12)
        np.testing.assert_allclose(b.grad.data, _sum_to(gb, sb), rtol=1e-12)


@SETTINGS
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    seed=st.integers(0, 2**16),
)
def test_binary_broadcasting_keeps_float32(shapes, seed):
    (sa, sb) = shapes.input_shapes
    rng = np.random.default_rng(seed)
    a = axon.tensor(rng.standard_normal(sa).astype(np.float32), requires_grad=True)
    b = axon.tensor(rng.standard_normal(sb).astype(np.float32), requires_grad=True)
    y = (a * b + a - b / (b * b + 1)) * 0.5
    assert y.dtype == np.float32
    y.sum().backward()
    assert a.grad.dtype == b.grad.dtype == np.float32
    assert a.grad.shape == sa and b.grad.shape == sb


@st.composite
def shape_and_dim(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4))
    n = len(shape)
    if n == 0:
        dim = draw(st.sampled_from([None, 0, -1]))
    else:
        dim = draw(
            st.one_of(
                st.none(),
                st.integers(-n, n - 1),
                st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True).map(
                    lambda ds: tuple(d - n if i % 2 else d for i, d in enumerate(ds))
                ),  # mix signs
            )
        )
    return shape, dim, draw(st.booleans())


def _np_axis(dim, ndim):
    if ndim == 0:
        return None
    return dim


REDUCTIONS = {
    "sum": lambda x, axis, keep: np.sum(x, axis=axis, keepdims=keep),
    "mean": lambda x, axis, keep: np.mean(x, axis=axis, keepdims=keep),
    "amax": lambda x, axis, keep: np.amax(x, axis=axis, keepdims=keep),
    "amin": lambda x, axis, keep: np.amin(x, axis=axis, keepdims=keep),
    "var": lambda x, axis, keep: np.var(x, axis=axis, keepdims=keep, ddof=0),
    "std": lambda x, axis, keep: np.std(x, axis=axis, keepdims=keep, ddof=0),
    "logsumexp": lambda x, axis, keep: np.log(np.sum(np.exp(x), axis=axis, keepdims=keep)),
}


@SETTINGS
@given(case=shape_and_dim(), op=st.sampled_from(sorted(REDUCTIONS)), seed=st.integers(0, 2**16))
def test_reductions(case, op, seed):
    shape, dim, keepdim = case
    rng = np.random.default_rng(seed)
    x_np = rng.standard_normal(shape)
    x = axon.tensor(x_np, requires_grad=True)
    kwargs = {"correction": 0} if op in ("var", "std") else {}
    y = getattr(axon, op)(x, dim, keepdim=keepdim, **kwargs)
    expected = REDUCTIONS[op](x_np, _np_axis(dim, len(shape)), keepdim)
    assert y.shape == np.shape(expected)
    np.testing.assert_allclose(y.data, expected, rtol=1e-10, atol=1e-12)

    g = rng.standard_normal(y.shape)
    y.backward(axon.tensor(g))
    assert x.grad.shape == shape and x.grad.dtype == np.float64
    tx = torch.tensor(x_np, requires_grad=True)
    tdim = tuple(range(len(shape))) if dim is None or not shape else dim
    ty = getattr(torch, op)(tx, dim=tdim, keepdim=keepdim, **kwargs)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-9, atol=1e-12)


@SETTINGS
@given(data=st.data())
def test_basic_indexing(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True))
    x_np = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    x = axon.tensor(x_np, requires_grad=True)
    y = x[index]
    np.testing.assert_array_equal(y.data, x_np[index])
    w = np.random.default_rng(0).standard_normal(y.shape)
    (y * axon.tensor(w)).sum().backward()
    expected = np.zeros(shape)
    expected[index] += w  # basic indices never repeat an element
    np.testing.assert_array_equal(x.grad.data, expected)


@SETTINGS
@given(data=st.data())
def test_integer_array_indexing_accumulates(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    index = data.draw(
        hnp.integer_array_indices(
            shape, result_shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=6)
        )
    )
    x_np = np.random.default_rng(1).standard_normal(shape)
    x = axon.tensor(x_np, requires_grad=True)
    y = x[index]
    np.testing.assert_array_equal(y.data, x_np[index])
    w = np.random.default_rng(2).standard_normal(y.shape)
    y.backward(axon.tensor(w))
    expected = np.zeros(shape)
    np.add.at(expected, index, w)  # repeated indices add up
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3), data=st.data())
def test_permute_reshape_roundtrip(shape, data):
    perm = data.draw(st.permutations(range(len(shape))))
    x_np = np.random.default_rng(0).standard_normal(shape)
    x = axon.tensor(x_np, requires_grad=True)
    y = x.permute(*perm)
    np.testing.assert_array_equal(y.data, np.transpose(x_np, perm))
    z = y.reshape(-1)
    w = np.arange(z.shape[0], dtype=np.float64)
    (z * axon.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.transpose(w.reshape(y.shape), np.argsort(perm)))
