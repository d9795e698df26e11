"""Zaremba & Sutskever's advance / decay / stop rule (`main.lua`), as a pure function.

At every evaluation: if validation accuracy at the current level exceeds the
target accuracy (95%), or training accuracy is below its value 5 evaluations
ago, make the task harder by one naive level; once at the target level,
multiply the learning rate by 0.8 instead; stop when it falls below 1e-3.
The history of training accuracies restarts after each such event.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from data_gen.curriculum import Curriculum, Level

HISTORY = 5


@dataclass
class ScheduleState:
    level: Level
    learning_rate: float
    train_accuracies: list[float] = field(default_factory=list)
    stopped: bool = False

    def to_json(self) -> dict:
        return {"level": [self.level.length, self.level.nesting], "learning_rate": self.learning_rate,
                "train_accuracies": list(self.train_accuracies), "stopped": self.stopped}

    @classmethod
    def from_json(cls, data: dict) -> ScheduleState:
        return cls(Level(*data["level"]), data["learning_rate"], list(data["train_accuracies"]), data["stopped"])


def update_schedule(state: ScheduleState, curriculum: Curriculum, *, val_accuracy: float,
                    train_accuracy: float, target_accuracy: float = 0.95, decay: float = 0.8,
                    min_learning_rate: float = 1e-3) -> tuple[ScheduleState, str | None]:
    """The state after one evaluation, and what happened ('advance', 'decay', 'stop' or None)."""
    history = state.train_accuracies
    stalled = len(history) >= HISTORY and history[-HISTORY] > train_accuracy
    level, lr, event = state.level, state.learning_rate, None
    if val_accuracy > target_accuracy or stalled:
        curriculum.level = level
        if curriculum.advance():
            level, event = curriculum.level, "advance"
        else:
            lr, event = lr * decay, "decay"
        history = []
    stopped = lr < min_learning_rate
    return ScheduleState(level, lr, history + [train_accuracy], stopped), ("stop" if stopped else event)
