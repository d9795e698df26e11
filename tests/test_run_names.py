"""Run-folder names: from the settings that differ from their defaults and the naming schema, so that adding a
field renames nothing; old records are migrated (`lte migrate-names`), and a finished folder is reused only
when it holds the cell's own config."""

import dataclasses
import json

import pytest

from lte.core.config import TrainConfig
from lte.core.errors import LteError
from lte.study.experiment import Cell, load_experiment
from lte.study.migrate import migrate_names
from lte.study.sweep import run_cells
from tests.test_sweep import TINY


def test_a_new_field_with_a_default_renames_no_run_folder():
    config = TrainConfig(task="copy", length=3, nesting=1, hidden=8, layers=1, seed=4)
    grown = dataclasses.make_dataclass(
        "TrainConfig", [("a_new_option", int, dataclasses.field(default=7))], bases=(TrainConfig,), frozen=True
    )
    same = grown(task="copy", length=3, nesting=1, hidden=8, layers=1, seed=4)
    assert "a_new_option" in same.to_json()
    assert Cell("copy", {}, same).name == Cell("copy", {}, config).name
    changed = grown(task="copy", length=3, nesting=1, hidden=8, layers=1, seed=4, a_new_option=8)
    assert Cell("copy", {}, changed).name != Cell("copy", {}, config).name  # a set value does rename


def test_different_configs_get_different_names():
    base = TrainConfig(task="copy", length=3, nesting=1, hidden=8, layers=1)
    assert (
        len(
            {
                Cell("x", {}, dataclasses.replace(base, **change)).name
                for change in ({}, {"clip": 1.0}, {"unroll": 2}, {"input_scale": 0.3}, {"dropout": 0.1})
            }
        )
        == 5
    )


def _tiny_sweep(tmp_path):
    experiment = tmp_path / "tiny.toml"
    experiment.write_text(TINY)
    results = tmp_path / "results"
    header, cells = load_experiment(experiment, "quick", results=results)
    run_cells(header, cells, "quick", workers=1, results=results, log=lambda _: None)
    return header, cells, results


def test_old_names_are_migrated_not_retrained(tmp_path):
    header, cells, results = _tiny_sweep(tmp_path)
    root = results / "runs" / "quick" / "addition"
    index = json.loads((root / "cells.json").read_text())
    for entry in index["cells"]:  # as an older naming rule would have called them
        (root / entry["name"]).rename(root / (entry["name"][:-6] + "0ld000"))
        entry["name"] = entry["name"][:-6] + "0ld000"
    (root / "cells.json").write_text(json.dumps(index))
    assert migrate_names(results, log=lambda _: None) == len(cells)
    for cell in cells:
        assert (root / cell.name / "summary.json").exists()
    assert [e["name"] for e in json.loads((root / "cells.json").read_text())["cells"]] == [c.name for c in cells]
    assert migrate_names(results, log=lambda _: None) == 0  # twice changes nothing
    logged = []
    run_cells(header, cells, "quick", workers=1, results=results, log=logged.append)
    assert f"{len(cells)} already finished, 0 to run" in logged[0]


def test_a_finished_folder_with_another_config_is_refused(tmp_path):
    header, cells, results = _tiny_sweep(tmp_path)
    folder = results / "runs" / "quick" / "addition" / cells[0].name
    saved = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**saved, "clip": 1.0}))  # as if a default had changed
    with pytest.raises(LteError, match=r"trained with a different config \(clip: 1.0 in the folder, 5.0 now\)"):
        run_cells(header, cells, "quick", workers=1, results=results, log=lambda _: None)


def test_defaults_are_valid_and_agree_and_rename_no_run():
    """A task alone is a valid config (its nesting is the task's own), the task part's defaults are
    data_gen.TaskSpec's, and a changed default leaves the names of runs made before it alone: every committed
    char run's folder is still the name its config and labels give."""
    import json
    from pathlib import Path

    from data_gen.tasks import TaskSpec
    from lte.core.config import TrainConfig
    from lte.kinds.char import char_folder_name

    assert TrainConfig(task="addition").nesting == TaskSpec(task="addition").nesting == 1
    assert TrainConfig().spec() == TaskSpec() and TrainConfig().nesting == 3
    checked = 0
    for index in sorted(Path("results/runs").glob("*/*/cells.json")):
        for cell in json.loads(index.read_text())["cells"]:
            if cell.get("kind", "char") == "char":
                assert char_folder_name(TrainConfig.from_json(cell["config"]), cell["labels"]) == cell["name"]
                checked += 1
    assert checked > 500
