"""One model's training step split over several CPU devices by batch rows (`lte train --cpu-devices N`).

On a CPU, XLA runs a `lax.scan`'s steps on one core: a single run leaves the others idle, while PyTorch splits
each step's matmuls over all of them. Asking JAX for N CPU devices (`use_cpu_devices`, before the first array
is made) and giving each device B / N rows of the batch puts N cores to work on one model: every device runs
the forward and backward scans of its rows, and the gradients are summed once per step (`shard_map` + `psum`).

The gradient is the same as one device's up to float rounding: each device differentiates its rows' summed
loss, and the sum over devices (one collective a step, counts included) is divided by the whole batch's scored
count, the gradient of the batch's mean.
With dropout, each device draws its masks from the step's key folded with its index (independent masks, as
on one device, but not the same bits). A sweep does not need this: its workers already fill one core each.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from lte.core.errors import LteError
from lte.core.metrics import masked_mean_and_counts
from lte.core.model import ModelConfig, forward
from lte.core.optimizer import TrainState, make_optimizer

AXIS = "rows"
PLAIN_GRADIENTS = ("fused", "autodiff")  # per-row losses that add up; RTRL and Pascanu's penalty do not split


def use_cpu_devices(devices: int) -> None:
    """Ask JAX for `devices` CPU devices. Must run before JAX makes its first array in this process."""
    if not isinstance(devices, int) or isinstance(devices, bool) or devices < 1:
        raise LteError(f"--cpu-devices must be a whole number of at least 1, got {devices!r}")
    if devices == 1:
        return
    try:
        jax.config.update("jax_num_cpu_devices", devices)
    except RuntimeError as error:  # the CPU backend already exists with its own count
        raise LteError(
            f"cannot use {devices} CPU devices: JAX's CPU backend is already running with "
            f"{len(jax.devices('cpu'))} ({error})"
        ) from None
    if len(jax.devices("cpu")) != devices:
        raise LteError(f"asked JAX for {devices} CPU devices, it has {len(jax.devices('cpu'))}")


def check_data_parallel(model_config: ModelConfig, batch_size: int, devices: int) -> None:
    """A clear error for a setting this step cannot split, naming the value and what is allowed."""
    if not isinstance(devices, int) or isinstance(devices, bool) or devices < 1:
        raise LteError(f"--cpu-devices must be a whole number of at least 1, got {devices!r}")
    if model_config.gradient not in PLAIN_GRADIENTS or model_config.gradient_norm_penalty > 0:
        raise LteError(
            f"--cpu-devices {devices} splits backpropagation's gradient only (gradient "
            f"{' or '.join(PLAIN_GRADIENTS)}, no gradient_norm_penalty); this run has gradient "
            f"{model_config.gradient!r}, gradient_norm_penalty {model_config.gradient_norm_penalty}"
        )
    if batch_size % devices:
        raise LteError(f"--cpu-devices {devices} needs a batch size divisible by {devices}; batch_size is {batch_size}")


def _rows_loss(params: dict, config: ModelConfig, batch: dict):
    """These rows' summed loss (the batch's mean is the sum over devices over the whole batch's scored count,
    applied after the gradients are summed: one collective per step)."""
    key = None
    if "dropout_seed" in batch:
        seed = batch["dropout_seed"]
        key = jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(seed[0]), seed[1]), jax.lax.axis_index(AXIS))
    logits, _ = forward(params, config, batch["inputs"], batch["resets"], dropout_key=key)
    _, counts = masked_mean_and_counts(logits, batch["targets"], batch["mask"])
    return counts["nll_sum"], counts


@functools.lru_cache(maxsize=16)
def data_parallel_counting_step(model_config: ModelConfig, clip: float, devices: int):
    """`lte.core.train.compiled_counting_step` with the batch's rows split over `devices` CPU devices:
    (state, batch, sums) -> (state, sums); the state is replicated, the batch split by rows."""
    if len(jax.devices("cpu")) < devices:
        raise LteError(
            f"{devices} CPU devices asked for, JAX has {len(jax.devices('cpu'))} (ask for them with "
            f"use_cpu_devices before the first array is made)"
        )
    optimizer = make_optimizer(clip)
    mesh = Mesh(np.array(jax.devices("cpu")[:devices]), (AXIS,))

    def shard_gradient(params: dict, batch: dict):
        return jax.lax.psum(jax.grad(_rows_loss, has_aux=True)(params, model_config, batch), AXIS)

    def step(state: TrainState, batch: dict, sums: dict):
        rows = {name: PartitionSpec() if name == "dropout_seed" else PartitionSpec(AXIS) for name in batch}
        nll_grads, counts = jax.shard_map(
            shard_gradient, mesh=mesh, in_specs=(PartitionSpec(), rows), out_specs=PartitionSpec(), check_vma=False
        )(state.params, batch)
        scale = 1.0 / jnp.maximum(counts["scored"], 1.0)  # the gradient of the whole batch's mean loss
        grads = jax.tree_util.tree_map(lambda g: g * scale, nll_grads)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        new = TrainState(optax.apply_updates(state.params, updates), opt_state)
        return new, jax.tree_util.tree_map(jnp.add, sums, counts)

    replicated, split = NamedSharding(mesh, PartitionSpec()), NamedSharding(mesh, PartitionSpec(AXIS))

    @functools.lru_cache(maxsize=4)
    def compiled(names: tuple[str, ...]):
        """The step for a batch holding `names`: the host's rows go straight to their devices (jit's own
        transfer of NumPy arguments), rather than through a device_put per array (a few hundred us a step)."""
        rows = {name: replicated if name == "dropout_seed" else split for name in names}
        return jax.jit(
            step, in_shardings=(replicated, rows, replicated), out_shardings=replicated, donate_argnums=(0, 2)
        )

    def placed(tree, sharding: NamedSharding):
        """`tree` on `sharding`; a no-op (no per-leaf transfer) where it is there already, as a step's state is
        from the second step on."""
        leaf = jax.tree_util.tree_leaves(tree)[0]
        return tree if getattr(leaf, "sharding", None) == sharding else jax.device_put(tree, sharding)

    def run(state: TrainState, batch: dict, sums: dict):
        if batch["inputs"].shape[0] % devices:
            raise LteError(f"a batch of {batch['inputs'].shape[0]} rows does not split over {devices} CPU devices")
        return compiled(tuple(sorted(batch)))(placed(state, replicated), batch, placed(sums, replicated))

    return run
