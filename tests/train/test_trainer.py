"""Trainer: learning, accumulation, clipping, evaluation, schedulers, logs and progress output."""

from __future__ import annotations

import json

import numpy as np
import pytest

import axon
from axon import nn
from axon.data import DataLoader, TensorDataset
from axon.train import ProgressBar, Trainer, read_records
from tests.train.conftest import blobs, mlp


def test_fit_reaches_high_accuracy_on_a_separable_problem(make_trainer):
    model = mlp()
    opt = axon.optim.Adam(model.parameters(), lr=0.05)
    trainer = make_trainer(model=model, optimizer=opt, max_epochs=4)
    logs = trainer.fit()
    assert logs["val_accuracy"] >= 0.95
    assert logs["accuracy"] >= 0.9
    assert trainer.step == 4 * 8 and trainer.epoch == 4
    assert trainer.evaluate()["accuracy"] == logs["val_accuracy"]


def _params(model) -> list[np.ndarray]:
    return [p.data.copy() for p in model.parameters()]


@pytest.mark.parametrize("n", [64, 40])  # 40: the last group holds one micro-batch of 8
def test_grad_accumulation_k2_equals_one_step_with_twice_the_batch(n):
    x, y = blobs(n).arrays
    runs = []
    for batch, k in ((8, 2), (16, 1)):
        model = mlp(seed=3)
        opt = axon.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        data = DataLoader(TensorDataset(x, y), batch_size=batch)
        trainer = Trainer(
            model, opt, nn.CrossEntropyLoss(), data, grad_accumulation=k, max_epochs=2,
            run_dir=False, progress=False, log_every=1,
        )  # fmt: skip
        trainer.fit()
        runs.append((trainer, _params(model)))
    (acc, p_acc), (big, p_big) = runs
    assert acc.step == big.step == 2 * -(-n // 16)
    for a, b in zip(p_acc, p_big, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    losses = [[r["loss"] for r in t.history if r["split"] == "train"] for t in (acc, big)]
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)


def test_grad_clipping_limits_the_update_and_logs_the_norm():
    model = mlp()
    before = _params(model)
    opt = axon.optim.SGD(model.parameters(), lr=1.0)
    data = DataLoader(blobs(32), batch_size=32)
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), data, grad_clip=1e-3, max_steps=1,
                      run_dir=False, progress=False, log_every=1)  # fmt: skip
    trainer.fit()
    delta = np.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(_params(model), before, strict=True)))
    assert delta == pytest.approx(1e-3, rel=1e-3)
    (record,) = [r for r in trainer.history if r["split"] == "train"]
    assert record["grad_norm"] > 1e-3  # the norm before clipping


def test_evaluate_runs_in_eval_mode_without_grad_and_restores_train_mode(make_trainer):
    trainer = make_trainer()
    seen = []
    trainer.model.register_forward_hook(
        lambda m, args, out: seen.append((m.training, axon.is_grad_enabled()))
    )
    metrics = trainer.evaluate()
    assert set(metrics) == {"loss", "accuracy"}
    assert seen and all(s == (False, False) for s in seen)
    assert trainer.model.training
    out = trainer.predict(blobs(50).arrays[0])
    assert out.shape == (50, 2)
    assert trainer.model.training


def test_non_tty_progress_prints_one_line_per_epoch(make_trainer, capsys):
    make_trainer(max_epochs=3, progress=True).fit()
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    for i, line in enumerate(lines, 1):
        assert line.startswith(f"epoch {i}/3 | step {8 * i} | loss ")
        assert "val_accuracy" in line and "samples/s" in line and "lr " in line


def test_non_tty_progress_prints_mid_epoch_evals(make_trainer, capsys):
    make_trainer(max_epochs=1, eval_every=4, progress=True).fit()
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(" |")[0] for line in lines] == ["eval  step 4", "eval  step 8", "epoch 1/1"]


def test_bar_mode_draws_a_tqdm_bar(make_trainer):
    import io

    buf = io.StringIO()
    trainer = make_trainer(max_epochs=2, callbacks=[ProgressBar("bar", file=buf)])
    trainer.fit()
    text = buf.getvalue()
    assert "epoch 1/2" in text and "epoch 2/2" in text and "8/8" in text and "lr " in text


def test_metrics_jsonl_and_config(make_trainer, tmp_path):
    trainer = make_trainer(max_epochs=2, log_every=3, config={"model": "mlp", "lr": 0.05})
    trainer.fit()
    run = tmp_path / "run"
    assert json.loads((run / "config.json").read_text()) == {"model": "mlp", "lr": 0.05}
    lines = (run / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert records == trainer.history == read_records(run / "metrics.jsonl")
    train = [r for r in records if r["split"] == "train"]
    assert [r["step"] for r in train] == [3, 6, 9, 12, 15]
    for r in train:
        assert {"epoch", "loss", "accuracy", "lr", "samples_per_s", "time"} <= set(r)
    assert [r["step"] for r in records if r["split"] == "val"] == [8, 16]
    epochs = [r for r in records if r["split"] == "epoch"]
    assert [(r["epoch"], r["step"]) for r in epochs] == [(1, 8), (2, 16)]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "lr"} <= set(epochs[0])


def test_default_run_dir_is_a_timestamp_under_runs_root(make_trainer, tmp_path):
    trainer = make_trainer(run_dir=None, runs_root=tmp_path / "runs", max_epochs=1)
    trainer.fit()
    (run,) = (tmp_path / "runs").iterdir()
    assert trainer.run_dir == run and run.name[:2] == "20"
    assert {p.name for p in run.iterdir()} >= {"config.json", "metrics.jsonl", "checkpoints"}
    second = make_trainer(run_dir=None, runs_root=tmp_path / "runs", max_epochs=1)
    second.fit()
    assert second.run_dir != run  # never two runs in one directory


def test_scheduler_steps_per_optimizer_step(make_trainer):
    model = mlp()
    opt = axon.optim.SGD(model.parameters(), lr=0.1)
    sched = axon.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
    trainer = make_trainer(model=model, optimizer=opt, scheduler=sched, max_epochs=2, log_every=1)
    trainer.fit()
    lrs = [r["lr"] for r in trainer.history if r["split"] == "train"]
    assert lrs == [0.1 * 0.5 ** (i // 5) for i in range(16)]  # the lr each step used
    assert sched.last_epoch == 16


def test_reduce_on_plateau_steps_per_eval_with_the_monitored_metric(make_trainer):
    model = mlp()
    opt = axon.optim.SGD(model.parameters(), lr=0.0)  # nothing learns: val_loss never improves
    sched = axon.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5, eps=0.0)
    opt.param_groups[0]["lr"] = 1e-9
    trainer = make_trainer(model=model, optimizer=opt, scheduler=sched, max_epochs=3, eval_every=4)
    trainer.fit()
    assert sched.last_epoch == 6  # one step per evaluation (every 4 steps of 24)
    assert opt.param_groups[0]["lr"] < 1e-9


def test_max_steps_stops_mid_epoch_and_evaluates_at_the_end(make_trainer):
    trainer = make_trainer(max_epochs=None, max_steps=5)
    logs = trainer.fit()
    assert trainer.step == 5 and trainer.epoch == 1 and not trainer.epoch_done
    assert "val_loss" in logs
    assert [r["step"] for r in trainer.history if r["split"] == "val"] == [5]


def test_plain_iterables_and_tuple_inputs_work():
    """Any iterable of (inputs, targets) batches; a tuple of inputs goes to model(*inputs)."""

    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(2, 2), nn.Linear(2, 2)

        def forward(self, x1, x2):
            return self.a(x1) + self.b(x2)

    x, y = blobs(32).arrays
    batches = [((axon.tensor(x[i : i + 8]), axon.tensor(x[i : i + 8])), axon.tensor(y[i : i + 8]))
               for i in range(0, 32, 8)]  # fmt: skip
    model = Two()
    trainer = Trainer(model, axon.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(),
                      batches, batches, max_epochs=2, run_dir=False, progress=False)  # fmt: skip
    logs = trainer.fit()
    assert trainer.step == 8 and "val_accuracy" in logs
    assert trainer.predict(batches).shape == (32, 2)


def test_bad_arguments_are_named():
    model = mlp()
    opt = axon.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="grad_accumulation"):
        Trainer(model, opt, nn.CrossEntropyLoss(), [], grad_accumulation=0)
    with pytest.raises(ValueError, match="no train_data"):
        Trainer(model, opt, nn.CrossEntropyLoss(), run_dir=False).fit()
    trainer = Trainer(
        model, opt, nn.CrossEntropyLoss(), [axon.zeros(3)], run_dir=False, progress=False
    )
    with pytest.raises(ValueError, match=r"batches of \(inputs, targets\)"):
        trainer.fit()


def test_a_fresh_fit_refuses_a_directory_that_holds_a_run(make_trainer, tmp_path):
    make_trainer(max_epochs=1).fit()
    with pytest.raises(FileExistsError, match="already holds a run"):
        make_trainer(max_epochs=1).fit()


def test_fit_again_with_more_epochs_continues_the_same_run(make_trainer):
    trainer = make_trainer(max_epochs=1)
    trainer.fit()
    trainer.max_epochs = 3
    trainer.fit()
    assert trainer.epoch == 3 and trainer.step == 24
    assert [r["epoch"] for r in read_records(trainer.run_dir / "metrics.jsonl")
            if r["split"] == "epoch"] == [1, 2, 3]  # fmt: skip


def test_metrics_log_drops_a_torn_last_line(tmp_path):
    from axon.train.runlog import RunLog

    path = tmp_path / "metrics.jsonl"
    path.write_text('{"split": "train", "step": 1}\n{"split": "tr')  # killed mid-line
    log = RunLog(path)
    assert log.records == [{"split": "train", "step": 1}]
    log.append({"split": "train", "step": 2})
    assert [r["step"] for r in read_records(path)] == [1, 2]


def test_evaluate_is_exact_over_an_uneven_last_batch(make_trainer):
    trainer = make_trainer()
    trainer.fit()
    data = blobs(70, seed=7)
    in_batches = trainer.evaluate(DataLoader(data, batch_size=32))  # 32 + 32 + 6
    at_once = trainer.evaluate(DataLoader(data, batch_size=70))
    assert in_batches["accuracy"] == at_once["accuracy"]
    assert in_batches["loss"] == pytest.approx(at_once["loss"], rel=1e-6)


def test_language_model_outputs_and_perplexity():
    """(B, T, V) logits with (B, T) targets: accuracy and perplexity read the last axis."""
    V, T = 11, 6

    class Bigram(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(V, V)

        def forward(self, idx):
            return self.emb(idx)  # (B, T, V)

    def loss_fn(logits, y):
        return nn.functional.cross_entropy(logits.reshape(-1, V), y.reshape(-1))

    rng = np.random.default_rng(0)
    x = rng.integers(0, V, (64, T))
    y = (x + 1) % V  # next token = this token + 1
    data = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    model = Bigram()
    trainer = Trainer(model, axon.optim.Adam(model.parameters(), lr=0.1), loss_fn, data, data,
                      metrics=("loss", "accuracy", "perplexity", "top3"), max_epochs=5,
                      run_dir=False, progress=False)  # fmt: skip
    logs = trainer.fit()
    assert logs["val_accuracy"] == 1.0 and logs["val_top3_accuracy"] == 1.0
    assert logs["val_perplexity"] == pytest.approx(np.exp(logs["val_loss"]), rel=1e-5)
    assert 1.0 <= logs["val_perplexity"] < 1.5
