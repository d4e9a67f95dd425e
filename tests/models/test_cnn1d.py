"""The 1-D CNN used for MNIST-1D: shapes, errors, overfitting one batch, save/load."""

import numpy as np
import pytest

import axon
from axon.models.cnn1d import CNN1d, CNN1dConfig
from axon.nn import functional as F


def test_shapes_and_errors():
    model = CNN1d(CNN1dConfig(seq_len=40, channels=8))
    assert model(axon.randn(3, 40)).shape == (3, 10)
    assert model(axon.randn(3, 1, 40)).shape == (3, 10)
    with pytest.raises(ValueError, match=r"CNN1d: expected x of shape \(B, 40\)"):
        model(axon.randn(3, 41))
    with pytest.raises(ValueError, match="sizes must be positive"):
        CNN1dConfig(n_layers=0)


def test_overfits_one_batch_and_round_trips(tmp_path):
    axon.manual_seed(0)
    model = CNN1d(CNN1dConfig(seq_len=40, channels=16))
    x, y = axon.randn(16, 40), axon.randint(0, 10, size=(16,))
    opt = axon.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
    model.save(tmp_path / "cnn.safetensors")
    clone = CNN1d(CNN1dConfig(seq_len=40, channels=16))
    clone.load(tmp_path / "cnn.safetensors")
    model.eval(), clone.eval()
    np.testing.assert_array_equal(model(x).data, clone(x).data)
