"""``Embedding``: a learned lookup table from integer ids to vectors."""

from __future__ import annotations

import numpy as np

from axon.nn import init
from axon.nn.module import Module
from axon.nn.parameter import Parameter
from axon.ops.embedding import embedding


class Embedding(Module):
    r"""A table of ``num_embeddings`` vectors of size ``embedding_dim``, indexed by integer ids.

        y[..., :] = weight[input[...], :]

    Args:
        num_embeddings: size of the vocabulary (ids lie in [0, num_embeddings)).
        embedding_dim: size of each vector.
        padding_idx: an id whose vector starts at zero and never receives a
            gradient (e.g. the padding token); negative counts from the end.

    Shape:
        input (*) integers -> output (*, embedding_dim).

    The weight starts as N(0, 1), as PyTorch (with the padding row zeroed).

    Example::

        >>> emb = nn.Embedding(10, 3, padding_idx=0)
        >>> emb(axon.tensor([[1, 2, 0]])).shape
        (1, 3, 3)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        _weight=None,
        _freeze: bool = False,
        dtype=np.float32,
    ):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding({num_embeddings}, {embedding_dim}): padding_idx {padding_idx} must be "
                    f"within num_embeddings"
                )
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = Parameter(
                np.empty((num_embeddings, embedding_dim), dtype=dtype), requires_grad=not _freeze
            )
            self.reset_parameters()
        else:
            data = np.asarray(getattr(_weight, "data", _weight))
            if data.shape != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"Embedding({num_embeddings}, {embedding_dim}): _weight has shape {data.shape}"
                )
            self.weight = Parameter(data.copy(), requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input):
        return embedding(
            input,
            self.weight,
            self.padding_idx,
            _layer=f"Embedding({self.num_embeddings}, {self.embedding_dim})",
        )

    @classmethod
    def from_pretrained(
        cls, embeddings, freeze: bool = True, padding_idx: int | None = None
    ) -> Embedding:
        """An Embedding holding a copy of the (V, D) ``embeddings``; frozen by default."""
        data = np.asarray(getattr(embeddings, "data", embeddings))
        if data.ndim != 2:
            raise ValueError(
                f"Embedding.from_pretrained: embeddings must be 2-D, got shape {data.shape}"
            )
        return cls(*data.shape, padding_idx=padding_idx, _weight=data, _freeze=freeze)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s if self.padding_idx is None else s + f", padding_idx={self.padding_idx}"
