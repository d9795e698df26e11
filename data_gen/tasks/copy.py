"""Copy (memorisation): the model reads a number of `length` digits and writes it back."""

from __future__ import annotations

import random

from data_gen.curriculum import Hardness
from data_gen.tasks.numbers import number

FIXED_NESTING = 1
DEFAULT_NESTING = 1


def draw(rng: random.Random, hardness: Hardness) -> tuple[str, int, int, int, tuple[str, ...]]:
    length = hardness()[0]
    a = number(rng, length)
    return str(a), a, length, 1, ("copy",)


def source(body: str) -> str:
    return f"print({body})\n"


def body_from_source(serialised: str) -> str:
    """`print(123)` is read as the number alone."""
    return serialised.removeprefix("print(").removesuffix(")")


def bounds(length: int, nesting: int) -> tuple[int, int]:
    return length + 1, 10**length
