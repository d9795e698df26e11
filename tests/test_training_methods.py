"""Truncated BPTT, RTRL and dropout, each against an independent computation of what it should give."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lte.core.metrics import masked_loss_and_counts
from lte.core.model import ModelConfig, forward, init_params


def _batch(seed: int = 0, B: int = 3, T: int = 12) -> dict:
    rng = np.random.default_rng(seed)
    resets = np.zeros((B, T), np.int32)
    resets[:, 0] = 1
    resets[1, T // 2] = 1
    return {
        "inputs": jnp.asarray(rng.integers(1, 43, (B, T)), jnp.int32),
        "targets": jnp.asarray(rng.integers(1, 43, (B, T)), jnp.int32),
        "mask": jnp.asarray(rng.integers(0, 2, (B, T)) | (np.arange(T) > T - 3), jnp.int32),
        "resets": jnp.asarray(resets),
    }


def _grad(config, params, batch):
    return jax.grad(lambda p: masked_loss_and_counts(p, config, batch)[0])(params)


def _assert_trees_close(a, b, **tol):
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), **tol)


@pytest.mark.parametrize("cell", ["lstm", "irnn"])
def test_truncated_bptt_with_a_window_as_long_as_the_row_is_full_bptt(cell):
    config = ModelConfig(cell=cell, hidden=8, layers=2)
    params = init_params(jax.random.PRNGKey(0), config)
    batch = _batch()
    full = _grad(config, params, batch)
    for window in (12, 50):
        _assert_trees_close(
            _grad(dataclasses.replace(config, bptt_window=window), params, batch), full, rtol=1e-6, atol=1e-8
        )


def test_truncated_bptt_is_the_sum_of_window_gradients_with_the_state_held_constant():
    """Window 5 on 12 steps = windows [0,5), [5,10), [10,12), each from the state the last one left (a constant)."""
    config = ModelConfig(cell="lstm", hidden=8, layers=2)
    params = init_params(jax.random.PRNGKey(1), config)
    batch = _batch(1)
    truncated = _grad(dataclasses.replace(config, bptt_window=5), params, batch)
    scored = batch["mask"].sum()

    def window_loss(p, start, stop, carries):
        logits, _ = forward(p, config, batch["inputs"][:, start:stop], batch["resets"][:, start:stop], carries)
        nll = -jnp.take_along_axis(jax.nn.log_softmax(logits), batch["targets"][:, start:stop, None], -1)[..., 0]
        return (nll * batch["mask"][:, start:stop]).sum() / scored

    expected, carries = None, None
    for start, stop in ((0, 5), (5, 10), (10, 12)):
        g = jax.grad(window_loss)(params, start, stop, carries)
        expected = g if expected is None else jax.tree_util.tree_map(jnp.add, expected, g)
        _, carries = forward(params, config, batch["inputs"][:, :stop], batch["resets"][:, :stop])
    _assert_trees_close(truncated, expected, rtol=1e-5, atol=1e-7)
    # and it is not the full gradient: the cut matters
    full = _grad(config, params, batch)
    assert not np.allclose(np.asarray(full["layers"][0]["U"]), np.asarray(truncated["layers"][0]["U"]), atol=1e-6)


@pytest.mark.parametrize("cell", ["lstm", "irnn", "gru"])
def test_rtrl_gradients_equal_bptt(cell):
    from lte.methods.rtrl import rtrl_gradient

    config = ModelConfig(cell=cell, hidden=4, layers=2)
    params = init_params(jax.random.PRNGKey(2), config)
    params = jax.tree_util.tree_map(lambda a: a + 0.3 * jax.random.normal(jax.random.PRNGKey(3), a.shape), params)
    batch = _batch(2, B=2, T=7)
    rtrl = jax.jit(lambda p: rtrl_gradient(p, dataclasses.replace(config, gradient="rtrl"), batch))(params)
    _assert_trees_close(rtrl, _grad(config, params, batch), rtol=2e-4, atol=1e-6)


def test_dropout_acts_in_training_only_and_never_on_the_recurrence():
    config = ModelConfig(cell="lstm", hidden=16, layers=2, dropout=0.5)
    params = init_params(jax.random.PRNGKey(4), config)
    batch = _batch(3)
    plain, _ = forward(params, dataclasses.replace(config, dropout=0.0), batch["inputs"], batch["resets"])
    evaluation, _ = forward(params, config, batch["inputs"], batch["resets"])  # no key: no dropout
    np.testing.assert_array_equal(np.asarray(evaluation), np.asarray(plain))
    key = jax.random.PRNGKey(5)
    a, _ = forward(params, config, batch["inputs"], batch["resets"], dropout_key=key)
    b, _ = forward(params, config, batch["inputs"], batch["resets"], dropout_key=key)
    c, _ = forward(params, config, batch["inputs"], batch["resets"], dropout_key=jax.random.PRNGKey(6))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))  # a pure function of the key
    assert not np.allclose(np.asarray(a), np.asarray(plain)) and not np.allclose(np.asarray(a), np.asarray(c))


def test_dropout_masks_inputs_and_outputs_as_a_numpy_reference_does():
    """One IRNN layer, dropout 0.5: the layer reads mask_in * x / 0.5 and the readout mask_out * h / 0.5."""
    from lte.core.model import _dropout

    config = ModelConfig(cell="irnn", hidden=6, layers=1, dropout=0.5)
    params = init_params(jax.random.PRNGKey(7), config)
    params["layers"][0]["U"] = params["layers"][0]["U"] * 0.9
    batch = _batch(4, B=2, T=5)
    key = jax.random.PRNGKey(8)
    logits, _ = forward(params, config, batch["inputs"], batch["resets"], dropout_key=key)
    x = np.asarray(jax.nn.one_hot(batch["inputs"].T, config.vocab_size))
    x = np.asarray(_dropout(jnp.asarray(x), 0.5, jax.random.fold_in(key, 0)))
    layer = {k: np.asarray(v, np.float64) for k, v in params["layers"][0].items()}
    h, hs = np.zeros((2, 6)), []
    for t in range(5):
        h = h * (1 - np.asarray(batch["resets"])[:, t])[:, None]
        h = np.maximum(0, x[t] @ layer["W"] + h @ layer["U"] + layer["b"])
        hs.append(h)
    out = np.asarray(_dropout(jnp.asarray(np.stack(hs), jnp.float32), 0.5, jax.random.fold_in(key, 1)))
    expected = out @ np.asarray(params["readout"]["W"]) + np.asarray(params["readout"]["b"])
    np.testing.assert_allclose(np.asarray(logits), expected.transpose(1, 0, 2), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "options", [{"dropout": 0.3}, {"bptt_window": 4}, {"gradient": "rtrl"}, {"gradient_norm_penalty": 0.5}]
)
def test_each_training_method_trains_a_run(options, tmp_path):
    from lte.core.config import TrainConfig
    from lte.core.train import train

    config = TrainConfig(
        task="copy",
        length=2,
        nesting=1,
        model="lstm",
        hidden=4 if options.get("gradient") else 8,
        layers=1,
        batch_size=2,
        max_steps=2,
        eval_every=2,
        val_size=4,
        test_size=4,
        **options,
    )
    summary = train(config, tmp_path / "run", log=lambda _: None)
    assert summary["steps"] == 2 and np.isfinite(summary["final"]["train_loss"])


def test_pascanu_state_gradients_and_penalty_equal_a_numpy_backward_recursion():
    """tanh RNN, one layer: g_t = dl_t/dh_t + (dh_(t+1)/dh_t)^T g_(t+1); Omega from those g by hand."""
    from lte.methods.pascanu import pascanu_penalty, state_gradients

    config = ModelConfig(cell="rnn", hidden=5, layers=1)
    params = init_params(jax.random.PRNGKey(9), config)
    params["layers"][0]["U"] = params["layers"][0]["U"] * 12  # large enough that ratios differ from 1
    batch = _batch(5, B=2, T=8)
    loss, _, g_layers, trace = state_gradients(params, config, batch)
    omega = float(pascanu_penalty(params, config, g_layers, trace))

    p = {k: np.asarray(v, np.float64) for k, v in params["layers"][0].items()}
    Wo, bo = (np.asarray(params["readout"][k], np.float64) for k in ("W", "b"))
    x, resets = np.asarray(batch["inputs"]), np.asarray(batch["resets"])
    targets, mask = np.asarray(batch["targets"]), np.asarray(batch["mask"], np.float64)
    B, T = x.shape
    h, hs = np.zeros((B, 5)), []
    for t in range(T):
        h = np.tanh(p["W"][x[:, t]] + (h * (1 - resets[:, t])[:, None]) @ p["U"] + p["b"])
        hs.append(h)
    g, total, count = [None] * T, 0.0, 0
    for t in reversed(range(T)):
        logits = hs[t] @ Wo + bo
        probs = np.exp(logits - logits.max(1, keepdims=True))
        probs /= probs.sum(1, keepdims=True)
        d_logits = (probs - np.eye(Wo.shape[1])[targets[:, t]]) * (mask[:, t] / mask.sum())[:, None]
        g[t] = d_logits @ Wo.T
        if t + 1 < T:
            g[t] += ((g[t + 1] * (1 - hs[t + 1] ** 2)) @ p["U"].T) * (1 - resets[:, t + 1])[:, None]
    np.testing.assert_allclose(np.asarray(g_layers[0]), np.stack(g), rtol=1e-4, atol=1e-7)
    for t in range(T):
        back = ((g[t] * (1 - hs[t] ** 2)) @ p["U"].T) * (1 - resets[:, t])[:, None]
        for b in range(B):
            if resets[b, t] == 0 and np.linalg.norm(g[t][b]) > 1e-12:
                total += (np.linalg.norm(back[b]) / np.linalg.norm(g[t][b]) - 1) ** 2
                count += 1
    assert omega == pytest.approx(total / count, rel=1e-4)
    assert float(loss) == pytest.approx(float(masked_loss_and_counts(params, config, batch)[0]), rel=1e-6)


def test_pascanu_gradient_is_the_loss_gradient_plus_the_weighted_penalty_gradient():
    from lte.methods.pascanu import pascanu_gradient, pascanu_penalty, state_gradients

    config = ModelConfig(cell="lstm", hidden=6, layers=2)
    params = init_params(jax.random.PRNGKey(10), config)
    batch = _batch(6)
    plain = _grad(config, params, batch)
    zero, _ = pascanu_gradient(params, config, batch, 0.0)
    _assert_trees_close(zero, plain, rtol=1e-5, atol=1e-7)
    _, _, g_layers, trace = state_gradients(params, config, batch)
    d_omega = jax.grad(pascanu_penalty)(params, config, g_layers, trace)
    weighted, _ = pascanu_gradient(params, config, batch, 2.0)
    _assert_trees_close(
        weighted, jax.tree_util.tree_map(lambda a, b: a + 2.0 * b, plain, d_omega), rtol=1e-4, atol=1e-7
    )
    assert np.abs(np.asarray(d_omega["layers"][0]["U"])).max() > 0  # the penalty reaches the recurrent weights
    assert np.abs(np.asarray(d_omega["readout"]["W"])).max() == 0  # and nothing it should not


@pytest.mark.parametrize(
    "options, message",
    [
        (
            {"gradient": "rtrl", "gradient_norm_penalty": 0.1},
            "gradient rtrl cannot be combined with gradient_norm_penalty",
        ),
        ({"gradient": "rtrl", "bptt_window": 4}, "gradient rtrl cannot be combined with bptt_window"),
        ({"gradient": "rtrl", "dropout": 0.2}, "gradient rtrl cannot be combined with dropout"),
        (
            {"gradient_norm_penalty": 0.1, "bptt_window": 4, "dropout": 0.2},
            "gradient_norm_penalty cannot be combined with bptt_window, dropout",
        ),
    ],
)
def test_a_method_that_would_ignore_another_is_refused(options, message):
    from lte.core.errors import LteError
    from lte.core.model import ModelConfig

    with pytest.raises(LteError, match=message):
        ModelConfig(cell="rnn", hidden=4, layers=1, **options)
    ModelConfig(cell="rnn", hidden=4, layers=1, bptt_window=4, dropout=0.2)  # these two combine
