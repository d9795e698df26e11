"""A batch split over CPU devices (`lte train --cpu-devices N`) trains as one device does, up to rounding.

JAX can be asked for CPU devices only before its first array, so the checks that need two devices run in a
fresh process."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from lte.cli import main
from lte.core.data_parallel import check_data_parallel
from lte.core.errors import LteError
from lte.core.model import ModelConfig
from tests.test_cli_errors import TINY_TRAIN, refused

SPLIT_VS_ONE = textwrap.dedent("""
    import json, sys
    import numpy as np
    from lte.core.data_parallel import data_parallel_counting_step, use_cpu_devices
    use_cpu_devices(2)
    import jax
    from lte.bench import Shape, _synthetic_batch, _train_state
    from lte.core.model import ModelConfig
    from lte.core.train import compiled_counting_step, zero_counts

    out = {}
    for cell, layers, gradient in [("lstm", 2, "fused"), ("irnn", 1, "fused"), ("lstm", 1, "autodiff")]:
        config = ModelConfig(cell=cell, hidden=16, layers=layers, gradient=gradient)
        batch = _synthetic_batch(Shape(16, 8, 12, layers))
        batch["mask"][:5, :7] = 0  # rows of the first device score fewer positions: the mean must weigh them
        one, split = _train_state(config, 0), _train_state(config, 0)
        sums_one = sums_split = zero_counts()
        for _ in range(3):
            one, sums_one = compiled_counting_step(config, 5.0)(one, batch, sums_one)
            split, sums_split = data_parallel_counting_step(config, 5.0, 2)(split, batch, sums_split)
        gaps = jax.tree_util.tree_map(lambda a, b: float(np.max(np.abs(np.asarray(a) - np.asarray(b)))),
                                      one.params, split.params)
        moved = jax.tree_util.tree_map(lambda a, b: float(np.max(np.abs(np.asarray(a) - np.asarray(b)))),
                                       one.params, _train_state(config, 0).params)
        out[f"{cell} {layers} {gradient}"] = {
            "gap": max(jax.tree_util.tree_leaves(gaps)), "moved": max(jax.tree_util.tree_leaves(moved)),
            "sums_one": {k: float(v) for k, v in sums_one.items()},
            "sums_split": {k: float(v) for k, v in sums_split.items()},
            "devices": len(split.params["readout"]["W"].sharding.device_set)}
    print(json.dumps(out))
""")


def _python(code: str) -> str:
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_split_step_moves_the_weights_as_one_device_does():
    results = json.loads(_python(SPLIT_VS_ONE).strip().splitlines()[-1])
    for name, r in results.items():
        assert r["devices"] == 2, name  # the state lives on both devices
        assert r["moved"] > 1e-3, name  # three steps changed the weights...
        assert r["gap"] < 1e-5 * max(1.0, r["moved"]), (name, r)  # ...the same way on two devices as on one
        assert r["sums_split"]["scored"] == r["sums_one"]["scored"], name
        assert r["sums_split"]["correct"] == r["sums_one"]["correct"], name
        assert r["sums_split"]["nll_sum"] == pytest.approx(r["sums_one"]["nll_sum"], rel=1e-5), name


def test_lte_train_on_two_cpu_devices_follows_the_one_device_run(tmp_path):
    args = [
        "train",
        "--task",
        "copy",
        "--length",
        "3",
        "--model",
        "lstm",
        "--hidden",
        "32",
        "--layers",
        "1",
        "--batch-size",
        "8",
        "--eval-every",
        "10",
        "--val-size",
        "16",
        "--test-size",
        "16",
        "--lr",
        "1.0",
        "--max-steps",
        "30",
    ]
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    for name, extra in (("one", []), ("two", ["--cpu-devices", "2"])):
        result = subprocess.run(
            [sys.executable, "-m", "lte", *args, "--out", str(tmp_path / name), *extra],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-3000:]
    assert "split over 2 CPU devices" in result.stderr
    summaries = {name: json.loads((tmp_path / name / "summary.json").read_text()) for name in ("one", "two")}
    assert summaries["two"]["cpu_devices"] == 2 and "cpu_devices" not in summaries["one"]
    rows = {
        name: [json.loads(line) for line in (tmp_path / name / "metrics.jsonl").read_text().splitlines()]
        for name in ("one", "two")
    }
    assert [r["step"] for r in rows["one"]] == [r["step"] for r in rows["two"]] == [10, 20, 30]
    for one, two in zip(rows["one"], rows["two"]):  # the same batches and gradients: the same curve
        assert two["train_loss"] == pytest.approx(one["train_loss"], rel=1e-3)


def test_settings_that_do_not_split_are_refused_before_any_work(tmp_path, capsys):
    out = str(tmp_path / "run")
    refused(capsys, [*TINY_TRAIN, "--out", out, "--cpu-devices", "0"], "--cpu-devices", "0", "at least 1")
    refused(
        capsys,
        [*TINY_TRAIN[:-2], "--batch-size", "3", "--out", out, "--cpu-devices", "2"],
        "batch_size is 3",
        "divisible by 2",
    )
    refused(capsys, [*TINY_TRAIN, "--gradient", "rtrl", "--out", out, "--cpu-devices", "2"], "'rtrl'")
    assert not (tmp_path / "run").exists()
    with pytest.raises(LteError, match="gradient_norm_penalty 0.5"):
        check_data_parallel(ModelConfig(cell="lstm", hidden=8, gradient_norm_penalty=0.5), 8, 2)
    assert main([*TINY_TRAIN, "--out", out, "--cpu-devices", "1"]) == 0  # one device: the plain step
