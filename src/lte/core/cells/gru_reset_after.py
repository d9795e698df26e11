"""The GRU with the reset gate applied *after* the recurrent matmul (cuDNN, PyTorch's nn.GRU).

u = U h                                  (one [H, 3H] matmul for all three blocks)
z = sigmoid(W_z x + u_z + b_z),  r = sigmoid(W_r x + u_r + b_r)
n = tanh(W_n x + b_n + r * (u_n + b_hn))
h' = (1 - z) * n + z * h

It differs from `gru` (reset before) only once h is nonzero and r < 1; it
has the extra recurrent bias b_hn. One matmul per step, but r multiplies
part of it, so it is not additive and trains with plain autodiff.
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
    kw, ku, kb, kh = jax.random.split(key, 4)
    uniform = lambda k, shape: jax.random.uniform(k, shape, jnp.float32, -INIT_SCALE, INIT_SCALE)
    return {"W": uniform(kw, (input_size, 3 * hidden)), "U": uniform(ku, (hidden, 3 * hidden)),
            "b": uniform(kb, (3 * hidden,)), "b_hn": uniform(kh, (hidden,))}


def zero_carry(params: dict, batch: int) -> jax.Array:
    return jnp.zeros((batch, params["U"].shape[0]))


def step(params: dict, h_BxH: jax.Array, xw_Bx3H: jax.Array) -> jax.Array:
    n_units = h_BxH.shape[-1]
    u = h_BxH @ params["U"]
    zr = jax.nn.sigmoid(xw_Bx3H[:, :2 * n_units] + u[:, :2 * n_units])
    z, r = zr[:, :n_units], zr[:, n_units:]
    n = jnp.tanh(xw_Bx3H[:, 2 * n_units:] + r * (u[:, 2 * n_units:] + params["b_hn"]))
    return (1.0 - z) * n + z * h_BxH


def output(h_BxH: jax.Array) -> jax.Array:
    return h_BxH


# --- the parameter formula and an independent NumPy reference (checked against the model in tests) ---
def layer_parameters(m: int, n: int, options: dict) -> int:
    """The GRU's 3n(n+m+1) plus b_hn [n]."""
    return 3 * n * (n + m + 1) + n


def numpy_zero_carry(layer: dict, batch: int):
    return np.zeros((batch, layer["U"].shape[0]))


def numpy_step(p: dict, h, x):
    """The cuDNN variant: the reset gate scales U_n h + b_hn after the matmul; float64: (carry, h)."""
    W, U, b, b_hn = (np.asarray(p[k], np.float64) for k in ("W", "U", "b", "b_hn"))
    n = h.shape[-1]
    xw = x @ W + b
    z = 1.0 / (1.0 + np.exp(-(xw[:, :n] + h @ U[:, :n])))
    r = 1.0 / (1.0 + np.exp(-(xw[:, n:2 * n] + h @ U[:, n:2 * n])))
    candidate = np.tanh(xw[:, 2 * n:] + r * (h @ U[:, 2 * n:] + b_hn))
    h = (1 - z) * candidate + z * h
    return h, h
