"""GPT: shapes, tying, loss, init, training, save/load, KV-cache generation, GPT-2 weights."""

from __future__ import annotations

import math

import numpy as np
import pytest

import axon
from axon.models.generation import generator_for, sample_next
from axon.models.gpt import GPT, GPTConfig, gpt2_config
from axon.nn import functional as F

SMALL = dict(vocab_size=20, block_size=16, n_layer=2, n_head=2, n_embd=32)


def _model(seed=0, **kw):
    axon.manual_seed(seed)
    return GPT(GPTConfig(**{**SMALL, **kw}))


def _ids(*shape, vocab=20, seed=0):
    return np.random.default_rng(seed).integers(0, vocab, shape)


def test_shapes_and_loss_none_without_targets():
    model = _model()
    logits, loss = model(_ids(3, 10))
    assert logits.shape == (3, 10, 20) and logits.dtype == np.float32
    assert loss is None
    logits, _ = model(axon.tensor(_ids(1, 16)))  # a Tensor works too; T == block_size is allowed
    assert logits.shape == (1, 16, 20)
    with pytest.raises(ValueError, match="block_size 16"):
        model(_ids(1, 17))


def test_weight_tying_is_one_parameter():
    model = _model()
    assert model.transformer.wte.weight is model.lm_head.weight
    names = [n for n, _ in model.named_parameters()]
    assert "transformer.wte.weight" in names and "lm_head.weight" not in names  # counted once
    _, loss = model(_ids(2, 8), _ids(2, 8, seed=1))
    loss.backward()
    assert model.lm_head.weight.grad is model.transformer.wte.weight.grad


def test_loss_is_cross_entropy_of_the_logits():
    model = _model()
    idx, targets = _ids(2, 12), _ids(2, 12, seed=1)
    targets[0, :3] = -1  # ignored positions
    logits, loss = model(idx, targets)
    expected = F.cross_entropy(logits.reshape(-1, 20), targets.reshape(-1), ignore_index=-1)
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-6)


def test_gpt2_init():
    model = _model(n_layer=4, n_embd=64, vocab_size=200)
    std = {n: float(p.data.std()) for n, p in model.named_parameters() if p.ndim == 2}
    assert abs(std["transformer.h.0.attn.c_attn.weight"] - 0.02) < 0.002
    assert abs(std["transformer.h.0.mlp.c_proj.weight"] - 0.02 / math.sqrt(8)) < 0.001
    assert abs(std["transformer.wte.weight"] - 0.02) < 0.002
    assert not np.any(model.transformer.h[0].attn.c_attn.bias.data)


def test_bias_false_and_unknown_activation():
    model = _model(bias=False)
    assert all(not n.endswith(".bias") for n, _ in model.named_parameters())
    with pytest.raises(ValueError, match="activation"):
        _model(activation="relu")


def test_configure_optimizers_groups():
    model = _model()
    opt = model.configure_optimizers(weight_decay=0.1, lr=1e-3, betas=(0.9, 0.95))
    decay, no_decay = opt.param_groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.ndim >= 2 for p in decay["params"]) and all(p.ndim < 2 for p in no_decay["params"])
    n_params = len(list(model.parameters()))
    assert len(decay["params"]) + len(no_decay["params"]) == n_params  # the tied weight once


def test_overfits_one_batch():
    model = _model(dropout=0.1)
    idx = _ids(4, 16, seed=2)
    x, y = idx[:, :-1], idx[:, 1:]
    opt = model.configure_optimizers(weight_decay=0.0, lr=1e-2)
    first = None
    for _ in range(80):
        _, loss = model(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    model.eval()
    _, loss = model(x, y)
    assert first > 2.5 and loss.item() < 0.05, (first, loss.item())


def test_save_load_round_trip(tmp_path):
    model = _model().eval()
    path = tmp_path / "gpt.safetensors"
    axon.save(model.state_dict(), path)
    other = _model(seed=1).eval()
    other.load_state_dict(axon.load(path))
    assert other.transformer.wte.weight is other.lm_head.weight  # still tied
    idx = _ids(2, 10)
    np.testing.assert_array_equal(model(idx)[0].data, other(idx)[0].data)


@pytest.mark.parametrize(
    "prompt_len, new", [(5, 8), (3, 30), (20, 6)], ids=["short", "past-block", "long-prompt"]
)
@pytest.mark.parametrize("greedy", [dict(temperature=0.0), dict(top_k=1)], ids=["temp0", "top1"])
def test_greedy_generation_with_cache_equals_without(prompt_len, new, greedy):
    model = _model()
    prompt = _ids(2, prompt_len)
    cached = model.generate(prompt, new, use_cache=True, **greedy)
    plain = model.generate(prompt, new, use_cache=False, **greedy)
    assert cached.shape == (2, prompt_len + new) and cached.dtype == np.int64
    np.testing.assert_array_equal(cached.data, plain.data)
    np.testing.assert_array_equal(cached.data[:, :prompt_len], prompt)


def test_cache_in_chunks_matches_the_full_forward():
    """Prefill, then several tokens at once, then one: each position sees exactly its past."""
    model = _model().eval()
    idx = _ids(2, 12)
    full, _ = model(idx)
    with axon.no_grad():
        caches = model._new_caches(2)
        parts = [
            model._features(idx[:, a:b], caches).reshape(2, b - a, 32)  # (B, T, C)
            for a, b in ((0, 5), (5, 11), (11, 12))
        ]
        logits = model.lm_head(axon.cat(parts, 1))
    np.testing.assert_allclose(logits.data, full.data, atol=2e-5)


def test_sampling_is_reproducible_with_seed():
    model = _model()
    prompt = _ids(2, 4)
    kw = dict(max_new_tokens=12, temperature=0.9, top_k=8, top_p=0.9)
    a = model.generate(prompt, seed=7, **kw).data
    b = model.generate(prompt, seed=7, **kw).data
    c = model.generate(prompt, seed=7, use_cache=False, **kw).data
    d = model.generate(prompt, seed=8, **kw).data
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, d)
    axon.manual_seed(3)  # seed=None: axon's generator
    e = model.generate(prompt, **kw).data
    axon.manual_seed(3)
    np.testing.assert_array_equal(e, model.generate(prompt, **kw).data)


def test_generate_builds_no_graph_and_restores_mode():
    model = _model(dropout=0.2)
    assert model.training
    out = model.generate(_ids(1, 4), 5, temperature=0)
    assert not out.requires_grad and out.grad_fn is None
    assert all(p.grad is None for p in model.parameters())
    assert model.training and axon.is_grad_enabled()
    # dropout is off while generating: greedy output doesn't depend on the generator
    axon.manual_seed(0)
    a = model.generate(_ids(1, 4), 5, temperature=0).data
    axon.manual_seed(1)
    np.testing.assert_array_equal(a, model.generate(_ids(1, 4), 5, temperature=0).data)


def test_sample_next_filters():
    logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]] * 2000))
    rng = generator_for(0)
    assert sample_next(logits[:3], temperature=0).tolist() == [0, 0, 0]
    assert set(sample_next(logits, top_k=2, generator=rng).tolist()) == {0, 1}
    assert set(sample_next(logits, top_p=0.7, generator=rng).tolist()) == {0, 1}  # 0.5 < 0.7 <= 0.8
    assert set(sample_next(logits, top_p=0.5, generator=rng).tolist()) == {0}
    freq = np.bincount(sample_next(logits, generator=rng), minlength=4) / 2000
    np.testing.assert_allclose(freq, [0.5, 0.3, 0.15, 0.05], atol=0.04)
    with pytest.raises(ValueError, match="top_p"):
        sample_next(logits, top_p=0.0)


def test_gpt2_config_sizes():
    c = gpt2_config("gpt2-medium")
    assert (c.n_layer, c.n_head, c.n_embd, c.vocab_size, c.block_size) == (
        24,
        16,
        1024,
        50257,
        1024,
    )
    assert c.activation == "gelu_tanh"


@pytest.mark.torch
@pytest.mark.slow  # importing transformers alone takes several seconds
def test_gpt2_weights_from_transformers_match_logits(tmp_path):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    hf_config = transformers.GPT2Config(
        n_layer=2,
        n_head=2,
        n_embd=32,
        vocab_size=100,
        n_positions=64,
        bos_token_id=0,
        eos_token_id=0,
    )
    hf = transformers.GPT2LMHeadModel(hf_config).eval()
    with torch.no_grad():  # GPT-2's own init (std 0.02) gives tiny logits: make the test bite
        for p in hf.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    hf.save_pretrained(tmp_path, safe_serialization=True)
    config = GPTConfig(vocab_size=100, block_size=64, n_layer=2, n_head=2, n_embd=32)
    model = GPT.load_gpt2(tmp_path / "model.safetensors", config).eval()
    assert model.config.activation == "gelu_tanh" and model.config.bias
    idx = _ids(3, 40, vocab=100)
    with torch.no_grad():
        expected = hf(torch.tensor(idx)).logits.numpy()
    logits, _ = model(idx)
    assert np.abs(expected).max() > 1.0  # not a trivially small comparison
    assert np.abs(logits.data - expected).max() <= 1e-4
    # the folder form, and a state_dict in the bare GPT2Model layout (no "transformer." prefix)
    from_dir = GPT.load_gpt2(tmp_path, config).eval()
    np.testing.assert_array_equal(from_dir(idx)[0].data, logits.data)
    bare = {
        k.removeprefix("transformer."): v.numpy() for k, v in hf.transformer.state_dict().items()
    }
    np.testing.assert_array_equal(
        GPT.from_gpt2_state_dict(bare, config).eval()(idx)[0].data, logits.data
    )
