"""lib.stats' vectorised Wilson intervals give scipy.stats.binomtest's Wilson interval exactly.

The per-SKU and per-segment tables compute thousands of intervals at once with scipy's closed
form instead of calling binomtest per row (docs/performance.md); the two must agree.
"""

from __future__ import annotations

import math

import pandas as pd
from scipy.stats import binomtest

from lib.stats import proportion_interval, proportion_intervals

CASES = [(0, 0), (0, 1), (1, 1), (0, 7), (3, 7), (7, 7), (1, 200), (199, 200), (12, 4207)]
CASES += [(k, n) for n in (2, 9, 50, 1234, 10**6) for k in (1, n // 3, n // 2, n - 1)]


def _scipy_wilson(k: int, n: int) -> tuple[float, float]:
    if n == 0:
        return math.nan, math.nan
    interval = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return interval.low, interval.high


def test_vectorised_intervals_equal_scipy_binomtest() -> None:
    successes = pd.Series([k for k, _ in CASES])
    trials = pd.Series([n for _, n in CASES])
    low, high = proportion_intervals(successes, trials)
    for (k, n), lo, hi in zip(CASES, low, high, strict=True):
        want_lo, want_hi = _scipy_wilson(k, n)
        assert (lo, hi) == proportion_interval(k, n) or n == 0
        if n == 0:
            assert math.isnan(lo) and math.isnan(hi) and math.isnan(want_lo)
        else:
            assert math.isclose(lo, want_lo, rel_tol=1e-12, abs_tol=1e-15), (k, n)
            assert math.isclose(hi, want_hi, rel_tol=1e-12, abs_tol=1e-15), (k, n)


def test_undefined_rates_have_no_interval() -> None:
    # more clicks than impressions (bad data), negative counts, no trials
    low, high = proportion_intervals([5, -1, 0, 2], [3, 4, 0, 4])
    assert all(math.isnan(x) for x in low[:3] + high[:3])
    assert 0 < low[3] < 0.5 < high[3] < 1
    assert proportion_intervals([], []) == ([], [])
