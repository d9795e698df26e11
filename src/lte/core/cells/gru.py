"""The GRU of Cho et al. 2014, reset gate applied *before* the recurrent matmul.

z = sigmoid(W_z x + U_z h + b_z)        (update gate)
r = sigmoid(W_r x + U_r h + b_r)        (reset gate)
n = tanh(W_n x + U_n (r * h) + b_n)     (candidate)
h' = (1 - z) * n + z * h

Blocks of W, U, b are ordered (z, r, n). Because the candidate's matmul
needs r first, a step is two dependent matmuls and the cell is not additive
(it trains with plain autodiff). `gru_reset_after` is the cuDNN variant.
All weights U(-0.08, 0.08), as the LSTM.
"""

import jax
import jax.numpy as jnp
import numpy as np

uses_embedding = True
gates = 3
default_learning_rate = 0.5
INIT_SCALE = 0.08
input_scale = INIT_SCALE  # the scale of W at initialisation (ModelConfig.input_scale rescales it)


def init(key: jax.Array, input_size: int, hidden: int, options: dict) -> dict:
    kw, ku, kb = jax.random.split(key, 3)
    uniform = lambda k, shape: jax.random.uniform(k, shape, jnp.float32, -INIT_SCALE, INIT_SCALE)
    return {"W": uniform(kw, (input_size, 3 * hidden)), "U": uniform(ku, (hidden, 3 * hidden)),
            "b": uniform(kb, (3 * hidden,))}


def zero_carry(params: dict, batch: int) -> jax.Array:
    return jnp.zeros((batch, params["U"].shape[0]))


def step(params: dict, h_BxH: jax.Array, xw_Bx3H: jax.Array) -> jax.Array:
    n_units = h_BxH.shape[-1]
    U = params["U"]
    zr = jax.nn.sigmoid(xw_Bx3H[:, :2 * n_units] + h_BxH @ U[:, :2 * n_units])
    z, r = zr[:, :n_units], zr[:, n_units:]
    n = jnp.tanh(xw_Bx3H[:, 2 * n_units:] + (r * h_BxH) @ U[:, 2 * n_units:])
    return (1.0 - z) * n + z * h_BxH


def output(h_BxH: jax.Array) -> jax.Array:
    return h_BxH


# --- the parameter formula and an independent NumPy reference (checked against the model in tests) ---
def layer_parameters(m: int, n: int, options: dict) -> int:
    return 3 * n * (n + m + 1)


def numpy_zero_carry(layer: dict, batch: int):
    return np.zeros((batch, layer["U"].shape[0]))


def numpy_step(p: dict, h, x):
    """Cho et al. 2014, the reset applied before the candidate's matmul; float64: (carry, h)."""
    W, U, b = (np.asarray(p[k], np.float64) for k in ("W", "U", "b"))
    n = h.shape[-1]
    xw = x @ W + b
    z = 1.0 / (1.0 + np.exp(-(xw[:, :n] + h @ U[:, :n])))
    r = 1.0 / (1.0 + np.exp(-(xw[:, n:2 * n] + h @ U[:, n:2 * n])))
    candidate = np.tanh(xw[:, 2 * n:] + (r * h) @ U[:, 2 * n:])
    h = (1 - z) * candidate + z * h
    return h, h
