"""Dropout layers: random zeroing while training, the identity in eval mode."""

from __future__ import annotations

from axon.nn.module import Module
from axon.ops.dropout import dropout, dropout2d


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(
                f"{type(self).__name__}: dropout probability must be between 0 and 1, got p={p}"
            )
        self.p, self.inplace = p, inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    r"""Zeroes each element with probability p while training, scaling the rest by 1 / (1 - p).

        y = x * m / (1 - p),    m ~ Bernoulli(1 - p) per element

    so the expected output equals the input; in eval mode y = x. The mask comes
    from axon's seeded generator (``axon.manual_seed``).

    Args:
        p: probability of zeroing an element (default 0.5).
        inplace: accepted for PyTorch compatibility; ignored.

    Shape: any -> same.

    Example::

        >>> drop = nn.Dropout(0.1)
        >>> drop.eval()(x) is x
        True
    """

    def forward(self, x):
        return dropout(x, self.p, self.training)


class Dropout2d(_DropoutNd):
    r"""Zeroes whole channels: each (sample, channel) feature map is kept or dropped together.

    Useful after convolutions, where neighbouring pixels are strongly correlated
    and dropping single pixels regularizes little.

    Shape: (N, C, H, W) -> same (a 3-D input is read as (N, C, L), as PyTorch).
    """

    def forward(self, x):
        return dropout2d(x, self.p, self.training)
