"""A small 1-D convolutional classifier, sized for MNIST-1D (signals of length 40).

Three strided convolutions halve the length each time, then one Linear layer
classifies the flattened features (as the MNIST-1D paper's ``ConvBase``)::

    x (B, L) -> (B, 1, L) -> [Conv1d(k, stride 2) -> ReLU] x n_layers -> flatten -> Linear
"""

from __future__ import annotations

from dataclasses import dataclass

from axon import nn
from axon.ops.elementwise import as_tensor


@dataclass
class CNN1dConfig:
    seq_len: int = 40  # length of each input signal (MNIST-1D: 40)
    channels: int = 32  # feature maps of every convolution
    n_layers: int = 3  # strided convolutions; each halves the length
    kernel_size: int = 5
    dropout: float = 0.0  # before the classifier (training only)
    num_classes: int = 10

    def __post_init__(self) -> None:
        if self.n_layers < 1 or self.channels < 1 or self.kernel_size < 1:
            raise ValueError(f"CNN1dConfig: sizes must be positive, got {self}")
        if self.out_len() < 1:
            raise ValueError(
                f"CNN1dConfig: {self.n_layers} layers shrink length {self.seq_len} to nothing"
            )

    def out_len(self) -> int:
        length = self.seq_len
        for _ in range(self.n_layers):
            length = (length + 2 * (self.kernel_size // 2) - self.kernel_size) // 2 + 1
        return length


class CNN1d(nn.Module):
    """Shape: x (B, seq_len) or (B, 1, seq_len) float -> logits (B, num_classes)."""

    def __init__(self, config: CNN1dConfig):
        super().__init__()
        c = self.config = config
        layers: list[nn.Module] = []
        in_channels = 1
        for _ in range(c.n_layers):
            layers += [
                nn.Conv1d(
                    in_channels, c.channels, c.kernel_size, stride=2, padding=c.kernel_size // 2
                ),
                nn.ReLU(),
            ]
            in_channels = c.channels
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(c.dropout)
        self.classifier = nn.Linear(c.channels * c.out_len(), c.num_classes)

    def forward(self, x):
        x = as_tensor(x)
        if x.ndim == 2:
            x = x.unsqueeze(1)  # (B, 1, L): one input channel
        if x.ndim != 3 or x.shape[1:] != (1, self.config.seq_len):
            raise ValueError(
                f"CNN1d: expected x of shape (B, {self.config.seq_len}) or "
                f"(B, 1, {self.config.seq_len}), got {x.shape}"
            )
        h = self.features(x)  # (B, channels, out_len)
        return self.classifier(self.dropout(h.flatten(1)))  # (B, num_classes)
