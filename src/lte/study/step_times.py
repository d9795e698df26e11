"""`lte step-times`: each convergence variant's seconds per training step, measured side by side.

Question 2 compares learning curves in seconds. A sweep's own wall times are
no measure of speed (its workers share the machine with each other and with
whatever else runs), so each variant's time per step is measured here, in one
process pinned to one core as a sweep worker is, with the variants' steps timed
in rotation (repeat 1: A, B, C; repeat 2: A, B, C; ...) so that a drift of the
machine's speed touches them alike. The median over repeats is the variant's
time per step; the result goes to results/runs/<profile>/convergence/step_times.json
with its provenance.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from lte.study.experiment import RESULTS, runs_dir


def _measure(configs: dict[str, dict], repeats: int, steps: int) -> dict:
    """In a worker process: {variant: [seconds per step, one per repeat]}."""
    import jax

    from lte.core.config import TrainConfig
    from lte.core.data import TrainingBatches
    from lte.core.train import compiled_train_step, init_train_state, with_learning_rate

    prepared = {}
    for variant, config_json in configs.items():
        config = TrainConfig.from_json(config_json)
        batches = TrainingBatches(config)
        batch = batches.get(0, config.spec().target)
        batches.close()
        step = compiled_train_step(config.model_config(), config.clip)
        state = with_learning_rate(init_train_state(config), config.resolved_learning_rate)
        for _ in range(3):  # compile and warm up
            state, counts = step(state, batch)
        jax.block_until_ready(counts)
        prepared[variant] = [step, state, batch]
    times: dict[str, list[float]] = {v: [] for v in prepared}
    for _ in range(repeats):
        for variant, entry in prepared.items():
            step, state, batch = entry
            start = time.perf_counter()
            for _ in range(steps):
                state, counts = step(state, batch)
            jax.block_until_ready((state, counts))
            times[variant].append((time.perf_counter() - start) / steps)
            entry[1] = state
    return times


def measure_step_times(profile: str, results: Path = RESULTS, repeats: int = 7, steps: int = 100, log=print) -> Path:
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from lte.core.errors import LteError
    from lte.core.provenance import provenance
    from lte.core.run_folder import read_index
    from lte.core.runtime import set_environment, single_threaded_cpu_env

    if repeats < 1 or steps < 1:
        raise LteError(f"repeats and steps must be at least 1, got {repeats} and {steps}")
    root = runs_dir("convergence", profile, results)
    index_path = root / "cells.json"
    if not index_path.exists():
        raise LteError(
            f"{index_path} is missing: run `lte sweep experiments/convergence.toml --profile {profile}` "
            "first (its cells' configs are what is timed)"
        )
    configs = {}
    for cell in read_index(index_path).get("cells", []):
        configs.setdefault(cell["labels"].get("variant_id", cell["config"]["model"]), cell["config"])
    log(f"timing {', '.join(configs)}: {repeats} rotations of {steps} steps each, one core")
    start = time.perf_counter()
    with ProcessPoolExecutor(
        1, mp_context=get_context("spawn"), initializer=set_environment, initargs=(single_threaded_cpu_env(),)
    ) as pool:
        times = pool.submit(_measure, configs, repeats, steps).result()
    record = {
        "variants": {
            v: {
                "seconds_per_step": statistics.median(t),
                "per_repeat": t,
                "model": configs[v]["model"],
                "hidden": configs[v]["hidden"],
            }
            for v, t in times.items()
        },
        "repeats": repeats,
        "steps_per_repeat": steps,
        "threads": "one core (XLA single-threaded)",
        "wall_time": time.perf_counter() - start,
        "provenance": provenance(),
    }
    path = root / "step_times.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    for v, entry in record["variants"].items():
        log(f"{v}: {1000 * entry['seconds_per_step']:.3f} ms per step")
    return path
