"""results/<profile>/README.md (results/README.md for the default profile) and the paper's generated numbers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from lte.core import schedule
from lte.study.analysis.curriculum import curriculum_section
from lte.study.analysis.design import design_section
from lte.study.analysis.pilot import pilot_section
from lte.study.analysis.records import load_runs
from lte.study.analysis.rising import slopes_section
from lte.study.analysis.tables import EXPERIMENTS
from lte.study.analysis.threats import threats_section
from lte.study.analysis.verdicts import question_1, question_2, question_3
from lte.study.experiment import DEFAULT_PROFILE, RESULTS, runs_dir

QUESTIONS = {
    1: "Do the strategies that help the LSTM (naive, mix, combined; inverting and doubling) help the IRNN "
    "in the same way?",
    2: "Does the IRNN converge faster than the LSTM (in steps and in wall-clock seconds)?",
    3: "Which strategy is best for the IRNN on computation (addition) and on memorisation (copy)?",
}


def finished_runs(profile: str, results: Path = RESULTS) -> pd.DataFrame:
    """Every finished run of every experiment that has records (unfinished cells are left out)."""
    frames = []
    for experiment in EXPERIMENTS:
        if (runs_dir(experiment, profile, results) / "cells.json").exists():
            frames.append(load_runs(experiment, profile, results, require_all=False))
    if not frames or all(f.empty for f in frames):
        raise FileNotFoundError(
            f"no finished runs under {runs_dir('', profile, results)}: run the sweeps first "
            f"(make sweeps PROFILE={profile})"
        )
    return pd.concat(frames, ignore_index=True)


def records_status(profile: str, results: Path = RESULTS) -> dict:
    """How many runs of each experiment have finished, and whether all have."""
    parts, complete = [], True
    for experiment in (*EXPERIMENTS, *ADDING_EXPERIMENTS):
        index = runs_dir(experiment, profile, results) / "cells.json"
        if not index.exists():
            parts.append(f"{experiment} not started")
            complete = False
            continue
        data = json.loads(index.read_text())
        names = [c["name"] for c in data["cells"]] if "cells" in data else data.get("runs", [])
        done = sum((index.parent / n / "summary.json").exists() for n in names)
        complete = complete and done == len(names)
        parts.append(f"{experiment} {done} of {len(names)} runs")
    return {"complete": complete, "text": "; ".join(parts)}


def provenance_summary(profile: str, results: Path = RESULTS) -> dict:
    runs = finished_runs(profile, results)
    from lte.core.run_folder import indexed_runs

    adding_runs = {}
    for experiment in ADDING_EXPERIMENTS:
        folder = runs_dir(experiment, profile, results)
        adding_runs[experiment] = (
            [run for run in indexed_runs(folder) if (run / "summary.json").exists()] if folder.exists() else []
        )
    # a run's own share of the training time: K runs of one ensemble step share each of its seconds
    training = (runs.wall_time / runs.models_per_step).groupby(runs.experiment).sum().to_dict()
    for experiment, finished in adding_runs.items():
        if finished:
            training[experiment] = sum(json.loads((r / "summary.json").read_text())["wall_time"] for r in finished)
    sweeps = {}
    for experiment in (*EXPERIMENTS, *ADDING_EXPERIMENTS):
        path = runs_dir(experiment, profile, results) / "sweep.json"
        if path.exists() and experiment in training:
            record = json.loads(path.read_text())
            cells = (
                len(adding_runs[experiment])
                if experiment in adding_runs
                else int((runs.experiment == experiment).sum())
            )
            sweeps[experiment] = {
                "seconds": record["wall_time"],
                "training_seconds": training[experiment],
                "cells": cells,
                "workers": max(i["workers"] for i in record["invocations"]),
                # timed whole: its sweep records cover each of its runs exactly once
                "whole": sum(i["cells_run"] for i in record["invocations"]) == cells,
            }
    summaries = (p for e in EXPERIMENTS for p in runs_dir(e, profile, results).glob("*/summary.json"))
    first = json.loads(next(summaries).read_text())
    return {
        "runs": len(runs),
        "adding_runs": len(adding_runs["adding_problem"]),
        "commits": sorted(set(runs.commit.dropna())),
        "commit_counts": runs.commit.value_counts().sort_index().to_dict(),
        "devices": sorted(set(runs.device)),
        "training_seconds": float(sum(training.values())),
        "sweeps": sweeps,
        "versions": first["provenance"]["versions"],
        "python": first["provenance"]["python"],
        "platform": first["provenance"]["platform"],
        "cpu_count": first["provenance"]["cpu_count"],
    }


ADDING_EXPERIMENTS = ("adding_selection", "adding_problem")  # the adding kind's (not in runs.csv)


# The code that decides what a run computes, given its config (not the sweep or the analysis): whole folders,
# so that no module that computes a run (a gradient method, the XLA runtime flags, a run kind) is left out.
RUN_CODE = ["data_gen", "src/lte/core", "src/lte/methods", "src/lte/kinds"]


def run_code_unchanged_since(commit: str) -> bool | None:
    """Whether the run code at HEAD is what `commit` had (None when git cannot tell)."""
    import subprocess

    try:
        done = subprocess.run(
            ["git", "diff", "--quiet", commit.removesuffix("-dirty"), "HEAD", "--", *RUN_CODE],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return {0: True, 1: False}.get(done.returncode)


FLAX_CELLS_COMMIT = "afd9663"  # the cells as flax modules: the LSTM's U and the IRNN's W drawn differently since


def predates(commit: str, ancestor: str) -> bool:
    """Whether `commit` was made before `ancestor` (is not a descendant of it); False when git cannot tell."""
    import subprocess

    try:
        done = subprocess.run(
            ["git", "merge-base", "--is-ancestor", ancestor, commit.removesuffix("-dirty")],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 1


def run_code_line(prov: dict, profile: str, results: Path = RESULTS) -> str:
    """Whether the code at this commit still computes the records: unchanged since their commit(s), or changed
    and shown to compute the same bits by a committed spot-check (`lte.study.analysis.spot_check`) of it."""
    from lte.study.analysis.spot_check import record_path, verified_at

    head = (
        "- the code that computes a run (" + ", ".join(f"`{p}`" for p in RUN_CODE) + ") at the commit this "
        "report was made from is "
    )
    unchanged = all(run_code_unchanged_since(c) for c in prov["commits"]) if prov["commits"] else None
    if unchanged is not False:
        return head + ("the same as" if unchanged else "not comparable (no git) with") + " the records' commit(s)"
    spot = verified_at(profile, results)
    if spot and "dirty" not in spot["commit"] and run_code_unchanged_since(spot["commit"]):
        readme_dir = results if profile == DEFAULT_PROFILE else results / profile  # where `write_report` writes
        where = Path(os.path.relpath(record_path(profile, results), readme_dir)).as_posix()
        link = f"[{Path(where).name}]({where})"
        if spot["exact"] == spot["checked"]:
            return (
                head + "different from the records' commit(s) in its text, and computes the same records: a "
                f"spot-check with it (at `{spot['commit'][:7]}`) retrained {spot['checked']} of them, the first "
                f"of each experiment and model, bit for bit ({link})"
            )
        return (
            head + "different from the records' commit(s) in its text, and computes the same bits as their "
            f"code: a spot-check (at `{spot['commit'][:7]}`, on {spot['device']}"
            + (f", {spot['vector_extension']}" if spot.get("vector_extension") else "")
            + f") retrained {spot['checked']} of "
            "them, the first of each experiment and model, with both and found them identical; there both "
            f"differ from the records, computed on {', '.join(spot['records_devices'])} (XLA compiles for the "
            f"CPU it runs on, and float rounding grows over training) ({link})"
        )
    return head + "**different from** the records' commit(s)"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def time_estimate(prov: dict) -> dict:
    """The profile's measured times, and an estimate of a whole `make reproduce` from them.

    Sweep wall times are exact only for experiments timed whole (`sweeps[e]['whole']`: the sittings of their
    sweeps finished each run exactly once); for the others (runs trained elsewhere or in sittings that went
    unrecorded) the time is
    estimated from their runs' measured training time (over the workers), scaled by the ratio of sweep wall
    time to training time of the experiments timed whole (evaluation, compilation, start-up).
    """
    sweeps = prov["sweeps"]
    whole = {e: v for e, v in sweeps.items() if v["whole"]}
    per_worker = {e: v["training_seconds"] / v["workers"] for e, v in sweeps.items()}
    ratio = (sum(v["seconds"] for v in whole.values()) / sum(per_worker[e] for e in whole)) if whole else None
    minutes = {
        e: (v["seconds"] if v["whole"] else per_worker[e] * ratio) / 60 if (v["whole"] or ratio) else None
        for e, v in sweeps.items()
    }
    total = sum(minutes.values()) if minutes and all(m is not None for m in minutes.values()) else None
    return {"minutes": minutes, "measured": sorted(whole), "ratio": ratio, "total_minutes": total}


def time_sentence(prov: dict) -> str:
    estimate = time_estimate(prov)
    if estimate["total_minutes"] is None:
        return "its sweeps have not been timed whole yet."
    parts = ", ".join(
        f"{e} {m:.0f}" + ("" if e in estimate["measured"] else " (estimated)") for e, m in estimate["minutes"].items()
    )
    total = estimate["total_minutes"]
    span = f"{total / 60:.1f} hours" if total >= 60 else f"{total:.0f} minutes"
    head = f"a whole run of its sweeps takes about {span} ({parts} min): "
    if len(estimate["measured"]) == len(estimate["minutes"]):
        return head + "each experiment's sweep measured whole (the wall time of its sittings added up)."
    return (
        head + f"measured where an experiment's sweep was timed whole, else estimated from its runs' measured "
        f"training time times {estimate['ratio']:.2f}, the ratio of sweep time to training time of those "
        f"timed whole."
    )


def adding_verdict(outcome: dict) -> str:
    """Whether Le et al.'s expectation at T = 150 held: the IRNN and the LSTM learn, the tanh RNN does not."""
    at_150 = {k.split()[1]: v["below_half_baseline"] for k, v in outcome.items() if k.startswith("T=150 ")}
    if not {"irnn", "lstm", "rnn"} <= set(at_150):
        return "not testable: the runs do not include IRNN, LSTM and tanh RNN at T = 150"
    held = at_150["irnn"] and at_150["lstm"] and not at_150["rnn"]
    return (
        ("held" if held else "did not hold") + " at this profile's budget (IRNN learned: "
        f"{'yes' if at_150['irnn'] else 'no'}, LSTM: {'yes' if at_150['lstm'] else 'no'}, "
        f"tanh RNN: {'yes' if at_150['rnn'] else 'no'})"
    )


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
        f"{count} run{'s' if count != 1 else ''} of {', '.join(map(str, steps))} steps, "
        f"{sum(sum(r['wall_time']) for r in rows) / 60:.0f} min of training in all, recorded at commit "
        f"{', '.join(commits)}.",
    ]
    return lines + ["", f"![adding problem]({fig}/adding_problem.png)", ""]


DEVIATIONS = f"""\
- **The curriculum's schedule** (`schedule = "plateau"`, `lte.core.schedule`, stated in
  `docs/preregistration.md` before the records; `"original"` restores Zaremba's rule): a level is left when
  validation accuracy passes 0.95 or its least-squares slope over the last
  {schedule.ADVANCE_WINDOW_STEPS:,} steps is at most {schedule.ADVANCE_MIN_SLOPE} per 1,000 steps; at the target
  level a slope of at most {schedule.TARGET_MIN_SLOPE} over {schedule.TARGET_WINDOW_STEPS:,} steps decays the
  rate by 0.8, and after a decay a slope of at most {schedule.STOP_MIN_SLOPE} over
  {schedule.STOP_WINDOW_STEPS:,} steps stops the run, so a run still learning is neither slowed nor stopped.
  Zaremba's rule advances when training accuracy falls below its value 5 evaluations ago, which on
  a 300-example validation set fired about every 500 steps whether the model was learning or not. Baseline
  and mix, whose data ignore the level, start at the target level. A level whose validation split holds fewer
  than 50 distinct examples (copy and addition at length 1) is judged on its training split.
- **Budgets**: each run ends on its plateau or at a cap sized by a pilot (copy 40,000, addition and programs
  30,000 steps; `experiments/pilot.toml`); the report flags every cell still rising over the last 20% of its
  steps, and a comparison that involves one does not decide a verdict.
- **The IRNN's input weights**: Le et al. draw them from N(0, 0.001^2); reading one-hot characters that
  leaves the IRNN almost no input signal, so the input scale is searched with the learning rate and the
  clip, on validation data, for both models alike (`experiments/lr_selection.toml`).
- **Size**: 1 layer of 64 units, batches of 32 rows (Zaremba: 2 x 400, batch 100); `PROFILE=paper` runs
  Zaremba's scale.
- **The memorisation length** is sized to the tuned LSTM: the shortest copy at which its baseline is below
  ceiling, by a rule stated before its pilot ran (`experiments/memorisation_length.toml`, applied in the
  default profile's report), so that question 1 can be tested there.
"""


def _pending_section(error: Exception) -> list[str]:
    return [f"*Pending*: {error}", ""]


def _markdown_table(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in frame[columns].itertuples(index=False):
        lines.append("| " + " | ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in row) + " |")
    return lines


def _answer(question, profile: str, results: Path) -> dict:
    from lte.study.analysis.verdicts import Pending

    try:
        return question(profile, results)
    except Pending as error:
        return {"verdict": "pending (records incomplete)", "detail": str(error), "pending": True}


def _memorisation_length(profile: str, results: Path) -> int | None:
    """The copy length the memorisation records used (None before they exist)."""
    if not (runs_dir("memorisation", profile, results) / "cells.json").exists():
        return None
    lengths = load_runs("memorisation", profile, results, require_all=False).get("cfg_length", pd.Series()).unique()
    return int(lengths[0]) if len(lengths) == 1 else None


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
        lines += ["", f"Steps and seconds to the target: [convergence table]({profile}/tables/convergence.md).", ""]
    lines += [f"## 3. {QUESTIONS[3]}", "", q3["detail"], ""]
    if "parts" in q3:
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
            f"{len(diverged)} run(s) diverged and are left out of the comparisons: "
            + ", ".join(f"`{d}`" for d in diverged)
            + "."
        )
        if diverged
        else "No run of the judged experiments diverged.",
        "",
    ]
    lines += design_section(profile, _memorisation_length(profile, results), results)
    lines += pilot_section(profile, results)
    lines += [
        "## Hyperparameters",
        "",
        "Learning rate, clip and input scale, chosen per model and task on validation data at the target level "
        f"(never on test data): [table]({profile}/tables/lr_selection.md).",
        "",
        f"![hyperparameter selection]({fig}/lr_selection.png)",
        "",
        *adding_section(profile, results, fig),
        "## Deviations from the original studies",
        "",
        DEVIATIONS,
        "## Provenance",
        "",
        f"- runs: {prov['runs']}, by commit as recorded: "
        + ", ".join(f"`{c}` ({n} runs)" for c, n in prov["commit_counts"].items()),
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
        f"- device(s): {', '.join(prov['devices'])}; {prov['cpu_count']} CPU cores; {prov['platform']}",
        f"- Python {prov['python']}; " + ", ".join(f"{k} {v}" for k, v in sorted(prov["versions"].items())),
        f"- training time, all runs added up: {_minutes(prov['training_seconds'])}",
        "- sweep wall time (2 CPU cores): " + time_sentence(prov),
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


def update_readme(answers: dict, prov: dict, results: Path = RESULTS, readme: Path = Path("README.md")) -> None:
    """The README's results section (verdicts, main figure, measured time), between its markers."""
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
            f"![Test character accuracy per strategy, LSTM vs IRNN](results/{DEFAULT_PROFILE}/figures/"
            "addition_test_char_accuracy.png)",
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


def _tex(text: str) -> str:
    return (
        text.replace("\\", r"\textbackslash{}")
        .replace("_", r"\_")
        .replace("%", r"\%")
        .replace("#", r"\#")
        .replace("&", r"\&")
        .replace(">=", r"$\geq$")
        .replace("δ", r"$\delta$")
    )


def setting_macros(profile: str, results: Path = RESULTS) -> dict:
    """The settings the paper's method section quotes, read from the records and the code."""
    from data_gen.pool import DEFAULT_POOL_SIZE
    from lte.core.cells import irnn

    runs = finished_runs(profile, results)
    runs = runs[runs.get("label_variant", pd.Series(index=runs.index, dtype=object)).ne("IRNN (equal parameters)")]

    def only(column: str) -> str:
        values = sorted(set(runs[column].dropna()))
        return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)

    return {
        "Hidden": only("cfg_hidden"),
        "Layers": only("cfg_layers"),
        "BatchRows": only("cfg_batch_size"),
        "Clip": only("cfg_clip"),
        "EvalEvery": only("cfg_eval_every"),
        "InputScale": only("cfg_input_scale"),
        "MaxSteps": f"{int(runs.cfg_max_steps.min())}--{int(runs.cfg_max_steps.max())}",
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
    """Question 3's answer for one task in a few words: the winner and whether the test data confirm it."""
    return f"{part['winner']} ({'confirmed' if part['confirmed'] else 'not confirmed'} on test)"


def _frame_tex(frame: pd.DataFrame, columns: dict[str, str]) -> str:
    """Some columns of a verdict table, renamed, as a LaTeX tabular (floats as in the report's tables)."""
    from lte.study.analysis.tables import latex_tabular

    table = frame[list(columns)].rename(columns=columns)
    return latex_tabular(table.map(lambda v: f"{v:.3g}" if isinstance(v, float) else str(v)))


def paper_tables(profile: str, answers: dict, prov: dict, results: Path = RESULTS) -> dict[str, str]:
    """The tables only the paper shows (the verdicts' evidence, the adding problem, the measured times)."""
    from lte.study.analysis.adding import adding_outcome
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


def write_paper_numbers(profile: str, answers: dict, prov: dict, results: Path = RESULTS) -> Path:
    """paper/generated/<profile>.tex: every number and verdict the paper quotes, as macros; and
    paper/generated/<profile>/*.tex: the tables only the paper shows."""
    from lte.study.analysis.adding import adding_outcome
    from lte.study.analysis.verdicts import ALPHA, DELTA, diverged_runs

    out = Path("paper") / "generated"
    out.mkdir(parents=True, exist_ok=True)
    words = {1: "One", 2: "Two", 3: "Three"}
    macros = {f"Verdict{words[i]}": answers[i]["verdict"] for i in answers}
    macros |= {f"Detail{words[i]}": answers[i]["detail"] for i in answers}
    if "parts" in answers[3]:
        irnn = answers[3]["parts"]["irnn"]
        macros["VerdictThreeShort"] = (
            f"computation: {_short_answer(irnn['computation'])}; memorisation: {_short_answer(irnn['memorisation'])}"
        )
    else:
        macros["VerdictThreeShort"] = answers[3]["verdict"]
    macros |= setting_macros(profile, results)
    seeds = seed_counts(finished_runs(profile, results))
    macros |= {f"Seeds{''.join(w.title() for w in e.split('_'))}": seeds.get(e, "none") for e in EXPERIMENTS}
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
        "ConvergenceTarget": f"{answers[2]['target']:.2f}" if "target" in answers[2] else "pending",
        "StepWindow": f"{answers[2]['step_window']:,.0f}" if "step_window" in answers[2] else "pending",
        "SecondWindow": f"{answers[2]['second_window']:.1f}" if "second_window" in answers[2] else "pending",
        "EquivalenceMargin": f"{DELTA:g}",
        "FalseDiscoveryRate": f"{100 * ALPHA:g}%",
        "NumDiverged": str(len(diverged_runs(profile, results))),
        "MemorisationLength": str(_memorisation_length(profile, results) or "pending"),
        "AddingRuns": str(prov["adding_runs"]),
        "AddingBaseline": _adding_baseline(outcome),
        "AddingVerdict": adding_verdict(outcome) if outcome else "not run",
        "Profile": profile,
    }
    raw = {"PoolSize"}  # already LaTeX
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
