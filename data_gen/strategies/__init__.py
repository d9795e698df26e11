"""Curriculum strategies, one module each, found by file name (as cells and tasks are).

A strategy module declares `USES_LEVEL` (whether its draws follow the curriculum's current level, so that
the level must advance for it to reach the target) and `sampler(target, level, uniform, mix_probability)`,
which returns a function drawing one hardness (length, nesting) per call from `uniform()` in [0, 1).
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

STUDY_ORDER = ("baseline", "naive", "mix", "combined")  # Zaremba's four; baseline first: effects are against it


def strategy_names() -> tuple[str, ...]:
    """Every strategy module here: the study's four in their order, then any other by name."""
    found = {m.name for m in pkgutil.iter_modules(__path__) if not m.ispkg and not m.name.startswith("_")}
    return tuple(name for name in STUDY_ORDER if name in found) + tuple(sorted(found - set(STUDY_ORDER)))


def strategy_module(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{name}")
