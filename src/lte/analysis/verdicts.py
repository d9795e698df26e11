"""The study's three questions, answered from the records with bootstrap intervals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lte.analysis.figures import STRATEGIES, TRICKS, task_name
from lte.analysis.records import load_runs
from lte.analysis.stats import bootstrap_difference, bootstrap_mean, classify, format_interval
from lte.analysis.tables import CONVERGENCE_TARGET, convergence_runs
from lte.experiment import RESULTS

METRIC = "test_char_accuracy"


def factor_effects(profile: str, results: Path = RESULTS) -> pd.DataFrame:
    """Each strategy's effect against baseline, and each trick's against none, per model and task."""
    rows = []
    for experiment in ("program", "addition", "memorisation"):
        runs = load_runs(experiment, profile, results)
        runs = runs.assign(task_name=runs.apply(task_name, axis=1))
        plain = runs[~runs.cfg_invert & ~runs.cfg_double]
        for task in sorted(runs.task_name.unique()):
            for model in ("lstm", "irnn"):
                sub = plain[(plain.task_name == task) & (plain.cfg_model == model)]
                base = sub[sub.cfg_strategy == "baseline"][METRIC]
                for strategy in STRATEGIES[1:]:
                    rows.append(_effect(task, model, f"{strategy} vs baseline",
                                        sub[sub.cfg_strategy == strategy][METRIC], base))
                if experiment == "memorisation":  # tricks, pooled over the four strategies
                    all_model = runs[(runs.task_name == task) & (runs.cfg_model == model)]
                    none = all_model[~all_model.cfg_invert & ~all_model.cfg_double][METRIC]
                    for invert, double, trick in TRICKS[1:]:
                        with_trick = all_model[(all_model.cfg_invert == invert) & (all_model.cfg_double == double)]
                        rows.append(_effect(task, model, f"{trick} vs no trick", with_trick[METRIC], none))
    return pd.DataFrame(rows)


def _effect(task: str, model: str, factor: str, treated, control) -> dict:
    diff, low, high = bootstrap_difference(treated, control)
    return {"task": task, "model": model, "factor": factor, "difference": diff, "low": low, "high": high,
            "effect": classify(low, high)}


def question_1(profile: str, results: Path = RESULTS) -> dict:
    effects = factor_effects(profile, results)
    wide = effects.pivot_table(index=["task", "factor"], columns="model", values="effect", aggfunc="first")
    helps_lstm = wide[wide.lstm == "helps"]
    opposite = wide[((wide.lstm == "helps") & (wide.irnn == "hurts")) | ((wide.lstm == "hurts") & (wide.irnn == "helps"))]
    same = int((wide.lstm == wide.irnn).sum())
    if len(opposite):
        verdict = "no"
    elif len(helps_lstm) and (helps_lstm.irnn == "helps").all():
        verdict = "yes"
    else:
        verdict = "unclear"
    carried = int((helps_lstm.irnn == "helps").sum())
    detail = (f"{len(helps_lstm)} of {len(wide)} strategy and trick effects help the LSTM (95% interval of the "
              f"difference above 0); {carried} of them help the IRNN as well; {len(opposite)} go in opposite "
              f"directions for the two models; the two models' effects fall in the same class "
              f"(helps / hurts / unclear) for {same} of {len(wide)}.")
    return {"verdict": verdict, "detail": detail, "effects": effects}


def question_2(profile: str, results: Path = RESULTS) -> dict:
    runs = convergence_runs(profile, results)
    lstm = runs[runs.cfg_model == "lstm"]
    budget_seconds = runs.wall_time.max()
    lines, outcomes = [], []
    for variant, irnn in runs[runs.cfg_model == "irnn"].groupby("label_variant", sort=False):
        # a run that never reached the target counts with its whole training time (a lower bound)
        lstm_s = lstm.seconds_to_target.fillna(lstm.wall_time)
        irnn_s = irnn.seconds_to_target.fillna(irnn.wall_time)
        diff, low, high = bootstrap_difference(irnn_s, lstm_s)
        step_ratio = irnn.seconds_per_step.mean() / lstm.seconds_per_step.mean()
        reached = f"{irnn.steps_to_target.notna().sum()}/{len(irnn)} vs {lstm.steps_to_target.notna().sum()}/{len(lstm)}"
        outcomes.append(classify(-high, -low))  # 'helps' = the IRNN is faster
        lines.append(f"{variant}: seconds to reach {CONVERGENCE_TARGET:g} test character accuracy minus the "
                     f"LSTM's = {format_interval(diff, low, high, 1)} s (runs that reached it: {reached}); "
                     f"its step takes {step_ratio:.2f}x the LSTM's")
    if all(o == "helps" for o in outcomes):
        verdict = "yes"
    elif any(o == "hurts" for o in outcomes) or (lstm.steps_to_target.notna().any()
                                                  and runs[runs.cfg_model == "irnn"].steps_to_target.isna().all()):
        verdict = "no"
    else:
        verdict = "unclear"
    return {"verdict": verdict, "detail": "; ".join(lines) + f" (longest run {budget_seconds:.0f} s).",
            "runs": runs}


def _best(runs: pd.DataFrame, keys: list[str]) -> tuple[str, str]:
    """The best setting by mean, and whether its lead over the runner-up is clear."""
    groups = {k: g[METRIC].to_numpy() for k, g in runs.groupby(keys)}
    ranked = sorted(groups, key=lambda k: -groups[k].mean())
    name = lambda k: " + ".join(str(v) for v in (k if isinstance(k, tuple) else (k,)))
    best, second = ranked[0], ranked[1]
    diff, low, high = bootstrap_difference(groups[best], groups[second])
    mean, lo, hi = bootstrap_mean(groups[best])
    clear = low > 0
    text = (f"{name(best)} ({format_interval(mean, lo, hi)}), "
            f"{'clearly' if clear else 'not clearly'} ahead of {name(second)} "
            f"(difference {format_interval(diff, low, high)})")
    return ("clear" if clear else "unclear"), text


def question_3(profile: str, results: Path = RESULTS) -> dict:
    addition = load_runs("addition", profile, results)
    memo = load_runs("memorisation", profile, results)
    memo = memo.assign(trick=[t for inv, dbl in zip(memo.cfg_invert, memo.cfg_double)
                              for t in [next(n for i, d, n in TRICKS if i == inv and d == dbl)]])
    parts, clarity = {}, []
    for model in ("irnn", "lstm"):
        c_clear, c_text = _best(addition[addition.cfg_model == model], ["cfg_strategy"])
        m_clear, m_text = _best(memo[memo.cfg_model == model], ["cfg_strategy", "trick"])
        parts[model] = {"computation": c_text, "memorisation": m_text}
        if model == "irnn":
            clarity += [c_clear, m_clear]
    verdict = "answered" if all(c == "clear" for c in clarity) else "unclear"
    detail = (f"IRNN, computation (addition): {parts['irnn']['computation']}. IRNN, memorisation (copy): "
              f"{parts['irnn']['memorisation']}. For comparison, LSTM: computation {parts['lstm']['computation']}; "
              f"memorisation {parts['lstm']['memorisation']}.")
    return {"verdict": verdict, "detail": detail, "parts": parts}
