"""A/B tests (lib/experiments.py), worked out by hand on tiny assignments and orders.

Unless a test says otherwise the period is 2025-03-10..16 in UTC and every user is assigned at
2025-03-10 12:00 UTC, so the outcome window is (03-10 12:00, 03-17 00:00) and the CUPED window
(14 days) is [02-24 12:00, 03-10 12:00].
"""

from __future__ import annotations

import math

import ibis
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lib import experiments
from lib.periods import Period

from .conftest import orders_table

PERIOD = Period("2025-03-10", "2025-03-16", "UTC")
ASSIGNED = "2025-03-10 12:00:00"
PAID = "2025-03-11 10:00:00"
Z = 1.959963984540054  # the normal 97.5 % quantile


def experiments_table(rows: list[tuple]) -> ibis.Table:
    """Assignments from ``(user_id, experiment, variant, assigned_time)``."""
    frame = pd.DataFrame(rows, columns=["user_id", "experiment", "variant", "assigned_time"])
    frame["assigned_time"] = pd.to_datetime(frame["assigned_time"], format="ISO8601")
    schema = {
        "user_id": "string",
        "experiment": "string",
        "variant": "string",
        "assigned_time": "timestamp",
    }
    return ibis.memtable(frame, schema=schema)


def group(prefix: str, variant: str, n: int, experiment: str = "exp") -> list[tuple]:
    return [(f"{prefix}{i}", experiment, variant, ASSIGNED) for i in range(n)]


def paid(users: list[str], amount: float = 10.0, when: str = PAID) -> list[tuple]:
    return [(f"o-{u}-{when}", u, when, when, "paid", amount) for u in users]


def row(table: pd.DataFrame, variant: str, metric: str) -> pd.Series:
    found = table[(table["variant"] == variant) & (table["metric"] == metric)]
    assert len(found) == 1
    return found.iloc[0]


# --------------------------------------------------------------------------------------------
# A 2×2 table of conversions
#
# control: 10 users, c0 and c1 convert (p0 = 0.2); treatment: 10 users, t0..t4 convert (p1 = 0.5),
# every order worth 10.
#
# Per-user 0/1 values have sample variance s² = n/(n−1)·p(1−p), so se² = s²/n = p(1−p)/(n−1):
#   se0² = 0.16/9, se1² = 0.25/9, se² = 0.41/9 = 0.0455556, se = 0.2134375
#   diff = 0.3, t = 0.3/se = 1.405564
#   Welch df = se⁴ / (se0⁴/9 + se1⁴/9) = 0.41²·9 / (0.16² + 0.25²) = 1.5129/0.0881 = 17.172531
#   (t table: t₀.₉₇₅(17.17) = 2.108202)  CI = 0.3 ± 2.108202·0.2134375 = [−0.149969, 0.749969]
#   p = 2·P(T₁₇.₁₇ > 1.405564) = 0.177688
#   lift = 0.5/0.2 − 1 = 1.5; var = se1²/p0² + p1²·se0²/p0⁴ = (0.25/9)/0.04 + 0.25·(0.16/9)/0.0016
#        = 0.694444 + 2.777778 = 3.472222, se 1.863390, interval 1.5 ± 1.959964·1.863390
# Revenue per user is 10 × conversion: diff 3, CI × 10, the same p. AOV is 10 in both.

TWO_BY_TWO = experiments_table(group("c", "control", 10) + group("t", "treatment", 10))
TWO_BY_TWO_ORDERS = orders_table(paid(["c0", "c1", "t0", "t1", "t2", "t3", "t4"]))


def test_two_by_two_conversion_by_hand():
    table = experiments.experiment_results(TWO_BY_TWO, TWO_BY_TWO_ORDERS, PERIOD)
    assert list(table.columns[:12]) == [
        "experiment",
        "variant",
        "users",
        "metric",
        "value",
        "diff",
        "ci_low",
        "ci_high",
        "p_value",
        "lift",
        "cuped",
        "srm_p_value",
    ]
    # the control's rows first, metrics in their fixed order
    assert list(zip(table["variant"], table["metric"], strict=True)) == [
        ("control", "conversion"),
        ("control", "revenue_per_user"),
        ("control", "aov"),
        ("treatment", "conversion"),
        ("treatment", "revenue_per_user"),
        ("treatment", "aov"),
    ]
    control = row(table, "control", "conversion")
    assert control["users"] == 10 and control["value"] == pytest.approx(0.2)
    assert math.isnan(control["diff"]) and control["verdict"] == "control"
    conv = row(table, "treatment", "conversion")
    assert conv["users"] == 10 and conv["value"] == pytest.approx(0.5)
    assert conv["diff"] == pytest.approx(0.3)
    assert conv["ci_low"] == pytest.approx(-0.149969, abs=1e-6)
    assert conv["ci_high"] == pytest.approx(0.749969, abs=1e-6)
    assert conv["p_value"] == pytest.approx(0.177688, abs=1e-6)
    assert conv["lift"] == pytest.approx(1.5)
    assert conv["lift_low"] == pytest.approx(1.5 - Z * 1.863390, abs=1e-5)
    assert conv["lift_high"] == pytest.approx(1.5 + Z * 1.863390, abs=1e-5)
    assert conv["verdict"] == "no detectable difference"
    # 10 vs 10 on a planned 50/50: χ² = 0, p = 1
    assert conv["srm_p_value"] == pytest.approx(1.0) and conv["srm_ok"]
    revenue = row(table, "treatment", "revenue_per_user")
    assert revenue["value"] == pytest.approx(5.0) and revenue["diff"] == pytest.approx(3.0)
    assert revenue["ci_low"] == pytest.approx(-1.49969, abs=1e-5)
    assert revenue["ci_high"] == pytest.approx(7.49969, abs=1e-5)
    assert revenue["p_value"] == pytest.approx(0.177688, abs=1e-6)
    aov = row(table, "treatment", "aov")
    # every order is 10: no variation, the test is undefined
    assert aov["value"] == pytest.approx(10.0) and aov["diff"] == pytest.approx(0.0)
    assert math.isnan(aov["p_value"]) and aov["verdict"] == "undefined"
    # nobody bought in the 14 days before: θ = 0 and CUPED changes nothing
    assert conv["theta"] == 0.0 and conv["cuped_diff"] == pytest.approx(0.3)
    assert conv["diff_variance_reduction"] == pytest.approx(0.0)


def test_two_by_two_matches_scipy_welch():
    """The same test as scipy.stats.ttest_ind(equal_var=False) on the per-user values."""
    table = experiments.experiment_results(TWO_BY_TWO, TWO_BY_TWO_ORDERS, PERIOD)
    treatment = np.array([10.0] * 5 + [0.0] * 5)
    control = np.array([10.0] * 2 + [0.0] * 8)
    result = stats.ttest_ind(treatment, control, equal_var=False)
    interval = result.confidence_interval(0.95)
    revenue = row(table, "treatment", "revenue_per_user")
    assert revenue["p_value"] == pytest.approx(result.pvalue, rel=1e-12)
    assert revenue["ci_low"] == pytest.approx(interval.low, rel=1e-12)
    assert revenue["ci_high"] == pytest.approx(interval.high, rel=1e-12)


# --------------------------------------------------------------------------------------------
# Average order value by the delta method
#
# control: a pays 10 and 40 (2 orders, 50), b pays 30, c and d nothing: R0 = 80/3.
#   Y − R0·X = 50 − 160/3 = −10/3, 30 − 80/3 = 10/3, 0, 0: var = (200/9)/3 = 200/27
#   V0 = var / (n · mean(X)²) = (200/27) / (4 · 9/16) = 800/243
# treatment: e pays 20, f pays 60, g and h nothing: R1 = 40.
#   Y − R1·X = −20, 20, 0, 0: var = 800/3, V1 = (800/3) / (4 · 1/4) = 800/3
# diff = 40 − 80/3 = 40/3, se = √(800/3 + 800/243) = √(65600/243) = 16.430424,
# z = 0.811503, p = 2·(1 − Φ(0.811503)) = 0.417077 (normal), CI = 40/3 ± 1.959964·se.
# Revenue per user: control (50, 30, 0, 0) mean 20 var 600, treatment (20, 60, 0, 0) mean 20
# var 800: diff 0, se² = 600/4 + 800/4 = 350, Welch df = 350²/((150² + 200²)/3) = 5.88, p = 1.
# Conversion: 2 of 4 in both, diff 0.


def test_aov_by_the_delta_method():
    assignments = experiments_table(
        [(u, "exp", "control", ASSIGNED) for u in "abcd"]
        + [(u, "exp", "treatment", ASSIGNED) for u in "efgh"]
    )
    orders = orders_table(
        paid(["a"], 10.0)
        + paid(["a"], 40.0, "2025-03-12 10:00:00")
        + paid(["b"], 30.0)
        + paid(["e"], 20.0)
        + paid(["f"], 60.0)
    )
    table = experiments.experiment_results(assignments, orders, PERIOD)
    aov = row(table, "treatment", "aov")
    assert row(table, "control", "aov")["value"] == pytest.approx(80 / 3)
    assert aov["value"] == pytest.approx(40.0)
    se = math.sqrt(65600 / 243)
    assert se == pytest.approx(16.430424, abs=1e-6)
    assert aov["diff"] == pytest.approx(40 / 3)
    assert aov["ci_low"] == pytest.approx(40 / 3 - Z * se)
    assert aov["ci_high"] == pytest.approx(40 / 3 + Z * se)
    assert aov["p_value"] == pytest.approx(0.417077, abs=1e-6)
    # lift = 40/(80/3) − 1 = 0.5; var = V1/R0² + R1²·V0/R0⁴ = (800/3)/(6400/9) + 1600·(800/243)
    # /(80/3)⁴ = 0.375 + 0.0104167 = 0.3854167
    assert aov["lift"] == pytest.approx(0.5)
    assert aov["lift_high"] == pytest.approx(0.5 + Z * math.sqrt(0.3854167), abs=1e-6)
    revenue = row(table, "treatment", "revenue_per_user")
    assert revenue["value"] == pytest.approx(20.0) and revenue["diff"] == pytest.approx(0.0)
    assert revenue["ci_high"] == pytest.approx(stats.t.ppf(0.975, 5.88) * math.sqrt(350))
    assert revenue["p_value"] == pytest.approx(1.0)
    assert row(table, "treatment", "conversion")["diff"] == pytest.approx(0.0)


# --------------------------------------------------------------------------------------------
# Sample-ratio mismatch
#
# 600 control and 400 treatment users on a planned 50/50: expected 500 each,
# χ² = 100²/500 + 100²/500 = 40 with 1 degree of freedom, p = P(χ²₁ > 40) = erfc(√(40/2))
# = 2.5396e-10 < 0.001: the verdict is blocked. 30 of the control and 100 of the treatment
# users convert (5 % vs 25 %), far beyond noise, which SRM must still block. On a planned 60/40
# the counts are exactly as expected: χ² = 0, p = 1, and the difference is read.

SRM_ASSIGNED = experiments_table(group("c", "control", 600) + group("t", "treatment", 400))
SRM_ORDERS = orders_table(paid([f"c{i}" for i in range(30)] + [f"t{i}" for i in range(100)]))


def test_srm_blocks_the_verdict():
    table = experiments.experiment_results(SRM_ASSIGNED, SRM_ORDERS, PERIOD)
    conv = row(table, "treatment", "conversion")
    assert conv["users"] == 400 and row(table, "control", "conversion")["users"] == 600
    assert conv["srm_p_value"] == pytest.approx(math.erfc(math.sqrt(20)), rel=1e-9)
    assert conv["srm_p_value"] == pytest.approx(2.5396e-10, rel=1e-4)
    assert not conv["srm_ok"]
    assert conv["p_value"] < 1e-9  # the difference itself is clear…
    assert set(table.loc[table["variant"] == "treatment", "verdict"]) == {"blocked by SRM"}
    note = experiments.experiments_note(table)
    assert "sample-ratio mismatch" in note and "no verdict is read" in note
    assert "raised" not in note and "lowered" not in note


def test_srm_with_the_planned_split():
    table = experiments.experiment_results(
        SRM_ASSIGNED, SRM_ORDERS, PERIOD, planned_split={"control": 3, "treatment": 2}
    )
    conv = row(table, "treatment", "conversion")
    assert conv["srm_p_value"] == pytest.approx(1.0) and conv["srm_ok"]
    assert conv["verdict"] == "higher"
    # per experiment too
    nested = experiments.experiment_results(
        SRM_ASSIGNED, SRM_ORDERS, PERIOD, planned_split={"exp": {"control": 0.6, "treatment": 0.4}}
    )
    assert row(nested, "treatment", "conversion")["srm_p_value"] == pytest.approx(1.0)


def test_srm_check_table():
    table = experiments.srm_check(SRM_ASSIGNED, PERIOD)
    assert list(table["variant"]) == ["control", "treatment"]
    assert list(table["users"]) == [600, 400]
    assert list(table["expected"]) == [500.0, 500.0]
    assert table["srm_chi2"].tolist() == pytest.approx([40.0, 40.0])
    assert not table["srm_ok"].any()
    # a stricter threshold than the p-value lets it pass
    loose = experiments.srm_check(SRM_ASSIGNED, PERIOD, srm_alpha=1e-12)
    assert loose["srm_ok"].all()


def test_srm_test_with_an_empty_planned_variant():
    # planned 1:1:2, observed 10, 10, 0: expected 5, 5, 10,
    # χ² = 25/5 + 25/5 + 100/10 = 20 with 2 degrees of freedom, p = exp(−20/2) = 4.54e-5
    chi2, p = experiments.srm_test({"a": 10, "b": 10}, {"a": 0.25, "b": 0.25, "c": 0.5})
    assert chi2 == pytest.approx(20.0)
    assert p == pytest.approx(math.exp(-10))


def test_planned_split_must_name_every_variant():
    with pytest.raises(ValueError, match="treatment"):
        experiments.experiment_results(
            SRM_ASSIGNED, SRM_ORDERS, PERIOD, planned_split={"control": 1, "other": 1}
        )


# --------------------------------------------------------------------------------------------
# CUPED
#
# (X = revenue in the 14 days before assignment, Y = revenue after it)
#   control   c1 (0, 0)   c2 (10, 20)   c3 (10, 30)
#   treatment t1 (0, 10)  t2 (20, 30)   t3 (20, 40)
# with the edges: c1 paid 100 at 02-24 11:59:59 (14 days + 1 s before: not in X) and had a
# cancelled order after assignment (not in Y); c2's 10 was paid at exactly 02-24 12:00 (in X);
# c3's 30 is two orders 10 + 20; t1 paid 50 at 03-17 00:00 (after the period: not in Y); t3's
# X is one order paid at the very instant of assignment (before, not an outcome); t3 paid 40 at
# 03-16 23:59:59 (the last second of the period: in Y).
#
# Pooled: X̄ = 60/6 = 10, deviations −10, 0, 0, −10, 10, 10: Σdx² = 400,
#   Σdx·y = −10·0 + 0 + 0 − 10·10 + 10·30 + 10·40 = 600, θ = 600/400 = 1.5.
# Y − 1.5(X − 10): control 15, 20, 30 (mean 65/3); treatment 25, 15, 25 (mean 65/3).
#   The plain difference 80/3 − 50/3 = 10 came from the treatment's higher X: adjusted diff 0.
# Variances: Y control (0, 20, 30) 700/3, adjusted (15, 20, 30) 175/3: reduction 1 − 1/4 = 0.75;
#   Y treatment (10, 30, 40) 700/3, adjusted (25, 15, 25) 100/3: reduction 1 − 1/7 = 6/7;
#   of the difference: 1 − (175/9 + 100/9) / (700/9 + 700/9) = 1 − 275/1400 = 45/56.
#   adjusted se² = 275/9, Welch df = (275/9)² / (((175/9)² + (100/9)²)/2) = 75625·2/40625
#   = 3.723077, CI = 0 ± t₀.₉₇₅(3.723)·√(275/9), p = 1.
# Conversion (bought at all): X control 0, 1, 1, treatment 0, 1, 1; Y control 0, 1, 1, treatment
#   1, 1, 1. X̄ = 2/3, Σdx² = 4/3, Σdx·y = 2/3: θ = 1/2. X̄ is equal in both groups, so the
#   adjusted diff is the plain 1/3. Adjusted control (1/3, 5/6, 5/6) var 1/12 vs 1/3: reduction
#   0.75; the difference's se² goes from 1/9 (control 1/3 / 3, treatment 0) to 2·(1/12)/3 = 1/18:
#   reduction 0.5.

CUPED_ASSIGNED = experiments_table(
    [(u, "exp", "control", ASSIGNED) for u in ("c1", "c2", "c3")]
    + [(u, "exp", "treatment", ASSIGNED) for u in ("t1", "t2", "t3")]
)
CUPED_ORDERS = orders_table(
    [
        ("o1", "c1", "2025-02-24 11:50:00", "2025-02-24 11:59:59", "paid", 100.0),
        ("o2", "c1", "2025-03-11 00:00:00", "2025-03-11 00:00:00", "cancelled", 70.0),
        ("o3", "c2", "2025-02-24 11:55:00", "2025-02-24 12:00:00", "paid", 10.0),
        ("o4", "c2", "2025-03-12 00:00:00", "2025-03-12 00:00:00", "paid", 20.0),
        ("o5", "c3", "2025-03-01 00:00:00", "2025-03-01 00:00:00", "paid", 10.0),
        ("o6", "c3", "2025-03-12 00:00:00", "2025-03-12 00:00:00", "paid", 10.0),
        ("o7", "c3", "2025-03-13 00:00:00", "2025-03-13 00:00:00", "paid", 20.0),
        ("o8", "t1", "2025-03-11 00:00:00", "2025-03-11 00:00:00", "paid", 10.0),
        ("o9", "t1", "2025-03-17 00:00:00", "2025-03-17 00:00:00", "paid", 50.0),
        ("o10", "t2", "2025-03-05 00:00:00", "2025-03-05 00:00:00", "paid", 20.0),
        ("o11", "t2", "2025-03-12 00:00:00", "2025-03-12 00:00:00", "paid", 30.0),
        ("o12", "t3", "2025-03-10 11:59:00", "2025-03-10 12:00:00", "paid", 20.0),
        ("o13", "t3", "2025-03-16 23:50:00", "2025-03-16 23:59:59", "paid", 40.0),
    ]
)


def test_cuped_sums_in_the_engine():
    sums = experiments.experiment_sums(CUPED_ASSIGNED, CUPED_ORDERS, PERIOD).set_index("variant")
    control, treatment = sums.loc["control"], sums.loc["treatment"]
    assert (control["users"], control["converters"], control["orders"]) == (3, 2, 3)
    assert (treatment["users"], treatment["converters"], treatment["orders"]) == (3, 3, 3)
    # Y: control 0 + 20 + 30, treatment 10 + 30 + 40; Σ Y²: 0 + 400 + 900, 100 + 900 + 1600
    assert (control["revenue"], control["revenue_sq"]) == (50.0, 1300.0)
    assert (treatment["revenue"], treatment["revenue_sq"]) == (80.0, 2600.0)
    # X: control 0 + 10 + 10, treatment 0 + 20 + 20; Σ X·Y: 200 + 300, 600 + 800
    assert (control["pre_revenue"], control["revenue_pre"]) == (20.0, 500.0)
    assert (treatment["pre_revenue"], treatment["revenue_pre"]) == (40.0, 1400.0)
    assert (control["pre_converters"], treatment["pre_converters"]) == (2, 2)
    # Σ orders²: control c2 1 + c3 4 = 5; Σ revenue·orders: 20·1 + 30·2 = 80
    assert (control["orders_sq"], control["revenue_orders"]) == (5, 80.0)


def test_cuped_by_hand():
    table = experiments.experiment_results(CUPED_ASSIGNED, CUPED_ORDERS, PERIOD)
    control = row(table, "control", "revenue_per_user")
    treatment = row(table, "treatment", "revenue_per_user")
    assert control["value"] == pytest.approx(50 / 3)
    assert treatment["value"] == pytest.approx(80 / 3) and treatment["diff"] == pytest.approx(10)
    assert control["theta"] == pytest.approx(1.5) and treatment["theta"] == pytest.approx(1.5)
    assert control["cuped"] == pytest.approx(65 / 3)
    assert treatment["cuped"] == pytest.approx(65 / 3)
    assert treatment["cuped_diff"] == pytest.approx(0.0, abs=1e-9)
    assert control["variance_reduction"] == pytest.approx(0.75)
    assert treatment["variance_reduction"] == pytest.approx(6 / 7)
    assert treatment["diff_variance_reduction"] == pytest.approx(45 / 56)
    half = stats.t.ppf(0.975, 3.723077) * math.sqrt(275 / 9)
    assert treatment["cuped_ci_high"] == pytest.approx(half, rel=1e-6)
    assert treatment["cuped_ci_low"] == pytest.approx(-half, rel=1e-6)
    assert treatment["cuped_p_value"] == pytest.approx(1.0)
    conv = row(table, "treatment", "conversion")
    assert conv["theta"] == pytest.approx(0.5)
    assert conv["cuped_diff"] == pytest.approx(1 / 3)
    assert row(table, "control", "conversion")["variance_reduction"] == pytest.approx(0.75)
    assert conv["diff_variance_reduction"] == pytest.approx(0.5)
    # AOV has no CUPED
    assert math.isnan(row(table, "treatment", "aov")["cuped"])


def test_cuped_days_moves_the_window():
    # with 7 days only t2's 20 (03-05) and t3's 20 (at assignment) stay in X;
    # c2's 10 (02-24) and c3's 10 (03-01) drop out
    sums = experiments.experiment_sums(CUPED_ASSIGNED, CUPED_ORDERS, PERIOD, cuped_days=7)
    sums = sums.set_index("variant")
    assert sums.loc["control", "pre_revenue"] == 0.0
    assert sums.loc["treatment", "pre_revenue"] == 40.0
    with pytest.raises(ValueError, match="cuped_days"):
        experiments.experiment_sums(CUPED_ASSIGNED, CUPED_ORDERS, PERIOD, cuped_days=0)


# --------------------------------------------------------------------------------------------
# Windows and local days (Asia/Shanghai, UTC+8, period 2025-03-10..11 local)
#
#   u1 b assigned 03-09 16:00:00 UTC = 03-10 00:00 local: in; paid 03-11 15:59:59 UTC
#      (23:59:59 local, the last second): a conversion
#   u2 a assigned 03-09 15:59:59 UTC = 03-09 23:59:59 local: not in the period
#   u3 b assigned 03-11 15:59:59 UTC = 03-11 23:59:59 local: in; paid 03-11 16:00 UTC
#      (00:00 of the 12th local, after the period): not counted
#   u4 b assigned 03-11 16:00 UTC = 03-12 00:00 local: not in the period
#   u5 a assigned 03-10 02:00 UTC, paid 03-10 01:00 UTC, before assignment: no conversion (it is
#      in the CUPED window instead)
#   u6 a assigned 03-10 03:00 UTC, no order
# So a: u5, u6 (0 of 2 convert), b: u1, u3 (1 of 2).

SHANGHAI = Period("2025-03-10", "2025-03-11", "Asia/Shanghai")
TZ_ASSIGNED = experiments_table(
    [
        ("u1", "exp", "b", "2025-03-09 16:00:00"),
        ("u2", "exp", "a", "2025-03-09 15:59:59"),
        ("u3", "exp", "b", "2025-03-11 15:59:59"),
        ("u4", "exp", "b", "2025-03-11 16:00:00"),
        ("u5", "exp", "a", "2025-03-10 02:00:00"),
        ("u6", "exp", "a", "2025-03-10 03:00:00"),
    ]
)
TZ_ORDERS = orders_table(
    [
        ("o1", "u1", "2025-03-11 15:00:00", "2025-03-11 15:59:59", "paid", 30.0),
        ("o2", "u2", "2025-03-10 05:00:00", "2025-03-10 05:00:00", "paid", 30.0),
        ("o3", "u3", "2025-03-11 15:59:59", "2025-03-11 16:00:00", "paid", 30.0),
        ("o4", "u4", "2025-03-11 17:00:00", "2025-03-11 17:00:00", "paid", 30.0),
        ("o5", "u5", "2025-03-10 00:50:00", "2025-03-10 01:00:00", "paid", 30.0),
    ]
)


def test_local_days_and_outcome_windows():
    sums = experiments.experiment_sums(TZ_ASSIGNED, TZ_ORDERS, SHANGHAI).set_index("variant")
    a, b = sums.loc["a"], sums.loc["b"]
    assert (a["users"], a["converters"], a["revenue"]) == (2, 0, 0.0)
    assert (a["pre_converters"], a["pre_revenue"]) == (1, 30.0)  # u5's order before assignment
    assert (b["users"], b["converters"], b["orders"], b["revenue"]) == (2, 1, 1, 30.0)
    table = experiments.experiment_results(TZ_ASSIGNED, TZ_ORDERS, SHANGHAI)
    # no variant is called control: the first alphabetically is
    assert set(table["control"]) == {"a"}
    assert row(table, "a", "conversion")["value"] == 0.0
    assert row(table, "b", "conversion")["value"] == pytest.approx(0.5)
    assert row(table, "b", "revenue_per_user")["value"] == pytest.approx(15.0)


def test_control_choice():
    assignments = experiments_table(
        group("x", "alpha", 2) + group("y", "control", 2) + group("z", "beta", 2)
    )
    orders = orders_table(paid(["x0", "y0", "z0"]))
    table = experiments.experiment_results(assignments, orders, PERIOD)
    assert set(table["control"]) == {"control"}
    assert list(table["variant"].drop_duplicates()) == ["control", "alpha", "beta"]
    chosen = experiments.experiment_results(assignments, orders, PERIOD, control_variant="beta")
    assert list(chosen["variant"].drop_duplicates()) == ["beta", "alpha", "control"]
    per_experiment = experiments.experiment_results(
        assignments, orders, PERIOD, control_variant={"exp": "alpha"}
    )
    assert set(per_experiment["control"]) == {"alpha"}
    with pytest.raises(ValueError, match="control_variant='gamma'"):
        experiments.experiment_results(assignments, orders, PERIOD, control_variant="gamma")


def test_no_assignment_in_the_period():
    later = Period("2025-04-01", "2025-04-02", "UTC")
    table = experiments.experiment_results(TWO_BY_TWO, TWO_BY_TWO_ORDERS, later)
    assert table.empty and list(table.columns[:3]) == ["experiment", "variant", "users"]
    assert experiments.experiments_note(table) == (
        "No user was assigned to an experiment in the period."
    )


# --------------------------------------------------------------------------------------------
# Power and the note


def test_required_sample_size_by_hand():
    # p0 = 0.10, p1 = 0.12 (+20 % relative), p̄ = 0.11:
    # √(2·0.11·0.89) = 0.442493, √(0.09 + 0.1056) = 0.442267,
    # (1.959964·0.442493 + 0.841621·0.442267)² / 0.02² = 1.239487² / 0.0004 = 3840.8 → 3841
    assert experiments.required_sample_size(0.10, 0.20) == 3841
    # p0 = 0.5, p1 = 0.6 (absolute): p̄ = 0.55, √0.495 = 0.703562, √0.49 = 0.7,
    # (1.959964·0.703562 + 0.841621·0.7)² / 0.01 = 1.968091² / 0.01 = 387.3 → 388
    assert experiments.required_sample_size(0.5, 0.1, relative=False) == 388
    with pytest.raises(ValueError, match="mde"):
        experiments.required_sample_size(0.5, 1.5)
    with pytest.raises(ValueError, match="baseline_rate"):
        experiments.required_sample_size(0.0, 0.1)


def test_note_reads_directions_from_the_table():
    # 30/600 = 5 % vs 100/400 = 25 % on the planned 60/40: significant and SRM passes
    table = experiments.experiment_results(
        SRM_ASSIGNED, SRM_ORDERS, PERIOD, planned_split={"control": 0.6, "treatment": 0.4}
    )
    note = experiments.experiments_note(table)
    assert "treatment raised conversion from 5.00% to 25.00%: +20.00 pp" in note
    assert "+400.0% relative" in note
    # A 10 % relative change from 5 %: p1 = 0.055, p̄ = 0.0525,
    # (1.959964·√(2·0.0525·0.9475) + 0.841621·√(0.0475 + 0.051975))² / 0.005²
    # = (1.959964·0.315416 + 0.841621·0.315396)² / 0.000025 = 0.883654² / 0.000025 ≈ 31233.4 → 31234
    assert "needs 31,234 users per group; the smallest group has 400" in note
    assert "below its planned size" in note
    # not significant (the 2×2 case): no direction, the interval instead
    quiet = experiments.experiments_note(
        experiments.experiment_results(TWO_BY_TWO, TWO_BY_TWO_ORDERS, PERIOD)
    )
    assert "no detectable difference in conversion (50.00% vs 20.00%" in quiet
    assert "95% CI -15.00 pp to +75.00 pp" in quiet
    assert "raised" not in quiet and "lowered" not in quiet


def test_note_says_when_the_size_is_reached():
    # 2 % vs 2 % (20 of 1,000 each) with a 100 % relative mde: p1 = 0.04, p̄ = 0.03,
    # (1.959964·√0.0582 + 0.841621·√(0.0196 + 0.0384))² / 0.02² = (0.472836 + 0.202690)²/0.0004
    # = 1140.8 → 1141 users per group, and each group has 1,000: not yet
    assignments = experiments_table(group("c", "control", 1000) + group("t", "treatment", 1000))
    orders = orders_table(paid([f"c{i}" for i in range(20)] + [f"t{i}" for i in range(20)]))
    table = experiments.experiment_results(assignments, orders, PERIOD)
    assert "needs 1,141 users per group" in experiments.experiments_note(table, mde=1.0)
    # a 150 % change from 2 % (to 5 %): p̄ = 0.035, (1.959964·√0.06755 + 0.841621·√(0.0196 +
    # 0.0475))² / 0.03² = (0.509402 + 0.218011)² / 0.0009 = 587.9 → 588 ≤ 1,000: reached
    note = experiments.experiments_note(table, mde=1.5)
    assert "needs 588 users per group; the smallest group has 1,000, so the test has reached" in (
        note
    )


def test_too_few_users_or_one_variant():
    # one user per variant: no sample variance, so no test (but the difference 0 − 1 is shown)
    one_each = experiments_table(group("c", "control", 1) + group("t", "treatment", 1))
    table = experiments.experiment_results(one_each, orders_table(paid(["c0"])), PERIOD)
    conv = row(table, "treatment", "conversion")
    assert conv["diff"] == pytest.approx(-1.0) and math.isnan(conv["p_value"])
    assert conv["verdict"] == "undefined"
    assert math.isnan(row(table, "treatment", "aov")["value"])  # no order in treatment
    note = experiments.experiments_note(table)
    assert "treatment: conversion cannot be tested (0.00% vs 100.00% in control" in note
    assert "average order value cannot be tested (n/a vs 10.00" in note
    # a single variant: its own control, no SRM test (p NaN does not block), nothing to compare
    alone = experiments_table(group("c", "only", 3))
    table = experiments.experiment_results(alone, orders_table(paid(["c0"])), PERIOD)
    assert set(table["verdict"]) == {"control"} and table["srm_ok"].all()
    assert "one variant (only), so there is nothing to compare" in (
        experiments.experiments_note(table)
    )


def test_lift_rows_label_each_variant_with_its_interval():
    results = pd.DataFrame(
        {
            "experiment": ["e", "e", "e", "e"],
            "variant": ["control", "b", "control", "b"],
            "metric": ["conversion", "conversion", "aov", "aov"],
            "lift": [np.nan, 0.25, np.nan, -0.1],
            "lift_low": [np.nan, 0.05, np.nan, -0.3],
            "lift_high": [np.nan, 0.45, np.nan, 0.1],
            "verdict": [None, "higher", None, "no detectable difference"],
        }
    )
    rows = experiments.lift_rows(results)
    assert rows.to_dict("records") == [
        {"label": "e: b", "lift": 0.25, "lift_low": 0.05, "lift_high": 0.45, "verdict": "higher"}
    ]
    assert experiments.lift_rows(results, "aov")["lift"].tolist() == [-0.1]


def test_holm_adjusts_by_rank_keeps_the_order_and_leaves_nan_out():
    # sorted 0.01, 0.03, 0.04 → × 3, 2, 1 = 0.03, 0.06, 0.04 → non-decreasing 0.03, 0.06, 0.06
    assert experiments.holm(np.array([0.01, 0.04, 0.03])).tolist() == pytest.approx(
        [0.03, 0.06, 0.06]
    )
    # the NaN is no test: m = 2
    got = experiments.holm(np.array([np.nan, 0.02, 0.5]))
    assert np.isnan(got[0]) and got[1:].tolist() == pytest.approx([0.04, 0.5])
    assert experiments.holm(np.array([0.6, 0.7])).tolist() == [1.0, 1.0]
    assert experiments.holm(np.array([])).tolist() == []


def test_a_verdict_that_does_not_survive_the_adjustment_is_no_detectable_difference():
    # experiment a: three tests; p 0.01 stays (0.03), p 0.03 does not (0.06); experiment b is its
    # own family: its single p 0.04 stays; the control's rows have no test
    table = pd.DataFrame(
        {
            "experiment": ["a", "a", "a", "a", "b", "b"],
            "p_value": [np.nan, 0.01, 0.03, 0.04, np.nan, 0.04],
            "verdict": ["control", "higher", "lower", "lower", "control", "higher"],
        }
    )
    got = experiments._adjusted(table, 0.05)
    assert got["p_adjusted"].tolist()[1:4] == pytest.approx([0.03, 0.06, 0.06])
    assert got["p_adjusted"].iloc[5] == pytest.approx(0.04)
    assert got["verdict"].tolist() == [
        "control",
        "higher",
        "no detectable difference",
        "no detectable difference",
        "control",
        "higher",
    ]
