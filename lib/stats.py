"""Statistics shared by the metrics: confidence intervals and tests for proportions (scipy)."""

from __future__ import annotations

import math

from scipy import stats

CONFIDENCE = 0.95


def proportion_interval(
    successes: int, trials: int, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Wilson score interval for ``successes / trials`` (NaNs when there are no trials).

    Wilson rather than the normal approximation because rates here are often near 0 (CTR) and
    samples per segment can be small.
    """
    if trials <= 0:
        return math.nan, math.nan
    interval = stats.binomtest(int(successes), int(trials)).proportion_ci(
        confidence_level=confidence, method="wilson"
    )
    return float(interval.low), float(interval.high)


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
