"""SGD: stochastic gradient descent with momentum, dampening and Nesterov."""

from __future__ import annotations

import numpy as np

from axon.optim._threads import run_elementwise
from axon.optim.optimizer import Optimizer, decayed_grad


def sgd_update(
    param,
    grad,
    momentum_buffer,
    *,
    lr,
    momentum,
    dampening,
    nesterov,
    weight_decay,
    maximize,
    first_step,
) -> None:
    """One SGD step for one parameter, in place (see ``SGD`` for the math).

    ``momentum_buffer`` is None when ``momentum == 0``; on ``first_step`` it
    is filled with the gradient, as in PyTorch (no dampening on step 1).
    """
    d = decayed_grad(param, grad, weight_decay, maximize)
    if momentum != 0:
        buf = momentum_buffer
        if first_step:
            np.copyto(buf, d)
        else:
            buf *= momentum
            if dampening == 0:
                buf += d
            else:
                buf += (1.0 - dampening) * d
        if nesterov:
            # p -= lr * (d + momentum * buf)
            param -= lr * d
            param -= (lr * momentum) * buf
            return
        d = buf
    param -= lr * d


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum), as ``torch.optim.SGD``.

    With gradient :math:`g_t` (negated when ``maximize``) and weight decay
    :math:`\lambda`, :math:`\mu` momentum, :math:`\tau` dampening:

    .. math::
        d_t = g_t + \lambda \theta_{t-1}                        \\
        b_1 = d_1, \quad b_t = \mu b_{t-1} + (1 - \tau) d_t     \\
        d_t \leftarrow d_t + \mu b_t \text{ (nesterov) or } b_t  \\
        \theta_t = \theta_{t-1} - \gamma d_t

    Args:
        params: Tensors or param-group dicts.
        lr: learning rate :math:`\gamma` (default 1e-3).
        momentum: momentum factor :math:`\mu` (default 0).
        dampening: dampening for momentum :math:`\tau` (default 0).
        weight_decay: L2 penalty :math:`\lambda` added to the gradient (default 0).
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: maximize the objective instead of minimizing it.

    Example::

        >>> opt = axon.optim.SGD([w, b], lr=0.1, momentum=0.9)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        self._check(group["lr"] >= 0, "learning rate", group["lr"], ">= 0")
        self._check(group["momentum"] >= 0, "momentum", group["momentum"], ">= 0")
        self._check(group["weight_decay"] >= 0, "weight_decay", group["weight_decay"], ">= 0")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: nesterov=True needs momentum > 0 and dampening == 0, got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def _update(self, param, grad, state, group) -> None:
        momentum = float(group["momentum"])
        first_step = False
        if momentum != 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = np.zeros_like(param)
            first_step = True
        run_elementwise(
            sgd_update,
            [param, grad, state.get("momentum_buffer") if momentum != 0 else None],
            lr=float(group["lr"]),
            momentum=momentum,
            dampening=float(group["dampening"]),
            nesterov=bool(group["nesterov"]),
            weight_decay=float(group["weight_decay"]),
            maximize=bool(group["maximize"]),
            first_step=first_step,
        )
