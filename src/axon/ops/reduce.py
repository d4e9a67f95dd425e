"""Reductions: sum, mean, var, std, max/min, argmax/argmin, logsumexp, all/any.

``dim`` is an int, a tuple of ints, or None (all dims); ``keepdim`` keeps the
reduced dims as size 1, as in PyTorch. Backward broadcasts the gradient back
over the reduced dims.
"""

from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from axon.autograd.function import Function
from axon.ops.elementwise import as_tensor, exp, maximum, minimum, sqrt, where
from axon.tensor import Tensor

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def normalize_dims(op: str, dim, ndim: int, shape=None) -> tuple:
    """``dim`` as a sorted tuple of non-negative axes; None means every axis."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        if not -builtins.max(ndim, 1) <= d < builtins.max(ndim, 1):
            raise IndexError(
                f"{op}: dim {d} is out of range for a tensor with {ndim} dims (shape {shape})"
            )
        out.append(int(d) % builtins.max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {dim} names the same dimension twice")
    return tuple(sorted(out)) if ndim else ()


def _keepdim_shape(shape: tuple, dims: tuple) -> tuple:
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _expand_back(grad: Tensor, in_shape: tuple, dims: tuple) -> Tensor:
    """Undo a reduction's shape: reshape to keepdim form, then broadcast."""
    from axon.ops.movement import expand, reshape

    return expand(reshape(grad, _keepdim_shape(in_shape, dims)), *in_shape)


class Sum(Function):
    def forward(self, x, dims, keepdim):
        self.in_shape, self.dims = x.shape, dims
        return np.sum(x, axis=dims, keepdims=keepdim)

    def backward(self, grad):
        return _expand_back(grad, self.in_shape, self.dims)


class Mean(Function):
    def forward(self, x, dims, keepdim):
        self.in_shape, self.dims = x.shape, dims
        self.count = int(np.prod([x.shape[d] for d in dims]))
        return np.mean(x, axis=dims, keepdims=keepdim)

    def backward(self, grad):
        return _expand_back(grad / self.count, self.in_shape, self.dims)


class Amax(Function):
    """Largest value over ``dims``; on ties the gradient is shared equally (as PyTorch)."""

    take_max = True

    def forward(self, x, dims, keepdim):
        if x.size == 0:
            raise ValueError(
                f"{'amax' if self.take_max else 'amin'}: empty tensor of shape {x.shape}"
            )
        reduce = np.max if self.take_max else np.min
        out = reduce(x, axis=dims, keepdims=True)
        is_extreme = x == out
        self.share = is_extreme / is_extreme.sum(axis=dims, keepdims=True, dtype=x.dtype)
        self.in_shape, self.dims = x.shape, dims
        return out if keepdim else out.reshape([s for i, s in enumerate(x.shape) if i not in dims])

    def backward(self, grad):
        return _expand_back(grad, self.in_shape, self.dims) * Tensor._make(self.share)


class Amin(Amax):
    take_max = False


class LogSumExp(Function):
    """log(sum(exp(x))) computed stably as m + log(sum(exp(x - m))), m = max(x).

    d/dx = exp(x - logsumexp(x)) = softmax(x).
    """

    def forward(self, x, dims, keepdim):
        m = np.max(x, axis=dims, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)  # all -inf rows: avoid inf - inf
        out = np.log(np.sum(np.exp(x - m), axis=dims, keepdims=True)) + m
        if not keepdim:
            out = out.reshape([s for i, s in enumerate(x.shape) if i not in dims])
        # saving the output (not a copy) makes it a graph node under create_graph,
        # so the second derivative sees that it depends on x
        self.save_for_backward(x, out)
        self.dims = dims
        return out

    def backward(self, grad):
        from axon.ops.movement import reshape

        x, out = self.saved_tensors
        out = reshape(out, _keepdim_shape(x.shape, self.dims))
        return _expand_back(grad, x.shape, self.dims) * exp(x - out)


class SumToShape(Function):
    """Sum a broadcast gradient back down to ``shape`` (undoes broadcasting)."""

    def forward(self, grad, shape):
        self.grad_shape = grad.shape
        lead = grad.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, s in enumerate(shape) if s == 1 and grad.shape[lead + i] != 1
        )
        return (
            np.sum(grad, axis=axes, keepdims=True).reshape(shape) if axes else grad.reshape(shape)
        )

    def backward(self, grad):
        from axon.ops.movement import expand

        return expand(grad, *self.grad_shape), None


# ------------------------------------------------------------ functional API
def sum(x, dim=None, keepdim: bool = False, dtype=None):  # noqa: A001 - PyTorch's name
    """Sum over ``dim`` (all dims by default). Integer and bool inputs give int64."""
    x = as_tensor(x)
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.kind in "biu":
        x = x.to(np.int64)
    return Sum.apply(x, normalize_dims("sum", dim, x.ndim, x.shape), keepdim)


def mean(x, dim=None, keepdim: bool = False):
    """Arithmetic mean over ``dim`` (all dims by default)."""
    x = as_tensor(x)
    if x.dtype.kind not in "fc":
        raise TypeError(f"mean: needs a floating-point tensor, got dtype {x.dtype}; use x.float()")
    return Mean.apply(x, normalize_dims("mean", dim, x.ndim, x.shape), keepdim)


def var(x, dim=None, correction: int = 1, keepdim: bool = False, unbiased=None):
    """Variance: sum((x - mean)^2) / (N - correction); correction=1 is PyTorch's default."""
    x = as_tensor(x)
    if unbiased is not None:
        correction = 1 if unbiased else 0
    dims = normalize_dims("var", dim, x.ndim, x.shape)
    n = int(np.prod([x.shape[d] for d in dims]))
    centered = x - mean(x, dims, keepdim=True)
    return sum(centered * centered, dims, keepdim) / builtins.max(n - correction, 0)


def std(x, dim=None, correction: int = 1, keepdim: bool = False, unbiased=None):
    """Standard deviation: sqrt(var); its gradient is 0 where std is 0 (as PyTorch), not NaN."""
    v = var(x, dim, correction, keepdim, unbiased)
    nonzero = v != 0  # sqrt's slope is infinite at 0; NaN (too few elements) stays NaN
    return where(nonzero, sqrt(where(nonzero, v, 1.0)), 0.0)


def amax(x, dim=None, keepdim: bool = False):
    x = as_tensor(x)
    return Amax.apply(x, normalize_dims("amax", dim, x.ndim, x.shape), keepdim)


def amin(x, dim=None, keepdim: bool = False):
    x = as_tensor(x)
    return Amin.apply(x, normalize_dims("amin", dim, x.ndim, x.shape), keepdim)


def max(x, dim=None, keepdim: bool = False):  # noqa: A001 - PyTorch's name
    """``max(x)``: the largest value; ``max(x, dim)``: (values, indices); ``max(x, y)``: maximum.

    Differs from PyTorch only on ties: the gradient of ``values`` is shared
    among tied elements instead of going to the one at ``indices``.
    """
    if isinstance(dim, Tensor):
        return maximum(x, dim)
    if dim is None:
        return amax(x)
    return ValuesIndices(amax(x, dim, keepdim), argmax(x, dim, keepdim))


def min(x, dim=None, keepdim: bool = False):  # noqa: A001 - PyTorch's name
    """As ``max`` with the smallest values."""
    if isinstance(dim, Tensor):
        return minimum(x, dim)
    if dim is None:
        return amin(x)
    return ValuesIndices(amin(x, dim, keepdim), argmin(x, dim, keepdim))


def _arg(op, reducer):
    def arg(x, dim=None, keepdim: bool = False):
        x = as_tensor(x)
        if dim is None:
            return Tensor._make(np.asarray(reducer(x.data), dtype=np.int64))
        (axis,) = normalize_dims(op, dim, x.ndim, x.shape)
        return Tensor._make(reducer(x.data, axis=axis, keepdims=keepdim).astype(np.int64))

    arg.__name__ = op
    arg.__doc__ = (
        f"Index of the {'largest' if 'max' in op else 'smallest'} value (int64; no gradient)."
    )
    return arg


argmax = _arg("argmax", np.argmax)
argmin = _arg("argmin", np.argmin)


def logsumexp(x, dim=None, keepdim: bool = False):
    """log(sum(exp(x), dim)), stable for large inputs."""
    x = as_tensor(x)
    return LogSumExp.apply(x, normalize_dims("logsumexp", dim, x.ndim, x.shape), keepdim)


def all(x, dim=None, keepdim: bool = False):  # noqa: A001 - PyTorch's name
    x = as_tensor(x)
    return Tensor._make(np.all(x.data, axis=None if dim is None else dim, keepdims=keepdim))


def any(x, dim=None, keepdim: bool = False):  # noqa: A001 - PyTorch's name
    x = as_tensor(x)
    return Tensor._make(np.any(x.data, axis=None if dim is None else dim, keepdims=keepdim))
