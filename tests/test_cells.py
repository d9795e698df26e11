"""Each cell's equations against its independent NumPy reference (`numpy_step` in its module, float64);
gradients against finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lte.core.cells import CELLS
from lte.core.model import ModelConfig, forward, init_params


def numpy_forward(name, params, inputs_BxT, resets_BxT):
    """The whole model in NumPy: embedding, stacked layers with resets, readout."""
    B, T = inputs_BxT.shape
    if "embed" in params:
        x = np.asarray(params["embed"], np.float64)[inputs_BxT]  # [B, T, H]
    else:  # the first layer reads the one-hot character
        x = np.eye(params["readout"]["W"].shape[1])[inputs_BxT]  # [B, T, V]
    for layer in params["layers"]:
        cell = CELLS[name]
        carry, outs = cell.numpy_zero_carry(layer, B), []
        for t in range(T):
            keep = (1 - resets_BxT[:, t])[:, None]
            carry = tuple(c * keep for c in carry) if isinstance(carry, tuple) else carry * keep
            carry, h = cell.numpy_step(layer, carry, x[:, t])
            outs.append(h)
        x = np.stack(outs, axis=1)
    return x @ np.asarray(params["readout"]["W"], np.float64) + np.asarray(params["readout"]["b"], np.float64)


def random_params(name, seed=0, hidden=8, layers=2, embedding=None):
    """Initialised params with every array replaced by random values (so no structure hides a bug)."""
    config = ModelConfig(
        cell=name, hidden=hidden, layers=layers, embedding=embedding, projection=3 if name == "lstmp" else None
    )
    params = init_params(jax.random.PRNGKey(seed), config)
    rng = np.random.default_rng(seed)
    return config, jax.tree_util.tree_map(lambda a: jnp.asarray(rng.normal(0, 0.5, a.shape), jnp.float32), params)


@pytest.mark.parametrize("embedding", [None, True, False])
@pytest.mark.parametrize("name", sorted(CELLS))
def test_forward_equals_numpy(name, embedding):
    config, params = random_params(name, embedding=embedding)
    assert ("embed" in params) == config.uses_embedding
    rng = np.random.default_rng(1)
    inputs = rng.integers(1, config.vocab_size, size=(3, 11)).astype(np.int32)
    resets = np.zeros((3, 11), np.int32)
    resets[:, 0] = 1
    resets[0, 4] = resets[2, 7] = 1
    logits, _ = forward(params, config, jnp.asarray(inputs), jnp.asarray(resets))
    expected = numpy_forward(name, params, inputs, resets)
    np.testing.assert_allclose(np.asarray(logits), expected, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_gradients_equal_finite_differences(name):
    from lte.core.metrics import masked_loss_and_counts

    config, params = random_params(name, seed=2, hidden=4, layers=2)
    rng = np.random.default_rng(3)
    batch = {
        "inputs": rng.integers(1, 43, size=(2, 6)),
        "targets": rng.integers(1, 43, size=(2, 6)),
        "mask": rng.integers(0, 2, size=(2, 6)),
        "resets": np.array([[1, 0, 0, 1, 0, 0], [1, 0, 0, 0, 0, 0]]),
    }
    with jax.enable_x64(True):
        params64 = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), params)
        batch64 = {k: jnp.asarray(v, jnp.int32) for k, v in batch.items()}
        loss = jax.jit(lambda p: masked_loss_and_counts(p, config, batch64)[0])
        grads = jax.grad(loss)(params64)
        leaves, treedef = jax.tree_util.tree_flatten(params64)
        grad_leaves = jax.tree_util.tree_leaves(grads)
        eps = 1e-6
        for leaf_index, (leaf, grad) in enumerate(zip(leaves, grad_leaves)):
            flat = np.asarray(leaf).ravel()
            for j in np.random.default_rng(leaf_index).choice(flat.size, size=min(4, flat.size), replace=False):

                def shifted(delta):
                    new = flat.copy()
                    new[j] += delta
                    changed = list(leaves)
                    changed[leaf_index] = jnp.asarray(new.reshape(leaf.shape))
                    return float(loss(jax.tree_util.tree_unflatten(treedef, changed)))

                numeric = (shifted(eps) - shifted(-eps)) / (2 * eps)
                assert abs(numeric - float(np.asarray(grad).ravel()[j])) < 1e-6 + 1e-5 * abs(numeric)


def test_initialisations_follow_the_study():
    lstm = init_params(jax.random.PRNGKey(0), ModelConfig(cell="lstm", hidden=64, layers=2))
    for layer in lstm["layers"]:
        for k in ("W", "U", "b"):
            assert float(jnp.abs(layer[k]).max()) <= 0.08 and float(jnp.abs(layer[k]).max()) > 0.07
    shifted = init_params(jax.random.PRNGKey(0), ModelConfig(cell="lstm", hidden=64, layers=1, forget_bias=1.0))
    b = shifted["layers"][0]["b"]
    assert float(b[64:128].min()) > 0.9 and float(jnp.abs(b[:64]).max()) <= 0.08
    irnn = init_params(jax.random.PRNGKey(0), ModelConfig(cell="irnn", hidden=64, layers=1, identity_scale=0.5))
    layer = irnn["layers"][0]
    np.testing.assert_array_equal(np.asarray(layer["U"]), 0.5 * np.eye(64))
    assert float(jnp.abs(layer["b"]).max()) == 0.0
    assert 0.0008 < float(jnp.std(layer["W"])) < 0.0012


def test_irnn_carries_a_positive_state_unchanged():
    """Seed 000 section 2.3: with W = 0, b = 0 and U = I, a positive hidden state is kept as it is."""
    irnn = CELLS["irnn"]
    params = {"W": jnp.zeros((5, 6)), "U": jnp.eye(6), "b": jnp.zeros(6)}
    h0 = jnp.asarray(np.random.default_rng(0).uniform(0.1, 2.0, size=(3, 6)), jnp.float32)
    h = h0
    for _ in range(200):
        h = irnn.step(params, h, jnp.zeros((3, 6)))  # the input projection W x + b is zero
    np.testing.assert_array_equal(np.asarray(h), np.asarray(h0))
    # and through the model's scanned layer, 300 steps of zero input
    from lte.core.model import run_layer

    final, hs = run_layer(irnn, params, jnp.zeros((300, 3, 5)), jnp.zeros((300, 3)), carry=h0)
    np.testing.assert_array_equal(np.asarray(final), np.asarray(h0))


def test_the_two_gru_variants_differ_only_where_the_reset_gate_acts():
    """Same weights, b_hn = 0: equal at the first step (h = 0) and when r = 1; different otherwise."""
    gru, gru_reset_after = CELLS["gru"], CELLS["gru_reset_after"]
    rng = np.random.default_rng(4)
    n, m, B = 5, 3, 2
    p = {
        "W": jnp.asarray(rng.normal(0, 0.5, (m, 3 * n)), jnp.float32),
        "U": jnp.asarray(rng.normal(0, 0.5, (n, 3 * n)), jnp.float32),
        "b": jnp.asarray(rng.normal(0, 0.5, 3 * n), jnp.float32),
        "b_hn": jnp.zeros(n),
    }
    xw = jnp.asarray(rng.normal(0, 1, (B, m)), jnp.float32) @ p["W"] + p["b"]
    zero = jnp.zeros((B, n))
    np.testing.assert_allclose(gru.step(p, zero, xw), gru_reset_after.step(p, zero, xw), rtol=1e-6)
    h = jnp.asarray(rng.normal(0, 1, (B, n)), jnp.float32)
    assert not np.allclose(gru.step(p, h, xw), gru_reset_after.step(p, h, xw), atol=1e-3)
    open_gate = xw.at[:, n : 2 * n].set(50.0)  # r = sigmoid(50) = 1
    np.testing.assert_allclose(gru.step(p, h, open_gate), gru_reset_after.step(p, h, open_gate), rtol=1e-5, atol=1e-6)


def test_lstm_gates_over_the_whole_block_equal_gates_over_each_slice():
    """The LSTM applies sigmoid and tanh to the whole [B, 4H] block and slices afterwards (faster on XLA's CPU);
    elementwise, the values and derivatives are those of each gate's own slice, bit for bit."""
    from lte.core.cells import lstm

    z = jnp.asarray(np.random.default_rng(0).normal(0, 4, (7, 4 * 24)), jnp.float32)
    whole = jax.jit(lstm.gate_activations)(z)

    @jax.jit
    def per_slice(z):
        i, f, g, o = jnp.split(z, 4, axis=-1)
        return jax.nn.sigmoid(i), jax.nn.sigmoid(f), jnp.tanh(g), jax.nn.sigmoid(o)

    for a, b in zip(whole, per_slice(z)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # and so are their derivatives, forward (RTRL) and reverse (autodiff)
    dz = jnp.asarray(np.random.default_rng(1).normal(0, 1, z.shape), jnp.float32)
    jvp = lambda fn: jax.jit(lambda z, dz: jax.jvp(fn, (z,), (dz,)))(z, dz)  # noqa: E731
    vjp = lambda fn: jax.jit(lambda z, cts: jax.vjp(fn, z)[1](cts))(z, tuple(jnp.split(dz, 4, -1)))  # noqa: E731
    for how in (jvp, vjp):
        for a, b in zip(
            jax.tree_util.tree_leaves(how(lstm.gate_activations)), jax.tree_util.tree_leaves(how(per_slice))
        ):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("name", sorted(CELLS))
def test_parameter_counts_match_the_closed_formulas(name):
    from lte.core.model import count_params
    from lte.study.analysis.parameters import closed_form_parameters, layer_formula

    for hidden, layers in ((64, 1), (400, 2)):
        config = ModelConfig(cell=name, hidden=hidden, layers=layers)
        params = init_params(jax.random.PRNGKey(0), config)
        expected = closed_form_parameters(config)
        assert count_params(params) == expected["total"]
        first_input = hidden if config.uses_embedding else config.vocab_size
        out = config.output_size
        assert count_params(params["layers"][0]) == layer_formula(name, first_input, hidden)
        if layers > 1:
            assert count_params(params["layers"][1]) == layer_formula(name, out, hidden)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_every_cell_trains_by_name(name, tmp_path):
    """`lte train --model <name>` end to end: a few real steps on copy, a finished run folder."""
    from lte.core.config import TrainConfig
    from lte.core.train import train

    config = TrainConfig(
        task="copy",
        length=2,
        nesting=1,
        model=name,
        hidden=8,
        layers=2,
        batch_size=4,
        max_steps=4,
        eval_every=2,
        val_size=8,
        test_size=8,
    )
    summary = train(config, tmp_path / name, log=lambda _: None)
    assert summary["steps"] == 4 and np.isfinite(summary["final"]["train_loss"])


def test_input_scale_reaches_the_initial_input_weights():
    """`input_scale` (the IRNN's fairness fix) rescales every layer's W, through TrainConfig as the trainer
    builds it."""
    from lte.core.config import TrainConfig
    from lte.core.errors import LteError
    from lte.core.train import init_train_state

    base = init_train_state(TrainConfig(model="irnn", hidden=64, layers=2, seed=3)).params
    scaled = init_train_state(TrainConfig(model="irnn", hidden=64, layers=2, seed=3, input_scale=0.3)).params
    for b, s in zip(base["layers"], scaled["layers"]):
        np.testing.assert_allclose(np.asarray(s["W"]), np.asarray(b["W"]) * 300, rtol=1e-5)
        np.testing.assert_array_equal(np.asarray(s["U"]), np.asarray(b["U"]))  # identity untouched
    assert abs(float(np.std(np.asarray(base["layers"][0]["W"]))) - 0.001) < 1e-4  # Le et al.'s default
    assert abs(float(np.std(np.asarray(scaled["layers"][0]["W"]))) - 0.3) < 0.03
    lstm = init_train_state(TrainConfig(model="lstm", hidden=32, layers=1, input_scale=0.3)).params
    w = np.asarray(lstm["layers"][0]["W"])
    assert 0.2 < np.abs(w).max() <= 0.3  # the uniform half-width moved from 0.08 to 0.3
    for bad in (0.0, -1.0, float("nan"), True):
        with pytest.raises(LteError, match="input_scale"):
            TrainConfig(model="irnn", input_scale=bad)


def test_a_new_cell_is_one_module(tmp_path, monkeypatch):
    """A module dropped into a cells package is registered by its file name; one that lacks a required part is
    a clear error naming it."""
    from lte.core.cells import register
    from lte.core.errors import LteError

    package = tmp_path / "extra_cells"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "elman.py").write_text("from lte.core.cells.rnn import *  # noqa: F401,F403\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cells = register([str(package)], "extra_cells")
    assert list(cells) == ["elman"] and cells["elman"].layer_parameters(3, 2, {}) == 2 * (2 + 3 + 1)
    (package / "broken.py").write_text("from lte.core.cells.rnn import RNN, numpy_step  # noqa: F401\n")
    with pytest.raises(
        LteError,
        match=r"cell module extra_cells.broken lacks CELL, layer_parameters, "
        r"numpy_zero_carry \(see lte.core.cells\)",
    ):
        register([str(package)], "extra_cells")


def test_the_study_cells_lead_the_registry():
    assert list(CELLS)[:2] == ["lstm", "irnn"] and set(CELLS) >= {"rnn", "gru", "gru_reset_after", "lstmp", "jordan"}
