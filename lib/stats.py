"""Statistics shared by the metrics: intervals and tests of proportions and of changes (scipy)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.special import ndtri

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE  # a difference is significant at p < ALPHA (intervals exclude it)


def proportion_intervals(
    successes: Sequence[int] | np.ndarray,
    trials: Sequence[int] | np.ndarray,
    confidence: float = CONFIDENCE,
) -> tuple[list[float], list[float]]:
    """Wilson score intervals of ``successes[i] / trials[i]``, a whole column at once.

    Wilson rather than the normal approximation because rates here are often near 0 (CTR) and
    samples per segment can be small. NaNs where the rate is undefined: no trials, or successes
    outside ``0..trials`` (bad data, e.g. more clicks than impressions).

    This is the closed form scipy uses for ``binomtest(k, n).proportion_ci(method="wilson")``
    (no continuity correction) with the operations in the same order, so the numbers are
    identical (tests/test_intervals.py); ``binomtest`` itself first works out an exact p-value
    by a search, 3 s for the 4,000 SKUs of 10M events.
    """
    k = np.asarray(successes, dtype="int64")
    n = np.asarray(trials, dtype="int64")
    z = float(ndtri(0.5 + 0.5 * confidence))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denom = 2 * (n + z**2)
        center = (2 * n * p + z**2) / denom
        q = 1 - p
        delta = z / denom * np.sqrt(4 * n * p * q + z**2)
        low = np.where(k == 0, 0.0, center - delta)
        high = np.where(k == n, 1.0, center + delta)
    undefined = (n <= 0) | (k < 0) | (k > n)
    low[undefined], high[undefined] = np.nan, np.nan
    return low.tolist(), high.tolist()


def proportion_interval(
    successes: int, trials: int, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """The Wilson interval of one proportion (see :func:`proportion_intervals`)."""
    low, high = proportion_intervals([successes], [trials], confidence)
    return low[0], high[0]


def two_proportion_pvalue(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int
) -> float:
    """Two-sided p-value that two proportions differ (Pearson chi-square on the 2×2 table).

    Without continuity correction this equals the pooled two-proportion z-test. NaN when either
    group is empty or nobody in either group succeeded or failed (the test is undefined).
    """
    if trials_a <= 0 or trials_b <= 0:
        return math.nan
    table = [
        [successes_a, trials_a - successes_a],
        [successes_b, trials_b - successes_b],
    ]
    if min(sum(col) for col in zip(*table, strict=True)) == 0:
        return math.nan
    return float(stats.chi2_contingency(table, correction=False).pvalue)


# --------------------------------------------------------------------------------------------
# Relative changes between two periods: value / previous − 1, with an interval and a p-value.
# Both work on the log of the ratio, so the interval excludes no change exactly when p < 1 − the
# confidence (one statistic for both; a pooled test next to a ratio interval can disagree).


@dataclass(frozen=True)
class Proportion:
    """``successes`` of ``trials`` (buyers of visitors, retained of a cohort)."""

    successes: int
    trials: int


@dataclass(frozen=True)
class Mean:
    """The mean, variance (ddof 1) and count of independent observations (days, orders)."""

    mean: float
    variance: float
    count: int

    @classmethod
    def of(cls, values: Sequence[float] | np.ndarray) -> Mean:
        """The summary of ``values``, NaNs left out."""
        array = np.asarray(values, dtype="float64")
        array = array[~np.isnan(array)]
        variance = float(array.var(ddof=1)) if array.size > 1 else math.nan
        return cls(float(array.mean()) if array.size else math.nan, variance, int(array.size))


@dataclass(frozen=True)
class Change:
    """A relative change ``value / previous − 1`` with its interval and two-sided p-value."""

    change: float
    low: float
    high: float
    p_value: float


UNDEFINED = Change(math.nan, math.nan, math.nan, math.nan)


def _change(log_ratio: float, se: float, quantile: float, p_value: float) -> Change:
    return Change(
        math.expm1(log_ratio),
        math.expm1(log_ratio - quantile * se),
        math.expm1(log_ratio + quantile * se),
        p_value,
    )


def proportion_change(
    current: Proportion, previous: Proportion, confidence: float = CONFIDENCE
) -> Change:
    """The relative change of two proportions (the ratio's log interval, Katz et al. 1978).

    ``se(log p1/p0) = sqrt(1/k1 − 1/n1 + 1/k0 − 1/n0)``; the p-value is the Wald test of the log
    ratio. Undefined (NaN) without a success in either period, or with successes outside
    ``0..trials``.
    """
    k1, n1, k0, n0 = current.successes, current.trials, previous.successes, previous.trials
    if min(k1, k0) <= 0 or k1 > n1 or k0 > n0:
        return UNDEFINED
    log_ratio = math.log((k1 / n1) / (k0 / n0))
    se = math.sqrt(max(1 / k1 - 1 / n1 + 1 / k0 - 1 / n0, 0.0))
    if se == 0:
        return UNDEFINED  # every trial succeeded in both periods: nothing to test
    z = float(ndtri(0.5 + 0.5 * confidence))
    return _change(log_ratio, se, z, float(2 * stats.norm.sf(abs(log_ratio) / se)))


def mean_change(current: Mean, previous: Mean, confidence: float = CONFIDENCE) -> Change:
    """The relative change of two means (delta method on the log ratio, Welch's degrees of freedom).

    ``var(log m1/m0) ≈ s1²/(n1·m1²) + s0²/(n0·m0²)``; the interval and p-value use Student's t
    with the Welch–Satterthwaite degrees of freedom of those two terms. A total over periods of
    equal length (GMV, orders) changes as its daily mean does. Undefined (NaN) with fewer than two
    observations in a period, a mean that is not positive, or no variation at all.
    """
    if min(current.count, previous.count) < 2 or not (current.mean > 0 and previous.mean > 0):
        return UNDEFINED
    terms = [s.variance / (s.count * s.mean**2) for s in (current, previous)]
    se = math.sqrt(sum(terms))
    if not se > 0:
        return UNDEFINED
    df = sum(terms) ** 2 / sum(
        t**2 / (s.count - 1) for t, s in zip(terms, (current, previous), strict=True)
    )
    log_ratio = math.log(current.mean / previous.mean)
    quantile = float(stats.t.ppf(0.5 + 0.5 * confidence, df))
    return _change(log_ratio, se, quantile, float(2 * stats.t.sf(abs(log_ratio) / se, df)))


def relative_change(
    current: Proportion | Mean | None, previous: Proportion | Mean | None
) -> Change:
    """:func:`proportion_change` or :func:`mean_change`, by the evidence's kind; else undefined."""
    if isinstance(current, Proportion) and isinstance(previous, Proportion):
        return proportion_change(current, previous)
    if isinstance(current, Mean) and isinstance(previous, Mean):
        return mean_change(current, previous)
    return UNDEFINED


# --------------------------------------------------------------------------------------------
# Labels above the noise: which side of a reference an interval lies on.


def interval_side(
    low: Sequence[float] | np.ndarray | float,
    high: Sequence[float] | np.ndarray | float,
    reference: Sequence[float] | np.ndarray | float,
) -> np.ndarray:
    """Where each interval ``[low, high]`` lies against ``reference`` (a number or one per
    interval): ``"above"`` when ``low > reference``, ``"below"`` when ``high < reference``,
    ``"within"`` when it contains the reference, ``""`` when any of the three is NaN.

    A 95% Wilson interval (:func:`proportion_intervals`) is the set of rates the score test does
    not reject at 5%, so ``above`` / ``below`` is a difference beyond the noise and ``within``
    one the data cannot tell from none. The reference is taken as known (a median, a pooled
    rate): its own noise is not added.
    """
    lo, hi, ref = np.broadcast_arrays(
        np.asarray(low, dtype="float64"),
        np.asarray(high, dtype="float64"),
        np.asarray(reference, dtype="float64"),
    )
    undefined = np.isnan(lo) | np.isnan(hi) | np.isnan(ref)
    side = np.select([undefined, lo > ref, hi < ref], ["", "above", "below"], default="within")
    return side.astype(object)
