"""The optimizers' threads: now axon's shared pool, ``axon.parallel`` (kept for old imports)."""

from __future__ import annotations

from axon.parallel import MIN_SLICE, get_num_threads, run_elementwise, set_num_threads

__all__ = ["MIN_SLICE", "get_num_threads", "run_elementwise", "set_num_threads"]
