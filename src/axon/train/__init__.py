"""``axon.train``: the training loop and everything around it.

- ``Trainer``: fit / evaluate / predict, gradient accumulation and clipping,
  schedulers, logging to ``runs/<name>/metrics.jsonl``, exact resume
- ``callbacks``: ``Callback``, ``EarlyStopping``, ``ModelCheckpoint``,
  ``NaNGuard``, ``LRLogger``, ``ProgressBar``
- ``metrics``: loss, accuracy, top-k accuracy, perplexity, MSE (sums and
  counts, exact over uneven batches)
- ``checkpoint``: atomic checkpoint directories (``save_checkpoint``,
  ``load_checkpoint``, ``CheckpointError``)
- ``report``: the self-contained report.html

Sits above everything else (nn, optim, data): it imports them, none imports it.

Example::

    >>> from axon.train import Trainer, EarlyStopping
    >>> trainer = Trainer(model, opt, nn.CrossEntropyLoss(), train_loader, val_loader,
    ...                   max_epochs=20, callbacks=[EarlyStopping("val_loss", patience=3)])
    >>> trainer.fit()
"""

from axon.train.callbacks import Callback, EarlyStopping, LRLogger, ModelCheckpoint, NaNGuard
from axon.train.checkpoint import (
    Checkpoint,
    CheckpointError,
    find_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from axon.train.metrics import (
    Accuracy,
    Loss,
    MeanSquaredError,
    Metric,
    MetricTracker,
    Perplexity,
    TopKAccuracy,
    accuracy,
    get_metric,
    mse,
    perplexity,
    top_k_accuracy,
)
from axon.train.progress import ProgressBar
from axon.train.report import render_report
from axon.train.runlog import read_records
from axon.train.trainer import Trainer

__all__ = [
    "Accuracy",
    "Callback",
    "Checkpoint",
    "CheckpointError",
    "EarlyStopping",
    "LRLogger",
    "Loss",
    "MeanSquaredError",
    "Metric",
    "MetricTracker",
    "ModelCheckpoint",
    "NaNGuard",
    "Perplexity",
    "ProgressBar",
    "TopKAccuracy",
    "Trainer",
    "accuracy",
    "find_checkpoint",
    "get_metric",
    "load_checkpoint",
    "mse",
    "perplexity",
    "read_records",
    "render_report",
    "save_checkpoint",
    "top_k_accuracy",
]
