"""Statistics shared by the metrics: confidence intervals and tests for proportions (scipy)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats
from scipy.special import ndtri

CONFIDENCE = 0.95


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
