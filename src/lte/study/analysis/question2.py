"""Question 2's rule (docs/preregistration.md, section 6): does the IRNN converge faster?

Each IRNN variant (equal units, equal parameters) is set against the LSTM on the area under each run's test
curve (its mean accuracy over the window all runs share), IRNN minus LSTM, Welch, on three clocks: steps,
the run's own seconds (`wall_time`, the training loop's clock: it decides the seconds verdict) and seconds
from the step timed alone (reported beside it). All comparisons form one family, decided from the
false-coverage-rate interval as in question 1 (section 8). Steps and seconds to each target, with the
fraction of runs that reach it, and each variant's final accuracy are reported beside the verdicts.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from data_gen.vocab import VOCAB_SIZE
from lte.study.analysis.question1 import decide_by_interval, fcr_interval, fcr_level
from lte.study.analysis.stats import benjamini_hochberg, welch_difference
from lte.study.parameters import WITHIN, equal_parameter_hidden, equal_parameter_width  # noqa: F401

METRIC = "test_char_accuracy"
TARGETS = (0.5, 0.6, 0.7, 0.8)
DELTA = 0.05  # the smallest difference in area (mean accuracy) that matters
CLOCKS = ("steps", "run seconds", "step-alone seconds")
DECIDING_CLOCK = "run seconds"  # the runs' own measured training time decides; steps is its own measure
VERDICTS = {"higher": "yes", "lower": "no", "equivalent": "no", "unclear": "unclear", "rising": "unclear"}


def evaluations(curves: pd.DataFrame) -> pd.DataFrame:
    """The evaluation rows (a test accuracy recorded) of every run, one per (cell, step), sorted by step.

    A step written twice (a run resumed from a checkpoint) keeps its last row.
    """
    rows = curves[np.isfinite(pd.to_numeric(curves[METRIC], errors="coerce"))]
    return rows.drop_duplicates(["cell", "step"], keep="last").sort_values(["cell", "step"], ignore_index=True)


def run_seconds(curves: pd.DataFrame) -> pd.Series:
    """Each evaluation's seconds on the run's own clock: `wall_time`, the loop's cumulative training time."""
    return curves["wall_time"].astype(float)


def step_clock_seconds(curves: pd.DataFrame, ms_per_step: float) -> pd.Series:
    """Each evaluation's seconds on the step-alone clock: its step times the model's step time timed alone."""
    return curves["step"].astype(float) * ms_per_step / 1000.0


def area_under_curve(curve: np.ndarray, x: np.ndarray, upto: float) -> float:
    """Mean accuracy over x in [0, upto]: trapezoid over the evaluations, interpolated at `upto`.

    Before its first evaluation the curve holds that evaluation's value; `upto` past the last x is a
    ValueError (no curve is extrapolated).
    """
    curve, x = np.asarray(curve, float), np.asarray(x, float)
    if not 0 < upto <= x[-1]:
        raise ValueError(f"the window must lie in (0, {x[-1]:g}] (the curve's last x), got {upto:g}")
    inside = x < upto
    xs = np.concatenate([[0.0], x[inside], [upto]])
    ys = np.concatenate([[curve[0]], curve[inside], [np.interp(upto, x, curve)]])
    return float(np.sum((ys[1:] + ys[:-1]) / 2 * np.diff(xs)) / upto)


def held_area(curve: np.ndarray, x: np.ndarray, upto: float) -> float:
    """`area_under_curve` over [0, upto] for a run that may have stopped before `upto`: a stopped run holds its
    final accuracy (a sensitivity measure: the rule's own window never extrapolates)."""
    curve, x = np.asarray(curve, float), np.asarray(x, float)
    if upto > x[-1]:
        curve, x = np.append(curve, curve[-1]), np.append(x, upto)
    return area_under_curve(curve, x, upto)


def window_sensitivity(
    curves_by_variant: Mapping[str, pd.DataFrame], lstm_key: str, clock: str, windows: list[float]
) -> pd.DataFrame:
    """Each IRNN variant minus the LSTM in area on `clock` ('steps' or 'run seconds') over longer `windows`,
    stopped runs holding their final accuracy; Welch 95% intervals, unadjusted: reported beside the rule,
    never deciding (docs/preregistration.md, section 6 fixes the shared window)."""
    frames = {v: _clocked(c, None) for v, c in curves_by_variant.items()}
    rows = []
    for window in windows:
        areas = {
            v: [held_area(run[METRIC].to_numpy(), run[clock].to_numpy(), window) for _, run in _runs(f)]
            for v, f in frames.items()
        }
        for variant in (v for v in frames if v != lstm_key):
            e = welch_difference(areas[variant], areas[lstm_key])
            rows.append(
                {
                    "variant": variant,
                    "clock": clock,
                    "window": window,
                    "difference": e.mean,
                    "low": e.low,
                    "high": e.high,
                }
            )
    return pd.DataFrame(rows)


def time_to_target(curve: np.ndarray, x: np.ndarray, target: float) -> float:
    """The first x at which accuracy reaches `target`, interpolated linearly between evaluations; NaN if
    never. A first evaluation already at the target gives its own x."""
    curve, x = np.asarray(curve, float), np.asarray(x, float)
    hits = np.flatnonzero(curve >= target)
    if hits.size == 0:
        return float("nan")
    i = int(hits[0])
    if i == 0:
        return float(x[0])
    return float(x[i - 1] + (target - curve[i - 1]) / (curve[i] - curve[i - 1]) * (x[i] - x[i - 1]))


def reach_summary(times: np.ndarray) -> dict:
    """Over runs' times to one target (NaN: never reached): the median among the runs that reach it, and
    the fraction that do."""
    times = np.asarray(times, float)
    reached = times[np.isfinite(times)]
    return {
        "median": float(np.median(reached)) if reached.size else float("nan"),
        "fraction": reached.size / times.size if times.size else float("nan"),
        "runs": int(times.size),
    }


def equal_parameter_irnn_width(lstm_hidden: int = 64, layers: int = 1, vocab_size: int = VOCAB_SIZE) -> int:
    """The IRNN width with the parameter count nearest the LSTM's of `lstm_hidden` units (within WITHIN)."""
    return equal_parameter_hidden("irnn", "lstm", lstm_hidden, layers, vocab_size)


def _clocked(curves: pd.DataFrame, ms_per_step: float | None) -> pd.DataFrame:
    rows = evaluations(curves)
    clocks = {"steps": rows["step"].astype(float), "run seconds": run_seconds(rows)}
    if ms_per_step is not None:
        clocks["step-alone seconds"] = step_clock_seconds(rows, ms_per_step)
    return rows.assign(**clocks)


def _runs(frame: pd.DataFrame):
    return [(cell, run) for cell, run in frame.groupby("cell", sort=True)]


def judge(
    curves_by_variant: Mapping[str, pd.DataFrame],
    lstm_key: str,
    delta: float = DELTA,
    ms_per_step: Mapping[str, float] | None = None,
    rising: frozenset[str] = frozenset(),
) -> dict:
    """Question 2's verdicts: every IRNN variant minus the LSTM, per clock.

    `curves_by_variant[variant]` holds its runs' metrics rows (columns cell, step, wall_time and the test
    accuracy); `ms_per_step[variant]` its step time timed alone (None: the step-alone clock is left out);
    `rising` the variants with a rising cell (their comparisons are undecided, section 2). Returns:
    `comparisons` (one row per variant and clock: areas, difference, printed interval, decision, verdict
    'yes' / 'no' / 'unclear', whether that clock decides), `verdicts` {variant: {clock: verdict}},
    `verdict` {variant: verdict on the deciding clock}, `windows` {clock: shared window}, `level`,
    `areas` (per run), `to_target` (median and fraction reached per variant, clock and target) and
    `final` (final accuracy per variant).
    """
    if ms_per_step is not None and set(curves_by_variant) - set(ms_per_step):
        raise ValueError(f"no step time for {sorted(set(curves_by_variant) - set(ms_per_step))}")
    frames = {v: _clocked(c, None if ms_per_step is None else ms_per_step[v]) for v, c in curves_by_variant.items()}
    clocks = [c for c in CLOCKS if all(c in f for f in frames.values())]
    windows = {c: float(min(run[c].iloc[-1] for f in frames.values() for _, run in _runs(f))) for c in clocks}
    areas = pd.DataFrame(
        [
            {
                "variant": v,
                "cell": cell,
                "clock": c,
                "area": area_under_curve(run[METRIC].to_numpy(), run[c].to_numpy(), windows[c]),
            }
            for v, f in frames.items()
            for cell, run in _runs(f)
            for c in clocks
        ]
    )
    rows = []
    for variant in (v for v in frames if v != lstm_key):
        for clock in clocks:
            irnn, lstm = (areas[(areas.variant == v) & (areas.clock == clock)].area for v in (variant, lstm_key))
            rows.append(
                {
                    "variant": variant,
                    "clock": clock,
                    "window": windows[clock],
                    "irnn area": irnn.mean(),
                    "lstm area": lstm.mean(),
                    "estimate": welch_difference(irnn, lstm),
                }
            )
    p_values = [r["estimate"].p_value for r in rows]
    level = fcr_level(p_values)
    for r, p_adjusted in zip(rows, benjamini_hochberg(p_values) if rows else []):
        e = r.pop("estimate")
        low, high = fcr_interval(e, level)
        decision = "rising" if {r["variant"], lstm_key} & set(rising) else decide_by_interval(low, high, delta)
        r.update(
            {
                "difference": e.mean,
                "low": low,
                "high": high,
                "level": level,
                "p (BH)": float(p_adjusted),
                "method": e.method,
                "decision": decision,
                "verdict": VERDICTS[decision],
                "decides": r["clock"] == DECIDING_CLOCK,
            }
        )
    comparisons = pd.DataFrame(rows)
    verdicts = {v: dict(zip(g.clock, g.verdict)) for v, g in comparisons.groupby("variant", sort=False)} if rows else {}
    reach = []
    for v, f in frames.items():
        for c in clocks:
            for target in TARGETS:
                times = [time_to_target(run[METRIC].to_numpy(), run[c].to_numpy(), target) for _, run in _runs(f)]
                reach.append({"variant": v, "clock": c, "target": target, **reach_summary(np.array(times))})
    final = pd.DataFrame(
        [
            {
                "variant": v,
                "runs": len(_runs(f)),
                "final accuracy": float(np.mean([run[METRIC].iloc[-1] for _, run in _runs(f)])),
            }
            for v, f in frames.items()
        ]
    )
    return {
        "comparisons": comparisons,
        "verdicts": verdicts,
        "verdict": {v: by_clock.get(DECIDING_CLOCK, "unclear") for v, by_clock in verdicts.items()},
        "deciding_clock": DECIDING_CLOCK,
        "windows": windows,
        "level": level,
        "areas": areas,
        "to_target": pd.DataFrame(reach),
        "final": final,
    }
