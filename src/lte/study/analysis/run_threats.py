"""Threats to validity read from the runs' curves and stops: cells and runs still rising, runs at their step
cap, runs stopped on a plateau far below their cell's best seed, runs that collapsed late."""

from __future__ import annotations

from pathlib import Path

from lte.study.analysis.labels import and_list, plural
from lte.study.analysis.records import load_curves, load_runs
from lte.study.analysis.rising import RISING_SLOPE, cell_slopes

JUDGED = ("program", "addition", "memorisation", "convergence")
STOPPED_LOW_GAP = 0.3  # a run stopped on a plateau this far below its cell's best seed may have stopped too soon
STOP_REASONS = {
    "max_steps": "ended at their step cap",
    "max_seconds": "ended at their time cap",
    "diverged": "diverged",
}


def _non_seed_labels(frame) -> list[str]:
    return sorted(c for c in frame.columns if c.startswith("label_") and c != "label_seed")


def _or_none(load, *args):
    try:
        frame = load(*args)
    except FileNotFoundError:
        return None
    return frame if len(frame) else None


def rising_counts(profile: str, results: Path) -> list[tuple[str, int, int]]:
    """(experiment, cells still rising, cells) for every judged experiment with records."""
    counts = []
    for experiment in JUDGED:
        curves = _or_none(load_curves, experiment, profile, results)
        if curves is None:
            continue
        by = sorted(c for c in curves.columns if c.startswith("label_") and c != "label_seed")
        table = cell_slopes(curves, by)
        counts.append((experiment, int(table.rising.sum()), len(table)))
    return counts


def rising_threat(profile: str, results: Path) -> str | None:
    counts = rising_counts(profile, results)
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
    """Runs the plateau rule stopped far below another seed of their cell: a plateau they might have left. When
    no run stopped on a plateau at all, says so (the stop rule never acted) and how the runs ended instead."""
    counts, plateaus, reasons = [], 0, {}
    for experiment in JUDGED:
        runs = _or_none(load_runs, experiment, profile, results)
        if runs is None or "stop_reason" not in runs:
            continue
        by = _non_seed_labels(runs)
        best = runs.groupby(by, dropna=False)["test_char_accuracy"].transform("max")
        plateau = runs.stop_reason.astype(str).str.startswith("plateau")
        low = plateau & (runs.test_char_accuracy <= best - STOPPED_LOW_GAP)
        counts.append((experiment, int(low.sum()), len(runs)))
        plateaus += int(plateau.sum())
        for reason, n in runs.stop_reason.astype(str).value_counts().items():
            reasons[reason] = reasons.get(reason, 0) + int(n)
    if not counts:
        return None
    if not plateaus:
        return (
            "No run stopped on a plateau, so the stop rule never acted: of the judged runs, "
            + and_list(
                [
                    f"{n:,} {STOP_REASONS.get(r, f'ended with {r}')}"
                    for r, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
                ]
            )
            + "."
        )
    low = [(e, k, n) for e, k, n in counts if k]
    if not low:
        return (
            f"No run was stopped on a plateau {STOPPED_LOW_GAP:.1f} or more below the best seed of its cell "
            f"({plural(plateaus, 'run')} stopped on a plateau)."
        )
    return (
        f"Runs stopped on a plateau {STOPPED_LOW_GAP:.1f} or more below the best seed of their cell (they might "
        "have left the plateau later, as other seeds did): " + ", ".join(f"{e} {k} of {n}" for e, k, n in low) + "."
    )


FELL_BACK = 0.1  # a run whose final test accuracy is this far below its own best collapsed late
CAPPED = "max_steps"


def capped_counts(profile: str, results: Path) -> list[tuple[str, int, int, int]]:
    """(experiment, runs that ended at their step cap, runs, capped runs still rising on their own)."""
    from lte.study.analysis.rising import run_slopes

    out = []
    for experiment in (*JUDGED, "question3_selection"):
        runs = _or_none(load_runs, experiment, profile, results)
        curves = _or_none(load_curves, experiment, profile, results)
        if runs is None or curves is None or "stop_reason" not in runs:
            continue
        at_cap = runs[runs.stop_reason == CAPPED]
        still = int((run_slopes(curves).reindex(at_cap.cell) > RISING_SLOPE).sum())
        out.append((experiment, len(at_cap), len(runs), still))
    return out


def _masked_rising(profile: str, results: Path) -> list[str]:
    """Per experiment: runs rising on their own (final slope above RISING_SLOPE) in cells whose mean is not."""
    from lte.study.analysis.rising import run_slopes

    masked = []
    for experiment in (*JUDGED, "question3_selection"):
        curves = _or_none(load_curves, experiment, profile, results)
        if curves is None:
            continue
        slopes = run_slopes(curves)
        by = _non_seed_labels(curves)
        table = cell_slopes(curves, by)
        flat_keys = set(map(tuple, table[~table.rising][by].astype(str).to_numpy()))
        labels = curves.drop_duplicates("cell").set_index("cell")[by]
        own = slopes[slopes > RISING_SLOPE]
        hidden = [c for c in own.index if tuple(labels.loc[c].astype(str)) in flat_keys]
        if hidden:
            masked.append(f"{experiment} {len(hidden)}")
    return masked


def budget_threat(profile: str, results: Path) -> str | None:
    """Where the step caps bind: runs that ended at their cap (and how many of those still rose), and runs
    still rising on their own in cells whose mean slope is not (the cell rule can mask them)."""
    capped = [
        f"{e} {c} of {n}" + (f" ({still} of them still rising on their own)" if still else "")
        for e, c, n, still in capped_counts(profile, results)
        if c
    ]
    masked = _masked_rising(profile, results)
    if not capped and not masked:
        return None
    text = ""
    if capped:
        text += "Runs that ended at their step cap rather than on a plateau: " + "; ".join(capped) + "."
    if masked:
        text += (
            (" " if text else "")
            + f"Runs whose own final slope is above {RISING_SLOPE} per 1,000 steps in cells whose mean slope is not "
            "(the cell rule, on the mean over seeds, can hide them): " + ", ".join(masked) + "."
        )
    return text


def fell_back_threat(profile: str, results: Path) -> str | None:
    """Runs that collapsed late: final test accuracy FELL_BACK or more below their own best evaluation."""
    found = []
    for experiment in JUDGED:
        curves = _or_none(load_curves, experiment, profile, results)
        if curves is None:
            continue
        per_run = curves.groupby("cell")["test_char_accuracy"].agg(["max", "last"])
        fell = per_run[per_run["max"] - per_run["last"] >= FELL_BACK]
        found += [f"`{cell}` ({row['max']:.3f} to {row['last']:.3f})" for cell, row in fell.sort_index().iterrows()]
    if not found:
        return None
    return (
        f"Runs that ended {FELL_BACK} or more below their own best test accuracy (a late collapse; they count "
        "as they ended, and one such seed can leave a comparison undecided): " + "; ".join(found) + "."
    )
