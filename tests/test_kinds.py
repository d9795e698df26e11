"""Run kinds: the study's character-level runs and the adding problem go through one runner (lte.sweep),
one index format and one resume path."""

import json

import pytest

from lte.errors import LteError
from lte.kinds import get_kind


def test_every_kind_names_its_config_train_function_and_folders():
    for name in ("char", "adding"):
        kind = get_kind(name)
        config = kind.config_class()
        assert kind.config_class.from_json(config.to_json()).to_json() == config.to_json()
        assert callable(kind.train) and kind.folder_name(config, {})
    with pytest.raises(LteError, match="unknown run kind 'seq'; allowed: char, adding"):
        get_kind("seq")


def test_the_adding_problem_runs_through_the_common_runner_and_resumes_after_a_kill(tmp_path):
    from lte.sweep import run_sweep

    experiment = tmp_path / "adding_problem.toml"
    experiment.write_text('[experiment]\nkind = "adding"\n[grid]\nmodel = ["irnn", "rnn"]\n[profiles.quick]\nmax_steps = 4\nhidden = 8\n'
                          'batch_size = 4\neval_every = 2\ntest_size = 20\n'
                          'grid = { sequence_length = [10], seed = [0] }\n')
    run_sweep(experiment, "quick", workers=1, results=tmp_path, log=lambda _: None)
    root = tmp_path / "runs" / "quick" / "adding_problem"
    index = json.loads((root / "cells.json").read_text())
    assert [c["kind"] for c in index["cells"]] == ["adding", "adding"]
    killed = root / index["cells"][0]["name"]
    finished = json.loads((killed / "summary.json").read_text())
    (killed / "summary.json").unlink()  # as if killed after its last checkpoint, before the summary
    logged = []
    run_sweep(experiment, "quick", workers=1, results=tmp_path, log=logged.append)
    assert "2 cells, 1 already finished, 1 to run" in logged[0]
    resumed = json.loads((killed / "summary.json").read_text())
    assert resumed["final_test_mse"] == finished["final_test_mse"] and resumed["steps"] == 4
