"""The three tasks (program, addition, copy) and the two input tricks.

Every example is `input` (what the model reads, ending in `@`) followed by
`target` (the printed integer and `.`). The tricks rewrite the text before
the `@` terminator: invert reverses it, double repeats it; both may apply.
The split is decided on the untransformed text, so a program is in the same
split whichever tricks are used.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from data_gen.curriculum import Curriculum, Hardness, Level
from data_gen.errors import DataGenError, check_choice
from data_gen.programs import generate_program, python_source
from data_gen.splits import SPLITS, split_of

TASKS = ("program", "addition", "copy")
TERMINATOR = "@"
END = "."


@dataclass(frozen=True)
class TaskSpec:
    """Everything that shapes the distribution of examples (but the current level)."""

    task: str = "program"
    length: int = 4
    nesting: int = 3
    strategy: str = "baseline"
    invert: bool = False
    double: bool = False
    mix_probability: float = 0.2

    def __post_init__(self) -> None:
        check_choice("task", self.task, TASKS)
        if self.task != "program" and self.nesting != 1:
            raise DataGenError(f"task {self.task!r} has nesting 1 only, got nesting {self.nesting!r}")
        self.curriculum()  # validates length, nesting, strategy and mix probability

    @property
    def target(self) -> Level:
        return Level(self.length, self.nesting)

    def curriculum(self, level: Level | None = None) -> Curriculum:
        return Curriculum(self.strategy, self.target, level=level, mix_probability=self.mix_probability)


@dataclass(frozen=True, slots=True)
class Example:
    task: str
    input: str  # what the model reads, tricks applied, ending in '@'
    target: str  # the answer and '.', e.g. '25011.'
    source: str  # real Python that prints the answer
    length: int  # the longest literal length drawn
    nesting: int  # the number of chained operations
    operations: tuple[str, ...]
    split: str
    canonical: str  # the untransformed input, the text the split hash is taken of

    @property
    def answer(self) -> int:
        return int(self.target[:-1])

    def to_json(self) -> dict:
        return {"task": self.task, "input": self.input, "target": self.target, "source": self.source,
                "length": self.length, "nesting": self.nesting,
                "operations": list(self.operations), "split": self.split}


def apply_tricks(body: str, invert: bool, double: bool) -> str:
    """The model's input for `body` (the text before '@'): reversed and/or repeated, then '@'."""
    if invert:
        body = body[::-1]
    if double:
        body = body + body
    return body + TERMINATOR


def _number(rng: random.Random, digits: int) -> int:
    """Uniform among the integers with exactly `digits` digits (1..9 for one digit)."""
    low = 10 ** (digits - 1)
    return low + rng.randrange(9 * low)


def draw_raw(task: str, rng: random.Random, hardness: Hardness) -> tuple[str, int, int, int, tuple[str, ...]]:
    """One untransformed example: (body, answer, length, nesting, operations); body has no '@'."""
    if task == "program":
        p = generate_program(rng, hardness)
        return p.serialised, p.value, p.max_literal_length, p.nesting, p.operations
    if task == "addition":
        la, lb = hardness()[0], hardness()[0]
        a, b = _number(rng, la), _number(rng, lb)
        return f"print({a}+{b})", a + b, max(la, lb), 1, ("addition",)
    if task == "copy":
        length = hardness()[0]
        a = _number(rng, length)
        return str(a), a, length, 1, ("copy",)
    raise DataGenError(f"unknown task {task!r}; allowed: {', '.join(TASKS)}")


def source_of(task: str, body: str) -> str:
    """Real Python that prints the answer of an untransformed body."""
    if task == "copy":
        return f"print({body})\n"
    return python_source(body)


def make_example(spec: TaskSpec, body: str, answer: int, length: int, nesting: int,
                 operations: tuple[str, ...], split: str | None = None) -> Example:
    target = f"{answer}{END}"
    canonical = body + TERMINATOR
    return Example(task=spec.task, input=apply_tricks(body, spec.invert, spec.double), target=target,
                   source=source_of(spec.task, body), length=length, nesting=nesting, operations=operations,
                   split=split or split_of(canonical + target), canonical=canonical)


def sample_examples(spec: TaskSpec, count: int, *, seed: int, split: str = "train",
                    level: Level | None = None) -> list[Example]:
    """`count` examples of `split` at the curriculum `level` (default (1, 1)), reproducible by seed.

    Examples of other splits are drawn and discarded (the split is a property of the text).
    """
    check_choice("split", split, SPLITS)
    rng = random.Random(seed)
    hardness = spec.curriculum(level).sampler(rng)
    out: list[Example] = []
    draws = 0
    while len(out) < count:
        draws += 1
        if draws > 1000 * (count + 10) and not out:
            raise DataGenError(f"no {split} example found in {draws - 1} draws at level {level}: "
                               f"the task has too few distinct examples there; use a larger length")
        body, answer, length, nesting, ops = draw_raw(spec.task, rng, hardness)
        if split_of(f"{body}{TERMINATOR}{answer}{END}") == split:
            out.append(make_example(spec, body, answer, length, nesting, ops, split))
    return out


def length_bounds(spec: TaskSpec) -> tuple[int, int]:
    """Upper bounds on len(input) and len(target) of any example of `spec`, tricks included.

    For programs it takes, step by step, the worst case of every operation for
    the expression, the code lines and the value separately (a bound, not the
    attained maximum).
    """
    a = spec.length
    digits = a + 1  # the largest literal is 10**a
    small = len(str(4 * a))
    if spec.task == "copy":
        body, value = digits, 10 ** a
    elif spec.task == "addition":
        body, value = len("print(+)") + 2 * digits, 2 * 10 ** a
    else:
        expr, code, value = digits, 0, 10 ** a
        for _ in range(spec.nesting):
            wide = max(expr, digits)
            big = max(value, 10 ** a)
            expr, code, value = (
                max(expr + digits + 3, expr + small + 3, wide + 4, 1, expr + 3 * digits + 13),
                code + max(wide + 4, wide + len("=#for x in range():+=#") + 2 + small),
                max(big + 10 ** a, big * 4 * a, big * (1 + 4 * a)),
            )
        body = code + len("print()") + expr
    body *= 2 if spec.double else 1
    return body + len(TERMINATOR), 1 + len(str(value)) + len(END)  # the 1: a minus sign


def max_example_length(spec: TaskSpec) -> int:
    """An upper bound on len(input + target), to choose a row length no example can overflow."""
    return sum(length_bounds(spec))
