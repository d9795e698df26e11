"""Process-wide JAX settings: the persistent compilation cache, CPU threads for sweep workers."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    return Path(os.environ.get("LTE_CACHE_DIR", Path.home() / ".cache" / "lte"))


def enable_compilation_cache() -> None:
    """Compiled steps are kept on disk, so a second run of the same shapes skips compilation."""
    import jax

    jax.config.update("jax_compilation_cache_dir", str(cache_root() / "jax"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


def set_environment(env: dict[str, str]) -> None:
    """A worker process's initializer: its own environment, set before its first JAX computation (the parent's
    environment is never changed)."""
    os.environ.update(env)


def single_threaded_cpu_env() -> dict[str, str]:
    """Environment for a worker process that should use one CPU core (set before JAX starts)."""
    flags = os.environ.get("XLA_FLAGS", "")
    extra = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    return {"XLA_FLAGS": f"{flags} {extra}".strip(), "OMP_NUM_THREADS": "1"}
