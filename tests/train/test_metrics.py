"""Metrics: the maths, the class-axis layouts, and exact averaging over uneven batches."""

from __future__ import annotations

import math

import numpy as np
import pytest

from axon.train.metrics import (
    MetricTracker,
    Perplexity,
    accuracy,
    get_metric,
    mse,
    perplexity,
    top_k_accuracy,
)


def test_accuracy_and_top_k():
    scores = np.array(
        [[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]], np.float32
    )
    y = np.array([1, 1, 0, 2])
    assert accuracy(scores, y) == 0.25  # only the first is right
    # ranks of the target: 1st, 2nd, 3rd, 3rd
    assert top_k_accuracy(scores, y, k=1) == 0.25
    assert top_k_accuracy(scores, y, k=2) == 0.5
    assert top_k_accuracy(scores, y, k=3) == 1.0


@pytest.mark.torch
def test_top_k_matches_torch_topk():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(200, 10)).astype(np.float32)
    y = rng.integers(0, 10, 200)
    top = torch.topk(torch.from_numpy(scores), 5, dim=1).indices.numpy()
    expected = np.mean((top == y[:, None]).any(axis=1))
    assert top_k_accuracy(scores, y, k=5) == pytest.approx(expected)


def test_perplexity_is_exp_of_mean_token_cross_entropy_and_ignores_padding():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(3, 5, 7)).astype(np.float32)  # (B, T, V): an LM's layout
    y = rng.integers(0, 7, (3, 5))
    y[0, 3:] = -100  # padding
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    keep = y != -100
    nll = -np.take_along_axis(logp, np.where(keep, y, 0)[..., None], -1)[..., 0][keep]
    assert perplexity(logits, y) == pytest.approx(math.exp(nll.mean()), rel=1e-6)
    # PyTorch's (N, C, T) layout gives the same
    assert perplexity(np.moveaxis(logits, -1, 1), y) == pytest.approx(perplexity(logits, y))


def test_uniform_logits_have_perplexity_equal_to_vocab_size():
    assert perplexity(np.zeros((4, 50), np.float32), np.arange(4)) == pytest.approx(50.0)


def test_mse():
    assert mse(np.array([[1.0], [3.0]]), np.array([0.0, 1.0])) == pytest.approx(2.5)


def test_tracker_weights_uneven_batches_by_size():
    """A 10-example batch and a 2-example last batch: the mean over all 12, not of the two means."""
    tracker = MetricTracker(["loss", "accuracy"])
    scores_a, y_a = np.eye(2, dtype=np.float32)[np.zeros(10, int)], np.zeros(10, int)  # 10/10 right
    scores_b, y_b = np.eye(2, dtype=np.float32)[[0, 0]], np.array([1, 1])  # 0/2 right
    tracker.update(scores_a, y_a, 1.0)
    tracker.update(scores_b, y_b, 4.0)
    got = tracker.compute()
    assert got["accuracy"] == pytest.approx(10 / 12)
    assert got["loss"] == pytest.approx((10 * 1.0 + 2 * 4.0) / 12)
    state = tracker.state_dict()
    other = MetricTracker(["loss", "accuracy"])
    other.load_state_dict(state)
    assert other.compute() == got


def test_tracker_perplexity_counts_tokens_across_batches():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(2, 6, 4)), rng.normal(size=(1, 3, 4))
    ya, yb = rng.integers(0, 4, (2, 6)), rng.integers(0, 4, (1, 3))
    tracker = MetricTracker(["perplexity"])
    tracker.update(a, ya, 0.0)
    tracker.update(b, yb, 0.0)
    total = Perplexity().batch(a, ya, None)[0] + Perplexity().batch(b, yb, None)[0]
    assert tracker.compute()["perplexity"] == pytest.approx(math.exp(total / 15))


def test_metric_names_and_errors():
    assert get_metric("top5").name == "top5_accuracy"
    assert get_metric("top_3_accuracy").k == 3
    assert get_metric("acc").name == "accuracy"
    with pytest.raises(ValueError, match="unknown metric 'f2'"):
        get_metric("f2")
    with pytest.raises(ValueError, match="integer class targets"):
        accuracy(np.zeros((4, 1), np.float32), np.zeros((4, 1), np.float32))
    with pytest.raises(ValueError, match="one more axis"):
        accuracy(np.zeros((4, 3)), np.zeros((4, 3), np.int64))
