"""Metrics: loss, accuracy, top-k accuracy, perplexity, MSE — exact over uneven batches.

A metric is a pure function of one batch that returns a *sum* and a *count*
(``batch(outputs, targets, loss) -> (total, count)``); ``MetricTracker``
adds those up and divides once at the end. So a 64-example batch weighs
64 times as much as a 1-example last batch, and the epoch's accuracy is the
fraction of all examples classified correctly, not a mean of per-batch means.
Everything is vectorised NumPy: no Python loop over examples.

Class scores may be ``(N, C)``, ``(N, C, d1, ...)`` (PyTorch's layout) or
``(N, T, C)`` (a language model's logits); targets are the matching integer
classes. Targets equal to ``ignore_index`` (-100, as ``F.cross_entropy``)
count for nothing.

Example::

    >>> tracker = MetricTracker(["loss", "accuracy", "top5_accuracy"])
    >>> for logits, y, loss in batches:
    ...     tracker.update(logits, y, loss)
    >>> tracker.compute()          # {'loss': 0.31, 'accuracy': 0.91, 'top5_accuracy': 0.99}
"""

from __future__ import annotations

import math
import re

import numpy as np

from axon.tensor import Tensor

IGNORE_INDEX = -100


def _array(x) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def class_scores(outputs, targets, name: str = "accuracy") -> tuple[np.ndarray, np.ndarray]:
    """Flatten scores to ``(M, C)`` and integer targets to ``(M,)``, dropping ignored positions."""
    scores, targets = _array(outputs), _array(targets)
    if targets.dtype.kind not in "iu":
        raise ValueError(
            f"{name}: expects integer class targets, got {targets.dtype} targets of shape "
            f"{targets.shape} with outputs of shape {scores.shape}; for regression use "
            "metrics=('loss', 'mse')"
        )
    if scores.ndim != targets.ndim + 1:
        raise ValueError(
            f"{name}: outputs {scores.shape} should have one more axis (the classes) than "
            f"targets {targets.shape}"
        )
    if scores.shape[:-1] == targets.shape:  # (N, [T,] C): classes last
        flat = scores.reshape(-1, scores.shape[-1])
    elif scores.shape[:1] + scores.shape[2:] == targets.shape:  # (N, C, d1, ...): classes second
        flat = np.moveaxis(scores, 1, -1).reshape(-1, scores.shape[1])
    else:
        raise ValueError(f"{name}: outputs {scores.shape} don't match targets {targets.shape}")
    flat_targets = targets.reshape(-1)
    keep = flat_targets != IGNORE_INDEX
    if not keep.all():
        flat, flat_targets = flat[keep], flat_targets[keep]
    return flat, flat_targets


class Metric:
    """Base class: ``batch`` returns ``(total, count)``; ``reduce`` turns sums into the value.

    Subclass it for a new metric (a name, ``batch``, and ``reduce`` if the
    value isn't ``total / count``); pass the instance in ``Trainer(metrics=...)``.
    """

    name = "metric"
    higher_is_better = False

    def batch(self, outputs, targets, loss: float | None) -> tuple[float, float]:
        raise NotImplementedError(f"{type(self).__name__} has no batch()")

    def reduce(self, total: float, count: float) -> float:
        return total / count if count else math.nan

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Loss(Metric):
    """The loss function's value, weighted by the batch's size (its first axis)."""

    name = "loss"

    def batch(self, outputs, targets, loss):
        n = len(_array(targets)) if targets is not None else len(_array(outputs))
        return float(loss) * n, n


class Accuracy(Metric):
    """Fraction of examples (or tokens) whose highest score is the target class."""

    name = "accuracy"
    higher_is_better = True

    def batch(self, outputs, targets, loss):
        scores, t = class_scores(outputs, targets, self.name)
        return float(np.count_nonzero(scores.argmax(axis=-1) == t)), len(t)


class TopKAccuracy(Metric):
    """Fraction of examples whose target is among the ``k`` highest scores.

    Counted as "fewer than k classes score strictly higher than the target":
    one pass over the scores, no sort.
    """

    higher_is_better = True

    def __init__(self, k: int = 5):
        if k < 1:
            raise ValueError(f"TopKAccuracy: k must be >= 1, got {k}")
        self.k = k
        self.name = f"top{k}_accuracy"

    def batch(self, outputs, targets, loss):
        scores, t = class_scores(outputs, targets, self.name)
        target_score = np.take_along_axis(scores, t[:, None], axis=1)  # (M, 1)
        higher = np.count_nonzero(scores > target_score, axis=1)
        return float(np.count_nonzero(higher < self.k)), len(t)

    def __repr__(self) -> str:
        return f"TopKAccuracy(k={self.k})"


class Perplexity(Metric):
    """``exp(mean cross-entropy per token)``, from the logits (the mean is over all tokens).

    Computed here, in float64, rather than from the loss function, so it is
    exact per token whatever the batches' lengths and padding.
    """

    name = "perplexity"

    def batch(self, outputs, targets, loss):
        logits, t = class_scores(outputs, targets, self.name)
        logits = logits.astype(np.float64)
        shift = logits.max(axis=1, keepdims=True)
        log_z = np.log(np.exp(logits - shift).sum(axis=1)) + shift[:, 0]
        nll = log_z - np.take_along_axis(logits, t[:, None], axis=1)[:, 0]
        return float(nll.sum()), len(t)

    def reduce(self, total, count):
        return math.exp(total / count) if count else math.nan


class MeanSquaredError(Metric):
    """Mean of ``(output - target)**2`` over every element."""

    name = "mse"

    def batch(self, outputs, targets, loss):
        out, tgt = _array(outputs), _array(targets)
        if out.shape != tgt.shape and out.size == tgt.size:
            tgt = tgt.reshape(out.shape)  # (N,) targets against (N, 1) predictions
        diff = out.astype(np.float64) - tgt
        return float(np.vdot(diff, diff)), diff.size


_NAMED = {
    "loss": Loss,
    "accuracy": Accuracy,
    "acc": Accuracy,
    "perplexity": Perplexity,
    "ppl": Perplexity,
    "mse": MeanSquaredError,
}


def get_metric(spec: str | Metric) -> Metric:
    """A ``Metric`` from a name: loss, accuracy (acc), top5_accuracy (top5), perplexity (ppl), mse."""
    if isinstance(spec, Metric):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"metrics: expected a name or a Metric, got {type(spec).__name__}")
    key = spec.lower()
    match = re.fullmatch(r"top_?(\d+)(_accuracy)?", key)
    if match:
        return TopKAccuracy(int(match.group(1)))
    if key not in _NAMED:
        raise ValueError(
            f"metrics: unknown metric {spec!r}; known: loss, accuracy, top<k>_accuracy, "
            "perplexity, mse (or pass a Metric instance)"
        )
    return _NAMED[key]()


class MetricTracker:
    """Running sums for a set of metrics; ``compute()`` divides once.

    ``loss`` is always tracked first. Its state (``state_dict``) is plain
    floats, so a checkpoint taken mid-epoch resumes the epoch's averages exactly.
    """

    def __init__(self, metrics=("loss",)):
        found = [get_metric(m) for m in metrics]
        if not any(m.name == "loss" for m in found):
            found.insert(0, Loss())
        self.metrics = found
        self.reset()

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def reset(self) -> None:
        self.sums = {m.name: [0.0, 0.0] for m in self.metrics}

    def batch_values(self, outputs, targets, loss: float) -> dict[str, tuple[float, float]]:
        """Each metric's ``(total, count)`` for one batch (compute once, add to many trackers)."""
        return {m.name: m.batch(outputs, targets, loss) for m in self.metrics}

    def add(self, values: dict[str, tuple[float, float]]) -> None:
        for name, (total, count) in values.items():
            self.sums[name][0] += total
            self.sums[name][1] += count

    def update(self, outputs, targets, loss: float) -> None:
        self.add(self.batch_values(outputs, targets, loss))

    @property
    def count(self) -> float:
        return self.sums["loss"][1]

    def compute(self) -> dict[str, float]:
        return {m.name: m.reduce(*self.sums[m.name]) for m in self.metrics}

    def state_dict(self) -> dict:
        return {name: list(s) for name, s in self.sums.items()}

    def load_state_dict(self, state: dict) -> None:
        for name, (total, count) in state.items():
            if name in self.sums:
                self.sums[name] = [float(total), float(count)]


def accuracy(outputs, targets) -> float:
    """Fraction of correct argmax predictions. ``accuracy(logits, y)`` -> 0.93"""
    return Accuracy().reduce(*Accuracy().batch(outputs, targets, None))


def top_k_accuracy(outputs, targets, k: int = 5) -> float:
    """Fraction of targets among the k highest scores."""
    m = TopKAccuracy(k)
    return m.reduce(*m.batch(outputs, targets, None))


def perplexity(logits, targets) -> float:
    """``exp`` of the mean per-token cross-entropy of ``logits`` against ``targets``."""
    m = Perplexity()
    return m.reduce(*m.batch(logits, targets, None))


def mse(outputs, targets) -> float:
    """Mean squared error over all elements."""
    m = MeanSquaredError()
    return m.reduce(*m.batch(outputs, targets, None))
