"""Dataset, TensorDataset, Subset, random_split."""

from __future__ import annotations

import numpy as np
import pytest

import axon
from axon.data import Subset, TensorDataset, batch_fetcher, random_split
from tests.helpers import HAVE_TORCH, torch


def make(n=10):
    return TensorDataset(np.arange(n * 2, dtype=np.float32).reshape(n, 2), np.arange(n))


def test_tensor_dataset_items_and_batches():
    ds = make()
    assert len(ds) == 10
    x, y = ds[3]
    assert isinstance(x, axon.Tensor) and x.shape == (2,) and x.dtype == np.float32
    assert y.item() == 3 and y.dtype == np.int64
    xb, yb = ds.get_batch(np.array([1, 4, 9]))
    assert xb.shape == (3, 2) and yb.data.tolist() == [1, 4, 9]


def test_tensor_dataset_accepts_tensors_and_keeps_memory():
    x = axon.randn(5, 3)
    ds = TensorDataset(x, np.zeros(5, np.int64))
    assert ds.arrays[0] is x.data
    assert ds.tensors[0].shape == (5, 3)


def test_tensor_dataset_size_mismatch_names_sizes():
    with pytest.raises(ValueError, match=r"\[4, 5\]"):
        TensorDataset(np.zeros((4, 2)), np.zeros(5))
    with pytest.raises(TypeError, match="TensorDataset"):
        TensorDataset([1, 2, 3])


def test_tensor_dataset_transform_sees_a_batch():
    seen = []

    def transform(batch):
        seen.append(batch.shape)
        return batch * 2

    ds = TensorDataset(np.ones((6, 3), np.float32), np.arange(6), transform=transform)
    assert ds[0][0].data.tolist() == [2, 2, 2]
    assert ds.get_batch(np.arange(4))[0].shape == (4, 3)
    assert seen == [(1, 3), (4, 3)]


def test_subset_maps_indices_and_keeps_the_fast_path():
    sub = Subset(make(), [7, 2, 5])
    assert len(sub) == 3 and sub[0][1].item() == 7
    fetch = batch_fetcher(sub)
    assert fetch is not None and fetch(np.array([2, 0]))[1].data.tolist() == [5, 7]
    with pytest.raises(IndexError):
        Subset(make(), [10])


def test_subset_of_a_plain_dataset_has_no_fast_path():
    class Plain:
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return i

    assert batch_fetcher(Subset(Plain(), [0, 1])) is None


@pytest.mark.parametrize(
    ("n", "lengths", "expected"),
    [
        (10, [7, 3], [7, 3]),
        (10, [0.8, 0.2], [8, 2]),
        (11, [0.5, 0.5], [6, 5]),
        (10, [0.33, 0.33, 0.34], [4, 3, 3]),
    ],
)
def test_random_split_lengths(n, lengths, expected):
    parts = random_split(make(n), lengths, generator=0)
    assert [len(p) for p in parts] == expected
    together = np.concatenate([p.indices for p in parts])
    assert sorted(together.tolist()) == list(range(n))  # disjoint and complete
    if HAVE_TORCH:  # same lengths as PyTorch's rule
        ref = torch.utils.data.random_split(range(n), lengths)
        assert [len(p) for p in ref] == expected


def test_random_split_is_seeded():
    a = random_split(make(), [5, 5], generator=3)[0].indices
    b = random_split(make(), [5, 5], generator=3)[0].indices
    assert np.array_equal(a, b)
    axon.manual_seed(1)
    c = random_split(make(), [5, 5])[0].indices
    axon.manual_seed(1)
    assert np.array_equal(c, random_split(make(), [5, 5])[0].indices)


def test_random_split_rejects_bad_lengths():
    with pytest.raises(ValueError, match="sum to 9"):
        random_split(make(), [4, 5])
    with pytest.raises(ValueError, match="non-negative"):
        random_split(make(), [0.5, 0.7])
