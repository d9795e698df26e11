"""K models trained at once in one compiled step (`vmap` over seeds or learning rates).

A small recurrent net uses a sliver of an accelerator; stacking K models'
parameters and batches along a leading axis and vectorising the train step
fills it. Each model keeps its own parameters, optimizer state (its own
learning rate included) and data; the step is the single-model step, mapped.
"""

from __future__ import annotations

import functools

import jax
import numpy as np
import optax

from lte.metrics import masked_loss_and_counts
from lte.model import ModelConfig
from lte.train import TrainState, make_optimizer


def stack(trees: list):
    """K pytrees of equal structure -> one pytree with a leading K axis."""
    return jax.tree_util.tree_map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *trees)


def unstack(tree, k: int) -> list:
    return [jax.tree_util.tree_map(lambda x: x[i], tree) for i in range(k)]


@functools.lru_cache(maxsize=16)
def compiled_ensemble_step(model_config: ModelConfig, clip: float):
    """A jitted step over K stacked models: (stacked state, stacked batch) -> (state, counts per model)."""
    optimizer = make_optimizer(clip)

    def one_model(state: TrainState, batch: dict):
        grads, counts = jax.grad(masked_loss_and_counts, has_aux=True)(state.params, model_config, batch)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        return TrainState(optax.apply_updates(state.params, updates), opt_state), counts

    return jax.jit(jax.vmap(one_model), donate_argnums=0)
