"""Checkpoint directories: the array/JSON split, atomic swaps, and clear errors."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import axon
from axon.train import CheckpointError, find_checkpoint, load_checkpoint, save_checkpoint
from axon.train.checkpoint import join_arrays, split_arrays
from tests.train.conftest import mlp

ROOT = Path(__file__).resolve().parents[2]


def test_split_and_join_arrays_round_trip():
    state = {
        "state": {0: {"step": 3, "exp_avg": np.arange(4, dtype=np.float32)}},
        "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0]}],
        "scalar": np.float32(1.5),
        "none": None,
    }
    structure, arrays = split_arrays(state)
    assert structure["state"]["0"]["exp_avg"] == {"__array__": "state.0.exp_avg"}
    assert set(arrays) == {"state.0.exp_avg", "scalar"}
    back = join_arrays(structure, arrays)
    np.testing.assert_array_equal(back["state"]["0"]["exp_avg"], state["state"][0]["exp_avg"])
    assert back["param_groups"][0]["betas"] == [0.9, 0.999] and back["scalar"] == np.float32(1.5)
    with pytest.raises(TypeError, match="can't save 'fn'"):
        split_arrays({"fn": lambda: 0})


def test_optimizer_state_survives_a_checkpoint_bit_for_bit(tmp_path):
    model = mlp()
    opt = axon.optim.AdamW(model.parameters(), lr=1e-2)
    x, y = axon.randn(16, 2), axon.randint(0, 2, (16,))
    for _ in range(3):
        axon.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        opt.zero_grad()
    save_checkpoint(tmp_path / "ck", model, opt, state={"step": 3})
    ck = load_checkpoint(tmp_path / "ck")
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == [
        "model.safetensors",
        "optimizer.json",
        "optimizer.safetensors",
        "trainer.json",
    ]  # fmt: skip  (trainer.safetensors appears only when the trainer state holds arrays)
    model2 = mlp(seed=5)
    opt2 = axon.optim.AdamW(model2.parameters(), lr=1e-2)
    model2.load_state_dict(ck.model)
    opt2.load_state_dict(ck.optimizer)
    for m, o in ((model, opt), (model2, opt2)):
        axon.nn.functional.cross_entropy(m(x), y).backward()
        o.step()
    for a, b in zip(model.parameters(), model2.parameters(), strict=True):
        np.testing.assert_array_equal(a.data, b.data)
    assert ck.state["step"] == 3


def test_errors_name_the_path_and_the_problem(tmp_path):
    with pytest.raises(CheckpointError, match="no such file or directory"):
        load_checkpoint(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="not a checkpoint"):
        load_checkpoint(tmp_path / "empty")
    model = mlp()
    save_checkpoint(tmp_path / "ck", model, state={"step": 1})
    model_file = tmp_path / "ck" / "model.safetensors"
    model_file.write_bytes(model_file.read_bytes()[:50])
    with pytest.raises(CheckpointError, match=r"model\.safetensors.*truncated or corrupt"):
        load_checkpoint(tmp_path / "ck")
    save_checkpoint(tmp_path / "ck", model, state={"step": 1})
    (tmp_path / "ck" / "trainer.json").write_text("{ not json")
    with pytest.raises(CheckpointError, match=r"trainer\.json.*not valid JSON"):
        load_checkpoint(tmp_path / "ck")


def test_a_write_that_crashes_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    model = mlp()
    target = tmp_path / "run" / "checkpoints" / "last"
    save_checkpoint(target, model, state={"step": 1})
    saved_weight = model[0].weight.data.copy()
    model[0].weight.data += 1.0

    # 1) crash while writing the new files: the old directory is untouched
    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    with monkeypatch.context() as m:
        m.setattr("axon.train.checkpoint.save_state", broken_save)
        with pytest.raises(OSError, match="disk full"):
            save_checkpoint(target, model, axon.optim.SGD(model.parameters(), lr=0.1), {"step": 2})
    assert load_checkpoint(tmp_path / "run").state["step"] == 1

    # 2) crash between the two renames of the swap: .prev-last holds the old one
    real_replace = os.replace

    def crash_on_swap_in(src, dst):
        if Path(dst) == target:  # last -> .prev-last has happened; .tmp-last -> last dies
            raise KeyboardInterrupt("killed mid-swap")
        real_replace(src, dst)

    with monkeypatch.context() as m:
        m.setattr(os, "replace", crash_on_swap_in)
        with pytest.raises(KeyboardInterrupt):
            save_checkpoint(target, model, state={"step": 2})
    assert not target.exists()
    assert find_checkpoint(tmp_path / "run").name == ".prev-last"
    ck = load_checkpoint(tmp_path / "run")
    assert ck.state["step"] == 1
    np.testing.assert_array_equal(ck.model["0.weight"].data, saved_weight)
    # the next write cleans up and completes
    save_checkpoint(target, model, state={"step": 3})
    assert sorted(p.name for p in target.parent.iterdir()) == ["last"]
    assert load_checkpoint(tmp_path / "run").state["step"] == 3


WRITER = """
import sys, numpy as np
from axon.train import save_checkpoint
path, start = sys.argv[1], int(sys.argv[2])
w = np.zeros((1024, 2048), np.float32)   # 8 MB: a write takes a while
for i in range(start, start + 10_000):
    w.fill(i)
    save_checkpoint(path, {"w": w, "b": np.full(3, i, np.float32)}, state={"i": i})
    print("SAVED", i, flush=True)
"""


def test_sigkill_during_checkpoint_writes_leaves_a_complete_checkpoint(tmp_path):
    """Kill a process that rewrites a big checkpoint in a loop, at odd moments; the
    checkpoint left behind always loads and is one complete version."""
    target = tmp_path / "checkpoints" / "last"
    newest = -1
    for round_, delay in enumerate((0.004, 0.013, 0.031)):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(target), str(1000 * round_)],
            stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )  # fmt: skip
        try:
            for _ in range(2):  # let it finish two writes, then kill it during the third
                ready, _, _ = select.select([proc.stdout], [], [], 120)
                line = proc.stdout.readline() if ready else ""
                assert line.startswith("SAVED"), f"writer stopped: {line!r}"
            time.sleep(delay)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        ck = load_checkpoint(tmp_path)
        i = ck.state["i"]
        assert i >= 1000 * round_ + 1 and i > newest
        assert (ck.model["w"].data == i).all() and (ck.model["b"].data == i).all()
        newest = i
