"""Threats to validity (issue 31, item 10): what a referee could still attack, each measured on the records.

Every line is computed from the records it speaks of; a threat whose records are missing is left out.
"""

from __future__ import annotations

from pathlib import Path

from lte.study.analysis.records import load_curves, load_runs
from lte.study.analysis.rising import RISING_SLOPE, cell_slopes
from lte.study.experiment import RESULTS

JUDGED = ("program", "addition", "memorisation", "convergence")
EQUAL_PARAMETERS_WITHIN = 0.05
STOPPED_LOW_GAP = 0.3  # a run stopped on a plateau this far below its cell's best seed may have stopped too soon


def _or_none(load, *args):
    try:
        frame = load(*args)
    except FileNotFoundError:
        return None
    return frame if len(frame) else None


def rising_threat(profile: str, results: Path) -> str | None:
    counts = []
    for experiment in JUDGED:
        curves = _or_none(load_curves, experiment, profile, results)
        if curves is None:
            continue
        by = sorted(c for c in curves.columns if c.startswith("label_") and c != "label_seed")
        table = cell_slopes(curves, by)
        counts.append((experiment, int(table.rising.sum()), len(table)))
    rising = [(e, r, n) for e, r, n in counts if r]
    if not counts:
        return None
    if not rising:
        return f"No cell is still rising at the end of its budget (final slope above {RISING_SLOPE} per 1,000 steps)."
    return (
        f"Cells still rising at the end of their budget (final slope above {RISING_SLOPE} per 1,000 steps): "
        + ", ".join(f"{e} {r} of {n}" for e, r, n in rising)
        + "; comparisons that involve them are undecided."
    )


def stopped_low_threat(profile: str, results: Path) -> str | None:
    """Runs the plateau rule stopped far below another seed of their cell: a plateau they might have left."""
    counts = []
    for experiment in JUDGED:
        runs = _or_none(load_runs, experiment, profile, results)
        if runs is None or "stop_reason" not in runs:
            continue
        by = sorted(c for c in runs.columns if c.startswith("label_") and c != "label_seed")
        best = runs.groupby(by, dropna=False)["test_char_accuracy"].transform("max")
        plateau = runs.stop_reason.astype(str).str.startswith("plateau")
        low = plateau & (runs.test_char_accuracy <= best - STOPPED_LOW_GAP)
        counts.append((experiment, int(low.sum()), len(runs)))
    if not counts:
        return None
    low = [(e, k, n) for e, k, n in counts if k]
    if not low:
        return f"No run was stopped on a plateau {STOPPED_LOW_GAP:.1f} or more below the best seed of its cell."
    return (
        f"Runs stopped on a plateau {STOPPED_LOW_GAP:.1f} or more below the best seed of their cell (they might "
        "have left the plateau later, as other seeds did): " + ", ".join(f"{e} {k} of {n}" for e, k, n in low) + "."
    )


def selection_threat(profile: str, results: Path) -> str | None:
    from lte.study.analysis.lr_selection import edge_winners, selection_table

    try:
        table = selection_table(profile, results)
    except (FileNotFoundError, ValueError):
        return None
    edges = edge_winners(table)
    runs = load_runs("lr_selection", profile, results, require_all=False)
    strategies = sorted(runs.cfg_strategy.unique()) if "cfg_strategy" in runs else []
    seeds = int(table.seeds.min())
    on_edge = (
        f"{len(edges)} selected value{'s' if len(edges) != 1 else ''} on an edge of the grid: "
        + ", ".join(
            f"{e['model']}/{e['task']} {e['axis']} {e['winner']:g}{' (at its bound)' if e['at_bound'] else ''}"
            for e in edges
        )
        if edges
        else "no selected value on an edge of the grid"
    )
    text = (
        f"Hyperparameters were selected on validation data, {seeds} seed{'s' if seeds != 1 else ''} per setting: "
        f"the learning rate, clip and input scale on the {', '.join(strategies)} "
        f"strateg{'y' if len(strategies) == 1 else 'ies'} ({on_edge})"
    )
    return text + _per_strategy_note(profile, results) + "."


def _per_strategy_note(profile: str, results: Path) -> str:
    """What the per-strategy stage (stage 2) tuned, and which of its winning rates sit on an edge of the rates
    it tried; a note that there is none when its records are missing."""
    from lte.study.analysis.lr_selection import STRATEGY_SELECTION, selection_table, widened_axis

    try:
        table = selection_table(profile, results, STRATEGY_SELECTION)
    except (FileNotFoundError, ValueError):
        return ", and no learning rate per strategy (the per-strategy stage has no complete records)"
    arm = ["model", "task", "strategy"]
    counts = sorted(set(table.groupby(arm)["learning_rate"].nunique()))
    edges = [
        "/".join(map(str, key))
        for key, group in table.groupby(arm)
        if (winner := group[group.selected]).shape[0]
        and widened_axis(list(group.learning_rate), float(winner.learning_rate.iloc[0])) is not None
    ]
    rates = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    on_edge = f"{len(edges)} winning rate{'s' if len(edges) != 1 else ''} on an edge: {', '.join(edges)}"
    return (
        f", then each strategy's learning rate on its own ({rates} rates per strategy, on "
        f"{', '.join(sorted(table.task.unique()))}; {on_edge if edges else 'no winning rate on an edge'})"
    )


def parameters_threat(profile: str, results: Path) -> str | None:
    runs = _or_none(load_runs, "convergence", profile, results)
    if runs is None or "parameters" not in runs or "label_variant_id" not in runs:
        return None
    counts = runs.groupby("label_variant_id")["parameters"].first()
    if not {"lstm", "irnn-params"} <= set(counts.index):
        return None
    ratio = counts["irnn-params"] / counts["lstm"]
    verdict = "within" if abs(ratio - 1) <= EQUAL_PARAMETERS_WITHIN else "outside"
    return (
        f"The equal-parameters IRNN has {counts['irnn-params']:,} parameters against the LSTM's "
        f"{counts['lstm']:,} ({ratio:.2f}x), {verdict} {EQUAL_PARAMETERS_WITHIN:.0%}."
    )


def adding_threat(profile: str, results: Path) -> str | None:
    runs = _or_none(load_runs, "adding_problem", profile, results)
    if runs is None:
        return None
    budgets = runs.groupby("cfg_model")["steps"].max()
    seeds = runs.groupby("cfg_model").size()
    equal = budgets.nunique() == 1
    return (
        "The adding problem's step budgets are "
        + ("equal" if equal else "unequal")
        + " across models ("
        + ", ".join(f"{m.upper()} {b:,} steps, {seeds[m]} runs" for m, b in budgets.items())
        + ")."
    )


def devices_threat(profile: str, results: Path) -> str | None:
    devices = set()
    for experiment in JUDGED:
        runs = _or_none(load_runs, experiment, profile, results)
        if runs is not None and "device" in runs:
            devices |= set(runs.device.dropna())
    if not devices:
        return None
    return (
        f"Every judged run was trained on {', '.join(sorted(devices))}; bits and timings on other hardware "
        "differ at float rounding, and question 2's seconds are this hardware's."
    )


def threats_section(profile: str, results: Path = RESULTS) -> list[str]:
    """The report's 'Threats to validity' section (empty when no record speaks to any threat)."""
    found = [
        t
        for t in (
            rising_threat(profile, results),
            stopped_low_threat(profile, results),
            selection_threat(profile, results),
            parameters_threat(profile, results),
            adding_threat(profile, results),
            devices_threat(profile, results),
        )
        if t
    ]
    if not found:
        return []
    return [
        "## Threats to validity",
        "",
        "What a referee could still attack, measured on these records:",
        "",
        *[f"- {t}" for t in found],
        "",
    ]
