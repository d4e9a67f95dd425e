"""Gradient clipping, in place on each parameter's ``.grad``.

``clip_grad_norm_`` rescales all gradients together so that their joint norm
(the norm of the vector of every gradient element) is at most ``max_norm``:

    total = || (||g_1||_p, ..., ||g_k||_p) ||_p          (max of max|g| for p = inf)
    g_i  <- g_i * min(1, max_norm / (total + 1e-6))

It keeps the update's direction and only shrinks its length, which tames the
rare huge gradient (exploding RNN gradients, loss spikes) without biasing
ordinary steps. The norm is computed in the gradients' own dtype (float32):
no silent float64 copy of every gradient.
"""

from __future__ import annotations

import math

import numpy as np

from axon.tensor import Tensor


def _grads(parameters) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def _norm(a: np.ndarray, norm_type: float):
    flat = a.reshape(-1)
    if norm_type == math.inf:
        return np.max(np.abs(flat)) if flat.size else a.dtype.type(0)
    if norm_type == 2:
        return np.sqrt(np.dot(flat, flat))  # BLAS dot: no temporary, stays in a's dtype
    if norm_type == 1:
        return np.sum(np.abs(flat))
    return np.sum(np.abs(flat) ** a.dtype.type(norm_type)) ** a.dtype.type(1.0 / norm_type)


def clip_grad_norm_(
    parameters,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach=None,
) -> Tensor:
    """Scale the gradients of ``parameters`` in place so their total norm is at most ``max_norm``.

    Args:
        parameters: a Tensor or an iterable of Tensors (e.g. ``model.parameters()``).
        max_norm: the largest allowed total norm.
        norm_type: p of the p-norm; ``float('inf')`` for the largest absolute value.
        error_if_nonfinite: raise if the total norm is nan or inf (else the
            gradients are scaled by it anyway, as PyTorch).
        foreach: accepted for PyTorch compatibility; ignored.

    Returns:
        The total norm of the gradients before clipping, as a 0-d Tensor.

    Example::

        >>> loss.backward()
        >>> nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        >>> opt.step()
    """
    params = _grads(parameters)
    norm_type = float(norm_type)
    if not params:
        return Tensor._make(np.array(0.0, dtype=np.float32))
    dtype = params[0].grad.dtype
    norms = np.array([_norm(p.grad.data, norm_type) for p in params], dtype=dtype)
    total = _norm(norms, norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is non-finite "
            f"({total}), so it cannot be clipped. To scale the gradients by the non-finite norm "
            "anyway, set error_if_nonfinite=False"
        )
    coef = max_norm / (float(total) + 1e-6)
    if coef < 1.0 or not np.isfinite(coef):  # nan/inf norm: scale anyway, as PyTorch does
        for p in params:
            g = p.grad.data
            if g.flags.writeable:
                np.multiply(g, g.dtype.type(coef), out=g)
            else:  # a read-only gradient array (e.g. a broadcast view): replace it
                p.grad = Tensor._make(g * g.dtype.type(coef))
    return Tensor._make(np.asarray(total, dtype=dtype))


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element of ``parameters`` into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for p in _grads(parameters):
        g = p.grad.data
        if g.flags.writeable:
            np.clip(g, -clip_value, clip_value, out=g)
        else:
            p.grad = Tensor._make(np.clip(g, -clip_value, clip_value))
