"""`python -m lte.study.analysis compare`: a fresh results tree against the committed one, and `make reproduce`."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from lte.study.analysis import compare, compare_report
from lte.study.analysis.__main__ import main as analysis_main

ROOT = Path(__file__).resolve().parents[1]
PROFILE = "quick"
EXPERIMENT = "program"
CELLS = ("lstm-h8x1-program2x1-baseline-lr0.5-s0-aaaaaa", "irnn-h8x1-program2x1-baseline-lr0.1-s0-bbbbbb")
PROVENANCE = {
    "commit": "0123456789abcdef",
    "cpu_count": 2,
    "device": "cpu: AMD EPYC",
    "device_count": 1,
    "platform": "Linux-x86_64",
    "python": "3.11.7",
    "time": "2026-01-01T00:00:00+00:00",
    "versions": {"jax": "0.10.2", "jaxlib": "0.10.2", "numpy": "2.4.6", "optax": "0.2.8"},
}


def _row(step: int, accuracy: float) -> dict:
    return {
        "step": step,
        "level": [1, 1],
        "learning_rate": 0.5,
        "train_loss": 1.5 - step / 1000,
        "train_char_accuracy": accuracy,
        "val_loss": 1.6,
        "val_char_accuracy": accuracy - 0.01,
        "val_exact_match": 0.01,
        "test_loss": 1.6,
        "test_char_accuracy": accuracy,
        "test_exact_match": 0.02,
        "wall_time": step / 100,
        "steps_per_second": 100.0,
        "tokens_per_second": 2e5,
        "event": None,
    }


def _write_run(folder: Path, index: int) -> None:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model": "lstm", "seed": 0, "max_steps": 300}))
    rows = [_row(step, 0.3 + 0.1 * index + step / 3000) for step in (100, 200, 300)]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary = {
        "stop_reason": "max_steps",
        "steps": 300,
        "wall_time": 3.0,
        "parameters": 1234,
        "final": rows[-1],
        "final_val_target": {"char_accuracy": 0.4, "exact_match": 0.01, "loss": 1.6},
        "best_test_char_accuracy": rows[-1]["test_char_accuracy"],
        "provenance": PROVENANCE,
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=1))


def _tree(root: Path) -> Path:
    experiment = root / "runs" / PROFILE / EXPERIMENT
    experiment.mkdir(parents=True)
    (experiment / "cells.json").write_text(
        json.dumps({"cells": [{"name": n, "labels": {}, "config": {}} for n in CELLS]})
    )
    for i, name in enumerate(CELLS):
        _write_run(experiment / name, i)
    return root


@pytest.fixture()
def trees(tmp_path):
    return _tree(tmp_path / "committed"), _tree(tmp_path / "fresh")


def _edit(root: Path, cell: str, file: str, change) -> None:
    path = root / "runs" / PROFILE / EXPERIMENT / cell / file
    if file == "metrics.jsonl":
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        change(rows)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))


def _by_name(result: compare.Comparison) -> dict:
    return {r.name: r for r in result.runs}


def test_identical_trees_match_exactly(trees, capsys):
    committed, fresh = trees
    result = compare.compare(PROFILE, committed, fresh)
    assert [r.status for r in result.runs] == ["exact", "exact"]
    assert result.env_match and not result.missing and not result.extra and not result.unfinished
    assert compare_report.main(PROFILE, committed, fresh) == 0
    out = capsys.readouterr().out
    assert "2 runs compared: 2 exact" in out and "all 2 did" in out and "WARNING" not in out
    md = (fresh / "comparison.md").read_text()
    assert "| compared (finished in both trees) | 2 |" in md and "| exact | 2 |" in md
    assert md.index("| exact |") < md.index("## Environment") < md.index("## Runs that are not exact")


def test_timing_only_changes_stay_exact(trees):
    committed, fresh = trees

    def retime(rows):
        for row in rows:
            row.update(wall_time=row["wall_time"] * 3, steps_per_second=1.0, tokens_per_second=7.0)

    _edit(fresh, CELLS[0], "metrics.jsonl", retime)
    _edit(
        fresh,
        CELLS[0],
        "summary.json",
        lambda s: (
            s.update(wall_time=99.0),
            s["final"].update(wall_time=99.0, steps_per_second=1.0),
            s["provenance"].update(time="2027-01-01T00:00:00+00:00", commit="fedcba9876543210"),
        ),
    )
    result = compare.compare(PROFILE, committed, fresh)
    assert [r.status for r in result.runs] == ["exact", "exact"]
    assert result.env_match  # the commit and the time are shown, not compared


def test_small_accuracy_change_is_within_tolerance(trees):
    committed, fresh = trees
    _edit(
        fresh,
        CELLS[1],
        "metrics.jsonl",
        lambda rows: rows[1].update(test_char_accuracy=rows[1]["test_char_accuracy"] + 0.01),
    )
    run = _by_name(compare.compare(PROFILE, committed, fresh))[CELLS[1]]
    assert run.status == "within tolerance"
    assert run.largest == pytest.approx(0.01) and "test_char_accuracy" in run.field and "200" in run.field
    assert _by_name(compare.compare(PROFILE, committed, fresh))[CELLS[0]].status == "exact"


def test_large_accuracy_change_differs_and_is_listed(trees, capsys):
    committed, fresh = trees
    _edit(
        fresh,
        CELLS[0],
        "summary.json",
        lambda s: s["final"].update(test_char_accuracy=s["final"]["test_char_accuracy"] - 0.1),
    )
    result = compare.compare(PROFILE, committed, fresh)
    run = _by_name(result)[CELLS[0]]
    assert run.status == "differs" and run.largest == pytest.approx(0.1)
    assert run.field == "summary.final.test_char_accuracy"
    assert result.count("differs") == 1 and result.count("exact") == 1
    assert compare_report.main(PROFILE, committed, fresh) == 0  # a difference is reported, never an error
    out = capsys.readouterr().out
    assert "WARNING" in out and "1 differ" in out
    md = (fresh / "comparison.md").read_text()
    listed = [line for line in md.splitlines() if line.startswith(f"| {EXPERIMENT} | {CELLS[0]} |")]
    assert len(listed) == 1 and "differs" in listed[0] and "0.1" in listed[0]
    assert f"| {EXPERIMENT} | {CELLS[1]} |" not in md  # exact runs are not listed


def test_missing_extra_and_unfinished_runs_are_reported(trees):
    committed, fresh = trees
    shutil.rmtree(fresh / "runs" / PROFILE / EXPERIMENT / CELLS[0])
    index = fresh / "runs" / PROFILE / EXPERIMENT / "cells.json"
    index.write_text(json.dumps({"cells": [{"name": CELLS[1]}]}))
    result = compare.compare(PROFILE, committed, fresh)
    assert result.missing == [(EXPERIMENT, CELLS[0])] and len(result.runs) == 1
    assert f"- {EXPERIMENT}/{CELLS[0]}" in compare_report.markdown(result)

    (fresh / "runs" / PROFILE / EXPERIMENT / CELLS[1] / "summary.json").write_text('{"steps": 3')  # torn
    result = compare.compare(PROFILE, committed, fresh)
    assert result.unfinished == [(EXPERIMENT, CELLS[1])] and not result.runs

    _write_run(fresh / "runs" / PROFILE / EXPERIMENT / "rnn-extra-cccccc", 0)
    index.write_text(json.dumps({"cells": [{"name": n} for n in (CELLS[1], "rnn-extra-cccccc")]}))
    assert compare.compare(PROFILE, committed, fresh).extra == [(EXPERIMENT, "rnn-extra-cccccc")]


def test_a_different_environment_is_reported(trees, capsys):
    committed, fresh = trees
    for cell in CELLS:
        _edit(fresh, cell, "summary.json", lambda s: s["provenance"]["versions"].update(jax="0.11.0"))
    result = compare.compare(PROFILE, committed, fresh)
    assert not result.env_match and result.env_differences == ["versions.jax"]
    assert [r.status for r in result.runs] == ["exact", "exact"]
    assert compare_report.main(PROFILE, committed, fresh) == 0
    out = capsys.readouterr().out
    assert "environments differ (versions.jax)" in out and "tolerance" in out
    md = (fresh / "comparison.md").read_text()
    assert "| versions.jax | 0.10.2 | 0.11.0 | **no** |" in md


def test_missing_inputs_are_a_clear_error(trees, tmp_path, capsys):
    committed, _ = trees
    assert (
        analysis_main(
            ["compare", "--profile", PROFILE, "--committed", str(committed), "--fresh", str(tmp_path / "nowhere")]
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "nowhere" in err and len(err.splitlines()) == 1


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_reproduce_trains_into_a_fresh_folder_never_into_results():
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    out = subprocess.run(
        ["make", "-n", "--no-print-directory", "reproduce", "PROFILE=quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    training = [line for line in out if " sweep experiments/" in line or " adding experiments/" in line]
    order = [line.split("experiments/")[1].split(".toml")[0] for line in training]
    # each selection before the experiments that read what it chose
    assert order[:3] == ["lr_selection", "strategy_selection", "question3_selection"]
    assert order[-2:] == ["adding_selection", "adding_problem"]
    assert sorted(order[3:-2]) == ["addition", "convergence", "memorisation", "program"]
    analysis = [line for line in out if "-m lte.study.analysis" in line]
    assert [line.split("-m lte.study.analysis ")[1].split()[0] for line in analysis] == [
        "figures",
        "tables",
        "report",
        "compare",
    ]
    for line in training + analysis[:3]:
        assert line.split("--results ")[1].split()[0] == "reproduce/quick", line
    assert analysis[-1].split("-m lte.study.analysis ")[1].split() == [
        "compare",
        "--profile",
        "quick",
        "--committed",
        "results",
        "--fresh",
        "reproduce/quick",
    ]
    for line in out:  # nothing run by `make reproduce` writes into the committed records
        words = line.split()
        assert not ("--results" in words and words[words.index("--results") + 1].rstrip("/") == "results"), line
        if " sweep " in line or " adding " in line:
            assert "--results" in words, line


def test_a_spot_check_retrains_one_run_per_recorded_commit_and_compares_it(tmp_path):
    """The fixture's records were trained by the code as it stands: the retrained sample matches (exactly on
    the reference machine; within tolerance on another CPU); a record changed afterwards is found."""
    import dataclasses
    import json
    import shutil
    from pathlib import Path

    from lte.study.analysis.compare import Run, compare_run
    from lte.study.analysis.spot_check import sample_by_commit, spot_check

    results = tmp_path / "results"
    shutil.copytree(Path(__file__).parent / "fixtures" / "results", results)
    sample = sample_by_commit("quick", results)
    keys = {
        (
            json.loads((r / "summary.json").read_text())["provenance"]["commit"],
            r.parent.name,
            json.loads((r / "config.json").read_text())["model"],
        )
        for r in sample
    }
    assert len(sample) == len(keys) >= 2 and {model for *_, model in keys} == {"lstm", "irnn"}
    checked = spot_check("quick", results, scratch=tmp_path / "fresh", log=lambda _: None)
    assert [c.status in ("exact", "within tolerance") for c in checked] == [True] * len(sample)
    record = json.loads((results / "runs" / "quick" / "spot_check.json").read_text())
    assert record["checked"] == len(sample) and record["exact"] == sum(c.status == "exact" for c in checked)
    assert sorted(r["run"] for r in record["runs"]) == sorted(f"{r.parent.name}/{r.name}" for r in sample)
    committed = sample[0]
    rows = [json.loads(line) for line in (committed / "metrics.jsonl").read_text().splitlines()]
    rows[-1]["test_char_accuracy"] += 0.5
    (committed / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    fresh = tmp_path / "fresh" / committed.parent.name / committed.name
    load = lambda p: json.loads((p / "summary.json").read_text())  # noqa: E731
    run = Run(committed.parent.name, committed.name, committed, load(committed))
    assert compare_run(run, dataclasses.replace(run, path=fresh, summary=load(fresh))).status == "differs"


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_builds_one_figure_or_table_by_name():
    """fig-NAME and table-NAME run their command (a phony pattern rule would silently do nothing)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    out = subprocess.run(
        ["make", "-n", "--no-print-directory", "fig-addition", "table-parameters", "table-csv"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "-m lte.study.analysis figure addition --profile default --results results" in out
    assert "-m lte.study.analysis table parameters" in out and "-m lte.study.analysis table csv" in out


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_spot_check_tells_a_change_of_machine_from_a_change_of_code(tmp_path):
    """A retrained run that differs from its record is retrained again with the records' own commit (checked out
    by git): identical bits there say the code computes what the records' code did, and the record says so."""
    import json
    from pathlib import Path

    from lte.study.analysis.spot_check import spot_check, verified_at

    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    source = sorted((Path(__file__).parent / "fixtures" / "results" / "runs" / "quick" / "addition").glob("irnn-*"))[0]
    run = tmp_path / "results" / "runs" / "quick" / "addition" / source.name
    shutil.copytree(source, run)
    summary = json.loads((run / "summary.json").read_text())
    summary["provenance"]["commit"] = head.stdout.strip()  # as if HEAD had trained it ...
    (run / "summary.json").write_text(json.dumps(summary))
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    rows[-1]["test_char_accuracy"] += 0.5  # ... on a machine whose floats came out otherwise
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    lines: list[str] = []
    checked = spot_check("quick", tmp_path / "results", workers=1, log=lines.append)
    assert [c.status for c in checked] == ["differs"]
    record = json.loads((tmp_path / "results" / "runs" / "quick" / "spot_check.json").read_text())
    assert record["exact"] == 0 and record["checked"] == 1
    assert record["runs"][0]["against_records_code"] == "exact", lines  # HEAD's code here is the working tree's
    assert record["exact_against_records_code"] == 1 and verified_at("quick", tmp_path / "results") == record
    listed = subprocess.run(["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "lte-records-code-" not in listed  # the temporary checkout is gone
