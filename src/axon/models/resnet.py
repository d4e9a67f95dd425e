"""ResNet for 32x32 images, as in He et al., "Deep Residual Learning for Image Recognition" (2015), section 4.2.

    image (N, 3, 32, 32)
      -> conv 3x3, 16 -> BN -> ReLU                       (N, 16, 32, 32)
      -> stage 1: n BasicBlocks, 16 channels               (N, 16, 32, 32)
      -> stage 2: n BasicBlocks, 32 channels, stride 2     (N, 32, 16, 16)
      -> stage 3: n BasicBlocks, 64 channels, stride 2     (N, 64, 8, 8)
      -> global average pool -> Linear num_classes         (N, num_classes)

with depth = 6n + 2 (ResNet-20: n = 3, about 0.27 M parameters). A BasicBlock
learns a residual F(x) and adds it to its input:

    y = ReLU(BN(conv3x3(ReLU(BN(conv3x3(x))))) + shortcut(x))

The shortcut is the identity, or, where a block halves the size and doubles
the channels, a projection: 1x1 convolution with stride 2 + BN (the paper's
option B; its CIFAR experiments used option A, zero-padding, which saves the
~2.7 K projection weights).

Example::

    >>> model = ResNet(ResNetConfig(depth=20))
    >>> model(axon.randn(8, 3, 32, 32)).shape
    (8, 10)
"""

from __future__ import annotations

from dataclasses import dataclass

from axon import nn


@dataclass
class ResNetConfig:
    depth: int = 20  # 6n + 2: 20, 32, 44, 56, 110 in the paper
    num_classes: int = 10
    in_channels: int = 3
    widths: tuple[int, int, int] = (16, 32, 64)  # channels of the three stages

    def __post_init__(self) -> None:
        if self.depth < 8 or (self.depth - 2) % 6:
            raise ValueError(
                f"ResNetConfig: depth must be 6n + 2 (20, 32, 44, ...), got {self.depth}"
            )
        if len(self.widths) != 3:
            raise ValueError(
                f"ResNetConfig: widths must be three channel counts, got {self.widths}"
            )

    @property
    def blocks_per_stage(self) -> int:
        return (self.depth - 2) // 6


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """3x3 convolution that keeps the size (or halves it with stride 2); no bias before BN."""
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm, plus a shortcut (see the module docstring).

    Shape: (N, in_channels, H, W) -> (N, out_channels, H / stride, W / stride).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut: nn.Module
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        out = self.bn1(self.conv1(x)).relu()
        out = self.bn2(self.conv2(out))
        return (out + self.shortcut(x)).relu()


class ResNet(nn.Module):
    """ResNet-(6n+2) for 32x32 images (see the module docstring).

    Args:
        config: a ``ResNetConfig``; or leave it out and pass its fields as keywords.

    Shape: (N, in_channels, H, W) -> (N, num_classes) logits. Any H, W >= 4 works
    (the pooling is global); the architecture was designed for 32x32.
    """

    def __init__(self, config: ResNetConfig | None = None, **kwargs):
        super().__init__()
        self.config = c = config if config is not None else ResNetConfig(**kwargs)
        w1, w2, w3 = c.widths
        self.stem = nn.Sequential(conv3x3(c.in_channels, w1), nn.BatchNorm2d(w1), nn.ReLU())
        self.stage1 = self._stage(w1, w1, c.blocks_per_stage, stride=1)
        self.stage2 = self._stage(w1, w2, c.blocks_per_stage, stride=2)
        self.stage3 = self._stage(w2, w3, c.blocks_per_stage, stride=2)
        self.fc = nn.Linear(w3, c.num_classes)
        self.reset_parameters()

    @staticmethod
    def _stage(in_channels: int, out_channels: int, n: int, stride: int) -> nn.Sequential:
        """n blocks; the first one changes the size and the channel count."""
        blocks = [BasicBlock(in_channels, out_channels, stride)]
        blocks += [BasicBlock(out_channels, out_channels) for _ in range(n - 1)]
        return nn.Sequential(*blocks)

    def reset_parameters(self) -> None:
        """He (Kaiming) normal init for the convolutions, as the paper; BN starts at 1 and 0."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        c = self.config
        if x.ndim != 4 or x.shape[1] != c.in_channels:
            raise ValueError(
                f"ResNet: expected images (N, {c.in_channels}, H, W), got shape {x.shape}"
            )
        x = self.stem(x)  # (N, 16, H, W)
        x = self.stage1(x)  # (N, 16, H, W)
        x = self.stage2(x)  # (N, 32, H/2, W/2)
        x = self.stage3(x)  # (N, 64, H/4, W/4)
        x = x.mean((2, 3))  # (N, 64): global average pool
        return self.fc(x)
