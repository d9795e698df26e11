"""The run loop without overhead: chunks of steps, batches made ahead, evaluation fetched once, checkpoints at a
cadence, start-up paid once per process; every one of them leaves a run's bits as they were."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from data_gen.vocab import PAD_ID, decode
from lte.core.config import TrainConfig
from lte.core.data import TrainingBatches, make_test_set
from lte.core.metrics import compute_metrics
from lte.core.train import (
    RunLoop,
    compiled_chunk_step,
    compiled_counting_step,
    evaluate,
    init_train_state,
    load_params,
    make_eval_fns,
    read_metrics,
    train,
    with_learning_rate,
    zero_counts,
)

SMALL = dict(
    task="copy",
    length=3,
    nesting=1,
    strategy="naive",
    model="lstm",
    hidden=16,
    layers=1,
    batch_size=8,
    eval_every=20,
    val_size=40,
    test_size=40,
    learning_rate=1.0,
    max_steps=100,
)


def quiet(_line):
    pass


def _leaves(tree):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(tree)]


@pytest.mark.parametrize("extra", [{}, {"dropout": 0.2}, {"data": "pool", "strategy": "combined"}])
def test_a_chunk_holds_the_batches_get_gives_in_order(extra):
    config = TrainConfig(**{**SMALL, **extra})
    level = config.spec().curriculum().level
    one_by_one = TrainingBatches(config)
    expected = [one_by_one.get(i, level) for i in range(7, 12)]
    one_by_one.close()
    ahead = TrainingBatches(config)
    first, tokens = ahead.chunk(7, 3, level, next_count=2)
    second, _ = ahead.chunk(10, 2, level)  # made ahead while the first was in use
    ahead.close()
    for i, batch in enumerate(expected):
        stacked = first if i < 3 else second
        for name in batch:
            np.testing.assert_array_equal(stacked[name][i if i < 3 else i - 3], batch[name])
    assert tokens == sum(int((b["inputs"] != PAD_ID).sum()) for b in expected[:3])
    if "dropout" in extra:  # each step's masks come from (seed, step)
        np.testing.assert_array_equal(first["dropout_seed"], [[0, 7], [0, 8], [0, 9]])


@pytest.mark.parametrize(
    "model,extra", [("lstm", {}), ("irnn", {}), ("lstm", {"dropout": 0.2}), ("gru", {"layers": 2})]
)
def test_steps_in_one_compiled_call_end_on_the_bits_of_one_call_per_step(model, extra):
    config = TrainConfig(**{**SMALL, "model": model, **extra})
    level = config.spec().curriculum().level
    feed = TrainingBatches(config)
    stacked, _ = feed.chunk(0, 12, level)
    feed.close()
    batches = [{k: v[i] for k, v in stacked.items()} for i in range(12)]
    start = with_learning_rate(init_train_state(config), config.resolved_learning_rate)
    step = compiled_counting_step(config.model_config(), config.clip)
    state, sums = jax.tree_util.tree_map(jnp.copy, start), zero_counts()
    for batch in batches:
        state, sums = step(state, batch, sums)
    chunked, chunk_sums = compiled_chunk_step(config.model_config(), config.clip)(start, stacked, zero_counts())
    for a, b in zip(_leaves((state, sums)), _leaves((chunked, chunk_sums))):
        np.testing.assert_array_equal(a, b)


def _evaluate_one_batch_at_a_time(params, eval_set, counts_fn, decode_fn, rows=256):
    """The evaluation as it was: each batch's counts fetched before the next is sent."""
    total = {"nll_sum": 0.0, "correct": 0.0, "scored": 0.0}
    for batch in eval_set.teacher:
        counts = counts_fn(params, batch)
        total = {k: total[k] + float(counts[k]) for k in total}
    metrics = compute_metrics(total)
    predicted = np.concatenate(
        [
            np.asarray(decode_fn(params, eval_set.prompts_NxP[i : i + rows], eval_set.resets_NxP[i : i + rows]))
            for i in range(0, len(eval_set.prompts_NxP), rows)
        ]
    )
    metrics["exact_match"] = sum(decode(predicted[i, : len(t)]) == t for i, t in enumerate(eval_set.targets)) / len(
        eval_set.targets
    )
    return metrics


def test_the_evaluation_fetched_once_gives_the_numbers_of_one_fetch_per_batch(tmp_path):
    config = TrainConfig(**{**SMALL, "test_size": 300})
    train(config, tmp_path / "run", log=quiet)
    params = load_params(tmp_path / "run", config)
    test = make_test_set(config)
    counts_fn, decode_fn = make_eval_fns(config.model_config(), test.decode_steps)
    assert len(test.teacher) > 3
    assert evaluate(params, test, counts_fn, decode_fn) == _evaluate_one_batch_at_a_time(
        params, test, counts_fn, decode_fn
    )


def _checkpoints(run):
    return sorted(int(p.name) for p in (run / "checkpoints").iterdir() if p.name.isdigit())


def test_checkpoints_follow_their_cadence_and_the_end(tmp_path):
    train(TrainConfig(**SMALL), tmp_path / "slow", log=quiet, checkpoint_every=3600)
    assert _checkpoints(tmp_path / "slow") == [100]  # only the end's
    train(TrainConfig(**SMALL), tmp_path / "every", log=quiet, checkpoint_every=0)
    assert _checkpoints(tmp_path / "every") == [80, 100]  # two are kept


class Killed(BaseException):
    """Stands for SIGKILL: raised from the log, with nothing saved on the way out."""


def test_a_run_killed_between_checkpoints_resumes_to_the_uninterrupted_bits(tmp_path, monkeypatch):
    config = TrainConfig(**SMALL)
    train(config, tmp_path / "straight", log=quiet)

    monkeypatch.setattr(RunLoop, "checkpoint_due", lambda self: self.step == 40)
    monkeypatch.setattr(RunLoop, "save_pending", lambda self: None)  # a kill saves nothing

    def log(line):
        if line.startswith("step     80"):
            raise Killed

    with pytest.raises(Killed):
        train(config, tmp_path / "killed", log=log)
    assert _checkpoints(tmp_path / "killed") == [40]
    assert [r["step"] for r in read_metrics(tmp_path / "killed")] == [20, 40, 60, 80]  # rows past the checkpoint
    monkeypatch.undo()

    train(config, tmp_path / "killed", log=quiet)
    for a, b in zip(
        _leaves(load_params(tmp_path / "straight", config)), _leaves(load_params(tmp_path / "killed", config))
    ):
        np.testing.assert_array_equal(a, b)
    timing = ("wall_time", "steps_per_second", "tokens_per_second")
    assert [{k: v for k, v in r.items() if k not in timing} for r in read_metrics(tmp_path / "straight")] == [
        {k: v for k, v in r.items() if k not in timing} for r in read_metrics(tmp_path / "killed")
    ]


def test_an_interrupted_run_saves_its_last_evaluation_and_resumes_from_it(tmp_path):
    config = TrainConfig(**SMALL)
    train(config, tmp_path / "straight", log=quiet)

    def log(line):
        if line.startswith("step     60"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "stopped", log=log, checkpoint_every=3600)
    assert _checkpoints(tmp_path / "stopped") == [60]
    resumed = []
    train(config, tmp_path / "stopped", log=resumed.append)
    assert any("resuming" in line and "at step 60" in line for line in resumed)
    for a, b in zip(
        _leaves(load_params(tmp_path / "straight", config)), _leaves(load_params(tmp_path / "stopped", config))
    ):
        np.testing.assert_array_equal(a, b)


def test_a_second_run_of_one_shape_in_a_process_compiles_nothing(tmp_path):
    from jax._src import monitoring
    from jax._src.dispatch import BACKEND_COMPILE_EVENT

    compiles = []
    monitoring.register_event_duration_secs_listener(
        lambda event, seconds, **kw: compiles.append(event) if event == BACKEND_COMPILE_EVENT else None
    )
    config = TrainConfig(**{**SMALL, "model": "irnn", "strategy": "combined", "data": "pool", "max_steps": 60})
    train(config, tmp_path / "first", log=quiet)
    first = len(compiles)
    train(
        TrainConfig(
            **{
                **SMALL,
                "model": "irnn",
                "strategy": "combined",
                "data": "pool",
                "max_steps": 60,
                "seed": 1,
                "learning_rate": 0.5,
            }
        ),
        tmp_path / "second",
        log=quiet,
    )
    assert first > 0 and len(compiles) == first, f"{len(compiles) - first} compilations in the second run"


def test_the_phases_of_a_run_add_up_to_its_time(tmp_path):
    phases = {}
    summary = train(TrainConfig(**SMALL), tmp_path / "run", log=quiet, phases=phases)
    assert set(phases) == {"setup", "steps", "batches", "evaluation", "checkpoints", "records"}
    assert all(v >= 0 for v in phases.values()) and phases["checkpoints"] > 0 and phases["evaluation"] > 0
    assert phases["steps"] == pytest.approx(summary["wall_time"])
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["steps"] == 100
