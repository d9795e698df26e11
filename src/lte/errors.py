"""The one error type `lte` raises for bad input; the command line turns it into one line, exit 2."""

from data_gen.errors import DataGenError


class LteError(ValueError):
    """Bad input to lte; its message names the value and what is allowed."""


USER_ERRORS = (LteError, DataGenError)
