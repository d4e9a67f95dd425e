"""Window geometry, im2col and col2im: the array plumbing under convolution.

A 2-D convolution is one matrix product once every receptive field is laid
out as a column ("im2col"). For an input padded to (N, C, Hp, Wp), kernel
(KH, KW), stride (sh, sw) and dilation (dh, dw), kernel element (i, j) of
output pixel (oh, ow) reads

    xp[n, c, oh*sh + i*dh, ow*sw + j*dw]

so the columns are a strided *view* of xp, shape (N, C, KH, KW, OH, OW),
and one copy makes them contiguous. That layout keeps each column block
(C*KH*KW, OH*OW) ready for ``W (OC, C*KH*KW) @ cols`` and the product lands
directly in NCHW order; copying along the long OW axis is also what NumPy
does fastest.

col2im is the adjoint: it adds every column entry back to the pixel it came
from. It loops over the KH*KW kernel offsets only; each step adds a whole
strided slice. For stride 1 a faster form adds contiguous runs (see
``col2im_flat``).

The geometry helpers parse PyTorch-style arguments (ints or pairs, 'same',
ceil_mode) into output sizes and explicit (top, bottom), (left, right)
paddings, for convolution and pooling alike.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided


def pair(value, name: str, op: str) -> tuple[int, int]:
    """An int or a 2-sequence of ints as a pair (the kernel, stride ... arguments)."""
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value[0], value[0]
    if len(value) != 2:
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value}")
    return value


def out_size(size: int, kernel: int, stride: int, pad_total: int, dilation: int) -> int:
    """Output length along one dim: floor((size + pads - dilation*(kernel-1) - 1) / stride) + 1."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


# ------------------------------------------------------------------ geometry
class ConvGeom(NamedTuple):
    """Where the windows lie: stride, padding ((top, bottom), (left, right)), dilation, groups."""

    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int


def conv_out_hw(in_hw, kernel_hw, geom: ConvGeom) -> tuple:
    """(OH, OW) of a convolution with this geometry."""
    return tuple(
        out_size(in_hw[d], kernel_hw[d], geom.stride[d], sum(geom.padding[d]), geom.dilation[d])
        for d in range(2)
    )


def conv_padding(op, padding, kernel_hw, dilation, stride):
    """((top, bottom), (left, right)) from an int, a pair, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding != "same":
            raise ValueError(
                f"{op}: padding must be an int, a pair, 'valid' or 'same', got {padding!r}"
            )
        if stride != (1, 1):
            raise ValueError(
                f"{op}: padding='same' is not supported for strided convolutions (stride {stride})"
            )
        # Total d*(k-1); the odd extra element goes right/bottom, as PyTorch.
        totals = [dilation[d] * (kernel_hw[d] - 1) for d in range(2)]
        return tuple((t // 2, t - t // 2) for t in totals)
    ph, pw = pair(padding, "padding", op)
    if ph < 0 or pw < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {padding}")
    return (ph, ph), (pw, pw)


def conv_geometry(op, x_hw, kernel_hw, stride, padding, dilation, groups) -> ConvGeom:
    """Parse and check conv arguments (errors name ``op``) into a ``ConvGeom``."""
    stride, dilation = pair(stride, "stride", op), pair(dilation, "dilation", op)
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"{op}: stride and dilation must be positive, got {stride} and {dilation}")
    pads = conv_padding(op, padding, kernel_hw, dilation, stride)
    padded = tuple(x_hw[d] + sum(pads[d]) for d in range(2))
    reach = tuple(dilation[d] * (kernel_hw[d] - 1) + 1 for d in range(2))
    if padded[0] < reach[0] or padded[1] < reach[1]:
        raise ValueError(
            f"{op}: kernel {kernel_hw} with dilation {dilation} spans {reach}, larger than the "
            f"padded input {padded} (input spatial size {tuple(x_hw)}, padding {pads})"
        )
    return ConvGeom(stride, pads, dilation, groups)


def pair_for(op, dims, value, name, h_default):
    """A (h, w) pair; 1-D ops act on width only, with ``h_default`` for the dummy height."""
    if dims == 2:
        return pair(value, name, op)
    if not isinstance(value, (int, np.integer)):
        value = tuple(value)
        if len(value) != 1:
            raise ValueError(f"{op}: {name} must be an int or a 1-tuple, got {value}")
        value = value[0]
    return h_default, int(value)


def pool_geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode, dims):
    """(output size, paddings ((top, bottom), (left, right)), kernel, stride, dilation)."""
    if x.ndim not in (dims + 1, dims + 2):
        raise ValueError(
            f"{op}: expected a {dims + 2}-D (batched) or {dims + 1}-D input, got shape {x.shape}"
        )
    if stride is None or (isinstance(stride, (tuple, list)) and not stride):
        stride = kernel_size  # PyTorch's default
    k = pair_for(op, dims, kernel_size, "kernel_size", 1)
    s = pair_for(op, dims, stride, "stride", 1)
    p = pair_for(op, dims, padding, "padding", 0)
    d = pair_for(op, dims, dilation, "dilation", 1)
    if min(k) < 1 or min(s) < 1 or min(d) < 1:
        raise ValueError(
            f"{op}: kernel_size, stride and dilation must be positive, got {k}, {s}, {d}"
        )
    in_hw = (1, x.shape[-1]) if dims == 1 else x.shape[-2:]
    out, pads = [], []
    for a in range(2):
        span = d[a] * (k[a] - 1) + 1
        if p[a] < 0 or 2 * p[a] > span:
            raise ValueError(
                f"{op}: padding {p[a]} should be at most half of the kernel's span {span}"
            )
        room = in_hw[a] + 2 * p[a] - span
        o = (-(-room // s[a]) if ceil_mode else room // s[a]) + 1
        if ceil_mode and (o - 1) * s[a] >= in_hw[a] + p[a]:
            o -= 1  # the last window must start inside the input or its left padding
        if room < 0 or o < 1:
            raise ValueError(
                f"{op}: kernel {k[2 - dims :]} (dilation {d[2 - dims :]}) doesn't fit the input of "
                f"shape {x.shape} with padding {p[2 - dims :]}"
            )
        out.append(o)
        # ceil_mode windows may reach past the right padding: pad a little more there.
        pads.append((p[a], p[a] + max(0, (o - 1) * s[a] + span - in_hw[a] - 2 * p[a])))
    return tuple(out), tuple(pads), k, s, d


# ------------------------------------------------------------ im2col, col2im
def pad_nchw(x: np.ndarray, pads, value: float = 0.0) -> np.ndarray:
    """Pad the last two dims; ``pads = ((top, bottom), (left, right))``.

    Cheaper than ``np.pad``: the interior is copied once and only the border
    strips are filled (a full fill first would touch every byte twice).
    """
    (pt, pb), (pl, pr) = pads
    if not (pt or pb or pl or pr):
        return x
    n, c, h, w = x.shape
    xp = np.empty((n, c, h + pt + pb, w + pl + pr), dtype=x.dtype)
    xp[:, :, :pt] = value
    xp[:, :, pt + h :] = value
    xp[:, :, pt : pt + h, :pl] = value
    xp[:, :, pt : pt + h, pl + w :] = value
    xp[:, :, pt : pt + h, pl : pl + w] = x
    return xp


def windows(xp: np.ndarray, kernel, stride, dilation, out_hw) -> np.ndarray:
    """The read-only strided view (N, C, KH, KW, OH, OW) of every window of ``xp``."""
    n, c = xp.shape[:2]
    sn, sc, sh_, sw_ = xp.strides
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    return as_strided(
        xp,
        shape=(n, c, kh, kw, oh, ow),
        strides=(sn, sc, sh_ * dh, sw_ * dw, sh_ * sh, sw_ * sw),
        writeable=False,
    )


def im2col(
    xp: np.ndarray,
    kernel,
    stride,
    dilation,
    out_hw,
    groups: int = 1,
    bias_row: bool = False,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Contiguous columns (N, G, C/G*KH*KW [+1], OH*OW) of the padded input ``xp``.

    One copy (none for a 1x1 kernel with stride 1, unless ``out`` is given).
    With ``bias_row`` each group's block gets one extra row of ones, so
    ``[W | b] @ cols`` adds the bias inside the GEMM, and the weight-gradient
    GEMM ``g @ cols^T`` yields the bias gradient (sum of g) as its last
    column: no extra pass for either. ``out``: a C-contiguous array of that
    shape to fill instead of a new one.
    """
    win = windows(xp, kernel, stride, dilation, out_hw)  # (N, C, KH, KW, OH, OW)
    n, c, kh, kw, oh, ow = win.shape
    kg = c // groups * kh * kw
    if not bias_row and out is None:
        return np.ascontiguousarray(win).reshape(n, groups, kg, oh * ow)
    cols = np.empty((n, groups, kg + bias_row, oh * ow), dtype=xp.dtype) if out is None else out
    if bias_row:
        cols[:, :, kg] = 1
    # copy=False: fail loudly rather than fill a temporary copy
    body = np.reshape(cols[:, :, :kg], (n, groups, c // groups, kh, kw, oh, ow), copy=False)
    body[...] = win.reshape(n, groups, c // groups, kh, kw, oh, ow)
    return cols


def col2im(cols: np.ndarray, full_hw, stride, dilation) -> np.ndarray:
    """Sum columns (N, C, KH, KW, OH, OW) back into a padded image (N, C, Hp, Wp).

    The adjoint of ``im2col``: a loop over the KH*KW kernel offsets, each one
    strided add of a whole (N, C, OH, OW) slice.
    """
    n, c, kh, kw, oh, ow = cols.shape
    (sh, sw), (dh, dw) = stride, dilation
    out = np.zeros((n, c) + tuple(full_hw), dtype=cols.dtype)
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
        for j in range(kw):
            out[:, :, rows, j * dw : j * dw + sw * (ow - 1) + 1 : sw] += cols[:, :, i, j]
    return out


def col2im_flat(cols: np.ndarray, full_hw, dilation) -> np.ndarray:
    """``col2im`` for stride 1 with columns computed on a width-``Wp`` grid.

    ``cols`` is (N, C, KH, KW, OH*Wp): output pixel (oh, ow) at flat position
    oh*Wp + ow, where columns ow >= OW hold zeros. With stride 1, kernel
    offset (i, j) then maps the whole run to one *contiguous* run of the
    flattened image starting at i*dh*Wp + j*dw, so each of the KH*KW adds
    works on long contiguous rows instead of OW-long pieces (3-4x faster in
    NumPy). The image gets a tail of dw*(KW-1) spare elements that only ever
    receive those zeros.
    """
    n, c, kh, kw, run = cols.shape
    (hp, wp), (dh, dw) = full_hw, dilation
    if kh == kw == 1 and run == hp * wp:  # 1x1 kernel, no padding: nothing overlaps
        return cols.reshape(n, c, hp, wp)
    flat = np.empty((n, c, hp * wp + dw * (kw - 1)), dtype=cols.dtype)
    flat[:, :, :run] = cols[:, :, 0, 0]  # offset (0, 0) starts the sum: a copy, not zeros + add
    flat[:, :, run:] = 0
    for i in range(kh):
        for j in range(kw):
            if i or j:
                start = i * dh * wp + j * dw
                flat[:, :, start : start + run] += cols[:, :, i, j]
    return flat[:, :, : hp * wp].reshape(n, c, hp, wp)
