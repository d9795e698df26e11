"""The compiled training steps: loss and gradient, the SGD update, one step or a chunk of them, and the
check that a run has not diverged."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax

from data_gen.vocab import VOCAB_SIZE
from lte.core.config import TrainConfig
from lte.core.gradient_methods import gradient_method
from lte.core.metrics import masked_loss_and_counts
from lte.core.model import ModelConfig, init_params
from lte.core.optimizer import TrainState, make_optimizer


def init_train_state(config: TrainConfig) -> TrainState:
    params = init_params(jax.random.PRNGKey(config.seed), config.model_config())
    return TrainState(params, make_optimizer(config.clip, config.resolved_learning_rate).init(params))


def loss_gradient(params: dict, model_config: ModelConfig, batch: dict) -> tuple[dict, dict]:
    """Gradients of the training loss and the batch's counts: by BPTT, or by the training method the config
    names (`lte.core.gradient_methods`)."""
    method = gradient_method(model_config)
    if method is not None:
        return method(params, model_config, batch)
    return jax.grad(masked_loss_and_counts, has_aux=True)(params, model_config, batch)


def sgd_step(
    state: TrainState, batch: dict, model_config: ModelConfig, optimizer: optax.GradientTransformation
) -> tuple[TrainState, dict]:
    """Loss, gradients, clipping and the SGD update of one model (traced inside a jitted step)."""
    grads, counts = loss_gradient(state.params, model_config, batch)
    updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
    return TrainState(optax.apply_updates(state.params, updates), opt_state), counts


def make_train_step(model_config: ModelConfig, optimizer: optax.GradientTransformation):
    """One jitted step (`sgd_step`); the old state's buffers are donated."""
    return jax.jit(functools.partial(sgd_step, model_config=model_config, optimizer=optimizer), donate_argnums=0)


def counting_sgd_step(model_config: ModelConfig, optimizer: optax.GradientTransformation):
    """`sgd_step` that adds the batch's counts to running sums: (state, batch, sums) -> (state, sums); the one
    step that the single-model, chunked and ensemble steps compile."""

    def step(state: TrainState, batch: dict, sums: dict):
        new, counts = sgd_step(state, batch, model_config, optimizer)
        return new, jax.tree_util.tree_map(jnp.add, sums, counts)

    return step


@functools.lru_cache(maxsize=16)
def compiled_train_step(model_config: ModelConfig, clip: float):
    """The jitted step for these shapes, shared by every run in this process that has them."""
    return make_train_step(model_config, make_optimizer(clip))


@functools.lru_cache(maxsize=16)
def compiled_counting_step(model_config: ModelConfig, clip: float):
    """`compiled_train_step` that also adds the batch's counts to running sums: (state, batch, sums) -> (state,
    sums). The sums stay on the device, so a step costs one dispatch (small nets: the loop's overhead counts)."""
    return jax.jit(counting_sgd_step(model_config, make_optimizer(clip)), donate_argnums=(0, 2))


@functools.lru_cache(maxsize=16)
def compiled_chunk_step(model_config: ModelConfig, clip: float):
    """Several `sgd_step`s in one compiled call: (state, batches [N, ...], sums) -> (state, sums).

    The schedule acts only at evaluations, so the steps between two of them
    run as one `lax.scan` with no return to the host; each step computes what
    `compiled_counting_step` computes, to the bit (tested). The state is not
    donated: the loop keeps the state of the last evaluation until it is saved.
    """
    step = counting_sgd_step(model_config, make_optimizer(clip))

    def steps(state: TrainState, batches_N: dict, sums: dict):
        def body(carry, batch):
            state, sums = carry
            return step(state, batch, sums), None

        return jax.lax.scan(body, (state, sums), batches_N)[0]

    return jax.jit(steps)


def zero_counts(models: int | None = None) -> dict:
    """Training counts (what `sgd_step` returns per batch), zero: scalars, or stacked for `models` models."""
    shape = () if models is None else (models,)
    return {name: np.zeros(shape, np.float32) for name in ("nll_sum", "correct", "scored")}


DIVERGED = "diverged"  # the stop reason of a run whose loss exploded or whose parameters stopped being finite
# A mean training loss above this many nats per answer character has exploded: 100 times a uniform guess's
# log(VOCAB_SIZE) (3.8). A learning model's loss stays near or below the uniform guess's.
DIVERGENCE_FACTOR = 100
DIVERGENCE_LOSS = DIVERGENCE_FACTOR * math.log(VOCAB_SIZE)
# Evaluations in a row above DIVERGENCE_LOSS that make a run diverged (a loss still above it when the run ends
# does too). The default records hold IRNN runs that spiked above it for up to 6 evaluations and recovered.
DIVERGENCE_PATIENCE = 10


@jax.jit
def _all_finite(params: dict) -> jax.Array:
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(params)]))


def params_finite(params: dict) -> bool:
    return bool(_all_finite(params))
