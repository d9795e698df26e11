"""Drawing the numbers of the arithmetic tasks (a helper module, not a task)."""

from __future__ import annotations

import random

REGISTERED = False  # a helper, not a task


def number(rng: random.Random, digits: int) -> int:
    """Uniform among the integers with exactly `digits` digits (1..9 for one digit)."""
    low = 10 ** (digits - 1)
    return low + rng.randrange(9 * low)
