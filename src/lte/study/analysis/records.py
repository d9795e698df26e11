"""Raw run records -> pandas tables: one row per run, and one row per evaluation (curves)."""

from __future__ import annotations

import io
import json
import math
import warnings
from pathlib import Path

import pandas as pd

from lte.core import run_folder
from lte.core.errors import LteError
from lte.study.experiment import RESULTS, runs_dir

LABEL_COLUMNS = ("task", "model", "strategy", "invert", "double", "seed", "learning_rate", "variant")


def read_index(experiment: str, profile: str, results: Path = RESULTS) -> dict:
    path = runs_dir(experiment, profile, results) / "cells.json"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: run `lte sweep experiments/{experiment}.toml --profile {profile}` first"
        )
    return run_folder.read_index(path)


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except UnicodeDecodeError:
        raise LteError(f"{path} is not UTF-8 text: the record is corrupt") from None
    except json.JSONDecodeError as error:
        raise LteError(f"{path} is not valid JSON ({error}): the record is torn or corrupt") from None


# What load_runs reads from a summary.json; a non-finite number there would be averaged away unnoticed.
SUMMARY_FIELDS = (
    "steps",
    "wall_time",
    "parameters",
    "stop_reason",
    "final.test_char_accuracy",
    "final.test_exact_match",
    "final.level",
    "final_val_target.char_accuracy",
    "final_val_target.exact_match",
    "provenance.commit",
    "provenance.device",
)


def _non_finite(value, where: str = "") -> list[tuple[str, float]]:
    """(dotted key, value) of every NaN or infinity in a parsed JSON value."""
    if isinstance(value, float) and not math.isfinite(value):
        return [(where, value)]
    if isinstance(value, dict):
        return [hit for k, v in value.items() for hit in _non_finite(v, f"{where}.{k}" if where else str(k))]
    if isinstance(value, list):
        return [hit for i, v in enumerate(value) for hit in _non_finite(v, f"{where}[{i}]")]
    return []


def _spelled(value: float) -> str:
    return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"


def is_diverged(summary: dict) -> bool:
    """A run stopped by non-finite loss or parameters; or, in records older than that check, one whose last
    training loss is not finite (bare NaN in its record)."""
    if summary.get("stop_reason") == "diverged" or summary.get("diverged") is True:
        return True
    loss = (summary.get("final") or {}).get("train_loss") if isinstance(summary.get("final"), dict) else None
    return isinstance(loss, float) and not math.isfinite(loss)


def read_summary(path: Path) -> dict:
    """A run's summary.json. Non-finite numbers (a bare NaN or Infinity) in a field the tables read are an
    LteError naming the file and fields; elsewhere (a diverged run's loss, say) a RuntimeWarning. A diverged
    run (`is_diverged`) is returned as it is: the tables show it as diverged, never as a result."""
    summary = _read_json(path)
    if not isinstance(summary, dict):
        raise LteError(f"{path} holds a JSON {type(summary).__name__}, not a run summary (an object)")
    if is_diverged(summary):
        return summary
    bad = _non_finite(summary)
    used = [(k, v) for k, v in bad if any(k == f or k.startswith(f + "[") for f in SUMMARY_FIELDS)]
    listed = ", ".join(f"{k} = {_spelled(v)}" for k, v in (used or bad))
    if used:
        raise LteError(
            f"{path} holds non-finite numbers where the tables read it ({listed}); "
            f"the run diverged or its record is corrupt: rerun that cell or remove it from the sweep"
        )
    if bad:
        warnings.warn(
            f"{path} holds non-finite numbers ({listed}); the tables do not read those fields",
            RuntimeWarning,
            stacklevel=2,
        )
    return summary


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


def char_summary_row(path: Path) -> dict:
    """What the tables read from one summary.json of the study's char runs (an LteError naming the file if
    something is missing)."""
    summary = read_summary(path)
    try:
        if is_diverged(summary):  # no result: NaN, which every mean, interval and selection must not take
            nan = float("nan")
            return {
                "steps": summary["steps"],
                "wall_time": summary["wall_time"],
                "models_per_step": summary.get("models_per_step", 1),
                "parameters": summary["parameters"],
                "stop_reason": "diverged",
                "diverged": True,
                "test_char_accuracy": nan,
                "test_exact_match": nan,
                "val_target_char_accuracy": nan,
                "val_target_exact_match": nan,
                "final_level": "{},{}".format(*summary["final"]["level"]),
                "commit": summary["provenance"]["commit"],
                "device": summary["provenance"]["device"],
            }
        final, val = summary["final"], summary["final_val_target"]
        return {
            "steps": summary["steps"],
            "wall_time": summary["wall_time"],
            "models_per_step": summary.get("models_per_step", 1),  # K runs shared each wall-time second
            "parameters": summary["parameters"],
            "stop_reason": summary["stop_reason"],
            "test_char_accuracy": final["test_char_accuracy"],
            "test_exact_match": final["test_exact_match"],
            "val_target_char_accuracy": val["char_accuracy"],
            "val_target_exact_match": val["exact_match"],
            "final_level": "{},{}".format(*final["level"]),
            "diverged": False,
            "commit": summary["provenance"]["commit"],
            "device": summary["provenance"]["device"],
        }
    except (KeyError, TypeError, IndexError) as error:
        raise LteError(f"{path} is not a complete run summary ({type(error).__name__}: {error})") from None


def generic_summary_row(path: Path) -> dict:
    """Any kind's summary.json: steps, time, stop reason, provenance and every number of its `final` row
    (as final_<name>)."""
    summary = read_summary(path)
    try:
        final = summary.get("final") or {}
        return {
            "steps": summary["steps"],
            "wall_time": summary["wall_time"],
            "models_per_step": summary.get("models_per_step", 1),
            "stop_reason": summary.get("stop_reason"),
            "diverged": bool(summary.get("diverged")),
            "commit": summary["provenance"]["commit"],
            "device": summary["provenance"]["device"],
            **{f"final_{k}": v for k, v in final.items() if isinstance(v, (int, float)) and k != "step"},
        }
    except (KeyError, TypeError) as error:
        raise LteError(f"{path} is not a complete run summary ({type(error).__name__}: {error})") from None


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
