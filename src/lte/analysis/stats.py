"""Means with 95% bootstrap intervals over seeds, and differences of means."""

from __future__ import annotations

import numpy as np

RESAMPLES = 10_000


def bootstrap_mean(values, *, seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): the percentile bootstrap interval of the mean."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(RESAMPLES, x.size))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    return float(x.mean()), float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail))


def bootstrap_difference(a, b, *, seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """(mean(a) - mean(b), low, high), each group resampled on its own."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    rng = np.random.default_rng(seed)
    dx = x[rng.integers(0, x.size, size=(RESAMPLES, x.size))].mean(axis=1)
    dy = y[rng.integers(0, y.size, size=(RESAMPLES, y.size))].mean(axis=1)
    diffs = dx - dy
    tail = (1 - level) / 2 * 100
    return float(x.mean() - y.mean()), float(np.percentile(diffs, tail)), float(np.percentile(diffs, 100 - tail))


def classify(low: float, high: float) -> str:
    """'helps' when the whole interval is above 0, 'hurts' when below, else 'unclear'."""
    if low > 0:
        return "helps"
    if high < 0:
        return "hurts"
    return "unclear"


def format_interval(mean: float, low: float, high: float, digits: int = 3) -> str:
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"
