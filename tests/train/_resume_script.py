"""A small training run for the resume tests, run as a subprocess.

    python _resume_script.py RUN_DIR [--hang-at STEP] [--resume]

Trains a 2-16-2 MLP with dropout on two spirals (shuffled, prefetched), Adam
with a cosine schedule, checkpointing every 5 steps, logging every step's
loss to RUN_DIR/metrics.jsonl. ``--hang-at S`` prints "HANG" and sleeps at the
end of step S, so the test can SIGKILL it at a known point. ``--resume``
continues RUN_DIR from its last checkpoint.
"""

from __future__ import annotations

import argparse
import sys
import time

import axon
from axon import nn
from axon.data import DataLoader, datasets
from axon.train import Callback, ModelCheckpoint, Trainer


class Hang(Callback):
    def __init__(self, step: int):
        self.at = step

    def on_step_end(self, trainer, step, logs):
        if step == self.at:
            print("HANG", flush=True)
            time.sleep(600)


def build(run_dir: str, hang_at: int | None) -> Trainer:
    axon.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))
    train = DataLoader(
        datasets.synthetic.spirals(200, seed=0), batch_size=16, shuffle=True, prefetch=2
    )
    val = DataLoader(datasets.synthetic.spirals(64, seed=1), batch_size=32)
    opt = axon.optim.Adam(model.parameters(), lr=1e-2)
    sched = axon.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=39)
    callbacks = [ModelCheckpoint(every_n_steps=5)] + ([Hang(hang_at)] if hang_at else [])
    return Trainer(
        model, opt, nn.CrossEntropyLoss(), train, val, scheduler=sched, callbacks=callbacks,
        max_epochs=3, log_every=1, run_dir=run_dir, seed=1, progress=False, report=False,
    )  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir")
    parser.add_argument("--hang-at", type=int)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args()
    trainer = build(args.run_dir, args.hang_at)
    trainer.fit(resume_from=args.run_dir if args.resume else None)
    print("DONE", trainer.step, flush=True)
    sys.exit(0)
