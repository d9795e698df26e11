"""`lte bench`'s ensemble table: K models in one step, in each layout, against one model at a time, timed in
this process (all cores) and as in a sweep (single-threaded workers at once)."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import jax

from lte.bench.device import device_name
from lte.bench.shapes import Shape
from lte.bench.steps import SEEDS, ensemble_step, single_model_step
from lte.bench.tables import write_csv
from lte.bench.timing import MATMUL_PRECISION, per_step_seconds


def run_ensemble_benchmark(
    shape: Shape,
    ks: list[int],
    cells: list[str],
    repeats: int,
    out_dir: Path,
    log=print,
    sweep_workers: int | None = None,
) -> Path:
    """K models in one step, in each layout (`lte.methods.ensemble.LAYOUTS`), against one model at a time
    (`lte train`'s own step), all timed in rotation: in this process (all cores), and as in a sweep
    (`sweep_workers` single-threaded processes at once; default: one per core)."""
    from lte.methods.ensemble import LAYOUTS, default_layout

    device, start = device_name(), time.perf_counter()
    sweep_workers = sweep_workers or os.cpu_count() or 1
    log(
        f"\nmany models at once, {shape.label}, against one model at a time; 'as in sweeps': {sweep_workers} "
        f"single-threaded processes at once, the median over them; this device's default layout: {default_layout()}"
    )
    log(f"{'cell':6s} {'layout':>10s} {'K':>3s} {'step ms':>9s} {'all models vs one':>18s} {'as in sweeps':>13s}")
    rows = []
    for cell in cells:
        repeat_times = _ensemble_step_seconds((cell, vars(shape), ks, LAYOUTS, repeats, True))
        times = {key: statistics.median(t) for key, t in repeat_times.items()}
        workers = ensemble_seconds_as_in_sweeps(cell, shape, ks, LAYOUTS, repeats, sweep_workers)
        in_sweeps = {key: statistics.median(statistics.median(w[key]) for w in workers) for key in workers[0]}
        one, batch_one = times["single"], times["batch_one"]
        for layout in LAYOUTS:
            for k in ks:
                seconds, sweep_seconds = times[layout, k], in_sweeps[layout, k]
                paired = paired_speedups(k, repeat_times["single"], repeat_times[layout, k])
                row = {
                    "device": device,
                    "cell": cell,
                    "hidden": shape.hidden,
                    "batch": shape.batch,
                    "steps": shape.steps,
                    "layers": shape.layers,
                    "layout": layout,
                    "default_layout": layout == default_layout(),
                    "models": k,
                    "step_s": seconds,
                    "single_step_s": one,
                    "tokens_per_s_per_model": shape.batch * shape.steps / seconds,
                    "tokens_per_s_all_models": k * shape.batch * shape.steps / seconds,
                    "all_models_over_one": k * one / seconds,
                    "all_models_over_one_min": paired[0],
                    "all_models_over_one_max": paired[-1],
                    "repeats": repeats,
                    "sweep_workers": sweep_workers,
                    "sweep_step_s": sweep_seconds,
                    "sweep_single_step_s": in_sweeps["single"],
                    "sweep_all_models_over_one": k * in_sweeps["single"] / sweep_seconds,
                    "batch_one_step_s": batch_one,
                    "overhead_share": batch_one / one,
                    "shared_overhead_bound": shared_overhead_bound(k, one, batch_one),
                }
                rows.append(row)
                log(
                    f"{cell:6s} {layout:>10s} {k:3d} {1000 * seconds:9.2f} {row['all_models_over_one']:17.2f}x "
                    f"{row['sweep_all_models_over_one']:12.2f}x"
                )
    return write_csv(
        rows,
        out_dir / f"{device}-ensemble.csv",
        log,
        repeats=repeats,
        shape=vars(shape),
        models=ks,
        cells=cells,
        layouts=list(LAYOUTS),
        default_layout=default_layout(),
        seeds=SEEDS,
        matmul_precision=MATMUL_PRECISION,
        sweep_workers=sweep_workers,
        wall_s=round(time.perf_counter() - start, 1),
    )


def _ensemble_step_seconds(payload: tuple) -> dict:
    """In a worker process: each repeat's step time, all timed in rotation: one model alone ("single"), each
    (layout, K), and with `batch_one`, one model alone at batch 1 (what a step costs whatever its size: the
    per-step overhead)."""
    cell, shape, ks, layouts, repeats, batch_one = payload
    with jax.default_matmul_precision(MATMUL_PRECISION):
        steps = {"single": single_model_step(cell, Shape(**shape))}
        steps.update({(layout, k): ensemble_step(cell, Shape(**shape), k, layout) for layout in layouts for k in ks})
        if batch_one:
            steps["batch_one"] = single_model_step(cell, Shape(**{**shape, "batch": 1}))
        return dict(zip(steps, per_step_seconds(list(steps.values()), repeats)))


def ensemble_seconds_as_in_sweeps(
    cell: str, shape: Shape, ks: list[int], layouts: list[str], repeats: int, workers: int
) -> list[dict]:
    """Each step's time in each of `workers` single-threaded processes running at once: the conditions of
    `lte sweep`'s workers, which decide whether a sweep gains from ensembles."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from lte.core.runtime import set_environment, single_threaded_cpu_env

    with ProcessPoolExecutor(
        workers, mp_context=get_context("spawn"), initializer=set_environment, initargs=(single_threaded_cpu_env(),)
    ) as pool:
        futures = [
            pool.submit(_ensemble_step_seconds, (cell, vars(shape), ks, layouts, repeats, False))
            for _ in range(workers)
        ]
        return [future.result() for future in futures]


def paired_speedups(k: int, single_s: list[float], ensemble_s: list[float]) -> list[float]:
    """Each repeat's throughput of K models in one step over one model alone, timed in the same rotation,
    sorted: their spread says whether a median near 1.0x is above or below it."""
    return sorted(k * one / many for one, many in zip(single_s, ensemble_s))


def shared_overhead_bound(k: int, one_s: float, batch_one_s: float) -> float:
    """The most K models in one step can gain over one at a time if they share only the per-step overhead
    (a batch-1 step's time, `batch_one_s`) and each adds its own work (`one_s - batch_one_s`): K * one /
    (overhead + K * work). Larger gains need the work itself to run faster in a batched step."""
    work = max(one_s - batch_one_s, 1e-12)
    return k * one_s / (min(batch_one_s, one_s) + k * work)


def with_layouts(ensemble):
    """An ensemble table with its `layout` and `default_layout` columns (tables from before the sequential layout
    timed the vectorised one only, then the only one)."""
    if "layout" not in ensemble:
        ensemble = ensemble.assign(layout="vectorised", default_layout=True)
    return ensemble
