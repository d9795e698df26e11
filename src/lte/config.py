"""The resolved configuration of one training run (written to the run folder as config.json)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from data_gen.tasks import TaskSpec, max_example_length
from lte.cells import CELLS
from lte.errors import LteError, check_finite_numbers
from lte.model import ModelConfig
from lte.schedule import SCHEDULES

# Zaremba's LSTM used 0.5. The IRNN diverges at that rate (Le et al. tune it
# per task); 0.05 is this package's default, to be replaced by the value the
# learning-rate selection experiment picks on validation data.
DEFAULT_LEARNING_RATE = {name: cell.default_learning_rate for name, cell in CELLS.items()}
DATA_SOURCES = ("fresh", "pool")


@dataclass(frozen=True)
class TrainConfig:
    # the task (data_gen.TaskSpec)
    task: str = "program"
    length: int = 4
    nesting: int = 3
    strategy: str = "combined"
    invert: bool = False
    double: bool = False
    mix_probability: float = 0.2
    # the model
    model: str = "lstm"
    hidden: int = 128
    layers: int = 2
    forget_bias: float = 0.0
    identity_scale: float = 1.0
    input_scale: float | None = None  # scale of the input weights W (None: the cell's own; lte.model)
    projection: int | None = None  # LSTMP: the recurrent projection's size (None: hidden // 2)
    unroll: int = 1
    gradient: str = "fused"  # lte.recurrence: "fused" (dU as one matmul) or "autodiff"; "rtrl" (lte.rtrl)
    bptt_window: int | None = None  # truncated BPTT window in time steps (None: full BPTT over the row)
    dropout: float = 0.0  # on non-recurrent connections (Zaremba et al. 2014)
    gradient_norm_penalty: float = 0.0  # Pascanu et al. 2013's regulariser weight (0: off)
    embedding: bool | None = None  # None: the cell's choice (LSTM: an embedding; IRNN, RNN: one-hot input)
    # optimisation (Zaremba & Sutskever's protocol)
    learning_rate: float | None = None  # None: DEFAULT_LEARNING_RATE[model]
    clip: float = 5.0
    batch_size: int = 32  # rows per batch; each row packs several examples
    row_length: int | None = None  # None: the smallest multiple of 16 >= the longest possible example
    eval_every: int = 100
    schedule: str = "amended"  # "original": Zaremba's rule exactly; "amended": see lte.schedule
    target_accuracy: float = 0.95
    lr_decay: float = 0.8
    min_learning_rate: float = 1e-3
    # budgets (None: unlimited; the schedule's stop rule still ends the run)
    max_steps: int | None = 10_000
    max_seconds: float | None = None
    # evaluation
    val_size: int = 500
    test_size: int = 1000
    # data and randomness
    data: str = "fresh"
    seed: int = 0

    def __post_init__(self) -> None:
        check_finite_numbers(self)
        self.spec()  # task, length, nesting, strategy, mix probability
        self.model_config()  # model, sizes, options
        if self.model not in CELLS:
            raise LteError(f"unknown model {self.model!r}; allowed: {', '.join(CELLS)}")
        if self.schedule not in SCHEDULES:
            raise LteError(f"unknown schedule {self.schedule!r}; allowed: {', '.join(SCHEDULES)}")
        if self.data not in DATA_SOURCES:
            raise LteError(f"unknown data source {self.data!r}; allowed: {', '.join(DATA_SOURCES)}")
        for name in ("hidden", "layers", "unroll", "batch_size", "eval_every", "val_size", "test_size"):
            _positive_int(name, getattr(self, name))
        for name in ("max_steps", "row_length"):
            if getattr(self, name) is not None:
                _positive_int(name, getattr(self, name))
        for name in ("clip", "lr_decay", "min_learning_rate", "target_accuracy"):
            _positive_float(name, getattr(self, name))
        for name in ("learning_rate", "max_seconds"):
            if getattr(self, name) is not None:
                _positive_float(name, getattr(self, name))
        if self.row_length is not None and self.row_length < self.longest_example:
            raise LteError(f"row_length {self.row_length} is shorter than the longest possible example "
                           f"({self.longest_example} characters); use at least that or leave it unset")

    def spec(self) -> TaskSpec:
        return TaskSpec(task=self.task, length=self.length, nesting=self.nesting, strategy=self.strategy,
                        invert=self.invert, double=self.double, mix_probability=self.mix_probability)

    def model_config(self) -> ModelConfig:
        return ModelConfig(cell=self.model, hidden=self.hidden, layers=self.layers,
                           forget_bias=self.forget_bias, identity_scale=self.identity_scale,
                           input_scale=self.input_scale,
                           projection=self.projection, unroll=self.unroll, gradient=self.gradient,
                           bptt_window=self.bptt_window, dropout=self.dropout,
                           gradient_norm_penalty=self.gradient_norm_penalty, embedding=self.embedding)

    @property
    def longest_example(self) -> int:
        return max_example_length(self.spec())

    @property
    def resolved_row_length(self) -> int:
        return self.row_length or 16 * math.ceil(self.longest_example / 16)

    @property
    def resolved_learning_rate(self) -> float:
        return self.learning_rate if self.learning_rate is not None else DEFAULT_LEARNING_RATE[self.model]

    def to_json(self) -> dict:
        out = dataclasses.asdict(self)
        out["learning_rate"] = self.resolved_learning_rate
        out["row_length"] = self.resolved_row_length
        return out

    @classmethod
    def from_json(cls, data: dict) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise LteError(f"unknown config fields {sorted(unknown)}; allowed: {sorted(known)}")
        return cls(**data)


def _positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise LteError(f"{name} must be a positive integer, got {value!r}")


def _positive_float(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or not math.isfinite(value):
        raise LteError(f"{name} must be a positive number, got {value!r}")
