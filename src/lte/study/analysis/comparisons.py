"""What every question's verdict is made of: the runs of an experiment, pairs by seed, and comparisons decided
within their family from the interval printed beside them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lte.study.analysis.labels import task_name
from lte.study.analysis.question1 import decide_by_interval, fcr_interval, fcr_level
from lte.study.analysis.records import load_runs
from lte.study.analysis.stats import Estimate, benjamini_hochberg, format_interval, no_interval_note
from lte.study.experiment import RESULTS

METRIC = "test_char_accuracy"
SELECTION_METRIC = "val_target_char_accuracy"
DELTA = 0.05
ALPHA = 0.05
MODELS = ("lstm", "irnn")


@dataclass
class Comparison:
    """One test of a family: an estimate, its adjusted p-value, the interval the decision reads, the decision."""

    label: dict
    estimate: Estimate
    p_difference: float = float("nan")
    level: float = float("nan")
    low: float = float("nan")
    high: float = float("nan")
    decision: str = "unclear"


def decide_family(comparisons: list[Comparison], delta: float = DELTA) -> list[Comparison]:
    """Decide each comparison from its false-coverage-rate interval (docs/preregistration.md, section 8): the
    level 1 - ALPHA * R / m, R the family's tests that Benjamini-Hochberg rejects; the interval printed is the
    one read."""
    if not comparisons:
        return comparisons
    p_values = [c.estimate.p_value for c in comparisons]
    level = fcr_level(p_values, ALPHA)
    for c, p_adjusted in zip(comparisons, benjamini_hochberg(p_values)):
        c.p_difference, c.level = float(p_adjusted), level
        c.low, c.high = fcr_interval(c.estimate, level)
        c.decision = decide_by_interval(c.low, c.high, delta)
    return comparisons


def _estimate_text(c: Comparison) -> str:
    """The difference and its decision's interval, clipped to [-1, 1] (a difference of two accuracies), or why
    it has none."""
    if math.isnan(c.low) or math.isnan(c.high):
        return f"{c.estimate.mean:.3f} ({no_interval_note(c.estimate) or 'no interval'})"
    return format_interval(c.estimate.mean, c.low, c.high, bounds=(-1.0, 1.0))


def comparisons_frame(comparisons: list[Comparison]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                **c.label,
                "estimate": _estimate_text(c),
                "mean": c.estimate.mean,
                "low": c.low,
                "high": c.high,
                "method": c.estimate.method,
                "p (BH)": c.p_difference,
                "interval level": c.level,
                "decision": c.decision,
            }
            for c in comparisons
        ]
    )


class Pending(Exception):
    """Records of an experiment the question needs are not (all) there yet."""


def _runs(experiment: str, profile: str, results: Path) -> pd.DataFrame:
    """The experiment's finished runs that did not diverge (`diverged_runs` lists those that did)."""
    try:
        runs = load_runs(experiment, profile, results)
    except FileNotFoundError as error:
        raise Pending(str(error)) from None
    runs = runs[~runs.diverged.astype(bool)] if "diverged" in runs else runs
    return runs.assign(task_name=runs.apply(task_name, axis=1))


def diverged_runs(
    profile: str,
    results: Path = RESULTS,
    experiments: tuple[str, ...] = ("program", "addition", "memorisation", "convergence"),
) -> list[str]:
    """experiment/cell of every finished run of the judged experiments that diverged."""
    found = []
    for experiment in experiments:
        try:
            runs = load_runs(experiment, profile, results, require_all=False)
        except FileNotFoundError:
            continue
        if "diverged" in runs:
            found += [f"{experiment}/{cell}" for cell in runs[runs.diverged.astype(bool)].cell]
    return found


def _by_seed(runs: pd.DataFrame, metric: str = METRIC) -> pd.Series:
    return runs.set_index("cfg_seed")[metric].sort_index()


def _paired(treated: pd.DataFrame, control: pd.DataFrame, metric: str = METRIC) -> tuple[np.ndarray, np.ndarray]:
    """The two arms' values on the seeds both have, in seed order."""
    a, b = _by_seed(treated, metric), _by_seed(control, metric)
    seeds = a.index.intersection(b.index)
    return a.loc[seeds].to_numpy(float), b.loc[seeds].to_numpy(float)
