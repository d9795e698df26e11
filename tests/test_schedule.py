"""Zaremba & Sutskever's advance / decay / stop rule, and the wall-clock budget."""

from data_gen.curriculum import Level
from lte.core.config import TrainConfig
from lte.core.schedule import ScheduleState, update_schedule
from lte.core.train import read_metrics, train


def run_rule(strategy, target, evaluations, schedule="original"):
    spec = TrainConfig(task="program", length=target.length, nesting=target.nesting, strategy=strategy).spec()
    state, events = ScheduleState(Level(1, 1), 0.5), []
    for val, tr in evaluations:
        previous, snapshot = state, state.to_json()
        again, _ = update_schedule(previous, spec.target, val_accuracy=val, train_accuracy=tr, schedule=schedule)
        state, event = update_schedule(previous, spec.target, val_accuracy=val, train_accuracy=tr, schedule=schedule)
        assert again == state and previous.to_json() == snapshot  # pure: same answer, the old state untouched
        events.append((event, state.level, round(state.learning_rate, 6)))
    return state, events


def test_high_validation_accuracy_advances_then_decays_at_the_target():
    state, events = run_rule("naive", Level(2, 2), [(0.96, 0.5)] * 4 + [(0.96, 0.5)] * 2)
    assert [e[0] for e in events] == ["advance", "advance", "advance", "decay", "decay", "decay"]
    assert [e[1] for e in events[:3]] == [Level(2, 1), Level(1, 2), Level(2, 2)]
    assert events[-1][2] == round(0.5 * 0.8**3, 6)


def test_validation_at_exactly_the_target_accuracy_does_not_advance():
    _, events = run_rule("naive", Level(3, 1), [(0.95, 0.5)])
    assert events[0][0] is None


def test_training_accuracy_below_five_evaluations_ago_advances_and_restarts_the_history():
    # rising for 5 evaluations, then a drop below the value 5 evaluations earlier
    accuracies = [0.30, 0.40, 0.50, 0.60, 0.70, 0.29]
    state, events = run_rule("naive", Level(4, 1), [(0.1, a) for a in accuracies])
    assert [e[0] for e in events] == [None] * 5 + ["advance"]
    assert state.level == Level(2, 1) and state.train_accuracies == [0.29]
    # a drop that is not below the value 5 evaluations earlier changes nothing
    _, events = run_rule("naive", Level(4, 1), [(0.1, a) for a in [0.30, 0.40, 0.50, 0.60, 0.70, 0.31]])
    assert [e[0] for e in events] == [None] * 6


def test_amended_rule_also_advances_when_validation_stops_improving():
    # a memorised level: training accuracy saturated, validation stuck just under the threshold
    plateau = [(0.938, 1.0)] * 6
    _, events = run_rule("naive", Level(4, 1), plateau, schedule="original")
    assert [e[0] for e in events] == [None] * 6  # the original rule never fires: the trap
    state, events = run_rule("naive", Level(4, 1), plateau, schedule="amended")
    assert [e[0] for e in events] == [None] * 5 + ["advance"]
    assert state.level == Level(2, 1) and state.val_accuracies == [0.938]
    # validation still rising: no advance
    _, events = run_rule("naive", Level(4, 1), [(0.5 + 0.05 * i, 1.0) for i in range(8)], schedule="amended")
    assert [e[0] for e in events] == [None] * 8


def test_the_schedule_state_round_trips_through_json():
    state = ScheduleState(Level(2, 1), 0.4, [0.5, 0.6], False, [0.3, 0.35])
    assert ScheduleState.from_json(state.to_json()) == state
    old = {"level": [1, 1], "learning_rate": 0.5, "train_accuracies": [0.2], "stopped": False}  # before val history
    assert ScheduleState.from_json(old).val_accuracies == []


def test_stops_when_the_learning_rate_falls_below_its_minimum():
    # at the target from the start (length 1, nesting 1): every trigger decays 0.5 -> 0.4 -> ... < 1e-3
    state, events = run_rule("baseline", Level(1, 1), [(0.99, 0.9)] * 40)
    stop_at = [e[0] for e in events].index("stop")
    assert 0.5 * 0.8**stop_at >= 1e-3 > 0.5 * 0.8 ** (stop_at + 1)
    assert state.stopped


def test_the_wall_clock_budget_ends_a_run(tmp_path):
    config = TrainConfig(
        task="copy",
        length=3,
        nesting=1,
        strategy="baseline",
        model="irnn",
        hidden=16,
        layers=1,
        batch_size=4,
        eval_every=1_000_000,
        max_steps=None,
        max_seconds=3.0,
        val_size=20,
        test_size=20,
    )
    summary = train(config, tmp_path / "run", log=lambda line: None)
    assert summary["stop_reason"] == "max_seconds"
    assert 3.0 <= summary["wall_time"] < 30 and summary["steps"] > 0
    rows = read_metrics(tmp_path / "run")
    assert len(rows) == 1 and rows[0]["step"] == summary["steps"]  # one final evaluation


def test_train_config_carries_every_task_field():
    """TrainConfig repeats TaskSpec's fields flat (config.json, CLI flags and experiment grids set flat keys);
    this keeps the two in step, so a new task field cannot be forgotten in training."""
    import dataclasses

    from data_gen.tasks import TaskSpec

    task_fields = {f.name for f in dataclasses.fields(TaskSpec)}
    assert task_fields <= {f.name for f in dataclasses.fields(TrainConfig)}
    config = TrainConfig(
        task="copy", length=5, nesting=1, strategy="mix", invert=True, double=True, mix_probability=0.3
    )
    assert dataclasses.asdict(config.spec()) == {k: getattr(config, k) for k in task_fields}


def test_amended_baseline_and_mix_start_at_the_target_naive_and_combined_at_one_one():
    from lte.core.train import starting_level

    for strategy, level in [
        ("baseline", Level(6, 1)),
        ("mix", Level(6, 1)),
        ("naive", Level(1, 1)),
        ("combined", Level(1, 1)),
    ]:
        assert starting_level(TrainConfig(task="copy", length=6, nesting=1, strategy=strategy)) == level
    assert starting_level(
        TrainConfig(task="copy", length=6, nesting=1, strategy="baseline", schedule="original")
    ) == Level(1, 1)


def test_tiny_levels_are_judged_on_their_training_split_with_the_amended_schedule():
    from lte.core.data import MIN_DISTINCT_VALIDATION, make_target_validation_set, make_validation_set

    config = TrainConfig(task="copy", length=3, nesting=1, strategy="naive", val_size=200)
    tiny = make_validation_set(config, Level(1, 1))
    assert tiny.name == "val-from-train" and {e.split for e in tiny.examples} == {"train"}
    assert len({e.input for e in tiny.examples}) < MIN_DISTINCT_VALIDATION
    original = make_validation_set(
        TrainConfig(task="copy", length=3, nesting=1, strategy="naive", val_size=200, schedule="original"), Level(1, 1)
    )
    assert original.name == "val" and {e.split for e in original.examples} == {"val"}
    at_target = make_validation_set(config, Level(3, 1))
    assert at_target.name == "val" and {e.split for e in at_target.examples} == {"val"}
    assert make_target_validation_set(config).targets == at_target.targets  # selection: the val split


def _first_step_at(rows, level):
    return next((r["step"] for r in rows if tuple(r["level"]) == level), None)


def test_the_naive_curriculum_reaches_the_target_on_copy_and_addition(tmp_path):
    """End to end, with the amended schedule (the trap of the original rule is shown on the rule above)."""
    for task, length in (("copy", 3), ("addition", 2)):
        config = TrainConfig(
            task=task,
            length=length,
            nesting=1,
            strategy="naive",
            model="irnn",
            hidden=32,
            layers=1,
            input_scale=0.3,
            learning_rate=0.05,
            batch_size=16,
            eval_every=50,
            val_size=100,
            test_size=100,
            max_steps=1000,
            data="fresh",
        )
        summary = train(config, tmp_path / task, log=lambda line: None)
        rows = read_metrics(tmp_path / task)
        assert _first_step_at(rows, (length, 1)) is not None, f"naive {task} never reached ({length}, 1)"
        assert summary["final"]["level"] == [length, 1]
        assert [r["level"] for r in rows] == sorted(r["level"] for r in rows)  # only ever harder


# ---------------------------------------------------------------- the plateau rule (the study's)


def _plateau_events(curve, target=Level(3, 1), start=Level(1, 1), lr=1.0, eval_every=100):
    state, events = ScheduleState(start, lr), []
    for val in curve:
        state, event = update_schedule(
            state, target, val_accuracy=val, train_accuracy=0.5, schedule="plateau", eval_every=eval_every
        )
        events.append(event)
        if state.stopped:  # the training loop ends the run here
            break
    return state, events


def _noisy(
    slope_per_1000: float, n: int, noise: float = 0.01, start: float = 0.3, seed: int = 0, eval_every: int = 100
) -> list[float]:
    rng = __import__("random").Random(seed)
    return [start + slope_per_1000 * i * eval_every / 1000 + rng.gauss(0, noise) for i in range(n)]


def test_the_slope_is_per_1000_steps_whatever_the_evaluation_interval():
    from lte.core.schedule import slope_per_1000_steps

    assert abs(slope_per_1000_steps([0.1, 0.2, 0.3], 100) - 1.0) < 1e-12
    assert abs(slope_per_1000_steps([0.1, 0.2, 0.3], 200) - 0.5) < 1e-12
    assert slope_per_1000_steps([0.5, 0.4, 0.3, 0.2], 100) < 0


def test_the_plateau_rule_never_leaves_a_level_that_is_still_rising():
    for seed in range(5):  # 0.05 per 1,000 steps below the target, evaluation noise 0.01
        _, events = _plateau_events(_noisy(0.05, 40, seed=seed))
        assert events == [None] * 40, seed
    _, events = _plateau_events(_noisy(0.05, 40, seed=0, eval_every=200), eval_every=200)
    assert events == [None] * 40


def test_the_plateau_rule_leaves_a_flat_level_after_its_window_and_says_why():
    state, events = _plateau_events([0.60] * 20)
    assert events[:14] == [None] * 14 and events[14] == "advance-stalled" and state.level == Level(2, 1)
    _, events = _plateau_events([0.60] * 12, eval_every=500)  # a window is never under 5 evaluations
    assert events[:4] == [None] * 4 and events[4] == "advance-stalled"
    _, reached = _plateau_events([0.96])
    assert reached == ["advance"]


def test_noise_around_a_flat_curve_reads_as_a_plateau():
    for seed in range(5):
        state, _ = _plateau_events(_noisy(0.0, 15, noise=0.015, seed=seed))
        assert state.level == Level(2, 1), seed


def test_at_the_target_only_a_plateau_decays_and_the_run_stops_once_flat_after_it():
    rising = _noisy(0.05, 40, start=0.5)
    _, events = _plateau_events(rising, start=Level(3, 1))
    assert events == [None] * 40  # still learning at the target: the rate is never touched
    _, events = _plateau_events([0.97] * 15, start=Level(3, 1))
    assert events == [None] * 15  # above the target accuracy but not yet flat for 2,000 steps: no decay
    state, events = _plateau_events([0.7] * 60, start=Level(3, 1), lr=0.5)
    assert [i for i, e in enumerate(events) if e] == [19, 39] and len(events) == 40
    assert events[19] == "decay" and events[39] == "stop" and state.stopped and state.plateaus == 1
    assert state.learning_rate == 0.5 * 0.8
    assert ScheduleState.from_json(state.to_json()) == state


def test_a_run_that_creeps_after_its_decay_is_not_stopped():
    # flat for 2,000 steps (decay), then rising by 0.015 per 1,000 steps: above the stop's 0.005
    curve = [0.7] * 20 + [0.7 + 0.0015 * i for i in range(1, 61)]
    state, events = _plateau_events(curve, start=Level(3, 1))
    assert events[19] == "decay" and "stop" not in events and not state.stopped
    assert len(state.val_accuracies) == 40  # the history kept is the stop's window


def test_the_amended_schedule_state_reads_and_writes_as_before():
    state = ScheduleState(Level(2, 1), 0.5, [0.1], False, [0.2])
    assert "plateaus" not in state.to_json()  # committed checkpoints' meta keep their form
