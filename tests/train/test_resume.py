"""Exact resume: a run killed mid-epoch and resumed repeats the uninterrupted run bit for bit."""

from __future__ import annotations

import select
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import axon
from axon import nn
from axon.data import DataLoader, TensorDataset
from axon.train import (
    Callback,
    CheckpointError,
    EarlyStopping,
    ModelCheckpoint,
    Trainer,
    load_checkpoint,
    read_records,
)
from tests.train.conftest import blobs

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("_resume_script.py")


def _start(run_dir, *args):
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), str(run_dir), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip


def _readline(proc, timeout: float = 120.0) -> str:
    """The subprocess's next stdout line; fails with its stderr if it ends or stalls first."""
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if ready else ""
    if not line:
        proc.kill()
        pytest.fail(f"subprocess gave no line within {timeout}s; stderr:\n{proc.stderr.read()}")
    return line.strip()


def _finish(proc) -> str:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out


def _by_split(run_dir, split):
    return [
        (r["step"], r["loss"])
        for r in read_records(Path(run_dir) / "metrics.jsonl")
        if r["split"] == split
    ]


def test_sigkill_mid_epoch_then_resume_repeats_the_uninterrupted_run(tmp_path):
    """The KEY test. Steps per epoch: 13 (200 examples, batch 16); checkpoints every 5 steps.
    The victim hangs at the end of step 18 (epoch 2, after the checkpoint at step 15) and is
    SIGKILLed; the resumed run redoes steps 16-18 and must match the reference exactly."""
    ref, victim = tmp_path / "ref", tmp_path / "victim"
    reference = _start(ref)  # runs alongside the victim
    proc = _start(victim, "--hang-at", "18")
    try:
        assert _readline(proc) == "HANG"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert load_checkpoint(victim).state["step"] == 15
    assert max(s for s, _ in _by_split(victim, "train")) == 18  # logged past the checkpoint
    _finish(reference)
    assert _finish(_start(victim, "--resume")).strip() == "DONE 39"

    ref_losses, got_losses = _by_split(ref, "train"), _by_split(victim, "train")
    assert [s for s, _ in got_losses] == list(range(1, 40))  # steps 16-18 once, not twice
    assert got_losses == ref_losses  # the same float32 values, bit for bit
    assert _by_split(victim, "val") == _by_split(ref, "val")
    assert _by_split(victim, "epoch") == _by_split(ref, "epoch")
    a, b = load_checkpoint(ref), load_checkpoint(victim)
    for name, t in a.model.items():
        np.testing.assert_array_equal(t.data, b.model[name].data)


class Crash(Callback):
    """Dies (an exception standing in for a kill) at the end of one step."""

    def __init__(self, step):
        self.at = step

    def on_step_end(self, trainer, step, logs):
        if step == self.at:
            raise KeyboardInterrupt(f"crash at step {step}")


def _trainer(run_dir, crash_at=None, every=4, iterable=False, eval_every=7):
    axon.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 2))
    x, y = blobs(72).arrays
    if iterable:  # a plain list of batches: resumed by skipping what was seen
        train = [(axon.tensor(x[i : i + 8]), axon.tensor(y[i : i + 8])) for i in range(0, 72, 8)]
    else:
        train = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)  # 9 batches
    val = DataLoader(blobs(32, 1), batch_size=16)
    opt = axon.optim.Adam(model.parameters(), lr=0.02)
    callbacks = [ModelCheckpoint(every_n_steps=every), EarlyStopping("val_loss", patience=50)]
    if crash_at:
        callbacks.append(Crash(crash_at))
    return Trainer(
        model, opt, nn.CrossEntropyLoss(), train, val, callbacks=callbacks, max_epochs=4,
        grad_accumulation=2, log_every=3, eval_every=eval_every, seed=3, run_dir=run_dir, progress=False,
        scheduler=axon.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.7), report=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("crash_at", "every", "iterable", "eval_every"),
    [
        (12, 4, False, 7),  # mid-epoch, mid log window, with accumulation (5 steps per epoch)
        (7, 5, False, None),  # checkpoint at an epoch's last step, before that epoch's end ran
        (12, 4, True, 7),  # a plain iterable instead of a DataLoader
    ],
)
def test_in_process_resume_matches_uninterrupted(tmp_path, crash_at, every, iterable, eval_every):
    kw = {"every": every, "iterable": iterable, "eval_every": eval_every}
    ref = _trainer(tmp_path / "ref", **kw)
    ref.fit()
    crashed = _trainer(tmp_path / "run", crash_at=crash_at, **kw)
    with pytest.raises(KeyboardInterrupt):
        crashed.fit()
    assert 0 < load_checkpoint(tmp_path / "run").state["step"] < crash_at  # steps to redo
    resumed = _trainer(None, **kw)
    resumed.resume(tmp_path / "run")  # = fit(resume_from=...)
    assert resumed.run_dir == tmp_path / "run"
    strip = [
        {k: v for k, v in r.items() if k not in ("time", "samples_per_s")} for r in ref.history
    ]
    got = [
        {k: v for k, v in r.items() if k not in ("time", "samples_per_s")} for r in resumed.history
    ]
    assert got == strip
    stopper_ref, stopper_got = ref.callbacks[1], resumed.callbacks[1]
    assert isinstance(stopper_got, EarlyStopping)
    assert stopper_got.state_dict()["best"] == stopper_ref.state_dict()["best"]


def test_resume_errors_are_clear(tmp_path):
    trainer = _trainer(tmp_path / "a")
    with pytest.raises(CheckpointError, match="no such file or directory"):
        trainer.fit(resume_from=tmp_path / "missing")
    _trainer(tmp_path / "run", crash_at=None).fit()
    axon.manual_seed(0)
    other = Trainer(nn.Linear(2, 2), axon.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1),
                    nn.CrossEntropyLoss(), [], run_dir=False, progress=False)  # fmt: skip
    with pytest.raises(CheckpointError, match="weights don't fit this model"):
        other.fit(resume_from=tmp_path / "run")
