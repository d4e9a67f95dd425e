"""``Trainer``: the training loop, once, with logging, evaluation, checkpoints and exact resume.

One optimizer step (``step`` counts them from 1):

    for each of ``grad_accumulation`` micro-batches:
        outputs = model(inputs); loss = loss_fn(outputs, targets)
        (loss / grad_accumulation).backward()         # gradients add up
    callbacks.on_after_backward                       # NaNGuard may stop here: no update
    clip_grad_norm_(grad_clip); optimizer.step(); optimizer.zero_grad(); scheduler.step()
    log every ``log_every`` steps; evaluate every ``eval_every`` steps (or per epoch)
    callbacks.on_step_end                             # ModelCheckpoint saves here

Metrics are sums and counts (``metrics.MetricTracker``), so epoch averages
are exact over uneven batches. Evaluation runs under ``no_grad`` with the
model in eval mode, and puts the mode back after.

A run writes into ``runs/<name>/``: ``config.json``, ``metrics.jsonl``,
``checkpoints/last`` and ``checkpoints/best``, ``report.html``. ``fit(
resume_from=run_dir)`` restores the model, optimizer, scheduler, counters,
running metrics, callbacks, the data loader's position and axon's RNG, and
continues as if never stopped (see ``resume.py``).

Example::

    >>> trainer = Trainer(model, axon.optim.Adam(model.parameters(), 1e-3), nn.CrossEntropyLoss(),
    ...                   train_loader, val_loader, max_epochs=10, name="spirals")
    >>> trainer.fit()                                 # {'loss': 0.05, 'accuracy': 0.99, 'val_loss': ...}
    >>> trainer.fit(resume_from="runs/spirals")       # after a crash: continues exactly
"""

from __future__ import annotations

import time
from itertools import islice
from pathlib import Path

from axon.nn.utils import clip_grad_norm_
from axon.optim.lr_scheduler import ReduceLROnPlateau
from axon.random import manual_seed
from axon.train import evaluation, resume, run
from axon.train.callbacks import Callback, ModelCheckpoint, NaNGuard
from axon.train.checkpoint import save_checkpoint
from axon.train.metrics import MetricTracker, get_metric
from axon.train.progress import ProgressBar
from axon.train.runlog import RunLog


class Trainer:
    """Train ``model`` with ``optimizer`` on ``loss_fn(model(inputs), targets)``.

    Args:
        model: an ``nn.Module``.
        optimizer: an ``axon.optim`` optimizer over the model's parameters.
        loss_fn: ``loss_fn(outputs, targets) -> scalar Tensor`` (e.g. ``nn.CrossEntropyLoss()``).
        train_data, val_data: ``DataLoader`` s, or any iterable of ``(inputs, targets)``
            batches (``inputs`` may be a tuple of model arguments). Exact mid-epoch
            resume needs ``state_dict``/``load_state_dict`` (``DataLoader`` has them);
            other iterables are fast-forwarded by skipping the batches already seen.
        scheduler: an lr scheduler, stepped after every optimizer step
            (``scheduler_interval="epoch"``: after every epoch). A
            ``ReduceLROnPlateau`` is stepped after every evaluation with the value of
            ``scheduler_monitor`` (a train name like "loss", or no val data: per epoch).
        callbacks: ``Callback`` objects. A ``NaNGuard`` and, with a run dir, a
            ``ModelCheckpoint`` are added unless given (``default_callbacks=False``: none).
        max_epochs, max_steps: stop after this many epochs / optimizer steps
            (whichever comes first; neither: one epoch).
        grad_clip: clip the gradients' total norm to this (``clip_grad_norm_``).
        grad_accumulation: micro-batches per optimizer step; the loss is scaled by 1/k.
        metrics: names (``loss``, ``accuracy``, ``top5_accuracy``, ``perplexity``,
            ``mse``) or ``Metric`` objects; ``loss`` is always tracked.
        run_dir: the run's directory; default ``runs_root/name`` (``runs/``; name: a
            timestamp). ``False``: write nothing to disk. A fresh ``fit`` refuses a
            directory that already holds a run; resuming continues its files.
        log_every: write a ``train`` line to metrics.jsonl every this many steps.
        eval_every: evaluate every this many steps (default: at each epoch's end).
        seed: ``axon.manual_seed(seed)`` when a fresh ``fit`` starts (seed before
            building the model as well, for a run that is reproducible end to end).
        progress: True (bar on a terminal, else one line per epoch), "bar", "lines", False.
        config: the resolved configuration, saved as config.json.
        report: write report.html at the end of ``fit`` (plots need matplotlib).
        report_extras: ``{title: text}`` sections to add to report.html.

    Every argument but the objects is plain data, so a command line can build a
    Trainer from a config dict and pass that dict as ``config``. Subclasses
    change how a batch is read or fed by overriding ``split_batch`` and ``forward``.
    """

    def __init__(
        self, model, optimizer, loss_fn, train_data=None, val_data=None, scheduler=None,
        callbacks=(), max_epochs: int | None = None, max_steps: int | None = None,
        grad_clip: float | None = None, grad_accumulation: int = 1, metrics=("loss", "accuracy"),
        run_dir=None, name: str | None = None, runs_root="runs", log_every: int = 10,
        eval_every: int | None = None, seed: int | None = None, progress=True,
        config: dict | None = None, scheduler_interval: str = "step",
        scheduler_monitor: str = "val_loss", report: bool = True,
        report_extras: dict | None = None, default_callbacks: bool = True,
    ):  # fmt: skip
        if grad_accumulation < 1:
            raise ValueError(f"Trainer: grad_accumulation must be >= 1, got {grad_accumulation}")
        if scheduler_interval not in ("step", "epoch"):
            raise ValueError(
                f"Trainer: scheduler_interval must be 'step' or 'epoch', got {scheduler_interval!r}"
            )
        for what, n in (("log_every", log_every), ("eval_every", eval_every)):
            if n is not None and n < 1:
                raise ValueError(f"Trainer: {what} must be >= 1, got {n}")
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.train_data, self.val_data, self.scheduler = train_data, val_data, scheduler
        self.max_epochs = max_epochs if max_epochs or max_steps else 1
        self.max_steps = max_steps
        self.grad_clip = grad_clip
        self.grad_accumulation = grad_accumulation
        self.metric_specs = [get_metric(m) for m in metrics]
        self.log_every, self.eval_every, self.seed = log_every, eval_every, seed
        self.scheduler_interval, self.scheduler_monitor = scheduler_interval, scheduler_monitor
        self.config, self.report = config, report
        self.report_sections: list[tuple[str, str, bool]] = [
            (title, str(text), False) for title, text in (report_extras or {}).items()
        ]
        if run_dir not in (None, False) and name is not None:
            raise ValueError("Trainer: give run_dir or name, not both")
        self.run_dir_setting, self.name, self.runs_root = run_dir, name, runs_root
        self.run_dir: Path | None = None  # chosen when fit() starts (run.open_run)
        self.runlog = RunLog()  # in memory until then
        self.callbacks = self._with_defaults(list(callbacks), progress, default_callbacks)
        self._reset_state()

    def _with_defaults(self, callbacks, progress, defaults: bool) -> list[Callback]:
        kinds = {type(c) for c in callbacks}
        if defaults and not any(issubclass(k, NaNGuard) for k in kinds):
            callbacks.append(NaNGuard())
        saves = self.run_dir_setting is not False
        if defaults and saves and not any(issubclass(k, ModelCheckpoint) for k in kinds):
            monitor = "val_loss" if self.val_data is not None else "loss"
            callbacks.append(ModelCheckpoint(monitor=monitor))
        if progress:
            callbacks.append(ProgressBar("auto" if progress is True else progress))
        return sorted(callbacks, key=lambda c: getattr(c, "order", 0))  # stable sort

    def _reset_state(self) -> None:
        # Where the loop is: ``step`` optimizer steps done; ``epoch`` the current (1-based)
        # epoch, of which ``batch_in_epoch`` micro-batches were consumed; ``epoch_done``
        # once its end (evaluation, summary, callbacks) has run.
        self.step, self.epoch, self.batch_in_epoch, self.epoch_done = 0, 0, 0, True
        self.should_stop, self.failed, self.epoch_ending = False, False, False
        self.stop_reason: str | None = None
        self.last_eval_step: int | None = None
        self.last_val: dict[str, float] = {}
        self.last_checkpoint = None
        self.epoch_metrics = MetricTracker(self.metric_specs)  # this epoch so far
        self.window_metrics = MetricTracker(self.metric_specs)  # since the last train log line
        self.step_metrics = MetricTracker(self.metric_specs)  # this step's micro-batches
        self.step_lrs = [float(g["lr"]) for g in self.optimizer.param_groups]
        self.elapsed_before, self._micro, self._resuming = 0.0, 0, False
        self._t0: float | None = None
        self._epoch_t0 = self._window_t0 = time.perf_counter()  # for samples/s
        self._epoch_samples = self._window_samples = 0
        self.example_input = None  # the first batch's inputs, for the report's model summary

    # ------------------------------------------------------------------ properties
    @property
    def lr(self) -> float:
        """The first param group's current learning rate."""
        return float(self.optimizer.param_groups[0]["lr"])

    @property
    def elapsed(self) -> float:
        """Seconds of training, summed over every session of this run."""
        running = time.perf_counter() - self._t0 if self._t0 is not None else 0.0
        return self.elapsed_before + running

    @property
    def steps_per_epoch(self) -> int | None:
        n = len(self.train_data) if hasattr(self.train_data, "__len__") else None
        return None if n is None else -(-n // self.grad_accumulation)

    @property
    def samples_per_s(self) -> float:
        dt = time.perf_counter() - self._epoch_t0
        return self._epoch_samples / dt if dt > 0 else float("nan")

    def running_metrics(self) -> dict[str, float]:
        """The current epoch's metrics so far."""
        return self.epoch_metrics.compute()

    def stop(self, reason: str | None = None, failed: bool = False) -> None:
        """Ask the loop to stop after the current step (before its update if called from
        ``on_after_backward``). ``failed``: the state is broken; save no more checkpoints."""
        self.should_stop = True
        self.failed = self.failed or failed
        if reason and not self.stop_reason:
            self.stop_reason = reason

    def _call(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            method = getattr(cb, hook, None)  # duck-typed callbacks may define only some hooks
            if method is not None:
                method(self, *args)

    # ------------------------------------------------------------------ fit
    def fit(self, resume_from=None) -> dict:
        """Train until ``max_epochs``/``max_steps`` or a callback stops; returns the final logs.

        ``resume_from``: a run directory or checkpoint directory to continue from.
        """
        if self.train_data is None:
            raise ValueError("Trainer.fit: no train_data was given")
        checkpoint = resume.load(resume_from) if resume_from is not None else None
        run.open_run(self, checkpoint)
        self.should_stop, self.stop_reason, self.failed = False, None, False
        if checkpoint is not None:
            resume.restore(self, checkpoint)
        elif self.seed is not None:
            manual_seed(self.seed)
        self._t0 = self._epoch_t0 = self._window_t0 = time.perf_counter()
        self._epoch_samples = self._window_samples = 0
        self.model.train()
        self._call("on_fit_start")
        try:
            if not self.epoch_done:
                self._call("on_epoch_start", self.epoch)  # resumed mid-epoch
            while not self.should_stop and not self._steps_done():
                if self.epoch_done:
                    if self.max_epochs is not None and self.epoch >= self.max_epochs:
                        break
                    self._start_epoch()
                exhausted = self._run_batches()
                if self.should_stop or (self._steps_done() and not exhausted):
                    break
                self._end_epoch()
            if not self.failed and self.val_data is not None and self.last_eval_step != self.step:
                self._evaluate_and_log()  # the run ended between evaluations
        except BaseException as error:  # a crash or Ctrl-C: let callbacks tidy up, then re-raise
            self._call("on_exception", error)
            raise
        finally:
            self.elapsed_before, self._t0 = self.elapsed, None
        logs = {**self.window_or_epoch_metrics(), **self.last_val}
        if self.stop_reason:
            self.log("stop", {"step": self.step, "epoch": self.epoch, "reason": self.stop_reason})
        self._call("on_fit_end", logs)
        if self.report:
            self.write_report()
        return logs

    def window_or_epoch_metrics(self) -> dict:
        tracker = self.epoch_metrics if self.epoch_metrics.count else self.window_metrics
        return tracker.compute() if tracker.count else {}

    def _steps_done(self) -> bool:
        return self.max_steps is not None and self.step >= self.max_steps

    def _start_epoch(self) -> None:
        self.epoch += 1
        self.batch_in_epoch, self.epoch_done, self._micro = 0, False, 0
        self.epoch_metrics.reset()
        self._epoch_t0, self._epoch_samples = time.perf_counter(), 0
        self._call("on_epoch_start", self.epoch)

    def _epoch_batches(self):
        """This epoch's remaining batches (after a resume: from the saved position)."""
        data, start = self.train_data, self.batch_in_epoch
        if not self._resuming or start == 0:
            return iter(data)
        self._resuming = False
        if hasattr(data, "__len__") and start >= len(data):
            return iter(())
        if hasattr(data, "load_state_dict"):
            return iter(data)  # the loader itself continues at its saved position
        return islice(iter(data), start, None)

    def _run_batches(self) -> bool:
        """Train on the epoch's batches; True if they ran out (the epoch is complete)."""
        batches = self._epoch_batches()
        self._resuming = False
        try:
            for batch in batches:
                self.batch_in_epoch += 1
                self._micro_step(batch)
                if self._micro == self.grad_accumulation:
                    self._optimizer_step()
                    if self.should_stop or self._steps_done():
                        n = len(self.train_data) if hasattr(self.train_data, "__len__") else None
                        return n is not None and self.batch_in_epoch >= n
            if self._micro:  # a last, partial group of micro-batches
                self._optimizer_step()
            return True
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()  # stops a DataLoader's prefetch thread if we left early

    # ------------------------------------------------------------------ one step
    def split_batch(self, batch):
        """``(inputs, targets)`` of a batch; override for other layouts."""
        if isinstance(batch, (tuple, list)) and len(batch) >= 2:
            return (batch[0] if len(batch) == 2 else tuple(batch[:-1])), batch[-1]
        raise ValueError(
            f"Trainer: expected batches of (inputs, targets), got {type(batch).__name__}"
            + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else "")
        )

    def forward(self, inputs):
        """``model(inputs)``, or ``model(*inputs)`` for a tuple; override for other calls."""
        return self.model(*inputs) if isinstance(inputs, tuple) else self.model(inputs)

    def _micro_step(self, batch) -> None:
        inputs, targets = self.split_batch(batch)
        if self.example_input is None:
            self.example_input = inputs
        outputs = self.forward(inputs)
        loss = self.loss_fn(outputs, targets)
        value = float(loss.item())
        (loss if self.grad_accumulation == 1 else loss * (1.0 / self.grad_accumulation)).backward()
        values = self.step_metrics.batch_values(outputs.detach(), targets, value)
        for tracker in (self.step_metrics, self.window_metrics, self.epoch_metrics):
            tracker.add(values)
        n = len(targets)
        self._epoch_samples += n
        self._window_samples += n
        self._micro += 1

    def _optimizer_step(self) -> None:
        step = self.step + 1
        if self._micro < self.grad_accumulation:  # partial group: make it a mean over what ran
            scale = self.grad_accumulation / self._micro
            for p in self.model.parameters():
                if p.grad is not None:
                    p.grad = p.grad * scale
        logs = self.step_metrics.compute()
        self.step_metrics.reset()
        self._micro = 0
        self._call("on_after_backward", step, logs)
        if self.should_stop:  # e.g. NaNGuard: drop this update
            self.optimizer.zero_grad()
            return
        if self.grad_clip is not None:
            logs["grad_norm"] = float(
                clip_grad_norm_(self.model.parameters(), self.grad_clip).item()
            )
        self.step_lrs = [float(g["lr"]) for g in self.optimizer.param_groups]
        self.optimizer.step()
        self.optimizer.zero_grad()
        self.step = step
        if self.scheduler is not None and self.scheduler_interval == "step" and not self._plateau:
            self.scheduler.step()
        logs.update(lr=self.step_lrs[0], samples_per_s=self.samples_per_s)
        if step % self.log_every == 0:
            self._log_train(logs.get("grad_norm"))
        if self.eval_every and step % self.eval_every == 0 and self.val_data is not None:
            self._evaluate_and_log()
        self._call("on_step_end", step, logs)

    @property
    def _plateau(self) -> bool:
        return isinstance(self.scheduler, ReduceLROnPlateau)

    def _log_train(self, grad_norm) -> None:
        now = time.perf_counter()
        record = {"step": self.step, "epoch": self.epoch, **self.window_metrics.compute()}
        record["lr"] = self.step_lrs[0]
        record["samples_per_s"] = self._window_samples / max(now - self._window_t0, 1e-9)
        if grad_norm is not None:
            record["grad_norm"] = grad_norm
        self.log("train", record)
        self.window_metrics.reset()
        self._window_t0, self._window_samples = now, 0

    # ------------------------------------------------------------------ evaluation
    def _evaluate_and_log(self) -> dict:
        metrics = self.evaluate(self.val_data)
        self.log("val", {"step": self.step, "epoch": self.epoch, **metrics})
        self.last_eval_step, self.last_val = self.step, {f"val_{k}": v for k, v in metrics.items()}
        if self._plateau and self.scheduler_monitor.startswith("val_"):
            self.scheduler.step(self._monitored(self.last_val))  # per evaluation
        self._call("on_eval_end", dict(self.last_val))
        return self.last_val

    def _monitored(self, logs: dict) -> float:
        name = self.scheduler_monitor
        if name not in logs and name.startswith("val_"):
            name = name[4:]  # no validation data: the train value
        if name not in logs:
            raise KeyError(
                f"Trainer: scheduler_monitor {self.scheduler_monitor!r} is not among {sorted(logs)}"
            )
        return logs[name]

    def _end_epoch(self) -> None:
        self.epoch_ending = True
        logs = self.epoch_metrics.compute()
        if self.val_data is not None and self.eval_every is None:
            logs.update(self._evaluate_and_log())
        if self._plateau:
            if self.val_data is None or not self.scheduler_monitor.startswith("val_"):
                self.scheduler.step(self._monitored(logs))  # per epoch, on a train metric
        elif self.scheduler is not None and self.scheduler_interval == "epoch":
            self.scheduler.step()
        logs.update(lr=self.lr, samples_per_s=self.samples_per_s, time=self.elapsed)
        self.log("epoch", {"step": self.step, "epoch": self.epoch, **logs})
        self.epoch_done = True
        self._call("on_epoch_end", self.epoch, logs)
        self.epoch_ending = False

    def evaluate(self, data=None) -> dict[str, float]:
        """Metrics of the model on ``data`` (default ``val_data``), under ``no_grad``, in eval mode."""
        return evaluation.evaluate(self, self.val_data if data is None else data)

    def predict(self, data, batch_size: int = 256):
        """The model's outputs on ``data`` (batches, or one big Tensor/array), concatenated."""
        return evaluation.predict(self, data, batch_size)

    # ------------------------------------------------------------------ run directory
    def resume(self, path) -> dict:
        """Continue the run saved at ``path`` (a run or checkpoint dir): ``fit(resume_from=path)``."""
        return self.fit(resume_from=path)

    def log(self, split: str, record: dict) -> None:
        """Append a record to metrics.jsonl (and ``history``), adding ``split`` and ``time``."""
        self.runlog.append({"split": split, **record, "time": round(self.elapsed, 4)})

    @property
    def history(self) -> list[dict]:
        """Every record logged in this run so far (from before a resume too)."""
        return self.runlog.records

    def save_checkpoint(self, path) -> Path:
        """Write a complete, resumable checkpoint directory at ``path``, atomically.

        Resuming from it is exact when it is written at a clean point of the
        loop: from ``on_step_end``, ``on_epoch_end`` or ``on_fit_end`` (as
        ``ModelCheckpoint`` does), not from the middle of a step.
        """
        path = save_checkpoint(path, self.model, self.optimizer, resume.capture(self))
        self.last_checkpoint = path
        return path

    def add_report_section(self, title: str, content: str, html: bool = False) -> None:
        """Add a section to report.html: text (shown preformatted) or, with ``html``, raw HTML."""
        self.report_sections.append((title, content, html))

    def write_report(self, path=None) -> Path | None:
        """Render report.html into the run directory (or ``path``); returns where it went."""
        return run.write_report(self, path)
