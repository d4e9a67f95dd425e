r"""Convolution as one matrix product: conv1d, conv2d, conv_transpose2d.

For input x (N, C, H, W), weight W (OC, C/G, KH, KW) and G groups,

    y[n, o, oh, ow] = b[o] + sum_{c in group(o), i, j} W[o, c, i, j] *
                      xp[n, c, oh*sh + i*dh, ow*sw + j*dw]

where xp is x zero-padded. With the receptive fields laid out as columns
(``im2col``: (N, G, C/G*KH*KW, OH*OW)) this is one batched GEMM,
``W (G, OC/G, C/G*KH*KW) @ cols``, whose result is already NCHW. Three
Functions close the whole family under differentiation:

    Convolution     y  = conv(x, W)                    (forward)
    ConvTranspose   gx = conv^T(g, W)                  dL/dx, and conv_transpose2d
    ConvWeightGrad  gW = sum_n g[n] @ cols(x)[n]^T     dL/dW

Each one's backward is written with the other two, e.g. the gradient of
conv^T(g, W) with respect to g is conv(gg, W). So second derivatives
(``create_graph=True``) work through convolutions, at full speed.

conv^T multiplies by W^T to get gradient columns, then ``col2im`` adds
them back to pixels (a loop over the KH*KW kernel offsets only; for stride
1 over long contiguous runs, see ``col2im_flat``). The weight gradient
reuses the columns the forward pass built (up to ``CACHE_COLS_BYTES``; larger
ones are rebuilt in backward rather than held: they are KH*KW times the input).
For stride 1 (unless g has many more channels than x), conv^T is computed as
a convolution of g with the flipped, transposed kernel instead (im2col of g
and one GEMM: no col2im adds).

All three split the batch across ``axon.parallel`` threads, each image's
im2col and GEMM in one thread with single-threaded BLAS (many small
per-image GEMMs are slower on OpenBLAS's own threads). The weight gradient
sums per-chunk partial products over a fixed chunking of the batch, so it is
the same for any number of threads.
"""

from __future__ import annotations

import numpy as np

from axon.autograd.function import Function
from axon.ops.elementwise import as_tensor
from axon.ops.im2col import (
    ConvGeom,
    col2im,
    col2im_flat,
    conv_geometry,
    conv_out_hw,
    im2col,
    pad_nchw,
    pair,
)
from axon.ops.movement import reshape
from axon.parallel import parallel_for

#: Keep the forward pass's im2col columns for the weight gradient when they are
#: at most this large; bigger ones are rebuilt in backward (costs one copy,
#: ~10% of a conv step, but saves KH*KW times the input's memory per layer).
CACHE_COLS_BYTES = 32 << 20


class Convolution(Function):
    """y = conv(x, W) + b: one batched GEMM ``[W | b] @ cols`` (the bias rides along as a row of ones)."""

    def forward(self, x, weight, bias, geom):
        self.geom, self.has_bias = geom, bias is not None
        wants_cols = self.needs_input_grad[1] or (self.has_bias and self.needs_input_grad[2])
        oh, ow = conv_out_hw(x.shape[2:], weight.shape[2:], geom)
        cols_bytes = (
            x.shape[0] * (weight[0].size + self.has_bias) * geom.groups * oh * ow * x.itemsize
        )
        keep = (
            wants_cols
            and cols_bytes <= CACHE_COLS_BYTES
            and not _is_view_im2col(weight, bias, geom)
        )
        out, cols = conv_forward(x, weight, bias, geom, keep)
        if keep:
            self.cols = cols  # the weight-gradient GEMM needs exactly these columns
        self.save_for_backward(x, weight)
        return out

    def backward(self, grad):
        x, weight = self.saved_tensors
        gx = gw = gb = None
        if self.needs_input_grad[0]:
            gx = ConvTranspose.apply(grad, weight, None, self.geom, x.shape[2:])
        if self.needs_input_grad[1] or (self.has_bias and self.needs_input_grad[2]):
            gw = ConvWeightGrad.apply(
                x, grad, self.geom, weight.shape[2:], self.has_bias, getattr(self, "cols", None)
            )
            if self.has_bias:
                gw, gb = gw
        return gx, gw if self.needs_input_grad[1] else None, gb


class ConvTranspose(Function):
    """x-space result of W^T applied to g: the input gradient of ``Convolution``.

    ``g`` (N, OC, OH, OW) and ``weight`` (OC, C/G, KH, KW) give (N, C, *out_hw):
    gradient columns ``W^T @ g`` (one batched GEMM), summed back to pixels by
    col2im, cropped by the padding. Also ``conv_transpose2d``'s forward.
    """

    def forward(self, g, weight, bias, geom, out_hw):
        self.geom, self.has_bias = geom, bias is not None
        self.save_for_backward(g, weight)
        return conv_transpose_forward(g, weight, bias, geom, out_hw)

    def backward(self, grad):
        g, weight = self.saved_tensors
        gg = gw = gb = None
        if self.needs_input_grad[0]:
            gg = _crop_to(Convolution.apply(grad, weight, None, self.geom), g.shape)
        if self.needs_input_grad[1]:
            gw = ConvWeightGrad.apply(grad, g, self.geom, weight.shape[2:], False, None)
        if self.has_bias and self.needs_input_grad[2]:
            gb = grad.sum((0, 2, 3))
        return gg, gw, gb


class ConvWeightGrad(Function):
    """dL/dW = sum_n g[n] @ cols(x)[n]^T (and dL/db = sum of g, from the bias row of ones).

    A batched GEMM, then a sum over the batch axis of the small (G, OC/G, K/G)
    products. Returns ``gw``, or ``(gw, gb)`` when ``with_bias``.
    """

    def forward(self, x, g, geom, kernel_hw, with_bias, cols):
        self.geom = geom
        self.save_for_backward(x, g)
        return conv_weight_grad(x, g, geom, kernel_hw, with_bias, cols)

    def backward(self, ggw, ggb=None):
        x, g = self.saved_tensors
        gx = gg = None
        if self.needs_input_grad[0]:
            gx = ConvTranspose.apply(g, ggw, None, self.geom, x.shape[2:])
        if self.needs_input_grad[1]:  # d<ggb, sum(g)>/dg = ggb at every pixel: a conv bias
            gg = _crop_to(Convolution.apply(x, ggw, ggb, self.geom), g.shape)
        return gx, gg


# ------------------------------------------------------------ array kernels
def _grain(per_image: int) -> int:
    """Images per piece of threaded work: enough that one piece moves ~256 KB."""
    return max(1, (1 << 16) // max(per_image, 1))


def _is_view_im2col(weight, bias, geom) -> bool:
    """1x1 kernel, stride 1, no padding, no bias: the columns are the input itself."""
    kh, kw = weight.shape[2:]
    return (
        kh == kw == 1
        and bias is None
        and geom.stride == (1, 1)
        and geom.padding == ((0, 0), (0, 0))
    )


def conv_forward(x, weight, bias, geom, keep_cols=False):
    """(y, cols): y = conv(x, W) + b, and the im2col columns if ``keep_cols`` (else None).

    Images are split across threads; each piece pads its images, builds their
    columns and runs its GEMM ``[W | b] (G, OC/G, K/G [+1]) @ cols``.
    """
    n = x.shape[0]
    oc, cg, kh, kw = weight.shape
    g = geom.groups
    oh, ow = conv_out_hw(x.shape[2:], (kh, kw), geom)
    wmat = weight.reshape(g, oc // g, cg * kh * kw)
    if bias is not None:
        wmat = np.concatenate([wmat, bias.reshape(g, oc // g, 1)], axis=2)
    out = np.empty((n, oc, oh, ow), dtype=x.dtype)
    out4 = out.reshape(n, g, oc // g, oh * ow)  # (N, G, OC/G, OH*OW) is NCHW already
    cols_all = np.empty((n, g, wmat.shape[2], oh * ow), x.dtype) if keep_cols else None

    def piece(lo: int, hi: int) -> None:
        xp = pad_nchw(x[lo:hi], geom.padding)
        cols = im2col(
            xp,
            (kh, kw),
            geom.stride,
            geom.dilation,
            (oh, ow),
            g,
            bias is not None,
            out=None if cols_all is None else cols_all[lo:hi],
        )  # (n, G, C/G*KH*KW [+1], OH*OW)
        _matmul(wmat, cols, out=out4[lo:hi])

    parallel_for(n, piece, grain=_grain(wmat.shape[2] * g * oh * ow))
    return out, cols_all


def conv_transpose_forward(g, weight, bias, geom, out_hw):
    """conv^T(g, W) + b: (N, OC, OH, OW) and weight (OC, C/G, KH, KW) -> (N, C, *out_hw)."""
    n, oc, oh, ow = g.shape
    _, cg, kh, kw = weight.shape
    groups = geom.groups
    c = cg * groups
    (pt, pb), (pl, pr) = geom.padding
    (dh, dw) = geom.dilation
    # Stride 1: conv^T(g, W) = conv(g, W'), W' = W flipped in space with in/out channels
    # swapped per group, g padded by (KH-1)*dh - pt on top (etc.). Its im2col has OC*KH*KW
    # rows over the x grid; col2im's columns have C*KH*KW rows over the g grid and are
    # then read back by KH*KW adds: take the smaller.
    if geom.stride == (1, 1) and oc * out_hw[0] * out_hw[1] <= 2 * c * oh * ow:
        top, left = (kh - 1) * dh - pt, (kw - 1) * dw - pl
        bottom = out_hw[0] - oh + (kh - 1) * dh - top
        right = out_hw[1] - ow + (kw - 1) * dw - left
        if min(top, left, bottom, right) >= 0:
            w_t = weight[:, :, ::-1, ::-1].reshape(groups, oc // groups, cg, kh, kw)
            w_t = np.ascontiguousarray(w_t.transpose(0, 2, 1, 3, 4)).reshape(
                c, oc // groups, kh, kw
            )
            geom_t = ConvGeom((1, 1), ((top, bottom), (left, right)), geom.dilation, groups)
            out, _ = conv_forward(g, w_t, bias, geom_t)
            return out
    hp, wp = out_hw[0] + pt + pb, out_hw[1] + pl + pr
    wt = weight.reshape(groups, oc // groups, cg * kh * kw).transpose(0, 2, 1)  # (G, K/G, OC/G)
    out = np.empty((n, c) + tuple(out_hw), dtype=g.dtype)
    g4 = g.reshape(n, groups, oc // groups, oh * ow)

    if geom.stride == (1, 1):
        # Lay g on the padded width: kernel offset (i, j) then adds one contiguous run per
        # image and channel (col2im_flat), not OH runs of OW.
        def piece(lo: int, hi: int) -> None:
            g_wide = np.zeros((hi - lo, oc, oh, wp), dtype=g.dtype)
            g_wide[..., :ow] = g[lo:hi]
            cols = _matmul(wt, g_wide.reshape(hi - lo, groups, oc // groups, oh * wp))
            img = col2im_flat(cols.reshape(hi - lo, c, kh, kw, oh * wp), (hp, wp), geom.dilation)
            out[lo:hi] = img[:, :, pt : pt + out_hw[0], pl : pl + out_hw[1]]
    else:

        def piece(lo: int, hi: int) -> None:
            cols = _matmul(wt, g4[lo:hi])  # (n, G, K/G, OH*OW)
            img = col2im(
                cols.reshape(hi - lo, c, kh, kw, oh, ow), (hp, wp), geom.stride, geom.dilation
            )
            out[lo:hi] = img[:, :, pt : pt + out_hw[0], pl : pl + out_hw[1]]

    parallel_for(n, piece, grain=_grain(cg * groups * kh * kw * oh * ow))
    if bias is not None:
        out += bias.reshape(c, 1, 1)
    return out


def conv_weight_grad(x, g, geom, kernel_hw, with_bias, cols=None):
    """dL/dW = sum_n g[n] @ cols(x)[n]^T (and dL/db = sum g, from the bias row of ones).

    The batch is cut into a fixed number of chunks (independent of the thread
    count); threads compute each chunk's summed product, and the chunks are
    added in order: the same result with any number of threads. ``cols``: the
    forward pass's columns, or None to rebuild them chunk by chunk.
    Returns ``gw``, or ``(gw, gb)`` when ``with_bias``.
    """
    n, oc, oh, ow = g.shape
    groups = geom.groups
    cg = x.shape[1] // groups
    kh, kw = kernel_hw
    kg = cg * kh * kw
    g4 = g.reshape(n, groups, oc // groups, oh * ow)
    per_image = groups * (kg + with_bias) * oh * ow
    chunk = max(1, min(n, (1 << 18) // max(per_image, 1)))  # ~1 MB of columns per chunk
    n_chunks = -(-n // chunk)
    partial = np.empty((n_chunks, groups, oc // groups, kg + with_bias), dtype=g.dtype)

    def piece(lo: int, hi: int) -> None:
        for i in range(lo, hi):
            a, b = i * chunk, min((i + 1) * chunk, n)
            if cols is not None:
                c = cols[a:b]
            else:
                xp = pad_nchw(x[a:b], geom.padding)
                c = im2col(xp, kernel_hw, geom.stride, geom.dilation, (oh, ow), groups, with_bias)
            np.matmul(g4[a:b], c.transpose(0, 1, 3, 2)).sum(
                0, out=partial[i]
            )  # (G, OC/G, K/G [+1])

    parallel_for(n_chunks, piece)
    gwb = partial.sum(0) if n_chunks > 1 else partial[0]
    gw = gwb[:, :, :kg].reshape(oc, cg, kh, kw)
    return (gw, gwb[:, :, kg].reshape(oc)) if with_bias else gw


def _matmul(a, b, out=None):
    """``a @ b``; a contraction over one element (depthwise: one output channel
    per group) is a broadcast product, ~3x faster than thousands of tiny GEMMs."""
    if a.shape[-1] == 1:
        return np.multiply(a, b, out=out)
    return np.matmul(a, b, out=out)


def _crop_to(t, shape):
    """Drop the extra rows/cols a conv sees when output_padding >= stride (dilated transposes)."""
    return t if t.shape == tuple(shape) else t[:, :, : shape[2], : shape[3]]


# ------------------------------------------------------------------ checking
def _check(op, x, weight, bias, groups, transposed, dims):
    """Validate ranks, channels, groups and bias; return whether x was unbatched."""
    if weight.ndim != dims + 2:
        raise ValueError(f"{op}: weight must have {dims + 2} dims, got shape {weight.shape}")
    if x.ndim not in (dims + 1, dims + 2):
        raise ValueError(
            f"{op}: expected a {dims + 2}-D (batched) or {dims + 1}-D (unbatched) input, "
            f"got shape {x.shape}"
        )
    if groups < 1:
        raise ValueError(f"{op}: groups must be positive, got {groups}")
    c = x.shape[-dims - 1]
    if transposed:
        expect, n_out = weight.shape[0], weight.shape[1] * groups
        layout = "(in_channels, out_channels/groups, *kernel)"
    else:
        expect, n_out = weight.shape[1] * groups, weight.shape[0]
        layout = "(out_channels, in_channels/groups, *kernel)"
    if c != expect:
        raise ValueError(
            f"{op}: input of shape {x.shape} has {c} channels, but weight of shape "
            f"{weight.shape} {layout} with groups={groups} expects {expect}"
        )
    if weight.shape[0] % groups:
        raise ValueError(
            f"{op}: groups={groups} doesn't divide weight dim 0 of shape {weight.shape}"
        )
    if weight.dtype != x.dtype or (bias is not None and bias.dtype != x.dtype):
        raise TypeError(
            f"{op}: input ({x.dtype}), weight ({weight.dtype}) and bias "
            f"({None if bias is None else bias.dtype}) must have the same dtype"
        )
    if bias is not None and bias.shape != (n_out,):
        raise ValueError(f"{op}: bias of shape {bias.shape} doesn't match {n_out} output channels")
    return x.ndim == dims + 1


# ------------------------------------------------------------- functionals
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """2-D convolution (cross-correlation, as ``torch.nn.functional.conv2d``).

    Args:
        input: (N, C, H, W) or unbatched (C, H, W).
        weight: (OC, C/groups, KH, KW).
        bias: (OC,) or None.
        stride, dilation: int or (h, w).
        padding: int, (h, w), 'valid' (no padding) or 'same' (output size =
            input size; stride 1 only; an odd total pads one more on the
            bottom/right, as PyTorch).
        groups: split channels into this many independent groups
            (groups = C = OC is a depthwise convolution).

    Shape:
        output (N, OC, OH, OW), OH = floor((H + 2*pad - dilation*(KH-1) - 1) / stride) + 1.

    Example::

        >>> x, w = axon.randn(8, 3, 32, 32), axon.randn(16, 3, 3, 3)
        >>> F.conv2d(x, w, padding=1).shape
        (8, 16, 32, 32)
    """
    x = as_tensor(input)
    unbatched = _check("conv2d", x, weight, bias, groups, False, 2)
    if unbatched:
        x = reshape(x, (1,) + x.shape)
    geom = conv_geometry("conv2d", x.shape[2:], weight.shape[2:], stride, padding, dilation, groups)
    out = Convolution.apply(x, weight, bias, geom)
    return reshape(out, out.shape[1:]) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """1-D convolution, as ``torch.nn.functional.conv1d``: conv2d on a height-1 image.

    Shape: input (N, C, L) or (C, L), weight (OC, C/groups, K) -> (N, OC, OL),
    OL = floor((L + 2*pad - dilation*(K-1) - 1) / stride) + 1.
    """
    x = as_tensor(input)
    unbatched = _check("conv1d", x, weight, bias, groups, False, 1)
    if unbatched:
        x = reshape(x, (1,) + x.shape)
    n, c, length = x.shape
    k = weight.shape[2]
    pad = padding if isinstance(padding, str) else (0, pair(padding, "padding", "conv1d")[0])
    geom = conv_geometry(
        "conv1d",
        (1, length),
        (1, k),
        (1, pair(stride, "stride", "conv1d")[0]),
        pad,
        (1, pair(dilation, "dilation", "conv1d")[0]),
        groups,
    )
    w4 = reshape(weight, weight.shape[:2] + (1, k))  # (OC, C/G, 1, K)
    out = Convolution.apply(reshape(x, (n, c, 1, length)), w4, bias, geom)  # (N, OC, 1, OL)
    out = reshape(out, (n, out.shape[1], out.shape[3]))
    return reshape(out, out.shape[1:]) if unbatched else out


def conv_transpose2d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups: int = 1, dilation=1
):
    """Transposed 2-D convolution (the adjoint of conv2d), as ``torch.nn.functional.conv_transpose2d``.

    Each input pixel scatters ``weight``-weighted copies into the output; it is
    exactly the gradient of ``conv2d`` with respect to its input.

    Args:
        input: (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: (C_in, C_out/groups, KH, KW).
        padding: int or (h, w): removed from each side of the full output.
        output_padding: extra rows/cols added at the bottom/right (to pick
            among the output sizes a strided conv maps to the same input size);
            must be smaller than stride or dilation.

    Shape:
        output (N, C_out, H', W'), H' = (H-1)*stride - 2*pad + dilation*(KH-1) + output_padding + 1.

    Example::

        >>> up = F.conv_transpose2d(axon.randn(1, 8, 16, 16), axon.randn(8, 4, 2, 2), stride=2)
        >>> up.shape
        (1, 4, 32, 32)
    """
    op = "conv_transpose2d"
    x = as_tensor(input)
    unbatched = _check(op, x, weight, bias, groups, True, 2)
    if unbatched:
        x = reshape(x, (1,) + x.shape)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a pair, got {padding!r}")
    stride, dilation = pair(stride, "stride", op), pair(dilation, "dilation", op)
    pads, extra = pair(padding, "padding", op), pair(output_padding, "output_padding", op)
    if min(stride) < 1 or min(dilation) < 1 or min(pads) < 0 or min(extra) < 0:
        raise ValueError(f"{op}: stride/dilation must be positive and padding non-negative")
    kernel_hw = weight.shape[2:]
    out_hw = []
    for d in range(2):
        if extra[d] >= max(stride[d], dilation[d]):
            raise ValueError(
                f"{op}: output_padding {extra} must be smaller than stride {stride} or dilation {dilation}"
            )
        size = (
            (x.shape[2 + d] - 1) * stride[d]
            - 2 * pads[d]
            + dilation[d] * (kernel_hw[d] - 1)
            + extra[d]
            + 1
        )
        if size <= 0:
            raise ValueError(
                f"{op}: input of shape {x.shape} gives a non-positive output size {size}"
            )
        out_hw.append(size)
    geom = ConvGeom(stride, ((pads[0], pads[0]), (pads[1], pads[1])), dilation, groups)
    out = ConvTranspose.apply(x, weight, bias, geom, tuple(out_hw))
    return reshape(out, out.shape[1:]) if unbatched else out
