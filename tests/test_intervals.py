"""The vectorised Wilson intervals of lib/funnel.py give lib.stats.proportion_interval's numbers.

funnel computes the intervals of thousands of SKUs at once with scipy's closed form instead of
calling scipy.stats.binomtest per row (docs/performance.md); the two must agree exactly.
"""

from __future__ import annotations

import math

import pandas as pd

from lib import funnel
from lib.stats import proportion_interval

CASES = [(0, 0), (0, 1), (1, 1), (0, 7), (3, 7), (7, 7), (1, 200), (199, 200), (12, 4207)]
CASES += [(k, n) for n in (2, 9, 50, 1234, 10**6) for k in (1, n // 3, n // 2, n - 1)]


def test_vectorised_intervals_equal_proportion_interval() -> None:
    successes = pd.Series([k for k, _ in CASES])
    trials = pd.Series([n for _, n in CASES])
    low, high = funnel._intervals(successes, trials)
    for (k, n), lo, hi in zip(CASES, low, high, strict=True):
        want_lo, want_hi = proportion_interval(k, n)
        if n == 0:
            assert math.isnan(lo) and math.isnan(hi) and math.isnan(want_lo)
        else:
            assert math.isclose(lo, want_lo, rel_tol=1e-12, abs_tol=1e-15), (k, n)
            assert math.isclose(hi, want_hi, rel_tol=1e-12, abs_tol=1e-15), (k, n)
