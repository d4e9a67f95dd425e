"""CIFAR-10: 60,000 32x32 colour images in 10 classes (50,000 train / 10,000 test).

Source: Alex Krizhevsky, Vinod Nair and Geoffrey Hinton
(https://www.cs.toronto.edu/~kriz/cifar.html): one archive,
``cifar-10-python.tar.gz`` (~163 MB, MD5 published there), downloaded into
``<cache>/cifar10/`` (atomic, resumable, fails fast offline: see ``_download``).

Format: the archive holds ``cifar-10-batches-py/data_batch_1..5`` and
``test_batch``, each a Python pickle of a dict with ``b"data"`` (uint8,
(10000, 3072): 1024 red, then 1024 green, then 1024 blue values, rows of 32)
and ``b"labels"`` (a list of ints 0..9).

Why unpickling is acceptable here: (1) it happens only after the archive's
MD5 matched the published one, and (2) it goes through ``_SafeUnpickler``,
which refuses every global except the few NumPy needs to rebuild an array,
so even a tampered file can't run code. Batches are read straight out of the
archive (``tarfile.extractfile``): nothing is extracted to disk, so there
is no path-traversal risk either.

Returned here: x float32 in [0, 1] of shape (N, 3, 32, 32) (~740 MB for all
60,000; ``dtype=np.uint8`` keeps the raw bytes, 4x smaller); y int64 (N,).
Reading the archive takes ~1-2 s.

Example::

    >>> train, test = load_cifar10()
    >>> CLASSES[int(train.arrays[1][0])]
"""

from __future__ import annotations

import codecs
import pickle
import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
from numpy._core import multiarray, numeric  # where pickled arrays name their rebuilders

from axon.data.dataset import TensorDataset
from axon.data.datasets._common import DatasetInfo, bytes_on_disk, cache_dir
from axon.data.datasets._download import Resource, fetch

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
RESOURCES = (
    Resource(
        "cifar-10-python.tar.gz",
        ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
        md5="c58f30108f718f92721af3b95e74349a",
    ),
)
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"


class _SafeUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, bytes, numbers and NumPy arrays — nothing that can run code."""

    _ALLOWED: ClassVar[dict] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("numpy.core.multiarray", "_reconstruct"): multiarray._reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): multiarray._reconstruct,
        # Protocol 5 pickles (newer writers) rebuild arrays with _frombuffer; not in numpy's stubs.
        ("numpy.core.numeric", "_frombuffer"): numeric._frombuffer,  # type: ignore[attr-defined]
        ("numpy._core.numeric", "_frombuffer"): numeric._frombuffer,  # type: ignore[attr-defined]
        ("_codecs", "encode"): codecs.encode,  # how Python 3 pickles bytes at protocol 2
    }

    def find_class(self, module: str, name: str):
        try:
            return self._ALLOWED[module, name]
        except KeyError:
            raise pickle.UnpicklingError(f"cifar10: refusing to unpickle {module}.{name}") from None


def read_cifar_batch(fileobj) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR python batch -> x uint8 (N, 3, 32, 32), y int64 (N,)."""
    d = _SafeUnpickler(fileobj, encoding="bytes").load()  # written by Python 2: str -> bytes
    if not isinstance(d, dict) or b"data" not in d or b"labels" not in d:
        raise ValueError("cifar10: a batch must be a dict with b'data' and b'labels'")
    data = np.asarray(d[b"data"], dtype=np.uint8)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(d[b"labels"]) != len(data):
        raise ValueError(
            f"cifar10: batch data has shape {data.shape}, expected (N, 3072) with N labels"
        )
    return data.reshape(-1, 3, 32, 32), np.asarray(d[b"labels"], dtype=np.int64)


def load_cifar10_arrays(
    root=None, download: bool = True, resources: Sequence[Resource] = RESOURCES
) -> dict[str, np.ndarray]:
    """``{"x", "y", "x_test", "y_test"}``: uint8 images (N, 3, 32, 32), int64 labels."""
    directory = cache_dir("cifar10") if root is None else Path(root)
    (archive,) = fetch(
        "cifar10", resources, directory, download
    )  # checksum verified before any unpickling
    with tarfile.open(archive, "r:gz") as tar:
        members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
        missing = [n for n in (*TRAIN_BATCHES, TEST_BATCH) if n not in members]
        if missing:
            raise ValueError(f"cifar10: {archive.name} lacks {missing}")

        def read(name):
            with tar.extractfile(members[name]) as f:
                return read_cifar_batch(f)

        train = [read(n) for n in TRAIN_BATCHES]
        x_test, y_test = read(TEST_BATCH)
    return {
        "x": np.concatenate([x for x, _ in train]),
        "y": np.concatenate([y for _, y in train]),
        "x_test": x_test,
        "y_test": y_test,
    }


def load_cifar10(
    root=None, download: bool = True, dtype=np.float32, resources: Sequence[Resource] = RESOURCES
) -> tuple[TensorDataset, TensorDataset]:
    """``(train, test)``: x (N, 3, 32, 32) float32 in [0, 1] (or uint8 0..255), y int64; 50,000 / 10,000.

    Args:
        root: folder for the archive (default ``cache_dir("cifar10")``).
        download: fetch the archive if missing; False raises at once instead.
        dtype: ``np.float32`` (pixels / 255) or ``np.uint8`` (raw).
        resources: the archive's name, URLs and checksum; override for a local mirror.
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.uint8):
        raise ValueError(f"cifar10: dtype must be float32 or uint8, got {dtype}")
    a = load_cifar10_arrays(root, download, resources)

    def images(x):
        return x if dtype == np.uint8 else x.astype(np.float32) / np.float32(255)

    return TensorDataset(images(a["x"]), a["y"]), TensorDataset(images(a["x_test"]), a["y_test"])


def info() -> DatasetInfo:
    archive = cache_dir("cifar10") / RESOURCES[0].filename
    return DatasetInfo(
        "cifar10",
        offline=archive.is_file(),
        n_examples=60_000,
        shapes={"x": (3, 32, 32), "y": ()},
        bytes_on_disk=bytes_on_disk(archive),
        source="CIFAR-10 (www.cs.toronto.edu/~kriz)",
        note="cached" if archive.is_file() else "downloaded on first use (~163 MB)",
    )
