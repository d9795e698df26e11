"""Experiments: declarative TOML files in experiments/, expanded into cells (one training run each).

A file has
    [experiment]  name, title, question; `kind`: the run kind its cells are (lte.kinds; default
                  "char", the study's character-level runs), whose config's fields are the settings;
                  `ensemble`: models per compiled step (lte.study.sweep; e.g. 1 where wall time is measured)
    [tasks.<name>] the task settings a `task` axis value stands for (task, length, nesting, ...); its
                  optional `grid` sub-table replaces grid axes for that task's cells (e.g. fewer
                  settings where runs cost more)
    [grid]        axes whose every combination is a cell; an axis given as a table is
                  per model (e.g. [grid.learning_rate] lstm = [...], irnn = [...])
    [[variant]]   optional: labelled settings crossed with the grid (e.g. equal units vs
                  equal parameters; `hidden_scale` multiplies the profile's hidden size;
                  `parameters_of = "lstm"` sets the width whose parameter count is nearest the LSTM's)
    [fixed]       settings shared by every cell
    [profiles.<name>] settings per profile (and [profiles.<name>.tasks.<task>] overrides)

`learning_rate = "selected"` (likewise `clip`, `input_scale`) takes the value
that the selection chose on validation data for the cell's model, task and
strategy (the per-strategy stage's, results/lr_selection/selected_strategies_<profile>.json,
where it made one; else experiments/lr_selection.toml's for the model and task;
char kind only); "selected-base" always the latter. A variant's
`learning_rate_scale` multiplies the cell's learning rate (the per-strategy
stage tries the base rate / 3 and x 3). A profile may
replace whole grid axes (`[profiles.<name>] grid = { seed = [...] }`).

The file is checked against this schema before any cell is made (`validate_spec`),
every profile at once, so a typo in one profile is found whichever is run: an
unknown table, kind or setting, a value of the wrong type (the config field's:
booleans are TOML booleans, integers are not strings or floats), an empty grid
axis, a per-model axis that misses a model of the grid, an experiment name or
variant id that is not a plain name (it names a folder under the results) and
two cells with the same settings are each an LteError naming the key or value
and what is allowed.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import re
import tomllib
import typing
from dataclasses import dataclass
from pathlib import Path

from lte.core.cells import CELLS
from lte.core.errors import USER_ERRORS, LteError
from lte.core.flax_cell import allow_user_cells
from lte.kinds.naming import field_defaults
from lte.study.parameters import equal_parameter_hidden

PROFILES = ("quick", "default", "paper")
DEFAULT_PROFILE = "default"
RESULTS = Path("results")


@dataclass(frozen=True)
class Cell:
    experiment: str
    labels: dict  # the values of the grid axes and the variant label, for tables and figures
    config: object  # the kind's config (TrainConfig for the study's character-level runs)
    kind: str = "char"  # lte.kinds

    @property
    def name(self) -> str:
        from lte.kinds import get_kind

        return get_kind(self.kind).folder_name(self.config, self.labels)


MAX_CELLS = 10_000  # a larger grid is run only when asked for (lte sweep --yes)


def runs_dir(experiment: str, profile: str, results: Path = RESULTS) -> Path:
    return results / "runs" / profile / experiment


def outputs_dir(kind: str, profile: str, results: Path = RESULTS) -> Path:
    """results/<profile>/<kind>/ ("figures" or "tables"), made when missing: what the analysis writes."""
    path = results / profile / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_experiment(
    path: Path, profile: str = DEFAULT_PROFILE, results: Path = RESULTS, max_cells: int | None = MAX_CELLS
) -> tuple[dict, list[Cell]]:
    """The experiment's header and its cells for `profile`; more than `max_cells` cells is an LteError stating
    the count (None: no cap)."""
    path = Path(path)
    if not path.exists():
        raise LteError(f"no experiment file {path}")
    if profile not in PROFILES:
        raise LteError(f"unknown profile {profile!r}; allowed: {', '.join(PROFILES)}")
    if not path.is_file():
        raise LteError(f"{path} is not a file; give an experiments/<name>.toml file")
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise LteError(f"{path} is not valid TOML: {error}") from None
    except UnicodeDecodeError:
        raise LteError(f"{path} is not a text file (not UTF-8); an experiment file is TOML") from None
    try:
        validate_spec(spec)
    except LteError as error:
        raise LteError(f"{path}: {error}") from None
    header = spec.get("experiment", {})
    kind = header.get("kind", DEFAULT_KIND)
    config_class = schema_of(kind).config_class
    defaults = field_defaults(config_class)
    name = header.get("name", path.stem)
    if "name" not in header:
        check_plain_name("experiment name", name, " (the file's name; set [experiment] name)")
    profile_settings = dict(spec.get("profiles", {}).get(profile, {}))
    if not profile_settings and "profiles" in spec:
        raise LteError(f"{path} has no profile {profile!r}; it has {', '.join(spec['profiles'])}")
    task_overrides = profile_settings.pop("tasks", {})
    tasks = {k: {**v, **task_overrides.get(k, {})} for k, v in spec.get("tasks", {}).items()}
    profile_grid = profile_settings.pop("grid", {})
    grid = {**spec.get("grid", {}), **profile_grid}  # a profile may replace whole axes
    variants = spec.get("variant", [{}])
    grids = grid_per_task(grid, tasks)
    count = len(variants) * sum(
        math.prod(
            len(v) if not isinstance(v, dict) else max((len(x) for x in v.values()), default=1) for v in g.values()
        )
        for g in grids
    )
    if max_cells is not None and count > max_cells:
        raise LteError(
            f"{path} ({profile}) has {count:,} cells, more than {max_cells:,}: pass --yes to run "
            f"them all, or shrink the grid"
        )

    cells = []
    for variant, grid in itertools.product(variants, grids):
        plain_axes = {k: v for k, v in grid.items() if not isinstance(v, dict)}
        per_model_axes = {k: v for k, v in grid.items() if isinstance(v, dict)}
        axis_tables = {k: f"[profiles.{profile}.grid.{k}]" if k in profile_grid else f"[grid.{k}]" for k in grid}
        for values in itertools.product(*plain_axes.values()):
            labels = dict(zip(plain_axes, values))
            settings = {**spec.get("fixed", {}), **profile_settings}
            if "task" in labels:
                if labels["task"] not in tasks:
                    raise LteError(f"{path}: task {labels['task']!r} has no [tasks.{labels['task']}] table")
                settings.update({k: v for k, v in tasks[labels["task"]].items() if k != "grid"})
            settings.update({k: v for k, v in labels.items() if k != "task"})
            settings.update({k: v for k, v in variant.items() if k not in VARIANT_EXTRAS})
            if "hidden_scale" in variant:
                hidden = settings.get("hidden", defaults["hidden"])
                settings["hidden"] = int(round(hidden * variant["hidden_scale"]))
            if "parameters_of" in variant:  # the width with the reference model's parameter count
                settings["hidden"] = _equal_parameter_hidden(variant, settings, defaults, path)
            if variant.get("label"):
                labels["variant"] = variant["label"]
                labels["variant_id"] = variant.get("id", variant["label"])
            model = settings.get("model", defaults.get("model"))
            if isinstance(model, str) and ":" in model:  # the user's own experiment file names this cell
                allow_user_cells(model)
            for k, axis in per_model_axes.items():
                if model not in axis:
                    raise LteError(
                        f"{path}: {axis_tables[k]} has no values for model {model!r}; it has "
                        f"{', '.join(axis)}: a per-model axis needs a list for every model of the grid"
                    )
            per_model = [[(k, v) for v in axis[model]] for k, axis in per_model_axes.items()]
            for extra in itertools.product(*per_model):
                cell_labels = {**labels, **dict(extra)}
                cell_settings = {**settings, **dict(extra)}
                for value in SELECTED_VALUES:
                    wanted = [k for k in SELECTED if cell_settings.get(k) == value]
                    if wanted and kind == ADDING_KIND:
                        chosen = selected_adding_settings(model, profile, results)
                        cell_settings.update({k: chosen[k] for k in wanted})
                    elif wanted:
                        strategy = cell_settings.get("strategy", defaults.get("strategy"))
                        chosen = selected_settings(
                            model,
                            cell_settings.get("task", "program"),
                            profile,
                            results,
                            strategy=strategy if value == "selected" else None,
                        )
                        cell_settings.update({k: chosen[k] for k in wanted})
                if "learning_rate_scale" in variant:
                    cell_settings["learning_rate"] = _scaled_rate(
                        cell_settings.get("learning_rate"), variant["learning_rate_scale"]
                    )
                try:
                    config = config_class(**cell_settings)
                except (TypeError, *USER_ERRORS) as error:  # a bad value: the file and the cell name it
                    raise LteError(f"{path}: cell {cell_labels}: {error}") from None
                cells.append(Cell(name, cell_labels, config, kind))
    check_unique_cells(cells, path)
    return header, cells


def _equal_parameter_hidden(variant: dict, settings: dict, defaults: dict, path: Path) -> int:
    """The hidden size at which the variant's model has the parameter count nearest that of the model
    `parameters_of` at the profile's hidden size (within 5%, else an LteError naming the variant)."""
    model = settings.get("model", defaults.get("model"))
    try:
        return equal_parameter_hidden(
            model,
            variant["parameters_of"],
            settings.get("hidden", defaults["hidden"]),
            settings.get("layers", defaults["layers"]),
        )
    except ValueError as error:
        raise LteError(f"{path}: variant {variant.get('label')!r}: {error}") from None


def grid_per_task(grid: dict, tasks: dict) -> list[dict]:
    """The grid once per value of its `task` axis, that task's own axes (`[tasks.<name>.grid]`) in place of the
    shared ones; the grid alone when no task replaces an axis."""
    if "task" not in grid or not any("grid" in tasks.get(t, {}) for t in grid["task"]):
        return [grid]
    return [{**grid, "task": [t], **tasks.get(t, {}).get("grid", {})} for t in grid["task"]]


def check_unique_cells(cells: list[Cell], path: Path) -> None:
    """Two cells with the same settings would train into one run folder: an error naming the duplicate."""
    seen: dict[str, dict] = {}
    for cell in cells:
        if cell.name in seen:
            raise LteError(
                f"{path}: duplicate cell {cell.name}: the cells {seen[cell.name]} and {cell.labels} "
                f"have the same settings; remove the repeated grid value or variant"
            )
        seen[cell.name] = cell.labels


# --- the schema --------------------------------------------------------------------------------------

TOP_LEVEL = ("experiment", "tasks", "grid", "variant", "fixed", "profiles")
HEADER_KEYS = ("name", "title", "description", "kind", "ensemble")  # what [experiment] may hold
VARIANT_EXTRAS = (
    "label",
    "id",
    "hidden_scale",
    "learning_rate_scale",
    "parameters_of",
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


SELECTED = ("learning_rate", "clip", "input_scale")  # the settings "selected" can stand for
# "selected": the most specific selection there is (per strategy, else per model and task); "selected-base":
# the per-(model, task) selection only (what the per-strategy selection itself starts from)
SELECTED_VALUES = ("selected", "selected-base")
ADDING_KIND, ADDING_SELECTED = "adding", ("learning_rate", "clip")  # the adding problem's own selection


def selected_adding_settings(model: str, profile: str, results: Path = RESULTS) -> dict:
    """The adding problem's learning rate and clip chosen for `model` (selected_adding_<profile>.json)."""
    path = results / "lr_selection" / f"selected_adding_{profile}.json"
    if not path.exists():
        raise LteError(
            f"no selected adding-problem settings for profile {profile!r} ({path}); run the selection "
            f"first: lte sweep experiments/adding_selection.toml --profile {profile}"
        )
    selected = json.loads(path.read_text())
    if model not in selected or any(k not in selected[model] for k in ADDING_SELECTED):
        raise LteError(f"{path} has no complete selection for {model}; rerun the adding selection")
    return {k: float(selected[model][k]) for k in ADDING_SELECTED}


def _scaled_rate(rate, scale: float) -> float:
    if not isinstance(rate, (int, float)) or isinstance(rate, bool):
        raise LteError(f"learning_rate_scale needs a learning rate to scale, got {rate!r}")
    return float(f"{rate * scale:.6g}")  # 5 x (1/3) is 1.66667, not 1.6666666666666667, in names and records


def selected_settings(
    model: str, task: str, profile: str, results: Path = RESULTS, strategy: str | None = None
) -> dict:
    """The learning rate, clip and input scale chosen for (model, task): the per-strategy selection's for
    `strategy` when it made one (selected_strategies_<profile>.json), else the selection experiment's."""
    if strategy is not None:
        per_strategy = results / "lr_selection" / f"selected_strategies_{profile}.json"
        entries = json.loads(per_strategy.read_text()) if per_strategy.exists() else {}
        entry = entries.get(f"{model}/{task}/{strategy}")
        if entry is not None:
            return {k: (None if entry[k] is None else float(entry[k])) for k in SELECTED}
    path = results / "lr_selection" / f"selected_{profile}.json"
    if not path.exists():
        raise LteError(
            f"no selected hyperparameters for profile {profile!r} ({path}); run the selection "
            f"first: lte sweep experiments/lr_selection.toml --profile {profile}"
        )
    selected = json.loads(path.read_text())
    key = f"{model}/{task}"
    if key not in selected:
        raise LteError(f"{path} has no selection for {key}; it has {', '.join(selected)}")
    entry = selected[key]
    missing = [k for k in SELECTED if k not in entry]
    if missing:
        raise LteError(f"{path}: {key} lacks {', '.join(missing)}; rerun the selection experiment")
    return {k: (None if entry[k] is None else float(entry[k])) for k in SELECTED}
