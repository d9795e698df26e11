"""Figures, tables and verdicts rebuilt from a small committed fixture of raw records."""

import shutil
from pathlib import Path

import pytest

from lte.study.analysis import tables
from lte.study.analysis.__main__ import main as analysis_main
from lte.study.analysis.records import load_runs

FIXTURE = Path(__file__).parent / "fixtures" / "results"


@pytest.fixture()
def results(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "results")
    return tmp_path / "results"


def test_tables_hold_the_means_of_the_records(results):
    runs = load_runs("addition", "quick", results)
    table = tables.strategy_table("addition", "quick", results)
    assert len(table) == 4
    for _, row in table.iterrows():
        for model in ("lstm", "irnn"):
            sub = runs[(runs.cfg_model == model) & (runs.cfg_strategy == row["strategy"])]
            assert len(sub) == 2
            for column, metric in (("char acc", "test_char_accuracy"), ("exact", "test_exact_match")):
                cell = row[f"{model.upper()} {column}"]
                assert cell.startswith(f"{sub[metric].mean():.3f} ")
                # the fixture's seeds often agree to the last digit: then no interval, and the cell says why
                assert cell.endswith("]") or cell.endswith("(all seeds equal)")


def test_everything_rebuilds_from_the_records(results, capsys):
    assert analysis_main(["figures", "--profile", "quick", "--results", str(results)]) == 0
    assert analysis_main(["tables", "--profile", "quick", "--results", str(results)]) == 0
    written = capsys.readouterr().out.split()
    assert len([p for p in written if p.endswith(".png")]) == 7  # with the forest plots of questions 1 and 3
    assert len([p for p in written if p.endswith(".tex")]) == 6  # five experiment tables and the parameter table
    csv = results / "quick" / "runs.csv"
    import pandas as pd

    frame = pd.read_csv(csv)
    assert len(frame) == sum(
        len(load_runs(e, "quick", results)) for e in tables.EXPERIMENTS if (results / "runs" / "quick" / e).exists()
    )
    md = (results / "quick" / "tables" / "memorisation.md").read_text()
    assert md.count("\n| ") == 4 * 4 + 1  # header + strategies x tricks


def test_missing_records_are_a_clear_error(tmp_path, capsys):
    assert analysis_main(["figure", "addition", "--profile", "quick", "--results", str(tmp_path)]) == 2
    assert "run `lte sweep experiments/addition.toml --profile quick` first" in capsys.readouterr().err


def test_importing_the_figure_code_changes_no_global_matplotlib_setting():
    import subprocess
    import sys

    code = (
        "import matplotlib; before = dict(matplotlib.rcParams); "
        "import lte.study.analysis.figures, lte.kinds.adding, lte.bench, lte.study.analysis.report; "
        "print(sorted(k for k in before if matplotlib.rcParams[k] != before[k]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"


def test_changed_run_code_is_reported_as_computing_the_records_only_after_a_clean_spot_check(tmp_path, monkeypatch):
    """The provenance line: run code unchanged since the records' commit; changed and not checked (flagged);
    changed and retrained bit for bit by a committed spot-check at a commit with today's run code."""
    import json

    from lte.study.analysis import provenance, report

    same_as_head = {"new"}
    monkeypatch.setattr(provenance, "run_code_unchanged_since", lambda commit: commit in same_as_head)
    prov = {"commits": ["old"]}
    assert "**different from**" in report.run_code_line(prov, "quick", tmp_path)
    record = tmp_path / "runs" / "quick" / "spot_check.json"
    record.parent.mkdir(parents=True)
    spot = {"commit": "new", "checked": 10, "exact": 10, "runs": []}
    record.write_text(json.dumps(spot))
    line = report.run_code_line(prov, "quick", tmp_path)
    assert "computes the same records" in line and "retrained 10 of them" in line
    assert "(../runs/quick/spot_check.json)" in line  # linked from results/quick/README.md
    for flawed in ({**spot, "exact": 9}, {**spot, "commit": "new-dirty"}, {**spot, "commit": "older"}):
        record.write_text(json.dumps(flawed))
        assert "**different from**" in report.run_code_line(prov, "quick", tmp_path)
    machine = {**spot, "exact": 0, "exact_against_records_code": 10, "device": "cpu: B", "records_devices": ["cpu: A"]}
    record.write_text(json.dumps(machine))
    line = report.run_code_line(prov, "quick", tmp_path)
    assert "computes the same bits as their code" in line and "on cpu: B)" in line and "computed on cpu: A" in line
    record.write_text(json.dumps({**machine, "vector_extension": "avx2"}))
    assert "on cpu: B, avx2)" in report.run_code_line(prov, "quick", tmp_path)
    record.write_text(json.dumps({**machine, "exact_against_records_code": 9}))
    assert "**different from**" in report.run_code_line(prov, "quick", tmp_path)
    assert "the same as" in report.run_code_line({"commits": ["new"]}, "quick", tmp_path)
    # some sampled runs exact, others changed by the code (their own commit's code gives other bits here)
    runs = [
        {"run": "lr_selection/a", "status": "exact"},
        {"run": "addition/b", "status": "differs", "against_records_code": "differs"},
        {"run": "program/c", "status": "differs", "against_records_code": "differs"},
    ]
    partial = {**spot, "checked": 3, "exact": 1, "exact_against_records_code": 1, "device": "cpu: B", "runs": runs}
    record.write_text(json.dumps(partial))
    line = report.run_code_line(prov, "quick", tmp_path)
    assert line.count("**different from**") == 1 and "1 bit for bit, and 2 (addition, program) differ" in line
    assert "a change of code since those records were made changed their bits" in line


def test_the_run_code_the_report_checks_covers_every_module_a_run_imports():
    from pathlib import Path

    from lte.study.analysis.report import RUN_CODE

    root = Path(__file__).resolve().parents[1]
    covered = lambda path: any(str(path.relative_to(root)).startswith(prefix) for prefix in RUN_CODE)
    for folder in ("src/lte/core", "src/lte/methods", "src/lte/kinds", "data_gen"):
        for module in (root / folder).rglob("*.py"):
            assert covered(module), module


def _has_commit(commit: str) -> bool:
    import subprocess

    root = Path(__file__).resolve().parents[1]
    try:
        return subprocess.run(["git", "cat-file", "-e", commit], cwd=root, capture_output=True).returncode == 0
    except OSError:
        return False


@pytest.mark.skipif(not _has_commit("b9ce99f"), reason="needs the git history (a full clone)")
def test_the_report_tells_records_made_before_the_flax_cells_from_those_after():
    from lte.study.analysis.report import FLAX_CELLS_COMMIT, predates

    assert predates("b9ce99f", FLAX_CELLS_COMMIT)  # the parent's parent: earlier initial draws
    assert not predates(FLAX_CELLS_COMMIT, FLAX_CELLS_COMMIT)
    assert not predates("HEAD", FLAX_CELLS_COMMIT)
    assert not predates("not-a-commit", FLAX_CELLS_COMMIT)  # git cannot tell: no claim either way


def test_the_readme_block_shows_question_1s_figure(tmp_path, monkeypatch):
    from lte.study.analysis import report

    readme = tmp_path / "README.md"
    readme.write_text(f"# top\n\n{report.README_START}\nold\n{report.README_END}\n\n## after\n")
    monkeypatch.setattr(report, "records_status", lambda profile, results: {"complete": True, "text": ""})
    answers = {i: {"verdict": f"verdict {i}"} for i in report.QUESTIONS}
    prov = {"runs": 3, "adding_runs": 0, "cpu_count": 2, "devices": ["cpu: test"], "sweeps": {}}
    report.update_readme(answers, prov, tmp_path, readme)
    text = readme.read_text()
    assert "](results/default/figures/question1_forest.png)" in text
    assert "addition_test_char_accuracy" not in text
    assert text.startswith("# top\n") and text.endswith("\n\n## after\n") and "old" not in text


def test_a_cell_clips_its_interval_into_bounds_and_says_why_it_has_none():
    # two seeds far apart: the 95% t interval (t_{1} = 12.7) runs far past [0, 1], as in memorisation.md
    assert tables._cell([0.2, 0.808]) == "0.504 [0.000, 1.000]"
    assert tables._cell([0.03, 0.05]) == "0.040 [0.000, 0.167]"  # -0.087 unclipped
    assert tables._cell([0.496]) == "0.496 (1 seed)"  # not "[nan, nan]"
    assert tables._cell([0.496, float("nan")]) == "0.496 (1 seed) (1 diverged)"
    assert tables._cell([0.9, 0.9]) == "0.900 (all seeds equal)"
    assert tables._cell([0.0, 0.0]) == "0.000 (all seeds equal)"
    assert tables._cell([float("nan")]) == "- (1 diverged)"
    # a difference of two accuracies stays in [-1, 1]; steps and seconds at or above 0
    assert tables._cell([-0.9, 0.1], tables.DIFFERENCE) == "-0.400 [-1.000, 1.000]"
    assert tables._cell([100.0, 900.0], tables.NONNEGATIVE).startswith("500.000 [0.000, ")
    inside = tables._cell([0.6, 0.62, 0.64, 0.61])  # an interval inside the bounds is the t interval as it is
    assert inside == "0.617 [0.590, 0.645]"


def test_the_tables_print_no_impossible_bound_and_no_nan(results, capsys):
    import re

    for experiment in ("program", "addition", "memorisation"):
        text = tables.strategy_table(experiment, "quick", results).to_string()
        ends = [float(v) for pair in re.findall(r"\[(-?[\d.]+), (-?[\d.]+)\]", text) for v in pair]
        assert all(0 <= v <= 1 for v in ends) and "nan" not in text
    selection = tables.lr_table("quick", results)["val char acc (target level)"]
    assert "nan" not in selection.str.cat() and selection.str.contains(r"\(1 seed\)").any()
    assert analysis_main(["table", "memorisation", "--profile", "quick", "--results", str(results)]) == 0
    caption = (results / "quick" / "tables" / "memorisation.md").read_text().splitlines()[0]
    assert "95% t interval, clipped to [0, 1]" in caption and "no interval" in caption
