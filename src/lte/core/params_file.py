"""A model's parameters as one small file (params.npz): what a shipped model keeps instead of checkpoints.

The arrays are stored under their pytree paths (`jax.tree_util.keystr`), so a file is read back only into a
model of the same structure and shapes; anything else is an error naming the first array that differs.
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

from lte.core.errors import LteError

PARAMS_FILE = "params.npz"


def save_params(params, path: Path) -> Path:
    """Write `params` (a pytree of arrays) to `path`, compressed, exactly (float32 stays float32)."""
    leaves = jax.tree_util.tree_flatten_with_path(params)[0]
    arrays = {jax.tree_util.keystr(key): np.asarray(jax.device_get(leaf)) for key, leaf in leaves}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:  # a file object: np.savez would add .npz to a name without it
        np.savez_compressed(out, **arrays)
    return path


def load_params_file(path: Path, like):
    """The parameters in `path`, in the structure of `like` (a freshly initialised model of the run's config)."""
    with np.load(path, allow_pickle=False) as stored:
        arrays = dict(stored)
    leaves, treedef = jax.tree_util.tree_flatten_with_path(like)
    expected = {jax.tree_util.keystr(key): np.asarray(leaf) for key, leaf in leaves}
    if set(arrays) != set(expected):
        missing, extra = sorted(set(expected) - set(arrays)), sorted(set(arrays) - set(expected))
        raise LteError(f"{path} holds other parameters than this config's model (missing {missing}, extra {extra})")
    for key, want in expected.items():
        if arrays[key].shape != want.shape or arrays[key].dtype != want.dtype:
            raise LteError(
                f"{path}: {key} is {arrays[key].dtype}{list(arrays[key].shape)}, this config's model has "
                f"{want.dtype}{list(want.shape)}"
            )
    return jax.tree_util.tree_unflatten(treedef, [arrays[jax.tree_util.keystr(key)] for key, _ in leaves])
