"""The `lte` command line: train, eval, predict.

lte train --task addition --length 3 --model lstm --strategy combined --hidden 128 --layers 2 --seed 0 --out runs/x
lte eval runs/x
lte predict runs/x 'print(123+456)'
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import sys
import types
from pathlib import Path

from data_gen.tasks import default_nesting
from lte.core.console import log_to_stderr
from lte.core.errors import USER_ERRORS, LteError
from lte.core.flax_cell import allow_user_cells

# what a write can meet that is no bug of the package, and what to do about it (1: the run failed for now,
# resumable; else 2: a place the user named cannot be written)
WRITE_ERRORS = {
    errno.ENOSPC: "; free some space and run the same command again to resume",
    errno.EDQUOT: "; free some space and run the same command again to resume",
    errno.EFBIG: "; free some space and run the same command again to resume",
    errno.EROFS: "; write to a folder on a writable disk",
    errno.EACCES: "; write to a folder of yours",
    errno.EPERM: "; write to a folder of yours",
}
MAX_SEED = 2**32 - 1  # what numpy and JAX take as a seed
MAX_EVAL_COUNT = 1_000_000  # test examples of one `lte eval` (all are generated and held in memory at once)


def check_seed(seed: int, flag: str = "--seed") -> int:
    """`seed` if it is in 0..2**32-1, else an LteError naming it (checked before any config is built)."""
    if not 0 <= seed <= MAX_SEED:
        raise LteError(f"{flag} {seed}: a seed must be an integer in 0..{MAX_SEED} (2**32-1)")
    return seed


def check_out_folder(value: str, flag: str = "--out") -> Path:
    """The folder `value` names: not empty, neither it nor a folder above it an existing file, and writable
    (checked before any work: a file is made and removed in it, or in the folder above that will hold it)."""
    import tempfile

    if not value.strip():
        raise LteError(f"{flag} is empty: give the folder to write to")
    path = Path(value)
    for part in (path, *path.parents):
        if part.exists() and not part.is_dir():
            raise LteError(f"{flag} {value}: {part} is an existing file, not a folder")
    existing = next(part for part in (path, *path.parents) if part.exists())
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".lte-write-check-")
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise LteError(
            f"{flag} {value}: {existing} cannot be written ({error.strerror or error}); "
            f"choose a folder you can write to"
        ) from None
    return path


def _nesting(args) -> int:
    """--nesting, or the task's own default (3 for programs, 1 for tasks without nesting)."""
    return args.nesting if args.nesting is not None else default_nesting(args.task)


def check_count(count: int, flag: str = "--count") -> int:
    if count < 1:
        raise LteError(f"{flag} {count}: the number of test examples must be a positive integer")
    if count > MAX_EVAL_COUNT:
        raise LteError(
            f"{flag} {count}: at most {MAX_EVAL_COUNT} test examples in one evaluation "
            f"(they are all generated and held in memory)"
        )
    return count


def load_run_config(run: Path):
    """A run folder's config; a config.json that cannot be read as one is an LteError naming the file."""
    from lte.core.train import load_config

    path = Path(run) / "config.json"
    try:
        return load_config(run)
    except (ValueError, TypeError, AttributeError, OSError, RecursionError) as error:  # LteError is a ValueError
        if not path.exists():
            raise  # "... is not a run folder (no config.json)"
        raise LteError(f"{path} is not a valid run config: {_config_problem(path, error)}") from None


def _config_problem(path: Path, error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(error, json.JSONDecodeError):
        return f"not valid JSON ({error})"
    if isinstance(error, OSError):
        return error.strerror or type(error).__name__
    from lte.core.run_folder import read_record

    try:
        data = json.loads(read_record(path))
    except (ValueError, OSError, RecursionError):  # read_record's LteError (a device, a pipe) is a ValueError
        data = {}
    if not isinstance(data, dict):
        return f"a JSON object of settings is expected, it holds {type(data).__name__ if data is not None else 'null'}"
    return " ".join(str(error).split()) or type(error).__name__


# flags whose name differs from their config field (kept for the commands people already use)
FLAG_NAMES = {"learning_rate": "lr"}


def _parse_bool(text: str) -> bool:
    if text.lower() in ("true", "yes", "1"):
        return True
    if text.lower() in ("false", "no", "0"):
        return False
    raise argparse.ArgumentTypeError(f"{text!r}: expected true or false")


def add_config_arguments(parser: argparse.ArgumentParser, config_class) -> None:
    """One flag per field of `config_class`, generated from the field: its type, its default and its help and
    allowed values (the field's metadata, lte.core.config.setting)."""
    import dataclasses
    import typing

    hints = typing.get_type_hints(config_class)
    for f in dataclasses.fields(config_class):
        flag = "--" + FLAG_NAMES.get(f.name, f.name).replace("_", "-")
        kind, optional = hints[f.name], False
        if typing.get_origin(kind) in (typing.Union, types.UnionType):
            kind, optional = next(a for a in typing.get_args(kind) if a is not type(None)), True
        help_text = f.metadata.get("help", "")
        choices = f.metadata.get("choices")
        if choices:
            help_text += f"; one of {', '.join(map(str, choices))}"
        if f.name == "nesting":  # the task decides (data_gen.tasks.default_nesting)
            parser.add_argument(
                flag,
                dest=f.name,
                type=int,
                default=None,
                help=f"{help_text} (default: the task's own, programs 3, others 1)",
            )
        elif kind is bool and not optional:
            parser.add_argument(flag, dest=f.name, action="store_true", help=help_text)
        else:
            parse = _parse_bool if kind is bool else kind
            parser.add_argument(
                flag,
                dest=f.name,
                type=parse,
                default=f.default,
                metavar="{true,false}" if kind is bool else f.name.upper(),
                help=f"{help_text} (default: {f.default})",
            )


def config_from_arguments(args: argparse.Namespace, config_class):
    """The config the flags of add_config_arguments describe (its own checks give clear errors)."""
    import dataclasses

    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(config_class)}
    return config_class(**values)


def _train_parser(commands) -> None:
    from lte.core.config import TrainConfig

    p = commands.add_parser("train", help="train a model (or resume the run in --out)")
    p.add_argument("--out", required=True, help="the run folder")
    p.add_argument(
        "--cpu-devices",
        type=int,
        default=1,
        metavar="N",
        help="split each batch's rows over N CPU devices, one core each (a single run on a CPU with "
        "N cores; the same gradient up to rounding); default 1",
    )
    p.add_argument(
        "--checkpoint-every",
        type=float,
        default=None,
        metavar="SECONDS",
        help="seconds between checkpoints, saved at an evaluation (also at the end and when "
        "interrupted; 0: at every evaluation); default 30",
    )
    add_config_arguments(p, TrainConfig)


def _run_train(args) -> int:
    from lte.core.config import TrainConfig
    from lte.core.data_parallel import check_data_parallel, use_cpu_devices
    from lte.core.train import CHECKPOINT_SECONDS, train

    out = check_out_folder(args.out)
    check_seed(args.seed)
    if args.model and ":" in args.model:  # named on the command line: the user's own cell
        allow_user_cells(args.model)
    args.nesting = _nesting(args)
    config = config_from_arguments(args, TrainConfig)
    if args.cpu_devices != 1:  # checked before JAX starts: it can be asked for devices only then
        check_data_parallel(config.model_config(), config.batch_size, args.cpu_devices)
        use_cpu_devices(args.cpu_devices)
    if args.checkpoint_every is not None and not (0 <= args.checkpoint_every < float("inf")):
        raise LteError(f"--checkpoint-every must be a number of seconds >= 0, got {args.checkpoint_every}")
    every = CHECKPOINT_SECONDS if args.checkpoint_every is None else args.checkpoint_every
    summary = train(config, out, cpu_devices=args.cpu_devices, checkpoint_every=every)
    print(
        json.dumps(
            {k: summary[k] for k in ("stop_reason", "steps", "wall_time")}
            | {k: summary["final"].get(k) for k in ("test_char_accuracy", "test_exact_match")}
        )
    )
    if summary["stop_reason"] == "diverged":
        print(f"lte train: the run diverged at step {summary['steps']} (recorded in {out})", file=sys.stderr)
        return 1
    return 0


def _run_eval(args) -> int:
    from lte.core.data import eval_layout, make_test_set
    from lte.core.train import evaluate, load_params, make_eval_fns

    check_count(args.count)
    check_seed(args.seed)
    config = load_run_config(args.run)
    params = load_params(args.run, config, log=log_to_stderr)
    if args.count > 10_000:
        log_to_stderr(f"generating {args.count:,} test examples")
    test = make_test_set(config, size=args.count, seed=args.seed)
    counts_fn, decode_fn = make_eval_fns(config.model_config(), eval_layout(config)[1])
    metrics = evaluate(params, test, counts_fn, decode_fn, log=log_to_stderr)
    print(
        json.dumps(
            {
                "run": str(args.run),
                "examples": args.count,
                "seed": args.seed,
                "level": [config.length, config.nesting],
                **metrics,
            }
        )
    )
    return 0


def _run_predict(args) -> int:
    from lte.core.predict import check_program, predict
    from lte.core.train import load_params

    source = sys.stdin.read() if args.program in (None, "-") else args.program
    check_program(source)  # refuses anything outside the generator's grammar before the run is loaded
    config = load_run_config(args.run)
    result = predict(load_params(args.run, config, log=log_to_stderr), config, source)
    print(f"model:  {result['model']}\npython: {result['python']}")
    return 0


def _run_sweep(args) -> int:
    from lte.study.experiment import MAX_CELLS
    from lte.study.sweep import run_sweep

    check_out_folder(args.results, "--results")
    try:
        run_sweep(
            args.experiment,
            args.profile,
            args.workers,
            Path(args.results),
            ensemble=args.ensemble,
            backend=args.backend,
            ray_address=args.address,
            max_cells=None if args.yes else MAX_CELLS,
        )
    except (KeyboardInterrupt, SystemExit) as stop:  # Ctrl-C or SIGTERM: the workers are stopped already
        code = 130 if isinstance(stop, KeyboardInterrupt) else stop.code
        print("interrupted; run the same command again to resume", file=sys.stderr, flush=True)
        sys.stdout.flush()
        # exit now: the interpreter's exit would join the process pool's management thread, which can
        # wait forever once its workers were killed (seen after SIGTERM)
        os._exit(code if isinstance(code, int) else 1)
    return 0


def _run_in_folder(kind_name: str, args) -> dict:
    """Train the run kind `kind_name` with the config the flags describe, in the run folder --out (kept,
    resumable), or in a temporary one when there is none; returns its summary."""
    import tempfile

    from lte.kinds import get_kind

    kind = get_kind(kind_name)
    check_seed(args.seed)
    args.nesting = _nesting(args)
    config = config_from_arguments(args, kind.config_class)
    if args.out is not None:
        return kind.train(config, check_out_folder(args.out), log=log_to_stderr)
    with tempfile.TemporaryDirectory(prefix=f"lte-{kind_name}-") as folder:
        return kind.train(config, Path(folder), log=log_to_stderr)


def _run_esn(args) -> int:
    summary = _run_in_folder("esn", args)
    print(
        json.dumps(
            {k: summary[k] for k in ("steps", "wall_time")}
            | {k: summary["final"].get(k) for k in ("test_char_accuracy", "scored")}
        )
    )
    return 0


def _run_seq2seq(args) -> int:
    summary = _run_in_folder("seq2seq", args)
    print(
        json.dumps(
            {k: summary[k] for k in ("steps", "wall_time")}
            | {k: summary["final"].get(k) for k in ("test_char_accuracy", "test_exact_match")}
        )
    )
    return 0


def _run_adding(args) -> int:
    """`lte sweep` on an adding-problem experiment file, then its figure."""
    from lte.study.analysis.adding import adding_figure
    from lte.study.experiment import load_experiment
    from lte.study.sweep import run_cells

    results = check_out_folder(args.results, "--results")
    header, cells = load_experiment(args.experiment, args.profile, results)
    if header.get("kind") != "adding":
        raise LteError(
            f"{args.experiment} is not an adding-problem experiment (its [experiment] kind is "
            f"{header.get('kind', 'char')!r}, not 'adding'): run it with lte sweep"
        )
    header.setdefault("name", Path(args.experiment).stem)
    run_cells(header, cells, args.profile, args.workers, results)
    for path in adding_figure(args.profile, results, header["name"]):
        print(path)
    return 0


def _run_step_times(args) -> int:
    from lte.study.step_times import measure_step_times

    print(measure_step_times(args.profile, Path(args.results), args.repeats, args.steps, log=log_to_stderr))
    return 0


def _run_profile_runs(args) -> int:
    from lte.study.run_profile import profile_runs

    if args.sweep_sample:
        from lte.study.run_profile import time_sweep_sample

        time_sweep_sample(
            Path(args.results),
            args.profile,
            args.sweep_sample,
            label=args.label,
            out=Path(args.out) if args.out else None,
            log=log_to_stderr,
        )
        return 0
    shapes = [s.strip() for s in args.shapes.split(";")] if args.shapes else None
    profile_runs(
        Path(args.results),
        args.profile,
        args.runs,
        args.steps,
        shapes,
        args.label,
        Path(args.out) if args.out else None,
        log=log_to_stderr,
    )
    return 0


def _run_bench(args) -> int:
    import tempfile

    from lte import bench
    from lte.core.data_parallel import use_cpu_devices

    if args.repeats < 1:
        raise LteError(f"--repeats {args.repeats}: the benchmark needs at least 1 timed step per shape")
    if args.tiny and args.full:
        raise LteError("--tiny and --full: choose one (a tiny check, or the full table)")
    cells = bench.parse_cells(args.cells) if args.cells else None
    shapes = [bench.parse_shape(s) for s in args.shapes.split(",") if s.strip()] if args.shapes else None
    if args.tiny:
        shapes, cells = shapes or bench.TINY_SHAPES, cells or ["lstm", "irnn"]
        ensemble_shape, ks = bench.Shape(hidden=8, batch=4, steps=5), [1, 2]
    elif args.full:
        shapes, cells = shapes or bench.STUDY_SHAPES + bench.PAPER_SHAPES, cells or None
        ensemble_shape, ks = bench.ENSEMBLE_SHAPE, bench.ENSEMBLE_MODELS_FULL
    else:
        shapes, cells = shapes or bench.STUDY_SHAPES, cells or bench.STUDY_CELLS
        ensemble_shape, ks = bench.ENSEMBLE_SHAPE, bench.ENSEMBLE_MODELS
    # only a complete default or --full run may write the committed tables; a tiny or filtered run goes to a
    # temporary folder unless --out names one
    partial = args.tiny or bool(args.cells) or bool(args.shapes)
    if args.out is not None:
        out = check_out_folder(args.out)  # before any work: a benchmark runs for minutes
    elif partial:
        out = Path(tempfile.mkdtemp(prefix="lte-bench-"))
        print(f"a tiny or filtered run: writing to {out} (--out to choose)", file=sys.stderr)
    else:
        out = Path("results/bench")
    try:  # one CPU device per core, for the step split over all of them (`lte train --cpu-devices N`)
        use_cpu_devices(os.cpu_count() or 1)
    except LteError:  # JAX already started in this process (a caller's): the split step is left out
        pass
    path = bench.run_benchmark(
        shapes, cells=cells, repeats=args.repeats, out_dir=out, autodiff=args.autodiff or args.full
    )
    bench.run_ensemble_benchmark(
        ensemble_shape,
        ks,
        [c for c in (cells or bench.STUDY_CELLS) if c in bench.STUDY_CELLS] or bench.STUDY_CELLS,
        args.repeats,
        out,
    )
    print(f"wrote {bench.goals_report(path)}")
    for figure in bench.bench_figure(path):
        print(f"wrote {figure}")
    return 0


def _run_migrate_names(args) -> int:
    from lte.study.migrate import migrate_names

    renamed = migrate_names(
        Path(args.results),
        log=lambda line: print(line, file=sys.stderr),
        experiments=args.experiment,
        profiles=args.profile,
    )
    print(f"{renamed} run folder(s) renamed under {args.results}")
    return 0


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
    _train_parser(commands)
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
    from lte.kinds.esn import ESNConfig
    from lte.kinds.seq2seq import Seq2SeqConfig

    e = commands.add_parser("esn", help="an echo state network on a task: fixed reservoir, ridge readout")
    e.add_argument("--out", default=None, help="the run folder (default: a temporary one, removed afterwards)")
    add_config_arguments(e, ESNConfig)
    q = commands.add_parser("seq2seq", help="encoder-decoder: bidirectional encoder, unidirectional decoder")
    q.add_argument(
        "--out",
        default=None,
        help="the run folder, resumed when run again (default: a temporary one, removed afterwards)",
    )
    add_config_arguments(q, Seq2SeqConfig)
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
    run = {
        "train": _run_train,
        "eval": _run_eval,
        "predict": _run_predict,
        "sweep": _run_sweep,
        "bench": _run_bench,
        "adding": _run_adding,
        "step-times": _run_step_times,
        "profile-runs": _run_profile_runs,
        "esn": _run_esn,
        "seq2seq": _run_seq2seq,
        "migrate-names": _run_migrate_names,
    }[args.command]
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
