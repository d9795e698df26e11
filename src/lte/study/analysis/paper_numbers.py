"""The paper's generated numbers and tables (paper/generated/<profile>.tex), from the same answers as the report."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from lte.study.analysis.adding import adding_verdict
from lte.study.analysis.design import configured_memorisation_length
from lte.study.analysis.labels import and_list
from lte.study.analysis.provenance import distinct, finished_runs, layers_of_units, study_runs, time_estimate
from lte.study.analysis.question2 import TARGETS
from lte.study.analysis.tables import EXPERIMENTS
from lte.study.analysis.threats import threats_section
from lte.study.experiment import RESULTS


def _tex(text: str) -> str:
    return (
        text.replace("\\", r"\textbackslash{}")
        .replace("_", r"\_")
        .replace("%", r"\%")
        .replace("#", r"\#")
        .replace("&", r"\&")
        .replace(">=", r"$\geq$")
        .replace("δ", r"$\delta$")
        .replace("±", r"$\pm$")  # the text-mode glyph is a bitmap font without cm-super
        .replace("×", r"$\times$")
        .replace("≥", r"$\geq$")
    )


def markdown_tex(text: str) -> str:
    """One line of the report's markdown (code spans, bold) as LaTeX, its special characters escaped."""
    parts = re.split(r"(`[^`]*`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(r"\texttt{" + _tex(part[1:-1]) + "}")
        else:
            out.append(re.sub(r"\*\*(.+?)\*\*", r"\\textbf{\1}", _tex(part)))
    return "".join(out)


def itemize(lines: list[str]) -> str:
    """A LaTeX itemize of markdown list items."""
    items = "".join(f"  \\item {markdown_tex(line)}\n" for line in lines)
    return "\\begin{itemize}\\setlength{\\itemsep}{1pt}\n" + items + "\\end{itemize}\n"


def setting_macros(profile: str, results: Path = RESULTS) -> dict:
    """The settings the paper's method section quotes, read from the records and the code."""
    from data_gen.pool import DEFAULT_POOL_SIZE
    from lte.core.cells import irnn

    runs = study_runs(profile, results)

    def only(column: str, joiner: str = ", ") -> str:
        return distinct(runs, column, joiner)

    import inspect

    from lte.core import schedule
    from lte.study.analysis.rising import FINAL_FRACTION, RISING_SLOPE

    defaults = inspect.signature(schedule.update_schedule).parameters
    selection = runs[runs.experiment == "lr_selection"]
    per_setting = (
        selection.groupby(
            [c for c in selection.columns if c.startswith("cfg_") and c != "cfg_seed"], dropna=False
        ).size()
        if len(selection)
        else pd.Series([0])
    )
    seeds = int(per_setting.min())
    return {
        "LayersOfUnits": layers_of_units(profile, results),
        "SelectionSeeds": f"{seeds} seed{'' if seeds == 1 else 's'}",
        "AdvanceAccuracy": f"{defaults['target_accuracy'].default:g}",
        "AdvanceWindow": f"{schedule.ADVANCE_WINDOW_STEPS:,}".replace(",", "{,}"),
        "AdvanceSlope": f"{schedule.ADVANCE_MIN_SLOPE:g}",
        "DecayWindow": f"{schedule.TARGET_WINDOW_STEPS:,}".replace(",", "{,}"),
        "DecaySlope": f"{schedule.TARGET_MIN_SLOPE:g}",
        "DecayFactor": f"{defaults['decay'].default:g}",
        "StopWindow": f"{schedule.STOP_WINDOW_STEPS:,}".replace(",", "{,}"),
        "StopSlope": f"{schedule.STOP_MIN_SLOPE:g}",
        "FinalFraction": f"{100 * FINAL_FRACTION:.0f}\\%",
        "RisingSlope": f"{RISING_SLOPE:g}",
        "Hidden": only("cfg_hidden"),
        "Layers": only("cfg_layers"),
        "BatchRows": only("cfg_batch_size"),
        "Clip": only("cfg_clip"),
        "EvalEvery": only("cfg_eval_every", " or "),  # "evaluation every 100 or 200 steps" (by task)
        "InputScale": only("cfg_input_scale"),
        "MaxSteps": "--".join(
            f"{int(v):,}".replace(",", "{,}") for v in (runs.cfg_max_steps.min(), runs.cfg_max_steps.max())
        ),
        "PoolSize": f"{DEFAULT_POOL_SIZE:,}".replace(",", "{,}"),
        "IrnnInputStd": f"{irnn.INPUT_STD:g}",
    }


def seed_counts(runs: pd.DataFrame) -> dict[str, str]:
    """Per experiment, the runs (seeds) per cell: '8', or '8--10' where cells differ (diverged runs count)."""
    labels = [c for c in runs.columns if c.startswith("label_") and c != "label_seed"]
    counts = {}
    for experiment, group in runs.groupby("experiment"):
        keys = [c for c in labels if group[c].notna().any()]
        sizes = group.groupby(keys, dropna=False).size() if keys else pd.Series([len(group)])
        counts[experiment] = f"{sizes.min()}" if sizes.min() == sizes.max() else f"{sizes.min()}--{sizes.max()}"
    return counts


def _short_answer(part: dict) -> str:
    """Question 3's answer for one task in a few words: the winner, whether the test data confirm it, and the
    settings it ties with."""
    if not part["confirmed"]:
        return f"{part['winner']} (not confirmed on test)"
    ties = f"; tied within δ with {and_list(part['ties'])}" if part["ties"] else ""
    return f"{part['winner']} (confirmed on test{ties})"


def _frame_tex(frame: pd.DataFrame, columns: dict[str, str], group_by: str | None = None) -> str:
    """Some columns of a verdict table, renamed, as a LaTeX tabular (floats as in the report's tables)."""
    from lte.study.analysis.tables import latex_tabular

    table = frame[list(columns)].rename(columns=columns)
    return latex_tabular(table.map(lambda v: f"{v:.3g}" if isinstance(v, float) else str(v)), group_by)


def paper_tables(profile: str, answers: dict, prov: dict, results: Path = RESULTS) -> dict[str, str]:
    """The tables only the paper shows (the verdicts' evidence, the adding problem, the measured times)."""
    from lte.study.analysis.adding import adding_outcome
    from lte.study.analysis.discussion import conclusion, discussion
    from lte.study.analysis.tables import adding_table, latex_tabular, lr_table

    lr = lr_table(profile, results)
    out = {"lr-selected": latex_tabular(lr[lr.selected == "yes"].drop(columns="selected"))}
    if "table" in answers[1]:
        out["q1"] = _frame_tex(
            answers[1]["table"],
            {
                "task": "task",
                "factor": "factor",
                "LSTM gain": "LSTM gain",
                "LSTM act": "LSTM act",
                "IRNN gain": "IRNN gain",
                "IRNN act": "IRNN act",
                "agreement": "agreement",
            },
            group_by="task",
        )
    if "table" in answers[2]:
        out["q2"] = _frame_tex(
            answers[2]["table"],
            {
                "variant": "variant",
                "measure": "area over",
                "estimate": "IRNN minus LSTM",
                "method": "method",
                "p (BH)": "p (BH)",
                "interval level": "interval level",
                "decision": "decision",
            },
        )
    if "judged" in answers[2]:
        from lte.study.analysis.verdicts import convergence_targets

        targets = convergence_targets(answers[2])
        out["q2-targets"] = _frame_tex(targets, {c: c for c in targets.columns})
    for model in ("irnn", "lstm"):
        for task in ("computation", "memorisation"):
            if "parts" in answers[3]:
                out[f"q3-{model}-{task}"] = _frame_tex(
                    answers[3]["parts"][model][task]["table"],
                    {
                        "other": "other setting",
                        "estimate": "winner minus other",
                        "p (BH)": "p (BH)",
                        "interval level": "interval level",
                        "decision": "decision",
                    },
                )
    out["discussion"] = (
        "".join(markdown_tex(p) + "\n\n" for p in discussion(answers, profile, results))
        or "The records are not complete enough for a discussion.\n"
    )
    out["conclusion"] = markdown_tex(conclusion(answers)) + "\n"
    threats = [line.removeprefix("- ") for line in threats_section(profile, results) if line.startswith("- ")]
    out["threats"] = itemize(threats) if threats else "No record speaks to a threat to validity.\n"
    if adding_outcome(profile, results):
        out["adding"] = latex_tabular(adding_table(profile, results))
    estimate = time_estimate(prov)
    rows = [
        {
            "experiment": e.replace("_", " "),
            "runs": str(v["cells"]),
            "workers": str(v["workers"]),
            "training (min, all runs added)": f"{v['training_seconds'] / 60:.0f}",
            "sweep wall time (min)": (f"{estimate['minutes'][e]:.0f}" + ("" if v["whole"] else " (estimated)"))
            if estimate["minutes"].get(e) is not None
            else "untimed",
        }
        for e, v in prov["sweeps"].items()
    ]
    if rows:
        out["times"] = latex_tabular(pd.DataFrame(rows))
    return out


def _adding_baseline(outcome: dict) -> str:
    """The predict-1 test MSE the paper quotes: T = 150's (the expectation's setting), else the first T's."""
    by_length = {key.split()[0]: row["baseline_mse"] for key, row in outcome.items()}
    value = by_length.get("T=150", next(iter(by_length.values()), None))
    return "pending" if value is None else f"{value:.3f}"


def _macro_name(prefix: str, name: str) -> str:
    """A LaTeX macro name for `name` (question3_selection -> QuestionThreeSelection): letters only, since a
    digit ends a control sequence's name."""
    digits = dict(zip("0123456789", ["Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine"]))
    words = re.split(r"_|(\d)", name)
    return prefix + "".join(digits.get(w, w.title()) for w in words if w)


def write_paper_numbers(profile: str, answers: dict, prov: dict, results: Path = RESULTS) -> Path:
    """paper/generated/<profile>.tex: every number and verdict the paper quotes, as macros; and
    paper/generated/<profile>/*.tex: the tables only the paper shows."""
    from lte.study.analysis.adding import adding_outcome
    from lte.study.analysis.verdicts import ALPHA, DELTA, diverged_runs

    out = Path("paper") / "generated"
    out.mkdir(parents=True, exist_ok=True)
    words = {1: "One", 2: "Two", 3: "Three"}
    macros = {f"Verdict{words[i]}": answers[i]["verdict"] for i in answers}
    # the same answers capitalised, for a sentence that starts with one (the abstract)
    macros |= {
        f"Verdict{words[i]}Sentence": answers[i]["verdict"][:1].upper() + answers[i]["verdict"][1:] for i in answers
    }
    macros |= {f"Detail{words[i]}": answers[i]["detail"] for i in answers}
    if "parts" in answers[3]:
        irnn = answers[3]["parts"]["irnn"]
        macros["VerdictThreeShort"] = (
            f"computation: {_short_answer(irnn['computation'])}; memorisation: {_short_answer(irnn['memorisation'])}"
        )
    else:
        macros["VerdictThreeShort"] = answers[3]["verdict"]
    macros["VerdictThreeShortSentence"] = macros["VerdictThreeShort"][:1].upper() + macros["VerdictThreeShort"][1:]
    macros |= setting_macros(profile, results)
    seeds = seed_counts(finished_runs(profile, results))
    macros |= {_macro_name("Seeds", e): seeds.get(e, "none") for e in EXPERIMENTS}
    estimate = time_estimate(prov)
    outcome = adding_outcome(profile, results)
    macros |= {
        "NumRuns": str(prov["runs"]),
        "TrainingMinutes": f"{prov['training_seconds'] / 60:.0f}",
        "SweepMinutes": (f"{estimate['total_minutes']:.0f}" if estimate["total_minutes"] is not None else "untimed"),
        "SweepHours": (f"{estimate['total_minutes'] / 60:.1f}" if estimate["total_minutes"] is not None else "untimed"),
        "Commits": ", ".join(sorted({c.removesuffix("-dirty")[:12] for c in prov["commits"]})),
        "Devices": "; ".join(prov["devices"]),
        "CpuCount": str(prov["cpu_count"]),
        "ConvergenceTargets": ", ".join(f"{t:g}" for t in TARGETS[:-1]) + f" and {TARGETS[-1]:g}",
        "StepWindow": f"{answers[2]['step_window']:,.0f}" if "step_window" in answers[2] else "pending",
        "SecondWindow": f"{answers[2]['second_window']:.1f}" if "second_window" in answers[2] else "pending",
        "EquivalenceMargin": f"{DELTA:g}",
        "FalseDiscoveryRate": f"{100 * ALPHA:g}%",
        "NumDiverged": str(len(diverged_runs(profile, results))),
        "MemorisationLength": str(configured_memorisation_length(profile, results) or "pending"),
        "AddingRuns": str(prov["adding_runs"]),
        "AddingBaseline": _adding_baseline(outcome),
        "AddingVerdict": adding_verdict(outcome) if outcome else "was not tested (no runs)",
        "Profile": profile,
    }
    raw = {"PoolSize", "MaxSteps", "AdvanceWindow", "DecayWindow", "StopWindow", "FinalFraction"}  # already LaTeX
    body = "".join(f"\\newcommand{{\\{k}}}{{{v if k in raw else _tex(v)}}}\n" for k, v in macros.items())
    path = out / f"{profile}.tex"
    path.write_text(f"% generated by lte.study.analysis.report from results/runs/{profile}; do not edit\n" + body)
    tables = out / profile
    tables.mkdir(exist_ok=True)
    for name, tex in paper_tables(profile, answers, prov, results).items():
        (tables / f"{name}.tex").write_text(
            f"% generated by lte.study.analysis.report from results/runs/{profile}; do not edit\n" + tex
        )
    return path
