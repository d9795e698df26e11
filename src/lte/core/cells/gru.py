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

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from lte.core.flax_cell import INIT_SCALE, RecurrentCell, uniform


class GRU(RecurrentCell):
    """carry h; `xw` = W x + b for the blocks z, r, n."""

    gates = 3
    uses_embedding = True
    default_learning_rate = 0.5

    @nn.compact
    def __call__(self, h_BxH, xw_Bx3H):
        H = self.features
        U = self.param("U", uniform(INIT_SCALE), (h_BxH.shape[-1], 3 * H))
        zr = jax.nn.sigmoid(xw_Bx3H[:, : 2 * H] + h_BxH @ U[:, : 2 * H])
        z, r = zr[:, :H], zr[:, H:]
        n = jnp.tanh(xw_Bx3H[:, 2 * H :] + (r * h_BxH) @ U[:, 2 * H :])
        h_BxH = (1.0 - z) * n + z * h_BxH
        return h_BxH, h_BxH

    @staticmethod
    def output(h_BxH):
        return h_BxH


CELL = GRU


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
    r = 1.0 / (1.0 + np.exp(-(xw[:, n : 2 * n] + h @ U[:, n : 2 * n])))
    candidate = np.tanh(xw[:, 2 * n :] + (r * h) @ U[:, 2 * n :])
    h = (1 - z) * candidate + z * h
    return h, h
