"""A multilayer perceptron: Linear layers with an activation (and optional batch norm, dropout) between.

    x -> [Linear -> (BatchNorm1d) -> act -> (Dropout)] * len(hidden) -> Linear -> logits

The simplest model that learns non-linear functions, and the baseline every
other model in this package should beat.

Example::

    >>> model = MLP(MLPConfig(in_features=64, hidden=[128, 64], out_features=10))
    >>> model(axon.randn(32, 64)).shape
    (32, 10)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from axon import nn

# Activation names a config can use (the names of ``torch.nn.functional``).
ACTIVATIONS = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
}


def make_activation(name: str) -> nn.Module:
    """A fresh activation module from its name (``"relu"``, ``"gelu"``, ...)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


@dataclass
class MLPConfig:
    in_features: int = 784  # size of each input vector (flattened images: C * H * W)
    hidden: list[int] = field(default_factory=lambda: [256, 128])  # width of each hidden layer
    out_features: int = 10  # number of classes (or regression targets)
    activation: str = "relu"  # one of ACTIVATIONS
    dropout: float = 0.0  # dropout after each hidden activation (training only)
    batch_norm: bool = False  # BatchNorm1d after each hidden Linear (before the activation)

    def __post_init__(self) -> None:
        if self.in_features <= 0 or self.out_features <= 0 or any(h <= 0 for h in self.hidden):
            raise ValueError(f"MLPConfig: layer sizes must be positive, got {self}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"MLPConfig: dropout must be in [0, 1), got {self.dropout}")
        make_activation(self.activation)  # fails early on an unknown name


class MLP(nn.Module):
    """A stack of fully connected layers (see the module docstring).

    Args:
        config: an ``MLPConfig``; or leave it out and pass its fields as keywords,
            ``MLP(in_features=64, hidden=[32], out_features=10)``.

    Shape: (N, in_features) -> (N, out_features); inputs with more dims, such
    as images (N, C, H, W), are flattened to (N, C * H * W) first.
    """

    def __init__(self, config: MLPConfig | None = None, **kwargs):
        super().__init__()
        self.config = config = config if config is not None else MLPConfig(**kwargs)
        layers: list[nn.Module] = []
        width = config.in_features
        for size in config.hidden:
            # a bias is redundant before batch norm, which subtracts the mean anyway
            layers.append(nn.Linear(width, size, bias=not config.batch_norm))
            if config.batch_norm:
                layers.append(nn.BatchNorm1d(size))
            layers.append(make_activation(config.activation))
            if config.dropout > 0:
                layers.append(nn.Dropout(config.dropout))
            width = size
        layers.append(nn.Linear(width, config.out_features))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        if x.ndim > 2:
            x = x.reshape(x.shape[0], -1)  # (N, C, H, W) -> (N, C * H * W)
        return self.layers(x)
