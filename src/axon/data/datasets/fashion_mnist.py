"""Fashion-MNIST: 70,000 28x28 grey images of clothing in 10 classes (60,000 / 10,000).

Source: Zalando Research (https://github.com/zalandoresearch/fashion-mnist),
a drop-in replacement for MNIST that is harder to classify: the same IDX
format (see ``mnist.read_idx``), sizes and split. Fetched from Zalando's GitHub
repository (https) or their S3 bucket, checked against the published MD5s, into
``<cache>/fashion_mnist/``.

Classes (``CLASSES[y]``): T-shirt/top, Trouser, Pullover, Dress, Coat,
Sandal, Shirt, Sneaker, Bag, Ankle boot.

Returned here: x float32 in [0, 1], shape (N, 1, 28, 28) (or (N, 784) with
``flatten=True``); y int64 (N,); 60,000 train, 10,000 test.

Example::

    >>> train, test = load_fashion_mnist()
"""

from __future__ import annotations

from collections.abc import Sequence

from axon.data.dataset import TensorDataset
from axon.data.datasets import mnist
from axon.data.datasets._common import DatasetInfo
from axon.data.datasets._download import Resource

CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_MIRRORS = (
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
)
_FILES = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
RESOURCES = tuple(
    Resource(name, tuple(m + name for m in _MIRRORS), md5=md5) for name, md5 in _FILES.items()
)


def load_fashion_mnist(
    root=None,
    download: bool = True,
    flatten: bool = False,
    resources: Sequence[Resource] = RESOURCES,
) -> tuple[TensorDataset, TensorDataset]:
    """``(train, test)`` TensorDatasets, as ``load_mnist`` (same shapes, dtypes and arguments)."""
    return mnist.load_idx_pair("fashion_mnist", resources, root, download, flatten)


def info() -> DatasetInfo:
    return mnist.info("fashion_mnist", RESOURCES, "Fashion-MNIST")
