"""Tokenizers: text <-> integer ids.

- ``CharTokenizer``: axon's own, one id per character. Small, exact, and
  enough for character-level language models (Shakespeare).
- ``train_bpe`` / ``train_wordpiece`` / ``load_tokenizer``: subword
  tokenizers from the HuggingFace ``tokenizers`` library (optional:
  ``pip install axon[text]``), wrapped so that ``encode`` returns int64 arrays
  like ``CharTokenizer``. axon does not reimplement BPE: that library is the
  reference implementation and is fast.

Every tokenizer saves to one JSON file, written atomically.

Example::

    >>> tok = CharTokenizer.from_text("hello world")
    >>> ids = tok.encode("hello")           # int64 array, shape (5,)
    >>> tok.decode(ids)
    'hello'
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence

import numpy as np

from axon.serialization import atomic_write
from axon.tensor import Tensor


def _ids(ids) -> np.ndarray:
    data = ids.data if isinstance(ids, Tensor) else ids
    return np.asarray(data, dtype=np.int64).reshape(-1)


def _code_points(text: str) -> np.ndarray:
    """The Unicode code points of ``text`` as a uint32 array (no Python loop)."""
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


class CharTokenizer:
    """One id per character of a fixed vocabulary.

    Args:
        vocab: the characters, in id order (a string or a list of 1-char strings).
        unk: what to do with characters outside the vocabulary when encoding:
            None (default) raises ``KeyError`` naming them; a character of the
            vocabulary (e.g. ``"?"``) replaces them with that character's id.

    Encoding looks code points up in a table with NumPy, so a 5 M character
    corpus encodes in a few tens of milliseconds.

    Example::

        >>> tok = CharTokenizer.from_text(text)      # vocabulary = sorted set of text's chars
        >>> tok.encode("To be")                       # array([..], dtype=int64)
    """

    def __init__(self, vocab: str | Sequence[str], unk: str | None = None):
        chars = list(vocab)
        if not chars:
            raise ValueError("CharTokenizer: the vocabulary is empty")
        if any(not isinstance(c, str) or len(c) != 1 for c in chars):
            raise ValueError("CharTokenizer: every vocabulary entry must be a single character")
        if len(set(chars)) != len(chars):
            raise ValueError("CharTokenizer: the vocabulary has repeated characters")
        if unk is not None and unk not in chars:
            raise ValueError(f"CharTokenizer: unk={unk!r} must be in the vocabulary")
        self.itos = chars
        self.stoi = {c: i for i, c in enumerate(chars)}
        self.unk = unk
        # A lookup table code point -> id (-1: not in the vocabulary): encoding is one gather.
        codes = np.array([ord(c) for c in chars])
        self._lut = np.full(codes.max() + 1, -1, dtype=np.int64)
        self._lut[codes] = np.arange(len(chars))

    @classmethod
    def from_text(cls, text: str, unk: str | None = None) -> CharTokenizer:
        """The vocabulary of ``text``: its distinct characters, sorted by code point."""
        present = np.flatnonzero(np.bincount(_code_points(text)))  # sorted distinct code points
        chars = sorted({chr(c) for c in present.tolist()} | ({unk} if unk else set()))
        return cls(chars, unk=unk)

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> np.ndarray:
        """``text`` -> int64 ids, shape (len(text),)."""
        codes = _code_points(text)
        ids = self._lut[codes.clip(max=len(self._lut) - 1)]
        known = (ids >= 0) & (codes < len(self._lut))
        if not known.all():
            if self.unk is None:
                missing = sorted({chr(c) for c in codes[~known][:1000]})
                raise KeyError(
                    f"CharTokenizer: characters not in the vocabulary: {missing[:20]} "
                    "(pass unk= to map them)"
                )
            ids[~known] = self.stoi[self.unk]
        return ids

    def decode(self, ids) -> str:
        """ids (list, array or Tensor, any shape — flattened) -> text."""
        flat = _ids(ids)
        if flat.size and (flat.min() < 0 or flat.max() >= len(self.itos)):
            raise ValueError(f"CharTokenizer.decode: ids must lie in [0, {len(self.itos)})")
        return "".join(self.itos[i] for i in flat.tolist())

    def save(self, path: str | os.PathLike) -> None:
        """Write ``{"type": "char", "vocab": [...], "unk": ...}`` as JSON, atomically."""
        atomic_write(
            path,
            json.dumps({"type": "char", "vocab": self.itos, "unk": self.unk}, ensure_ascii=False),
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> CharTokenizer:
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
        if spec.get("type") != "char":
            raise ValueError(f"CharTokenizer.load: {os.fspath(path)!r} is not a CharTokenizer file")
        return cls(spec["vocab"], unk=spec.get("unk"))

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size}, unk={self.unk!r})"


# ------------------------------------------------------------------ subwords
def _hf():
    try:
        import tokenizers
    except ImportError as e:
        raise ImportError(
            "subword tokenizers need the `tokenizers` package; install with `pip install axon[text]`"
        ) from e
    return tokenizers


class SubwordTokenizer:
    """A HuggingFace ``tokenizers.Tokenizer`` with axon's interface (ids as int64 arrays).

    The wrapped object is ``.backend`` for anything not covered here.
    """

    def __init__(self, backend):
        self.backend = backend

    @property
    def vocab_size(self) -> int:
        return self.backend.get_vocab_size()

    def __len__(self) -> int:
        return self.vocab_size

    def encode(self, text: str) -> np.ndarray:
        """``text`` -> int64 ids, shape (n_tokens,)."""
        return np.asarray(self.backend.encode(text).ids, dtype=np.int64)

    def encode_batch(self, texts: Sequence[str]) -> list[np.ndarray]:
        return [np.asarray(e.ids, dtype=np.int64) for e in self.backend.encode_batch(list(texts))]

    def decode(self, ids, skip_special_tokens: bool = True) -> str:
        return self.backend.decode(_ids(ids).tolist(), skip_special_tokens=skip_special_tokens)

    def token_to_id(self, token: str) -> int | None:
        return self.backend.token_to_id(token)

    def save(self, path: str | os.PathLike) -> None:
        """The library's own JSON format, written atomically."""
        atomic_write(path, self.backend.to_str())

    def __repr__(self) -> str:
        return (
            f"SubwordTokenizer({type(self.backend.model).__name__}, vocab_size={self.vocab_size})"
        )


SPECIALS = ("<pad>", "<unk>", "<bos>", "<eos>")


def train_bpe(
    texts: Iterable[str],
    vocab_size: int,
    special_tokens: Sequence[str] = SPECIALS,
    min_frequency: int = 2,
) -> SubwordTokenizer:
    """Train a byte-level BPE tokenizer (GPT-2 style) on ``texts``.

    Byte-level: every string can be encoded (no unknown characters) and
    ``decode(encode(s)) == s`` exactly. Special tokens get the first ids.

    Example::

        >>> tok = train_bpe(["some text", "more text"], vocab_size=300)
    """
    tk = _hf()
    tokenizer = tk.Tokenizer(
        tk.models.BPE(unk_token="<unk>" if "<unk>" in special_tokens else None)
    )
    tokenizer.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = tk.decoders.ByteLevel()
    trainer = tk.trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(special_tokens),
        initial_alphabet=tk.pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return SubwordTokenizer(tokenizer)


def train_wordpiece(
    texts: Iterable[str],
    vocab_size: int,
    special_tokens: Sequence[str] = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"),
    lowercase: bool = True,
    min_frequency: int = 2,
) -> SubwordTokenizer:
    """Train a BERT-style WordPiece tokenizer (``##`` continuation pieces) on ``texts``.

    Text is split on whitespace and punctuation first, so ``decode`` gives
    the words back but not the original spacing around punctuation.
    """
    tk = _hf()
    tokenizer = tk.Tokenizer(tk.models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = tk.normalizers.BertNormalizer(lowercase=lowercase)
    tokenizer.pre_tokenizer = tk.pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = tk.decoders.WordPiece()
    trainer = tk.trainers.WordPieceTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=list(special_tokens)
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return SubwordTokenizer(tokenizer)


def load_tokenizer(path: str | os.PathLike) -> CharTokenizer | SubwordTokenizer:
    """Load any tokenizer saved by ``.save(path)`` (char or subword) — or a HuggingFace ``tokenizer.json``."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if json.loads(text).get("type") == "char":
        return CharTokenizer.load(path)
    return SubwordTokenizer(_hf().Tokenizer.from_str(text))
