"""The study's figures, rebuilt from the raw run records in seconds (PNG and PDF).

Every bar is a mean over seeds with its 95% t interval, clipped to [0, 1] (an accuracy cannot leave it; at two
or three seeds the t interval often does); the dots are the seeds. Each figure says how many seeds its
intervals rest on, counted from the records. Colours are Okabe & Ito's, and every series also has
its own hatch, line style or marker, so that the figures still read in grey.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lte.study.analysis.chance import chance_of
from lte.study.analysis.labels import STRATEGIES, TRICKS, task_name
from lte.study.analysis.records import load_runs
from lte.study.analysis.stats import t_interval
from lte.study.experiment import RESULTS, outputs_dir

# Okabe & Ito's palette: distinct for colour-blind readers; LSTM dark, IRNN light in grey
MODEL_COLORS = {"lstm": "#0072B2", "irnn": "#E69F00", "rnn": "#999999"}
MODEL_NAMES = {"lstm": "LSTM", "irnn": "IRNN", "rnn": "tanh RNN"}
MODEL_HATCHES = {"lstm": "", "irnn": "///", "rnn": "..."}
TRICK_COLORS = ["#BBBBBB", "#009E73", "#E69F00", "#56B4E9"]
TRICK_HATCHES = ["", "///", "...", "xxx"]
# the convergence curves: the IRNN at equal parameters in vermillion, apart from both others in hue and style
VARIANT_STYLES = {
    "lstm": (MODEL_COLORS["lstm"], "-", "o"),
    "irnn-units": (MODEL_COLORS["irnn"], "--", "s"),
    "irnn-params": ("#D55E00", "-.", "^"),
}
METRIC_NAMES = {
    "test_char_accuracy": "test character accuracy (teacher-forced)",
    "test_exact_match": "test exact match (greedy decode)",
}
PROPORTION = (0.0, 1.0)  # where an accuracy or an exact-match rate lies: the intervals drawn are clipped to it


# TrueType fonts in PDFs (venues reject Type 3); set while saving only: importing this module changes nothing
SAVE_STYLE = {"pdf.fonttype": 42, "ps.fonttype": 42}


def new_figure(rows: int, cols: int, figsize: tuple[float, float], **subplots) -> tuple[Figure, np.ndarray]:
    """A figure and its axes, without pyplot (no global state, no backend to choose)."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(rows, cols, **subplots)


def save_figure(fig: Figure, path_stem: Path, bbox_inches: str | None = "tight") -> list[Path]:
    """PNG and PDF beside each other; the PDF is byte-identical on a rebuild."""
    fig.tight_layout()
    paths = [path_stem.with_name(path_stem.name + ".png"), path_stem.with_name(path_stem.name + ".pdf")]
    with matplotlib.rc_context(SAVE_STYLE):
        fig.savefig(paths[0], dpi=150, bbox_inches=bbox_inches)  # "tight": legends placed below the panels fit
        fig.savefig(paths[1], metadata={"CreationDate": None}, bbox_inches=bbox_inches)
    return paths


def seeds_note(counts: list[int]) -> str:
    """'8 seeds' or '8-10 seeds': how many seeds the intervals of a figure rest on."""
    if not counts:
        raise ValueError("no finished runs to draw")
    low, high = min(counts), max(counts)
    return f"{low} seed{'s' if high > 1 else ''}" if low == high else f"{low}-{high} seeds"


def interval_note(counts: list[int], what: str = "bars") -> str:
    """The legend title that says what the bars and intervals are, with the seed counts of the records."""
    return f"{what}: mean over {seeds_note(counts)}, 95% t interval clipped to [0, 1]; dots: seeds"


def clipped_interval(low: np.ndarray, high: np.ndarray, bounds: tuple[float, float] = PROPORTION):
    """The interval's ends clipped to `bounds` (NaN ends, of a single seed, stay NaN)."""
    return np.clip(np.asarray(low, float), *bounds), np.clip(np.asarray(high, float), *bounds)


def _bars(
    ax, groups: list[str], series: list[tuple[str, str, str, list[np.ndarray]]], ylabel: str, chance=None
) -> tuple[list[int], int]:
    """Grouped bars of proportions: for each series (label, color, hatch, values per group) a bar per group,
    with its interval clipped to [0, 1] and its seeds.

    Diverged runs (NaN) are left out of the bar and counted; returns the seed count of every bar and the
    number of runs left out."""
    width = 0.8 / len(series)
    x = np.arange(len(groups))
    counts, lost = [], 0
    for i, (label, color, hatch, per_group) in enumerate(series):
        offset = x - 0.4 + width * (i + 0.5)
        finite = [np.asarray(v, dtype=float)[np.isfinite(v)] for v in per_group]
        lost += sum(len(v) - len(f) for v, f in zip(per_group, finite))
        counts += [len(f) for f in finite if len(f)]
        stats = [t_interval(v) for v in finite]
        means = np.array([s.mean for s in stats])
        low, high = clipped_interval([s.low for s in stats], [s.high for s in stats])
        err = np.nan_to_num(np.array([means - low, high - means]))
        ax.bar(
            offset,
            means,
            width * 0.9,
            color=color,
            hatch=hatch,
            edgecolor="#333333",
            linewidth=0.6,
            label=label,
            yerr=err,
            capsize=3,
            error_kw={"elinewidth": 1},
        )
        for xo, values in zip(offset, finite):
            # a white rim keeps the dots apart from a dotted or crossed hatch behind them
            ax.scatter(
                np.full(len(values), xo), values, s=16, color="black", edgecolors="white", linewidths=0.7, zorder=3
            )
    if chance is not None:
        ax.axhline(chance, color="black", linestyle=":", linewidth=1, label="chance (most frequent character)")
    ax.set_xticks(x, groups)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.02)
    ax.grid(axis="y", alpha=0.3)
    return counts, lost


def _legend_title(counts: list[int], lost: int) -> str:
    return interval_note(counts) + (f" ({lost} diverged run{'s' if lost > 1 else ''} left out)" if lost else "")


def legend_below(fig: Figure, handles: list, title: str, ncol: int, fontsize: float = 8) -> None:
    """One legend for the whole figure, centred below its panels."""
    fig.legend(
        handles=handles,
        fontsize=fontsize,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=ncol,
        frameon=False,
        title=title,
        title_fontsize=8,
    )


def shared_legend(fig: Figure, axes, title: str, ncol: int, fontsize: float = 8) -> None:
    """One legend below the panels for all of them: every label once, in the order the panels first show it."""
    by_label = {}
    for ax in np.ravel(axes):
        for handle, label in zip(*ax.get_legend_handles_labels()):
            by_label.setdefault(label, handle)
    legend_below(fig, list(by_label.values()), title, ncol, fontsize)


def strategy_figure(
    experiment: str, profile: str, results: Path = RESULTS, metric: str = "test_char_accuracy"
) -> list[Path]:
    """Bars per strategy, LSTM vs IRNN; one panel per task setting."""
    runs = load_runs(experiment, profile, results)
    if "label_invert" in runs:  # memorisation: the no-trick cells here; the tricks have their own figure
        runs = runs[(~runs["cfg_invert"]) & (~runs["cfg_double"])]
    runs = runs.assign(task_name=runs.apply(task_name, axis=1))
    tasks = sorted(runs.task_name.unique())
    fig, axes = new_figure(1, len(tasks), figsize=(5.2 * len(tasks), 4.2), squeeze=False)
    counts, lost = [], 0
    for ax, task in zip(axes[0], tasks):
        sub = runs[runs.task_name == task]
        series = [
            (
                MODEL_NAMES[m],
                MODEL_COLORS[m],
                MODEL_HATCHES[m],
                [sub[(sub.cfg_model == m) & (sub.cfg_strategy == s)][metric].to_numpy() for s in STRATEGIES],
            )
            for m in ["lstm", "irnn"]
        ]
        n, k = _bars(
            ax,
            STRATEGIES,
            series,
            METRIC_NAMES[metric],
            chance_of(sub.iloc[0]) if metric == "test_char_accuracy" else None,
        )
        counts, lost = counts + n, lost + k
        ax.set_title(task)
        ax.set_xlabel("curriculum strategy")
    shared_legend(fig, axes[0][:1], _legend_title(counts, lost), ncol=3)
    return save_figure(fig, outputs_dir("figures", profile, results) / f"{experiment}_{metric}")


def tricks_figure(profile: str, results: Path = RESULTS, metric: str = "test_char_accuracy") -> list[Path]:
    """Memorisation: per model a panel, strategies on x, a bar per input trick."""
    runs = load_runs("memorisation", profile, results)
    fig, axes = new_figure(1, 2, figsize=(11, 4.4), sharey=True)
    counts, lost = [], 0
    for ax, model in zip(axes, ["lstm", "irnn"]):
        sub = runs[runs.cfg_model == model]
        series = [
            (
                name,
                color,
                hatch,
                [
                    sub[(sub.cfg_strategy == s) & (sub.cfg_invert == inv) & (sub.cfg_double == dbl)][metric].to_numpy()
                    for s in STRATEGIES
                ],
            )
            for (inv, dbl, name), color, hatch in zip(TRICKS, TRICK_COLORS, TRICK_HATCHES)
        ]
        n, k = _bars(
            ax,
            STRATEGIES,
            series,
            METRIC_NAMES[metric],
            chance_of(sub.iloc[0]) if metric == "test_char_accuracy" else None,
        )
        counts, lost = counts + n, lost + k
        ax.set_title(f"{MODEL_NAMES[model]}: copy of {sub.cfg_length.iloc[0]}-digit numbers")
        ax.set_xlabel("curriculum strategy")
    axes[1].set_ylabel("")
    shared_legend(fig, axes[:1], "input trick; " + _legend_title(counts, lost), ncol=5)
    return save_figure(fig, outputs_dir("figures", profile, results) / f"memorisation_tricks_{metric}")


def held_by_step(curves: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One column per seed, one row per step; a run that stopped (on its plateau) holds its final value, so a
    mean over the columns stays over every seed to the end, not over the few runs still going."""
    return curves.pivot_table(index="step", columns="label_seed", values=metric).ffill()


def convergence_figure(profile: str, results: Path = RESULTS, metric: str = "test_char_accuracy") -> list[Path]:
    """Accuracy against steps and against seconds on the runs' own clock (steps x each model's measured time
    per step in its runs, the clock that decides question 2); mean over seeds with its 95% t band, and the
    target accuracies of question 2's times to target."""
    from lte.study.analysis.question2 import TARGETS
    from lte.study.analysis.verdicts import convergence_evidence

    evidence = convergence_evidence(profile, results)
    curves = evidence["curves"]
    fig, axes = new_figure(1, 2, figsize=(11, 3.8), sharey=True)
    counts = []
    for (variant_id, variant), group in curves.groupby(["label_variant_id", "label_variant"], sort=False):
        by_step = held_by_step(group, metric)
        bands = [t_interval(row.dropna().to_numpy()) for _, row in by_step.iterrows()]
        low, high = clipped_interval([b.low for b in bands], [b.high for b in bands])
        steps = by_step.index.to_numpy(float)
        counts.append(by_step.shape[1])
        color, line, marker = VARIANT_STYLES.get(variant_id, (None, "-", None))
        for ax, x in zip(axes, [steps, steps * evidence["run_ms"][variant_id] / 1000.0]):
            ax.plot(
                x,
                [b.mean for b in bands],
                color=color,
                linestyle=line,
                marker=marker,
                markersize=4,
                markevery=max(1, len(x) // 8),
                label=f"{variant}, {by_step.shape[1]} seeds",
            )
            ax.fill_between(x, low, high, color=color, alpha=0.2)
    axes[0].set_xlabel("training steps")
    axes[1].set_xlabel("seconds (steps x each model's measured time per step in its runs, one core)")
    axes[0].set_ylabel(METRIC_NAMES[metric])
    for ax in axes:
        for i, target in enumerate(TARGETS):
            ax.axhline(
                target,
                color="0.45",
                linestyle=":",
                linewidth=0.9,
                label=f"targets {TARGETS[0]:g}-{TARGETS[-1]:g} (times to target)" if i == 0 else None,
            )
        ax.grid(alpha=0.3)
    for ax, window in zip(axes, (evidence["step_window"], evidence["second_window"])):
        ax.axvline(window, color="black", linestyle="--", linewidth=1.0, label="end of question 2's area window")
    axes[0].set_ylim(0, 1.02)
    title = (
        f"lines: mean over {seeds_note(counts)} (a run that stopped holds its final accuracy); "
        "bands: 95% t interval clipped to [0, 1]"
    )
    shared_legend(fig, axes[:1], title, ncol=5)
    return save_figure(fig, outputs_dir("figures", profile, results) / f"convergence_{metric}")


# the selection grid: a line style per clip, a marker per input scale (the colour is the model)
CLIP_STYLES = ["-", "--", ":", "-."]
SCALE_MARKERS = ["o", "s", "^", "D", "v"]


def lr_selection_plot(table) -> Figure:
    """The selection grid from `selection_table`: per task, each setting's mean validation accuracy over the
    learning rates tried (a line per model, clip and input scale), its seeds as dots, the selected setting circled.

    No interval: at two or three seeds a t interval spans far beyond [0, 1] and would hide the means."""
    tasks = sorted(table.task.unique())
    clips = sorted(set(table["clip"].dropna()))
    scales = sorted(set(table["input_scale"].dropna()))
    fig, axes = new_figure(1, len(tasks), figsize=(4.2 * len(tasks), 3.8), sharey=True, squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for (model, clip, scale), group in table[table.task == task].groupby(
            ["model", "clip", "input_scale"], dropna=False
        ):
            group = group.sort_values("learning_rate")
            marker = SCALE_MARKERS[scales.index(scale) % len(SCALE_MARKERS)] if scale in scales else "o"
            ax.plot(
                group.learning_rate,
                group.val_char_accuracy,
                marker=marker,
                markersize=6,
                color=MODEL_COLORS[model],
                linestyle=CLIP_STYLES[clips.index(clip) % len(CLIP_STYLES)],
                label=f"{MODEL_NAMES[model]}, clip {clip:g}, input scale {scale}",
            )
            seeds = [(lr, v) for lr, values in zip(group.learning_rate, group.seed_values) for v in values]
            seeds = [(lr, v) for lr, v in seeds if np.isfinite(v)]  # a diverged seed has no score
            ax.scatter(
                [lr for lr, _ in seeds],
                [v for _, v in seeds],
                s=9,
                color="black",  # as the seeds of the other figures; the line's marker is their mean
                linewidths=0,
                zorder=3,
                gid="seeds",
            )
            chosen = group[group.selected]
            ax.scatter(
                chosen.learning_rate,
                chosen.val_char_accuracy,
                s=160,
                facecolors="none",
                edgecolors="black",
                linewidths=1.5,
                zorder=4,
            )
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_title(task)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("validation character accuracy")
    axes[0][0].set_ylim(0, 1.02)
    seeds = seeds_note([int(n) for n in table.seeds])
    title = f"lines: mean over {seeds} per setting; dots: the seeds; circled: the setting selected"
    shared_legend(fig, axes[0], title, ncol=4, fontsize=8)  # every setting once, over all panels
    return fig


def lr_selection_figure(profile: str, results: Path = RESULTS) -> list[Path]:
    """The selection grid of `profile`'s records, written as lr_selection.png and .pdf."""
    from lte.study.analysis.lr_selection import selection_table

    return save_figure(
        lr_selection_plot(selection_table(profile, results)), outputs_dir("figures", profile, results) / "lr_selection"
    )
