"""A tiny sweep end to end: cells -> run folders -> figure and table; a rerun trains nothing."""

import json
import textwrap

import pandas as pd
import pytest

from lte.analysis import figures, tables
from lte.analysis.records import load_runs
from lte.errors import LteError
from lte.experiment import load_experiment, runs_dir
from lte.sweep import run_sweep

TINY = textwrap.dedent("""
    # lte sweep tiny.toml  (a test: seconds)
    [experiment]
    name = "addition"

    [grid]
    model = ["lstm", "irnn"]
    strategy = ["baseline"]
    seed = [0]

    [fixed]
    task = "addition"
    length = 2
    nesting = 1
    learning_rate = 0.5

    [profiles.small]
    hidden = 16
    layers = 1
    batch_size = 4
    max_steps = 6
    eval_every = 3
    val_size = 10
    test_size = 10
""")


def test_a_tiny_sweep_runs_through_to_a_figure_and_a_table(tmp_path):
    experiment = tmp_path / "tiny.toml"
    experiment.write_text(TINY)
    results = tmp_path / "results"
    lines = []
    cells = run_sweep(experiment, "small", workers=2, results=results, log=lines.append)
    assert len(cells) == 2 and "2 to run as 2 tasks on 2 workers" in lines[0]
    assert any(line.startswith("[2/2]") for line in lines)
    root = runs_dir("addition", "small", results)
    for cell in cells:
        assert (root / cell.name / "summary.json").exists()
        assert json.loads((root / cell.name / "config.json").read_text())["model"] == cell.config.model

    runs = load_runs("addition", "small", results)
    assert sorted(runs.cfg_model) == ["irnn", "lstm"]
    paths = figures.output_dir("small", results)
    figure = figures.strategy_figure("addition", "small", results)
    assert all(p.exists() and p.stat().st_size > 1000 for p in figure)
    table = tables.strategy_table("addition", "small", results)
    baseline = table[table.strategy == "baseline"].iloc[0]
    lstm_mean = runs[runs.cfg_model == "lstm"].test_char_accuracy.iloc[0]
    assert baseline["LSTM char acc"].startswith(f"{lstm_mean:.3f}")
    assert paths.exists()

    # the rerun finds every cell finished and trains nothing
    lines.clear()
    stamps = {c.name: (root / c.name / "summary.json").stat().st_mtime_ns for c in cells}
    run_sweep(experiment, "small", workers=2, results=results, log=lines.append)
    assert "2 already finished, 0 to run" in lines[0] and len(lines) == 1
    assert stamps == {c.name: (root / c.name / "summary.json").stat().st_mtime_ns for c in cells}


def test_an_ensemble_sweep_trains_cells_of_one_shape_together_with_the_same_records(tmp_path):
    from lte.train import read_metrics

    experiment = tmp_path / "tiny.toml"
    experiment.write_text(TINY.replace('model = ["lstm", "irnn"]', 'model = ["lstm"]').replace("seed = [0]",
                                                                                             "seed = [0, 1, 2]"))
    lines = []
    alone = run_sweep(experiment, "small", workers=1, results=tmp_path / "alone", log=lines.append)
    together = run_sweep(experiment, "small", workers=1, results=tmp_path / "together", log=lines.append,
                         ensemble=2)
    assert "3 to run as 2 tasks" in lines[-3] and any("(+1 together)" in line for line in lines)
    for cell in together:
        a = read_metrics(runs_dir("addition", "small", tmp_path / "alone") / cell.name)
        b = read_metrics(runs_dir("addition", "small", tmp_path / "together") / cell.name)
        assert [r["step"] for r in a] == [r["step"] for r in b] == [3, 6]
        assert [r["test_char_accuracy"] for r in a] == pytest.approx([r["test_char_accuracy"] for r in b], abs=1e-6)
        assert "step" in (runs_dir("addition", "small", tmp_path / "together") / cell.name / "train.log").read_text()
    assert [c.name for c in alone] == [c.name for c in together]


def test_experiment_files_expand_into_their_grids(tmp_path):
    _, cells = load_experiment("experiments/memorisation.toml", "small", results=_selected(tmp_path))
    assert len(cells) == 2 * 4 * 4 * 3
    assert {(c.config.invert, c.config.double) for c in cells} == {(False, False), (True, False), (False, True),
                                                                  (True, True)}
    assert len({c.name for c in cells}) == len(cells)
    _, cells = load_experiment("experiments/convergence.toml", "small", results=_selected(tmp_path))
    hidden = {c.labels["variant"]: c.config.hidden for c in cells}
    assert hidden["IRNN (equal parameters)"] == 2 * hidden["IRNN (equal units)"] == 2 * hidden["LSTM"]
    _, paper = load_experiment("experiments/addition.toml", "paper", results=_selected(tmp_path, "paper"))
    assert {(c.config.hidden, c.config.layers, c.config.batch_size) for c in paper} == {(400, 2, 100)}
    _, selection = load_experiment("experiments/lr_selection.toml", "small", results=tmp_path)
    assert {c.config.learning_rate for c in selection if c.config.model == "irnn"} < {0.02, 0.05, 0.2, 0.5, 1.0}


def _selected(tmp_path, profile="small"):
    path = tmp_path / "lr_selection" / f"selected_{profile}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    rates = {f"{m}/{t}": {"learning_rate": 0.1, "val_char_accuracy": 0.5}
             for m in ("lstm", "irnn") for t in ("copy", "addition", "program")}
    path.write_text(json.dumps(rates))
    return tmp_path


def test_selected_learning_rates_are_required_and_used(tmp_path):
    with pytest.raises(LteError, match="run the learning-rate selection first"):
        load_experiment("experiments/addition.toml", "small", results=tmp_path)
    _, cells = load_experiment("experiments/addition.toml", "small", results=_selected(tmp_path))
    assert {c.config.learning_rate for c in cells} == {0.1}


def test_bad_experiment_input_is_a_clear_error(tmp_path):
    with pytest.raises(LteError, match="unknown profile 'huge'; allowed: small, paper"):
        load_experiment("experiments/addition.toml", "huge")
    with pytest.raises(LteError, match="no experiment file"):
        load_experiment(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.replace('model = ["lstm", "irnn"]', 'model = ["lstm", "gru9"]'))
    with pytest.raises(LteError, match="unknown model 'gru9'"):
        load_experiment(bad)
