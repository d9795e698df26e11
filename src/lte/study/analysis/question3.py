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
from lte.study.analysis.labels import TRICKS
from lte.study.analysis.stats import paired_difference
from lte.study.experiment import RESULTS

SELECTION_EXPERIMENT = "question3_selection"  # every compared setting on seeds of its own (103-105)


def best_setting(runs: pd.DataFrame, keys: list[str], label, chosen_on: pd.DataFrame | None = None) -> dict:
    """Pick the best setting on validation accuracy, of `chosen_on` (the selection seeds' runs) when given, else
    of `runs` themselves; compare it on test with every other, paired by seed."""
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
    decisions = {c.label["other"]: c.decision for c in comparisons}
    confirmed = all(d in ("higher", "equivalent") for d in decisions.values())
    beaten = [o for o, d in decisions.items() if d == "higher"]
    ties = [o for o, d in decisions.items() if d == "equivalent"]
    better = [o for o, d in decisions.items() if d == "lower"]
    undecided = [o for o, d in decisions.items() if d == "unclear"]
    where = "the selection seeds' validation" if chosen_on is not None else "validation, same runs"
    text = f"{label(winner)} (chosen on {where}: {score[winner]:.3f}; test {groups[winner][METRIC].mean():.3f})"
    if confirmed:
        answer = (
            f"{label(winner)}"
            + (f", clearly better than {_some(beaten, len(decisions))}" if beaten else "")
            + (f", tied within δ with {_some(ties, len(decisions))}" if ties else "")
        )
    elif better:
        answer = f"not confirmed: {', '.join(better)} beat{'s' if len(better) == 1 else ''} {label(winner)} on test"
    else:
        answer = (
            f"{label(winner)} (best on validation; on test, undecided against {len(undecided)} of the "
            f"{len(decisions)} other settings)"
        )
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
        "table": comparisons_frame(comparisons),
    }


def _some(settings: list[str], others: int, at_most: int = 3) -> str:
    """Name a few settings; a longer list is counted (the question's detail names every one)."""
    if len(settings) <= at_most:
        return ", ".join(settings)
    return f"{len(settings)} of the {others} other settings"


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
    selection = _selection_runs(profile, results)

    def chosen_on(task: str, model: str) -> pd.DataFrame | None:
        runs = None if selection is None else selection[(selection.cfg_task == task) & (selection.cfg_model == model)]
        return runs if runs is not None and len(runs) else None

    parts = {}
    for model in MODELS:
        parts[model] = {
            "computation": best_setting(
                addition[addition.cfg_model == model], ["cfg_strategy"], lambda k: k[0], chosen_on("addition", model)
            ),
            "memorisation": best_setting(
                memo[memo.cfg_model == model],
                ["cfg_strategy", "cfg_invert", "cfg_double"],
                lambda k: f"{k[0]} + {_trick_name(k[1], k[2])}",
                chosen_on("copy", model),
            ),
        }
    irnn = parts["irnn"]
    verdict = f"computation: {irnn['computation']['answer']}; memorisation: {irnn['memorisation']['answer']}"

    def describe(p: dict) -> str:
        out = p["text"]
        if p["beaten"]:
            out += f"; clearly better on test than {', '.join(p['beaten'])}"
        if p["ties"]:
            out += f"; tied within δ with {', '.join(p['ties'])}"
        if p["better"]:
            out += f"; worse on test than {', '.join(p['better'])}"
        if p["undecided"]:
            out += f"; undecided against {', '.join(p['undecided'])}"
        return out

    detail = (
        f"IRNN, computation (addition): {describe(irnn['computation'])}. IRNN, memorisation (copy): "
        f"{describe(irnn['memorisation'])}. For comparison, LSTM: computation "
        f"{describe(parts['lstm']['computation'])}; memorisation {describe(parts['lstm']['memorisation'])}."
    )
    return {"verdict": verdict, "detail": detail, "parts": parts}
