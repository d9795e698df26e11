"""The resolved configuration of one training run (written to the run folder as config.json)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from data_gen.tasks import TaskSpec, max_example_length
from lte.core.cells import get_cell
from lte.core.errors import LteError, check_positive_ints, check_positive_numbers
from lte.core.fields import ComposedConfig, Part, compose, setting
from lte.core.model import ModelConfig
from lte.core.schedule import SCHEDULES

DATA_SOURCES = ("fresh", "pool")
MAX_SEED = 2**32 - 1
MAX_EVAL_EXAMPLES = 1_000_000


@dataclass(frozen=True)
class Optimiser:
    """Plain SGD on the clipped gradient (Zaremba & Sutskever's protocol)."""

    learning_rate: float | None = setting(
        None,
        "SGD learning rate (None: the cell's default; the study's selected rates are in "
        "results/lr_selection/selected_<profile>.json)",
    )
    clip: float = setting(5.0, "gradient global-norm clip")
    batch_size: int = setting(32, "rows per batch; each row packs several examples")
    row_length: int | None = setting(
        None, "characters per row (None: the smallest multiple of 16 >= the longest possible example)"
    )

    def __post_init__(self) -> None:
        check_positive_ints(self, ("batch_size",))
        check_positive_ints(self, ("row_length",), optional=True)
        check_positive_numbers(self, ("clip",))
        check_positive_numbers(self, ("learning_rate",), optional=True)


@dataclass(frozen=True)
class Schedule:
    """When the curriculum advances, the rate decays and the run stops (lte.core.schedule)."""

    schedule: str = setting(
        "amended",
        "original: Zaremba's rule exactly; amended; or plateau (advance, decay and "
        "stop on the slope of validation accuracy, docs/preregistration.md): see "
        "lte.core.schedule",
        SCHEDULES,
    )
    target_accuracy: float = setting(0.95, "validation accuracy at which the curriculum moves on")
    lr_decay: float = setting(0.8, "learning-rate factor when training accuracy stalls")
    min_learning_rate: float = setting(1e-3, "the run stops when the learning rate falls below this")

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise LteError(f"unknown schedule {self.schedule!r}; allowed: {', '.join(SCHEDULES)}")
        check_positive_numbers(self, ("lr_decay", "min_learning_rate", "target_accuracy"))
        for name in ("lr_decay", "target_accuracy"):
            if not 0 < getattr(self, name) <= 1:
                raise LteError(f"{name} must lie in (0, 1], got {getattr(self, name)}")


@dataclass(frozen=True)
class Budget:
    """The most a run may take (None: unlimited; a schedule's stop rule may end it sooner)."""

    max_steps: int | None = setting(10_000, "training steps at most")
    max_seconds: float | None = setting(None, "training seconds at most")

    def __post_init__(self) -> None:
        check_positive_ints(self, ("max_steps",), optional=True)
        check_positive_numbers(self, ("max_seconds",), optional=True)


@dataclass(frozen=True)
class Evaluation:
    """How often a run is evaluated and on how many fixed examples (0 validation examples: none)."""

    eval_every: int = setting(100, "steps between evaluations")
    val_size: int = setting(500, "validation examples")
    test_size: int = setting(1000, "test examples")

    def __post_init__(self) -> None:
        check_positive_ints(self, ("eval_every", "test_size"))
        if isinstance(self.val_size, bool) or not isinstance(self.val_size, int) or self.val_size < 0:
            raise LteError(f"val_size must be a whole number of examples, 0 or more, got {self.val_size!r}")
        for name in ("val_size", "test_size"):
            if getattr(self, name) > MAX_EVAL_EXAMPLES:
                raise LteError(f"{name} {getattr(self, name)}: at most {MAX_EVAL_EXAMPLES:,} examples")


@dataclass(frozen=True)
class Data:
    """Where training batches come from, and the seed of the weights and the data order."""

    data: str = setting(
        "fresh", "fresh (generate every batch) or pool (cached pools, built once per level)", DATA_SOURCES
    )
    seed: int = setting(0, "initial weights and data order")

    def __post_init__(self) -> None:
        if self.data not in DATA_SOURCES:
            raise LteError(f"unknown data source {self.data!r}; allowed: {', '.join(DATA_SOURCES)}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed <= MAX_SEED:
            raise LteError(f"seed {self.seed}: a seed must be an integer in 0..{MAX_SEED} (2**32-1)")


# ModelConfig's fields as a run config holds them (its `cell` is the config's `model`; the vocabulary is fixed)
MODEL_FIELDS = (
    "cell", "hidden", "layers", "forget_bias", "identity_scale", "input_scale", "projection", "unroll",
    "gradient", "bptt_window", "dropout", "gradient_norm_penalty", "embedding",
)  # fmt: skip


class TrainRules(ComposedConfig):
    """One run's settings, composed of its parts: the task (data_gen.TaskSpec), the model (ModelConfig), the
    optimiser, the evaluation, the schedule, the budget and the data (each checks its own fields)."""

    WHAT = "config"
    # the defaults run names were made against before nesting was resolved by the task and the strategy's
    # default became data_gen.TaskSpec's (lte.kinds.naming.naming_defaults)
    NAMING_DEFAULTS: ClassVar[dict] = {"nesting": 3, "strategy": "combined"}

    def check(self) -> None:
        if self.val_size < 1:
            raise LteError(f"val_size must be a positive integer, got {self.val_size!r}")
        if self.row_length is not None and self.row_length < self.longest_example:
            raise LteError(
                f"row_length {self.row_length} is shorter than the longest possible example "
                f"({self.longest_example} characters); use at least that or leave it unset"
            )

    def spec(self) -> TaskSpec:
        """The task part (data_gen.TaskSpec)."""
        return self.part(TaskSpec)

    def model_config(self) -> ModelConfig:
        """The model part (lte.core.model.ModelConfig; `model` is its `cell`)."""
        return self.part(ModelConfig)

    @property
    def longest_example(self) -> int:
        return max_example_length(self.spec())

    @property
    def resolved_row_length(self) -> int:
        return self.row_length or 16 * math.ceil(self.longest_example / 16)

    @property
    def resolved_learning_rate(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        return get_cell(self.model).default_learning_rate

    def to_json(self) -> dict:
        return {
            **super().to_json(),
            "learning_rate": self.resolved_learning_rate,
            "row_length": self.resolved_row_length,
        }


TrainConfig = compose(
    "TrainConfig",
    [
        Part(TaskSpec, "task"),
        Part(ModelConfig, "model", MODEL_FIELDS, rename={"cell": "model"}),
        Part(Optimiser, "optimiser"),
        Part(Evaluation, "evaluation", ("eval_every",)),
        Part(Schedule, "schedule"),
        Part(Budget, "budget"),
        Part(Evaluation, "evaluation", ("val_size", "test_size")),
        Part(Data, "data and seed"),
    ],
    base=TrainRules,
)
