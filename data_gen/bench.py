"""How fast each data path delivers encoded training examples (not a test: nothing is asserted).

    python -m data_gen bench [--seconds 3]

Measured side by side in one run at (length 6, nesting 3), baseline strategy,
train split, batches of 100 rows x 256 characters.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable

from data_gen.batches import encode_examples, training_batch
from data_gen.pool import build_pool, pool_batch
from data_gen.tasks import TaskSpec, sample_examples

GOAL = 50_000
ROWS, ROW_LENGTH = 100, 256


def _rate(work: Callable[[int], int], seconds: float) -> float:
    """Examples per second of `work(i)` (returns examples made) called until `seconds` pass."""
    start, done, i = time.perf_counter(), 0, 0
    while (elapsed := time.perf_counter() - start) < seconds or i == 0:
        done += work(i)
        i += 1
    return done / elapsed


def run_benchmark(seconds: float = 3.0, workers: int | None = None) -> dict[str, float]:
    spec = TaskSpec("program", 6, 3)
    level = spec.target
    workers = workers or os.cpu_count() or 1

    def plain(i: int) -> int:
        examples = sample_examples(spec, 200, seed=i, level=level)
        encode_examples(examples)
        return len(examples)

    def fresh(i: int) -> int:
        return training_batch(spec, level, ROWS, ROW_LENGTH, seed=0, index=i).example_count

    start = time.perf_counter()
    pool = build_pool(spec, level, "train", 1 << 16, workers=workers)
    build_rate = len(pool) / (time.perf_counter() - start)

    def pooled(i: int) -> int:
        return pool_batch(pool, ROWS, ROW_LENGTH, seed=0, index=i).example_count

    rates = {
        "plain generator (Example objects, 1 thread)": _rate(plain, seconds),
        "fresh packed batches (vectorised hash + encode, 1 thread)": _rate(fresh, seconds),
        f"pool build ({workers} processes, once per level)": build_rate,
        "pool batches (sampled from a cached pool, 1 thread)": _rate(pooled, seconds),
    }
    base = rates["plain generator (Example objects, 1 thread)"]
    print(
        f"data path at (6, 3), {ROWS} x {ROW_LENGTH} batches; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores"
    )
    print(f"{'path':62s} {'examples/s':>12s} {'x plain':>8s}")
    for name, rate in rates.items():
        print(f"{name:62s} {rate:12,.0f} {rate / base:8.1f}")
    delivered = rates["pool batches (sampled from a cached pool, 1 thread)"]
    verdict = "met" if delivered >= GOAL else "MISSED"
    print(f"goal: {GOAL:,} delivered examples/s -> {verdict} ({delivered:,.0f})")
    return rates
