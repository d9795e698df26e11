"""`lte predict` and `lte eval` on a trained addition model; the program round trip."""

import json
import os
import subprocess
import sys

import pytest

from data_gen.tasks import TaskSpec, sample_examples
from lte.core.config import TrainConfig
from lte.core.predict import predict, serialise
from lte.core.train import load_params, train


@pytest.fixture(scope="module")
def addition_run(tmp_path_factory):
    """A 1 x 128 LSTM trained on 2-digit addition (about a minute on two CPU cores)."""
    out = tmp_path_factory.mktemp("addition") / "run"
    config = TrainConfig(
        task="addition",
        length=2,
        nesting=1,
        strategy="baseline",
        model="lstm",
        hidden=128,
        layers=1,
        batch_size=32,
        learning_rate=5.0,
        eval_every=1000,
        max_steps=3000,
        val_size=100,
        test_size=300,
    )
    summary = train(config, out, log=lambda line: None)
    return out, config, summary


def cli(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "lte", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=dict(os.environ, JAX_PLATFORMS="cpu"),
    )


def test_predict_answers_held_out_sums(addition_run):
    out, config, summary = addition_run
    assert summary["final"]["test_exact_match"] > 0.9
    params = load_params(out, config)
    held_out = sample_examples(config.spec(), 10, seed=99, split="test")  # the test split is never trained on
    results = [predict(params, config, e.source) for e in held_out]
    assert all(r["python"] == e.target[:-1] for r, e in zip(results, held_out))
    assert sum(r["model"] == r["python"] for r in results) >= 8


def test_predict_and_eval_on_the_command_line(addition_run):
    out, config, _ = addition_run
    example = sample_examples(config.spec(), 1, seed=5, split="test")[0]
    result = cli("predict", str(out), example.source)
    assert result.returncode == 0, result.stderr
    assert f"python: {example.target[:-1]}" in result.stdout and "model:" in result.stdout
    from_stdin = cli("predict", str(out), stdin=example.source)
    assert from_stdin.stdout == result.stdout
    evaluation = cli("eval", str(out), "--count", "200")
    assert evaluation.returncode == 0, evaluation.stderr
    metrics = json.loads(evaluation.stdout)
    assert metrics["examples"] == 200 and metrics["char_accuracy"] > 0.9 and 0 <= metrics["exact_match"] <= 1


def test_a_question_outside_the_trained_level_is_answered_with_a_note(addition_run):
    out, config, _ = addition_run
    params = load_params(out, config)
    inside = predict(params, config, "print(99+100)")  # 2-digit addition draws literals up to 10**2
    outside = predict(params, config, "print(150+7)")
    assert "note" not in inside
    assert outside["python"] == "157" and "150" in outside["note"] and "length 2" in outside["note"]
    result = cli("predict", str(out), "print(150+7)")
    assert result.returncode == 0 and "note: the program's largest number, 150," in result.stderr


def test_predict_refuses_characters_outside_the_vocabulary(addition_run):
    out, _, _ = addition_run
    result = cli("predict", str(out), "print(12/34)")
    assert result.returncode == 2
    assert "outside the vocabulary: '/'" in result.stderr and "Traceback" not in result.stderr


def test_predict_refuses_a_folder_that_is_not_a_run(tmp_path):
    result = cli("predict", str(tmp_path), "print(1+2)")
    assert result.returncode == 2 and "is not a run folder" in result.stderr


def test_real_python_round_trips_to_the_model_form():
    for example in sample_examples(TaskSpec("program", 4, 4, strategy="mix"), 300, seed=1):
        assert serialise(example.source) + "@" == example.canonical
    assert serialise("a=3\\nprint(a+4)") == "a=3;#print(a+4)"
