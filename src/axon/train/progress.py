"""Progress display: a live tqdm bar on a terminal, plain lines elsewhere.

On a terminal each epoch gets a bar showing the epoch's running loss and
first metric, the learning rate and samples/s; the finished bar stays as that
epoch's summary. When stdout is not a terminal (a log file, CI, a notebook's
captured output) redrawing would spam it, so ``ProgressBar`` prints one plain
line per epoch and one per mid-epoch evaluation instead::

    epoch 2/10 | step 64 | loss 0.3128 | accuracy 0.8906 | val_loss 0.2977 | val_accuracy 0.9 \
        | lr 1.00e-03 | 5,120 samples/s | 0.4s           (one line; wrapped here)

The trainer adds one automatically (``Trainer(progress=True)``); ``progress=
"bar"`` / ``"lines"`` force a style, ``False`` shows nothing.
"""

from __future__ import annotations

import math
import sys

from axon.train.callbacks import Callback


def format_value(name: str, value) -> str:
    if isinstance(value, float):
        if name.startswith("lr") or name.endswith("_lr"):
            return f"{value:.2e}"
        if name == "samples_per_s":
            return f"{value:,.0f}" if math.isfinite(value) else "-"
        return f"{value:.4g}"
    return str(value)


def format_logs(logs: dict, skip=("step", "epoch", "time", "split")) -> str:
    parts = []
    for name, value in logs.items():
        if name in skip or value is None:
            continue
        if name == "samples_per_s":
            parts.append(f"{format_value(name, value)} samples/s")
        else:
            parts.append(f"{name} {format_value(name, value)}")
    return " | ".join(parts)


class ProgressBar(Callback):
    """Show training progress: ``mode`` 'auto' (bar on a terminal, else lines), 'bar' or 'lines'."""

    order = 50

    def __init__(self, mode: str = "auto", file=None):
        if mode not in ("auto", "bar", "lines"):
            raise ValueError(f"ProgressBar: mode must be 'auto', 'bar' or 'lines', got {mode!r}")
        self.mode, self._file, self.bar = mode, file, None

    @property
    def file(self):
        return self._file or sys.stdout  # looked up late: pytest's capsys swaps sys.stdout

    def _use_bar(self) -> bool:
        if self.mode != "auto":
            return self.mode == "bar"
        isatty = getattr(self.file, "isatty", None)
        return bool(isatty and isatty())

    def _print(self, line: str) -> None:
        if self.bar is not None:
            self.bar.write(line, file=self.file)
        else:
            print(line, file=self.file, flush=True)

    def on_epoch_start(self, trainer, epoch):
        if not self._use_bar():
            return
        from tqdm.auto import tqdm

        total = trainer.steps_per_epoch
        done = trainer.batch_in_epoch // trainer.grad_accumulation
        of = f"/{trainer.max_epochs}" if trainer.max_epochs else ""
        self.bar = tqdm(
            total=total, initial=done, desc=f"epoch {epoch}{of}", file=self.file,
            dynamic_ncols=True, leave=True, unit="step",
        )  # fmt: skip

    def on_step_end(self, trainer, step, logs):
        if self.bar is None:
            return
        running = trainer.running_metrics()
        postfix = {k: format_value(k, v) for k, v in list(running.items())[:2]}
        postfix["lr"] = format_value("lr", trainer.lr)
        postfix["samples/s"] = format_value("samples_per_s", trainer.samples_per_s)
        self.bar.set_postfix(postfix, refresh=False)
        self.bar.update(1)

    def on_eval_end(self, trainer, logs):
        if not trainer.epoch_ending:  # an epoch-end eval is part of the epoch's line
            self._print(f"eval  step {trainer.step} | {format_logs(logs)}")

    def on_epoch_end(self, trainer, epoch, logs):
        of = f"/{trainer.max_epochs}" if trainer.max_epochs else ""
        line = f"epoch {epoch}{of} | step {trainer.step} | {format_logs(logs)}"
        if self.bar is not None:
            self.bar.set_postfix_str(format_logs(logs), refresh=True)
            self.bar.close()
            self.bar = None
        else:
            line += f" | {logs.get('time', 0.0):.1f}s"
            self._print(line)

    def on_fit_end(self, trainer, logs):
        self.on_exception(trainer, None)
        if trainer.stop_reason:
            self._print(trainer.stop_reason)

    def on_exception(self, trainer, error):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
