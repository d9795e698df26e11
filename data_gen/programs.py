"""Zaremba & Sutskever's program generator (`data.lua`, `utils/operations.lua`).

A program chains `nesting` operations, each picked uniformly from six. Every
operation takes operands; the pending expression of the previous operation,
if any, goes to a uniformly random operand slot, the other slots get fresh
literals drawn uniformly from [1, 10**length]. The hardness (length,
nesting) is drawn again for every literal and every small bound, which is
what lets the `mix` strategy mix lengths inside one program. Small bounds
(multiplier, loop count) are drawn from [1, 4 * length]. Variable names are a
fresh permutation of a..j per program; the loop variable is always `x`.

Serialisation: every code line followed by `#`, then `print(expr)`; the task
layer adds the `@` terminator and the `.`-terminated target.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from data_gen.curriculum import Hardness

OPERATIONS = ("pair", "small_multiply", "identity", "variable", "small_loop", "if_expression")
VARIABLE_NAMES = "abcdefghij"


@dataclass(frozen=True, slots=True)
class Program:
    """One generated program.

    `code` holds the lines before the print, in the serialised form
    (`j=8584`, `for x in range(8):j+=920`, `b=(1500+j);`).
    """

    code: tuple[str, ...]
    expression: str
    value: int
    operations: tuple[str, ...]
    max_literal_length: int  # the longest literal length drawn (the example's length)

    @property
    def nesting(self) -> int:
        return len(self.operations)

    @property
    def serialised(self) -> str:
        """`line#line#print(expr)` (the model's input before the `@` terminator)."""
        return "".join(line + "#" for line in self.code) + f"print({self.expression})"

    @property
    def source(self) -> str:
        """Real Python that prints `value`: one statement a line, the loop body indented."""
        lines = []
        for line in self.code:
            if line.startswith("for "):
                header, body = line.split(":", 1)
                lines += [header + ":", "    " + body]
            else:
                lines.append(line.rstrip(";"))
        lines.append(f"print({self.expression})")
        return "\n".join(lines) + "\n"


_EXACT_FLOAT_LIMIT = 2 ** 31  # below this, int(random() * n) is uniform to within n / 2**53


class _Builder:
    """Draws one program; the state the six operations share."""

    __slots__ = ("hardness", "random", "randbelow_exact", "pending", "code", "names", "max_length")

    def __init__(self, rng: random.Random, hardness: Hardness) -> None:
        self.hardness = hardness
        self.random = rng.random
        self.randbelow_exact = rng.randrange
        self.pending: tuple[str, int] | None = None
        self.code: list[str] = []
        self.names = list(VARIABLE_NAMES)
        self.max_length = 0

    def randbelow(self, n: int) -> int:
        """Uniform in [0, n): one float draw when that is exact to 1e-7, else rejection sampling."""
        if n < _EXACT_FLOAT_LIMIT:
            return int(self.random() * n)
        return self.randbelow_exact(n)

    def coin(self) -> bool:
        return self.random() < 0.5

    def literal(self) -> tuple[str, int]:
        length = self.hardness()[0]
        if length > self.max_length:
            self.max_length = length
        value = self.randbelow(10 ** length) + 1  # uniform in [1, 10**length]
        return str(value), value

    def small_bound(self) -> int:
        return self.randbelow(4 * self.hardness()[0]) + 1  # uniform in [1, 4 * length]

    def operand(self) -> tuple[str, int]:
        if self.pending is None:
            return self.literal()
        pending, self.pending = self.pending, None
        return pending

    def operands(self, count: int) -> list[tuple[str, int]]:
        """`count` operands; the pending expression (if any) in a uniformly random slot."""
        if self.pending is None:
            return [self.literal() for _ in range(count)]
        pending, self.pending = self.pending, None
        out = [self.literal() for _ in range(count - 1)]
        out.insert(self.randbelow(count), pending)
        return out

    def new_variable(self) -> str:
        """A name not used before in this program, uniform over those left (a random permutation)."""
        return self.names.pop(self.randbelow(len(self.names)))

    # The six operations; each returns (expression, value).

    def pair(self) -> tuple[str, int]:
        (a, va), (b, vb) = self.operands(2)
        if self.coin():
            return f"({a}+{b})", va + vb
        return f"({a}-{b})", va - vb

    def small_multiply(self) -> tuple[str, int]:
        e, ve = self.operand()
        k = self.small_bound()
        if self.coin():
            return f"({e}*{k})", ve * k
        return f"({k}*{e})", ve * k

    def identity(self) -> tuple[str, int]:
        return self.operand()

    def variable(self) -> tuple[str, int]:
        name = self.new_variable()
        (a, va), (b, vb) = self.operands(2)
        self.code.append(f"{name}={a};")
        if self.coin():
            return f"({name}+{b})", va + vb
        return f"({name}-{b})", va - vb

    def small_loop(self) -> tuple[str, int]:
        name = self.new_variable()
        (a, va), (b, vb) = self.operands(2)
        count = self.small_bound()
        sign, step = ("+", vb) if self.coin() else ("-", -vb)
        self.code.append(f"{name}={a}")
        self.code.append(f"for x in range({count}):{name}{sign}={b}")
        return name, va + count * step

    def if_expression(self) -> tuple[str, int]:
        (a, va), (b, vb), (c, vc), (d, vd) = self.operands(4)
        if self.coin():
            return f"({c} if {a}>{b} else {d})", vc if va > vb else vd
        return f"({c} if {a}<{b} else {d})", vc if va < vb else vd


def generate_program(rng: random.Random, hardness: Hardness) -> Program:
    """Draw one program; `hardness()` is called for the nesting and for every literal and bound."""
    builder = _Builder(rng, hardness)
    nesting = hardness()[1]
    operations = [OPERATIONS[builder.randbelow(6)] for _ in range(nesting)]
    for name in operations:
        builder.pending = getattr(builder, name)()
    expression, value = builder.pending
    return Program(tuple(builder.code), expression, value, tuple(operations), builder.max_length)
