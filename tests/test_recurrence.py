"""The fused gradient (lte.core.recurrence) against plain autodiff of the same scan, for every additive cell."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lte.core.cells import CELLS, get_cell
from lte.core.metrics import masked_loss_and_counts
from lte.core.model import ModelConfig, init_params
from lte.core.recurrence import is_additive, scan_layer

ADDITIVE = sorted(name for name, cell in CELLS.items() if is_additive(cell))


def _batch(seed: int, B: int = 3, T: int = 13) -> dict:
    rng = np.random.default_rng(seed)
    resets = (rng.random((B, T)) < 0.15).astype(np.int32)
    resets[:, 0] = 1
    return {
        "inputs": jnp.asarray(rng.integers(1, 43, (B, T)), jnp.int32),
        "targets": jnp.asarray(rng.integers(1, 43, (B, T)), jnp.int32),
        "mask": jnp.asarray(rng.integers(0, 2, (B, T)), jnp.int32),
        "resets": jnp.asarray(resets),
    }


def _random_params(config: ModelConfig, seed: int):
    params = init_params(jax.random.PRNGKey(seed), config)
    rng = np.random.default_rng(seed)
    return jax.tree_util.tree_map(lambda a: jnp.asarray(rng.normal(0, 0.4, a.shape), jnp.float32), params)


def test_the_study_cells_use_the_fused_gradient():
    assert {"lstm", "irnn", "rnn"} <= set(ADDITIVE)


@pytest.mark.parametrize("name", ADDITIVE)
def test_fused_gradient_equals_autodiff_on_the_whole_model(name):
    config = ModelConfig(cell=name, hidden=12, layers=2, gradient="fused")
    params = _random_params(config, seed=5)
    batch = _batch(6)
    grads = {}
    for gradient in ("fused", "autodiff"):
        c = dataclasses.replace(config, gradient=gradient)
        grads[gradient] = jax.jit(jax.grad(lambda p: masked_loss_and_counts(p, c, batch)[0]))(params)
    for fused, plain in zip(jax.tree_util.tree_leaves(grads["fused"]), jax.tree_util.tree_leaves(grads["autodiff"])):
        assert np.abs(np.asarray(plain)).max() > 0  # every parameter really gets a gradient
        np.testing.assert_allclose(np.asarray(fused), np.asarray(plain), rtol=2e-4, atol=2e-6)


@pytest.mark.parametrize("unroll", [1, 3])
@pytest.mark.parametrize("name", ADDITIVE)
def test_fused_layer_gradients_include_the_initial_state_and_the_final_state(name, unroll):
    """A layer started from a given state, scored on its outputs and its final state (what truncated BPTT needs)."""
    cell = get_cell(name)
    config = ModelConfig(cell=name, hidden=6, layers=1)
    layer = _random_params(config, seed=7)["layers"][0]
    rng = np.random.default_rng(8)
    T, B = 9, 4
    xw = jnp.asarray(rng.normal(0, 1, (T, B, layer["W"].shape[1])), jnp.float32)
    keep = jnp.asarray(rng.random((T, B)) > 0.2, jnp.float32)
    carry0 = jax.tree_util.tree_map(
        lambda z: jnp.asarray(rng.normal(0, 0.5, z.shape), jnp.float32), cell.zero_carry(layer, B)
    )
    weights_out = jnp.asarray(rng.normal(0, 1, (T, B, config.output_size)), jnp.float32)

    def score(layer, xw, carry0, gradient):
        final, out = scan_layer(cell, layer, xw, keep, carry0, unroll, gradient)
        return (out * weights_out).sum() + sum(jnp.sin(f).sum() for f in jax.tree_util.tree_leaves(final))

    fused = jax.grad(score, argnums=(0, 1, 2))(layer, xw, carry0, "fused")
    plain = jax.grad(score, argnums=(0, 1, 2))(layer, xw, carry0, "autodiff")
    for a, b in zip(jax.tree_util.tree_leaves(fused), jax.tree_util.tree_leaves(plain)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-4, atol=2e-6)


def test_an_unknown_gradient_is_refused_by_name():
    from lte.core.errors import LteError

    with pytest.raises(LteError, match="unknown gradient 'exact'.*fused, autodiff"):
        ModelConfig(gradient="exact")


OWN_BACKWARD = sorted(name for name, cell in CELLS.items() if is_additive(cell) and cell.additive.update_backward)


def test_the_lstm_has_its_own_update_backward():
    assert "lstm" in OWN_BACKWARD


@pytest.mark.parametrize("name", OWN_BACKWARD)
def test_a_cells_own_update_backward_is_autodiffs_bit_for_bit(name):
    """The saved-activation backward does autodiff's arithmetic in autodiff's order: the same bits, so a record
    trained before it was added is reproduced exactly."""
    cell = get_cell(name)
    config = ModelConfig(cell=name, hidden=16, layers=1)
    layer = _random_params(config, seed=3)["layers"][0]
    extra = {k: v for k, v in layer.items() if k not in ("W", "b", "U")}
    rng = np.random.default_rng(4)
    B = 5
    normal = lambda shape, scale: jnp.asarray(rng.normal(0, scale, shape), jnp.float32)
    carry = jax.tree_util.tree_map(lambda z: normal(z.shape, 1.0), cell.zero_carry(layer, B))
    z = normal((B, layer["U"].shape[1]), 3.0)  # saturated gates too
    d_new = jax.tree_util.tree_map(lambda c: normal(c.shape, 1.0), carry)

    @jax.jit
    def own(carry, z, d_new):
        new, saved = cell.additive.update_forward(extra, carry, z)
        return new, cell.additive.update_backward(extra, carry, saved, d_new)

    @jax.jit
    def autodiff(carry, z, d_new):
        new, vjp = jax.vjp(lambda c, z, e: cell.additive.update(e, c, z), carry, z, extra)
        return new, vjp(d_new)

    for a, b in zip(
        jax.tree_util.tree_leaves(own(carry, z, d_new)), jax.tree_util.tree_leaves(autodiff(carry, z, d_new))
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("name", ADDITIVE)
def test_a_cells_additive_form_is_its_call_bit_for_bit(name):
    """The fused kernel's `update` after `xw + recurrent_input(carry) @ U` is the cell's own `__call__`, and so
    are their gradients: the same bits."""
    cell = get_cell(name)
    layer = _random_params(ModelConfig(cell=name, hidden=16, layers=1), seed=5)["layers"][0]
    rng = np.random.default_rng(6)
    carry = jax.tree_util.tree_map(
        lambda z: jnp.asarray(rng.normal(0, 1, z.shape), jnp.float32), cell.zero_carry(layer, 5)
    )
    xw = jnp.asarray(rng.normal(0, 2, (5, layer["U"].shape[1])), jnp.float32)
    form = cell.additive

    def additive(layer, carry, xw):
        extra = {k: v for k, v in layer.items() if k not in ("W", "b", "U")}
        return form.update(extra, carry, xw + form.recurrent_input(carry) @ layer["U"])

    for how in (
        lambda f: jax.jit(f)(layer, carry, xw),
        lambda f: jax.jit(jax.grad(lambda *a: jnp.sum(cell.output(f(*a)) ** 2), argnums=(0, 1, 2)))(layer, carry, xw),
    ):
        for a, b in zip(jax.tree_util.tree_leaves(how(cell.step)), jax.tree_util.tree_leaves(how(additive))):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
