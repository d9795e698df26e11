"""The command line's arguments: flags generated from a config class's fields, and the checks of what a user
types (seeds, counts, output folders, a run folder's config)."""

from __future__ import annotations

import argparse
import errno
import json
import os
import types
from pathlib import Path

from lte.core.errors import LteError

# what a write can meet that is no bug of the package, and what to do about it (1: the run failed for now,
# resumable; else 2: a place the user named cannot be written)
WRITE_ERRORS = {
    errno.ENOSPC: "; free some space and run the same command again to resume",
    errno.EDQUOT: "; free some space and run the same command again to resume",
    errno.EFBIG: "; free some space and run the same command again to resume",
    errno.EROFS: "; write to a folder on a writable disk",
    errno.EACCES: "; write to a folder of yours",
    errno.EPERM: "; write to a folder of yours",
}
MAX_SEED = 2**32 - 1  # what numpy and JAX take as a seed
MAX_EVAL_COUNT = 1_000_000  # test examples of one `lte eval` (all are generated and held in memory at once)


def check_seed(seed: int, flag: str = "--seed") -> int:
    """`seed` if it is in 0..2**32-1, else an LteError naming it (checked before any config is built)."""
    if not 0 <= seed <= MAX_SEED:
        raise LteError(f"{flag} {seed}: a seed must be an integer in 0..{MAX_SEED} (2**32-1)")
    return seed


def check_out_folder(value: str, flag: str = "--out") -> Path:
    """The folder `value` names: not empty, neither it nor a folder above it an existing file, and writable
    (checked before any work: a file is made and removed in it, or in the folder above that will hold it)."""
    import tempfile

    if not value.strip():
        raise LteError(f"{flag} is empty: give the folder to write to")
    path = Path(value)
    for part in (path, *path.parents):
        if part.exists() and not part.is_dir():
            raise LteError(f"{flag} {value}: {part} is an existing file, not a folder")
    existing = next(part for part in (path, *path.parents) if part.exists())
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".lte-write-check-")
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise LteError(
            f"{flag} {value}: {existing} cannot be written ({error.strerror or error}); "
            f"choose a folder you can write to"
        ) from None
    return path


def check_count(count: int, flag: str = "--count") -> int:
    if count < 1:
        raise LteError(f"{flag} {count}: the number of test examples must be a positive integer")
    if count > MAX_EVAL_COUNT:
        raise LteError(
            f"{flag} {count}: at most {MAX_EVAL_COUNT} test examples in one evaluation "
            f"(they are all generated and held in memory)"
        )
    return count


def load_run_config(run: Path):
    """A run folder's config; a config.json that cannot be read as one is an LteError naming the file."""
    from lte.core.train import load_config

    path = Path(run) / "config.json"
    try:
        return load_config(run)
    except (ValueError, TypeError, AttributeError, OSError, RecursionError) as error:  # LteError is a ValueError
        if not path.exists():
            raise  # "... is not a run folder (no config.json)"
        raise LteError(f"{path} is not a valid run config: {_config_problem(path, error)}") from None


def _config_problem(path: Path, error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(error, json.JSONDecodeError):
        return f"not valid JSON ({error})"
    if isinstance(error, OSError):
        return error.strerror or type(error).__name__
    from lte.core.run_folder import read_record

    try:
        data = json.loads(read_record(path))
    except (ValueError, OSError, RecursionError):  # read_record's LteError (a device, a pipe) is a ValueError
        data = {}
    if not isinstance(data, dict):
        return f"a JSON object of settings is expected, it holds {type(data).__name__ if data is not None else 'null'}"
    return " ".join(str(error).split()) or type(error).__name__


# settings that change how long an example can be (a run's resolved row length then no longer applies)
RESHAPING = {"task", "length", "nesting", "double"}
# flags whose name differs from their config field (kept for the commands people already use)
FLAG_NAMES = {"learning_rate": "lr"}


def _parse_bool(text: str) -> bool:
    if text.lower() in ("true", "yes", "1"):
        return True
    if text.lower() in ("false", "no", "0"):
        return False
    raise argparse.ArgumentTypeError(f"{text!r}: expected true or false")


def add_config_arguments(parser: argparse.ArgumentParser, config_class) -> None:
    """One flag per field of `config_class`, generated from the field: its type, its default and its help and
    allowed values (the field's metadata, lte.core.fields.setting), in an argument group per the field's
    `group`. A flag not given is left out of the parsed arguments (argparse.SUPPRESS), so that
    `config_from_arguments` can tell what was typed from what was defaulted (`lte train --from`)."""
    import dataclasses
    import typing

    hints = typing.get_type_hints(config_class)
    groups: dict[str | None, argparse._ActionsContainer] = {None: parser}
    for f in dataclasses.fields(config_class):
        group = f.metadata.get("group")
        if group not in groups:
            groups[group] = parser.add_argument_group(group)
        add = groups[group].add_argument
        flag = "--" + FLAG_NAMES.get(f.name, f.name).replace("_", "-")
        kind, optional = hints[f.name], False
        if typing.get_origin(kind) in (typing.Union, types.UnionType):
            kind, optional = next(a for a in typing.get_args(kind) if a is not type(None)), True
        help_text = f.metadata.get("help", "")
        choices = f.metadata.get("choices")
        if choices:
            help_text += f"; one of {', '.join(map(str, choices))}"
        if f.name == "nesting":  # the task decides (data_gen.tasks.default_nesting)
            help_text += " (default: the task's own, programs 3, others 1)"
            add(flag, dest=f.name, type=int, default=argparse.SUPPRESS, help=help_text)
        elif kind is bool and not optional:
            add(flag, dest=f.name, action="store_true", default=argparse.SUPPRESS, help=help_text)
        else:
            add(
                flag,
                dest=f.name,
                type=_parse_bool if kind is bool else kind,
                default=argparse.SUPPRESS,
                metavar="{true,false}" if kind is bool else f.name.upper(),
                help=f"{help_text} (default: {f.default})",
            )


def config_from_arguments(args: argparse.Namespace, config_class, base=None):
    """The config the flags of add_config_arguments describe: the flags given, over `base` (a config: `lte train
    --from`) or else over the fields' defaults; a task given without its nesting takes the task's own. The
    config's own checks give clear errors."""
    import dataclasses

    names = [f.name for f in dataclasses.fields(config_class)]
    given = {name: getattr(args, name) for name in names if hasattr(args, name)}
    values = dataclasses.asdict(base) if base is not None else {}
    if base is not None and "nesting" in names and "nesting" not in given and "task" in given:
        values["nesting"] = None  # another task: its own nesting (the config resolves None)
    if base is not None and "row_length" in names and "row_length" not in given and set(given) & RESHAPING:
        values["row_length"] = None  # the base's rows fit its own examples: fit the new ones instead
    return config_class(**{**values, **given})


def add_train_parser(commands) -> None:
    from lte.core.config import TrainConfig

    p = commands.add_parser("train", help="train a model (or resume the run in --out)")
    run = p.add_argument_group("run folder and devices")
    run.add_argument("--out", required=True, help="the run folder")
    run.add_argument(
        "--from",
        dest="from_run",
        type=Path,
        default=None,
        metavar="RUN_DIR",
        help="start from the settings of this run folder's config.json (a committed run, say); any flag given "
        "overrides its setting (default: the flags' own defaults)",
    )
    run.add_argument(
        "--cpu-devices",
        type=int,
        default=1,
        metavar="N",
        help="split each batch's rows over N CPU devices, one core each (a single run on a CPU with "
        "N cores; the same gradient up to rounding); default 1",
    )
    run.add_argument(
        "--one-core",
        action="store_true",
        help="train on one core with XLA's multi-threaded CPU kernels off, as a sweep's worker does: the "
        "bits of a committed record (all cores sum in another order)",
    )
    run.add_argument(
        "--checkpoint-every",
        type=float,
        default=None,
        metavar="SECONDS",
        help="seconds between checkpoints, saved at an evaluation (also at the end and when "
        "interrupted; 0: at every evaluation); default 30",
    )
    add_config_arguments(p, TrainConfig)
