"""The one random generator axon owns: init, dropout, shuffling and sampling use it.

``axon.manual_seed(n)`` re-seeds it, so the same seed gives the same run.
"""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Seed axon's generator; returns it (as ``torch.manual_seed`` returns one)."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def get_generator() -> np.random.Generator:
    """The generator axon draws from right now."""
    return _generator


def get_rng_state() -> dict:
    """A JSON-serialisable snapshot of the generator, for exact resume."""
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a snapshot taken by ``get_rng_state``."""
    _generator.bit_generator.state = state
