"""The tasks (program, addition, copy) and the two input tricks.

A task is one module in this folder, registered by its file name: `draw(rng, hardness)`, `source(body)`,
`body_from_source(serialised)`, `bounds(length, nesting)`, `FIXED_NESTING` (None when nesting is a difficulty
axis, else the only nesting allowed) and `DEFAULT_NESTING` (see data_gen/tasks/copy.py for the shortest).

Every example is `input` (what the model reads, ending in `@`) followed by
`target` (the printed integer and `.`). The tricks rewrite the text before
the `@` terminator: invert reverses it, double repeats it; both may apply.
The split is decided on the untransformed text, so a program is in the same
split whichever tricks are used.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from types import ModuleType

from data_gen.curriculum import STRATEGIES, Curriculum, Hardness, Level
from data_gen.errors import DataGenError, check_choice
from data_gen.registry import register_modules
from data_gen.splits import SPLITS, split_of

REQUIRED = ("draw", "source", "body_from_source", "bounds", "FIXED_NESTING", "DEFAULT_NESTING")
FIRST = ("program", "addition", "copy")  # the study's tasks lead every listing


def register(path: list[str], package: str) -> dict[str, ModuleType]:
    """Every task module of the package at `path`, named by its file name (helper modules set REGISTERED =
    False); a module that lacks a required part is a clear error naming it."""
    return register_modules(path, package, REQUIRED, FIRST, DataGenError, "task", "data_gen.tasks")


TASK_MODULES: dict[str, ModuleType] = register(__path__, __name__)
TASKS = tuple(TASK_MODULES)


def task_module(task: str) -> ModuleType:
    check_choice("task", task, TASKS)
    return TASK_MODULES[task]


def default_nesting(task: str) -> int:
    """The nesting a task takes when none is given (valid for it: 1 for tasks without nesting)."""
    return task_module(task).DEFAULT_NESTING


TERMINATOR = "@"
END = "."


def _setting(default, help: str, choices: tuple | None = None):
    """A field with its help and allowed values (what lte's command-line flags and TOML keys are made from)."""
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass(frozen=True)
class TaskSpec:
    """Everything that shapes the distribution of examples (but the current level)."""

    task: str = _setting("program", "the task", TASKS)
    length: int = _setting(4, "the target level's length (digits of the largest literal)")
    nesting: int | None = _setting(
        None, "the target level's nesting (programs only; other tasks: 1; None: the task's own)"
    )
    strategy: str = _setting("baseline", "the curriculum strategy", STRATEGIES)
    invert: bool = _setting(False, "feed the input reversed")
    double: bool = _setting(False, "feed the input twice")
    mix_probability: float = _setting(0.2, "combined: the share of examples drawn as by mix")

    def __post_init__(self) -> None:
        if self.nesting is None:
            object.__setattr__(self, "nesting", default_nesting(self.task))
        fixed = task_module(self.task).FIXED_NESTING
        if fixed is not None and self.nesting != fixed:
            raise DataGenError(f"task {self.task!r} has nesting {fixed} only, got nesting {self.nesting!r}")
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
        return {
            "task": self.task,
            "input": self.input,
            "target": self.target,
            "source": self.source,
            "length": self.length,
            "nesting": self.nesting,
            "operations": list(self.operations),
            "split": self.split,
        }


def apply_tricks(body: str, invert: bool, double: bool) -> str:
    """The model's input for `body` (the text before '@'): reversed and/or repeated, then '@'."""
    if invert:
        body = body[::-1]
    if double:
        body = body + body
    return body + TERMINATOR


def draw_raw(task: str, rng: random.Random, hardness: Hardness) -> tuple[str, int, int, int, tuple[str, ...]]:
    """One untransformed example: (body, answer, length, nesting, operations); body has no '@'."""
    return task_module(task).draw(rng, hardness)


def source_of(task: str, body: str) -> str:
    """Real Python that prints the answer of an untransformed body."""
    return task_module(task).source(body)


def make_example(
    spec: TaskSpec,
    body: str,
    answer: int,
    length: int,
    nesting: int,
    operations: tuple[str, ...],
    split: str | None = None,
) -> Example:
    target = f"{answer}{END}"
    canonical = body + TERMINATOR
    return Example(
        task=spec.task,
        input=apply_tricks(body, spec.invert, spec.double),
        target=target,
        source=source_of(spec.task, body),
        length=length,
        nesting=nesting,
        operations=operations,
        split=split or split_of(canonical + target),
        canonical=canonical,
    )


def sample_examples(
    spec: TaskSpec, count: int, *, seed: int, split: str = "train", level: Level | None = None
) -> list[Example]:
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
            raise DataGenError(
                f"no {split} example found in {draws - 1} draws at level {level}: "
                f"the task has too few distinct examples there; use a larger length"
            )
        body, answer, length, nesting, ops = draw_raw(spec.task, rng, hardness)
        if split_of(f"{body}{TERMINATOR}{answer}{END}") == split:
            out.append(make_example(spec, body, answer, length, nesting, ops, split))
    return out


def length_bounds(spec: TaskSpec) -> tuple[int, int]:
    """Upper bounds on len(input) and len(target) of any example of `spec`, tricks included (the task's own
    bounds on its body and its answer's value)."""
    body, value = task_module(spec.task).bounds(spec.length, spec.nesting)
    body *= 2 if spec.double else 1
    return body + len(TERMINATOR), 1 + len(str(value)) + len(END)  # the 1: a minus sign


def max_example_length(spec: TaskSpec) -> int:
    """An upper bound on len(input + target), to choose a row length no example can overflow."""
    return sum(length_bounds(spec))
