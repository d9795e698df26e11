"""The `lte` command line: train, eval, predict.

lte train --task addition --length 3 --model lstm --strategy combined --hidden 128 --layers 2 --seed 0 --out runs/x
lte eval runs/x
lte predict runs/x 'print(123+456)'
"""

from __future__ import annotations

import argparse
import errno
import functools
import sys
from pathlib import Path

from lte.cli_arguments import (  # noqa: F401 (re-exported)
    FLAG_NAMES,
    WRITE_ERRORS,
    add_config_arguments,
    add_train_parser,
    check_seed,
    config_from_arguments,
)
from lte.cli_commands import (
    run_adding,
    run_bench,
    run_eval,
    run_kind,
    run_migrate_names,
    run_paper_budget,
    run_predict,
    run_profile_runs,
    run_ship_models,
    run_step_times,
    run_sweep,
    run_train,
)
from lte.core.errors import USER_ERRORS
from lte.core.flax_cell import allow_user_cells


def build_parser() -> argparse.ArgumentParser:
    from lte.study.sweep import DEFAULT_ENSEMBLE

    parser = argparse.ArgumentParser(prog="lte", description="learning to execute: IRNN vs LSTM")
    parser.add_argument("--version", action="version", version=f"lte {_version()}")
    parser.add_argument(
        "--allow-user-cells",
        action="store_true",
        help="let records and configs name a cell of "
        "your own (module.path:ClassName) and import it; without it only a cell named with "
        "--model is imported (a downloaded results folder never runs code)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add_train_parser(commands)
    e = commands.add_parser("eval", help="a run's metrics on fresh test data")
    e.add_argument("run", type=Path, help="a run folder (its newest intact checkpoint is evaluated)")
    e.add_argument("--count", type=int, default=1000, help="fresh test examples (default: 1000)")
    e.add_argument("--seed", type=int, default=7, help="seed of the fresh test set (default: 7)")
    pr = commands.add_parser("predict", help="a trained model's answer to a Python program")
    pr.add_argument("run", type=Path, help="a trained run folder (its newest intact checkpoint answers)")
    pr.add_argument("program", nargs="?", help="the program ('\\n' between lines), or - / nothing for stdin")
    sw = commands.add_parser("sweep", help="run every cell of an experiment (skips finished ones)")
    sw.add_argument("experiment", type=Path, help="an experiments/<name>.toml file")
    sw.add_argument(
        "--profile",
        default="default",
        help="quick (a first try, <= 15 min on 2 cores), default (the study) or paper (accelerator scale); "
        "default: default",
    )
    sw.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    sw.add_argument("--yes", action="store_true", help="run a grid of more than 10,000 cells (refused otherwise)")
    sw.add_argument("--results", default="results", help="where run folders and outputs go (default: results)")
    sw.add_argument(
        "--ensemble",
        type=int,
        default=None,
        metavar="K",
        help="train up to K cells of one shape at once in one compiled step (vectorised on "
        f"GPUs, in sequence on CPUs) (default {DEFAULT_ENSEMBLE}: on a CPU the fastest, measured); an experiment's own "
        "[experiment] ensemble wins",
    )
    sw.add_argument("--backend", default="local", help="local (worker processes, default) or ray")
    sw.add_argument(
        "--address", default=None, help="Ray: the address of a running cluster (default: start a local Ray instance)"
    )
    from lte.kinds import KINDS, get_kind

    get_kind("char")  # the built-in kinds registered
    for kind in KINDS.values():  # `lte <kind>`: one run of each kind that declares a command
        if kind.command:
            kind_parser = commands.add_parser(kind.name, help=kind.command)
            kind_parser.add_argument(
                "--out",
                default=None,
                help="the run folder, resumed when run again (default: a temporary one, removed afterwards)",
            )
            add_config_arguments(kind_parser, kind.config_class)
    a = commands.add_parser(
        "adding",
        help="the adding-problem experiment (IRNN vs LSTM vs tanh RNN): lte sweep on its file, then its figure",
    )
    a.add_argument(
        "experiment",
        type=Path,
        nargs="?",
        default=Path("experiments/adding_problem.toml"),
        help="the experiment file (default: experiments/adding_problem.toml)",
    )
    a.add_argument(
        "--profile",
        default="default",
        help="quick (a first try, <= 15 min on 2 cores), default (the study) or paper (accelerator scale); "
        "default: default",
    )
    a.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    a.add_argument("--results", default="results", help="where run folders and outputs go (default: results)")
    st = commands.add_parser(
        "step-times",
        help="each convergence variant's time per step, timed side by side in rotation (question 2's seconds)",
    )
    st.add_argument("--profile", default="default", help="quick, default or paper (default: default)")
    st.add_argument("--results", default="results", help="where the convergence runs are (default: results)")
    st.add_argument("--repeats", type=int, default=7, help="rotations (the median is reported; default: 7)")
    st.add_argument("--steps", type=int, default=100, help="steps timed per variant and rotation (default: 100)")
    pf = commands.add_parser(
        "profile-runs",
        help="where a study run's time goes (setup, steps, batches, "
        "evaluation, checkpoints, records) against its step alone, per shape of the profile",
    )
    pf.add_argument("--profile", default="default", help="whose committed cells are trained (default: default)")
    pf.add_argument("--results", default="results", help="where the committed cells are (default: results)")
    pf.add_argument(
        "--runs", type=int, default=2, help="runs per shape in one worker (the first pays start-up; default 2)"
    )
    pf.add_argument("--steps", type=int, default=None, help="steps per run (default: each cell's own budget)")
    pf.add_argument("--shapes", default=None, help="only these shapes, separated by ';' (default: all)")
    pf.add_argument(
        "--sweep-sample",
        type=int,
        default=None,
        metavar="EVERY",
        help="instead: run every EVERY-th "
        "cell of each experiment as lte sweep would (2 workers) and estimate each whole sweep's time",
    )
    pf.add_argument(
        "--label", default="current", help="the table's name under results/bench/run_profile/ (default: current)"
    )
    pf.add_argument("--out", default=None, help="another folder for the table (default: RESULTS/bench/run_profile)")
    pb = commands.add_parser(
        "paper-budget",
        help="estimate the paper profile's compute (FLOP at its step caps) and its time at measured and assumed "
        "rates: results/bench/paper-budget.md (nothing is trained)",
    )
    pb.add_argument("--results", default="results", help="where the benchmark table is and the estimate goes "
                    "(default: results)")  # fmt: skip
    sm = commands.add_parser(
        "ship-models",
        help="retrain the study's best model per model and task from its record and keep its parameters "
        "(results/models/PROFILE/), so that lte predict answers on a fresh clone",
    )
    sm.add_argument("--profile", default="default", help="whose records (default: default)")
    sm.add_argument("--results", default="results", help="the results folder (default: results)")
    sm.add_argument(
        "--only", action="append", help="only this model-task, e.g. lstm-addition (repeatable; default: all)"
    )
    m = commands.add_parser(
        "migrate-names", help="rename run folders to the current naming rule (records are kept, never retrained)"
    )
    m.add_argument("--results", default="results", help="the results folder (default: results)")
    m.add_argument("--experiment", action="append", help="only this experiment (repeatable; default: all)")
    m.add_argument("--profile", action="append", help="only this profile (repeatable; default: all)")
    b = commands.add_parser("bench", help="training-step speed of every cell, beside PyTorch when installed")
    b.add_argument(
        "--tiny",
        action="store_true",
        help="one tiny shape (checks that the benchmark works); writes to a temporary folder unless --out is given",
    )
    b.add_argument(
        "--full",
        action="store_true",
        help="every cell, the study's shapes and Zaremba's 2 x 400 "
        "(default: LSTM and IRNN at the study's shapes, a few minutes on a CPU)",
    )
    b.add_argument("--cells", help="comma-separated cells to time (default: lstm,irnn; --full: all)")
    b.add_argument("--shapes", help="comma-separated LAYERSxHIDDEN:BATCH:STEPS, e.g. 1x64:32:32,2x128:100:144")
    b.add_argument(
        "--autodiff",
        action="store_true",
        help="also time plain autodiff's step beside the fused gradient's (on with --full)",
    )
    b.add_argument(
        "--repeats", type=int, default=7, help="timed blocks per step, in rotation (the median is reported; default 7)"
    )
    b.add_argument(
        "--out",
        help="where the tables go (default: results/bench for a complete run, a temporary "
        "folder for a tiny or filtered one)",
    )
    b.add_argument(
        "--figures-only",
        action="store_true",
        help="time nothing: redraw the figure of every table in results/bench (or --out) from its CSVs",
    )
    return parser


def _version() -> str:
    """The installed package's version, with the commit of the checkout it runs from when there is one."""
    from importlib.metadata import PackageNotFoundError, version

    from lte.core.provenance import git_commit

    try:
        installed = version("lte")
    except PackageNotFoundError:
        installed = "(not installed)"
    commit = git_commit()
    if not commit:
        return installed
    return f"{installed} ({commit[:12]}{'-dirty' if commit.endswith('-dirty') else ''})"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.allow_user_cells:
        allow_user_cells()
    from lte.core.runtime import enable_compilation_cache

    enable_compilation_cache()  # a second run of the same shapes skips compilation
    handlers = {
        "train": run_train,
        "eval": run_eval,
        "predict": run_predict,
        "sweep": run_sweep,
        "bench": run_bench,
        "adding": run_adding,
        "step-times": run_step_times,
        "profile-runs": run_profile_runs,
        "paper-budget": run_paper_budget,
        "migrate-names": run_migrate_names,
        "ship-models": run_ship_models,
    }
    run = handlers.get(args.command) or functools.partial(run_kind, args.command)  # a kind's own command
    try:
        return run(args)
    except USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a full disk, a read-only one, a place not ours to write: one line, not a traceback
        if error.errno not in WRITE_ERRORS:
            raise
        where = f"{error.filename}: " if error.filename else ""
        print(f"error: {where}{error.strerror or error}{WRITE_ERRORS[error.errno]}", file=sys.stderr)
        return 1 if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) else 2
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
