"""The ``axon`` subcommands: train, eval, generate, datasets, embed, demo."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from axon.autograd.grad_mode import no_grad
from axon.cli.build import Data, build_data, build_model, build_trainer
from axon.cli.config import ConfigError, load_config, validate
from axon.nn.module import Module
from axon.random import manual_seed
from axon.train.checkpoint import load_checkpoint


def _setup(cfg) -> tuple[Data, Module]:
    manual_seed(cfg["seed"])  # the model's initial weights depend on it
    data = build_data(cfg)
    return data, build_model(cfg, data)


def _print_metrics(title: str, logs: dict) -> None:
    shown = ", ".join(f"{k} {v:.4f}" for k, v in logs.items() if isinstance(v, float))
    print(f"{title}: {shown}", flush=True)


def sample_text(
    model,
    tokenizer,
    prompt: str,
    tokens: int,
    temperature: float = 0.8,
    top_k: int = 0,
    top_p: float | None = None,
    seed: int | None = 0,
) -> str:
    """Generate ``tokens`` characters after ``prompt`` with a character-level model."""
    unknown = sorted(set(prompt) - set(tokenizer.stoi))
    if unknown:
        raise ConfigError(f"generate: the prompt has characters the model never saw: {unknown}")
    idx = np.array([tokenizer.encode(prompt)], dtype=np.int64)  # (1, T)
    out = model.generate(
        idx, tokens, temperature=temperature, top_k=top_k or None, top_p=top_p, seed=seed
    )
    return tokenizer.decode(out.data[0].tolist())


def run_training(cfg, resume: str | None = None, progress=None) -> dict:
    """Train as ``cfg`` says; print the final metrics (and a sample, for language models)."""
    data, model = _setup(cfg)
    trainer = build_trainer(cfg, data, model, run_dir=resume, progress=progress)
    start = time.perf_counter()
    logs = trainer.fit(resume_from=resume)
    print(f"trained {trainer.step} steps in {time.perf_counter() - start:.1f}s", flush=True)
    _print_metrics("final", logs)
    if data.task == "lm":
        g = cfg["generate"]
        text = sample_text(
            model, data.meta["tokenizer"], g["prompt"], g["tokens"], g["temperature"], g["top_k"]
        )
        print("--- sample ---\n" + text + "\n--------------", flush=True)
        trainer.add_report_section("Generated sample", text)
        trainer.write_report()
    if data.task == "seq2seq":
        logs["exact_match"] = exact_match(model, data)
        print(f"exact match on held-out sequences: {logs['exact_match']:.2%}", flush=True)
    if trainer.run_dir is not None:
        print(f"report: {trainer.run_dir / 'report.html'}", flush=True)
    return {"logs": logs, "trainer": trainer, "model": model, "data": data}


def exact_match(model, data: Data) -> float:
    """Share of validation sequences that greedy decoding gets exactly right."""
    from axon.data.datasets.synthetic import BOS, EOS, PAD

    src, tgt = data.val.dataset.arrays
    with no_grad():
        out = model.generate(src, max_len=tgt.shape[1] - 1, bos=BOS, eos=EOS).data
    width = min(out.shape[1], tgt.shape[1])
    pred, true = out[:, :width], tgt[:, :width]
    if out.shape[1] < tgt.shape[1]:
        pad = np.full((len(tgt), tgt.shape[1] - width), PAD)
        pred, true = np.concatenate([pred, pad], 1), tgt
    return float(np.mean(np.all(pred == true, axis=1)))


def _load_run(run_dir) -> tuple[dict, Data, Module]:
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise ConfigError(f"{run_dir!s}: not a run directory (no config.json)")
    cfg = validate(json.loads(path.read_text()))
    data, model = _setup(cfg)
    ckpt = load_checkpoint(
        run_dir, "best" if (Path(run_dir) / "checkpoints/best").exists() else "last"
    )
    model.load_state_dict(ckpt.model)
    model.eval()
    return cfg, data, model


def cmd_train(args) -> int:
    cfg = load_config(args.config, args.set, args.name)
    run_training(cfg, resume=args.resume)
    return 0


def cmd_eval(args) -> int:
    cfg, data, model = _load_run(args.run_dir)
    trainer = build_trainer(cfg, data, model, run_dir=False, progress=False)
    logs = trainer.evaluate()
    if data.task == "seq2seq":
        logs["exact_match"] = exact_match(model, data)
    _print_metrics(f"{cfg['name']} (validation)", logs)
    return 0


def cmd_generate(args) -> int:
    _cfg, data, model = _load_run(args.run_dir)
    if data.task != "lm":
        raise ConfigError(
            f"generate: {args.run_dir!s} holds a {data.task} model, not a language model"
        )
    print(
        sample_text(
            model,
            data.meta["tokenizer"],
            args.prompt,
            args.tokens,
            args.temperature,
            args.top_k or 0,
            args.top_p,
            args.seed,
        )
    )
    return 0


def cmd_datasets(args) -> int:
    from axon.data import datasets

    print(f"{'name':<15}{'offline':<9}{'examples':>10}  {'shapes':<32}{'on disk':>12}")
    for info in datasets.available():
        size = "-" if info.bytes_on_disk is None else f"{info.bytes_on_disk / 1e6:.1f} MB"
        shapes = str(getattr(info, "shapes", ""))[:31]
        print(
            f"{info.name:<15}{'yes' if info.offline else 'no':<9}{info.n_examples or 0:>10,}  "
            f"{shapes:<32}{size:>12}"
        )
    return 0


def cmd_embed(args) -> int:
    from axon.models.pretrained import embed_command

    print(embed_command(args.texts, pairwise=args.pairwise))
    return 0


DEMO_CNN = {
    "name": "demo-cnn-mnist1d",
    "data": {"dataset": "mnist1d", "batch_size": 64, "augment": True},
    "model": {"kind": "cnn1d", "channels": 64, "dropout": 0.2},
    "optim": {"name": "adamw", "lr": 3e-3, "weight_decay": 0.01, "schedule": "cosine"},
    "train": {"max_epochs": 40, "max_minutes": 1.5},
}
DEMO_GPT = {
    "name": "demo-gpt-shakespeare",
    "data": {
        "dataset": "shakespeare",
        "batch_size": 32,
        "context": 64,
        "stride": 32,
        "val_windows": 256,
    },
    "model": {"kind": "gpt", "n_layer": 3, "n_head": 4, "n_embd": 128, "dropout": 0.0},
    "optim": {
        "name": "adamw",
        "lr": 3e-3,
        "weight_decay": 0.1,
        "betas": [0.9, 0.99],
        "schedule": "warmup_cosine",
        "warmup_steps": 100,
        "min_lr": 3e-4,
    },
    "train": {"max_steps": 2000, "max_minutes": 3.3, "eval_every": 300, "grad_clip": 1.0},
    "generate": {"prompt": "ROMEO:", "tokens": 300, "temperature": 0.8},
}


def cmd_demo(args) -> int:
    """The README's main job: a CNN on MNIST-1D, then a character-level GPT on Shakespeare."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    reports = []
    for raw in (DEMO_CNN, DEMO_GPT):
        cfg = validate({**raw, "name": f"{raw['name']}-{stamp}", "runs_dir": args.runs_dir})
        print(f"\n=== {cfg['name']} ===", flush=True)
        result = run_training(cfg)
        reports.append(result["trainer"].run_dir / "report.html")
    print("\nreports:\n" + "\n".join(f"  {p}" for p in reports))
    return 0
