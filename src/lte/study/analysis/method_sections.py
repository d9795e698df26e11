"""The report's method sections, every number read from the profile's records (else its experiment files) or
from the code: the deviations from the source protocols, and how the hyperparameters were selected."""

from __future__ import annotations

from pathlib import Path

from lte.core import schedule
from lte.core.errors import LteError
from lte.study.analysis.rising import FINAL_FRACTION
from lte.study.analysis.threats import and_list, plural
from lte.study.experiment import DEFAULT_PROFILE, RESULTS, runs_dir

JUDGED = ("program", "addition", "memorisation", "convergence")
TASK_NAMES = {"copy": "copy", "addition": "addition", "program": "programs"}  # in the order the report names them
QUICK_PROFILE = "quick"
STUDY_SCHEDULE = "plateau"  # docs/preregistration.md, section 1
EXPERIMENTS_DIR = Path("experiments")


def _judged_cells(profile: str, results: Path) -> list[tuple[dict, dict]]:
    """(labels, config) of every cell of the judged experiments: from their cell lists (cells.json, written
    before a run trains), else the settings of the experiment file (experiments/<name>.toml: its fixed settings
    and the profile's, one entry per file)."""
    import tomllib

    from lte.study.analysis.records import read_index

    cells = []
    for experiment in JUDGED:
        if (runs_dir(experiment, profile, results) / "cells.json").exists():
            cells += [(c["labels"], c["config"]) for c in read_index(experiment, profile, results)["cells"]]
            continue
        try:
            spec = tomllib.loads((EXPERIMENTS_DIR / f"{experiment}.toml").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        own = {k: v for k, v in spec.get("profiles", {}).get(profile, {}).items() if k not in ("grid", "tasks")}
        cells.append(({}, {**spec.get("fixed", {}), **own}))
    return cells


def profile_settings(profile: str, results: Path = RESULTS) -> dict:
    """The settings the report's deviations quote, read from the profile's judged cells: steps caps per task,
    width (the equal-parameters variant of question 2 aside), layers, batch rows, the memorisation length, the
    schedule's target accuracy and decay, and the schedules used."""
    cells = _judged_cells(profile, results)

    def values(key: str, keep=lambda labels: True) -> list:
        return sorted({c[key] for labels, c in cells if keep(labels) and c.get(key) is not None})

    def equal_width(labels: dict) -> bool:
        return labels.get("variant_id") != "irnn-params" and "equal parameters" not in str(labels.get("variant", ""))

    caps: dict[str, set] = {}
    for _, config in cells:
        caps.setdefault(config.get("task"), set()).add(config.get("max_steps"))
    return {
        "caps": {task: sorted(caps[task]) for task in TASK_NAMES if task in caps},
        "hidden": values("hidden", equal_width),
        "layers": values("layers"),
        "batch_size": values("batch_size"),
        "copy_length": sorted({c["length"] for labels, c in cells if c.get("task") == "copy"}),
        "target_accuracy": values("target_accuracy"),
        "lr_decay": values("lr_decay"),
        "schedules": values("schedule"),
    }


def _span(values: list, unit: str = "") -> str:
    """'32', '800-2,000' (a range where they differ)."""
    text = f"{values[0]:,}" if len(values) == 1 else f"{min(values):,}-{max(values):,}"
    return text + unit


def _one(values: list, default) -> str:
    return ", ".join(f"{v:g}" for v in values) if values else f"{default:g}"


def caps_text(caps: dict[str, list]) -> str:
    """'copy 40,000, addition and programs 30,000 steps': tasks that share a cap named together."""
    groups: dict[str, list[str]] = {}
    for task, steps in caps.items():
        groups.setdefault(_span(steps), []).append(TASK_NAMES[task])
    return ", ".join(f"{and_list(tasks)} {steps}" for steps, tasks in groups.items()) + " steps"


def deviations_section(profile: str, results: Path = RESULTS) -> list[str]:
    """The report's deviations from the original studies, every number from the code's rules and the profile's
    judged cells (their experiment files' settings for this profile)."""
    from lte.core.cells import irnn
    from lte.core.data import MIN_DISTINCT_VALIDATION

    settings = profile_settings(profile, results)
    caps = settings["caps"]
    all_caps = sorted({n for steps in caps.values() for n in steps})
    lines = [
        "## Deviations from the original studies",
        "",
        f'- **The curriculum\'s schedule** (`schedule = "{STUDY_SCHEDULE}"`, '
        '`lte.core.schedule`, stated in `docs/preregistration.md` before the records; `"original"` restores '
        "Zaremba's rule): a level is left when validation accuracy passes "
        f"{_one(settings['target_accuracy'], 0.95)} or its least-squares slope over the last "
        f"{schedule.ADVANCE_WINDOW_STEPS:,} steps is at most {schedule.ADVANCE_MIN_SLOPE} per 1,000 steps; at the "
        f"target level a slope of at most {schedule.TARGET_MIN_SLOPE} over {schedule.TARGET_WINDOW_STEPS:,} steps "
        f"decays the rate by {_one(settings['lr_decay'], 0.8)}, and after a decay a slope of at most "
        f"{schedule.STOP_MIN_SLOPE} over {schedule.STOP_WINDOW_STEPS:,} steps stops the run, so a run still "
        f"learning is neither slowed nor stopped. Zaremba's rule advances when training accuracy falls below its "
        f"value {schedule.HISTORY} evaluations ago, which in the default profile's earlier records (validation "
        "sets of 300 examples) fired about every 500 steps whether the model was learning or not. Baseline and "
        "mix, whose data ignore the level, start at the target level. A level whose validation split holds fewer "
        f"than {MIN_DISTINCT_VALIDATION} distinct examples (copy and addition at length 1) is judged on its "
        "training split."
        + (
            f' **These records were made under `schedule = "{", ".join(other)}"`**, before the study\'s '
            "schedule: their runs advanced, decayed and stopped by that rule, not this one."
            if (other := [x for x in settings["schedules"] if x != STUDY_SCHEDULE])
            else ""
        ),
    ]
    if caps:
        if profile != DEFAULT_PROFILE:
            sized = f"this profile's cap ({caps_text(caps)}; the pilot sized the default profile's)"
        elif settings["schedules"] == [STUDY_SCHEDULE]:
            sized = (
                f"a cap sized by a pilot ({caps_text(caps)}; `experiments/pilot.toml`, docs/preregistration.md, "
                "section 3)"
            )
        else:
            sized = f"the cap these records were made with ({caps_text(caps)}), before the pilot sized the study's"
        lines.append(
            f"- **Budgets**: each run ends on its plateau or at {sized}; the report flags every cell still rising "
            f"over the last {FINAL_FRACTION:.0%} of its steps, and a comparison that involves one does not decide a "
            "verdict."
        )
    lines.append(
        f"- **The IRNN's input weights**: Le et al. draw them from N(0, {irnn.INPUT_STD:g}^2); reading one-hot "
        "characters that leaves the IRNN almost no input signal, so the input scale is searched with the learning "
        "rate and the clip, on validation data, for both models alike (`experiments/lr_selection.toml`)."
    )
    if settings["hidden"] and settings["layers"] and settings["batch_size"]:
        layers = settings["layers"]
        lines.append(
            f"- **Size**: {_span(layers)} layer{'s' if max(layers) != 1 else ''} of {_span(settings['hidden'])} "
            f"units, batches of {_span(settings['batch_size'])} rows (Zaremba: 2 x 400, batch 100)"
            + ("; `PROFILE=paper` runs Zaremba's scale." if profile != "paper" else ".")
        )
    length = f" (copy-{_span(settings['copy_length'])} in this profile)" if settings["copy_length"] else ""
    lines.append(
        f"- **The memorisation length**{length} is sized to the tuned LSTM: the shortest copy at which its "
        "baseline ends its pilot below the ceiling, by a rule stated before the pilot ran "
        "(`experiments/memorisation_length.toml`, applied in the default profile's report"
        + ("" if profile == DEFAULT_PROFILE else "; this profile's length is set in its experiment file")
        + "), so that question 1 can be tested there; whether the study's own runs of that baseline stay below "
        "the ceiling is among the threats to validity."
    )
    if profile == QUICK_PROFILE:
        lines.append("- " + quick_note(profile, results, all_caps))
    return lines + [""]


def quick_note(profile: str, results: Path, caps: list[int]) -> str:
    """docs/preregistration.md, section 10: the quick profile's windows against its caps, and what its verdicts
    are (and are not)."""
    from lte.study.analysis.records import load_runs

    ended = total = 0
    for experiment in JUDGED:
        if (runs_dir(experiment, profile, results) / "cells.json").exists():
            runs = load_runs(experiment, profile, results, require_all=False)
            if "stop_reason" in runs:
                ended += int((runs.stop_reason == "max_steps").sum())
                total += len(runs)
    windows = (
        f"a level is left as stalled after {schedule.ADVANCE_WINDOW_STEPS:,} steps, a plateau at the target level "
        f"decays the rate after {schedule.TARGET_WINDOW_STEPS:,} and stops the run {schedule.STOP_WINDOW_STEPS:,} "
        "after that"
    )
    stop = "" if caps and max(caps) >= schedule.STOP_WINDOW_STEPS else "a stop can never fire and "
    return (
        f"**This profile (`{profile}`)** runs the same experiments, rules and code at a small size "
        f"(docs/preregistration.md, section 10). Its windows are the study's ({windows})"
        + (f", while its caps are {_span(caps)} steps" if caps else "")
        + f": {stop}a stall or a decay rarely fires, so most runs end at their cap"
        + (f" ({ended:,} of {total:,} here)" if total else "")
        + " and are flagged as rising. Its verdicts exercise the machinery and are not the study's answers."
    )


def hyperparameters_section(profile: str, results: Path, fig: str) -> list[str]:
    """How the hyperparameters were chosen (docs/preregistration.md, sections 3 and 4): stage 1 per model and
    task, stage 2 per model, task and strategy, and what shares a setting instead; links to both tables."""
    from lte.study.analysis.lr_selection import STRATEGY_SELECTION, selection_table

    def table_of(experiment: str):
        try:
            return selection_table(profile, results, experiment)
        except (FileNotFoundError, LteError, ValueError):
            return None

    stage1, stage2 = table_of("lr_selection"), table_of(STRATEGY_SELECTION)
    seeds = (
        f", {plural(int(stage1.seeds.min()), 'selection seed')} per setting"
        if stage1 is not None and len(stage1)
        else ""
    )
    lines = [
        "## Hyperparameters",
        "",
        "Chosen on validation data at the target level (never on test data), in two stages "
        f"(docs/preregistration.md, section 4){seeds}:",
        "",
        "- **Stage 1**, per model and task: learning rate x clip x input scale on the baseline strategy "
        f"([table]({profile}/tables/lr_selection.md)).",
    ]
    stage2_tasks = sorted(stage2.task.unique()) if stage2 is not None else []
    if stage2 is not None:
        counts = sorted(set(stage2.groupby(["model", "task", "strategy"])["learning_rate"].nunique()))
        rates = plural(counts[0], "rate") if len(counts) == 1 else f"{counts[0]}-{counts[-1]} rates"
        link = (
            f" ([table]({profile}/tables/strategy_selection.md))"
            if runs_dir(STRATEGY_SELECTION, profile, results).exists()  # the tables step writes it from these
            else ""
        )
        lines.append(
            "- **Stage 2**, per model, task and strategy: the learning rate again, around stage 1's (its rate, /3 "
            f"and x3, widened past an edge; {rates} per strategy here), at stage 1's clip and input scale, on "
            f"{and_list([TASK_NAMES.get(t, t) for t in stage2_tasks])}; baseline keeps stage 1's setting{link}."
        )
    else:
        lines.append("- **Stage 2** (a rate per strategy) has no complete records: every strategy runs at stage 1's.")
    shared = []
    if "copy" in stage2_tasks:
        shared.append("the copy tricks (invert, double) run at their strategy's setting")
    stage1_only = sorted(set(stage1.task.unique()) - set(stage2_tasks)) if stage1 is not None else []
    if stage2 is not None and stage1_only:
        shared.append(f"{and_list([TASK_NAMES.get(t, t) for t in stage1_only])} run every strategy at stage 1's rate")
    if shared:
        lines.append(
            "- **Shared, not tuned**: "
            + " and ".join(shared)
            + ". Tuning every trick, and every strategy of the programs (whose runs cost several times more), "
            "would not fit the study's compute budget (docs/preregistration.md, section 3 item 3, and section 4); "
            "the threats below say what that costs question 1."
        )
    return lines + ["", f"![hyperparameter selection]({fig}/lr_selection.png)", ""]
