"""Command-line flags from settings, for the tests that drive `lte train` as a user would."""


def flags(settings: dict) -> list[str]:
    """The `lte train` flags that set `settings` (learning_rate -> --learning-rate ...)."""
    return [part for key, value in settings.items() for part in (f"--{key.replace('_', '-')}", str(value))]
