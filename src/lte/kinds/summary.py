"""A run's summary.json, read by its kind: checked for non-finite numbers, a diverged run told apart, and the
columns the analysis reads (`RunKind.summary_row`; `generic_summary_row` for a kind that declares none)."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

from lte.core.errors import LteError


def read_json(path: Path):
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
    summary = read_json(path)
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
