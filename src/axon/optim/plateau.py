"""``ReduceLROnPlateau``: lower the learning rate when a metric stops improving."""

from __future__ import annotations

from axon.optim.optimizer import Optimizer
from axon.optim.scheduler import LRScheduler, per_group


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by ``factor`` when a metric has stopped improving for ``patience`` steps.

    Not a function of the step count: ``step(metric)`` takes the metric
    (e.g. validation loss). Semantics and arguments as PyTorch's.

    Args:
        optimizer: the optimizer to adjust.
        mode: 'min' (the metric should go down) or 'max'.
        factor: new lr = lr * factor (must be < 1).
        patience: steps without improvement tolerated before reducing.
        threshold: the least change that counts as an improvement.
        threshold_mode: 'rel' (best * (1 -+ threshold)) or 'abs' (best -+ threshold).
        cooldown: steps to wait after a reduction before counting again.
        min_lr: lower bound on the lr, one float or one per group.
        eps: reductions smaller than this are skipped.

    Example::

        >>> sched = ReduceLROnPlateau(opt, patience=3)
        >>> for epoch in range(100): train(); sched.step(validate())
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr=0.0,
        eps: float = 1e-8,
    ):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau: {type(optimizer).__name__} is not an Optimizer")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: invalid factor {factor!r} (must be < 1)")
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: invalid mode {mode!r} (must be 'min' or 'max')")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"ReduceLROnPlateau: invalid threshold_mode {threshold_mode!r} (must be 'rel' or 'abs')"
            )
        self.optimizer = optimizer
        self.mode, self.factor, self.patience, self.cooldown, self.eps = (
            mode,
            factor,
            patience,
            cooldown,
            eps,
        )
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.min_lrs = per_group("ReduceLROnPlateau min_lr", optimizer, min_lr)
        self.best = float("inf") if mode == "min" else float("-inf")
        self.num_bad_epochs = self.cooldown_counter = self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def _is_better(self, current: float) -> bool:
        relative = self.threshold_mode == "rel"
        if self.mode == "min":
            return current < (
                self.best * (1.0 - self.threshold) if relative else self.best - self.threshold
            )
        return current > (
            self.best * (1.0 + self.threshold) if relative else self.best + self.threshold
        )

    def step(self, metrics, epoch: int | None = None) -> None:  # type: ignore[override]
        """Record one value of the metric; reduce the lr if it has plateaued."""
        current = float(metrics)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad steps during cooldown don't count
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.optimizer.param_groups, self.min_lrs, strict=True):
                old = float(group["lr"])
                new = max(old * self.factor, floor)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]
