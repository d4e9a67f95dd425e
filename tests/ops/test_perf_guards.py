"""Performance guards: the benchmark workloads' building blocks stay in float32.

A silent float64 upcast (a NumPy float64 scalar, a ``np.ones`` without a
dtype, a Python-float array) doubles memory traffic and roughly halves the
speed of everything after it, while every result still looks right. These
tests run forward and backward of each building block of the benchmarks
(benchmarks/workloads.py: MLP, LeNet, residual CNN, GPT) on float32 inputs and
check the output, every gradient, and every array any graph node kept for
backward.
"""

from __future__ import annotations

import numpy as np
import pytest

import axon
from axon import nn, optim
from axon.autograd.function import Function
from axon.nn import functional as F

F32 = np.dtype(np.float32)


def _float_arrays(value):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _float_arrays(v)


def _graph_nodes(out):
    seen, stack, nodes = set(), [out._ctx], []
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen or not isinstance(node, Function):
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(p[0] for p in node.parents if p is not None)
    return nodes


def assert_float32_graph(out):
    """Every floating array held by the graph under ``out`` (saved or cached) is float32."""
    for node in _graph_nodes(out):
        for name, value in vars(node).items():
            for arr in _float_arrays(value if name != "_saved" else [e[1:] for e in value]):
                assert arr.dtype == F32, f"{type(node).__name__}.{name} holds {arr.dtype}"


def check_block(fn, *shapes, int_inputs=()):
    """Forward + backward of ``fn`` on float32 inputs: output, graph and gradients stay float32."""
    rng = np.random.default_rng(0)
    xs = [
        axon.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True) for s in shapes
    ]
    out = fn(*xs, *int_inputs)
    assert out.dtype == F32, f"output is {out.dtype}"
    assert_float32_graph(out)
    g = axon.tensor(rng.standard_normal(out.shape).astype(np.float32))
    out.backward(g)
    for i, x in enumerate(xs):
        assert x.grad is not None and x.grad.dtype == F32, f"grad {i} is {x.grad and x.grad.dtype}"


# ------------------------------------------------------------- building blocks
@pytest.mark.parametrize(
    "name, fn, shapes",
    [
        ("linear 2-D", lambda x, w, b: F.linear(x, w, b), [(16, 24), (8, 24), (8,)]),
        ("linear 3-D", lambda x, w, b: F.linear(x, w, b), [(2, 5, 24), (8, 24), (8,)]),
        ("matmul batched", lambda a, b: a @ b, [(2, 3, 5, 4), (2, 3, 4, 6)]),
        ("relu", F.relu, [(4, 300)]),
        ("gelu", F.gelu, [(3, 200_000)]),  # large: the blocked, threaded float32 path
        ("gelu small", F.gelu, [(4, 7)]),
        ("gelu tanh", lambda x: F.gelu(x, approximate="tanh"), [(4, 7)]),
        ("layer_norm", lambda x, w, b: F.layer_norm(x, (16,), w, b), [(2, 9, 16), (16,), (16,)]),
        ("softmax", lambda x: F.softmax(x, -1), [(2, 3, 8, 8)]),
        ("log_softmax", lambda x: F.log_softmax(x, -1), [(6, 10)]),
        ("conv2d 3x3 pad", lambda x, w: F.conv2d(x, w, padding=1), [(2, 3, 9, 9), (4, 3, 3, 3)]),
        ("conv2d bias", lambda x, w, b: F.conv2d(x, w, b), [(2, 1, 12, 12), (6, 1, 5, 5), (6,)]),
        (
            "conv2d stride 2",
            lambda x, w: F.conv2d(x, w, stride=2, padding=1),
            [(2, 4, 8, 8), (6, 4, 3, 3)],
        ),
        (
            "conv2d 1x1 stride 2",
            lambda x, w: F.conv2d(x, w, stride=2),
            [(2, 4, 8, 8), (6, 4, 1, 1)],
        ),
        ("max_pool2d", lambda x: F.max_pool2d(x, 2), [(2, 3, 8, 8)]),
        ("global avg pool", lambda x: x.mean((2, 3)), [(2, 3, 4, 4)]),
        ("flatten", lambda x: x.flatten(1), [(2, 3, 4, 4)]),
        ("add + relu", lambda a, b: F.relu(a + b), [(2, 3, 4, 4), (2, 3, 4, 4)]),
        (
            "split + transpose",
            lambda x: x.split(4, dim=2)[1].reshape(2, 3, 2, 2).transpose(1, 2),
            [(2, 3, 12)],
        ),
        (
            "sdpa causal",
            lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
            [(2, 2, 6, 4)] * 3,
        ),
    ],
)
def test_building_block_keeps_float32(name, fn, shapes):
    check_block(fn, *shapes)


def test_batch_norm_train_keeps_float32():
    bn = nn.BatchNorm2d(3).train()
    check_block(bn, (4, 3, 5, 5))
    assert bn.running_mean.dtype == F32 and bn.running_var.dtype == F32


def test_embedding_and_cross_entropy_keep_float32():
    emb = nn.Embedding(11, 6)
    idx = axon.tensor(np.array([[1, 2, 3], [4, 5, 10]]))
    out = emb(idx) + emb(idx)
    loss = F.cross_entropy(out.reshape(-1, 6), axon.tensor(np.array([0, 1, 2, 3, 4, 5])))
    assert loss.dtype == F32
    assert_float32_graph(loss)
    loss.backward()
    assert emb.weight.grad.dtype == F32


# ---------------------------------------------------------- whole train steps
def _small_models():
    class Block(nn.Module):
        def __init__(self, c_in, c_out, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(c_out)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(c_out)
            self.short = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

        def forward(self, x):
            y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
            return F.relu(y + self.short(x))

    class Res(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block(3, 4, 2)
            self.fc = nn.Linear(4, 10)

        def forward(self, x):
            return self.fc(self.block(x).mean((2, 3)))

    class TinyGPT(nn.Module):
        def __init__(self, d=8, h=2, vocab=10, ctx=6):
            super().__init__()
            self.d, self.h = d, h
            self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(ctx, d)
            self.ln1, self.ln2, self.ln_f = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
            self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
            self.head = nn.Linear(d, vocab, bias=False)

        def forward(self, idx):
            b, t = idx.shape
            d, h = self.d, self.h
            x = self.tok(idx) + self.pos(axon.arange(t))
            q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
            q, k, v = (z.reshape(b, t, h, d // h).transpose(1, 2) for z in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.transpose(1, 2).reshape(b, t, d))
            x = x + self.out(F.gelu(self.fc(self.ln2(x))))
            return self.head(self.ln_f(x))

    rng = np.random.default_rng(0)
    return [
        ("mlp", nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 10)),
         rng.standard_normal((5, 12)).astype(np.float32), rng.integers(0, 10, 5)),
        ("lenet", nn.Sequential(nn.Conv2d(1, 3, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                nn.Linear(3 * 4 * 4, 10)),
         rng.standard_normal((4, 1, 12, 12)).astype(np.float32), rng.integers(0, 10, 4)),
        ("resnet", Res(), rng.standard_normal((2, 3, 8, 8)).astype(np.float32), rng.integers(0, 10, 2)),
        ("gpt", TinyGPT(), rng.integers(0, 10, (2, 6)), rng.integers(0, 10, (2, 6))),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "name, model, x, y", _small_models(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_train_step_keeps_float32(name, model, x, y):
    opt = optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(2):
        opt.zero_grad()
        logits = model(axon.tensor(x))
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), axon.tensor(y).reshape(-1))
        assert logits.dtype == F32 and loss.dtype == F32
        assert_float32_graph(loss)
        loss.backward()
        opt.step()
    for p in model.parameters():
        assert p.dtype == F32 and p.grad.dtype == F32
        for value in opt.state[p].values():
            if isinstance(value, np.ndarray):
                assert value.dtype == F32
