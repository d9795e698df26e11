"""The design pilot's stated rule (lte.study.analysis.design) on synthetic records with a known answer."""

import pandas as pd
import pytest

from lte.study.analysis.design import CEILING, choose_memorisation_length


def pilot(means: dict[int, tuple[float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"cfg_length": length, "val_target_char_accuracy": value}
            for length, values in means.items()
            for value in values
        ]
    )


def test_the_smallest_length_below_the_ceiling_is_chosen():
    table, chosen = choose_memorisation_length(pilot({8: (0.99, 1.0), 10: (0.5, 0.4), 12: (0.2, 0.3)}))
    assert chosen == 10
    assert table.set_index("length").loc[10, "mean"] == pytest.approx(0.45)


def test_a_mean_at_the_ceiling_qualifies_and_one_seed_below_does_not():
    assert choose_memorisation_length(pilot({8: (CEILING, CEILING), 10: (0.1, 0.1)}))[1] == 8
    assert choose_memorisation_length(pilot({8: (0.85, 0.99), 10: (0.1, 0.1)}))[1] == 10


def test_no_candidate_qualifies():
    assert choose_memorisation_length(pilot({8: (1.0, 1.0), 14: (0.95, 0.99)}))[1] is None


def test_lengths_outside_the_stated_candidates_are_refused():
    with pytest.raises(ValueError, match=r"\[9\]"):
        choose_memorisation_length(pilot({9: (0.5, 0.5)}))
