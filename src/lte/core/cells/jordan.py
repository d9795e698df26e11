"""The Jordan network (Jordan 1986): the layer's *output* of the previous step is fed back.

h = tanh(W x + U y + b),   y' = tanh(V h + c)

where y (H units, the context units of Jordan's paper) is the layer's output
layer: what the next layer or the readout reads and what the next step gets
back. The Elman net (`rnn`) feeds back h instead. All weights U(-0.08, 0.08).
"""

import jax
import jax.numpy as jnp
import numpy as np

uses_embedding = False  # reads the one-hot character, as the Elman net
gates = 1
default_learning_rate = 0.1
INIT_SCALE = 0.08
input_scale = INIT_SCALE  # the scale of W at initialisation (ModelConfig.input_scale rescales it)


def init(key: jax.Array, input_size: int, hidden: int, options: dict) -> dict:
    kw, ku, kb, kv, kc = jax.random.split(key, 5)
    uniform = lambda k, shape: jax.random.uniform(k, shape, jnp.float32, -INIT_SCALE, INIT_SCALE)
    return {"W": uniform(kw, (input_size, hidden)), "U": uniform(ku, (hidden, hidden)), "b": uniform(kb, (hidden,)),
            "V": uniform(kv, (hidden, hidden)), "c": uniform(kc, (hidden,))}


def zero_carry(params: dict, batch: int) -> jax.Array:
    return jnp.zeros((batch, params["V"].shape[1]))


def recurrent_input(y_BxH: jax.Array) -> jax.Array:
    return y_BxH


def update(params: dict, y_BxH: jax.Array, z_BxH: jax.Array) -> jax.Array:
    return jnp.tanh(jnp.tanh(z_BxH) @ params["V"] + params["c"])


def step(params: dict, y_BxH: jax.Array, xw_BxH: jax.Array) -> jax.Array:
    return update(params, y_BxH, xw_BxH + recurrent_input(y_BxH) @ params["U"])


def output(y_BxH: jax.Array) -> jax.Array:
    return y_BxH


# --- the parameter formula and an independent NumPy reference (checked against the model in tests) ---
def layer_parameters(m: int, n: int, options: dict) -> int:
    """The Elman part n(n+m+1) plus the output layer V [n, n], c [n]."""
    return n * (n + m + 1) + n * (n + 1)


def numpy_zero_carry(layer: dict, batch: int):
    return np.zeros((batch, layer["U"].shape[0]))


def numpy_step(p: dict, y, x):
    """h = tanh(W x + U y + b), y' = tanh(V h + c): the previous output is fed back; float64: (carry, y)."""
    W, U, b, V, c = (np.asarray(p[k], np.float64) for k in ("W", "U", "b", "V", "c"))
    y = np.tanh(np.tanh(x @ W + y @ U + b) @ V + c)
    return y, y
