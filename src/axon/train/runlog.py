"""The run directory and its ``metrics.jsonl``: one JSON object per line, appended as we go.

Each record has a ``split``: "train" (every ``log_every`` steps), "val" (each
evaluation), "epoch" (each epoch's summary), "lr" (``LRLogger``) or "stop"
(why training stopped early), plus ``step``, ``epoch`` and ``time``.

A line is appended with one ``write()`` of the whole line on an ``O_APPEND``
file: a killed process can't leave half a line, short of a power cut, and
``read_records`` skips a torn last line if one ever appears. On resume the
log is cut back (atomically) to the lines that existed when the checkpoint
was written, so the file reads as one uninterrupted run.

Example::

    >>> for r in read_records("runs/mnist/metrics.jsonl"):
    ...     if r["split"] == "val": print(r["step"], r["accuracy"])
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from axon.serialization import atomic_write


def new_run_dir(root: str | os.PathLike = "runs", name: str | None = None) -> Path:
    """``root/name``; without a name, a timestamp (``2024-05-01_12-30-05``), made unique."""
    root = Path(root)
    if name is not None:
        (root / name).mkdir(parents=True, exist_ok=True)
        return root / name
    base = time.strftime("%Y-%m-%d_%H-%M-%S")
    root.mkdir(parents=True, exist_ok=True)
    for n in range(10_000):
        path = root / (base if n == 0 else f"{base}-{n}")
        try:
            path.mkdir()  # fails if taken, even by a run started at the same second elsewhere
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"new_run_dir: no free name for {base!r} under {str(root)!r}")


def read_records(path: str | os.PathLike) -> list[dict]:
    """Every complete record in a metrics.jsonl (a torn last line is skipped)."""
    path = Path(path)
    if not path.is_file():
        return []
    records = []
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            if i == len(lines) - 1:  # torn by a crash: drop it
                break
            raise ValueError(f"{str(path)!r}: line {i + 1} is not valid JSON") from None
    return records


def _ends_mid_line(path: Path) -> bool:
    if not path.is_file() or path.stat().st_size == 0:
        return False
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) != b"\n"


class RunLog:
    """Records kept in memory (``records``) and, with a path, appended to metrics.jsonl."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else None
        self.records: list[dict] = read_records(self.path) if self.path else []
        if self.path and _ends_mid_line(self.path):  # a line cut short by a crash: drop it
            self.truncate(len(self.records))

    def append(self, record: dict) -> None:
        self.records.append(record)
        if self.path is None:
            return
        line = (json.dumps(record) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def __len__(self) -> int:
        return len(self.records)

    def truncate(self, n: int) -> None:
        """Keep the first ``n`` records (on resume: those written before the checkpoint)."""
        self.records = self.records[:n]
        if self.path is not None:
            atomic_write(self.path, "".join(json.dumps(r) + "\n" for r in self.records))
