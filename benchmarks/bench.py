"""axon vs PyTorch (CPU, float32) on the same training workloads, in one run.

    python benchmarks/bench.py                 # everything: 1 and 2 threads, memory, inference, curves
    python benchmarks/bench.py --quick         # fewer repetitions
    python benchmarks/bench.py --only mlp,gpt  # some workloads (see benchmarks/workloads.py)
    python benchmarks/bench.py --profile gpt   # axon's per-op profile of one workload's step

How it measures:

- every thread setting runs in a fresh subprocess with OMP_NUM_THREADS,
  OPENBLAS_NUM_THREADS and MKL_NUM_THREADS set before NumPy and PyTorch load
  (and ``torch.set_num_threads`` and axon's own pool set to match);
- both frameworks start from the same weights and batch (workloads.py), warm
  up, then alternate repetition by repetition (axon, PyTorch, PyTorch, axon,
  ...), so drifts in machine load hit both alike; each number is the median
  milliseconds per training step (forward + backward + Adam);
- peak resident memory: one more subprocess per workload and framework that
  imports only that framework and runs only that workload
  (``resource.getrusage(RUSAGE_SELF).ru_maxrss``);
- the GPT step's matmul FLOPs divided by its time, over the GFLOP/s of one
  large ``numpy.matmul`` measured in the same subprocess: how much of the
  machine's float32 GEMM throughput the step achieves;
- inference (GPT tokens/s with the KV cache, MiniLM sentence embeddings/s):
  ``benchmarks/gpt_kv_cache.py`` and ``benchmarks/minilm_embed.py`` when
  axon.models provides what they need;
- scaling curves (MLP over batch size, GPT over context) drawn into docs/.

Output: a markdown table on stdout and everything in benchmarks/results.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

ALL = ["mlp", "lenet", "resnet", "gpt"]
# who runs each workload: PyTorch's GPT twice (explicit attention, and SDPA),
# the MLP also written by hand in NumPy (the floor for axon's autograd overhead)
CONTENDERS = {
    "mlp": [("axon", "mlp"), ("torch", "mlp"), ("numpy", "mlp")],
    "lenet": [("axon", "lenet"), ("torch", "lenet")],
    "resnet": [("axon", "resnet"), ("torch", "resnet")],
    "gpt": [("axon", "gpt"), ("torch", "gpt"), ("torch", "gpt_sdpa")],
}
TARGETS = {"mlp": 0.75, "lenet": 0.9, "resnet": 1.0, "gpt": 1.0}  # axon / PyTorch
GPT_UTILIZATION_TARGET = 0.60
REPS = {"mlp": 40, "lenet": 40, "resnet": 15, "gpt": 10}
QUICK_REPS = {"mlp": 10, "lenet": 10, "resnet": 5, "gpt": 4}
CURVE_BATCHES = [16, 32, 64, 128, 256, 512, 1024]
CURVE_CONTEXTS = [32, 64, 128, 256, 512]
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


# =================================================================== children
def _set_threads(threads: int, frameworks) -> None:
    """Match every pool to ``threads`` (the environment was set before NumPy loaded)."""
    if "torch" in frameworks:
        import torch

        torch.set_num_threads(threads)
    if "axon" in frameworks:
        try:
            from axon.parallel import set_num_threads
        except ImportError:  # older axon: the optimizers' pool only
            from axon.optim._threads import set_num_threads
        set_num_threads(threads)


def matmul_gflops(n: int = 2048, reps: int = 5) -> float:
    """GFLOP/s of one large float32 ``numpy.matmul`` (median of ``reps``)."""
    import numpy as np

    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    out = np.empty_like(a)
    np.matmul(a, a, out=out)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        np.matmul(a, a, out=out)
        times.append(time.perf_counter() - t0)
    return 2 * n**3 / statistics.median(times) / 1e9


def _median_ms(times):
    return 1e3 * statistics.median(times)


def _label(framework, name):
    return framework if name in ("mlp", "lenet", "resnet", "gpt") else f"{framework}_sdpa"


# ------------------------------------------------------------------ workers
def worker_loop(args) -> None:
    """A persistent child for one framework: builds steps and times them on request.

    Reads one JSON command per line on stdin, answers one JSON line on stdout:
      {"build": name, "size": {...}} -> build this framework's contenders of
          workload ``name`` (axon also builds the hand-written NumPy MLP),
          warm them up, answer their first losses and warm-up step times;
      {"run": k} -> k repetitions of each contender (alternating), answer the times;
      {"matmul": true} -> the GFLOP/s of a large numpy.matmul;
      {"quit": true}.
    """
    import workloads as W

    framework = args.worker
    if framework != "numpy":  # the NumPy process imports neither framework
        _set_threads(args.threads, (framework,))
    steps: dict = {}
    out = sys.stdout
    sys.stdout = sys.stderr  # only the protocol goes to the real stdout
    for line in sys.stdin:
        cmd = json.loads(line)
        if "quit" in cmd:
            break
        if "matmul" in cmd:
            reply = {"gflops": matmul_gflops()}
        elif "build" in cmd:
            name, size = cmd["build"], cmd.get("size", {})
            steps = {}
            for fw, variant in CONTENDERS[name]:
                if fw == framework:
                    steps[_label(fw, variant)] = W.make_step(fw, variant, **size)
            losses = {label: step() for label, step in steps.items()}
            warm = {label: [] for label in steps}
            for _ in range(cmd.get("warmup", 3)):
                for label, step in steps.items():
                    t0 = time.perf_counter()
                    step()
                    warm[label].append(time.perf_counter() - t0)
            reply = {"first_loss": losses, "warmup_s": {k: min(v) for k, v in warm.items()}}
        elif "run" in cmd:
            times = {label: [] for label in steps}
            labels = list(steps)
            for r in range(cmd["run"]):
                for label in labels if r % 2 == 0 else labels[::-1]:
                    t0 = time.perf_counter()
                    steps[label]()
                    times[label].append(time.perf_counter() - t0)
            reply = {"times": times}
        else:
            reply = {"error": f"unknown command {cmd}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()


class Workers:
    """One persistent worker process per framework at one thread count.

    Each framework runs in its own process (the hand-written NumPy MLP in a
    third one, with OpenBLAS's own threads): two thread pools in one process
    (OpenBLAS's threads and PyTorch's OpenMP threads both busy-wait for about
    0.1 s after a parallel call) slow each other down by orders of magnitude
    on a 2-core machine. The parent alternates blocks of repetitions between
    the processes, pausing ``GAP_S`` between blocks so that the idle
    process's spinning threads have gone to sleep.
    """

    GAP_S = 0.15
    FRAMEWORKS = ("axon", "torch", "numpy")

    def __init__(self, threads: int):
        env = dict(os.environ, **{v: str(threads) for v in THREAD_VARS})
        self.procs = {
            fw: subprocess.Popen(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--worker",
                    fw,
                    "--threads",
                    str(threads),
                ],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for fw in self.FRAMEWORKS
        }

    def ask(self, fw: str, cmd: dict) -> dict:
        proc = self.procs[fw]
        proc.stdin.write(json.dumps(cmd) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"bench worker {fw} died (command {cmd})")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply

    def time_workload(self, name: str, reps: int, size=None, blocks: int = 6) -> dict:
        """Median ms per step of every contender, alternating blocks between the processes."""
        frameworks = [fw for fw in self.FRAMEWORKS if any(c[0] == fw for c in CONTENDERS[name])]
        info = {fw: self.ask(fw, {"build": name, "size": size or {}}) for fw in frameworks}
        per_block = max(1, -(-reps // blocks))
        times: dict = {}
        for b in range(blocks):
            for fw in frameworks if b % 2 == 0 else frameworks[::-1]:
                time.sleep(self.GAP_S)
                for label, ts in self.ask(fw, {"run": per_block})["times"].items():
                    times.setdefault(label, []).extend(ts)
        losses = {k: v for fw in info for k, v in info[fw]["first_loss"].items()}
        return {
            "ms": {k: _median_ms(v) for k, v in times.items()},
            "first_loss": losses,
            "reps": {k: len(v) for k, v in times.items()},
        }

    def close(self) -> None:
        for fw, proc in self.procs.items():
            with contextlib.suppress(RuntimeError, BrokenPipeError, ValueError):
                self.ask(fw, {"quit": True})
            proc.wait(timeout=60)


def run_timings(threads: int, names, quick: bool, reps_override: int = 0) -> dict:
    """Timings of the chosen workloads at one thread count (see ``Workers``)."""
    import workloads as W

    reps = QUICK_REPS if quick else REPS
    workers = Workers(threads)
    try:
        result = {"threads": threads, "load_before": os.getloadavg(), "workloads": {}}
        # the machine's float32 GEMM throughput: NumPy with OpenBLAS's own threads
        result["matmul_gflops"] = workers.ask("numpy", {"matmul": True})["gflops"]
        for name in names:
            row = workers.time_workload(name, reps_override or reps[name])
            if name == "gpt":
                ms = row["ms"]
                flops = W.model_flops("gpt", **W.SIZES["gpt"])
                row["gflop_per_step"] = flops / 1e9
                row["axon_gflops"] = flops / (ms["axon"] / 1e3) / 1e9
                row["torch_gflops"] = flops / (ms["torch"] / 1e3) / 1e9
            result["workloads"][name] = row
        result["matmul_gflops_after"] = workers.ask("numpy", {"matmul": True})["gflops"]
        result["load_after"] = os.getloadavg()
    finally:
        workers.close()
    return result


def child_rss(args) -> dict:
    """Run in a subprocess: peak RSS of one framework running one workload, nothing else."""
    import resource

    import workloads as W

    framework, name = args.rss
    _set_threads(args.threads, (framework,))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    step = W.make_step(framework, name)
    for _ in range(4):
        step()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    out = {
        "framework": framework,
        "workload": name,
        "import_mib": base / 1024,
        "peak_mib": peak / 1024,
    }
    try:  # the kernel's peak for this process image (Linux), as a cross-check
        with open("/proc/self/status") as status:
            hwm = [line for line in status if line.startswith("VmHWM:")]
        out["vmhwm_mib"] = int(hwm[0].split()[1]) / 1024
    except (OSError, IndexError, ValueError):
        pass
    return out


def run_curves(threads: int, quick: bool) -> dict:
    """Step time of the MLP over batch sizes and of the GPT over contexts (see ``Workers``)."""
    reps = 3 if quick else 8
    out = {"threads": threads, "mlp_batch": [], "gpt_context": []}
    workers = Workers(threads)
    try:
        for batch in CURVE_BATCHES:
            row = workers.time_workload("mlp", reps, {"batch": batch}, blocks=2)
            out["mlp_batch"].append(
                {"batch": batch, **{k: row["ms"][k] for k in ("axon", "torch")}}
            )
        for context in CURVE_CONTEXTS:
            n = max(2, reps // 2) if context >= 256 else reps
            row = workers.time_workload("gpt", n, {"context": context}, blocks=2)
            out["gpt_context"].append({"context": context, **row["ms"]})
    finally:
        workers.close()
    return out


def child_profile(args) -> None:
    """Run in-process: print axon's per-op profile of one step of each chosen workload."""
    import workloads as W

    from axon.utils import profile

    _set_threads(args.threads, ("axon",))
    for name in args.only:
        step = W.make_step("axon", name)
        for _ in range(3):
            step()
        best = None
        for _ in range(3):
            with profile() as prof:
                step()
            if best is None or prof.total_time < best.total_time:
                best = prof
        print(f"\n### axon {name}, {args.threads} thread(s): the fastest of 3 profiled steps\n")
        print(best.table())


# ===================================================================== parent
def _spawn(args_list, threads: int, timeout: float = 3600) -> dict:
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(threads)
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args_list, "--threads", str(threads)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode:
        raise RuntimeError(f"bench child {args_list} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def blas_summary() -> dict:
    """Which BLAS NumPy uses (from ``numpy.show_config``), and PyTorch's build."""
    import numpy as np

    info = {
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        info["numpy_blas"] = f"{blas.get('name')} {blas.get('version')}"
        info["numpy_simd"] = ",".join(cfg.get("SIMD Extensions", {}).get("found", []))
    except Exception as e:  # pragma: no cover - older NumPy
        info["numpy_blas"] = f"unknown ({e})"
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_blas"] = "MKL" if torch.backends.mkl.is_available() else "other"
        info["torch_mkldnn"] = bool(torch.backends.mkldnn.is_available())
    except ImportError:
        info["torch"] = None
    info["cpus"] = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    )
    return info


def run_inference(threads_list, quick: bool) -> dict:
    """GPT KV-cache decoding and MiniLM embeddings, if axon.models has what they need."""
    out = {}
    try:
        import axon.models.gpt  # noqa: F401

        have_gpt = (HERE / "gpt_kv_cache.py").exists()
    except Exception:
        have_gpt = False
    if have_gpt:
        out["gpt_kv_cache"] = []
        for threads in threads_list:
            with tempfile.NamedTemporaryFile(suffix=".json") as f:
                cmd = [sys.executable, str(HERE / "gpt_kv_cache.py"), "--threads", str(threads)]
                cmd += ["--reps", "2" if quick else "3", "--json", f.name]
                try:
                    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=1800)
                    r = json.loads(Path(f.name).read_text())
                except (subprocess.SubprocessError, ValueError) as e:
                    out["gpt_kv_cache"].append({"threads": threads, "error": str(e)[-500:]})
                    continue
            row = {
                "threads": threads,
                "context": r.get("prompt"),
                "axon_tokens_per_s": 1e3 / r["axon_cached_ms_per_token"],
            }
            if "torch_hf_cached_ms_per_token" in r:
                row["torch_hf_tokens_per_s"] = 1e3 / r["torch_hf_cached_ms_per_token"]
                row["ratio_axon_over_torch_speed"] = (
                    row["axon_tokens_per_s"] / row["torch_hf_tokens_per_s"]
                )
            out["gpt_kv_cache"].append(row)
    else:
        out["gpt_kv_cache"] = "not available yet"
    try:
        from axon.models.pretrained import minilm_path

        minilm_path()
        have_minilm = (HERE / "minilm_embed.py").exists()
    except Exception:
        have_minilm = False
    if have_minilm:
        with tempfile.NamedTemporaryFile(suffix=".json") as f:
            cmd = [
                sys.executable,
                str(HERE / "minilm_embed.py"),
                "--threads",
                *map(str, threads_list),
            ]
            cmd += ["--reps", "5" if quick else "20", "--json", f.name]
            try:
                subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=1800)
                out["minilm_embed"] = json.loads(Path(f.name).read_text())
            except (subprocess.SubprocessError, ValueError) as e:
                out["minilm_embed"] = {"error": str(e)[-500:]}
    else:
        out["minilm_embed"] = "not available yet"
    return out


def plot_curves(curves: list, docs: Path) -> list:
    """Two PNGs in docs/: MLP step time over batch, GPT step time over context."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullLocator

    docs.mkdir(exist_ok=True)
    paths = []
    colors = {"axon": "tab:blue", "torch": "tab:orange", "torch_sdpa": "tab:green"}
    names = {"axon": "axon", "torch": "PyTorch", "torch_sdpa": "PyTorch (SDPA)"}
    dashes = {1: "-", 2: "--"}
    for key, xkey, xlabel, fname, title in (
        (
            "mlp_batch",
            "batch",
            "batch size",
            "scaling_mlp_batch.png",
            "MLP 784-512-512-10 train step",
        ),
        (
            "gpt_context",
            "context",
            "context length",
            "scaling_gpt_context.png",
            "GPT (4 layers, d=128) train step, batch 32",
        ),
    ):
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        xs = None
        for c in curves:
            rows = c[key]
            xs = [r[xkey] for r in rows]
            for label in [k for k in rows[0] if k != xkey]:
                style = dict(
                    color=colors.get(label), linestyle=dashes.get(c["threads"], ":"), marker="o"
                )
                legend = (
                    f"{names.get(label, label)}, {c['threads']} thread{'s' * (c['threads'] > 1)}"
                )
                axes[0].plot(xs, [r[label] for r in rows], label=legend, **style)
                axes[1].plot(xs, [r[label] / r[xkey] for r in rows], label=legend, **style)
        axes[0].set(xscale="log", yscale="log", xlabel=xlabel, ylabel="ms per step", title=title)
        per = "sample" if xkey == "batch" else "token position (x batch 32)"
        axes[1].set(
            xscale="log", xlabel=xlabel, ylabel=f"ms per step / {xkey}", title=f"cost per {per}"
        )
        for ax in axes:
            ax.xaxis.set_major_locator(FixedLocator(xs))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.set_xticklabels([str(x) for x in xs])
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=7)
        fig.tight_layout()
        path = docs / fname
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(str(path.relative_to(ROOT)))
    return paths


def markdown(results: dict) -> str:
    """The results as markdown tables (the same text goes into docs/performance.md)."""
    meta = results["meta"]
    lines = [
        f"Measured {meta.get('date', '?')} with `{results.get('command', 'benchmarks/bench.py')}`: "
        f"NumPy {meta['numpy']} ({meta['numpy_blas']}), PyTorch {meta.get('torch')} "
        f"({meta.get('torch_blas')}), Python {meta['python']}, {meta['cpus']} CPUs. "
        "Median ms per training step (forward + backward + Adam), float32.",
        "",
    ]
    busy = [
        t
        for t in results["timings"]
        if max(t.get("load_before", [0])[0], t.get("load_after", [0])[0]) > 0.7
    ]
    if busy:
        lines += [
            "> **The machine was busy** (1-minute load average above 0.7 during "
            + ", ".join(f"the {t['threads']}-thread run" for t in busy)
            + "): other processes took CPU time, multi-threaded numbers in particular are unreliable.",
            "",
        ]
    lines += [
        "| workload | threads | axon ms | PyTorch ms | axon / PyTorch | target | met |",
        "|---|---:|---:|---:|---:|---:|:-:|",
    ]
    for t in results["timings"]:
        for name, row in t["workloads"].items():
            ms = row["ms"]
            ratio = ms["axon"] / ms["torch"]
            target = TARGETS[name]
            label = {"gpt": "gpt (vs explicit attention)"}.get(name, name)
            lines.append(
                f"| {label} | {t['threads']} | {ms['axon']:.1f} | {ms['torch']:.1f} | "
                f"{ratio:.2f} | <= {target} | {'yes' if ratio <= target else 'no'} |"
            )
            if "torch_sdpa" in ms:
                lines.append(
                    f"| gpt (vs PyTorch SDPA) | {t['threads']} | {ms['axon']:.1f} | "
                    f"{ms['torch_sdpa']:.1f} | {ms['axon'] / ms['torch_sdpa']:.2f} | - | |"
                )
            if "numpy" in ms:
                r = ms["axon"] / ms["numpy"]
                lines.append(
                    f"| mlp (vs hand-written NumPy: {ms['numpy']:.1f} ms) | {t['threads']} | "
                    f"{ms['axon']:.1f} | {ms['torch']:.1f} | axon / NumPy {r:.2f} | <= 1.1 | "
                    f"{'yes' if r <= 1.1 else 'no'} |"
                )
    util = [t for t in results["timings"] if "gpt" in t["workloads"]]
    if util:
        lines += [
            "",
            "GPT training step against the machine's float32 GEMM throughput (one 2048^3 "
            "`numpy.matmul` with OpenBLAS's own threads, best of before/after the run):",
            "",
            "| threads | GFLOP / step | axon GFLOP/s | PyTorch GFLOP/s | numpy.matmul GFLOP/s | "
            "axon / matmul | target |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for t in util:
            row = t["workloads"]["gpt"]
            peak = max(t["matmul_gflops"], t["matmul_gflops_after"])
            frac = row["axon_gflops"] / peak
            lines.append(
                f"| {t['threads']} | {row['gflop_per_step']:.1f} | {row['axon_gflops']:.1f} | "
                f"{row['torch_gflops']:.1f} | {peak:.1f} | {frac:.0%} | >= "
                f"{GPT_UTILIZATION_TARGET:.0%} {'(met)' if frac >= GPT_UTILIZATION_TARGET else '(missed)'} |"
            )
    if results.get("rss"):
        by: dict = {}
        for r in results["rss"]:
            by.setdefault(r["workload"].replace("_sdpa", ""), {})[
                r["framework"] + ("_sdpa" if r["workload"].endswith("_sdpa") else "")
            ] = r
        threads = results["rss"][0].get("threads")
        lines += [
            "",
            f"Peak resident memory (MiB, `ru_maxrss` of a process running only that workload, "
            f"{threads} threads; in brackets: after importing the framework, before building the model):",
            "",
            "| workload | axon | PyTorch | axon below PyTorch |",
            "|---|---:|---:|:-:|",
        ]
        for name, d in by.items():
            ax, tc = d.get("axon"), d.get("torch")
            cells = [f"{v['peak_mib']:.0f} ({v['import_mib']:.0f})" if v else "-" for v in (ax, tc)]
            if "torch_sdpa" in d:
                cells[1] += f"; SDPA {d['torch_sdpa']['peak_mib']:.0f}"
            below = (
                "yes"
                if ax and tc and ax["peak_mib"] < tc["peak_mib"]
                else ("no" if ax and tc else "")
            )
            lines.append(f"| {name} | {cells[0]} | {cells[1]} | {below} |")
    inf = results.get("inference")
    if inf:
        lines += ["", "Inference (benchmarks/gpt_kv_cache.py, benchmarks/minilm_embed.py):", ""]
        gk = inf.get("gpt_kv_cache")
        if isinstance(gk, list):
            for r in gk:
                if "error" in r:
                    lines.append(
                        f"- GPT generation, {r['threads']} thread(s): failed ({r['error'][:120]})"
                    )
                    continue
                ref = (
                    f"; HF GPT-2 (PyTorch, same weights, run in the same process) "
                    f"{r['torch_hf_tokens_per_s']:.0f} tokens/s"
                    if "torch_hf_tokens_per_s" in r
                    else ""
                )
                lines.append(
                    f"- GPT generation with the KV cache at context {r['context']}, {r['threads']} "
                    f"thread(s): axon {r['axon_tokens_per_s']:.0f} tokens/s{ref}"
                )
        else:
            lines.append(f"- GPT generation with the KV cache: {gk}")
        mm = inf.get("minilm_embed")
        if isinstance(mm, list):
            for r in mm:
                st = r.get("sentence-transformers emb/s")
                lines.append(
                    f"- MiniLM sentence embeddings, batch of 32 {r['workload'].split(' ', 1)[-1]} "
                    f"({r['tokens']} tokens), {r['threads']} thread(s): axon {r['axon emb/s']:.0f}/s"
                    + (f", sentence-transformers {st:.0f}/s" if st else "")
                )
        else:
            lines.append(f"- MiniLM sentence embeddings: {mm}")
    if results.get("plots"):
        lines += ["", "Scaling curves: " + ", ".join(f"`{p}`" for p in results["plots"]) + "."]
    return "\n".join(lines)


def update_docs(table: str, path: Path = ROOT / "docs" / "performance.md") -> bool:
    """Replace the results section of docs/performance.md (between its two markers)."""
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    if not path.exists():
        return False
    text = path.read_text()
    if begin not in text or end not in text:
        return False
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n{table}\n{end}{tail}")
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--only", default=",".join(ALL), help=f"comma-separated subset of {ALL}")
    parser.add_argument("--threads", default="1,2", help="thread counts to run (comma-separated)")
    parser.add_argument("--reps", type=int, default=0, help="override the repetitions per workload")
    parser.add_argument("--no-rss", action="store_true", help="skip the peak-memory processes")
    parser.add_argument("--no-inference", action="store_true", help="skip GPT decoding and MiniLM")
    parser.add_argument(
        "--curves",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="scaling curves into docs/ (default: on)",
    )
    parser.add_argument("--json", default=str(HERE / "results.json"), help="where to write results")
    parser.add_argument(
        "--docs",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="rewrite the results section of docs/performance.md "
        "(default: on for a full run of every workload)",
    )
    parser.add_argument(
        "--profile", metavar="WORKLOADS", help="print axon's per-op profile and exit"
    )
    parser.add_argument("--worker", choices=["axon", "torch", "numpy"], help=argparse.SUPPRESS)
    parser.add_argument("--rss", nargs=2, metavar=("FRAMEWORK", "WORKLOAD"), help=argparse.SUPPRESS)
    parser.add_argument("--profile-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--meta", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.only = [w for w in args.only.split(",") if w]
    unknown = set(args.only) - set(ALL)
    if unknown:
        parser.error(f"unknown workloads {sorted(unknown)}; choose from {ALL}")

    if args.meta:
        print(json.dumps(blas_summary()))
        return
    if args.worker:  # a persistent timing child (see Workers)
        args.threads = int(args.threads)
        worker_loop(args)
        return
    if args.rss:  # a peak-memory child: result as JSON on the last line
        args.threads = int(args.threads)
        print(json.dumps(child_rss(args)))
        return
    if args.profile_child:
        args.threads, args.only = int(args.threads), args.profile.split(",")
        child_profile(args)
        return
    threads_list = [int(t) for t in args.threads.split(",")]
    if args.docs is None:
        args.docs = args.only == ALL and not args.no_rss and args.curves
    if args.profile:
        for threads in threads_list:
            env = dict(os.environ, **{v: str(threads) for v in THREAD_VARS})
            subprocess.run(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--profile-child",
                    "--profile",
                    args.profile,
                    "--threads",
                    str(threads),
                ],
                env=env,
                check=True,
            )
        return

    # in a child: the parent stays small (a child forked from a large parent starts
    # with the parent's peak RSS in its ru_maxrss, which would spoil the memory numbers)
    meta = json.loads(
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--meta"],
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    meta["date"] = time.strftime("%Y-%m-%d %H:%M")
    print(f"# axon vs PyTorch, float32 - {meta['date']}")
    print(
        f"BLAS: NumPy {meta['numpy']} uses {meta['numpy_blas']} (SIMD {meta.get('numpy_simd')}); "
        f"PyTorch {meta.get('torch')} ({meta.get('torch_blas')}); {meta['cpus']} CPUs; "
        f"thread settings {threads_list}"
    )
    results = {"meta": meta, "command": " ".join(sys.argv), "timings": [], "rss": []}
    for threads in threads_list:
        print(f"... timing {args.only} at {threads} thread(s)", file=sys.stderr, flush=True)
        results["timings"].append(run_timings(threads, args.only, args.quick, args.reps))
    if not args.no_rss:
        rss_threads = max(threads_list)
        for name in args.only:
            for framework, variant in CONTENDERS[name]:
                if framework == "numpy":
                    continue
                print(f"... peak RSS of {framework} {variant}", file=sys.stderr, flush=True)
                r = _spawn(["--rss", framework, variant], rss_threads)
                r["threads"] = rss_threads
                results["rss"].append(r)
    if not args.no_inference:
        print("... inference benchmarks", file=sys.stderr, flush=True)
        results["inference"] = run_inference(threads_list, args.quick)
    if args.curves:
        curves = []
        for threads in threads_list:
            print(f"... scaling curves at {threads} thread(s)", file=sys.stderr, flush=True)
            curves.append(run_curves(threads, args.quick))
        results["curves"] = curves
        results["plots"] = plot_curves(curves, ROOT / "docs")
    table = markdown(results)
    results["markdown"] = table
    print()
    print(table)
    Path(args.json).write_text(json.dumps(results, indent=1))
    if args.docs and update_docs(table):
        print("docs/performance.md: results section updated", file=sys.stderr)
    print(
        f"\nresults written to {args.json}"
        + (f"; plots: {', '.join(results['plots'])}" if results.get("plots") else "")
    )


if __name__ == "__main__":
    main()
