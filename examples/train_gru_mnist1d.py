"""Train a GRU to classify MNIST-1D signals, reading each 40-point signal as a sequence.

MNIST-1D (``axon.data.datasets.mnist1d``): 4,000 training and 1,000 test
signals of the ten digits, 40 points each, generated offline. The
``GRUClassifier`` reads the signal left to right (``--chunk`` points per time
step), and a linear layer classifies its final hidden state. 10% of the
training set is held out to pick the best epoch; the test set is scored once.

Run: ``python examples/train_gru_mnist1d.py`` (``--epochs N``, ``--hidden H``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import axon
from axon.data.datasets.mnist1d import load_mnist1d
from axon.models.recurrent import GRUClassifier, GRUClassifierConfig
from axon.nn import functional as F
from axon.optim import AdamW, clip_grad_norm_
from axon.optim.lr_scheduler import WarmupCosine


def accuracy(model: GRUClassifier, x: np.ndarray, y: np.ndarray) -> float:
    model.eval()
    with axon.no_grad():
        pred = model(x).data.argmax(axis=1)
    model.train()
    return float((pred == y).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--chunk", type=int, default=1, help="signal points per GRU time step")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    axon.manual_seed(args.seed)
    train, test = load_mnist1d()
    x, y = train.arrays
    x_test, y_test = test.arrays
    order = np.random.default_rng(args.seed).permutation(len(x))
    val, fit = order[:400], order[400:]
    x_val, y_val, x, y = x[val], y[val], x[fit], y[fit]

    model = GRUClassifier(
        GRUClassifierConfig(seq_len=40, chunk=args.chunk, hidden_size=args.hidden)
    )
    opt = AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    steps_per_epoch = len(x) // args.batch_size
    sched = WarmupCosine(
        opt, warmup_steps=steps_per_epoch, total_steps=args.epochs * steps_per_epoch
    )
    rng = np.random.default_rng(args.seed)
    best_val, best_state = -1.0, None
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        perm = rng.permutation(len(x))
        for i in range(steps_per_epoch):
            rows = perm[i * args.batch_size : (i + 1) * args.batch_size]
            loss = F.cross_entropy(model(x[rows]), y[rows])
            opt.zero_grad()
            loss.backward()
            clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
        val_acc = accuracy(model, x_val, y_val)
        if val_acc > best_val:
            best_val = val_acc
            best_state = {k: v.data.copy() for k, v in model.state_dict().items()}
        if epoch % 5 == 0 or epoch == args.epochs:
            print(
                f"epoch {epoch:3d}  loss {loss.item():.4f}  train acc {accuracy(model, x, y):.3f}  "
                f"val acc {val_acc:.3f}  {time.perf_counter() - start:.0f} s"
            )
    train_time = time.perf_counter() - start
    model.load_state_dict(best_state)
    print(
        f"test accuracy {accuracy(model, x_test, y_test):.4f} (best val {best_val:.3f}); "
        f"training {train_time:.0f} s"
    )


if __name__ == "__main__":
    main()
