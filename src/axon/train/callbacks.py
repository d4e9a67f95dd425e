"""Callbacks: small objects the ``Trainer`` calls at fixed points of the loop.

Hooks (all optional; ``logs`` is a dict of plain numbers):

    on_fit_start(trainer)
    on_epoch_start(trainer, epoch)
    on_after_backward(trainer, step, logs)    gradients ready (unclipped), update not yet applied
    on_step_end(trainer, step, logs)          after the optimizer and scheduler step
    on_eval_end(trainer, logs)                logs hold "val_loss", "val_accuracy", ...
    on_epoch_end(trainer, epoch, logs)        train metrics of the epoch (+ val_* if evaluated)
    on_fit_end(trainer, logs)
    on_exception(trainer, error)              fit is being left by an exception (then re-raised)

``step`` counts optimizer steps from 1. A callback stops training with
``trainer.stop(reason)``; from ``on_after_backward`` that also skips the
pending update. Callbacks run in ascending ``order`` (NaNGuard first,
ModelCheckpoint last, so a checkpoint sees every other callback's new state).
``state_dict``/``load_state_dict`` carry a callback's counters through a
checkpoint, so a resumed run continues them exactly.

Example::

    >>> class PrintLR(Callback):
    ...     def on_epoch_end(self, trainer, epoch, logs):
    ...         print(epoch, trainer.lr)
    >>> Trainer(..., callbacks=[EarlyStopping("val_loss", patience=3), PrintLR()]).fit()
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np


class Callback:
    """Base class: override the hooks you need (see the module docstring)."""

    order = 0

    def on_fit_start(self, trainer) -> None: ...
    def on_epoch_start(self, trainer, epoch: int) -> None: ...
    def on_after_backward(self, trainer, step: int, logs: dict) -> None: ...
    def on_step_end(self, trainer, step: int, logs: dict) -> None: ...
    def on_eval_end(self, trainer, logs: dict) -> None: ...
    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None: ...
    def on_fit_end(self, trainer, logs: dict) -> None: ...
    def on_exception(self, trainer, error: BaseException) -> None: ...

    def state_dict(self) -> dict:
        """Plain data (and arrays) to resume this callback; ``{}`` if it keeps none."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class Monitor:
    """Tracks the best value of one logged quantity: ``improved(value)`` updates and reports.

    ``mode`` is 'min' or 'max' ('auto': max for accuracy-like names, else min).
    A value counts as better only by more than ``min_delta``. Val metrics
    (``val_*``) are checked after each evaluation, others at each epoch's end.
    """

    def __init__(self, monitor: str, mode: str = "auto", min_delta: float = 0.0):
        if mode == "auto":
            mode = "max" if any(w in monitor for w in ("acc", "f1", "auc")) else "min"
        if mode not in ("min", "max"):
            raise ValueError(f"{monitor}: mode must be 'min', 'max' or 'auto', got {mode!r}")
        self.monitor, self.mode, self.min_delta = monitor, mode, abs(min_delta)
        self.best = math.inf if mode == "min" else -math.inf
        self.best_step: int | None = None

    @property
    def on_eval(self) -> bool:
        return self.monitor.startswith("val_")

    def improved(self, value: float, step: int) -> bool:
        if not math.isfinite(value):
            return False
        if self.mode == "min":
            better = value < self.best - self.min_delta
        else:
            better = value > self.best + self.min_delta
        if better:
            self.best, self.best_step = float(value), step
        return better

    def state_dict(self) -> dict:
        return {"best": self.best, "best_step": self.best_step}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.best_step = float(state["best"]), state["best_step"]


class _Monitoring(Callback):
    """A callback that reacts to a monitored value, after evals (val_*) or epochs."""

    def __init__(self, monitor: str, mode: str, min_delta: float = 0.0):
        self.tracker = Monitor(monitor, mode, min_delta)

    def on_eval_end(self, trainer, logs):
        if self.tracker.on_eval:
            self._check(trainer, logs)

    def on_epoch_end(self, trainer, epoch, logs):
        if not self.tracker.on_eval:
            self._check(trainer, logs)

    def _check(self, trainer, logs) -> None:
        value = logs.get(self.tracker.monitor)
        if value is not None:
            self.on_value(trainer, float(value), self.tracker.improved(float(value), trainer.step))

    def on_value(self, trainer, value: float, improved: bool) -> None: ...


class EarlyStopping(_Monitoring):
    """Stop when ``monitor`` has not improved for ``patience`` checks.

    Args:
        monitor: a logged name, e.g. 'val_loss' (checked per evaluation) or
            'loss' (checked per epoch).
        mode: 'min', 'max' or 'auto'.
        patience: checks without improvement tolerated.
        min_delta: the least change that counts as an improvement.
        restore_best_weights: at the end of fit, put back the weights of the
            best check (kept in memory, and in checkpoints so a resume keeps them).

    Example::

        >>> EarlyStopping("val_loss", patience=5, restore_best_weights=True)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        patience: int = 5,
        min_delta: float = 0.0,
        restore_best_weights: bool = False,
    ):
        super().__init__(monitor, mode, min_delta)
        self.patience, self.restore_best_weights = patience, restore_best_weights
        self.wait = 0
        self.best_weights: dict[str, np.ndarray] | None = None
        self.stopped_step: int | None = None

    def on_value(self, trainer, value, improved):
        if improved:
            self.wait = 0
            if self.restore_best_weights:
                self.best_weights = {
                    k: v.data.copy() for k, v in trainer.model.state_dict().items()
                }
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_step = trainer.step
            best = self.tracker
            trainer.stop(
                f"EarlyStopping: {best.monitor} has not improved for {self.wait} "
                f"check{'s' if self.wait != 1 else ''} "
                f"(best {best.best:.6g} at step {best.best_step})"
            )

    def on_fit_end(self, trainer, logs):
        if self.restore_best_weights and self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)

    def state_dict(self):
        return {
            **self.tracker.state_dict(),
            "wait": self.wait,
            "stopped_step": self.stopped_step,
            "best_weights": self.best_weights,
        }

    def load_state_dict(self, state):
        self.tracker.load_state_dict(state)
        self.wait, self.stopped_step = int(state["wait"]), state["stopped_step"]
        self.best_weights = state.get("best_weights")


class ModelCheckpoint(_Monitoring):
    """Keep ``checkpoints/last`` (every N steps/epochs and at the end) and ``checkpoints/best``.

    Both are complete, resumable checkpoints (``Trainer.save_checkpoint``),
    written atomically. ``best`` is decided when ``monitor`` improves and
    written at the next clean point of the loop (end of that step or epoch),
    so it resumes as exactly as ``last``.

    Args:
        dirpath: where ``last/`` and ``best/`` go (default: the run's ``checkpoints/``).
        monitor: logged name that defines "best" (None: keep no best).
        mode: 'min', 'max' or 'auto'.
        every_n_steps: also save ``last`` every this many optimizer steps.
        every_n_epochs: save ``last`` every this many epochs (default 1).
        save_last: keep ``last`` at all.

    Example::

        >>> ModelCheckpoint(monitor="val_accuracy", every_n_steps=500)
    """

    order = 100

    def __init__(
        self,
        dirpath=None,
        monitor: str | None = "val_loss",
        mode: str = "auto",
        every_n_steps: int | None = None,
        every_n_epochs: int | None = 1,
        save_last: bool = True,
    ):
        super().__init__(monitor or "", mode)
        self.dirpath, self.monitor = dirpath, monitor
        self.every_n_steps, self.every_n_epochs = every_n_steps, every_n_epochs
        self.save_last = save_last
        self._best_pending = False
        self.last_saved_step: int | None = None

    def _dir(self, trainer, name: str) -> Path:
        base = self.dirpath or (trainer.run_dir / "checkpoints" if trainer.run_dir else None)
        if base is None:
            raise ValueError("ModelCheckpoint: no dirpath given and the trainer has no run_dir")
        return Path(base) / name

    def on_value(self, trainer, value, improved):
        self._best_pending = self._best_pending or (improved and self.monitor is not None)

    def _flush(self, trainer, due_last: bool) -> None:
        if self._best_pending:
            self._best_pending = False
            trainer.save_checkpoint(self._dir(trainer, "best"))
        if due_last and self.save_last:
            self.last_saved_step = trainer.step  # before saving, so the checkpoint records it
            trainer.save_checkpoint(self._dir(trainer, "last"))

    def on_step_end(self, trainer, step, logs):
        self._flush(trainer, bool(self.every_n_steps) and step % self.every_n_steps == 0)

    def on_epoch_end(self, trainer, epoch, logs):
        super().on_epoch_end(trainer, epoch, logs)  # a train-metric monitor is checked first
        self._flush(trainer, bool(self.every_n_epochs) and epoch % self.every_n_epochs == 0)

    def on_fit_end(self, trainer, logs):
        if trainer.failed:  # never overwrite the last good checkpoint with a broken state
            return
        self._flush(trainer, self.last_saved_step != trainer.step)

    def state_dict(self):
        return {**self.tracker.state_dict(), "last_saved_step": self.last_saved_step}

    def load_state_dict(self, state):
        self.tracker.load_state_dict(state)
        self.last_saved_step = state.get("last_saved_step")


class NaNGuard(Callback):
    """Stop before a non-finite loss or gradient can touch the weights.

    Runs after backward and before the optimizer step. The message names the
    step and the first non-finite quantity: the loss, or the first parameter
    (by name) whose gradient holds NaN or Inf. The update is skipped, and
    ModelCheckpoint writes nothing more, so the last good checkpoint stays.

    Args:
        raise_error: raise ``FloatingPointError`` instead of stopping quietly.
    """

    order = -100

    def __init__(self, raise_error: bool = False):
        self.raise_error = raise_error
        self.message: str | None = None

    def on_after_backward(self, trainer, step, logs):
        where = f"at step {step} (epoch {trainer.epoch})"
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(loss):
            problem = f"non-finite loss ({loss}) {where}"
        else:
            problem = None
            for name, p in trainer.model.named_parameters():
                if p.grad is not None and not np.isfinite(p.grad.data).all():
                    bad = int(np.count_nonzero(~np.isfinite(p.grad.data)))
                    problem = (
                        f"non-finite gradient of parameter {name!r} ({bad} of {p.grad.data.size} "
                        f"values are NaN/Inf) {where}"
                    )
                    break
        if problem is None:
            return
        self.message = f"NaNGuard: {problem}; stopped before the update"
        if trainer.last_checkpoint is not None:
            self.message += f"; last good checkpoint: {trainer.last_checkpoint}"
        trainer.stop(self.message, failed=True)
        if self.raise_error:
            raise FloatingPointError(self.message)


class LRLogger(Callback):
    """Record every param group's learning rate at every step (``split: "lr"`` in metrics.jsonl).

    Groups after the first are logged as ``lr_group1``, ``lr_group2``, ...
    """

    def on_step_end(self, trainer, step, logs):
        record = {"step": step, "epoch": trainer.epoch}
        for i, lr in enumerate(trainer.step_lrs):
            record["lr" if i == 0 else f"lr_group{i}"] = lr
        trainer.log("lr", record)


class TimeLimit(Callback):
    """Stop training after ``minutes`` of training time (the run still evaluates and reports).

    Time counts across a resume (the trainer's ``elapsed``), so a resumed run
    stops at the same total budget.
    """

    def __init__(self, minutes: float):
        if minutes <= 0:
            raise ValueError(f"TimeLimit: minutes must be positive, got {minutes}")
        self.minutes = minutes

    def on_step_end(self, trainer, step: int, logs: dict) -> None:
        if trainer.elapsed >= 60 * self.minutes:
            trainer.stop(f"time limit of {self.minutes:g} min reached")
