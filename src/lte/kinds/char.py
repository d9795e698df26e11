"""The study's own run kind: character-level training on the generator's tasks (`lte.core.train`)."""

from __future__ import annotations

from pathlib import Path

from lte.core.config import TrainConfig
from lte.core.errors import LteError
from lte.kinds import RunKind
from lte.kinds.naming import config_digest, naming_defaults
from lte.kinds.summary import is_diverged, read_summary


def char_folder_name(c: TrainConfig, labels: dict) -> str:
    """<model>-h<H>x<L>-<task><length>x<nesting>-<strategy>[-inv][-dbl]-lr<rate>-s<seed>-<digest>."""
    parts = [
        labels.get("variant_id") or c.model,
        f"h{c.hidden}x{c.layers}",
        f"{c.task}{c.length}x{c.nesting}",
        c.strategy,
    ]
    parts += ["inv"] if c.invert else []
    parts += ["dbl"] if c.double else []
    parts += [f"lr{c.resolved_learning_rate:g}", f"s{c.seed}"]
    return "-".join(parts) + "-" + config_digest(c.to_json(), naming_defaults(type(c)))


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


def train_char(config: TrainConfig, out: Path, **options) -> dict:
    """`lte.core.train.train`, imported when a run starts: reading records needs no optimiser or checkpointer."""
    from lte.core.train import train

    return train(config, out, **options)


KIND = RunKind("char", TrainConfig, train_char, char_folder_name, ensembles=True, summary_row=char_summary_row)
