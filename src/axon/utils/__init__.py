"""Tools for looking at axon programs from the outside.

``profile`` times every op's forward and backward inside a ``with`` block
(see ``axon.autograd.profiler``); ``record_function`` adds a region of your own.
"""

from __future__ import annotations

from axon.autograd.profiler import OpStats, profile, record_function

__all__ = ["OpStats", "profile", "record_function"]
