"""The discussion and conclusion: what the verdicts mean, read from the same answers and records as the report.

Every number is computed here from the records; every reading of a mechanism is worded as a reading, chosen by
what the records show (a reading that the records contradict is never printed), and says what would test it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lte.study.analysis.ceiling import ceiling_controls
from lte.study.analysis.labels import and_list, plural
from lte.study.analysis.method_sections import QUICK_PROFILE
from lte.study.analysis.stats import format_interval
from lte.study.analysis.verdicts import DELTA
from lte.study.experiment import RESULTS

ACTS = ("helps", "hurts")


TRICK_WORDS = {"invert": "inverting", "double": "doubling", "both": "both tricks"}


def factor_words(factor: str) -> str:
    """A factor's name in prose: 'mix vs baseline' -> 'mix', 'double vs no trick (mix)' -> 'doubling under mix'."""
    if factor.endswith(" vs baseline"):
        return f"the {factor.removesuffix(' vs baseline')} curriculum"
    trick, _, strategy = factor.partition(" vs no trick (")
    return f"{TRICK_WORDS.get(trick, trick)} under {strategy.rstrip(')')}"


def factor_list(factors: list[str]) -> str:
    """Factors named without ambiguity: one by name, several counted, separated by semicolons (a factor's own
    name can hold 'and')."""
    return factors[0] if len(factors) == 1 else f"{len(factors)} factors ({'; '.join(factors)})"


def _acting(gains: pd.DataFrame, model: str, act: str) -> list[str]:
    return sorted(factor_words(f) for f in gains[(gains.model == model) & (gains.act == act)].factor)


def _acts_sentence(gains: pd.DataFrame, model: str, name: str) -> str:
    said = [
        f"{verb} by {factor_list(factors)}"
        for verb, act in (("helped", "helps"), ("hurt", "hurts"))
        if (factors := _acting(gains, model, act))
    ]
    return (f"the {name} is " + " and ".join(said)) if said else f"no factor is shown to help or hurt the {name}"


def baseline_accuracies(profile: str, results: Path) -> dict[tuple[str, str], float]:
    """Mean test accuracy of each (task, model)'s baseline without tricks: where each model starts."""
    from lte.study.analysis.comparisons import Pending, _runs

    out = {}
    for experiment in ("program", "addition", "memorisation"):
        try:
            runs = _runs(experiment, profile, results)
        except Pending:
            continue
        plain = runs[(runs.cfg_strategy == "baseline") & ~runs.cfg_invert & ~runs.cfg_double]
        for (task, model), group in plain.groupby(["task_name", "cfg_model"]):
            out[(task, model)] = float(group.test_char_accuracy.mean())
    return out


def question1_paragraph(answer: dict, baselines: dict | None = None, ceilings: list[dict] | None = None) -> str | None:
    """Per task, where each model starts, which factors act on each and where they part; a control at the
    ceiling is named, since against it a factor can only hurt."""
    if answer.get("pending") or "gains" not in answer or answer["gains"].empty:
        return None
    gains, table, baselines, ceilings = answer["gains"], answer["table"], baselines or {}, ceilings or []
    sentences = []
    for task, verdict in answer["tasks"].items():
        here = gains[gains.task == task]
        fragile = answer.get("fragility", {}).get(task, {})
        differs = sorted(
            factor_words(f)
            + (
                f", undone in {plural(fragile[f], 'case')} by leaving out one seed"
                if fragile.get(f)
                else ", robust to leaving out any one seed"
                if f in fragile
                else ""
            )
            for f in table[(table.task == task) & (table.agreement == "differs")].factor
        )
        lstm, irnn = _acts_sentence(here, "lstm", "LSTM"), _acts_sentence(here, "irnn", "IRNN")
        if lstm.startswith("no factor") and irnn.startswith("no factor"):
            lstm, irnn = "no factor is shown to help or hurt either model", ""
        text = f"On {task}, verdict **{verdict}**: "
        if (task, "lstm") in baselines and (task, "irnn") in baselines:
            text += (
                f"the baselines end at {baselines[(task, 'lstm')]:.2f} (LSTM) and "
                f"{baselines[(task, 'irnn')]:.2f} (IRNN); "
            )
        text += lstm + (f"; {irnn}" if irnn else "")
        if verdict == "untestable":
            text += "; with nothing acting on the LSTM there is no effect for the IRNN to share"
        elif differs:
            text += f"; they part on {factor_list(differs)}"
        rising = int(here.rising.sum())
        if rising:
            text += f" (gains resting on a cell still rising: {rising} of {len(here)})"
        text += "."
        at_ceiling = [c for c in ceilings if c["task"] == task]
        if at_ceiling:
            models = sorted({c["model"].upper() for c in at_ceiling})
            text += (
                f" Here the {and_list(models)}'s {and_list(sorted({c['control'] for c in at_ceiling}))} "
                f"{'control is' if len(at_ceiling) == 1 else 'controls are'} at the ceiling, so a factor can "
                "hurt but hardly help, and the task tests little more than which factors harm."
            )
        sentences.append(text)
    return "**Question 1.** " + " ".join(sentences)


def mechanism_paragraph(answers: dict, baselines: dict[tuple[str, str], float], ceilings: list[dict]) -> str | None:
    """Why the IRNN behaves as it does: readings, each printed only where its premise holds in the records, each
    naming what would test it."""
    tasks = sorted({task for task, _ in baselines if (task, "lstm") in baselines and (task, "irnn") in baselines})
    if not tasks:
        return None
    readings = []
    behind = [t for t in tasks if baselines[(t, "irnn")] < baselines[(t, "lstm")] - DELTA]
    q2 = answers.get(2, {})
    numbers = _variant_numbers(q2) if "judged" in q2 and not q2.get("pending") else {}
    width = plateau = False
    if {"lstm", "irnn-units", "irnn-params"} <= set(numbers):
        plateau = numbers["irnn-units"]["final"] < numbers["lstm"]["final"] - DELTA
        width = plateau and width_comparison(numbers)[0] == "equivalent"
    if behind:
        text = f"At equal units the IRNN's baseline ends more than δ below the LSTM's on {and_list(behind)}"
        if {"lstm", "irnn-units"} <= set(numbers):
            text += f", with {numbers['irnn-units']['parameters'] / numbers['lstm']['parameters']:.2f}x its parameters"
        if width:
            text += (
                "; on addition the IRNN given the LSTM's parameter count is equivalent to it within δ "
                "(question 2, combined strategy), so width, not the lack of gates, is the first reading of these "
                "gaps, one that equal-parameters runs of every task and strategy would test"
            )
        elif plateau:
            text += (
                "; whether width or the lack of gates carries these gaps is open: on addition the IRNN given "
                "the LSTM's parameter count closes much of the gap in mean, but not to within δ (question 2), "
                "and only that task and strategy was run at equal parameters"
            )
        readings.append(text + ".")
    gains = answers.get(1, {}).get("gains")
    if gains is not None and not answers[1].get("pending"):
        for task in behind if plateau else []:
            if any(c["task"] == task for c in ceilings):
                continue
            here = gains[(gains.task == task) & gains.factor.str.endswith(" vs baseline")]
            lstm_helped = set(here[(here.model == "lstm") & (here.act == "helps")].factor)
            irnn_not = {
                f
                for f in lstm_helped
                if here[(here.model == "irnn") & (here.factor == f)].act.iloc[0] in ("none", "hurts")
            }
            if irnn_not:
                named = and_list(sorted(factor_words(f) for f in irnn_not))  # curricula: no 'and' inside
                readings.append(
                    f"The curricula that help the LSTM on {task}, {named}, give part of the budget to easier "
                    "examples (naive to the earlier levels, mix to easier examples drawn beside the target's); an "
                    "IRNN that reaches its own plateau early at the target (question 2) has less to gain from them "
                    "and gives up examples at the target. Whether the IRNN, given the LSTM's capacity, would take "
                    "the LSTM's gain is untested here."
                )
        for task in sorted({c["task"] for c in ceilings if c["model"] == "lstm"}):
            helped = _acting(gains[gains.task == task], "irnn", "helps")
            hurt = _acting(gains[gains.task == task], "irnn", "hurts")
            if helped and (task, "irnn") in baselines and baselines[(task, "irnn")] < 1 - DELTA:
                readings.append(
                    f"On {task} the LSTM has mastered the task at this size, so a factor can only hurt it; the "
                    f"IRNN, still below the ceiling, is helped by {factor_list(helped)}"
                    + (f" and hurt by {factor_list(hurt)}" if hurt else "")
                    + ". What a factor does may depend on how far a model is from mastering a task as much as on "
                    "its architecture; comparing the two models each at a length where its own baseline has the "
                    "same headroom would test that."
                )
    return ("**Why the IRNN behaves as it does.** " + " ".join(readings)) if readings else None


def _variant_numbers(answer: dict) -> dict[str, dict]:
    runs, final = answer["runs"], answer["judged"]["final"].set_index("variant")["final accuracy"]
    out = {}
    for variant, group in runs.groupby("label_variant_id"):
        out[variant] = {
            "final": float(final[variant]),
            "parameters": int(group.parameters.iloc[0]),
            "hidden": int(group.cfg_hidden.iloc[0]),
            "ms": answer["run_ms"][variant],
            "finals": group.test_char_accuracy.astype(float).to_numpy(),
        }
    return out


def width_comparison(numbers: dict[str, dict]) -> tuple[str, object]:
    """('equivalent' | 'open', the Welch estimate) for the equal-parameters IRNN's final accuracy minus the
    LSTM's: equivalent when its 95% interval lies inside ±δ."""
    from lte.study.analysis.stats import welch_difference

    estimate = welch_difference(numbers["irnn-params"]["finals"], numbers["lstm"]["finals"])
    inside = -DELTA < estimate.low and estimate.high < DELTA
    return ("equivalent" if inside else "open"), estimate


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
    if gap > 0 and params["final"] > units["final"]:
        text += f", closing {min(1.0, (params['final'] - units['final']) / gap):.0%} of the gap in mean"
    width, estimate = width_comparison(numbers)
    difference = format_interval(estimate.mean, estimate.low, estimate.high, bounds=(-1.0, 1.0))
    spread = f"{params['finals'].min():.2f} to {params['finals'].max():.2f}"
    if width == "equivalent":
        text += (
            f"; against the LSTM {difference} (Welch 95%), inside ±δ: on this task the equal-units IRNN's "
            "deficit goes with its width, not with its lack of gates. "
        )
    else:
        text += (
            f"; against the LSTM {difference} (Welch 95%; its seeds end at {spread}), not inside ±δ: width may "
            "carry much of the equal-units IRNN's deficit, but these runs do not show that it carries all of it. "
        )
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


def _standing(part: dict) -> str:
    """How a question 3 winner stands on test, with counts rather than lists of the other settings."""
    others = sum(len(part[k]) for k in ("beaten", "ties", "better", "undecided", "rising"))
    counts = [
        f"{verb} {len(part[key])}" + (f" ({and_list(part[key])})" if len(part[key]) <= 3 else "")
        for verb, key in (
            ("better than", "beaten"),
            ("tied within δ with", "ties"),
            ("worse than", "better"),
            ("undecided against", "undecided"),
            ("not decided (a cell still rising) against", "rising"),
        )
        if part[key]
    ]
    status = "confirmed" if part["confirmed"] else "not confirmed"
    return f"{status} on test; of the {plural(others, 'other setting')}, " + and_list(counts)


def question3_paragraph(answer: dict) -> str | None:
    """The IRNN's best settings beside the LSTM's, and how firmly the test seeds back them."""
    if answer.get("pending") or "parts" not in answer:
        return None
    irnn, lstm = answer["parts"]["irnn"], answer["parts"]["lstm"]
    sentences = []
    for task, name in (("computation", "addition"), ("memorisation", "copy")):
        part, other = irnn[task], lstm[task]
        same = "the same as" if part["winner"] == other["winner"] else "unlike"
        sentences.append(
            f"on {name} the IRNN's best setting on validation is {part['winner']} ({_standing(part)}), {same} the "
            f"LSTM's ({other['winner']})"
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
    baselines, ceilings = baseline_accuracies(profile, results), ceiling_controls(profile, results)
    return [
        p
        for p in (
            question1_paragraph(answers[1], baselines, ceilings),
            question2_paragraph(answers[2]),
            mechanism_paragraph(answers, baselines, ceilings),
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
    ends = ends.replace("the IRNN at", "the IRNN ends at", 1)
    learned = ["the " + names[m] for m in ("irnn", "lstm", "rnn") if at_150[m]["below_half_baseline"]]
    steps = sorted({s for row in at_150.values() for s in row["steps"]})
    budget = f"{steps[0]:,} steps each" if len(steps) == 1 else f"{steps[0]:,} to {steps[-1]:,} steps"
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
    from lte.study.analysis.provenance import layers_of_units
    from lte.study.analysis.run_threats import capped_counts, rising_counts

    counts = rising_counts(profile, results)
    if not counts:
        return None
    rising = [(e, r, n) for e, r, n in counts if r]
    total = sum(r for _, r, _ in counts)
    text = "**What would change the answers.** "
    if rising:
        text += (
            f"{plural(total, 'cell')} of {sum(n for _, _, n in counts)} still "
            f"{'rises' if total == 1 else 'rise'} at the end of {'its' if total == 1 else 'their'} budget ("
            + ", ".join(f"{e} {r} of {n}" for e, r, n in rising)
            + f"), and the comparisons {'it enters' if total == 1 else 'they enter'} are left undecided. "
        )
    else:
        text += "Every cell ended its budget on a plateau. "
    capped = [(e, c, n) for e, c, n, _ in capped_counts(profile, results) if c]
    if capped:
        text += (
            "Runs that ended at their step cap ("
            + ", ".join(f"{e} {c} of {n}" for e, c, n in capped)
            + ") might have gone on learning: longer caps could move the comparisons they enter. "
        )
    size = layers_of_units(profile, results)
    text += (
        "Arms that share a learning rate tuned on another arm (every strategy of the programs, the copy tricks) "
        f"might each do better at a rate of their own. And the study is small, {size} on short targets, where "
        "curricula have little room to act; the paper profile, at Zaremba's two layers of 400 units, is the scale "
        "at which they helped the LSTM in the original study."
    )
    return text


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def conclusion(answers: dict) -> str:
    """The answers in one paragraph (markdown)."""
    first, second, third = (_sentence(answers[i]["verdict"]) for i in (1, 2, 3))
    return (
        f"Do the strategies and tricks that help the LSTM help the IRNN in the same way? **{first}**. "
        f"Does the IRNN converge faster? **{second}**. Which strategy is best for the IRNN? "
        f"**{third}**. Each answer follows a rule written down before its records were made, and "
        "every number here is regenerated from the committed records by `make report`."
    )
