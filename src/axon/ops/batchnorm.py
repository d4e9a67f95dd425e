r"""Batch normalization and group normalization, fused.

Both normalize x with a mean and variance taken over some axes, then apply
a per-channel affine map:

    xhat = (x - mean) / sqrt(var + eps)          (var: biased, divide by m)
    y    = weight[c] * xhat + bias[c]

batch_norm takes the statistics per channel over (N, *spatial); group_norm
per sample and per group of channels over (C/G, *spatial). With g = dL/dy,
over the m values that share one mean/variance, the gradient in closed form is

    dxhat = g * weight
    dx    = invstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
    dweight = sum(g * xhat)        dbias = sum(g)     (per channel)

Backward evaluates this directly on arrays (a handful of passes, no graph).
When a graph of the backward itself is requested (``create_graph=True``)
the same formula runs on Tensors recomputed from x, so second derivatives
are correct too.
"""

from __future__ import annotations

import numpy as np

from axon.autograd.function import Function
from axon.autograd.grad_mode import is_grad_enabled, no_grad
from axon.ops.elementwise import as_tensor
from axon.ops.movement import reshape
from axon.tensor import Tensor


def _channels_view(x: np.ndarray) -> np.ndarray:
    """(N, C, L): the spatial dims flattened (a view for contiguous x)."""
    return x.reshape(x.shape[0], x.shape[1], -1)


class BatchNormTrain(Function):
    """Batch-statistics normalization; also updates the running statistics in place."""

    def forward(self, x, weight, bias, running_mean, running_var, momentum, eps):
        x3 = _channels_view(x)  # (N, C, L)
        n, _, length = x3.shape
        m = n * length
        mean = x3.sum(axis=2).sum(axis=0) / m  # inner-axis sums first: fast and pairwise-accurate
        xc = x3 - mean[:, None]  # x - mean, kept for backward (xhat = xc * invstd)
        var = np.einsum("ncl,ncl->c", xc, xc) / m  # one pass, no (x - mean)**2 temporary
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype)
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean
            running_var *= 1 - momentum
            running_var += (momentum * m / max(m - 1, 1)) * var  # unbiased, as PyTorch
        # y = xc * (weight * invstd) + bias: xhat itself is never stored
        y = np.empty(x.shape, dtype=x.dtype)
        y3 = np.multiply(
            xc, (invstd if weight is None else weight * invstd)[:, None], out=_channels_view(y)
        )
        if bias is not None:
            y3 += bias[:, None]
        self.xc, self.invstd, self.eps = xc, invstd, eps
        self.save_for_backward(x, weight)
        return y

    def backward(self, grad):
        x, weight = self.saved_tensors
        if is_grad_enabled():  # create_graph=True: a differentiable version
            return _norm_backward_graph(grad, x, weight, None, self.eps) + (None,) * 4
        g3 = _channels_view(grad.data)
        xc, invstd = self.xc, self.invstd
        m = g3.shape[0] * g3.shape[2]
        gb = g3.sum(axis=2).sum(axis=0)
        gw = np.einsum("ncl,ncl->c", g3, xc) * invstd  # sum(g * xhat)
        k = invstd if weight is None else invstd * weight.data  # (C,)
        # dx = k * (g - gb/m - xhat * gw/m), xhat = xc * invstd: one new buffer,
        # four in-place passes (through a 3-D view of a buffer in x's shape: a
        # reshaped view handed to a leaf would be copied by the engine)
        out = np.empty(grad.shape, dtype=grad.dtype)
        gx = np.multiply(xc, (invstd * gw / m)[:, None], out=_channels_view(out))
        gx += (gb / m)[:, None]
        np.subtract(g3, gx, out=gx)
        gx *= k[:, None]
        gx = Tensor._make(out) if self.needs_input_grad[0] else None
        if weight is None:
            return gx, None, None
        return gx, Tensor._make(gw.astype(grad.dtype)), Tensor._make(gb.astype(grad.dtype))


class GroupNorm(Function):
    """Per-sample, per-group normalization, then a per-channel affine map.

    Every reduction is first taken per (sample, channel) and then combined
    per group, so the per-channel weight folds into (N, C) coefficients and
    no (x - mean) / std or g * weight array is ever built.
    """

    def forward(self, x, weight, bias, groups, eps):
        n, c = x.shape[:2]
        xg = x.reshape(n, groups, -1)  # (N, G, C/G * L)
        xc = xg - xg.mean(axis=2, keepdims=True)  # x - mean, kept for backward
        var = np.einsum("ngl,ngl->ng", xc, xc) / xg.shape[2]
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype)  # (N, G)
        invstd = np.repeat(invstd, c // groups, axis=1)  # (N, C): each channel its group's
        scale = invstd if weight is None else invstd * weight  # y = xc * scale + bias
        y = np.empty(x.shape, dtype=x.dtype)
        y3 = np.multiply(xc.reshape(n, c, -1), scale[:, :, None], out=_channels_view(y))
        if bias is not None:
            y3 += bias[:, None]
        self.xc, self.invstd, self.groups, self.eps = xc, invstd, groups, eps
        self.save_for_backward(x, weight)
        return y

    def backward(self, grad):
        x, weight = self.saved_tensors
        if is_grad_enabled():
            return _norm_backward_graph(grad, x, weight, self.groups, self.eps) + (None, None)
        n, c = grad.shape[:2]
        groups, invstd = self.groups, self.invstd  # invstd: (N, C)
        g3 = _channels_view(grad.data)  # (N, C, L)
        xc = self.xc.reshape(g3.shape)
        m = xc.size // (n * groups)  # values per (sample, group)
        g_sum = g3.sum(axis=2)  # (N, C): sum_l g
        g_xc = np.einsum("ncl,ncl->nc", g3, xc)  # (N, C): sum_l g * (x - mean)
        w = np.ones(c, grad.dtype) if weight is None else weight.data

        def per_group(a):  # (N, C) -> sums over each group's channels, repeated to (N, C)
            return np.repeat(a.reshape(n, groups, -1).sum(axis=2), c // groups, axis=1)

        # dxhat = g * w;  dx = invstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
        mean_d = per_group(g_sum * w) / m
        mean_dx = per_group(g_xc * w * invstd) / m
        out = np.empty(grad.shape, dtype=grad.dtype)
        gx = np.multiply(xc, (-invstd * invstd * mean_dx)[:, :, None], out=_channels_view(out))
        gx -= (invstd * mean_d)[:, :, None]
        gx += g3 * (invstd * w)[:, :, None]
        gx = Tensor._make(out) if self.needs_input_grad[0] else None
        if weight is None:
            return gx, None, None
        gw = (g_xc * invstd).sum(axis=0)  # sum(g * xhat) per channel
        return gx, Tensor._make(gw.astype(grad.dtype)), Tensor._make(g_sum.sum(axis=0))


def _norm_backward_graph(grad, x, weight, groups, eps):
    """The closed-form gradient on Tensors recomputed from x (for create_graph=True)."""
    n, c = x.shape[:2]
    shape = (n, c, -1) if groups is None else (n, groups, -1)
    axes = (0, 2) if groups is None else (2,)
    xs = reshape(x, shape)
    xc = xs - xs.mean(axes, keepdim=True)
    invstd = ((xc * xc).mean(axes, keepdim=True) + eps).rsqrt()
    xhat = reshape(xc * invstd, (n, c, -1))
    g3 = reshape(grad, (n, c, -1))
    dxhat = g3 if weight is None else g3 * reshape(weight, (1, c, 1))
    dxs, xhs = reshape(dxhat, shape), reshape(xhat, shape)
    dx = (dxs - dxs.mean(axes, keepdim=True) - xhs * (dxs * xhs).mean(axes, keepdim=True)) * invstd
    gx = reshape(dx, x.shape)
    if weight is None:
        return gx, None, None
    return gx, (g3 * xhat).sum((0, 2)), g3.sum((0, 2))


def batch_norm(
    input,
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
):
    """Batch normalization, as ``torch.nn.functional.batch_norm``.

    training=True normalizes with the batch's per-channel mean and (biased)
    variance over (N, *spatial) and, when running stats are given, updates
    them in place: running = (1 - momentum) * running + momentum * batch_stat,
    with the *unbiased* variance for running_var. training=False normalizes
    with the running statistics.

    Shape: input (N, C) or (N, C, *); running stats, weight, bias (C,).

    Example::

        >>> x = axon.randn(16, 8, 4, 4)
        >>> rm, rv = axon.zeros(8), axon.ones(8)
        >>> F.batch_norm(x, rm, rv, training=True).shape
        (16, 8, 4, 4)
    """
    x = as_tensor(input)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C) or (N, C, *), got {x.shape}")
    c = x.shape[1]
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if t is not None and t.shape != (c,):
            raise ValueError(
                f"batch_norm: {name} of shape {t.shape} doesn't match {c} channels (input {x.shape})"
            )
    if (weight is None) != (bias is None):
        weight = weight if weight is not None else Tensor._make(np.ones(c, x.dtype))
        bias = bias if bias is not None else Tensor._make(np.zeros(c, x.dtype))
    if training:
        if x.data.size // c <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input of shape {x.shape}"
            )
        if (running_mean is None) != (running_var is None):
            raise ValueError("batch_norm: pass both running_mean and running_var, or neither")
        rm = None if running_mean is None else running_mean.data
        rv = None if running_var is None else running_var.data
        y = BatchNormTrain.apply(x, weight, bias, rm, rv, float(momentum or 0.0), eps)
        if running_mean is not None:
            running_mean._vc[0] += 1
            running_var._vc[0] += 1
        return y
    if running_mean is None or running_var is None:
        raise ValueError(
            "batch_norm: evaluation mode (training=False) needs running_mean and running_var"
        )
    # y = x * scale + shift: two passes, and autograd derives the (simple) backward.
    with no_grad():
        invstd = Tensor._make((1.0 / np.sqrt(running_var.data + eps)).astype(x.dtype))
        mean = Tensor._make(running_mean.data.astype(x.dtype))
    scale = invstd if weight is None else weight * invstd
    shift = -mean * scale if bias is None else bias - mean * scale
    view = (1, c) + (1,) * (x.ndim - 2)
    return x * reshape(scale, view) + reshape(shift, view)


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5):
    """Group normalization, as ``torch.nn.functional.group_norm``.

    Channels split into ``num_groups`` groups; each sample's group is
    normalized over its channels and spatial positions, then scaled and
    shifted per channel. Independent of the batch size.

    Shape: input (N, C, *) with C divisible by num_groups; weight, bias (C,).

    Example::

        >>> F.group_norm(axon.randn(4, 6, 5, 5), 3).shape
        (4, 6, 5, 5)
    """
    x = as_tensor(input)
    if x.ndim < 2:
        raise ValueError(f"group_norm: expected input of shape (N, C, *), got {x.shape}")
    c = x.shape[1]
    if num_groups < 1 or c % num_groups:
        raise ValueError(
            f"group_norm: num_groups={num_groups} must divide the {c} channels (input {x.shape})"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise ValueError(f"group_norm: {name} of shape {t.shape} doesn't match {c} channels")
    if (weight is None) != (bias is None):
        weight = weight if weight is not None else Tensor._make(np.ones(c, x.dtype))
        bias = bias if bias is not None else Tensor._make(np.zeros(c, x.dtype))
    return GroupNorm.apply(x, weight, bias, num_groups, eps)
