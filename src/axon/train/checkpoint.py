"""Checkpoints: a directory written all at once, holding everything to resume exactly.

Layout of one checkpoint directory (e.g. ``runs/<name>/checkpoints/last/``)::

    model.safetensors       the model's state_dict (axon.save)
    optimizer.safetensors   the optimizer's arrays (Adam's moments, ...)
    optimizer.json          the rest of the optimizer's state: step counts, param groups
    trainer.json            step, epoch, position in the epoch, axon's RNG state, the data
                            loader's position, the scheduler, running metrics, callbacks
    trainer.safetensors     arrays inside the trainer state (e.g. EarlyStopping's best weights)

Nested state (a dict of lists of arrays and numbers) is split in two by
``split_arrays``: arrays go to safetensors under their dotted path
(``state.3.exp_avg``), everything else stays in JSON with a placeholder
``{"__array__": "state.3.exp_avg"}``; ``join_arrays`` puts them back. So
weights stay bit-exact and the structure stays readable. (JSON turns dict
keys into strings and tuples into lists: ``Optimizer.load_state_dict`` and
the schedulers accept both.)

Atomicity: a checkpoint is written into ``.tmp-<name>/`` next to the target,
then swapped in with two renames (``<name>`` -> ``.prev-<name>``,
``.tmp-<name>`` -> ``<name>``). A process killed at any moment leaves either
``<name>`` or ``.prev-<name>`` complete, and ``find_checkpoint`` picks it.

Example::

    >>> save_checkpoint("ckpt", model, optimizer, state={"step": 10})
    >>> ckpt = load_checkpoint("ckpt")
    >>> model.load_state_dict(ckpt.model); optimizer.load_state_dict(ckpt.optimizer)
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from axon.serialization import atomic_write, load, save
from axon.tensor import Tensor

FORMAT = "axon-checkpoint"
VERSION = 1


class CheckpointError(Exception):
    """A checkpoint is missing, incomplete or corrupt; the message names the path and the problem."""


# ------------------------------------------------------------------ arrays vs JSON
def split_arrays(obj, prefix: str = "") -> tuple[object, dict[str, np.ndarray]]:
    """Split nested state into (JSON-safe structure, ``{dotted path: array}``).

    Tensors, arrays and NumPy scalars become ``{"__array__": path}``; dicts,
    lists, tuples, str, int, float, bool and None are kept. Anything else
    (a function, an object) raises ``TypeError`` naming its path.
    """
    arrays: dict[str, np.ndarray] = {}

    def walk(value, path):
        if isinstance(value, Tensor):
            value = value.data
        if isinstance(value, (np.ndarray, np.generic)):
            if path in arrays:  # {"a.b": x} next to {"a": {"b": y}}
                raise ValueError(f"can't save state: two arrays would both be named {path!r}")
            arrays[path] = np.array(value)  # a copy: the live buffer may change after this
            return {"__array__": path}
        if isinstance(value, dict):
            return {str(k): walk(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v, f"{path}.{i}" if path else str(i)) for i, v in enumerate(value)]
        if value is None or isinstance(value, (str, bool, int, float)):
            return value
        raise TypeError(
            f"can't save {path or 'state'!r}: a {type(value).__name__} is neither an array nor "
            "plain data (dict, list, str, number, bool, None)"
        )

    return walk(obj, prefix), arrays


def join_arrays(obj, arrays: dict[str, np.ndarray]):
    """Inverse of ``split_arrays``: replace each placeholder with its array."""
    if isinstance(obj, dict):
        if set(obj) == {"__array__"}:
            return arrays[obj["__array__"]]
        return {k: join_arrays(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [join_arrays(v, arrays) for v in obj]
    return obj


def save_state(directory: Path, stem: str, state) -> None:
    """Write nested ``state`` as ``<stem>.json`` (+ ``<stem>.safetensors`` if it holds arrays)."""
    structure, arrays = split_arrays(state)
    if arrays:
        save(arrays, directory / f"{stem}.safetensors")
    atomic_write(directory / f"{stem}.json", json.dumps(structure, indent=1))


def load_state(directory: Path, stem: str):
    """Read what ``save_state`` wrote; ``CheckpointError`` if it is missing or corrupt."""
    path = directory / f"{stem}.json"
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(directory)!r}: {path.name} is missing")
    try:
        structure = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise CheckpointError(f"checkpoint {str(path)!r}: not valid JSON ({e})") from None
    tensors = directory / f"{stem}.safetensors"
    arrays = {k: v.data for k, v in _load_tensors(tensors).items()} if tensors.is_file() else {}
    try:
        return join_arrays(structure, arrays)
    except KeyError as e:
        raise CheckpointError(
            f"checkpoint {str(directory)!r}: {stem}.json refers to array {e.args[0]!r}, "
            f"which {tensors.name} does not hold"
        ) from None


def _load_tensors(path: Path) -> dict:
    try:
        return load(path)
    except (ValueError, OSError) as e:
        raise CheckpointError(f"checkpoint {str(path)!r}: {e}") from None


# ------------------------------------------------------------------ atomic directories
def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_dir_atomically(target: str | os.PathLike, write) -> Path:
    """Call ``write(tmp_dir)`` then swap ``tmp_dir`` in as ``target``; returns ``target``.

    If the process dies before the swap, ``target`` is untouched; during the
    swap, ``.prev-<name>`` holds the old complete copy (see ``find_checkpoint``).
    """
    target = Path(target)
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp, prev = parent / f".tmp-{target.name}", parent / f".prev-{target.name}"
    if tmp.exists():  # left by a write that was killed: never complete, never read
        shutil.rmtree(tmp)
    tmp.mkdir()
    write(tmp)
    _fsync_dir(tmp)
    if target.exists():
        if prev.exists():  # stale: the target itself is complete
            shutil.rmtree(prev)
        os.replace(target, prev)
    os.replace(tmp, target)
    _fsync_dir(parent)
    if prev.exists():
        shutil.rmtree(prev)
    return target


# ------------------------------------------------------------------ whole checkpoints
@dataclass
class Checkpoint:
    """What ``load_checkpoint`` returns: the model's tensors and the rest as plain data."""

    path: Path
    model: dict
    optimizer: dict | None
    state: dict


def save_checkpoint(path, model, optimizer=None, state: dict | None = None) -> Path:
    """Write model, optimizer and trainer ``state`` as one checkpoint directory, atomically."""
    model_state = model.state_dict() if hasattr(model, "state_dict") else dict(model)
    header = {"format": FORMAT, "version": VERSION, **(state or {})}

    def write(tmp: Path) -> None:
        save(model_state, tmp / "model.safetensors")
        if optimizer is not None:
            save_state(tmp, "optimizer", optimizer.state_dict())
        save_state(tmp, "trainer", header)  # last: its presence marks the directory as whole

    return write_dir_atomically(path, write)


def find_checkpoint(path: str | os.PathLike, name: str = "last") -> Path:
    """The checkpoint directory meant by ``path``: a checkpoint, a run dir or its checkpoints/.

    For a run dir, ``checkpoints/<name>`` (or its ``.prev-`` copy if a write was
    interrupted mid-swap). Raises ``CheckpointError`` if there is none.
    """
    path = Path(path)
    if (path / "trainer.json").is_file() or (path / "model.safetensors").is_file():
        return path
    prev = path.parent / f".prev-{path.name}"
    if not path.exists() and (prev / "trainer.json").is_file():
        return prev
    for base in (path / "checkpoints", path):
        for candidate in (base / name, base / f".prev-{name}"):
            if (candidate / "trainer.json").is_file():
                return candidate
    if not path.exists():
        raise CheckpointError(f"checkpoint {str(path)!r}: no such file or directory")
    raise CheckpointError(
        f"checkpoint {str(path)!r}: not a checkpoint (no trainer.json or model.safetensors) "
        f"and holds no checkpoints/{name}/"
    )


def load_checkpoint(path: str | os.PathLike, name: str = "last") -> Checkpoint:
    """Read a checkpoint directory (or a run dir's ``checkpoints/<name>``) completely.

    Everything is read and checked before anything is returned, so a bad
    checkpoint raises ``CheckpointError`` and changes nothing.
    """
    directory = find_checkpoint(path, name)
    model_file = directory / "model.safetensors"
    if not model_file.is_file():
        raise CheckpointError(f"checkpoint {str(directory)!r}: model.safetensors is missing")
    model_state = _load_tensors(model_file)
    state = load_state(directory, "trainer") if (directory / "trainer.json").is_file() else {}
    if state and state.get("format") != FORMAT:
        raise CheckpointError(
            f"checkpoint {str(directory)!r}: trainer.json is not an {FORMAT} file "
            f"(format={state.get('format')!r})"
        )
    if state.get("version", VERSION) > VERSION:
        raise CheckpointError(
            f"checkpoint {str(directory)!r}: written by a newer axon (checkpoint version "
            f"{state['version']}, this axon reads up to {VERSION})"
        )
    has_optimizer = (directory / "optimizer.json").is_file()
    optimizer = load_state(directory, "optimizer") if has_optimizer else None
    return Checkpoint(directory, model_state, optimizer, state)
