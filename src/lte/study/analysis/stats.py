"""Statistics for the verdicts: t intervals and tests over seeds, multiplicity, equivalence.

The study compares accuracies over a handful of seeds (8-10), so the intervals are
Student t intervals (one-sample, paired by seed, or Welch), not bootstrap percentile
intervals, which cover too rarely at such small n. Differences are tested two-sided,
equivalence by TOST, and families of tests are adjusted by Holm or Benjamini-Hochberg.

Zero spread (every value, or every per-seed difference, the same: common at 2 seeds on a saturated
task) gives no t interval: a zero standard error is no evidence of a zero sampling error. Such an
estimate has no interval and no p-value (nan: Benjamini-Hochberg leaves it out of the family, the
decision reads it as undefined, 'unclear') unless its mean is 0, when it is the point [0, 0] with p = 1
(no value differs from 0, so no difference is shown and 0 lies inside any equivalence margin). See
`_t_estimate`.

The bootstrap helpers at the top (`bootstrap_mean`, `bootstrap_difference`, `classify`,
`format_interval`) are kept for the modules that still import them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

RESAMPLES = 10_000

# ---------------------------------------------------------------------------
# Legacy bootstrap helpers (to be removed once no module imports them).
# ---------------------------------------------------------------------------


def bootstrap_mean(values, *, seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): the percentile bootstrap interval of the mean."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(RESAMPLES, x.size))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    return float(x.mean()), float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail))


def bootstrap_difference(a, b, *, seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """(mean(a) - mean(b), low, high), each group resampled on its own."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    rng = np.random.default_rng(seed)
    dx = x[rng.integers(0, x.size, size=(RESAMPLES, x.size))].mean(axis=1)
    dy = y[rng.integers(0, y.size, size=(RESAMPLES, y.size))].mean(axis=1)
    diffs = dx - dy
    tail = (1 - level) / 2 * 100
    return float(x.mean() - y.mean()), float(np.percentile(diffs, tail)), float(np.percentile(diffs, 100 - tail))


def classify(low: float, high: float) -> str:
    """'helps' when the whole interval is above 0, 'hurts' when below, else 'unclear'."""
    if low > 0:
        return "helps"
    if high < 0:
        return "hurts"
    return "unclear"


def clip_interval(low: float, high: float, bounds: tuple[float, float] | None = None) -> tuple[float, float]:
    """(low, high) with each end clipped into `bounds` (e.g. (0, 1) for an accuracy, (-1, 1) for a difference
    of two accuracies); None leaves them as they are, and a nan end stays nan."""
    if bounds is None:
        return low, high
    return float(np.clip(low, *bounds)), float(np.clip(high, *bounds))


def fixed(value: float, digits: int = 3) -> str:
    """`value` to `digits` decimals, never '-0.00': a value that rounds to zero prints unsigned."""
    return f"{round(value, digits) + 0.0:.{digits}f}"


def format_interval(
    mean: float, low: float, high: float, digits: int = 3, bounds: tuple[float, float] | None = None
) -> str:
    """'mean [low, high]', the ends clipped into `bounds` when given; 'mean (no interval)' when an end is nan
    (`format_estimate` says why)."""
    if math.isnan(low) or math.isnan(high):
        return f"{fixed(mean, digits)} (no interval)"
    low, high = clip_interval(low, high, bounds)
    return f"{fixed(mean, digits)} [{fixed(low, digits)}, {fixed(high, digits)}]"


# ---------------------------------------------------------------------------
# t-based estimates.
# ---------------------------------------------------------------------------

NAN = float("nan")


@dataclass(frozen=True)
class Estimate:
    """A mean (or difference of means) with its t interval and two-sided p-value against 0.

    `n` is the number of values the estimate rests on (for a Welch comparison, both
    groups together), `df` the t degrees of freedom, `se` the standard error of `mean`,
    and `method` a short human label such as "paired t, 8 seeds". `zero_spread` marks an
    estimate whose values have no spread (within rounding): its `se` is nan and it has no
    interval or p-value, unless its mean is 0 (see `_t_estimate`).
    """

    mean: float
    low: float
    high: float
    p_value: float
    n: int
    df: float
    se: float
    method: str
    zero_spread: bool = False


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")


def _as_1d(values: Iterable[float], name: str) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {x.shape}")
    return x


def _seeds(n: int) -> str:
    return f"{n} seed" if n == 1 else f"{n} seeds"


# A spread at most this fraction of the largest |value| an estimate is computed from is rounding, not
# spread: 0.999 - 0.998 and 0.998 - 0.997 differ in their last bits, and a t statistic over that
# difference would be astronomically large.
SPREAD_RTOL = 64 * float(np.finfo(float).eps)


def _rounding(*arrays: np.ndarray) -> float:
    """The largest spread (or mean) that counts as 0 for values computed from `arrays` (nan if they hold nan)."""
    return SPREAD_RTOL * max(float(np.max(np.abs(a))) if a.size else 0.0 for a in arrays)


def _t_estimate(
    mean: float, se: float, df: float, n: int, level: float, method: str, flat: bool = False, tol: float = 0.0
) -> Estimate:
    """Interval mean ± t_{df,(1+level)/2}·se and the two-sided p of t = mean/se.

    Zero spread (`flat`, the values' spread within rounding `tol`, or se == 0) gives no t interval: the
    sample's spread is no estimate of the sampling error (two seeds that agree to the last digit say
    nothing about a third), and mean/se would be infinite, p = 0 and a certain Benjamini-Hochberg
    rejection. So, with `zero_spread` set:

    - mean != 0 (|mean| > tol): no interval, p, or se (all nan; df kept). Benjamini-Hochberg leaves the
      nan p out of the family (neither counted in m nor rejected) and a decision from the interval is
      'unclear'; print it as "no interval: zero spread over n seeds" (`no_interval_note`).
    - mean == 0 (|mean| <= tol, every value 0: e.g. two arms identical on every seed): the point
      interval [mean, mean] with se = 0 and p = 1. Nothing differs from 0, so no difference is shown
      (counted in m, never rejected), and the interval lies inside any margin: decidable 'equivalent'.

    Missing df or se (too few values, or nan in the data) gives nan interval and p.
    """
    if not (math.isfinite(mean) and math.isfinite(se) and math.isfinite(df) and df > 0):
        return Estimate(mean, NAN, NAN, NAN, n, df, se, method)
    if flat or se == 0:
        if abs(mean) <= tol:
            return Estimate(mean, mean, mean, 1.0, n, df, 0.0, f"{method}; zero spread, all 0", True)
        return Estimate(mean, NAN, NAN, NAN, n, df, NAN, f"{method}; zero spread, no interval", True)
    q = float(_st.t.ppf((1 + level) / 2, df))
    p = float(2 * _st.t.sf(abs(mean / se), df))
    return Estimate(mean, mean - q * se, mean + q * se, min(p, 1.0), n, df, se, method)


def t_interval(values: Iterable[float], level: float = 0.95) -> Estimate:
    """One-sample Student t interval of the mean; p from the two-sided one-sample t test of mean 0.

    se = sd(ddof=1)/sqrt(n), df = n - 1. With fewer than 2 values, low/high/p/se/df are nan
    (the mean is nan for no values); a nan among the values makes everything nan. Values that
    all agree have no interval (nan) unless they are all 0 ([0, 0], p = 1): see `_t_estimate`.
    """
    _check_level(level)
    x = _as_1d(values, "values")
    return _one_sample(x, level, f"one-sample t, {_seeds(x.size)}", _rounding(x))


def _one_sample(x: np.ndarray, level: float, method: str, tol: float) -> Estimate:
    n = int(x.size)
    mean = float(x.mean()) if n else NAN
    if n < 2:
        return Estimate(mean, NAN, NAN, NAN, n, NAN, NAN, method)
    sd = float(x.std(ddof=1))
    return _t_estimate(mean, sd / math.sqrt(n), float(n - 1), n, level, method, sd <= tol, tol)


def _paired(a: Iterable[float], b: Iterable[float], names: tuple[str, str]) -> np.ndarray:
    x, y = _as_1d(a, names[0]), _as_1d(b, names[1])
    if x.size != y.size:
        raise ValueError(
            f"paired comparison needs equal lengths (one value per seed in each): "
            f"{names[0]} has {x.size}, {names[1]} has {y.size}"
        )
    return x - y


def paired_difference(a: Iterable[float], b: Iterable[float], level: float = 0.95) -> Estimate:
    """Mean of a - b, paired by index (e.g. seed): paired t interval and two-sided paired t test.

    Equivalent to `t_interval(a - b)`, except that a spread of the differences within the rounding
    of a and b counts as zero spread (no interval unless every difference is 0: see `_t_estimate`);
    raises ValueError when the lengths differ.
    """
    _check_level(level)
    x, y = _as_1d(a, "a"), _as_1d(b, "b")
    d = _paired(x, y, ("a", "b"))
    return _one_sample(d, level, f"paired t, {_seeds(d.size)}", _rounding(x, y))


def _welch(x: np.ndarray, y: np.ndarray, level: float, method: str, tol: float) -> Estimate:
    nx, ny = int(x.size), int(y.size)
    n = nx + ny
    mean = float(x.mean() - y.mean()) if nx and ny else NAN
    if nx < 2 or ny < 2:
        return Estimate(mean, NAN, NAN, NAN, n, NAN, NAN, method)
    vx, vy = float(x.var(ddof=1)) / nx, float(y.var(ddof=1)) / ny
    se = math.sqrt(vx + vy)
    denom = vx**2 / (nx - 1) + vy**2 / (ny - 1)
    # Welch-Satterthwaite; with no spread in either group (0/0) fall back to the pooled df.
    df = (vx + vy) ** 2 / denom if denom > 0 else float(nx + ny - 2)
    flat = math.sqrt(vx * nx) <= tol and math.sqrt(vy * ny) <= tol  # neither group spreads
    return _t_estimate(mean, se, df, n, level, method, flat, tol)


def welch_difference(a: Iterable[float], b: Iterable[float], level: float = 0.95) -> Estimate:
    """mean(a) - mean(b) for independent groups: Welch t interval, Welch-Satterthwaite df, two-sided p.

    `n` is len(a) + len(b). Either group with fewer than 2 values gives nan interval and p; both
    groups without spread, no interval unless their means are equal (see `_t_estimate`).
    """
    _check_level(level)
    x, y = _as_1d(a, "a"), _as_1d(b, "b")
    return _welch(x, y, level, f"Welch t, {x.size} vs {y.size} seeds", _rounding(x, y))


ARMS = ("a_treated", "a_control", "b_treated", "b_control")


def difference_of_differences(
    a_treated: Iterable[float],
    a_control: Iterable[float],
    b_treated: Iterable[float],
    b_control: Iterable[float],
    level: float = 0.95,
) -> Estimate:
    """Interaction contrast: mean(a_treated - a_control) - mean(b_treated - b_control).

    Within each group the treated and control runs are paired by index (seed); the two
    sets of per-seed differences are independent and compared by Welch t. `n` is the
    number of per-seed differences in both groups together. Raises ValueError when a
    group's treated and control lengths differ. Both sets of differences without spread (within
    the rounding of the four arms) give no interval unless their means are equal (see `_t_estimate`).
    """
    _check_level(level)
    arms = [_as_1d(v, name) for v, name in zip((a_treated, a_control, b_treated, b_control), ARMS)]
    da = _paired(arms[0], arms[1], ARMS[:2])
    db = _paired(arms[2], arms[3], ARMS[2:])
    method = f"difference of paired differences, Welch t, {da.size} vs {db.size} seeds"
    return _welch(da, db, level, method, _rounding(*arms))


# ---------------------------------------------------------------------------
# Equivalence, multiplicity, verdicts.
# ---------------------------------------------------------------------------


def equivalence_p(estimate: Estimate, delta: float) -> float:
    """TOST p-value for |true difference| < delta, from the estimate's mean, se and df.

    The larger of the one-sided t-test p-values for H0: diff <= -delta (vs greater) and
    H0: diff >= delta (vs less). nan when se or df is nan (so for zero spread with a mean other
    than 0, whose se is nan); with se == 0 (zero spread, every value 0) 0.0, and nan for a
    hand-made estimate with se == 0 and a mean other than 0. delta must be positive.
    """
    if not delta > 0:
        raise ValueError(f"the equivalence margin delta must be positive, got {delta!r}")
    mean, se, df = estimate.mean, estimate.se, estimate.df
    if math.isnan(se) or math.isnan(mean):
        return NAN
    if se == 0:
        return 0.0 if mean == 0 else NAN
    if math.isnan(df):
        return NAN
    p_lower = float(_st.t.sf((mean + delta) / se, df))  # H0: diff <= -delta
    p_upper = float(_st.t.cdf((mean - delta) / se, df))  # H0: diff >= +delta
    return max(p_lower, p_upper)


def _prepare_p(p_values: Iterable[float]) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(p_values, dtype=float).reshape(-1)
    ok = ~np.isnan(p)
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        raise ValueError("p-values must lie in [0, 1] (or be nan)")
    return p, ok


def _adjusted(p_values: Iterable[float], adjust_sorted) -> np.ndarray:
    """Apply `adjust_sorted` (ascending p-values -> adjusted) to the non-nan p-values, in the input order."""
    p, ok = _prepare_p(p_values)
    out = np.full(p.shape, np.nan)
    q = p[ok]
    if q.size == 0:
        return out
    order = np.argsort(q, kind="stable")
    res = np.empty(q.size)
    res[order] = np.minimum(adjust_sorted(q[order]), 1.0)
    out[ok] = res
    return out


def holm(p_values: Iterable[float]) -> np.ndarray:
    """Holm step-down adjusted p-values, in the input order.

    Sorted ascending, the i-th (1-based) of m gets max over j <= i of (m - j + 1)·p_(j),
    capped at 1. nan inputs stay nan and do not count in m.
    """
    return _adjusted(p_values, lambda q: np.maximum.accumulate((q.size - np.arange(q.size)) * q))


def benjamini_hochberg(p_values: Iterable[float]) -> np.ndarray:
    """Benjamini-Hochberg (false discovery rate) adjusted p-values, in the input order.

    Sorted ascending, the i-th (1-based) of m gets min over j >= i of m·p_(j)/j, capped
    at 1. nan inputs stay nan and do not count in m.
    """
    return _adjusted(p_values, lambda q: np.minimum.accumulate((q * q.size / np.arange(1, q.size + 1))[::-1])[::-1])


def decide(p_difference_adj: float, p_equivalence_adj: float, mean: float, alpha: float = 0.05) -> str:
    """Verdict from adjusted p-values: 'equivalent' when the TOST is significant (the difference
    is smaller than delta, whether or not it is distinguishable from 0: a difference below the
    smallest one that matters does not count), else 'higher' / 'lower' when the difference is
    significant (direction from the sign of mean), else 'unclear'. nan p-values count as not
    significant.
    """
    if p_equivalence_adj < alpha:
        return "equivalent"
    if p_difference_adj < alpha and mean > 0:
        return "higher"
    if p_difference_adj < alpha and mean < 0:
        return "lower"
    return "unclear"


def no_interval_note(e: Estimate) -> str:
    """Why `e` has no usable t interval: 'no interval: zero spread over 2 seeds' (also for zero spread
    at 0, whose point interval [0, 0] is what decisions read but is no t interval), '1 seed, no
    interval', or 'no interval' (nan among the values); '' when it has one."""
    if e.zero_spread:
        return f"no interval: zero spread over {_seeds(e.n)}"
    if e.n < 2:
        return f"{_seeds(e.n)}, no interval"
    if math.isnan(e.low) or math.isnan(e.high):
        return "no interval"
    return ""


def format_estimate(e: Estimate, digits: int = 3, bounds: tuple[float, float] | None = None) -> str:
    """'mean [low, high]', e.g. '0.123 [0.050, 0.196]', the ends clipped into `bounds` when given; without
    an interval 'mean (why)', e.g. '0.496 (1 seed, no interval)' (`no_interval_note`). Zero spread at 0
    prints its point interval, '0.000 [0.000, 0.000]'."""
    if math.isnan(e.low) or math.isnan(e.high):
        return f"{e.mean:.{digits}f} ({no_interval_note(e) or 'no interval'})"
    return format_interval(e.mean, e.low, e.high, digits, bounds)
