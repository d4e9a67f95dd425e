"""Datasets: indexable collections of examples, and ways to split them.

A ``Dataset`` answers ``len(ds)`` and ``ds[i]``. That is all a ``DataLoader``
needs, but fetching a batch of 256 examples one ``__getitem__`` at a time is
256 Python calls. So a dataset may also define ``get_batch(indices)``, which
returns the whole batch at once (``x[indices]``: one NumPy fancy-index per
array). ``TensorDataset`` does; ``Subset`` does whenever the dataset under it
does; the loader uses it whenever it exists (see ``batch_fetcher``).

Example::

    >>> ds = TensorDataset(np.zeros((100, 3), np.float32), np.arange(100))
    >>> train, val = random_split(ds, [0.8, 0.2], generator=0)
    >>> len(train), len(val)
    (80, 20)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np

from axon.data._rng import as_generator, current_generator
from axon.tensor import Tensor


class Dataset:
    """Base class: subclasses define ``__getitem__(i)`` and ``__len__()``.

    Optionally ``get_batch(indices)``: the batch for an int64 index array,
    already collated (a tuple of Tensors, say) — the loader's fast path.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


def _as_array(t) -> np.ndarray:
    if isinstance(t, Tensor):
        return t.data
    if isinstance(t, np.ndarray):
        return t
    raise TypeError(f"TensorDataset: expected axon Tensors or numpy arrays, got {type(t).__name__}")


class TensorDataset(Dataset):
    """Examples are rows of arrays that share their first dimension.

    Args:
        *tensors: axon Tensors or NumPy arrays, each of shape (N, ...). Kept
            as given (no copy, dtypes unchanged), so store images as float32
            and labels as int64 if that is what the model wants.
        transform: optional callable applied to the first array's *batch*
            (e.g. ``transforms.RandomCrop``). It always sees a leading batch
            dimension, also in ``ds[i]``. (PyTorch's TensorDataset has no
            transform; axon's vectorised transforms make it cheap here.)

    Shape:
        ``ds[i]`` -> tuple of Tensors, the i-th row of each array;
        ``ds.get_batch(idx)`` -> tuple of Tensors of shape (len(idx), ...).

    Example::

        >>> ds = TensorDataset(x, y)          # x (N, 1, 8, 8) float32, y (N,) int64
        >>> xb, yb = ds.get_batch(np.array([0, 5, 7]))
    """

    def __init__(self, *tensors, transform: Callable | None = None):
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        arrays = tuple(_as_array(t) for t in tensors)
        if any(a.ndim == 0 for a in arrays):
            raise ValueError("TensorDataset: 0-d tensors have no first dimension to index")
        sizes = [a.shape[0] for a in arrays]
        if len(set(sizes)) != 1:
            raise ValueError(
                f"TensorDataset: all tensors must have the same first dimension, got sizes {sizes}"
            )
        self.arrays = arrays
        self.transform = transform

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        """The arrays as Tensors (sharing memory), as PyTorch's attribute."""
        return tuple(Tensor._make(a) for a in self.arrays)

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)):
            batch = self.get_batch(np.array([index], dtype=np.int64))
            return tuple(Tensor._make(t.data[0]) for t in batch)
        return self.get_batch(index)

    def get_batch(self, indices) -> tuple[Tensor, ...]:
        """All arrays indexed by ``indices`` at once (one fancy-index each)."""
        rows = [a[indices] for a in self.arrays]
        if self.transform is not None:
            rows[0] = self.transform(rows[0])
        return tuple(Tensor._make(r) for r in rows)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{a.shape} {a.dtype}" for a in self.arrays)
        return f"TensorDataset({shapes})"


class Subset(Dataset):
    """The examples of ``dataset`` at ``indices``, in that order.

    Example::

        >>> first_ten = Subset(ds, range(10))
    """

    def __init__(self, dataset, indices: Sequence[int] | np.ndarray):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < -n or self.indices.max() >= n):
            raise IndexError(f"Subset: indices must lie in [0, {n}) for a dataset of length {n}")

    def __len__(self) -> int:
        return self.indices.size

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):  # as PyTorch: map, then ask the dataset once
            return self.dataset[self.indices[index].tolist()]
        return self.dataset[int(self.indices[index])]

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {self.dataset!r})"


def batch_fetcher(dataset) -> Callable[[np.ndarray], object] | None:
    """A function ``indices -> batch`` that fetches a whole batch at once, or None.

    Found for: datasets with ``get_batch``; ``Subset`` of such a dataset
    (indices mapped through); a bare NumPy array or Tensor used as a dataset.
    """
    if isinstance(dataset, Subset):
        inner = batch_fetcher(dataset.dataset)
        if inner is None:
            return None
        indices = dataset.indices
        return lambda idx: inner(indices[idx])
    if isinstance(dataset, np.ndarray):
        return lambda idx: Tensor._make(dataset[idx])
    if isinstance(dataset, Tensor):
        return lambda idx: Tensor._make(dataset.data[idx])
    get_batch = getattr(dataset, "get_batch", None)
    return get_batch if callable(get_batch) else None


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    """Lengths from counts, or from fractions that sum to 1 (PyTorch's rule)."""
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1 and all(0 <= f <= 1 for f in lengths):
        counts = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(counts)):  # hand the remainder out round-robin
            counts[i % len(counts)] += 1
        return counts
    if any(int(c) != c or c < 0 for c in lengths):
        raise ValueError(
            f"random_split: lengths must be non-negative counts or fractions summing to 1, got {lengths}"
        )
    counts = [int(c) for c in lengths]
    if sum(counts) != n:
        raise ValueError(
            f"random_split: lengths {counts} sum to {sum(counts)}, but the dataset has {n} examples"
        )
    return counts


def random_split(
    dataset, lengths: Sequence[float], generator: np.random.Generator | int | None = None
) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping ``Subset``\\ s.

    Args:
        lengths: counts summing to ``len(dataset)``, or fractions summing to
            1 (``[0.8, 0.2]``; floors, then the remainder goes round-robin to
            the first splits, as PyTorch).
        generator: a seed or numpy Generator for a split that does not depend
            on anything else; None draws from axon's generator.

    Example::

        >>> train, val = random_split(ds, [0.9, 0.1], generator=42)
    """
    counts = _split_lengths(len(dataset), lengths)
    rng = as_generator(generator) or current_generator()
    perm = rng.permutation(len(dataset))
    bounds = np.cumsum([0, *counts])
    return [Subset(dataset, perm[a:b]) for a, b in itertools.pairwise(bounds)]
