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
from data_gen.programs import generate_program
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


def draw_raw(task: str, rng: random.Random, hardness: Hardness) -> tuple[str, int, str, int, int, tuple[str, ...]]:
    """One untransformed example: (body, answer, python source, length, nesting, operations)."""
    if task == "program":
        program = generate_program(rng, hardness)
        return (program.serialised, program.value, program.source,
                program.max_literal_length, program.nesting, program.operations)
    if task == "addition":
        la, lb = hardness()[0], hardness()[0]
        a, b = _number(rng, la), _number(rng, lb)
        expression = f"print({a}+{b})"
        return expression, a + b, expression + "\n", max(la, lb), 1, ("addition",)
    if task == "copy":
        length = hardness()[0]
        a = _number(rng, length)
        return str(a), a, f"print({a})\n", length, 1, ("copy",)
    raise DataGenError(f"unknown task {task!r}; allowed: {', '.join(TASKS)}")


def make_example(spec: TaskSpec, body: str, answer: int, source: str, length: int,
                 nesting: int, operations: tuple[str, ...], split: str | None = None) -> Example:
    target = f"{answer}{END}"
    canonical = body + TERMINATOR
    return Example(task=spec.task, input=apply_tricks(body, spec.invert, spec.double), target=target,
                   source=source, length=length, nesting=nesting, operations=operations,
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
    while len(out) < count:
        body, answer, source, length, nesting, ops = draw_raw(spec.task, rng, hardness)
        if split_of(f"{body}{TERMINATOR}{answer}{END}") == split:
            out.append(make_example(spec, body, answer, source, length, nesting, ops, split))
    return out
