"""The IRNN of Le, Jaitly & Hinton 2015: h' = relu(W x + U h + b).

U starts as s * I (s = `identity_scale`, 1 by default; a smaller s forgets
faster), b as 0, and the input weights W from N(0, 0.001**2) (standard
deviation 0.001, as in Le et al.; a run's `input_scale` sets it: reading
one-hot characters, 0.001 gives the IRNN almost no input signal on these tasks).
"""

import jax
import jax.numpy as jnp
import numpy as np

uses_embedding = False  # the first layer reads the one-hot character
default_learning_rate = 0.05  # see lte.core.config
gates = 1
INPUT_STD = 0.001
input_scale = INPUT_STD  # the scale of W at initialisation (ModelConfig.input_scale rescales it)


def init(key: jax.Array, input_size: int, hidden: int, options: dict) -> dict:
    scale = options.get("identity_scale", 1.0)
    return {"W": INPUT_STD * jax.random.normal(key, (input_size, hidden), jnp.float32),
            "U": scale * jnp.eye(hidden, dtype=jnp.float32),
            "b": jnp.zeros((hidden,), jnp.float32)}


def zero_carry(params: dict, batch: int) -> jax.Array:
    return jnp.zeros((batch, params["U"].shape[0]))


def recurrent_input(h_BxH: jax.Array) -> jax.Array:
    return h_BxH


def update(params: dict, h_BxH: jax.Array, z_BxH: jax.Array) -> jax.Array:
    """The state after a step, given z = W x + U h + b."""
    return jax.nn.relu(z_BxH)


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
    """h' = relu(W x + U h + b), in float64: (carry, h)."""
    h = np.maximum(0.0, x @ np.asarray(p["W"], np.float64) + h @ np.asarray(p["U"], np.float64)
                   + np.asarray(p["b"], np.float64))
    return h, h
