"""The run directory: where a run's config, log, checkpoints and report go.

Functions of the ``Trainer`` (which calls them from thin methods), kept apart
from the loop in ``trainer.py`` so each file reads in one sitting. A run
directory holds::

    config.json         the configuration given to the Trainer (or its settings)
    metrics.jsonl       one JSON line per logged step, evaluation and epoch (runlog.py)
    checkpoints/last/   the latest complete checkpoint (checkpoint.py, resume.py)
    checkpoints/best/   the best one by ModelCheckpoint's monitor
    report.html         curves, tables and the model, self-contained (report.py)
"""

from __future__ import annotations

import json
from pathlib import Path

from axon.random import get_rng_state, set_rng_state
from axon.serialization import atomic_write
from axon.tensor import Tensor
from axon.train import report, resume
from axon.train.runlog import RunLog, new_run_dir


def open_run(trainer, checkpoint) -> None:
    """Pick the run directory (a resumed run keeps its own), open its log, write config.json.

    ``run_dir=False``: none. An explicit ``run_dir``: that. Resuming from
    ``runs/x/checkpoints/last`` without a name: ``runs/x``. Otherwise
    ``runs_root/name`` (a new timestamped one if no name), made once per trainer.
    """
    setting = trainer.run_dir_setting
    if setting is False:
        trainer.run_dir = None
    elif setting is not None:
        trainer.run_dir = Path(setting)
    elif checkpoint is not None and trainer.name is None and resume.run_dir_of(checkpoint.path):
        trainer.run_dir = resume.run_dir_of(checkpoint.path)
    elif trainer.run_dir is None:  # a second fit() on the same trainer keeps its directory
        trainer.run_dir = new_run_dir(trainer.runs_root, trainer.name)
    if trainer.run_dir is None:
        return
    trainer.run_dir.mkdir(parents=True, exist_ok=True)
    log_file = trainer.run_dir / "metrics.jsonl"
    if trainer.runlog.path != log_file:  # (a second fit() of this trainer continues its log)
        if checkpoint is None and log_file.is_file() and log_file.stat().st_size:
            raise FileExistsError(
                f"Trainer: {str(trainer.run_dir)!r} already holds a run (metrics.jsonl); "
                "resume it with fit(resume_from=...) or choose another run_dir or name"
            )
        trainer.runlog = RunLog(log_file)
    config_file = trainer.run_dir / "config.json"
    if trainer.config is not None or not config_file.exists():
        text = json.dumps(settings(trainer), indent=2, default=str) + "\n"
        atomic_write(config_file, text)


def settings(trainer) -> dict:
    """The config given to the Trainer, or else a description of its settings."""
    if trainer.config is not None:
        return trainer.config
    opt, sched = trainer.optimizer, trainer.scheduler
    return {
        "model": type(trainer.model).__name__,
        "optimizer": {"type": type(opt).__name__, **opt.defaults},
        "scheduler": type(sched).__name__ if sched is not None else None,
        "loss": type(trainer.loss_fn).__name__,
        "trainer": {
            name: getattr(trainer, name)
            for name in ("max_epochs", "max_steps", "grad_clip", "grad_accumulation",
                         "log_every", "eval_every", "seed")
        } | {"metrics": [m.name for m in trainer.metric_specs]},
    }  # fmt: skip


def model_summary(trainer) -> str:
    """``model.summary`` on one example of the first batch, else the repr and parameter count.

    Runs in eval mode and restores axon's RNG, so writing a report never
    changes the training that follows.
    """
    model, example = trainer.model, trainer.example_input
    if example is not None:
        was_training, rng = model.training, get_rng_state()
        args = example if isinstance(example, tuple) else (example,)
        try:
            model.eval()
            return model.summary(*(a[:1] if isinstance(a, Tensor) else a for a in args))
        except Exception:  # a model summary() can't trace: the repr will do
            pass
        finally:
            model.train(was_training)
            set_rng_state(rng)
    n = sum(p.numel() for p in model.parameters())
    return f"{model!r}\n\nTotal params: {n:,}"


def final_table(trainer) -> dict:
    """The numbers the report opens with."""
    final = {"step": trainer.step, "epoch": trainer.epoch, **trainer.window_or_epoch_metrics()}
    final.update(trainer.last_val)
    final["lr"] = trainer.lr
    final["time (s)"] = round(trainer.elapsed, 2)
    return final


def write_report(trainer, path=None) -> Path | None:
    """Render report.html into the run directory (or ``path``); returns where it went."""
    run_dir = trainer.run_dir
    if path is None and run_dir is None:
        return None
    path = Path(path) if path is not None else run_dir / "report.html"
    html = report.render_report(
        title=f"axon run: {run_dir.name if run_dir else 'training'}",
        records=trainer.history,
        config=settings(trainer),
        model_summary=model_summary(trainer),
        final=final_table(trainer),
        sections=trainer.report_sections,
        stop_reason=trainer.stop_reason,
    )
    atomic_write(path, html)
    return path
