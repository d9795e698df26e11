"""The resolved configuration of one training run (written to the run folder as config.json)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

from data_gen.curriculum import STRATEGIES
from data_gen.tasks import TASKS, TaskSpec, default_nesting, max_example_length
from lte.core.cells import CELLS, get_cell
from lte.core.errors import LteError, check_finite_numbers, check_positive_ints, check_positive_numbers
from lte.core.fields import from_json, setting
from lte.core.model import ModelConfig
from lte.core.recurrence import GRADIENTS
from lte.core.schedule import SCHEDULES

# Zaremba's LSTM used 0.5. The IRNN diverges at that rate (Le et al. tune it
# per task); 0.05 is this package's default, to be replaced by the value the
# learning-rate selection experiment picks on validation data.
DEFAULT_LEARNING_RATE = {name: cell.default_learning_rate for name, cell in CELLS.items()}
DATA_SOURCES = ("fresh", "pool")
MAX_SEED = 2**32 - 1
MAX_HIDDEN, MAX_LAYERS = 16_384, 64  # far beyond the study's 2 x 400; a larger net is a typo, not a run
MAX_EVAL_EXAMPLES = 1_000_000


@dataclass(frozen=True)
class TrainConfig:
    """One run's settings, each in its group: the task (what data_gen.TaskSpec takes), the model (ModelConfig),
    the optimiser (Zaremba & Sutskever's protocol), the schedule, the budget (None: unlimited; the schedule's
    stop rule still ends the run), the evaluation, the data and seed."""

    task: str = setting("program", "the task", TASKS, group="task")
    length: int = setting(4, "the target level's length (digits of the largest literal)", group="task")
    nesting: int | None = setting(
        None, "the target level's nesting (programs only; other tasks: 1; None: the task's own)", group="task"
    )
    strategy: str = setting("baseline", "the curriculum strategy", STRATEGIES, group="task")
    invert: bool = setting(False, "feed the input reversed", group="task")
    double: bool = setting(False, "feed the input twice", group="task")
    mix_probability: float = setting(0.2, "combined: the share of examples drawn as by mix", group="task")
    model: str = setting(
        "lstm", "the recurrent cell (or a flax cell of your own: module.path:ClassName)", tuple(CELLS), group="model"
    )
    hidden: int = setting(128, "units per layer", group="model")
    layers: int = setting(2, "recurrent layers", group="model")
    forget_bias: float = setting(0.0, "LSTM forget-gate bias (Jozefowicz et al.: 1)", group="model")
    identity_scale: float = setting(1.0, "IRNN: U = s * I at initialisation", group="model")
    input_scale: float | None = setting(
        None,
        "scale of the input weights W at initialisation (None: the cell's own; IRNN: standard deviation "
        "0.001 as Le et al., LSTM: U(-0.08, 0.08) half-width)",
        group="model",
    )
    projection: int | None = setting(None, "LSTMP: the recurrent projection's size (None: hidden // 2)", group="model")
    unroll: int = setting(1, "lax.scan unroll factor", group="model")
    gradient: str = setting(
        "fused",
        "fused (dU as one matmul after the backward scan), autodiff, or rtrl "
        "(real-time recurrent learning, small nets)",
        GRADIENTS,
        group="model",
    )
    bptt_window: int | None = setting(
        None, "truncated BPTT window in time steps (None: full BPTT over the row)", group="model"
    )
    dropout: float = setting(0.0, "dropout on non-recurrent connections (Zaremba et al. 2014)", group="model")
    gradient_norm_penalty: float = setting(
        0.0, "weight of Pascanu et al. 2013's gradient-norm regulariser (0: off)", group="model"
    )
    embedding: bool | None = setting(
        None, "a learned input embedding (None: the cell's choice; LSTM yes, IRNN no)", group="model"
    )
    learning_rate: float | None = setting(
        None,
        "SGD learning rate (None: the cell's default; the study's selected rates are in "
        "results/lr_selection/selected_<profile>.json)",
        group="optimiser",
    )
    clip: float = setting(5.0, "gradient global-norm clip", group="optimiser")
    batch_size: int = setting(32, "rows per batch; each row packs several examples", group="optimiser")
    row_length: int | None = setting(
        None,
        "characters per row (None: the smallest multiple of 16 >= the longest possible example)",
        group="optimiser",
    )
    eval_every: int = setting(100, "steps between evaluations", group="evaluation")
    schedule: str = setting(
        "amended",
        "original: Zaremba's rule exactly; amended; or plateau (advance, decay and "
        "stop on the slope of validation accuracy, docs/preregistration.md): see "
        "lte.core.schedule",
        SCHEDULES,
        group="schedule",
    )
    target_accuracy: float = setting(0.95, "validation accuracy at which the curriculum moves on", group="schedule")
    lr_decay: float = setting(0.8, "learning-rate factor when training accuracy stalls", group="schedule")
    min_learning_rate: float = setting(1e-3, "the run stops when the learning rate falls below this", group="schedule")
    max_steps: int | None = setting(10_000, "training steps at most", group="budget")
    max_seconds: float | None = setting(None, "training seconds at most", group="budget")
    val_size: int = setting(500, "validation examples", group="evaluation")
    test_size: int = setting(1000, "test examples", group="evaluation")
    data: str = setting(
        "fresh",
        "fresh (generate every batch) or pool (cached pools, built once per level)",
        DATA_SOURCES,
        group="data and seed",
    )
    seed: int = setting(0, "initial weights and data order", group="data and seed")

    # the defaults run names were made against before nesting was resolved by the task and the strategy's
    # default became data_gen.TaskSpec's (lte.kinds.naming.naming_defaults)
    NAMING_DEFAULTS: ClassVar[dict] = {"nesting": 3, "strategy": "combined"}

    def __post_init__(self) -> None:
        if self.nesting is None:
            object.__setattr__(self, "nesting", default_nesting(self.task))
        check_finite_numbers(self)
        # the task and model parts, built (and checked) once: every evaluation asks for them
        object.__setattr__(self, "_task", TaskSpec(**self.settings_of("task")))
        model = self.settings_of("model")
        object.__setattr__(self, "_model", ModelConfig(cell=model.pop("model"), **model))
        if self.schedule not in SCHEDULES:
            raise LteError(f"unknown schedule {self.schedule!r}; allowed: {', '.join(SCHEDULES)}")
        if self.data not in DATA_SOURCES:
            raise LteError(f"unknown data source {self.data!r}; allowed: {', '.join(DATA_SOURCES)}")
        check_positive_ints(self, ("hidden", "layers", "unroll", "batch_size", "eval_every", "val_size", "test_size"))
        check_positive_ints(self, ("max_steps", "row_length"), optional=True)
        check_positive_numbers(self, ("clip", "lr_decay", "min_learning_rate", "target_accuracy"))
        check_positive_numbers(self, ("learning_rate", "max_seconds"), optional=True)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed <= MAX_SEED:
            raise LteError(f"seed {self.seed}: a seed must be an integer in 0..{MAX_SEED} (2**32-1)")
        if self.hidden > MAX_HIDDEN or self.layers > MAX_LAYERS:
            raise LteError(
                f"hidden {self.hidden} x layers {self.layers}: at most {MAX_HIDDEN} units and {MAX_LAYERS} layers"
            )
        for name, limit in (("val_size", MAX_EVAL_EXAMPLES), ("test_size", MAX_EVAL_EXAMPLES)):
            if getattr(self, name) > limit:
                raise LteError(f"{name} {getattr(self, name)}: at most {limit:,} examples")
        for name in ("lr_decay", "target_accuracy"):
            if not 0 < getattr(self, name) <= 1:
                raise LteError(f"{name} must lie in (0, 1], got {getattr(self, name)}")
        if self.row_length is not None and self.row_length < self.longest_example:
            raise LteError(
                f"row_length {self.row_length} is shorter than the longest possible example "
                f"({self.longest_example} characters); use at least that or leave it unset"
            )

    def settings_of(self, group: str) -> dict:
        """The settings of one group of fields (`setting(group=...)`): a part of the config, by field name."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.metadata.get("group") == group}

    def spec(self) -> TaskSpec:
        """The task part (data_gen.TaskSpec)."""
        return self._task

    def model_config(self) -> ModelConfig:
        """The model part (lte.core.model.ModelConfig; `model` is its `cell`)."""
        return self._model

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
        return DEFAULT_LEARNING_RATE.get(self.model) or get_cell(self.model).default_learning_rate

    def to_json(self) -> dict:
        out = dataclasses.asdict(self)
        out["learning_rate"] = self.resolved_learning_rate
        out["row_length"] = self.resolved_row_length
        return out

    @classmethod
    def from_json(cls, data: dict) -> TrainConfig:
        return from_json(cls, data)
