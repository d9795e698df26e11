"""The adding problem's learning rate and clip per model, chosen on validation data (docs/preregistration.md,
section 9).

Every (model, rate, clip) of experiments/adding_selection.toml is scored by its mean final validation MSE over
the selection seeds; the lowest wins. A setting with a diverged seed is no candidate. The winners go to
results/lr_selection/selected_adding_<profile>.json, which experiments/adding_problem.toml reads
(`learning_rate = "selected"`, `clip = "selected"`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from lte.core.errors import LteError
from lte.kinds.adding import AddingConfig, adding_val_set, predict_one_mse
from lte.study.analysis.lr_selection import widened_axis
from lte.study.analysis.records import load_runs
from lte.study.experiment import RESULTS

EXPERIMENT = "adding_selection"
AXES = ("learning_rate", "clip")


def adding_selection_table(profile: str, results: Path = RESULTS) -> pd.DataFrame:
    """Every (model, T, rate, clip) with its mean final validation MSE over seeds; the best per model marked."""
    runs = load_runs(EXPERIMENT, profile, results)
    rows = []
    for (model, length, rate, clip), group in runs.groupby(
        ["cfg_model", "cfg_sequence_length", "cfg_learning_rate", "cfg_clip"]
    ):
        diverged = int(group["diverged"].sum())
        rows.append(
            {
                "model": model,
                "T": int(length),
                "learning_rate": float(rate),
                "clip": float(clip),
                "seeds": len(group),
                "diverged": diverged,
                "val_mse": float("nan") if diverged else float(group["final_val_mse"].astype(float).mean()),
                "baseline_mse": _val_baseline(group.iloc[0]),
            }
        )
    table = pd.DataFrame(rows).sort_values(["model", "learning_rate", "clip"]).reset_index(drop=True)
    if table.groupby("model")["val_mse"].count().min() == 0:
        model = table.groupby("model")["val_mse"].count().idxmin()
        raise LteError(
            f"every adding-problem setting of {model} diverged on some selection seed: widen the grid downwards"
        )
    table["selected"] = table.index.isin(table.groupby("model")["val_mse"].idxmin())
    return table


def _val_baseline(row: pd.Series) -> float:
    """The predict-1 MSE of the validation set the row was scored on."""
    config = AddingConfig(sequence_length=int(row["cfg_sequence_length"]), val_size=int(row["cfg_val_size"]))
    return predict_one_mse(adding_val_set(config)[1])


def write_adding_selection(profile: str, results: Path = RESULTS, log=None) -> dict:
    """Write selected_adding_<profile>.json; warn when a winner sits on an edge of an axis or does not beat
    predicting 1 on the validation set."""
    log = log or (lambda line: print(line, file=sys.stderr))
    table = adding_selection_table(profile, results)
    selected = {}
    for row in table[table["selected"]].itertuples():
        tried = table[table.model == row.model]
        for axis in AXES:
            widened = widened_axis(list(tried[axis]), float(getattr(row, axis)), factor=10.0)
            if widened is not None:
                log(
                    f"warning: adding/{row.model}: the selected {axis} {getattr(row, axis):g} is on the edge of "
                    f"the values tried; widen them to {widened} and sweep again"
                )
        if not row.val_mse < row.baseline_mse:
            log(
                f"warning: adding/{row.model}: the selected setting's validation MSE {row.val_mse:.4f} does not "
                f"beat predicting 1 ({row.baseline_mse:.4f}): the grid holds no setting that learns the task"
            )
        selected[row.model] = {
            "learning_rate": row.learning_rate,
            "clip": row.clip,
            "val_mse": row.val_mse,
            "baseline_mse": row.baseline_mse,
            "T": row.T,
            "seeds": int(row.seeds),
        }
    out = results / "lr_selection" / f"selected_adding_{profile}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(selected, indent=2, sort_keys=True) + "\n")
    return selected
