"""Reductions through the shared harness, over int, tuple, negative and None dims."""

import numpy as np
import pytest
import torch

import axon
from tests.helpers import check_op

# (shape, dim) pairs; dim None means every dim
DIMS = [
    ((3, 4), None),
    ((3, 4), 0),
    ((3, 4), -1),
    ((2, 3, 4), (0, 2)),
    ((2, 3, 4), (-1, 1)),
    ((2, 1, 3), 1),
    ((), None),
    ((5,), 0),
]


def _tdim(dim):
    return dim if dim is not None else ()


def _torch_reduce(name, dim, keepdim, **kw):
    def fn(t):
        if dim is None:
            out = getattr(torch, name)(t, **kw)
            return out.reshape((1,) * t.ndim) if keepdim else out
        return getattr(torch, name)(t, dim=dim, keepdim=keepdim, **kw)

    return fn


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape, dim", DIMS)
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_mean(name, shape, dim, keepdim):
    check_op(
        lambda x: getattr(x, name)(dim, keepdim=keepdim),
        lambda x: getattr(np, name)(x, axis=dim, keepdims=keepdim),
        _torch_reduce(name, dim, keepdim),
        [(shape,)],
    )
    check_op(
        lambda x: getattr(axon, name)(x, dim=dim, keepdim=keepdim),
        lambda x: getattr(np, name)(x, axis=dim, keepdims=keepdim),
        None,
        [(shape,)],
    )


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape, dim", [d for d in DIMS if d[0] != () and d[0] != (2, 1, 3)])
@pytest.mark.parametrize("correction", [0, 1])
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std(name, correction, shape, dim, keepdim):
    check_op(
        lambda x: getattr(x, name)(dim, correction=correction, keepdim=keepdim),
        lambda x: getattr(np, name)(x, axis=dim, ddof=correction, keepdims=keepdim),
        _torch_reduce(name, dim, keepdim, correction=correction),
        [(shape,)],
    )


def test_var_unbiased_flag_and_default():
    x = axon.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(x.var().item(), np.var(np.arange(6.0), ddof=1))
    np.testing.assert_allclose(x.var(1, unbiased=False).data, np.var(x.data, 1))
    np.testing.assert_allclose(axon.std(x, 0).data, np.std(x.data, 0, ddof=1), rtol=1e-6)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape, dim", DIMS)
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin(name, shape, dim, keepdim):
    check_op(
        lambda x: getattr(x, name)(dim, keepdim=keepdim),
        lambda x: getattr(np, name)(x, axis=dim, keepdims=keepdim),
        lambda t: getattr(torch, name)(t, dim=_tdim(dim), keepdim=keepdim),
        [(shape,)],
    )


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape, dim", [((3, 4), 0), ((3, 4), -1), ((2, 3, 4), 1), ((5,), 0)])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_dim_return_values_and_indices(name, shape, dim, keepdim):
    np_val, np_arg = {"max": (np.max, np.argmax), "min": (np.min, np.argmin)}[name]

    def ref(x):
        return np_val(x, axis=dim, keepdims=keepdim), np_arg(x, axis=dim, keepdims=keepdim)

    check_op(
        lambda x: getattr(x, name)(dim, keepdim=keepdim),
        ref,
        lambda t: tuple(getattr(t, name)(dim, keepdim=keepdim)),
        [(shape,)],
    )
    out = getattr(axon, name)(axon.randn(*shape), dim)
    assert out.values.shape == out.indices.shape and out.indices.dtype == np.int64


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_over_everything_and_binary_form(name):
    np_fn = {"max": np.max, "min": np.min}[name]
    check_op(lambda x: getattr(x, name)(), np_fn, lambda t: getattr(t, name)(), [((3, 4),), ((),)])
    binary = {"max": np.maximum, "min": np.minimum}[name]
    check_op(
        lambda a, b: getattr(axon, name)(a, b),
        binary,
        lambda a, b: getattr(torch, name)(a, b),
        [((3, 4), (4,))],
    )


def test_max_ties_share_the_gradient():
    # PyTorch's amax shares the gradient among ties as axon does (max(dim) differs: documented)
    x = axon.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    x.amax(1).sum().backward()
    tx = torch.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    tx.amax(1).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin(name, dim, keepdim):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4)).astype(np.float32)
    x = axon.tensor(a, requires_grad=True)
    out = getattr(x, name)(dim, keepdim=keepdim) if dim is not None else getattr(x, name)()
    expected = (
        getattr(torch.tensor(a), name)(dim, keepdim=keepdim)
        if dim is not None
        else getattr(torch.tensor(a), name)()
    )
    assert out.dtype == np.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.data, expected.numpy())
    assert out.shape == tuple(expected.shape)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape, dim", DIMS)
def test_logsumexp(shape, dim, keepdim):
    def ref(x):
        m = np.max(x, axis=dim, keepdims=True)
        out = np.log(np.sum(np.exp(x - m), axis=dim, keepdims=True)) + m
        return out if keepdim else np.squeeze(out, axis=dim) if dim is not None else out.reshape(())

    check_op(
        lambda x: x.logsumexp(dim, keepdim=keepdim),
        ref,
        lambda t: torch.logsumexp(
            t, dim=_tdim(dim) if dim is not None else tuple(range(t.ndim)), keepdim=keepdim
        ),
        [(shape,)],
    )


def test_logsumexp_is_stable():
    x = axon.tensor([[1000.0, 1000.0], [-1000.0, -1000.0]], requires_grad=True)
    with np.errstate(over="raise", invalid="raise"):
        y = axon.logsumexp(x, 1)
        y.sum().backward()
    np.testing.assert_allclose(y.data, [1000 + np.log(2), -1000 + np.log(2)], rtol=1e-6)
    # float32 spacing at 1000 is 6e-5, so the gradient is 0.5 to about 1e-4
    np.testing.assert_allclose(x.grad.data, np.full((2, 2), 0.5), rtol=1e-4)
    inf = axon.tensor([-np.inf, -np.inf])
    with np.errstate(divide="ignore"):  # log(0) for an all -inf row is the right answer
        assert axon.logsumexp(inf, 0).item() == -np.inf


def test_sum_of_int_and_bool_gives_int64():
    assert axon.tensor([1, 2, 3], dtype=np.int32).sum().dtype == np.int64
    assert axon.tensor([True, False, True]).sum().item() == 2
    assert axon.tensor([1.0, 2.0]).sum(dtype=np.float64).dtype == np.float64


def test_mean_of_int_raises():
    with pytest.raises(TypeError, match="mean"):
        axon.tensor([1, 2]).mean()


def test_all_any():
    x = axon.tensor([[True, False], [True, True]])
    assert x.all().item() is False and x.any().item() is True
    assert axon.all(x, 1).tolist() == [False, True]
    assert axon.any(x, 0, keepdim=True).shape == (1, 2)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "logsumexp", "var"])
def test_bad_dims_name_the_op(name):
    x = axon.ones(2, 3)
    with pytest.raises(IndexError, match=rf"{name}: dim 2 is out of range .*\(2, 3\)"):
        getattr(axon, name)(x, 2)
    with pytest.raises(ValueError, match=name):
        getattr(axon, name)(x, (1, -1))


def test_std_of_constant_values_has_zero_gradient_like_torch():
    values = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]], dtype=np.float32)
    x = axon.tensor(values, requires_grad=True)
    y = x.std(1)
    y.sum().backward()
    tx = torch.tensor(values, requires_grad=True)
    ty = tx.std(1)
    ty.sum().backward()
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-5, atol=1e-7)
    assert y.dtype == x.grad.dtype == np.float32
    # too few elements for the correction: NaN, as PyTorch
    with np.errstate(invalid="ignore", divide="ignore"):
        assert np.isnan(axon.tensor([1.0]).std().item())
