"""Samplers: the order in which a loader visits a dataset.

A sampler yields dataset indices; a ``BatchSampler`` groups them into
batches. axon's samplers also offer ``indices()``, the whole epoch's order
as one int64 array, so batching is array slicing rather than a Python loop
over 60,000 ints.

Random samplers with ``generator=None`` draw from ``current_generator()``:
inside a ``DataLoader`` that is the loader's epoch generator (which is what
makes a resumed epoch replay the same order); elsewhere, axon's generator.

Example::

    >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
    [array([0, 1]), array([2, 3]), array([4])]
"""

from __future__ import annotations

from collections.abc import Iterator, Sized

import numpy as np

from axon.data._rng import as_generator, current_generator


class Sampler:
    """Base class: ``__iter__`` yields indices, ``__len__`` counts them."""

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Sized):
        self.data_source = data_source

    def indices(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of the dataset, drawn afresh every epoch.

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw with replacement (then ``num_samples`` may exceed
            the dataset's length).
        num_samples: how many indices per epoch (default: the dataset's length).
        generator: seed or numpy Generator; None draws from the loader's epoch
            generator inside a DataLoader, axon's generator elsewhere.
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: np.random.Generator | int | None = None,
    ):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = as_generator(generator)
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError(
                f"RandomSampler: num_samples must be a positive int, got {num_samples!r}"
            )

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def indices(self) -> np.ndarray:
        n, rng = len(self.data_source), self.generator or current_generator()
        if self.replacement:
            return rng.integers(0, n, size=self.num_samples, dtype=np.int64)
        # More samples than examples without replacement: whole permutations back to back, as PyTorch.
        repeats = -(-self.num_samples // n) if n else 0
        perms = [rng.permutation(n) for _ in range(repeats)]
        return (
            np.concatenate(perms).astype(np.int64)[: self.num_samples]
            if perms
            else np.zeros(0, np.int64)
        )

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups a sampler's indices into batches of ``batch_size``.

    Yields int64 arrays (PyTorch yields lists; an array indexes NumPy data
    directly). The last batch is smaller unless ``drop_last``.
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool = False):
        if (
            not isinstance(batch_size, (int, np.integer))
            or isinstance(batch_size, bool)
            or batch_size <= 0
        ):
            raise ValueError(f"BatchSampler: batch_size must be a positive int, got {batch_size!r}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[np.ndarray]:
        if hasattr(self.sampler, "indices"):  # the fast way: slice one array
            order = self.sampler.indices()
            stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
            for start in range(0, stop, self.batch_size):
                yield order[start : start + self.batch_size]
            return
        batch: list[int] = []
        for i in self.sampler:  # any other sampler: group as they come
            batch.append(int(i))
            if len(batch) == self.batch_size:
                yield np.array(batch, dtype=np.int64)
                batch = []
        if batch and not self.drop_last:
            yield np.array(batch, dtype=np.int64)

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
