"""Shipped models (lte ship-models): a best run's final parameters in params.npz, read by lte predict."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lte.core.config import TrainConfig
from lte.core.errors import LteError
from lte.core.params_file import load_params_file, save_params
from lte.core.train import init_train_state, load_params

SHIPPED = Path("results/models/quick")


def test_params_file_round_trip_is_exact_and_refuses_another_model(tmp_path):
    params = init_train_state(TrainConfig(task="copy", length=2, model="lstm", hidden=8, layers=1)).params
    path = save_params(params, tmp_path / "params.npz")
    back = load_params_file(path, params)
    for a, b in zip(_leaves(params), _leaves(back)):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    other = init_train_state(TrainConfig(task="copy", length=2, model="lstm", hidden=16, layers=1)).params
    with pytest.raises(LteError, match=r"params.npz: .* is float32\[.*\], this config's model has float32"):
        load_params_file(path, other)
    irnn = init_train_state(TrainConfig(task="copy", length=2, model="irnn", hidden=8, layers=1)).params
    with pytest.raises(LteError, match="other parameters than this config's model"):
        load_params_file(path, irnn)


def _leaves(tree):
    import jax

    return [np.asarray(x) for x in jax.tree_util.tree_leaves(tree)]


def test_every_shipped_model_is_its_records_final_model():
    """Each shipped folder's parameters score on the study's fixed test set exactly what its run recorded."""
    from lte.core.data import eval_layout, make_test_set
    from lte.core.train import evaluate, make_eval_fns

    index = json.loads((SHIPPED / "index.json").read_text())
    assert {name.split("-")[0] for name in index} == {"lstm", "irnn"} and len(index) == 6
    for name, entry in index.items():
        folder = SHIPPED / name
        assert entry["matches_record"] and not (folder / "checkpoints").exists()
        config = TrainConfig.from_json(json.loads((folder / "config.json").read_text()))
        record = Path("results/runs/quick") / entry["experiment"] / entry["cell"] / "config.json"
        assert json.loads(record.read_text()) == json.loads((folder / "config.json").read_text())
        counts_fn, decode_fn = make_eval_fns(config.model_config(), eval_layout(config)[1])
        metrics = evaluate(load_params(folder, config), make_test_set(config), counts_fn, decode_fn)
        assert metrics["char_accuracy"] == entry["test_char_accuracy"], name


def test_lte_predict_answers_on_a_shipped_model_of_a_fresh_clone():
    from data_gen.tasks import sample_examples

    folder = SHIPPED / "irnn-addition"
    config = TrainConfig.from_json(json.loads((folder / "config.json").read_text()))
    example = sample_examples(config.spec(), 1, seed=11, split="test")[0]
    done = subprocess.run(
        [sys.executable, "-m", "lte", "predict", str(folder), example.source], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert f"python: {example.target[:-1]}" in done.stdout and "using the final parameters" in done.stderr


def test_ship_models_retrains_a_best_run_to_its_record(tmp_path):
    from lte.study.shipped_models import best_runs, ship_models

    for experiment in ("program", "addition", "memorisation"):  # best_runs reads every task's experiment
        shutil.copytree(Path("results/runs/quick") / experiment, tmp_path / "runs" / "quick" / experiment)
    chosen = best_runs("quick", tmp_path)
    assert set(chosen) == {f"{m}-{t}" for m in ("lstm", "irnn") for t in ("program", "addition", "copy")}
    index = json.loads(ship_models("quick", tmp_path, only=["irnn-addition"], log=lambda _: None).read_text())
    assert list(index) == ["irnn-addition"] and index["irnn-addition"]["matches_record"]
    assert sorted(p.name for p in (tmp_path / "models" / "quick" / "irnn-addition").iterdir()) == [
        "config.json",
        "metrics.jsonl",
        "params.npz",
        "summary.json",
    ]
    with pytest.raises(LteError, match="no best run for gru-addition"):
        ship_models("quick", tmp_path, only=["gru-addition"])


def test_train_from_a_record_on_one_core_retrains_it_bit_for_bit(tmp_path):
    from lte.core.run_loop import TIMING_FIELDS
    from lte.core.train import read_metrics

    def untimed(folder: Path) -> list[dict]:
        return [{k: v for k, v in row.items() if k not in TIMING_FIELDS} for row in read_metrics(folder)]

    record = Path("results/runs/quick/addition/irnn-h32x1-addition2x1-baseline-lr0.3-s2-3a256f")
    command = [sys.executable, "-m", "lte", "train", "--from", str(record), "--out", str(tmp_path / "run")]
    done = subprocess.run([*command, "--one-core"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert untimed(tmp_path / "run") == untimed(record)
    refused = subprocess.run([*command, "--one-core", "--cpu-devices", "2"], capture_output=True, text=True)
    assert refused.returncode == 2 and "--one-core and --cpu-devices 2: choose one" in refused.stderr
