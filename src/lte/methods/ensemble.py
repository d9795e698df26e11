"""K models trained at once in one compiled step (seeds, learning rates, data of their own).

Each model keeps its own parameters, optimizer state (its own learning rate
included), data and curriculum; the step is the single-model step, applied to
each. `train_together` runs K run folders in lock-step and writes each as
`lte.core.train.train` would (its `steps_per_second` and `wall_time` are then
the shared step's: K models share each second).

Two layouts (`LAYOUTS`), chosen per device by measurement (`default_layout`):
- "vectorised" (`vmap`): the K models' parameters and batches stacked along a
  leading axis, one K-batched op per op of the model. It fills an accelerator,
  where one small net uses a sliver of the chip. A model's bits depend on K
  (XLA compiles a different program for each K; the values agree to float32
  rounding), never on which models share the step or in which slot, so a sweep
  always runs K slots, padding a group of fewer runs with slots that sit out:
  a resumed or partial sweep then computes the same bits as a whole one.
- "sequential" (`lax.map`): the models one after another inside the one
  compiled step. They share the step's dispatch and its buffers; each model's
  working set is its own, so K models never spill out of a CPU's cache where
  the vectorised step does. Each model's computation is the one it has alone,
  and so are its bits: a run gives the records it gives when trained alone,
  whatever K. A model that sits out a step costs nothing (`lax.cond`).
"""

from __future__ import annotations

import functools
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from lte.core.config import TrainConfig
from lte.core.console import log_to_stderr
from lte.core.errors import LteError
from lte.core.model import ModelConfig
from lte.core.steps import counting_sgd_step
from lte.core.train import RunLoop, TrainState, make_optimizer, with_learning_rate, zero_counts


def stack(trees: list):
    """K pytrees of equal structure -> one pytree with a leading K axis."""
    return jax.tree_util.tree_map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *trees)


def unstack(tree, k: int) -> list:
    return [take(tree, i) for i in range(k)]


def take(tree, i: int):
    """Model i of a stacked pytree."""
    return jax.tree_util.tree_map(lambda x: x[i], tree)


LAYOUTS = ("vectorised", "sequential")


def default_layout() -> str:
    """The layout K models share a step in by default: "sequential" on a CPU, "vectorised" elsewhere.

    On a CPU a small model's step is bound by its arithmetic and memory traffic, not by per-step overhead, so
    vectorising gains little, and its K-fold working set leaves the cache, where the sequential layout keeps
    one model's. `lte bench`'s ensemble table times both layouts side by side
    (`results/bench/<device>-goals.md`).
    """
    return "sequential" if jax.default_backend() == "cpu" else "vectorised"


def check_layout(layout: str) -> str:
    if layout not in LAYOUTS:
        raise LteError(f"ensemble layout must be one of {', '.join(LAYOUTS)}; got {layout!r}")
    return layout


@functools.lru_cache(maxsize=16)
def compiled_ensemble_step(model_config: ModelConfig, clip: float, layout: str = "vectorised"):
    """A jitted step over K stacked models: (state, batch, active_K, sums) -> (state, sums + counts).

    A model whose `active` flag is False keeps its state and its sums
    unchanged (a run that has stopped while the others go on). The training
    counts are summed here, on the device and stacked, so that a step costs
    no per-model dispatch (`lte.core.train.zero_counts(K)` starts them; a model's
    row is read at its evaluation). `layout`: one of `LAYOUTS` (see the module's docstring).
    """
    step_and_count = counting_sgd_step(model_config, make_optimizer(clip))

    def one_model(state: TrainState, batch: dict, active, sums: dict):
        new, new_sums = step_and_count(state, batch, sums)
        keep = lambda n, o: jnp.where(active, n, o)  # noqa: E731
        return jax.tree_util.tree_map(keep, new, state), jax.tree_util.tree_map(keep, new_sums, sums)

    def one_model_if_active(args):
        state, batch, active, sums = args
        return jax.lax.cond(active, lambda: step_and_count(state, batch, sums), lambda: (state, sums))

    if check_layout(layout) == "sequential":
        return jax.jit(lambda *args: jax.lax.map(one_model_if_active, args), donate_argnums=(0, 3))
    return jax.jit(jax.vmap(one_model), donate_argnums=(0, 3))


def model_sharding(k: int):
    """How K stacked models are laid out: split along the model axis over the local devices, or None.

    With D local devices (GPUs; or CPU devices emulated with
    XLA_FLAGS=--xla_force_host_platform_device_count=D) the K models are
    spread over the largest d <= D that divides K, so 4 GPUs train 4x the
    models in one step's time. With one device nothing is placed.
    """
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    devices = jax.local_devices()
    d = max(n for n in range(1, len(devices) + 1) if k % n == 0)
    if d == 1:
        return None
    return NamedSharding(Mesh(np.array(devices[:d]), ("models",)), PartitionSpec("models"))


def place(tree, sharding):
    """Put a stacked pytree (leading axis K) on the devices `sharding` names (no-op when None)."""
    return tree if sharding is None else jax.device_put(tree, sharding)


def shape_key(config: TrainConfig) -> tuple:
    """Runs with equal keys can share one compiled ensemble step."""
    return config.model_config(), config.clip, config.batch_size, config.resolved_row_length


def train_together(
    configs: list[TrainConfig], outs: list[Path], *, log=None, slots: int | None = None, layout: str | None = None
) -> list[dict]:
    """Train runs of one shape (`shape_key`) as one ensemble; returns each run's summary.

    `log`: one callable for every run's lines, or a list of one per run.
    `slots`: the models per compiled step (default: one per run); slots beyond the runs sit out.
    `layout`: one of `LAYOUTS` (default: `default_layout()`).
    """
    log = log or log_to_stderr
    logs = log if isinstance(log, (list, tuple)) else [log] * len(configs)
    keys = {shape_key(c) for c in configs}
    if len(keys) != 1:
        raise LteError(
            f"runs trained together must share model, clip, batch_size and row length; got {len(keys)} "
            f"different combinations"
        )
    slots = len(configs) if slots is None else slots
    if isinstance(slots, bool) or not isinstance(slots, int) or slots < len(configs):
        raise LteError(f"slots must be an integer >= the number of runs ({len(configs)}), got {slots!r}")
    layout = check_layout(default_layout() if layout is None else layout)
    loops = [RunLoop(c, o, run_log) for c, o, run_log in zip(configs, outs, logs)]
    live = [loop for loop in loops if not loop.finished]
    if live:
        step = compiled_ensemble_step(configs[0].model_config(), configs[0].clip, layout)
        _drive(live, step, slots, model_sharding(slots) if layout == "vectorised" else None)
    return [loop.summary for loop in loops]


def _drive(loops: list[RunLoop], step, slots: int, sharding) -> None:
    k = len(loops)
    for loop in loops:
        loop.models_per_step = slots  # recorded in summary.json: in the vectorised layout the bits depend on it
    idle = slots - k  # padding slots: a copy of the first model that never steps
    state = place(stack([loop.state for loop in loops] + [loops[0].state] * idle), sharding)
    sums = place(zero_counts(slots), sharding)
    last_batch: list[dict | None] = [None] * k
    rates = None
    try:
        while not all(loop.finished for loop in loops):
            for loop in loops:
                loop.check_stop()
            for i, loop in enumerate(loops):
                if loop.ready_to_finish:
                    loop.finish(take(state, i).params)
            active = [loop.wants_step for loop in loops]
            if any(active):
                for i, loop in enumerate(loops):
                    if active[i]:
                        last_batch[i] = loop.next_batch()
                filler = next(b for b in last_batch if b is not None)  # for the slots that sit out this step
                batches = [b if b is not None else filler for b in last_batch] + [filler] * idle
                wanted = [loop.schedule.learning_rate for loop in loops] + [0.0] * idle
                if wanted != rates:  # a new rate only after a decay: no transfer per step
                    rates = wanted
                    state = with_learning_rate(state, place(np.array(rates, np.float32), sharding))
                state, sums = step(
                    state, place(stack(batches), sharding), place(np.array(active + [False] * idle), sharding), sums
                )
                for i, loop in enumerate(loops):
                    if active[i]:
                        loop.count_step()
            for i, loop in enumerate(loops):
                if loop.eval_due:
                    loop.train_counts = take(sums, i)
                    sums = place(jax.tree_util.tree_map(lambda x: x.at[i].set(0.0), sums), sharding)
                    loop.evaluate(take(state, i))
    finally:
        for loop in loops:
            loop.close()
