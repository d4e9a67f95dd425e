"""What every data set module shares: the cache directory, optional imports, ``DatasetInfo``."""

from __future__ import annotations

import importlib
import importlib.util
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from axon.serialization import atomic_write


def cache_dir(name: str | None = None) -> Path:
    """Where downloaded and generated data live: ``$AXON_DATA_DIR``, else ``~/.cache/axon``.

    ``cache_dir("mnist")`` is that directory's ``mnist/`` folder (not created here).
    """
    root = os.environ.get("AXON_DATA_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "axon"
    )
    return Path(root) / name if name else Path(root)


def require(module: str, dataset: str, package: str, install: str = "pip install axon[data]"):
    """Import an optional dependency, or fail with the pip command that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f"{dataset}: needs {package}; install with `{install}`") from e


def is_installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def save_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    """Write arrays to an ``.npz`` file atomically (readers never see half a file)."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub reads **kw as allow_pickle
    atomic_write(path, buffer.getvalue())


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read an ``.npz`` file written by ``save_npz`` (never unpickles objects)."""
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def bytes_on_disk(*paths: Path) -> int | None:
    """Total size of the files that exist among ``paths``; None if none does."""
    sizes = [p.stat().st_size for p in paths if p.is_file()]
    return sum(sizes) if sizes else None


@dataclass
class DatasetInfo:
    """One line of ``axon.data.datasets.available()``.

    ``offline`` is True when the data set can be loaded now without a
    network: its files are cached, or it is bundled with an installed package,
    or it is generated.
    """

    name: str
    offline: bool
    n_examples: int | None  # None: generated at any size
    shapes: dict[str, tuple] = field(default_factory=dict)
    bytes_on_disk: int | None = None
    source: str = ""
    note: str = ""
