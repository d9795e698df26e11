"""Run kinds: what a sweep can train. A kind declares its config class, its train function, how its run
folders are named and how its records are read; `lte sweep`, run folders, resume, cells.json, `lte
migrate-names` and the analysis (`lte.study.analysis.records.load_runs`) serve every kind through this one
interface.

Each module of this package that defines `KIND = RunKind(...)` is a built-in kind, found by file name like
cells and tasks: `char` (the study's character-level training, TrainConfig), `adding` (Le et al.'s adding
problem), `seq2seq` (the encoder-decoder), `esn` (the echo state network).

A new kind is one file here, or one `register(RunKind(...))` call from a user's code: a frozen dataclass
config with `to_json()` and `from_json(dict)`, a `train(config, out_dir, *, log) -> summary` that resumes a
half-finished folder, a `folder_name(config, labels) -> str` (`lte.kinds.naming`) and, optionally, a
`summary_row(summary.json path) -> dict` of the columns its analysis reads (by default
`lte.kinds.summary.generic_summary_row`: steps, time, stop reason, provenance and every number of the
summary's `final` row).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lte.core.errors import LteError


@dataclass(frozen=True)
class RunKind:
    name: str
    config_class: type
    train: Callable  # (config, out: Path, *, log) -> summary dict
    folder_name: Callable  # (config, labels: dict) -> str
    ensembles: bool = False  # whether cells of one shape may train together in one compiled step (lte.methods.ensemble)
    summary_row: Callable | None = None  # (summary.json path) -> dict of result columns; None: the generic one
    command: str = ""  # help of `lte <name>`, a command that trains one run of this kind; "": no such command
    printed: tuple[str, ...] = ()  # the summary's `final` numbers that command prints (with steps and wall time)

    def read_summary(self, path) -> dict:
        """A finished run's result columns (what `lte.study.analysis.records.load_runs` puts in its row)."""
        from lte.kinds.summary import generic_summary_row

        return (self.summary_row or generic_summary_row)(path)


KINDS: dict[str, RunKind] = {}


def register(kind: RunKind) -> RunKind:
    KINDS[kind.name] = kind
    return kind


_builtin_registered = False


def get_kind(name: str) -> RunKind:
    """The kind registered as `name` (the built-in kinds are registered on first use, beside any registered
    before; a user's kind of a built-in name replaces it)."""
    global _builtin_registered
    if not _builtin_registered:
        _builtin_registered = True
        user_kinds = dict(KINDS)
        _register_builtin()
        KINDS.update(user_kinds)
    if name not in KINDS:
        raise LteError(f"unknown run kind {name!r}; allowed: {', '.join(KINDS)}")
    return KINDS[name]


def builtin_kind_modules() -> list[str]:
    """The modules of this package that may declare a kind (every file but the shared helpers)."""
    import pkgutil

    helpers = {"naming", "summary"}
    names = [m.name for m in pkgutil.iter_modules(__path__) if m.name not in helpers and not m.ispkg]
    return sorted(names, key=lambda name: (name != "char", name))  # the study's own kind first


def _register_builtin() -> None:
    import importlib

    for name in builtin_kind_modules():
        kind = getattr(importlib.import_module(f"{__name__}.{name}"), "KIND", None)
        if isinstance(kind, RunKind):
            register(kind)
