"""scikit-learn's 8x8 handwritten digits: 1,797 images of 0-9, bundled (no download).

Source: the UCI "Optical Recognition of Handwritten Digits" test set as
shipped inside scikit-learn (``sklearn.datasets.load_digits``, read from the
package's own files, so it works offline). Each image is an 8x8 grid of
counts 0..16 (pixels of a 32x32 bitmap counted in 4x4 blocks).

Returned here:

- ``x``: float32 in [0, 1] (counts / 16), shape (N, 1, 8, 8), or (N, 64)
  with ``flatten=True``;
- ``y``: int64 labels 0..9, shape (N,);
- a train/test split by a fixed seed (default 1,438 / 359), the same on
  every machine and independent of ``axon.manual_seed``.

Needs scikit-learn: ``pip install axon[data]``.

Example::

    >>> train, test = load_digits()
    >>> x, y = train.arrays                 # x (1438, 1, 8, 8) float32, y (1438,) int64
"""

from __future__ import annotations

import numpy as np

from axon.data.dataset import TensorDataset
from axon.data.datasets._common import DatasetInfo, is_installed, require

N_EXAMPLES = 1797


def load_digits_arrays(flatten: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 examples: x float32 (N, 1, 8, 8) or (N, 64) in [0, 1], y int64 (N,)."""
    sk = require("sklearn.datasets", "digits", "scikit-learn")
    bunch = sk.load_digits()
    x = (bunch.data / 16.0).astype(np.float32)  # counts 0..16 -> [0, 1]
    y = bunch.target.astype(np.int64)
    return (x if flatten else x.reshape(-1, 1, 8, 8)), y


def load_digits(
    flatten: bool = False, test_fraction: float = 0.2, seed: int = 0
) -> tuple[TensorDataset, TensorDataset]:
    """``(train, test)`` TensorDatasets of (x, y), split at random with ``seed``.

    Args:
        flatten: x of shape (N, 64) instead of (N, 1, 8, 8).
        test_fraction: share of the 1,797 examples held out (rounded down).
        seed: fixes the split (not axon's generator: a split must not move
            when the training seed changes).
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"digits: test_fraction must be in (0, 1), got {test_fraction}")
    x, y = load_digits_arrays(flatten)
    perm = np.random.default_rng(seed).permutation(len(y))
    n_test = int(len(y) * test_fraction)
    test, train = perm[:n_test], perm[n_test:]
    return TensorDataset(x[train], y[train]), TensorDataset(x[test], y[test])


def info() -> DatasetInfo:
    return DatasetInfo(
        "digits",
        offline=is_installed("sklearn"),
        n_examples=N_EXAMPLES,
        shapes={"x": (1, 8, 8), "y": ()},
        bytes_on_disk=None,
        source="bundled with scikit-learn",
        note="" if is_installed("sklearn") else "pip install axon[data]",
    )
