"""Bad command-line input is one line on stderr starting with 'error:' and exit 2, not a traceback, and is
caught before any work (nothing trained, benchmarked or written)."""

import json

import pytest

from lte.cli import main
from lte.core.config import TrainConfig

TINY_TRAIN = [
    "train",
    "--task",
    "addition",
    "--length",
    "1",
    "--model",
    "lstm",
    "--hidden",
    "4",
    "--layers",
    "1",
    "--max-steps",
    "1",
    "--eval-every",
    "1",
    "--val-size",
    "2",
    "--test-size",
    "2",
    "--batch-size",
    "2",
]


def refused(capsys, argv: list[str], *words: str) -> str:
    """Run `lte argv`; it must return 2 and print one line, 'error: ...', holding every one of `words`."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err
    assert err.startswith("error:") and err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    assert captured.out == ""
    return err


@pytest.fixture()
def run_folder(tmp_path):
    """A folder with a valid config.json and no checkpoint (enough for every check made before loading)."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(
        json.dumps(TrainConfig(task="addition", length=2, nesting=1, hidden=8, layers=1).to_json())
    )
    return run


def test_train_refuses_an_empty_out(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    refused(capsys, [*TINY_TRAIN, "--out", ""], "--out")
    refused(capsys, [*TINY_TRAIN, "--out", "  "], "--out")
    assert list(tmp_path.iterdir()) == []  # nothing written into the current folder


def test_train_refuses_an_out_that_is_a_file(tmp_path, capsys):
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me\n")
    refused(capsys, [*TINY_TRAIN, "--out", str(existing)], str(existing), "not a folder")
    refused(capsys, [*TINY_TRAIN, "--out", str(existing / "run")], str(existing), "not a folder")
    assert existing.read_text() == "keep me\n"


@pytest.mark.parametrize("seed", ["99999999999999999999", "4294967296", "-1"])
def test_train_refuses_a_seed_outside_32_bits(tmp_path, capsys, seed):
    refused(capsys, [*TINY_TRAIN, "--out", str(tmp_path / "run"), "--seed", seed], "--seed", seed, "4294967295")
    assert not (tmp_path / "run").exists()


def test_the_largest_32_bit_seed_is_accepted_by_the_check():
    from lte.cli import check_seed

    assert check_seed(0) == 0 and check_seed(2**32 - 1) == 2**32 - 1


@pytest.mark.parametrize("command", [["esn"], ["seq2seq"]])
def test_other_commands_refuse_a_seed_outside_32_bits(capsys, command):
    refused(capsys, [*command, "--seed", "99999999999999999999"], "--seed")


@pytest.mark.parametrize("count", ["0", "-5"])
def test_eval_refuses_a_count_that_is_not_positive(run_folder, capsys, count):
    refused(capsys, ["eval", str(run_folder), "--count", count], "--count", count, "positive integer")


def test_eval_refuses_an_unbounded_count(run_folder, capsys):
    refused(capsys, ["eval", str(run_folder), "--count", "1000001"], "--count", "1000000")
    refused(capsys, ["eval", str(run_folder), "--count", "99999999999999999999"], "--count", "1000000")


def test_eval_refuses_a_seed_outside_32_bits(run_folder, capsys):
    refused(capsys, ["eval", str(run_folder), "--seed", "99999999999999999999"], "--seed")


def test_bench_refuses_an_out_that_is_a_file_before_any_work(tmp_path, capsys, monkeypatch):
    import lte.bench

    def no_work(*args, **kwargs):
        raise AssertionError("the benchmark ran")

    monkeypatch.setattr(lte.bench, "run_benchmark", no_work)
    existing = tmp_path / "bench.csv"
    existing.write_text("keep me\n")
    refused(capsys, ["bench", "--tiny", "--out", str(existing)], str(existing), "not a folder")
    refused(capsys, ["bench", "--tiny", "--out", ""], "--out")
    assert existing.read_text() == "keep me\n"


CORRUPT_CONFIGS = {
    "torn JSON": '{"task": "addition", "length": 2, "nest',
    "not an object": "[1, 2, 3]",
    "null": "null",
    "wrong type": '{"task": "addition", "length": "two", "nesting": 1}',
    "unknown field": '{"colour": "blue"}',
    "not UTF-8": b"\xff\xfe\x00garbage",
    "empty": "",
}


@pytest.mark.parametrize("name", CORRUPT_CONFIGS)
@pytest.mark.parametrize("command", [["eval"], ["predict"]])
def test_a_corrupt_config_is_named(tmp_path, capsys, name, command):
    run = tmp_path / "run"
    run.mkdir()
    content = CORRUPT_CONFIGS[name]
    path = run / "config.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    argv = [*command, str(run)] + (["print(1+2)"] if command == ["predict"] else [])
    refused(capsys, argv, str(path))


def test_a_config_json_that_is_a_folder_is_named(tmp_path, capsys):
    (tmp_path / "run" / "config.json").mkdir(parents=True)
    refused(capsys, ["eval", str(tmp_path / "run")], str(tmp_path / "run" / "config.json"))


def test_a_folder_that_is_not_a_run_keeps_its_message(tmp_path, capsys):
    refused(capsys, ["eval", str(tmp_path)], "is not a run folder")


def test_esn_refuses_a_washout_as_long_as_a_row(capsys):
    assert (
        main(["esn", "--task", "copy", "--length", "3", "--washout", "10000", "--units", "8", "--fit-batches", "1"])
        == 2
    )
    err = capsys.readouterr().err
    assert "washout 10000" in err and len(err.strip().splitlines()) == 1


def test_lte_version_names_the_package_version_and_the_commit():
    import subprocess
    import sys

    from lte.core.provenance import git_commit

    done = subprocess.run([sys.executable, "-m", "lte", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.startswith("lte 0.") and git_commit()[:12] in done.stdout
