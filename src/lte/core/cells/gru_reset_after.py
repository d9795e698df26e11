"""The GRU with the reset gate applied *after* the recurrent matmul (cuDNN, PyTorch's nn.GRU).

u = U h                                  (one [H, 3H] matmul for all three blocks)
z = sigmoid(W_z x + u_z + b_z),  r = sigmoid(W_r x + u_r + b_r)
n = tanh(W_n x + b_n + r * (u_n + b_hn))
h' = (1 - z) * n + z * h

It differs from `gru` (reset before) only once h is nonzero and r < 1; it
has the extra recurrent bias b_hn. One matmul per step, but r multiplies
part of it, so it is not additive and trains with plain autodiff.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from lte.core.flax_cell import INIT_SCALE, RecurrentCell, uniform


class GRUResetAfter(RecurrentCell):
    """carry h; `xw` = W x + b for the blocks z, r, n."""

    gates = 3
    uses_embedding = True
    default_learning_rate = 0.5

    @nn.compact
    def __call__(self, h_BxH, xw_Bx3H):
        H = self.features
        U = self.param("U", uniform(INIT_SCALE), (h_BxH.shape[-1], 3 * H))
        b_hn = self.param("b_hn", uniform(INIT_SCALE), (H,))
        u = h_BxH @ U
        zr = jax.nn.sigmoid(xw_Bx3H[:, : 2 * H] + u[:, : 2 * H])
        z, r = zr[:, :H], zr[:, H:]
        n = jnp.tanh(xw_Bx3H[:, 2 * H :] + r * (u[:, 2 * H :] + b_hn))
        h_BxH = (1.0 - z) * n + z * h_BxH
        return h_BxH, h_BxH

    @staticmethod
    def output(h_BxH):
        return h_BxH


CELL = GRUResetAfter


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
    r = 1.0 / (1.0 + np.exp(-(xw[:, n : 2 * n] + h @ U[:, n : 2 * n])))
    candidate = np.tanh(xw[:, 2 * n :] + r * (h @ U[:, 2 * n :] + b_hn))
    h = (1 - z) * candidate + z * h
    return h, h
