"""Programs (Zaremba & Sutskever): short Python of additions, subtractions, multiplications, ifs and loops,
`nesting` operations chained; the answer is what the program prints."""

from __future__ import annotations

import random

from data_gen.curriculum import Hardness
from data_gen.programs import generate_program, python_source

FIXED_NESTING = None  # nesting is a difficulty axis of its own
DEFAULT_NESTING = 3


def draw(rng: random.Random, hardness: Hardness) -> tuple[str, int, int, int, tuple[str, ...]]:
    """(body, answer, longest literal length, nesting, operations); the body has no terminator."""
    p = generate_program(rng, hardness)
    return p.serialised, p.value, p.max_literal_length, p.nesting, p.operations


def source(body: str) -> str:
    """Real Python that prints the answer of a body."""
    return python_source(body)


def body_from_source(serialised: str) -> str:
    """The body a model reads for a program given as source (serialised: lines joined by '#')."""
    return serialised


def bounds(length: int, nesting: int) -> tuple[int, int]:
    """Upper bounds on the body's characters and the answer's absolute value: step by step, the worst case of
    every operation for the expression, the code lines and the value separately (a bound, not the maximum)."""
    digits = length + 1  # the largest literal is 10**length
    small = len(str(4 * length))
    expr, code, value = digits, 0, 10**length
    for _ in range(nesting):
        wide = max(expr, digits)
        big = max(value, 10**length)
        expr, code, value = (
            max(expr + digits + 3, expr + small + 3, wide + 4, 1, expr + 3 * digits + 13),
            code + max(wide + 4, wide + len("=#for x in range():+=#") + 2 + small),
            max(big + 10**length, big * 4 * length, big * (1 + 4 * length)),
        )
    return code + len("print()") + expr, value
