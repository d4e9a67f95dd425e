"""Train ResNet-20 (He et al., 2015) on CIFAR-10 for a few minutes, on two CPU cores.

Uses the real CIFAR-10 if its archive is already cached (see
``axon.data.datasets.cifar10``; this script never downloads). Otherwise it
trains on a synthetic stand-in of the same shape, and says so: 3x32x32
images of ten kinds of shape or pattern (disk, square, triangle, ring, plus,
X, and horizontal, vertical, diagonal stripes, checkerboard) with random
colours, positions, sizes and pixel noise, so only the shape tells the class.

    python examples/train_resnet_cifar.py                  # ~2 minutes
    python examples/train_resnet_cifar.py --epochs 1 --train 2000
    python examples/train_resnet_cifar.py --synthetic      # even if CIFAR-10 is cached

ResNet-20 needs ~160 epochs (hours on two cores) for the paper's 91.7% on
CIFAR-10; this short run only shows it learning (its accuracy on the real
data was not measured here: the archive is not cached offline). The synthetic
shapes are easier: ~97% test accuracy after the default 3 epochs (~2 minutes).
On a machine busy with other work, ``OPENBLAS_NUM_THREADS=1`` can be much
faster than BLAS threads waiting for each other.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import axon
from axon.data import DataLoader, TensorDataset
from axon.data.datasets import cifar10
from axon.models import ResNet, ResNetConfig
from axon.nn import functional as F

SHAPES = ("disk", "square", "triangle", "ring", "plus", "x", "h-stripes", "v-stripes",
          "diagonal", "checker")  # fmt: skip


def synthetic_shapes(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n images (n, 3, 32, 32) float32 in [0, 1] and labels 0..9 (``SHAPES``), balanced."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 10
    rng.shuffle(y)
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float32)  # (32, 32) pixel coordinates
    cy, cx = (rng.uniform(11, 21, (2, n, 1, 1))).astype(np.float32)  # centre of the shape
    r = rng.uniform(6, 11, (n, 1, 1)).astype(np.float32)  # its size
    dy, dx = yy - cy, xx - cx  # (n, 32, 32)
    period = rng.integers(4, 9, (n, 1, 1))  # stripes and checks: 4-8 pixels
    phase = rng.integers(0, 8, (n, 1, 1))
    width = np.maximum(1.5, r / 4)  # stroke width of ring, plus and X
    cell = period // 2 + 1  # checkerboard squares
    masks = {
        "disk": dx**2 + dy**2 <= r**2,
        "square": np.maximum(abs(dx), abs(dy)) <= r * 0.8,
        "triangle": (dy <= r * 0.7) & (dy >= -r + 2 * abs(dx)),
        "ring": abs(np.sqrt(dx**2 + dy**2) - r * 0.8) <= width / 2,
        "plus": (np.minimum(abs(dx), abs(dy)) <= width / 2) & (np.maximum(abs(dx), abs(dy)) <= r),
        "x": (np.minimum(abs(dx - dy), abs(dx + dy)) <= width / 1.4)
        & (np.maximum(abs(dx), abs(dy)) <= r * 0.8),
        "h-stripes": (yy.astype(int) + phase) % period < period // 2,
        "v-stripes": (xx.astype(int) + phase) % period < period // 2,
        "diagonal": (xx.astype(int) + yy.astype(int) + phase) % period < period // 2,
        "checker": ((xx.astype(int) + phase) // cell + yy.astype(int) // cell) % 2 == 0,
    }
    mask = np.zeros((n, 32, 32), bool)
    for label, name in enumerate(SHAPES):
        pick = y == label
        mask[pick] = np.broadcast_to(masks[name], (n, 32, 32))[pick]
    fg = rng.uniform(0, 1, (n, 3, 1, 1))
    bg = rng.uniform(0, 1, (n, 3, 1, 1))
    bg = np.where(abs(fg - bg).sum(1, keepdims=True) < 0.6, 1 - fg, bg)  # keep the shape visible
    x = np.where(mask[:, None], fg, bg) + rng.normal(0, 0.08, (n, 3, 32, 32))
    return np.clip(x, 0, 1).astype(np.float32), y.astype(np.int64)


def load_data(args) -> tuple[str, TensorDataset, TensorDataset]:
    if not args.synthetic and cifar10.info().offline:
        train, test = cifar10.load_cifar10(download=False)
        x, y = train.arrays[0][: args.train], train.arrays[1][: args.train]
        xt, yt = test.arrays[0][: args.test], test.arrays[1][: args.test]
        source = "CIFAR-10 (real)"
    else:
        x, y = synthetic_shapes(args.train, seed=0)
        xt, yt = synthetic_shapes(args.test, seed=1)
        source = "SYNTHETIC shapes (CIFAR-10 is not cached here; 10 classes of coloured shapes)"
    mean = x.mean((0, 2, 3), keepdims=True)  # per-channel normalisation, from the training set
    std = x.std((0, 2, 3), keepdims=True)
    return source, TensorDataset((x - mean) / std, y), TensorDataset((xt - mean) / std, yt)


def evaluate(model, data: TensorDataset, batch_size: int = 250) -> float:
    model.eval()
    correct = 0
    with axon.no_grad():
        for xb, yb in DataLoader(data, batch_size=batch_size):
            correct += int((model(xb).argmax(1) == yb).sum().item())
    model.train()
    return correct / len(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train", type=int, default=4000, help="training images used")
    parser.add_argument("--test", type=int, default=1000, help="test images used")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--synthetic", action="store_true", help="use the synthetic shapes")
    args = parser.parse_args()

    axon.manual_seed(0)
    source, train, test = load_data(args)
    print(f"data: {source}: {len(train)} train / {len(test)} test images, 3x32x32")
    model = ResNet(ResNetConfig(depth=args.depth))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: ResNet-{args.depth}, {n_params / 1e6:.3f} M parameters")

    loader = DataLoader(train, batch_size=args.batch_size, shuffle=True, drop_last=True)
    steps = args.epochs * len(loader)
    opt = axon.optim.SGD(
        model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4, nesterov=True
    )
    sched = axon.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps)
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        total, seen, correct = 0.0, 0, 0
        for xb, yb in loader:
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(yb)
            seen += len(yb)
            correct += int((logits.argmax(1) == yb).sum().item())
        elapsed = time.perf_counter() - start
        print(
            f"epoch {epoch}: train loss {total / seen:.3f}, train acc {correct / seen:.3f}, "
            f"test acc {evaluate(model, test):.3f}  ({elapsed:.0f} s, {seen * epoch / elapsed:.0f} img/s)"
        )
    print(
        f"done: ResNet-{args.depth} on {source.split(' (')[0]}: test accuracy {evaluate(model, test):.3f} "
        f"after {args.epochs} epochs in {time.perf_counter() - start:.0f} s"
    )


if __name__ == "__main__":
    main()
