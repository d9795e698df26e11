"""`lte sweep --backend ray`: a local Ray instance with 2 workers gives the local runner's records,
and a worker killed mid-task costs nothing."""

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from lte.core.train import read_metrics
from lte.study.experiment import runs_dir
from lte.study.sweep import run_sweep

ray = pytest.importorskip("ray")

from tests.test_sweep import TINY  # noqa: E402

TIMING = ("wall_time", "steps_per_second", "tokens_per_second")


def _records(results: Path, names: list[str]) -> dict:
    root = runs_dir("addition", "quick", results)
    return {n: [{k: v for k, v in r.items() if k not in TIMING} for r in read_metrics(root / n)] for n in names}


def test_a_ray_sweep_gives_the_local_runners_records(tmp_path):
    experiment = tmp_path / "tiny.toml"
    experiment.write_text(TINY.replace("seed = [0]", "seed = [0, 1]"))
    cells = run_sweep(experiment, "quick", workers=2, results=tmp_path / "local", log=lambda _: None)
    lines = []
    run_sweep(experiment, "quick", workers=2, results=tmp_path / "ray", log=lines.append, backend="ray")
    assert "(Ray)" in lines[0] and sum(line.startswith("[") for line in lines) == 4
    names = [c.name for c in cells]
    assert _records(tmp_path / "ray", names) == _records(tmp_path / "local", names)
    for name in names:
        assert (runs_dir("addition", "quick", tmp_path / "ray") / name / "summary.json").exists()


def _ray_task_pids() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                title = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if title.startswith("ray::_run_task"):
                pids.append(int(entry))
    return pids


def test_a_worker_killed_mid_task_is_retried_and_every_record_is_there_once(tmp_path):
    experiment = tmp_path / "tiny.toml"
    longer = TINY.replace("max_steps = 6", "max_steps = 400").replace("eval_every = 3", "eval_every = 20")
    experiment.write_text(longer.replace('model = ["lstm", "irnn"]', 'model = ["lstm"]'))
    root = runs_dir("addition", "quick", tmp_path / "results")
    killed = []

    def kill_once_records_exist():
        deadline = time.time() + 240
        while time.time() < deadline and not killed:
            for metrics in root.glob("*/metrics.jsonl"):
                if len(read_metrics(metrics.parent)) >= 2:
                    for pid in _ray_task_pids():
                        os.kill(pid, signal.SIGKILL)
                        killed.append(pid)
                    break
            time.sleep(0.2)

    killer = threading.Thread(target=kill_once_records_exist, daemon=True)
    killer.start()
    cells = run_sweep(experiment, "quick", workers=1, results=tmp_path / "results", log=lambda _: None, backend="ray")
    killer.join(timeout=5)
    assert killed, "the task finished before it could be killed"
    rows = read_metrics(root / cells[0].name)
    steps = [r["step"] for r in rows]
    assert steps == list(range(20, 401, 20))  # every evaluation once, none lost, none twice
    log = (root / cells[0].name / "train.log").read_text()
    # retried: it starts again, from its last checkpoint if one was saved before the kill (they come every
    # lte.core.train.CHECKPOINT_SECONDS), else from the start
    assert log.count("parameters) on addition") == 2
