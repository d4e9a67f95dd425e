"""Optimizers, learning-rate schedules and gradient clipping (as ``torch.optim``).

    >>> opt = axon.optim.AdamW(axon.optim.weight_decay_groups(model.named_parameters(), 0.1), lr=3e-4)
    >>> sched = axon.optim.lr_scheduler.WarmupCosine(opt, warmup_steps=100, total_steps=5000)
    >>> loss.backward(); axon.optim.clip_grad_norm_(model.parameters(), 1.0)
    >>> opt.step(); opt.zero_grad(); sched.step()

Each optimizer is bookkeeping (``Optimizer``) plus a pure per-parameter
update over NumPy arrays (``sgd_update``, ``adam_update`` ...); each
schedule is a pure ``step -> lr`` function in ``schedules`` with a
PyTorch-style scheduler class in ``lr_scheduler``.
"""

from axon.optim import lr_scheduler, schedules
from axon.optim.adafactor import Adafactor, adafactor_update
from axon.optim.adagrad import Adagrad, adagrad_update
from axon.optim.adam import Adam, AdamW, adam_update
from axon.optim.clip import clip_grad_norm_, clip_grad_value_
from axon.optim.lion import Lion, lion_update
from axon.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
    WarmupCosine,
)
from axon.optim.optimizer import Optimizer
from axon.optim.param_groups import weight_decay_groups
from axon.optim.rmsprop import RMSprop, rmsprop_update
from axon.optim.schedules import warmup_cosine
from axon.optim.sgd import SGD, sgd_update

__all__ = [
    "SGD",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "Lion",
    "MultiStepLR",
    "OneCycleLR",
    "Optimizer",
    "RMSprop",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
    "WarmupCosine",
    "adafactor_update",
    "adagrad_update",
    "adam_update",
    "clip_grad_norm_",
    "clip_grad_value_",
    "lion_update",
    "lr_scheduler",
    "rmsprop_update",
    "schedules",
    "sgd_update",
    "warmup_cosine",
    "weight_decay_groups",
]
