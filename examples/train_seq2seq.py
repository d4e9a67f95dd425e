"""Train the Seq2Seq transformer to reverse digit strings (or add numbers), then test it.

The data come from ``axon.data.datasets.synthetic``: ``reversal`` maps "3141"
to "1413" (1 to 8 digits); ``addition`` maps "123+45" to "168". The model
trains with teacher forcing (the decoder reads BOS, y1, y2 ... and predicts
y1, y2, ..., EOS) and is tested by greedy decoding with the KV cache on
held-out sequences: none of them appears in the training set. The score is
exact match: the whole decoded sequence must equal the answer.

Run: ``python examples/train_seq2seq.py`` (``--task addition``, ``--steps N``,
``--minutes M`` to stop early). On 2 cores reversal reaches >= 99% in a few minutes.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import axon
from axon.data.datasets.synthetic import BOS, EOS, PAD, SEQ_VOCAB, addition, decode_tokens, reversal
from axon.models.seq2seq import Seq2Seq, Seq2SeqConfig
from axon.nn import functional as F
from axon.optim import AdamW, clip_grad_norm_, weight_decay_groups
from axon.optim.lr_scheduler import WarmupCosine


def make_data(task: str, n_train: int, n_test: int):
    """(train src, train tgt), (test src, test tgt): test sources never occur in train."""
    if task == "reversal":
        train, test = reversal(n_train, 1, 8, seed=0), reversal(n_test, 1, 8, seed=1)
    else:
        train = addition(n_train, digits=3, reverse_answer=True, seed=0)
        test = addition(n_test, digits=3, reverse_answer=True, seed=1)
    (src, tgt), (test_src, test_tgt) = train.arrays, test.arrays
    seen = {row.tobytes() for row in src}
    held_out = np.array([row.tobytes() not in seen for row in test_src])
    return (src, tgt), (test_src[held_out], test_tgt[held_out])


def exact_match(model: Seq2Seq, src: np.ndarray, tgt: np.ndarray, batch: int = 500) -> float:
    """Fraction of sequences whose greedy decoding equals the target exactly."""
    correct = 0
    for i in range(0, len(src), batch):
        out = model.generate(src[i : i + batch], max_len=tgt.shape[1] - 1, bos=BOS, eos=EOS).data
        correct += sum(
            decode_tokens(o) == decode_tokens(t)
            for o, t in zip(out, tgt[i : i + batch], strict=True)
        )
    return correct / len(src)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=["reversal", "addition"], default="reversal")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--minutes", type=float, default=None, help="stop training after this long")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    axon.manual_seed(args.seed)
    (src, tgt), (test_src, test_tgt) = make_data(args.task, 50_000, 5_000)
    config = Seq2SeqConfig(
        vocab_size=len(SEQ_VOCAB),
        max_len=16,
        d_model=64,
        n_head=4,
        n_encoder_layers=2,
        n_decoder_layers=2,
        d_ff=256,
        dropout=0.0,
    )
    model = Seq2Seq(config)
    opt = AdamW(weight_decay_groups(model.named_parameters(), 0.01), lr=args.lr)
    sched = WarmupCosine(opt, warmup_steps=100, total_steps=args.steps, min_lr=args.lr / 20)
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"{args.task}: {len(src)} training pairs, {len(test_src)} held-out test pairs; "
        f"{n_params:,} parameters"
    )

    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        rows = rng.integers(0, len(src), args.batch_size)
        x, y = src[rows], tgt[rows]
        logits = model(x, y[:, :-1])  # teacher forcing: (B, T, V)
        loss = F.cross_entropy(
            logits.reshape(-1, config.vocab_size), y[:, 1:].reshape(-1), ignore_index=PAD
        )
        opt.zero_grad()
        loss.backward()
        clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        elapsed = time.perf_counter() - start
        if step % 100 == 0 or step == args.steps:
            acc = exact_match(model, test_src[:200], test_tgt[:200])
            print(
                f"step {step:5d}  loss {loss.item():.4f}  exact match (200 test) {acc:.3f}  "
                f"{elapsed:.0f} s"
            )
        if args.minutes is not None and elapsed > 60 * args.minutes:
            print(f"stopping after {step} steps ({elapsed:.0f} s)")
            break
    train_time = time.perf_counter() - start

    t0 = time.perf_counter()
    acc = exact_match(model, test_src, test_tgt)
    for s, t in zip(test_src[:3], test_tgt[:3], strict=True):
        out = model.generate(s[None], max_len=tgt.shape[1] - 1, bos=BOS, eos=EOS).data[0]
        print(f"  {decode_tokens(s):>10} -> {decode_tokens(out):<10} (answer {decode_tokens(t)})")
    print(
        f"held-out exact match: {acc:.4f} on {len(test_src)} sequences; "
        f"training {train_time:.0f} s, test decoding {time.perf_counter() - t0:.1f} s"
    )


if __name__ == "__main__":
    main()
