"""The study's three questions, answered from the records by rules fixed before the numbers.

The rules (`RULES`, printed at the top of the report) were written before any
record of the profiles they judge existed:

- every comparison is a difference of mean test character accuracy (teacher
  forced, at the target level) with a t interval over seeds: paired by seed
  where the design pairs (one model, two strategies or tricks: seed s gives
  both the same initial weights), Welch where it does not (two models);
- a difference is decided from the interval printed beside it: the
  false-coverage-rate interval of its family (level 1 - 0.05 R/m, R the
  tests Benjamini-Hochberg rejects at 5%): "equivalent" inside +-DELTA,
  else "higher" / "lower" above / below 0, otherwise "unclear";
- DELTA, the smallest difference that matters, is 0.05 (5 points of character
  accuracy), for every question.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lte.study.analysis.labels import STRATEGIES, TRICKS, task_name
from lte.study.analysis.question1 import decide_by_interval, fcr_interval, fcr_level, judge_task
from lte.study.analysis.question2 import judge as judge_convergence
from lte.study.analysis.records import load_curves, load_runs
from lte.study.analysis.rising import cell_slopes
from lte.study.analysis.stats import Estimate, benjamini_hochberg, format_interval, paired_difference
from lte.study.experiment import RESULTS

METRIC = "test_char_accuracy"
SELECTION_METRIC = "val_target_char_accuracy"
DELTA = 0.05
ALPHA = 0.05
MODELS = ("lstm", "irnn")

RULES = f"""\
Fixed before the records were made (`lte.study.analysis.verdicts`):

- **Measure.** Test character accuracy (teacher-forced, at the target level) at the end of each run.
- **Comparisons.** A difference of means with a t interval over seeds: *paired by seed* where the
  design pairs (within one model, seed s gives every strategy and trick the same initial weights),
  *Welch* between models (their seeds are independent).
- **Decisions** read off the interval printed (docs/preregistration.md, section 8). Within each family
  (question 1 per task, question 2's comparisons, question 3 per model and task) the interval is the
  false-coverage-rate interval (Benjamini-Yekutieli) at level 1 - {ALPHA} R/m, R the tests that
  Benjamini-Hochberg rejects at {ALPHA:.0%} (R = 1 when none). A difference is **equivalent** (no difference
  larger than δ) when the interval lies inside ±δ, even if it excludes 0; otherwise **higher** / **lower**
  when it lies above / below 0; else **unclear**. δ = {DELTA} (5 points of character accuracy), the
  smallest difference that matters here (0.2 for question 1's normalised gains).
- **Diverged runs** (non-finite loss or parameters) have no accuracy: they are left out of every
  comparison (a paired comparison loses that seed), counted in the tables, and listed in the report.
- **Still rising.** A run's final slope is the least-squares slope of its test accuracy over the last 20% of
  its steps, per 1,000 steps; a cell (its runs over seeds) whose mean final slope exceeds 0.01 is *rising*,
  and a question-1 comparison that involves it is not decided (docs/preregistration.md, section 2).
- **Question 1** is judged per task (docs/preregistration.md, section 5) on each factor's *normalised gain*
  (for each strategy against baseline without tricks, and each trick against none within each strategy):
  per seed, treated minus control over the control's headroom (1 minus its mean, at least 0.01), so that a
  factor taking both models to the ceiling gains 1 for both. For each model the gain *helps*, *hurts* or acts
  *none* when its false-coverage-rate interval (Benjamini-Yekutieli, level 1 - 0.05 R/m within the task,
  printed) lies above 0, below 0, or inside ±0.2; otherwise unclear. A factor acts *the same* on both
  models when their acts are equal, *differs* when one helps and the other hurts or one acts and the other
  is decided none. Per task: **untestable** when nothing helps or hurts the LSTM (and none of its cells is
  rising); **yes** when every factor acting on either model acts the same; **no** when any differs; else
  **unclear**. The overall answer is *no* if any task says no, *yes* if every testable task says yes.
- **Question 2** is judged on learning curves (task: addition, combined strategy; docs/preregistration.md,
  section 6): the area under each run's test-accuracy curve (its mean over the window), over the steps all
  runs share and over the seconds all runs share, IRNN (equal units, and equal parameters) minus LSTM,
  Welch, one family. Seconds are the runs' **own measured training time** (the loop's clock), which
  decides; seconds from each model's step timed alone (`step_times.json`) are reported beside them. Per
  variant and clock: **yes** when the IRNN's area is *higher*, **no** when *lower* or *equivalent*, else
  **unclear** (also when a cell is still rising). Steps and seconds to a target accuracy are reported
  beside it; the target is 90% of the lower of the two models' median final accuracies, rounded down to
  0.05.
- **Question 3**: for each task (computation: addition; memorisation: copy), the IRNN's best setting
  (strategy; for copy, strategy and trick) is the one with the highest mean *validation* accuracy on the
  per-strategy selection's seeds (100-102, at each setting's best rate; without those records, on the study's
  own runs, which the answer then says); it is then compared on *test* accuracy on the study's seeds with
  every other setting, paired by seed. It is **confirmed** when it
  is *higher* than or *equivalent* to every other setting, and the answer lists those it is clearly
  better than and those it ties with; **not confirmed** when any other setting is *higher* on test.
"""


@dataclass
class Comparison:
    """One test of a family: an estimate, its adjusted p-value, the interval the decision reads, the decision."""

    label: dict
    estimate: Estimate
    p_difference: float = float("nan")
    level: float = float("nan")
    low: float = float("nan")
    high: float = float("nan")
    decision: str = "unclear"


def decide_family(comparisons: list[Comparison], delta: float = DELTA) -> list[Comparison]:
    """Decide each comparison from its false-coverage-rate interval (docs/preregistration.md, section 8): the
    level 1 - ALPHA * R / m, R the family's tests that Benjamini-Hochberg rejects; the interval printed is the
    one read."""
    if not comparisons:
        return comparisons
    p_values = [c.estimate.p_value for c in comparisons]
    level = fcr_level(p_values, ALPHA)
    for c, p_adjusted in zip(comparisons, benjamini_hochberg(p_values)):
        c.p_difference, c.level = float(p_adjusted), level
        c.low, c.high = fcr_interval(c.estimate, level)
        c.decision = decide_by_interval(c.low, c.high, delta)
    return comparisons


def comparisons_frame(comparisons: list[Comparison]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                **c.label,
                "estimate": format_interval(c.estimate.mean, c.low, c.high),
                "mean": c.estimate.mean,
                "low": c.low,
                "high": c.high,
                "method": c.estimate.method,
                "p (BH)": c.p_difference,
                "interval level": c.level,
                "decision": c.decision,
            }
            for c in comparisons
        ]
    )


class Pending(Exception):
    """Records of an experiment the question needs are not (all) there yet."""


def _runs(experiment: str, profile: str, results: Path) -> pd.DataFrame:
    """The experiment's finished runs that did not diverge (`diverged_runs` lists those that did)."""
    try:
        runs = load_runs(experiment, profile, results)
    except FileNotFoundError as error:
        raise Pending(str(error)) from None
    runs = runs[~runs.diverged.astype(bool)] if "diverged" in runs else runs
    return runs.assign(task_name=runs.apply(task_name, axis=1))


def diverged_runs(
    profile: str,
    results: Path = RESULTS,
    experiments: tuple[str, ...] = ("program", "addition", "memorisation", "convergence"),
) -> list[str]:
    """experiment/cell of every finished run of the judged experiments that diverged."""
    found = []
    for experiment in experiments:
        try:
            runs = load_runs(experiment, profile, results, require_all=False)
        except FileNotFoundError:
            continue
        if "diverged" in runs:
            found += [f"{experiment}/{cell}" for cell in runs[runs.diverged.astype(bool)].cell]
    return found


def _by_seed(runs: pd.DataFrame, metric: str = METRIC) -> pd.Series:
    return runs.set_index("cfg_seed")[metric].sort_index()


def _paired(treated: pd.DataFrame, control: pd.DataFrame, metric: str = METRIC) -> tuple[np.ndarray, np.ndarray]:
    """The two arms' values on the seeds both have, in seed order."""
    a, b = _by_seed(treated, metric), _by_seed(control, metric)
    seeds = a.index.intersection(b.index)
    return a.loc[seeds].to_numpy(float), b.loc[seeds].to_numpy(float)


def _factor_arms(runs: pd.DataFrame, experiment: str) -> list[tuple[str, str, pd.Series, pd.Series]]:
    """(task, factor, treated mask, control mask) for every strategy and trick effect of an experiment."""
    arms = []
    plain = ~runs.cfg_invert & ~runs.cfg_double
    for task in sorted(runs.task_name.unique()):
        here = runs.task_name == task
        for strategy in STRATEGIES[1:]:
            arms.append(
                (
                    task,
                    f"{strategy} vs baseline",
                    here & plain & (runs.cfg_strategy == strategy),
                    here & plain & (runs.cfg_strategy == "baseline"),
                )
            )
        if experiment == "memorisation":
            for invert, double, trick in TRICKS[1:]:
                for strategy in STRATEGIES:
                    same = here & (runs.cfg_strategy == strategy)
                    arms.append(
                        (
                            task,
                            f"{trick} vs no trick ({strategy})",
                            same & (runs.cfg_invert == invert) & (runs.cfg_double == double),
                            same & plain,
                        )
                    )
    return arms


def _rising_arms(experiment: str, profile: str, results: Path) -> set[str]:
    """The cells (runs of one arm over seeds, by their non-seed labels) whose runs are still rising."""
    curves = load_curves(experiment, profile, results)
    if curves.empty:
        return set()
    by = sorted(c for c in curves.columns if c.startswith("label_") and c != "label_seed")
    table = cell_slopes(curves, by)
    rising = table[table.rising]
    runs_of = curves.drop_duplicates("cell").set_index(by)["cell"] if by else None
    return {
        cell
        for key in rising[by].itertuples(index=False)
        for cell in np.atleast_1d(runs_of.loc[tuple(key)] if len(by) > 1 else runs_of.loc[key[0]])
    }


def question_1(profile: str, results: Path = RESULTS) -> dict:
    """Per task: each factor's normalised gain per model, the two models' acts compared, the task's verdict
    (lte.study.analysis.question1, docs/preregistration.md section 5)."""
    rows, task_verdicts = [], {}
    for experiment in ("program", "addition", "memorisation"):
        runs = _runs(experiment, profile, results)
        rising_cells = _rising_arms(experiment, profile, results)
        by_task: dict[str, tuple[dict, set]] = {}
        for task, factor, treated, control in _factor_arms(runs, experiment):
            arms, rising = by_task.setdefault(task, ({}, set()))
            for model in MODELS:
                is_model = runs.cfg_model == model
                arms[(model, factor)] = _paired(runs[treated & is_model], runs[control & is_model])
                if set(runs[(treated | control) & is_model].cell) & rising_cells:
                    rising.add((model, factor))
        for task, (arms, rising) in by_task.items():
            judged = judge_task(arms, rising)
            task_verdicts[task] = judged["verdict"]
            results_by = {(r.model, r.factor): r for r in judged["results"]}
            for factor, agreement_ in judged["agreements"].items():
                row = {"task": task, "factor": factor}
                for model in MODELS:
                    r = results_by[(model, factor)]
                    interval = (
                        f"[{r.low:.2f}, {r.high:.2f}]"
                        if math.isfinite(r.low) and math.isfinite(r.high)
                        else f"[no interval: {r.estimate.n} paired seed{'s' if r.estimate.n != 1 else ''}]"
                    )
                    row[f"{model.upper()} gain"] = f"{r.estimate.mean:.2f} {interval}" + (
                        " (rising)" if r.rising else ""
                    )
                    row[f"{model.upper()} act"] = r.act
                row["agreement"] = agreement_
                row["interval level"] = f"{judged['level']:.3f}"
                rows.append(row)
    testable = {t: v for t, v in task_verdicts.items() if v != "untestable"}
    untestable = sorted(t for t, v in task_verdicts.items() if v == "untestable")
    if not testable:
        verdict = "untestable: no strategy or trick helps or hurts the LSTM on any task"
    elif "no" in testable.values():
        verdict = "no"
    elif all(v == "yes" for v in testable.values()):
        verdict = "yes"
    else:
        verdict = "unclear"
    verdict += " (" + "; ".join(f"{t}: {v}" for t, v in task_verdicts.items()) + ")"
    table = pd.DataFrame(rows)
    acting = table[table["LSTM act"].isin(["helps", "hurts"]) | table["IRNN act"].isin(["helps", "hurts"])]
    detail = (
        f"Judged per task on each factor's normalised gain (treated minus control over the control's "
        f"headroom, paired by seed). {len(acting)} of {len(table)} factors act on at least one model; of "
        f"those, {int((acting.agreement == 'same').sum())} act alike, "
        f"{int((acting.agreement == 'differs').sum())} differ and "
        f"{int((acting.agreement == 'unclear').sum())} are undecided. "
        + (f"Untestable (nothing acts on the LSTM): {', '.join(untestable)}. " if untestable else "")
        + f"{int(table['LSTM gain'].str.contains('rising').sum() + table['IRNN gain'].str.contains('rising').sum())} "
        f"gains rest on a cell still rising at the end of its budget and are left undecided."
    )
    return {"verdict": verdict, "detail": detail, "table": table, "tasks": task_verdicts}


# ---------------------------------------------------------------- question 2


def convergence_target(runs: pd.DataFrame) -> float:
    """90% of the lower of the LSTM's and the equal-units IRNN's median final accuracy, rounded down to 0.05."""
    medians = [runs[runs.label_variant_id == v][METRIC].median() for v in ("lstm", "irnn-units")]
    return float(np.floor(0.9 * min(medians) / 0.05 + 1e-9) * 0.05)


def step_times(profile: str, results: Path = RESULTS) -> dict | None:
    """The measured seconds per step of each convergence variant (`lte step-times`), or None."""
    import json

    from lte.study.experiment import runs_dir

    path = runs_dir("convergence", profile, results) / "step_times.json"
    return json.loads(path.read_text()) if path.exists() else None


def curve_areas(curves: pd.DataFrame, runs: pd.DataFrame, seconds_per_step: dict) -> tuple[pd.DataFrame, float, float]:
    """Per run: the mean of its test-accuracy curve over the shared steps and over the shared seconds.

    The windows end where the shortest run ends (in steps, and in seconds at the measured step times), so
    no curve is extrapolated; before its first evaluation a curve holds that evaluation's value.
    Returns (runs with area_steps and area_seconds, step window, second window).
    """
    runs = runs.copy()
    runs["seconds_per_step"] = runs.label_variant_id.map(seconds_per_step)
    step_window = float(runs.steps.min())
    second_window = float((runs.steps * runs.seconds_per_step).min())
    areas = []
    for run in runs.itertuples():
        c = curves[curves.cell == run.cell].sort_values("step")
        steps = np.concatenate([[0.0], c.step.to_numpy(float)])
        accuracy = np.concatenate([[c[METRIC].iloc[0]], c[METRIC].to_numpy(float)])
        row = {"cell": run.cell}
        for name, window, scale in (
            ("area_steps", step_window, 1.0),
            ("area_seconds", second_window, run.seconds_per_step),
        ):
            grid = np.linspace(0.0, window, 401)[1:]
            row[name] = float(np.interp(grid, steps * scale, accuracy).mean())
        areas.append(row)
    return runs.merge(pd.DataFrame(areas), on="cell"), step_window, second_window


def first_reach(curves: pd.DataFrame, target: float) -> pd.DataFrame:
    rows = []
    for cell, c in curves.groupby("cell"):
        hit = c.sort_values("step")
        hit = hit[hit[METRIC] >= target]
        rows.append({"cell": cell, "steps_to_target": float(hit.step.iloc[0]) if len(hit) else np.nan})
    return pd.DataFrame(rows)


def convergence_evidence(profile: str, results: Path = RESULTS) -> dict:
    runs = _runs("convergence", profile, results)
    curves = load_curves("convergence", profile, results)
    measured = step_times(profile, results)
    if measured is None:
        raise Pending(
            "convergence/step_times.json is missing: run `lte step-times --profile "
            f"{profile}` (make sweeps does) to measure each model's time per step"
        )
    per_step = {k: v["seconds_per_step"] for k, v in measured["variants"].items()}
    runs, step_window, second_window = curve_areas(curves, runs, per_step)
    target = convergence_target(runs)
    runs = runs.merge(first_reach(curves, target), on="cell")
    runs["seconds_to_target"] = runs.steps_to_target * runs.seconds_per_step
    return {
        "runs": runs,
        "target": target,
        "step_window": step_window,
        "second_window": second_window,
        "step_times": measured,
    }


def question_2(profile: str, results: Path = RESULTS) -> dict:
    """Per IRNN variant and clock, its area under the curve against the LSTM's (lte.study.analysis.question2,
    docs/preregistration.md section 6): the runs' own training time decides the seconds verdict."""
    evidence = convergence_evidence(profile, results)
    curves = load_curves("convergence", profile, results)
    by_variant = {variant: group for variant, group in curves.groupby("label_variant_id", sort=False)}
    per_step = {k: 1000 * v["seconds_per_step"] for k, v in evidence["step_times"]["variants"].items()}
    slopes = cell_slopes(curves, ["label_variant_id"])
    judged = judge_convergence(
        by_variant, "lstm", ms_per_step=per_step, rising=frozenset(slopes[slopes.rising].label_variant_id)
    )
    names = dict(zip(curves.label_variant_id, curves.label_variant))
    table = judged["comparisons"].assign(
        variant=lambda t: t.variant.map(names),
        measure=lambda t: t.clock,
        estimate=lambda t: [format_interval(m, lo, hi) for m, lo, hi in zip(t.difference, t["low"], t["high"])],
        **{"interval level": lambda t: t.level},
    )
    verdicts_by = judged["verdicts"]
    verdict = "; ".join(
        f"{names[v].split('(')[-1].rstrip(')')}: {by['steps']} in steps, {by['run seconds']} in seconds"
        for v, by in sorted(verdicts_by.items(), key=lambda item: (item[0] != "irnn-units", item[0]))
    )
    lines = [
        f"{r.variant} minus LSTM over the shared {r.clock} (window {r.window:,.1f}): {r.estimate} "
        f"({r.method}; level {r.level:.3f}; {r.decision})"
        for r in table.itertuples()
    ]
    detail = (
        "; ".join(lines) + ". Seconds are the runs' own measured training time (the loop's clock), which "
        "decides; the seconds from the step timed alone ("
        + ", ".join(f"{k} {v:.2f} ms" for k, v in per_step.items())
        + ") are reported beside them. Mean final accuracy: "
        + ", ".join(f"{names[r.variant]} {r._3:.3f}" for r in judged["final"].itertuples())
        + "."
    )
    return {"verdict": verdict, "detail": detail, "table": table, "judged": judged, **evidence}


# ---------------------------------------------------------------- question 3

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
