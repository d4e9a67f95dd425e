"""DataLoader: batching, shuffling, samplers, collate, prefetch, exact resume."""

from __future__ import annotations

import gc
import json
import threading
from collections import namedtuple

import numpy as np
import pytest

import axon
from axon.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
)
from axon.data.transforms import GaussianNoise


class Counting(TensorDataset):
    """A TensorDataset that counts how it is read."""

    def __init__(self, *arrays, **kw):
        super().__init__(*arrays, **kw)
        self.item_calls = self.batch_calls = 0

    def __getitem__(self, index):
        self.item_calls += 1
        return super().__getitem__(index)

    def get_batch(self, indices):
        self.batch_calls += 1
        return super().get_batch(indices)


class Plain(Dataset):
    """A generic dataset: items only, as dicts."""

    def __init__(self, n=10, fail_at=None):
        self.n, self.fail_at, self.calls = n, fail_at, 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.calls += 1
        if i == self.fail_at:
            raise RuntimeError(f"bad item {i}")
        return {"x": np.full(3, i, np.float32), "y": i}


def data(n=10):
    return np.arange(n * 3, dtype=np.float32).reshape(n, 3), np.arange(n, dtype=np.int64)


def labels(loader):
    return [yb.data.tolist() for _, yb in loader]


def test_array_dataset_is_indexed_a_whole_batch_at_a_time():
    ds = Counting(*data(10))
    batches = list(DataLoader(ds, batch_size=4))
    assert ds.item_calls == 0 and ds.batch_calls == 3
    xb, yb = batches[0]
    assert isinstance(xb, axon.Tensor) and xb.shape == (4, 3) and xb.dtype == np.float32
    assert yb.dtype == np.int64 and yb.data.tolist() == [0, 1, 2, 3]
    assert batches[-1][0].shape == (2, 3)


def test_subset_and_bare_arrays_take_the_fast_path():
    ds = Counting(*data(10))
    assert labels(DataLoader(Subset(ds, [9, 8, 7]), batch_size=2)) == [[9, 8], [7]]
    assert ds.item_calls == 0
    xb = next(iter(DataLoader(np.ones((5, 2), np.float32), batch_size=5)))
    assert isinstance(xb, axon.Tensor) and xb.shape == (5, 2)


def test_generic_dataset_fetches_items_and_collates():
    ds = Plain(5)
    batches = list(DataLoader(ds, batch_size=2))
    assert ds.calls == 5 and len(batches) == 3
    assert batches[0]["x"].shape == (2, 3) and batches[0]["y"].data.tolist() == [0, 1]
    assert batches[0]["x"].dtype == np.float32 and batches[0]["y"].dtype == np.int64


def test_custom_collate_fn_gets_the_list_of_examples():
    ds = Counting(*data(4))
    out = list(DataLoader(ds, batch_size=2, collate_fn=lambda items: len(items)))
    assert out == [2, 2] and ds.item_calls == 4


@pytest.mark.parametrize(
    ("n", "bs", "drop_last", "expected"), [(10, 3, False, 4), (10, 3, True, 3), (9, 3, True, 3)]
)
def test_len_and_drop_last(n, bs, drop_last, expected):
    loader = DataLoader(TensorDataset(*data(n)), batch_size=bs, drop_last=drop_last)
    sizes = [len(yb) for _, yb in loader]
    assert len(loader) == len(sizes) == expected
    assert all(s == bs for s in sizes) if drop_last else sum(sizes) == n


def test_shuffle_is_driven_by_manual_seed():
    ds = TensorDataset(*data(50))
    axon.manual_seed(7)
    loader = DataLoader(ds, batch_size=8, shuffle=True)
    first, second = labels(loader), labels(loader)
    assert first != second  # a new order every epoch
    assert sorted(np.concatenate(first).tolist()) == list(range(50))
    assert np.array_equal(loader.permutation, np.concatenate(second))
    axon.manual_seed(7)
    again = DataLoader(ds, batch_size=8, shuffle=True)
    assert labels(again) == first and labels(again) == second
    assert labels(DataLoader(ds, batch_size=50)) == [list(range(50))]


def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    axon.manual_seed(0)
    r = list(RandomSampler(range(6)))
    assert sorted(r) == list(range(6))
    assert list(RandomSampler(range(6), generator=1)) == list(RandomSampler(range(6), generator=1))
    many = RandomSampler(range(3), num_samples=7)
    assert len(many) == 7 and sorted(list(many)[:3]) == [0, 1, 2]
    repl = list(RandomSampler(range(3), replacement=True, num_samples=20, generator=0))
    assert len(repl) == 20 and set(repl) <= {0, 1, 2}
    batches = list(BatchSampler(SequentialSampler(range(5)), 2, drop_last=False))
    assert [b.tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    # A sampler that is only iterable (no indices()) is grouped as it comes.
    assert [b.tolist() for b in BatchSampler([4, 3, 2, 1, 0], 2, drop_last=True)] == [
        [4, 3],
        [2, 1],
    ]
    assert len(BatchSampler(range(5), 2, drop_last=True)) == 2
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(5), 0)


def test_sampler_and_batch_sampler_arguments():
    ds = TensorDataset(*data(6))
    loader = DataLoader(ds, batch_sampler=[[5, 0], [1, 2, 3]])
    assert labels(loader) == [[5, 0], [1, 2, 3]] and len(loader) == 2
    assert labels(DataLoader(ds, sampler=[3, 2, 1], batch_size=2)) == [[3, 2], [1]]
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, sampler=[0], shuffle=True)


def test_default_collate_nested_structures():
    Pair = namedtuple("Pair", "a b")
    batch = [
        (
            np.ones((2, 2), np.float32),
            1,
            {"f": 0.5, "s": "x", "t": axon.tensor([1.0])},
            Pair(1, [2, 3]),
        ),
        (
            np.zeros((2, 2), np.float32),
            2,
            {"f": 1.5, "s": "y", "t": axon.tensor([2.0])},
            Pair(4, [5, 6]),
        ),
    ]
    x, y, d, p = default_collate(batch)
    assert x.shape == (2, 2, 2) and x.dtype == np.float32
    assert y.dtype == np.int64 and y.data.tolist() == [1, 2]
    assert d["f"].dtype == np.float32 and d["s"] == ["x", "y"] and d["t"].shape == (2, 1)
    assert isinstance(p, Pair) and p.a.data.tolist() == [1, 4]
    assert [t.data.tolist() for t in p.b] == [[2, 5], [3, 6]]
    assert default_collate([np.float64(1), np.float64(2)]).dtype == np.float64
    with pytest.raises(ValueError, match="different lengths"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match="collate_fn"):
        default_collate([object(), object()])


def _values(loader):
    return [tuple(t.data.copy() for t in batch) for batch in loader]


def test_prefetch_gives_identical_batches_including_random_transforms():
    ds = TensorDataset(*data(40), transform=GaussianNoise(1.0))
    axon.manual_seed(3)
    plain = _values(DataLoader(ds, batch_size=6, shuffle=True))
    axon.manual_seed(3)
    fetched = _values(DataLoader(ds, batch_size=6, shuffle=True, prefetch=3))
    assert len(plain) == len(fetched) == 7
    for a, b in zip(plain, fetched, strict=True):
        assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))


@pytest.mark.parametrize("prefetch", [0, 2])
def test_worker_exception_reaches_the_loop_after_earlier_batches(prefetch):
    loader = DataLoader(Plain(10, fail_at=5), batch_size=2, prefetch=prefetch)
    seen = []
    with pytest.raises(RuntimeError, match="bad item 5"):
        for batch in loader:
            seen.append(batch["y"].data.tolist())
    assert seen == [[0, 1], [2, 3]]


def _prefetch_threads():
    return [t for t in threading.enumerate() if t.name == "axon-data-prefetch"]


def test_abandoned_prefetch_iterator_stops_its_thread():
    loader = DataLoader(TensorDataset(*data(100)), batch_size=2, prefetch=2)
    it = iter(loader)
    next(it)
    assert _prefetch_threads()
    del it
    gc.collect()
    assert not _prefetch_threads()
    for _ in loader:  # a loop left by break is cleaned up too
        break
    gc.collect()
    assert not _prefetch_threads()


@pytest.mark.parametrize("prefetch", [0, 2])
def test_resume_mid_epoch_sees_the_same_remaining_batches(prefetch):
    ds = TensorDataset(*data(30), transform=GaussianNoise(1.0))

    def fresh():
        return DataLoader(ds, batch_size=4, shuffle=True, prefetch=prefetch)

    axon.manual_seed(11)
    loader = fresh()
    _values(loader)  # epoch 1
    it = iter(loader)  # epoch 2: stop after 3 batches, "killed" here
    for _ in range(3):
        next(it)
    saved = json.loads(json.dumps({"loader": loader.state_dict(), "rng": axon.get_rng_state()}))
    expected_rest = _values(it)
    expected_next_epoch = _values(loader)

    axon.manual_seed(999)  # the new process starts from anywhere
    resumed = fresh()
    resumed.load_state_dict(saved["loader"])
    axon.set_rng_state(saved["rng"])
    assert resumed.epoch == 2
    rest = _values(resumed)
    assert len(rest) == len(expected_rest) == len(resumed) - 3
    for a, b in zip(rest, expected_rest, strict=True):
        assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    nxt = _values(resumed)
    assert all(
        np.array_equal(a[1], b[1]) and np.array_equal(a[0], b[0])
        for a, b in zip(nxt, expected_next_epoch, strict=True)
    )


def test_resume_with_a_sampler_owning_its_generator():
    ds = TensorDataset(*data(20))
    loader = DataLoader(ds, batch_size=3, sampler=RandomSampler(ds, generator=5))
    it = iter(loader)
    next(it)
    state = loader.state_dict()
    rest = [yb.data.tolist() for _, yb in it]
    other = DataLoader(ds, batch_size=3, sampler=RandomSampler(ds, generator=123))
    other.load_state_dict(state)
    assert labels(other) == rest


def test_state_after_a_finished_epoch_starts_a_new_one():
    loader = DataLoader(TensorDataset(*data(6)), batch_size=2)
    list(loader)
    state = loader.state_dict()
    assert state["position"] == 3 and state["epoch"] == 1
    loader.load_state_dict(state)
    assert len(labels(loader)) == 3 and loader.epoch == 2
    with pytest.raises(KeyError, match="missing"):
        loader.load_state_dict({"epoch": 1})
