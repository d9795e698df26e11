"""A config field declared once: its default, its help and its allowed values (the command-line flags of
`lte train`, `lte seq2seq` and `lte esn` are generated from them, lte.cli.add_config_arguments)."""

from __future__ import annotations

from dataclasses import field


def setting(default, help: str, choices: tuple | None = None):
    """A dataclass field with its command-line help (and allowed values, shown in the help)."""
    return field(default=default, metadata={"help": help, "choices": choices})
