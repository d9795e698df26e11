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
        return python_source(self.serialised)


def python_source(serialised: str) -> str:
    """Real Python for a serialised program: one statement a line, loop bodies indented."""
    lines = []
    for line in serialised.split("#"):
        if line.startswith("for "):
            header, body = line.split(":", 1)
            lines += [header + ":", "    " + body]
        else:
            lines.append(line.rstrip(";"))
    return "\n".join(lines) + "\n"


_EXACT_FLOAT_LIMIT = 2**31  # below this, int(random() * n) is uniform to within n / 2**53


def generate_program(rng: random.Random, hardness: Hardness) -> Program:
    """Draw one program; `hardness()` is called for the nesting and for every literal and bound.

    Written as one function with local helpers: it is the data path's hot loop.
    """
    uniform = rng.random
    exact_randbelow = rng.randrange
    names = list(VARIABLE_NAMES)
    code: list[str] = []
    max_length = 0

    def randbelow(n: int) -> int:
        # uniform in [0, n); one float draw is exact to n / 2**53, else rejection sampling
        return int(uniform() * n) if n < _EXACT_FLOAT_LIMIT else exact_randbelow(n)

    def literal() -> tuple[str, int]:
        nonlocal max_length
        length = hardness()[0]
        if length > max_length:
            max_length = length
        value = randbelow(10**length) + 1  # uniform in [1, 10**length]
        return str(value), value

    def small_bound() -> int:
        return randbelow(4 * hardness()[0]) + 1  # uniform in [1, 4 * length]

    def operands(pending, count: int) -> list[tuple[str, int]]:
        """`count` operands; the pending expression (if any) in a uniformly random slot."""
        if pending is None:
            return [literal() for _ in range(count)]
        out = [literal() for _ in range(count - 1)]
        out.insert(randbelow(count), pending)
        return out

    def new_variable() -> str:
        # uniform over the names not used yet: a random permutation of a..j, drawn lazily
        return names.pop(randbelow(len(names)))

    pending: tuple[str, int] | None = None
    nesting = hardness()[1]
    operations = tuple([OPERATIONS[randbelow(6)] for _ in range(nesting)])
    for operation in operations:
        if operation == "pair":
            (a, va), (b, vb) = operands(pending, 2)
            pending = (f"({a}+{b})", va + vb) if uniform() < 0.5 else (f"({a}-{b})", va - vb)
        elif operation == "small_multiply":
            e, ve = pending or literal()
            k = small_bound()
            pending = (f"({e}*{k})" if uniform() < 0.5 else f"({k}*{e})"), ve * k
        elif operation == "identity":
            pending = pending or literal()
        elif operation == "variable":
            name = new_variable()
            (a, va), (b, vb) = operands(pending, 2)
            code.append(f"{name}={a};")
            pending = (f"({name}+{b})", va + vb) if uniform() < 0.5 else (f"({name}-{b})", va - vb)
        elif operation == "small_loop":
            name = new_variable()
            (a, va), (b, vb) = operands(pending, 2)
            count = small_bound()
            code.append(f"{name}={a}")
            if uniform() < 0.5:
                code.append(f"for x in range({count}):{name}+={b}")
                pending = name, va + count * vb
            else:
                code.append(f"for x in range({count}):{name}-={b}")
                pending = name, va - count * vb
        else:  # if_expression
            (a, va), (b, vb), (c, vc), (d, vd) = operands(pending, 4)
            if uniform() < 0.5:
                pending = f"({c} if {a}>{b} else {d})", (vc if va > vb else vd)
            else:
                pending = f"({c} if {a}<{b} else {d})", (vc if va < vb else vd)
    expression, value = pending
    return Program(tuple(code), expression, value, operations, max_length)
