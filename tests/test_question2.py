"""Question 2's rule (lte.study.analysis.question2) on synthetic curves with known answers."""

import numpy as np
import pandas as pd
import pytest

from lte.study.analysis.question2 import (
    TARGETS,
    WITHIN,
    area_under_curve,
    equal_parameter_irnn_width,
    equal_parameter_width,
    judge,
    reach_summary,
    run_seconds,
    step_clock_seconds,
    time_to_target,
)

SEEDS, STEPS, EVERY = 8, 10_000, 200


def _runs(name: str, tau: float, ms_per_step: float, seed: int) -> pd.DataFrame:
    """Curves rising from 0.3 towards 0.9 with time constant `tau` steps, on a clock of `ms_per_step`."""
    rng = np.random.default_rng(seed)
    frames = []
    for s in range(SEEDS):
        step = np.arange(EVERY, STEPS + 1, EVERY)
        rise = 1 - np.exp(-step / (tau * rng.uniform(0.9, 1.1)))
        accuracy = np.clip(0.3 + 0.6 * rise + rng.normal(0, 0.01, step.size), 0, 1)
        wall = np.cumsum(np.full(step.size, EVERY * ms_per_step / 1000) * rng.uniform(0.95, 1.05, step.size))
        frames.append(
            pd.DataFrame(
                {"cell": f"{name}-s{s}", "step": step, "wall_time": wall, "test_char_accuracy": accuracy, "event": None}
            )
        )
    return pd.concat(frames, ignore_index=True)


def _study(irnn_ms: float) -> dict:
    """The LSTM (time constant 3,000 steps) and two IRNNs rising twice as fast per step, 5 ms per step for
    the LSTM and `irnn_ms` on the IRNNs' own clock; the step-alone clock says 5 ms for all."""
    curves = {
        "lstm": _runs("lstm", 3000, 5, 0),
        "irnn-units": _runs("irnn-units", 1500, irnn_ms, 1),
        "irnn-params": _runs("irnn-params", 1500, irnn_ms, 2),
    }
    return judge(curves, "lstm", ms_per_step={v: 5.0 for v in curves})


def test_an_irnn_rising_faster_per_step_and_per_second_converges_faster_on_every_clock():
    out = _study(irnn_ms=5)
    assert out["verdicts"] == {
        v: {"steps": "yes", "run seconds": "yes", "step-alone seconds": "yes"} for v in ("irnn-units", "irnn-params")
    }
    assert out["verdict"] == {"irnn-units": "yes", "irnn-params": "yes"} and out["deciding_clock"] == "run seconds"
    assert len(out["comparisons"]) == 6 and out["level"] == 1 - 0.05  # one family: all six rejected


def test_the_runs_own_clock_decides_the_seconds():
    # the same curves, the IRNNs' own steps 3x slower: faster per step, slower per second of training
    out = _study(irnn_ms=15)
    c = out["comparisons"].set_index(["variant", "clock"])
    for variant in ("irnn-units", "irnn-params"):
        assert c.loc[(variant, "steps"), "verdict"] == "yes"
        assert c.loc[(variant, "run seconds"), "decision"] in ("lower", "equivalent")
        assert c.loc[(variant, "run seconds"), "verdict"] == "no" and out["verdict"][variant] == "no"
        assert c.loc[(variant, "step-alone seconds"), "verdict"] == "yes"  # reported, not deciding
    assert out["windows"]["steps"] == STEPS
    assert abs(out["windows"]["run seconds"] - STEPS * 0.005) < 0.05 * STEPS * 0.005  # the LSTM's runs end first


def test_a_rising_cell_leaves_its_comparisons_undecided():
    curves = {"lstm": _runs("lstm", 3000, 5, 0), "irnn-units": _runs("irnn-units", 1500, 5, 1)}
    out = judge(curves, "lstm", rising={"irnn-units"})
    assert set(out["comparisons"].decision) == {"rising"} and out["verdict"] == {"irnn-units": "unclear"}
    assert list(out["comparisons"].clock) == ["steps", "run seconds"]  # no step times: that clock is left out


def test_clocks():
    curves = pd.DataFrame({"step": [100, 200], "wall_time": [0.9, 1.2]})
    assert list(run_seconds(curves)) == [0.9, 1.2]
    assert list(step_clock_seconds(curves, 2.5)) == [0.25, 0.5]


def test_area_is_the_mean_over_the_window():
    assert area_under_curve([0.0, 0.5, 1.0], [0, 100, 200], 150) == pytest.approx(0.375)  # a line x / 200
    assert area_under_curve([0.5, 1.0], [100, 200], 200) == pytest.approx(0.625)  # held at 0.5 before x = 100
    assert area_under_curve([0.4, 0.4, 0.4], [10, 20, 30], 25) == pytest.approx(0.4)
    with pytest.raises(ValueError, match="window"):
        area_under_curve([0.5, 1.0], [100, 200], 250)


def test_time_to_target_interpolates_and_is_nan_when_never_reached():
    accuracy, steps = [0.2, 0.4, 0.8, 0.7], [100, 200, 300, 400]
    assert time_to_target(accuracy, steps, 0.6) == pytest.approx(250)
    assert time_to_target(accuracy, steps, 0.4) == pytest.approx(200)
    assert time_to_target(accuracy, steps, 0.1) == 100
    assert np.isnan(time_to_target(accuracy, steps, 0.9))


def test_fraction_of_runs_reaching_a_target():
    assert reach_summary(np.array([300.0, np.nan, 100.0, 200.0])) == {"median": 200.0, "fraction": 0.75, "runs": 4}
    assert np.isnan(reach_summary(np.array([np.nan, np.nan]))["median"])
    out = _study(irnn_ms=5)["to_target"]
    assert len(out) == 3 * 3 * len(TARGETS)
    lstm = out[(out.variant == "lstm") & (out.clock == "steps")].set_index("target")
    assert lstm.loc[0.8, "fraction"] == 1.0 and lstm.loc[0.8, "median"] > lstm.loc[0.5, "median"]


def test_equal_parameter_width():
    assert equal_parameter_width(10_000, lambda n: n * n) == 100
    assert equal_parameter_width(10_150, lambda n: n * n) == 101  # 10,201 is nearer than 10,000
    with pytest.raises(ValueError, match="within 5%"):
        equal_parameter_width(1_500, lambda n: 1_000 * n)


def test_equal_parameter_irnn_width_at_1x64_matches_the_lstm_within_5_percent():
    import jax

    from lte.core.model import ModelConfig, count_params, init_params

    width = equal_parameter_irnn_width(64, 1)
    lstm = count_params(init_params(jax.random.PRNGKey(0), ModelConfig(cell="lstm", hidden=64, layers=1)))
    irnn = count_params(init_params(jax.random.PRNGKey(0), ModelConfig(cell="irnn", hidden=width, layers=1)))
    assert abs(irnn / lstm - 1) <= WITHIN and width == 158
