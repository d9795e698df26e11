"""Where the records come from: their runs, commits, code, devices and versions, and the time a profile takes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from lte.study.analysis.records import load_runs
from lte.study.analysis.tables import EXPERIMENTS
from lte.study.experiment import DEFAULT_PROFILE, RESULTS, runs_dir


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
        return head + ("the same as" if unchanged else "not comparable (no git) with") + " the records' commits"
    spot = verified_at(profile, results)
    if spot and "dirty" not in spot["commit"] and run_code_unchanged_since(spot["commit"]):
        readme_dir = results if profile == DEFAULT_PROFILE else results / profile  # where `write_report` writes
        where = Path(os.path.relpath(record_path(profile, results), readme_dir)).as_posix()
        link = f"[{Path(where).name}]({where})"
        if spot["exact"] == spot["checked"]:
            return (
                head + "different from the records' commits in its text, and computes the same records: a "
                f"spot-check with it (at `{spot['commit'][:7]}`) retrained {spot['checked']} of them, the first "
                f"of each experiment and model, bit for bit ({link})"
            )
        return (
            head + "different from the records' commits in its text, and computes the same bits as their "
            f"code: a spot-check (at `{spot['commit'][:7]}`, on {spot['device']}"
            + (f", {spot['vector_extension']}" if spot.get("vector_extension") else "")
            + f") retrained {spot['checked']} of "
            "them, the first of each experiment and model, with both and found them identical; there both "
            f"differ from the records, computed on {', '.join(spot['records_devices'])} (XLA compiles for the "
            f"CPU it runs on, and float rounding grows over training) ({link})"
        )
    partial = _partial_spot_check(profile, results)
    if partial:
        return head + "**different from** the records' commits in its text; " + partial
    return head + "**different from** the records' commits"


def _partial_spot_check(profile: str, results: Path) -> str | None:
    """What a committed spot-check at the current run code found when only some sampled runs came out exact:
    which experiments differ, and whether the records' own code retrained on the same machine differs too (then
    the code, not the machine, changed those bits); None without such a record."""
    from lte.study.analysis.spot_check import record_path

    path = record_path(profile, results)
    if not path.exists():
        return None
    spot = json.loads(path.read_text())
    if "dirty" in spot.get("commit", "dirty") or not run_code_unchanged_since(spot["commit"]):
        return None
    differing = [r for r in spot.get("runs", []) if r.get("status") != "exact"]
    if not differing or "device" not in spot:
        return None
    experiments = sorted({r["run"].split("/")[0] for r in differing})
    by_code = all(r.get("against_records_code") == "differs" for r in differing)
    readme_dir = results if profile == DEFAULT_PROFILE else results / profile
    where = Path(os.path.relpath(path, readme_dir)).as_posix()
    return (
        f"a spot-check with it (at `{spot['commit'][:7]}`, on {spot['device']}) retrained {spot['checked']} "
        f"records, the first of each recorded commit, experiment and model: {spot['exact']} bit for bit, and "
        f"{len(differing)} ({', '.join(experiments)}) differ from their records"
        + (
            ", and as much from a retraining with their own commit's code on the same machine: a change of code "
            "since those records were made changed their bits"
            if by_code and spot.get("exact_against_records_code") is not None
            else ""
        )
        + f" ([{Path(where).name}]({where}))"
    )


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


def _whole_minutes(minutes: float) -> str:
    """Minutes to the nearest whole one; '<1' below half a minute (never '0')."""
    return "<1" if minutes < 0.5 else f"{minutes:.0f}"


def time_sentence(prov: dict) -> str:
    """The profile's sweep wall time per experiment and in all (`provenance.time_estimate`), a sweep of under
    half a minute as '<1 min'."""
    estimate = time_estimate(prov)
    if estimate["total_minutes"] is None:
        return "its sweeps have not been timed whole yet."
    parts = ", ".join(
        f"{e} {_whole_minutes(m)}" + ("" if e in estimate["measured"] else " (estimated)")
        for e, m in estimate["minutes"].items()
    )
    total = estimate["total_minutes"]
    span = (
        f"about {total / 60:.1f} hours"
        if total >= 60
        else f"about {total:.0f} minutes"
        if total >= 1.5
        else "about a minute"
        if total >= 0.5
        else "under a minute"
    )
    head = f"a whole run of its sweeps takes {span} ({parts} min): "
    if len(estimate["measured"]) == len(estimate["minutes"]):
        return head + "each experiment's sweep measured whole (the wall time of its sittings added up)."
    return (
        head + f"measured where an experiment's sweep was timed whole, else estimated from its runs' measured "
        f"training time times {estimate['ratio']:.2f}, the ratio of sweep time to training time of those "
        f"timed whole."
    )


def study_runs(profile: str, results: Path = RESULTS) -> pd.DataFrame:
    """Every finished run of the profile but question 2's equal-parameters variant (whose width is its own)."""
    runs = finished_runs(profile, results)
    return runs[runs.get("label_variant", pd.Series(index=runs.index, dtype=object)).ne("IRNN (equal parameters)")]


def distinct(runs: pd.DataFrame, column: str, joiner: str = ", ") -> str:
    """The distinct values of a column, sorted and joined ('1', '64', '0.1, 0.3')."""
    values = sorted(set(runs[column].dropna()))
    return joiner.join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


def layers_of_units(profile: str, results: Path = RESULTS) -> str:
    """The study's model size in words: '1 layer of 64 units'."""
    runs = study_runs(profile, results)
    layers, hidden = distinct(runs, "cfg_layers"), distinct(runs, "cfg_hidden")
    return f"{layers} layer{'' if layers == '1' else 's'} of {hidden} units"
