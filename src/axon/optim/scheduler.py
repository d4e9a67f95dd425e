"""``LRScheduler``: the base of every learning-rate scheduler (see ``lr_scheduler``)."""

from __future__ import annotations

from axon.optim.optimizer import Optimizer


def per_group(name: str, optimizer: Optimizer, value) -> list:
    """``value`` for each param group: a list as given (checked) or one value repeated."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(
                f"{name}: expected {len(optimizer.param_groups)} values (one per "
                f"param group), got {len(value)}"
            )
        return list(value)
    return [value] * len(optimizer.param_groups)


class LRScheduler:
    """Base class: subclasses give ``_lr(step, i)``, the lr of group ``i`` at ``step``.

    Args:
        optimizer: the optimizer whose groups' ``lr`` this sets.
        last_epoch: the last step taken; -1 (default) starts the schedule,
            other values resume it (the groups must then have ``initial_lr``).
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: {type(optimizer).__name__} is not an Optimizer"
            )
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(
                    f"{type(self).__name__}: param_groups[{i}] has no 'initial_lr'; "
                    "resuming with last_epoch >= 0 needs the optimizer's saved state"
                )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def _lr(self, step: int, i: int) -> float:
        raise NotImplementedError(f"{type(self).__name__} has no _lr")

    def get_lr(self) -> list[float]:
        """The learning rates at the current step (``last_epoch``)."""
        return [self._lr(self.last_epoch, i) for i in range(len(self.optimizer.param_groups))]

    def get_last_lr(self) -> list[float]:
        """The learning rates this scheduler last set, one per param group."""
        return list(self._last_lr)

    def step(self, epoch: int | None = None) -> None:
        """Advance one step (or jump to ``epoch``) and set each group's lr."""
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        self._set_lrs(self.get_lr())

    def _set_lrs(self, lrs: list[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        """Everything but the optimizer, as plain data (lists copied)."""
        return {
            k: list(v) if isinstance(v, list) else v
            for k, v in self.__dict__.items()
            if k != "optimizer"
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a ``state_dict()``; also puts its last learning rates back into the optimizer."""
        self.__dict__.update(
            {k: list(v) if isinstance(v, list) else v for k, v in state_dict.items()}
        )
        if len(self._last_lr) == len(self.optimizer.param_groups):
            for group, lr in zip(self.optimizer.param_groups, self._last_lr, strict=True):
                group["lr"] = lr
