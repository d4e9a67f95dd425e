"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose2d``.

Parameter names, shapes and default initialisation follow PyTorch, so a
PyTorch state_dict loads unchanged. The arithmetic lives in
``axon.ops.conv`` (im2col + one GEMM, fused backward).
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np

from axon.nn import init
from axon.nn.module import Module
from axon.nn.parameter import Parameter
from axon.ops.conv import conv1d, conv2d, conv_transpose2d
from axon.ops.movement import pad as pad_op

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _tuple(value, n: int, name: str, layer: str) -> tuple:
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"{layer}: {name} must be an int or {n} ints, got {value}")
    return value


class _ConvNd(Module):
    """Shared bookkeeping of the convolution layers (weights, init, repr, input checks)."""

    dims = 2
    transposed = False

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        padding_mode="zeros",
        output_padding=0,
        dtype=np.float32,
    ):
        super().__init__()
        name, n = type(self).__name__, self.dims
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: groups={groups} must divide in_channels={in_channels} and "
                f"out_channels={out_channels}"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}"
            )
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"{name}: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}"
                )
            if self.transposed:
                raise ValueError(
                    f"{name}: padding={padding!r} is not supported for transposed convolutions"
                )
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _tuple(kernel_size, n, "kernel_size", name)
        self.stride = _tuple(stride, n, "stride", name)
        self.padding = padding if isinstance(padding, str) else _tuple(padding, n, "padding", name)
        self.dilation = _tuple(dilation, n, "dilation", name)
        self.output_padding = _tuple(output_padding, n, "output_padding", name)
        self.padding_mode = padding_mode
        if padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
        if self.transposed:  # (in, out/groups, *k): the layout conv_transpose reads
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:  # (out, in/groups, *k)
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # PyTorch's default: kaiming_uniform_(a=sqrt(5)) gives W ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _check_input(self, x) -> None:
        name, n = type(self).__name__, self.dims
        layout = "(N, C, L)" if n == 1 else "(N, C, H, W)"
        if x.ndim not in (n + 1, n + 2):
            raise ValueError(
                f"{name}(in_channels={self.in_channels}): expected a {n + 2}-D {layout} input "
                f"(or {n + 1}-D unbatched), got shape {x.shape}"
            )
        c = x.shape[-n - 1]
        if c != self.in_channels:
            raise ValueError(
                f"{name}(in_channels={self.in_channels}): input has {c} channels (shape {x.shape})"
            )

    @contextmanager
    def _named_errors(self):
        """Re-raise the functional's ValueError (bad geometry) under this layer's name."""
        try:
            yield
        except ValueError as e:
            detail = str(e).split(": ", 1)[-1]
            raise ValueError(
                f"{type(self).__name__}(in_channels={self.in_channels}): {detail}"
            ) from None

    def _pad_explicitly(self, x):
        """Apply a non-zero padding_mode with F.pad; the conv then pads nothing."""
        if self.padding == "valid":
            return x
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size, strict=True)]
            pairs = [(t // 2, t - t // 2) for t in totals]
        else:
            pairs = [(p, p) for p in self.padding]
        flat = [v for lo_hi in reversed(pairs) for v in lo_hi]  # last dim first, as F.pad
        return pad_op(x, flat, mode=self.padding_mode)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self.dims:
            s += (
                f", padding={self.padding!r}"
                if isinstance(self.padding, str)
                else f", padding={self.padding}"
            )
        if self.dilation != (1,) * self.dims:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode!r}"
        return s


class Conv2d(_ConvNd):
    r"""2-D convolution over an (N, C, H, W) batch.

    out[n, o] = bias[o] + sum_{c in group(o)} weight[o, c] \star x[n, c]
    (\star: 2-D cross-correlation with the given stride, padding, dilation).

    Args:
        in_channels, out_channels: channels of input and output.
        kernel_size: int or (kh, kw).
        stride, dilation: int or pair (default 1).
        padding: int, pair, 'valid' or 'same' (default 0).
        groups: independent channel groups; must divide both channel counts
            (groups = in_channels = out_channels: depthwise).
        bias: learn an additive bias (default True).
        padding_mode: 'zeros' (default), 'reflect', 'replicate' or 'circular'.

    Shape:
        input (N, C_in, H, W) -> output (N, C_out, H_out, W_out) with
        H_out = floor((H + 2*padding - dilation*(kh-1) - 1) / stride) + 1.
        Weight (C_out, C_in/groups, kh, kw), bias (C_out,).

    Weights start as PyTorch's: W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    fan_in = C_in/groups * kh * kw.

    Example::

        >>> conv = nn.Conv2d(3, 16, 3, padding=1)
        >>> conv(axon.randn(8, 3, 32, 32)).shape
        (8, 16, 32, 32)
    """

    dims = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        dtype=np.float32,
    ):
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            dtype=dtype,
        )

    def forward(self, x):
        self._check_input(x)
        padding = self.padding
        if self.padding_mode != "zeros":
            x, padding = self._pad_explicitly(x), 0
        with self._named_errors():
            return conv2d(
                x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
            )


class Conv1d(_ConvNd):
    r"""1-D convolution over an (N, C, L) batch (e.g. a sequence of feature vectors).

    out[n, o] = bias[o] + sum_{c in group(o)} weight[o, c] \star x[n, c].

    Args: as ``Conv2d``, with ints (or 1-tuples) for kernel_size, stride,
    padding and dilation.

    Shape:
        input (N, C_in, L) -> output (N, C_out, L_out),
        L_out = floor((L + 2*padding - dilation*(k-1) - 1) / stride) + 1.
        Weight (C_out, C_in/groups, k), bias (C_out,).

    Example::

        >>> conv = nn.Conv1d(16, 33, 3, stride=2)
        >>> conv(axon.randn(20, 16, 50)).shape
        (20, 33, 24)
    """

    dims = 1

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        dtype=np.float32,
    ):
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            dtype=dtype,
        )

    def forward(self, x):
        self._check_input(x)
        padding = self.padding
        if self.padding_mode != "zeros":
            x, padding = self._pad_explicitly(x), 0
        with self._named_errors():
            return conv1d(
                x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
            )


class ConvTranspose2d(_ConvNd):
    r"""Transposed 2-D convolution (learned upsampling; the gradient of ``Conv2d``).

    Every input pixel adds a ``weight``-scaled kernel into the output at
    stride spacing; ``padding`` then trims each border.

    Args:
        in_channels, out_channels, kernel_size, stride, dilation, groups, bias:
            as ``Conv2d``.
        padding: int or pair: rows/cols removed from each border of the output.
        output_padding: extra rows/cols at the bottom/right; must be smaller
            than stride or dilation.

    Shape:
        input (N, C_in, H, W) -> output (N, C_out, H_out, W_out) with
        H_out = (H-1)*stride - 2*padding + dilation*(kh-1) + output_padding + 1.
        Weight (C_in, C_out/groups, kh, kw), bias (C_out,).
        ``forward(x, output_size=(H_out, W_out))`` picks output_padding for you.

    Example::

        >>> up = nn.ConvTranspose2d(16, 8, 2, stride=2)
        >>> up(axon.randn(4, 16, 8, 8)).shape
        (4, 8, 16, 16)
    """

    dims = 2
    transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups: int = 1,
        bias: bool = True,
        dilation=1,
        padding_mode: str = "zeros",
        dtype=np.float32,
    ):
        if padding_mode != "zeros":
            raise ValueError(
                f"ConvTranspose2d: only padding_mode='zeros' is supported, got {padding_mode!r}"
            )
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            output_padding,
            dtype=dtype,
        )

    def forward(self, x, output_size=None):
        self._check_input(x)
        extra = self.output_padding
        if output_size is not None:
            extra = self._output_padding_for(x, tuple(output_size)[-2:])
        with self._named_errors():
            return conv_transpose2d(
                x,
                self.weight,
                self.bias,
                self.stride,
                self.padding,
                extra,
                self.groups,
                self.dilation,
            )

    def _output_padding_for(self, x, size) -> tuple:
        extra = []
        for d in range(2):
            smallest = (
                (x.shape[-2 + d] - 1) * self.stride[d]
                - 2 * self.padding[d]
                + self.dilation[d] * (self.kernel_size[d] - 1)
                + 1
            )
            if not smallest <= size[d] < smallest + max(self.stride[d], self.dilation[d]):
                raise ValueError(
                    f"ConvTranspose2d: output_size {tuple(size)} can't be reached from input of "
                    f"shape {x.shape}; dim {d} must lie in [{smallest}, "
                    f"{smallest + max(self.stride[d], self.dilation[d]) - 1}]"
                )
            extra.append(size[d] - smallest)
        return tuple(extra)
