"""What a read-only command, a downloaded record or a bad setting must never do: delete checkpoints, run code,
write through a link, move folders out of the results, train on at an exploded loss."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_flags import flags

from lte.core.config import TrainConfig
from lte.core.errors import LteError
from lte.core.train import DIVERGENCE_LOSS, DIVERGENCE_PATIENCE, read_metrics, train

TINY = dict(
    task="addition",
    length=2,
    nesting=1,
    model="lstm",
    hidden=16,
    layers=1,
    batch_size=8,
    eval_every=20,
    val_size=30,
    test_size=30,
    max_steps=60,
)


def quiet(_line):
    pass


TINY_FLAGS = flags(TINY)


def _cli(*args, cwd=None):
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("LTE_ALLOW_USER_CELLS", None)
    return subprocess.run(
        [sys.executable, "-m", "lte", *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd
    )


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "run"
    train(TrainConfig(**TINY), out, log=quiet, checkpoint_every=0)
    return out


def _checkpoint_steps(run: Path) -> list[int]:
    return sorted(int(p.name) for p in (run / "checkpoints").iterdir() if p.name.isdigit())


def test_eval_of_a_folder_whose_config_changed_keeps_every_checkpoint(ref, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(ref, run)
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "hidden": 32}))
    done = _cli("eval", run, "--count", "20")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "another shape" in done.stderr and "32)" in done.stderr and "16)" in done.stderr
    assert _checkpoint_steps(run) == [40, 60]


def test_eval_never_removes_a_damaged_checkpoint_and_training_sets_it_aside(ref, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(ref, run)
    for path in (run / "checkpoints" / "60").rglob("*"):
        if path.is_file() and path.stat().st_size > 64 and "meta" not in str(path):
            data = bytearray(path.read_bytes())
            data[len(data) // 2 : len(data) // 2 + 16] = bytes(16)
            path.write_bytes(bytes(data))
    done = _cli("eval", run, "--count", "20")
    assert done.returncode == 0, done.stderr
    assert "left as it is" in done.stderr and _checkpoint_steps(run) == [40, 60]
    (run / "summary.json").unlink()
    lines = []
    train(TrainConfig(**TINY), run, log=lines.append)
    assert any("moved to" in line for line in lines)
    assert [p.name.split("-")[0] for p in (run / "checkpoints.damaged").iterdir()] == ["60"]


def test_a_record_naming_code_is_refused_and_never_run(ref, tmp_path):
    results = tmp_path / "res"
    run = results / "runs" / "quick" / "addition" / "x"
    shutil.copytree(ref, run)
    marker = tmp_path / "ran"
    (tmp_path / "payload.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "model": "payload:Cell"}))
    for command in (["eval", run], ["predict", run, "print(1)"]):
        done = _cli(*command, cwd=tmp_path)
        assert done.returncode == 2 and "names code outside the package" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("LTE_ALLOW_USER_CELLS", None)
    subprocess.run(
        [sys.executable, "-m", "lte.study.analysis", "spot-check", "--profile", "quick", "--results", "res"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert not marker.exists()


@pytest.mark.parametrize("name", ["../../../../escaped", "a/../../b", ".."])
def test_migrate_names_refuses_a_name_that_leaves_the_results(ref, tmp_path, name):
    root = tmp_path / "res" / "runs" / "quick" / "addition"
    shutil.copytree(ref, root / "x")
    config = json.loads((root / "x" / "config.json").read_text())
    (root / "cells.json").write_text(json.dumps({"cells": [{"name": name, "labels": {}, "config": config}]}))
    done = _cli("migrate-names", "--results", tmp_path / "res")
    assert done.returncode == 2 and "not a plain folder name" in done.stderr, done.stderr
    assert sorted(p.name for p in root.iterdir()) == ["cells.json", "x"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_migrate_names_on_a_missing_folder_is_an_error(tmp_path):
    done = _cli("migrate-names", "--results", tmp_path / "nothing")
    assert done.returncode == 2 and "no such folder" in done.stderr


def test_a_symlinked_lock_or_log_is_refused_and_its_target_untouched(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    run = tmp_path / "run"
    run.mkdir()
    (run / ".lock").symlink_to(victim)
    with pytest.raises(LteError, match="symbolic link"):
        train(TrainConfig(**TINY), run, log=quiet)
    assert victim.read_text() == "precious\n"


@pytest.mark.parametrize("max_steps", [60, 1000])  # exploded at its end; exploded for DIVERGENCE_PATIENCE evals
def test_a_finite_explosion_stops_the_run_as_diverged(tmp_path, max_steps):
    done = _cli("train", "--out", tmp_path / "run", *flags({**TINY, "max_steps": max_steps}), "--lr", "1e30")
    assert done.returncode == 1, done.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["diverged"] and summary["stop_reason"] == "diverged"
    rows = read_metrics(tmp_path / "run")
    assert rows[-1]["event"] == "diverged" and rows[-1]["train_loss"] > DIVERGENCE_LOSS > 300
    assert rows[-1]["step"] == min(max_steps, 20 * DIVERGENCE_PATIENCE)


@pytest.mark.parametrize(
    "flag,value,message",
    [
        ("--lr-decay", "7", "lr_decay must lie in (0, 1], got 7.0"),
        ("--target-accuracy", "1.5", "target_accuracy must lie in (0, 1]"),
    ],
)
def test_settings_outside_their_range_are_one_line(tmp_path, flag, value, message):
    done = _cli("train", "--out", tmp_path / "run", flag, value, "--max-steps", "1")
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_lost_metrics_row_is_written_again(ref, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(ref, run)
    lines = (run / "metrics.jsonl").read_text().splitlines()
    (run / "metrics.jsonl").write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:10])  # the last row torn
    (run / "summary.json").unlink()
    summary = train(TrainConfig(**TINY), run, log=quiet)
    assert [r["step"] for r in read_metrics(run)] == [20, 40, 60]
    assert summary["final"]["step"] == 60


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "the experiment file is empty"),
        ('[experiment]\nname = "x"\nensembel = 4\n', "unknown key 'ensembel' in [experiment]"),
        ('[experiment]\nname = "x"\n[grid]\nseed = [0, 4294967296]\n', "a seed must be an integer in 0..4294967295"),
        ('[experiment]\nname = "x"\n[[variant]]\nlabel = "big"\nhidden_scale = 1e9\n', "at most 16384 units"),
        (
            '[experiment]\nname = "x"\n[grid]\nseed = '
            + str(list(range(200)))
            + "\nhidden = "
            + str(list(range(1, 101)))
            + "\n",
            "has 20,000 cells, more than 10,000: pass --yes",
        ),
    ],
)
def test_experiment_file_mistakes_are_refused_before_any_work(tmp_path, text, message):
    experiment = tmp_path / "x.toml"
    experiment.write_text(text)
    done = _cli("sweep", experiment, "--profile", "quick", "--results", tmp_path / "res")
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "res" / "runs").exists()


@pytest.mark.parametrize("workers", ["0", "-1"])
def test_a_sweep_needs_a_worker(tmp_path, workers):
    experiment = tmp_path / "x.toml"
    experiment.write_text('[experiment]\nname = "x"\n[fixed]\nmax_steps = 1\n')
    done = _cli("sweep", experiment, "--workers", workers, "--results", tmp_path / "res")
    assert done.returncode == 2 and "must be a positive integer" in done.stderr, done.stderr


@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_a_config_json_that_is_no_file_is_one_line(ref, tmp_path, target):
    run = tmp_path / "run"
    shutil.copytree(ref, run)
    (run / "config.json").unlink()
    if target == "fifo":
        os.mkfifo(run / "config.json")
    else:
        (run / "config.json").symlink_to(target)
    done = subprocess.run(
        [sys.executable, "-m", "lte", "eval", str(run)],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, JAX_PLATFORMS="cpu"),
    )
    assert done.returncode == 2 and "not a regular file" in done.stderr, done.stderr


def test_a_pool_resaved_with_ids_outside_the_vocabulary_is_rebuilt(tmp_path):
    import numpy as np

    from data_gen.curriculum import Level
    from data_gen.pool import _checksum, load_pool
    from data_gen.tasks import TaskSpec

    spec = TaskSpec(task="copy", length=2, nesting=1, strategy="baseline")
    pool = load_pool(spec, Level(2, 1), "train", size=64, cache_dir=tmp_path, workers=1)
    (path,) = tmp_path.glob("*.npz")
    with np.load(path) as f:
        saved = {k: f[k] for k in f.files}
    saved["ids"] = np.full_like(saved["ids"], 200)
    saved["checksum"] = np.array(_checksum(saved["ids"], saved["lengths"], saved["input_lengths"]))
    np.savez(path, **saved)
    with pytest.warns(RuntimeWarning, match="outside the vocabulary"):
        again = load_pool(spec, Level(2, 1), "train", size=64, cache_dir=tmp_path, workers=1)
    np.testing.assert_array_equal(again.ids, pool.ids)


def _group_alive(pgid: int) -> list[int]:
    """Live processes of the process group `pgid` (Linux /proc; zombies are not alive)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if entry.isdigit() and int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry))
    return found


@pytest.mark.parametrize("delay", [0.0, 0.5, 1.5, 3.0])  # seconds after the sweep said it starts its workers
def test_a_sweep_terminated_while_its_workers_start_ends_promptly(tmp_path, delay):
    import signal
    import time

    from test_sweep import TINY

    experiment = tmp_path / "tiny.toml"
    experiment.write_text(TINY.replace("max_steps = 6", "max_steps = 200000").replace("seed = [0]", "seed = [0, 1]"))
    err_path = tmp_path / "sweep.err"
    with open(err_path, "w") as err:  # its own process group, signalled whole, as `timeout 5 lte sweep` does
        sweep = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lte",
                "sweep",
                str(experiment),
                "--profile",
                "quick",
                "--workers",
                "2",
                "--results",
                str(tmp_path / "res"),
            ],
            stderr=err,
            start_new_session=True,
            env=dict(os.environ, JAX_PLATFORMS="cpu"),
        )
    try:
        deadline = time.monotonic() + 120
        while "to run as" not in err_path.read_text():
            assert sweep.poll() is None and time.monotonic() < deadline, err_path.read_text()
            time.sleep(0.05)
        time.sleep(delay)
        os.killpg(sweep.pid, signal.SIGTERM)
        returncode = sweep.wait(timeout=30)
        assert returncode == 128 + signal.SIGTERM or returncode == -signal.SIGTERM, err_path.read_text()
        deadline = time.monotonic() + 10
        while _group_alive(sweep.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _group_alive(sweep.pid), "workers still running after the sweep ended"
    finally:
        for pid in _group_alive(sweep.pid):
            os.kill(pid, signal.SIGKILL)
        sweep.wait(timeout=30)


def test_a_truncated_compilation_cache_entry_is_removed_with_one_warning(tmp_path):
    program = (
        "import jax, jax.numpy as jnp\nfrom lte.core.runtime import enable_compilation_cache\n"
        "enable_compilation_cache()\njax.config.update('jax_persistent_cache_min_compile_time_secs', 0)\n"
        "print(jax.jit(lambda x: jnp.sin(x) * 2 + 1)(jnp.ones(3)))\n"
    )
    env = dict(os.environ, JAX_PLATFORMS="cpu", LTE_CACHE_DIR=str(tmp_path))

    def run():
        done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stderr
        return done.stderr

    assert "Warning" not in run()
    (entry,) = (tmp_path / "jax").glob("jit__lambda-*-cache")
    entry.write_bytes(entry.read_bytes()[:100])  # cut short, as by a full disk
    assert run().count("removed a damaged compilation-cache entry") == 1
    assert entry.stat().st_size > 100
    assert "Warning" not in run()


UNWRITABLE = "/sys/lte-out"  # /sys refuses new files even to root (a chmod'ed folder does not)


def _sys_refuses_files() -> bool:
    import tempfile

    try:
        fd, path = tempfile.mkstemp(dir="/sys")
    except OSError:
        return os.path.isdir("/sys")
    os.close(fd)
    os.unlink(path)
    return False


def _one_error_line(done, *words):
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("error:"), done.stderr
    for word in words:
        assert word in lines[0], done.stderr


@pytest.mark.skipif(not _sys_refuses_files(), reason="needs Linux's /sys")
@pytest.mark.parametrize(
    "command",
    [
        ["train", "--out", UNWRITABLE, *TINY_FLAGS],
        ["esn", "--out", UNWRITABLE, "--units", "8"],
        ["sweep", "EXPERIMENT", "--profile", "quick", "--results", UNWRITABLE],
        ["bench", "--tiny", "--out", UNWRITABLE],
    ],
    ids=lambda c: c[0],
)
def test_an_out_or_results_that_cannot_be_written_is_one_line(tmp_path, command):
    experiment = tmp_path / "x.toml"
    experiment.write_text('[experiment]\nname = "x"\n[fixed]\nmax_steps = 1\n')
    done = _cli(*[experiment if part == "EXPERIMENT" else part for part in command])
    _one_error_line(done, UNWRITABLE, "/sys cannot be written")
    assert "wrote" not in done.stdout  # refused before the work


def test_a_sweeps_results_on_a_file_is_one_line(tmp_path):
    experiment = tmp_path / "x.toml"
    experiment.write_text('[experiment]\nname = "x"\n[fixed]\nmax_steps = 1\n')
    done = _cli("sweep", experiment, "--profile", "quick", "--results", experiment)
    _one_error_line(done, "--results", "not a folder")


def test_bench_refuses_an_unwritable_out_before_any_work(tmp_path, monkeypatch, capsys):
    import errno
    import tempfile

    import lte.bench
    from lte.cli import main

    def no_work(*args, **kwargs):
        raise AssertionError("the benchmark ran")

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(lte.bench, "run_benchmark", no_work)
    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    assert main(["bench", "--tiny", "--out", str(tmp_path / "tables")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --out") and "Read-only file system" in err and err.count("\n") == 1, err


@pytest.mark.parametrize(
    "code,status,words", [("ENOSPC", 1, "run the same command again to resume"), ("EROFS", 2, "writable disk")]
)
def test_a_full_or_read_only_disk_while_writing_records_is_one_line(tmp_path, monkeypatch, capsys, code, status, words):
    import errno

    import lte.core.run_loop
    from lte.cli import main

    def failing_write(run, row):
        number = getattr(errno, code)
        raise OSError(number, os.strerror(number), str(Path(run) / "metrics.jsonl"))

    monkeypatch.setattr(lte.core.run_loop, "append_metrics", failing_write)
    assert main(["train", "--out", str(tmp_path / "run"), *TINY_FLAGS]) == status
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert str(tmp_path / "run" / "metrics.jsonl") in line and os.strerror(getattr(errno, code)) in line
    assert words in line and err.strip().splitlines()[-1] == line


def test_a_full_disk_under_orbaxs_writer_threads_is_one_line(tmp_path, monkeypatch, capsys):
    import orbax.checkpoint as ocp

    from lte.cli import main

    def full_disk(self, *args, **kwargs):  # what tensorstore raises from Orbax's writer threads on a full disk
        raise ValueError(
            'RESOURCE_EXHAUSTED: Error writing "params.layers.0.W/0.0" in OCDBT database: Failed to '
            "write 357256 bytes to file 9: No space left on device [os_error_code='28']"
        )

    monkeypatch.setattr(ocp.CheckpointManager, "save", full_disk)
    assert main(["train", "--out", str(tmp_path / "run"), *TINY_FLAGS]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "RESOURCE_EXHAUSTED" not in err
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert str(tmp_path / "run" / "checkpoints") in line and "No space left on device" in line
    assert "run the same command again to resume" in line


@pytest.mark.parametrize("damage", ["torn summary", "list summary", "null summary", "lost metrics row", "torn config"])
def test_train_on_a_finished_folder_with_damaged_records_refuses_in_one_line(ref, tmp_path, damage):
    run = tmp_path / "run"
    shutil.copytree(ref, run)
    if damage == "lost metrics row":
        lines = (run / "metrics.jsonl").read_text().splitlines()
        (run / "metrics.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    elif damage == "torn config":
        (run / "config.json").write_text((run / "config.json").read_text()[:20])
    else:
        (run / "summary.json").write_text(
            {"torn summary": '{"steps": 6', "list summary": "[1]", "null summary": "null"}[damage]
        )
    before = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file() and p.name != ".lock"}
    done = _cli("train", "--out", run, *TINY_FLAGS)
    if damage == "torn config":  # open_run refuses it before the records are read
        _one_error_line(done, "config.json", "not a readable run config")
    else:
        _one_error_line(done, str(run), "records are damaged", "move the folder aside")
    after = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file() and p.name != ".lock"}
    assert after == before  # nothing resumed, nothing moved


@pytest.mark.parametrize("command", ["migrate-names", "analysis table"])
@pytest.mark.parametrize("text", ["[", "[1]", '{"cells": 5}', '{"cells": [{"name": 3}]}', "\xff"])
def test_a_torn_or_foreign_cells_json_is_one_line(ref, tmp_path, text, command):
    root = tmp_path / "res" / "runs" / "quick" / "addition"
    shutil.copytree(ref, root / "x")
    (root / "cells.json").write_bytes(text.encode("latin-1"))
    if command == "migrate-names":
        done = _cli("migrate-names", "--results", tmp_path / "res")
    else:  # what `make table-addition` runs
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "lte.study.analysis",
                "table",
                "addition",
                "--profile",
                "quick",
                "--results",
                str(tmp_path / "res"),
            ],
            capture_output=True,
            text=True,
            env=dict(os.environ, JAX_PLATFORMS="cpu"),
        )
    _one_error_line(done, str(root / "cells.json"), "experiment index", "lte sweep")


def test_a_sweep_sets_aside_a_finished_cell_whose_config_is_torn(tmp_path):
    from test_sweep import TINY

    experiment = tmp_path / "tiny.toml"
    experiment.write_text(TINY)
    results = tmp_path / "res"
    assert _cli("sweep", experiment, "--profile", "quick", "--workers", "1", "--results", results).returncode == 0
    root = results / "runs" / "quick" / "addition"
    (cell,) = [p for p in root.iterdir() if p.name.startswith("lstm")]
    (cell / "config.json").write_text((cell / "config.json").read_text()[:30])
    done = _cli("sweep", experiment, "--profile", "quick", "--workers", "1", "--results", results)
    assert done.returncode == 0 and "config.json is unreadable" in done.stderr, done.stderr
    assert [p.name.split(".damaged-")[0] for p in root.glob("*.damaged-*")] == [cell.name]
    assert (cell / "summary.json").exists()  # trained afresh


def test_a_huge_reservoir_is_one_line():
    _one_error_line(_cli("esn", "--units", "100000000"), "units 100000000", "at most 8192")
