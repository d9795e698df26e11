"""Checkpoints of a run (Orbax): the train state and the loop's small state, saved atomically and verified.

Each checkpoint's meta carries a SHA-256 of the state's arrays, checked on
restore. A checkpoint that cannot be read or does not match its checksum is
reported and removed, and the previous one (two are kept) is used instead.
"""

from __future__ import annotations

import hashlib
import shutil
import warnings
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp

from lte.core.errors import LteError


def manager(directory: Path) -> ocp.CheckpointManager:
    options = ocp.CheckpointManagerOptions(max_to_keep=2, enable_async_checkpointing=False, create=True)
    return ocp.CheckpointManager(directory.absolute(), options=options)


def state_checksum(state) -> str:
    """SHA-256 over every array of `state` (its leaves in tree order: dtype, shape and bytes)."""
    digest = hashlib.sha256()
    for leaf in jax.tree_util.tree_leaves(state):
        array = np.asarray(jax.device_get(leaf))
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def save(mgr: ocp.CheckpointManager, step: int, state, meta: dict) -> None:
    meta = {**meta, "checksum": state_checksum(state)}
    mgr.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)))
    mgr.wait_until_finished()


def _restore(mgr: ocp.CheckpointManager, step: int, like_state):
    abstract = jax.tree_util.tree_map(ocp.utils.to_shape_dtype_struct, like_state)
    restored = mgr.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract),
                                                         meta=ocp.args.JsonRestore()))
    state, meta = restored["state"], restored["meta"]
    if not isinstance(meta, dict):
        raise ValueError("its meta is not a JSON object")
    if "checksum" in meta and meta["checksum"] != state_checksum(state):  # older checkpoints carry none
        raise ValueError("its arrays do not match the checksum saved with them")
    return state, meta


def restore_latest(mgr: ocp.CheckpointManager, like_state, log=None):
    """(step, state, meta) of the newest intact checkpoint, or None when there is none at all.

    A damaged newer checkpoint is deleted with a warning (to `log`, else a
    RuntimeWarning) and the one before it is used. When checkpoints exist but
    none is intact, an LteError says so.
    """
    warn = log or (lambda line: warnings.warn(line, RuntimeWarning, stacklevel=3))
    steps = sorted(mgr.all_steps(), reverse=True)
    for step in steps:
        try:
            state, meta = _restore(mgr, step, like_state)
        except Exception as error:  # noqa: BLE001 - any failure to read it means the checkpoint is unusable
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            warn(f"warning: checkpoint at step {step} in {mgr.directory} is damaged ({reason[:200]}); "
                 f"removed, falling back to the previous one")
            shutil.rmtree(Path(mgr.directory) / str(step), ignore_errors=True)
            mgr.reload()
            continue
        return step, state, meta
    if steps:
        raise LteError(f"no intact checkpoint in {mgr.directory} (the {len(steps)} there were damaged and have been "
                       f"removed); the run starts over when trained again")
    return None
