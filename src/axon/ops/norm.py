"""Fused layer norm and RMS norm over the last few dims.

For each row x (the K values of the normalized dims):

    layer norm:  mu = mean(x),  rstd = 1 / sqrt(mean((x - mu)^2) + eps),  xhat = (x - mu) rstd
    RMS norm:    mu = 0,        rstd = 1 / sqrt(mean(x^2) + eps),          xhat = x rstd
    y = xhat * w + b

Forward computes mu and rstd once and saves them (one number per row).
Backward, with gw = g * w, is the closed form (the mean(gw) term only for
layer norm, since RMS norm does not subtract the mean):

    dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat))
    dw = sum over rows of g * xhat         db = sum over rows of g

That is the array kernel ``_norm_backward_arrays``, run on raw arrays. When
the caller asked for ``create_graph=True`` (double backward), the same
formula is composed from Tensor ops instead, recomputing mu and rstd from x,
so the engine can differentiate it again.

Both directions run over fixed blocks of rows (about ``ROW_BLOCK`` values
each), so every pass of a block stays in cache, and blocks go to
``axon.parallel`` threads. Row sums are matrix-vector products with a vector
of ones (BLAS), several times faster than NumPy's reduction over short rows.
dw and db are summed per block and then over blocks in order: the result
does not depend on the number of threads.
"""

from __future__ import annotations

import numpy as np

from axon.autograd.function import Function
from axon.autograd.grad_mode import is_grad_enabled
from axon.ops.elementwise import as_tensor, rsqrt, sum_to_shape
from axon.parallel import parallel_for
from axon.tensor import Tensor

#: Values per block of rows: a block and its temporaries stay in the L2 cache.
ROW_BLOCK = 1 << 16


def _rows(x: np.ndarray, n_dims: int) -> np.ndarray:
    """View x as (rows, K) where K is the product of the last ``n_dims`` dims."""
    k = int(np.prod(x.shape[x.ndim - n_dims :]))
    return x.reshape(-1, k)  # (M, K)


def _row_blocks(m: int, k: int) -> int:
    """Rows per block (a fixed function of the shape, never of the thread count)."""
    return max(1, ROW_BLOCK // max(k, 1))


def _norm_forward_arrays(x2, w, b, eps, center):
    """(y, mean or None, rstd) for rows x2 (M, K); mean and rstd are (M, 1)."""
    m, k = x2.shape
    dtype = x2.dtype
    y = np.empty_like(x2)
    mean = np.empty((m, 1), dtype) if center else None
    rstd = np.empty((m, 1), dtype)
    ones = np.ones(k, dtype)
    inv_k = dtype.type(1.0 / k)
    w = None if w is None else w.reshape(-1)
    b = None if b is None else b.reshape(-1)
    rows = _row_blocks(m, k)

    def piece(lo: int, hi: int) -> None:
        for r0 in range(lo * rows, min(hi * rows, m), rows):
            r1 = min(r0 + rows, m)
            xb, yb = x2[r0:r1], y[r0:r1]
            if center:
                mb = np.matmul(xb, ones)[:, None]  # (r, 1) row sums
                mb *= inv_k
                mean[r0:r1] = mb
                np.subtract(xb, mb, out=yb)
            else:
                np.copyto(yb, xb)
            sq = yb * yb
            var = np.matmul(sq, ones)[:, None]
            var *= inv_k
            var += dtype.type(eps)
            np.sqrt(var, out=var)
            np.divide(1, var, out=rstd[r0:r1])
            yb *= rstd[r0:r1]
            if w is not None:
                yb *= w
            if b is not None:
                yb += b

    parallel_for(-(-m // rows), piece)
    return y, mean, rstd


def _norm_backward_arrays(g, x, w, mean, rstd, n_dims, center, need):
    """The closed-form gradients (dx, dw, db) as arrays, None where not needed."""
    g2, x2 = _rows(np.ascontiguousarray(g), n_dims), _rows(x, n_dims)
    m, k = x2.shape
    dtype = x2.dtype
    norm_shape = x.shape[x.ndim - n_dims :]
    w = None if w is None else w.reshape(-1)
    rows = _row_blocks(m, k)
    n_blocks = -(-m // rows)
    dx = np.empty_like(x2) if need[0] else None
    dw_parts = np.empty((n_blocks, k), dtype) if need[1] else None
    db_parts = np.empty((n_blocks, k), dtype) if need[2] else None
    ones_k = np.ones(k, dtype)
    inv_k = dtype.type(1.0 / k)

    def piece(lo: int, hi: int) -> None:
        for i in range(lo, hi):
            r0, r1 = i * rows, min((i + 1) * rows, m)
            gb = g2[r0:r1]
            xhat = np.subtract(x2[r0:r1], mean[r0:r1]) if center else x2[r0:r1].copy()
            xhat *= rstd[r0:r1]
            ones_r = np.ones(r1 - r0, dtype)
            if db_parts is not None:
                np.matmul(ones_r, gb, out=db_parts[i])  # column sums of g
            if dw_parts is not None:
                np.matmul(ones_r, gb * xhat, out=dw_parts[i])
            if dx is None:
                continue
            gw = gb * w if w is not None else gb.copy()
            c2 = np.matmul(gw * xhat, ones_k)[:, None]  # (r, 1): sum(gw * xhat) per row
            c2 *= inv_k
            xhat *= c2
            np.subtract(gw, xhat, out=gw)
            if center:
                c1 = np.matmul(gw, ones_k)[
                    :, None
                ]  # sum(gw) - sum(xhat) c2 = sum(gw): xhat sums to 0
                c1 *= inv_k
                gw -= c1
            np.multiply(gw, rstd[r0:r1], out=dx[r0:r1])

    parallel_for(n_blocks, piece)
    dw = dw_parts.sum(0).reshape(norm_shape) if dw_parts is not None else None
    db = db_parts.sum(0).reshape(norm_shape) if db_parts is not None else None
    return (None if dx is None else dx.reshape(x.shape)), dw, db


class _Norm(Function):
    """Shared forward/backward of ``LayerNorm`` (center=True) and ``RmsNorm`` (center=False)."""

    center = True

    def forward(self, x, weight, bias, n_dims, eps):
        self.n_dims, self.eps = n_dims, eps
        self.has_weight, self.has_bias = weight is not None, bias is not None
        x2 = _rows(np.ascontiguousarray(x), n_dims)  # (M, K)
        y, mean, rstd = _norm_forward_arrays(x2, weight, bias, eps, self.center)
        self.save_for_backward(x, weight, mean, rstd)
        return y.reshape(x.shape)

    def backward(self, grad):
        x, weight, mean, rstd = self.saved_tensors
        need = self.needs_input_grad
        if is_grad_enabled():  # create_graph=True: a differentiable formula
            return self._composed_backward(grad, x, weight, need)
        dx, dw, db = _norm_backward_arrays(
            grad.data,
            x.data,
            None if weight is None else weight.data,
            None if mean is None else mean.data,
            rstd.data,
            self.n_dims,
            self.center,
            (need[0], self.has_weight and need[1], self.has_bias and need[2]),
        )
        wrap = lambda a: None if a is None else Tensor._make(a)  # noqa: E731
        return wrap(dx), wrap(dw), wrap(db)

    def _composed_backward(self, g, x, weight, need):
        """The same closed form from Tensor ops (mu, rstd recomputed from x) for double backward."""
        dims = tuple(range(x.ndim - self.n_dims, x.ndim))
        xc = x - x.mean(dims, keepdim=True) if self.center else x
        rstd = rsqrt((xc * xc).mean(dims, keepdim=True) + self.eps)
        xhat = xc * rstd
        gw = g * weight if weight is not None else g
        dx = dw = db = None
        if need[0]:
            inner = gw - gw.mean(dims, keepdim=True) if self.center else gw
            dx = rstd * (inner - xhat * (gw * xhat).mean(dims, keepdim=True))
        if self.has_weight and need[1]:
            dw = sum_to_shape(g * xhat, weight.shape)
        if self.has_bias and need[2]:
            db = sum_to_shape(g, weight.shape if weight is not None else x.shape[-self.n_dims :])
        return dx, dw, db


class LayerNorm(_Norm):
    center = True


class RmsNorm(_Norm):
    center = False


def _check_norm_args(op, x, normalized_shape, weight, bias):
    shape = (
        (normalized_shape,)
        if isinstance(normalized_shape, (int, np.integer))
        else tuple(normalized_shape)
    )
    shape = tuple(int(s) for s in shape)
    if not shape or x.shape[x.ndim - len(shape) :] != shape or x.ndim < len(shape):
        raise ValueError(
            f"{op}: expected input of shape (*, {', '.join(map(str, shape))}) to normalize over "
            f"the last {len(shape)} dim(s) {shape}, got input of shape {x.shape}"
        )
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and p.shape != shape:
            raise ValueError(
                f"{op}: {name} must have shape normalized_shape={shape}, got {p.shape}"
            )
    return shape


def layer_norm(x, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """Normalize over the last dims to zero mean and unit variance, then scale and shift.

    y = (x - mean) / sqrt(var + eps) * weight + bias, with the (biased) mean and
    variance taken over the trailing ``normalized_shape`` dims of each sample.

    Shape: x (*, *normalized_shape); weight, bias normalized_shape -> y like x.

    Example::

        >>> F.layer_norm(axon.randn(2, 5, 8), (8,)).shape
        (2, 5, 8)
    """
    x = as_tensor(x)
    shape = _check_norm_args("layer_norm", x, normalized_shape, weight, bias)
    return LayerNorm.apply(x, weight, bias, len(shape), float(eps))


def rms_norm(x, normalized_shape, weight=None, eps: float | None = None):
    """Scale by the root mean square over the last dims: y = x / sqrt(mean(x^2) + eps) * weight.

    ``eps=None`` uses the machine epsilon of x's dtype, as PyTorch.

    Shape: x (*, *normalized_shape); weight normalized_shape -> y like x.
    """
    x = as_tensor(x)
    shape = _check_norm_args("rms_norm", x, normalized_shape, weight, None)
    if eps is None:
        eps = float(np.finfo(x.dtype).eps)
    return RmsNorm.apply(x, weight, None, len(shape), float(eps))
