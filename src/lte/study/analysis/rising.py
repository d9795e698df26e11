"""Budgets that finish (docs/preregistration.md, section 2): each run's final slope, and the cells still rising.

A run's final slope is the least-squares slope of its test character accuracy over the last
FINAL_FRACTION of its steps, per 1,000 steps; a cell (its runs over seeds) is rising when the mean of its
runs' final slopes exceeds RISING_SLOPE. A comparison that involves a rising cell is not decided.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lte.study.analysis.records import load_curves
from lte.study.experiment import RESULTS

FINAL_FRACTION = 0.2
RISING_SLOPE = 0.01  # test accuracy per 1,000 steps
METRIC = "test_char_accuracy"


def final_slope(steps: np.ndarray, values: np.ndarray, fraction: float = FINAL_FRACTION) -> float:
    """Slope per 1,000 steps of `values` over the evaluations in the last `fraction` of the run's steps
    (NaN with fewer than two there)."""
    steps, values = np.asarray(steps, float), np.asarray(values, float)
    keep = (steps >= steps.max() * (1.0 - fraction)) & np.isfinite(values)
    if keep.sum() < 2 or np.ptp(steps[keep]) == 0:
        return float("nan")
    return float(np.polyfit(steps[keep] / 1000.0, values[keep], 1)[0])


def run_slopes(curves: pd.DataFrame, metric: str = METRIC) -> pd.Series:
    """Each run's (`cell`'s) final slope, from one row per evaluation."""
    return curves.groupby("cell").apply(lambda run: final_slope(run["step"], run[metric]), include_groups=False)


def cell_slopes(curves: pd.DataFrame, by: list[str], metric: str = METRIC) -> pd.DataFrame:
    """Per cell (the columns `by`, seeds pooled): its runs' mean final slope, their count and `rising`."""
    slopes = run_slopes(curves, metric).rename("final_slope")
    labels = curves.drop_duplicates("cell").set_index("cell")[by]
    table = labels.join(slopes).groupby(by, dropna=False)["final_slope"].agg(["mean", "count"]).reset_index()
    table = table.rename(columns={"mean": "final_slope", "count": "runs"})
    table["rising"] = table["final_slope"] > RISING_SLOPE
    return table


def rising_runs(experiment: str, profile: str, results: Path = RESULTS) -> set[str]:
    """The runs (`cell` names) of every cell of `experiment` (its runs over seeds, by their non-seed labels)
    that is still rising."""
    curves = load_curves(experiment, profile, results)
    if curves.empty:
        return set()
    by = sorted(c for c in curves.columns if c.startswith("label_") and c != "label_seed")
    table = cell_slopes(curves, by)
    runs_of = curves.drop_duplicates("cell").set_index(by)["cell"]
    return {
        cell
        for key in table[table.rising][by].itertuples(index=False)
        for cell in np.atleast_1d(runs_of.loc[tuple(key)] if len(by) > 1 else runs_of.loc[key[0]])
    }


def slopes_section(experiments: dict[str, pd.DataFrame]) -> list[str]:
    """The report's table of every cell's final slope (`experiments[name]`: its curves), rising cells marked."""
    lines = [
        "## Budgets: every cell's final slope",
        "",
        f"Per cell (its runs over seeds): the mean final slope of test character accuracy over the last "
        f"{FINAL_FRACTION:.0%} of each run's steps, per 1,000 steps; **rising** above {RISING_SLOPE} (a "
        "comparison involving it decides nothing).",
        "",
    ]
    for name, curves in experiments.items():
        if curves.empty:
            continue
        by = sorted(c for c in curves.columns if c.startswith("label_") and c != "label_seed")
        table = cell_slopes(curves, by)
        shown = [c.removeprefix("label_") for c in by]
        lines += [
            f"**{name}** ({int(table.rising.sum())} of {len(table)} cells rising)",
            "",
            "| " + " | ".join(shown) + " | runs | final slope |",
            "|" + "---|" * (len(shown) + 2),
        ]
        for row in table.itertuples(index=False):
            values = [str(v) for v in row[: len(by)]]
            slope = f"{row.final_slope:+.4f}" + (" **rising**" if row.rising else "")
            lines.append("| " + " | ".join(values) + f" | {row.runs} | {slope} |")
        lines.append("")
    return lines
