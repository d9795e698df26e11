"""The learning rate of each (model, task), chosen on validation accuracy at the target level."""

from __future__ import annotations

import json
from pathlib import Path

from lte.analysis.records import load_runs
from lte.analysis.stats import bootstrap_mean
from lte.experiment import RESULTS


def selection_table(profile: str, results: Path = RESULTS):
    runs = load_runs("lr_selection", profile, results)
    rows = []
    for (model, task, lr), group in runs.groupby(["cfg_model", "cfg_task", "cfg_learning_rate"]):
        mean, low, high = bootstrap_mean(group["val_target_char_accuracy"])
        rows.append({"model": model, "task": task, "learning_rate": lr, "seeds": len(group),
                     "val_char_accuracy": mean, "low": low, "high": high})
    import pandas as pd
    table = pd.DataFrame(rows).sort_values(["task", "model", "learning_rate"]).reset_index(drop=True)
    best = table.loc[table.groupby(["model", "task"])["val_char_accuracy"].idxmax()]
    table["selected"] = table.index.isin(best.index)
    return table


def write_selection(profile: str, results: Path = RESULTS) -> dict:
    table = selection_table(profile, results)
    selected = {f"{r.model}/{r.task}": {"learning_rate": float(r.learning_rate),
                                        "val_char_accuracy": float(r.val_char_accuracy)}
                for r in table[table["selected"]].itertuples()}
    out = results / "lr_selection" / f"selected_{profile}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(selected, indent=2, sort_keys=True) + "\n")
    return selected
