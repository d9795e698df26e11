"""`lte profile-runs`: where a study run's time goes, against its compiled step timed alone.

For each of the default profile's run shapes (copy-10, 3-digit addition,
programs (2,2); LSTM and IRNN at 1 x 64, and the equal-parameters IRNN), a
fresh worker process pinned to one core (a sweep's workers each have one: everything a run does, batch
thread and evaluation included, is paid on that core), trains
`runs` of that shape's committed cells one after the other (the first pays
the worker's start-up: imports, compilation, pools, evaluation sets), then
times the compiled step alone on a real batch. Each run's time is split into
phases (`lte.core.train.PHASES`): setup, steps, batch waits, evaluation,
checkpoints, records.

`run_over_step` is a later run's whole time over its steps times the step
alone; `sweep_over_step` spreads the first run's start-up over the runs a
default sweep gives each of its 2 workers for that shape. Tables go to
results/bench/run_profile/<device>-<label>.{json,md}, with provenance.
"""

from __future__ import annotations

import inspect
import json
import os
import statistics
import time
from pathlib import Path

# (name, experiment whose committed cells are trained, model, hidden, task): the default profile's shapes
SHAPES = (
    ("copy-10 lstm 1x64", "lr_selection", "lstm", 64, "copy"),
    ("copy-10 irnn 1x64", "lr_selection", "irnn", 64, "copy"),
    ("addition-3 lstm 1x64", "addition", "lstm", 64, "addition"),
    ("addition-3 irnn 1x64", "addition", "irnn", 64, "addition"),
    ("addition-3 irnn 1x128 (equal parameters)", "convergence", "irnn", 128, "addition"),
    ("program-2,2 lstm 1x64", "lr_selection", "lstm", 64, "program"),
    ("program-2,2 irnn 1x64", "lr_selection", "irnn", 64, "program"),
)
SWEEP_WORKERS = 2  # what the default profile's sweeps run with on the reference machine
STEP_REPEATS, STEP_BLOCK = 5, 200


def _one_core_worker(env: dict[str, str]) -> None:
    from lte.core.runtime import set_environment

    set_environment(env)
    if hasattr(os, "sched_setaffinity"):  # Linux: the last core, as one of a sweep's workers
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})


def _cells(results: Path, profile: str, experiment: str, model: str, hidden: int, task: str) -> list[dict]:
    from lte.core.run_folder import read_index

    index = read_index(Path(results) / "runs" / profile / experiment / "cells.json")
    return [
        c["config"]
        for c in index.get("cells", [])
        if c.get("kind", "char") == "char"
        and c["config"]["model"] == model
        and c["config"]["hidden"] == hidden
        and c["config"]["task"] == task
    ]


def _worker(configs: list[dict], scratch: str, started: float) -> dict:
    """In a fresh one-core process: train `configs` in turn, then time the step alone."""
    imported = time.perf_counter()
    import jax

    from lte.core.config import TrainConfig
    from lte.core.data import TrainingBatches
    from lte.core.runtime import enable_compilation_cache
    from lte.core.train import compiled_counting_step, init_train_state, train, with_learning_rate, zero_counts

    enable_compilation_cache()
    imports = time.perf_counter() - imported
    runs = []
    for i, config_json in enumerate(configs):
        config = TrainConfig.from_json(config_json)
        phases: dict = {}
        wall, cpu = time.perf_counter(), time.process_time()
        extra = {"phases": phases} if "phases" in inspect.signature(train).parameters else {}  # older code: none
        summary = train(config, Path(scratch) / f"run{i}", log=lambda line: None, **extra)
        runs.append(
            {
                "seconds": time.perf_counter() - wall,
                "cpu_seconds": time.process_time() - cpu,
                "steps": summary["steps"],
                "phases": phases or None,
            }
        )
    config = TrainConfig.from_json(configs[0])
    feed = TrainingBatches(config)
    batch = feed.get(0, config.spec().target)
    feed.close()
    step = compiled_counting_step(config.model_config(), config.clip)
    state, sums = with_learning_rate(init_train_state(config), config.resolved_learning_rate), zero_counts()
    for _ in range(3):
        state, sums = step(state, batch, sums)
    jax.block_until_ready(sums)
    per_step = []
    for _ in range(STEP_REPEATS):
        start = time.perf_counter()
        for _ in range(STEP_BLOCK):
            state, sums = step(state, batch, sums)
        jax.block_until_ready((state, sums))
        per_step.append((time.perf_counter() - start) / STEP_BLOCK)
    return {"imports": imports, "spawn": imported - started, "runs": runs, "step_seconds": statistics.median(per_step)}


def profile_runs(
    results: Path,
    profile: str = "default",
    runs: int = 2,
    steps: int | None = None,
    shapes: list[str] | None = None,
    label: str = "current",
    out: Path | None = None,
    log=print,
) -> Path:
    """Profile each shape in its own worker process; write the table; return the JSON file's path."""
    import tempfile
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from lte.core.errors import LteError
    from lte.core.provenance import provenance
    from lte.core.runtime import single_threaded_cpu_env

    if runs < 2:
        raise LteError(f"--runs must be at least 2 (the first pays the worker's start-up), got {runs}")
    if steps is not None and steps < 1:
        raise LteError(f"--steps must be a positive number of steps, got {steps}")
    names = [s[0] for s in SHAPES]
    unknown = sorted(set(shapes or ()) - set(names))
    if unknown:
        raise LteError(f"unknown shape {unknown[0]!r}; allowed: {', '.join(names)}")
    rows, start = [], time.perf_counter()
    for name, experiment, model, hidden, task in SHAPES:
        if shapes and name not in shapes:
            continue
        cells = _cells(results, profile, experiment, model, hidden, task)
        if len(cells) < runs:
            raise LteError(f"{experiment} ({profile}) has {len(cells)} committed cells of {name}; need {runs}")
        configs = [dict(c, **({"max_steps": steps} if steps else {})) for c in cells[:runs]]
        with tempfile.TemporaryDirectory(prefix="lte-profile-") as scratch:
            with ProcessPoolExecutor(
                1, mp_context=get_context("spawn"), initializer=_one_core_worker, initargs=(single_threaded_cpu_env(),)
            ) as pool:
                measured = pool.submit(_worker, configs, scratch, time.perf_counter()).result()
        rows.append(_row(name, experiment, configs[0], len(cells), measured))
        log(_line(rows[-1]))
    record = {
        "label": label,
        "profile": profile,
        "runs_per_shape": runs,
        "steps": steps,
        "sweep_workers": SWEEP_WORKERS,
        "rows": rows,
        "wall_time": time.perf_counter() - start,
        "provenance": provenance(),
    }
    out = Path(out or Path(results) / "bench" / "run_profile")
    out.mkdir(parents=True, exist_ok=True)
    slug = _slug(record["provenance"]["device"], record["provenance"]["cpu_count"])
    path = out / f"{slug}-{label}.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    path.with_suffix(".md").write_text(markdown(record))
    log(f"wrote {path} and {path.with_suffix('.md')}")
    return path


def _row(name: str, experiment: str, config: dict, cells: int, measured: dict) -> dict:
    first, later = measured["runs"][0], measured["runs"][1:]
    steady = statistics.median(r["seconds"] for r in later)
    steady_cpu = statistics.median(r["cpu_seconds"] for r in later)
    steps = later[0]["steps"]
    step_total = steps * measured["step_seconds"]
    per_worker = max(1, round(cells / SWEEP_WORKERS))
    startup = measured["imports"] + first["seconds"] - steady  # what the first run costs beyond a later one
    phases = None
    if all(r["phases"] for r in later):
        keys = later[0]["phases"]
        phases = {k: statistics.median(r["phases"][k] for r in later) for k in keys}
    return {
        "shape": name,
        "experiment": experiment,
        "model": config["model"],
        "hidden": config["hidden"],
        "task": config["task"],
        "steps": steps,
        "eval_every": config["eval_every"],
        "step_ms": 1000 * measured["step_seconds"],
        "imports_s": measured["imports"],
        "first_run_s": first["seconds"],
        "run_s": steady,
        "run_cpu_s": steady_cpu,
        "steps_alone_s": step_total,
        "run_over_step": steady / step_total,
        "cpu_over_step": steady_cpu / step_total,
        "runs_per_worker": per_worker,
        "sweep_over_step": (startup + per_worker * steady) / (per_worker * step_total),
        "phases_s": phases,
    }


def _line(row: dict) -> str:
    return (
        f"{row['shape']}: step {row['step_ms']:.3f} ms, run {row['run_s']:.1f} s for {row['steps']} steps "
        f"(first {row['first_run_s']:.1f} s): run_over_step {row['run_over_step']:.2f}x, "
        f"sweep_over_step {row['sweep_over_step']:.2f}x"
    )


def _slug(device: str, cores: int) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "_", device.lower()).strip("_") + f"_{cores}cores"


def markdown(record: dict) -> str:
    """The table as a results page: one row per shape, phases of a later run in seconds."""
    info = record["provenance"]
    lines = [
        f"# Where a study run's time goes ({record['label']})",
        "",
        f"Measured by `lte profile-runs` at commit {info['commit'][:10]} on {info['device']} "
        f"({info['cpu_count']} cores), {info['time']}; each shape in a fresh worker process on one core "
        f"(XLA single-threaded, the process pinned to it), {record['runs_per_shape']} runs of its committed cells "
        f"({'their own budgets' if not record['steps'] else str(record['steps']) + ' steps each'}); "
        f"the step alone timed after them in the same process. Seconds; phases are a later run's.",
        "",
        "| shape | steps | step alone (ms) | first run (s) | later run (s) | setup | steps+batches | "
        "batch waits | evaluation | checkpoints | records | run / steps | CPU / steps | sweep / steps |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in record["rows"]:
        p = r["phases_s"] or {}
        cell = lambda k: f"{p[k]:.2f}" if k in p else "-"
        lines.append(
            f"| {r['shape']} | {r['steps']} | {r['step_ms']:.3f} | {r['first_run_s']:.1f} | {r['run_s']:.1f} "
            f"| {cell('setup')} | {cell('steps')} | {cell('batches')} | {cell('evaluation')} | "
            f"{cell('checkpoints')} | {cell('records')} | {r['run_over_step']:.2f}x | "
            f"{r['cpu_over_step']:.2f}x | {r['sweep_over_step']:.2f}x |"
        )
    lines += [
        "",
        "run / steps: a later run's whole time over its steps times the step alone; CPU / steps: the "
        "same with the process's CPU time; sweep / steps: the first "
        f"run's start-up spread over the runs each of {record['sweep_workers']} workers trains in the "
        "default sweep. Phases: steps+batches is the training loop's own clock (the run's wall_time), batch "
        "waits the part of it the loop waited for batches.",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- a sample of the profile's sweeps

SWEPT = ("lr_selection", "addition", "memorisation", "memorisation_length", "convergence", "program")


def time_sweep_sample(
    results: Path,
    profile: str = "default",
    every: int = 16,
    workers: int = SWEEP_WORKERS,
    label: str = "current",
    out: Path | None = None,
    experiments_dir: Path = Path("experiments"),
    log=print,
) -> Path:
    """Run every `every`-th cell of each experiment (at least 2) as `lte sweep` would, into a scratch folder, and
    scale its wall time up by the experiment's cell count: an estimate of the whole sweep's time.

    The sample's worker start-up is counted once, as in the whole sweep, so the estimate errs high."""
    import tempfile

    from lte.core.errors import LteError
    from lte.core.provenance import provenance
    from lte.study.experiment import load_experiment
    from lte.study.sweep import run_cells

    if every < 1:
        raise LteError(f"--every must be a positive integer, got {every}")
    rows, start = [], time.perf_counter()
    for name in SWEPT:
        header, cells = load_experiment(experiments_dir / f"{name}.toml", profile, results)
        sample = cells[::every] if len(cells[::every]) >= 2 else cells[:2]
        header = dict(header, name=f"{name}-sample")  # no after-sweep step (lr_selection's choice) on a sample
        with tempfile.TemporaryDirectory(prefix="lte-sweep-sample-") as scratch:
            began = time.perf_counter()
            run_cells(header, sample, profile, workers, Path(scratch), log=lambda line: None)
            seconds = time.perf_counter() - began
        rows.append(
            {
                "experiment": name,
                "cells": len(cells),
                "sampled": len(sample),
                "seconds": seconds,
                "estimated_seconds": seconds * len(cells) / len(sample),
            }
        )
        log(
            f"{name}: {len(sample)} of {len(cells)} cells in {seconds:.0f} s; the whole sweep about "
            f"{rows[-1]['estimated_seconds'] / 60:.0f} min on {workers} workers"
        )
    record = {
        "label": label,
        "profile": profile,
        "every": every,
        "workers": workers,
        "rows": rows,
        "estimated_seconds": sum(r["estimated_seconds"] for r in rows),
        "wall_time": time.perf_counter() - start,
        "provenance": provenance(),
    }
    out = Path(out or Path(results) / "bench" / "run_profile")
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{_slug(record['provenance']['device'], record['provenance']['cpu_count'])}-sweeps-{label}.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    log(f"the {len(rows)} experiments' sweeps: about {record['estimated_seconds'] / 3600:.2f} h; wrote {path}")
    return path
