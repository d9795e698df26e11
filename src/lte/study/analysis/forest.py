"""Forest plots of the decided comparisons: question 1's normalised gains and question 3's best-against-other
differences, one horizontal interval per comparison, drawn from the numbers the report's tables print.

Each interval is the false-coverage-rate interval its decision is read from (`verdicts.question_1`,
`verdicts.question_3`); the shaded band is ±δ, the smallest difference that matters, and the marker at the
estimate says the decision. Nothing is recomputed here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from lte.study.analysis.comparisons import DELTA, Pending
from lte.study.analysis.figures import MODEL_COLORS, MODEL_NAMES, legend_below, new_figure, save_figure
from lte.study.analysis.question1 import DELTA_GAIN
from lte.study.experiment import RESULTS, outputs_dir

# (marker, filled, colour) per decision; the shape alone tells them apart in grey, "^" / "v": above / below 0
DECISION_STYLES = {
    "higher": ("^", True, "#009E73"),
    "lower": ("v", True, "#D55E00"),
    "equivalent": ("D", True, "#0072B2"),
    "unclear": ("o", False, "#777777"),
    "rising": ("s", False, "#777777"),  # undecided because a cell still rises
}
# question 1 names its decisions by what a factor does to a model
ACT_WORDS = {"higher": "helps", "lower": "hurts", "equivalent": "none (inside ±δ)", "unclear": "unclear"}
BAND_COLOR = "#DDDDDD"
PAST_EDGE = "interval runs on past the edge"
ROW_OFFSET = 0.18  # question 1: the LSTM's interval just above the factor's row, the IRNN's just below


@dataclass
class ForestRow:
    """One comparison to draw: where (y), its estimate and interval, its decision, its line colour."""

    y: float
    mean: float
    low: float
    high: float
    decision: str
    color: str = "#333333"


def forest_window(rows: list[ForestRow], delta: float, cap: float) -> float:
    """The half-width of the x range: the ±δ band in view, and every estimate and interval up to `cap`; an
    estimate or interval past it is drawn at the edge and marked so (one outlier must not squash the rest)."""
    values = [abs(v) for r in rows for v in (r.mean, r.low, r.high) if math.isfinite(v)]
    return max(3 * delta, min(cap, 1.1 * max(values, default=0.0)))


def draw_forest(
    ax: Axes, rows: list[ForestRow], delta: float, window: float, bounds: tuple[float, float] | None = None
) -> None:
    """The ±δ band, a line at 0, one interval per row (a row without an interval keeps only its marker) and
    a marker per decision at each estimate.

    `bounds`: the range the quantity can take (a difference of two accuracies lies in [-1, 1]); intervals are
    clipped to it first. Ends beyond ±`window` are cut at the edge and marked with an arrowhead."""
    ax.axvspan(-delta, delta, color=BAND_COLOR, zorder=0, gid="band")
    ax.axvline(0.0, color="black", linewidth=0.8, zorder=1)
    segments, colors, past_edge = [], [], []
    for row in rows:
        if not (math.isfinite(row.low) and math.isfinite(row.high)):
            continue  # fewer than two paired seeds: an estimate, no interval
        low, high = (max(row.low, bounds[0]), min(row.high, bounds[1])) if bounds else (row.low, row.high)
        segments.append([(max(low, -window), row.y), (min(high, window), row.y)])
        colors.append(row.color)
        past_edge += [(-window, row.y, "<", row.color)] if low < -window else []
        past_edge += [(window, row.y, ">", row.color)] if high > window else []
    ax.add_collection(LineCollection(segments, colors=colors, linewidths=1.6, zorder=2, gid="intervals"))
    for x, y, marker, color in past_edge:
        ax.plot(x, y, marker=marker, color=color, markersize=5, clip_on=False, zorder=3, gid="past_edge")
    for decision, (marker, filled, color) in DECISION_STYLES.items():
        here = [r for r in rows if r.decision == decision and math.isfinite(r.mean)]
        if here:
            edge = [r.color for r in here] if decision in ("unclear", "rising") else color
            ax.scatter(
                [max(-window, min(window, r.mean)) for r in here],
                [r.y for r in here],
                marker=marker,
                s=36,
                facecolors=color if filled else "white",
                edgecolors=edge,
                linewidths=1.2,
                zorder=4,
                gid=f"estimates:{decision}",
            )
    for row in rows:  # an estimate past the edge sits on it, its value written beside it
        if math.isfinite(row.mean) and abs(row.mean) > window:
            side = 1 if row.mean > 0 else -1
            ax.annotate(
                f"{row.mean:.1f}",
                (side * window, row.y),
                xytext=(-6 * side, 0),
                textcoords="offset points",
                ha="right" if side > 0 else "left",
                va="center",
                fontsize=7,
                color=row.color,
                gid="past_edge_value",
            )
    ax.set_xlim(-window * 1.04, window * 1.04)
    ax.grid(axis="x", alpha=0.3)


def _decision_legend(words: dict[str, str], delta_text: str, past_edge: str, extra: list | None = None) -> list:
    """Legend handles: the decision markers, the band, the arrowhead of a cut interval, and any `extra`."""
    handles = list(extra or [])
    for decision, word in words.items():
        marker, filled, color = DECISION_STYLES[decision]
        handles.append(
            Line2D(
                [],
                [],
                linestyle="",
                marker=marker,
                markersize=6,
                markerfacecolor=color if filled else "white",
                markeredgecolor=color,
                label=word,
            )
        )
    handles.append(Patch(color=BAND_COLOR, label=delta_text))
    handles.append(Line2D([], [], linestyle="", marker=">", color="#333333", markersize=5, label=past_edge))
    return handles


def question1_rows(gains: pd.DataFrame) -> dict[str, tuple[list[str], list[ForestRow]]]:
    """Per task: the factors (top to bottom) and a row per factor and model (LSTM above, IRNN below)."""
    panels = {}
    for task, here in gains.groupby("task", sort=False):
        factors = list(dict.fromkeys(here.factor))
        rows = [
            ForestRow(
                y=factors.index(g.factor) + (-ROW_OFFSET if g.model == "lstm" else ROW_OFFSET),
                mean=g.mean,
                low=g.low,
                high=g.high,
                decision="rising" if g.rising else g.decision,
                color=MODEL_COLORS[g.model],
            )
            for g in here.itertuples()
        ]
        panels[task] = (factors, rows)
    return panels


def question1_figure(gains: pd.DataFrame) -> Figure:
    """Question 1's forest plot from `verdicts.question_1`'s `gains`: a panel per task, a row per factor."""
    panels = question1_rows(gains)
    heights = [len(factors) + 1.2 for factors, _ in panels.values()]
    fig, axes = new_figure(
        len(panels), 1, figsize=(8, 1.0 + 0.32 * sum(heights)), squeeze=False, gridspec_kw={"height_ratios": heights}
    )
    cap = 5.0  # a gain of -5: five times the control's headroom lost (a control near the ceiling); beyond, marked
    window = forest_window([r for _, rows in panels.values() for r in rows], DELTA_GAIN, cap)
    for ax, (task, (factors, rows)) in zip(axes[:, 0], panels.items()):
        draw_forest(ax, rows, DELTA_GAIN, window)
        ax.set_yticks(range(len(factors)), factors, fontsize=8)
        ax.set_ylim(len(factors) - 0.5, -0.5)  # the first factor on top, as in the report's table
        level = gains[gains.task == task].level.iloc[0]
        ax.set_title(f"{task}: normalised gain per model (interval at level {level:.3f})", fontsize=9)
    axes[-1, 0].set_xlabel("normalised gain: (treated - control) / control's headroom, paired by seed")
    models = [Line2D([], [], color=MODEL_COLORS[m], linewidth=1.6, label=MODEL_NAMES[m]) for m in ("lstm", "irnn")]
    words = ACT_WORDS | {"rising": "unclear: a cell still rising"}
    handles = _decision_legend(words, f"±δ = ±{DELTA_GAIN:g}: no gain that matters", PAST_EDGE, models)
    title = "the factor's act on each model, read from its false-coverage-rate interval (Benjamini-Yekutieli)"
    legend_below(fig, handles, title, ncol=5)
    return fig


def question1_forest(profile: str, results: Path = RESULTS) -> list[Path]:
    """Question 1's forest plot, written as question1_forest.png and .pdf (none while records are missing)."""
    from lte.study.analysis.verdicts import question_1

    return _saved_forest(lambda: question1_figure(question_1(profile, results)["gains"]), profile, results, "question1")


def _saved_forest(make_figure, profile: str, results: Path, question: str) -> list[Path]:
    """`make_figure()` saved as <question>_forest.png and .pdf; nothing while the judged records are missing
    (the other figures do not need this one)."""
    try:
        fig = make_figure()
    except Pending:
        return []
    return save_figure(fig, outputs_dir("figures", profile, results) / f"{question}_forest")


QUESTION3_TASKS = {"computation": "computation (addition)", "memorisation": "memorisation (copy)"}


def question3_rows(table: pd.DataFrame) -> list[ForestRow]:
    """A row per other setting (top to bottom as in the table), coloured by its decision."""
    return [
        ForestRow(y=i, mean=c.mean, low=c.low, high=c.high, decision=c.decision, color=DECISION_STYLES[c.decision][2])
        for i, c in enumerate(table.itertuples())
    ]


def question3_figure(parts: dict) -> Figure:
    """Question 3's forest plot from `verdicts.question_3`'s `parts`: a column per model, a row per task."""
    models = [m for m in ("irnn", "lstm") if m in parts]  # the IRNN first: question 3 asks about it
    heights = [max(len(parts[m][task]["table"]) for m in models) + 1.5 for task in QUESTION3_TASKS]
    fig, axes = new_figure(
        len(QUESTION3_TASKS),
        len(models),
        figsize=(6.2 * len(models), 1.2 + 0.32 * sum(heights)),
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
    )
    for row, (task, task_words) in enumerate(QUESTION3_TASKS.items()):
        panel_rows = {m: question3_rows(parts[m][task]["table"]) for m in models}
        # one scale along a row: the two models' panels of a task read against each other
        window = forest_window([r for rows in panel_rows.values() for r in rows], DELTA, 1.0)
        for col, model in enumerate(models):
            ax, part = axes[row, col], parts[model][task]
            table = part["table"]
            draw_forest(ax, panel_rows[model], DELTA, window, bounds=(-1.0, 1.0))
            ax.set_yticks(range(len(table)), [f"vs {other}" for other in table.other], fontsize=8)
            ax.set_ylim(len(table) - 0.5, -0.5)
            level = table["interval level"].iloc[0] if len(table) else float("nan")
            ax.set_title(
                f"{MODEL_NAMES[model]}, {task_words}: best {part['winner']}\n(interval at level {level:.3f})",
                fontsize=9,
            )
    for ax in axes[-1]:
        ax.set_xlabel("test char accuracy: best setting minus the other, paired by seed")
    words = {
        "higher": "best is higher",
        "equivalent": "equivalent (inside ±δ)",
        "lower": "best is lower",
        "unclear": "unclear",
    }
    if any((parts[m][task]["table"].decision == "rising").any() for m in models for task in QUESTION3_TASKS):
        words["rising"] = "unclear: a cell still rising"
    handles = _decision_legend(words, f"±δ = ±{DELTA:g}: no difference that matters", PAST_EDGE)
    title = "best chosen on validation; decision read from its false-coverage-rate interval, clipped to [-1, 1]"
    legend_below(fig, handles, title, ncol=6)
    return fig


def question3_forest(profile: str, results: Path = RESULTS) -> list[Path]:
    """Question 3's forest plot, written as question3_forest.png and .pdf (none while records are missing)."""
    from lte.study.analysis.verdicts import question_3

    return _saved_forest(lambda: question3_figure(question_3(profile, results)["parts"]), profile, results, "question3")
