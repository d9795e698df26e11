"""The verdict statistics checked against SciPy and direct computations on fixed data."""

import math

import numpy as np
import pytest
from scipy import stats as st

from lte.study.analysis.stats import (
    Estimate,
    benjamini_hochberg,
    bootstrap_mean,
    clip_interval,
    decide,
    difference_of_differences,
    equivalence_p,
    format_estimate,
    format_interval,
    holm,
    no_interval_note,
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
    flat = t_interval([0.01, 0.01, 0.01])  # zero spread, mean not 0: no standard error to test with
    assert math.isnan(flat.se) and math.isnan(equivalence_p(flat, 0.02))
    at_zero = paired_difference([0.7, 0.8, 0.9], [0.7, 0.8, 0.9])  # every difference 0
    assert at_zero.se == 0 and equivalence_p(at_zero, 0.02) == 0.0
    assert math.isnan(equivalence_p(Estimate(0.01, 0.01, 0.01, 0.0, 3, 2.0, 0.0, "made by hand"), 0.02))
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


def test_format_estimate_clips_into_bounds_and_says_why_there_is_no_interval():
    wide = t_interval([0.504 - 0.2, 0.504 + 0.2])  # two seeds: t_{1, 0.975} = 12.7 throws the ends far out
    assert wide.low < 0 and wide.high > 1
    assert format_estimate(wide, bounds=(0.0, 1.0)) == "0.504 [0.000, 1.000]"
    assert format_estimate(wide).startswith("0.504 [-")  # without bounds: the t interval as it is
    assert format_estimate(t_interval([0.496])) == "0.496 (1 seed, no interval)"
    assert format_estimate(t_interval([0.9, 0.9])) == "0.900 (no interval: zero spread over 2 seeds)"
    assert format_estimate(t_interval([0.5, float("nan")])) == "nan (no interval)"
    assert format_interval(0.496, math.nan, math.nan) == "0.496 (no interval)"  # never "[nan, nan]"
    assert format_interval(-0.5, -1.7, 0.4, bounds=(-1.0, 1.0)) == "-0.500 [-1.000, 0.400]"
    assert clip_interval(-0.2, 1.3, (0.0, 1.0)) == (0.0, 1.0) and clip_interval(-0.2, 1.3) == (-0.2, 1.3)
    low, high = clip_interval(math.nan, math.nan, (0.0, 1.0))
    assert math.isnan(low) and math.isnan(high)


# Zero spread: every per-seed difference the same.


def _no_interval(e: Estimate) -> bool:
    return e.zero_spread and all(math.isnan(v) for v in (e.low, e.high, e.p_value, e.se))


def test_zero_spread_gives_no_interval_and_no_p_value_not_a_certain_difference():
    # results/quick: the LSTM's mix + invert against combined + double on copy, 2 seeds, both 0.001 apart
    e = paired_difference([0.999, 0.998], [0.998, 0.997])
    assert _no_interval(e) and abs(e.mean - 0.001) < 1e-12 and e.n == 2 and e.df == 1
    assert e.method == "paired t, 2 seeds; zero spread, no interval"
    assert no_interval_note(e) == "no interval: zero spread over 2 seeds"
    assert _no_interval(t_interval([0.4, 0.4, 0.4]))
    assert _no_interval(welch_difference([0.5, 0.5], [0.4, 0.4, 0.4]))
    assert _no_interval(difference_of_differences([0.6, 0.7], [0.5, 0.6], [0.3, 0.3], [0.3, 0.3]))


@pytest.mark.filterwarnings("ignore:Precision loss:RuntimeWarning")  # SciPy's, on the nearly equal differences
def test_a_spread_within_rounding_is_zero_spread():
    # 0.013 added to each seed: the float differences disagree in their last bits, and SciPy's paired t test
    # would call that p ~ 1e-31
    b = np.array([0.1, 0.2, 0.3])
    a = b + 0.013
    d = a - b
    assert d.std(ddof=1) > 0 and st.ttest_rel(a, b).pvalue < 1e-20
    assert _no_interval(paired_difference(a, b))
    # a real spread, however small against the values, is kept
    tiny = paired_difference(b + np.array([1e-6, 2e-6, 3e-6]), b)
    assert not tiny.zero_spread and tiny.low < tiny.mean < tiny.high and 0 < tiny.p_value < 1


def test_zero_spread_at_zero_is_the_point_zero_with_p_one():
    e = paired_difference([0.7, 0.8], [0.7, 0.8])  # the arms agree on every seed
    assert e.zero_spread and (e.mean, e.low, e.high, e.se, e.p_value) == (0.0, 0.0, 0.0, 0.0, 1.0)
    assert e.method == "paired t, 2 seeds; zero spread, all 0"
    assert format_estimate(e) == "0.000 [0.000, 0.000]"
    w = welch_difference([0.6, 0.6], [0.6, 0.6, 0.6])
    assert w.zero_spread and (w.low, w.high, w.p_value) == (0.0, 0.0, 1.0)


@pytest.mark.filterwarnings("ignore:Precision loss:RuntimeWarning")  # SciPy's warning on the flat group
def test_one_group_without_spread_is_still_an_ordinary_welch_comparison():
    e = welch_difference([0.5, 0.5, 0.5], C)
    ref = st.ttest_ind([0.5, 0.5, 0.5], C, equal_var=False)
    assert not e.zero_spread and _close(e.p_value, ref.pvalue) and _close(e.df, ref.df)


def test_callers_leave_zero_spread_out_of_the_family_and_undecided():
    """question 1's and question 3's deciders (the FCR interval read from se and df, Benjamini-Hochberg over the
    family) on a family with a zero-spread comparison: it is neither a rejection nor a decision."""
    from lte.study.analysis.comparisons import Comparison, decide_family
    from lte.study.analysis.question1 import DELTA_GAIN, fcr_level, judge_task, normalised_gain

    noisy = paired_difference(A, B)
    family = [
        Comparison({"other": "flat"}, paired_difference([0.999, 0.998], [0.998, 0.997])),
        Comparison({"other": "zero"}, paired_difference([0.9, 0.8], [0.9, 0.8])),
        Comparison({"other": "noisy"}, noisy),
    ]
    decide_family(family)
    flat, zero, rest = family
    assert math.isnan(flat.p_difference) and math.isnan(flat.low) and flat.decision == "unclear"
    assert (zero.low, zero.high, zero.p_difference, zero.decision) == (0.0, 0.0, 1.0, "equivalent")
    # the family's level: m = 2 tests with a p-value, R = 1 (the noisy one, p ~ 0.0003) at most
    assert flat.level == fcr_level([1.0, noisy.p_value]) == 1 - 0.05 / 2
    assert rest.decision == "equivalent"  # 0.01 [0.006, 0.014] lies inside +-0.05

    # question 1 (results/quick, copy, the LSTM's mix against baseline): no interval, so no act
    gain = normalised_gain(np.array([0.99, 0.991]), np.array([0.998, 0.999]))
    assert _no_interval(gain) and gain.mean == pytest.approx(-0.8)
    arms = {("lstm", "mix"): ([0.99, 0.991], [0.998, 0.999]), ("irnn", "mix"): ([0.6, 0.7], [0.5, 0.62])}
    judged = judge_task({k: tuple(np.array(v) for v in arm) for k, arm in arms.items()})
    lstm = next(r for r in judged["results"] if r.model == "lstm")
    assert math.isnan(lstm.low) and lstm.decision == "unclear" and lstm.act == "unclear"
    assert judged["level"] == 0.95 and DELTA_GAIN > 0  # m = 1: the IRNN's gain alone
