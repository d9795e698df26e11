"""Modules registered by their file name: a folder of tasks (data_gen.tasks) or of cells (lte.core.cells)."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def register_modules(
    path: list[str],
    package: str,
    required: tuple[str, ...],
    first: tuple[str, ...],
    error: type[Exception],
    what: str,
    contract: str,
) -> dict[str, ModuleType]:
    """Every module of the package at `path`, by file name, `first` leading and the rest by name. A module that
    sets `REGISTERED = False` is a helper and left out; one that lacks a `required` attribute raises `error`
    naming what it lacks and where the `contract` is written."""
    names = sorted(
        (m.name for m in pkgutil.iter_modules(path) if not m.name.startswith("_")),
        key=lambda name: (name not in first, first.index(name) if name in first else 0, name),
    )
    modules = {}
    for name in names:
        module = importlib.import_module(f"{package}.{name}")
        if getattr(module, "REGISTERED", True) is False:
            continue
        missing = [attribute for attribute in required if not hasattr(module, attribute)]
        if missing:
            raise error(f"{what} module {package}.{name} lacks {', '.join(missing)} (see {contract})")
        modules[name] = module
    return modules
