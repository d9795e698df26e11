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
        # '-dirty' when tracked code differs from the commit; results and generated files do not count
        dirty = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":(exclude)results",
                ":(exclude)paper/generated",
            ],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "") if out.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def vector_extension() -> str:
    """The CPU's widest vector instructions as XLA can use them (avx512, avx2, avx, neon; '' if unknown): two
    CPUs of one model name can differ in it, and with it in speed and in float rounding."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    flags = set(line.split(":", 1)[1].split())
                    return next(
                        (
                            name
                            for name, flag in (
                                ("avx512", "avx512f"),
                                ("avx2", "avx2"),
                                ("avx", "avx"),
                                ("neon", "asimd"),
                            )
                            if flag in flags
                        ),
                        "",
                    )
    except OSError:
        pass
    return ""


def provenance() -> dict:
    device = jax.devices()[0]
    kind = device.device_kind if device.platform != "cpu" else cpu_model()
    versions = {}
    for name in ("jax", "jaxlib", "optax", "flax", "numpy", "orbax-checkpoint"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return {
        "commit": git_commit(),
        "device": f"{device.platform}: {kind}",
        "device_count": jax.device_count(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
