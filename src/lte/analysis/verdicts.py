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
    hurts_lstm = wide[wide.lstm == "hurts"]
    detail = (f"{len(helps_lstm)} of {len(wide)} strategy and trick effects help the LSTM (95% interval of the "
              f"difference above 0): {', '.join(f'{f} on {t}' for t, f in helps_lstm.index)}; "
              f"{carried} of them help the IRNN as well. {len(hurts_lstm)} hurt the LSTM, "
              f"{int((hurts_lstm.irnn == 'hurts').sum())} of them the IRNN as well. {len(opposite)} go in opposite "
              f"directions for the two models; the two models' effects fall in the same class "
              f"(helps / hurts / unclear) for {same} of {len(wide)}; the rest are clear for one model only.")
    return {"verdict": verdict, "detail": detail, "effects": effects}


def _curve_means(curves, cells, x: str, upto: float) -> "np.ndarray":
    """Per cell: mean test character accuracy over [0, upto] of `x` (steps or wall_time), interpolated
    on a common grid, i.e. the normalised area under its learning curve."""
    grid = np.linspace(0, upto, 200)[1:]
    out = []
    for cell in cells:
        c = curves[curves.cell == cell].sort_values(x)
        xs = np.concatenate([[0.0], c[x].to_numpy(float)])
        ys = np.concatenate([[c[METRIC].iloc[0]], c[METRIC].to_numpy(float)])
        out.append(np.interp(grid, xs, ys).mean())
    return np.array(out)


def question_2(profile: str, results: Path = RESULTS) -> dict:
    """Faster convergence = higher accuracy along the way, at equal steps and at equal seconds.

    Each run's learning curve is averaged over a common window (all the steps;
    the seconds until the quickest run ends), and the IRNN's average is compared
    with the LSTM's; the steps and seconds to reach the convergence target are
    reported for the runs that reach it.
    """
    from lte.analysis.records import load_curves

    runs = convergence_runs(profile, results)
    curves = load_curves("convergence", profile, results)
    lstm = runs[runs.cfg_model == "lstm"]
    common_steps = float(runs.steps.min())
    common_seconds = float(runs.wall_time.min())
    lines, by_measure = [], {"steps": [], "seconds": []}
    for variant, irnn in runs[runs.cfg_model == "irnn"].groupby("label_variant", sort=False):
        parts = []
        for measure, x, upto in (("steps", "step", common_steps), ("seconds", "wall_time", common_seconds)):
            diff, low, high = bootstrap_difference(_curve_means(curves, irnn.cell, x, upto),
                                                   _curve_means(curves, lstm.cell, x, upto))
            by_measure[measure].append(classify(low, high))
            parts.append(f"over the first {upto:.0f} {measure}, its mean test character accuracy minus the "
                         f"LSTM's is {format_interval(diff, low, high)}")
        reached = irnn.steps_to_target.notna().sum(), lstm.steps_to_target.notna().sum()
        step_ratio = irnn.seconds_per_step.mean() / lstm.seconds_per_step.mean()
        lines.append(f"{variant}: {'; '.join(parts)}; its step takes {step_ratio:.2f}x the LSTM's time; runs reaching "
                     f"{CONVERGENCE_TARGET:g}: {reached[0]}/{len(irnn)} (LSTM {reached[1]}/{len(lstm)})")
    word = {"helps": "yes", "hurts": "no", "unclear": "unclear"}
    measures = {m: (word[c[0]] if len(set(c)) == 1 else "unclear") for m, c in by_measure.items()}
    verdict = (measures["steps"] if measures["steps"] == measures["seconds"]
               else f"{measures['seconds']} in seconds, {measures['steps']} in steps")
    return {"verdict": verdict, "detail": ". ".join(lines) + ".", "runs": runs}


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
