"""Raw run records -> pandas tables: one row per run, and one row per evaluation (curves)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from lte.experiment import RESULTS, runs_dir

LABEL_COLUMNS = ("task", "model", "strategy", "invert", "double", "seed", "learning_rate", "variant")


def read_index(experiment: str, profile: str, results: Path = RESULTS) -> dict:
    path = runs_dir(experiment, profile, results) / "cells.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `lte sweep experiments/{experiment}.toml "
                                f"--profile {profile}` first")
    return json.loads(path.read_text())


def _label_columns(cell: dict) -> dict:
    labels = {f"label_{k}": v for k, v in cell["labels"].items()}
    config = {f"cfg_{k}": v for k, v in cell["config"].items()}
    return {"cell": cell["name"], **labels, **config}


def load_runs(experiment: str, profile: str, results: Path = RESULTS, *, require_all: bool = True) -> pd.DataFrame:
    """One row per finished cell: its labels (label_*), config (cfg_*) and final results."""
    index = read_index(experiment, profile, results)
    root = runs_dir(experiment, profile, results)
    rows, missing = [], []
    for cell in index["cells"]:
        path = root / cell["name"] / "summary.json"
        if not path.exists():
            missing.append(cell["name"])
            continue
        summary = json.loads(path.read_text())
        final = summary["final"]
        rows.append({**_label_columns(cell), "experiment": experiment,
                     "steps": summary["steps"], "wall_time": summary["wall_time"],
                     "parameters": summary["parameters"], "stop_reason": summary["stop_reason"],
                     "test_char_accuracy": final["test_char_accuracy"],
                     "test_exact_match": final["test_exact_match"],
                     "val_target_char_accuracy": summary["final_val_target"]["char_accuracy"],
                     "val_target_exact_match": summary["final_val_target"]["exact_match"],
                     "final_level": "{},{}".format(*final["level"]),
                     "commit": summary["provenance"]["commit"], "device": summary["provenance"]["device"]})
    if missing and require_all:
        raise FileNotFoundError(f"{len(missing)} of {len(index['cells'])} cells of {experiment} ({profile}) have "
                                f"not finished (e.g. {missing[0]}); run the sweep again to finish them")
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
        frame = pd.read_json(path, lines=True)
        for key, value in _label_columns(cell).items():
            frame[key] = value if not isinstance(value, (list, dict)) else json.dumps(value)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
