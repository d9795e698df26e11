"""The rising-cell flag (lte.study.analysis.rising) on synthetic curves with known slopes."""

import numpy as np
import pandas as pd

from lte.study.analysis.rising import RISING_SLOPE, cell_slopes, final_slope


def test_the_final_slope_reads_only_the_last_fifth_per_1000_steps():
    steps = np.arange(100, 10_001, 100)
    # rising fast for 8,000 steps, then flat: the final slope is 0, whatever came before
    values = np.where(steps <= 8000, steps / 10_000, 0.8)
    assert abs(final_slope(steps, values)) < 1e-9
    assert abs(final_slope(steps, 0.3 + 0.02 * steps / 1000) - 0.02) < 1e-9
    assert np.isnan(final_slope(np.array([100]), np.array([0.5])))


def _curve(cell: str, model: str, seed: int, slope: float, steps: int = 5000) -> pd.DataFrame:
    step = np.arange(100, steps + 1, 100)
    return pd.DataFrame(
        {
            "cell": cell,
            "label_model": model,
            "label_seed": seed,
            "step": step,
            "test_char_accuracy": 0.5 + slope * step / 1000,
        }
    )


def test_a_cell_is_rising_when_its_runs_mean_slope_exceeds_the_threshold():
    curves = pd.concat(
        [
            _curve("a0", "lstm", 0, 0.0),
            _curve("a1", "lstm", 1, 0.005),
            _curve("b0", "irnn", 0, 0.03),
            _curve("b1", "irnn", 1, 0.0),
        ]
    )
    table = cell_slopes(curves, ["label_model"]).set_index("label_model")
    assert table.loc["irnn", "rising"] and not table.loc["lstm", "rising"]
    assert abs(table.loc["irnn", "final_slope"] - 0.015) < 1e-9 and table.loc["irnn", "runs"] == 2
    assert RISING_SLOPE == 0.01


def test_the_report_lists_every_cell_with_its_slope_and_marks_the_rising_ones():
    from lte.study.analysis.rising import slopes_section

    curves = pd.concat([_curve("a0", "lstm", 0, 0.0), _curve("b0", "irnn", 0, 0.03)])
    lines = slopes_section({"addition": curves, "program": pd.DataFrame()})
    assert "**addition** (1 of 2 cells rising)" in lines
    assert "| irnn | 1 | +0.0300 **rising** |" in lines and "| lstm | 1 | +0.0000 |" in lines
    assert not any("program" in line for line in lines)
