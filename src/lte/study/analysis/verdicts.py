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
from pathlib import Path

import numpy as np
import pandas as pd

from lte.study.analysis.comparisons import (  # noqa: F401 (re-exported)
    ALPHA,
    DELTA,
    METRIC,
    MODELS,
    SELECTION_METRIC,
    Comparison,
    Pending,
    _by_seed,
    _paired,
    _runs,
    comparisons_frame,
    decide_family,
    diverged_runs,
)
from lte.study.analysis.labels import STRATEGIES, TRICKS
from lte.study.analysis.question1 import judge_task
from lte.study.analysis.question2 import judge as judge_convergence
from lte.study.analysis.question3 import SELECTION_EXPERIMENT, best_setting, question_3  # noqa: F401
from lte.study.analysis.records import load_curves
from lte.study.analysis.rising import cell_slopes
from lte.study.analysis.stats import format_interval
from lte.study.experiment import RESULTS

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
    rows, gains, task_verdicts = [], [], {}
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
                    gains.append(
                        {
                            "task": task,
                            "factor": factor,
                            "model": model,
                            "mean": r.estimate.mean,
                            "low": r.low,
                            "high": r.high,
                            "decision": r.decision,
                            "act": r.act,
                            "rising": r.rising,
                            "level": judged["level"],
                        }
                    )
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
    # `gains`: the numbers behind the table's text, one row per (task, factor, model), for the forest plot
    return {"verdict": verdict, "detail": detail, "table": table, "gains": pd.DataFrame(gains), "tasks": task_verdicts}


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
