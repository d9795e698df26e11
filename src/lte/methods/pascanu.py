"""The gradient-norm regulariser of Pascanu, Mikolov & Bengio 2013 (eq. 9), against vanishing gradients.

    Omega = sum_k ( |g_(k+1) ds_(k+1)/ds_k| / |g_(k+1)| - 1 )^2,   g_k = d loss / d s_k

asks every step's Jacobian to keep the norm of the error it carries back. As
in the paper, g is held constant (and so are the states): Omega's gradient
flows only through the Jacobians, i.e. the recurrent weights. The training
gradient is d loss + weight * d Omega.

g_k is the *total* derivative of the loss with respect to the state s_k
(through every later step), obtained as the gradient with respect to a zero
perturbation added to each state in a second forward pass. Transitions across
an example boundary (a reset) have no Jacobian and are left out; terms are
averaged over the (step, row) pairs that remain, in every layer.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from lte.core.cells import get_cell
from lte.core.metrics import masked_loss_and_counts, masked_mean_and_counts
from lte.core.model import ModelConfig, fold_embedding, input_projection, matmul_rows
from lte.core.recurrence import reset


def _loss_with_perturbed_states(params: dict, config: ModelConfig, batch: dict, deltas: list):
    """The training loss with `deltas[l][t]` added to layer l's state after step t; also each layer's
    (previous states, input projections, keep flags) for the Jacobians."""
    cell = get_cell(config.cell)
    x = batch["inputs"].T
    keep_TxB = 1.0 - batch["resets"].T.astype(jnp.float32)
    trace = []
    for layer, delta in zip(fold_embedding(params)["layers"], deltas):
        xw_TxBxG = input_projection(layer, x)
        carry0 = cell.zero_carry(layer, x.shape[1])

        def body(carry, inputs, layer=layer):
            xw_BxG, keep_B, delta_t = inputs
            new = cell.step(layer, reset(carry, keep_B), xw_BxG)
            new = jax.tree_util.tree_map(jnp.add, new, delta_t)
            return new, (new, carry)

        _, (states_T, previous_T) = jax.lax.scan(body, carry0, (xw_TxBxG, keep_TxB, delta))
        trace.append((previous_T, xw_TxBxG, keep_TxB))
        x = jax.vmap(cell.output)(states_T)
    logits = matmul_rows(x, params["readout"]["W"]) + params["readout"]["b"]
    loss, _ = masked_mean_and_counts(jnp.transpose(logits, (1, 0, 2)), batch["targets"], batch["mask"])
    return loss, trace


def _zero_deltas(params: dict, config: ModelConfig, batch: dict) -> list:
    cell = get_cell(config.cell)
    B, T = batch["inputs"].shape
    return [
        jax.tree_util.tree_map(lambda z: jnp.zeros((T, *z.shape), z.dtype), cell.zero_carry(layer, B))
        for layer in params["layers"]
    ]


def state_gradients(params: dict, config: ModelConfig, batch: dict):
    """(loss, d loss / d params, [per layer: g_T = d loss / d s_t], [per layer: the trace])."""
    deltas = _zero_deltas(params, config, batch)
    (loss, trace), (d_params, g) = jax.value_and_grad(_loss_with_perturbed_states, argnums=(0, 3), has_aux=True)(
        params, config, batch, deltas
    )
    return loss, d_params, g, trace


def pascanu_penalty(params: dict, config: ModelConfig, g_layers: list, trace: list) -> jax.Array:
    """Omega, with g and the states held constant; differentiable in the recurrent weights."""
    cell = get_cell(config.cell)
    layers = fold_embedding(params)["layers"]
    total, count = 0.0, 0.0
    for layer, g_T, (previous_T, xw_TxBxG, keep_TxB) in zip(layers, g_layers, trace):
        g_T, previous_T, xw_TxBxG = jax.lax.stop_gradient((g_T, previous_T, xw_TxBxG))

        def carried_back(previous, xw, keep, g, layer=layer):
            _, vjp = jax.vjp(lambda s: cell.step(layer, reset(s, keep), xw), previous)
            return vjp(g)[0]

        back_T = jax.vmap(carried_back)(previous_T, xw_TxBxG, keep_TxB, g_T)
        g_norm_TxB, back_norm_TxB = _row_norm(g_T), _row_norm(back_T)
        valid = (keep_TxB > 0) & (g_norm_TxB > 1e-12)
        ratio = back_norm_TxB / jnp.where(valid, g_norm_TxB, 1.0)
        total = total + jnp.where(valid, (ratio - 1.0) ** 2, 0.0).sum()
        count = count + valid.sum()
    return total / jnp.maximum(count, 1.0)


def _row_norm(tree) -> jax.Array:
    """The Euclidean norm over the last axis of every leaf together; its gradient at 0 is 0, not NaN."""
    squares = sum((leaf**2).sum(-1) for leaf in jax.tree_util.tree_leaves(tree))
    positive = squares > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, squares, 1.0)), 0.0)


def pascanu_gradient(params: dict, config: ModelConfig, batch: dict, weight: float) -> tuple[dict, dict]:
    """d loss + weight * d Omega, and the batch's counts (as `masked_loss_and_counts`)."""
    _, d_loss, g_layers, trace = state_gradients(params, config, batch)
    d_omega = jax.grad(pascanu_penalty)(params, config, g_layers, trace)
    grads = jax.tree_util.tree_map(lambda a, b: a + weight * b, d_loss, d_omega)
    return grads, masked_loss_and_counts(params, config, batch)[1]


def loss_gradient(params: dict, config: ModelConfig, batch: dict) -> tuple[dict, dict]:
    """The training method's contract (`lte.core.gradient_methods`): `pascanu_gradient` at the config's weight."""
    return pascanu_gradient(params, config, batch, config.gradient_norm_penalty)
