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
    _remove_broken_cache_entries()


def _remove_broken_cache_entries() -> None:
    """A cache entry that fails to load (cut short by a full disk, say) is removed with one warning naming it,
    and its function compiled and cached again. JAX alone warns on every later run: it never replaces an
    existing entry. (Wraps a private JAX function; where it is missing, JAX's own behaviour stays.)"""
    import warnings

    import jax

    try:
        from jax._src import compilation_cache, lru_cache
    except ImportError:
        return
    read = getattr(compilation_cache, "get_executable_and_time", None)
    if read is None or getattr(read, "removes_broken_entries", False):
        return

    def get_executable_and_time(cache_key, *args, **kwargs):
        try:
            return read(cache_key, *args, **kwargs)
        except Exception as error:
            folder = jax.config.jax_compilation_cache_dir
            entry = Path(folder or "") / f"{cache_key}{getattr(lru_cache, '_CACHE_SUFFIX', '-cache')}"
            if not folder or jax.config.jax_raise_persistent_cache_errors or not entry.is_file():
                raise
            try:
                entry.unlink()
            except OSError:
                raise error from None
            warnings.warn(
                f"removed a damaged compilation-cache entry, {entry} ({type(error).__name__}: {error}); "
                f"it is compiled and cached again",
                RuntimeWarning,
                stacklevel=2,
            )
            return None, None

    get_executable_and_time.removes_broken_entries = True
    compilation_cache.get_executable_and_time = get_executable_and_time


def set_environment(env: dict[str, str]) -> None:
    """A worker process's initializer: its own environment, set before its first JAX computation (the parent's
    environment is never changed)."""
    os.environ.update(env)


def single_threaded_cpu_env() -> dict[str, str]:
    """Environment for a worker process that should use one CPU core (set before JAX starts)."""
    flags = os.environ.get("XLA_FLAGS", "")
    extra = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    return {"XLA_FLAGS": f"{flags} {extra}".strip(), "OMP_NUM_THREADS": "1"}
