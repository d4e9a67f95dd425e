"""LeNet-5 (LeCun et al., 1998): two convolution + pooling stages, then three dense layers.

    image (N, C, H, W)
      -> conv 5x5, 6 channels   -> act -> pool 2x2      (N, 6, H1, W1)
      -> conv 5x5, 16 channels  -> act -> pool 2x2      (N, 16, H2, W2)
      -> flatten -> Linear 120 -> act -> Linear 84 -> act -> Linear num_classes

The original used tanh-like activations and average pooling on 32x32 digits;
the defaults here are the modern choice (ReLU, max pooling) on 28x28 MNIST,
with ``padding=2`` on the first convolution so it sees the same 32x32 field.
``LeNetConfig.digits()`` fits the 8x8 scikit-learn digits: padding on both
convolutions keeps the feature maps from shrinking to nothing.

Example::

    >>> model = LeNet(LeNetConfig())                 # 28x28 MNIST
    >>> model(axon.randn(8, 1, 28, 28)).shape
    (8, 10)
    >>> LeNet(LeNetConfig.digits())(axon.randn(8, 1, 8, 8)).shape
    (8, 10)
"""

from __future__ import annotations

from dataclasses import dataclass

from axon import nn
from axon.models.mlp import make_activation


@dataclass
class LeNetConfig:
    in_channels: int = 1  # 1 for grey digits, 3 for colour images
    image_size: int = 28  # height = width of the input images
    num_classes: int = 10
    padding: int = 2  # zero padding of the first 5x5 convolution (2 keeps the size)
    conv2_padding: int = 0  # zero padding of the second convolution (the original: 0)
    activation: str = "relu"  # "relu", "tanh", ... (see models.mlp.ACTIVATIONS)
    pool: str = "max"  # "max" or "avg" (the original subsampled by averaging)

    @classmethod
    def digits(cls, **kwargs) -> LeNetConfig:
        """For the 8x8 scikit-learn digits: 8 -> 8 -> 4 -> 4 -> 2, so 16 * 2 * 2 features."""
        return cls(**{"image_size": 8, "padding": 2, "conv2_padding": 2, **kwargs})

    def feature_size(self) -> int:
        """Height (= width) of the feature maps after the second pooling."""
        size = self.image_size
        for pad in (self.padding, self.conv2_padding):
            size = size + 2 * pad - 4  # a 5x5 convolution, stride 1
            size //= 2  # 2x2 pooling
        return size

    def __post_init__(self) -> None:
        if self.pool not in ("max", "avg"):
            raise ValueError(f"LeNetConfig: pool must be 'max' or 'avg', got {self.pool!r}")
        if self.feature_size() < 1:
            raise ValueError(
                f"LeNetConfig: {self.image_size}x{self.image_size} images shrink to nothing "
                f"(padding={self.padding}, conv2_padding={self.conv2_padding}); "
                "pad more, e.g. LeNetConfig.digits() for 8x8 images"
            )
        make_activation(self.activation)


class LeNet(nn.Module):
    """LeNet-5 (see the module docstring).

    Args:
        config: a ``LeNetConfig``; or leave it out and pass its fields as keywords.

    Shape: (N, in_channels, image_size, image_size) -> (N, num_classes) logits.
    """

    def __init__(self, config: LeNetConfig | None = None, **kwargs):
        super().__init__()
        self.config = c = config if config is not None else LeNetConfig(**kwargs)
        pool = nn.MaxPool2d if c.pool == "max" else nn.AvgPool2d
        self.features = nn.Sequential(
            nn.Conv2d(c.in_channels, 6, 5, padding=c.padding),
            make_activation(c.activation),
            pool(2),
            nn.Conv2d(6, 16, 5, padding=c.conv2_padding),
            make_activation(c.activation),
            pool(2),
        )
        side = c.feature_size()
        self.classifier = nn.Sequential(
            nn.Linear(16 * side * side, 120),
            make_activation(c.activation),
            nn.Linear(120, 84),
            make_activation(c.activation),
            nn.Linear(84, c.num_classes),
        )

    def forward(self, x):
        c = self.config
        if x.ndim != 4 or x.shape[1:] != (c.in_channels, c.image_size, c.image_size):
            raise ValueError(
                f"LeNet: expected images (N, {c.in_channels}, {c.image_size}, {c.image_size}), "
                f"got shape {x.shape}"
            )
        x = self.features(x)  # (N, 16, side, side)
        x = x.reshape(x.shape[0], -1)  # (N, 16 * side * side)
        return self.classifier(x)
