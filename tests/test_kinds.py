"""Run kinds: the study's character-level runs, the adding problem, seq2seq and the echo state network go
through one experiment loader, one runner (lte.study.sweep), one index format and one resume path."""

import json

import pytest

from lte.core.errors import LteError
from lte.core.run_folder import damage, read_metrics
from lte.kinds import get_kind
from lte.study.experiment import load_experiment, runs_dir
from lte.study.sweep import run_sweep

KINDS = ("char", "adding", "esn", "seq2seq")


def test_every_kind_names_its_config_train_function_and_folders():
    for name in KINDS:
        kind = get_kind(name)
        config = kind.config_class()
        assert kind.config_class.from_json(config.to_json()).to_json() == config.to_json()
        assert callable(kind.train) and kind.folder_name(config, {})
    with pytest.raises(LteError, match="unknown run kind 'seq'; allowed: char, adding, esn, seq2seq$"):
        get_kind("seq")


def test_the_built_in_kinds_are_the_files_of_the_kinds_package_that_declare_one():
    import importlib

    from lte.kinds import RunKind, builtin_kind_modules

    assert builtin_kind_modules() == list(KINDS)  # one file each, found by name (the study's own first)
    for name in KINDS:
        declared = importlib.import_module(f"lte.kinds.{name}").KIND
        assert isinstance(declared, RunKind) and declared.name == name and get_kind(name) is declared


def test_the_adding_problem_runs_through_the_common_runner_and_resumes_after_a_kill(tmp_path):
    from lte.study.sweep import run_sweep

    experiment = tmp_path / "adding_problem.toml"
    experiment.write_text(
        '[experiment]\nkind = "adding"\n[grid]\nmodel = ["irnn", "rnn"]\n[profiles.quick]\nmax_steps = 4\nhidden = 8\n'
        "batch_size = 4\neval_every = 2\ntest_size = 20\n"
        "grid = { sequence_length = [10], seed = [0] }\n"
    )
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


# A tiny config of each kind (a few seconds of training) and the metric rows it writes.
TINY_SETTINGS = {
    "char": (
        'task = "copy"\nlength = 2\nnesting = 1\nstrategy = "baseline"\nmodel = "irnn"\nhidden = 8\n'
        "layers = 1\nbatch_size = 4\nmax_steps = 4\neval_every = 2\nval_size = 10\ntest_size = 10\n",
        [2, 4],
    ),
    "adding": (
        'model = "irnn"\nhidden = 8\nsequence_length = 10\nbatch_size = 4\nmax_steps = 4\neval_every = 2\n'
        "test_size = 20\n",
        [2, 4],
    ),
    "seq2seq": (
        'task = "copy"\nlength = 1\nmodel = "irnn"\nhidden = 8\nsteps = 4\neval_every = 2\ntest_size = 10\n',
        [2, 4],
    ),
    "esn": ('task = "copy"\nlength = 2\nunits = 16\nfit_batches = 3\nbatch_size = 4\ntest_size = 20\n', [3]),
}
TIMING = ("wall_time", "steps_per_second", "tokens_per_second")


class Interrupted(Exception):
    pass


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_runs_through_the_common_runner_and_finishes_after_an_interruption(tmp_path, kind):
    """A run stopped right after its first record (as by a kill mid-run) is finished by `lte sweep` on its
    experiment file, with valid records equal to an uninterrupted run's."""
    settings, steps = TINY_SETTINGS[kind]
    experiment = tmp_path / "tiny.toml"
    experiment.write_text(f'[experiment]\nkind = "{kind}"\n[fixed]\n{settings}')
    _, (cell,) = load_experiment(experiment, "quick", results=tmp_path)
    assert cell.kind == kind and isinstance(cell.config, get_kind(kind).config_class)
    folder = runs_dir("tiny", "quick", tmp_path) / cell.name

    def stop_after_the_first_record(line):
        if read_metrics(folder):
            raise Interrupted(line)

    with pytest.raises(Interrupted):
        get_kind(kind).train(cell.config, folder, log=stop_after_the_first_record)
    assert read_metrics(folder) and not (folder / "summary.json").exists()
    logged = []
    run_sweep(experiment, "quick", workers=1, results=tmp_path, log=logged.append)
    assert "1 cells, 0 already finished, 1 to run" in logged[0] and "FAILED" not in logged[-1]
    assert damage(folder) is None and [r["step"] for r in read_metrics(folder)] == steps
    resumed = "resuming" in (folder / "train.log").read_text()
    assert resumed == (kind != "esn")  # the ESN's one-shot fit is refit; the others go on from their checkpoint
    whole = get_kind(kind).train(cell.config, tmp_path / "whole", log=lambda _: None)
    assert json.loads((folder / "summary.json").read_text())["steps"] == whole["steps"] == steps[-1]
    untimed = [{k: v for k, v in row.items() if k not in TIMING} for row in read_metrics(folder)]
    assert untimed == [{k: v for k, v in row.items() if k not in TIMING} for row in read_metrics(tmp_path / "whole")]
    index = json.loads((folder.parent / "cells.json").read_text())
    assert [(c["kind"], c["name"]) for c in index["cells"]] == [(kind, cell.name)]
    logged.clear()
    run_sweep(experiment, "quick", workers=1, results=tmp_path, log=logged.append)
    assert "1 cells, 1 already finished, 0 to run" in logged[0]
    # the analysis reads every kind's records through its kind's reader
    from lte.study.analysis.records import load_runs

    row = load_runs("tiny", "quick", tmp_path).iloc[0]
    assert row["steps"] == steps[-1] and row["cell"] == cell.name and row["commit"]
    result = {
        "char": "test_char_accuracy",
        "adding": "final_test_mse",
        "seq2seq": "final_test_char_accuracy",
        "esn": "final_test_char_accuracy",
    }[kind]
    assert 0 <= row[result] <= (float("inf") if kind == "adding" else 1)  # an MSE, or an accuracy


def test_a_user_kind_registered_first_sits_beside_the_built_in_ones():
    import lte.kinds as kinds
    from lte.core.config import TrainConfig

    saved, flag = dict(kinds.KINDS), kinds._builtin_registered
    try:
        kinds.KINDS.clear()
        kinds._builtin_registered = False  # a fresh process: nothing registered yet
        mine = kinds.register(kinds.RunKind("mine", TrainConfig, lambda *a, **k: {}, lambda config, labels: "x"))
        assert kinds.get_kind("char").name == "char" and kinds.get_kind("mine") is mine
        assert {"char", "adding", "seq2seq", "esn", "mine"} <= set(kinds.KINDS)
    finally:
        kinds.KINDS.clear()
        kinds.KINDS.update(saved)
        kinds._builtin_registered = flag


def test_a_kind_that_declares_a_command_gets_lte_kind_with_its_config_flags(tmp_path, capsys):
    import dataclasses

    import lte.kinds as kinds
    from lte.cli import main
    from lte.core.fields import setting

    @dataclasses.dataclass(frozen=True)
    class MineConfig:
        size: int = setting(3, "how big")
        seed: int = setting(0, "the seed")

        def to_json(self) -> dict:
            return dataclasses.asdict(self)

    trained = []

    def train(config, out, *, log=None):
        trained.append((config, out))
        return {"steps": 7, "wall_time": 0.5, "final": {"score": config.size * 2}}

    saved = dict(kinds.KINDS)
    try:
        kinds.get_kind("char")
        kinds.register(
            kinds.RunKind("mine", MineConfig, train, lambda c, labels: "m", command="my kind", printed=("score",))
        )
        assert main(["mine", "--size", "5", "--out", str(tmp_path / "run")]) == 0
    finally:
        kinds.KINDS.clear()
        kinds.KINDS.update(saved)
    assert trained[0][0] == MineConfig(size=5) and trained[0][1] == tmp_path / "run"
    assert json.loads(capsys.readouterr().out) == {"steps": 7, "wall_time": 0.5, "score": 10}
