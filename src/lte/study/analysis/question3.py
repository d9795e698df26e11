"""Question 3: the IRNN's best strategy (and trick) per task, chosen on the selection seeds and confirmed on
the study's own seeds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lte.study.analysis.comparisons import (
    METRIC,
    MODELS,
    SELECTION_METRIC,
    Comparison,
    Pending,
    _paired,
    _runs,
    comparisons_frame,
    decide_family,
)
from lte.study.analysis.labels import TRICKS, and_list
from lte.study.analysis.rising import rising_runs
from lte.study.analysis.stats import paired_difference
from lte.study.experiment import RESULTS

SELECTION_EXPERIMENT = "question3_selection"  # every compared setting on seeds of its own (103-105)


def best_setting(
    runs: pd.DataFrame,
    keys: list[str],
    label,
    chosen_on: pd.DataFrame | None = None,
    rising: set[str] = frozenset(),
) -> dict:
    """Pick the best setting on validation accuracy, of `chosen_on` (the selection seeds' runs) when given, else
    of `runs` themselves; compare it on test with every other, paired by seed. A comparison with a setting
    whose cell is still rising (`rising`: run names) is not decided (docs/preregistration.md, section 2)."""
    groups = {k if isinstance(k, tuple) else (k,): g for k, g in runs.groupby(keys)}
    if chosen_on is None:
        score = {k: g[SELECTION_METRIC].mean() for k, g in groups.items()}
    else:  # a setting's score: its best learning rate's mean over the selection seeds
        means = chosen_on.groupby([*keys, "cfg_learning_rate"], dropna=False)[SELECTION_METRIC].mean()
        score = {
            k if isinstance(k, tuple) else (k,): v
            for k, v in means.groupby(level=list(range(len(keys))), dropna=False).max().items()
        }
    winner = max((k for k in groups if k in score), key=score.get)
    comparisons = [
        Comparison({"other": label(k)}, paired_difference(*_paired(groups[winner], g)))
        for k, g in groups.items()
        if k != winner
    ]
    decide_family(comparisons)
    winner_rising = bool(set(groups[winner].cell) & rising)
    for c, k in zip(comparisons, [k for k in groups if k != winner]):
        if winner_rising or set(groups[k].cell) & rising:
            c.decision = "rising"
    decisions = {c.label["other"]: c.decision for c in comparisons}
    confirmed = all(d in ("higher", "equivalent") for d in decisions.values())
    beaten = [o for o, d in decisions.items() if d == "higher"]
    ties = [o for o, d in decisions.items() if d == "equivalent"]
    better = [o for o, d in decisions.items() if d == "lower"]
    undecided = [o for o, d in decisions.items() if d == "unclear"]
    still_rising = [o for o, d in decisions.items() if d == "rising"]
    where = "the selection seeds' validation" if chosen_on is not None else "validation, same runs"
    text = f"{label(winner)} (chosen on {where}: {score[winner]:.3f}; test {groups[winner][METRIC].mean():.3f})"
    settled = (
        f"better than {and_list(beaten)}" if beaten else "",
        f"tied within δ with {and_list(ties)}" if ties else "",
    )
    if confirmed:
        answer = f"{label(winner)} (confirmed on test" + "".join(f"; {s}" for s in settled if s) + ")"
    elif winner_rising:
        answer = f"{label(winner)} (not confirmed on test: its own cell is still rising)"
    elif better:
        answer = f"not confirmed: {and_list(better)} beat{'s' if len(better) == 1 else ''} {label(winner)} on test"
    else:
        open_ = (
            f"undecided against {and_list(undecided)}" if undecided else "",
            f"not decided (a cell is still rising) against {and_list(still_rising)}" if still_rising else "",
        )
        answer = f"{label(winner)} (not confirmed on test: " + "; ".join(s for s in (*open_, *settled) if s) + ")"
    return {
        "winner": label(winner),
        "confirmed": confirmed,
        "fresh_seeds": chosen_on is not None,
        "answer": answer,
        "text": text,
        "beaten": beaten,
        "ties": ties,
        "better": better,
        "undecided": undecided,
        "rising": still_rising,
        "winner_rising": winner_rising,
        "table": comparisons_frame(comparisons),
    }


def _trick_name(invert: bool, double: bool) -> str:
    return next(n for i, d, n in TRICKS if i == invert and d == double)


def _selection_runs(profile: str, results: Path) -> pd.DataFrame | None:
    """Question 3's selection runs (None when there are none): its winner is chosen on them, so that the
    study's seeds only confirm it."""
    try:
        return _runs(SELECTION_EXPERIMENT, profile, results)
    except Pending:
        return None


def question_3(profile: str, results: Path = RESULTS) -> dict:
    addition = _runs("addition", profile, results)
    memo = _runs("memorisation", profile, results)
    rising = rising_runs("addition", profile, results) | rising_runs("memorisation", profile, results)
    selection = _selection_runs(profile, results)

    def chosen_on(task: str, model: str) -> pd.DataFrame | None:
        runs = None if selection is None else selection[(selection.cfg_task == task) & (selection.cfg_model == model)]
        return runs if runs is not None and len(runs) else None

    parts = {}
    for model in MODELS:
        parts[model] = {
            "computation": best_setting(
                addition[addition.cfg_model == model],
                ["cfg_strategy"],
                lambda k: k[0],
                chosen_on("addition", model),
                rising,
            ),
            "memorisation": best_setting(
                memo[memo.cfg_model == model],
                ["cfg_strategy", "cfg_invert", "cfg_double"],
                lambda k: f"{k[0]} + {_trick_name(k[1], k[2])}",
                chosen_on("copy", model),
                rising,
            ),
        }
    irnn = parts["irnn"]
    verdict = f"computation: {irnn['computation']['answer']}; memorisation: {irnn['memorisation']['answer']}"

    def describe(p: dict) -> str:
        out = p["text"]
        if p["beaten"]:
            out += f"; better on test than {and_list(p['beaten'])}"
        if p["ties"]:
            out += f"; tied within δ with {and_list(p['ties'])}"
        if p["better"]:
            out += f"; worse on test than {and_list(p['better'])}"
        if p["undecided"]:
            out += f"; undecided against {and_list(p['undecided'])}"
        if p["rising"]:
            rising_side = "its own cell is" if p["winner_rising"] else "a cell is"
            out += f"; not decided ({rising_side} still rising) against {and_list(p['rising'])}"
        return out

    detail = (
        f"IRNN, computation (addition): {describe(irnn['computation'])}. IRNN, memorisation (copy): "
        f"{describe(irnn['memorisation'])}. For comparison, LSTM: computation "
        f"{describe(parts['lstm']['computation'])}; memorisation {describe(parts['lstm']['memorisation'])}."
    )
    return {"verdict": verdict, "detail": detail, "parts": parts}
