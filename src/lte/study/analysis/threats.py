"""Threats to validity (issue 31, item 10): what a referee could still attack, each measured on the records.

Every line is computed from the records it speaks of; a threat whose records are missing is left out.
"""

from __future__ import annotations

from pathlib import Path

from lte.study.analysis.ceiling import ceiling_threat
from lte.study.analysis.labels import and_list, plural  # noqa: F401 (re-exported)
from lte.study.analysis.records import load_runs
from lte.study.analysis.run_threats import (  # noqa: F401 (re-exported)
    JUDGED,
    _non_seed_labels,
    _or_none,
    budget_threat,
    capped_counts,
    fell_back_threat,
    rising_counts,
    rising_threat,
    stopped_low_threat,
)
from lte.study.experiment import RESULTS, runs_dir

EQUAL_PARAMETERS_WITHIN = 0.05
FEW_SEEDS = 5  # fewer study seeds per cell than this is named as a threat


def seeds_threat(profile: str, results: Path) -> str | None:
    """The study's seeds per cell, where an experiment has fewer than FEW_SEEDS."""
    few = []
    for experiment in JUDGED:
        runs = _or_none(load_runs, experiment, profile, results)
        if runs is None or "label_seed" not in runs:
            continue
        by = _non_seed_labels(runs)
        seeds = runs.groupby(by, dropna=False)["label_seed"].nunique() if by else [runs.label_seed.nunique()]
        low, high = int(min(seeds)), int(max(seeds))
        if low < FEW_SEEDS:
            few.append(f"{experiment} {low}" if low == high else f"{experiment} {low}-{high}")
    if not few:
        return None
    return (
        f"Few study seeds per cell (fewer than {FEW_SEEDS}): {', '.join(few)}. A t interval over n seeds has n - 1 "
        "degrees of freedom, so the intervals are wide and many comparisons stay unclear; a diverged seed leaves a "
        "paired comparison one seed fewer."
    )


def question3_choice_threat(profile: str, results: Path) -> str | None:
    """Question 3's LSTM part chooses its winner on the same runs that then test it (docs/preregistration.md,
    section 7); the IRNN's is chosen on separate seeds, where their records exist."""
    if not any((runs_dir(e, profile, results) / "cells.json").exists() for e in ("addition", "memorisation")):
        return None
    text = (
        "Question 3's LSTM part (reported for comparison) chooses the LSTM's best setting on the validation "
        "accuracy of the study's runs and then tests it on the test accuracy of those same runs "
        "(docs/preregistration.md, section 7): choice and confirmation share their seeds, which favours the "
        "winner. "
    )
    selection = _or_none(load_runs, "question3_selection", profile, results)
    if selection is None or "label_seed" not in selection:
        return text + "So does the IRNN's here: the IRNN's own choice (question3_selection) has no complete records."
    seeds = sorted(int(s) for s in selection.label_seed.unique())
    return (
        text + f"The IRNN's choice is made on separate seeds ({plural(len(seeds), 'seed')}: "
        f"{', '.join(map(str, seeds))}; question3_selection)."
    )


def rate_sharing_threat(profile: str, results: Path) -> str | None:
    """Arms that run at a rate tuned for another arm (docs/preregistration.md, section 3 item 3 and section 4):
    the copy tricks at their strategy's rate, and the programs' strategies at stage 1's baseline rate."""
    parts = []
    memorisation = _or_none(load_runs, "memorisation", profile, results)
    if memorisation is not None and {"cfg_invert", "cfg_double", "cfg_learning_rate"} <= set(memorisation.columns):
        tricks = memorisation.groupby(["cfg_model", "cfg_strategy"])[["cfg_invert", "cfg_double"]].apply(
            lambda g: len(g.drop_duplicates())
        )
        rates = memorisation.groupby(["cfg_model", "cfg_strategy"])["cfg_learning_rate"].nunique()
        if (tricks > 1).any() and (rates == 1).all():
            parts.append(
                "the copy tricks (invert, double) run at their strategy's rate, tuned without tricks, so question "
                "1's trick factors compare an arm at the rate tuned for it with arms at a rate not tuned for them"
            )
    program = _or_none(load_runs, "program", profile, results)
    if program is not None and {"cfg_strategy", "cfg_learning_rate"} <= set(program.columns):
        rates = program.groupby("cfg_model")["cfg_learning_rate"].unique()
        if program.cfg_strategy.nunique() > 1 and all(len(r) == 1 for r in rates):
            parts.append(
                "programs run every strategy at stage 1's rate, tuned on baseline ("
                + ", ".join(f"{m.upper()} {r[0]:g}" for m, r in rates.items())
                + "), so question 1's program factors compare baseline at its tuned rate with strategies at a "
                "rate not tuned for them"
            )
    if not parts:
        return None
    return (
        "Rates are shared, not tuned per arm, to fit the compute budget (docs/preregistration.md, section 3 item 3 "
        "and section 4): " + "; ".join(parts) + "."
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
        f"the learning rate, clip and input scale on the {and_list(strategies)} "
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
    rates = (
        f"{counts[0]} rate{'s' if counts[0] != 1 else ''}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]} rates"
    )
    on_edge = f"{len(edges)} winning rate{'s' if len(edges) != 1 else ''} on an edge: {', '.join(edges)}"
    return (
        f", then each strategy's learning rate on its own ({rates} per strategy, on "
        f"{and_list(sorted(table.task.unique()))}; {on_edge if edges else 'no winning rate on an edge'})"
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
    settings = ["cfg_learning_rate", "cfg_clip", "cfg_input_scale"]
    shared = all(c in runs for c in settings) and {
        tuple(runs[runs.label_variant_id == v][settings].iloc[0]) for v in ("irnn-params", "irnn-units")
    } <= {tuple(runs[runs.label_variant_id == "irnn-units"][settings].iloc[0])}
    return (
        f"The equal-parameters IRNN has {counts['irnn-params']:,} parameters against the LSTM's "
        f"{counts['lstm']:,} ({ratio:.2f}x), {verdict} {EQUAL_PARAMETERS_WITHIN:.0%}"
        + (
            "; it runs at the learning rate, clip and input scale selected for the equal-units IRNN, not tuned "
            "for its own width."
            if shared and "irnn-units" in counts.index
            else "."
        )
    )


def question2_window_threat(profile: str, results: Path) -> str | None:
    """A variant the area calls faster over the shared window that ends lower than the LSTM: the window ends
    where the first run stops, so it cannot see a model that is fast to a lower plateau."""
    from lte.study.analysis.comparisons import DELTA, Pending
    from lte.study.analysis.question2 import window_sensitivity
    from lte.study.analysis.verdicts import convergence_evidence

    try:
        evidence = convergence_evidence(profile, results)
    except (Pending, FileNotFoundError):
        return None
    judged, names = evidence["judged"], evidence["names"]
    if judged["comparisons"].empty:
        return None
    final = judged["final"].set_index("variant")["final accuracy"]
    clocks_by_variant: dict[str, list[str]] = {}
    for r in judged["comparisons"].itertuples():
        if r.decision == "higher" and final[r.variant] < final["lstm"] - DELTA:
            clocks_by_variant.setdefault(r.variant, []).append(r.clock)
    faster_lower = [
        f"{names.get(v, v)} over the shared {and_list(clocks)} ({final[v]:.3f} final against the LSTM's "
        f"{final['lstm']:.3f})"
        for v, clocks in clocks_by_variant.items()
    ]
    if not faster_lower:
        return None
    seconds = evidence["runs"].groupby("label_variant_id").wall_time.median()
    by_variant = {v: group for v, group in evidence["curves"].groupby("label_variant_id", sort=False)}
    longer = window_sensitivity(by_variant, "lstm", "run seconds", [float(seconds["lstm"])]).set_index("variant")
    sensitivity = and_list(
        [
            f"{names.get(v, v)} {longer.difference[v]:+.3f} [{longer.low[v]:+.3f}, {longer.high[v]:+.3f}]"
            for v in clocks_by_variant
        ]
    )
    return (
        "Question 2's areas are taken over the window all runs share, which ends where the first run stops "
        f"({judged['windows']['steps']:,.0f} steps; {judged['windows']['run seconds']:.1f} s of its own clock), "
        "while the median run trains for "
        + and_list([f"{names.get(v, v)} {seconds[v]:.0f} s" for v in seconds.index])
        + ". Over that window the area finds faster "
        + and_list(faster_lower)
        + ": faster to a lower plateau, which the area over that window cannot see; the times to each target "
        "and the final accuracies beside it can. Over the LSTM's median run length instead "
        f"({seconds['lstm']:.0f} s), each stopped run holding its final accuracy, the same difference in area is "
        f"{sensitivity} (Welch 95%, unadjusted; a sensitivity check, not the pre-registered window)."
    )


def rates_threat(profile: str, results: Path) -> str | None:
    """Question 1's arms at different learning rates: a strategy's effect is then its own and its rate's."""
    from lte.study.analysis.comparisons import Pending, _runs

    found = []
    for experiment in ("program", "addition", "memorisation"):
        try:
            runs = _runs(experiment, profile, results)
        except (Pending, FileNotFoundError):
            continue
        for (task, model), group in runs.groupby(["task_name", "cfg_model"]):
            rates = group.groupby("cfg_strategy")["cfg_learning_rate"].first()
            if rates.nunique() > 1:
                found.append(f"{task} {model.upper()} (" + ", ".join(f"{s} {r:.3g}" for s, r in rates.items()) + ")")
    if not found:
        return None
    return (
        "Strategies run at different learning rates (each strategy's own selected rate), so a strategy's effect "
        "in question 1 is that of the strategy and its rate together: " + "; ".join(found) + "."
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
        + "; ".join(f"{m.upper()} {b:,} steps, {plural(int(seeds[m]), 'run')}" for m, b in budgets.items())
        + ")."
    )


def adding_selection_threat(profile: str, results: Path) -> str | None:
    """The adding problem's selection warnings: a winner on an edge of its grid, or no better than predict-1."""
    from lte.study.analysis.adding_selection import recorded_warnings, warnings_text

    warnings = recorded_warnings(profile, results)
    return f"The adding problem's selection: {warnings_text(warnings)}" if warnings else None


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
            seeds_threat(profile, results),
            selection_threat(profile, results),
            budget_threat(profile, results),
            fell_back_threat(profile, results),
            rate_sharing_threat(profile, results),
            rates_threat(profile, results),
            ceiling_threat(profile, results),
            question3_choice_threat(profile, results),
            parameters_threat(profile, results),
            question2_window_threat(profile, results),
            adding_threat(profile, results),
            adding_selection_threat(profile, results),
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
