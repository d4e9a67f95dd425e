"""``OneCycleLR``: the 1cycle policy, cycling momentum inversely to the learning rate."""

from __future__ import annotations

from axon.optim import schedules
from axon.optim.optimizer import Optimizer
from axon.optim.scheduler import LRScheduler, per_group


class OneCycleLR(LRScheduler):
    """The 1cycle policy (``schedules.one_cycle``), cycling momentum (or Adam's beta1) inversely.

    Args:
        optimizer: an optimizer; its lrs are replaced by ``max_lr / div_factor``.
        max_lr: peak lr, one float or one per group.
        total_steps: steps in the cycle, or give ``epochs`` and ``steps_per_epoch``.
        pct_start: fraction of the cycle spent increasing the lr (default 0.3).
        anneal_strategy: 'cos' (default) or 'linear'.
        cycle_momentum: cycle ``momentum`` / ``betas[0]`` between ``max_momentum``
            and ``base_momentum`` (default True).
        div_factor: initial lr = max_lr / div_factor (default 25).
        final_div_factor: final lr = initial lr / final_div_factor (default 1e4).
        three_phase: go back to the initial lr before annihilating it.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr,
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum=0.85,
        max_momentum=0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ):
        if total_steps is None:
            if not (
                isinstance(epochs, int)
                and epochs > 0
                and isinstance(steps_per_epoch, int)
                and steps_per_epoch > 0
            ):
                raise ValueError(
                    "OneCycleLR: give total_steps, or positive integer epochs and steps_per_epoch"
                )
            total_steps = epochs * steps_per_epoch
        if not isinstance(total_steps, int) or total_steps <= 0:
            raise ValueError(
                f"OneCycleLR: invalid total_steps {total_steps!r} (must be a positive int)"
            )
        if not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: invalid pct_start {pct_start!r} (must be in [0, 1])")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"OneCycleLR: invalid anneal_strategy {anneal_strategy!r} (must be 'cos' or 'linear')"
            )
        self.total_steps, self.pct_start, self.three_phase = total_steps, pct_start, three_phase
        self.anneal_strategy, self.cycle_momentum = anneal_strategy, cycle_momentum
        groups = optimizer.param_groups
        if last_epoch == -1:
            for group, peak in zip(
                groups, per_group("OneCycleLR max_lr", optimizer, max_lr), strict=True
            ):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(
                    f"OneCycleLR: cycle_momentum=True needs an optimizer with momentum "
                    f"or betas; {type(optimizer).__name__} has neither"
                )
            self.use_beta1 = "betas" in optimizer.defaults
            if last_epoch == -1:
                tops = per_group("OneCycleLR max_momentum", optimizer, max_momentum)
                bottoms = per_group("OneCycleLR base_momentum", optimizer, base_momentum)
                for group, top, bottom in zip(groups, tops, bottoms, strict=True):
                    self._set_momentum(group, top)
                    group["max_momentum"], group["base_momentum"] = top, bottom
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: dict, value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {step} times; total_steps is {self.total_steps}"
            )
        phase, pct = schedules.one_cycle_position(
            step, self.total_steps, self.pct_start, self.three_phase
        )
        _, start, end = schedules.one_cycle_phases(
            self.total_steps, self.pct_start, self.three_phase
        )[phase]
        lrs = []
        for group in self.optimizer.param_groups:
            lrs.append(
                schedules.anneal(
                    group[f"{start}_lr"], group[f"{end}_lr"], pct, self.anneal_strategy
                )
            )
            if self.cycle_momentum:
                # momentum moves opposite to the lr: high where the lr is low
                momentum_at = {
                    "initial": "max_momentum",
                    "min": "max_momentum",
                    "max": "base_momentum",
                }
                self._set_momentum(
                    group,
                    schedules.anneal(
                        group[momentum_at[start]],
                        group[momentum_at[end]],
                        pct,
                        self.anneal_strategy,
                    ),
                )
        return lrs
