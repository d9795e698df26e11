"""Addition: `print(a+b)` of two numbers of up to `length` digits each (drawn per operand)."""

from __future__ import annotations

import random

from data_gen.curriculum import Hardness
from data_gen.programs import python_source
from data_gen.tasks.numbers import number

FIXED_NESTING = 1
DEFAULT_NESTING = 1


def draw(rng: random.Random, hardness: Hardness) -> tuple[str, int, int, int, tuple[str, ...]]:
    la, lb = hardness()[0], hardness()[0]
    a, b = number(rng, la), number(rng, lb)
    return f"print({a}+{b})", a + b, max(la, lb), 1, ("addition",)


def source(body: str) -> str:
    return python_source(body)


def body_from_source(serialised: str) -> str:
    return serialised


def bounds(length: int, nesting: int) -> tuple[int, int]:
    digits = length + 1
    return len("print(+)") + 2 * digits, 2 * 10**length
