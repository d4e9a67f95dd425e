"""The Module system: registration, iteration, modes, state dicts, hooks, repr, summary."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch

import axon
from axon import nn

RNG = np.random.default_rng(0)


def mlp():
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def torch_mlp():
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.norm = nn.LayerNorm(4)
        self.register_buffer("steps", axon.zeros(1))
        self.register_buffer("cache", axon.zeros(4), persistent=False)
        self.scale = nn.Parameter(axon.ones(4))
        self.plain = 3  # not registered

    def forward(self, x):
        return self.norm(self.fc(x)) * self.scale


class TorchBlock(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 4)
        self.norm = torch.nn.LayerNorm(4)
        self.register_buffer("steps", torch.zeros(1))
        self.register_buffer("cache", torch.zeros(4), persistent=False)
        self.scale = torch.nn.Parameter(torch.ones(4))
        self.plain = 3

    def forward(self, x):
        return self.norm(self.fc(x)) * self.scale


def test_registration_by_attribute_follows_torch():
    ours, theirs = Block(), TorchBlock()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert list(ours.state_dict()) == list(
        theirs.state_dict()
    )  # the non-persistent buffer is left out
    assert "cache" not in ours.state_dict() and ours.cache.shape == (4,)
    assert ours.plain == 3 and "plain" not in dict(ours.named_parameters())
    del ours.fc
    assert "fc" not in dict(ours.named_children())
    ours.extra = nn.Linear(1, 1)
    assert [n for n, _ in ours.named_children()][-1] == "extra"


def test_assignment_rules():
    m = nn.Linear(2, 3)
    m.bias = None  # an optional weight switched off
    assert "bias" not in m.state_dict() and m.bias is None
    m.bias = nn.Parameter(axon.zeros(3))
    assert list(m.state_dict()) == ["weight", "bias"]
    with pytest.raises(TypeError, match="cannot assign a Tensor as parameter 'weight'"):
        m.weight = axon.zeros(3, 2)  # would silently stop training the weight
    seq = mlp()
    with pytest.raises(TypeError, match="cannot assign a int as child module '0'"):
        setattr(seq, "0", 5)
    block = Block()
    block.steps = axon.ones(1)  # a buffer stays a buffer
    assert "steps" in dict(block.named_buffers()) and block.state_dict()["steps"].item() == 1

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(axon.zeros(1))

    with pytest.raises(AttributeError, match="call super"):
        Early()
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'wieght'"):
        _ = m.wieght


def test_shared_parameters_are_listed_once():
    enc, dec = nn.Embedding(5, 3), nn.Linear(3, 5, bias=False)
    dec.weight = enc.weight  # weight tying
    model = nn.Sequential(enc, dec)
    t_enc, t_dec = torch.nn.Embedding(5, 3), torch.nn.Linear(3, 5, bias=False)
    t_dec.weight = t_enc.weight
    tmodel = torch.nn.Sequential(t_enc, t_dec)
    assert (
        [n for n, _ in model.named_parameters()]
        == [n for n, _ in tmodel.named_parameters()]
        == ["0.weight"]
    )
    assert list(model.state_dict()) == list(tmodel.state_dict()) == ["0.weight", "1.weight"]
    shared = nn.Linear(2, 2)
    twice = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(twice.parameters())) == 2
    assert [n for n, _ in twice.named_modules()] == ["", "0", "1"]  # a module reached twice: once


def test_train_eval_propagate():
    model = nn.Sequential(Block(), nn.Sequential(nn.Dropout(0.5), nn.ReLU()))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model[1].train()
    assert model[1][0].training and not model.training


def test_zero_grad_and_requires_grad():
    model = mlp()
    model(axon.randn(2, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    grad_arrays = [p.grad.data for p in model.parameters()]
    model.zero_grad(set_to_none=False)
    assert all(
        p.grad.data is a and not a.any()
        for p, a in zip(model.parameters(), grad_arrays, strict=True)
    )
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    out = model(axon.randn(2, 3))
    assert not out.requires_grad
    model[0].requires_grad_()
    assert [p.requires_grad for p in model.parameters()] == [True, True, False, False]


def test_apply_visits_children_first():
    seen, t_seen = [], []
    model, tmodel = (
        nn.Sequential(mlp(), nn.Tanh()),
        torch.nn.Sequential(torch_mlp(), torch.nn.Tanh()),
    )
    model.apply(lambda m: seen.append(type(m).__name__))
    tmodel.apply(lambda m: t_seen.append(type(m).__name__))
    assert seen == t_seen

    def init_zero(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    model.apply(init_zero)
    assert not model[0][0].weight.data.any()


def test_to_float64_casts_parameters_and_buffers():
    block = Block()
    block(axon.randn(2, 4)).sum().backward()
    assert block.to(np.float64) is block
    assert all(t.dtype == np.float64 for t in [*block.parameters(), *block.buffers()])
    assert block.fc.weight.grad.dtype == np.float64
    out = block(axon.randn(2, 4).double())
    assert out.dtype == np.float64
    block.float()
    assert block.fc.weight.dtype == np.float32


def test_state_dict_names_equal_torch_and_torch_weights_load():
    torch.manual_seed(0)
    theirs, ours = torch_mlp(), mlp()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    result = ours.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = RNG.standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(
        ours(axon.tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-6, atol=1e-6
    )
    # state_dict tensors share memory with the parameters (as PyTorch's)
    sd = ours.state_dict()
    assert sd["0.weight"].data is ours[0].weight.data and not sd["0.weight"].requires_grad


def test_load_state_dict_errors():
    model = mlp()
    state = model.state_dict()
    missing = {k: v for k, v in state.items() if k != "2.bias"}
    with pytest.raises(KeyError, match=r"missing keys \['2.bias'\]"):
        model.load_state_dict(missing)
    with pytest.raises(KeyError, match=r"unexpected keys \['extra'\]"):
        model.load_state_dict({**state, "extra": np.zeros(1)})
    result = model.load_state_dict({**missing, "extra": np.zeros(1)}, strict=False)
    assert result.missing_keys == ["2.bias"] and result.unexpected_keys == ["extra"]
    bad = dict(state)
    bad["0.weight"] = np.zeros((4, 5), np.float32)
    with pytest.raises(
        ValueError, match=r"'0.weight'.*checkpoint has shape \(4, 5\).*model has shape \(4, 3\)"
    ):
        model.load_state_dict(bad)
    with pytest.raises(ValueError, match="size mismatch"):
        model.load_state_dict(bad, strict=False)  # a shape mismatch raises even when not strict


def test_load_state_dict_copies_in_place_and_bumps_version():
    model = mlp()
    w = model[0].weight
    array, version = w.data, w._version
    model.load_state_dict({k: np.ones(v.shape, np.float64) for k, v in model.state_dict().items()})
    assert w.data is array and w.dtype == np.float32 and (array == 1).all()
    assert w._version > version


def test_forward_pre_hook_and_forward_hook():
    model = mlp()
    calls = []

    def pre(module, args):
        calls.append("pre")
        return (args[0] * 0,)  # replace the input

    def post(module, args, output):
        calls.append("post")
        return output + 1  # replace the output

    h1 = model.register_forward_pre_hook(pre)
    h2 = model[2].register_forward_hook(post)
    x = axon.randn(2, 3)
    out = model(x)
    bias_path = model[2](model[1](model[0](axon.zeros(2, 3))))  # runs the hook on layer 2 too
    np.testing.assert_allclose(out.data, bias_path.data)
    assert calls == ["pre", "post", "post"]
    h1.remove()
    h2.remove()
    calls.clear()
    model(x)
    assert calls == []
    with model.register_forward_hook(post):
        model(x)
    model(x)
    assert calls == ["post"]


@pytest.mark.filterwarnings(
    "ignore:Full backward hook is firing"
)  # PyTorch's note for the no-grad input
@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_full_backward_hook_matches_torch(input_requires_grad):
    torch.manual_seed(0)
    theirs, ours = torch.nn.Linear(3, 2), nn.Linear(3, 2)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    got, t_got = [], []
    h = ours.register_full_backward_hook(lambda m, gi, go: got.append((gi, go)))
    theirs.register_full_backward_hook(lambda m, gi, go: t_got.append((gi, go)))
    x = RNG.standard_normal((4, 3)).astype(np.float32)
    g = RNG.standard_normal((4, 2)).astype(np.float32)
    ours(axon.tensor(x, requires_grad=input_requires_grad)).backward(axon.tensor(g))
    theirs(torch.tensor(x, requires_grad=input_requires_grad)).backward(torch.tensor(g))
    assert len(got) == len(t_got) == 1
    (gi, go), (tgi, tgo) = got[0], t_got[0]
    assert len(gi) == len(tgi) and len(go) == len(tgo)
    for a, b in zip(gi + go, tgi + tgo, strict=True):
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(
        ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-6, atol=1e-7
    )
    h.remove()
    ours(axon.tensor(x, requires_grad=True)).sum().backward()
    assert len(got) == 1


def test_full_backward_hook_can_replace_grad_input():
    layer = nn.Linear(3, 2)
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    x = axon.randn(4, 3, requires_grad=True)
    layer(x).sum().backward()
    assert not x.grad.data.any()
    assert layer.weight.grad.data.any()  # parameter gradients are untouched


def test_repr_equals_torch():
    assert repr(mlp()) == repr(torch_mlp())
    ours = nn.Sequential(
        OrderedDict(
            emb=nn.Embedding(10, 4, padding_idx=0),
            block=nn.Sequential(nn.LayerNorm(4), nn.GELU(), nn.Dropout(0.1)),
            head=nn.Linear(4, 3, bias=False),
            act=nn.LogSoftmax(dim=-1),
        )
    )
    theirs = torch.nn.Sequential(
        OrderedDict(
            emb=torch.nn.Embedding(10, 4, padding_idx=0),
            block=torch.nn.Sequential(
                torch.nn.LayerNorm(4), torch.nn.GELU(), torch.nn.Dropout(0.1)
            ),
            head=torch.nn.Linear(4, 3, bias=False),
            act=torch.nn.LogSoftmax(dim=-1),
        )
    )
    assert repr(ours) == repr(theirs)
    assert repr(nn.ModuleList([nn.ReLU(), nn.Tanh()])) == repr(
        torch.nn.ModuleList([torch.nn.ReLU(), torch.nn.Tanh()])
    )


def test_summary():
    text = mlp().summary(input_shape=(5, 3))
    lines = text.splitlines()
    assert "0 (Linear)" in text and "2 (Linear)" in text and "1 (ReLU)" in text
    assert "(5, 4)" in text and "(5, 2)" in text
    assert "Total params: 26" in text and "Trainable params: 26" in text
    assert len(lines) == 2 + 3 + 4
    frozen = mlp()
    frozen[0].requires_grad_(False)
    assert "Non-trainable params: 16" in frozen.summary(axon.randn(1, 3))
    with pytest.raises(ValueError, match="summary: pass example inputs or input_shape"):
        mlp().summary()


def test_containers_register_like_torch():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    t_layers = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)])
    assert list(layers.state_dict()) == list(t_layers.state_dict())
    heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 3)})
    t_heads = torch.nn.ModuleDict({"a": torch.nn.Linear(2, 1), "b": torch.nn.Linear(2, 3)})
    assert list(heads.state_dict()) == list(t_heads.state_dict())
    assert model_names(mlp()[1:]) == ["1", "2"] == [n for n, _ in torch_mlp()[1:].named_children()]
    assert mlp().get_submodule("2").out_features == 2


def model_names(m):
    return [n for n, _ in m.named_children()]


def test_registering_replaces_a_plain_attribute_of_the_same_name():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = None  # filled in later, as PyTorch code often does
            self.head = nn.Linear(2, 3)

    net = Net()
    assert isinstance(net.head, nn.Linear)
    assert [name for name, _ in net.named_parameters()] == ["head.weight", "head.bias"]
