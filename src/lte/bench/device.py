"""The machine `lte bench` runs on: the name its tables are filed under, and what it can split a batch over."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import jax

from lte.bench.shapes import Shape
from lte.core.provenance import cpu_model, vector_extension


def device_name() -> str:
    """File-name-safe name of JAX's device: the GPU's kind, or the CPU's model, vector instructions and core
    count, so that another machine's tables sit beside this one's instead of replacing them."""
    device = jax.devices()[0]
    name = (
        device.device_kind
        if device.platform != "cpu"
        else " ".join(filter(None, (cpu_model(), vector_extension(), f"{os.cpu_count()}cores")))
    )
    return f"{device.platform}-" + re.sub(r"[^a-z0-9.]+", "_", name.lower()).strip("_")


def gpu_unused_warning() -> str | None:
    """A warning when this machine has an NVIDIA GPU but JAX runs on the CPU (a CPU-only jaxlib)."""
    has_gpu = shutil.which("nvidia-smi") is not None or Path("/proc/driver/nvidia/version").exists()
    if has_gpu and jax.default_backend() == "cpu":
        return (
            "warning: this machine has an NVIDIA GPU but JAX runs on the CPU; install a CUDA build of JAX "
            "(pip install -e '.[cuda]', which `make bench` does when nvidia-smi is found) to benchmark the GPU"
        )
    return None


def split_devices(shape: Shape, on_gpu: bool) -> int:
    """How many CPU devices `split_step` can use at `shape` here: all of JAX's CPU devices (`lte bench` asks for
    one per core before JAX starts), or 0 where there is no split to time (a GPU, one device, uneven rows)."""
    devices = len(jax.devices("cpu"))
    return devices if not on_gpu and devices > 1 and shape.batch % devices == 0 else 0
