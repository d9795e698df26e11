"""Cached pools of pre-generated, encoded examples: the fast data path.

Generating a program in Python costs about 10 us, and two of every three
are thrown away by the split hash, which is too slow to feed an accelerator
that trains on a batch of 100 examples in a few milliseconds. A pool is built
once, in parallel over all cores, for one combination of everything that
shapes the examples (task, target, strategy, tricks, mix probability, level,
split, size, pool seed), cached on disk under that key, and then sampled
from: a batch draws its examples uniformly from the pool with a generator
seeded by (seed, index), so batches stay reproducible and cheap.

The original trained on a finite pool too: `data.lua` generated about 15,000
programs per level and reused them every epoch until the level changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from data_gen.batches import Batch, Encoded, concat, generate_encoded, pack
from data_gen.curriculum import Level
from data_gen.errors import check_int_range
from data_gen.tasks import TaskSpec
from data_gen.vocab import PAD_ID, VOCAB_SIZE

# Part of every pool's key, which also seeds its generation: bump it only when the generator or the
# encoding changes (every pool, and so every run trained on pools, changes then anyway).
POOL_FORMAT = 1
# How a pool is stored (its file name carries it): bumping it rebuilds the cached files, never changes a pool.
FILE_FORMAT = "v2"  # v2: the file holds the pool's key and a SHA-256 of its arrays
DEFAULT_POOL_SIZE = 1 << 17
_CHUNK = 4096


def default_cache_dir() -> Path:
    return Path(os.environ.get("LTE_CACHE_DIR", Path.home() / ".cache" / "lte")) / "pools"


def pool_key(spec: TaskSpec, level: Level, split: str, size: int, pool_seed: int) -> str:
    fields = {
        "format": POOL_FORMAT,
        "spec": asdict(spec),
        "level": [level.length, level.nesting],
        "split": split,
        "size": size,
        "pool_seed": pool_seed,
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:20]


def _chunk(spec: TaskSpec, level: Level, split: str, key: str, index: int) -> Encoded:
    return generate_encoded(spec, level, split, random.Random(f"pool/{key}/{index}"), _CHUNK)


def build_pool(
    spec: TaskSpec, level: Level, split: str, size: int, *, pool_seed: int = 0, workers: int | None = None
) -> Encoded:
    """`size` encoded examples; the same for any number of workers (chunk i has its own seed)."""
    check_int_range("pool size", size, 1, 1 << 26)
    key = pool_key(spec, level, split, size, pool_seed)
    workers = workers or os.cpu_count() or 1
    parts: list[Encoded] = []
    have, index = 0, 0
    if workers == 1:
        while have < size:
            parts.append(_chunk(spec, level, split, key, index))
            have, index = have + len(parts[-1]), index + 1
    else:
        # spawn, not fork: the caller may hold JAX's threads
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as executor:
            while have < size:
                batch = range(index, index + workers)
                parts += executor.map(_chunk, *zip(*[(spec, level, split, key, i) for i in batch]))
                have, index = sum(map(len, parts)), index + workers
    pool = concat(parts)
    return take(pool, np.arange(size))


def take(encoded: Encoded, indices: np.ndarray) -> Encoded:
    """The examples at `indices`, in that order, as a new flat Encoded (vectorised gather)."""
    lengths = encoded.lengths[indices]
    starts = encoded.starts[indices]
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    ids = encoded.ids[np.repeat(starts, lengths) + offsets]
    return Encoded(ids, lengths, encoded.input_lengths[indices])


def load_pool(
    spec: TaskSpec,
    level: Level,
    split: str,
    size: int = DEFAULT_POOL_SIZE,
    *,
    pool_seed: int = 0,
    cache_dir: Path | None = None,
    workers: int | None = None,
) -> Encoded:
    """The pool for these parameters, from the disk cache or built (and cached) now."""
    path = (cache_dir or default_cache_dir()) / f"{pool_key(spec, level, split, size, pool_seed)}.{FILE_FORMAT}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    key = pool_key(spec, level, split, size, pool_seed)
    with _exclusive(path.with_suffix(".lock")):  # processes wanting the same pool build it once
        if path.exists():
            pool, problem = _read_pool(path, key, size)
            if pool is not None:
                return pool
            warnings.warn(f"the cached pool {path} is damaged ({problem}); rebuilding it", RuntimeWarning, stacklevel=2)
        pool = build_pool(spec, level, split, size, pool_seed=pool_seed, workers=workers)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        ids = pool.ids.astype(np.uint8)
        np.savez(
            tmp,
            ids=ids,
            lengths=pool.lengths,
            input_lengths=pool.input_lengths,
            key=np.array(key),
            checksum=np.array(_checksum(ids, pool.lengths, pool.input_lengths)),
        )
        os.replace(tmp, path)  # atomic: a reader never sees half a pool
        return pool


def _checksum(ids: np.ndarray, lengths: np.ndarray, input_lengths: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in (ids, lengths, input_lengths):
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _read_pool(path: Path, key: str, size: int) -> tuple[Encoded | None, str]:
    """(the pool, "") when the file is intact and is the pool `key` names, else (None, what is wrong)."""
    try:
        with np.load(path) as f:
            ids, lengths, input_lengths = f["ids"], f["lengths"], f["input_lengths"]
            saved_key, saved_checksum = str(f["key"]), str(f["checksum"])
    except Exception as error:  # noqa: BLE001 - a truncated or foreign file fails in many ways
        return None, f"unreadable: {type(error).__name__}: {error}"
    if saved_key != key:
        return None, f"it holds pool {saved_key}, not {key}"
    if saved_checksum != _checksum(ids, lengths, input_lengths):
        return None, "its arrays do not match their checksum"
    if len(lengths) != size or int(lengths.sum()) != len(ids):
        return None, "its arrays are inconsistent"
    if len(ids) and (int(ids.max()) >= VOCAB_SIZE or int(ids.min()) == PAD_ID):
        return None, f"it holds character ids outside the vocabulary (1..{VOCAB_SIZE - 1})"
    if len(lengths) and (int(input_lengths.min()) < 1 or bool((input_lengths >= lengths).any())):
        return None, "its inputs and answers do not fit its example lengths"
    return Encoded(ids.astype(np.int32), lengths, input_lengths), ""


@contextlib.contextmanager
def _exclusive(lock_path: Path):
    """An advisory lock between processes (where the platform has fcntl; else none)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def pool_batch(pool: Encoded, rows: int, row_length: int, *, seed: int, index: int) -> Batch:
    """Batch `index`: examples drawn uniformly (with replacement) from `pool`, then packed."""
    rng = np.random.default_rng([seed, index])
    mean = pool.mean_length
    draw = int(rows * row_length / mean * 1.25) + rows
    indices = rng.integers(0, len(pool), size=draw)
    while pool.lengths[indices].sum() < rows * row_length:  # rare: make sure every row fills
        indices = np.concatenate([indices, rng.integers(0, len(pool), size=draw)])
    batch, _ = pack(take(pool, indices), rows, row_length)
    return batch
