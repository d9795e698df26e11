"""The one error type `lte` raises for bad input; the command line turns it into one line, exit 2."""

from data_gen.errors import DataGenError


class LteError(ValueError):
    """Bad input to lte; its message names the value and what is allowed."""


USER_ERRORS = (LteError, DataGenError)


def check_positive_ints(config: object, names: tuple[str, ...], optional: bool = False) -> None:
    """Each named field of `config` is an int >= 1 (a bool is not; None too when `optional`), else an LteError
    naming it and its value."""
    for name in names:
        value = getattr(config, name)
        if optional and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise LteError(f"{name} must be a positive integer, got {value!r}")


def check_positive_numbers(config: object, names: tuple[str, ...], optional: bool = False) -> None:
    """Each named field of `config` is a finite number > 0 (a bool is not; None too when `optional`), else an
    LteError naming it."""
    import math

    for name in names:
        value = getattr(config, name)
        if optional and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or not math.isfinite(value):
            raise LteError(f"{name} must be a positive number, got {value!r}")


def check_finite_numbers(config: object) -> None:
    """Every float field of the dataclass `config` is finite (NaN or infinity is never a setting)."""
    import dataclasses
    import math

    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise LteError(f"{field.name} must be a finite number, got {value!r}")


def raise_failures(failures: list[tuple[str, Exception]]) -> None:
    """After a sweep's tasks: one LteError naming every task that failed for good (the others finished)."""
    if failures:
        names = ", ".join(name for name, _ in failures)
        raise LteError(f"{len(failures)} task(s) failed: {names}; see their train.log; rerun to retry them")
