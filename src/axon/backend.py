"""The one place that chooses the array module.

Today axon runs on NumPy. Ops never import numpy for array *creation* on a
device-dependent path without asking ``get_array_module`` first, so a CuPy
backend can later be added here without touching the ops.
"""

from __future__ import annotations

import ctypes
import sys

import numpy as np


def get_array_module(*arrays):
    """Return the array module (``numpy``) that owns ``arrays``."""
    return np


def _tune_allocator() -> None:
    """Keep freed large buffers in the heap instead of returning them to the OS.

    glibc serves large allocations with fresh ``mmap`` pages and unmaps them on
    free, so every new activation buffer pays a page fault per 4 KB (about
    3.5 us each on our VMs). Raising the mmap and trim thresholds makes
    freed buffers reusable, which is what a training loop allocating the
    same shapes every step wants. Linux/glibc only; silently skipped elsewhere.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    one_gib = 1 << 30
    libc.mallopt(m_mmap_threshold, ctypes.c_int(one_gib // 2))
    libc.mallopt(m_trim_threshold, ctypes.c_int(one_gib))


_tune_allocator()
