"""Zaremba & Sutskever's advance / decay / stop rule (`main.lua`), as a pure function.

At every evaluation: if validation accuracy at the current level exceeds the
target accuracy (95%), or training accuracy is below its value 5 evaluations
ago, make the task harder by one naive level; once at the target level,
multiply the learning rate by 0.8 instead; stop when it falls below 1e-3.
The history of training accuracies restarts after each such event.

Three schedules (`TrainConfig.schedule`):

- "original": exactly that rule (Zaremba's `main.lua`).
- "plateau" (noise-aware, the same for every model and strategy): a level is left when its validation
  accuracy exceeds the target accuracy ("advance") or has stopped improving ("advance-stalled"): the best of
  the last PLATEAU_WINDOW evaluations is not above the best before them by more than twice the validation
  set's binomial standard error (`noise_tolerance`). At the target level only that plateau decays the
  learning rate, so a run still learning is never slowed, whatever its accuracy; it stops when the rate falls
  below its minimum. Training accuracy plays no part (it is measured on changing batches).
- "amended" (the default): the same, plus "learning has stopped" is also
  detected when the level's validation accuracy is not above its value 5
  evaluations ago. Without it a model that memorises a level's training split
  (training accuracy 1.00, validation just under 95%; seen with the IRNN on
  copy at length 3) never triggers either rule and stays at that level for the
  rest of the run. Its other two amendments live with the trainer
  (`lte.core.train`: baseline and mix start at the target level) and the data
  (`lte.core.data.make_validation_set`: tiny levels are judged on their training split).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from data_gen.curriculum import Level, next_level

HISTORY = 5
SCHEDULES = ("amended", "original", "plateau")
PLATEAU_WINDOW = 5  # evaluations


def noise_tolerance(accuracy: float, examples: int) -> float:
    """Twice the binomial standard error of an accuracy measured on `examples` examples (characters within an
    example are counted as one draw, which errs wide), at least that of 1% (a level near 0 or 1 is not exact)."""
    variance = max(accuracy * (1.0 - accuracy), 0.01 * 0.99)
    return 2.0 * math.sqrt(variance / max(examples, 1))


def plateaued(history: list[float], window: int = PLATEAU_WINDOW, tolerance: float = 0.0) -> bool:
    """The best of the last `window` values is not above the best before them by more than `tolerance`."""
    if len(history) <= window:
        return False
    return max(history[-window:]) <= max(history[:-window]) + tolerance


@dataclass
class ScheduleState:
    level: Level
    learning_rate: float
    train_accuracies: list[float] = field(default_factory=list)
    stopped: bool = False
    val_accuracies: list[float] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"level": [self.level.length, self.level.nesting], "learning_rate": self.learning_rate,
                "train_accuracies": list(self.train_accuracies), "stopped": self.stopped,
                "val_accuracies": list(self.val_accuracies)}

    @classmethod
    def from_json(cls, data: dict) -> ScheduleState:
        return cls(Level(*data["level"]), data["learning_rate"], list(data["train_accuracies"]), data["stopped"],
                   list(data.get("val_accuracies", [])))


def update_schedule(state: ScheduleState, target: Level, *, val_accuracy: float,
                    train_accuracy: float, target_accuracy: float = 0.95, decay: float = 0.8,
                    min_learning_rate: float = 1e-3, schedule: str = "amended",
                    val_examples: int = 0) -> tuple[ScheduleState, str | None]:
    """The state after one evaluation towards `target`, and what happened ('advance', 'advance-stalled' (the
    plateau schedule's), 'decay', 'stop' or None). `val_examples`: the validation set's size (the plateau
    schedule's noise). Pure: `state` is not changed."""
    if schedule == "plateau":
        return _update_plateau(state, target, val_accuracy, train_accuracy, target_accuracy, decay,
                               min_learning_rate, val_examples)
    history, val_history = state.train_accuracies, state.val_accuracies
    stalled = len(history) >= HISTORY and history[-HISTORY] > train_accuracy
    if schedule == "amended":
        stalled = stalled or (len(val_history) >= HISTORY and val_history[-HISTORY] >= val_accuracy)
    level, lr, event = state.level, state.learning_rate, None
    if val_accuracy > target_accuracy or stalled:
        harder = next_level(level, target)
        if harder is not None:
            level, event = harder, "advance"
        else:
            lr, event = lr * decay, "decay"
        history, val_history = [], []
    stopped = lr < min_learning_rate
    return (ScheduleState(level, lr, history + [train_accuracy], stopped, val_history + [val_accuracy]),
            "stop" if stopped else event)


def _update_plateau(state: ScheduleState, target: Level, val_accuracy: float, train_accuracy: float,
                    target_accuracy: float, decay: float, min_learning_rate: float,
                    val_examples: int) -> tuple[ScheduleState, str | None]:
    val_history = state.val_accuracies + [val_accuracy]
    stalled = plateaued(val_history, PLATEAU_WINDOW, noise_tolerance(val_accuracy, val_examples))
    level, lr, event = state.level, state.learning_rate, None
    harder = next_level(level, target)
    if harder is not None and (val_accuracy > target_accuracy or stalled):
        level, event = harder, "advance" if val_accuracy > target_accuracy else "advance-stalled"
    elif harder is None and stalled:
        lr, event = lr * decay, "decay"
    if event is not None:
        val_history = []
    stopped = lr < min_learning_rate
    return (ScheduleState(level, lr, state.train_accuracies[-HISTORY:] + [train_accuracy], stopped, val_history),
            "stop" if stopped else event)
