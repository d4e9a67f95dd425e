"""``TokenWindows``: a token stream cut into (input, next-token target) windows.

Window ``i`` starts at ``i * stride``: ``x = stream[s : s + context]`` and
``y = stream[s + 1 : s + context + 1]``. With ``stride < context`` windows
overlap. Whole batches are gathered with one fancy-index, so a DataLoader over
it never loops over samples in Python; shuffling comes from the loader, so a
run resumes exactly.
"""

from __future__ import annotations

import numpy as np

from axon.data.dataset import Dataset
from axon.tensor import Tensor


class TokenWindows(Dataset):
    """Shape: each example is (x, y), both int64 (context,); a batch is (B, context) each."""

    def __init__(self, stream, context: int, stride: int | None = None, limit: int | None = None):
        stream = stream.data if isinstance(stream, Tensor) else np.asarray(stream)
        if stream.ndim != 1 or len(stream) <= context:
            raise ValueError(
                f"TokenWindows: need a 1-D stream longer than context={context}, got shape {stream.shape}"
            )
        self.stream = stream.astype(np.int64, copy=False)
        self.context = context
        self.stride = stride or context
        n = (len(stream) - context - 1) // self.stride + 1
        self.starts = np.arange(n) * self.stride
        if limit is not None and limit < n:  # evenly spaced, so a short val set covers all the text
            self.starts = self.starts[np.linspace(0, n - 1, limit).astype(np.int64)]

    def __len__(self) -> int:
        return len(self.starts)

    def get_batch(self, indices):
        window = self.stream[
            self.starts[np.asarray(indices)][:, None] + np.arange(self.context + 1)
        ]
        return Tensor._make(window[:, :-1]), Tensor._make(window[:, 1:])  # (B, T) each

    def __getitem__(self, i):
        x, y = self.get_batch(np.array([i]))
        return Tensor._make(x.data[0]), Tensor._make(y.data[0])
