"""Adafactor: Adam-like steps with a factored second moment (Shazeer & Stern, 2018)."""

from __future__ import annotations

import numpy as np

from axon.optim.optimizer import Optimizer


def adafactor_update(
    param, grad, state, *, lr, beta2_decay, eps1, eps2, d, weight_decay, maximize
) -> None:
    """One Adafactor step for one parameter, in place (see ``Adafactor`` for the math).

    ``state`` holds ``step`` and either ``row_var`` (shape ``(..., n, 1)``) and
    ``col_var`` (``(..., 1, m)``) for a parameter with 2 or more dims, or
    ``variance`` (the parameter's shape) for a vector or scalar.
    """
    state["step"] += 1
    step = state["step"]
    if eps1 is None:
        eps1 = float(np.finfo(param.dtype).eps)
    one_minus_beta2 = step**beta2_decay  # 1 - beta2_t, with beta2_t = 1 - t^decay
    rho = min(lr, 1.0 / step**0.5)  # relative step size
    alpha = max(eps2, _rms(param)) * rho  # step scaled by the parameter's own RMS
    if weight_decay != 0:
        param *= 1.0 - lr * weight_decay

    tmp = np.multiply(grad, grad, out=np.empty_like(param))
    if grad.ndim > 1:
        row_var, col_var = state["row_var"], state["col_var"]
        # R_t = lerp(R_{t-1}, mean_cols(g^2), 1 - beta2_t); C_t likewise over rows
        row_var += (tmp.mean(axis=-1, keepdims=True) - row_var) * one_minus_beta2
        col_var += (tmp.mean(axis=-2, keepdims=True) - col_var) * one_minus_beta2
        # V_t = R_t C_t / max(mean(R_t), eps1): the rank-1 estimate of E[g^2]
        np.multiply(row_var, col_var, out=tmp)
        tmp /= np.maximum(row_var.mean(axis=-2, keepdims=True), eps1)
    else:
        variance = state["variance"]
        tmp -= variance
        tmp *= one_minus_beta2
        variance += tmp
        np.copyto(tmp, variance)
    # U_t = g_t / max(sqrt(V_t), eps1), then clipped to RMS(U_t) <= d
    np.maximum(tmp, eps1 * eps1, out=tmp)
    np.sqrt(tmp, out=tmp)
    np.divide(grad, tmp, out=tmp)
    denom = max(1.0, _rms(tmp) / d)
    tmp *= (alpha if maximize else -alpha) / denom
    param += tmp


def _rms(x: np.ndarray) -> float:
    """Root mean square ||x||_2 / sqrt(numel), as a Python float."""
    flat = x.reshape(-1)
    return float(np.sqrt(np.dot(flat, flat))) / flat.size**0.5 if flat.size else 0.0


class Adafactor(Optimizer):
    r"""Adafactor (Shazeer & Stern, 2018), with ``torch.optim.Adafactor``'s semantics.

    For an :math:`n \times m` weight the second moment is kept as a row
    statistic :math:`R` (n numbers) and a column statistic :math:`C`
    (m numbers) instead of a full :math:`n \times m` array: O(n + m) memory.
    Tensors with more dims are factored over their last two. There is no
    first moment. With gradient :math:`G_t` (negated when ``maximize``):

    .. math::
        \hat\beta_{2,t} = 1 - t^{\tau}, \quad \rho_t = \min(\gamma, 1/\sqrt t), \quad
        \alpha_t = \max(\epsilon_2, \mathrm{RMS}(\theta_{t-1}))\,\rho_t           \\
        \theta_{t-1} \leftarrow (1 - \gamma\lambda)\,\theta_{t-1}                  \\
        R_t = \hat\beta_{2,t} R_{t-1} + (1 - \hat\beta_{2,t})\,\mathrm{mean}_{cols}(G_t^2),
        \quad C_t \text{ likewise over rows}                                      \\
        \hat V_t = R_t C_t / \max(\mathrm{mean}(R_t), \epsilon_1)
            \quad (\text{vectors: } \hat V_t = \hat\beta_{2,t}\hat V_{t-1} + (1 - \hat\beta_{2,t}) G_t^2) \\
        U_t = G_t / \max(\sqrt{\hat V_t}, \epsilon_1), \quad
        \hat U_t = U_t / \max(1, \mathrm{RMS}(U_t)/d)                             \\
        \theta_t = \theta_{t-1} - \alpha_t \hat U_t

    The decay-rate schedule :math:`\hat\beta_{2,t}` (``beta2_decay`` = -0.8),
    the relative step size :math:`\rho_t` and update clipping at ``d`` are
    the paper's; as in PyTorch (and unlike the paper), ``lr`` caps
    :math:`\rho_t` (the paper fixes 0.01) and scales a decoupled weight decay,
    and :math:`\epsilon_1` guards the final estimate rather than being added
    to :math:`G_t^2`.

    Differences from PyTorch: when ``eps[0]`` is None, :math:`\epsilon_1` is
    the machine epsilon of each parameter's dtype (PyTorch takes the first
    parameter's dtype for the whole group); the state ``step`` is a Python
    int; no ``foreach`` option.

    Args:
        params: Tensors or param-group dicts.
        lr: the cap on the relative step size and the weight-decay scale (default 1e-2).
        beta2_decay: :math:`\tau`, the decay-rate exponent (default -0.8).
        eps: :math:`(\epsilon_1, \epsilon_2)`; :math:`\epsilon_1` None means the
            dtype's machine epsilon (default (None, 1e-3)).
        d: clipping threshold on the update's RMS (default 1.0).
        weight_decay: decoupled weight decay :math:`\lambda` (default 0).
        maximize: maximize the objective instead of minimizing it.

    Example::

        >>> opt = axon.optim.Adafactor(model.parameters())
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            beta2_decay=beta2_decay,
            eps=tuple(eps),
            d=d,
            weight_decay=weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        eps1, eps2 = group["eps"]
        self._check(group["lr"] >= 0, "learning rate", group["lr"], ">= 0")
        self._check(group["beta2_decay"] <= 0, "beta2_decay", group["beta2_decay"], "<= 0")
        self._check(eps1 is None or eps1 >= 0, "epsilon1", eps1, ">= 0 or None")
        self._check(eps2 >= 0, "epsilon2", eps2, ">= 0")
        self._check(group["d"] >= 1, "clipping threshold d", group["d"], ">= 1")
        self._check(group["weight_decay"] >= 0, "weight_decay", group["weight_decay"], ">= 0")

    def _update(self, param, grad, state, group) -> None:
        if not state:
            state["step"] = 0
            if grad.ndim > 1:
                state["row_var"] = np.zeros((*grad.shape[:-1], 1), dtype=param.dtype)
                state["col_var"] = np.zeros(
                    (*grad.shape[:-2], 1, grad.shape[-1]), dtype=param.dtype
                )
            else:
                state["variance"] = np.zeros_like(param)
        eps1, eps2 = group["eps"]
        adafactor_update(
            param,
            grad,
            state,
            lr=float(group["lr"]),
            beta2_decay=float(group["beta2_decay"]),
            eps1=None if eps1 is None else float(eps1),
            eps2=float(eps2),
            d=float(group["d"]),
            weight_decay=float(group["weight_decay"]),
            maximize=bool(group["maximize"]),
        )
