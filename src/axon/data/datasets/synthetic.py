"""Small generated data sets: instant, offline, and easy to picture.

Every function returns a ``TensorDataset`` and takes ``seed``: an int gives
the same data on every call; None (default) draws from axon's generator, so
``axon.manual_seed(n)`` fixes it and consecutive calls give fresh samples
(handy for a train set and a test set).

Classification (x float32 (N, 2), y int64 (N,)):
  ``xor``      four noisy clusters at the unit square's corners, label = x0 XOR x1
  ``spirals``  two interleaved spirals (class 1 is class 0 turned by 180 degrees)
  ``moons``    two interleaving half circles (as scikit-learn's make_moons)
Regression (x float32 (N, 1), y float32 (N, 1)):
  ``sine``     y = sin(x) + noise, x uniform on [-pi, pi]
Sequence to sequence (src, tgt int64, padded):
  ``reversal`` a random digit string -> the same digits reversed
  ``addition`` "123+45" -> "168"

Sequence conventions (``SEQ_VOCAB``): PAD = 0, BOS = 1, EOS = 2, digits 0-9
are ids 3-12, "+" is 13. ``src`` is the input tokens then EOS, then PAD;
``tgt`` is BOS, the answer, EOS, then PAD. For teacher forcing feed
``tgt[:, :-1]`` to the decoder and predict ``tgt[:, 1:]``; ignore PAD in the loss.

Example::

    >>> train = spirals(1000, noise=0.1, seed=0)
    >>> src, tgt = addition(4, digits=2, seed=0).arrays
    >>> decode_tokens(src[0]), decode_tokens(tgt[0])   # e.g. ('85+63', '148')
"""

from __future__ import annotations

import numpy as np

from axon.data._rng import as_generator, current_generator
from axon.data.dataset import TensorDataset

PAD, BOS, EOS, PLUS = 0, 1, 2, 13
DIGIT0 = 3  # id of the digit "0"; digit d is DIGIT0 + d
SEQ_VOCAB = ("<pad>", "<bos>", "<eos>", *"0123456789", "+")


def _rng(seed: int | None) -> np.random.Generator:
    return as_generator(seed) or current_generator()


def _classes(x: np.ndarray, y: np.ndarray) -> TensorDataset:
    return TensorDataset(x.astype(np.float32), y.astype(np.int64))


def xor(n: int = 200, noise: float = 0.15, seed: int | None = None) -> TensorDataset:
    """Noisy points around (0,0), (0,1), (1,0), (1,1); y = 1 where exactly one coordinate is 1."""
    rng = _rng(seed)
    corners = rng.integers(0, 2, size=(n, 2))
    x = corners + rng.normal(0, noise, size=(n, 2))
    return _classes(x, corners[:, 0] ^ corners[:, 1])


def spirals(
    n: int = 1000, noise: float = 0.15, turns: float = 1.5, seed: int | None = None
) -> TensorDataset:
    """Two interleaved spirals in roughly [-1, 1]^2; classes alternate (y = i % 2).

    ``noise`` is the standard deviation of Gaussian jitter relative to one
    revolution's spacing; ``turns`` is how many times each arm winds.
    """
    rng = _rng(seed)
    span = 2 * np.pi * turns
    t = (
        np.sqrt(rng.uniform(0, 1, n)) * span
    )  # denser near the centre, as the arms are shorter there
    y = np.arange(n) % 2
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / span
    x = np.where(y[:, None] == 1, -arm, arm) + rng.normal(0, noise * 2 * np.pi / span, size=(n, 2))
    return _classes(x, y)


def moons(n: int = 200, noise: float = 0.1, seed: int | None = None) -> TensorDataset:
    """An upper half circle (y = 0) and a lower one shifted right and down (y = 1)."""
    rng = _rng(seed)
    y = np.arange(n) % 2
    theta = rng.uniform(0, np.pi, n)
    upper = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    lower = np.stack([1 - np.cos(theta), 0.5 - np.sin(theta)], axis=1)
    x = np.where(y[:, None] == 1, lower, upper) + rng.normal(0, noise, size=(n, 2))
    return _classes(x, y)


def sine(n: int = 200, noise: float = 0.1, seed: int | None = None) -> TensorDataset:
    """x uniform on [-pi, pi], y = sin(x) + N(0, noise^2); both float32 (N, 1)."""
    rng = _rng(seed)
    x = rng.uniform(-np.pi, np.pi, size=(n, 1))
    y = np.sin(x) + rng.normal(0, noise, size=(n, 1))
    return TensorDataset(x.astype(np.float32), y.astype(np.float32))


def _digit(x: np.ndarray, n_digits: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Digit ``j`` (0 = most significant) of ``x`` written with ``n_digits`` digits."""
    power = np.clip(n_digits - 1 - j, 0, None)
    return (x // 10**power) % 10


def _n_digits(x: np.ndarray) -> np.ndarray:
    """How many decimal digits each non-negative int has (0 has one); exact integer compares, no log10."""
    return 1 + (x[:, None] >= 10 ** np.arange(1, 19, dtype=np.int64)).sum(axis=1)


def _place(out: np.ndarray, start: np.ndarray, values: np.ndarray, n_digits: np.ndarray) -> None:
    """Write each row's number as digit tokens into ``out[i, start_i : start_i + n_digits_i]``."""
    j = np.arange(out.shape[1]) - start[:, None]  # (N, W): position within the number
    inside = (j >= 0) & (j < n_digits[:, None])
    out[inside] = (DIGIT0 + _digit(values[:, None], n_digits[:, None], j))[inside]


def reversal(
    n: int = 1000, min_len: int = 1, max_len: int = 8, seed: int | None = None
) -> TensorDataset:
    """Random digit strings and their reverses.

    Shape:
        src: (n, max_len + 1) — digits, EOS, PAD...
        tgt: (n, max_len + 2) — BOS, reversed digits, EOS, PAD...
    """
    if not 1 <= min_len <= max_len:
        raise ValueError(f"reversal: need 1 <= min_len <= max_len, got {min_len}, {max_len}")
    rng = _rng(seed)
    lengths = rng.integers(min_len, max_len + 1, size=n)
    digits = rng.integers(0, 10, size=(n, max_len))
    pos = np.arange(max_len)
    used = pos < lengths[:, None]
    backwards = np.take_along_axis(digits, np.clip(lengths[:, None] - 1 - pos, 0, None), axis=1)
    rows = np.arange(n)
    src = np.full((n, max_len + 1), PAD, dtype=np.int64)
    src[:, :max_len] = np.where(used, DIGIT0 + digits, PAD)
    src[rows, lengths] = EOS
    tgt = np.full((n, max_len + 2), PAD, dtype=np.int64)
    tgt[:, 0] = BOS
    tgt[:, 1 : max_len + 1] = np.where(used, DIGIT0 + backwards, PAD)
    tgt[rows, lengths + 1] = EOS
    return TensorDataset(src, tgt)


def addition(
    n: int = 1000, digits: int = 3, reverse_answer: bool = False, seed: int | None = None
) -> TensorDataset:
    """Sums of two random numbers below ``10**digits``, written as tokens without leading zeros.

    Args:
        reverse_answer: write the sum least-significant digit first (the
            order a carry propagates, which makes the task easier to learn).

    Shape:
        src: (n, 2 * digits + 2) — "a+b", EOS, PAD...
        tgt: (n, digits + 3) — BOS, the sum (up to digits + 1 digits), EOS, PAD...
    """
    rng = _rng(seed)
    a, b = rng.integers(0, 10**digits, size=(2, n))
    total = a + b
    na, nb, nt = _n_digits(a), _n_digits(b), _n_digits(total)
    rows = np.arange(n)
    src = np.full((n, 2 * digits + 2), PAD, dtype=np.int64)
    _place(src, np.zeros(n, np.int64), a, na)
    src[rows, na] = PLUS
    _place(src, na + 1, b, nb)
    src[rows, na + 1 + nb] = EOS
    tgt = np.full((n, digits + 3), PAD, dtype=np.int64)
    tgt[:, 0] = BOS
    _place(tgt, np.ones(n, np.int64), total, nt)
    if reverse_answer:
        j = np.arange(digits + 1)
        answer = tgt[:, 1 : digits + 2]
        backwards = np.take_along_axis(answer, np.clip(nt[:, None] - 1 - j, 0, None), axis=1)
        tgt[:, 1 : digits + 2] = np.where(j < nt[:, None], backwards, PAD)
    tgt[rows, nt + 1] = EOS
    return TensorDataset(src, tgt)


def decode_tokens(ids) -> str:
    """Sequence-task ids -> text, dropping BOS and PAD and stopping at EOS."""
    out = []
    for i in np.asarray(getattr(ids, "data", ids)).reshape(-1).tolist():
        if i == EOS:
            break
        if i not in (PAD, BOS):
            out.append(SEQ_VOCAB[i])
    return "".join(out)
