"""Lion: EvoLved Sign Momentum (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms")."""

from __future__ import annotations

import numpy as np

from axon.optim._threads import run_elementwise
from axon.optim.optimizer import Optimizer


def lion_update(param, grad, exp_avg, *, lr, beta1, beta2, weight_decay, maximize) -> None:
    """One Lion step for one parameter, in place (see ``Lion`` for the math)."""
    sign = -1.0 if maximize else 1.0
    tmp = np.multiply(grad, sign * (1.0 - beta1), out=np.empty_like(param))
    # c_t = beta1 m_{t-1} + (1 - beta1) g_t, only its sign is used
    tmp += beta1 * exp_avg
    np.sign(tmp, out=tmp)
    if weight_decay != 0:
        param *= 1.0 - lr * weight_decay
    tmp *= -lr
    param += tmp
    # m_t = beta2 m_{t-1} + (1 - beta2) g_t
    exp_avg *= beta2
    np.multiply(grad, sign * (1.0 - beta2), out=tmp)
    exp_avg += tmp


class Lion(Optimizer):
    r"""Lion (Chen et al., 2023): a sign update of an interpolated momentum.

    With gradient :math:`g_t` (negated when ``maximize``):

    .. math::
        c_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t                             \\
        \theta_t = (1 - \gamma\lambda)\,\theta_{t-1} - \gamma\,\mathrm{sign}(c_t)  \\
        m_t = \beta_2 m_{t-1} + (1 - \beta_2) g_t

    Every coordinate moves by exactly :math:`\pm\gamma`, so Lion wants a
    learning rate 3-10x smaller than AdamW's and a weight decay 3-10x larger
    (the paper's advice). Weight decay is decoupled, as in AdamW.
    PyTorch has no Lion; the defaults follow the paper
    (``lr=1e-4, betas=(0.9, 0.99), weight_decay=0``). ``sign(0) = 0``.

    Args:
        params: Tensors or param-group dicts.
        lr: learning rate :math:`\gamma` (default 1e-4).
        betas: :math:`(\beta_1, \beta_2)`: interpolation for the update and
            decay of the momentum (default (0.9, 0.99)).
        weight_decay: decoupled weight decay :math:`\lambda` (default 0).
        maximize: maximize the objective instead of minimizing it.

    State per parameter: ``exp_avg`` (the momentum :math:`m`).

    Example::

        >>> opt = axon.optim.Lion(params, lr=3e-5, weight_decay=1.0)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.99),
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ):
        defaults = dict(lr=lr, betas=tuple(betas), weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        beta1, beta2 = group["betas"]
        self._check(group["lr"] >= 0, "learning rate", group["lr"], ">= 0")
        self._check(0 <= beta1 <= 1, "beta1", beta1, "in [0, 1]")
        self._check(0 <= beta2 <= 1, "beta2", beta2, "in [0, 1]")
        self._check(group["weight_decay"] >= 0, "weight_decay", group["weight_decay"], ">= 0")

    def _update(self, param, grad, state, group) -> None:
        if not state:
            state["exp_avg"] = np.zeros_like(param)
        beta1, beta2 = group["betas"]
        run_elementwise(
            lion_update,
            [param, grad, state["exp_avg"]],
            lr=float(group["lr"]),
            beta1=float(beta1),
            beta2=float(beta2),
            weight_decay=float(group["weight_decay"]),
            maximize=bool(group["maximize"]),
        )
