"""Experiment configs: TOML files, ``--set`` overrides, and validation.

A config has a few sections; every key has a default, so a file only says
what differs::

    name = "mlp-digits"
    seed = 0

    [data]                 # what to train on
    dataset = "digits"
    batch_size = 64

    [model]                # kind + the fields of that model's Config dataclass
    kind = "mlp"
    hidden = [128, 64]

    [optim]                # optimizer and learning-rate schedule
    name = "adamw"
    lr = 1e-3

    [train]                # the Trainer's loop
    max_epochs = 30

Unknown keys are errors that suggest the closest known key; values of the
wrong type are errors naming the key, the value and the expected type.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import tomllib
from pathlib import Path


class ConfigError(ValueError):
    """A config problem; the message is one line that names the key."""


DEFAULTS: dict = {
    "name": "",
    "seed": 0,
    "runs_dir": "runs",
    "data": {
        "dataset": "digits",  # digits, mnist1d, shakespeare, cifar10, mnist, fashion_mnist,
        # spirals, moons, xor, reversal, addition
        "batch_size": 64,
        "context": 128,  # language models: tokens per training window
        "stride": 64,  # language models: step between training windows
        "val_windows": 256,  # language models: evenly spaced windows kept for validation
        "n_train": 4000,  # synthetic sets: examples to generate
        "n_val": 500,
        "max_len": 8,  # reversal: longest sequence
        "digits": 3,  # addition: digits per operand
        "augment": False,  # image sets: random crop + flip
        "prefetch": 0,
    },
    "model": {"kind": "mlp"},  # other keys: the chosen model's Config fields
    "optim": {
        "name": "adamw",  # sgd, adam, adamw, rmsprop, adagrad, adafactor, lion
        "lr": 1e-3,
        "weight_decay": 0.01,
        "momentum": 0.9,  # sgd, rmsprop
        "betas": [0.9, 0.999],  # adam, adamw, lion
        "schedule": "constant",  # constant, warmup_cosine, cosine, step
        "warmup_steps": 0,
        "min_lr": 0.0,
        "step_size": 1000,  # step schedule: decay every this many steps
        "gamma": 0.1,
    },
    "train": {
        "max_epochs": 10,
        "max_steps": 0,  # 0: no limit on steps
        "max_minutes": 0.0,  # 0: no time limit; otherwise stop (and evaluate) after this long
        "grad_clip": 0.0,  # 0: no clipping
        "grad_accumulation": 1,
        "eval_every": 0,  # 0: evaluate at the end of every epoch
        "log_every": 10,
        "checkpoint_every": 0,  # save a resumable checkpoint every this many steps; 0: per epoch
        "early_stopping": 0,  # patience in evaluations; 0: off
        "monitor": "val_loss",
        "progress": True,
    },
    "generate": {"prompt": "ROMEO:", "tokens": 200, "temperature": 0.8, "top_k": 0},
}

#: the model kinds, and the Config dataclass that lists each one's keys
MODEL_CONFIGS = {
    "mlp": ("axon.models.mlp", "MLPConfig"),
    "lenet": ("axon.models.lenet", "LeNetConfig"),
    "cnn1d": ("axon.models.cnn1d", "CNN1dConfig"),
    "gru": ("axon.models.recurrent", "GRUClassifierConfig"),
    "resnet": ("axon.models.resnet", "ResNetConfig"),
    "gpt": ("axon.models.gpt", "GPTConfig"),
    "char_lstm": ("axon.models.recurrent", "CharLSTMConfig"),
    "seq2seq": ("axon.models.seq2seq", "Seq2SeqConfig"),
}


def model_config_class(kind: str):
    import importlib

    if kind not in MODEL_CONFIGS:
        raise ConfigError(_unknown("model.kind", kind, MODEL_CONFIGS))
    module, name = MODEL_CONFIGS[kind]
    return getattr(importlib.import_module(module), name)


def _unknown(what: str, value, known) -> str:
    close = difflib.get_close_matches(str(value), [str(k) for k in known], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else f"; choose from {sorted(map(str, known))}"
    return f"unknown {what} {value!r}{hint}"


def _type_ok(value, expected) -> bool:
    if isinstance(expected, bool):
        return isinstance(value, bool)
    if isinstance(expected, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(expected, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(expected, (list, tuple)):
        return isinstance(value, (list, tuple))
    return isinstance(value, type(expected))


def _check_section(path: str, given: dict, defaults: dict) -> dict:
    out = copy.deepcopy(defaults)
    for key, value in given.items():
        full = f"{path}.{key}" if path else key
        if key not in defaults:
            raise ConfigError(
                "config: " + _unknown("key", full, [f"{path}.{k}" if path else k for k in defaults])
            )
        expected = defaults[key]
        if isinstance(expected, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"config: {full!r} must be a section (a table), got {value!r}")
            out[key] = _check_section(full, value, expected)
        elif not _type_ok(value, expected):
            raise ConfigError(
                f"config: {full} = {value!r} has the wrong type: expected "
                f"{type(expected).__name__}, got {type(value).__name__}"
            )
        else:
            out[key] = float(value) if isinstance(expected, float) else value
    return out


def _check_model(model: dict) -> dict:
    kind = model.get("kind", DEFAULTS["model"]["kind"])
    cls = model_config_class(kind)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key, value in model.items():
        if key == "kind":
            continue
        if key not in fields:
            raise ConfigError(
                f"config: {_unknown('key', 'model.' + key, ['model.' + k for k in fields])} "
                f"for model kind {kind!r}"
            )
        default = fields[key].default
        if default is not dataclasses.MISSING and not _type_ok(value, default):
            raise ConfigError(
                f"config: model.{key} = {value!r} has the wrong type: expected "
                f"{type(default).__name__}, got {type(value).__name__}"
            )
    return dict(model)


def validate(raw: dict) -> dict:
    """Fill in defaults and check every key and type; returns the resolved config."""
    model = raw.get("model", {})
    if not isinstance(model, dict):
        raise ConfigError(f"config: 'model' must be a section (a table), got {model!r}")
    rest = {k: v for k, v in raw.items() if k != "model"}
    resolved = _check_section("", rest, {k: v for k, v in DEFAULTS.items() if k != "model"})
    resolved["model"] = _check_model({"kind": DEFAULTS["model"]["kind"], **model})
    return resolved


def parse_value(text: str):
    """A ``--set`` value as TOML would read it (numbers, booleans, lists), else a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_override(raw: dict, assignment: str) -> None:
    """Apply ``section.key=value`` to the raw config (before validation)."""
    if "=" not in assignment:
        raise ConfigError(f"--set: expected key=value, got {assignment!r}")
    key, text = assignment.split("=", 1)
    parts = key.strip().split(".")
    node = raw
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"--set: {key!r}: {part!r} is not a section")
    node[parts[-1]] = parse_value(text.strip())


def load_config(path, overrides=(), name: str | None = None) -> dict:
    """Read a TOML config, apply ``--set`` overrides, validate, and return it resolved."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config: no such file: {str(path)!r}")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config: {str(path)!r} is not valid TOML: {e}") from None
    for assignment in overrides:
        apply_override(raw, assignment)
    resolved = validate(raw)
    if name:
        resolved["name"] = name
    if not resolved["name"]:
        resolved["name"] = path.stem
    return resolved
