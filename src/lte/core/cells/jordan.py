"""The Jordan network (Jordan 1986): the layer's *output* of the previous step is fed back.

h = tanh(W x + U y + b),   y' = tanh(V h + c)

where y (H units, the context units of Jordan's paper) is the layer's output
layer: what the next layer or the readout reads and what the next step gets
back. The Elman net (`rnn`) feeds back h instead. All weights U(-0.08, 0.08).
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from lte.core.flax_cell import INIT_SCALE, RecurrentCell, uniform
from lte.core.recurrence import Additive


def update(params: dict, y_BxH: jax.Array, z_BxH: jax.Array) -> jax.Array:
    """The output after a step, given z = W x + U y + b."""
    return jnp.tanh(jnp.tanh(z_BxH) @ params["V"] + params["c"])


class Jordan(RecurrentCell):
    """carry y (the previous output); `xw` = W x + b."""

    uses_embedding = False  # reads the one-hot character, as the Elman net
    default_learning_rate = 0.1
    additive = Additive(recurrent_input=lambda y: y, update=update)

    @nn.compact
    def __call__(self, y_BxH, xw_BxH):
        H = self.features
        U = self.param("U", uniform(INIT_SCALE), (y_BxH.shape[-1], H))
        V, c = self.param("V", uniform(INIT_SCALE), (H, H)), self.param("c", uniform(INIT_SCALE), (H,))
        h_BxH = jnp.tanh(xw_BxH + y_BxH @ U)
        y_BxH = jnp.tanh(h_BxH @ V + c)
        return y_BxH, y_BxH

    @staticmethod
    def output(y_BxH):
        return y_BxH


CELL = Jordan


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
