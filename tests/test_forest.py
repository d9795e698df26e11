"""The forest plots draw one interval per comparison of the tables, the ±δ band at its width, and a marker per
decision; intervals past the panel are cut at its edge and marked."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lte.study.analysis import forest
from lte.study.analysis.comparisons import DELTA
from lte.study.analysis.question1 import DELTA_GAIN

NAN = float("nan")


def _intervals(ax) -> list:
    return [segment for c in ax.collections if c.get_gid() == "intervals" for segment in c.get_segments()]


def _band_width(ax) -> float:
    band = next(p for p in ax.patches if p.get_gid() == "band")  # a Rectangle: x and width in data units
    return float(band.get_width())


def _markers(ax, decision: str) -> int:
    return sum(len(c.get_offsets()) for c in ax.collections if c.get_gid() == f"estimates:{decision}")


def test_draw_forest_draws_each_finite_interval_the_band_and_the_cut_ends():
    fig, ax = forest.new_figure(1, 1, figsize=(4, 3))
    rows = [
        forest.ForestRow(0, 0.02, -0.01, 0.04, "equivalent"),
        forest.ForestRow(1, 0.30, 0.10, 0.50, "higher"),
        forest.ForestRow(2, -0.10, -5.0, 4.0, "unclear"),  # far past both edges
        forest.ForestRow(3, 0.05, NAN, NAN, "unclear"),  # one paired seed: no interval, still a marker
    ]
    forest.draw_forest(ax, rows, DELTA, window=1.0)
    segments = _intervals(ax)
    assert len(segments) == 3
    assert all(-1.0 <= x <= 1.0 for segment in segments for x, _ in segment)
    assert _band_width(ax) == pytest.approx(2 * DELTA)
    assert sorted(line.get_marker() for line in ax.lines if line.get_gid() == "past_edge") == ["<", ">"]
    assert (_markers(ax, "equivalent"), _markers(ax, "higher"), _markers(ax, "unclear")) == (1, 1, 2)


def test_a_difference_of_accuracies_is_clipped_to_its_possible_range():
    fig, ax = forest.new_figure(1, 1, figsize=(4, 3))
    forest.draw_forest(ax, [forest.ForestRow(0, 0.4, -1.8, 2.6, "unclear")], DELTA, window=1.0, bounds=(-1, 1))
    (segment,) = _intervals(ax)
    assert [x for x, _ in segment] == [-1.0, 1.0]
    assert not [line for line in ax.lines if line.get_gid() == "past_edge"]  # cut by the bound, not the window


def test_the_window_caps_estimates_and_intervals_alike():
    rows = [forest.ForestRow(0, -3.0, -50.0, 40.0, "unclear"), forest.ForestRow(1, 0.1, 0.0, 0.2, "higher")]
    assert forest.forest_window(rows, DELTA_GAIN, cap=5.0) == pytest.approx(5.0)  # the interval capped
    assert forest.forest_window(rows[:1] + [forest.ForestRow(2, -1.0, -1.5, -0.5, "lower")], DELTA_GAIN, 5.0) == (
        pytest.approx(5.0)
    )
    assert forest.forest_window(rows[1:], DELTA_GAIN, cap=2.0) == pytest.approx(3 * DELTA_GAIN)  # the band in view


def test_an_estimate_past_the_edge_sits_on_it_with_its_value_written():
    fig, ax = forest.new_figure(1, 1, figsize=(4, 3))
    rows = [forest.ForestRow(0, -57.2, -104.7, -9.6, "lower"), forest.ForestRow(1, 0.5, 0.2, 0.8, "higher")]
    forest.draw_forest(ax, rows, DELTA_GAIN, window=5.0)
    (offsets,) = [c.get_offsets() for c in ax.collections if c.get_gid() == "estimates:lower"]
    assert offsets[0][0] == pytest.approx(-5.0)
    (label,) = [t for t in ax.texts if t.get_gid() == "past_edge_value"]
    assert label.get_text() == "-57.2"


def _gains() -> pd.DataFrame:
    rows = []
    for task, factors in (("addition (2 digits)", ["mix vs baseline", "naive vs baseline"]), ("copy", ["x"])):
        for factor in factors:
            for model, mean in (("lstm", 0.3), ("irnn", -0.1)):
                low, high = (NAN, NAN) if factor == "x" and model == "irnn" else (mean - 0.1, mean + 0.1)
                decision = "higher" if model == "lstm" else "unclear"
                rows.append(
                    {"task": task, "factor": factor, "model": model, "mean": mean, "low": low, "high": high}
                    | {"decision": decision, "act": decision, "rising": False, "level": 0.99}
                )
    return pd.DataFrame(rows)


def test_question1_forest_draws_an_interval_per_factor_and_model_of_each_task():
    gains = _gains()
    fig = forest.question1_figure(gains)
    axes = fig.axes
    assert len(axes) == gains.task.nunique()
    for ax, (task, here) in zip(axes, gains.groupby("task", sort=False)):
        finite = here[np.isfinite(here.low) & np.isfinite(here.high)]
        assert len(_intervals(ax)) == len(finite), task
        assert _band_width(ax) == pytest.approx(2 * DELTA_GAIN)
        assert [t.get_text() for t in ax.get_yticklabels()] == list(dict.fromkeys(here.factor))
        assert _markers(ax, "higher") == int((here.decision == "higher").sum())
    legend = fig.legends[0]
    assert {"LSTM", "IRNN", "helps", "hurts", "unclear"} <= {t.get_text() for t in legend.get_texts()}


def test_question3_forest_draws_an_interval_per_other_setting():
    def table(others: list[str], decisions: list[str]) -> pd.DataFrame:
        return pd.DataFrame(
            {"other": others, "mean": 0.02, "low": -0.01, "high": 0.05, "decision": decisions, "interval level": 0.98}
        )

    parts = {
        model: {
            "computation": {"winner": "mix", "table": table(["baseline", "naive"], ["equivalent", "unclear"])},
            "memorisation": {"winner": "mix + none", "table": table(["a", "b", "c"], ["higher", "lower", "rising"])},
        }
        for model in ("irnn", "lstm")
    }
    fig = forest.question3_figure(parts)
    assert len(fig.axes) == 4
    for ax in fig.axes:
        model = "irnn" if ax.get_title().startswith("IRNN") else "lstm"
        task = "computation" if "computation" in ax.get_title() else "memorisation"
        assert len(_intervals(ax)) == len(parts[model][task]["table"])
        assert _band_width(ax) == pytest.approx(2 * DELTA)
        assert math.isclose(ax.get_xlim()[1], -ax.get_xlim()[0])  # symmetric about 0
    assert "unclear: a cell still rising" in {t.get_text() for t in fig.legends[0].get_texts()}
