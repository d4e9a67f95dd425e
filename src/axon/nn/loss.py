"""Loss layers: each holds its options and calls the functional form in ``axon.ops.loss``.

Every loss takes ``reduction``: 'mean' (default), 'sum' or 'none' (one loss
per element / position). Per-class ``weight`` and ``pos_weight`` are buffers,
as in PyTorch, so they appear in ``state_dict()`` under the same names.

Example::

    >>> loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    >>> loss = loss_fn(logits, labels)       # logits (N, C), labels (N,) int64
    >>> loss.backward()
"""

from __future__ import annotations

import numpy as np

from axon.nn.module import Module
from axon.ops.loss import (
    REDUCTIONS,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    check_reduction,
    cosine_similarity,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from axon.tensor import Tensor


def _buffer(value):
    if value is None or isinstance(value, Tensor):
        return value
    return Tensor(np.asarray(value, dtype=np.float32))


class _Loss(Module):
    allowed = REDUCTIONS

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        check_reduction(type(self).__name__, reduction, self.allowed)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", _buffer(weight))


class L1Loss(_Loss):
    """|input - target|.  Shape: input (*), target broadcastable -> scalar, or (*) with 'none'."""

    def forward(self, input, target):
        return l1_loss(input, target, self.reduction)


class MSELoss(_Loss):
    """(input - target)^2.  Shape: input (*), target broadcastable -> scalar, or (*) with 'none'."""

    def forward(self, input, target):
        return mse_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    """0.5 d^2 if |d| < delta else delta (|d| - 0.5 delta), d = input - target."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return huber_loss(input, target, self.reduction, self.delta)


class SmoothL1Loss(_Loss):
    """0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta, d = input - target (L1 for beta = 0)."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):
        return smooth_l1_loss(input, target, self.reduction, self.beta)


class CrossEntropyLoss(_WeightedLoss):
    r"""Cross-entropy of logits against class indices or class probabilities.

        l_n = -(1 - eps) w[t_n] log softmax(x_n)[t_n] - eps/C sum_c w_c log softmax(x_n)[c]
        mean: sum_n l_n / sum_n w[t_n]   (positions with t_n == ignore_index count 0)

    Args:
        weight: per-class weights (C,), a buffer.
        ignore_index: index targets with this value add nothing (default -100).
        reduction: 'mean' | 'sum' | 'none'.
        label_smoothing: eps in [0, 1].

    Shape: input (N, C), (N, C, d1, ...) or (C,) logits; target (N,), (N, d1, ...)
    or () integer classes, or float probabilities shaped like input.
    """

    def __init__(
        self,
        weight=None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ):
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return cross_entropy(
            input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing
        )


class NLLLoss(_WeightedLoss):
    """-weight[t] * input[n, t] for log-probabilities (the output of ``LogSoftmax``)."""

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class BCELoss(_WeightedLoss):
    """-weight (t log x + (1 - t) log(1 - x)) for probabilities x (logs clamped at -100).

    Prefer ``BCEWithLogitsLoss`` on logits: it is numerically stable.
    """

    def forward(self, input, target):
        return binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy, stable: (1 - t) x + (1 + (pw - 1) t) log(1 + e^-x).

    Args:
        weight: rescales each element's loss (broadcast to the input), a buffer.
        pos_weight: weight of positive examples per class (broadcast along the last dim), a buffer.
    """

    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None):
        super().__init__(reduction)
        self.register_buffer("weight", _buffer(weight))
        self.register_buffer("pos_weight", _buffer(pos_weight))

    def forward(self, input, target):
        return binary_cross_entropy_with_logits(
            input, target, self.weight, self.reduction, self.pos_weight
        )


class KLDivLoss(_Loss):
    """target (log target - input) for log-probabilities ``input``; use reduction='batchmean'."""

    allowed = REDUCTIONS + ("batchmean",)

    def __init__(self, reduction: str = "mean", log_target: bool = False):
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return kl_div(input, target, self.reduction, self.log_target)


class CosineSimilarity(Module):
    """sum(x1 x2) / (max(|x1|, eps) max(|x2|, eps)) along ``dim``.

    Shape: x1, x2 broadcastable (*, D, *) -> the broadcast shape without ``dim``.
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return cosine_similarity(x1, x2, self.dim, self.eps)
