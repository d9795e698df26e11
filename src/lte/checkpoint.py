"""Checkpoints of a run (Orbax): the train state and the loop's small state, saved atomically."""

from __future__ import annotations

from pathlib import Path

import jax
import orbax.checkpoint as ocp


def manager(directory: Path) -> ocp.CheckpointManager:
    options = ocp.CheckpointManagerOptions(max_to_keep=2, enable_async_checkpointing=False, create=True)
    return ocp.CheckpointManager(directory.absolute(), options=options)


def save(mgr: ocp.CheckpointManager, step: int, state, meta: dict) -> None:
    mgr.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)))
    mgr.wait_until_finished()


def restore_latest(mgr: ocp.CheckpointManager, like_state):
    """(step, state, meta) of the newest checkpoint, or None when there is none."""
    step = mgr.latest_step()
    if step is None:
        return None
    abstract = jax.tree_util.tree_map(ocp.utils.to_shape_dtype_struct, like_state)
    restored = mgr.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract),
                                                         meta=ocp.args.JsonRestore()))
    return step, restored["state"], restored["meta"]
