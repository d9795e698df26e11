"""results/<profile>/README.md (results/README.md for the default profile) and the paper's generated numbers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from lte.study.analysis.adding import adding_verdict
from lte.study.analysis.curriculum import curriculum_section
from lte.study.analysis.design import configured_memorisation_length, design_section
from lte.study.analysis.discussion import discussion
from lte.study.analysis.method_sections import QUICK_PROFILE, deviations_section, hyperparameters_section
from lte.study.analysis.paper_numbers import write_paper_numbers
from lte.study.analysis.pilot import pilot_section
from lte.study.analysis.provenance import (  # noqa: F401 (RUN_CODE, run_code_unchanged_since re-exported)
    FLAX_CELLS_COMMIT,
    RUN_CODE,
    _minutes,
    predates,
    provenance_summary,
    records_status,
    run_code_line,
    run_code_unchanged_since,
    time_estimate,
    time_sentence,
)
from lte.study.analysis.rising import slopes_section
from lte.study.analysis.threats import and_list, plural, threats_section
from lte.study.analysis.verdicts import convergence_targets, question_1, question_2, question_3
from lte.study.experiment import DEFAULT_PROFILE, RESULTS

QUESTIONS = {
    1: "Do the strategies that help the LSTM (naive, mix, combined; inverting and doubling) help the IRNN "
    "in the same way?",
    2: "Does the IRNN converge faster than the LSTM (in steps and in wall-clock seconds)?",
    3: "Which strategy is best for the IRNN on computation (addition) and on memorisation (copy)?",
}


def adding_section(profile: str, results: Path, fig: str) -> list[str]:
    """The adding problem's outcome against Le et al.'s expectation (nothing when it has not been run)."""
    from lte.study.analysis.adding import adding_outcome

    outcome = adding_outcome(profile, results)
    if not outcome:
        return []
    baselines = sorted({f"T = {key.split()[0][2:]}: {row['baseline_mse']:.3f}" for key, row in outcome.items()})
    lines = [
        "## The adding problem",
        "",
        "Expected (Le et al. 2015): at T = 150 the IRNN and the LSTM end well below the predict-1 baseline "
        f"(this test set's MSE of always predicting 1; {', '.join(baselines)}; 1/6 in expectation), the tanh "
        "RNN does not. 'Learned' below means every seed ended below half the baseline (a diverged seed counts "
        "as not learned).",
        "",
        "| setting | final test MSE (mean over seeds that did not diverge) | seeds | diverged | learned |",
        "|---|---|---|---|---|",
    ]
    for key, row in sorted(outcome.items(), key=lambda kv: (int(kv[0].split()[0][2:]), kv[0])):
        lines.append(
            f"| {key} | {row['mean']:.4f} | {len(row['steps'])} | {row['diverged']} | "
            f"{'yes' if row['below_half_baseline'] else 'no'} |"
        )
    lines += ["", f"The expected outcome at T = 150 **{adding_verdict(outcome)}**.", ""]
    chosen_path = results / "lr_selection" / f"selected_adding_{profile}.json"
    if chosen_path.exists():
        chosen = json.loads(chosen_path.read_text())
        lines += [
            "Each model's rate and clip were chosen on validation data (`experiments/adding_selection.toml`, "
            "seeds apart from these): "
            + "; ".join(
                f"{m} rate {c['learning_rate']:g}, clip {c['clip']:g} (validation MSE {c['val_mse']:.4f} at "
                f"T = {c['T']}, predict-1 {c['baseline_mse']:.4f})"
                for m, c in sorted(chosen.items())
            )
            + ".",
            "",
        ]
    from lte.study.analysis.adding_selection import recorded_warnings, warnings_text

    warnings = recorded_warnings(profile, results)
    if warnings:
        lines += [f"**The selection's warnings.** {warnings_text(warnings)}", ""]
    for T in sorted({int(k.split()[0][2:]) for k in outcome} - {150}):
        learned = {k.split()[1]: v["below_half_baseline"] for k, v in outcome.items() if k.startswith(f"T={T} ")}
        lines.append(
            f"At T = {T}, learned: "
            + ", ".join(f"{m} {'yes' if ok else 'no'}" for m, ok in sorted(learned.items()))
            + "."
        )
    rows = list(outcome.values())
    commits = sorted({str(c)[:8] for r in rows for c in r["commits"]})
    steps = sorted({n for r in rows for n in r["steps"]})
    count = sum(len(r["steps"]) for r in rows)
    lines += [
        "",
        f"{plural(count, 'run')} of " + and_list([f"{n:,}" for n in steps]) + " steps, "
        f"{sum(sum(r['wall_time']) for r in rows) / 60:.0f} min of training in all, recorded at commit "
        f"{', '.join(commits)}.",
    ]
    return lines + ["", f"![adding problem]({fig}/adding_problem.png)", ""]


def _pending_section(error: Exception) -> list[str]:
    return [f"*Pending*: {error}", ""]


def _table_value(v) -> str:
    if isinstance(v, float):
        return "-" if math.isnan(v) else f"{v:.3g}"  # a p-value a test without spread does not have
    return str(v)


def _markdown_table(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in frame[columns].itertuples(index=False):
        lines.append("| " + " | ".join(_table_value(v) for v in row) + " |")
    return lines


def _answer(question, profile: str, results: Path) -> dict:
    from lte.study.analysis.verdicts import Pending

    try:
        return question(profile, results)
    except Pending as error:
        return {"verdict": "pending (records incomplete)", "detail": str(error), "pending": True}


def _curves_or_empty(experiment: str, profile: str, results: Path) -> pd.DataFrame:
    from lte.study.analysis.records import load_curves

    try:
        return load_curves(experiment, profile, results)
    except FileNotFoundError:
        return pd.DataFrame()


def is_committed_records(results: Path) -> bool:
    """Whether `results` is this checkout's committed results folder (only then are README and paper updated)."""
    return Path(results).resolve() == Path(RESULTS).resolve()


def write_report(profile: str, results: Path = RESULTS) -> Path:
    from lte.study.analysis.verdicts import RULES, diverged_runs

    q1, q2, q3 = (_answer(q, profile, results) for q in (question_1, question_2, question_3))
    prov = provenance_summary(profile, results)
    answers = {1: q1, 2: q2, 3: q3}
    fig = f"{profile}/figures"
    lines = [
        f"# Results: profile `{profile}`",
        "",
        f"Generated by `make report` from the raw records in `{results}/runs/{profile}/` (do not edit by hand).",
        "",
        "## How the questions are decided",
        "",
        RULES,
        "## Verdicts",
        "",
        "| question | verdict |",
        "|---|---|",
    ]
    lines += [f"| {i}. {QUESTIONS[i]} | **{answers[i]['verdict']}** |" for i in QUESTIONS]
    if profile == QUICK_PROFILE:
        lines += [
            "",
            f"*Profile `{profile}`: a small run of the same machinery, most of whose runs end at their cap; its "
            "verdicts are not the study's answers (see the deviations below, and docs/preregistration.md, "
            "section 10).*",
        ]
    lines += ["", f"## 1. {QUESTIONS[1]}", "", q1["detail"], ""]
    if "table" in q1:
        lines += [
            f"![program]({fig}/program_test_char_accuracy.png)",
            "",
            f"![addition]({fig}/addition_test_char_accuracy.png)",
            "",
            f"![memorisation]({fig}/memorisation_tricks_test_char_accuracy.png)",
            "",
            "Each factor's normalised gain on test character accuracy for each model (mean over seeds, "
            "and the false-coverage-rate interval its act is read from, at the level given), and whether "
            "the two models' acts agree:",
            "",
        ]
        lines += _markdown_table(
            q1["table"],
            ["task", "factor", "LSTM gain", "LSTM act", "IRNN gain", "IRNN act", "agreement", "interval level"],
        )
        lines += [
            "",
            f"![question 1: each factor's normalised gain per model]({fig}/question1_forest.png)",
            "",
            "Tables of every cell: "
            f"[program]({profile}/tables/program.md), [addition]({profile}/tables/addition.md), "
            f"[memorisation]({profile}/tables/memorisation.md).",
            "",
        ]
    lines += [f"## 2. {QUESTIONS[2]}", "", q2["detail"], ""]
    if "table" in q2:
        lines += [f"![convergence]({fig}/convergence_test_char_accuracy.png)", ""]
        lines += _markdown_table(
            q2["table"], ["variant", "measure", "estimate", "method", "p (BH)", "interval level", "decision"]
        )
        lines += ["", "Steps and seconds to each target accuracy (median over the runs that reach it):", ""]
        targets = convergence_targets(q2)
        lines += _markdown_table(targets, list(targets.columns))
        lines += [
            "",
            f"Each model's time per step on both clocks, final accuracy and areas: [convergence table]"
            f"({profile}/tables/convergence.md).",
            "",
        ]
    lines += [f"## 3. {QUESTIONS[3]}", "", q3["detail"], ""]
    if "parts" in q3:
        lines += [f"![question 3: the best setting against every other]({fig}/question3_forest.png)", ""]
        for model in ("irnn", "lstm"):
            for task in ("computation", "memorisation"):
                part = q3["parts"][model][task]
                lines += [
                    f"{model.upper()}, {task}: {part['winner']} (chosen on validation) against each other "
                    "setting on test, paired by seed:",
                    "",
                ]
                lines += _markdown_table(
                    part["table"], ["other", "estimate", "p (BH)", "interval level", "decision"]
                ) + [""]
    lines += threats_section(profile, results)
    lines += ["## Discussion", "", *[line for p in discussion(answers, profile, results) for line in (p, "")]]
    lines += slopes_section(
        {
            experiment: _curves_or_empty(experiment, profile, results)
            for experiment in ("program", "addition", "memorisation", "convergence")
        }
    )
    lines += curriculum_section(
        {
            experiment: _curves_or_empty(experiment, profile, results)
            for experiment in ("program", "addition", "memorisation")
        }
    )
    diverged = diverged_runs(profile, results)
    lines += [
        "## Diverged runs",
        "",
        (
            f"{plural(len(diverged), 'run')} diverged and {'is' if len(diverged) == 1 else 'are'} left out of "
            "the comparisons: " + ", ".join(f"`{d}`" for d in diverged) + "."
        )
        if diverged
        else "No run of the judged experiments diverged.",
        "",
    ]
    lines += design_section(profile, configured_memorisation_length(profile, results), results)
    lines += pilot_section(profile, results)
    lines += hyperparameters_section(profile, results, fig)
    lines += adding_section(profile, results, fig)
    lines += deviations_section(profile, results)
    lines += [
        "## Provenance",
        "",
        f"- runs: {prov['runs']}, by commit as recorded: "
        + ", ".join(f"`{c}` ({plural(n, 'run')})" for c, n in prov["commit_counts"].items()),
        run_code_line(prov, profile, results),
        *(
            [
                "- initial draws: the committed records were made with the cells' earlier initialisation (commit "
                "`b9ce99f`); since `afd9663` (cells as flax modules) a fresh run draws the LSTM's U and the IRNN's "
                "W differently, until the study's regeneration replaces these records"
            ]
            if any(predates(commit, FLAX_CELLS_COMMIT) for commit in prov["commits"])
            else []
        ),
        f"- {'device' if len(prov['devices']) == 1 else 'devices'}: {', '.join(prov['devices'])}; "
        f"{plural(prov['cpu_count'], 'CPU core')}; {prov['platform']}",
        f"- Python {prov['python']}; " + ", ".join(f"{k} {v}" for k, v in sorted(prov["versions"].items())),
        f"- training time, all runs added up: {_minutes(prov['training_seconds'])}",
        f"- sweep wall time ({plural(prov['cpu_count'], 'CPU core')}): " + time_sentence(prov),
        "",
    ]
    path = results / "README.md" if profile == DEFAULT_PROFILE else results / profile / "README.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    if profile != DEFAULT_PROFILE:
        lines = [line.replace(f"]({profile}/", "](") for line in lines]
    path.write_text("\n".join(lines))
    if is_committed_records(results):  # a fresh `make reproduce` folder never touches README or paper
        write_paper_numbers(profile, answers, prov, results)
        if profile == DEFAULT_PROFILE:
            update_readme(answers, prov, results)
    return path


README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"
# the README's figure: question 1's forest plot (each factor's normalised gain per model and task, the intervals
# its verdict is read from), written by `figures` once question 1's records are complete
README_FIGURE = "question1_forest.png"
README_FIGURE_ALT = "Question 1: each factor's normalised gain for the LSTM and the IRNN, per task"


def update_readme(answers: dict, prov: dict, results: Path = RESULTS, readme: Path = Path("README.md")) -> None:
    """The README's results section (verdicts, question 1's figure, measured time), between its markers."""
    if not readme.exists() or README_START not in readme.read_text():
        return
    section = [
        README_START,
        f"*(written by `make report` from `results/runs/{DEFAULT_PROFILE}/`; details in "
        "[results/README.md](results/README.md))*",
        "",
        f"| question | verdict (profile `{DEFAULT_PROFILE}`) |",
        "|---|---|",
    ]
    section += [f"| {i}. {QUESTIONS[i]} | **{answers[i]['verdict']}** |" for i in QUESTIONS]
    status = records_status(DEFAULT_PROFILE, results)
    if status["complete"]:
        section += [
            "",
            f"![{README_FIGURE_ALT}](results/{DEFAULT_PROFILE}/figures/{README_FIGURE})",
            "",
            f"The default profile (`{DEFAULT_PROFILE}`) is {prov['runs']} training runs"
            + (f" and {prov['adding_runs']} of the adding problem" if prov["adding_runs"] else "")
            + "; on this package's reference "
            f"machine ({prov['cpu_count']} CPU cores, {', '.join(prov['devices'])}) "
            + time_sentence(prov)
            + " Then the installation and a few seconds of figures, tables and "
            "report.",
            README_END,
        ]
    else:
        section += [
            "",
            f"The committed records of the default profile are not complete yet: {status['text']}. "
            "The sweeps are resumable: `make records` trains the missing cells (maintainers), and a "
            "question's verdict appears here once the records it needs are complete. The quick "
            "profile's complete records and report: [results/quick/README.md](results/quick/README.md).",
            README_END,
        ]
    text = readme.read_text()
    before, rest = text.split(README_START, 1)
    after = rest.split(README_END, 1)[1]
    readme.write_text(before + "\n".join(section) + after)
