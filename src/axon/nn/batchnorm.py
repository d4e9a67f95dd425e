"""Batch and group normalization layers: ``BatchNorm1d``, ``BatchNorm2d``, ``GroupNorm``.

Parameter and buffer names follow PyTorch (``weight``, ``bias``,
``running_mean``, ``running_var``, ``num_batches_tracked``), so PyTorch
checkpoints load directly. The arithmetic lives in ``axon.ops.batchnorm``.
"""

from __future__ import annotations

import numpy as np

from axon.autograd.grad_mode import no_grad
from axon.nn import init
from axon.nn.module import Module
from axon.nn.parameter import Parameter
from axon.ops.batchnorm import batch_norm, group_norm
from axon.tensor import Tensor


def _affine_parameters(layer: Module, channels: int, affine: bool, bias: bool, dtype) -> None:
    """``weight`` (ones) and ``bias`` (zeros, unless bias=False) when affine, else None (as PyTorch)."""
    layer.register_parameter(
        "weight", Parameter(np.ones(channels, dtype=dtype)) if affine else None
    )
    layer.register_parameter(
        "bias", Parameter(np.zeros(channels, dtype=dtype)) if affine and bias else None
    )


def _reset_affine(layer: Module) -> None:
    if layer.weight is not None:
        init.ones_(layer.weight)
    if layer.bias is not None:
        init.zeros_(layer.bias)


class _BatchNorm(Module):
    ranks: tuple = ()
    layout = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype=np.float32,
        *,
        bias: bool = True,
    ):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _affine_parameters(self, num_features, affine, bias, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            with no_grad():
                self.running_mean.data[...] = 0
                self.running_var.data[...] = 1
                self.num_batches_tracked.data[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        _reset_affine(self)

    def forward(self, x):
        name = f"{type(self).__name__}(num_features={self.num_features})"
        if x.ndim not in self.ranks:
            raise ValueError(f"{name}: expected a {self.layout} input, got shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{name}: input has {x.shape[1]} channels (shape {x.shape})")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            self.num_batches_tracked._vc[0] += 1
            if self.momentum is None:  # cumulative moving average over all batches so far
                factor = 1.0 / int(self.num_batches_tracked.data)
        # Eval mode without running stats normalizes with the batch's own statistics.
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return batch_norm(
            x,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm2d(_BatchNorm):
    r"""Batch normalization over a batch of images, per channel.

    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias

    In training the mean and (biased) variance are taken over (N, H, W) of
    the current batch, and the running estimates move towards them:
    running = (1 - momentum) * running + momentum * batch_stat (the
    *unbiased* variance for running_var; momentum=None: a cumulative average).
    In evaluation the running estimates are used instead.

    Args:
        num_features: channels C.
        eps: added to the variance for stability (default 1e-5).
        momentum: running-stat update factor (default 0.1), or None.
        affine: learn ``weight`` (init 1) and ``bias`` (init 0) (default True).
        bias: keyword-only; False keeps ``weight`` but no ``bias`` (as PyTorch 2.13).
        track_running_stats: keep ``running_mean``, ``running_var`` and
            ``num_batches_tracked`` buffers (default True); without them
            evaluation also uses batch statistics.

    Shape: (N, C, H, W) -> same shape.

    Example::

        >>> bn = nn.BatchNorm2d(16)
        >>> bn(axon.randn(8, 16, 32, 32)).shape
        (8, 16, 32, 32)
    """

    ranks = (4,)
    layout = "4-D (N, C, H, W)"


class BatchNorm1d(_BatchNorm):
    r"""Batch normalization of (N, C) features or (N, C, L) sequences, per channel.

    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, statistics over N
    (and L). Arguments and running statistics as ``BatchNorm2d``.

    Shape: (N, C) or (N, C, L) -> same shape.

    Example::

        >>> nn.BatchNorm1d(100)(axon.randn(20, 100)).shape
        (20, 100)
    """

    ranks = (2, 3)
    layout = "2-D (N, C) or 3-D (N, C, L)"


class GroupNorm(Module):
    r"""Group normalization: normalize each sample over groups of channels.

    The C channels are split into ``num_groups`` groups; each (sample, group)
    is normalized by its own mean and variance over the group's channels and
    all positions, then y = xhat * weight + bias per channel. Unlike batch
    norm it does not depend on the batch, so train and eval behave alike.

    Args:
        num_groups: number of groups; must divide num_channels.
        num_channels: channels C.
        eps: added to the variance (default 1e-5).
        affine: learn per-channel ``weight`` (init 1) and ``bias`` (init 0).
        bias: keyword-only; False keeps ``weight`` but no ``bias``.

    Shape: (N, C, *) -> same shape.

    Example::

        >>> gn = nn.GroupNorm(4, 16)
        >>> gn(axon.randn(8, 16, 10, 10)).shape
        (8, 16, 10, 10)
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        dtype=np.float32,
        *,
        bias: bool = True,
    ):
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_groups={num_groups} must divide num_channels={num_channels}"
            )
        self.num_groups, self.num_channels, self.eps, self.affine = (
            num_groups,
            num_channels,
            eps,
            affine,
        )
        _affine_parameters(self, num_channels, affine, bias, dtype)

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, x):
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(
                f"GroupNorm(num_groups={self.num_groups}, num_channels={self.num_channels}): input has "
                f"{x.shape[1] if x.ndim >= 2 else 'no'} channels (shape {x.shape}); expected (N, "
                f"{self.num_channels}, *)"
            )
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )
