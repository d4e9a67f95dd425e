"""Adam and AdamW: adaptive moment estimation, with coupled or decoupled weight decay."""

from __future__ import annotations

import numpy as np

from axon.optim._threads import run_elementwise
from axon.optim.optimizer import Optimizer, decayed_grad


def adam_update(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    max_exp_avg_sq,
    *,
    step,
    lr,
    beta1,
    beta2,
    eps,
    weight_decay,
    decoupled_weight_decay,
    amsgrad,
    maximize,
) -> None:
    """One Adam/AdamW step for one parameter, in place (see ``Adam`` for the math).

    Written as single-pass NumPy ops into one scratch array (``out=``), so a
    step reads and writes each buffer a few times and allocates one temporary.
    """
    tmp = np.empty_like(param)
    sign = -1.0 if maximize else 1.0  # g_t = sign * grad, folded into the ops below
    if weight_decay != 0:
        if decoupled_weight_decay:
            param *= 1.0 - lr * weight_decay
        else:
            grad, sign = decayed_grad(param, grad, weight_decay, maximize), 1.0

    # m_t = beta1 m_{t-1} + (1 - beta1) g_t
    exp_avg *= beta1
    np.multiply(grad, sign * (1.0 - beta1), out=tmp)
    exp_avg += tmp
    # v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
    np.multiply(grad, grad, out=tmp)
    tmp *= 1.0 - beta2
    exp_avg_sq *= beta2
    exp_avg_sq += tmp
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        exp_avg_sq = max_exp_avg_sq

    # theta -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)
    #        = (lr / bc1 * sqrt(bc2)) * m / (sqrt(v) + eps * sqrt(bc2))
    bias_correction1 = 1.0 - beta1**step
    bias_correction2_sqrt = (1.0 - beta2**step) ** 0.5
    np.sqrt(exp_avg_sq, out=tmp)
    tmp += eps * bias_correction2_sqrt
    np.divide(exp_avg, tmp, out=tmp)
    tmp *= -lr / bias_correction1 * bias_correction2_sqrt
    param += tmp


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), as ``torch.optim.Adam``.

    With gradient :math:`g_t` (negated when ``maximize``):

    .. math::
        g_t \leftarrow g_t + \lambda \theta_{t-1}  \text{ (L2 weight decay; AdamW instead does }
              \theta_{t-1} \leftarrow (1 - \gamma\lambda)\theta_{t-1})                   \\
        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t                                          \\
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2                                        \\
        \hat v_t = \max(\hat v_{t-1}, v_t) \text{ (amsgrad) or } v_t                       \\
        \theta_t = \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t}
                   \frac{m_t}{\sqrt{\hat v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    Args:
        params: Tensors or param-group dicts.
        lr: learning rate :math:`\gamma` (default 1e-3).
        betas: :math:`(\beta_1, \beta_2)`, decay rates of the moment estimates.
        eps: :math:`\epsilon`, added to the denominator for stability (default 1e-8).
        weight_decay: :math:`\lambda` (default 0): an L2 penalty added to the
            gradient, or with ``decoupled_weight_decay=True`` a direct shrink
            of the weights (which is AdamW).
        amsgrad: use the running maximum of :math:`v_t` (Reddi et al., 2018).
        maximize: maximize the objective instead of minimizing it.
        decoupled_weight_decay: apply weight decay as AdamW does.

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq`` and, with
    amsgrad, ``max_exp_avg_sq`` (the names PyTorch uses).

    Example::

        >>> opt = axon.optim.Adam(model.parameters(), lr=3e-4)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ):
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        beta1, beta2 = group["betas"]
        self._check(group["lr"] >= 0, "learning rate", group["lr"], ">= 0")
        self._check(group["eps"] >= 0, "epsilon", group["eps"], ">= 0")
        self._check(0 <= beta1 < 1, "beta1", beta1, "in [0, 1)")
        self._check(0 <= beta2 < 1, "beta2", beta2, "in [0, 1)")
        self._check(group["weight_decay"] >= 0, "weight_decay", group["weight_decay"], ">= 0")

    def _update(self, param, grad, state, group) -> None:
        amsgrad = bool(group["amsgrad"])
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
        if amsgrad and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        beta1, beta2 = group["betas"]
        run_elementwise(
            adam_update,
            [param, grad, state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq")],
            step=state["step"],
            lr=float(group["lr"]),
            beta1=float(beta1),
            beta2=float(beta2),
            eps=float(group["eps"]),
            weight_decay=float(group["weight_decay"]),
            decoupled_weight_decay=bool(group["decoupled_weight_decay"]),
            amsgrad=amsgrad,
            maximize=bool(group["maximize"]),
        )


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``.

    The weights shrink directly, :math:`\theta \leftarrow (1 - \gamma\lambda)\theta`,
    before the Adam step, instead of adding :math:`\lambda\theta` to the
    gradient (where Adam's normalisation would weaken it). See ``Adam`` for
    the rest of the math and the arguments; the default ``weight_decay`` is 1e-2.

    Example::

        >>> groups = axon.optim.weight_decay_groups(model.named_parameters(), 0.1)
        >>> opt = axon.optim.AdamW(groups, lr=6e-4, betas=(0.9, 0.95))
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ):
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )
