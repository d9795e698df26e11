"""`lte sweep`: run every cell of an experiment, in parallel worker processes, resumably.

A cell's run folder is results/runs/<profile>/<experiment>/<cell name>/; a
cell whose folder holds complete, valid finished records is skipped (one whose
records are damaged is set aside and retrained, `lte.core.run_folder.damage`), one
with checkpoints resumes. A run folder is written by one process at a time
(`lte.core.run_folder.FolderLock`), so two sweeps of one experiment cannot corrupt it.

Cells that share their shapes (model, clip, batch, row length) can be
trained K at a time in one compiled step (`lte.methods.ensemble`), what fills an
accelerator. K is the experiment's `[experiment] ensemble` (1 where per-run
wall time must be honest), else `lte sweep --ensemble K`, else
DEFAULT_ENSEMBLE (1: measured, see there). Every task runs
K slots (a last, smaller group pads with slots that sit out), so the bits of
a run's records never depend on what else was left to train: on a CPU (the
sequential layout) they are those of training it alone, elsewhere they depend
on K only and agree with training alone to float32 rounding. Timing differs:
K models share each second.

Stopping: on Ctrl-C or SIGTERM the sweep cancels its queued tasks, stops its
workers and re-raises (the unfinished cells resume on the next run). Each
worker also watches its parent (`_watchdog`): if the sweep process dies
without stopping them (SIGKILL, a crash), the workers exit within a second
instead of training on.
"""

from __future__ import annotations

import importlib
import json
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path

from lte.core.console import log_to_stderr, progress_line
from lte.core.errors import raise_failures
from lte.core.run_folder import open_no_follow, write_json_atomic
from lte.core.runtime import set_environment, single_threaded_cpu_env
from lte.study.experiment import MAX_CELLS, RESULTS, Cell, check_ensemble, load_experiment, runs_dir

# Models per compiled step by default: 1. On a CPU, sharing a step gains a small model little (`lte bench`'s
# ensemble table, as in a sweep), while evaluation, data and setup stay per model and larger tasks balance less
# well over the workers, so at the study's budgets a sweep is no faster with ensembles (the timed sweeps:
# `git log -G 'Models per compiled step'`). On an accelerator, where one small model fills a sliver of the chip,
# pass --ensemble K (or set [experiment] ensemble).
DEFAULT_ENSEMBLE = 1


def _run_task(task: tuple[int, list[tuple[str, dict, str]]]) -> float:
    """Train one cell, or several of one shape together (in a worker process); returns the wall time.

    `task`: (slots, [(kind, config JSON, run folder) per cell]) (`task_payload`)."""
    slots, task = task
    from lte.core.runtime import enable_compilation_cache
    from lte.kinds import get_kind
    from lte.methods.ensemble import train_together

    enable_compilation_cache()
    kind = get_kind(task[0][0])
    configs = [kind.config_class.from_json(c) for _, c, _ in task]
    outs = [Path(out) for _, _, out in task]
    start = time.perf_counter()
    logs = []
    try:
        for out in outs:
            out.mkdir(parents=True, exist_ok=True)
            logs.append(open_no_follow(out / "train.log"))
        writers = [lambda line, f=f: print(line, file=f, flush=True) for f in logs]
        if slots == 1 or not kind.ensembles:
            kind.train(configs[0], outs[0], log=writers[0])
        else:
            train_together(configs, outs, log=writers, slots=slots)
    finally:
        for f in logs:
            f.close()
    return time.perf_counter() - start


def make_tasks(cells: list[Cell], ensemble: int = 1) -> list[list[Cell]]:
    """Cells grouped into tasks: up to `ensemble` cells of one shape per task, in the cells' order."""
    from lte.kinds import get_kind
    from lte.methods.ensemble import shape_key

    check_ensemble(ensemble)

    groups: dict[tuple, list[Cell]] = {}
    for i, cell in enumerate(cells):  # only a kind that trains in ensembles shares a task
        key = (cell.kind, shape_key(cell.config)) if get_kind(cell.kind).ensembles else (cell.kind, "alone", i)
        groups.setdefault(key, []).append(cell)
    tasks = [group[i : i + ensemble] for group in groups.values() for i in range(0, len(group), ensemble)]
    return sorted(tasks, key=lambda t: cells.index(t[0]))


def write_index(experiment: str, profile: str, header: dict, cells: list[Cell], results: Path) -> None:
    """cells.json: every cell's name, labels and config, for the analysis."""
    root = runs_dir(experiment, profile, results)
    root.mkdir(parents=True, exist_ok=True)
    index = {
        "experiment": header,
        "profile": profile,
        "cells": [{"name": c.name, "labels": c.labels, "config": c.config.to_json(), "kind": c.kind} for c in cells],
    }
    write_json_atomic(root / "cells.json", index, indent=1)  # two sweeps of one experiment may write it at once


BACKENDS = ("local", "ray")


def run_sweep(
    path: Path,
    profile: str = "default",
    workers: int | None = None,
    results: Path = RESULTS,
    log=None,
    ensemble: int | None = None,
    backend: str = "local",
    ray_address: str | None = None,
    max_cells: int | None = MAX_CELLS,
) -> list[Cell]:
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        from lte.core.errors import LteError

        raise LteError(f"--workers {workers}: the number of worker processes must be a positive integer")
    header, cells = load_experiment(path, profile, results, max_cells)
    header.setdefault("name", Path(path).stem)
    return run_cells(header, cells, profile, workers, results, log, ensemble, backend, ray_address)


def models_per_step(header: dict, ensemble: int | None) -> int:
    """K: the experiment's own `ensemble` (it wins: e.g. 1 where wall time is measured), else the caller's, else
    DEFAULT_ENSEMBLE."""
    if "ensemble" in header:
        return check_ensemble(header["ensemble"], "[experiment] ensemble")
    return DEFAULT_ENSEMBLE if ensemble is None else check_ensemble(ensemble)


def run_cells(
    header: dict,
    cells: list[Cell],
    profile: str,
    workers: int | None = None,
    results: Path = RESULTS,
    log=None,
    ensemble: int | None = None,
    backend: str = "local",
    ray_address: str | None = None,
) -> list[Cell]:
    """Run the unfinished `cells` of the experiment `header['name']` (what `lte sweep` does after parsing)."""
    log = log or log_to_stderr
    ensemble = models_per_step(header, ensemble)
    if backend not in BACKENDS:
        from lte.core.errors import LteError

        raise LteError(f"unknown backend {backend!r}; allowed: {', '.join(BACKENDS)}")
    experiment = header["name"]
    root = runs_dir(experiment, profile, results)
    write_index(experiment, profile, header, cells, results)
    todo = unfinished(root, [c.name for c in cells], log)
    check_finished_configs(root, [c for c in cells if c.name not in todo])
    todo = [c for c in cells if c.name in todo]
    tasks = make_tasks(todo, ensemble)
    workers = max(1, min(workers or os.cpu_count() or 1, len(tasks) or 1))
    log(
        f"{experiment} ({profile}): {len(cells)} cells, {len(cells) - len(todo)} already finished, "
        f"{len(todo)} to run as {len(tasks)} task{'s' if len(tasks) != 1 else ''} ({ensemble} model"
        f"{'s' if ensemble > 1 else ''} per step) on {workers} "
        f"worker{'s' if workers > 1 else ''}" + (" (Ray)" if backend == "ray" else "")
    )
    if todo:
        start = time.perf_counter()
        try:
            if backend == "ray":
                from lte.study.ray_backend import run_tasks_on_ray

                run_tasks_on_ray(
                    _run_task,
                    [task_payload(t, root, ensemble) for t in tasks],
                    [task_name(t) for t in tasks],
                    workers,
                    ray_address,
                    log,
                )
            else:
                run_in_workers(
                    _run_task,
                    [task_payload(t, root, ensemble) for t in tasks],
                    [task_name(t) for t in tasks],
                    workers,
                    log,
                )
        finally:  # an interrupted sweep counts the cells it finished: resumed, the sittings add up to one whole
            finished = sum((root / c.name / "summary.json").exists() for t in tasks for c in t)
            record_sweep_time(root, time.perf_counter() - start, workers, finished)
    if experiment in SELECTIONS:  # a selection experiment writes what the experiments after it take
        module, writer = SELECTIONS[experiment].split(":")
        getattr(importlib.import_module(module), writer)(profile, results)
    return cells


# selection experiments -> what writes their choice (results/lr_selection/selected*_<profile>.json), imported
# only when one has run (the analysis imports this module's callers)
SELECTIONS = {
    "lr_selection": "lte.study.analysis.lr_selection:write_selection",
    "strategy_selection": "lte.study.analysis.lr_selection:write_strategy_selection",
    "adding_selection": "lte.study.analysis.adding_selection:write_adding_selection",
}


def record_sweep_time(root: Path, seconds: float, workers: int, cells: int) -> None:
    """sweep.json: the wall time spent running this experiment's cells, over every sweep invocation, and the
    cells each invocation finished."""
    from lte.core.provenance import provenance

    path = root / "sweep.json"
    record = json.loads(path.read_text()) if path.exists() else {"wall_time": 0.0, "invocations": []}
    record["wall_time"] += seconds
    info = provenance()
    record["invocations"].append(
        {
            "seconds": seconds,
            "workers": workers,
            "cells_run": cells,
            "time": info["time"],
            "device": info["device"],
            "cpu_count": info["cpu_count"],
        }
    )
    write_json_atomic(path, record, indent=1)


def task_payload(task: list[Cell], root: Path, slots: int = 1) -> tuple[int, list[tuple[str, dict, str]]]:
    return slots, [(c.kind, c.config.to_json(), str(Path(root).absolute() / c.name)) for c in task]


def task_name(task: list[Cell]) -> str:
    return task[0].name if len(task) == 1 else f"{task[0].name} (+{len(task) - 1} together)"


def unfinished(root: Path, names: list[str], log) -> list[str]:
    """The run folders under `root` to train: those without a summary, and those whose finished records are
    damaged (`lte.core.run_folder.damage`; such a folder is set aside and its cell trains afresh)."""
    from lte.core.run_folder import damage, set_aside

    todo = []
    for name in names:
        folder = root / name
        if (folder / "summary.json").exists():
            reason = damage(folder)
            if reason is None:
                continue
            set_aside(folder, reason, log)
        todo.append(name)
    return todo


def check_finished_configs(root: Path, finished: list[Cell]) -> None:
    """A finished cell is skipped only when its folder holds its config: a folder name covers the settings that
    differ from their defaults, so a changed default would otherwise pass unseen."""
    from lte.core.errors import LteError
    from lte.kinds import get_kind

    for cell in finished:
        config_class = get_kind(cell.kind).config_class
        saved = config_class.from_json(json.loads((root / cell.name / "config.json").read_text())).to_json()
        wanted = cell.config.to_json()
        diff = sorted(k for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))
        if diff:
            detail = ", ".join(f"{k}: {saved.get(k)!r} in the folder, {wanted.get(k)!r} now" for k in diff)
            raise LteError(
                f"{root / cell.name} was trained with a different config ({detail}): a default changed "
                "since; bump lte.kinds.naming.NAME_SCHEMA so that such cells get new folders"
            )


def run_in_workers(function, payloads: list, names: list[str], workers: int, log) -> None:
    """`function(payload)` for each payload, in `workers` spawned processes, with a progress line per task.

    A failed task is reported and the others go on (an LteError lists the
    failures at the end). Ctrl-C or SIGTERM cancels the queue and stops the
    workers; a worker whose parent dies exits by itself (`_watchdog`).
    """
    env = single_threaded_cpu_env() if workers > 1 else {}  # one core each; set in the workers only
    start, done, failures = time.perf_counter(), 0, []
    context = get_context("spawn")
    # 1: the workers exit (see _watchdog). A flag, not an Event: Event.set waits for each waiter to wake, and so
    # forever for a worker killed while waiting (a SIGTERM to the process group, `timeout 5 lte sweep`)
    stop = context.Value("b", 0, lock=False)
    signals = _StopSignals()
    try:
        executor = ProcessPoolExecutor(
            workers, mp_context=context, initializer=_worker_init, initargs=(os.getpid(), stop, env)
        )
        try:
            pending = {}
            for payload, name in zip(payloads, names):
                signals.check()
                pending[executor.submit(function, payload)] = name
            while pending:
                signals.check()
                finished, _ = wait(pending, timeout=WATCH_INTERVAL, return_when=FIRST_COMPLETED)
                for future in finished:
                    name = pending.pop(future)
                    done += 1
                    try:
                        status = f"{future.result():6.1f} s"
                    except Exception as error:  # a failed task is reported; the others go on
                        failures.append((name, error))
                        status = f"FAILED: {error}"
                    log(progress_line(done, len(payloads), name, status, time.perf_counter() - start))
        except BaseException as error:  # Ctrl-C, SIGTERM (see _StopSignals), or a bug here
            log(
                f"stopping ({type(error).__name__}): the queued tasks are cancelled and the workers stopped; "
                f"run the same command again to resume"
            )
            _stop_workers(executor, stop)
            raise
        executor.shutdown(wait=True)
        signals.check()  # a signal after the last task: the sweep is complete, and still stopped as asked
    finally:
        signals.restore()
    raise_failures(failures)


WATCH_INTERVAL = 0.5  # seconds between a worker's checks that its parent is alive


def _worker_init(parent: int, stop, env: dict[str, str]) -> None:
    """In each worker, first: its environment (`env`), Ctrl-C left to the parent (it stops the workers), and
    a watchdog."""
    set_environment(env)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watchdog, args=(parent, stop), name="lte-sweep-watchdog", daemon=True).start()


def _watchdog(parent: int, stop) -> None:
    """Exit the worker when the parent says stop (`stop.value` set) or is gone (its parent id changes when it
    dies)."""
    while not stop.value and os.getppid() == parent:
        time.sleep(WATCH_INTERVAL)
    for child in multiprocessing.active_children():  # e.g. data_gen.pool's builders
        child.kill()
    os._exit(1)


def _stop_workers(executor: ProcessPoolExecutor, stop, grace: float = 5.0) -> None:
    """Cancel what is queued and end every worker: their watchdogs exit on `stop`; stragglers are killed."""
    processes = list((getattr(executor, "_processes", None) or {}).values())  # no public accessor
    stop.value = 1
    executor.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            process.kill()
            process.join(1.0)


class _StopSignals:
    """Until `restore`, SIGTERM and SIGINT are noted, and `check` raises SystemExit(143) or KeyboardInterrupt
    for them, so that a stopped sweep stops its workers. Raised only there, between the executor's calls: a
    handler that raised inside `submit` (while it starts the workers) would leave the executor's lock taken, and
    stopping the workers would wait on it forever. Elsewhere than in the main thread: nothing is installed."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.previous: dict[int, object] = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                self.previous[signum] = signal.signal(signum, self._note)

    def _note(self, signum, frame) -> None:
        self.received = self.received or signum

    def check(self) -> None:
        if self.received == signal.SIGINT:
            raise KeyboardInterrupt
        if self.received is not None:
            raise SystemExit(128 + self.received)

    def restore(self) -> None:
        for signum, previous in self.previous.items():
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
        self.previous = {}
