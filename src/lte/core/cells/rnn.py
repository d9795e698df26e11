"""The plain tanh recurrent net (Elman): h' = tanh(W x + U h + b), all U(-0.08, 0.08)."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from lte.core.flax_cell import INIT_SCALE, RecurrentCell, uniform
from lte.core.recurrence import Additive


def update(params: dict, h_BxH: jax.Array, z_BxH: jax.Array) -> jax.Array:
    """The state after a step, given z = W x + U h + b."""
    return jnp.tanh(z_BxH)


class RNN(RecurrentCell):
    """carry h; `xw` = W x + b."""

    uses_embedding = False  # the first layer reads the one-hot character
    default_learning_rate = 0.1  # see lte.core.config
    additive = Additive(recurrent_input=lambda h: h, update=update)

    @nn.compact
    def __call__(self, h_BxH, xw_BxH):
        U = self.param("U", uniform(INIT_SCALE), (h_BxH.shape[-1], self.features))
        h_BxH = jnp.tanh(xw_BxH + h_BxH @ U)
        return h_BxH, h_BxH

    @staticmethod
    def output(h_BxH):
        return h_BxH


CELL = RNN


# --- the parameter formula and an independent NumPy reference (checked against the model in tests) ---
def layer_parameters(m: int, n: int, options: dict) -> int:
    return n * (n + m + 1)


def numpy_zero_carry(layer: dict, batch: int):
    return np.zeros((batch, layer["U"].shape[0]))


def numpy_step(p: dict, h, x):
    """h' = tanh(W x + U h + b), in float64: (carry, h)."""
    h = np.tanh(
        x @ np.asarray(p["W"], np.float64) + h @ np.asarray(p["U"], np.float64) + np.asarray(p["b"], np.float64)
    )
    return h, h
