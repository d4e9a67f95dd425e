"""MNIST: 70,000 28x28 grey images of handwritten digits (60,000 train / 10,000 test).

Source: Yann LeCun, Corinna Cortes and Christopher Burges's files, in the IDX
format, fetched from the mirrors PyTorch and TensorFlow use (the original
site now refuses anonymous downloads), checked against the published MD5s.
Files go to ``<cache>/mnist/`` (``$AXON_DATA_DIR`` or ``~/.cache/axon``);
see ``_download`` for how (atomic, resumable, fails fast offline).

IDX format: 2 zero bytes, a type byte (0x08 = uint8 ...), a byte with the
number of dimensions, then each dimension as a big-endian uint32, then the
values, big-endian, C order. Files are gzipped.

Returned here:

- ``x``: float32 in [0, 1] (pixel / 255), shape (N, 1, 28, 28), or (N, 784)
  with ``flatten=True``;
- ``y``: int64 labels 0..9, shape (N,);
- the official split: 60,000 train, 10,000 test.

Example::

    >>> train, test = load_mnist()
    >>> x, y = train.arrays                 # x (60000, 1, 28, 28) float32, y (60000,) int64
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from axon.data.dataset import TensorDataset
from axon.data.datasets._common import DatasetInfo, bytes_on_disk, cache_dir
from axon.data.datasets._download import Resource, fetch

_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
_FILES = {  # name: md5, as published with the data set (and used by torchvision)
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
RESOURCES = tuple(
    Resource(name, tuple(m + name for m in _MIRRORS), md5=md5) for name, md5 in _FILES.items()
)

_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """Parse an IDX file (gzipped if its name ends in .gz) into an array of native byte order."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(
            f"read_idx: {path.name} is not an IDX file (bad magic number {raw[:4].hex()})"
        )
    dtype, ndim = np.dtype(_IDX_TYPES[raw[2]]), raw[3]
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    offset = 4 + 4 * ndim
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - offset != expected:
        raise ValueError(
            f"read_idx: {path.name} has {len(raw) - offset} data bytes; shape {shape} needs {expected}"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=offset).reshape(shape)
    return data.astype(
        dtype.newbyteorder("=")
    )  # native order (a copy: frombuffer's view is read-only)


def load_idx_pair(
    name: str,
    resources: Sequence[Resource],
    root=None,
    download: bool = True,
    flatten: bool = False,
) -> tuple[TensorDataset, TensorDataset]:
    """Shared by MNIST and Fashion-MNIST: four IDX files -> (train, test) TensorDatasets.

    ``resources`` are, in order: train images, train labels, test images, test labels.
    """
    directory = cache_dir(name) if root is None else Path(root)
    paths = fetch(name, resources, directory, download)
    splits = []
    for images_path, labels_path in (paths[0:2], paths[2:4]):
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(
                f"{name}: expected images (N, H, W) and labels (N,), "
                f"got {images.shape} and {labels.shape}"
            )
        x = images.astype(np.float32) / 255.0
        x = x.reshape(len(x), -1) if flatten else x[:, None]  # (N, H*W) or (N, 1, H, W)
        splits.append(TensorDataset(x, labels.astype(np.int64)))
    return splits[0], splits[1]


def load_mnist(
    root=None,
    download: bool = True,
    flatten: bool = False,
    resources: Sequence[Resource] = RESOURCES,
) -> tuple[TensorDataset, TensorDataset]:
    """``(train, test)``: x float32 (N, 1, 28, 28) in [0, 1] (or (N, 784)), y int64; 60,000 / 10,000.

    Args:
        root: folder for the files (default ``cache_dir("mnist")``).
        download: fetch missing files; False raises at once if any is missing.
        flatten: x of shape (N, 784).
        resources: the four files (names, URLs, checksums); override to use a
            local mirror.
    """
    return load_idx_pair("mnist", resources, root, download, flatten)


def info(
    name: str = "mnist", resources: Sequence[Resource] = RESOURCES, source: str = "MNIST"
) -> DatasetInfo:
    files = [cache_dir(name) / r.filename for r in resources]
    present = all(f.is_file() for f in files)
    return DatasetInfo(
        name,
        offline=present,
        n_examples=70_000,
        shapes={"x": (1, 28, 28), "y": ()},
        bytes_on_disk=bytes_on_disk(*files),
        source=f"{source} ({resources[0].urls[0].rsplit('/', 1)[0]})",
        note="cached" if present else "downloaded on first use (~11 MB)",
    )
