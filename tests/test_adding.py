"""The adding problem: the data against its definition, a tiny run end to end, resumption, the figure."""

import json

import numpy as np
import pytest

from lte.core.errors import LteError
from lte.kinds.adding import BASELINE_MSE, AddingConfig, adding_examples, train_adding
from lte.study.analysis.adding import adding_figure, adding_outcome
from lte.study.experiment import load_experiment
from lte.study.sweep import run_sweep
from tests.test_sweep import _selected


def test_sequences_have_one_marker_per_half_and_the_sum_of_the_marked_values():
    inputs, targets = adding_examples(seed=3, index=7, count=500, T=40)
    values, markers = inputs[..., 0], inputs[..., 1]
    assert inputs.shape == (500, 40, 2) and targets.shape == (500,)
    assert (markers[:, :20].sum(1) == 1).all() and (markers[:, 20:].sum(1) == 1).all()
    np.testing.assert_allclose(targets, [v[m == 1].sum() for v, m in zip(values, markers)], rtol=1e-6)
    assert 0 <= values.min() and values.max() < 1
    # the predict-1 baseline is the variance of the sum, 1/6
    assert abs(np.mean((targets - 1.0) ** 2) - BASELINE_MSE) < 0.02
    again, _ = adding_examples(seed=3, index=7, count=500, T=40)
    np.testing.assert_array_equal(inputs, again)


def test_a_tiny_run_trains_resumes_and_draws(tmp_path):
    config = AddingConfig(
        model="irnn", hidden=8, sequence_length=10, batch_size=4, max_steps=6, eval_every=3, test_size=20
    )
    out = tmp_path / "runs" / "quick" / "adding_problem" / "irnn_T10_seed0"
    summary = train_adding(config, out, log=lambda _: None)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [3, 6] and summary["final_test_mse"] == rows[-1]["test_mse"]
    # resuming from the step-3 checkpoint gives the same curve
    (out / "summary.json").unlink()
    import shutil

    shutil.rmtree(out / "checkpoints" / "6")
    again = train_adding(config, out, log=lambda _: None)
    assert again["final_test_mse"] == pytest.approx(summary["final_test_mse"], rel=1e-6)
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 2
    paths = adding_figure("quick", tmp_path)
    assert all(p.exists() and p.stat().st_size > 1000 for p in paths)
    assert "T=10 irnn" in adding_outcome("quick", tmp_path)
    from lte.study.analysis.report import adding_section

    section = "\n".join(adding_section("quick", tmp_path, "quick/figures"))
    assert "| T=10 irnn |" in section and "**is not testable" in section
    assert "At T = 10, learned: irnn no." in section and "1 run of 6 steps" in section
    assert adding_section("quick", tmp_path / "nothing", "quick/figures") == []


def test_the_experiment_file_expands_and_bad_values_are_named(tmp_path):
    with pytest.raises(LteError, match="run the selection first: lte sweep experiments/adding_selection.toml"):
        load_experiment("experiments/adding_problem.toml", "default", results=tmp_path)
    header, cells = load_experiment(
        "experiments/adding_problem.toml", "default", results=_selected(tmp_path, "default")
    )
    assert header["kind"] == "adding" and {c.kind for c in cells} == {"adding"}
    runs = [(c.name, c.config) for c in cells]
    assert len(runs) == 9 and {c.model for _, c in runs} == {"irnn", "lstm", "rnn"}
    assert {c.sequence_length for _, c in runs} == {150}
    assert {c.max_steps for _, c in runs} == {150_000}  # every model the same budget
    assert {(c.learning_rate, c.clip) for _, c in runs} == {(0.01, 10.0)}  # the selection's
    assert {c.model: c.forget_bias for _, c in runs} == {"irnn": 0.0, "lstm": 1.0, "rnn": 0.0}  # per-model table
    _, selection = load_experiment("experiments/adding_selection.toml", "default")
    grid = {(c.config.model, c.config.learning_rate, c.config.clip) for c in selection}
    assert len(grid) == 3 * 6 * 5 and {c.config.seed for c in selection} == {
        100,
        101,
        102,
    }  # the same grid for each model
    bad = tmp_path / "bad.toml"
    bad.write_text('[experiment]\nkind = "adding"\n[profiles.quick]\nhiden = 8\n')
    with pytest.raises(
        LteError,
        match=r"unknown setting 'hiden' in \[profiles.quick\] \(did you mean 'hidden'\?\); "
        r"allowed: model, hidden, sequence_length",
    ):
        load_experiment(bad, "quick")
    bad.write_text('[experiment]\nkind = "adding"\n[fixed]\nsequence_length = "long"\n')
    with pytest.raises(LteError, match=r"sequence_length in \[fixed\] must be an integer, got 'long'"):
        load_experiment(bad, "quick")
    bad.write_text('[experiment]\nkind = "adding"\n[fixed]\ninput_scale = "selected"\n')  # not the adding kind's
    with pytest.raises(LteError, match=r"unknown setting 'input_scale'"):
        load_experiment(bad, "quick")
    with pytest.raises(LteError, match="forget_bias must be a finite number, got nan"):
        AddingConfig(forget_bias=float("nan"))
    with pytest.raises(LteError, match="unknown model 'gruu'"):
        AddingConfig(model="gruu")
    with pytest.raises(LteError, match="sequence_length must be a positive integer, got 0"):
        AddingConfig(sequence_length=0)
    with pytest.raises(LteError, match="unknown profile 'huge'"):
        load_experiment("experiments/adding_problem.toml", "huge")


def test_a_changed_setting_gets_a_new_run_and_the_analysis_reads_only_current_runs(tmp_path):
    from lte.kinds.adding import run_name

    base = AddingConfig(
        model="irnn", hidden=8, sequence_length=10, batch_size=4, max_steps=4, eval_every=2, test_size=20
    )
    assert run_name(base) != run_name(AddingConfig(**{**base.to_json(), "max_steps": 5}))
    experiment = tmp_path / "adding_problem.toml"
    common = "hidden = 8\nbatch_size = 4\neval_every = 2\ntest_size = 20\ngrid = { sequence_length = [10], seed = [0] }"
    head = '[experiment]\nkind = "adding"\n[grid]\nmodel = ["irnn"]\n[profiles.quick]\n'
    experiment.write_text(f"{head}max_steps = 4\n{common}\n")
    run_sweep(experiment, "quick", workers=1, results=tmp_path, log=lambda _: None)
    first = adding_outcome("quick", tmp_path)["T=10 irnn"]["final_test_mse"]
    experiment.write_text(f"{head}max_steps = 6\n{common}\n")
    run_sweep(experiment, "quick", workers=1, results=tmp_path, log=lambda _: None)
    root = tmp_path / "runs" / "quick" / "adding_problem"
    assert len([p for p in root.iterdir() if p.is_dir()]) == 2  # the old run is kept, not reused
    again = adding_outcome("quick", tmp_path)["T=10 irnn"]["final_test_mse"]
    assert len(again) == 1 and again != first  # ... and not counted
    steps = [
        json.loads(line)["step"]
        for line in (root / json.loads((root / "cells.json").read_text())["cells"][0]["name"] / "metrics.jsonl")
        .read_text()
        .splitlines()
    ]
    assert steps == [2, 4, 6]
    sweeps = json.loads((root / "sweep.json").read_text())  # the wall time of both invocations, for the README
    assert [i["cells_run"] for i in sweeps["invocations"]] == [1, 1] and sweeps["wall_time"] > 0


def test_the_lstm_forget_bias_reaches_the_forget_block():
    import jax

    from lte.kinds.adding import init_params

    with_bias, without = (
        init_params(jax.random.PRNGKey(0), AddingConfig(model="lstm", hidden=4, forget_bias=fb)) for fb in (1.0, 0.0)
    )
    shift = np.asarray(with_bias["layer"]["b"] - without["layer"]["b"])
    np.testing.assert_allclose(shift, [0] * 4 + [1] * 4 + [0] * 8, atol=1e-6)  # blocks i, f, g, o: f is shifted


def test_the_test_set_is_the_same_for_every_seed():
    """As on the main path (lte.core.data.TEST_SEED): seeds change the weights and the batches, never the test set."""
    from lte.kinds.adding import adding_test_set

    first_x, first_y = adding_test_set(AddingConfig(sequence_length=12, test_size=30, seed=0))
    other_x, other_y = adding_test_set(AddingConfig(sequence_length=12, test_size=30, seed=5))
    np.testing.assert_array_equal(first_x, other_x)
    np.testing.assert_array_equal(first_y, other_y)
    train_x, _ = adding_examples(seed=0, index=0, count=30, T=12)
    assert not np.array_equal(train_x, first_x)


def test_a_validation_set_of_its_own_and_the_test_sets_own_baseline(tmp_path):
    from lte.kinds.adding import adding_test_set, adding_val_set, predict_one_mse

    config = AddingConfig(
        model="irnn", hidden=8, sequence_length=10, batch_size=4, max_steps=4, eval_every=2, test_size=50, val_size=40
    )
    val_x, val_y = adding_val_set(config)
    test_x, test_y = adding_test_set(config)
    assert val_x.shape == (40, 10, 2) and not np.array_equal(val_x[:40], test_x[:40])
    assert predict_one_mse(np.array([0.5, 1.5, 1.0])) == pytest.approx((0.25 + 0.25) / 3)
    summary = train_adding(config, tmp_path / "run", log=lambda _: None)
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert all("val_mse" in row for row in rows) and summary["final_val_mse"] == rows[-1]["val_mse"]
    assert summary["baseline_mse"] == pytest.approx(predict_one_mse(test_y))
    assert "val_size" in config.to_json() and "val_size" not in AddingConfig().to_json()  # old records' form
    with pytest.raises(LteError, match="val_size must be a whole number of examples, 0 or more, got -1"):
        AddingConfig(val_size=-1)


def test_the_adding_selection_picks_the_lowest_validation_mse_and_the_problem_takes_it(tmp_path):
    from lte.study.analysis.adding_selection import adding_selection_table

    selection = tmp_path / "adding_selection.toml"
    selection.write_text(
        '[experiment]\nname = "adding_selection"\nkind = "adding"\n[grid]\nmodel = ["irnn"]\n'
        "learning_rate = [0.001, 0.05, 1e12]\nseed = [100, 101]\n[profiles.quick]\nhidden = 8\n"
        "batch_size = 4\nsequence_length = 10\nmax_steps = 30\neval_every = 10\nval_size = 40\n"
        "test_size = 20\n"
    )
    lines = []
    run_sweep(selection, "quick", workers=1, results=tmp_path, log=lines.append)
    table = adding_selection_table("quick", tmp_path)
    assert table.loc[table.learning_rate == 1e12, "diverged"].item() == 2  # never a candidate
    finite = table[table.diverged == 0]
    best = finite.loc[finite.val_mse.idxmin()]
    chosen = json.loads((tmp_path / "lr_selection" / "selected_adding_quick.json").read_text())["irnn"]
    assert (chosen["learning_rate"], chosen["clip"]) == (best["learning_rate"], best["clip"])
    problem = tmp_path / "adding_problem.toml"
    problem.write_text(
        '[experiment]\nkind = "adding"\n[grid]\nmodel = ["irnn"]\n[fixed]\nlearning_rate = "selected"\n'
        'clip = "selected"\n[profiles.quick]\nhidden = 8\n'
    )
    _, (cell,) = load_experiment(problem, "quick", results=tmp_path)
    assert (cell.config.learning_rate, cell.config.clip) == (best["learning_rate"], best["clip"])
