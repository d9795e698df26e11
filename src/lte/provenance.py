"""Where a result came from: commit, device, library versions, time."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import jax


def git_commit() -> str | None:
    try:
        root = Path(__file__).resolve().parents[2]
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "") if out.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def provenance() -> dict:
    device = jax.devices()[0]
    versions = {}
    for name in ("jax", "jaxlib", "optax", "flax", "numpy", "orbax-checkpoint"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return {"commit": git_commit(), "device": f"{device.platform}: {device.device_kind}",
            "device_count": jax.device_count(), "cpu_count": os.cpu_count(),
            "python": platform.python_version(), "platform": platform.platform(), "versions": versions,
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
