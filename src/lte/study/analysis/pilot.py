"""The redesign's pilot (experiments/pilot.toml) turned into step caps by the rule of docs/preregistration.md,
section 3: per task, the smallest candidate cap by which every pilot run stopped on its plateau."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lte.study.analysis.records import load_runs
from lte.study.experiment import RESULTS, runs_dir

PILOT = "pilot"
CANDIDATE_CAPS = (10_000, 20_000, 30_000, 40_000)
PLATEAU_STOP = "plateau at the target level"


def choose_caps(runs: pd.DataFrame) -> pd.DataFrame:
    """Per task (`cfg_task`): the pilot runs' steps (median, max), how many stopped on their plateau, and the
    cap: the smallest candidate at or above every run's steps when all stopped on a plateau, else the
    largest candidate."""
    rows = []
    for task, group in runs.groupby("cfg_task"):
        plateaued = group["stop_reason"] == PLATEAU_STOP
        longest = int(group["steps"].max())
        fitting = [cap for cap in CANDIDATE_CAPS if cap >= longest]
        cap = fitting[0] if plateaued.all() and fitting else CANDIDATE_CAPS[-1]
        rows.append(
            {
                "task": task,
                "runs": len(group),
                "stopped on plateau": int(plateaued.sum()),
                "median steps": int(group["steps"].median()),
                "max steps": longest,
                "cap": cap,
            }
        )
    return pd.DataFrame(rows)


def pilot_section(profile: str, results: Path = RESULTS) -> list[str]:
    """The report's account of the pilot: its table and the caps the rule gives (empty without records)."""
    if not (runs_dir(PILOT, profile, results) / "cells.json").exists():
        return []
    lines = ["## Design pilot: step caps", ""]
    try:
        runs = load_runs(PILOT, profile, results)
    except FileNotFoundError as error:  # the rule reads every run: a part of the pilot decides nothing
        return lines + [f"Pending: {error}", ""]
    table = choose_caps(runs)
    lines += [
        "Rule (docs/preregistration.md, section 3, committed before the pilot ran): per task, the smallest "
        f"of {', '.join(f'{c:,}' for c in CANDIDATE_CAPS)} steps by which every pilot run stopped on its "
        "plateau, else the largest.",
        "",
        "| task | runs | stopped on plateau | median steps | max steps | cap |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {r.task} | {r.runs} | {r._3} | {r._4:,} | {r._5:,} | {r.cap:,} |" for r in table.itertuples()]
    return lines + [""]
