"""``DataLoader``: batches from a dataset, shuffled reproducibly, optionally prefetched.

How a batch is made:

- array datasets (``TensorDataset``, a ``Subset`` of one, a bare array or
  anything with ``get_batch``): one ``x[indices]`` per array for the whole
  batch — no Python loop over examples;
- any other dataset: ``dataset[i]`` per example, then ``collate_fn``
  (``default_collate`` stacks them). Passing ``collate_fn`` always takes
  this path, since a collate function expects a list of examples.

Randomness. Each epoch draws one ``epoch_seed`` from axon's generator (so
``axon.manual_seed`` fixes every epoch's order). The epoch's order is made
from it, and batch ``b``'s random transforms draw from a generator seeded
with ``(epoch_seed, b)``. Hence prefetching gives the very same batches, and
a run resumed at batch ``b`` (``state_dict`` / ``load_state_dict``) sees the
same remaining batches as the run that was killed. A custom dataset that
draws random numbers should draw them from ``axon.data.current_generator()``
to share these guarantees (axon's global generator is also used by the
model, from another thread when prefetching).

Example::

    >>> axon.manual_seed(0)
    >>> loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, prefetch=2)
    >>> for xb, yb in loader:        # xb (64, ...) Tensor, yb (64,) Tensor
    ...     ...
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator

import numpy as np

from axon.data._rng import seeded
from axon.data.collate import default_collate
from axon.data.dataset import batch_fetcher
from axon.data.sampler import BatchSampler, RandomSampler, SequentialSampler
from axon.random import get_generator

_PERMUTATION, _BATCH = 0, 1  # SeedSequence spawn-key tags: independent streams per purpose


class DataLoader:
    """Iterate over ``dataset`` in batches of axon Tensors.

    Args:
        dataset: a ``Dataset`` (``__getitem__`` + ``__len__``), optionally with
            ``get_batch``; or a NumPy array / Tensor.
        batch_size: examples per batch.
        shuffle: a new random order every epoch (from axon's generator).
        sampler: yields indices (excludes ``shuffle``).
        batch_sampler: yields whole index batches (excludes ``batch_size``,
            ``shuffle``, ``sampler``, ``drop_last``).
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        collate_fn: list of examples -> batch (default ``default_collate``).
        prefetch: batches a background thread prepares ahead (0: none). A
            worker exception is re-raised in the loop; leaving the loop early
            stops the thread.

    Shape:
        A ``TensorDataset(x, y)`` gives ``(xb, yb)`` with ``xb`` of shape
        ``(batch_size, *x.shape[1:])``, dtypes as stored.

    Attributes:
        epoch: epochs started so far. ``batch_indices`` and ``permutation``
        hold the current epoch's order.
    """

    def __init__(
        self,
        dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        sampler=None,
        batch_sampler=None,
        drop_last: bool = False,
        collate_fn: Callable | None = None,
        prefetch: int = 0,
    ):
        own_batches = batch_sampler is not None
        if own_batches:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler is mutually exclusive with batch_size, shuffle, sampler "
                    "and drop_last"
                )
        else:
            if batch_size is None:
                raise ValueError(
                    "DataLoader: batch_size=None (no batching) is not supported; use batch_size=1"
                )
            if sampler is not None and shuffle:
                raise ValueError("DataLoader: sampler is mutually exclusive with shuffle")
            if sampler is None:
                sampler = RandomSampler(dataset) if shuffle else SequentialSampler(dataset)
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        if not isinstance(prefetch, int) or prefetch < 0:
            raise ValueError(
                f"DataLoader: prefetch must be an int >= 0 (batches ahead), got {prefetch!r}"
            )
        self.dataset = dataset
        self.batch_size = None if own_batches else batch_size
        self.sampler = getattr(batch_sampler, "sampler", sampler)
        self.batch_sampler = batch_sampler
        self.drop_last = drop_last
        self.collate_fn = collate_fn or default_collate
        self.prefetch = prefetch
        self._fetch_batch = batch_fetcher(dataset) if collate_fn is None else None
        self.epoch = 0
        self.batch_indices: list[np.ndarray] = []
        self._epoch_seed: int | None = None
        self._sampler_rng: dict | None = None
        self._position = 0
        self._resume: dict | None = None

    def __len__(self) -> int:
        return len(self.batch_sampler)

    @property
    def permutation(self) -> np.ndarray:
        """The current epoch's example order, all batches concatenated (int64)."""
        return np.concatenate(self.batch_indices) if self.batch_indices else np.zeros(0, np.int64)

    # --------------------------------------------------------------- epochs
    def _own_generator(self):
        """A generator the sampler owns (``RandomSampler(generator=...)``): its state must be saved too."""
        return getattr(self.sampler, "generator", None) or getattr(
            self.batch_sampler, "generator", None
        )

    def _start_epoch(self) -> int:
        """Fix this epoch's seed and index batches; return the batch to start from."""
        own = self._own_generator()
        if self._resume is not None:
            state, self._resume = self._resume, None
            seed, start = state["epoch_seed"], state["position"]
            if own is not None and state.get("sampler_rng") is not None:
                own.bit_generator.state = state["sampler_rng"]
        else:
            seed, start = int(get_generator().integers(2**63)), 0
            self.epoch += 1
        self._epoch_seed = seed
        self._sampler_rng = own.bit_generator.state if own is not None else None
        with seeded(np.random.SeedSequence(seed, spawn_key=(_PERMUTATION,))):
            self.batch_indices = [np.asarray(b, dtype=np.int64) for b in self.batch_sampler]
        self._position = start
        return start

    def _fetch(self, batches: list[np.ndarray], seed: int, b: int):
        """Batch ``b`` of an epoch; its random transforms draw from a ``(seed, b)`` generator."""
        with seeded(np.random.SeedSequence(seed, spawn_key=(_BATCH, b))):
            idx = batches[b]
            if self._fetch_batch is not None:
                return self._fetch_batch(idx)
            return self.collate_fn([self.dataset[i] for i in idx.tolist()])

    def __iter__(self) -> Iterator:
        start = self._start_epoch()
        batches, seed = self.batch_indices, self._epoch_seed
        if self.prefetch:
            return self._prefetching(batches, seed, start)
        return self._plain(batches, seed, start)

    def _plain(self, batches, seed, start):
        for b in range(start, len(batches)):
            batch = self._fetch(batches, seed, b)
            self._position = b + 1
            yield batch

    def _prefetching(self, batches, seed, start):
        q: queue.Queue = queue.Queue(maxsize=self.prefetch)
        stop = threading.Event()

        def put(item) -> None:
            while (
                not stop.is_set()
            ):  # a timeout, so an abandoned loop can't leave us blocked forever
                try:
                    q.put(item, timeout=0.05)
                    return
                except queue.Full:
                    pass

        def work() -> None:
            b = start
            try:
                for b in range(start, len(batches)):
                    if stop.is_set():
                        return
                    put(("batch", self._fetch(batches, seed, b)))
            except BaseException as e:  # every failure goes to the main thread
                e.add_note(f"(raised in the DataLoader prefetch thread, fetching batch {b})")
                put(("error", e))
                return
            put(("done", None))

        thread = threading.Thread(target=work, name="axon-data-prefetch", daemon=True)
        thread.start()
        try:
            position = start
            while True:
                kind, value = q.get()
                if kind == "done":
                    return
                if kind == "error":
                    raise value
                position += 1
                self._position = position
                yield value
        finally:  # finished, failed, or abandoned (generator closed): stop the worker and wait for it
            stop.set()
            thread.join()

    # --------------------------------------------------------------- resume
    def state_dict(self) -> dict:
        """Where the loader is: ``{"epoch", "position", "epoch_seed", "sampler_rng"}`` (JSON-safe).

        ``position`` counts batches already handed to the training loop in
        the current epoch (not those a prefetch thread fetched ahead).
        """
        return {
            "epoch": self.epoch,
            "position": self._position,
            "epoch_seed": self._epoch_seed,
            "sampler_rng": self._sampler_rng,
        }

    def load_state_dict(self, state: dict) -> None:
        """Resume: the next ``iter(loader)`` continues that epoch at batch ``position``.

        If the saved epoch had ended (or none had started), the next
        iteration starts a new epoch as usual. Restore axon's generator
        (``axon.set_rng_state``) alongside, so later epochs draw the same seeds.
        """
        missing = {"epoch", "position", "epoch_seed"} - set(state)
        if missing:
            raise KeyError(f"DataLoader.load_state_dict: state is missing {sorted(missing)}")
        self.epoch = int(state["epoch"])
        unfinished = state["epoch_seed"] is not None and 0 <= state["position"] < len(self)
        self._resume = dict(state) if unfinished else None

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batches={len(self)}, "
            f"prefetch={self.prefetch})"
        )
