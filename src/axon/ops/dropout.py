"""Dropout: zero random elements (or whole channels) while training.

    y = x * m / (1 - p),    m ~ Bernoulli(1 - p), drawn once per forward

Scaling the kept values by 1 / (1 - p) keeps E[y] = x, so evaluation can use
x unchanged. The mask is drawn from axon's seeded generator (same seed, same
mask) and kept as a bool array: 1 byte per element instead of 4.

The op is linear in x, so its backward is the very same masked scaling of the
gradient (``MaskScale`` again): derivatives of any order come for free.
"""

from __future__ import annotations

import numpy as np

from axon.autograd.function import Function
from axon.ops.elementwise import as_tensor
from axon.random import get_generator


class MaskScale(Function):
    """y = x * mask * scale, for a fixed bool ``mask`` (broadcast to x) and number ``scale``.

    dL/dx = g * mask * scale: the same op applied to the gradient.
    """

    def forward(self, x, mask, scale):
        self.mask, self.scale = mask, scale
        y = np.multiply(x, mask)  # bool mask: multiplies in x's dtype, no float64
        y *= x.dtype.type(scale)
        return y

    def backward(self, grad):
        return MaskScale.apply(grad, self.mask, self.scale), None, None


def _check_p(op: str, p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability must be between 0 and 1, got p={p}")


def _dropout_with_mask_shape(x, p: float, mask_shape: tuple):
    """Draw a keep-mask of ``mask_shape`` (broadcastable to x) and apply it."""
    if p == 1.0:  # everything dropped (1 / (1 - p) would be inf)
        return MaskScale.apply(x, np.zeros(mask_shape, dtype=bool), 0.0)
    # float32 uniforms: half the random bits (and time) of float64 ones.
    keep = get_generator().random(mask_shape, dtype=np.float32) >= np.float32(p)
    return MaskScale.apply(x, keep, 1.0 / (1.0 - p))


def dropout(x, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p).

    Identity when ``training`` is False or ``p == 0``. ``inplace`` is accepted
    for PyTorch compatibility and ignored (axon's in-place ops are out of place
    inside a graph anyway).

    Example::

        >>> y = F.dropout(x, p=0.1, training=model.training)
    """
    _check_p("dropout", p)
    x = as_tensor(x)
    if not training or p == 0.0:
        return x
    return _dropout_with_mask_shape(x, p, x.shape)


def dropout2d(x, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels: each (sample, channel) map is kept or dropped together.

    Shape: (N, C, H, W); the mask has shape (N, C, 1, 1). Any input with at
    least 2 dims is read as (N, C, ...): a 3-D input is (N, C, L), as PyTorch
    reads it (with a warning there).
    """
    _check_p("dropout2d", p)
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"dropout2d: expected an (N, C, H, W) input, got shape {x.shape}")
    if not training or p == 0.0:
        return x
    return _dropout_with_mask_shape(x, p, x.shape[:2] + (1,) * (x.ndim - 2))
