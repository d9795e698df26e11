"""Zaremba & Sutskever's advance / decay / stop rule (`main.lua`), as a pure function.

At every evaluation: if validation accuracy at the current level exceeds the
target accuracy (95%), or training accuracy is below its value 5 evaluations
ago, make the task harder by one naive level; once at the target level,
multiply the learning rate by 0.8 instead; stop when it falls below 1e-3.
The history of training accuracies restarts after each such event.

Three schedules (`TrainConfig.schedule`):

- "original": exactly that rule (Zaremba's `main.lua`).
- "plateau" (the study's, the same for every model and strategy; docs/preregistration.md): learning is
  judged by the least-squares slope of validation accuracy over a window of recent evaluations. Below the
  target level a level is left when its accuracy exceeds the target accuracy ("advance") or its slope over
  the last ADVANCE_WINDOW_STEPS is at most ADVANCE_MIN_SLOPE per 1,000 steps ("advance-stalled"). At the
  target level only a plateau (slope over TARGET_WINDOW_STEPS since the last decay at most TARGET_MIN_SLOPE)
  decays the learning rate, so a run still learning is never slowed. After its first decay the run stops
  once the slope over the last STOP_WINDOW_STEPS (decays included) is at most STOP_MIN_SLOPE (or when the
  rate falls below its minimum). An advance restarts the window. Training accuracy plays no part.
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


ADVANCE_WINDOW_STEPS, ADVANCE_MIN_SLOPE = 1500, 0.02  # below the target level: leave a level that stalls
TARGET_WINDOW_STEPS, TARGET_MIN_SLOPE = 2000, 0.01  # at the target level: decay on a plateau
STOP_WINDOW_STEPS, STOP_MIN_SLOPE = 4000, 0.005  # after a decay: stop when this flat
MIN_WINDOW_EVALUATIONS = 5


def window_evaluations(window_steps: int, eval_every: int) -> int:
    """The evaluations a window of `window_steps` spans (at least MIN_WINDOW_EVALUATIONS)."""
    return max(MIN_WINDOW_EVALUATIONS, math.ceil(window_steps / max(eval_every, 1)))


def slope_per_1000_steps(values: list[float], eval_every: int) -> float:
    """The least-squares slope of `values`, evaluations `eval_every` steps apart, per 1,000 steps."""
    n = len(values)
    x_mean, y_mean = (n - 1) / 2, sum(values) / n
    sxx = sum((i - x_mean) ** 2 for i in range(n))
    sxy = sum((i - x_mean) * (v - y_mean) for i, v in enumerate(values))
    return (sxy / sxx) * 1000.0 / eval_every if sxx else 0.0


def plateaued(history: list[float], window_steps: int, min_slope: float, eval_every: int) -> bool:
    """The last `window_steps` of `history` (validation accuracies `eval_every` steps apart, since the last
    event) rise by at most `min_slope` per 1,000 steps; False while the window is not full."""
    n = window_evaluations(window_steps, eval_every)
    return len(history) >= n and slope_per_1000_steps(history[-n:], eval_every) <= min_slope


@dataclass
class ScheduleState:
    level: Level
    learning_rate: float
    train_accuracies: list[float] = field(default_factory=list)
    stopped: bool = False
    val_accuracies: list[float] = field(default_factory=list)
    plateaus: int = 0  # the plateau schedule's decays at the target level
    since_decay: int = 0  # the plateau schedule's evaluations at the target level since its last decay

    def to_json(self) -> dict:
        data = {
            "level": [self.level.length, self.level.nesting],
            "learning_rate": self.learning_rate,
            "train_accuracies": list(self.train_accuracies),
            "stopped": self.stopped,
            "val_accuracies": list(self.val_accuracies),
        }
        extra = {"plateaus": self.plateaus, "since_decay": self.since_decay}  # the amended schedule's form stays
        return {**data, **extra} if any(extra.values()) else data

    @classmethod
    def from_json(cls, data: dict) -> ScheduleState:
        return cls(
            Level(*data["level"]),
            data["learning_rate"],
            list(data["train_accuracies"]),
            data["stopped"],
            list(data.get("val_accuracies", [])),
            data.get("plateaus", 0),
            data.get("since_decay", 0),
        )


def update_schedule(
    state: ScheduleState,
    target: Level,
    *,
    val_accuracy: float,
    train_accuracy: float,
    target_accuracy: float = 0.95,
    decay: float = 0.8,
    min_learning_rate: float = 1e-3,
    schedule: str = "amended",
    eval_every: int = 100,
) -> tuple[ScheduleState, str | None]:
    """The state after one evaluation towards `target`, and what happened ('advance', 'advance-stalled' (the
    plateau schedule's), 'decay', 'stop' or None). `eval_every`: steps between evaluations (the plateau
    schedule's windows are in steps). Pure: `state` is not changed."""
    if schedule == "plateau":
        return _update_plateau(
            state, target, val_accuracy, train_accuracy, target_accuracy, decay, min_learning_rate, eval_every
        )
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
    return (
        ScheduleState(level, lr, history + [train_accuracy], stopped, val_history + [val_accuracy]),
        "stop" if stopped else event,
    )


def _update_plateau(
    state: ScheduleState,
    target: Level,
    val_accuracy: float,
    train_accuracy: float,
    target_accuracy: float,
    decay: float,
    min_learning_rate: float,
    eval_every: int,
) -> tuple[ScheduleState, str | None]:
    history = state.val_accuracies + [val_accuracy]
    level, lr, plateaus, since_decay, event, stopped = (
        state.level,
        state.learning_rate,
        state.plateaus,
        state.since_decay + 1,
        None,
        False,
    )
    harder = next_level(level, target)
    if harder is not None:
        if val_accuracy > target_accuracy:
            level, event = harder, "advance"
        elif plateaued(history, ADVANCE_WINDOW_STEPS, ADVANCE_MIN_SLOPE, eval_every):
            level, event = harder, "advance-stalled"
        if event is not None:
            history, since_decay = [], 0
    elif plateaus and plateaued(history, STOP_WINDOW_STEPS, STOP_MIN_SLOPE, eval_every):
        stopped = True
    elif plateaued(history[-since_decay:], TARGET_WINDOW_STEPS, TARGET_MIN_SLOPE, eval_every):
        lr, plateaus, since_decay, event = lr * decay, plateaus + 1, 0, "decay"
    history = history[-window_evaluations(STOP_WINDOW_STEPS, eval_every) :]  # all the rule ever reads
    stopped = stopped or lr < min_learning_rate
    return (
        ScheduleState(
            level, lr, state.train_accuracies[-HISTORY:] + [train_accuracy], stopped, history, plateaus, since_decay
        ),
        "stop" if stopped else event,
    )
