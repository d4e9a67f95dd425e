"""``Optimizer``: the bookkeeping every optimizer shares.

An optimizer is two things (the MLX split):

- bookkeeping, here: parameter groups with their own hyperparameters,
  per-parameter state created on first use, ``zero_grad``, ``step`` and a
  ``state_dict`` that resumes a run exactly;
- a pure per-parameter update, in each optimizer's file: a function over
  NumPy arrays (``sgd_update``, ``adam_update`` ...) that changes the
  parameter and its state buffers in place.

Updates read ``p.data`` and ``p.grad.data`` (NumPy arrays) and write
``p.data`` in place, so no autograd graph is ever recorded and every view of
the weights sees the new values. State buffers are allocated once and
updated in place; float32 parameters stay float32.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np

from axon.autograd.grad_mode import enable_grad
from axon.tensor import Tensor


class Optimizer:
    """Base class: parameter groups, lazily created state, ``step``, ``state_dict``.

    Subclasses set ``defaults`` and implement two methods:

    - ``_validate(group)``: raise ``ValueError`` for a bad hyperparameter
      (called for the defaults and for every group added);
    - ``_update(param, grad, state, group)``: one step for one parameter, on
      NumPy arrays, in place. ``state`` is that parameter's dict; it is empty
      the first time, so the update creates its buffers then.

    Args:
        params: an iterable of Tensors, or of dicts (param groups) each with a
            ``"params"`` entry and any hyperparameters that override ``defaults``.
        defaults: the hyperparameters a group gets when it doesn't set them.

    Example::

        >>> opt = axon.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.1}], lr=0.01)
        >>> loss.backward(); opt.step(); opt.zero_grad()
    """

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self._validate(self.defaults)
        self.state: defaultdict = defaultdict(dict)  # Tensor -> its state dict
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, "
                "got a single Tensor; wrap it in a list"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own hyperparameters (e.g. a layer to unfreeze).

        Missing hyperparameters come from ``defaults``; a parameter may be in
        only one group.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{name}: a param group must be a dict, got {type(param_group).__name__}"
            )
        group = dict(param_group)
        params = group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                f"{name}: parameters must be an ordered collection (list, tuple), not a set, "
                "so that state_dict indices are stable between runs"
            )
        elif params is None:
            raise ValueError(f"{name}: a param group needs a 'params' entry")
        group["params"] = list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimize axon Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf tensor (shape {p.shape})")
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        self._validate(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in group["params"]}) != len(group["params"]) or any(
            id(p) in seen for p in group["params"]
        ):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def _validate(self, group: dict) -> None:
        """Raise ``ValueError`` for a bad hyperparameter in ``group`` (subclasses)."""

    def _check(self, ok: bool, what: str, value, rule: str) -> None:
        """Raise ``ValueError('Adam: invalid learning rate -1.0 (must be >= 0)')`` unless ``ok``."""
        if not ok:
            raise ValueError(f"{type(self).__name__}: invalid {what} {value!r} (must be {rule})")

    # -------------------------------------------------------------- steps
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to ``None`` (default, frees memory) or to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif p.grad.data.flags.writeable:
                    p.grad.data.fill(0)
                    p.grad._vc[0] += 1
                else:  # a read-only array someone assigned (e.g. a broadcast view)
                    p.grad = Tensor._make(np.zeros_like(p.grad.data))

    def step(self, closure: Callable | None = None):
        """Update every parameter that has a gradient; return ``closure()``'s loss if given.

        Args:
            closure: re-evaluates the model and returns the loss (called with
                gradients enabled, before the update), as in PyTorch.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                self._update(p.data, p.grad.data, self.state[p], group)
                # The weights changed in place: bump the version so a graph
                # that saved them for backward refuses to use stale values.
                p._vc[0] += 1
        return loss

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        raise NotImplementedError(f"{type(self).__name__} has no _update")

    # -------------------------------------------------------- state dicts
    def state_dict(self) -> dict:
        """The optimizer's state as plain data: ``{"state": ..., "param_groups": ...}``.

        Parameters are named by their index over all groups in order, as in
        PyTorch: ``state`` maps index -> that parameter's dict (NumPy arrays
        and Python numbers), ``param_groups`` holds each group's
        hyperparameters with ``"params"`` replaced by the indices. The arrays
        are the live buffers (as in PyTorch): save or copy them before the
        next ``step()`` if you need a snapshot.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index and s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore state and hyperparameters saved by ``state_dict()`` (copies the arrays).

        The optimizer must have been built over the same parameters in the
        same order. Floating-point buffers are cast to their parameter's dtype.
        """
        name = type(self).__name__
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the saved state has {len(saved_groups)} parameter groups, "
                f"this optimizer has {len(self.param_groups)}"
            )
        by_index: dict[int, Tensor] = {}
        new_groups = []
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {i} has {len(group['params'])} "
                    f"parameters, the saved group has {len(saved['params'])}"
                )
            by_index.update(zip(saved["params"], group["params"], strict=True))
            new_groups.append(
                {**{k: v for k, v in saved.items() if k != "params"}, "params": group["params"]}
            )
        self.state = defaultdict(dict)
        for idx, saved_state in state_dict["state"].items():
            p = by_index.get(int(idx))
            if p is not None:
                self.state[p] = {
                    k: _copy_state_value(v, p.data.dtype) for k, v in saved_state.items()
                }
        self.param_groups = new_groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join([*lines, ")"])


def _copy_state_value(value, dtype: np.dtype):
    """A private copy of one saved state entry; float arrays take the parameter's dtype."""
    if isinstance(value, np.ndarray):
        target = dtype if value.dtype.kind == "f" and dtype.kind == "f" else value.dtype
        return np.array(value, dtype=target, copy=True)
    return value


def decayed_grad(
    param: np.ndarray, grad: np.ndarray, weight_decay: float, maximize: bool
) -> np.ndarray:
    """The gradient the update follows: ``+-grad + weight_decay * param``.

    Returns ``grad`` itself (never written to) when there is nothing to add,
    otherwise a new array, so the caller's ``.grad`` is never changed.
    """
    if weight_decay == 0 and not maximize:
        return grad
    d = np.multiply(param, weight_decay, out=np.empty_like(param))  # out=: stays an array when 0-d
    if maximize:
        d -= grad
    else:
        d += grad
    return d
