"""Training K models at once gives each model exactly what training it alone gives."""

import json

import jax
import numpy as np
import pytest

from lte.core.cells import CELLS
from lte.core.config import TrainConfig
from lte.core.data import TrainingBatches
from lte.core.errors import LteError
from lte.core.train import (
    compiled_counting_step,
    init_train_state,
    make_optimizer,
    make_train_step,
    read_metrics,
    train,
    with_learning_rate,
    zero_counts,
)
from lte.methods.ensemble import compiled_ensemble_step, stack, train_together, unstack

# a small copy run that trains in a fraction of a second
TINY = dict(
    task="copy",
    length=3,
    nesting=1,
    model="lstm",
    hidden=16,
    layers=1,
    batch_size=4,
    eval_every=3,
    val_size=20,
    test_size=20,
    data="fresh",
)


@pytest.mark.parametrize("layout", ["vectorised", "sequential"])
def test_an_ensemble_step_equals_separate_steps(layout):
    """Vectorised: to float32 rounding; sequential: bit for bit (each model computes what it computes alone)."""
    configs = [
        TrainConfig(
            task="copy", length=3, nesting=1, model="irnn", hidden=16, layers=2, batch_size=4, seed=s, learning_rate=lr
        )
        for s, lr in [(0, 0.1), (1, 0.05), (2, 0.2)]
    ]
    states = [with_learning_rate(init_train_state(c), c.resolved_learning_rate) for c in configs]
    feeds = [TrainingBatches(c) for c in configs]
    single = make_train_step(configs[0].model_config(), make_optimizer(configs[0].clip))
    ensemble = compiled_ensemble_step(configs[0].model_config(), configs[0].clip, layout)
    separate = list(states)
    together, sums = stack(states), zero_counts(3)
    alone_sums = [0.0, 0.0, 0.0]  # each model's scored characters, summed over the steps it took
    for step in range(3):
        batches = [f.get(step, c.spec().target) for f, c in zip(feeds, configs)]
        active = np.array([True, step != 1, True])  # model 1 sits out step 1
        together, sums = ensemble(together, stack(batches), active, sums)
        for i in range(3):
            if active[i]:
                separate[i], counts = single(separate[i], batches[i])
                alone_sums[i] += float(counts["scored"])
    np.testing.assert_array_equal(np.asarray(sums["scored"]), np.array(alone_sums, np.float32))
    for f in feeds:
        f.close()
    for alone, mapped in zip(separate, unstack(together, 3)):
        for a, b in zip(jax.tree_util.tree_leaves(alone.params), jax.tree_util.tree_leaves(mapped.params)):
            if layout == "sequential":
                np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
            else:
                np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    # the models really differ (own seeds, own learning rates)
    first = [jax.tree_util.tree_leaves(s.params)[0] for s in separate]
    assert not np.allclose(np.asarray(first[0]), np.asarray(first[1]))


def _comparable(rows: list[dict]) -> list[dict]:
    timing = ("wall_time", "steps_per_second", "tokens_per_second")
    return [{k: v for k, v in r.items() if k not in timing} for r in rows]


@pytest.mark.parametrize("layout", ["vectorised", "sequential"])
def test_training_runs_together_writes_what_training_each_alone_writes(tmp_path, layout):
    """Three runs of one shape in lock-step; one stops early (a smaller max_steps), the others go on. In the
    sequential layout every record is the same bits as alone."""
    base = {**TINY, "length": 2, "eval_every": 2}
    configs = [
        TrainConfig(**base, seed=0, max_steps=6),
        TrainConfig(**base, seed=1, max_steps=3),
        TrainConfig(**base, seed=2, max_steps=6, learning_rate=0.2),
    ]
    logs = []
    together = train_together(configs, [tmp_path / f"together{i}" for i in range(3)], log=logs.append, layout=layout)
    alone = [train(c, tmp_path / f"alone{i}", log=lambda _: None) for i, c in enumerate(configs)]
    assert [s["steps"] for s in together] == [6, 3, 6]
    for i, (a, b) in enumerate(zip(together, alone)):
        ra, rb = read_metrics(tmp_path / f"together{i}"), read_metrics(tmp_path / f"alone{i}")
        assert [r["step"] for r in ra] == [r["step"] for r in rb]
        if layout == "sequential":
            assert _comparable(ra) == _comparable(rb), i
        for x, y in zip(_comparable(ra), _comparable(rb)):
            assert x.keys() == y.keys()
            for key in x:
                if isinstance(x[key], float):
                    assert x[key] == pytest.approx(y[key], rel=1e-4, abs=1e-5), (i, key)
                else:
                    assert x[key] == y[key], (i, key)
        assert a["stop_reason"] == b["stop_reason"] == "max_steps"
        assert json.loads((tmp_path / f"together{i}" / "config.json").read_text()) == configs[i].to_json()
    # finished folders are skipped the second time
    again = train_together(configs, [tmp_path / f"together{i}" for i in range(3)], log=logs.append, layout=layout)
    assert [s["steps"] for s in again] == [6, 3, 6]


def test_runs_of_different_shapes_are_refused(tmp_path):
    configs = [
        TrainConfig(task="copy", length=2, nesting=1, hidden=16),
        TrainConfig(task="copy", length=2, nesting=1, hidden=32),
    ]
    with pytest.raises(LteError, match="must share model"):
        train_together(configs, [tmp_path / "a", tmp_path / "b"])


SHARDED_CHECK = """
import jax, numpy as np
assert len(jax.devices()) == 2, jax.devices()
from lte.core.config import TrainConfig
from lte.core.data import TrainingBatches
from lte.methods.ensemble import compiled_ensemble_step, model_sharding, place, stack
from lte.core.train import init_train_state, with_learning_rate, zero_counts
configs = [TrainConfig(task="copy", length=3, nesting=1, model="lstm", hidden=8, layers=1, batch_size=4, seed=s)
           for s in range(4)]
states = stack([with_learning_rate(init_train_state(c), 0.3) for c in configs])
feeds = [TrainingBatches(c) for c in configs]
step = compiled_ensemble_step(configs[0].model_config(), configs[0].clip, "vectorised")
sharding = model_sharding(4)
assert sharding is not None
results = {}
for name, layout in (("sharded", sharding), ("one device", None)):
    state = place(jax.tree_util.tree_map(np.array, states), layout)
    for i in range(3):
        batch = stack([f.get(i, c.spec().target) for f, c in zip(feeds, configs)])
        state, _ = step(state, place(batch, layout), place(np.ones(4, bool), layout), place(zero_counts(4), layout))
    leaves = jax.tree_util.tree_leaves(state.params)
    if layout is not None:
        assert len(leaves[0].sharding.device_set) == 2
    results[name] = [np.asarray(x) for x in leaves]
for f in feeds:
    f.close()
for a, b in zip(results["sharded"], results["one device"]):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
print("ok")
"""


def test_an_ensemble_sharded_over_two_devices_equals_the_unsharded_run():
    """Two emulated CPU devices (a fresh process: the device count is fixed when JAX starts)."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, "-c", SHARDED_CHECK], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]


def test_one_device_places_nothing():
    from lte.methods.ensemble import model_sharding

    assert len(jax.devices()) == 1 and model_sharding(4) is None


def test_a_runs_records_depend_on_its_slots_not_on_its_partners(tmp_path):
    """A sweep pads a last, smaller group with idle slots, so that a resumed or partial sweep computes the
    same bits: model 0 trained beside two others in 4 slots equals model 0 trained alone in 4 slots."""
    base = {**TINY, "max_steps": 6, "strategy": "combined"}
    configs = [TrainConfig(**base, seed=s) for s in range(3)]
    full = train_together(
        configs, [tmp_path / f"full{i}" for i in range(3)], log=lambda _: None, slots=4, layout="vectorised"
    )
    padded = train_together(configs[:1], [tmp_path / "padded0"], log=lambda _: None, slots=4, layout="vectorised")
    assert _comparable(read_metrics(tmp_path / "full0")) == _comparable(read_metrics(tmp_path / "padded0"))
    assert full[0]["models_per_step"] == padded[0]["models_per_step"] == 4
    assert _comparable(read_metrics(tmp_path / "full0")) != _comparable(read_metrics(tmp_path / "full1"))
    with pytest.raises(LteError, match="slots must be an integer >= the number of runs"):
        train_together(configs, [tmp_path / f"x{i}" for i in range(3)], slots=2)


def test_in_the_sequential_layout_a_runs_records_are_its_records_alone_whatever_its_slots(tmp_path):
    base = {**TINY, "model": "irnn", "layers": 2, "max_steps": 6, "strategy": "combined"}
    configs = [TrainConfig(**base, seed=s) for s in range(2)]
    train_together(configs, [tmp_path / f"k{i}" for i in range(2)], log=lambda _: None, slots=5, layout="sequential")
    train(configs[1], tmp_path / "alone", log=lambda _: None)
    assert _comparable(read_metrics(tmp_path / "k1")) == _comparable(read_metrics(tmp_path / "alone"))


def test_an_unknown_layout_is_refused(tmp_path):
    with pytest.raises(LteError, match="ensemble layout must be one of vectorised, sequential; got 'diagonal'"):
        train_together([TrainConfig(task="copy", length=2, nesting=1)], [tmp_path / "a"], layout="diagonal")


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_the_sequential_layout_computes_each_cells_bits_alone(cell):
    """Every cell, with dropout on: two models stepped in sequence inside one compiled step end on the bits each
    ends on when stepped alone (`lte train`'s own step)."""
    configs = [
        TrainConfig(task="copy", length=3, nesting=1, model=cell, hidden=8, layers=2, batch_size=4, seed=s, dropout=0.1)
        for s in range(2)
    ]
    states = [with_learning_rate(init_train_state(c), 0.3) for c in configs]
    feeds = [TrainingBatches(c) for c in configs]
    ensemble = compiled_ensemble_step(configs[0].model_config(), configs[0].clip, "sequential")
    alone = compiled_counting_step(configs[0].model_config(), configs[0].clip)
    separate, separate_sums = list(states), [zero_counts(), zero_counts()]
    together, sums = stack(states), zero_counts(2)
    for step in range(2):
        batches = [
            {**f.get(step, c.spec().target), "dropout_seed": np.array([c.seed, step], np.uint32)}
            for f, c in zip(feeds, configs)
        ]
        together, sums = ensemble(together, stack(batches), np.ones(2, bool), sums)
        for i in range(2):
            separate[i], separate_sums[i] = alone(separate[i], batches[i], separate_sums[i])
    for f in feeds:
        f.close()
    for i, mapped in enumerate(unstack(together, 2)):
        for a, b in zip(jax.tree_util.tree_leaves(separate[i].params), jax.tree_util.tree_leaves(mapped.params)):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        assert float(sums["nll_sum"][i]) == float(separate_sums[i]["nll_sum"])
