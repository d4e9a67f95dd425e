"""Per-sample normalization layers: ``LayerNorm`` and ``RMSNorm``.

(Batch and group norm, which mix samples or channel groups, live in
``nn.batchnorm``.) Both normalize over the trailing ``normalized_shape``
dims with the fused ops of ``axon.ops.norm``.
"""

from __future__ import annotations

import numpy as np

from axon.nn import init
from axon.nn.module import Module
from axon.nn.parameter import Parameter
from axon.ops.norm import layer_norm, rms_norm


def _as_shape(normalized_shape) -> tuple:
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def _check_input(layer: Module, x) -> None:
    shape = layer.normalized_shape
    if x.ndim < len(shape) or tuple(x.shape[x.ndim - len(shape) :]) != shape:
        raise ValueError(
            f"{type(layer).__name__}({shape}): expected input of shape (*, "
            f"{', '.join(map(str, shape))}), got {x.shape}"
        )


class LayerNorm(Module):
    r"""Normalizes each sample over its last dims, then scales and shifts.

        y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias

    Mean and (biased) variance are taken over the trailing ``normalized_shape``
    dims of each sample, so unlike batch norm it behaves the same in train and
    eval mode and keeps no running statistics.

    Args:
        normalized_shape: size of the last dim, or a tuple of the last dims' sizes.
        eps: added to the variance for numerical stability (default 1e-5).
        elementwise_affine: learn ``weight`` (ones) and ``bias`` (zeros) of that shape.
        bias: learn the bias too (only with ``elementwise_affine``).

    Shape: input (*, *normalized_shape) -> same.

    Example::

        >>> ln = nn.LayerNorm(512)
        >>> ln(axon.randn(8, 16, 512)).shape
        (8, 16, 512)
    """

    def __init__(
        self,
        normalized_shape,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype=np.float32,
    ):
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.empty(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(np.empty(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x):
        _check_input(self, x)
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )


class RMSNorm(Module):
    r"""Scales each sample by the root mean square of its last dims (no centering, no bias).

        y = x / sqrt(mean(x^2) + eps) * weight

    Cheaper than LayerNorm and used by LLaMA-style transformers.

    Args:
        normalized_shape: size of the last dim, or a tuple of the last dims' sizes.
        eps: added to mean(x^2); None (default) uses the machine epsilon of the input's dtype.
        elementwise_affine: learn ``weight`` (ones) of that shape.

    Shape: input (*, *normalized_shape) -> same.

    Example::

        >>> nn.RMSNorm(64)(axon.randn(2, 64)).shape
        (2, 64)
    """

    def __init__(
        self,
        normalized_shape,
        eps: float | None = None,
        elementwise_affine: bool = True,
        dtype=np.float32,
    ):
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.empty(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, x):
        _check_input(self, x)
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )
