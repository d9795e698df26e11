"""Zaremba & Sutskever's advance / decay / stop rule (`main.lua`), as a pure function.

At every evaluation: if validation accuracy at the current level exceeds the
target accuracy (95%), or training accuracy is below its value 5 evaluations
ago, make the task harder by one naive level; once at the target level,
multiply the learning rate by 0.8 instead; stop when it falls below 1e-3.
The history of training accuracies restarts after each such event.

Two schedules (`TrainConfig.schedule`):

- "original": exactly that rule (Zaremba's `main.lua`).
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

from dataclasses import dataclass, field

from data_gen.curriculum import Level, next_level

HISTORY = 5
SCHEDULES = ("amended", "original")


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
                    min_learning_rate: float = 1e-3, schedule: str = "amended") -> tuple[ScheduleState, str | None]:
    """The state after one evaluation towards `target`, and what happened ('advance', 'decay', 'stop' or
    None). Pure: `state` is not changed."""
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
