"""GPT generation with and without the key/value cache: time per new token.

Run ``python benchmarks/gpt_kv_cache.py`` (``--json out.json`` to save the
numbers, ``--reps 5`` for more repetitions, ``--threads 1`` to pin BLAS).

A 4-layer GPT (n_embd=128, 4 heads, block_size=512, vocab 65) continues a
256-token prompt by 32 tokens (positions 256..287), greedily. The time per
new token is (t(generate 1 + N tokens) - t(generate 1 token)) / N: the prefill
and the first token cancel out, leaving the steps at context 257..288. Without
the cache each step re-runs the whole context; with it, one token attends to
the cached keys and values. The median over repetitions is reported.

With ``transformers`` installed, the same weights in HuggingFace's GPT-2
(PyTorch, CPU, same thread count) decode the same tokens with its own cache,
as a reference point (a hand-written greedy loop over ``past_key_values``).
"""

from __future__ import annotations

import argparse
import json
import os
import time

PROMPT, NEW = 256, 32
SIZE = dict(vocab_size=65, block_size=512, n_layer=4, n_head=4, n_embd=128)


def _median_time(fn, reps: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=None, help="BLAS/torch threads (default: all)"
    )
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if args.threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)

    import numpy as np

    import axon
    from axon.models.gpt import GPT, GPTConfig

    axon.manual_seed(0)
    model = GPT(GPTConfig(**SIZE)).eval()
    prompt = np.random.default_rng(0).integers(0, SIZE["vocab_size"], (1, PROMPT))

    def per_token(use_cache: bool) -> float:
        t_one = _median_time(
            lambda: model.generate(prompt, 1, temperature=0, use_cache=use_cache), args.reps
        )
        t_all = _median_time(
            lambda: model.generate(prompt, 1 + NEW, temperature=0, use_cache=use_cache), args.reps
        )
        return (t_all - t_one) / NEW

    cached, uncached = per_token(True), per_token(False)
    same = np.array_equal(
        model.generate(prompt, NEW, temperature=0).data,
        model.generate(prompt, NEW, temperature=0, use_cache=False).data,
    )
    result = {
        "model": SIZE,
        "prompt": PROMPT,
        "new_tokens": NEW,
        "axon_cached_ms_per_token": round(1e3 * cached, 3),
        "axon_uncached_ms_per_token": round(1e3 * uncached, 3),
        "speedup": round(uncached / cached, 2),
        "greedy_tokens_identical": bool(same),
    }
    result.update(_transformers_reference(model, prompt, args))
    print(json.dumps(result, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


def _transformers_reference(model, prompt, args) -> dict:
    """HF GPT-2 (PyTorch) with the same weights and its own KV cache, if transformers is installed."""
    try:
        import torch
        from transformers import GPT2Config, GPT2LMHeadModel
    except ImportError:
        return {}
    import numpy as np

    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = GPT2Config(
        vocab_size=SIZE["vocab_size"],
        n_positions=SIZE["block_size"],
        n_layer=SIZE["n_layer"],
        n_head=SIZE["n_head"],
        n_embd=SIZE["n_embd"],
        bos_token_id=0,
        eos_token_id=0,
        activation_function="gelu",
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    hf = GPT2LMHeadModel(cfg).eval()
    conv1d = ("c_attn.weight", "c_proj.weight", "c_fc.weight")
    sd = {
        k: torch.tensor(v.data.T if k.endswith(conv1d) else v.data)
        for k, v in model.state_dict().items()
    }
    hf.load_state_dict(sd, strict=False)  # HF's causal-mask buffers (if any) keep their own values
    ids = torch.tensor(prompt)

    def decode(n: int):
        with torch.no_grad():
            out = hf(ids, use_cache=True)
            past, tokens = out.past_key_values, [int(out.logits[0, -1].argmax())]
            for _ in range(n - 1):
                out = hf(torch.tensor([[tokens[-1]]]), past_key_values=past, use_cache=True)
                past = out.past_key_values
                tokens.append(int(out.logits[0, -1].argmax()))
        return tokens

    t_one = _median_time(lambda: decode(1), args.reps)
    t_all = _median_time(lambda: decode(1 + NEW), args.reps)
    ours = model.generate(prompt, NEW, temperature=0).data[0, PROMPT:].tolist()
    return {
        "torch_hf_cached_ms_per_token": round(1e3 * (t_all - t_one) / NEW, 3),
        "torch_threads": torch.get_num_threads(),
        "torch_tokens_match_axon": decode(NEW) == ours,
        "numpy": np.__version__,
    }


if __name__ == "__main__":
    main()
