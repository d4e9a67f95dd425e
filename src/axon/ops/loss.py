"""Fused classification losses: cross-entropy and negative log-likelihood.

Cross-entropy of logits x (N, C, d1...) against class indices t (N, d1...):

    lse_n = log sum_c exp(x[n, c])                       (max subtracted: no overflow)
    logp  = x - lse
    l_n   = -(1 - eps) w[t_n] logp[n, t_n]  -  eps/C sum_c w_c logp[n, c]
    mean  = sum_n l_n / sum_n w[t_n]                     (targets == ignore_index count 0)

(eps = label_smoothing, w = per-class weights, 1 when not given.) With class
probabilities t (N, C, d1...) instead, a = (t (1 - eps) + eps/C) w and
l_n = -sum_c a[n, c] logp[n, c], averaged over the N d1... positions.
Both are l_n = -sum_c a[n, c] logp[n, c] for some coefficients a, so

    dl_n/dx[n] = softmax(x[n]) sum_c a[n, c] - a[n]       ("softmax minus one-hot")

Forward keeps only lse (one number per position) besides the logits it was
given; backward rebuilds softmax = exp(x - lse) in one pass and applies the
formula straight to arrays (no (N, C) one-hot is built for index targets).
Under ``create_graph=True`` the same formula is composed from Tensor ops, so
second derivatives work. NLL loss is the same bookkeeping without the
log-softmax; it is linear in its input, so its backward's backward is NLL
loss itself.
"""

from __future__ import annotations

import numpy as np

from axon.autograd.function import Function
from axon.autograd.grad_mode import is_grad_enabled
from axon.ops.activation import softplus
from axon.ops.elementwise import as_tensor, clamp, log, log1p, where
from axon.ops.nn import log_softmax, softmax
from axon.ops.reduce import normalize_dims
from axon.tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(op: str, reduction: str, allowed=REDUCTIONS) -> None:
    if reduction not in allowed:
        raise ValueError(f"{op}: reduction must be one of {allowed}, got {reduction!r}")


def _reduce(loss: np.ndarray, reduction: str, denom) -> np.ndarray:
    if reduction == "none":
        return loss
    total = loss.sum(dtype=loss.dtype)
    if reduction == "sum":
        return total
    with np.errstate(invalid="ignore", divide="ignore"):  # all targets ignored: nan, as PyTorch
        return total / denom


def _per_position(grad, reduction: str, denom):
    """d(reduced loss)/d(l_n) times the incoming gradient: a scalar, or (N, d1...)."""
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            return grad / denom
    return grad


def _col(a):
    """Insert the class axis (axis 1) into a per-position array; scalars stay scalars."""
    if isinstance(a, Tensor):
        return a if a.ndim == 0 else a.unsqueeze(1)
    return a if np.ndim(a) == 0 else a[:, None]


def _index_targets(op: str, target: np.ndarray, n_classes: int, weight, ignore_index: int, dtype):
    """(target with ignored entries set to 0, valid mask, per-position weight w[t_n] or 0)."""
    valid = target != ignore_index
    safe = np.where(valid, target, 0)
    if safe.size:
        lo, hi = int(safe.min()), int(safe.max())
        if lo < 0 or hi >= n_classes:
            raise IndexError(
                f"{op}: target class {lo if lo < 0 else hi} is out of range for an input with "
                f"{n_classes} classes (targets must lie in [0, {n_classes}) or equal "
                f"ignore_index={ignore_index})"
            )
    row_weight = weight[safe] * valid if weight is not None else valid.astype(dtype)
    return safe, valid, row_weight


class CrossEntropy(Function):
    """Fused log-softmax + pick/mix + reduction over the class axis 1."""

    def forward(self, x, target, weight, ignore_index, smoothing, reduction):
        n_classes = x.shape[1]
        self.reduction, self.smoothing, self.n_classes = reduction, smoothing, n_classes
        # per-class weights shaped to broadcast over axis 1, or None
        self.w = None if weight is None else weight.reshape((1, n_classes) + (1,) * (x.ndim - 2))
        m = x.max(axis=1, keepdims=True)
        e = x - m
        np.exp(e, out=e)
        lse = np.log(e.sum(axis=1, keepdims=True)) + m  # (N, 1, d1...)
        del e
        self.is_prob = target.dtype.kind == "f"
        if self.is_prob:
            a = self._coeffs(target)
            # -sum_c a_c (x_c - lse) = lse sum_c a_c - sum_c a_c x_c
            loss = lse[:, 0] * a.sum(axis=1) - np.einsum("nc...,nc...->n...", a, x)
            self.denom = x.dtype.type(loss.size)
        else:
            safe, valid, row_weight = _index_targets(
                "cross_entropy", target, n_classes, weight, ignore_index, x.dtype
            )
            loss = lse[:, 0] - np.take_along_axis(x, safe[:, None], axis=1)[:, 0]  # (N, d1...)
            loss *= row_weight
            if smoothing:
                w_total = n_classes if weight is None else weight.sum()
                x_total = x.sum(axis=1) if weight is None else np.einsum("nc...,c->n...", x, weight)
                smooth = (lse[:, 0] * w_total - x_total) * valid
                loss = (1 - smoothing) * loss + (smoothing / n_classes) * smooth
            self.safe, self.valid, self.row_weight = safe, valid, row_weight
            self.denom = row_weight.sum(dtype=x.dtype)
        self.lse = lse
        self.save_for_backward(x, target)
        return _reduce(loss, reduction, self.denom)

    def backward(self, grad):
        x, target = self.saved_tensors
        need_x, need_t = self.needs_input_grad[0], self.needs_input_grad[1]
        if is_grad_enabled():  # create_graph=True: a differentiable formula
            return self._composed_backward(grad, x, target, need_x, need_t)
        coef = _per_position(grad.data, self.reduction, self.denom)  # scalar or (N, d1...)
        x, eps, n_classes, w = x.data, self.smoothing, self.n_classes, self.w
        dx = dt = None
        if need_x:
            dx = x - self.lse
            np.exp(dx, out=dx)  # softmax
            if self.is_prob:
                a = self._coeffs(target.data)
                dx *= a.sum(axis=1, keepdims=True)
                dx -= a
                dx *= _col(coef)
            else:
                w_total = n_classes if w is None else w.sum()
                dx *= _col(
                    coef * ((1 - eps) * self.row_weight + (eps / n_classes) * w_total * self.valid)
                )
                if eps:
                    smooth = _col(coef * self.valid * (eps / n_classes))
                    dx -= smooth if w is None else smooth * w
                # the one-hot part: each position has exactly one target class
                at = self.safe[:, None]
                picked = np.take_along_axis(dx, at, axis=1)
                picked -= _col(coef * (1 - eps) * self.row_weight)
                np.put_along_axis(dx, at, picked, axis=1)
        if need_t:  # probability targets: dl/dt = -(1 - eps) w logp
            scale = _col(-(1 - eps) * coef)
            dt = (x - self.lse) * (scale if w is None else scale * w)
        dx = None if dx is None else Tensor._make(dx)
        dt = None if dt is None else Tensor._make(dt)
        return dx, dt

    def _coeffs(self, target):
        """a = (t (1 - eps) + eps/C) w for probability targets (arrays or Tensors alike)."""
        eps = self.smoothing
        a = target * (1 - eps) + eps / self.n_classes if eps else target
        if self.w is None:
            return a
        return a * (Tensor._make(self.w) if isinstance(a, Tensor) else self.w)

    def _composed_backward(self, grad, x, target, need_x, need_t):
        """The same gradients from Tensor ops, differentiable again (double backward)."""
        eps, n_classes = self.smoothing, self.n_classes
        coef = _col(grad / self.denom if self.reduction == "mean" else grad)
        if self.is_prob:
            a = self._coeffs(target)
        else:  # a dense (N, C, ...) array of coefficients: fine for this rare path
            a = np.zeros(x.shape, dtype=x.dtype)
            np.put_along_axis(a, self.safe[:, None], _col((1 - eps) * self.row_weight), axis=1)
            if eps:
                smooth = _col((eps / n_classes) * self.valid)
                a += smooth if self.w is None else smooth * self.w
            a = Tensor._make(a)
        dx = coef * (softmax(x, 1) * a.sum(1, keepdim=True) - a) if need_x else None
        dt = None
        if need_t:
            dt = -(1 - eps) * coef * log_softmax(x, 1)
            dt = dt if self.w is None else dt * Tensor._make(self.w)
        return dx, dt


class NllLoss(Function):
    """l_n = -w[t_n] x[n, t_n] over the class axis 1 (x holds log-probabilities)."""

    def forward(self, x, target, weight, ignore_index, reduction):
        self.args = (target, weight, ignore_index, reduction)
        self.shape = x.shape
        safe, _, row_weight = _index_targets(
            "nll_loss", target, x.shape[1], weight, ignore_index, x.dtype
        )
        loss = np.take_along_axis(x, safe[:, None], axis=1)[:, 0]  # (N, d1...)
        loss *= -row_weight
        self.safe, self.row_weight = safe, row_weight
        self.denom = row_weight.sum(dtype=x.dtype)
        return _reduce(loss, reduction, self.denom)

    def backward(self, grad):
        return NllLossBackward.apply(grad, self), None


class NllLossBackward(Function):
    """Scatter -coef * w[t_n] into zeros at the target classes."""

    def forward(self, grad, nll):
        self.args = nll.args
        coef = _per_position(grad, nll.args[3], nll.denom)
        dx = np.zeros(nll.shape, dtype=grad.dtype)
        np.put_along_axis(dx, nll.safe[:, None], _col(-coef * nll.row_weight), axis=1)
        return dx

    def backward(self, gg):
        # the loss is linear in x: d(dx)/d(grad) applied to gg is the loss of gg
        return NllLoss.apply(gg, *self.args), None


# ------------------------------------------------------------ functional API
def _batched(op, x, target, prob_ok):
    """Check dtypes and shapes; give an unbatched (C,) input a batch dim. Returns (x, target)."""
    if x.ndim == 0 or x.dtype.kind != "f":
        raise TypeError(
            f"{op}: input must be a floating-point tensor of shape (N, C, ...) or (C,), got "
            f"dtype {x.dtype} shape {x.shape}"
        )
    t = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
    is_prob = t.dtype.kind == "f"
    if is_prob and not prob_ok:
        raise TypeError(
            f"{op}: target must hold integer class indices, got dtype {t.dtype} (shape {t.shape})"
        )
    if t.dtype.kind not in "iuf":
        raise TypeError(
            f"{op}: target must be integer class indices or float probabilities, got dtype {t.dtype}"
        )
    expected = x.shape if is_prob else x.shape[:1] + x.shape[2:] if x.ndim > 1 else ()
    if t.shape != expected:
        kind = "class probabilities (same shape as input)" if is_prob else "class indices"
        raise ValueError(
            f"{op}: target of shape {t.shape} doesn't fit input of shape {x.shape}; expected "
            f"{kind} of shape {expected}"
        )
    if x.ndim == 1:
        x = x.reshape(1, -1)
        t = t.reshape(1, -1) if is_prob else t.reshape(1)
    return x, t


def _class_weight(op, weight, n_classes, dtype):
    if weight is None:
        return None
    w = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.shape != (n_classes,):
        raise ValueError(f"{op}: weight must have shape (C,) = ({n_classes},), got {w.shape}")
    return w.astype(dtype, copy=False)


def cross_entropy(
    input,
    target,
    weight=None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
):
    """Cross-entropy between logits and class indices or class probabilities (as PyTorch).

    Args:
        input: logits (N, C), (N, C, d1, ...) or unbatched (C,).
        target: class indices (N,) / (N, d1, ...) / (), or probabilities shaped like input.
        weight: per-class rescaling (C,); the mean divides by the sum of the targets' weights.
        ignore_index: index targets equal to it add nothing (index targets only).
        reduction: 'mean' | 'sum' | 'none' (the per-position losses, shape (N, d1, ...)).
        label_smoothing: eps in [0, 1]; mixes the target with the uniform distribution.

    Example::

        >>> F.cross_entropy(axon.randn(8, 10), axon.randint(0, 10, (8,)))
    """
    check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    x = as_tensor(input)
    unbatched = x.ndim == 1
    x, t = _batched("cross_entropy", x, target, prob_ok=True)
    is_prob = t.dtype.kind == "f"
    if is_prob and ignore_index >= 0:
        raise ValueError(
            "cross_entropy: ignore_index is not supported for probability (float) targets"
        )
    w = _class_weight("cross_entropy", weight, x.shape[1], x.dtype)
    if is_prob:
        t = t.to(x.dtype)
    loss = CrossEntropy.apply(
        x, t if is_prob else t.data, w, ignore_index, float(label_smoothing), reduction
    )
    return loss.reshape(()) if unbatched and reduction == "none" else loss


def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"):
    """Negative log-likelihood: -weight[t] * input[n, t] for log-probabilities ``input``.

    Shape: input (N, C), (N, C, d1, ...) or (C,); target (N,), (N, d1, ...) or () class indices.
    """
    check_reduction("nll_loss", reduction)
    x = as_tensor(input)
    unbatched = x.ndim == 1
    x, t = _batched("nll_loss", x, target, prob_ok=False)
    w = _class_weight("nll_loss", weight, x.shape[1], x.dtype)
    loss = NllLoss.apply(x, t.data, w, ignore_index, reduction)
    return loss.reshape(()) if unbatched and reduction == "none" else loss


# ------------------------------------------------ regression and binary losses
def _reduce_tensor(loss, reduction: str):
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _pair(op: str, input, target, same_shape: bool = False):
    """Both operands as Tensors, checking that their shapes match (or broadcast)."""
    x, t = as_tensor(input), as_tensor(target)
    if same_shape and x.shape != t.shape:
        raise ValueError(f"{op}: target shape {t.shape} must equal input shape {x.shape}")
    try:
        np.broadcast_shapes(x.shape, t.shape)
    except ValueError:
        raise ValueError(
            f"{op}: input of shape {x.shape} and target of shape {t.shape} don't broadcast"
        ) from None
    return x, t


def mse_loss(input, target, reduction: str = "mean"):
    """Mean squared error: (input - target)^2, reduced."""
    check_reduction("mse_loss", reduction)
    x, t = _pair("mse_loss", input, target)
    d = x - t
    return _reduce_tensor(d * d, reduction)


def l1_loss(input, target, reduction: str = "mean"):
    """Mean absolute error: |input - target|, reduced."""
    check_reduction("l1_loss", reduction)
    x, t = _pair("l1_loss", input, target)
    return _reduce_tensor((x - t).abs(), reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta); d = input - target."""
    check_reduction("huber_loss", reduction)
    x, t = _pair("huber_loss", input, target)
    d = x - t
    ad = d.abs()
    loss = where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))
    return _reduce_tensor(loss, reduction)


def smooth_l1_loss(input, target, reduction: str = "mean", beta: float = 1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (huber_loss / beta; L1 when beta = 0)."""
    check_reduction("smooth_l1_loss", reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction)
    x, t = _pair("smooth_l1_loss", input, target)
    d = x - t
    ad = d.abs()
    return _reduce_tensor(where(ad < beta, (0.5 / beta) * d * d, ad - 0.5 * beta), reduction)


class BinaryCrossEntropy(Function):
    """l = -(t log x + (1 - t) log(1 - x)), each log clamped to >= -100 (as PyTorch).

        dl/dx = (x - t) / max(x (1 - x), 1e-12)       dl/dt = log(1 - x) - log(x)

    The clamps keep a saturated prediction (x exactly 0 or 1 in float32) finite.
    """

    def forward(self, x, t):
        self.save_for_backward(x, t)
        with np.errstate(divide="ignore"):
            log_x, log_1mx = np.maximum(np.log(x), -100), np.maximum(np.log1p(-x), -100)
        return -(t * log_x + (1 - t) * log_1mx)

    def backward(self, grad):
        x, t = self.saved_tensors
        dx = dt = None
        if self.needs_input_grad[0]:
            dx = grad * (x - t) / clamp(x * (1 - x), min=1e-12)
        if self.needs_input_grad[1]:
            dt = grad * (clamp(log1p(-x), min=-100) - clamp(log(x), min=-100))
        return dx, dt


def _weighted(loss, weight):
    """loss * weight; a weight given as an array or list takes the loss's dtype."""
    if weight is None:
        return loss
    if not isinstance(weight, Tensor):
        weight = Tensor(np.asarray(weight, dtype=loss.dtype))
    return loss * weight


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean"):
    """-weight (t log(x) + (1 - t) log(1 - x)) for probabilities x in [0, 1]."""
    check_reduction("binary_cross_entropy", reduction)
    x, t = _pair("binary_cross_entropy", input, target, same_shape=True)
    if x.data.size and (x.data.min() < 0 or x.data.max() > 1):
        raise ValueError(
            f"binary_cross_entropy: input values must lie in [0, 1] (got min {x.data.min()}, "
            f"max {x.data.max()}); for logits use binary_cross_entropy_with_logits"
        )
    loss = BinaryCrossEntropy.apply(x, t.to(x.dtype))
    return _reduce_tensor(_weighted(loss, weight), reduction)


def binary_cross_entropy_with_logits(
    input, target, weight=None, reduction: str = "mean", pos_weight=None
):
    """Sigmoid + binary cross-entropy in one stable formula (as PyTorch).

        l = (1 - t) x + (1 + (pos_weight - 1) t) * log(1 + exp(-x))

    log(1 + exp(-x)) is ``softplus(-x)``, which never overflows. ``pos_weight``
    (broadcast along the last dim) weighs the positive term; ``weight`` the whole loss.
    """
    check_reduction("binary_cross_entropy_with_logits", reduction)
    x, t = _pair("binary_cross_entropy_with_logits", input, target, same_shape=True)
    t = t.to(x.dtype)
    log_sigmoid_neg = softplus(-x)  # -log(sigmoid(x)) = log(1 + e^-x)
    if pos_weight is not None:
        log_weight = 1 + _weighted(t, pos_weight) - t  # 1 + (pos_weight - 1) t
        log_sigmoid_neg = log_weight * log_sigmoid_neg
    loss = (1 - t) * x + log_sigmoid_neg
    return _reduce_tensor(_weighted(loss, weight), reduction)


def kl_div(input, target, reduction: str = "mean", log_target: bool = False):
    """KL(target || exp(input)) pointwise: target (log target - input), for log-probabilities input.

    With ``log_target`` the target is given as log-probabilities too. ``reduction``:
    'batchmean' (sum / batch size: the true KL divergence), 'sum', 'mean' (over
    every element; PyTorch warns about it), or 'none'.
    """
    check_reduction("kl_div", reduction, REDUCTIONS + ("batchmean",))
    x, t = _pair("kl_div", input, target)
    if log_target:
        loss = t.exp() * (t - x)
    else:
        positive = t.data > 0  # t log t -> 0 as t -> 0 (PyTorch's xlogy)
        t_log_t = where(positive, t * log(where(positive, t, 1.0)), 0.0)
        loss = t_log_t - t * x
    if reduction == "batchmean":
        return loss.sum() / (x.shape[0] if x.ndim else 1)
    return _reduce_tensor(loss, reduction)


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """sum(x1 x2) / (max(|x1|, eps) max(|x2|, eps)) along ``dim`` (inputs broadcast).

    Each input is divided by its own norm first (as PyTorch), which keeps the
    result in [-1, 1].
    """
    a, b = as_tensor(x1), as_tensor(x2)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"cosine_similarity: shapes {a.shape} and {b.shape} don't broadcast"
        ) from None
    a, b = a.expand(*shape), b.expand(*shape)
    dims = normalize_dims("cosine_similarity", dim, len(shape), shape)

    def unit(v):
        norm = (v * v).sum(dims, keepdim=True).sqrt()
        # as PyTorch: the norm's value is clamped to eps, its gradient is left as it was
        return v / (norm + Tensor._make(np.maximum(norm.data, eps) - norm.data))

    return (unit(a) * unit(b)).sum(dims)
