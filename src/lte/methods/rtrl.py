"""Real-time recurrent learning: the exact gradient, carried forward in time (Williams & Zipser 1989).

Instead of storing the sequence and running backwards (BPTT), RTRL keeps the
sensitivity of the whole state to every parameter, P_t = ds_t/dtheta
[S, P], and updates it each step with forward-mode derivatives:

    P_t = ds_t/ds_(t-1) P_(t-1) + ds_t/dtheta,
    dL/dtheta += dl_t/dtheta + dl_t/ds_(t-1) P_(t-1).

Memory does not grow with T, but a step costs O(S * P) (O(n^4) for n
units): only for small networks (`--gradient rtrl` in training). The state s
is every layer's carry for every row of the batch; resets act on it as in
the forward pass. Tests check the result against BPTT.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from lte.core.cells import get_cell
from lte.core.metrics import masked_loss_and_counts, token_nll
from lte.core.model import ModelConfig, step_all_layers
from lte.core.recurrence import reset


def rtrl_gradient(params: dict, config: ModelConfig, batch: dict) -> dict:
    """The gradient of the mean masked cross-entropy (as `masked_loss_and_counts`), by RTRL."""
    cell = get_cell(config.cell)
    theta, unravel_params = ravel_pytree(params)
    inputs_TxB, targets_TxB = batch["inputs"].T, batch["targets"].T
    mask_TxB = batch["mask"].T.astype(jnp.float32)
    keep_TxB = 1.0 - batch["resets"].T.astype(jnp.float32)
    B = inputs_TxB.shape[1]
    state0, unravel_state = ravel_pytree([cell.zero_carry(layer, B) for layer in params["layers"]])

    def one_step(theta, state, token_B, target_B, mask_B, keep_B):
        carries = reset(unravel_state(state), keep_B)
        carries, logits_BxV = step_all_layers(unravel_params(theta), config, carries, token_B)
        nll_B = token_nll(logits_BxV, target_B)
        return ravel_pytree(carries)[0], (nll_B * mask_B).sum()

    jacobians = jax.jacfwd(one_step, argnums=(0, 1))  # forward mode: [S or 1] x [P], [S or 1] x [S]

    def body(carry, inputs):
        state, sensitivity_SxP, grad_P = carry
        (ds_dtheta, ds_dstate), (dl_dtheta, dl_dstate) = jacobians(theta, state, *inputs)
        grad_P = grad_P + dl_dtheta + dl_dstate @ sensitivity_SxP
        sensitivity_SxP = ds_dtheta + ds_dstate @ sensitivity_SxP
        state, _ = one_step(theta, state, *inputs)
        return (state, sensitivity_SxP, grad_P), None

    start = (state0, jnp.zeros((state0.size, theta.size)), jnp.zeros_like(theta))
    (_, _, grad_P), _ = jax.lax.scan(body, start, (inputs_TxB, targets_TxB, mask_TxB, keep_TxB))
    return unravel_params(grad_P / jnp.maximum(mask_TxB.sum(), 1.0))


def loss_gradient(params: dict, config: ModelConfig, batch: dict) -> tuple[dict, dict]:
    """The training method's contract (`lte.core.gradient_methods`): the RTRL gradient and the batch's counts."""
    return rtrl_gradient(params, config, batch), masked_loss_and_counts(params, config, batch)[1]
