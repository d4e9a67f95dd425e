"""Learning-rate schedules as pure functions: ``step -> lr``.

Each function gives the learning rate at ``step`` (0 = before the first
optimizer step) from the peak/base rate and the schedule's settings, with no
state. The scheduler classes in ``lr_scheduler`` call these; use them
directly where a function is handier, e.g. with ``functools.partial``::

    >>> from functools import partial
    >>> lr_at = partial(warmup_cosine, base_lr=6e-4, warmup_steps=2000, total_steps=600_000, min_lr=6e-5)
    >>> for group in opt.param_groups: group["lr"] = lr_at(step)

All arithmetic is on Python floats (``math``), so a schedule never hands a
NumPy float64 to an optimizer.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence


def lambda_lr(step: int, base_lr: float, lr_lambda: Callable[[int], float]) -> float:
    """``base_lr * lr_lambda(step)`` (``LambdaLR``)."""
    return base_lr * lr_lambda(step)


def step_lr(step: int, base_lr: float, step_size: int, gamma: float = 0.1) -> float:
    """Decay by ``gamma`` every ``step_size`` steps: ``base_lr * gamma ** (step // step_size)`` (``StepLR``)."""
    return base_lr * gamma ** (step // step_size)


def multi_step_lr(
    step: int, base_lr: float, milestones: Sequence[int], gamma: float = 0.1
) -> float:
    """Decay by ``gamma`` at each milestone reached (a repeated milestone decays twice) (``MultiStepLR``)."""
    return base_lr * gamma ** bisect_right(sorted(milestones), step)


def exponential_lr(step: int, base_lr: float, gamma: float) -> float:
    """``base_lr * gamma ** step`` (``ExponentialLR``)."""
    return base_lr * gamma**step


def linear_lr(
    step: int,
    base_lr: float,
    start_factor: float = 1.0 / 3,
    end_factor: float = 1.0,
    total_iters: int = 5,
) -> float:
    """Scale ``base_lr`` by a factor going linearly from ``start_factor`` to ``end_factor``
    over ``total_iters`` steps, then constant (``LinearLR``)."""
    progress = min(total_iters, step) / total_iters if total_iters > 0 else 1.0
    return base_lr * (start_factor + (end_factor - start_factor) * progress)


def cosine_annealing(step: int, base_lr: float, T_max: int, eta_min: float = 0.0) -> float:
    r"""Half a cosine from ``base_lr`` down to ``eta_min`` over ``T_max`` steps (``CosineAnnealingLR``).

    :math:`\eta_t = \eta_{min} + (\eta_{base} - \eta_{min})(1 + \cos(\pi t / T_{max})) / 2`.
    As in PyTorch it keeps going past ``T_max`` (back up, period ``2 T_max``);
    use ``warmup_cosine`` for a schedule that stays at its floor.
    """
    return eta_min + (base_lr - eta_min) * (1.0 + math.cos(math.pi * step / T_max)) / 2.0


def anneal(start: float, end: float, pct: float, strategy: str = "cos") -> float:
    """Go from ``start`` (pct 0) to ``end`` (pct 1) along half a cosine ('cos') or a line ('linear')."""
    if strategy == "cos":
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1.0)
    return (end - start) * pct + start


def one_cycle_phases(total_steps: int, pct_start: float = 0.3, three_phase: bool = False) -> list:
    """The 1cycle phases as ``(end_step, start, end)``, where start/end name the lr
    ('initial', 'max', 'min') and the phase's momentum goes the opposite way."""
    up_end = float(pct_start * total_steps) - 1
    if three_phase:
        return [
            (up_end, "initial", "max"),
            (float(2 * pct_start * total_steps) - 2, "max", "initial"),
            (total_steps - 1, "initial", "min"),
        ]
    return [(up_end, "initial", "max"), (total_steps - 1, "max", "min")]


def one_cycle_position(
    step: int, total_steps: int, pct_start: float = 0.3, three_phase: bool = False
) -> tuple[int, float]:
    """Which 1cycle phase ``step`` is in, and how far through it (0..1)."""
    phases = one_cycle_phases(total_steps, pct_start, three_phase)
    start_step = 0.0
    for i, (end_step, _, _) in enumerate(phases):
        if step <= end_step or i == len(phases) - 1:
            return i, (step - start_step) / (end_step - start_step)
        start_step = end_step
    raise AssertionError("unreachable")


def one_cycle(
    step: int,
    max_lr: float,
    total_steps: int,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> float:
    """The 1cycle policy (Smith & Topin, 2017; ``OneCycleLR``).

    From ``max_lr / div_factor`` up to ``max_lr`` over the first ``pct_start``
    of ``total_steps``, then down to ``max_lr / div_factor / final_div_factor``
    (with ``three_phase``: back to the initial lr first, then down), each
    phase annealed by ``anneal_strategy`` ('cos' or 'linear').
    """
    initial = max_lr / div_factor
    levels = {"initial": initial, "max": max_lr, "min": initial / final_div_factor}
    phase, pct = one_cycle_position(step, total_steps, pct_start, three_phase)
    _, start, end = one_cycle_phases(total_steps, pct_start, three_phase)[phase]
    return anneal(levels[start], levels[end], pct, anneal_strategy)


def warmup_cosine(
    step: int,
    base_lr: float,
    warmup_steps: int,
    total_steps: int,
    min_lr: float = 0.0,
    start_factor: float = 0.0,
) -> float:
    r"""Linear warm-up, then cosine decay to a floor: the usual language-model schedule.

    .. math::
        \eta_t = \eta_{base}\,(f_0 + (1 - f_0)\,t / W)            \quad t < W  \\
        \eta_t = \eta_{min} + (\eta_{base} - \eta_{min})
                 \tfrac12 (1 + \cos(\pi \tfrac{t - W}{T - W}))    \quad W \le t < T \\
        \eta_t = \eta_{min}                                       \quad t \ge T

    with :math:`W` = ``warmup_steps``, :math:`T` = ``total_steps`` and
    :math:`f_0` = ``start_factor``. Continuous at both joins. With the
    default ``start_factor=0`` the very first step has lr 0 (nanoGPT's
    ``get_lr`` instead uses :math:`(t + 1) / (W + 1)`); pass a small
    ``start_factor`` to make the first step count.

    Args:
        step: the step (0 = the first optimizer step).
        base_lr: the peak learning rate, reached at ``warmup_steps``.
        warmup_steps: length of the linear warm-up (0 for none).
        total_steps: the step at which the decay reaches ``min_lr``.
        min_lr: the floor (an absolute learning rate).
        start_factor: the warm-up starts at ``start_factor * base_lr``.
    """
    if step < warmup_steps:
        return base_lr * (start_factor + (1.0 - start_factor) * step / warmup_steps)
    if step >= total_steps:
        return min_lr
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + (base_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


def sequential(
    step: int, schedules: Sequence[Callable[[int], float]], milestones: Sequence[int]
) -> float:
    """Run ``schedules[i]`` from ``milestones[i - 1]`` on, each seeing steps counted from its own start
    (``SequentialLR``); ``schedules`` are ``step -> lr`` functions."""
    if len(milestones) != len(schedules) - 1:
        raise ValueError(
            f"sequential: expected {len(schedules) - 1} milestones for {len(schedules)} schedules, "
            f"got {len(milestones)}"
        )
    i = bisect_right(milestones, step)
    return schedules[i](step - (milestones[i - 1] if i > 0 else 0))
