"""How `lte bench` times a step: in warm blocks, in rotation with the steps it is compared with, at full float32
matmul precision; and this device's matmul peak, the reference for a step's FLOP/s."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp

# Full float32 matmuls in both frameworks: TF32 (a GPU's default in some libraries) would be another benchmark.
MATMUL_PRECISION = "highest"
MIN_TIMED_SECONDS = 0.02  # each timed block runs enough steps to last at least this long (small shapes)
WARM_CALL_BELOW_SECONDS = 0.1  # steps shorter than this get an untimed call before each timed block


def matmul_peak(n: int = 2048, min_seconds: float = 0.2, repeats: int = 5) -> float:
    """FLOP/s of a large float32 matmul on the default device (this run's peak reference); each timing runs
    enough matmuls to last `min_seconds`, so that a fast GPU is timed at its peak, not at its launch overhead."""
    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.float32)
    f = jax.jit(lambda x: x @ x)
    f(a).block_until_ready()
    start = time.perf_counter()
    f(a).block_until_ready()
    inner = max(1, math.ceil(min_seconds / max(time.perf_counter() - start, 1e-9)))

    def many():
        out = None
        for _ in range(inner):
            out = f(a)
        out.block_until_ready()

    return 2 * n**3 * inner / _median_seconds(many, repeats)


def _median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_seconds(blocks: list[Callable[[], float]], repeats: int) -> list[list[float]]:
    """Each block run `repeats` times in rotation (a, b, c, a, b, c, ...), so that a slow spell of the machine
    falls on all of them alike and the per-repeat ratios are paired. A block returns the seconds it measured."""
    times: list[list[float]] = [[] for _ in blocks]
    for _ in range(repeats):
        for block, seen in zip(blocks, times):
            seen.append(block())
    return times


def warm_block(fn: Callable[[], None], inner: int, warm: bool = True) -> Callable[[], float]:
    """A block of `fn`: one untimed call (unless `warm` is False), then `inner` timed ones; returns their seconds
    per call.

    The untimed call refills the caches that the step before it in the rotation evicted: timed cold, a small
    step right after a large one reads slower than it runs in a training loop, where it follows itself."""

    def run() -> float:
        if warm:
            fn()
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        return (time.perf_counter() - start) / inner

    return run


def _step_estimate(fn: Callable[[], None]) -> float:
    """A step's seconds, roughly (it only sizes the timed blocks): one call, or for a short step the median of
    three (one call of a long step is enough, and three would cost a table seconds)."""
    start = time.perf_counter()
    fn()
    once = time.perf_counter() - start
    return once if once >= MIN_TIMED_SECONDS else max(_median_seconds(fn, 3), 1e-9)


def per_step_seconds(steps: list[Callable[[], None]], repeats: int) -> list[list[float]]:
    """Per-step seconds of each step, timed in rotation (`interleaved_seconds`) in warm blocks (`warm_block`)
    of enough steps of its own to last MIN_TIMED_SECONDS (a small step is too short to time alone). A step of
    WARM_CALL_BELOW_SECONDS or more is timed without the untimed call first: refilling the caches (at most the
    last-level cache) is a small share of so long a step, alike for every step of the rotation, and the call
    would double the time the table's longest steps take."""
    estimates = [_step_estimate(fn) for fn in steps]
    return interleaved_seconds(
        [
            warm_block(fn, max(1, math.ceil(MIN_TIMED_SECONDS / t)), t < WARM_CALL_BELOW_SECONDS)
            for fn, t in zip(steps, estimates)
        ],
        repeats,
    )
