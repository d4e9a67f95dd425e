"""Saving and loading tensors: safetensors on disk, written atomically.

``axon.save(state_dict, path)`` writes a flat mapping of names to tensors in
the safetensors format (never pickle: loading a file can't run code).
Every write goes to a temporary file in the same directory, is flushed to
disk (fsync), then renamed over the target, so a crash mid-save leaves the
previous file intact.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping

import numpy as np
import safetensors.numpy

from axon.tensor import Tensor


def atomic_write(path: str | os.PathLike, data: bytes | str) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    payload = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix="-" + os.path.basename(path))
    try:
        # mkstemp creates the file as 0600; give it the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)


def save(
    state_dict: Mapping, path: str | os.PathLike, metadata: Mapping[str, str] | None = None
) -> None:
    """Save a flat ``{name: tensor or array}`` mapping to ``path`` (safetensors, atomic).

    Example::

        axon.save(model.state_dict(), "model.safetensors")
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"axon.save: expected a mapping of names to tensors, got {type(state_dict).__name__}"
        )
    arrays = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"axon.save: keys must be strings, got {name!r}")
        if isinstance(value, Tensor):
            value = value.data
        if not isinstance(value, np.ndarray):
            raise TypeError(
                f"axon.save: value for {name!r} is a {type(value).__name__}; only tensors and "
                "arrays can be saved (keep other training state in JSON beside the weights)"
            )
        arrays[name] = np.asarray(value, order="C")  # (ascontiguousarray makes 0-d arrays 1-d)
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    atomic_write(path, safetensors.numpy.save(arrays, metadata=meta or None))


def load(path: str | os.PathLike) -> dict[str, Tensor]:
    """Load a safetensors file into ``{name: Tensor}``; clear errors for missing or corrupt files."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"axon.load: no such file: {path!r}")
    with open(path, "rb") as f:
        payload = f.read()
    try:
        arrays = safetensors.numpy.load(payload)
    except Exception as e:  # safetensors raises its own SafetensorError type
        raise ValueError(
            f"axon.load: {path!r} is not a valid safetensors file (truncated or corrupt?): {e}"
        ) from None
    return {name: Tensor._make(array) for name, array in arrays.items()}


def load_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The string metadata stored in a safetensors file's header."""
    with safetensors.safe_open(os.fspath(path), framework="numpy") as f:
        return dict(f.metadata() or {})
