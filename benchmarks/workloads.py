"""The benchmark workloads, in axon and in PyTorch side by side (and one in plain NumPy).

Every workload is one training step on a fixed random batch: forward, loss,
backward, Adam step. Both frameworks start from the *same* weights: they are
drawn once with NumPy (``init_arrays``, PyTorch's default init distributions)
and loaded into each model in parameter order, so the first losses agree to
float32 precision (``bench.py --check`` prints them).

    mlp     784-512-512-10 ReLU MLP, batch 128, cross-entropy
    lenet   LeNet-5 on 1x28x28, batch 64
    resnet  a small residual CNN on 3x32x32, batch 64 (3 blocks, BatchNorm)
    gpt     4-layer GPT (d=128, 4 heads, context 128, vocab 65), batch 32;
            PyTorch side: explicit q@k^T / mask / softmax / @v attention;
            ``gpt_sdpa``: PyTorch with F.scaled_dot_product_attention
            (axon always uses its fused scaled_dot_product_attention)
    mlp_numpy  the MLP step written by hand in NumPy (the no-framework floor)

Only the module for the framework asked for is imported, so a child process
that measures peak memory holds one framework only. Nothing here uses
``axon.models``: the models are defined below, one small class per framework.
"""

from __future__ import annotations

import math

import numpy as np

SIZES = {
    "mlp": dict(batch=128),
    "lenet": dict(batch=64),
    "resnet": dict(batch=64),
    "gpt": dict(batch=32, context=128),
    "gpt_sdpa": dict(batch=32, context=128),
}
GPT = dict(vocab=65, n_layer=4, d_model=128, n_head=4)
LR = 1e-3


# ----------------------------------------------------------------- shared init
def _uniform(rng, bound, shape):
    return rng.uniform(-bound, bound, shape).astype(np.float32)


def _linear_init(rng, n_in, n_out, bias=True):
    """PyTorch's nn.Linear default: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias."""
    b = 1 / math.sqrt(n_in)
    out = [_uniform(rng, b, (n_out, n_in))]
    return out + [_uniform(rng, b, (n_out,))] if bias else out


def _conv_init(rng, c_in, c_out, k, bias=True):
    b = 1 / math.sqrt(c_in * k * k)
    out = [_uniform(rng, b, (c_out, c_in, k, k))]
    return out + [_uniform(rng, b, (c_out,))] if bias else out


def _bn_init(c):
    return [np.ones(c, np.float32), np.zeros(c, np.float32)]


def _resnet_blocks():
    return [(16, 16, 1), (16, 32, 2), (32, 64, 2)]  # (in, out, stride)


def init_arrays(name: str, seed: int = 0, **size) -> list:
    """The initial parameters of workload ``name``, in the models' parameter order."""
    rng = np.random.default_rng(seed)
    if name in ("mlp", "mlp_numpy"):
        return (
            _linear_init(rng, 784, 512) + _linear_init(rng, 512, 512) + _linear_init(rng, 512, 10)
        )
    if name == "lenet":
        return (
            _conv_init(rng, 1, 6, 5)
            + _conv_init(rng, 6, 16, 5)
            + _linear_init(rng, 256, 120)
            + _linear_init(rng, 120, 84)
            + _linear_init(rng, 84, 10)
        )
    if name == "resnet":
        params = _conv_init(rng, 3, 16, 3, bias=False) + _bn_init(16)
        for c_in, c_out, stride in _resnet_blocks():
            params += _conv_init(rng, c_in, c_out, 3, bias=False) + _bn_init(c_out)
            params += _conv_init(rng, c_out, c_out, 3, bias=False) + _bn_init(c_out)
            if stride != 1 or c_in != c_out:
                params += _conv_init(rng, c_in, c_out, 1, bias=False) + _bn_init(c_out)
        return params + _linear_init(rng, 64, 10)
    if name in ("gpt", "gpt_sdpa"):
        v, d, ctx = GPT["vocab"], GPT["d_model"], size.get("context", 128)
        params = [
            rng.normal(0, 1, (v, d)).astype(np.float32),  # token embedding
            rng.normal(0, 1, (ctx, d)).astype(np.float32),  # learned positions
        ]
        for _ in range(GPT["n_layer"]):
            params += _bn_init(d)  # ln1 weight, bias
            params += _linear_init(rng, d, 3 * d) + _linear_init(rng, d, d)  # qkv, proj
            params += _bn_init(d)  # ln2
            params += _linear_init(rng, d, 4 * d) + _linear_init(rng, 4 * d, d)  # MLP
        return params + _bn_init(d) + _linear_init(rng, d, v, bias=False)  # ln_f, head
    raise KeyError(name)


def batch_arrays(name: str, seed: int = 1, **size):
    """A fixed random batch (inputs, integer targets) as NumPy arrays."""
    rng = np.random.default_rng(seed)
    n = size["batch"]
    if name in ("mlp", "mlp_numpy"):
        return rng.standard_normal((n, 784), dtype=np.float32), rng.integers(0, 10, n)
    if name == "lenet":
        return rng.standard_normal((n, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, n)
    if name == "resnet":
        return rng.standard_normal((n, 3, 32, 32), dtype=np.float32), rng.integers(0, 10, n)
    if name in ("gpt", "gpt_sdpa"):
        tokens = rng.integers(0, GPT["vocab"], (n, size["context"] + 1))
        return tokens[:, :-1], tokens[:, 1:]
    raise KeyError(name)


def model_flops(name: str, **size) -> float:
    """Matmul FLOPs of one training step (forward + backward = 3x forward).

    Counts every GEMM a dense implementation runs: the linear layers
    (2 * in * out per token) and attention's Q K^T and P V over the full
    T x T score matrix (2 * T * d each per token and layer). Elementwise work,
    norms and softmax are not counted (they are not matmul throughput).
    """
    if name not in ("gpt", "gpt_sdpa"):
        raise KeyError(name)
    v, d, n_layer = GPT["vocab"], GPT["d_model"], GPT["n_layer"]
    t = size["context"]
    tokens = size["batch"] * t
    linear = n_layer * (d * 3 * d + d * d + d * 4 * d + 4 * d * d) + d * v
    attention = n_layer * 2 * (2 * t * d)
    return 3 * tokens * (2 * linear + attention)


# ======================================================================= axon
def _build_axon(name, arrays, size):
    import axon
    from axon import nn
    from axon.nn import functional as F

    if name == "mlp":
        model = nn.Sequential(
            nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)
        )
    elif name == "lenet":
        model = nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
        )  # fmt: skip
    elif name == "resnet":

        class Block(nn.Module):
            def __init__(self, c_in, c_out, stride):
                super().__init__()
                self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
                self.bn1 = nn.BatchNorm2d(c_out)
                self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
                self.bn2 = nn.BatchNorm2d(c_out)
                # one assignment (axon's Module keeps a plain `None` attribute shadowing
                # a child module assigned later under the same name)
                changes = stride != 1 or c_in != c_out
                self.short = (
                    nn.Sequential(
                        nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
                    )
                    if changes
                    else None
                )

            def forward(self, x):
                y = F.relu(self.bn1(self.conv1(x)))
                y = self.bn2(self.conv2(y))
                return F.relu(y + (x if self.short is None else self.short(x)))

        class ResNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16))
                self.blocks = nn.Sequential(*[Block(*b) for b in _resnet_blocks()])
                self.fc = nn.Linear(64, 10)

            def forward(self, x):
                x = self.blocks(F.relu(self.stem(x)))
                return self.fc(x.mean((2, 3)))  # global average pool

        model = ResNet()
    else:
        d, h = GPT["d_model"], GPT["n_head"]

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.ln1 = nn.LayerNorm(d)
                self.qkv = nn.Linear(d, 3 * d)
                self.proj = nn.Linear(d, d)
                self.ln2 = nn.LayerNorm(d)
                self.fc = nn.Linear(d, 4 * d)
                self.out = nn.Linear(4 * d, d)

            def forward(self, x):
                b, t, _ = x.shape
                q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)  # nanoGPT's form
                q, k, v = (
                    z.reshape(b, t, h, d // h).transpose(1, 2) for z in (q, k, v)
                )  # (B, H, T, hd)
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
                x = x + self.proj(y.transpose(1, 2).reshape(b, t, d))  # (B, T, C)
                return x + self.out(F.gelu(self.fc(self.ln2(x))))

        class GPTModel(nn.Module):
            def __init__(self):
                super().__init__()
                self.tok = nn.Embedding(GPT["vocab"], d)
                self.pos = nn.Embedding(size["context"], d)
                self.blocks = nn.Sequential(*[Block() for _ in range(GPT["n_layer"])])
                self.ln_f = nn.LayerNorm(d)
                self.head = nn.Linear(d, GPT["vocab"], bias=False)

            def forward(self, idx):
                t = idx.shape[1]
                x = self.tok(idx) + self.pos(axon.arange(t))
                return self.head(self.ln_f(self.blocks(x)))

        model = GPTModel()
    params = list(model.parameters())
    assert [p.shape for p in params] == [a.shape for a in arrays], name
    for p, a in zip(params, arrays, strict=True):
        p.data[...] = a
    return model


def axon_step(name: str, seed: int = 0, **size):
    """A zero-argument callable running one axon training step; returns the loss as a float."""
    import axon
    from axon.autograd.profiler import record_function  # a no-op unless a profile is open
    from axon.nn import functional as F

    size = {**SIZES[name], **size}
    model = _build_axon(name, init_arrays(name, seed, **size), size).train()
    opt = axon.optim.Adam(model.parameters(), lr=LR)
    x, y = batch_arrays(name, **size)
    x, y = axon.tensor(x), axon.tensor(y)

    def step():
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        with record_function("Adam.step"):
            opt.step()
        return loss.item()

    return step


# ====================================================================== torch
def _build_torch(name, arrays, size):
    import torch
    from torch import nn
    from torch.nn import functional as F

    if name == "mlp":
        model = nn.Sequential(
            nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)
        )
    elif name == "lenet":
        model = nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
        )  # fmt: skip
    elif name == "resnet":

        class Block(nn.Module):
            def __init__(self, c_in, c_out, stride):
                super().__init__()
                self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
                self.bn1 = nn.BatchNorm2d(c_out)
                self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
                self.bn2 = nn.BatchNorm2d(c_out)
                # one assignment (axon's Module keeps a plain `None` attribute shadowing
                # a child module assigned later under the same name)
                changes = stride != 1 or c_in != c_out
                self.short = (
                    nn.Sequential(
                        nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
                    )
                    if changes
                    else None
                )

            def forward(self, x):
                y = F.relu(self.bn1(self.conv1(x)))
                y = self.bn2(self.conv2(y))
                return F.relu(y + (x if self.short is None else self.short(x)))

        class ResNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16))
                self.blocks = nn.Sequential(*[Block(*b) for b in _resnet_blocks()])
                self.fc = nn.Linear(64, 10)

            def forward(self, x):
                x = self.blocks(F.relu(self.stem(x)))
                return self.fc(x.mean((2, 3)))

        model = ResNet()
    else:
        d, h, ctx = GPT["d_model"], GPT["n_head"], size["context"]
        sdpa = name == "gpt_sdpa"

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.ln1 = nn.LayerNorm(d)
                self.qkv = nn.Linear(d, 3 * d)
                self.proj = nn.Linear(d, d)
                self.ln2 = nn.LayerNorm(d)
                self.fc = nn.Linear(d, 4 * d)
                self.out = nn.Linear(4 * d, d)
                self.register_buffer("mask", torch.tril(torch.ones(ctx, ctx, dtype=torch.bool)))

            def forward(self, x):
                b, t, _ = x.shape
                q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)  # nanoGPT's form
                q, k, v = (
                    z.reshape(b, t, h, d // h).transpose(1, 2) for z in (q, k, v)
                )  # (B, H, T, hd)
                if sdpa:
                    y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
                else:  # the explicit form (nanoGPT's fallback path)
                    att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d // h))
                    att = att.masked_fill(~self.mask[:t, :t], float("-inf"))
                    y = F.softmax(att, dim=-1) @ v
                x = x + self.proj(y.transpose(1, 2).reshape(b, t, d))
                return x + self.out(F.gelu(self.fc(self.ln2(x))))

        class GPTModel(nn.Module):
            def __init__(self):
                super().__init__()
                self.tok = nn.Embedding(GPT["vocab"], d)
                self.pos = nn.Embedding(ctx, d)
                self.blocks = nn.Sequential(*[Block() for _ in range(GPT["n_layer"])])
                self.ln_f = nn.LayerNorm(d)
                self.head = nn.Linear(d, GPT["vocab"], bias=False)

            def forward(self, idx):
                t = idx.shape[1]
                x = self.tok(idx) + self.pos(torch.arange(t))
                return self.head(self.ln_f(self.blocks(x)))

        model = GPTModel()
    params = list(model.parameters())
    assert [tuple(p.shape) for p in params] == [a.shape for a in arrays], name
    with torch.no_grad():
        for p, a in zip(params, arrays, strict=True):
            p.copy_(torch.from_numpy(a))
    return model


def torch_step(name: str, seed: int = 0, **size):
    """A zero-argument callable running one PyTorch training step; returns the loss."""
    import torch
    from torch.nn import functional as F

    size = {**SIZES[name], **size}
    model = _build_torch(name, init_arrays(name, seed, **size), size).train()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    x, y = batch_arrays(name, **size)
    x, y = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss.item()

    return step


# ====================================================================== numpy
def numpy_mlp_step(seed: int = 0, **size):
    """The MLP step written by hand in NumPy: the floor axon's autograd is measured against.

    Forward, fused softmax-cross-entropy backward, the two ReLU masks, the
    weight GEMMs, and the same in-place Adam update as ``axon.optim.Adam``
    (one scratch buffer per parameter, reused). No framework, no graph.
    """
    size = {**SIZES["mlp"], **size}
    params = init_arrays("mlp", seed, **size)
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    scratch = [np.empty_like(p) for p in params]
    x, y = batch_arrays("mlp", **size)
    n = x.shape[0]
    rows = np.arange(n)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    t = [0]

    def step():
        w1, b1, w2, b2, w3, b3 = params
        h1 = x @ w1.T
        h1 += b1
        np.maximum(h1, 0, out=h1)
        h2 = h1 @ w2.T
        h2 += b2
        np.maximum(h2, 0, out=h2)
        z = h2 @ w3.T
        z += b3
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)  # softmax
        loss = -np.log(z[rows, y]).mean()
        z[rows, y] -= 1
        z *= 1.0 / n  # dL/dlogits
        grads = [None] * 6
        grads[4], grads[5] = z.T @ h2, z.sum(0)
        g2 = z @ w3
        g2 *= h2 > 0
        grads[2], grads[3] = g2.T @ h1, g2.sum(0)
        g1 = g2 @ w2
        g1 *= h1 > 0
        grads[0], grads[1] = g1.T @ x, g1.sum(0)
        t[0] += 1
        bc1, bc2 = 1 - beta1 ** t[0], math.sqrt(1 - beta2 ** t[0])
        for p, g, mi, vi, tmp in zip(params, grads, m, v, scratch, strict=True):
            mi *= beta1
            np.multiply(g, 1 - beta1, out=tmp)
            mi += tmp
            np.multiply(g, g, out=tmp)
            tmp *= 1 - beta2
            vi *= beta2
            vi += tmp
            np.sqrt(vi, out=tmp)
            tmp += eps * bc2
            np.divide(mi, tmp, out=tmp)
            tmp *= -LR / bc1 * bc2
            p += tmp
        return float(loss)

    return step


def make_step(framework: str, name: str, **size):
    """``axon_step``, ``torch_step`` or ``numpy_mlp_step`` by name."""
    if framework == "axon":
        return axon_step(name, **size)
    if framework == "torch":
        return torch_step(name, **size)
    if framework == "numpy" and name in ("mlp", "mlp_numpy"):
        return numpy_mlp_step(**size)
    raise KeyError((framework, name))
