"""Conv2d forward and forward+backward: axon vs PyTorch (CPU), same thread count.

Run ``python benchmarks/conv2d.py`` (``--json out.json`` to save the numbers,
``--threads 1`` to run one setting, ``--reps 30`` for more repetitions).

Each thread setting runs in a fresh subprocess with OMP/OpenBLAS/MKL thread
variables set before NumPy and PyTorch load (and ``torch.set_num_threads``
to match), so both libraries get the same cores. Within one process the two
libraries alternate repetition by repetition after a warm-up, so drifts in
machine load hit both alike; each number is the median over repetitions
(the fastest repetition is shown too: on a shared machine it is the steadier).
The backward pass computes gradients for the input, the weight and the bias.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

# (name, batch, in_channels, out_channels, spatial size); 3x3 kernels, padding 1.
WORKLOADS = [
    ("3->32 @32x32", 64, 3, 32, 32),
    ("16->32 @16x16", 64, 16, 32, 16),
    ("32->64 @8x8", 64, 32, 64, 8),
]


def _worker(reps: int) -> list:
    import numpy as np
    import torch

    import axon
    from axon import nn

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    results = []
    for name, n, c, oc, size in WORKLOADS:
        rng = np.random.default_rng(0)
        x_np = rng.standard_normal((n, c, size, size)).astype(np.float32)
        g_np = rng.standard_normal((n, oc, size, size)).astype(np.float32)
        t_conv = torch.nn.Conv2d(c, oc, 3, padding=1)
        a_conv = nn.Conv2d(c, oc, 3, padding=1)
        a_conv.load_state_dict({k: v.detach().numpy() for k, v in t_conv.state_dict().items()})
        tx, tg = torch.tensor(x_np, requires_grad=True), torch.tensor(g_np)
        ax, ag = axon.Tensor(x_np, requires_grad=True), axon.Tensor(g_np)

        def axon_fwd():
            with axon.no_grad():
                a_conv(ax)

        def torch_fwd():
            with torch.no_grad():
                t_conv(tx)

        def axon_step():
            a_conv.zero_grad()
            ax.grad = None
            a_conv(ax).backward(ag)

        def torch_step():
            t_conv.zero_grad(set_to_none=True)
            tx.grad = None
            t_conv(tx).backward(tg)

        for mode, fa, ft in (("forward", axon_fwd, torch_fwd), ("fwd+bwd", axon_step, torch_step)):
            times = {"axon": [], "torch": []}
            for _ in range(3):  # warm-up: caches, allocator, thread pools
                fa()
                ft()
            for _ in range(reps):
                for lib, fn in (("axon", fa), ("torch", ft)):
                    t0 = time.perf_counter()
                    fn()
                    times[lib].append(time.perf_counter() - t0)
            a_ms, t_ms = (1e3 * float(np.median(times[k])) for k in ("axon", "torch"))
            a_min, t_min = (1e3 * float(np.min(times[k])) for k in ("axon", "torch"))
            results.append(
                {
                    "workload": name,
                    "mode": mode,
                    "axon_ms": round(a_ms, 3),
                    "torch_ms": round(t_ms, 3),
                    "ratio": round(a_ms / t_ms, 3),
                    # the fastest repetition: less sensitive to other load on a shared machine
                    "axon_min_ms": round(a_min, 3),
                    "torch_min_ms": round(t_min, 3),
                    "ratio_min": round(a_min / t_min, 3),
                }
            )
    return results


def _run(threads: int, reps: int) -> list:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    out = subprocess.run(
        [sys.executable, __file__, "--worker", "--reps", str(reps)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.reps)))
        return
    rows = []
    print(
        f"{'threads':>7}  {'workload':<15} {'mode':<8} {'axon ms':>8} {'torch ms':>9} "
        f"{'axon/torch':>10}   (fastest rep: axon, torch, ratio)"
    )
    for threads in args.threads:
        for r in _run(threads, args.reps):
            r["threads"] = threads
            rows.append(r)
            print(
                f"{threads:>7}  {r['workload']:<15} {r['mode']:<8} {r['axon_ms']:>8.2f} "
                f"{r['torch_ms']:>9.2f} {r['ratio']:>10.2f}   ({r['axon_min_ms']:.2f}, "
                f"{r['torch_min_ms']:.2f}, {r['ratio_min']:.2f})"
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
