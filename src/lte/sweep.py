"""`lte sweep`: run every cell of an experiment, in parallel worker processes, resumably.

A cell's run folder is results/runs/<profile>/<experiment>/<cell name>/; a
cell whose folder has summary.json is skipped, one with checkpoints resumes.
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path

from lte.experiment import RESULTS, Cell, load_experiment, runs_dir
from lte.runtime import single_threaded_cpu_env


def _run_cell(config_json: dict, out: str) -> float:
    """Train one cell (in a worker process); returns its wall time."""
    from lte.config import TrainConfig
    from lte.runtime import enable_compilation_cache
    from lte.train import train

    enable_compilation_cache()
    out_path = Path(out)
    out_path.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with open(out_path / "train.log", "a") as log_file:
        train(TrainConfig.from_json(config_json), out_path, log=lambda line: print(line, file=log_file, flush=True))
    return time.perf_counter() - start


def _format(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m{seconds % 60:02d}s"


def write_index(experiment: str, profile: str, header: dict, cells: list[Cell], results: Path) -> None:
    """cells.json: every cell's name, labels and config, for the analysis."""
    root = runs_dir(experiment, profile, results)
    root.mkdir(parents=True, exist_ok=True)
    index = {"experiment": header, "profile": profile,
             "cells": [{"name": c.name, "labels": c.labels, "config": c.config.to_json()} for c in cells]}
    (root / "cells.json").write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")


def run_sweep(path: Path, profile: str = "small", workers: int | None = None, results: Path = RESULTS,
              log=None) -> list[Cell]:
    header, cells = load_experiment(path, profile, results)
    header.setdefault("name", Path(path).stem)
    return run_cells(header, cells, profile, workers, results, log)


def run_cells(header: dict, cells: list[Cell], profile: str, workers: int | None = None,
              results: Path = RESULTS, log=None) -> list[Cell]:
    """Run the unfinished `cells` of the experiment `header['name']` (what `lte sweep` does after parsing)."""
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    experiment = header["name"]
    root = runs_dir(experiment, profile, results)
    write_index(experiment, profile, header, cells, results)
    todo = [c for c in cells if not (root / c.name / "summary.json").exists()]
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    log(f"{experiment} ({profile}): {len(cells)} cells, {len(cells) - len(todo)} already finished, "
        f"{len(todo)} to run on {workers} worker{'s' if workers > 1 else ''}")
    if todo:
        start = time.perf_counter()
        try:
            _run_cells(todo, root, workers, log)
        finally:
            _record_sweep_time(root, time.perf_counter() - start, workers, len(todo))
    if experiment == "lr_selection":
        from lte.analysis.lr_selection import write_selection
        write_selection(profile, results)
    return cells


def _record_sweep_time(root: Path, seconds: float, workers: int, cells: int) -> None:
    """sweep.json: the wall time spent running this experiment's cells, over every sweep invocation."""
    from lte.provenance import provenance

    path = root / "sweep.json"
    record = json.loads(path.read_text()) if path.exists() else {"wall_time": 0.0, "invocations": []}
    record["wall_time"] += seconds
    info = provenance()
    record["invocations"].append({"seconds": seconds, "workers": workers, "cells_run": cells,
                                  "time": info["time"], "device": info["device"], "cpu_count": info["cpu_count"]})
    path.write_text(json.dumps(record, indent=1) + "\n")


def _run_cells(todo: list[Cell], root: Path, workers: int, log) -> None:
    env_backup = dict(os.environ)
    if workers > 1:
        os.environ.update(single_threaded_cpu_env())  # inherited by the spawned workers
    start, done, failures = time.perf_counter(), 0, []
    try:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as executor:
            pending = {executor.submit(_run_cell, c.config.to_json(), str(root / c.name)): c for c in todo}
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    cell = pending.pop(future)
                    done += 1
                    elapsed = time.perf_counter() - start
                    eta = elapsed / done * (len(todo) - done)
                    try:
                        seconds = future.result()
                        status = f"{seconds:6.1f} s"
                    except Exception as error:  # a failed cell is reported; the others go on
                        failures.append((cell, error))
                        status = f"FAILED: {error}"
                    log(f"[{done}/{len(todo)}] {cell.name}: {status} | elapsed {_format(elapsed)} | ETA {_format(eta)}")
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
    if failures:
        from lte.errors import LteError
        names = ", ".join(c.name for c, _ in failures)
        raise LteError(f"{len(failures)} cell(s) failed: {names}; see their train.log; rerun to retry them")
