"""A config field declared once: its default, its help and its allowed values (the command-line flags of
`lte train`, `lte seq2seq` and `lte esn` are generated from them, lte.cli.add_config_arguments)."""

from __future__ import annotations

import dataclasses
from dataclasses import field


def setting(default, help: str, choices: tuple | None = None, group: str | None = None):
    """A dataclass field with its command-line help (and allowed values, shown in the help); `group` names the
    part of the config it belongs to (the flag's argument group in `--help`; None: the command's options)."""
    return field(default=default, metadata={"help": help, "choices": choices, "group": group})


def from_json(config_class, data: dict, what: str = "config"):
    """The config `data` (a run folder's config.json) describes; a field the class does not know is an error
    naming it and the known ones (a record from another version is never read as something else)."""
    from lte.core.errors import LteError

    known = {f.name for f in dataclasses.fields(config_class)}
    unknown = set(data) - known
    if unknown:
        raise LteError(f"unknown {what} fields {sorted(unknown)}; allowed: {sorted(known)}")
    return config_class(**data)
