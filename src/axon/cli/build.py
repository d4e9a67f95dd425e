"""From a resolved config to the objects a run needs: data, model, optimizer, trainer.

Three kinds of task, chosen by the data set:

- ``classify``: (x, y) examples; cross-entropy; loss and accuracy;
- ``lm``: a character stream cut into windows; next-token cross-entropy;
  loss, accuracy and perplexity; text generation;
- ``seq2seq``: (src, tgt) token sequences; teacher forcing with PAD ignored;
  exact-match by greedy decoding at evaluation.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass, field

import numpy as np

from axon import nn, optim
from axon.cli.config import ConfigError, model_config_class
from axon.data import DataLoader, TensorDataset, datasets
from axon.data.windows import TokenWindows
from axon.nn.module import Module
from axon.ops.movement import reshape
from axon.tensor import Tensor
from axon.train import Trainer
from axon.train.callbacks import Callback

CLASSIFY_SETS = (
    "digits",
    "mnist1d",
    "cifar10",
    "mnist",
    "fashion_mnist",
    "spirals",
    "moons",
    "xor",
)
LM_SETS = ("shakespeare",)
SEQ2SEQ_SETS = ("reversal", "addition")
MODEL_CLASSES = {
    "mlp": ("axon.models.mlp", "MLP"),
    "lenet": ("axon.models.lenet", "LeNet"),
    "cnn1d": ("axon.models.cnn1d", "CNN1d"),
    "gru": ("axon.models.recurrent", "GRUClassifier"),
    "resnet": ("axon.models.resnet", "ResNet"),
    "gpt": ("axon.models.gpt", "GPT"),
    "char_lstm": ("axon.models.recurrent", "CharLSTM"),
    "seq2seq": ("axon.models.seq2seq", "Seq2Seq"),
}


@dataclass
class Data:
    task: str
    train: DataLoader
    val: DataLoader
    meta: dict = field(default_factory=dict)  # sizes the model needs: num_classes, vocab, ...


def task_of(dataset: str) -> str:
    if dataset in CLASSIFY_SETS:
        return "classify"
    if dataset in LM_SETS:
        return "lm"
    if dataset in SEQ2SEQ_SETS:
        return "seq2seq"
    from axon.cli.config import _unknown

    raise ConfigError(
        "config: " + _unknown("data.dataset", dataset, CLASSIFY_SETS + LM_SETS + SEQ2SEQ_SETS)
    )


def _classify_arrays(cfg) -> tuple[tuple, tuple]:
    d = cfg["data"]
    name = d["dataset"]
    if name in ("spirals", "moons", "xor"):
        make = getattr(datasets, name)
        train, val = make(d["n_train"], seed=cfg["seed"]), make(d["n_val"], seed=cfg["seed"] + 1)
    else:
        train, val = getattr(datasets, f"load_{name}")()
    return train.arrays, val.arrays


def _layout(x: np.ndarray, kind: str) -> np.ndarray:
    """Reshape inputs to what the model kind reads."""
    if kind == "mlp":
        return x.reshape(len(x), -1)  # (N, features)
    if kind in ("gru", "cnn1d"):
        return x.reshape(len(x), -1)  # (N, L): the models add the channel dim
    return x  # images stay (N, C, H, W)


def _augmentation(dataset: str):
    """Training-time augmentation: shifts and noise for 1-D signals, crops and flips for images."""
    from axon.data import transforms as T

    if dataset == "mnist1d":
        return T.Compose([T.RandomShift(4, mode="circular"), T.GaussianNoise(0.05)])
    if dataset in ("cifar10",):
        return T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip()])
    raise ConfigError(f"config: data.augment is not available for {dataset!r}")


def build_data(cfg) -> Data:
    d = cfg["data"]
    task = task_of(d["dataset"])
    loader = dict(batch_size=d["batch_size"], prefetch=d["prefetch"])
    if task == "classify":
        (x, y), (xv, yv) = _classify_arrays(cfg)
        kind = cfg["model"]["kind"]
        x, xv = _layout(x, kind), _layout(xv, kind)
        meta = {"num_classes": int(max(y.max(), yv.max())) + 1, "shape": x.shape[1:]}
        augment = _augmentation(d["dataset"]) if d["augment"] else None
        return Data(
            task,
            DataLoader(TensorDataset(x, y, transform=augment), shuffle=True, **loader),
            DataLoader(TensorDataset(xv, yv), **loader),
            meta,
        )
    if task == "lm":
        text = datasets.load_shakespeare()
        train = TokenWindows(text.train, d["context"], d["stride"])
        val = TokenWindows(text.val, d["context"], d["context"], limit=d["val_windows"])
        meta = {
            "vocab_size": len(text.tokenizer),
            "tokenizer": text.tokenizer,
            "context": d["context"],
        }
        return Data(
            task,
            DataLoader(train, shuffle=True, drop_last=True, **loader),
            DataLoader(val, **loader),
            meta,
        )
    make = getattr(datasets, d["dataset"])
    extra = {"max_len": d["max_len"]} if d["dataset"] == "reversal" else {"digits": d["digits"]}
    train = make(d["n_train"], seed=cfg["seed"], **extra)
    val = make(d["n_val"], seed=cfg["seed"] + 1, **extra)
    src, tgt = train.arrays
    meta = {
        "vocab_size": len(datasets.synthetic.SEQ_VOCAB),
        "max_len": max(src.shape[1], tgt.shape[1]),
    }
    return Data(task, DataLoader(train, shuffle=True, **loader), DataLoader(val, **loader), meta)


def build_model(cfg, data: Data) -> Module:
    """The model named by ``model.kind``, sized from the data where the config leaves it open."""
    kind = cfg["model"]["kind"]
    fields = {f.name for f in dataclasses.fields(model_config_class(kind))}
    inferred = {}
    meta = data.meta
    if data.task == "classify":
        shape = meta["shape"]
        inferred = {
            "in_features": int(np.prod(shape)),
            "out_features": meta["num_classes"],
            "num_classes": meta["num_classes"],
            "seq_len": int(np.prod(shape)),
        }
        if len(shape) == 3:
            inferred |= {"in_channels": shape[0], "image_size": shape[1]}
    elif data.task == "lm":
        inferred = {"vocab_size": meta["vocab_size"], "block_size": meta["context"]}
    else:
        inferred = {"vocab_size": meta["vocab_size"], "max_len": meta["max_len"] + 1}
    params = {k: v for k, v in inferred.items() if k in fields}
    params |= {k: v for k, v in cfg["model"].items() if k != "kind"}
    if kind == "resnet" and "widths" in params:
        params["widths"] = tuple(params["widths"])
    try:
        config = model_config_class(kind)(**params)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"config: model: {e}") from None
    module, name = MODEL_CLASSES[kind]
    return getattr(importlib.import_module(module), name)(config)


def build_optimizer(cfg, model):
    o = cfg["optim"]
    groups = optim.weight_decay_groups(model.named_parameters(), o["weight_decay"])
    name = o["name"]
    betas = tuple(o["betas"])
    makers = {
        "sgd": lambda: optim.SGD(groups, lr=o["lr"], momentum=o["momentum"]),
        "adam": lambda: optim.Adam(groups, lr=o["lr"], betas=betas),
        "adamw": lambda: optim.AdamW(groups, lr=o["lr"], betas=betas),
        "rmsprop": lambda: optim.RMSprop(groups, lr=o["lr"], momentum=o["momentum"]),
        "adagrad": lambda: optim.Adagrad(groups, lr=o["lr"]),
        "adafactor": lambda: optim.Adafactor(groups, lr=o["lr"]),
        "lion": lambda: optim.Lion(groups, lr=o["lr"], betas=betas),
    }
    if name not in makers:
        from axon.cli.config import _unknown

        raise ConfigError("config: " + _unknown("optim.name", name, makers))
    return makers[name]()


def build_scheduler(cfg, optimizer, steps_per_epoch: int):
    o, t = cfg["optim"], cfg["train"]
    total = t["max_steps"] or t["max_epochs"] * steps_per_epoch
    sched = optim.lr_scheduler
    if o["schedule"] == "constant":
        return None
    if o["schedule"] == "warmup_cosine":
        return sched.WarmupCosine(
            optimizer, warmup_steps=o["warmup_steps"], total_steps=total, min_lr=o["min_lr"]
        )
    if o["schedule"] == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=total, eta_min=o["min_lr"])
    if o["schedule"] == "step":
        return sched.StepLR(optimizer, step_size=o["step_size"], gamma=o["gamma"])
    from axon.cli.config import _unknown

    raise ConfigError(
        "config: "
        + _unknown("optim.schedule", o["schedule"], ["constant", "warmup_cosine", "cosine", "step"])
    )


# ------------------------------------------------------------------ task trainers
def _flat_cross_entropy(logits, targets):
    v = logits.shape[-1]
    return nn.functional.cross_entropy(reshape(logits, -1, v), reshape(targets, -1))


class LMTrainer(Trainer):
    """Next-token training: the model returns (logits, loss); metrics read the logits."""

    def forward(self, inputs):
        out = self.model(inputs)
        return out[0] if isinstance(out, tuple) else out


class Seq2SeqTrainer(Trainer):
    """Teacher forcing: feed ``tgt[:, :-1]``, predict ``tgt[:, 1:]``; PAD targets are ignored."""

    def split_batch(self, batch):
        src, tgt = batch
        t = tgt.data
        targets = np.where(t[:, 1:] == datasets.synthetic.PAD, -100, t[:, 1:])
        return (src, Tensor._make(np.ascontiguousarray(t[:, :-1]))), Tensor._make(targets)


def build_trainer(cfg, data: Data, model, run_dir=None, progress=None, report_extras=None):
    optimizer = build_optimizer(cfg, model)
    t = cfg["train"]
    scheduler = build_scheduler(cfg, optimizer, max(len(data.train), 1))
    callbacks: list[Callback] = []
    if t["early_stopping"]:
        from axon.train.callbacks import EarlyStopping

        callbacks.append(
            EarlyStopping(
                monitor=t["monitor"], patience=t["early_stopping"], restore_best_weights=True
            )
        )
    if t["checkpoint_every"]:
        from axon.train.callbacks import ModelCheckpoint

        monitor = "val_loss" if data.val is not None else "loss"
        callbacks.append(ModelCheckpoint(monitor=monitor, every_n_steps=t["checkpoint_every"]))
    if t["max_minutes"]:
        from axon.train.callbacks import TimeLimit

        callbacks.append(TimeLimit(t["max_minutes"]))
    kind = {"classify": Trainer, "lm": LMTrainer, "seq2seq": Seq2SeqTrainer}[data.task]
    metrics = ("loss", "accuracy", "perplexity") if data.task == "lm" else ("loss", "accuracy")
    loss = _flat_cross_entropy if data.task in ("lm", "seq2seq") else nn.CrossEntropyLoss()
    return kind(
        model,
        optimizer,
        loss,
        data.train,
        data.val,
        scheduler=scheduler,
        callbacks=callbacks,
        max_epochs=t["max_epochs"] or None,
        max_steps=t["max_steps"] or None,
        grad_clip=t["grad_clip"] or None,
        grad_accumulation=t["grad_accumulation"],
        metrics=metrics,
        log_every=t["log_every"],
        eval_every=t["eval_every"] or None,
        seed=cfg["seed"],
        progress=t["progress"] if progress is None else progress,
        config=cfg,
        report_extras=report_extras,
        **(
            {"run_dir": run_dir}
            if run_dir is not None
            else {"name": cfg["name"], "runs_root": cfg["runs_dir"]}
        ),
    )
