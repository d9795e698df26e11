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
stage tries the base rate / 3 and x 3); its `only = [{ model = "lstm", task =
"copy" }, ...]` keeps it to the cells whose grid labels match one of those
tables (the widened rates of a selection), and `profiles = [...]` to those
profiles. A profile may
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

import itertools
import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

from lte.core.errors import USER_ERRORS, LteError
from lte.core.flax_cell import allow_user_cells
from lte.kinds.naming import field_defaults
from lte.study.experiment_schema import (  # noqa: F401 (re-exported)
    ADDING_KIND,
    ADDING_SELECTED,
    DEFAULT_KIND,
    PROFILES,
    SELECTED,
    SELECTED_VALUES,
    VARIANT_EXTRAS,
    check_ensemble,
    check_plain_name,
    schema_of,
    validate_spec,
)
from lte.study.parameters import equal_parameter_hidden

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
    variants = [v for v in spec.get("variant", [{}]) if profile in v.get("profiles", [profile])] or [{}]
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
            if "only" in variant and not any(all(labels.get(k) == v for k, v in f.items()) for f in variant["only"]):
                continue  # the variant runs only on the cells it names (a widened selection)
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
