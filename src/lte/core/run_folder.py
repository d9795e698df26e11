"""A run folder on disk, for every kind of run: config.json, metrics.jsonl, checkpoints/, summary.json.

One process at a time owns a folder (`lock`); a folder's records are written
as valid JSON only (`json_safe`: a non-finite number becomes null); a
finished folder is trusted only when its records are complete (`damage`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path

from lte.core.errors import LteError

LOCK_NAME = ".lock"


def open_no_follow(path: Path, mode: str = "a"):
    """Open a file the package writes inside a run or results folder, refusing a symbolic link (whose target
    could be anything of the user's): an LteError names it."""
    flags = {"a": os.O_WRONLY | os.O_CREAT | os.O_APPEND, "a+": os.O_RDWR | os.O_CREAT | os.O_APPEND}[mode]
    try:
        fd = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as error:
        if Path(path).is_symlink():
            raise LteError(
                f"{path} is a symbolic link; the package writes only real files in a run folder: remove the link"
            ) from None
        raise LteError(f"cannot write {path}: {error.strerror or error}") from None
    return os.fdopen(fd, mode)


class FolderLock:
    """An exclusive advisory lock on a run folder (fcntl.flock on <folder>/.lock).

    The operating system drops it when its process ends, however it ends, so a
    crashed owner never leaves a folder locked. Where fcntl does not exist, no lock.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._handle = open_no_follow(self.folder / LOCK_NAME, "a+")
        try:
            import fcntl
        except ImportError:  # not a POSIX system
            return
        try:
            fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._handle.seek(0)
            owner = self._handle.read().strip() or "unknown"
            self._handle.close()
            self._handle = None
            raise LteError(
                f"{self.folder} is being written by another process (pid {owner}); two writers would "
                f"corrupt its records: wait for that one to finish, or stop it first"
            ) from None
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(f"{os.getpid()}\n")
        self._handle.flush()

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the file drops the lock
            self._handle = None


MAX_RECORD_BYTES = 64 << 20  # a run's JSON records are kilobytes; more is not a record


def read_record(path: Path) -> str:
    """The text of a record file of a run folder: a regular file of at most MAX_RECORD_BYTES (a link to a device
    or a pipe would read forever), else an LteError naming it."""
    import stat

    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise
    except OSError as error:
        raise LteError(f"cannot read {path}: {error.strerror or error}") from None
    if not stat.S_ISREG(info.st_mode):
        raise LteError(f"{path} is not a regular file (a device, a pipe or a folder); a record is a JSON file")
    if info.st_size > MAX_RECORD_BYTES:
        raise LteError(f"{path} holds {info.st_size:,} bytes, more than any record ({MAX_RECORD_BYTES:,})")
    return path.read_text(encoding="utf-8")


def write_json_atomic(path: Path, data: dict, indent: int = 2) -> None:
    """Write `data` as JSON (non-finite numbers as null) via a temporary file of this process's own, so a
    reader never sees half a file and two writers never take each other's temporary file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(json_safe(data), indent=indent, sort_keys=True, allow_nan=False) + "\n")
    os.replace(tmp, path)


def json_safe(value):
    """`value` with every NaN or infinity replaced by None: JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def append_metrics(run: Path, row: dict) -> None:
    with open_no_follow(Path(run) / "metrics.jsonl") as f:
        f.write(json.dumps(json_safe(row), allow_nan=False) + "\n")


def open_run(out: Path, config) -> None:
    """Create the run folder's config.json, or check that the existing one holds this config.

    `config` is any run config with `to_json()`. A folder that holds records
    (metrics, checkpoints, a summary) without a readable config.json is
    refused: its options are unknown, so it must not be resumed under new ones.
    """
    out = Path(out)
    config_path = out / "config.json"
    wanted = config.to_json()
    if not config_path.exists():
        records = [name for name in ("metrics.jsonl", "checkpoints", "summary.json") if (out / name).exists()]
        if records:
            raise LteError(
                f"{out} holds a run's records ({', '.join(records)}) but no config.json, so the options "
                f"it was trained with are unknown and it is not resumed: use another --out, or delete "
                f"the folder to start over"
            )
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(config_path, wanted)
        return
    try:
        saved = json.loads(read_record(config_path))
        if not isinstance(saved, dict):
            raise ValueError(f"a JSON {type(saved).__name__}, not an object")
    except (ValueError, UnicodeDecodeError, OSError) as error:
        raise LteError(
            f"{config_path} is not a readable run config ({error}); the folder is not resumed: "
            f"use another --out, or delete the folder to start over"
        ) from None
    diff = {k: (saved.get(k), wanted.get(k)) for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k)}
    if diff:
        detail = ", ".join(f"{k}: {a!r} in the folder, {b!r} now" for k, (a, b) in sorted(diff.items()))
        raise LteError(f"{out} holds a run with a different config ({detail}); use another --out or the same options")


def train_in_folder(config, out: Path, train: Callable[[Path], dict]) -> dict:
    """The frame a run kind's train function shares: hold the folder's lock, check or write its config.json,
    and return its summary when it is finished, else what `train(out)` returns."""
    out = Path(out)
    lock = FolderLock(out)
    try:
        open_run(out, config)
        if (out / "summary.json").exists():
            return finished_summary(out)
        return train(out)
    finally:
        lock.release()


def finished_summary(run: Path) -> dict:
    """The summary of the finished run folder `run`, whose records `damage` finds complete; else an LteError
    saying why it is not resumed (`lte sweep` sets such a folder aside itself and retrains the cell)."""
    reason = damage(run)
    if reason is not None:
        raise LteError(
            f"{run} holds a summary.json, but its records are damaged ({reason}); it is neither "
            f"trusted as finished nor resumed: move the folder aside (or delete it) to train afresh"
        )
    return json.loads(read_record(Path(run) / "summary.json"))


def read_index(path: Path) -> dict:
    """An experiment's index (cells.json, written by `lte sweep`): a JSON object whose "cells" (or, the adding
    problem's, "runs") is a list of cells with a name; else an LteError naming the file."""
    try:
        data = json.loads(read_record(path))
    except FileNotFoundError:
        raise
    except (ValueError, UnicodeDecodeError) as error:  # read_record's LteError is a ValueError
        raise LteError(
            f"{path} is not a readable experiment index ({' '.join(str(error).split())}): run the "
            f"experiment's `lte sweep` again to rewrite it"
        ) from None
    entries = data.get("cells", data.get("runs")) if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(
        isinstance(e, str) or (isinstance(e, dict) and isinstance(e.get("name"), str)) for e in entries
    ):
        raise LteError(
            f"{path} is not an experiment index (a JSON object listing its cells by name): run the "
            f"experiment's `lte sweep` again to rewrite it"
        )
    return data


def indexed_runs(root: Path) -> list[Path]:
    """The run folders of an experiment's folder `root` that its index (cells.json, written by `lte sweep`)
    lists now, in its order; every folder holding a config.json when there is no index (runs made by hand)."""
    root = Path(root)
    index = root / "cells.json"
    if index.exists():
        data = read_index(index)
        return [root / (e if isinstance(e, str) else e["name"]) for e in data.get("cells", data.get("runs"))]
    return sorted(p.parent for p in root.glob("*/config.json"))


def read_metrics(run: Path) -> list[dict]:
    """metrics.jsonl's rows, up to a last line cut short by a kill."""
    path = Path(run) / "metrics.jsonl"
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut short by a kill
            break
    return rows


def truncate_metrics(run: Path, last_step: int) -> None:
    """Drop metric lines written after the checkpoint we resume from (they will be written again)."""
    rows = [r for r in read_metrics(run) if r["step"] <= last_step]
    path = Path(run) / "metrics.jsonl"
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    os.replace(tmp, path)


def damage(run: Path) -> str | None:
    """Why a run folder with a summary.json cannot be trusted as finished, or None when it can.

    Finished records are complete and consistent: config.json and summary.json
    are JSON objects, every line of metrics.jsonl parses, its steps strictly
    increase, and its last step is the summary's step count.
    """
    run = Path(run)
    try:
        if not isinstance(json.loads(read_record(run / "config.json")), dict):
            return "config.json is not a JSON object of settings"
    except (ValueError, UnicodeDecodeError, OSError) as error:
        return f"config.json is unreadable ({error})"
    try:  # read_record: a link to a device or a pipe is damage too, not a read without end
        summary = json.loads(read_record(run / "summary.json"))
    except (ValueError, UnicodeDecodeError, OSError) as error:
        return f"summary.json is unreadable ({error})"
    if not isinstance(summary, dict) or not isinstance(summary.get("steps"), int):
        return "summary.json is not a run summary (no step count)"
    try:
        lines = read_record(run / "metrics.jsonl").splitlines()
        steps = [json.loads(line)["step"] for line in lines if line.strip()]
    except (ValueError, UnicodeDecodeError, OSError, KeyError, TypeError) as error:
        return f"metrics.jsonl is unreadable ({type(error).__name__}: {error})"
    if any(b <= a for a, b in zip(steps, steps[1:])):
        return "metrics.jsonl's steps do not strictly increase (two writers, or a corrupted file)"
    if not steps or steps[-1] != summary["steps"]:
        return f"metrics.jsonl ends at step {steps[-1] if steps else None}, summary.json says {summary['steps']} steps"
    return None


def set_aside(run: Path, reason: str, log) -> Path:
    """Move a damaged run folder out of the way (kept, never deleted), so that its cell trains afresh."""
    import time

    run = Path(run)
    aside = run.with_name(f"{run.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
    run.rename(aside)
    log(f"{run.name}: damaged records ({reason}); moved to {aside.name}, the cell trains afresh")
    return aside
