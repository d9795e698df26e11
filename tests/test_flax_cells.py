"""The project's LSTM, reset-after GRU and IRNN against flax's own cells (flax.linen LSTMCell, GRUCell,
SimpleCell with relu), their weights mapped one to one: a second, independent implementation of each."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lte.core.cells import CELLS

B, D, H, T = 3, 5, 4, 7


def _random(shape, rng):
    return jnp.asarray(rng.normal(0, 0.6, shape), jnp.float32)


def _blocks(matrix, count):
    return jnp.split(matrix, count, axis=-1)


def lstm_to_flax(p):
    """Gate blocks i, f, g, o: input kernels without bias; recurrent kernels carry the bias."""
    W, U, b = _blocks(p["W"], 4), _blocks(p["U"], 4), _blocks(p["b"], 4)
    flax = {f"i{g}": {"kernel": w} for g, w in zip("ifgo", W)}
    flax |= {f"h{g}": {"kernel": u, "bias": bias} for g, u, bias in zip("ifgo", U, b)}
    return flax


def gru_reset_after_to_flax(p):
    """Blocks z, r, n; flax puts the input biases on the input kernels and b_hn on the candidate's U."""
    W, U, b = _blocks(p["W"], 3), _blocks(p["U"], 3), _blocks(p["b"], 3)
    return {
        "iz": {"kernel": W[0], "bias": b[0]},
        "ir": {"kernel": W[1], "bias": b[1]},
        "in": {"kernel": W[2], "bias": b[2]},
        "hz": {"kernel": U[0]},
        "hr": {"kernel": U[1]},
        "hn": {"kernel": U[2], "bias": p["b_hn"]},
    }


def irnn_to_flax(p):
    return {"i": {"kernel": p["W"], "bias": p["b"]}, "h": {"kernel": p["U"]}}


CASES = {
    "lstm": (nn.LSTMCell(features=H), lstm_to_flax, lambda carry: carry[1]),
    "gru_reset_after": (nn.GRUCell(features=H), gru_reset_after_to_flax, lambda carry: carry),
    "irnn": (nn.SimpleCell(features=H, activation_fn=nn.relu), irnn_to_flax, lambda carry: carry),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_cell_equals_flax_with_mapped_weights(name):
    cell = CELLS[name]
    flax_cell, to_flax, flax_output = CASES[name]
    rng = np.random.default_rng(0)
    params = jax.tree_util.tree_map(lambda a: _random(a.shape, rng), cell.init(jax.random.PRNGKey(0), D, H, {}))
    xs = _random((T, B, D), rng)
    ours = cell.zero_carry(params, B)
    theirs = flax_cell.initialize_carry(jax.random.PRNGKey(1), (B, D))
    variables = {"params": to_flax(params)}
    assert jax.tree_util.tree_structure(variables) == jax.tree_util.tree_structure(
        flax_cell.init(jax.random.PRNGKey(2), theirs, xs[0])
    ), "the mapping covers every flax parameter"
    for x in xs:
        ours = cell.step(params, ours, x @ params["W"] + params["b"])
        theirs, y = flax_cell.apply(variables, theirs, x)
        np.testing.assert_allclose(np.asarray(cell.output(ours)), np.asarray(y), rtol=2e-5, atol=2e-6)
        np.testing.assert_allclose(np.asarray(cell.output(ours)), np.asarray(flax_output(theirs)), rtol=2e-5, atol=2e-6)
