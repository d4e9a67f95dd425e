"""``weight_decay_groups``: decay the weight matrices, not the biases and norm scales."""

from __future__ import annotations

from collections.abc import Iterable

from axon.tensor import Tensor


def weight_decay_groups(named_parameters: Iterable, weight_decay: float) -> list[dict]:
    """Split parameters into a decayed group and a group with ``weight_decay=0``.

    Parameters with 2 or more dims (weight matrices, embeddings, conv
    kernels) get ``weight_decay``; those with fewer (biases, LayerNorm and
    BatchNorm weights) get none, since shrinking them toward zero only hurts
    (as nanoGPT's ``configure_optimizers``). Parameters with
    ``requires_grad=False`` are left out, and a parameter listed twice (tied
    weights) is kept once.

    Args:
        named_parameters: ``(name, tensor)`` pairs, e.g. ``model.named_parameters()``
            (bare tensors are accepted too).
        weight_decay: the decay for the first group.

    Returns:
        ``[{"params": [...2-D+...], "weight_decay": weight_decay},
        {"params": [...1-D/0-D...], "weight_decay": 0.0}]``, always both
        groups in this order (either may be empty), ready for any optimizer.

    Example::

        >>> groups = weight_decay_groups(model.named_parameters(), weight_decay=0.1)
        >>> opt = axon.optim.AdamW(groups, lr=6e-4, betas=(0.9, 0.95))
    """
    decay: list[Tensor] = []
    no_decay: list[Tensor] = []
    seen: set[int] = set()
    for item in named_parameters:
        p = item if isinstance(item, Tensor) else item[1]
        if not isinstance(p, Tensor):
            raise TypeError(f"weight_decay_groups: expected (name, Tensor) pairs, got {item!r:.80}")
        if not p.requires_grad or id(p) in seen:
            continue
        seen.add(id(p))
        (decay if p.ndim >= 2 else no_decay).append(p)
    return [
        {"params": decay, "weight_decay": float(weight_decay)},
        {"params": no_decay, "weight_decay": 0.0},
    ]
