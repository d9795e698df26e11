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
from lte.study.analysis.labels import STRATEGIES, TRICKS, and_list
from lte.study.analysis.question1 import judge_task
from lte.study.analysis.question2 import TARGETS
from lte.study.analysis.question2 import judge as judge_convergence
from lte.study.analysis.question3 import SELECTION_EXPERIMENT, best_setting, question_3  # noqa: F401
from lte.study.analysis.records import load_curves
from lte.study.analysis.rising import cell_slopes, rising_runs
from lte.study.analysis.stats import fixed, format_interval, no_interval_note
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
  and a comparison that involves it is not decided: its decision is *rising*, and it counts as unclear in
  every verdict (docs/preregistration.md, section 2).
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
  **unclear** (also when a cell is still rising). Beside it: the steps and seconds to each of the target
  accuracies {", ".join(f"{t:g}" for t in TARGETS)} (median over the runs that reach it, and how many do), and
  each model's final accuracy; a *yes* whose variant ends more than δ below the LSTM says so (the window ends
  where the first run stops, so the area cannot see a model fast to a lower plateau).
- **Question 3**: for each task (computation: addition; memorisation: copy), the IRNN's best setting
  (strategy; for copy, strategy and trick) is the one with the highest mean *validation* accuracy at the
  target level on question 3's own selection runs (every compared setting at its strategy's selected rate,
  seeds 103-105, which chose no rate; without those records, on the study's own runs, which the answer then
  says); it is then compared on *test* accuracy on the study's seeds with every other setting, paired by
  seed. It is **confirmed** when it is *higher* than or *equivalent* to every other setting, and the answer
  names those it is better than and those it ties with; **not confirmed** when any other setting is
  *higher* on test, or when a comparison is unclear or involves a rising cell (the answer names them). The
  LSTM's part is chosen on its study runs' validation accuracy, for comparison only.
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


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def question_1(profile: str, results: Path = RESULTS) -> dict:
    """Per task: each factor's normalised gain per model, the two models' acts compared, the task's verdict
    (lte.study.analysis.question1, docs/preregistration.md section 5)."""
    rows, gains, task_verdicts, fragility = [], [], {}, {}
    for experiment in ("program", "addition", "memorisation"):
        runs = _runs(experiment, profile, results)
        rising_cells = rising_runs(experiment, profile, results)
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
            fragility[task] = judged["fragility"]
            results_by = {(r.model, r.factor): r for r in judged["results"]}
            for factor, agreement_ in judged["agreements"].items():
                row = {"task": task, "factor": factor}
                for model in MODELS:
                    r = results_by[(model, factor)]
                    interval = (
                        f"[{fixed(r.low, 2)}, {fixed(r.high, 2)}]"
                        if math.isfinite(r.low) and math.isfinite(r.high)
                        else f"[{no_interval_note(r.estimate) or 'no interval'}]"
                    )
                    row[f"{model.upper()} gain"] = f"{fixed(r.estimate.mean, 2)} {interval}" + (
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
    if len(testable) == 1:  # docs/preregistration.md, section 3: the verdict says so when it rests on one setting
        verdict += f"; it rests on one task, {next(iter(testable))}"
    table = pd.DataFrame(rows)
    acts = table[["LSTM act", "IRNN act"]]
    acting = table[acts.isin(["helps", "hurts"]).any(axis=1)]
    settled = table[(acts != "unclear").all(axis=1)]
    rising_gains = int(sum(table[f"{m.upper()} gain"].str.endswith("(rising)").sum() for m in MODELS))
    detail = (
        f"Judged per task on each factor's normalised gain (treated minus control over the control's "
        f"headroom, paired by seed). Of {_count(len(table), 'factor')}, {len(settled)} "
        f"{'is' if len(settled) == 1 else 'are'} decided for both models and {len(acting)} act on at least one; "
        f"{int((table.agreement == 'same').sum())} act alike, {int((table.agreement == 'differs').sum())} "
        f"differ and {int((table.agreement == 'unclear').sum())} are unclear. "
        + (f"Untestable (nothing acts on the LSTM): {and_list(untestable)}. " if untestable else "")
        + (
            f"{_count(rising_gains, 'gain')} of {2 * len(table)} rest on a cell still rising at the end of its "
            "budget and are left undecided."
            if rising_gains
            else "No gain rests on a cell still rising."
        )
    )
    # `gains`: the numbers behind the table's text, one row per (task, factor, model), for the forest plot
    return {
        "verdict": verdict,
        "detail": detail,
        "table": table,
        "gains": pd.DataFrame(gains),
        "tasks": task_verdicts,
        "fragility": fragility,  # per task and differing factor: single seeds whose leaving out undoes it
    }


# ---------------------------------------------------------------- question 2


def step_times(profile: str, results: Path = RESULTS) -> dict | None:
    """The measured seconds per step of each convergence variant (`lte step-times`), or None."""
    import json

    from lte.study.experiment import runs_dir

    path = runs_dir("convergence", profile, results) / "step_times.json"
    return json.loads(path.read_text()) if path.exists() else None


def convergence_evidence(profile: str, results: Path = RESULTS) -> dict:
    """Question 2's evidence (lte.study.analysis.question2.judge) with what the tables and figures add: the
    runs, their curves, and each variant's name, time per step on both clocks (ms) and parameter count."""
    runs = _runs("convergence", profile, results)
    curves = load_curves("convergence", profile, results)
    measured = step_times(profile, results)
    if measured is None:
        raise Pending(
            "convergence/step_times.json is missing: run `lte step-times --profile "
            f"{profile}` (make sweeps does) to measure each model's time per step"
        )
    step_ms = {k: 1000 * v["seconds_per_step"] for k, v in measured["variants"].items()}
    by_variant = {variant: group for variant, group in curves.groupby("label_variant_id", sort=False)}
    slopes = cell_slopes(curves, ["label_variant_id"])
    judged = judge_convergence(
        by_variant, "lstm", ms_per_step=step_ms, rising=frozenset(slopes[slopes.rising].label_variant_id)
    )
    per_run_ms = 1000 * runs.wall_time.astype(float) / runs.steps.astype(float)
    return {
        "judged": judged,
        "runs": runs,
        "curves": curves,
        "names": dict(zip(curves.label_variant_id, curves.label_variant)),
        "step_ms": step_ms,
        "run_ms": {v: float(per_run_ms[runs.label_variant_id == v].mean()) for v in step_ms},
        "rising": sorted(slopes[slopes.rising].label_variant_id),
        "step_window": judged["windows"]["steps"],
        "second_window": judged["windows"]["run seconds"],
        "step_times": measured,
    }


def convergence_targets(evidence: dict) -> pd.DataFrame:
    """Per variant and target accuracy: the runs that reach it and the median steps and seconds (both clocks)
    of those that do (docs/preregistration.md, section 6)."""
    reach = evidence["judged"]["to_target"]
    rows = []
    for (variant, target), group in reach.groupby(["variant", "target"], sort=False):
        by_clock = group.set_index("clock")
        first = by_clock.iloc[0]
        row = {
            "model": evidence["names"].get(variant, variant),
            "target": f"{target:.2f}",
            "reached": f"{round(first.fraction * first.runs)}/{first.runs}",
        }
        for clock, column in (("steps", "steps"), ("run seconds", "run s"), ("step-alone seconds", "step-alone s")):
            if clock in by_clock.index:
                median = by_clock.loc[clock, "median"]
                row[f"median {column}"] = (
                    "-" if not np.isfinite(median) else f"{median:,.0f}" if clock == "steps" else f"{median:.1f}"
                )
        rows.append(row)
    return pd.DataFrame(rows)


def _window(clock: str, window: float) -> str:
    return f"{window:,.0f} steps" if clock == "steps" else f"{window:,.1f} s"


def question_2(profile: str, results: Path = RESULTS) -> dict:
    """Per IRNN variant and clock, its area under the curve against the LSTM's (lte.study.analysis.question2,
    docs/preregistration.md section 6): the runs' own training time decides the seconds verdict."""
    evidence = convergence_evidence(profile, results)
    judged, names, per_step = evidence["judged"], evidence["names"], evidence["step_ms"]
    table = judged["comparisons"].assign(
        variant=lambda t: t.variant.map(names),
        measure=lambda t: t.clock,
        estimate=lambda t: [
            format_interval(m, lo, hi, bounds=(-1.0, 1.0)) for m, lo, hi in zip(t.difference, t["low"], t["high"])
        ],
        **{"interval level": lambda t: t.level},
    )
    verdicts_by = judged["verdicts"]
    rising = set(evidence["rising"])

    final = judged["final"].set_index("variant")["final accuracy"]

    def short(variant: str, by: dict) -> str:
        still = " (a cell still rising)" if rising & {variant, "lstm"} else ""
        if "yes" in by.values() and final[variant] < final["lstm"] - DELTA:  # the area's window cannot see it
            still += f" (to a lower final accuracy: {final[variant]:.2f} against {final['lstm']:.2f})"
        name = names[variant].split("(")[-1].rstrip(")")
        return f"{name}: {by['steps']} in steps, {by['run seconds']} in seconds{still}"

    verdict = "; ".join(
        short(v, by) for v, by in sorted(verdicts_by.items(), key=lambda item: (item[0] != "irnn-units", item[0]))
    )
    lines = [
        f"{r.variant} minus LSTM over the shared {r.clock} (window {_window(r.clock, r.window)}): {r.estimate} "
        f"({r.method}; level {r.level:.3f}; {r.decision})"
        for r in table.itertuples()
    ]
    ms = lambda by: ", ".join(f"{names.get(k, k)} {v:.2f} ms" for k, v in by.items())  # noqa: E731
    detail = (
        "; ".join(lines)
        + f". Seconds are the runs' own measured training time (the loop's clock; per step {ms(evidence['run_ms'])}), "
        f"which decides; the seconds from the step timed alone ({ms(per_step)}) are reported beside them. "
        "Mean final accuracy: "
        + ", ".join(f"{names[r.variant]} {r._3:.3f}" for r in judged["final"].itertuples())
        + "."
    )
    return {"verdict": verdict, "detail": detail, "table": table, "judged": judged, **evidence}


# ---------------------------------------------------------------- question 3
