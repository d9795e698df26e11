"""The study's metrics: teacher-forced per-character accuracy and exact match of a greedy decode."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from lte.core.model import ModelConfig, fold_embedding, forward, step_all_layers


def token_nll(logits_xV: jax.Array, targets: jax.Array) -> jax.Array:
    """-log p(target) at every position: logits [..., V], integer targets [...] -> [...]."""
    return -jnp.take_along_axis(jax.nn.log_softmax(logits_xV), targets[..., None], axis=-1)[..., 0]


def masked_mean_and_counts(logits_xV: jax.Array, targets: jax.Array, mask: jax.Array):
    """Mean cross-entropy over the positions `mask` scores, and (sum of nll, correct, scored) counts."""
    mask = mask.astype(jnp.float32)
    scored = mask.sum()
    nll_sum = (token_nll(logits_xV, targets) * mask).sum()
    correct = ((jnp.argmax(logits_xV, -1) == targets) * mask).sum()
    return nll_sum / jnp.maximum(scored, 1.0), {"nll_sum": nll_sum, "correct": correct, "scored": scored}


def masked_loss_and_counts(params: dict, config: ModelConfig, batch: dict):
    """Mean cross-entropy over scored positions, and (sum of nll, correct, scored) counts.

    `batch` holds int32 [B, T] arrays `inputs`, `targets`, `mask`, `resets`, and in training
    with dropout a `dropout_seed` (uint32 [2]: run seed, step) that makes the dropout masks.
    """
    key = None
    if "dropout_seed" in batch:
        key = jax.random.fold_in(jax.random.PRNGKey(batch["dropout_seed"][0]), batch["dropout_seed"][1])
    logits, _ = forward(params, config, batch["inputs"], batch["resets"], dropout_key=key)
    return masked_mean_and_counts(logits, batch["targets"], batch["mask"])


def compute_metrics(counts: dict) -> dict:
    """Loss and teacher-forced character accuracy from summed counts."""
    scored = max(float(counts["scored"]), 1.0)
    return {"loss": float(counts["nll_sum"]) / scored, "char_accuracy": float(counts["correct"]) / scored}


def greedy_decode(
    params: dict, config: ModelConfig, prompts_BxP: jax.Array, resets_BxP: jax.Array, steps: int
) -> jax.Array:
    """Read each (left-padded) prompt, then feed the model its own argmax for `steps` characters.

    Returns the predicted characters [B, steps]; the first is predicted at the prompt's '@'.
    """
    params = fold_embedding(params)  # once, not at every decoded character
    logits, carries = forward(params, config, prompts_BxP, resets_BxP)
    first = jnp.argmax(logits[:, -1], -1).astype(jnp.int32)

    def body(state, _):
        carries, token = state
        carries, logits = step_all_layers(params, config, carries, token)
        nxt = jnp.argmax(logits, -1).astype(jnp.int32)
        return (carries, nxt), token

    _, predicted_SxB = jax.lax.scan(body, (carries, first), None, length=steps)
    return predicted_SxB.T
