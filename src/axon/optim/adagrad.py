"""Adagrad: per-coordinate step sizes from the sum of all past squared gradients."""

from __future__ import annotations

import numpy as np

from axon.optim._threads import run_elementwise
from axon.optim.optimizer import Optimizer, decayed_grad


def adagrad_update(param, grad, state_sum, *, clr, eps, weight_decay, maximize) -> None:
    """One Adagrad step for one parameter at decayed learning rate ``clr``, in place."""
    grad = decayed_grad(param, grad, weight_decay, maximize)
    tmp = np.multiply(grad, grad, out=np.empty_like(param))
    state_sum += tmp  # s_t = s_{t-1} + g_t^2
    np.sqrt(state_sum, out=tmp)
    tmp += eps
    np.divide(grad, tmp, out=tmp)
    tmp *= -clr
    param += tmp


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011), as ``torch.optim.Adagrad``.

    With gradient :math:`g_t` (negated when ``maximize``, plus
    :math:`\lambda\theta_{t-1}` for weight decay):

    .. math::
        \tilde\gamma_t = \gamma / (1 + (t - 1)\eta)                     \\
        s_t = s_{t-1} + g_t^2, \quad s_0 = \text{initial\_accumulator\_value}  \\
        \theta_t = \theta_{t-1} - \tilde\gamma_t\, g_t / (\sqrt{s_t} + \epsilon)

    Args:
        params: Tensors or param-group dicts.
        lr: learning rate :math:`\gamma` (default 1e-2).
        lr_decay: learning-rate decay :math:`\eta` (default 0).
        weight_decay: L2 penalty :math:`\lambda` (default 0).
        initial_accumulator_value: starting value of :math:`s` (default 0).
        eps: :math:`\epsilon`, added to the denominator (default 1e-10).
        maximize: maximize the objective instead of minimizing it.

    Differences from PyTorch: the state (``step``, ``sum``) is created at a
    parameter's first step rather than in the constructor (same updates),
    and a param group's own ``initial_accumulator_value`` is honoured
    (PyTorch uses the constructor's value for every group).

    Example::

        >>> opt = axon.optim.Adagrad(params, lr=0.1)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        self._check(group["lr"] >= 0, "learning rate", group["lr"], ">= 0")
        self._check(group["lr_decay"] >= 0, "lr_decay", group["lr_decay"], ">= 0")
        self._check(group["weight_decay"] >= 0, "weight_decay", group["weight_decay"], ">= 0")
        self._check(
            group["initial_accumulator_value"] >= 0,
            "initial_accumulator_value",
            group["initial_accumulator_value"],
            ">= 0",
        )
        self._check(group["eps"] >= 0, "epsilon", group["eps"], ">= 0")

    def _update(self, param, grad, state, group) -> None:
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(param, group["initial_accumulator_value"])
        state["step"] += 1
        clr = float(group["lr"]) / (1.0 + (state["step"] - 1) * float(group["lr_decay"]))
        run_elementwise(
            adagrad_update,
            [param, grad, state["sum"]],
            clr=clr,
            eps=float(group["eps"]),
            weight_decay=float(group["weight_decay"]),
            maximize=bool(group["maximize"]),
        )
