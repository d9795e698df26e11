"""Checkpoints of a run (Orbax): the train state and the loop's small state, saved atomically and verified.

Each checkpoint's meta carries a SHA-256 of the state's arrays, checked on
restore, and the arrays' shapes, so that a config.json that no longer
matches the run that saved them is told apart from damage. Restoring never
deletes: read-only commands skip a checkpoint they cannot read; training sets
a damaged one aside (moved to checkpoints.damaged/) and uses the one before.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
import time
import warnings
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp

from lte.core.errors import LteError


def manager(directory: Path, read_only: bool = False) -> ocp.CheckpointManager:
    """The checkpoints of a run folder; `read_only` for commands that only read (nothing is created or removed).

    A training run's checkpoints folder must be a real folder: a symbolic link would send its writes, and
    the removal of old checkpoints, elsewhere."""
    directory = Path(directory)
    if not read_only and directory.is_symlink():
        raise LteError(
            f"{directory} is a symbolic link; a run writes its checkpoints only into a real folder of "
            f"its own: replace the link with a folder"
        )
    if read_only:
        options = ocp.CheckpointManagerOptions(
            max_to_keep=None, save_interval_steps=0, enable_async_checkpointing=False, create=False, read_only=True
        )
        # Orbax logs a warning that a read-only manager is read-only; a reading command says nothing of it.
        absl_logger = logging.getLogger("absl")
        level = absl_logger.level
        absl_logger.setLevel(logging.ERROR)
        try:
            return ocp.CheckpointManager(directory.absolute(), options=options)
        finally:
            absl_logger.setLevel(level)
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


def leaf_shapes(state) -> dict[str, list[int]]:
    """Each array of `state` by its path in the tree, with its shape."""
    return {
        jax.tree_util.keystr(path): list(np.shape(leaf))
        for path, leaf in jax.tree_util.tree_flatten_with_path(state)[0]
    }


class CheckpointMismatch(LteError):
    """The checkpoint is intact but holds arrays of other shapes than the config asks for."""


OS_ERROR_CODE = re.compile(r"os_error_code='(\d+)'")  # how tensorstore's errors carry the system's errno


def save(mgr: ocp.CheckpointManager, step: int, state, meta: dict) -> None:
    """Save and wait; a write the system refused (a full disk) is an OSError naming the checkpoint folder.

    Orbax's writer threads report such a failure as a ValueError with the errno in its text, logged by each
    thread, and leave coroutines that complain again at exit: those repeats are silenced, the OSError says it.
    """
    meta = {**meta, "checksum": state_checksum(state), "shapes": leaf_shapes(state)}
    absl_logger = logging.getLogger("absl")
    level = absl_logger.level
    absl_logger.setLevel(logging.CRITICAL)
    _hide_abandoned_writers()
    try:
        mgr.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)))
        mgr.wait_until_finished()
    except Exception as error:  # noqa: BLE001 - only a system error is translated; anything else is re-raised
        match = OS_ERROR_CODE.search(str(error))
        if match is None:
            raise
        logging.getLogger("asyncio").setLevel(logging.CRITICAL + 1)  # "exception never retrieved", once more
        number = int(match.group(1))
        raise OSError(number, os.strerror(number), str(mgr.directory)) from None
    finally:
        absl_logger.setLevel(level)


def _hide_abandoned_writers() -> None:
    """Hide what a failed write's abandoned threads and coroutines print later (the OSError says it once).

    Installed once, before the first save: the threads print while the save still runs.
    """
    if getattr(sys.unraisablehook, "hides_abandoned_writers", False):
        return
    closed_loop = lambda error: isinstance(error, RuntimeError) and "Event loop is closed" in str(error)  # noqa: E731
    except_hook, unraisable_hook = sys.excepthook, sys.unraisablehook

    def excepthook(kind, error, traceback):
        if not closed_loop(error):
            except_hook(kind, error, traceback)

    def unraisablehook(unraisable):
        if not (closed_loop(unraisable.exc_value) or "serialize" in repr(unraisable.object)):
            unraisable_hook(unraisable)

    unraisablehook.hides_abandoned_writers = True
    sys.excepthook, sys.unraisablehook = excepthook, unraisablehook


def _mismatch(mgr: ocp.CheckpointManager, step: int, like_state) -> str | None:
    """What differs between the checkpoint's saved shapes and `like_state`'s, or None (also when the checkpoint
    records no shapes, or its meta cannot be read: restoring then says what is wrong)."""
    try:
        meta = mgr.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))["meta"]
    except Exception:  # noqa: BLE001 - unreadable meta: the full restore reports it
        return None
    saved = meta.get("shapes") if isinstance(meta, dict) else None
    if not isinstance(saved, dict):
        return None
    wanted = leaf_shapes(like_state)
    for name in wanted:
        if name not in saved:
            return f"the config has {name}, the checkpoint does not"
        if saved[name] != wanted[name]:
            return f"{name} has shape {tuple(wanted[name])} by the config, {tuple(saved[name])} in the checkpoint"
    extra = sorted(set(saved) - set(wanted))
    return f"the checkpoint has {extra[0]}, the config does not" if extra else None


def _restore(mgr: ocp.CheckpointManager, step: int, like_state):
    abstract = jax.tree_util.tree_map(ocp.utils.to_shape_dtype_struct, like_state)
    restored = mgr.restore(
        step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract), meta=ocp.args.JsonRestore())
    )
    state, meta = restored["state"], restored["meta"]
    if not isinstance(meta, dict):
        raise ValueError("its meta is not a JSON object")
    if "checksum" in meta and meta["checksum"] != state_checksum(state):  # older checkpoints carry none
        raise ValueError("its arrays do not match the checksum saved with them")
    return state, meta


def set_aside(mgr: ocp.CheckpointManager, step: int, why: str = "damaged") -> Path:
    """Move checkpoint `step` out of the manager's folder (kept, never deleted) into checkpoints.<why>/."""
    directory = Path(mgr.directory)
    aside = directory.with_name(f"{directory.name}.{why}") / f"{step}-{time.strftime('%Y%m%dT%H%M%S')}"
    aside.parent.mkdir(exist_ok=True)
    (directory / str(step)).rename(aside)
    mgr.reload()
    return aside


def restore_latest(mgr: ocp.CheckpointManager, like_state, log=None, *, read_only: bool = False):
    """(step, state, meta) of the newest intact checkpoint, or None when there is none at all.

    A checkpoint whose shapes differ from `like_state`'s is a CheckpointMismatch (config.json changed since it
    was saved), never damage. A damaged newer checkpoint is reported (to `log`, else a RuntimeWarning) and the
    one before it is used; training (`read_only` False) moves it to checkpoints.damaged/ first. When
    checkpoints exist but none is intact, an LteError says so.
    """
    warn = log or (lambda line: warnings.warn(line, RuntimeWarning, stacklevel=3))
    steps = sorted(mgr.all_steps(), reverse=True)
    for step in steps:
        mismatch = _mismatch(mgr, step, like_state)
        if mismatch:
            raise CheckpointMismatch(
                f"the checkpoint at step {step} in {mgr.directory} was saved by a model of "
                f"another shape ({mismatch}): config.json no longer matches the run that "
                f"saved it; restore its config.json, or train into another folder"
            )
        try:
            state, meta = _restore(mgr, step, like_state)
        except Exception as error:  # noqa: BLE001 - any failure to read it means the checkpoint is unusable
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            if read_only:
                warn(
                    f"warning: checkpoint at step {step} in {mgr.directory} is damaged or unreadable "
                    f"({reason[:200]}); left as it is, trying the previous one"
                )
            else:
                aside = set_aside(mgr, step) if (Path(mgr.directory) / str(step)).exists() else None
                warn(
                    f"warning: checkpoint at step {step} in {mgr.directory} is damaged ({reason[:200]}); "
                    + (f"moved to {aside}, " if aside else "")
                    + "falling back to the previous one"
                )
            continue
        return step, state, meta
    if steps:
        raise LteError(
            f"no intact checkpoint in {mgr.directory} (the {len(steps)} there could not be read"
            + ("" if read_only else "; they were moved to checkpoints.damaged/")
            + ")"
            + ("" if read_only else "; the run starts over when trained again")
        )
    return None
