"""Experiments: declarative TOML files in experiments/, expanded into cells (one training run each).

A file has
    [experiment]  name, title, question
    [tasks.<name>] the task settings a `task` axis value stands for (task, length, nesting, ...)
    [grid]        axes whose every combination is a cell; an axis given as a table is
                  per model (e.g. [grid.learning_rate] lstm = [...], irnn = [...])
    [[variant]]   optional: labelled settings crossed with the grid (e.g. equal units vs
                  equal parameters; `hidden_scale` multiplies the profile's hidden size)
    [fixed]       settings shared by every cell
    [profiles.<name>] settings per profile (and [profiles.<name>.tasks.<task>] overrides)

`learning_rate = "selected"` (likewise `clip`, `input_scale`) takes the value
that the selection experiment (experiments/lr_selection.toml) chose on
validation data for the cell's model and task. A profile may replace whole grid
axes (`[profiles.<name>] grid = { seed = [...] }`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

from lte.config import TrainConfig
from lte.errors import LteError

PROFILES = ("quick", "default", "paper")
DEFAULT_PROFILE = "default"
RESULTS = Path("results")


@dataclass(frozen=True)
class Cell:
    experiment: str
    labels: dict  # the values of the grid axes and the variant label, for tables and figures
    config: TrainConfig

    @property
    def name(self) -> str:
        c = self.config
        parts = [self.labels.get("variant_id") or c.model, f"h{c.hidden}x{c.layers}", f"{c.task}{c.length}x{c.nesting}",
                 c.strategy]
        parts += ["inv"] if c.invert else []
        parts += ["dbl"] if c.double else []
        parts += [f"lr{c.resolved_learning_rate:g}", f"s{c.seed}"]
        return "-".join(parts) + "-" + config_digest(c.to_json())


def config_digest(config_json: dict) -> str:
    """Six hex digits of the whole config: run folders of different configs never share a name."""
    return hashlib.sha256(json.dumps(config_json, sort_keys=True).encode()).hexdigest()[:6]


def runs_dir(experiment: str, profile: str, results: Path = RESULTS) -> Path:
    return results / "runs" / profile / experiment


def load_experiment(path: Path, profile: str = DEFAULT_PROFILE, results: Path = RESULTS) -> tuple[dict, list[Cell]]:
    """The experiment's header and its cells for `profile`."""
    path = Path(path)
    if not path.exists():
        raise LteError(f"no experiment file {path}")
    if profile not in PROFILES:
        raise LteError(f"unknown profile {profile!r}; allowed: {', '.join(PROFILES)}")
    try:
        spec = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise LteError(f"{path} is not valid TOML: {error}") from None
    header = spec.get("experiment", {})
    name = header.get("name", path.stem)
    profile_settings = dict(spec.get("profiles", {}).get(profile, {}))
    if not profile_settings and "profiles" in spec:
        raise LteError(f"{path} has no profile {profile!r}; it has {', '.join(spec['profiles'])}")
    task_overrides = profile_settings.pop("tasks", {})
    tasks = {k: {**v, **task_overrides.get(k, {})} for k, v in spec.get("tasks", {}).items()}
    grid = {**spec.get("grid", {}), **profile_settings.pop("grid", {})}  # a profile may replace whole axes
    variants = spec.get("variant", [{}])
    plain_axes = {k: v for k, v in grid.items() if not isinstance(v, dict)}
    per_model_axes = {k: v for k, v in grid.items() if isinstance(v, dict)}

    cells = []
    for variant in variants:
        for values in itertools.product(*plain_axes.values()):
            labels = dict(zip(plain_axes, values))
            settings = {**spec.get("fixed", {}), **profile_settings}
            if "task" in labels:
                if labels["task"] not in tasks:
                    raise LteError(f"{path}: task {labels['task']!r} has no [tasks.{labels['task']}] table")
                settings.update(tasks[labels["task"]])
            settings.update({k: v for k, v in labels.items() if k != "task"})
            settings.update({k: v for k, v in variant.items() if k not in ("label", "id", "hidden_scale")})
            if "hidden_scale" in variant:
                settings["hidden"] = int(round(settings["hidden"] * variant["hidden_scale"]))
            if variant.get("label"):
                labels["variant"] = variant["label"]
                labels["variant_id"] = variant.get("id", variant["label"])
            model = settings.get("model", "lstm")
            per_model = [[(k, v) for v in axis.get(model, [])] for k, axis in per_model_axes.items()]
            for extra in itertools.product(*per_model):
                cell_labels = {**labels, **dict(extra)}
                cell_settings = {**settings, **dict(extra)}
                wanted = [k for k in SELECTED if cell_settings.get(k) == "selected"]
                if wanted:
                    chosen = selected_settings(model, cell_settings.get("task", "program"), profile, results)
                    cell_settings.update({k: chosen[k] for k in wanted})
                try:
                    config = TrainConfig(**cell_settings)
                except TypeError as error:
                    raise LteError(f"{path}: {error}") from None
                cells.append(Cell(name, cell_labels, config))
    return header, cells


SELECTED = ("learning_rate", "clip", "input_scale")  # the settings "selected" can stand for


def selected_settings(model: str, task: str, profile: str, results: Path = RESULTS) -> dict:
    """The learning rate, clip and input scale the selection experiment chose for (model, task)."""
    path = results / "lr_selection" / f"selected_{profile}.json"
    if not path.exists():
        raise LteError(f"no selected hyperparameters for profile {profile!r} ({path}); run the selection "
                       f"first: lte sweep experiments/lr_selection.toml --profile {profile}")
    selected = json.loads(path.read_text())
    key = f"{model}/{task}"
    if key not in selected:
        raise LteError(f"{path} has no selection for {key}; it has {', '.join(selected)}")
    entry = selected[key]
    missing = [k for k in SELECTED if k not in entry]
    if missing:
        raise LteError(f"{path}: {key} lacks {', '.join(missing)}; rerun the selection experiment")
    return {k: (None if entry[k] is None else float(entry[k])) for k in SELECTED}


def config_fields() -> list[str]:
    return [f.name for f in dataclasses.fields(TrainConfig)]
