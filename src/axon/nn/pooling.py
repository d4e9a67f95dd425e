"""Pooling layers: ``MaxPool1d/2d``, ``AvgPool1d/2d``, ``AdaptiveAvgPool1d/2d``.

Stateless wrappers around ``axon.ops.pool`` with PyTorch's arguments; they
check the input rank and name themselves in errors.
"""

from __future__ import annotations

from contextlib import contextmanager

from axon.nn.module import Module
from axon.ops import adaptive_pool, pool


class _Pool(Module):
    dims = 2

    @contextmanager
    def _named_errors(self):
        """Re-raise the functional's ValueError (bad geometry) under this layer's name."""
        try:
            yield
        except ValueError as e:
            detail = str(e).split(": ", 1)[-1]
            raise ValueError(f"{type(self).__name__}({self.extra_repr()}): {detail}") from None

    def _check_input(self, x) -> None:
        n = self.dims
        if x.ndim not in (n + 1, n + 2):
            layout = "(N, C, L)" if n == 1 else "(N, C, H, W)"
            raise ValueError(
                f"{type(self).__name__}({self.extra_repr()}): expected a {n + 2}-D {layout} input "
                f"(or {n + 1}-D unbatched), got shape {x.shape}"
            )


class MaxPool2d(_Pool):
    r"""2-D max pooling: each output is the largest value in its window.

    y[n, c, oh, ow] = max_{i < kh, j < kw} x[n, c, oh*s + i*d - p, ow*s + j*d - p]

    Args:
        kernel_size: int or (kh, kw).
        stride: default ``kernel_size`` (non-overlapping windows).
        padding: implicit -inf border, at most half the kernel (default 0).
        dilation: spacing between window elements (default 1).
        return_indices: also return the int64 index h*W + w of each maximum
            (for ``max_unpool``-style uses).
        ceil_mode: round the output size up instead of down.

    Shape:
        (N, C, H, W) -> (N, C, OH, OW), OH = floor((H + 2p - d*(kh-1) - 1) / s) + 1.

    The gradient goes to the first maximum of each window (PyTorch's choice).

    Example::

        >>> nn.MaxPool2d(2)(axon.randn(8, 16, 32, 32)).shape
        (8, 16, 16, 16)
    """

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        dilation=1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ):
        super().__init__()
        self.kernel_size, self.stride, self.padding = (
            kernel_size,
            stride if stride is not None else kernel_size,
            padding,
        )
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, x):
        self._check_input(x)
        with self._named_errors():
            fn = pool.max_pool2d if self.dims == 2 else pool.max_pool1d
            k, s, p, d = self.kernel_size, self.stride, self.padding, self.dilation
            return fn(x, k, s, p, d, self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(MaxPool2d):
    """1-D max pooling over (N, C, L): as ``MaxPool2d`` along one axis.

    Shape: (N, C, L) -> (N, C, OL), OL = floor((L + 2p - d*(k-1) - 1) / s) + 1.

    Example::

        >>> nn.MaxPool1d(3, stride=2)(axon.randn(4, 8, 50)).shape
        (4, 8, 24)
    """

    dims = 1


class AvgPool2d(_Pool):
    r"""2-D average pooling: each output is the mean of its window.

    y[n, c, oh, ow] = sum_{window} x / divisor

    Args:
        kernel_size: int or (kh, kw). stride: default ``kernel_size``.
        padding: implicit zero border, at most half the kernel (default 0).
        ceil_mode: round the output size up instead of down.
        count_include_pad: the divisor counts padding cells (default True, as PyTorch).
        divisor_override: divide every window sum by this number instead.

    Shape:
        (N, C, H, W) -> (N, C, OH, OW), OH = floor((H + 2p - kh) / s) + 1.

    Example::

        >>> nn.AvgPool2d(2)(axon.randn(8, 16, 32, 32)).shape
        (8, 16, 16, 16)
    """

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override=None,
    ):
        super().__init__()
        self.kernel_size, self.stride, self.padding = (
            kernel_size,
            stride if stride is not None else kernel_size,
            padding,
        )
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, x):
        self._check_input(x)
        with self._named_errors():
            k, s, p = self.kernel_size, self.stride, self.padding
            if self.dims == 1:
                return pool.avg_pool1d(x, k, s, p, self.ceil_mode, self.count_include_pad)
            return pool.avg_pool2d(
                x, k, s, p, self.ceil_mode, self.count_include_pad, self.divisor_override
            )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(AvgPool2d):
    """1-D average pooling over (N, C, L): as ``AvgPool2d`` along one axis.

    Shape: (N, C, L) -> (N, C, OL), OL = floor((L + 2p - k) / s) + 1.

    Example::

        >>> nn.AvgPool1d(2)(axon.randn(4, 8, 50)).shape
        (4, 8, 25)
    """

    dims = 1

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ):
        def single(v):  # PyTorch keeps 1-tuples here (and shows them in the repr)
            return (v,) if isinstance(v, int) else tuple(v)

        stride = kernel_size if stride is None else stride
        super().__init__(
            single(kernel_size), single(stride), single(padding), ceil_mode, count_include_pad
        )


class AdaptiveAvgPool2d(_Pool):
    """Average pooling to a fixed output size, whatever the input size.

    Output cell (i, j) averages input rows floor(i*H/OH) .. ceil((i+1)*H/OH)-1
    and the matching columns (PyTorch's rule; windows may overlap when H is
    not a multiple of OH). ``AdaptiveAvgPool2d(1)`` is global average pooling.

    Args:
        output_size: int or (OH, OW); None in a pair keeps that input size.

    Shape: (N, C, H, W) -> (N, C, OH, OW).

    Example::

        >>> nn.AdaptiveAvgPool2d((1, 1))(axon.randn(8, 512, 7, 7)).shape
        (8, 512, 1, 1)
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        self._check_input(x)
        with self._named_errors():
            if self.dims == 1:
                return adaptive_pool.adaptive_avg_pool1d(x, self.output_size)
            return adaptive_pool.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """Average pooling of (N, C, L) to a fixed length ``output_size`` (see ``AdaptiveAvgPool2d``).

    Example::

        >>> nn.AdaptiveAvgPool1d(5)(axon.randn(4, 8, 23)).shape
        (4, 8, 5)
    """

    dims = 1
