"""The IRNN of Le, Jaitly & Hinton 2015: h' = relu(W x + U h + b).

U starts as s * I (s = `identity_scale`, 1 by default; a smaller s forgets
faster), b as 0, and the input weights W from N(0, 0.001**2) (standard
deviation 0.001, as in Le et al.; a run's `input_scale` sets it: reading
one-hot characters, 0.001 gives the IRNN almost no input signal on these tasks).
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from lte.core.flax_cell import RecurrentCell
from lte.core.recurrence import Additive

INPUT_STD = 0.001


def update(params: dict, h_BxH: jax.Array, z_BxH: jax.Array) -> jax.Array:
    """The state after a step, given z = W x + U h + b."""
    return jax.nn.relu(z_BxH)


class IRNN(RecurrentCell):
    """carry h; `xw` = W x + b."""

    identity_scale: float = 1.0
    uses_embedding = False  # the first layer reads the one-hot character
    default_learning_rate = 0.05  # see lte.core.config
    input_scale = INPUT_STD  # the scale of W at initialisation (ModelConfig.input_scale rescales it)
    additive = Additive(recurrent_input=lambda h: h, update=update)

    @nn.compact
    def __call__(self, h_BxH, xw_BxH):
        U = self.param(
            "U",
            lambda key, shape: self.identity_scale * jnp.eye(shape[0], dtype=jnp.float32),
            (h_BxH.shape[-1], self.features),
        )
        h_BxH = jax.nn.relu(xw_BxH + h_BxH @ U)
        return h_BxH, h_BxH

    def input_init(self, key: jax.Array, shape: tuple) -> jax.Array:
        return self.input_scale * jax.random.normal(key, shape, jnp.float32)

    def bias_init(self, key: jax.Array, shape: tuple) -> jax.Array:
        return jnp.zeros(shape, jnp.float32)

    @staticmethod
    def output(h_BxH):
        return h_BxH


CELL = IRNN


# --- the parameter formula and an independent NumPy reference (checked against the model in tests) ---
def layer_parameters(m: int, n: int, options: dict) -> int:
    return n * (n + m + 1)


def numpy_zero_carry(layer: dict, batch: int):
    return np.zeros((batch, layer["U"].shape[0]))


def numpy_step(p: dict, h, x):
    """h' = relu(W x + U h + b), in float64: (carry, h)."""
    h = np.maximum(
        0.0, x @ np.asarray(p["W"], np.float64) + h @ np.asarray(p["U"], np.float64) + np.asarray(p["b"], np.float64)
    )
    return h, h
