"""`lte ship-models`: the study's best model per model and task, retrained from its record and kept small.

Committed records carry no checkpoints, so that `lte predict` can answer on a fresh clone the best run of
each model on each task (chosen on validation data, never the test split) is retrained from its committed
config.json into results/models/<profile>/<model>-<task>/ and its final parameters kept as params.npz
(lte.core.params_file), its checkpoints removed. Training is deterministic on a CPU, so the retrained run
is its record bit for bit on the records' kind of CPU; index.json says per model whether it was.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from lte.core.errors import LteError
from lte.core.params_file import PARAMS_FILE, save_params
from lte.study.analysis.records import load_runs
from lte.study.experiment import RESULTS, runs_dir

# the experiment whose runs hold each task's best model (its target level is the study's for that task)
TASK_EXPERIMENTS = {"program": "program", "addition": "addition", "copy": "memorisation"}
MODELS = ("lstm", "irnn")
COMPARED = ("test_char_accuracy", "test_exact_match")  # what must equal the record's final numbers


def best_runs(profile: str, results: Path = RESULTS) -> dict[str, dict]:
    """Per '<model>-<task>': the experiment and cell of its best run (highest validation accuracy at the target
    level; diverged runs left out; ties to the first cell by name)."""
    chosen = {}
    for task, experiment in TASK_EXPERIMENTS.items():
        runs = load_runs(experiment, profile, results)
        runs = runs[~runs["diverged"].astype(bool)] if "diverged" in runs else runs
        for model in MODELS:
            mine = runs[runs["cfg_model"] == model].sort_values("cell")
            if mine.empty:
                continue
            best = mine.loc[mine["val_target_char_accuracy"].idxmax()]
            chosen[f"{model}-{task}"] = {
                "experiment": experiment,
                "cell": best["cell"],
                "val_target_char_accuracy": float(best["val_target_char_accuracy"]),
            }
    return chosen


def ship_models(profile: str, results: Path = RESULTS, only: list[str] | None = None, log=print) -> Path:
    """Retrain each best run (`best_runs`; `only`: these '<model>-<task>' names) into results/models/<profile>/
    and keep its parameters; returns the index.json that lists them."""
    from lte.core.config import TrainConfig
    from lte.core.train import load_params

    chosen = best_runs(profile, results)
    unknown = sorted(set(only or []) - set(chosen))
    if unknown:
        raise LteError(f"no best run for {', '.join(unknown)}; there are {', '.join(sorted(chosen))}")
    out_root = results / "models" / profile
    index_path = out_root / "index.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else {}
    for name, source in chosen.items():
        if only and name not in only:
            continue
        record = runs_dir(source["experiment"], profile, results) / source["cell"]
        config = TrainConfig.from_json(json.loads((record / "config.json").read_text()))
        folder = out_root / name
        shutil.rmtree(folder, ignore_errors=True)  # always a fresh run: a shipped folder is never resumed
        log(f"{name}: retraining {source['experiment']}/{source['cell']}")
        retrain(record, folder)
        summary = json.loads((folder / "summary.json").read_text())
        save_params(load_params(folder, config), folder / PARAMS_FILE)
        shutil.rmtree(folder / "checkpoints")
        (folder / ".lock").unlink(missing_ok=True)
        recorded = json.loads((record / "summary.json").read_text())
        same = summary["steps"] == recorded["steps"] and all(
            summary["final"][k] == recorded["final"][k] for k in COMPARED
        )
        if not same:
            log(f"warning: {name}: the retrained run differs from its record (another kind of CPU?)")
        index[name] = {
            **source,
            "steps": summary["steps"],
            **{k: summary["final"][k] for k in COMPARED},
            "matches_record": same,
        }
    out_root.mkdir(parents=True, exist_ok=True)
    index_path.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    return index_path


def retrain(record: Path, folder: Path) -> None:
    """`lte train --from record --out folder --one-core`: as a sweep's worker trains (XLA's multi-threaded CPU
    kernels would sum in another order and give other bits)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "lte", "train", "--from", str(record), "--out", str(folder), "--one-core"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise LteError(f"retraining {record} failed: {done.stderr.strip().splitlines()[-1:]}")
