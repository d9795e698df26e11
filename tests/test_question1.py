"""Question 1's rule (lte.study.analysis.question1) on synthetic records with known answers."""

import numpy as np

from lte.study.analysis.question1 import (
    DELTA_GAIN,
    agreement,
    decide_by_interval,
    fcr_level,
    judge_task,
    normalised_gain,
)

SEEDS = 8


def _arm(mean: float, seed: int, spread: float = 0.01) -> np.ndarray:
    return np.clip(np.random.default_rng(seed).normal(mean, spread, SEEDS), 0.0, 1.0)


def _task(effects: dict[tuple[str, str], tuple[float, float]], seed: int = 0) -> dict:
    return {
        key: (_arm(treated, seed + 2 * i), _arm(control, seed + 2 * i + 1))
        for i, (key, (treated, control)) in enumerate(sorted(effects.items()))
    }


def test_a_factor_that_takes_both_models_to_the_ceiling_acts_alike():
    # raw differences 0.59 (LSTM) and 0.29 (IRNN) would read as "helps the IRNN less"; the gains are both 1
    out = judge_task(_task({("lstm", "mix"): (0.99, 0.40), ("irnn", "mix"): (0.99, 0.70)}))
    assert out["agreements"] == {"mix": "same"} and out["verdict"] == "yes"
    assert {r.model: r.act for r in out["results"]} == {"lstm": "helps", "irnn": "helps"}


def test_a_factor_that_helps_only_the_lstm_answers_no():
    out = judge_task(
        _task(
            {
                ("lstm", "mix"): (0.90, 0.40),
                ("irnn", "mix"): (0.70, 0.70),
                ("lstm", "naive"): (0.80, 0.40),
                ("irnn", "naive"): (0.95, 0.70),
            }
        )
    )
    assert out["agreements"] == {"mix": "differs", "naive": "same"} and out["verdict"] == "no"


def test_a_factor_that_hurts_one_model_only_counts():
    out = judge_task(
        _task(
            {
                ("lstm", "invert"): (0.40, 0.40),
                ("irnn", "invert"): (0.30, 0.70),
                ("lstm", "mix"): (0.90, 0.40),
                ("irnn", "mix"): (0.95, 0.70),
            }
        )
    )
    assert out["agreements"]["invert"] == "differs" and out["verdict"] == "no"


def test_nothing_acting_on_the_lstm_is_untestable():
    out = judge_task(
        _task(
            {
                ("lstm", "mix"): (0.40, 0.40),
                ("irnn", "mix"): (0.90, 0.70),
                ("lstm", "naive"): (0.41, 0.40),
                ("irnn", "naive"): (0.70, 0.70),
            }
        )
    )
    assert out["verdict"] == "untestable"


def test_nothing_acting_on_a_still_rising_lstm_is_not_called_untestable():
    flat = _task({("lstm", "mix"): (0.40, 0.40), ("irnn", "mix"): (0.90, 0.70)})
    assert judge_task(flat, rising={("lstm", "mix")})["verdict"] == "unclear"


def test_a_rising_cell_leaves_its_factor_undecided():
    out = judge_task(_task({("lstm", "mix"): (0.99, 0.40), ("irnn", "mix"): (0.99, 0.70)}), rising={("irnn", "mix")})
    assert out["agreements"] == {"mix": "unclear"} and out["verdict"] == "unclear"


def test_the_gain_is_scale_free_and_paired_by_seed():
    control = np.array([0.5, 0.6, 0.4, 0.5])
    assert abs(normalised_gain(control + 0.25, control).mean - 0.5) < 1e-12  # a quarter of a half's headroom
    assert normalised_gain(control, control).p_value == 1.0
    at_ceiling = normalised_gain(np.full(4, 0.9), np.ones(4))  # floor of the headroom: hurting still counts
    assert at_ceiling.mean < -1


def test_decisions_read_off_the_printed_interval():
    assert decide_by_interval(0.3, 0.5, DELTA_GAIN) == "higher"
    assert decide_by_interval(-0.5, -0.3, DELTA_GAIN) == "lower"
    assert decide_by_interval(0.01, 0.1, DELTA_GAIN) == "equivalent"  # above 0 but smaller than matters
    assert decide_by_interval(-0.1, 0.5, DELTA_GAIN) == "unclear"
    assert decide_by_interval(float("nan"), 0.5, DELTA_GAIN) == "unclear"
    assert agreement("helps", "none") == "differs" and agreement("none", "none") == "same"


def test_the_false_coverage_level_widens_with_the_family():
    assert fcr_level([0.001, 0.5, 0.9, 0.9]) == 1 - 0.05 * 1 / 4
    assert fcr_level([0.001, 0.002, 0.003, 0.004]) == 1 - 0.05
    assert fcr_level([0.5]) == 0.95


def test_a_differing_factor_says_how_many_single_seeds_undo_it():
    from lte.study.analysis.question1 import leave_one_out_acts

    robust = judge_task(_task({("lstm", "mix"): (0.8, 0.5), ("irnn", "mix"): (0.3, 0.5)}))
    assert robust["verdict"] == "no" and robust["fragility"] == {"mix": 0}
    # a spread-out help: leaving out one of four seeds leaves its interval across zero
    control = np.array([0.5, 0.51, 0.49, 0.5, 0.5])
    treated = control + np.array([0.2, 0.25, 0.3, 0.02, 0.5])
    irnn = (control - 0.2 + 0.01 * np.arange(5), control)
    carried = judge_task({("lstm", "mix"): (treated, control), ("irnn", "mix"): irnn})
    assert carried["agreements"]["mix"] == "differs" and carried["fragility"]["mix"] == 4
    assert leave_one_out_acts(treated, control, carried["level"]).count("helps") == 1
    assert "mix" not in judge_task(_task({("lstm", "mix"): (0.8, 0.5), ("irnn", "mix"): (0.8, 0.5)}))["fragility"]
