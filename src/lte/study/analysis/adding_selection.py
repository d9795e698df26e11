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


def selection_warnings(table: pd.DataFrame) -> list[dict]:
    """What is wrong with each model's winner (the rows of `adding_selection_table` marked `selected`): a value
    on an edge of an axis it was chosen on (`kind` "edge": `axis`, `value`, `edge` "top" or "bottom", `tried`
    and `widened`, the axis with one more value past that edge, as section 9 asks), or a validation MSE not
    below that of predicting 1 (`kind` "no better than predict-1": `val_mse`, `baseline_mse`)."""
    found = []
    for row in table[table["selected"]].itertuples():
        tried = table[table.model == row.model]
        for axis in AXES:
            values = sorted(set(float(v) for v in tried[axis]))
            value = float(getattr(row, axis))
            widened = widened_axis(values, value, factor=10.0)
            if widened is not None:
                found.append(
                    {
                        "model": row.model,
                        "kind": "edge",
                        "axis": axis,
                        "value": value,
                        "edge": "top" if value == values[-1] else "bottom",
                        "tried": values,
                        "widened": widened,
                    }
                )
        if not row.val_mse < row.baseline_mse:
            found.append(
                {
                    "model": row.model,
                    "kind": "no better than predict-1",
                    "val_mse": float(row.val_mse),
                    "baseline_mse": float(row.baseline_mse),
                    "T": int(row.T),
                }
            )
    return found


AXIS_NAMES = {"learning_rate": "rate", "clip": "clip"}


def warning_line(warning: dict) -> str:
    """One warning as the sweep logs it (what to do about it)."""
    where = f"warning: adding/{warning['model']}"
    if warning["kind"] == "edge":
        return (
            f"{where}: the selected {warning['axis']} {warning['value']:g} is on the edge of the values tried; "
            f"widen them to {warning['widened']} and sweep again"
        )
    return (
        f"{where}: the selected setting's validation MSE {warning['val_mse']:.4f} does not beat predicting 1 "
        f"({warning['baseline_mse']:.4f}): the grid holds no setting that learns the task"
    )


def warning_clauses(warnings: list[dict]) -> list[str]:
    """The warnings as the report states them: one clause per model with a warning, in model order."""
    clauses = []
    for model in sorted({w["model"] for w in warnings}):
        parts = []
        for w in (w for w in warnings if w["model"] == model):
            if w["kind"] == "edge":
                parts.append(
                    f"{AXIS_NAMES.get(w['axis'], w['axis'])} {w['value']:g} on the {w['edge']} edge of those tried "
                    f"({', '.join(f'{v:g}' for v in w['tried'])})"
                )
            else:
                parts.append(
                    f"validation MSE {w['val_mse']:.4f}, not below predicting 1 ({w['baseline_mse']:.4f} at "
                    f"T = {w['T']}): no setting tried learned the task"
                )
        clauses.append(f"{model.upper()} {', '.join(parts)}")
    return clauses


# docs/preregistration.md, section 9, on a winner that sits on an edge of its axis
EDGE_RULE = "a winner on an edge of the grid widens that axis by a factor of 10 and the selection is rerun"


def write_adding_selection(profile: str, results: Path = RESULTS, log=None) -> dict:
    """Write selected_adding_<profile>.json; warn when a winner sits on an edge of an axis or does not beat
    predicting 1 on the validation set."""
    log = log or (lambda line: print(line, file=sys.stderr))
    table = adding_selection_table(profile, results)
    for warning in selection_warnings(table):
        log(warning_line(warning))
    selected = {}
    for row in table[table["selected"]].itertuples():
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


def warnings_text(warnings: list[dict]) -> str:
    """The warnings as one passage of the report: each model's, then what the pre-registered rule asks for."""
    edges = any(w["kind"] == "edge" for w in warnings)
    return (
        "; ".join(warning_clauses(warnings))
        + "."
        + (
            f" The rule of docs/preregistration.md, section 9 ({EDGE_RULE}) was not applied: no axis was widened "
            "past its winner."
            if edges
            else ""
        )
    )


def recorded_warnings(profile: str, results: Path = RESULTS) -> list[dict]:
    """`selection_warnings` of the profile's adding-problem selection records ([] when they are missing or
    incomplete)."""
    try:
        table = adding_selection_table(profile, results)
    except (FileNotFoundError, LteError):
        return []
    return selection_warnings(table)
