"""Train a small MLP on two interleaved spirals with nothing but axon tensors.

Every piece is visible: the weights are plain tensors with requires_grad,
the forward pass is three matrix products, the loss is log-softmax
cross-entropy, and the update is Adam written out by hand.

Run: ``make demo`` (or ``python examples/two_spirals.py``).
"""

from __future__ import annotations

import math
import time

import numpy as np

import axon


def two_spirals(n_per_class: int = 500, noise: float = 0.15, seed: int = 0):
    """Points on two interleaved spirals: x (2n, 2) float32, y (2n,) int64 in {0, 1}."""
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.uniform(0, 1, n_per_class)) * 3 * math.pi  # angle: denser near the centre
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (3 * math.pi)
    x = np.concatenate([arm, -arm]) + rng.normal(0, noise / (3 * math.pi), (2 * n_per_class, 2))
    y = np.concatenate([np.zeros(n_per_class), np.ones(n_per_class)]).astype(np.int64)
    return x.astype(np.float32), y


def init_layer(n_in: int, n_out: int):
    """Kaiming-uniform weights (as PyTorch's Linear) and a zero bias."""
    bound = math.sqrt(6 / n_in) / math.sqrt(2)
    w = (axon.rand(n_in, n_out) * 2 - 1) * bound
    return w.requires_grad_(), axon.zeros(n_out, requires_grad=True)


def main() -> None:
    axon.manual_seed(0)
    x_np, y_np = two_spirals()
    x, y = axon.tensor(x_np), axon.tensor(y_np)
    params = [*init_layer(2, 64), *init_layer(64, 64), *init_layer(64, 2)]
    w1, b1, w2, b2, w3, b3 = params

    def forward(inputs):
        h = axon.tanh(inputs @ w1 + b1)  # (N, 64)
        h = axon.tanh(h @ w2 + b2)  # (N, 64)
        return h @ w3 + b3  # (N, 2) logits

    # Adam, by hand: m and v are running means of the gradient and its square.
    lr, beta1, beta2, eps = 0.01, 0.9, 0.999, 1e-8
    m = [np.zeros_like(p.data) for p in params]
    v = [np.zeros_like(p.data) for p in params]
    start = time.perf_counter()
    steps = 2000
    for step in range(1, steps + 1):
        logits = forward(x)
        loss = -axon.log_softmax(logits, dim=1)[axon.arange(len(y_np)), y].mean()
        for p in params:
            p.grad = None
        loss.backward()
        for p, m_i, v_i in zip(params, m, v, strict=True):
            g = p.grad.data
            m_i *= beta1
            m_i += (1 - beta1) * g
            v_i *= beta2
            v_i += (1 - beta2) * g * g
            m_hat = m_i / (1 - beta1**step)
            v_hat = v_i / (1 - beta2**step)
            p.data -= lr * m_hat / (np.sqrt(v_hat) + eps)
        if step % 200 == 0 or step == 1:
            with axon.no_grad():
                accuracy = (forward(x).argmax(dim=1) == y).float().mean().item()
            print(
                f"step {step:5d}  loss {loss.item():.4f}  train accuracy {accuracy:6.2%}",
                flush=True,
            )
    print(f"done in {time.perf_counter() - start:.1f}s: final training accuracy {accuracy:.2%}")
    if accuracy < 0.99:
        raise SystemExit(f"two-spirals demo reached only {accuracy:.2%} (expected >= 99%)")


if __name__ == "__main__":
    main()
