"""Raw run records -> pandas tables: one row per run, and one row per evaluation (curves)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from lte.core import run_folder
from lte.core.errors import LteError
from lte.kinds.summary import (  # noqa: F401 (re-exported: the analysis reads summaries through these)
    generic_summary_row,
    is_diverged,
    read_summary,
)
from lte.study.experiment import RESULTS, runs_dir

LABEL_COLUMNS = ("task", "model", "strategy", "invert", "double", "seed", "learning_rate", "variant")


def read_index(experiment: str, profile: str, results: Path = RESULTS) -> dict:
    path = runs_dir(experiment, profile, results) / "cells.json"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: run `lte sweep experiments/{experiment}.toml --profile {profile}` first"
        )
    return run_folder.read_index(path)


def read_curve(path: Path) -> pd.DataFrame | None:
    """A run's metrics.jsonl as a frame; None if it has no complete line. A torn last line (a run killed
    while writing it) is left out; an unreadable line before it is an LteError naming the file and line."""
    try:
        lines = path.read_text().splitlines()
    except UnicodeDecodeError:
        raise LteError(f"{path} is not UTF-8 text: the record is corrupt") from None
    kept = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            json.loads(line)
        except json.JSONDecodeError as error:
            if number == len(lines):
                break  # torn by a kill mid-write; the run rewrites it when it resumes
            raise LteError(
                f"{path}, line {number}: not valid JSON ({error}); only the last line of a "
                f"metrics file can be torn by a kill, so the record is corrupt"
            ) from None
        kept.append(line)
    if not kept:
        return None
    return pd.read_json(io.StringIO("\n".join(kept) + "\n"), lines=True)


def _label_columns(cell: dict) -> dict:
    labels = {f"label_{k}": v for k, v in cell["labels"].items()}
    config = {f"cfg_{k}": v for k, v in cell["config"].items()}
    return {"cell": cell["name"], **labels, **config}


def load_runs(experiment: str, profile: str, results: Path = RESULTS, *, require_all: bool = True) -> pd.DataFrame:
    """One row per finished cell: its labels (label_*), config (cfg_*) and final results, read by the cell's run
    kind (`lte.kinds.RunKind.read_summary`)."""
    from lte.kinds import get_kind

    index = read_index(experiment, profile, results)
    root = runs_dir(experiment, profile, results)
    rows, missing = [], []
    for cell in index["cells"]:
        path = root / cell["name"] / "summary.json"
        if not path.exists():
            missing.append(cell["name"])
            continue
        rows.append(
            {**_label_columns(cell), "experiment": experiment, **get_kind(cell.get("kind", "char")).read_summary(path)}
        )
    if missing and require_all:
        raise FileNotFoundError(
            f"{len(missing)} of {len(index['cells'])} cells of {experiment} ({profile}) have "
            f"not finished (e.g. {missing[0]}); run the sweep again to finish them"
        )
    return pd.DataFrame(rows)


def load_curves(experiment: str, profile: str, results: Path = RESULTS) -> pd.DataFrame:
    """One row per evaluation of every cell (metrics.jsonl), with the cell's labels."""
    index = read_index(experiment, profile, results)
    root = runs_dir(experiment, profile, results)
    frames = []
    for cell in index["cells"]:
        path = root / cell["name"] / "metrics.jsonl"
        if not path.exists():
            continue
        frame = read_curve(path)
        if frame is None:
            continue
        for key, value in _label_columns(cell).items():
            frame[key] = value if not isinstance(value, (list, dict)) else json.dumps(value)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
