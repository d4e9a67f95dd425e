"""Which random generator data code draws from right now.

Samplers and transforms take ``generator=None`` by default and then call
``current_generator()``. Outside a ``DataLoader`` that is axon's own seeded
generator (``axon.manual_seed``). While a loader builds an epoch or fetches
batch ``b``, it installs a generator seeded from ``(epoch_seed, b)``: every
batch then has its own random stream, so

- a background prefetch thread draws exactly what the main thread would
  (it never touches the global generator the model's dropout also uses), and
- resuming at batch ``b`` needs no replay of batches ``0 .. b-1``.

The setting is per thread (``threading.local``), so the prefetch thread and
the training loop never see each other's generator.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from axon.random import get_generator

_local = threading.local()


def current_generator() -> np.random.Generator:
    """The loader's per-batch generator when inside one, else axon's generator."""
    seed = getattr(_local, "seed", None)
    if seed is None:
        return get_generator()
    gen = getattr(_local, "generator", None)
    if gen is None:  # made on first use: most batches draw nothing
        gen = _local.generator = np.random.default_rng(seed)
    return gen


@contextmanager
def seeded(seed) -> Iterator[None]:
    """Within the block, ``current_generator()`` is ``default_rng(seed)`` (made lazily)."""
    saved = getattr(_local, "seed", None), getattr(_local, "generator", None)
    _local.seed, _local.generator = seed, None
    try:
        yield
    finally:
        _local.seed, _local.generator = saved


def as_generator(generator: np.random.Generator | int | None) -> np.random.Generator | None:
    """Normalise a ``generator=`` argument once, at construction: a seed becomes a Generator.

    None stays None, meaning "draw from ``current_generator()`` at call time".
    """
    if generator is None or isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    raise TypeError(
        f"generator must be None, an int seed or a numpy Generator, got {type(generator).__name__}"
    )
