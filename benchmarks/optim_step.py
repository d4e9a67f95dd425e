"""Time one AdamW step over a 1000 x 1000 weight (1M parameters): axon vs PyTorch.

Both use the same number of threads (the CPUs this process may run on,
unless --threads says otherwise); the gradient is fixed, so only the
optimizer's own work is timed. Prints the median of --repeats steps and
the ratio; --json writes the numbers too.

    python benchmarks/optim_step.py [--size 1000] [--repeats 100] [--threads N] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np

import axon
from axon import optim
from axon.optim import _threads


def median_step_ms(step, repeats: int, warmup: int = 5) -> float:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def axon_adamw(size: int, repeats: int) -> float:
    rng = np.random.default_rng(0)
    w = axon.tensor(rng.standard_normal((size, size)).astype(np.float32), requires_grad=True)
    w.grad = axon.tensor(rng.standard_normal((size, size)).astype(np.float32))
    opt = optim.AdamW([w], lr=1e-3, weight_decay=0.01)
    return median_step_ms(opt.step, repeats)


def torch_adamw(size: int, repeats: int, threads: int) -> float | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(0)
    w = torch.nn.Parameter(torch.randn(size, size, generator=gen))
    w.grad = torch.randn(size, size, generator=gen)
    opt = torch.optim.AdamW([w], lr=1e-3, weight_decay=0.01)  # CPU default: the per-tensor loop
    return median_step_ms(opt.step, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000, help="the weight is size x size")
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()

    _threads.set_num_threads(args.threads)
    ours = axon_adamw(args.size, args.repeats)
    _threads.set_num_threads(1)
    ours_one_thread = axon_adamw(args.size, args.repeats)
    _threads.set_num_threads(args.threads)
    theirs = torch_adamw(args.size, args.repeats, args.threads)

    result = {
        "workload": f"AdamW step, {args.size}x{args.size} float32 ({args.size**2:,} parameters)",
        "threads": args.threads,
        "repeats": args.repeats,
        "machine": platform.processor() or platform.machine(),
        "axon_ms": round(ours, 3),
        "axon_1_thread_ms": round(ours_one_thread, 3),
        "torch_ms": None if theirs is None else round(theirs, 3),
        "axon_over_torch": None if theirs is None else round(ours / theirs, 2),
    }
    print(result["workload"], f"- median of {args.repeats}, {args.threads} thread(s)")
    print(f"  axon : {ours:8.3f} ms   (1 thread: {ours_one_thread:.3f} ms)")
    if theirs is None:
        print("  torch: not installed")
    else:
        print(f"  torch: {theirs:8.3f} ms")
        print(f"  axon / torch = {ours / theirs:.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
