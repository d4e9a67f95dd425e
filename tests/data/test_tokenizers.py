"""Tokenizers: CharTokenizer, and BPE/WordPiece through HuggingFace tokenizers."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import axon
from axon.data import CharTokenizer, load_tokenizer, train_bpe, train_wordpiece

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\nAll: Speak, speak. — ünïcödé ✓\n"


def test_char_round_trip():
    tok = CharTokenizer.from_text(TEXT)
    ids = tok.encode(TEXT)
    assert ids.dtype == np.int64 and ids.shape == (len(TEXT),)
    assert tok.decode(ids) == TEXT and tok.decode(axon.tensor(ids)) == TEXT
    assert tok.itos == sorted(set(TEXT)) and tok.vocab_size == len(set(TEXT)) == len(tok)
    assert tok.encode("").shape == (0,)


def test_char_unknown_characters():
    tok = CharTokenizer("abc ")
    with pytest.raises(KeyError, match=r"\['x', 'z'\]"):
        tok.encode("a zax")
    lenient = CharTokenizer("abc? ", unk="?")
    assert lenient.decode(lenient.encode("a zax🙂")) == "a ?a??"
    with pytest.raises(ValueError, match="unk"):
        CharTokenizer("abc", unk="?")
    with pytest.raises(ValueError, match="repeated"):
        CharTokenizer("aba")
    with pytest.raises(ValueError, match="ids must lie"):
        tok.decode([0, 7])


def test_char_save_load(tmp_path):
    tok = CharTokenizer.from_text(TEXT, unk="?")
    path = tmp_path / "char.json"
    tok.save(path)
    assert json.loads(path.read_text(encoding="utf-8"))["type"] == "char"
    for loaded in (CharTokenizer.load(path), load_tokenizer(path)):
        assert isinstance(loaded, CharTokenizer) and loaded.itos == tok.itos and loaded.unk == "?"
        assert np.array_equal(loaded.encode(TEXT), tok.encode(TEXT))
    assert not list(tmp_path.glob(".tmp-*"))  # atomic write left no temporary file


CORPUS = [
    "the quick brown fox jumps over the lazy dog",
    "the lazy dog sleeps while the quick fox runs",
    "a quick brown dog and a lazy brown fox",
] * 20


def test_bpe_train_round_trip_save_load(tmp_path):
    pytest.importorskip("tokenizers")
    tok = train_bpe(CORPUS, vocab_size=300)
    assert 256 < tok.vocab_size <= 300 and tok.token_to_id("<pad>") == 0
    sentence = "The quick fox, unseen: ÿ✓!"
    ids = tok.encode(sentence)
    assert ids.dtype == np.int64 and len(ids) < len(sentence.encode())
    assert tok.decode(ids) == sentence  # byte-level: exact, even for characters never seen
    path = tmp_path / "bpe.json"
    tok.save(path)
    loaded = load_tokenizer(path)
    assert np.array_equal(loaded.encode(sentence), ids)
    assert [len(e) for e in tok.encode_batch(["the fox", "dog"])] == [
        len(tok.encode("the fox")),
        len(tok.encode("dog")),
    ]


def test_wordpiece_train():
    pytest.importorskip("tokenizers")
    tok = train_wordpiece(CORPUS, vocab_size=120)
    assert tok.decode(tok.encode("The lazy dog")) == "the lazy dog"
    assert tok.token_to_id("[UNK]") is not None


def test_missing_tokenizers_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tokenizers", None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install axon\[text\]"):
        train_bpe(["text"], vocab_size=10)
    CharTokenizer.from_text("still works without it")
