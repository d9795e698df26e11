"""The verdict statistics checked against SciPy and direct computations on fixed data."""

import math

import numpy as np
import pytest
from scipy import stats as st

from lte.study.analysis.stats import (
    Estimate,
    benjamini_hochberg,
    bootstrap_mean,
    decide,
    difference_of_differences,
    equivalence_p,
    format_estimate,
    holm,
    paired_difference,
    t_interval,
    welch_difference,
)

# Accuracies of two methods over 8 seeds (paired by seed), and a third, independent arm.
A = np.array([0.912, 0.897, 0.925, 0.904, 0.918, 0.889, 0.931, 0.909])
B = np.array([0.901, 0.893, 0.907, 0.899, 0.905, 0.880, 0.915, 0.902])
C = np.array([0.874, 0.921, 0.866, 0.902, 0.889, 0.913, 0.858, 0.895, 0.910, 0.881])


def _close(x, y, tol=1e-10):
    return x == pytest.approx(y, rel=tol, abs=tol)


@pytest.mark.parametrize("level", [0.95, 0.9])
def test_t_interval_matches_ttest_1samp(level):
    e = t_interval(A - 0.9, level=level)
    ref = st.ttest_1samp(A - 0.9, 0.0)
    ci = ref.confidence_interval(confidence_level=level)
    assert isinstance(e, Estimate)
    assert _close(e.mean, np.mean(A - 0.9)) and _close(e.p_value, ref.pvalue)
    assert _close(e.low, ci.low) and _close(e.high, ci.high)
    assert e.n == 8 and e.df == 7 and _close(e.se, st.sem(A - 0.9))
    assert e.method == "one-sample t, 8 seeds"


def test_t_interval_with_too_few_values_is_nan_not_an_error():
    one = t_interval([0.5])
    assert one.mean == 0.5 and one.n == 1
    assert all(math.isnan(v) for v in (one.low, one.high, one.p_value, one.se))
    empty = t_interval([])
    assert empty.n == 0 and math.isnan(empty.mean) and math.isnan(empty.p_value)


def test_paired_difference_matches_ttest_rel():
    e = paired_difference(A, B)
    ref = st.ttest_rel(A, B)
    ci = ref.confidence_interval()
    assert _close(e.mean, np.mean(A - B)) and _close(e.p_value, ref.pvalue)
    assert _close(e.low, ci.low) and _close(e.high, ci.high)
    assert e.n == 8 and e.df == 7 and e.method == "paired t, 8 seeds"


def test_paired_difference_rejects_unequal_lengths():
    with pytest.raises(ValueError, match="equal lengths"):
        paired_difference(A, B[:-1])


@pytest.mark.parametrize("level", [0.95, 0.99])
def test_welch_difference_matches_ttest_ind_unequal_var(level):
    e = welch_difference(A, C, level=level)
    ref = st.ttest_ind(A, C, equal_var=False)
    ci = ref.confidence_interval(confidence_level=level)
    assert _close(e.mean, A.mean() - C.mean()) and _close(e.p_value, ref.pvalue)
    assert _close(e.low, ci.low) and _close(e.high, ci.high)
    assert _close(e.df, ref.df)
    assert e.n == 18 and e.method == "Welch t, 8 vs 10 seeds"


def test_difference_of_differences_is_welch_on_per_seed_differences():
    # Group a: A vs B paired by seed; group b: two other arms over 10 seeds, paired by seed.
    b_treated = C + np.array([0.004, -0.002, 0.006, 0.001, 0.003, -0.001, 0.005, 0.000, 0.002, 0.004])
    e = difference_of_differences(A, B, b_treated, C)
    da, db = A - B, b_treated - C
    ref = st.ttest_ind(da, db, equal_var=False)
    ci = ref.confidence_interval()
    assert _close(e.mean, da.mean() - db.mean()) and _close(e.p_value, ref.pvalue)
    assert _close(e.low, ci.low) and _close(e.high, ci.high) and _close(e.df, ref.df)
    assert e.n == 18
    with pytest.raises(ValueError, match="equal lengths"):
        difference_of_differences(A, B[:-1], b_treated, C)


def test_equivalence_p_is_the_larger_of_two_one_sided_tests():
    delta = 0.02
    d = A - B
    e = paired_difference(A, B)
    ref_lower = st.ttest_1samp(d + delta, 0.0, alternative="greater").pvalue  # H0: diff <= -delta
    ref_upper = st.ttest_1samp(d - delta, 0.0, alternative="less").pvalue  # H0: diff >= +delta
    assert _close(equivalence_p(e, delta), max(ref_lower, ref_upper))
    # A margin tighter than the observed difference cannot show equivalence.
    assert equivalence_p(e, 0.005) > 0.5


def test_equivalence_p_edge_cases():
    flat = t_interval([0.01, 0.01, 0.01])
    assert flat.se == 0
    assert equivalence_p(flat, 0.02) == 0.0 and equivalence_p(flat, 0.005) == 1.0
    assert math.isnan(equivalence_p(t_interval([0.3]), 0.02))


def _holm_brute_force(p):
    """Sort ascending, multiply the j-th (0-based) by m - j, take the running max, cap at 1."""
    p = list(p)
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    out = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, (m - rank) * p[i])
        out[i] = min(running, 1.0)
    return out


def test_holm_against_brute_force_and_a_hand_worked_example():
    # By hand: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.04;
    # running max -> 0.02, 0.03, 0.06, 0.06; back in input order:
    assert np.allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    rng = np.random.default_rng(3)
    for m in (1, 2, 5, 12):
        p = rng.uniform(0, 0.3, size=m)
        p[rng.integers(0, m)] = p[0]  # a tie
        assert np.allclose(holm(p), _holm_brute_force(p))
    assert np.array_equal(holm([0.5, 0.6]), [1.0, 1.0])  # capped at 1


def test_holm_and_bh_leave_nan_out_of_the_count():
    out = holm([0.01, np.nan, 0.04])
    assert np.isnan(out[1]) and np.allclose(out[[0, 2]], [0.02, 0.04])
    out = benjamini_hochberg([0.01, np.nan, 0.04])
    assert np.isnan(out[1]) and np.allclose(out[[0, 2]], st.false_discovery_control([0.01, 0.04], method="bh"))
    assert holm([]).size == 0 and benjamini_hochberg([]).size == 0


def test_benjamini_hochberg_matches_scipy():
    rng = np.random.default_rng(7)
    for m in (1, 3, 10, 25):
        p = np.concatenate([rng.uniform(0, 0.01, size=m // 3), rng.uniform(0, 1, size=m - m // 3)])
        rng.shuffle(p)
        assert np.allclose(benjamini_hochberg(p), st.false_discovery_control(p, method="bh"), rtol=1e-12, atol=0)


def test_t_interval_covers_at_its_level_where_the_bootstrap_percentile_interval_falls_short():
    # Why the t interval replaced the bootstrap: with 8 seeds the percentile bootstrap
    # interval is too narrow (it uses normal quantiles and the ddof=0 spread).
    rng = np.random.default_rng(2024)
    draws = rng.normal(loc=0.7, scale=0.05, size=(2000, 8))
    t_cover = np.mean([e.low <= 0.7 <= e.high for e in map(t_interval, draws)])
    assert 0.93 <= t_cover <= 0.97
    boot = [bootstrap_mean(x) for x in draws[:1000]]  # the bootstrap is slower; 1000 draws suffice
    boot_cover = np.mean([low <= 0.7 <= high for _, low, high in boot])
    assert boot_cover < 0.93


def test_decide_on_clear_null_and_noisy_effects():
    delta = 0.01
    rng = np.random.default_rng(11)
    base = rng.normal(0.9, 0.02, size=8)

    def verdict(a, b):
        e = paired_difference(a, b)
        return decide(e.p_value, equivalence_p(e, delta), e.mean)

    clear = base + 0.03 + rng.normal(0, 0.003, size=8)
    assert verdict(clear, base) == "higher" and verdict(base, clear) == "lower"
    tight_null = base + rng.normal(0, 0.002, size=8)
    assert verdict(tight_null, base) == "equivalent"
    noisy_null = base + rng.normal(0, 0.03, size=8)
    assert verdict(noisy_null, base) == "unclear"


def test_decide_rules():
    assert decide(0.01, 0.5, 0.2) == "higher"
    assert decide(0.01, 0.5, -0.2) == "lower"
    assert decide(0.01, 0.01, 0.02) == "equivalent"  # significant but smaller than delta: does not matter
    assert decide(0.2, 0.01, 0.001) == "equivalent"
    assert decide(0.2, 0.2, 0.001) == "unclear"
    assert decide(float("nan"), float("nan"), 0.1) == "unclear"
    assert decide(0.04, 0.5, 0.1, alpha=0.01) == "unclear"


def test_format_estimate():
    e = Estimate(0.123, 0.05, 0.196, 0.01, 8, 7.0, 0.03, "paired t, 8 seeds")
    assert format_estimate(e) == "0.123 [0.050, 0.196]"
    assert format_estimate(e, digits=2) == "0.12 [0.05, 0.20]"
