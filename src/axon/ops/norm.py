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
"""

from __future__ import annotations

import numpy as np

from axon.autograd.function import Function
from axon.autograd.grad_mode import is_grad_enabled
from axon.ops.elementwise import as_tensor, rsqrt, sum_to_shape
from axon.tensor import Tensor


def _rows(x: np.ndarray, n_dims: int) -> np.ndarray:
    """View x as (rows, K) where K is the product of the last ``n_dims`` dims."""
    k = int(np.prod(x.shape[x.ndim - n_dims :]))
    return x.reshape(-1, k)  # (M, K)


def _norm_backward_arrays(g, x, w, mean, rstd, n_dims, center, need):
    """The closed-form gradients (dx, dw, db) as arrays, None where not needed."""
    g2, x2 = _rows(g, n_dims), _rows(x, n_dims)
    k, norm_shape = x2.shape[1], x.shape[x.ndim - n_dims :]
    xhat = x2 - mean if center else x2.copy()
    xhat *= rstd
    dx = dw = db = None
    if need[1]:
        dw = np.einsum("ij,ij->j", g2, xhat).reshape(norm_shape)
    if need[2]:
        db = g2.sum(axis=0).reshape(norm_shape)
    if need[0]:
        gw = g2 * w.reshape(-1) if w is not None else g2.copy()
        dot = np.vecdot(gw, xhat)[:, None]  # (M, 1): sum(gw * xhat) per row
        dot *= x.dtype.type(1.0 / k)
        if center:
            gw -= gw.mean(axis=1, keepdims=True)
        xhat *= dot
        gw -= xhat
        gw *= rstd
        dx = gw.reshape(x.shape)
    return dx, dw, db


class _Norm(Function):
    """Shared forward/backward of ``LayerNorm`` (center=True) and ``RmsNorm`` (center=False)."""

    center = True

    def forward(self, x, weight, bias, n_dims, eps):
        self.n_dims, self.eps = n_dims, eps
        self.has_weight, self.has_bias = weight is not None, bias is not None
        x2 = _rows(x, n_dims)  # (M, K)
        k = x2.shape[1]
        if self.center:
            mean = x2.mean(axis=1, keepdims=True)  # (M, 1)
            y = x2 - mean
        else:
            mean = None
            y = x2.copy()
        # a row-wise dot product sums the squares without a temporary (M, K) array
        var = np.vecdot(y, y)[:, None] * x.dtype.type(1.0 / k)
        rstd = 1.0 / np.sqrt(var + x.dtype.type(eps))  # (M, 1)
        y *= rstd
        if weight is not None:
            y *= weight.reshape(-1)
        if bias is not None:
            y += bias.reshape(-1)
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
