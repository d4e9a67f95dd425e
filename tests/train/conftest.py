"""Shared pieces for the trainer tests: a tiny model, tiny data, a trainer factory."""

from __future__ import annotations

import numpy as np
import pytest

import axon
from axon import nn
from axon.data import DataLoader, TensorDataset
from axon.train import Trainer


def blobs(n: int = 128, seed: int = 0) -> TensorDataset:
    """Two well separated Gaussian blobs in 2-D: y = 1 for the blob at (+2, +2)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.normal(0, 0.5, size=(n, 2)) + np.where(y[:, None] == 1, 2.0, -2.0)
    return TensorDataset(x.astype(np.float32), y.astype(np.int64))


def mlp(hidden: int = 8, seed: int = 0) -> nn.Module:
    axon.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, 2))


@pytest.fixture
def make_trainer(tmp_path):
    """``make_trainer(**overrides)``: a Trainer on blobs, writing into tmp_path/run."""

    def make(model=None, lr=0.05, batch_size=16, n=128, val=True, **kwargs):
        model = model if model is not None else mlp()
        train = DataLoader(blobs(n, 0), batch_size=batch_size, shuffle=True)
        val_data = DataLoader(blobs(64, 1), batch_size=32) if val else None
        kwargs.setdefault("run_dir", tmp_path / "run")
        kwargs.setdefault("progress", False)
        kwargs.setdefault("max_epochs", 2)
        kwargs.setdefault("report", False)  # plotting costs ~1 s; test_report.py covers it
        opt = kwargs.pop("optimizer", None) or axon.optim.SGD(model.parameters(), lr=lr)
        return Trainer(model, opt, nn.CrossEntropyLoss(), train, val_data, **kwargs)

    return make
