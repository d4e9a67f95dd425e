"""Exact resume: what a checkpoint must hold so a restarted run repeats the lost one bit for bit.

A run killed after step ``s`` and resumed must compute the same losses as one
never stopped. That needs, as of the end of step ``s``:

- the weights and the optimizer's state (moments, step counts, param groups
  including the current lr) — ``model.safetensors``, ``optimizer.*``;
- the scheduler's position; the loop's counters: ``step``, ``epoch``, how
  many batches of the epoch were consumed, whether the epoch's end (its
  evaluation and summary) was already done;
- the data loader's position in the epoch and its epoch seed
  (``DataLoader.state_dict``), so the rest of the epoch is the same batches;
- axon's RNG state (dropout masks, the next epoch's shuffle), taken last,
  after everything that drew from it during step ``s``;
- the running metric sums (epoch and log window), callback state
  (EarlyStopping's counters and best weights), and how many lines
  metrics.jsonl had, so the log is cut back to exactly that point.

Checkpoints are written only at the end of a step or an epoch (by
callbacks), never mid-step, so there is no half-done gradient accumulation
to save.
"""

from __future__ import annotations

from pathlib import Path

from axon.random import get_rng_state, set_rng_state
from axon.train.checkpoint import Checkpoint, CheckpointError, load_checkpoint


def _callback_keys(callbacks) -> list[str]:
    """A stable key per callback: its class name, numbered when a class appears twice."""
    seen: dict[str, int] = {}
    keys = []
    for cb in callbacks:
        name = type(cb).__name__
        keys.append(name if name not in seen else f"{name}_{seen[name]}")
        seen[name] = seen.get(name, 0) + 1
    return keys


def capture(trainer) -> dict:
    """The trainer's whole resumable state as plain data (+ arrays), RNG last."""
    data = trainer.train_data
    return {
        "step": trainer.step,
        "epoch": trainer.epoch,
        "epoch_done": trainer.epoch_done,
        "batch_in_epoch": trainer.batch_in_epoch,
        "elapsed": trainer.elapsed,
        "last_eval_step": trainer.last_eval_step,
        "last_val": trainer.last_val,
        "scheduler": trainer.scheduler.state_dict() if trainer.scheduler is not None else None,
        "metrics": {
            "epoch": trainer.epoch_metrics.state_dict(),
            "window": trainer.window_metrics.state_dict(),
        },
        "callbacks": {
            key: cb.state_dict()
            for key, cb in zip(_callback_keys(trainer.callbacks), trainer.callbacks, strict=True)
        },
        "log_lines": len(trainer.runlog),
        "data": data.state_dict() if hasattr(data, "state_dict") else None,
        "rng": get_rng_state(),
    }


def load(path) -> Checkpoint:
    """Read and check a checkpoint (or a run dir's ``checkpoints/last``) for resuming."""
    checkpoint = load_checkpoint(path)
    missing = {"step", "epoch", "rng"} - set(checkpoint.state)
    if missing:
        raise CheckpointError(
            f"checkpoint {str(checkpoint.path)!r}: holds weights but no training state "
            f"(trainer.json lacks {sorted(missing)}); load the weights with "
            "model.load_state_dict(load_checkpoint(path).model) instead of resuming"
        )
    return checkpoint


def run_dir_of(checkpoint_dir: Path) -> Path | None:
    """``runs/x`` for ``runs/x/checkpoints/last`` (None for a checkpoint elsewhere)."""
    parent = Path(checkpoint_dir).parent
    return parent.parent if parent.name == "checkpoints" else None


def restore(trainer, checkpoint: Checkpoint) -> None:
    """Put every part of ``checkpoint`` back into ``trainer``; ``fit()`` continues from there."""
    state, where = checkpoint.state, str(checkpoint.path)
    try:
        trainer.model.load_state_dict(checkpoint.model)
    except (KeyError, ValueError) as e:
        raise CheckpointError(
            f"checkpoint {where!r}: its weights don't fit this model: {e}"
        ) from None
    if checkpoint.optimizer is not None:
        try:
            trainer.optimizer.load_state_dict(checkpoint.optimizer)
        except (KeyError, ValueError, TypeError) as e:
            raise CheckpointError(
                f"checkpoint {where!r}: its optimizer state doesn't fit this optimizer: {e}"
            ) from None
    if trainer.scheduler is not None and state.get("scheduler") is not None:
        trainer.scheduler.load_state_dict(state["scheduler"])
    trainer.step, trainer.epoch = int(state["step"]), int(state["epoch"])
    trainer.epoch_done = bool(state.get("epoch_done", True))
    trainer.batch_in_epoch = int(state.get("batch_in_epoch", 0))
    trainer.elapsed_before = float(state.get("elapsed", 0.0))
    trainer.last_eval_step = state.get("last_eval_step")
    trainer.last_val = dict(state.get("last_val") or {})
    metrics = state.get("metrics", {})
    trainer.epoch_metrics.load_state_dict(metrics.get("epoch", {}))
    trainer.window_metrics.load_state_dict(metrics.get("window", {}))
    saved = state.get("callbacks", {})
    for key, cb in zip(_callback_keys(trainer.callbacks), trainer.callbacks, strict=True):
        if key in saved:
            cb.load_state_dict(saved[key])
    data = trainer.train_data
    if state.get("data") is not None and hasattr(data, "load_state_dict"):
        data.load_state_dict(state["data"])
    if "log_lines" in state and len(trainer.runlog) > state["log_lines"]:
        trainer.runlog.truncate(int(state["log_lines"]))  # drop what the lost run logged later
    trainer.last_checkpoint = checkpoint.path
    trainer._resuming = True
    set_rng_state(state["rng"])  # last: nothing above may draw from it
