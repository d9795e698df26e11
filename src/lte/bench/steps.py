"""The project's training steps as `lte bench` times them: compiled and run once, on timing-only parameters and
a synthetic batch."""

from __future__ import annotations

import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from data_gen.vocab import VOCAB_SIZE
from lte.bench.shapes import Shape
from lte.core.model import ModelConfig, init_params
from lte.core.train import (
    TrainState,
    compiled_counting_step,
    compiled_train_step,
    make_optimizer,
    with_learning_rate,
    zero_counts,
)

COUNTING_RULE = (
    "FLOP/step = 6 x (weight matrices of the recurrent layers, except the first layer's W when it reads "
    "the one-hot character) x B x T; nominal: the embedding-folded lookup still counts its W"
)
SEEDS = (
    "parameters (timing_params): numpy default_rng(0) uniform in +-0.08, model i of an ensemble default_rng(i); "
    "synthetic batch: numpy default_rng(0), model i default_rng(i); PyTorch: manual_seed(0)"
)


def counted_weights(params: dict) -> int:
    """The weights COUNTING_RULE counts: every matrix of the recurrent layers but a one-hot first layer's W."""
    total = 0
    for i, layer in enumerate(params["layers"]):
        for name, weight in layer.items():
            one_hot_lookup = name == "W" and i == 0 and "embed" not in params
            if weight.ndim == 2 and not one_hot_lookup:
                total += weight.size
    return total


def compiled_memory_mb(compiled) -> float | None:
    """The compiled step's own memory (XLA's buffer assignment: arguments, outputs and temporaries), per shape."""
    try:
        stats = compiled.memory_analysis()
    except Exception:  # some backends do not report it
        return None
    if stats is None:
        return None
    peak = getattr(stats, "peak_memory_in_bytes", 0)
    total = peak or (
        stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes - stats.alias_size_in_bytes
    )
    return total / 2**20


def timing_params(config: ModelConfig, seed: int) -> dict:
    """Parameters of `config`'s shapes, for timing only: drawn by NumPy (uniform in +-0.08, Zaremba's range)
    rather than by `init_params`, whose eager random ops compile afresh at every new shape, in each process
    that times it. A step's time does not depend on the values: dense matmuls, no data-dependent branch."""
    shapes = jax.eval_shape(lambda key: init_params(key, config), jax.random.PRNGKey(seed))
    rng = np.random.default_rng(seed)
    return jax.tree.map(lambda leaf: jnp.asarray(rng.uniform(-0.08, 0.08, leaf.shape).astype(leaf.dtype)), shapes)


def _train_state(config: ModelConfig, seed: int) -> TrainState:
    params = timing_params(config, seed)
    return with_learning_rate(TrainState(params, make_optimizer(5.0).init(params)), 0.01)


def _synthetic_batch(shape: Shape, seed: int = 0) -> dict:
    """Random characters (numpy default_rng(seed)), each row a fresh sequence scored at every position."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(1, VOCAB_SIZE, size=(shape.batch, shape.steps)).astype(np.int32)
    resets = np.zeros_like(tokens)
    resets[:, 0] = 1
    return {"inputs": tokens, "targets": np.roll(tokens, -1, axis=1), "mask": np.ones_like(tokens), "resets": resets}


def jax_step(cell: str, shape: Shape, gradient: str = "fused", unroll: int = 1) -> tuple[Callable[[], None], dict]:
    """One compiled training step of `cell` at `shape`, ready to time (compiled and run once)."""
    config = ModelConfig(cell=cell, hidden=shape.hidden, layers=shape.layers, gradient=gradient, unroll=unroll)
    params = timing_params(config, 0)
    state = with_learning_rate(TrainState(params, make_optimizer(5.0).init(params)), 0.01)
    batch = _synthetic_batch(shape)
    step = compiled_train_step(config, 5.0)
    start = time.perf_counter()
    compiled = step.lower(state, batch).compile()
    compile_seconds = time.perf_counter() - start
    holder = {"state": state}

    def one():
        holder["state"], counts = compiled(holder["state"], batch)
        jax.block_until_ready(counts)

    one()
    return one, {
        "compile_s": compile_seconds,
        "flop_per_step": 6 * counted_weights(params) * shape.batch * shape.steps,
        "memory_mb": compiled_memory_mb(compiled),
    }


def single_model_step(cell: str, shape: Shape) -> Callable[[], None]:
    """One model's step as `lte train` takes it (`compiled_counting_step`), ready to time (run once)."""
    config = ModelConfig(cell=cell, hidden=shape.hidden, layers=shape.layers)
    holder = {"state": _train_state(config, 0), "sums": zero_counts()}
    batch, step = _synthetic_batch(shape), compiled_counting_step(config, 5.0)

    def one():
        holder["state"], holder["sums"] = step(holder["state"], batch, holder["sums"])
        jax.block_until_ready(holder["sums"])

    one()
    return one


def ensemble_step(cell: str, shape: Shape, k: int, layout: str) -> Callable[[], None]:
    """K models of `shape` in one compiled step in `layout` (model i from PRNGKey(i)), ready to time (run once)."""
    from lte.methods.ensemble import compiled_ensemble_step, stack

    config = ModelConfig(cell=cell, hidden=shape.hidden, layers=shape.layers)
    holder = {"state": stack([_train_state(config, i) for i in range(k)]), "sums": zero_counts(k)}
    batch = stack([_synthetic_batch(shape, i) for i in range(k)])
    step = compiled_ensemble_step(config, 5.0, layout)

    def one():
        holder["state"], holder["sums"] = step(holder["state"], batch, np.ones(k, bool), holder["sums"])
        jax.block_until_ready(holder["sums"])

    one()
    return one


def split_step(cell: str, shape: Shape, devices: int) -> Callable[[], None]:
    """`lte train --cpu-devices N`'s step: one model, the batch's rows split over `devices` CPU devices
    (`lte.core.data_parallel`), ready to time (run once)."""
    from lte.core.data_parallel import data_parallel_counting_step

    config = ModelConfig(cell=cell, hidden=shape.hidden, layers=shape.layers)
    holder = {"state": _train_state(config, 0), "sums": zero_counts()}
    batch, step = _synthetic_batch(shape), data_parallel_counting_step(config, 5.0, devices)

    def one():
        holder["state"], holder["sums"] = step(holder["state"], batch, holder["sums"])
        jax.block_until_ready(holder["sums"])

    one()
    return one
