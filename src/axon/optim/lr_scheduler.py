"""Learning-rate schedulers with PyTorch's interface, built on ``schedules``' pure functions.

Usage, as in PyTorch (one scheduler step per optimizer step or per epoch)::

    >>> sched = CosineAnnealingLR(opt, T_max=1000)
    >>> for batch in data:
    ...     loss = ...; loss.backward(); opt.step(); opt.zero_grad()
    ...     sched.step()

Constructing a scheduler sets each group's ``lr`` to the schedule's value at
step 0 (and records the starting lr as ``group["initial_lr"]``); each
``step()`` advances one step. ``state_dict`` / ``load_state_dict`` resume a
schedule exactly.

Difference from PyTorch: PyTorch's schedulers are mostly *chainable*
(each step multiplies the group's current lr); axon's compute the lr in
closed form from the step count (``lr = schedule(step)``). For the normal use
(one scheduler per optimizer, or several through ``SequentialLR``) both give
the same sequence; two schedulers stepping the same optimizer at once do not
compose multiplicatively here. ``load_state_dict`` also writes the restored
learning rates back into the optimizer, so resuming works whichever is
loaded first.
"""

from __future__ import annotations

import types
from bisect import bisect_right
from collections.abc import Sequence

from axon.optim import schedules
from axon.optim.one_cycle import OneCycleLR
from axon.optim.optimizer import Optimizer
from axon.optim.plateau import ReduceLROnPlateau
from axon.optim.scheduler import LRScheduler, per_group

__all__ = [
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
    "WarmupCosine",
]


class LambdaLR(LRScheduler):
    """lr = initial lr * ``lr_lambda(step)``; one function, or a list with one per group.

    Example::

        >>> sched = LambdaLR(opt, lambda step: 0.95 ** step)
    """

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1):
        self.lr_lambdas = per_group("LambdaLR lr_lambda", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def _lr(self, step, i):
        return schedules.lambda_lr(step, self.base_lrs[i], self.lr_lambdas[i])

    def state_dict(self) -> dict:
        # Functions can't be saved; callable objects save their attributes (as PyTorch).
        state = {k: v for k, v in super().state_dict().items() if k != "lr_lambdas"}
        state["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) else dict(fn.__dict__)
            for fn in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        for fn, saved in zip(self.lr_lambdas, state.pop("lr_lambdas"), strict=True):
            if saved is not None:
                fn.__dict__.update(saved)
        super().load_state_dict(state)


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` steps (``schedules.step_lr``)."""

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def _lr(self, step, i):
        return schedules.step_lr(step, self.base_lrs[i], self.step_size, self.gamma)


class MultiStepLR(LRScheduler):
    """Multiply the lr by ``gamma`` at each of ``milestones`` (``schedules.multi_step_lr``)."""

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Sequence[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ):
        self.milestones, self.gamma = sorted(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def _lr(self, step, i):
        return schedules.multi_step_lr(step, self.base_lrs[i], self.milestones, self.gamma)


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every step (``schedules.exponential_lr``)."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _lr(self, step, i):
        return schedules.exponential_lr(step, self.base_lrs[i], self.gamma)


class LinearLR(LRScheduler):
    """Scale the lr linearly from ``start_factor`` to ``end_factor`` over ``total_iters`` steps
    (``schedules.linear_lr``): the usual warm-up inside ``SequentialLR``."""

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ):
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: invalid start_factor {start_factor!r} (must be in (0, 1])")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: invalid end_factor {end_factor!r} (must be in [0, 1])")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def _lr(self, step, i):
        return schedules.linear_lr(
            step, self.base_lrs[i], self.start_factor, self.end_factor, self.total_iters
        )


class CosineAnnealingLR(LRScheduler):
    """Cosine from the initial lr to ``eta_min`` over ``T_max`` steps (``schedules.cosine_annealing``)."""

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ):
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def _lr(self, step, i):
        return schedules.cosine_annealing(step, self.base_lrs[i], self.T_max, self.eta_min)


class WarmupCosine(LRScheduler):
    """Linear warm-up to each group's lr, then cosine decay to ``min_lr`` at ``total_steps``,
    then constant (``schedules.warmup_cosine``): the schedule most language models use.

    Args:
        optimizer: its groups' current lrs are the peaks.
        warmup_steps: steps of linear warm-up.
        total_steps: the step where the decay reaches ``min_lr``.
        min_lr: the floor, one float or one per group.
        start_factor: warm-up starts at ``start_factor * peak`` (default 0).

    Example::

        >>> sched = WarmupCosine(opt, warmup_steps=2000, total_steps=600_000, min_lr=6e-5)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        warmup_steps: int,
        total_steps: int,
        min_lr=0.0,
        start_factor: float = 0.0,
        last_epoch: int = -1,
    ):
        if not 0 <= warmup_steps <= total_steps:
            raise ValueError(
                f"WarmupCosine: need 0 <= warmup_steps <= total_steps, got "
                f"warmup_steps={warmup_steps}, total_steps={total_steps}"
            )
        self.warmup_steps, self.total_steps, self.start_factor = (
            warmup_steps,
            total_steps,
            start_factor,
        )
        self.min_lrs = per_group("WarmupCosine min_lr", optimizer, min_lr)
        super().__init__(optimizer, last_epoch)

    def _lr(self, step, i):
        return schedules.warmup_cosine(
            step,
            self.base_lrs[i],
            self.warmup_steps,
            self.total_steps,
            self.min_lrs[i],
            self.start_factor,
        )


class SequentialLR(LRScheduler):
    """Run ``schedulers[i]`` from ``milestones[i - 1]`` on (``schedules.sequential``).

    Each scheduler counts its steps from its own start, so ``LinearLR``
    warm-up followed by ``CosineAnnealingLR`` is::

        >>> warm = LinearLR(opt, start_factor=0.01, total_iters=100)
        >>> decay = CosineAnnealingLR(opt, T_max=900)
        >>> sched = SequentialLR(opt, [warm, decay], milestones=[100])
    """

    def __init__(
        self, optimizer: Optimizer, schedulers: list, milestones: list[int], last_epoch: int = -1
    ):
        if not schedulers:
            raise ValueError("SequentialLR: expects at least one scheduler")
        for i, sched in enumerate(schedulers):
            if isinstance(sched, ReduceLROnPlateau):
                raise ValueError(
                    f"SequentialLR: scheduler {i} is a ReduceLROnPlateau, which needs a metric"
                )
            if getattr(sched, "optimizer", None) is not optimizer:
                raise ValueError(
                    f"SequentialLR: scheduler {i} ({type(sched).__name__}) belongs to a different optimizer"
                )
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR: expected {len(schedulers) - 1} milestones for "
                f"{len(schedulers)} schedulers, got {len(milestones)}"
            )
        self._schedulers, self._milestones = list(schedulers), list(milestones)
        super().__init__(optimizer, last_epoch)

    def _active(self) -> tuple[LRScheduler, int]:
        """The scheduler in charge at ``last_epoch`` and the step it started at."""
        i = bisect_right(self._milestones, self.last_epoch)
        return self._schedulers[i], self._milestones[i - 1] if i > 0 else 0

    def get_lr(self) -> list[float]:
        return self._active()[0].get_lr()

    def step(self, epoch: int | None = None) -> None:
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        active, start = self._active()
        active.step(self.last_epoch - start)
        self._last_lr = active.get_last_lr()

    def state_dict(self) -> dict:
        state = {k: v for k, v in super().state_dict().items() if k != "_schedulers"}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        for sched, saved in zip(self._schedulers, state.pop("_schedulers"), strict=True):
            sched.load_state_dict(saved)
        super().load_state_dict(state)
