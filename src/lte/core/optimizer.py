"""The optimiser every run kind shares: SGD after global-norm clipping, its rate held as state."""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import optax


class TrainState(NamedTuple):
    params: dict
    opt_state: optax.OptState


def make_optimizer(clip: float, learning_rate: float = 0.0) -> optax.GradientTransformation:
    """Plain SGD after global-norm clipping; the learning rate is state, so changing it never recompiles."""
    return optax.chain(
        optax.clip_by_global_norm(clip), optax.inject_hyperparams(optax.sgd)(learning_rate=learning_rate)
    )


def with_learning_rate(state: TrainState, learning_rate: float) -> TrainState:
    clip_state, sgd_state = state.opt_state
    hyper = dict(sgd_state.hyperparams, learning_rate=jnp.asarray(learning_rate, jnp.float32))
    return TrainState(state.params, (clip_state, sgd_state._replace(hyperparams=hyper)))
