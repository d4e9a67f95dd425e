"""BERT: parity with HuggingFace's BertModel (forward and gradients), name mapping, training, saving."""

from __future__ import annotations

import json

import numpy as np
import pytest

import axon
from axon.models.bert import (
    BertConfig,
    BertForSequenceClassification,
    BertModel,
    Packing,
    cls_pool,
    mean_pool,
)
from axon.models.pretrained import convert_hf_bert, load_bert

SMALL = dict(
    vocab_size=99,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=37,
    max_position_embeddings=64,
    type_vocab_size=2,
)


def batch(rng, lengths=(7, 3, 5), vocab=99):
    """Right-padded ids, attention_mask and token types for sequences of the given lengths."""
    B, T = len(lengths), max(lengths)
    ids = np.zeros((B, T), np.int64)
    mask = np.zeros((B, T), np.int64)
    types = np.zeros((B, T), np.int64)
    for i, n in enumerate(lengths):
        ids[i, :n] = rng.integers(1, vocab, n)
        mask[i, :n] = 1
        types[i, n // 2 : n] = 1  # a second segment
    return ids, mask, types


@pytest.fixture(scope="module")
def hf_model(tmp_path_factory):
    """A small random HF BertModel saved as config.json + model.safetensors, and its directory."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.BertConfig(
        **SMALL, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0
    )
    model = transformers.BertModel(config).eval()
    with torch.no_grad():  # HF inits LayerNorm at 1/0 and biases at 0: perturb them so they count
        for name, p in model.named_parameters():
            if "LayerNorm" in name or name.endswith("bias"):
                p.add_(0.1 * torch.randn_like(p))
    directory = tmp_path_factory.mktemp("hf_bert")
    model.save_pretrained(directory, safe_serialization=True)
    return model, directory


def test_bert_matches_hf_with_padding(hf_model):
    torch = pytest.importorskip("torch")
    hf, directory = hf_model
    model = load_bert(directory)
    ids, mask, types = batch(np.random.default_rng(0))
    with torch.no_grad():
        out = hf(
            torch.tensor(ids), attention_mask=torch.tensor(mask), token_type_ids=torch.tensor(types)
        )
    ref, ref_pooled = out.last_hidden_state.numpy(), out.pooler_output.numpy()
    with axon.no_grad():
        hidden = model(axon.tensor(ids), attention_mask=mask, token_type_ids=axon.tensor(types))
        pooled = model.pool(hidden)
    real = mask.astype(bool)
    assert hidden.dtype == np.float32
    assert np.abs(hidden.data[real] - ref[real]).max() <= 1e-4
    assert np.all(hidden.data[~real] == 0)  # padded positions: zero vectors (documented)
    np.testing.assert_allclose(pooled.data, ref_pooled, atol=1e-4)
    # sentence-transformers' mean pooling over real tokens
    ref_mean = (ref * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    assert mean_pool(hidden, mask).dtype == np.float32
    np.testing.assert_allclose(mean_pool(hidden, mask).data, ref_mean, atol=1e-4)
    np.testing.assert_allclose(cls_pool(hidden).data, ref[:, 0], atol=1e-4)


def test_bert_matches_hf_without_mask_and_token_types(hf_model):
    torch = pytest.importorskip("torch")
    hf, directory = hf_model
    model = load_bert(directory)
    ids = np.random.default_rng(1).integers(0, 99, (2, 9))
    with torch.no_grad():
        ref = hf(torch.tensor(ids)).last_hidden_state.numpy()
    with axon.no_grad():
        hidden = model(axon.tensor(ids))
    assert np.abs(hidden.data - ref).max() <= 1e-4


def test_bert_gradients_match_hf(hf_model):
    """Backward through the packed (padding-free) layers gives HF's gradients."""
    torch = pytest.importorskip("torch")
    hf, directory = hf_model
    model = load_bert(directory).train()  # dropout probabilities are 0 in this config
    ids, mask, types = batch(np.random.default_rng(2))
    weights = np.random.default_rng(3).standard_normal((*ids.shape, 32)).astype(np.float32)
    weights *= mask[..., None]  # the loss reads real positions only
    hf.zero_grad()
    out = hf(
        torch.tensor(ids), attention_mask=torch.tensor(mask), token_type_ids=torch.tensor(types)
    )
    (out.last_hidden_state * torch.tensor(weights)).sum().backward()
    hidden = model(axon.tensor(ids), attention_mask=mask, token_type_ids=axon.tensor(types))
    (hidden * axon.tensor(weights)).sum().backward()
    grads = {n: p.grad.numpy() for n, p in hf.named_parameters() if p.grad is not None}
    ours, _ = convert_hf_bert(grads)  # HF gradient names -> axon names (q, k, v stacked)
    params = dict(model.named_parameters())
    # every parameter but the pooler's (the loss doesn't read it)
    assert set(ours) == {n for n in params if not n.startswith("pooler")}
    for name, g in ours.items():
        np.testing.assert_allclose(params[name].grad.data, g, atol=2e-4, rtol=1e-3, err_msg=name)


def test_convert_hf_names_prefix_heads_and_tf_names():
    rng = np.random.default_rng(0)
    C = 8
    hf = {
        "bert.embeddings.word_embeddings.weight": rng.standard_normal((10, C)),
        "bert.embeddings.LayerNorm.gamma": np.ones(C),  # TensorFlow-era names
        "bert.embeddings.LayerNorm.beta": np.zeros(C),
        "bert.embeddings.position_ids": np.arange(4)[None],
        "cls.predictions.bias": np.zeros(10),
        "classifier.weight": np.zeros((2, C)),
        "unknown.weight": np.zeros(3),
    }
    for part in ("query", "key", "value"):
        hf[f"bert.encoder.layer.0.attention.self.{part}.weight"] = rng.standard_normal((C, C))
        hf[f"bert.encoder.layer.0.attention.self.{part}.bias"] = rng.standard_normal(C)
    state, leftover = convert_hf_bert(hf)
    assert set(state) == {
        "embeddings.word_embeddings.weight",
        "embeddings.norm.weight",
        "embeddings.norm.bias",
        "layers.0.qkv.weight",
        "layers.0.qkv.bias",
    }
    q = hf["bert.encoder.layer.0.attention.self.query.weight"]
    v = hf["bert.encoder.layer.0.attention.self.value.weight"]
    np.testing.assert_array_equal(state["layers.0.qkv.weight"][:C], q)
    np.testing.assert_array_equal(state["layers.0.qkv.weight"][2 * C :], v)
    assert sorted(leftover) == [
        "classifier.weight",
        "cls.predictions.bias",
        "embeddings.position_ids",
        "unknown.weight",
    ]


def test_load_bert_names_missing_and_unplaced_weights(tmp_path):
    axon.manual_seed(0)
    config = BertConfig(**SMALL)
    (tmp_path / "config.json").write_text(json.dumps({**SMALL, "model_type": "bert"}))
    state = {}
    for name, p in BertModel(config).state_dict().items():  # write HF names back
        state[name] = p.data
    hf = {"embeddings.word_embeddings.weight": state["embeddings.word_embeddings.weight"]}
    hf["encoder.layer.0.intermediate.dense.weight"] = state["layers.0.ff_in.weight"]
    hf["encoder.layer.9.intermediate.dense.weight"] = state["layers.0.ff_in.weight"]  # no layer 9
    hf["mystery.weight"] = np.zeros(2, np.float32)
    axon.save(hf, tmp_path / "model.safetensors")
    with pytest.raises(KeyError) as info:
        load_bert(tmp_path)
    message = str(info.value)
    assert "layers.1.qkv.weight" in message  # missing
    assert "layers.9.ff_in.weight" in message and "mystery.weight" in message  # unplaced
    model = load_bert(tmp_path, strict=False)  # loads what fits
    np.testing.assert_array_equal(model.layers[0].ff_in.weight.data, state["layers.0.ff_in.weight"])


def test_config_from_dict():
    config = BertConfig.from_dict({**SMALL, "model_type": "bert", "architectures": ["BertModel"]})
    assert config.hidden_size == 32 and config.num_attention_heads == 4
    with pytest.raises(ValueError, match="relative_key"):
        BertConfig.from_dict({**SMALL, "position_embedding_type": "relative_key"})
    with pytest.raises(ValueError, match="multiple of num_attention_heads"):
        BertConfig(hidden_size=30, num_attention_heads=4)
    with pytest.raises(ValueError, match="hidden_act"):
        BertConfig(hidden_act="swishy")


def test_padding_does_not_change_real_tokens():
    """A sequence gives the same vectors alone and padded inside a batch."""
    axon.manual_seed(0)
    model = BertModel(BertConfig(**SMALL)).eval()
    ids, mask, types = batch(np.random.default_rng(4), lengths=(3, 8, 5))
    with axon.no_grad():
        together = model(axon.tensor(ids), attention_mask=mask, token_type_ids=axon.tensor(types))
        alone = model(axon.tensor(ids[:1, :3]), token_type_ids=axon.tensor(types[:1, :3]))
    np.testing.assert_allclose(together.data[0, :3], alone.data[0], atol=1e-5)


def test_packing_round_trip_and_left_padding():
    mask = np.array([[0, 0, 1, 1], [1, 1, 1, 1]])  # left padding works too
    p = Packing(mask, 2, 4)
    x = axon.tensor(np.arange(2 * 4 * 3, dtype=np.float32).reshape(2, 4, 3))
    packed = p.unpad(x)
    assert packed.shape == (6, 3)
    back = p.pad(packed).data
    np.testing.assert_array_equal(back[mask == 1], x.data[mask == 1])
    assert np.all(back[mask == 0] == 0)
    assert p.mask.shape == (2, 1, 1, 4)
    assert Packing(np.ones((2, 4)), 2, 4).mask is None  # nothing padded: no mask at all


def test_bert_rejects_bad_inputs():
    model = BertModel(BertConfig(**SMALL))
    with pytest.raises(ValueError, match="longer than max_position_embeddings"):
        model(axon.tensor(np.zeros((1, 65), np.int64)))
    with pytest.raises(ValueError, match=r"attention_mask must be \(B, T\)"):
        model(axon.tensor(np.zeros((2, 5), np.int64)), attention_mask=np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"input_ids must be \(B, T\)"):
        model(axon.tensor(np.zeros(5, np.int64)))


def test_bert_classifier_overfits_one_batch():
    axon.manual_seed(0)
    config = BertConfig(
        **{**SMALL, "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
    )
    model = BertForSequenceClassification(config, num_labels=3)
    ids, mask, types = batch(np.random.default_rng(5), lengths=(6, 3, 5, 4, 6, 2))
    labels = axon.tensor(np.array([0, 1, 2, 0, 1, 2]))
    opt = axon.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(60):
        logits = model(axon.tensor(ids), attention_mask=mask, token_type_ids=axon.tensor(types))
        loss = axon.nn.functional.cross_entropy(logits, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.05 < losses[0]


def test_bert_save_load_round_trip(tmp_path):
    axon.manual_seed(0)
    a = BertForSequenceClassification(BertConfig(**SMALL), num_labels=2).eval()
    a.save(tmp_path / "bert.safetensors")
    axon.manual_seed(1)
    b = BertForSequenceClassification(BertConfig(**SMALL), num_labels=2).eval()
    b.load(tmp_path / "bert.safetensors")
    ids, mask, _ = batch(np.random.default_rng(6))
    with axon.no_grad():
        np.testing.assert_array_equal(
            a(axon.tensor(ids), attention_mask=mask).data,
            b(axon.tensor(ids), attention_mask=mask).data,
        )
