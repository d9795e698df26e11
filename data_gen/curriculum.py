"""Curricula: a strategy (which hardness (length, nesting) each draw uses), its target difficulty (a, b)
and the current level of the naive progression.

Zaremba & Sutskever's four strategies (`utils/strategies.lua`) are one module each in
`data_gen/strategies/` (baseline, naive, mix, combined); a new strategy is one more file there.
The hardness is drawn again for every operand and every small bound, so `mix` mixes lengths within
one program.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from data_gen.errors import DataGenError, check_choice, check_int_range
from data_gen.strategies import strategy_module, strategy_names

STRATEGIES = strategy_names()
MAX_LENGTH = 20
MAX_NESTING = 10  # a program uses at most one fresh variable per operation, a..j
DEFAULT_MIX_PROBABILITY = 0.2

Hardness = Callable[[], tuple[int, int]]


@dataclass(frozen=True)
class Level:
    """A difficulty: `length` digits per literal, `nesting` chained operations."""

    length: int
    nesting: int

    def __str__(self) -> str:
        return f"{self.length},{self.nesting}"


def parse_level(text: str) -> Level:
    """'L,N' -> Level, with a clear error for anything else."""
    parts = text.split(",")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise DataGenError(f"level must be 'LENGTH,NESTING' (e.g. '3,2'), got {text!r}")
    return Level(int(parts[0]), int(parts[1]))


def naive_levels(target: Level) -> list[Level]:
    """Every level of the naive curriculum, in the order it visits them."""
    return [
        Level(length, nesting) for nesting in range(1, target.nesting + 1) for length in range(1, target.length + 1)
    ]


def next_level(level: Level, target: Level) -> Level | None:
    """The naive curriculum's level after `level` on the way to `target` (None at the target)."""
    if level.length < target.length:
        return Level(level.length + 1, level.nesting)
    if level.nesting < target.nesting:
        return Level(1, level.nesting + 1)
    return None


class Curriculum:
    """A strategy, its target difficulty and the current (naive) level.

    The level only moves through `advance()`; it is plain state (`level`) so a
    trainer can save and restore it.
    """

    def __init__(
        self,
        strategy: str,
        target: Level,
        *,
        level: Level | None = None,
        mix_probability: float = DEFAULT_MIX_PROBABILITY,
    ) -> None:
        self.strategy = check_choice("strategy", strategy, STRATEGIES)
        check_int_range("length", target.length, 1, MAX_LENGTH)
        check_int_range("nesting", target.nesting, 1, MAX_NESTING)
        if not 0.0 <= mix_probability <= 1.0:
            raise DataGenError(f"mix probability must be in [0, 1], got {mix_probability!r}")
        self.target = target
        self.mix_probability = float(mix_probability)
        self.level = Level(1, 1) if level is None else level
        if self.level not in naive_levels(target):
            raise DataGenError(
                f"level {self.level} is not on the way to target {target}: "
                f"length must be in [1, {target.length}] and nesting in [1, {target.nesting}]"
            )

    @property
    def at_target(self) -> bool:
        return self.level == self.target

    def advance(self) -> bool:
        """Move one naive level harder; False (and no change) when already at the target."""
        harder = next_level(self.level, self.target)
        if harder is None:
            return False
        self.level = harder
        return True

    def sampler(self, rng: random.Random) -> Hardness:
        """A function drawing one hardness (length, nesting) per call from `rng`.

        The strategy is resolved here once so the per-operand draw is a single call.
        """
        return hardness_sampler(self.strategy, self.target, self.level, rng, self.mix_probability)


def uses_level(strategy: str) -> bool:
    """Whether `strategy`'s draws follow the current level (else they ignore it, and a run may start at the
    target)."""
    return strategy_module(check_choice("strategy", strategy, STRATEGIES)).USES_LEVEL


def hardness_sampler(
    strategy: str, target: Level, level: Level, rng: random.Random, mix_probability: float = DEFAULT_MIX_PROBABILITY
) -> Hardness:
    """The draw function of `strategy` at the given target and current level."""
    if strategy not in STRATEGIES:
        raise DataGenError(f"unknown strategy {strategy!r}; allowed: {', '.join(STRATEGIES)}")
    return strategy_module(strategy).sampler(target, level, rng.random, mix_probability)
