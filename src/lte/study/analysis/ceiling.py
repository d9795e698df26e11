"""Question 1's controls at the ceiling: against a control arm this accurate a factor has room to hurt but
hardly to help, and the normalised gain divides a change by a headroom of at most 1 - CEILING."""

from __future__ import annotations

from pathlib import Path

from lte.study.analysis.labels import and_list, plural
from lte.study.analysis.records import load_runs
from lte.study.analysis.run_threats import _or_none

CEILING = 0.95  # a control arm this accurate leaves a factor room to hurt it, hardly to help it


def ceiling_controls(profile: str, results: Path) -> list[dict]:
    """Question 1's control arms at the ceiling (mean test accuracy at least CEILING), per task and model, with
    the decided acts measured against them and the accuracy each of those moved."""
    from lte.study.analysis.comparisons import Pending, _runs
    from lte.study.analysis.verdicts import _factor_arms, question_1

    try:
        acts = question_1(profile, results)["gains"]
    except Pending:
        return []
    found: dict[tuple, dict] = {}
    for experiment in ("program", "addition", "memorisation"):
        runs = _runs(experiment, profile, results)
        for task, factor, treated, control in _factor_arms(runs, experiment):
            for model in ("lstm", "irnn"):
                here = runs.cfg_model == model
                control_mean = float(runs[control & here].test_char_accuracy.mean())
                if not control_mean >= CEILING:
                    continue
                name = "baseline" if factor.endswith("vs baseline") else factor.rsplit("(", 1)[-1].rstrip(")")
                entry = found.setdefault(
                    (task, model, name),
                    {"task": task, "model": model, "control": name, "accuracy": control_mean, "acts": []},
                )
                act = acts[(acts.task == task) & (acts.factor == factor) & (acts.model == model)]
                if len(act) and act.act.iloc[0] in ("helps", "hurts"):
                    moved = float(runs[treated & here].test_char_accuracy.mean()) - control_mean
                    entry["acts"].append((factor, act.act.iloc[0], moved, float(act["mean"].iloc[0])))
    return list(found.values())


def ceiling_threat(profile: str, results: Path) -> str | None:
    controls = ceiling_controls(profile, results)
    if not controls:
        return None
    named = and_list([f"{c['task']} {c['model'].upper()} {c['control']} ({c['accuracy']:.3f})" for c in controls])
    acts = [(c, a) for c in controls for a in c["acts"]]
    text = (
        f"Question 1's controls at the ceiling (mean test accuracy at least {CEILING}): {named}. Against such a "
        "control a factor has room to hurt but hardly to help, and the normalised gain divides a change by a "
        "headroom of at most 0.05"
    )
    if acts:
        c, (factor, act, moved, gain) = min(acts, key=lambda ca: abs(ca[1][2]))
        text += (
            f", so small changes decide: {factor} {act} the {c['model'].upper()} on {c['task']} with a change of "
            f"{moved:+.3f} in accuracy (normalised gain {gain:+.2f})"
        )
    return text + "." + _pilot_sentence(profile, results, controls)


def _pilot_sentence(profile: str, results: Path, controls: list[dict]) -> str:
    """When the copy LSTM's baseline is at the ceiling: what the length pilot that sized the task saw."""
    from lte.study.analysis.design import CEILING as PILOT_CEILING
    from lte.study.analysis.design import PILOT, choose_memorisation_length, configured_memorisation_length

    baseline = [c for c in controls if c["model"] == "lstm" and c["control"] == "baseline" and "copy" in c["task"]]
    pilot = _or_none(load_runs, PILOT, profile, results)
    length = configured_memorisation_length(profile, results)
    if not baseline or pilot is None or length is None:
        return ""
    table, _ = choose_memorisation_length(pilot)
    row = table[table.length == length]
    if row.empty:
        return ""
    r = row.iloc[0]
    return (
        f" The copy length ({length}) was chosen by a pilot so that this control would end at most "
        f"{PILOT_CEILING:.2f} (pilot: mean {r['mean']:.3f} over {plural(int(r['count']), 'seed')}, {r['min']:.3f} to "
        f"{r['max']:.3f}); the study's seeds of this control end at {baseline[0]['accuracy']:.3f} on average, so the "
        "pilot did not foresee the ceiling."
    )
