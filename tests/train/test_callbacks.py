"""Callbacks: EarlyStopping, ModelCheckpoint, NaNGuard, LRLogger, and the hook order."""

from __future__ import annotations

import math

import numpy as np
import pytest

import axon
from axon.train import (
    Callback,
    EarlyStopping,
    LRLogger,
    ModelCheckpoint,
    NaNGuard,
    load_checkpoint,
)
from tests.train.conftest import mlp


class Snapshots(Callback):
    """Weights at the end of every epoch."""

    def __init__(self):
        self.weights = {}

    def on_epoch_end(self, trainer, epoch, logs):
        self.weights[epoch] = {k: v.data.copy() for k, v in trainer.model.state_dict().items()}


def test_early_stopping_stops_and_restores_the_best_weights(make_trainer):
    model = mlp()
    # Gradient *ascent*: val_loss gets worse every epoch, so the best is epoch 1.
    opt = axon.optim.SGD(model.parameters(), lr=0.05, maximize=True)
    snaps = Snapshots()
    stopper = EarlyStopping("val_loss", patience=2, restore_best_weights=True)
    trainer = make_trainer(model=model, optimizer=opt, max_epochs=10, callbacks=[stopper, snaps])
    trainer.fit()
    assert trainer.epoch == 3  # epoch 1 best, then 2 checks without improvement
    assert stopper.tracker.best_step == 8 and stopper.wait == 2
    assert "EarlyStopping: val_loss has not improved for 2 checks" in trainer.stop_reason
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.data, snaps.weights[1][k])
    assert any(r["split"] == "stop" for r in trainer.history)


def test_early_stopping_on_a_train_metric_checks_per_epoch(make_trainer):
    stopper = EarlyStopping("accuracy", patience=1, min_delta=1.0)  # nothing improves by 1
    trainer = make_trainer(max_epochs=10, callbacks=[stopper])
    trainer.fit()
    assert stopper.tracker.mode == "max"
    assert trainer.epoch == 2


def test_model_checkpoint_keeps_last_and_best(make_trainer, tmp_path):
    model = mlp()
    opt = axon.optim.SGD(model.parameters(), lr=0.05, maximize=True)  # best = first eval
    trainer = make_trainer(model=model, optimizer=opt, max_epochs=3,
                           callbacks=[ModelCheckpoint(every_n_steps=3, every_n_epochs=None)])  # fmt: skip
    trainer.fit()
    ckpts = tmp_path / "run" / "checkpoints"
    assert sorted(p.name for p in ckpts.iterdir()) == ["best", "last"]  # no temp dirs left
    last, best = load_checkpoint(ckpts / "last"), load_checkpoint(ckpts / "best")
    assert last.state["step"] == 24 and best.state["step"] == 8
    vals = {r["step"]: r["loss"] for r in trainer.history if r["split"] == "val"}
    assert min(vals, key=vals.get) == 8
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(last.model[k].data, v.data)


def test_model_checkpoint_every_n_steps(make_trainer, tmp_path, monkeypatch):
    saved = []
    trainer = make_trainer(max_epochs=2, callbacks=[ModelCheckpoint(monitor=None, every_n_steps=5,
                                                                    every_n_epochs=None)])  # fmt: skip
    real = trainer.save_checkpoint
    monkeypatch.setattr(
        trainer, "save_checkpoint", lambda path: saved.append(trainer.step) or real(path)
    )
    trainer.fit()
    assert saved == [5, 10, 15, 16]  # and once more at the end
    assert not (tmp_path / "run" / "checkpoints" / "best").exists()


class PoisonGrad(Callback):
    """Puts a NaN into one parameter's gradient at one step (runs before NaNGuard)."""

    order = -200

    def __init__(self, step, param="2.weight"):
        self.step, self.param = step, param

    def on_after_backward(self, trainer, step, logs):
        if step == self.step:
            dict(trainer.model.named_parameters())[self.param].grad.data.flat[0] = math.nan


def test_nan_guard_names_the_parameter_and_step_and_keeps_the_last_checkpoint(
    make_trainer, tmp_path
):
    trainer = make_trainer(max_epochs=3, callbacks=[PoisonGrad(step=11),
                                                    ModelCheckpoint(every_n_steps=4)])  # fmt: skip
    trainer.fit()
    assert trainer.failed and trainer.step == 10  # step 11's update never happened
    reason = trainer.stop_reason
    assert "non-finite gradient of parameter '2.weight'" in reason and "at step 11" in reason
    assert "checkpoints/last" in reason
    for p in trainer.model.parameters():
        assert np.isfinite(p.data).all()
    last = load_checkpoint(tmp_path / "run" / "checkpoints" / "last")
    assert last.state["step"] == 8  # written at step 8, not replaced at the failed end
    assert all(np.isfinite(t.data).all() for t in last.model.values())


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_guard_catches_a_non_finite_loss_first(make_trainer):
    calls = {"n": 0}
    base = axon.nn.CrossEntropyLoss()

    def loss_fn(out, y):
        calls["n"] += 1
        loss = base(out, y)
        return loss * math.inf if calls["n"] == 5 else loss

    trainer = make_trainer(max_epochs=2, val=False)
    trainer.loss_fn = loss_fn
    trainer.fit()
    assert trainer.stop_reason.startswith("NaNGuard: non-finite loss (inf) at step 5 (epoch 1)")
    assert trainer.step == 4


def test_nan_guard_can_raise(make_trainer):
    trainer = make_trainer(
        callbacks=[NaNGuard(raise_error=True), PoisonGrad(step=2, param="0.bias")]
    )
    with pytest.raises(FloatingPointError, match=r"parameter '0\.bias'.*at step 2"):
        trainer.fit()


def test_lr_logger_records_every_group_every_step(make_trainer):
    model = mlp()
    opt = axon.optim.SGD([{"params": [model[0].weight]}, {"params": [model[0].bias, model[2].weight,
                          model[2].bias], "lr": 0.01}], lr=0.1)  # fmt: skip
    sched = axon.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    trainer = make_trainer(model=model, optimizer=opt, scheduler=sched, max_steps=3,
                           max_epochs=None, callbacks=[LRLogger()], log_every=100)  # fmt: skip
    trainer.fit()
    lrs = [(r["step"], r["lr"], r["lr_group1"]) for r in trainer.history if r["split"] == "lr"]
    assert lrs == [(1, 0.1, 0.01), (2, 0.05, 0.005), (3, 0.025, 0.0025)]


def test_hooks_run_in_order_with_the_documented_arguments(make_trainer):
    events = []

    class Recorder(Callback):
        def on_fit_start(self, trainer):
            events.append("fit_start")

        def on_epoch_start(self, trainer, epoch):
            events.append(f"epoch_start {epoch}")

        def on_after_backward(self, trainer, step, logs):
            assert trainer.model[0].weight.grad is not None
            events.append(f"backward {step}")

        def on_step_end(self, trainer, step, logs):
            assert set(logs) >= {"loss", "accuracy", "lr", "samples_per_s"}
            events.append(f"step {step}")

        def on_eval_end(self, trainer, logs):
            events.append(f"eval {sorted(logs)}")

        def on_epoch_end(self, trainer, epoch, logs):
            events.append(f"epoch_end {epoch}")

        def on_fit_end(self, trainer, logs):
            events.append("fit_end")

    make_trainer(max_epochs=1, n=32, callbacks=[Recorder()]).fit()
    assert events == [
        "fit_start", "epoch_start 1", "backward 1", "step 1", "backward 2", "step 2",
        "eval ['val_accuracy', 'val_loss']", "epoch_end 1", "fit_end",
    ]  # fmt: skip
