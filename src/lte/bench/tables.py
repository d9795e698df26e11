"""`lte bench`'s step table (each cell at each shape, the project's step beside the references, timed in
rotation; on a CPU again with one core each) and the CSV writer both tables share."""

from __future__ import annotations

import csv
import json
import os
import statistics
import time
from pathlib import Path

import jax

from lte.bench.device import device_name, gpu_unused_warning, split_devices
from lte.bench.references import cudnn_lstm_step, torch_step, torch_threads, torch_version
from lte.bench.shapes import Shape
from lte.bench.steps import COUNTING_RULE, SEEDS, jax_step, split_step
from lte.bench.timing import MATMUL_PRECISION, matmul_peak, per_step_seconds
from lte.core.cells import CELLS
from lte.core.provenance import provenance
from lte.core.recurrence import is_additive


def run_benchmark(
    shapes: list[Shape],
    cells: list[str] | None = None,
    repeats: int = 5,
    out_dir: Path = Path("results/bench"),
    log=print,
    autodiff: bool = False,
) -> Path:
    """Every cell at every shape: the fused step, PyTorch's, the step split over the CPU devices and (on a GPU,
    LSTM) JAX's cuDNN LSTM, timed in rotation; one CSV row per (cell, shape). With `autodiff`, plain autodiff's
    step too (the fused gradient's gain; `lte bench --full`: it costs a compile and a timed step per row)."""
    cells, start = cells or list(CELLS), time.perf_counter()
    warning = gpu_unused_warning()
    if warning:
        log(warning)
    on_gpu = jax.default_backend() == "gpu"
    with jax.default_matmul_precision(MATMUL_PRECISION):
        peak = matmul_peak()
        device = device_name()
        log(
            f"device {device}; {os.cpu_count()} CPU cores; jax {jax.__version__}; float32 matmuls at precision "
            f"{MATMUL_PRECISION!r} in JAX and PyTorch; matmul peak measured now: {peak / 1e9:.1f} GFLOP/s"
        )
        log(COUNTING_RULE)
        log(
            f"{'cell':6s} {'shape':>18s} {'compile s':>9s} {'step ms':>9s} {'tokens/s':>10s} {'% peak':>6s} "
            f"{'mem MB':>7s} {'autodiff':>9s} {'torch ms':>9s} {'jax/torch':>9s} {'split ms':>9s} {'split/torch':>11s}"
        )
        rows = []
        for shape in shapes:
            for cell in cells:
                rows.append(_bench_row(cell, shape, repeats, peak, device, on_gpu, log, autodiff))
    compared = [row for row in rows if row["torch_step_s"]]
    if compared and not on_gpu:
        log("\none core each (XLA and PyTorch single-threaded, in a fresh process), as `lte sweep`'s workers run:")
        log(f"{'cell':6s} {'shape':>18s} {'step ms':>9s} {'torch ms':>9s} {'jax/torch':>9s}")
        pairs = [(row["cell"], {k: row[k] for k in ("hidden", "batch", "steps", "layers")}) for row in compared]
        with_one_core_columns(compared, timed_on_one_core(pairs, one_core_repeats(repeats)))
        for row in compared:
            if "step_1core_s" in row:
                label = Shape(row["hidden"], row["batch"], row["steps"], row["layers"]).label
                log(
                    f"{row['cell']:6s} {label:>18s} {1000 * row['step_1core_s']:9.2f} "
                    f"{1000 * row['torch_step_1core_s']:9.2f} {row['jax_over_torch_1core']:9.2f}"
                )
    return write_csv(
        rows,
        out_dir / f"{device}.csv",
        log,
        repeats=repeats,
        shapes=[vars(s) for s in shapes],
        cells=cells,
        autodiff=autodiff,
        counting_rule=COUNTING_RULE,
        seeds=SEEDS,
        matmul_precision=MATMUL_PRECISION,
        torch_threads=torch_threads(),
        wall_s=round(time.perf_counter() - start, 1),
    )


def _bench_row(
    cell: str, shape: Shape, repeats: int, peak: float, device: str, on_gpu: bool, log, autodiff: bool = False
) -> dict:
    """One row of the step table: `cell` at `shape`, each step there is to compare timed in one rotation; the row
    is logged as the table's line."""
    fused, r = jax_step(cell, shape)
    candidates = {
        "fused": fused,
        "autodiff": jax_step(cell, shape, "autodiff")[0] if autodiff and is_additive(CELLS[cell]) else None,
        "torch": torch_step(cell, shape, log),
        "cudnn": cudnn_lstm_step(shape) if on_gpu and cell == "lstm" else None,
    }
    devices = split_devices(shape, on_gpu)
    if devices:
        candidates["split"] = split_step(cell, shape, devices)
    timed = {name: fn for name, fn in candidates.items() if fn is not None}
    times = dict(zip(timed, per_step_seconds(list(timed.values()), repeats)))
    median = {name: statistics.median(t) for name, t in times.items()}
    step_s, plain, torch_s = median["fused"], median.get("autodiff"), median.get("torch")
    # each repeat's own JAX / PyTorch ratio: their spread says whether a small difference is noise
    paired = sorted(a / b for a, b in zip(times["fused"], times["torch"])) if torch_s else None
    row = {
        "device": device,
        "cell": cell,
        "hidden": shape.hidden,
        "batch": shape.batch,
        "steps": shape.steps,
        "layers": shape.layers,
        "compile_s": r["compile_s"],
        "flop_per_step": r["flop_per_step"],
        "memory_mb": r["memory_mb"],
        "step_s": step_s,
        "tokens_per_s": shape.batch * shape.steps / step_s,
        "flop_per_s": r["flop_per_step"] / step_s,
        "matmul_peak_flop_per_s": peak,
        "fraction_of_peak": r["flop_per_step"] / step_s / peak,
        "autodiff_step_s": plain,
        "fused_over_autodiff": step_s / plain if plain else None,
        "torch_step_s": torch_s,
        "torch_version": torch_version() if torch_s else None,
        "jax_over_torch": step_s / torch_s if torch_s else None,
        "jax_over_torch_min": paired[0] if paired else None,
        "jax_over_torch_max": paired[-1] if paired else None,
        "cudnn_step_s": median.get("cudnn"),
        "repeats": repeats,
        "jax_version": jax.__version__,
        "cpu_count": os.cpu_count(),
    }
    if "split" in median:  # all cores on one model, as PyTorch's step uses them
        row.update(split_devices=devices, split_step_s=median["split"])
        if torch_s:
            split = sorted(a / b for a, b in zip(times["split"], times["torch"]))
            row.update(
                split_over_torch=median["split"] / torch_s,
                split_over_torch_min=split[0],
                split_over_torch_max=split[-1],
            )

    def ms(value):
        return f"{1000 * value:9.2f}" if value else f"{'-':>9s}"

    memory = f"{r['memory_mb']:7.1f}" if r["memory_mb"] is not None else f"{'-':>7s}"
    ratio = f"{row['jax_over_torch']:9.2f}" if torch_s else f"{'-':>9s}"
    log(
        f"{cell:6s} {shape.label:>18s} {r['compile_s']:9.2f} {ms(step_s)} {row['tokens_per_s']:10.0f} "
        f"{100 * row['fraction_of_peak']:6.1f} {memory} {ms(plain)} {ms(torch_s)} {ratio} {ms(median.get('split'))}"
        + (f" {row['split_over_torch']:11.2f}" if "split_over_torch" in row else f" {'-':>11s}")
    )
    return row


def one_core_seconds(pairs: list[tuple[str, dict]], repeats: int) -> list[tuple[list[float], list[float]] | None]:
    """In a process started single-threaded (`timed_on_one_core`), PyTorch held to one thread too: each
    (cell, shape)'s fused JAX step and PyTorch step, timed in rotation; None where PyTorch has no such step."""
    import torch

    torch.set_num_threads(1)
    times = []
    with jax.default_matmul_precision(MATMUL_PRECISION):
        for cell, shape in pairs:
            theirs = torch_step(cell, Shape(**shape), log=lambda _: None)
            times.append(
                None
                if theirs is None
                else tuple(per_step_seconds([jax_step(cell, Shape(**shape))[0], theirs], repeats))
            )
    return times


def one_core_repeats(repeats: int) -> int:
    """Repeats of the one-core table: half the main table's, rounded down (at least 3, at most `repeats`), so
    that a default `make bench` stays within 5 minutes on the 2-core reference machine."""
    return min(repeats, max(3, repeats // 2))


def timed_on_one_core(pairs: list[tuple[str, dict]], repeats: int) -> list[tuple[list[float], list[float]] | None]:
    """`one_core_seconds` in a fresh process with one XLA thread and one PyTorch thread: each framework on one
    core, as `lte sweep`'s workers run (one single-threaded process per core)."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from lte.core.runtime import set_environment, single_threaded_cpu_env

    with ProcessPoolExecutor(
        1, mp_context=get_context("spawn"), initializer=set_environment, initargs=(single_threaded_cpu_env(),)
    ) as pool:
        return pool.submit(one_core_seconds, pairs, repeats).result()


def with_one_core_columns(rows: list[dict], times: list[tuple[list[float], list[float]] | None]) -> None:
    """Each row's one-core JAX and PyTorch steps (medians, and the paired per-repeat ratios' extremes)."""
    for row, pair in zip(rows, times):
        if pair is None:
            continue
        ours, theirs = pair
        paired = sorted(a / b for a, b in zip(ours, theirs))
        row.update(
            repeats_1core=len(ours),
            step_1core_s=statistics.median(ours),
            torch_step_1core_s=statistics.median(theirs),
            jax_over_torch_1core=statistics.median(ours) / statistics.median(theirs),
            jax_over_torch_1core_min=paired[0],
            jax_over_torch_1core_max=paired[-1],
        )


def write_csv(rows: list[dict], path: Path, log=print, **run: object) -> Path:
    """The table, and beside it <stem>.provenance.json: commit, device, versions, wall time, the run's settings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(dict.fromkeys(key for row in rows for key in row)))
        writer.writeheader()
        writer.writerows(rows)
    record = {**provenance(), "torch": torch_version(), **run}
    path.with_suffix(".provenance.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
    log(f"wrote {path} (provenance beside it)")
    return path
