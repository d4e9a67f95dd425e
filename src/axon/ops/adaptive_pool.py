r"""Adaptive average pooling: a fixed output size, whatever the input size.

Output cell i along a dim of input length H and output length OH averages
inputs floor(i*H/OH) .. ceil((i+1)*H/OH) - 1 (PyTorch's rule; neighbouring
windows overlap when H is not a multiple of OH). Written as averaging
matrices, y = A_h @ x @ A_w^T: two matrix products, differentiated by
autograd. Output 1 is a mean; equal windows are a plain ``avg_pool``.
"""

from __future__ import annotations

import numpy as np

from axon.ops.elementwise import as_tensor
from axon.ops.linalg import matmul
from axon.ops.pool import _avg_pool
from axon.tensor import Tensor


def _averaging_matrix(size: int, out: int, dtype) -> np.ndarray:
    """(out, size): row i averages inputs floor(i*size/out) .. ceil((i+1)*size/out) - 1."""
    i = np.arange(out)
    start, end = (i * size) // out, -((-(i + 1) * size) // out)
    cols = np.arange(size)
    inside = (cols >= start[:, None]) & (cols < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _adaptive_avg_pool(op, dims, x, output_size):
    x = as_tensor(x)
    if x.ndim not in (dims + 1, dims + 2):
        raise ValueError(
            f"{op}: expected a {dims + 2}-D (batched) or {dims + 1}-D input, got shape {x.shape}"
        )
    in_hw = x.shape[-dims:]
    if dims == 1:
        output_size = (
            (output_size,) if isinstance(output_size, (int, np.integer)) else tuple(output_size)
        )
    else:
        output_size = (
            (output_size, output_size)
            if isinstance(output_size, (int, np.integer))
            else tuple(output_size)
        )
    out_hw = tuple(in_hw[a] if o is None else int(o) for a, o in enumerate(output_size))
    if len(out_hw) != dims or min(out_hw) < 1:
        raise ValueError(f"{op}: output_size must be {dims} positive ints, got {output_size}")
    if all(o == 1 for o in out_hw):  # global average pooling
        axes = tuple(range(x.ndim - dims, x.ndim))
        return x.mean(axes, keepdim=True)
    if all(i % o == 0 for i, o in zip(in_hw, out_hw, strict=True)):  # equal windows: plain avg_pool
        kernel = tuple(i // o for i, o in zip(in_hw, out_hw, strict=True))
        return _avg_pool(
            op, dims, x, kernel if dims == 2 else kernel[0], None, 0, False, True, None
        )
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    # General sizes: y = A_h @ x @ A_w^T, windows of unequal length, overlapping where needed.
    y = matmul(x, Tensor._make(_averaging_matrix(in_hw[-1], out_hw[-1], dtype).T))
    if dims == 2:
        y = matmul(Tensor._make(_averaging_matrix(in_hw[0], out_hw[0], dtype)), y)
    return y


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (OH, OW), as ``torch.nn.functional.adaptive_avg_pool2d``.

    Output cell (i, j) averages rows floor(i*H/OH) .. ceil((i+1)*H/OH)-1 and
    likewise for columns. ``output_size`` is an int, a pair, or a pair with
    None (keep that input dim). Output 1 is global average pooling.

    Example::

        >>> F.adaptive_avg_pool2d(axon.randn(8, 512, 7, 7), 1).shape
        (8, 512, 1, 1)
    """
    return _adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of (N, C, L) to length ``output_size``, as ``torch.nn.functional.adaptive_avg_pool1d``."""
    return _adaptive_avg_pool("adaptive_avg_pool1d", 1, input, output_size)
