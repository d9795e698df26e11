"""Question 1's rule (docs/preregistration.md, section 5): do the factors act on the IRNN as on the LSTM?

Judged per task on the normalised gain of each factor (a strategy against baseline, a trick against none)
for each model: per seed, (treated - control) / headroom, where headroom is 1 minus the control arm's mean
(at least HEADROOM_FLOOR). Each model's gain is decided within the task's family (Benjamini-Hochberg) from
the false-coverage-rate interval that is printed (`decide_by_interval`); the two decisions give the
factor's agreement, and the agreements the task's verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

from lte.study.analysis.stats import Estimate, benjamini_hochberg, paired_difference

ALPHA = 0.05
DELTA_GAIN = 0.2  # the smallest normalised gain that matters: a fifth of the control's headroom
HEADROOM_FLOOR = 0.01  # a control at the ceiling still has a defined (large) gain for a factor that hurts
MODELS = ("lstm", "irnn")
ACTS = {"higher": "helps", "lower": "hurts", "equivalent": "none", "unclear": "unclear", "rising": "unclear"}


def normalised_gain(treated: np.ndarray, control: np.ndarray) -> Estimate:
    """The paired normalised gain over seeds: (treated - control) / max(1 - mean(control), HEADROOM_FLOOR)."""
    treated, control = np.asarray(treated, float), np.asarray(control, float)
    headroom = max(1.0 - float(control.mean()), HEADROOM_FLOOR)
    return paired_difference(treated / headroom, control / headroom)


def fcr_interval(estimate: Estimate, level: float) -> tuple[float, float]:
    """The estimate's t interval at `level` (from its mean, standard error and degrees of freedom)."""
    if not (math.isfinite(estimate.se) and math.isfinite(estimate.df) and estimate.df > 0):
        return float("nan"), float("nan")
    q = float(_st.t.ppf((1 + level) / 2, estimate.df)) if estimate.se > 0 else 0.0
    return estimate.mean - q * estimate.se, estimate.mean + q * estimate.se


def fcr_level(p_values: list[float], alpha: float = ALPHA) -> float:
    """Benjamini-Yekutieli's false-coverage-rate level for a family: 1 - alpha * R / m, with R the tests that
    Benjamini-Hochberg rejects at `alpha` (1 when none) and m the family's tests with a p-value."""
    adjusted = benjamini_hochberg(p_values)
    m = int(np.sum(~np.isnan(adjusted)))
    rejected = int(np.sum(adjusted < alpha))
    return 1.0 - alpha * max(rejected, 1) / max(m, 1)


def decide_by_interval(low: float, high: float, delta: float) -> str:
    """'equivalent' when the interval lies inside +-delta (a difference below the smallest that matters does
    not count, even if distinguishable from 0), else 'higher' / 'lower' when it lies above / below 0, else
    'unclear' (also for an undefined interval)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return "unclear"
    if -delta < low and high < delta:
        return "equivalent"
    if low > 0:
        return "higher"
    if high < 0:
        return "lower"
    return "unclear"


def leave_one_out_acts(treated: np.ndarray, control: np.ndarray, level: float) -> list[str]:
    """The act read from the gain's interval (at the family's `level`) with each seed left out in turn: how
    much one seed carries a decision."""
    acts = []
    for i in range(len(treated)):
        keep = np.arange(len(treated)) != i
        estimate = normalised_gain(treated[keep], control[keep])
        acts.append(ACTS[decide_by_interval(*fcr_interval(estimate, level), DELTA_GAIN)])
    return acts


def agreement(lstm: str, irnn: str) -> str:
    """'same', 'differs' or 'unclear' from the two models' acts ('helps', 'hurts', 'none', 'unclear')."""
    if "unclear" in (lstm, irnn):
        return "unclear"
    return "same" if lstm == irnn else "differs"


@dataclass
class FactorResult:
    factor: str
    model: str
    estimate: Estimate
    low: float = float("nan")
    high: float = float("nan")
    decision: str = "unclear"
    rising: bool = False

    @property
    def act(self) -> str:
        return ACTS["rising" if self.rising else self.decision]


def judge_task(
    arms: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]], rising: set[tuple[str, str]] = frozenset()
) -> dict:
    """Question 1's verdict on one task.

    `arms[(model, factor)]` holds (treated, control) test accuracies paired by seed; `rising` the
    (model, factor) pairs with a rising cell among their two arms (undecided). Returns the factor results,
    each factor's agreement, and the verdict: 'untestable' (no factor helps or hurts the LSTM), 'yes' (every
    factor acting on either model acts alike), 'no' (one differs) or 'unclear'.
    """
    results = [
        FactorResult(factor, model, normalised_gain(*arms[(model, factor)]), rising=(model, factor) in rising)
        for (model, factor) in sorted(arms)
    ]
    level = fcr_level([r.estimate.p_value for r in results])
    for r in results:
        r.low, r.high = fcr_interval(r.estimate, level)
        r.decision = decide_by_interval(r.low, r.high, DELTA_GAIN)
    acts = {(r.model, r.factor): r.act for r in results}
    factors = sorted({factor for _, factor in arms})
    agreements = {f: agreement(acts.get(("lstm", f), "unclear"), acts.get(("irnn", f), "unclear")) for f in factors}
    acting = [
        f
        for f in factors
        if "helps" in (acts.get(("lstm", f)), acts.get(("irnn", f)))
        or "hurts" in (acts.get(("lstm", f)), acts.get(("irnn", f)))
    ]
    if not any(acts.get(("lstm", f)) in ("helps", "hurts") for f in factors):
        # nothing acts on the LSTM; unknown rather than untestable while one of its cells still rises
        verdict = "unclear" if any(model == "lstm" for model, _ in rising) else "untestable"
    elif any(agreements[f] == "differs" for f in factors):
        verdict = "no"
    elif all(agreements[f] == "same" for f in acting):
        verdict = "yes"
    else:
        verdict = "unclear"
    # how many single seeds, left out, change a differing factor's agreement (the verdict 'no' rests on those)
    fragility = {}
    for f in factors:
        if agreements[f] != "differs":
            continue
        turned = 0
        for model in MODELS:
            other = acts[("irnn" if model == "lstm" else "lstm", f)]
            loo = leave_one_out_acts(*arms[(model, f)], level)
            turned += sum(agreement(a, other) != "differs" for a in loo)
        fragility[f] = turned
    return {
        "results": results,
        "level": level,
        "agreements": agreements,
        "verdict": verdict,
        "fragility": fragility,
    }
