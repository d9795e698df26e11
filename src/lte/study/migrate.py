"""`lte migrate-names`: rename committed run folders to the current naming rule (lte.kinds.naming.NAME_SCHEMA).

Records are migrated, never retrained: each folder's name is recomputed from its own config.json and the
experiment's index (cells.json) is rewritten to match. A folder already named right is left alone; running it
twice changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from lte.core.errors import LteError
from lte.core.run_folder import read_index, write_json_atomic


def _new_cell_name(experiment: str, entry: dict) -> str:
    from lte.kinds import get_kind
    from lte.study.experiment import Cell

    kind = entry.get("kind", "char")  # indexes written before run kinds hold character-level cells
    return Cell(experiment, entry.get("labels", {}), get_kind(kind).config_class.from_json(entry["config"]), kind).name


def _new_adding_name(folder: Path) -> str:
    from lte.kinds.adding import AddingConfig, run_name

    return run_name(AddingConfig(**json.loads((folder / "config.json").read_text())))


def check_folder_name(root: Path, name, where: Path) -> None:
    """`name` must be one folder directly under `root`: no separator, no `..`, nothing that leaves it."""
    if (
        not isinstance(name, str)
        or not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or "\0" in name
        or (root / name).resolve().parent != root.resolve()
    ):
        raise LteError(
            f"{where}: run name {name!r} is not a plain folder name under {root}; the index is "
            f"refused (nothing was renamed)"
        )


def _rename(root: Path, old: str, new: str, log) -> None:
    if old == new or not (root / old).exists():
        return
    if (root / new).exists():
        raise LteError(f"cannot rename {root / old} to {new}: that folder exists already")
    (root / old).rename(root / new)
    log(f"{root.name}/{old} -> {new}")


def migrate_names(
    results: Path, log=print, experiments: list[str] | None = None, profiles: list[str] | None = None
) -> int:
    """Rename every run folder under results/runs/<profile>/<experiment>/ (of `profiles` and `experiments`,
    default all) that its config names otherwise; returns how many were renamed."""
    if not Path(results).is_dir():
        raise LteError(f"--results {results}: no such folder")
    renamed = 0
    for index in sorted(Path(results).glob("runs/*/*/cells.json")):
        if experiments is not None and index.parent.name not in experiments:
            continue
        if profiles is not None and index.parent.parent.name not in profiles:
            continue
        root, data = index.parent, read_index(index)
        old_names = [e.get("name") if isinstance(e, dict) else e for e in data.get("cells", data.get("runs", []))]
        new_names = [_new_cell_name(root.name, e) for e in data["cells"]] if "cells" in data else []
        for name in old_names + new_names:  # every name checked before anything moves
            check_folder_name(root, name, index)
        if "cells" in data:
            for entry, new in zip(data["cells"], new_names):
                renamed += entry["name"] != new and (root / entry["name"]).exists()
                _rename(root, entry["name"], new, log)
                entry["name"] = new
        else:  # the adding problem's index: run names only, configs in the folders
            names = []
            for old in data.get("runs", []):
                new = _new_adding_name(root / old) if (root / old / "config.json").exists() else old
                check_folder_name(root, new, index)
                renamed += old != new
                _rename(root, old, new, log)
                names.append(new)
            data["runs"] = names
        write_json_atomic(index, data, indent=1)
    return renamed
