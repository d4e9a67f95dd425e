"""weight_decay_groups: matrices decay, biases and norm weights don't."""

from __future__ import annotations

import pytest

import axon
from axon import optim


def test_splits_by_ndim_and_feeds_an_optimizer():
    w, b, ln, emb = (
        axon.randn(4, 3, requires_grad=True),
        axon.zeros(3, requires_grad=True),
        axon.ones(3, requires_grad=True),
        axon.randn(10, 4, requires_grad=True),
    )
    named = [("fc.weight", w), ("fc.bias", b), ("ln.weight", ln), ("wte.weight", emb)]
    groups = optim.weight_decay_groups(named, weight_decay=0.1)
    assert [g["weight_decay"] for g in groups] == [0.1, 0.0]
    assert [id(p) for p in groups[0]["params"]] == [id(w), id(emb)]
    assert [id(p) for p in groups[1]["params"]] == [id(b), id(ln)]
    opt = optim.AdamW(groups, lr=1e-3, weight_decay=0.5)
    assert [g["weight_decay"] for g in opt.param_groups] == [0.1, 0.0]


def test_skips_frozen_and_repeated_parameters_and_accepts_bare_tensors():
    w = axon.randn(2, 2, requires_grad=True)
    frozen = axon.randn(2, 2)
    scalar = axon.tensor(1.0, requires_grad=True)
    groups = optim.weight_decay_groups([("a", w), ("tied", w), ("frozen", frozen), scalar], 0.01)
    assert [len(g["params"]) for g in groups] == [1, 1]
    assert groups[1]["params"][0] is scalar
    assert optim.weight_decay_groups([], 0.1) == [
        {"params": [], "weight_decay": 0.1},
        {"params": [], "weight_decay": 0.0},
    ]


def test_rejects_non_tensors():
    with pytest.raises(TypeError, match="expected \\(name, Tensor\\) pairs"):
        optim.weight_decay_groups([("w", [1.0, 2.0])], 0.1)


def test_works_with_module_named_parameters():
    nn = pytest.importorskip("axon.nn")
    layer = nn.Linear(3, 2)
    decay, no_decay = optim.weight_decay_groups(layer.named_parameters(), 0.1)
    assert [p.shape for p in decay["params"]] == [(2, 3)]
    assert [p.shape for p in no_decay["params"]] == [(2,)]
