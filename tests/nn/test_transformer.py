"""Transformer encoder/decoder layers and stacks: parity with PyTorch, masks, KV cache."""

from __future__ import annotations

import numpy as np
import pytest

import axon
from axon import nn
from tests.helpers import check_module_parity

torch = pytest.importorskip("torch")
torch.backends.mha.set_fastpath_enabled(False)  # the regular path: same numerics as training

D, HEADS, FF, T, S, N = 8, 2, 16, 5, 6, 3
CAUSAL = np.triu(np.ones((T, T), bool), 1)
PADDING = np.zeros((N, T), bool)
PADDING[1, 3:] = True


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _t(value):
    return torch.tensor(value) if isinstance(value, np.ndarray) else value


def _pair(name, **kw):
    kw = {"dim_feedforward": FF, "dropout": 0.0, **kw}  # dropout 0: train mode is deterministic
    torch.manual_seed(0)
    return getattr(nn, name)(D, HEADS, **kw), getattr(torch.nn, name)(D, HEADS, **kw)


@pytest.mark.torch
@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_matches_torch(norm_first, activation):
    ours, theirs = _pair("TransformerEncoderLayer", norm_first=norm_first, activation=activation)
    check_module_parity(ours, theirs, [_x(T, N, D)])

    def call(mask, padding):
        return lambda m, x: m(x, src_mask=mask, src_key_padding_mask=padding)

    check_module_parity(
        ours,
        theirs,
        [_x(T, N, D)],
        forward=call(CAUSAL, PADDING),
        torch_forward=call(_t(CAUSAL), _t(PADDING)),
    )


@pytest.mark.torch
@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_decoder_layer_matches_torch(norm_first, activation):
    ours, theirs = _pair(
        "TransformerDecoderLayer", norm_first=norm_first, activation=activation, batch_first=True
    )
    memory_padding = np.zeros((N, S), bool)
    memory_padding[0, 4:] = True

    def call(tgt_mask, tgt_padding, mem_padding):
        return lambda m, x, mem: m(
            x,
            mem,
            tgt_mask=tgt_mask,
            tgt_key_padding_mask=tgt_padding,
            memory_key_padding_mask=mem_padding,
            tgt_is_causal=True,
        )

    check_module_parity(
        ours,
        theirs,
        [_x(N, T, D), _x(N, S, D, seed=1)],
        forward=call(CAUSAL, PADDING, memory_padding),
        torch_forward=call(_t(CAUSAL), _t(PADDING), _t(memory_padding)),
    )


@pytest.mark.torch
def test_callable_activation_and_no_bias_match_torch():
    ours, _ = _pair("TransformerEncoderLayer", activation=nn.GELU(), bias=False)
    _, theirs = _pair("TransformerEncoderLayer", activation=torch.nn.GELU(), bias=False)
    check_module_parity(ours, theirs, [_x(T, N, D)])


@pytest.mark.torch
def test_encoder_stack_matches_torch_and_loads_its_state_dict():
    kw = {"dim_feedforward": FF, "dropout": 0.0, "batch_first": True, "norm_first": True}
    torch.manual_seed(0)
    theirs = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(D, HEADS, **kw),
        2,
        norm=torch.nn.LayerNorm(D),
        enable_nested_tensor=False,
    )
    ours = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(D, HEADS, **kw), 2, norm=nn.LayerNorm(D)
    )
    assert list(ours.state_dict()) == list(theirs.state_dict())  # identical keys, identical order
    check_module_parity(ours, theirs, [_x(N, T, D)])
    mask = np.where(CAUSAL, -np.inf, 0).astype(np.float32)
    check_module_parity(
        ours,
        theirs,
        [_x(N, T, D)],
        forward=lambda m, x: m(x, mask=mask, is_causal=True),
        torch_forward=lambda m, x: m(x, mask=_t(mask), is_causal=True),
    )


@pytest.mark.torch
def test_decoder_stack_and_full_transformer_match_torch():
    kw = {"dim_feedforward": FF, "dropout": 0.0}
    torch.manual_seed(0)
    theirs = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(D, HEADS, **kw), 2)
    ours = nn.TransformerDecoder(nn.TransformerDecoderLayer(D, HEADS, **kw), 2)
    check_module_parity(ours, theirs, [_x(T, N, D), _x(S, N, D, seed=1)])

    torch.manual_seed(0)
    theirs = torch.nn.Transformer(D, HEADS, 1, 2, FF, 0.0)
    ours = nn.Transformer(D, HEADS, 1, 2, FF, 0.0)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    mask = nn.Transformer.generate_square_subsequent_mask(T)
    np.testing.assert_array_equal(
        mask.data, torch.nn.Transformer.generate_square_subsequent_mask(T).numpy()
    )
    check_module_parity(
        ours,
        theirs,
        [_x(S, N, D), _x(T, N, D, seed=1)],
        forward=lambda m, src, tgt: m(src, tgt, tgt_mask=mask),
        torch_forward=lambda m, src, tgt: m(src, tgt, tgt_mask=_t(mask.data)),
    )


def test_decoder_only_stack_with_kv_caches_equals_full_causal_forward():
    axon.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, batch_first=True, norm_first=True)
    stack = nn.TransformerEncoder(layer, 2).eval()
    x = axon.randn(2, 7, 16)
    with axon.no_grad():
        full = stack(x, is_causal=True)
        caches = nn.KVCache.for_layers(2)
        steps = [stack(x[:, t : t + 1], is_causal=True, kv_caches=caches) for t in range(7)]
    np.testing.assert_allclose(axon.cat(steps, 1).data, full.data, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="one per layer"):
        stack(x, kv_caches=caches[:1])


def test_dropout_makes_training_random_and_eval_deterministic():
    axon.manual_seed(0)
    layer = nn.TransformerDecoderLayer(D, HEADS, dim_feedforward=FF, dropout=0.3)
    x, mem = axon.randn(T, N, D), axon.randn(S, N, D)
    assert not np.allclose(layer(x, mem).data, layer(x, mem).data)
    layer.eval()
    np.testing.assert_array_equal(layer(x, mem).data, layer(x, mem).data)


def test_stack_layers_are_independent_copies():
    stack = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, HEADS, dim_feedforward=FF), 3)
    weights = [layer.linear1.weight for layer in stack.layers]
    assert len({id(w) for w in weights}) == 3
    np.testing.assert_array_equal(weights[0].data, weights[2].data)  # same start, as PyTorch
    with pytest.raises(ValueError, match="activation"):
        nn.TransformerEncoderLayer(D, HEADS, activation="swish")
