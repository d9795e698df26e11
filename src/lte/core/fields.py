"""Config fields declared once, in the parts a run config is composed of.

A part (the task's `data_gen.TaskSpec`, the model's `ModelConfig`, the optimiser, schedule, budget,
evaluation and data parts of `lte.core.config`, or a run kind's own) is a frozen dataclass whose fields carry
their help and allowed values (`setting`) and whose `__post_init__` checks them. A run kind's config is
`compose`d from some fields of some parts: one flat dataclass (its TOML keys, its command-line flags, its
config.json) that builds and checks each part from its own values.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field


def setting(default, help: str, choices: tuple | None = None, group: str | None = None):
    """A dataclass field with its command-line help (and allowed values, shown in the help); `group` names the
    part of the config it belongs to (the flag's argument group in `--help`; None: the part's own group)."""
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


@dataclass(frozen=True)
class Part:
    """Some fields of a part class, as a composed config holds them: `names` in this order (empty: all of
    them), `rename` from the part's name to the config's (ModelConfig's `cell` is a run config's `model`),
    shown under `group` in `--help`."""

    part: type
    group: str | None = None
    names: tuple[str, ...] = ()
    rename: dict[str, str] = field(default_factory=dict)


class ComposedConfig:
    """What every composed config does: build each of its parts from its own values (which checks them, and
    resolves what a part resolves, such as the task's nesting), then `check` what spans parts."""

    PARTS: typing.ClassVar[dict[type, dict[str, str]]] = {}  # part class -> {config field: part field}
    WHAT: typing.ClassVar[str] = "config"  # how errors name it

    def __post_init__(self) -> None:
        from lte.core.errors import check_finite_numbers

        check_finite_numbers(self)
        built = {}
        for part, names in self.PARTS.items():
            built[part] = part(**{part_name: getattr(self, name) for name, part_name in names.items()})
            for name, part_name in names.items():  # a value the part resolved (None: the task's own nesting)
                object.__setattr__(self, name, getattr(built[part], part_name))
        object.__setattr__(self, "_parts", built)
        self.check()

    def check(self) -> None:
        """Rules that span parts (a kind's own); each part has checked its own fields."""

    def part(self, part: type):
        """The built part (an instance of `part`, with the part's defaults where this config lacks a field)."""
        return self._parts[part]

    def settings_of(self, group: str) -> dict:
        """This config's fields of one `--help` group, by name."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.metadata.get("group") == group}

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict):
        return from_json(cls, data, cls.WHAT)


def compose(
    name: str,
    parts: list[Part],
    base: type = ComposedConfig,
    defaults: dict | None = None,
    helps: dict[str, str] | None = None,
) -> type:
    """A frozen dataclass `name` (a subclass of `base`, whose methods and docstring it keeps) with the fields
    of `parts` in their order: each field's type, help and allowed values as its part declares them, its
    default the part's unless `defaults` gives the kind's own, its help the part's unless `helps` words it for
    the kind. A field named twice is an error."""
    defaults, helps = defaults or {}, helps or {}
    fields, owners = [], {}
    for spec in parts:
        hints = typing.get_type_hints(spec.part)
        declared = {f.name: f for f in dataclasses.fields(spec.part)}
        for part_name in spec.names or tuple(declared):
            declared_field = declared[part_name]
            config_name = spec.rename.get(part_name, part_name)
            if config_name in {n for n, *_ in fields}:
                raise TypeError(f"{name}: field {config_name!r} is composed twice")
            owners.setdefault(spec.part, {})[config_name] = part_name
            metadata = {
                **declared_field.metadata,
                "group": declared_field.metadata.get("group") or spec.group,
                "help": helps.get(config_name, declared_field.metadata.get("help", "")),
            }
            default = defaults.get(config_name, declared_field.default)
            fields.append((config_name, hints[part_name], field(default=default, metadata=metadata)))
    unknown = (set(defaults) | set(helps)) - {n for n, *_ in fields}
    if unknown:
        raise TypeError(f"{name}: defaults or helps for fields it does not have: {sorted(unknown)}")
    namespace = {"PARTS": owners, "__doc__": base.__doc__, "__module__": base.__module__}
    return dataclasses.make_dataclass(name, fields, bases=(base,), frozen=True, namespace=namespace)
