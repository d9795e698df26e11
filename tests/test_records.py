"""Damaged run records: a torn last line of metrics.jsonl (a run killed mid-write) is skipped; a torn or
corrupt line elsewhere, a summary.json that is not JSON, and non-finite numbers (bare NaN) in what the tables
read are clear errors naming the file."""

import json
import shutil
import warnings
from pathlib import Path

import pytest

from lte.core.errors import LteError
from lte.study.analysis.records import load_curves, load_runs

FIXTURE = Path(__file__).parent / "fixtures" / "results"


@pytest.fixture()
def results(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "results")
    return tmp_path / "results"


def cell_dirs(results: Path, experiment: str) -> list[Path]:
    root = results / "runs" / "quick" / experiment
    return [root / c["name"] for c in json.loads((root / "cells.json").read_text())["cells"]]


def test_a_torn_last_metrics_line_is_skipped(results):
    whole = load_curves("convergence", "quick", results)
    metrics = cell_dirs(results, "convergence")[0] / "metrics.jsonl"
    line = json.dumps({**json.loads(metrics.read_text().splitlines()[-1]), "step": 10**6})
    with open(metrics, "a") as f:
        f.write(line[: len(line) // 2])  # killed mid-write: half a line, no newline
    torn = load_curves("convergence", "quick", results)
    assert len(torn) == len(whole) and torn.equals(whole)


def test_a_file_of_one_torn_line_gives_no_rows_for_that_cell(results):
    whole = load_curves("convergence", "quick", results)
    metrics = cell_dirs(results, "convergence")[0] / "metrics.jsonl"
    dropped = len(metrics.read_text().splitlines())
    metrics.write_text('{"step": 2, "level": [1, ')
    assert len(load_curves("convergence", "quick", results)) == len(whole) - dropped


def test_a_corrupt_line_before_the_last_is_an_error_naming_it(results):
    metrics = cell_dirs(results, "convergence")[1] / "metrics.jsonl"
    lines = metrics.read_text().splitlines()
    metrics.write_text("\n".join(["{not json", *lines]) + "\n")
    with pytest.raises(LteError, match="line 1") as caught:
        load_curves("convergence", "quick", results)
    assert str(metrics) in str(caught.value)


def test_nan_in_what_the_tables_read_is_an_error_naming_the_file_and_field(results):
    summary = cell_dirs(results, "addition")[2] / "summary.json"
    text = summary.read_text()
    data = json.loads(text)
    data["final"]["test_char_accuracy"] = float("nan")
    summary.write_text(json.dumps(data, indent=2))  # json writes a bare NaN
    assert "NaN" in summary.read_text()
    with pytest.raises(LteError) as caught:
        load_runs("addition", "quick", results)
    message = str(caught.value)
    assert str(summary) in message and "final.test_char_accuracy" in message and "NaN" in message
    assert "\n" not in message


def test_infinity_is_reported_too(results):
    summary = cell_dirs(results, "addition")[0] / "summary.json"
    data = json.loads(summary.read_text())
    data["wall_time"] = float("inf")
    summary.write_text(json.dumps(data))
    with pytest.raises(LteError, match="wall_time = Infinity"):
        load_runs("addition", "quick", results)


def test_nan_outside_what_the_tables_read_is_a_warning(results):
    whole = load_runs("addition", "quick", results)
    summary = cell_dirs(results, "addition")[3] / "summary.json"
    data = json.loads(summary.read_text())
    data["final"]["val_loss"] = float("nan")  # the tables do not use it
    summary.write_text(json.dumps(data, indent=2))
    with pytest.warns(RuntimeWarning, match="final.val_loss") as caught:
        runs = load_runs("addition", "quick", results)
    assert str(summary) in str(caught[0].message)
    assert runs.equals(whole)


@pytest.mark.parametrize("style", ["stop reason", "older record: bare NaN training loss"])
def test_a_diverged_run_loads_as_diverged_with_no_accuracy(results, style):
    whole = load_runs("addition", "quick", results)
    assert not whole.diverged.any()
    summary = cell_dirs(results, "addition")[3] / "summary.json"
    data = json.loads(summary.read_text())
    if style == "stop reason":
        data.update(stop_reason="diverged", diverged=True, final_val_target=None)
        data["final"] = {"step": data["steps"], "level": data["final"]["level"], "train_loss": None}
    else:
        data["final"]["train_loss"] = float("nan")
    summary.write_text(json.dumps(data, indent=2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        runs = load_runs("addition", "quick", results)
    row = runs.set_index("cell").loc[summary.parent.name]
    assert row.diverged and row.stop_reason == "diverged"
    assert row[["test_char_accuracy", "test_exact_match", "val_target_char_accuracy"]].isna().all()
    assert runs.diverged.sum() == 1


def test_a_torn_summary_is_an_error_naming_the_file(results):
    summary = cell_dirs(results, "addition")[1] / "summary.json"
    summary.write_text(summary.read_text()[:100])
    with pytest.raises(LteError) as caught:
        load_runs("addition", "quick", results)
    assert str(summary) in str(caught.value) and "\n" not in str(caught.value)


def test_intact_records_load_without_warnings(results):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(load_runs("addition", "quick", results)) == 16
        assert len(load_curves("convergence", "quick", results)) > 0


def test_damaged_records_are_one_error_line_from_the_analysis_command(tmp_path, capsys):
    import shutil

    from lte.study.analysis.__main__ import main as analysis_main

    results = tmp_path / "results"
    shutil.copytree(Path(__file__).parent / "fixtures" / "results", results)
    summary = next((results / "runs" / "quick" / "addition").glob("*/summary.json"))
    summary.write_text("{ torn")
    assert analysis_main(["table", "addition", "--profile", "quick", "--results", str(results)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and len(err.splitlines()) == 1 and "summary.json" in err
