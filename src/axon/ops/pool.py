r"""Pooling: max and average, in 1-D and 2-D (adaptive average: ``adaptive_pool.py``).

Windows are strided views of the (padded) input, as in convolution
(``axon.ops.im2col.windows``): kernel element (i, j) of output pixel
(oh, ow) is ``xp[n, c, oh*sh + i*dh, ow*sw + j*dw]``. Every loop below runs
over the KH*KW kernel offsets, never over pixels.

    max:  y = max_(i,j) window;  dL/dx routes g to the first position of the
          maximum (the ``indices`` PyTorch returns), by one scatter with
          computed flat indices.
    avg:  y = sum_(i,j) window / divisor;  dL/dx spreads g / divisor back over
          each window (col2im). The divisor counts the window's cells inside
          the padded input (count_include_pad, PyTorch's default) or inside
          the input only.
"""

from __future__ import annotations

import numpy as np

from axon.autograd.function import Function
from axon.ops.elementwise import as_tensor
from axon.ops.im2col import col2im, pad_nchw, pool_geometry, windows
from axon.ops.movement import reshape


def _as_4d(x, dims):
    """(N, C, H, W) view of a 1-D/2-D, batched/unbatched input, and how to undo it."""
    shape = x.shape
    if dims == 1:
        x4 = reshape(x, shape[:-1] + (1, shape[-1]))
    else:
        x4 = x
    if x4.ndim == 3:
        x4 = reshape(x4, (1,) + x4.shape)

    def back(y):
        lead = shape[:-dims]
        return reshape(y, lead + (y.shape[-1],) if dims == 1 else lead + y.shape[-2:])

    return x4, back


# ------------------------------------------------------------------ max
class MaxPool(Function):
    """Max over each window; remembers which kernel offset won (first on ties, as PyTorch)."""

    def forward(self, x, geom, return_indices):
        out_hw, pads, kernel, stride, dil = geom
        lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        xp = pad_nchw(x, pads, lowest)
        win = windows(xp, kernel, stride, dil, out_hw)  # (N, C, KH, KW, OH, OW)
        kh, kw = kernel
        best = win[:, :, 0, 0].copy()
        arg = np.zeros(best.shape, dtype=np.int16)
        for q in range(1, kh * kw):
            v = win[:, :, q // kw, q % kw]
            won = (v > best).view(np.int8)
            np.maximum(best, v, out=best)
            arg += won * (np.int16(q) - arg)  # arg = q where v won: branch-free, unlike np.where
        self.x_shape, self.geom, self.arg = x.shape, geom, arg
        return (best, self.indices()) if return_indices else best

    def indices(self, flat: bool = False) -> np.ndarray:
        """int64 position h*W + w of each maximum in its (unpadded) input plane, as PyTorch.

        ``flat``: index into the whole flattened input instead (adds (n*C + c)*H*W).
        """
        out_hw, pads, (kh, kw), stride, dil = self.geom
        n, c, h, w = self.x_shape
        q = np.arange(kh * kw)
        # kernel offset q -> flat shift in the plane
        shift = (q // kw) * dil[0] * w + (q % kw) * dil[1]
        top = (np.arange(out_hw[0]) * stride[0] - pads[0][0]) * w
        left = np.arange(out_hw[1]) * stride[1] - pads[1][0]
        idx = shift[self.arg]  # (N, C, OH, OW): a table lookup, no integer division per pixel
        idx += top.reshape(-1, 1) + left  # window origins
        if flat:
            idx += (np.arange(n * c) * (h * w)).reshape(n, c, 1, 1)
        return idx

    def backward(self, grad, _indices_grad=None):
        _, _, kernel, stride, dil = self.geom
        overlap = any(stride[a] < dil[a] * (kernel[a] - 1) + 1 for a in range(2))
        return MaxPoolScatter.apply(grad, self.indices(flat=True), self.x_shape, overlap)


class MaxPoolScatter(Function):
    """gx = zeros; gx.flat[idx] += g. Overlapping windows can pick one pixel twice: add.at then."""

    def forward(self, g, idx, shape, overlap):
        self.idx = idx
        gx = np.zeros(shape, dtype=g.dtype)
        flat = gx.reshape(-1)  # a view: gx itself is returned (the engine copies views for leaves)
        if overlap:
            np.add.at(flat, idx.ravel(), g.ravel())
        else:
            flat[idx.ravel()] = g.ravel()
        return gx

    def backward(self, ggx):
        return Gather.apply(ggx, self.idx)


class Gather(Function):
    """y = x.flat[idx] (the adjoint of MaxPoolScatter)."""

    def forward(self, x, idx):
        self.idx, self.x_shape = idx, x.shape
        return x.reshape(-1)[idx]

    def backward(self, grad):
        return MaxPoolScatter.apply(grad, self.idx, self.x_shape, True), None


def _max_pool(op, dims, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x = as_tensor(x)
    geom = pool_geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode, dims)
    x4, back = _as_4d(x, dims)
    out = MaxPool.apply(x4, geom, return_indices)
    if return_indices:
        return back(out[0]), back(out[1])
    return back(out)


def max_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """2-D max pooling, as ``torch.nn.functional.max_pool2d``.

    Args:
        kernel_size: int or (kh, kw). stride: default kernel_size.
        padding: implicit -inf padding on both sides (at most half the kernel).
        dilation: spacing between kernel elements. ceil_mode: round the output size up.
        return_indices: also return int64 indices h*W + w of each maximum.

    Shape: (N, C, H, W) -> (N, C, OH, OW), OH = floor((H + 2p - d*(kh-1) - 1) / s) + 1.

    Example::

        >>> F.max_pool2d(axon.randn(8, 16, 32, 32), 2).shape
        (8, 16, 16, 16)
    """
    return _max_pool(
        "max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def max_pool1d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """1-D max pooling over (N, C, L) or (C, L), as ``torch.nn.functional.max_pool1d``."""
    return _max_pool(
        "max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


# ------------------------------------------------------------------ average
class AvgPool(Function):
    """Window sums (a loop over kernel offsets) times 1/divisor."""

    def forward(self, x, geom, scale):
        out_hw, pads, kernel, stride, _ = geom
        win = windows(pad_nchw(x, pads), kernel, stride, (1, 1), out_hw)
        out = win[:, :, 0, 0].copy()
        for q in range(1, kernel[0] * kernel[1]):
            out += win[:, :, q // kernel[1], q % kernel[1]]
        out *= scale
        self.x_shape, self.geom, self.scale = x.shape, geom, scale
        return out

    def backward(self, grad):
        return AvgPoolBackward.apply(grad, self.geom, self.scale, self.x_shape)


class AvgPoolBackward(Function):
    """gx = col2im of g * scale broadcast over every kernel offset (adjoint of AvgPool)."""

    def forward(self, g, geom, scale, x_shape):
        out_hw, pads, kernel, stride, _ = geom
        gs = g * scale  # (N, C, OH, OW)
        n, c, h, w = x_shape
        (oh, ow), (kh, kw) = out_hw, kernel
        self.geom, self.scale = geom, scale
        if tuple(stride) == tuple(kernel) and pads == ((0, 0), (0, 0)):
            # Windows tile the input: one broadcast copy, rows/cols past the last window stay 0.
            gx = (
                np.zeros(x_shape, dtype=g.dtype)
                if (oh * kh, ow * kw) != (h, w)
                else np.empty(x_shape, g.dtype)
            )
            tiles = np.reshape(gx[:, :, : oh * kh, : ow * kw], (n, c, oh, kh, ow, kw), copy=False)
            for i in range(
                kh
            ):  # one copy per kernel offset: long inner loops, unlike a 6-D broadcast
                for j in range(kw):
                    tiles[:, :, :, i, :, j] = gs
            return gx
        spread = np.broadcast_to(gs[:, :, None, None], (n, c, kh, kw, oh, ow))
        full = (h + sum(pads[0]), w + sum(pads[1]))
        gx = col2im(spread, full, stride, (1, 1))[
            :, :, pads[0][0] : pads[0][0] + h, pads[1][0] : pads[1][0] + w
        ]
        return np.ascontiguousarray(gx)

    def backward(self, ggx):
        return AvgPool.apply(ggx, self.geom, self.scale), None, None, None


def _avg_scale(geom, in_hw, count_include_pad, divisor_override, dtype):
    """1/divisor per output cell, as an (OH, OW) array (or a scalar when all windows are equal)."""
    if divisor_override is not None:
        if divisor_override == 0:
            raise ValueError("avg_pool: divisor_override must be non-zero")
        return dtype.type(1.0 / divisor_override)
    out_hw, pads, kernel, stride, _ = geom
    counts = []
    for a in range(2):
        start = np.arange(out_hw[a]) * stride[a] - pads[a][0]
        end = np.minimum(
            start + kernel[a], in_hw[a] + pads[a][0]
        )  # windows stop at the padded edge
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, in_hw[a])
        counts.append(end - start)
    divisor = np.outer(counts[0], counts[1])
    if np.all(divisor == divisor.flat[0]):
        return dtype.type(1.0 / divisor.flat[0])
    return (1.0 / divisor).astype(dtype)


def _avg_pool(
    op, dims, x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
):
    x = as_tensor(x)
    geom = pool_geometry(op, x, kernel_size, stride, padding, 1, ceil_mode, dims)
    x4, back = _as_4d(x, dims)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    scale = _avg_scale(geom, x4.shape[2:], count_include_pad, divisor_override, dtype)
    return back(AvgPool.apply(x4, geom, scale))


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override=None,
):
    """2-D average pooling, as ``torch.nn.functional.avg_pool2d``.

    Args:
        kernel_size, stride (default kernel_size), padding: int or pair.
        count_include_pad: count the zero padding in the divisor (default True).
        divisor_override: divide every window sum by this instead.

    Shape: (N, C, H, W) -> (N, C, OH, OW), OH = floor((H + 2p - kh) / s) + 1.

    Example::

        >>> F.avg_pool2d(axon.randn(8, 16, 32, 32), 2).shape
        (8, 16, 16, 16)
    """
    return _avg_pool(
        "avg_pool2d",
        2,
        input,
        kernel_size,
        stride,
        padding,
        ceil_mode,
        count_include_pad,
        divisor_override,
    )


def avg_pool1d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
):
    """1-D average pooling over (N, C, L) or (C, L), as ``torch.nn.functional.avg_pool1d``."""
    return _avg_pool(
        "avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None
    )
