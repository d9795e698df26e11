"""The training path: one real step, no recompilation, learning, resume after a kill, the command line."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from data_gen.tasks import TaskSpec, sample_examples
from lte.core.config import TrainConfig
from lte.core.data import TrainingBatches
from lte.core.errors import LteError
from lte.core.metrics import masked_loss_and_counts
from lte.core.model import forward
from lte.core.train import (
    TIMING_FIELDS,
    init_train_state,
    load_params,
    make_optimizer,
    make_train_step,
    read_metrics,
    train,
    with_learning_rate,
)

SMALL = dict(
    task="copy",
    length=3,
    nesting=1,
    strategy="naive",
    model="lstm",
    hidden=32,
    layers=1,
    batch_size=8,
    eval_every=20,
    val_size=40,
    test_size=40,
    learning_rate=1.0,
)


def quiet(_line):
    pass


def test_one_training_step_lowers_the_loss():
    config = TrainConfig(**SMALL)
    state = init_train_state(config)
    batch = TrainingBatches(config).get(0, config.spec().target)
    before = float(masked_loss_and_counts(state.params, config.model_config(), batch)[0])
    step = make_train_step(config.model_config(), make_optimizer(config.clip))
    state, counts = step(state, batch)
    after = float(masked_loss_and_counts(state.params, config.model_config(), batch)[0])
    assert float(counts["scored"]) == batch["mask"].sum()
    assert after < before


def test_changing_the_learning_rate_does_not_recompile():
    config = TrainConfig(**SMALL)
    state = init_train_state(config)
    step = make_train_step(config.model_config(), make_optimizer(config.clip))
    batches = TrainingBatches(config)
    params_seen = []
    for i, lr in enumerate([1.0, 0.5, 0.25, 0.0]):
        level = config.spec().curriculum().level if i < 2 else config.spec().target  # the level changes too
        state = with_learning_rate(state, lr)
        before = jax.tree_util.tree_map(np.asarray, state.params)
        state, _ = step(state, batches.get(i, level))
        params_seen.append((before, jax.tree_util.tree_map(np.asarray, state.params)))
    batches.close()
    assert step._cache_size() == 1
    before, after = params_seen[-1]  # lr 0 leaves the parameters alone: the rate really is used
    assert all(
        np.array_equal(a, b) for a, b in zip(jax.tree_util.tree_leaves(before), jax.tree_util.tree_leaves(after))
    )


def test_packing_is_invisible():
    """An example's outputs are the same alone in a row or after other examples."""
    config = TrainConfig(**{**SMALL, "model": "irnn"})
    params = init_train_state(config).params
    examples = sample_examples(TaskSpec("program", 3, 2), 3, seed=0)
    texts = [e.input + e.target for e in examples]
    from data_gen.vocab import encode

    alone = np.zeros((1, 256), np.int32)
    alone[0, : len(texts[2])] = encode(texts[2])
    packed = np.zeros((1, 256), np.int32)
    joined = "".join(texts)
    packed[0, : len(joined)] = encode(joined)
    resets_alone = np.zeros_like(alone)
    resets_alone[0, 0] = 1
    resets_packed = np.zeros_like(packed)
    resets_packed[0, [0, len(texts[0]), len(texts[0]) + len(texts[1])]] = 1
    start = len(texts[0]) + len(texts[1])
    a, _ = forward(params, config.model_config(), jnp.asarray(alone), jnp.asarray(resets_alone))
    b, _ = forward(params, config.model_config(), jnp.asarray(packed), jnp.asarray(resets_packed))
    np.testing.assert_array_equal(np.asarray(a[0, : len(texts[2])]), np.asarray(b[0, start : start + len(texts[2])]))
    # without the reset the state would leak: the check above can fail
    resets_packed[0, start] = 0
    c, _ = forward(params, config.model_config(), jnp.asarray(packed), jnp.asarray(resets_packed))
    assert not np.array_equal(np.asarray(a[0, : len(texts[2])]), np.asarray(c[0, start : start + len(texts[2])]))


def test_a_short_run_learns_copy(tmp_path):
    config = TrainConfig(
        task="copy",
        length=3,
        nesting=1,
        strategy="baseline",
        model="lstm",
        hidden=128,
        layers=1,
        batch_size=16,
        learning_rate=1.0,
        eval_every=250,
        max_steps=1500,
        val_size=100,
        test_size=500,
    )
    summary = train(config, tmp_path / "run", log=quiet)
    assert summary["stop_reason"] == "max_steps" and summary["steps"] == 1500
    assert summary["final"]["test_char_accuracy"] >= 0.95
    rows = read_metrics(tmp_path / "run")
    assert [r["step"] for r in rows] == list(range(250, 1501, 250))
    assert rows[0]["test_char_accuracy"] < 0.9  # it learned during the run, not before
    assert summary["provenance"]["versions"]["jax"] == jax.__version__
    # rerunning a finished run trains nothing
    again = train(config, tmp_path / "run", log=quiet)
    assert again == summary


def _comparable(rows):
    return [{k: v for k, v in r.items() if k not in TIMING_FIELDS} for r in rows]


def _cli(*args, **kwargs):
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    return subprocess.run([sys.executable, "-m", "lte", *args], capture_output=True, text=True, env=env, **kwargs)


def _train_args(config: dict, out: Path, max_steps: int) -> list[str]:
    return [
        "train",
        "--out",
        str(out),
        "--task",
        config["task"],
        "--length",
        str(config["length"]),
        "--strategy",
        config["strategy"],
        "--model",
        config["model"],
        "--hidden",
        str(config["hidden"]),
        "--layers",
        str(config["layers"]),
        "--batch-size",
        str(config["batch_size"]),
        "--eval-every",
        str(config["eval_every"]),
        "--val-size",
        str(config["val_size"]),
        "--test-size",
        str(config["test_size"]),
        "--lr",
        str(config["learning_rate"]),
        "--max-steps",
        str(max_steps),
    ]


def test_a_killed_run_resumes_to_exactly_the_uninterrupted_result(tmp_path):
    steps = 200
    config = TrainConfig(**SMALL, max_steps=steps)
    straight = tmp_path / "straight"
    train(config, straight, log=quiet)

    killed = tmp_path / "killed"
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lte", *_train_args(SMALL, killed, steps), "--checkpoint-every", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(read_metrics(killed)) < 3 and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed / "summary.json").exists()
    assert 3 <= len(read_metrics(killed)) < steps // SMALL["eval_every"]

    train(config, killed, log=quiet)  # resume
    a, b = load_params(straight, config), load_params(killed, config)
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert _comparable(read_metrics(straight)) == _comparable(read_metrics(killed))


def test_a_folder_with_another_config_is_refused(tmp_path):
    train(TrainConfig(**SMALL, max_steps=20), tmp_path / "run", log=quiet)
    with pytest.raises(LteError, match=r"different config \(hidden: 32 in the folder, 64 now\)"):
        train(TrainConfig(**{**SMALL, "hidden": 64}, max_steps=20), tmp_path / "run", log=quiet)
    result = _cli(*_train_args({**SMALL, "hidden": 64}, tmp_path / "run", 20))
    assert result.returncode == 2 and "different config" in result.stderr


@pytest.mark.parametrize(
    "flag,value,message",
    [
        ("--model", "gru2", "unknown model 'gru2'; allowed: lstm, irnn, gru"),
        ("--task", "sort", "unknown task 'sort'"),
        ("--strategy", "greedy", "unknown strategy 'greedy'"),
        ("--hidden", "0", "hidden must be a positive integer, got 0"),
        ("--batch-size", "-3", "batch_size must be a positive integer, got -3"),
        ("--lr", "-0.1", "learning_rate must be a positive number, got -0.1"),
        ("--clip", "0", "clip must be a positive number, got 0.0"),
        ("--length", "0", "length must be an integer in [1, 20], got 0"),
    ],
)
def test_bad_training_input_is_one_clear_line_and_writes_nothing(tmp_path, flag, value, message):
    out = tmp_path / "run"
    result = _cli("train", "--out", str(out), flag, value, "--max-steps", "1")
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()
