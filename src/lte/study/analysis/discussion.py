"""The discussion and conclusion: what the verdicts mean, read from the same answers and records as the report.

Every number is computed here from the records; every reading of a mechanism is worded as a reading, chosen by
what the records show (a reading that the records contradict is never printed), and says what would test it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lte.study.analysis.method_sections import QUICK_PROFILE
from lte.study.analysis.threats import and_list, plural
from lte.study.analysis.verdicts import DELTA
from lte.study.experiment import RESULTS

ACTS = ("helps", "hurts")


def _acting(gains: pd.DataFrame, model: str, act: str) -> list[str]:
    return sorted(gains[(gains.model == model) & (gains.act == act)].factor)


def _acts_sentence(gains: pd.DataFrame, model: str, name: str) -> str:
    said = [
        f"{verb} by {and_list(factors)}"
        for verb, act in (("helped", "helps"), ("hurt", "hurts"))
        if (factors := _acting(gains, model, act))
    ]
    return f"the {name} is " + (" and ".join(said) if said else "neither helped nor hurt by any factor")


def question1_paragraph(answer: dict) -> str | None:
    """Per task, which factors act on each model and where the models part."""
    if answer.get("pending") or "gains" not in answer or answer["gains"].empty:
        return None
    gains, table = answer["gains"], answer["table"]
    sentences = []
    for task, verdict in answer["tasks"].items():
        here = gains[gains.task == task]
        differs = sorted(table[(table.task == task) & (table.agreement == "differs")].factor)
        lstm, irnn = _acts_sentence(here, "lstm", "LSTM"), _acts_sentence(here, "irnn", "IRNN")
        text = f"On {task} (**{verdict}**), {lstm}, and {irnn}"
        if verdict == "untestable":
            text += "; with nothing acting on the LSTM there is no effect for the IRNN to share"
        elif differs:
            text += f"; they part on {and_list(differs)}"
        rising = int(here.rising.sum())
        if rising:
            text += f" (gains resting on a cell still rising: {rising} of {len(here)})"
        sentences.append(text + ".")
    return "**Question 1.** " + " ".join(sentences)


def _variant_numbers(answer: dict) -> dict[str, dict]:
    runs, final = answer["runs"], answer["judged"]["final"].set_index("variant")["final accuracy"]
    out = {}
    for variant, group in runs.groupby("label_variant_id"):
        out[variant] = {
            "final": float(final[variant]),
            "parameters": int(group.parameters.iloc[0]),
            "hidden": int(group.cfg_hidden.iloc[0]),
            "ms": answer["run_ms"][variant],
        }
    return out


def question2_paragraph(answer: dict) -> str | None:
    """Speed per step against capacity: the equal-units and equal-parameters IRNN side by side."""
    if answer.get("pending") or "judged" not in answer:
        return None
    numbers = _variant_numbers(answer)
    if not {"lstm", "irnn-units", "irnn-params"} <= set(numbers):
        return None
    lstm, units, params = numbers["lstm"], numbers["irnn-units"], numbers["irnn-params"]
    verdicts = answer["judged"]["verdicts"]
    text = (
        f"**Question 2.** The area under the curve mixes two things that these runs separate: the cost of a step "
        f"and what a model can reach. At equal units the IRNN has {units['parameters']:,} parameters against the "
        f"LSTM's {lstm['parameters']:,} and its step costs {units['ms']:.2f} ms against {lstm['ms']:.2f} ms on the "
        f"runs' own clock; it ends at {units['final']:.2f} against the LSTM's {lstm['final']:.2f}. "
        f"Widened to the LSTM's parameter count ({params['hidden']} units, {params['ms']:.2f} ms a step), it ends "
        f"at {params['final']:.2f}"
    )
    gap = lstm["final"] - units["final"]
    if params["final"] >= lstm["final"] - DELTA:
        text += (
            f", {abs(lstm['final'] - params['final']):.2f} {'below' if params['final'] < lstm['final'] else 'above'} "
            f"the LSTM's mean (within δ = {DELTA:g}): most of the "
            "equal-units IRNN's deficit on this task goes with its width, not with its lack of gates. "
        )
    elif gap > 0 and params["final"] > units["final"]:
        text += f", which closes {(params['final'] - units['final']) / gap:.0%} of the gap to the LSTM. "
    else:
        text += ". "
    fast = [v for v in ("irnn-units", "irnn-params") if verdicts[v]["run seconds"] == "yes"]
    slow_steps = all(verdicts[v]["steps"] == "no" for v in ("irnn-units", "irnn-params"))
    if slow_steps:
        text += "Neither IRNN learns faster per step. "
    if fast == ["irnn-units"]:
        text += (
            "The equal-units IRNN is ahead in seconds because its step is cheap and it reaches its plateau early; "
            "given the LSTM's parameters, the cheaper step goes and so does the lead. "
        )
    if slow_steps:
        text += "At this scale the IRNN offers a cheaper step, not faster learning."
    return text.rstrip()


def question3_paragraph(answer: dict) -> str | None:
    if answer.get("pending") or "parts" not in answer:
        return None
    irnn, lstm = answer["parts"]["irnn"], answer["parts"]["lstm"]
    sentences = []
    for task, name in (("computation", "addition"), ("memorisation", "copy")):
        part, other = irnn[task], lstm[task]
        same = "the same as" if part["winner"] == other["winner"] else "unlike"
        tie = f", tied within δ with {and_list(part['ties'])}" if part["ties"] else ""
        sentences.append(
            f"on {name} the IRNN's best setting is {part['winner']} ({part['answer']}{tie}), {same} the LSTM's "
            f"({other['winner']})"
        )
    text = "; ".join(sentences)
    return "**Question 3.** " + text[0].upper() + text[1:] + "."


def discussion(answers: dict, profile: str, results: Path = RESULTS) -> list[str]:
    """The discussion's paragraphs (markdown), one per question whose records are complete."""
    if profile == QUICK_PROFILE:
        return [
            f"The `{profile}` profile is a smoke test of the pipeline: its runs are too short and too few to be "
            "read, so it has no discussion; the default profile's report has one."
        ]
    return [
        p
        for p in (
            question1_paragraph(answers[1]),
            question2_paragraph(answers[2]),
            question3_paragraph(answers[3]),
            adding_paragraph(profile, results),
            outlook_paragraph(profile, results),
        )
        if p
    ]


def adding_paragraph(profile: str, results: Path) -> str | None:
    """What the adding problem says about the IRNN implementation: can it carry a state across T steps?"""
    from lte.study.analysis.adding import adding_outcome

    at_150 = {k.split()[1]: v for k, v in adding_outcome(profile, results).items() if k.startswith("T=150 ")}
    if not {"irnn", "lstm", "rnn"} <= set(at_150):
        return None
    names = {"irnn": "IRNN", "lstm": "LSTM", "rnn": "tanh RNN"}
    ends = and_list([f"the {names[m]} at {at_150[m]['mean']:.3f}" for m in ("irnn", "lstm", "rnn")])
    learned = ["the " + names[m] for m in ("irnn", "lstm", "rnn") if at_150[m]["below_half_baseline"]]
    steps = sorted({s for row in at_150.values() for s in row["steps"]})
    budget = f"{steps[0]:,} steps each" if len(steps) == 1 else f"{steps[0]:,}-{steps[-1]:,} steps"
    text = (
        f"**The adding problem.** At T = 150 ({budget}), against {at_150['irnn']['baseline_mse']:.3f} for "
        f"predicting 1, {ends}; "
        + (f"{and_list(learned)} learned it (every seed below half that). " if learned else "none learned it. ")
    )
    if at_150["irnn"]["below_half_baseline"]:
        text += (
            "The IRNN here carries two numbers across 150 steps, so where it falls behind on the study's tasks "
            "the cause is not that this implementation cannot hold a state. "
        )
    if not at_150["lstm"]["below_half_baseline"]:
        text += (
            "Le et al. report that the LSTM learns it too; at this budget and its selected rate it did not, "
            "which says more about the LSTM's training here than about the IRNN."
        )
    return text.rstrip()


def outlook_paragraph(profile: str, results: Path) -> str | None:
    """What would change the answers: budgets still rising, shared rates, scale."""
    from lte.study.analysis.paper_numbers import setting_macros
    from lte.study.analysis.threats import rising_counts

    counts = rising_counts(profile, results)
    if not counts:
        return None
    rising = [(e, r, n) for e, r, n in counts if r]
    total = sum(r for _, r, _ in counts)
    text = "**What would change the answers.** "
    if rising:
        text += (
            f"{plural(total, 'cell')} of {sum(n for _, _, n in counts)} still rose when their budgets ended ("
            + ", ".join(f"{e} {r} of {n}" for e, r, n in rising)
            + "); longer budgets could move every comparison they enter, which is why those comparisons are left "
            "undecided. "
        )
    else:
        text += "Every cell ended its budget on a plateau, so longer budgets alone are unlikely to move the answers. "
    size = setting_macros(profile, results)["LayersOfUnits"]
    text += (
        "Arms that share a learning rate tuned on another arm (every strategy of the programs, the copy tricks) "
        f"might each do better at a rate of their own. And the study is small, {size} on short targets, where "
        "curricula have little room to act; the paper profile, at Zaremba's two layers of 400 units, is the scale "
        "at which they helped the LSTM in the original study."
    )
    return text


def conclusion(answers: dict) -> str:
    """The answers in one paragraph (markdown)."""
    return (
        f"Do the strategies and tricks that help the LSTM help the IRNN in the same way? **{answers[1]['verdict']}**. "
        f"Does the IRNN converge faster? **{answers[2]['verdict']}**. Which strategy is best for the IRNN? "
        f"**{answers[3]['verdict']}**. Each answer follows a rule written down before its records were made, and "
        "every number here is regenerated from the committed records by `make report`."
    )
