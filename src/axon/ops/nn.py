"""Fused neural-network ops: softmax and log-softmax along one dim.

Both subtract the row maximum before ``exp`` so large logits never overflow.
    softmax:      y = exp(x - m) / sum(exp(x - m))
                  dL/dx = y * (g - sum(g * y))
    log_softmax:  y = x - m - log(sum(exp(x - m)))
                  dL/dx = g - exp(y) * sum(g)

Along the last dim (the common case) both directions run on arrays over
fixed blocks of rows: every pass of a block stays in cache, blocks go to
``axon.parallel`` threads, and row sums are BLAS matrix-vector products with
a vector of ones (several times faster than NumPy's reduction over rows of
~100). ``exp`` is then most of the cost. Other dims, and the backward under
``create_graph=True``, use the formulas above in NumPy/Tensor ops.
"""

from __future__ import annotations

import numpy as np

from axon.autograd.function import Function
from axon.autograd.grad_mode import is_grad_enabled
from axon.ops.elementwise import as_tensor, exp
from axon.ops.reduce import normalize_dims
from axon.parallel import parallel_for
from axon.tensor import Tensor

#: Values per block of rows (see the module docstring).
ROW_BLOCK = 1 << 16


def _by_row_blocks(kernel, m: int, k: int) -> None:
    """kernel(r0, r1) over fixed blocks of rows of an (m, k) problem, on axon's threads."""
    rows = max(1, ROW_BLOCK // max(k, 1))

    def piece(lo: int, hi: int) -> None:
        for i in range(lo, hi):
            kernel(i * rows, min((i + 1) * rows, m))

    parallel_for(-(-m // rows), piece)


def _last_dim(x: np.ndarray, dim) -> bool:
    return x.ndim >= 1 and dim == x.ndim - 1 and x.shape[-1] > 0 and x.dtype.kind == "f"


def _softmax_last(x: np.ndarray, log: bool) -> np.ndarray:
    """softmax or log_softmax over the last dim of x, by blocks of rows."""
    x2 = np.ascontiguousarray(x).reshape(-1, x.shape[-1])  # (M, K)
    y = np.empty_like(x2)
    ones = np.ones(x2.shape[1], x2.dtype)

    def kernel(r0: int, r1: int) -> None:
        xb, yb = x2[r0:r1], y[r0:r1]
        np.subtract(xb, xb.max(axis=1, keepdims=True), out=yb)
        if log:
            total = np.matmul(np.exp(yb), ones)[:, None]  # (r, 1)
            yb -= np.log(total, out=total)
        else:
            np.exp(yb, out=yb)
            total = np.matmul(yb, ones)[:, None]
            yb *= np.divide(1, total, out=total)

    _by_row_blocks(kernel, *x2.shape)
    return y.reshape(x.shape)


def _softmax_last_backward(g: np.ndarray, y: np.ndarray, log: bool) -> np.ndarray:
    """dL/dx of softmax (y * (g - sum(g y))) or log_softmax (g - exp(y) sum(g)), last dim."""
    g2 = np.ascontiguousarray(g).reshape(-1, y.shape[-1])  # (M, K)
    y2 = np.ascontiguousarray(y).reshape(g2.shape)
    gx = np.empty_like(y2)
    ones = np.ones(y2.shape[1], y2.dtype)

    def kernel(r0: int, r1: int) -> None:
        gb, yb, out = g2[r0:r1], y2[r0:r1], gx[r0:r1]
        if log:
            np.exp(yb, out=out)
            out *= np.matmul(gb, ones)[:, None]
            np.subtract(gb, out, out=out)
        else:
            np.multiply(gb, yb, out=out)
            dot = np.matmul(out, ones)[:, None]  # (r, 1): sum(g y)
            np.subtract(gb, dot, out=out)
            out *= yb

    _by_row_blocks(kernel, *y2.shape)
    return gx.reshape(y.shape)


class Softmax(Function):
    def forward(self, x, dim):
        self.dim = dim
        if _last_dim(x, dim):
            y = _softmax_last(x, log=False)
        else:
            y = np.asarray(x - np.max(x, axis=dim, keepdims=True))  # an array even for 0-d x
            np.exp(y, out=y)
            y /= np.sum(y, axis=dim, keepdims=True)
        self.save_for_backward(y)
        return y

    def backward(self, grad):
        (y,) = self.saved_tensors
        if not is_grad_enabled() and _last_dim(y.data, self.dim) and grad.shape == y.shape:
            return Tensor._make(_softmax_last_backward(grad.data, y.data, log=False)), None
        return y * (grad - (grad * y).sum(self.dim, keepdim=True)), None


class LogSoftmax(Function):
    def forward(self, x, dim):
        self.dim = dim
        if _last_dim(x, dim):
            y = _softmax_last(x, log=True)
        else:
            shifted = x - np.max(x, axis=dim, keepdims=True)
            y = shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))
        self.save_for_backward(y)
        return y

    def backward(self, grad):
        (y,) = self.saved_tensors
        if not is_grad_enabled() and _last_dim(y.data, self.dim) and grad.shape == y.shape:
            return Tensor._make(_softmax_last_backward(grad.data, y.data, log=True)), None
        return grad - exp(y) * grad.sum(self.dim, keepdim=True), None


def softmax(x, dim: int = -1):
    """exp(x) / sum(exp(x)) along ``dim`` (default: the last)."""
    x = as_tensor(x)
    (d,) = normalize_dims("softmax", dim, x.ndim, x.shape) or (None,)
    return Softmax.apply(x, d)


def log_softmax(x, dim: int = -1):
    """log(softmax(x)) along ``dim``, computed stably."""
    x = as_tensor(x)
    (d,) = normalize_dims("log_softmax", dim, x.ndim, x.shape) or (None,)
    return LogSoftmax.apply(x, d)
