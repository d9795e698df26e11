"""The LSTM with a recurrent projection (LSTMP, Sak, Senior & Beaufays 2014).

z = W x + U r + b  (gates i, f, g, o as in the LSTM; U is [P, 4H])
c' = f*c + i*g,  m = o * tanh(c'),  r' = m @ P_proj   (P_proj [H, P])

The layer's output and its recurrent input are r, of `projection` units
(default H // 2), which cuts U from H x 4H to P x 4H. Initialisation as the
LSTM (`forget_bias` shifts the f block).
"""

import jax
import jax.numpy as jnp
import numpy as np

from lte.core.cells import lstm

uses_embedding = True
gates = 4
input_scale = lstm.INIT_SCALE  # the scale of W at initialisation (ModelConfig.input_scale rescales it)
default_learning_rate = 0.5


def output_size(hidden: int, options: dict) -> int:
    return options.get("projection") or max(1, hidden // 2)


def init(key: jax.Array, input_size: int, hidden: int, options: dict) -> dict:
    k_lstm, k_u, k_p = jax.random.split(key, 3)
    p = output_size(hidden, options)
    params = lstm.init(k_lstm, input_size, hidden, options)
    uniform = lambda k, shape: jax.random.uniform(k, shape, jnp.float32, -lstm.INIT_SCALE, lstm.INIT_SCALE)
    params["U"] = uniform(k_u, (p, 4 * hidden))
    params["P"] = uniform(k_p, (hidden, p))
    return params


def zero_carry(params: dict, batch: int) -> tuple[jax.Array, jax.Array]:
    return jnp.zeros((batch, params["P"].shape[0])), jnp.zeros((batch, params["P"].shape[1]))  # (c, r)


def recurrent_input(carry: tuple[jax.Array, jax.Array]) -> jax.Array:
    return carry[1]  # r multiplies U


def update(params: dict, carry: tuple[jax.Array, jax.Array], z_Bx4H: jax.Array) -> tuple[jax.Array, jax.Array]:
    c, m = lstm.update(params, carry, z_Bx4H)
    return c, m @ params["P"]


def step(params: dict, carry: tuple[jax.Array, jax.Array], xw_Bx4H: jax.Array) -> tuple[jax.Array, jax.Array]:
    return update(params, carry, xw_Bx4H + recurrent_input(carry) @ params["U"])


def output(carry: tuple[jax.Array, jax.Array]) -> jax.Array:
    return carry[1]


# --- the parameter formula and an independent NumPy reference (checked against the model in tests) ---
def layer_parameters(m: int, n: int, options: dict) -> int:
    """W [m, 4n], U [p, 4n], b [4n] and the projection [n, p]."""
    p = output_size(n, options)
    return 4 * n * (p + m + 1) + n * p


def numpy_zero_carry(layer: dict, batch: int):
    return lstm.numpy_zero_carry(layer, batch)


def numpy_step(p: dict, carry, x):
    """The LSTM's equations on the projection r, then r' = m @ P_proj, in float64: (carry, r)."""
    (c, m), _ = lstm.numpy_step(p, carry, x)
    r = m @ np.asarray(p["P"], np.float64)
    return (c, r), r
