"""Ops that move or select elements without arithmetic.

reshape/view, flatten, transpose/permute, squeeze/unsqueeze, expand,
indexing (``x[...]`` and ``x[...] = v``), index_select, cat, stack,
split/chunk, pad, tril/triu, masked_fill, one_hot. Views share their input's
version counter, so an in-place write through a view is seen by autograd.
"""

from __future__ import annotations

import numpy as np

from axon.autograd.function import Function
from axon.ops.elementwise import as_tensor, sum_to_shape, where
from axon.tensor import Tensor


def _shape_arg(shape) -> tuple:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _dim(op: str, dim: int, ndim: int) -> int:
    if not -ndim <= dim < ndim:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dims")
    return dim % ndim


# ------------------------------------------------------------------ reshaping
class Reshape(Function):
    is_view = True

    def forward(self, x, shape):
        self.in_shape = x.shape
        return x.reshape(shape)

    def backward(self, grad):
        return reshape(grad, self.in_shape), None


class Permute(Function):
    is_view = True

    def forward(self, x, axes):
        self.inverse = tuple(np.argsort(axes))
        return np.transpose(x, axes)

    def backward(self, grad):
        return Permute.apply(grad, self.inverse), None


class Expand(Function):
    """Broadcast to a larger shape without copying; backward sums back."""

    is_view = True

    def forward(self, x, shape):
        self.in_shape = x.shape
        return np.broadcast_to(x, shape)

    def backward(self, grad):
        return sum_to_shape(grad, self.in_shape), None


def reshape(x, *shape):
    """The same elements in a new shape (one dim may be -1)."""
    x = as_tensor(x)
    shape = _shape_arg(shape)
    known = int(np.prod([s for s in shape if s != -1]))
    if shape.count(-1) > 1 or (
        x.data.size != known if -1 not in shape else (known == 0 or x.data.size % known)
    ):
        raise ValueError(
            f"reshape: cannot view a tensor of shape {x.shape} ({x.data.size} elements) as {shape}"
        )
    if shape == x.shape:
        return x
    return Reshape.apply(x, shape)


def flatten(x, start_dim: int = 0, end_dim: int = -1):
    """Merge dims ``start_dim..end_dim`` into one."""
    x = as_tensor(x)
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = _dim("flatten", start_dim, x.ndim), _dim("flatten", end_dim, x.ndim)
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    return reshape(x, x.shape[:s] + (-1,) + x.shape[e + 1 :])


def unflatten(x, dim: int, sizes):
    """Split dim ``dim`` into ``sizes``."""
    d = _dim("unflatten", dim, x.ndim)
    return reshape(x, x.shape[:d] + tuple(sizes) + x.shape[d + 1 :])


def permute(x, *dims):
    dims = _shape_arg(dims)
    if sorted(d % max(x.ndim, 1) for d in dims) != list(range(x.ndim)):
        raise ValueError(f"permute: {dims} is not a permutation of the dims of shape {x.shape}")
    return Permute.apply(x, tuple(d % x.ndim for d in dims))


def transpose(x, dim0: int, dim1: int):
    """Swap two dims."""
    axes = list(range(x.ndim))
    d0, d1 = _dim("transpose", dim0, x.ndim), _dim("transpose", dim1, x.ndim)
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return Permute.apply(x, tuple(axes))


def squeeze(x, dim=None):
    """Remove size-1 dims (all of them, or only ``dim``, an int or tuple)."""
    if dim is None:
        dims = {i for i, s in enumerate(x.shape) if s == 1}
    else:
        dims = {_dim("squeeze", d, x.ndim) for d in ((dim,) if isinstance(dim, int) else dim)}
        dims = {d for d in dims if x.shape[d] == 1}
    return reshape(x, tuple(s for i, s in enumerate(x.shape) if i not in dims))


def unsqueeze(x, dim: int):
    """Insert a size-1 dim at ``dim``."""
    d = _dim("unsqueeze", dim, x.ndim + 1)
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def expand(x, *shape):
    """Broadcast to ``shape`` (-1 keeps a dim's size; new dims are added in front)."""
    x = as_tensor(x)
    shape = _shape_arg(shape)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: target {shape} has fewer dims than the tensor's shape {x.shape}")
    if -1 in shape[:lead]:
        raise ValueError(
            f"expand: -1 can't size a new leading dim (target {shape}, shape {x.shape})"
        )
    full = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    for i, s in enumerate(x.shape):
        if s != 1 and s != full[lead + i]:
            raise ValueError(f"expand: cannot expand shape {x.shape} to {shape}")
    if full == x.shape:
        return x
    return Expand.apply(x, full)


def broadcast_to(x, shape):
    return expand(x, *shape)


# ------------------------------------------------------------------ indexing
def _index_arg(index):
    """Turn Tensors and lists inside an index into arrays; report if advanced."""
    items = index if isinstance(index, tuple) else (index,)
    out, advanced = [], False
    for item in items:
        if isinstance(item, Tensor):
            item = item.data
        elif isinstance(item, list):
            item = np.asarray(item)
        if isinstance(item, np.ndarray):
            advanced = True
            if item.dtype.kind not in "biu":
                raise IndexError(f"index arrays must be integer or bool, got dtype {item.dtype}")
        out.append(item)
    return tuple(out), advanced


class GetItem(Function):
    def forward(self, x, index, advanced):
        self.index, self.advanced, self.in_shape = index, advanced, x.shape
        self.is_view = not advanced
        return x[index]

    def backward(self, grad):
        return IndexBackward.apply(grad, self.index, self.advanced, self.in_shape), None, None


class IndexBackward(Function):
    """Scatter a gradient into zeros at ``index``; repeated indices add up."""

    def forward(self, grad, index, advanced, shape):
        self.index, self.advanced = index, advanced
        out = np.zeros(shape, dtype=grad.dtype)
        if advanced:
            np.add.at(out, index, grad)
        else:
            out[index] = grad
        return out

    def backward(self, gg):
        return GetItem.apply(gg, self.index, self.advanced), None, None, None


def getitem(x, index):
    """``x[index]`` with ints, slices, None, Ellipsis, integer arrays and bool masks."""
    index, advanced = _index_arg(index)
    try:
        return GetItem.apply(x, index, advanced)
    except IndexError as e:
        raise IndexError(f"indexing a tensor of shape {x.shape}: {e}") from None


class IndexPut(Function):
    """``out = x.copy(); out[index] = value`` (the out-of-place form of ``x[index] = value``)."""

    def forward(self, x, value, index):
        self.index, self.value_shape = index, np.shape(value)
        out = x.copy()
        out[index] = value
        return out

    def backward(self, grad):
        gx = IndexPut.apply(grad, 0, self.index) if self.needs_input_grad[0] else None
        gv = None
        if self.needs_input_grad[1]:
            gv = sum_to_shape(GetItem.apply(grad, self.index, True), self.value_shape)
        return gx, gv, None


def index_put(x, index, value):
    index, _ = _index_arg(index)
    if not isinstance(value, Tensor):
        value = np.asarray(value, dtype=x.dtype)
    try:
        return IndexPut.apply(x, value, index)
    except (IndexError, ValueError) as e:
        raise IndexError(
            f"x[index] = value on a tensor of shape {x.shape} with value of shape "
            f"{np.shape(value)}: {e}"
        ) from None


class IndexSelect(Function):
    """Pick entries ``index`` (1-D ints) along ``dim``; backward adds them back."""

    def forward(self, x, dim, index):
        self.dim, self.index, self.in_shape = dim, index, x.shape
        return np.take(x, index, axis=dim)

    def backward(self, grad):
        return IndexAdd.apply(grad, self.dim, self.index, self.in_shape), None, None


class IndexAdd(Function):
    """Add slices of ``grad`` into zeros at ``index`` along ``dim`` (backward of IndexSelect)."""

    def forward(self, grad, dim, index, shape):
        self.dim, self.index = dim, index
        out = np.zeros(shape, dtype=grad.dtype)
        np.add.at(np.moveaxis(out, dim, 0), index, np.moveaxis(grad, dim, 0))
        return out

    def backward(self, gg):
        return IndexSelect.apply(gg, self.dim, self.index), None, None, None


def index_select(x, dim: int, index):
    index = index.data if isinstance(index, Tensor) else np.asarray(index)
    d = _dim("index_select", dim, x.ndim)
    try:
        return IndexSelect.apply(x, d, index)
    except IndexError as e:
        raise IndexError(f"index_select on a tensor of shape {x.shape}, dim {dim}: {e}") from None


# --------------------------------------------------------- joining, splitting
class Cat(Function):
    def forward(self, *arrays, dim):
        self.dim = dim
        self.bounds = np.cumsum([0] + [a.shape[dim] for a in arrays])
        return np.concatenate(arrays, axis=dim)

    def backward(self, grad):
        pre = (slice(None),) * self.dim
        return tuple(
            grad[pre + (slice(int(lo), int(hi)),)] if need else None
            for lo, hi, need in zip(
                self.bounds[:-1], self.bounds[1:], self.needs_input_grad, strict=True
            )
        )


def cat(tensors, dim: int = 0):
    """Join tensors along an existing dim."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    ndim = tensors[0].ndim
    d = _dim("cat", dim, ndim)
    for t in tensors:
        if (
            t.ndim != ndim
            or t.shape[:d] + t.shape[d + 1 :] != tensors[0].shape[:d] + tensors[0].shape[d + 1 :]
        ):
            raise ValueError(
                f"cat: shapes {[t.shape for t in tensors]} must match except in dim {dim}"
            )
    return Cat.apply(*tensors, dim=d)


def stack(tensors, dim: int = 0):
    """Join tensors along a new dim."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors or any(t.shape != tensors[0].shape for t in tensors):
        raise ValueError(f"stack: expects tensors of equal shape, got {[t.shape for t in tensors]}")
    d = _dim("stack", dim, tensors[0].ndim + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


class Split(Function):
    """Cut along ``dim`` into pieces of the given sizes (several outputs)."""

    is_view = True

    def forward(self, x, sizes, dim):
        self.dim = dim
        return tuple(np.split(x, np.cumsum(sizes)[:-1], axis=dim))

    def backward(self, *grads):
        return cat(grads, self.dim), None, None


def split(x, split_size_or_sections, dim: int = 0):
    """Pieces of ``split_size`` along ``dim`` (last may be smaller), or of the listed sizes."""
    d = _dim("split", dim, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = [step] * (n // step) + ([n % step] if n % step else [])
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(
                f"split: sizes {sizes} don't add up to {n} (dim {dim} of shape {x.shape})"
            )
    return Split.apply(x, sizes, d)


def chunk(x, chunks: int, dim: int = 0):
    """Split into ``chunks`` pieces of size ceil(n / chunks), as ``torch.chunk``."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = x.shape[_dim("chunk", dim, x.ndim)]
    return split(x, max(-(-n // chunks), 1), dim)


# ------------------------------------------------------------------- padding
class PadConstant(Function):
    def forward(self, x, widths, value):
        self.crop = tuple(slice(lo, lo + s) for (lo, _), s in zip(widths, x.shape, strict=True))
        return np.pad(x, widths, mode="constant", constant_values=value)

    def backward(self, grad):
        return grad[self.crop], None, None


def pad(x, pad, mode: str = "constant", value: float = 0.0):
    """Pad the last dims as ``torch.nn.functional.pad``.

    ``pad`` = (left, right) for the last dim, then (left, right) for the one
    before, and so on. Modes: constant, reflect, replicate, circular.
    """
    x = as_tensor(x)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(
            f"pad: {pad} must hold a (left, right) pair per padded dim of shape {x.shape}"
        )
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    if mode == "constant":
        return PadConstant.apply(x, tuple(widths), value)
    np_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}.get(mode)
    if np_mode is None:
        raise ValueError(
            f"pad: unknown mode {mode!r}; use constant, reflect, replicate or circular"
        )
    out = x
    for d, (lo, hi) in enumerate(widths):
        if lo or hi:
            index = np.pad(np.arange(x.shape[d]), (lo, hi), mode=np_mode)
            out = index_select(out, d, index)
    return out


# ------------------------------------------------------------------ masking
class Tril(Function):
    upper = False

    def forward(self, x, k):
        self.k = k
        return np.triu(x, k) if self.upper else np.tril(x, k)

    def backward(self, grad):
        return type(self).apply(grad, self.k), None


class Triu(Tril):
    upper = True


def tril(x, diagonal: int = 0):
    """Keep the lower triangle (on and below ``diagonal``) of the last two dims."""
    return Tril.apply(x, diagonal)


def triu(x, diagonal: int = 0):
    """Keep the upper triangle (on and above ``diagonal``) of the last two dims."""
    return Triu.apply(x, diagonal)


def masked_fill(x, mask, value):
    """``value`` where ``mask`` is True, ``x`` elsewhere (mask broadcasts to x)."""
    mask = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be bool, got dtype {mask.dtype}")
    try:
        np.broadcast_shapes(mask.shape, x.shape)
    except ValueError:
        raise ValueError(
            f"masked_fill: mask of shape {mask.shape} doesn't broadcast to {x.shape}"
        ) from None
    if isinstance(value, Tensor) and not value.requires_grad:
        value = value.item()
    if not isinstance(value, Tensor):
        value = x.dtype.type(value)
    return where(np.broadcast_to(mask, x.shape), value, x)


def one_hot(indices, num_classes: int = -1):
    """int64 one-hot encoding: shape ``indices.shape + (num_classes,)``."""
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: indices must be integers, got dtype {idx.dtype}")
    if num_classes < 0:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise ValueError(
            f"one_hot: indices must lie in [0, {num_classes}), got min {idx.min()} max {idx.max()}"
        )
    return Tensor._make(np.eye(num_classes, dtype=np.int64)[idx])
