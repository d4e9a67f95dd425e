"""``axon.data``: datasets, loaders, transforms and tokenizers.

- ``Dataset``, ``TensorDataset``, ``Subset``, ``random_split``
- ``DataLoader`` (whole-batch indexing, seeded shuffling, prefetch, exact
  resume), ``default_collate``, samplers
- ``current_generator()``: the generator random data code should draw from
  (per batch inside a loader, reproducible with or without prefetch)
- ``transforms``: batch-vectorised augmentation
- ``tokenizers``: ``CharTokenizer``; BPE/WordPiece via HuggingFace ``tokenizers``
- ``datasets``: digits, mnist1d, shakespeare, mnist, fashion_mnist, cifar10,
  synthetic; ``datasets.available()``

Depends only on the layers below it (tensor, random, serialization); never
on nn, optim, train or models.

Example::

    >>> import axon
    >>> from axon.data import DataLoader, datasets
    >>> axon.manual_seed(0)
    >>> train, test = datasets.load_digits()
    >>> for xb, yb in DataLoader(train, batch_size=64, shuffle=True):
    ...     pass                                   # xb (64, 1, 8, 8) float32, yb (64,) int64
"""

from axon.data import datasets, transforms
from axon.data._rng import current_generator
from axon.data.collate import default_collate
from axon.data.dataset import Dataset, Subset, TensorDataset, batch_fetcher, random_split
from axon.data.loader import DataLoader
from axon.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from axon.data.tokenizers import (
    CharTokenizer,
    SubwordTokenizer,
    load_tokenizer,
    train_bpe,
    train_wordpiece,
)

__all__ = [
    "BatchSampler",
    "CharTokenizer",
    "DataLoader",
    "Dataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubwordTokenizer",
    "TensorDataset",
    "batch_fetcher",
    "current_generator",
    "datasets",
    "default_collate",
    "load_tokenizer",
    "random_split",
    "train_bpe",
    "train_wordpiece",
    "transforms",
]
