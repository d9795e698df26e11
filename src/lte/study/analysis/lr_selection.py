"""The hyperparameters of each (model, task): learning rate, clip and input scale, chosen on validation data.

Every setting of the selection grid is scored by its mean validation character
accuracy at the target level (at the end of its run) over the selection seeds;
the best is selected. The test split plays no part. A setting with a diverged
run (non-finite loss or parameters) on any selection seed is not a candidate.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from lte.core.errors import LteError
from lte.study.analysis.chance import chance_of
from lte.study.analysis.records import load_runs
from lte.study.analysis.stats import t_interval
from lte.study.experiment import RESULTS, SELECTED

KEYS = ["cfg_model", "cfg_task", "cfg_learning_rate", "cfg_clip", "cfg_input_scale"]
STRATEGY_SELECTION = "strategy_selection"  # the per-strategy stage (docs/preregistration.md, section 4)


def selection_table(profile: str, results: Path = RESULTS, experiment: str = "lr_selection") -> pd.DataFrame:
    """Every setting of a selection experiment scored on validation over its seeds, and the best of each
    (model, task), or of each (model, task, strategy) for the per-strategy stage, marked `selected`."""
    runs = load_runs(experiment, profile, results)
    if "cfg_input_scale" not in runs:  # records from before the input scale existed
        runs["cfg_input_scale"] = None
    runs["cfg_input_scale"] = runs["cfg_input_scale"].astype(object).where(runs["cfg_input_scale"].notna(), None)
    rows = []
    if "diverged" not in runs:
        runs["diverged"] = False
    per_strategy = experiment == STRATEGY_SELECTION
    keys = KEYS + (["cfg_strategy"] if per_strategy else [])
    for values, group in runs.groupby(keys, dropna=False):
        model, task, lr, clip, scale = values[:5]
        diverged = int(group["diverged"].sum())
        estimate = t_interval(group["val_target_char_accuracy"]) if not diverged else None
        nan = float("nan")
        rows.append(
            {
                "model": model,
                "task": task,
                **({"strategy": values[5]} if per_strategy else {}),
                "chance": chance_of(group.iloc[0])
                if {"cfg_length", "cfg_nesting", "cfg_test_size"} <= set(group.columns)
                else float("nan"),
                "learning_rate": lr,
                "clip": clip,
                "input_scale": None if pd.isna(scale) else scale,
                "seeds": len(group),
                "diverged": diverged,
                "val_char_accuracy": estimate.mean if estimate else nan,
                "low": estimate.low if estimate else nan,
                "high": estimate.high if estimate else nan,
                "test_char_accuracy": group["test_char_accuracy"].mean() if not diverged else nan,
                # each seed's score (NaN where it diverged), for the figure's dots
                "seed_values": tuple(group["val_target_char_accuracy"].astype(float)),
            }
        )
    arm = ["model", "task"] + (["strategy"] if per_strategy else [])
    table = pd.DataFrame(rows).sort_values(["task", "model", *arm[2:], "learning_rate", "clip"]).reset_index(drop=True)
    no_candidate = table.groupby(arm)["val_char_accuracy"].count() == 0
    if no_candidate.any():
        where = "/".join(map(str, no_candidate[no_candidate].index[0]))
        raise LteError(f"every setting of {where} diverged on some selection seed: widen the grid downwards")
    best = table.loc[table.groupby(arm)["val_char_accuracy"].idxmax()]
    table["selected"] = table.index.isin(best.index)
    return table


AXES = ("learning_rate", "clip", "input_scale")
WIDEN_FACTOR = 3.0  # one step past an edge (docs/preregistration.md, section 4)
# how far a stage-1 axis may be widened (docs/preregistration.md, section 4)
AXIS_BOUNDS = {"learning_rate": (0.001, 50.0), "clip": (0.1, float("inf")), "input_scale": (0.01, 1.0)}


def widened_axis(
    values: list[float], winner: float, factor: float = WIDEN_FACTOR, bounds: tuple[float, float] | None = None
) -> list[float] | None:
    """The axis with one more value past the edge `winner` sits on (x `factor` above the largest, / `factor`
    below the smallest), or None when the winner is inside, the axis has a single value (nothing to compare
    with) or the new value would leave `bounds`."""
    values = sorted(set(values))
    if len(values) < 2 or values[0] < winner < values[-1]:
        return None
    extra = float(f"{(values[-1] * factor if winner == values[-1] else values[0] / factor):.3g}")
    if bounds is not None and not bounds[0] <= extra <= bounds[1]:
        return None
    return sorted(values + [extra])


def edge_winners(table: pd.DataFrame) -> list[dict]:
    """For each (model, task) whose selected setting sits on an edge of an axis it was chosen on: the axis,
    the winning value, the widened axis, the new value (None at the axis's bound: `at_bound`) and the rates
    to try it at (the winner's, /3 and x3)."""
    found = []
    for row in table[table["selected"]].itertuples():
        tried = table[(table.model == row.model) & (table.task == row.task)]
        for axis in AXES:
            values = [v for v in tried[axis] if v is not None and not pd.isna(v)]
            winner = getattr(row, axis)
            if winner is None or pd.isna(winner) or widened_axis(values, float(winner)) is None:
                continue
            widened = widened_axis(values, float(winner), bounds=AXIS_BOUNDS[axis])
            rate = float(row.learning_rate)
            found.append(
                {
                    "model": row.model,
                    "task": row.task,
                    "axis": axis,
                    "winner": float(winner),
                    "widened": widened,
                    "new_value": None if widened is None else sorted(set(widened) - set(values))[0],
                    "at_bound": widened is None,
                    "rates": [float(f"{rate / WIDEN_FACTOR:.3g}"), rate, float(f"{rate * WIDEN_FACTOR:.3g}")],
                }
            )
    return found


def edge_warning(edge: dict) -> str:
    """What to do about one edge winner, as docs/preregistration.md section 4 says."""
    where = f"warning: {edge['model']}/{edge['task']}: the selected {edge['axis']} {edge['winner']:g} is on the edge"
    if edge["at_bound"]:
        return f"{where} of its grid and at its bound {AXIS_BOUNDS[edge['axis']]}: not widened further"
    if edge["axis"] == "learning_rate":
        return f"{where} of its grid; try the rate {edge['new_value']:g} at the winner's clip and input scale"
    return (
        f"{where} of its grid; try {edge['axis']} {edge['new_value']:g} at the winner's other settings and the "
        f"rates {', '.join(f'{r:g}' for r in edge['rates'])} in the selection experiment and sweep it again"
    )


CHANCE_MARGIN = 0.02  # a winner not above the constant guess by this much has learned nothing to speak of


def chance_warnings(table: pd.DataFrame) -> list[str]:
    """A warning for each selected setting whose validation accuracy is within CHANCE_MARGIN of always guessing
    the most frequent character: the grid holds no setting that learns the task."""
    arm = ["model", "task"] + (["strategy"] if "strategy" in table else [])
    return [
        f"warning: {'/'.join(str(getattr(r, k)) for k in arm)}: the selected setting scores "
        f"{r.val_char_accuracy:.3f} on validation, within {CHANCE_MARGIN} of chance ({r.chance:.3f}, always "
        f"the most frequent character): no setting of the grid learns it; widen the grid or the budget"
        for r in table[table["selected"]].itertuples()
        if r.val_char_accuracy <= r.chance + CHANCE_MARGIN
    ]


def write_selection(profile: str, results: Path = RESULTS, log=None) -> dict:
    """Write selected_<profile>.json; say which winners sit on an edge of their grid (widen it and select
    again)."""
    import sys

    log = log or (lambda line: print(line, file=sys.stderr))
    table = selection_table(profile, results)
    for warning in chance_warnings(table):
        log(warning)
    for edge in edge_winners(table):
        log(edge_warning(edge))
    selected = {
        f"{r.model}/{r.task}": {
            "learning_rate": float(r.learning_rate),
            "clip": float(r.clip),
            "input_scale": None if r.input_scale is None else float(r.input_scale),
            "val_char_accuracy": float(r.val_char_accuracy),
            "seeds": int(r.seeds),
        }
        for r in table[table["selected"]].itertuples()
    }
    assert all(set(SELECTED) <= set(v) for v in selected.values())
    out = results / "lr_selection" / f"selected_{profile}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(selected, indent=2, sort_keys=True) + "\n")
    return selected


def write_strategy_selection(profile: str, results: Path = RESULTS, log=None) -> dict:
    """Write selected_strategies_<profile>.json (the per-strategy stage's rate for each model, task and
    strategy); say which winning rates sit on an edge of the rates tried."""
    import sys

    log = log or (lambda line: print(line, file=sys.stderr))
    table = selection_table(profile, results, STRATEGY_SELECTION)
    for warning in chance_warnings(table):
        log(warning)
    selected = {}
    for r in table[table["selected"]].itertuples():
        tried = table[(table.model == r.model) & (table.task == r.task) & (table.strategy == r.strategy)]
        widened = widened_axis(list(tried.learning_rate), float(r.learning_rate))
        if widened is not None:
            log(
                f"warning: {r.model}/{r.task}/{r.strategy}: the selected learning_rate {r.learning_rate:g} is on "
                f"the edge of the rates tried; widen them to {widened} and sweep again"
            )
        selected[f"{r.model}/{r.task}/{r.strategy}"] = {
            "learning_rate": float(r.learning_rate),
            "clip": float(r.clip),
            "input_scale": None if r.input_scale is None else float(r.input_scale),
            "val_char_accuracy": float(r.val_char_accuracy),
            "seeds": int(r.seeds),
        }
    out = results / "lr_selection" / f"selected_strategies_{profile}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(selected, indent=2, sort_keys=True) + "\n")
    return selected
