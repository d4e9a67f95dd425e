"""``default_collate``: a list of examples -> one batch, as PyTorch's.

Used only on the loader's per-item path (datasets without ``get_batch``).

- Tensors and NumPy arrays are stacked along a new first axis (dtype kept);
- Python floats become float32 (axon's default; PyTorch makes float64),
  ints int64, bools bool; NumPy scalars keep their dtype;
- tuples, lists, namedtuples and dicts are collated field by field, so
  ``[(x0, y0), (x1, y1)]`` becomes ``(X, Y)``;
- strings and bytes are returned as a list.

Example::

    >>> default_collate([{"x": np.ones(2), "y": 0}, {"x": np.zeros(2), "y": 1}])
    {'x': tensor of shape (2, 2), 'y': tensor([0, 1])}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from axon.tensor import Tensor


def default_collate(batch: Sequence):
    """Stack a list of examples into a batch of Tensors (recursing into containers)."""
    if len(batch) == 0:
        raise ValueError("default_collate: got an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return Tensor._make(np.stack([b.data for b in batch]))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OUS":
            raise TypeError(
                f"default_collate: cannot batch arrays of dtype {elem.dtype} (objects or strings)"
            )
        return Tensor._make(np.stack(batch))
    if isinstance(elem, np.generic):
        return Tensor._make(np.array(batch, dtype=elem.dtype))
    if isinstance(elem, bool):
        return Tensor._make(np.array(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return Tensor._make(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor._make(np.array(batch, dtype=np.float32))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple: keep its type
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch, strict=True)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise ValueError(
                f"default_collate: examples have different lengths {sorted({len(b) for b in batch})}"
            )
        fields = [default_collate(list(field)) for field in zip(*batch, strict=True)]
        return tuple(fields) if isinstance(elem, tuple) else fields
    raise TypeError(
        f"default_collate: don't know how to batch {type(elem).__name__}; expected Tensors, arrays, "
        "numbers, strings, or tuples/lists/dicts of them (pass collate_fn= for anything else)"
    )
