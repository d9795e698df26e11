"""Nothing lost, nothing corrupted, nothing silently wrong: one writer per run folder, damaged records never
trusted, divergence detected and recorded, non-finite options refused, checkpoints and pools verified."""

import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from cli_flags import flags

from data_gen.curriculum import Level
from data_gen.pool import load_pool
from data_gen.tasks import TaskSpec
from lte.core.config import TrainConfig
from lte.core.errors import LteError
from lte.core.model import ModelConfig
from lte.core.run_folder import FolderLock, damage
from lte.core.train import load_params, read_metrics, train
from lte.kinds.adding import AddingConfig

TINY = dict(
    task="copy",
    length=2,
    nesting=1,
    strategy="baseline",
    model="irnn",
    hidden=8,
    layers=1,
    batch_size=4,
    eval_every=3,
    val_size=8,
    test_size=8,
    max_steps=6,
    learning_rate=0.1,
)


def quiet(_line):
    pass


def strict_json(text: str):
    """json.loads that refuses NaN and Infinity (which are not JSON)."""

    def refuse(name):
        raise ValueError(f"non-JSON number {name}")

    return json.loads(text, parse_constant=refuse)


def lte(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lte", *args], capture_output=True, text=True, timeout=300)


# ---------------------------------------------------------------- one writer per folder


def test_a_second_writer_of_a_run_folder_is_refused_at_once(tmp_path):
    out = tmp_path / "run"
    held = FolderLock(out)
    try:
        with pytest.raises(LteError, match="being written by another process"):
            train(TrainConfig(**TINY), out, log=quiet)
        assert not (out / "config.json").exists()  # refused before touching anything
        # from another process too, as a one-line error with exit 2
        settings = dict(task="copy", length=2, model="irnn", hidden=8, layers=1, max_steps=6)
        done = lte("train", *flags(settings), "--out", str(out))
        assert done.returncode == 2 and "being written by another process" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    finally:
        held.release()
    train(TrainConfig(**TINY), out, log=quiet)  # released: the folder is usable again
    assert (out / "summary.json").exists()


def test_a_lock_dies_with_its_process(tmp_path):
    out = tmp_path / "run"
    code = f"from lte.core.run_folder import FolderLock; import os; FolderLock({str(out)!r}); os._exit(0)"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)  # exits holding the lock
    FolderLock(out).release()  # free again


def test_the_lock_is_released_when_training_fails(tmp_path, monkeypatch):
    import lte.core.run_loop as train_module

    out = tmp_path / "run"
    monkeypatch.setattr(train_module, "evaluate", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError, match="boom"):
        train(TrainConfig(**TINY), out, log=quiet)
    FolderLock(out).release()


# ---------------------------------------------------------------- damaged records are not trusted


def test_finished_records_are_checked_and_damaged_ones_are_set_aside_and_retrained(tmp_path):
    from lte.study.sweep import unfinished

    root = tmp_path / "runs"
    good, twice = root / "good", root / "twice"
    for out in (good, twice):
        train(TrainConfig(**TINY), out, log=quiet)
    assert damage(good) is None
    lines = (twice / "metrics.jsonl").read_text().splitlines()
    (twice / "metrics.jsonl").write_text("\n".join(lines + lines) + "\n")  # what two writers used to leave
    assert "strictly increase" in damage(twice)
    log = []
    assert unfinished(root, ["good", "twice", "new"], log.append) == ["twice", "new"]
    assert not twice.exists() and len(list(root.glob("twice.damaged-*"))) == 1
    assert "damaged records" in log[0]
    train(TrainConfig(**TINY), twice, log=quiet)  # trains afresh
    assert damage(twice) is None and len(read_metrics(twice)) == 2


@pytest.mark.parametrize("breakage", ["torn summary", "summary steps disagree", "no metrics"])
def test_other_damage_is_named(tmp_path, breakage):
    out = tmp_path / "run"
    train(TrainConfig(**TINY), out, log=quiet)
    summary = out / "summary.json"
    if breakage == "torn summary":
        summary.write_text(summary.read_text()[:50])
    elif breakage == "summary steps disagree":
        summary.write_text(json.dumps({**json.loads(summary.read_text()), "steps": 99}))
    else:
        (out / "metrics.jsonl").unlink()
    assert damage(out)


# ---------------------------------------------------------------- divergence


def test_a_diverging_run_stops_at_once_and_is_recorded_as_diverged_in_valid_json(tmp_path):
    out = tmp_path / "run"
    config = TrainConfig(**{**TINY, "learning_rate": 1e30, "clip": 1e30, "max_steps": 300, "eval_every": 3})
    lines = []
    summary = train(config, out, log=lines.append)
    assert summary["stop_reason"] == "diverged" and summary["diverged"] is True
    assert summary["steps"] < 300  # stopped at the first evaluation that saw it
    assert any(line.startswith("diverged:") for line in lines)
    for name in ("summary.json", "config.json"):
        strict_json((out / name).read_text())
    rows = [strict_json(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["event"] == "diverged" and rows[-1]["train_loss"] is None
    assert damage(out) is None  # complete records of a finished (diverged) run
    from lte.study.analysis.records import is_diverged

    assert is_diverged(json.loads((out / "summary.json").read_text()))


def test_lte_train_exits_non_zero_when_the_run_diverges(tmp_path):
    exploding = {k: v for k, v in TINY.items() if k not in ("strategy", "nesting", "learning_rate")} | dict(
        max_steps=60
    )
    done = lte("train", *flags(exploding), "--lr", "1e30", "--clip", "1e30", "--out", str(tmp_path / "run"))
    assert done.returncode == 1 and "diverged" in done.stderr
    assert json.loads(done.stdout)["stop_reason"] == "diverged"


def test_a_diverging_adding_run_is_recorded_as_diverged(tmp_path):
    from lte.kinds.adding import train_adding

    config = AddingConfig(
        model="irnn",
        hidden=8,
        sequence_length=10,
        batch_size=4,
        max_steps=30,
        eval_every=3,
        test_size=20,
        learning_rate=1e30,
        clip=1e30,
    )
    summary = train_adding(config, tmp_path / "run", log=quiet)
    assert summary["diverged"] and summary["final_test_mse"] is None and summary["steps"] < 30
    strict_json((tmp_path / "run" / "summary.json").read_text())


def test_selection_never_picks_a_setting_that_diverged_on_any_seed(tmp_path):
    from lte.study.analysis.lr_selection import selection_table

    results = tmp_path / "results"
    shutil.copytree(Path(__file__).parent / "fixtures" / "results", results)
    before = selection_table("quick", results)
    winner = before[before.selected].iloc[0]
    root = results / "runs" / "quick" / "lr_selection"
    cells = json.loads((root / "cells.json").read_text())["cells"]
    hit = next(
        c
        for c in cells
        if c["config"]["model"] == winner.model
        and c["config"]["task"] == winner.task
        and c["config"]["learning_rate"] == winner.learning_rate
        and c["config"]["clip"] == winner["clip"]
    )
    summary = root / hit["name"] / "summary.json"
    data = json.loads(summary.read_text())
    data.update(stop_reason="diverged", diverged=True, final_val_target=None)
    summary.write_text(json.dumps(data))
    after = selection_table("quick", results)
    row = after[
        (after.model == winner.model)
        & (after.task == winner.task)
        & (after.learning_rate == winner.learning_rate)
        & (after["clip"] == winner["clip"])
    ].iloc[0]
    assert row.diverged == 1 and math.isnan(row.val_char_accuracy) and not row.selected
    assert after[(after.model == winner.model) & (after.task == winner.task)].selected.sum() == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda v: TrainConfig(**{**TINY, "forget_bias": v}),
        lambda v: TrainConfig(**{**TINY, "identity_scale": v}),
        lambda v: TrainConfig(**{**TINY, "input_scale": v}),
        lambda v: TrainConfig(**{**TINY, "dropout": v}),
        lambda v: TrainConfig(**{**TINY, "mix_probability": v}),
        lambda v: TrainConfig(**{**TINY, "max_seconds": v}),
        lambda v: ModelConfig(cell="lstm", hidden=8, layers=1, forget_bias=v),
        lambda v: AddingConfig(forget_bias=v),
        lambda v: AddingConfig(learning_rate=v),
    ],
    ids=[
        "forget_bias",
        "identity_scale",
        "input_scale",
        "dropout",
        "mix_probability",
        "max_seconds",
        "model forget_bias",
        "adding forget_bias",
        "adding learning_rate",
    ],
)
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")], ids=["nan", "inf", "-inf"])
def test_non_finite_options_are_refused(make, value):
    with pytest.raises(LteError, match="must be a finite number|must be a positive number"):
        make(value)


@pytest.mark.parametrize("flag", ["--forget-bias", "--identity-scale", "--input-scale", "--lr", "--clip"])
def test_non_finite_options_are_refused_on_the_command_line(tmp_path, flag):
    done = lte(
        "train", "--task", "copy", "--length", "2", "--max-steps", "1", flag, "nan", "--out", str(tmp_path / "run")
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "nan" in done.stderr
    assert not (tmp_path / "run").exists()


# ---------------------------------------------------------------- checkpoints


def _trained(tmp_path) -> tuple[TrainConfig, Path]:
    config = TrainConfig(**TINY)
    out = tmp_path / "run"
    train(config, out, log=quiet, checkpoint_every=0)  # a checkpoint at every evaluation
    assert sorted(int(p.name) for p in (out / "checkpoints").iterdir() if p.name.isdigit()) == [3, 6]
    return config, out


def _flip_bytes(folder: Path) -> None:
    """Corrupt every data file of a checkpoint's arrays (flip the bytes in their middle)."""
    data = [
        p
        for p in (folder / "state").rglob("*")
        if p.is_file() and p.stat().st_size > 64 and "metadata" not in p.name.lower()
    ]
    assert data
    for path in data:
        raw = bytearray(path.read_bytes())
        middle = len(raw) // 2
        raw[middle : middle + 32] = bytes(b ^ 0xFF for b in raw[middle : middle + 32])
        path.write_bytes(bytes(raw))


def _truncate(folder: Path) -> None:
    for path in (folder / "state").rglob("*"):
        if path.is_file():
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])


@pytest.mark.parametrize("damage_it", [_flip_bytes, _truncate], ids=["flipped bytes", "truncated"])
def test_a_damaged_latest_checkpoint_falls_back_to_the_previous_one(tmp_path, damage_it):
    config, out = _trained(tmp_path)
    reference = TrainConfig(**{**TINY, "max_steps": 3})
    train(reference, tmp_path / "three", log=quiet)
    damage_it(out / "checkpoints" / "6")
    lines = []
    params = load_params(out, config, log=lines.append)
    assert any("checkpoint at step 6" in line and "damaged" in line for line in lines)
    assert any("using the checkpoint at step 3" in line for line in lines)
    expected = load_params(tmp_path / "three", reference)
    for a, b in zip(*(map(np.asarray, __import__("jax").tree_util.tree_leaves(p)) for p in (params, expected))):
        np.testing.assert_array_equal(a, b)


def test_eval_says_which_checkpoint_it_used_and_survives_a_damaged_latest(tmp_path):
    _, out = _trained(tmp_path)
    _flip_bytes(out / "checkpoints" / "6")
    done = lte("eval", str(out), "--count", "8")
    assert done.returncode == 0, done.stderr
    assert "damaged" in done.stderr and "using the checkpoint at step 3" in done.stderr
    assert math.isfinite(json.loads(done.stdout)["loss"])


def test_a_resumed_run_falls_back_past_a_damaged_checkpoint_and_finishes(tmp_path):
    config, out = _trained(tmp_path)
    straight = read_metrics(out)
    (out / "summary.json").unlink()
    _flip_bytes(out / "checkpoints" / "6")
    lines = []
    train(config, out, log=lines.append)
    assert any("resuming" in line and "at step 3" in line for line in lines)
    strip = lambda rows: [
        {k: v for k, v in r.items() if k not in ("wall_time", "steps_per_second", "tokens_per_second")} for r in rows
    ]
    assert strip(read_metrics(out)) == strip(straight)


def test_no_intact_checkpoint_is_a_clear_error(tmp_path):
    config, out = _trained(tmp_path)
    for step in ("3", "6"):
        _flip_bytes(out / "checkpoints" / step)
    with pytest.raises(LteError, match="no intact checkpoint"):
        load_params(out, config, log=quiet)


# ---------------------------------------------------------------- config.json


@pytest.mark.parametrize("how", ["deleted", "corrupt"])
def test_a_missing_or_corrupt_config_beside_records_is_refused_never_rewritten(tmp_path, how):
    config, out = _trained(tmp_path)
    (out / "summary.json").unlink()
    if how == "deleted":
        (out / "config.json").unlink()
    else:
        (out / "config.json").write_text("{not json")
    other = TrainConfig(**{**TINY, "learning_rate": 0.5, "seed": 3})
    with pytest.raises(LteError, match="config.json"):
        train(other, out, log=quiet)
    assert how == "deleted" and not (out / "config.json").exists() or (out / "config.json").read_text() == "{not json"


# ---------------------------------------------------------------- pools


@pytest.mark.parametrize("breakage", ["wrong ids", "truncated", "another pool's file"])
def test_a_damaged_pool_is_rebuilt_with_a_warning(tmp_path, breakage):
    spec, level = TaskSpec(task="copy", length=3, nesting=1), Level(3, 1)
    good = load_pool(spec, level, "train", size=300, cache_dir=tmp_path, workers=1)
    (path,) = tmp_path.glob("*.npz")
    if breakage == "wrong ids":
        with np.load(path) as f:
            arrays = dict(f)
        arrays["ids"] = np.zeros_like(arrays["ids"])
        np.savez(path.with_suffix(".tmp.npz"), **arrays)
        path.with_suffix(".tmp.npz").replace(path)
    elif breakage == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    else:
        other = load_pool(spec, Level(2, 1), "train", size=300, cache_dir=tmp_path / "other", workers=1)
        assert len(other.ids)
        shutil.copy(next((tmp_path / "other").glob("*.npz")), path)
    with pytest.warns(RuntimeWarning, match="damaged"):
        again = load_pool(spec, level, "train", size=300, cache_dir=tmp_path, workers=1)
    np.testing.assert_array_equal(again.ids, good.ids)
    with np.load(path) as f:  # the rebuilt file is intact
        np.testing.assert_array_equal(f["ids"], good.ids.astype(np.uint8))


# ---------------------------------------------------------------- the adding problem's runner


def test_a_killed_adding_runner_leaves_no_worker_training(tmp_path):
    import os
    import signal
    import time

    from process_tools import alive, descendants

    experiment = tmp_path / "adding.toml"
    experiment.write_text(
        textwrap.dedent("""
        [experiment]
        name = "adding_problem"
        kind = "adding"
        [grid]
        model = ["irnn", "lstm"]
        seed = [0, 1, 2]
        [profiles.quick]
        hidden = 8
        sequence_length = 10
        max_steps = 10000000
        eval_every = 100000
    """)
    )
    results = tmp_path / "results"
    root = results / "runs" / "quick" / "adding_problem"
    runner = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lte",
            "adding",
            str(experiment),
            "--profile",
            "quick",
            "--workers",
            "2",
            "--results",
            str(results),
        ],
        stderr=subprocess.DEVNULL,
    )
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 180
        while len(list(root.glob("*/train.log"))) < 2:
            assert runner.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        workers = descendants(runner.pid)
        assert len(workers) >= 2
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait(timeout=60)
        deadline = time.monotonic() + 15
        while any(alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [p for p in workers if alive(p)], "workers still running after the runner was killed"
    finally:
        for pid in [runner.pid, *workers]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------- long evaluations


def test_long_evaluations_report_progress_with_an_eta():
    from lte.core.console import Progress as _Progress

    lines = []
    progress = _Progress(4, lines.append, every=0.0)
    for _ in range(4):
        progress.tick()
    assert len(lines) == 4 and lines[-1].startswith("evaluating: 4/4 batches") and "ETA" in lines[-1]
    silent = _Progress(4, None, every=0.0)
    silent.tick()  # no log: nothing happens


# ---------------------------------------------------------------- worker environments


def _report_environment(path: str) -> float:
    Path(path).write_text(os.environ.get("XLA_FLAGS", ""))
    return 0.0


def test_workers_get_their_environment_without_the_parents_being_changed(tmp_path, monkeypatch):
    from lte.study.sweep import run_in_workers

    def refuse(*_):
        raise AssertionError("the parent's os.environ was changed")

    monkeypatch.setattr(type(os.environ), "__setitem__", refuse)
    monkeypatch.setattr(type(os.environ), "__delitem__", refuse)
    paths = [str(tmp_path / f"env{i}") for i in range(2)]
    run_in_workers(_report_environment, paths, ["a", "b"], 2, lambda _: None)
    monkeypatch.undo()
    for path in paths:  # each worker runs XLA on one core
        assert "intra_op_parallelism_threads=1" in Path(path).read_text()


def test_two_sweeps_of_one_experiment_at_once_leave_every_record_intact(tmp_path):
    experiment = tmp_path / "tiny.toml"
    from test_sweep import TINY as TINY_SWEEP  # 2 models x 1 seed; here 2 seeds and 60 steps

    experiment.write_text(
        TINY_SWEEP.replace("seed = [0]", "seed = [0, 1]")
        .replace("max_steps = 6", "max_steps = 60")
        .replace("eval_every = 3", "eval_every = 20")
    )
    results = tmp_path / "results"
    command = [
        sys.executable,
        "-m",
        "lte",
        "sweep",
        str(experiment),
        "--profile",
        "quick",
        "--workers",
        "1",
        "--results",
        str(results),
    ]
    sweeps = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errors = [p.communicate(timeout=600)[1] for p in sweeps]
    for sweep, err in zip(sweeps, errors):  # a cell the other sweep holds is a failure to retry, nothing worse
        assert sweep.returncode == 0 or "being written by another process" in err, err
    rerun = lte(*command[3:])  # finishes whatever was refused
    assert rerun.returncode == 0, rerun.stderr
    root = results / "runs" / "quick" / "addition"
    names = [c["name"] for c in json.loads((root / "cells.json").read_text())["cells"]]
    assert len(names) == len(set(names)) == 4
    for name in names:
        assert damage(root / name) is None
        steps = [r["step"] for r in read_metrics(root / name)]
        assert steps == [20, 40, 60]
    assert not list(root.glob(".*.tmp")) and not list(root.glob("*.damaged-*"))
