"""The LSTM of Zaremba & Sutskever: gates i, f, g, o; c' = f*c + i*g, h' = o*tanh(c').

Every weight and bias is initialised U(-0.08, 0.08); the forget-gate bias can
be shifted (`forget_bias`, 0 in the original, 1 after Jozefowicz et al. 2015).
The fused gradient's kernel (`update_forward`, `update_backward`) saves the gate
activations, so that its backward evaluates no transcendental.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from lte.core.flax_cell import INIT_SCALE, RecurrentCell, uniform
from lte.core.recurrence import Additive


class LSTM(RecurrentCell):
    """carry (c, h); `xw` = W x + b for the four gate blocks i, f, g, o."""

    forget_bias: float = 0.0
    gates = 4
    uses_embedding = True  # Zaremba: a learned embedding feeds the first layer
    default_learning_rate = 0.5  # see lte.core.config
    # additive: the fused gradient's kernel, set below the class (Additive of update_forward, update_backward)

    @nn.compact
    def __call__(self, carry, xw_Bx4H):
        c, h = carry
        U = self.param("U", uniform(INIT_SCALE), (h.shape[-1], 4 * self.features))
        i, f, g, o = gate_activations(xw_Bx4H + h @ U)
        c = f * c + i * g
        h = o * jnp.tanh(c)
        return (c, h), h

    def bias_init(self, key: jax.Array, shape: tuple) -> jax.Array:
        return uniform(INIT_SCALE)(key, shape).at[self.features : 2 * self.features].add(self.forget_bias)  # f

    def initialize_carry(self, rng: jax.Array, input_shape: tuple):
        zeros = jnp.zeros((*input_shape[:-1], self.features))
        return zeros, zeros

    @staticmethod
    def output(carry):
        return carry[1]


@jax.custom_jvp
def gate_activations(z_Bx4H: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """sigmoid(i), sigmoid(f), tanh(g), sigmoid(o).

    Each function runs over the whole [B, 4H] block and the gates are sliced afterwards: XLA's CPU code runs
    a transcendental over a column slice several times slower than over a contiguous array, and the values
    are the same elementwise either way. The derivative is each gate's own (`_gate_activations_jvp`), so
    autodiff does not differentiate both functions over the whole block.
    """
    sigmoid_Bx4H, tanh_Bx4H = jax.nn.sigmoid(z_Bx4H), jnp.tanh(z_Bx4H)
    i, f, _, o = jnp.split(sigmoid_Bx4H, 4, axis=-1)
    return i, f, jnp.split(tanh_Bx4H, 4, axis=-1)[2], o


@gate_activations.defjvp
def _gate_activations_jvp(primals, tangents):
    """JAX's own derivative rules of sigmoid and tanh, written as JAX writes them (the same bits)."""
    i, f, g, o = gate_activations(primals[0])
    di, df, dg, do = jnp.split(tangents[0], 4, axis=-1)
    sigmoid_jvp = lambda d, s: d * (s * (1 - s))  # noqa: E731
    return (i, f, g, o), (sigmoid_jvp(di, i), sigmoid_jvp(df, f), (dg + dg * g) * (1 - g), sigmoid_jvp(do, o))


def update_forward(params: dict, carry: tuple[jax.Array, jax.Array], z_Bx4H: jax.Array):
    """`update`, and what `update_backward` needs: the gate activations and tanh(c') (no recomputation)."""
    i, f, g, o = gate_activations(z_Bx4H)
    c = f * carry[0] + i * g
    tanh_c = jnp.tanh(c)
    return (c, o * tanh_c), (i, f, g, o, tanh_c)


def update_backward(params: dict, carry: tuple[jax.Array, jax.Array], saved, d_new):
    """The vector-Jacobian product of `update` from `update_forward`'s activations: (d_carry, d_z, d_params).

    The same operations in the same order as JAX's autodiff of `update` (tests compare them bit for bit).
    """
    i, f, g, o, tanh_c = saved
    d_c, d_h = d_new
    d_tanh_c = (o * d_h) * (1 - tanh_c)
    d_c = (d_c + d_tanh_c) + d_tanh_c * tanh_c  # tanh's derivative as JAX writes it: (1 - t) + (1 - t) t
    d_g = (i * d_c) * (1 - g)
    d_z_Bx4H = jnp.concatenate(
        [(d_c * g) * (i * (1 - i)), (d_c * carry[0]) * (f * (1 - f)), d_g + d_g * g, (d_h * tanh_c) * (o * (1 - o))],
        axis=-1,
    )
    return (f * d_c, jnp.zeros_like(carry[1])), d_z_Bx4H, {}


def update(params: dict, carry: tuple[jax.Array, jax.Array], z_Bx4H: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The state after a step, given z = W x + U h + b."""
    return update_forward(params, carry, z_Bx4H)[0]


LSTM.additive = Additive(
    recurrent_input=LSTM.output, update=update, update_forward=update_forward, update_backward=update_backward
)
CELL = LSTM


# --- the parameter formula and an independent NumPy reference (checked against the model in tests) ---
def layer_parameters(m: int, n: int, options: dict) -> int:
    """A layer of n units reading m inputs: W [m, 4n], U [n, 4n], b [4n]."""
    return 4 * n * (n + m + 1)


def numpy_zero_carry(layer: dict, batch: int):
    n = np.asarray(layer["b"]).size // 4
    return np.zeros((batch, n)), np.zeros((batch, layer["U"].shape[0]))


def numpy_step(p: dict, carry, x):
    """Hochreiter & Schmidhuber's equations with gates i, f, g, o, in float64: (carry, h)."""
    W, U, b = (np.asarray(p[k], np.float64) for k in ("W", "U", "b"))
    c, h = carry
    z = x @ W + h @ U + b
    n = c.shape[-1]
    i, f, g, o = _sigmoid(z[:, :n]), _sigmoid(z[:, n : 2 * n]), np.tanh(z[:, 2 * n : 3 * n]), _sigmoid(z[:, 3 * n :])
    c = f * c + i * g
    h = o * np.tanh(c)
    return (c, h), h


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))
