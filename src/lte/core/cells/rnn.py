"""The plain tanh recurrent net (Elman): h' = tanh(W x + U h + b), all U(-0.08, 0.08)."""

import jax
import jax.numpy as jnp
import numpy as np

uses_embedding = False  # the first layer reads the one-hot character
default_learning_rate = 0.1  # see lte.core.config
gates = 1
INIT_SCALE = 0.08
input_scale = INIT_SCALE  # the scale of W at initialisation (ModelConfig.input_scale rescales it)


def init(key: jax.Array, input_size: int, hidden: int, options: dict) -> dict:
    kw, ku, kb = jax.random.split(key, 3)
    uniform = lambda k, shape: jax.random.uniform(k, shape, jnp.float32, -INIT_SCALE, INIT_SCALE)
    return {"W": uniform(kw, (input_size, hidden)), "U": uniform(ku, (hidden, hidden)),
            "b": uniform(kb, (hidden,))}


def zero_carry(params: dict, batch: int) -> jax.Array:
    return jnp.zeros((batch, params["U"].shape[0]))


def recurrent_input(h_BxH: jax.Array) -> jax.Array:
    return h_BxH


def update(params: dict, h_BxH: jax.Array, z_BxH: jax.Array) -> jax.Array:
    """The state after a step, given z = W x + U h + b."""
    return jnp.tanh(z_BxH)


def step(params: dict, h_BxH: jax.Array, xw_BxH: jax.Array) -> jax.Array:
    return update(params, h_BxH, xw_BxH + recurrent_input(h_BxH) @ params["U"])


def output(h_BxH: jax.Array) -> jax.Array:
    return h_BxH


# --- the parameter formula and an independent NumPy reference (checked against the model in tests) ---
def layer_parameters(m: int, n: int, options: dict) -> int:
    return n * (n + m + 1)


def numpy_zero_carry(layer: dict, batch: int):
    return np.zeros((batch, layer["U"].shape[0]))


def numpy_step(p: dict, h, x):
    """h' = tanh(W x + U h + b), in float64: (carry, h)."""
    h = np.tanh(x @ np.asarray(p["W"], np.float64) + h @ np.asarray(p["U"], np.float64)
                + np.asarray(p["b"], np.float64))
    return h, h
