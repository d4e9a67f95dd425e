"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

import numpy as np

from axon.optim._threads import run_elementwise
from axon.optim.optimizer import Optimizer, decayed_grad


def rmsprop_update(
    param,
    grad,
    square_avg,
    grad_avg,
    momentum_buffer,
    *,
    lr,
    alpha,
    eps,
    weight_decay,
    momentum,
    centered,
    maximize,
) -> None:
    """One RMSprop step for one parameter, in place (see ``RMSprop`` for the math)."""
    grad = decayed_grad(param, grad, weight_decay, maximize)
    tmp = np.empty_like(param)
    # v_t = alpha v_{t-1} + (1 - alpha) g_t^2
    np.multiply(grad, grad, out=tmp)
    tmp *= 1.0 - alpha
    square_avg *= alpha
    square_avg += tmp
    if centered:
        # a_t = alpha a_{t-1} + (1 - alpha) g_t;  denominator sqrt(v_t - a_t^2) + eps
        np.subtract(grad, grad_avg, out=tmp)
        tmp *= 1.0 - alpha
        grad_avg += tmp
        np.multiply(grad_avg, grad_avg, out=tmp)
        np.subtract(square_avg, tmp, out=tmp)
        np.sqrt(tmp, out=tmp)
    else:
        np.sqrt(square_avg, out=tmp)
    tmp += eps
    np.divide(grad, tmp, out=tmp)  # g_t / (sqrt(v_t) + eps)
    if momentum > 0:
        momentum_buffer *= momentum
        momentum_buffer += tmp
        np.multiply(momentum_buffer, -lr, out=tmp)
    else:
        tmp *= -lr
    param += tmp


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture 6e; centered variant from Graves, 2013), as ``torch.optim.RMSprop``.

    With gradient :math:`g_t` (negated when ``maximize``, plus
    :math:`\lambda\theta_{t-1}` for weight decay):

    .. math::
        v_t = \alpha v_{t-1} + (1 - \alpha) g_t^2                                     \\
        \tilde v_t = v_t - a_t^2,\ a_t = \alpha a_{t-1} + (1 - \alpha) g_t
            \text{ (centered) or } v_t                                                \\
        b_t = \mu b_{t-1} + g_t / (\sqrt{\tilde v_t} + \epsilon)                      \\
        \theta_t = \theta_{t-1} - \gamma b_t
            \text{ (or } \gamma g_t / (\sqrt{\tilde v_t} + \epsilon) \text{ when } \mu = 0)

    Args:
        params: Tensors or param-group dicts.
        lr: learning rate :math:`\gamma` (default 1e-2).
        alpha: smoothing constant :math:`\alpha` (default 0.99).
        eps: :math:`\epsilon`, added to the denominator (default 1e-8).
        weight_decay: L2 penalty :math:`\lambda` (default 0).
        momentum: momentum factor :math:`\mu` (default 0).
        centered: normalise by an estimate of the gradient's variance.
        maximize: maximize the objective instead of minimizing it.

    Example::

        >>> opt = axon.optim.RMSprop(params, lr=1e-3, momentum=0.9, centered=True)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        self._check(group["lr"] >= 0, "learning rate", group["lr"], ">= 0")
        self._check(group["eps"] >= 0, "epsilon", group["eps"], ">= 0")
        self._check(group["momentum"] >= 0, "momentum", group["momentum"], ">= 0")
        self._check(group["weight_decay"] >= 0, "weight_decay", group["weight_decay"], ">= 0")
        self._check(group["alpha"] >= 0, "alpha", group["alpha"], ">= 0")

    def _update(self, param, grad, state, group) -> None:
        momentum, centered = float(group["momentum"]), bool(group["centered"])
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
        if momentum > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = np.zeros_like(param)
        if centered and "grad_avg" not in state:
            state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        run_elementwise(
            rmsprop_update,
            [param, grad, state["square_avg"], state.get("grad_avg"), state.get("momentum_buffer")],
            lr=float(group["lr"]),
            alpha=float(group["alpha"]),
            eps=float(group["eps"]),
            weight_decay=float(group["weight_decay"]),
            momentum=momentum,
            centered=centered,
            maximize=bool(group["maximize"]),
        )
