"""MLP, LeNet-5 and ResNet: shapes, configs, overfitting one batch, saving and loading."""

from __future__ import annotations

import numpy as np
import pytest

import axon
from axon.models import MLP, LeNet, LeNetConfig, MLPConfig, ResNet, ResNetConfig
from axon.models.resnet import BasicBlock
from axon.nn import functional as F


def overfit(model, x, y, steps: int, lr: float = 1e-2) -> list[float]:
    """Train on one batch with Adam; the losses, step by step."""
    opt = axon.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def one_batch(shape, n_classes: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = axon.tensor(rng.standard_normal(shape).astype(np.float32))
    y = axon.tensor(np.arange(shape[0]) % n_classes)
    return x, y


def assert_round_trip(make, x, tmp_path):
    """Saved and reloaded into a fresh (differently seeded) model: bit-identical outputs."""
    axon.manual_seed(0)
    a = make().eval()
    a.save(tmp_path / "model.safetensors")
    axon.manual_seed(1)
    b = make().eval()
    with axon.no_grad():
        assert not np.array_equal(a(x).data, b(x).data)
        b.load(tmp_path / "model.safetensors")
        np.testing.assert_array_equal(a(x).data, b(x).data)


# ------------------------------------------------------------------------- MLP
def test_mlp_shapes_and_layers():
    model = MLP(
        MLPConfig(in_features=12, hidden=[16, 8], out_features=3, batch_norm=True, dropout=0.2)
    )
    assert model(axon.randn(5, 12)).shape == (5, 3)
    assert model(axon.randn(5, 3, 2, 2)).shape == (5, 3)  # images are flattened
    kinds = [type(m).__name__ for m in model.layers]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU", "Dropout"] * 2 + ["Linear"]
    assert model.layers[0].bias is None  # redundant before batch norm
    plain = MLP(in_features=4, hidden=[], out_features=2, activation="tanh")  # keywords, no hidden
    assert [type(m).__name__ for m in plain.layers] == ["Linear"]


def test_mlp_config_errors():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        MLPConfig(activation="swish")
    with pytest.raises(ValueError, match="dropout"):
        MLPConfig(dropout=1.0)
    with pytest.raises(ValueError, match="positive"):
        MLPConfig(hidden=[0])


@pytest.mark.parametrize("batch_norm", [False, True])
def test_mlp_overfits_one_batch(batch_norm):
    axon.manual_seed(0)
    x, y = one_batch((16, 20))
    model = MLP(in_features=20, hidden=[64, 64], out_features=10, batch_norm=batch_norm)
    losses = overfit(model, x, y, steps=100)
    assert losses[-1] < 0.05 < losses[0]


def test_mlp_save_load(tmp_path):
    x, _ = one_batch((4, 6))
    make = lambda: MLP(in_features=6, hidden=[8], out_features=3, batch_norm=True)  # noqa: E731
    assert_round_trip(make, x, tmp_path)


# ----------------------------------------------------------------------- LeNet
def test_lenet_shapes():
    model = LeNet()  # 28x28 MNIST: 28 -> 28 -> 14 -> 10 -> 5
    assert model(axon.randn(2, 1, 28, 28)).shape == (2, 10)
    assert model.classifier[0].in_features == 16 * 5 * 5
    digits = LeNet(LeNetConfig.digits())  # 8 -> 8 -> 4 -> 4 -> 2
    assert digits(axon.randn(2, 1, 8, 8)).shape == (2, 10)
    assert digits.classifier[0].in_features == 16 * 2 * 2
    # the original: 32 -> 28 -> 14 -> 10 -> 5, tanh and average pooling
    colour = LeNet(in_channels=3, image_size=32, padding=0, pool="avg", activation="tanh")
    assert colour(axon.randn(2, 3, 32, 32)).shape == (2, 10)


def test_lenet_errors():
    with pytest.raises(ValueError, match="shrink to nothing"):
        LeNetConfig(image_size=8, padding=0)
    with pytest.raises(ValueError, match="pool"):
        LeNetConfig(pool="min")
    with pytest.raises(ValueError, match=r"expected images \(N, 1, 28, 28\)"):
        LeNet()(axon.randn(2, 1, 32, 32))


def test_lenet_overfits_one_batch():
    axon.manual_seed(0)
    x, y = one_batch((20, 1, 8, 8))
    losses = overfit(LeNet(LeNetConfig.digits()), x, y, steps=120)
    assert losses[-1] < 0.05 < losses[0]


def test_lenet_save_load(tmp_path):
    x, _ = one_batch((3, 1, 28, 28))
    assert_round_trip(LeNet, x, tmp_path)


# ---------------------------------------------------------------------- ResNet
def test_resnet20_structure_and_parameter_count():
    model = ResNet(ResNetConfig(depth=20))
    n_params = sum(p.numel() for p in model.parameters())
    # 0.27 M as in the paper; +2,752 for the two projection shortcuts (1x1 conv + BN)
    assert n_params == 272_474
    assert [len(s) for s in (model.stage1, model.stage2, model.stage3)] == [3, 3, 3]
    convs = [m for m in model.modules() if isinstance(m, axon.nn.Conv2d)]
    assert len(convs) - 2 + 1 == 20  # 19 3x3 convolutions (+ 2 shortcut 1x1) + the final Linear
    assert isinstance(model.stage2[0], BasicBlock) and len(model.stage2[0].shortcut) == 2
    assert type(model.stage2[1].shortcut).__name__ == "Identity"
    assert len(ResNet(depth=56).stage1) == 9


def test_resnet_shapes():
    model = ResNet(ResNetConfig(depth=8))
    x = axon.randn(2, 3, 32, 32)
    assert model(x).shape == (2, 10)
    h = model.stem(x)
    assert h.shape == (2, 16, 32, 32)
    h = model.stage1(h)
    assert h.shape == (2, 16, 32, 32)
    h = model.stage2(h)
    assert h.shape == (2, 32, 16, 16)
    assert model.stage3(h).shape == (2, 64, 8, 8)
    assert ResNet(depth=8, in_channels=1, num_classes=4)(axon.randn(2, 1, 16, 16)).shape == (2, 4)


def test_resnet_errors():
    with pytest.raises(ValueError, match="6n \\+ 2"):
        ResNetConfig(depth=18)
    with pytest.raises(ValueError, match=r"expected images \(N, 3, H, W\)"):
        ResNet(depth=8)(axon.randn(2, 1, 32, 32))


def test_resnet_overfits_one_batch():
    axon.manual_seed(0)
    x, y = one_batch((10, 3, 16, 16))
    losses = overfit(ResNet(ResNetConfig(depth=8)), x, y, steps=40)
    assert losses[-1] < 0.05 < losses[0]


def test_resnet_save_load(tmp_path):
    x, _ = one_batch((4, 3, 16, 16))

    def make():
        model = ResNet(depth=8)
        model(x)  # one training-mode pass: running statistics move away from 0 / 1
        return model

    assert_round_trip(make, x, tmp_path)
