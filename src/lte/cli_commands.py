"""What each `lte` command does once its arguments are parsed (`lte.cli` builds the parser)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from lte.cli_arguments import (
    check_count,
    check_out_folder,
    check_seed,
    config_from_arguments,
    load_run_config,
)
from lte.core.console import log_to_stderr
from lte.core.errors import LteError
from lte.core.flax_cell import allow_user_cells


def run_train(args) -> int:
    from lte.core.config import TrainConfig
    from lte.core.data_parallel import check_data_parallel, use_cpu_devices
    from lte.core.train import CHECKPOINT_SECONDS, train

    out = check_out_folder(args.out)
    if hasattr(args, "seed"):
        check_seed(args.seed)
    if ":" in getattr(args, "model", ""):  # named on the command line: the user's own cell
        allow_user_cells(args.model)
    base = load_run_config(args.from_run) if args.from_run is not None else None
    config = config_from_arguments(args, TrainConfig, base)
    if args.one_core:  # before JAX's CPU backend starts: it reads XLA_FLAGS once
        if args.cpu_devices != 1:
            raise LteError(f"--one-core and --cpu-devices {args.cpu_devices}: choose one")
        from lte.core.runtime import single_threaded_cpu_env

        os.environ.update(single_threaded_cpu_env())
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


def run_eval(args) -> int:
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


def run_predict(args) -> int:
    from lte.core.predict import check_program, predict
    from lte.core.train import load_params

    source = sys.stdin.read() if args.program in (None, "-") else args.program
    check_program(source)  # refuses anything outside the generator's grammar before the run is loaded
    config = load_run_config(args.run)
    result = predict(load_params(args.run, config, log=log_to_stderr), config, source)
    print(f"model:  {result['model']}\npython: {result['python']}")
    if "note" in result:
        log_to_stderr(f"note: {result['note']}")
    return 0


def run_sweep(args) -> int:
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


def run_in_folder(kind_name: str, args) -> dict:
    """Train the run kind `kind_name` with the config the flags describe, in the run folder --out (kept,
    resumable), or in a temporary one when there is none; returns its summary."""
    import tempfile

    from lte.kinds import get_kind

    kind = get_kind(kind_name)
    if hasattr(args, "seed"):
        check_seed(args.seed)
    config = config_from_arguments(args, kind.config_class)
    if args.out is not None:
        return kind.train(config, check_out_folder(args.out), log=log_to_stderr)
    with tempfile.TemporaryDirectory(prefix=f"lte-{kind_name}-") as folder:
        return kind.train(config, Path(folder), log=log_to_stderr)


def run_kind(kind_name: str, args) -> int:
    """`lte <kind>`: one run of that kind (`run_in_folder`); prints its steps, wall time and the summary's final
    numbers the kind names (`RunKind.printed`) as one JSON line."""
    from lte.kinds import get_kind

    summary = run_in_folder(kind_name, args)
    printed = get_kind(kind_name).printed
    print(json.dumps({k: summary[k] for k in ("steps", "wall_time")} | {k: summary["final"].get(k) for k in printed}))
    return 0


def run_adding(args) -> int:
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


def run_step_times(args) -> int:
    from lte.study.step_times import measure_step_times

    print(measure_step_times(args.profile, Path(args.results), args.repeats, args.steps, log=log_to_stderr))
    return 0


def run_paper_budget(args) -> int:
    from lte.bench.paper_budget import write_estimate

    write_estimate(Path(args.results), log=log_to_stderr)
    return 0


def run_profile_runs(args) -> int:
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


def run_bench(args) -> int:
    import tempfile

    from lte import bench
    from lte.core.data_parallel import use_cpu_devices

    if args.figures_only:  # the committed tables' figures, redrawn after a change to the figure's code
        tables = bench.benchmark_tables(Path(args.out or "results/bench"))
        if not tables:
            raise LteError(f"no benchmark tables in {args.out or 'results/bench'}: run `lte bench` first")
        for figure in (path for table in tables for path in bench.bench_figure(table)):
            print(f"wrote {figure}")
        return 0
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


def run_migrate_names(args) -> int:
    from lte.study.migrate import migrate_names

    renamed = migrate_names(
        Path(args.results),
        log=lambda line: print(line, file=sys.stderr),
        experiments=args.experiment,
        profiles=args.profile,
    )
    print(f"{renamed} run folder(s) renamed under {args.results}")
    return 0


def run_ship_models(args) -> int:
    from lte.study.shipped_models import ship_models

    print(ship_models(args.profile, check_out_folder(args.results, "--results"), args.only, log=log_to_stderr))
    return 0
