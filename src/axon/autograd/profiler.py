"""A profiler for axon programs: where does a training step spend its time?

    >>> with axon.profile() as prof:
    ...     loss = model(x).sum()
    ...     loss.backward()
    >>> print(prof.table())          # one row per op type, sorted by total time
    >>> prof.ops["MatMul"].forward_calls

While a ``profile`` block is open, ``Function.apply`` times every op's forward
and the engine times every node's backward, keyed by the op's class name
(``Linear``, ``Convolution``, ...). Work an op's backward does through other
ops (a backward written with Tensor operations) is counted in that backward,
not again as their forwards. ``record_function(name)`` times any other region
(an optimizer step, data loading) as a row of its own.

When no profile is open the cost is one read of a module global per op, and
one per backward pass: nothing else changes.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass

from axon.autograd import function as _function

__all__ = ["OpStats", "profile", "record_function"]


@dataclass
class OpStats:
    """Calls and seconds of one op type, forward and backward."""

    name: str
    forward_calls: int = 0
    forward_time: float = 0.0
    backward_calls: int = 0
    backward_time: float = 0.0

    @property
    def calls(self) -> int:
        return self.forward_calls + self.backward_calls

    @property
    def total_time(self) -> float:
        return self.forward_time + self.backward_time


class profile:  # noqa: N801 - a context manager named like PyTorch's
    """Time and count every op's forward and backward inside a ``with`` block.

    Attributes (filled when the block exits, readable inside it too):
        ops: dict op name -> ``OpStats`` (calls and seconds, forward and backward).
        total_time: wall-clock seconds the block was open.
        op_time: seconds inside ops and recorded regions (the rest is Python
            between ops: model code, the engine's bookkeeping, ...).

    Profiles nest: an inner block records into itself only while it is open.
    """

    def __init__(self) -> None:
        self.ops: dict[str, OpStats] = {}
        self.total_time = 0.0
        self._start = 0.0
        self._outer = None
        self._depth = 0  # > 0 inside a timed backward or region: nested ops are not counted again

    # ------------------------------------------------------------- recording
    def __enter__(self) -> profile:
        self._outer = _function._PROFILER
        _function._PROFILER = self
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.total_time += time.perf_counter() - self._start
        _function._PROFILER = self._outer
        self._outer = None

    def _stats(self, name: str) -> OpStats:
        stats = self.ops.get(name)
        if stats is None:
            stats = self.ops[name] = OpStats(name)
        return stats

    def _add(self, name: str, phase: str, seconds: float) -> None:
        stats = self._stats(name)
        if phase == "backward":
            stats.backward_calls += 1
            stats.backward_time += seconds
        else:
            stats.forward_calls += 1
            stats.forward_time += seconds

    def _forward(self, name: str, seconds: float) -> None:
        """An op's forward, from ``Function.apply``: counted unless inside a timed region."""
        if self._depth == 0:
            self._add(name, "forward", seconds)

    @contextmanager
    def _region(self, name: str, phase: str):
        """Time ``name``; ops inside count toward it, not as rows of their own."""
        start = time.perf_counter()
        outermost = self._depth == 0
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if outermost:
                self._add(name, phase, time.perf_counter() - start)

    # ------------------------------------------------------------- reporting
    @property
    def op_time(self) -> float:
        return sum(s.total_time for s in self.ops.values())

    def table(self, sort_by: str = "total", limit: int | None = None) -> str:
        """The ops as a text table, slowest first (``sort_by``: total, forward, backward, calls)."""
        keys = {
            "total": lambda s: s.total_time,
            "forward": lambda s: s.forward_time,
            "backward": lambda s: s.backward_time,
            "calls": lambda s: s.calls,
        }
        if sort_by not in keys:
            raise ValueError(
                f"profile.table: sort_by must be one of {tuple(keys)}, got {sort_by!r}"
            )
        rows = sorted(self.ops.values(), key=keys[sort_by], reverse=True)[:limit]
        total = self.total_time or self.op_time or 1.0
        width = max([len("op")] + [len(s.name) for s in rows])
        head = (
            f"{'op':<{width}}  {'fwd calls':>9}  {'fwd ms':>9}  {'bwd calls':>9}  "
            f"{'bwd ms':>9}  {'total ms':>9}  {'%':>5}"
        )
        lines = [head, "-" * len(head)]
        for s in rows:
            lines.append(
                f"{s.name:<{width}}  {s.forward_calls:>9}  {1e3 * s.forward_time:>9.2f}  "
                f"{s.backward_calls:>9}  {1e3 * s.backward_time:>9.2f}  "
                f"{1e3 * s.total_time:>9.2f}  {100 * s.total_time / total:>5.1f}"
            )
        other = self.total_time - self.op_time
        lines.append("-" * len(head))
        lines.append(
            f"ops {1e3 * self.op_time:.2f} ms + other Python {1e3 * max(other, 0):.2f} ms "
            f"= total {1e3 * self.total_time:.2f} ms"
        )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<profile: {len(self.ops)} op types, {1e3 * self.total_time:.2f} ms>"


@contextmanager
def record_function(name: str):
    """Time a region of code as its own row (forward column) of the open profile, if any.

    Ops run inside the region count toward it, not as rows of their own.

    Example::

        >>> with axon.profile() as prof:
        ...     with record_function("optimizer.step"):
        ...         opt.step()
    """
    prof = _function._PROFILER
    if prof is None:
        yield
        return
    with prof._region(name, "forward"):
        yield
