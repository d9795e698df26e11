"""The one error type the data side raises for bad input."""


class DataGenError(ValueError):
    """Bad input to the data side; its message names the value and what is allowed."""


def check_int_range(name: str, value: int, low: int, high: int) -> int:
    """Return `value` if it is an int in [low, high], else raise a DataGenError naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DataGenError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    return value


def check_choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    """Return `value` if it is one of `allowed`, else raise a DataGenError naming it."""
    if value not in allowed:
        raise DataGenError(f"unknown {name} {value!r}; allowed: {', '.join(allowed)}")
    return value
