"""The LSTM with a recurrent projection (LSTMP, Sak, Senior & Beaufays 2014).

z = W x + U r + b  (gates i, f, g, o as in the LSTM; U is [P, 4H])
c' = f*c + i*g,  m = o * tanh(c'),  r' = m @ P_proj   (P_proj [H, P])

The layer's output and its recurrent input are r, of `projection` units
(default H // 2), which cuts U from H x 4H to P x 4H. Initialisation as the
LSTM (`forget_bias` shifts the f block).
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from lte.core.cells import lstm
from lte.core.flax_cell import INIT_SCALE, uniform
from lte.core.recurrence import Additive


def update(params: dict, carry: tuple[jax.Array, jax.Array], z_Bx4H: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The state after a step, given z = W x + U r + b."""
    c, m = lstm.update(params, carry, z_Bx4H)
    return c, m @ params["P"]


class LSTMP(lstm.LSTM):
    """carry (c, r); `xw` = W x + b for the four gate blocks i, f, g, o."""

    projection: int | None = None  # None: hidden // 2
    additive = Additive(recurrent_input=lstm.LSTM.output, update=update)

    @nn.compact
    def __call__(self, carry, xw_Bx4H):
        c, r = carry
        U = self.param("U", uniform(INIT_SCALE), (r.shape[-1], 4 * self.features))
        P = self.param("P", uniform(INIT_SCALE), (self.features, r.shape[-1]))
        i, f, g, o = lstm.gate_activations(xw_Bx4H + r @ U)
        c = f * c + i * g
        r = (o * jnp.tanh(c)) @ P
        return (c, r), r

    @staticmethod
    def output_size(hidden: int, options: dict) -> int:
        return options.get("projection") or max(1, hidden // 2)

    @classmethod
    def from_params(cls, params: dict) -> "LSTMP":
        return cls(features=params["P"].shape[0], projection=params["P"].shape[1])

    def initialize_carry(self, rng: jax.Array, input_shape: tuple):
        batch = input_shape[:-1]
        projection = self.output_size(self.features, {"projection": self.projection})
        return jnp.zeros((*batch, self.features)), jnp.zeros((*batch, projection))


CELL = LSTMP


# --- the parameter formula and an independent NumPy reference (checked against the model in tests) ---
def layer_parameters(m: int, n: int, options: dict) -> int:
    """W [m, 4n], U [p, 4n], b [4n] and the projection [n, p]."""
    p = LSTMP.output_size(n, options)
    return 4 * n * (p + m + 1) + n * p


def numpy_zero_carry(layer: dict, batch: int):
    return lstm.numpy_zero_carry(layer, batch)


def numpy_step(p: dict, carry, x):
    """The LSTM's equations on the projection r, then r' = m @ P_proj, in float64: (carry, r)."""
    (c, m), _ = lstm.numpy_step(p, carry, x)
    r = m @ np.asarray(p["P"], np.float64)
    return (c, r), r
