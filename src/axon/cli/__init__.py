"""The ``axon`` command line.

    axon train CONFIG.toml [--set key=value ...] [--resume RUN_DIR] [--name NAME]
    axon eval RUN_DIR
    axon generate RUN_DIR --prompt TEXT --tokens N [--temperature T --top-k K --top-p P --seed S]
    axon datasets
    axon embed "text" ... [--pairwise]
    axon demo
    axon --version

A user's mistake (an unknown config key, a value of the wrong type, a missing
data set or optional package, a corrupt or missing checkpoint) prints one line
naming the problem and exits with status 2, before anything is written;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    from importlib.metadata import version

    p = argparse.ArgumentParser(prog="axon", description="Train, evaluate and sample axon models.")
    p.add_argument("--version", action="version", version=f"axon {version('axon')}")
    p.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model from a TOML config")
    t.add_argument("config")
    t.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set optim.lr=3e-4",
    )
    t.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run exactly")
    t.add_argument("--name", help="the run's name (default: the config's)")

    e = sub.add_parser("eval", help="evaluate a trained run on its validation data")
    e.add_argument("run_dir")

    g = sub.add_parser("generate", help="sample text from a trained language model")
    g.add_argument("run_dir")
    g.add_argument("--prompt", default="\n")
    g.add_argument("--tokens", type=int, default=200)
    g.add_argument("--temperature", type=float, default=0.8)
    g.add_argument("--top-k", type=int, default=None)
    g.add_argument("--top-p", type=float, default=None)
    g.add_argument("--seed", type=int, default=None)

    sub.add_parser("datasets", help="list the data sets and whether they are available offline")

    m = sub.add_parser("embed", help="sentence embeddings with all-MiniLM-L6-v2")
    m.add_argument("texts", nargs="+")
    m.add_argument("--pairwise", action="store_true", help="print cosine similarities instead")

    d = sub.add_parser("demo", help="train a CNN on MNIST-1D and a GPT on Shakespeare (~5 min)")
    d.add_argument("--runs-dir", default="runs")
    return p


def _user_errors() -> tuple:
    """Exception types that mean the user must fix something (not an axon bug)."""
    from axon.cli.config import ConfigError
    from axon.data.datasets import DownloadError
    from axon.train.checkpoint import CheckpointError

    return (
        ConfigError,
        CheckpointError,
        DownloadError,
        FileNotFoundError,
        FileExistsError,
        ImportError,
    )


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    from axon.cli import commands

    run = {
        "train": commands.cmd_train,
        "eval": commands.cmd_eval,
        "generate": commands.cmd_generate,
        "datasets": commands.cmd_datasets,
        "embed": commands.cmd_embed,
        "demo": commands.cmd_demo,
    }[args.command]
    try:
        return run(args)
    except _user_errors() as error:
        if args.debug:
            raise
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"axon {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"axon {args.command}: interrupted", file=sys.stderr)
        return 130


def entry_point() -> None:
    sys.exit(main())
