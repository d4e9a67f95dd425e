"""Data augmentation and preprocessing, vectorised over whole batches.

Every transform takes a batch (leading axis = examples) as a NumPy array or
an axon Tensor and returns the same kind. See ``base`` for how randomness
is seeded. Use them through ``TensorDataset(x, y, transform=...)`` or call
them on a batch yourself.

- any batch: ``Compose``, ``Normalize``, ``GaussianNoise``
- images (N, C, H, W): ``RandomCrop``, ``RandomHorizontalFlip``,
  ``ColorJitter``, ``RandomAffine``, ``RandomRotation``
- 1-D signals (N, L) / (N, C, L): ``RandomShift`` (+ ``GaussianNoise``)
- text: ``RandomTokenMasking`` (ids), ``SynonymReplacement`` (strings), ``SYNONYMS``

Example::

    >>> from axon.data import transforms as T
    >>> aug = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.Normalize(0.5, 0.25)])
"""

from axon.data.transforms.base import Compose, GaussianNoise, Normalize, Transform
from axon.data.transforms.image import (
    ColorJitter,
    RandomAffine,
    RandomCrop,
    RandomHorizontalFlip,
    RandomRotation,
)
from axon.data.transforms.signal import RandomShift
from axon.data.transforms.text import SYNONYMS, RandomTokenMasking, SynonymReplacement

__all__ = [
    "SYNONYMS",
    "ColorJitter",
    "Compose",
    "GaussianNoise",
    "Normalize",
    "RandomAffine",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomRotation",
    "RandomShift",
    "RandomTokenMasking",
    "SynonymReplacement",
    "Transform",
]
