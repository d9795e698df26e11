"""What an experiment file may say: its tables, keys and values checked against the run kind's config, with a
one-line error naming the bad key or value and what is allowed."""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass

from lte.core.cells import CELLS
from lte.core.errors import LteError

PROFILES = ("quick", "default", "paper")
SELECTED = ("learning_rate", "clip", "input_scale")  # the settings "selected" can stand for
# "selected": the most specific selection there is (per strategy, else per model and task); "selected-base":
# the per-(model, task) selection only (what the per-strategy selection itself starts from)
SELECTED_VALUES = ("selected", "selected-base")
ADDING_KIND, ADDING_SELECTED = "adding", ("learning_rate", "clip")  # the adding problem's own selection

TOP_LEVEL = ("experiment", "tasks", "grid", "variant", "fixed", "profiles")
HEADER_KEYS = ("name", "title", "description", "kind", "ensemble")  # what [experiment] may hold
VARIANT_EXTRAS = (
    "label",
    "id",
    "hidden_scale",
    "learning_rate_scale",
    "parameters_of",
    "only",
    "profiles",
)  # a variant's keys besides settings
PROFILE_EXTRAS = ("tasks", "grid")  # a profile's sub-tables besides settings
PLAIN_NAME = re.compile(r"[A-Za-z0-9_-]+")


def check_ensemble(ensemble, where: str = "ensemble") -> int:
    if isinstance(ensemble, bool) or not isinstance(ensemble, int) or ensemble < 1:
        raise LteError(f"{where} must be a positive integer (models per compiled step), got {ensemble!r}")
    return ensemble


def check_plain_name(what: str, value, note: str = "") -> None:
    """`value` may name a folder under the results: letters, digits, _ and - only (no separators, no `..`)."""
    if not isinstance(value, str) or not PLAIN_NAME.fullmatch(value):
        raise LteError(
            f"{what} {value!r}{note} must be a plain name (letters, digits, _ and -): it names a folder "
            f"under the results"
        )


DEFAULT_KIND = "char"


@dataclass(frozen=True)
class Schema:
    """What an experiment file of one run kind may set: its config's fields, with their value types."""

    kind: str
    config_class: type
    field_kinds: dict  # field -> its value types, None left out (TOML has no null)
    selectable: tuple[str, ...]  # the settings "selected" may stand for (SELECTED; the char kind only)


def schema_of(kind) -> Schema:
    """The schema of the run kind `kind` (an LteError naming it and the registered kinds when unknown)."""
    from lte.kinds import KINDS, get_kind

    get_kind(DEFAULT_KIND)  # the built-in kinds registered, to list them
    if not isinstance(kind, str) or kind not in KINDS:
        raise LteError(f"unknown run kind {kind!r} in [experiment]; allowed: {', '.join(KINDS)}")
    config_class = get_kind(kind).config_class
    hints = typing.get_type_hints(config_class)
    kinds = {}
    for field in dataclasses.fields(config_class):
        hint = hints[field.name]
        kinds[field.name] = tuple(t for t in (typing.get_args(hint) or (hint,)) if t is not type(None))
    selectable = SELECTED if kind == DEFAULT_KIND else ADDING_SELECTED if kind == ADDING_KIND else ()
    return Schema(kind, config_class, kinds, selectable)


def check_value(schema: Schema, key: str, value, where: str) -> None:
    """`value` has the type of the config field `key` ("selected" too where the schema allows it)."""
    if key in schema.selectable and value in SELECTED_VALUES:
        return
    kinds = schema.field_kinds[key]
    if bool in kinds:
        ok, wanted = isinstance(value, bool), "a boolean (true or false)"
    elif int in kinds:
        ok, wanted = isinstance(value, int) and not isinstance(value, bool), "an integer"
    elif float in kinds:
        ok, wanted = isinstance(value, (int, float)) and not isinstance(value, bool), "a number"
    elif str in kinds:
        ok, wanted = isinstance(value, str), "a string"
    else:  # a field type this schema does not know: the config checks it
        return
    if not ok:
        wanted += ' or "selected" or "selected-base"' if key in schema.selectable else ""
        raise LteError(f"{key} in {where} must be {wanted}, got {value!r}")


def _did_you_mean(schema: Schema, key: str) -> str:
    import difflib

    close = difflib.get_close_matches(key, list(schema.field_kinds), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _allowed(schema: Schema, extras: tuple[str, ...] = ()) -> str:
    return ", ".join([*schema.field_kinds, *extras])


def check_settings(schema: Schema, table, where: str, extras: tuple[str, ...] = ()) -> None:
    """A table of config settings (and the keys `extras`, checked by the caller)."""
    if not isinstance(table, dict):
        raise LteError(f"{where} must be a table of settings, got {table!r}")
    for key, value in table.items():
        if key in extras:
            continue
        if key not in schema.field_kinds:
            raise LteError(
                f"unknown setting {key!r} in {where}{_did_you_mean(schema, key)}; allowed: {_allowed(schema, extras)}"
            )
        check_value(schema, key, value, where)


def check_grid(schema: Schema, grid, where: str, tasks: dict) -> None:
    """Axes: non-empty lists of typed values, or per-model tables of them; `task` values name [tasks.*]."""
    if not isinstance(grid, dict):
        raise LteError(f"{where} must be a table of grid axes, got {grid!r}")
    for axis, values in grid.items():
        if axis not in schema.field_kinds:
            raise LteError(
                f"unknown setting {axis!r} in {where}{_did_you_mean(schema, axis)}; allowed: {_allowed(schema)}"
            )
        if isinstance(values, dict) and axis not in ("model", "task"):
            table = f"[{where[1:-1]}.{axis}]"
            if "model" not in schema.field_kinds:
                raise LteError(
                    f"{table}: a per-model axis needs a model, and the {schema.kind} kind's config has "
                    f"none; give the axis as a list"
                )
            for model, per_model in values.items():
                if model not in CELLS:
                    raise LteError(f"{table}: unknown model {model!r}; allowed: {', '.join(CELLS)}")
                check_axis(schema, axis, per_model, where, tasks, f" for model {model!r}")
        else:
            check_axis(schema, axis, values, where, tasks)


def check_axis(schema: Schema, axis: str, values, where: str, tasks: dict, suffix: str = "") -> None:
    if not isinstance(values, list):
        per_model = "" if axis in ("model", "task") else " (or, per model, a table of lists)"
        raise LteError(f"grid axis {axis!r} in {where} must be a list{suffix}{per_model}, got {values!r}")
    if not values:
        raise LteError(f"grid axis {axis!r} in {where} is empty{suffix}; give it at least one value")
    for value in values:
        if axis == "task":
            if value not in tasks:
                raise LteError(
                    f"task {value!r} in {where} has no [tasks.{value}] table; the tables: {', '.join(tasks) or 'none'}"
                )
        else:
            check_value(schema, axis, value, where)


def check_variant(schema: Schema, variant, where: str) -> None:
    check_settings(schema, variant, where, VARIANT_EXTRAS)
    profiles = variant.get("profiles")
    if profiles is not None and (not isinstance(profiles, list) or not all(isinstance(p, str) for p in profiles)):
        raise LteError(f"profiles in {where} must be a list of profile names, got {profiles!r}")
    only = variant.get("only")
    if only is not None and (
        not isinstance(only, list)
        or not only
        or not all(isinstance(f, dict) and f and all(isinstance(k, str) for k in f) for f in only)
    ):
        raise LteError(
            f"only in {where} must be a non-empty list of tables of grid labels (e.g. only = [{{ model = "
            f'"lstm", task = "copy" }}]): the variant runs on the cells that match one of them; got {only!r}'
        )
    label = variant.get("label")
    if label is not None and (not isinstance(label, str) or not label):
        raise LteError(f"label in {where} must be a non-empty string, got {label!r}")
    if "id" in variant and label is None:
        raise LteError(f"{where} has an id but no label; give it a label (the name in tables and figures)")
    if label is not None:
        check_plain_name(
            "variant id",
            variant.get("id", label),
            "" if "id" in variant else f" (its label, as it has no id; give {where} an id)",
        )
    if "hidden_scale" in variant and "hidden" not in schema.field_kinds:
        raise LteError(f"hidden_scale in {where}: the {schema.kind} kind's config has no hidden size to scale")
    if "parameters_of" in variant:
        if "hidden" not in schema.field_kinds or "model" not in schema.field_kinds:
            raise LteError(f"parameters_of in {where}: the {schema.kind} kind's config has no model and hidden size")
        if variant["parameters_of"] not in CELLS or "hidden_scale" in variant:
            raise LteError(
                f"parameters_of in {where} must name a model ({', '.join(CELLS)}), without hidden_scale; "
                f"got {variant['parameters_of']!r}"
            )
    for key in ("hidden_scale", "learning_rate_scale"):
        scale = variant.get(key, 1)
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0 or scale == float("inf"):
            raise LteError(f"{key} in {where} must be a positive number, got {scale!r}")


def validate_spec(spec: dict) -> None:
    """The parsed TOML of an experiment file against the schema (see the module docstring), every profile."""
    if not spec:
        raise LteError(
            "the experiment file is empty; it needs at least an [experiment] table and the settings "
            "of its cells (see experiments/*.toml)"
        )
    for key, value in spec.items():
        if key not in TOP_LEVEL:
            kind = "table" if isinstance(value, (dict, list)) else "key"
            shown = f"[{key}]" if kind == "table" else repr(key)
            raise LteError(f"unknown top-level {kind} {shown}; allowed: {', '.join(TOP_LEVEL)}")
    for key in ("experiment", "tasks", "grid", "fixed", "profiles"):
        if not isinstance(spec.get(key, {}), dict):
            raise LteError(f"[{key}] must be a table, got {spec[key]!r}")
    header = spec.get("experiment", {})
    for key in header:
        if key not in HEADER_KEYS:
            raise LteError(f"unknown key {key!r} in [experiment]; allowed: {', '.join(HEADER_KEYS)}")
    for key in ("title", "description"):
        if key in header and not isinstance(header[key], str):
            raise LteError(f"{key} in [experiment] must be a string, got {header[key]!r}")
    if "name" in header:
        check_plain_name("experiment name", header["name"], " in [experiment]")
    if "ensemble" in header:
        check_ensemble(header["ensemble"], "[experiment] ensemble")
    schema = schema_of(header.get("kind", DEFAULT_KIND))
    tasks = spec.get("tasks", {})
    for task, settings in tasks.items():
        check_settings(schema, settings, f"[tasks.{task}]", ("grid",))
        if "task" in settings.get("grid", {}):
            raise LteError(f"[tasks.{task}.grid] replaces axes for task {task!r}'s cells; it cannot have a task axis")
        check_grid(schema, settings.get("grid", {}), f"[tasks.{task}.grid]", tasks)
    check_grid(schema, spec.get("grid", {}), "[grid]", tasks)
    check_settings(schema, spec.get("fixed", {}), "[fixed]")
    variants = spec.get("variant", [{}])
    if not isinstance(variants, list) or not variants:
        raise LteError(f"variant must be an array of tables ([[variant]] sections), got {variants!r}")
    for i, variant in enumerate(variants, 1):
        check_variant(schema, variant, f"[[variant]] {i}")
    for profile, settings in spec.get("profiles", {}).items():
        where = f"[profiles.{profile}]"
        if profile not in PROFILES:
            raise LteError(f"unknown profile {where}; allowed: {', '.join(PROFILES)}")
        check_settings(schema, settings, where, PROFILE_EXTRAS)
        overrides = settings.get("tasks", {})
        if not isinstance(overrides, dict):
            raise LteError(f"[profiles.{profile}.tasks] must be a table of task tables, got {overrides!r}")
        for task, override in overrides.items():
            if task not in tasks:
                raise LteError(
                    f"[profiles.{profile}.tasks.{task}]: no [tasks.{task}] table to override; the "
                    f"tables: {', '.join(tasks) or 'none'}"
                )
            check_settings(schema, override, f"[profiles.{profile}.tasks.{task}]", ("grid",))
            check_grid(schema, override.get("grid", {}), f"[profiles.{profile}.tasks.{task}.grid]", tasks)
        check_grid(schema, settings.get("grid", {}), f"[profiles.{profile}.grid]", tasks)
