"""Campaign evaluation (lib/campaigns.py), worked out by hand on tiny shops.

Every shop is in Asia/Shanghai (UTC+8, no daylight saving): local day D runs from UTC D-1 16:00
to D 16:00, and an order paid at UTC 04:00 is paid at local noon of the same day. 2025-03-10 is
a Monday. t(0.975, 2) = 4.302653.
"""

from __future__ import annotations

import datetime as dt
import math

import ibis
import pandas as pd
import pytest

from lib import campaigns, data
from lib.periods import Period

from .conftest import KNOWN_ANSWERS, events_table, shop_orders

TZ = "Asia/Shanghai"
T2 = 4.302652729749464  # scipy.stats.t.ppf(0.975, 2)


def noon(day: str) -> str:
    """UTC time of local noon of ``day`` (``YYYY-MM-DD``) in Shanghai."""
    return f"{day} 04:00"


def day(start: str, offset: int) -> str:
    return (dt.date.fromisoformat(start) + dt.timedelta(days=offset)).isoformat()


def items_table(rows: list[tuple]) -> ibis.Table:
    frame = pd.DataFrame(rows, columns=["order_id", "sku_id", "quantity", "unit_price"])
    schema = {"order_id": "string", "sku_id": "string", "quantity": "int64"}
    return ibis.memtable(frame, schema={**schema, "unit_price": "float64"})


NO_ITEMS = items_table([])


def products_table(rows: list[tuple]) -> ibis.Table:
    frame = pd.DataFrame(rows, columns=["sku_id", "category", "unit_cost", "list_price"])
    schema = {"sku_id": "string", "category": "string", "unit_cost": "float64"}
    return ibis.memtable(frame, schema={**schema, "list_price": "float64"})


NO_PRODUCTS = products_table([])


def campaign_table(rows: list[dict]) -> pd.DataFrame:
    base = {"name": "promo", "kind": "promotion", "category": None, "channel": None}
    return pd.DataFrame([{**base, **row} for row in rows])


def row_of(table: pd.DataFrame, cid: str, metric: str, method: str) -> pd.Series:
    rows = table[
        (table["campaign_id"] == cid) & (table["metric"] == metric) & (table["method"] == method)
    ]
    assert len(rows) == 1, table[["campaign_id", "metric", "method"]]
    return rows.iloc[0]


# --------------------------------------------------------------------------------------------
# A noiseless weekly pattern and trend with a known uplift (shop-wide campaign, baseline method)
#
# Day i = 0 is Mon 02-24. Baseline: the 14 days 02-24 .. 03-09 (i = 0..13), one order a day worth
# w(i) = 100 + 10 × weekday + 2 × i (Mon 100 … Sun 160, growing 2 a day): every weekday twice, so
# the model ``weekly + trend`` fits exactly (s² = 0).
# Campaign Mon 03-10 .. Wed 03-12 (i = 14, 15, 16): the usual order plus one of 50 by another
# buyer. expected GMV = (100 + 28) + (110 + 30) + (120 + 32) = 420; actual = 420 + 3 × 50 = 570;
# incremental = +150 with the interval [150, 150]. Orders and buyers: expected 3, actual 6, +3.
# (Without the trend the baseline's weekday means would give 107 + 119 + 131 = 357.)
# Dip Thu 03-13, Fri 03-14 (i = 17, 18) with orders worth w − 10: expected (130 + 34) + (140 + 36)
# = 340, actual 320, post_dip = −20, observable as the data run to 03-14.

WEEKLY_START = "2025-02-24"


def weekly_orders() -> ibis.Table:
    rows = []
    for i in range(14 + 3 + 2):
        d = day(WEEKLY_START, i)
        usual = 100.0 + 10 * (i % 7) + 2 * i
        if i >= 17:
            usual -= 10.0  # the dip
        rows.append((f"o{i}", f"u{i}", noon(d), "paid", usual, 0.0, "ads"))
        if 14 <= i < 17:
            rows.append((f"x{i}", f"v{i}", noon(d), "paid", 50.0, 0.0, "ads"))
    return shop_orders(rows)


WEEKLY = campaign_table(
    [{"campaign_id": "c1", "start_date": "2025-03-10", "end_date": "2025-03-12"}]
)
WEEKLY_PERIOD = Period("2025-03-10", "2025-03-12", TZ)


def weekly_effects() -> pd.DataFrame:
    return campaigns.campaign_effects(
        WEEKLY,
        weekly_orders(),
        NO_ITEMS,
        NO_PRODUCTS,
        None,
        WEEKLY_PERIOD,
        baseline_days=14,
        dip_days=2,
    )


def test_weekly_pattern_and_uplift_recovered_exactly():
    table = weekly_effects()
    assert list(table.columns[:11]) == campaigns.COLUMNS
    # a shop-wide campaign has no rest: baseline rows only, and no uv without events
    assert set(table["method"]) == {"baseline"}
    assert list(table["metric"]) == ["gmv", "orders", "buyers"]
    gmv = row_of(table, "c1", "gmv", "baseline")
    assert gmv["model"] == "weekly + trend"
    assert gmv["primary"]
    assert (gmv["days"], gmv["campaign_days"], gmv["baseline_days_used"]) == (3, 3, 14)
    assert gmv["actual"] == pytest.approx(570.0)
    assert gmv["expected"] == pytest.approx(420.0)
    assert gmv["incremental"] == pytest.approx(150.0)
    assert gmv["ci_low"] == pytest.approx(150.0, abs=1e-6)
    assert gmv["ci_high"] == pytest.approx(150.0, abs=1e-6)
    assert gmv["post_dip"] == pytest.approx(-20.0)
    for metric in ("orders", "buyers"):
        row = row_of(table, "c1", metric, "baseline")
        assert (row["actual"], row["expected"]) == pytest.approx((6.0, 3.0))
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((3.0, 3.0), abs=1e-9)
        assert row["post_dip"] == pytest.approx(0.0, abs=1e-9)  # one order a day, as expected
        assert math.isnan(row["discount_cost"])  # money only on the gmv rows


def test_weekly_daily_series_for_the_figure():
    daily = campaigns.campaign_daily(
        WEEKLY,
        weekly_orders(),
        NO_ITEMS,
        NO_PRODUCTS,
        None,
        WEEKLY_PERIOD,
        baseline_days=14,
        dip_days=2,
    )
    assert list(daily.columns) == campaigns.DAILY_COLUMNS
    gmv = daily[daily["metric"] == "gmv"].set_index("date")
    assert len(gmv) == 19  # 14 baseline + 3 campaign + 2 dip days
    assert list(gmv["phase"].value_counts().sort_index().items()) == [
        ("baseline", 14),
        ("campaign", 3),
        ("dip", 2),
    ]
    wed = gmv.loc[pd.Timestamp("2025-03-12")]
    # Wed 03-12 (i = 16): 120 + 32 expected, + 50 actual
    assert (wed["phase"], wed["actual"], wed["expected"]) == ("campaign", 202.0, pytest.approx(152))
    fri = gmv.loc[pd.Timestamp("2025-03-14")]
    # Fri 03-14 (i = 18): 140 + 36 expected, 10 less actual
    assert (fri["phase"], fri["actual"], fri["expected"]) == ("dip", 166.0, pytest.approx(176))
    # on the baseline days the fitted values equal the noiseless series
    base = gmv[gmv["phase"] == "baseline"]
    assert (base["actual"] - base["expected"]).abs().max() == pytest.approx(0.0, abs=1e-9)


def test_overlapping_campaigns_are_named():
    # c2 (shop-wide, Tue 03-11) runs inside c1. Its baseline skips c1's days and 2 dip days
    # (03-10 .. 03-14) and takes the 14 days before them, 02-24 .. 03-09, as c1's: expected
    # 110 + 2 × 15 = 140 on 03-11 (i = 15), actual 140 + 50 = 190, incremental +50.
    both = pd.concat(
        [
            WEEKLY,
            campaign_table(
                [{"campaign_id": "c2", "start_date": "2025-03-11", "end_date": "2025-03-11"}]
            ),
        ]
    )
    table = campaigns.campaign_effects(
        both,
        weekly_orders(),
        NO_ITEMS,
        NO_PRODUCTS,
        None,
        WEEKLY_PERIOD,
        baseline_days=14,
        dip_days=2,
    )
    c1, c2 = row_of(table, "c1", "gmv", "baseline"), row_of(table, "c2", "gmv", "baseline")
    assert "runs with c2 on 1 day: the effect is theirs together, not its own" in c1["notes"]
    assert "runs with c1 on 1 day" in c2["notes"]
    assert c2["baseline_start"] == pd.Timestamp("2025-02-24") and c2["baseline_days_used"] == 14
    assert (c2["actual"], c2["expected"], c2["incremental"]) == pytest.approx((190, 140, 50))
    # c1 is unchanged by c2: its own days are not its baseline
    assert c1["incremental"] == pytest.approx(150.0)


# --------------------------------------------------------------------------------------------
# Difference in differences, channel campaign on "ads" (rest: search and no channel)
#
# baseline_days = 3: 03-07, 03-08, 03-09 (level model: too short for weekly); campaign 03-10..11.
#   ads GMV (scope):   2, 5, 5       campaign: 10 (two orders, 6 + 4), 8
#   rest GMV:         10, 20, 30     campaign: 40, 20      (03-09's 30 = search 20 + no channel 10)
# DiD: β = 12 / 60 = 0.2; expected = 0.2 × 60 = 12; actual 18; incremental +6.
#   σ² = [(2 − 2)²/10 + (5 − 4)²/20 + (5 − 6)²/30] / (3 − 1) = (1/20 + 1/30) / 2 = 1/24;
#   Var = σ² × X_c × (1 + X_c / X_b) = (1/24) × 60 × 2 = 5; half-width = t(0.975, 2) × √5.
# Baseline (level): mean 4, residuals −2, 1, 1, s² = 6 / 2 = 3; expected 8, incremental +10;
#   Var = s² (H + L (XᵀX)⁻¹ L) = 3 × (2 + 2 × 2 / 3) = 10; half-width = t(0.975, 2) × √10.
# Orders: scope 1, 1, 1 | 2, 1; rest 1, 1, 2 | 1, 1. β = 3/4; expected 1.5; actual 3; +1.5;
#   σ² = [(1 − .75)² + (1 − .75)² + (1 − 1.5)²/2] / 2 = (0.0625 + 0.0625 + 0.125) / 2 = 0.125;
#   Var = 0.125 × 2 × (1 + 2/4) = 0.375.
# UV: 2 ads visitors and 4 others each baseline day, 3 and 4 on campaign days:
#   β = 6/12; expected 0.5 × 8 = 4; actual 6; +2; residuals 0, so the interval is [2, 2].
# The data end on 03-11: the 2 dip days (03-12, 03-13) are not yet observable.

DID = campaign_table(
    [{"campaign_id": "ch", "start_date": "2025-03-10", "end_date": "2025-03-11", "channel": "ads"}]
)
DID_PERIOD = Period("2025-03-10", "2025-03-11", TZ)
DID_ORDERS = shop_orders(
    [
        ("a1", "u1", noon("2025-03-07"), "paid", 2.0, 0.0, "ads"),
        ("a2", "u1", noon("2025-03-08"), "paid", 5.0, 0.0, "ads"),
        ("a3", "u1", noon("2025-03-09"), "paid", 5.0, 0.0, "ads"),
        ("a4", "u1", noon("2025-03-10"), "paid", 6.0, 0.0, "ads"),
        ("a5", "u2", noon("2025-03-10"), "paid", 4.0, 0.0, "ads"),
        ("a6", "u1", noon("2025-03-11"), "paid", 8.0, 0.0, "ads"),
        ("r1", "u9", noon("2025-03-07"), "paid", 10.0, 0.0, "search"),
        ("r2", "u9", noon("2025-03-08"), "paid", 20.0, 0.0, "search"),
        ("r3", "u9", noon("2025-03-09"), "paid", 20.0, 0.0, "search"),
        ("r4", "u8", noon("2025-03-09"), "paid", 10.0, 0.0, None),
        ("r5", "u9", noon("2025-03-10"), "paid", 40.0, 0.0, "search"),
        ("r6", "u9", noon("2025-03-11"), "paid", 20.0, 0.0, "search"),
        ("n1", "u7", noon("2025-03-10"), "cancelled", 99.0, 0.0, "ads"),  # not paid
    ]
)


def did_events() -> ibis.Table:
    rows = []
    for d, ads in (("2025-03-07", 2), ("2025-03-08", 2), ("2025-03-09", 2)):
        rows += [(noon(d), f"a{k}", "page_view", None, None, "ads") for k in range(ads)]
        rows += [(noon(d), f"s{k}", "page_view", None, None, "search") for k in range(4)]
    for d in ("2025-03-10", "2025-03-11"):
        rows += [(noon(d), f"a{k}", "page_view", None, None, "ads") for k in range(3)]
        rows += [(noon(d), f"s{k}", "page_view", None, None, "search") for k in range(4)]
    return events_table(rows)


def test_difference_in_differences_by_hand():
    table = campaigns.campaign_effects(
        DID,
        DID_ORDERS,
        NO_ITEMS,
        NO_PRODUCTS,
        did_events(),
        DID_PERIOD,
        baseline_days=3,
        dip_days=2,
    )
    did = row_of(table, "ch", "gmv", "did")
    assert did["primary"] and not row_of(table, "ch", "gmv", "baseline")["primary"]
    assert did["scope"] == "channel=ads"
    assert (did["actual"], did["expected"], did["incremental"]) == pytest.approx((18, 12, 6))
    half = T2 * math.sqrt(5)
    assert (did["ci_low"], did["ci_high"]) == pytest.approx((6 - half, 6 + half))
    base = row_of(table, "ch", "gmv", "baseline")
    assert base["model"] == "level"
    assert (base["expected"], base["incremental"]) == pytest.approx((8, 10))
    half = T2 * math.sqrt(10)
    assert (base["ci_low"], base["ci_high"]) == pytest.approx((10 - half, 10 + half))
    orders = row_of(table, "ch", "orders", "did")
    assert (orders["actual"], orders["expected"]) == pytest.approx((3, 1.5))
    half = T2 * math.sqrt(0.375)
    assert (orders["ci_low"], orders["ci_high"]) == pytest.approx((1.5 - half, 1.5 + half))
    uv = row_of(table, "ch", "uv", "did")
    assert (uv["actual"], uv["expected"], uv["ci_low"], uv["ci_high"]) == pytest.approx(
        (6, 4, 2, 2)
    )
    # the data end with the campaign: no dip yet, and the note says so
    assert table["post_dip"].isna().all()
    assert "not yet observable" in did["notes"]
    # orders without lines have no known cost: no net margin, and the note says why
    assert math.isnan(did["net_margin"]) and "no unit_cost" in did["notes"]
    note = campaigns.campaigns_note(table)
    assert "difference in differences" in note
    assert "GMV 18.00 against 12.00 expected" in note
    assert "not told apart from no effect at 95 %" in note  # −3.6 to +15.6 contains 0
    assert "not yet observable" in note


# --------------------------------------------------------------------------------------------
# The campaign at the range edge
#
# Orders start on 03-05 and end on 03-12. Period 03-09..03-11; campaign c1 runs 03-10..03-13
# (past the period end), baseline_days = 7, dip_days = 2. Baseline window 03-03..03-09:
#   03-03, 03-04 are before the data start (left out, said);
#   campaign c0 (03-06, shop-wide, outside the period) and its 2 dip days 03-06..03-08: left out;
#   left: 03-05 and 03-09, 100 each → level 100, s² = 0.
# Evaluated: 03-10, 03-11 (2 of 4 days; 03-12's 999 is outside the period): actual 300,
# expected 200, incremental +100 with interval [100, 100]. The dip (03-14, 03-15) is after the
# data's last day: NaN, "not yet observable". c0 is not in the period: no row.

EDGE_ORDERS = shop_orders(
    [
        ("e1", "u1", noon("2025-03-05"), "paid", 100.0, 0.0, None),
        ("e2", "u1", noon("2025-03-06"), "paid", 500.0, 0.0, None),
        ("e3", "u1", noon("2025-03-07"), "paid", 80.0, 0.0, None),
        ("e4", "u1", noon("2025-03-08"), "paid", 80.0, 0.0, None),
        ("e5", "u1", noon("2025-03-09"), "paid", 100.0, 0.0, None),
        ("e6", "u1", noon("2025-03-10"), "paid", 150.0, 0.0, None),
        ("e7", "u1", noon("2025-03-11"), "paid", 150.0, 0.0, None),
        ("e8", "u1", noon("2025-03-12"), "paid", 999.0, 0.0, None),
    ]
)
EDGE = campaign_table(
    [
        {"campaign_id": "c1", "start_date": "2025-03-10", "end_date": "2025-03-13"},
        {"campaign_id": "c0", "start_date": "2025-03-06", "end_date": "2025-03-06"},
    ]
)
EDGE_PERIOD = Period("2025-03-09", "2025-03-11", TZ)


def test_campaign_at_the_range_edge():
    table = campaigns.campaign_effects(
        EDGE, EDGE_ORDERS, NO_ITEMS, NO_PRODUCTS, None, EDGE_PERIOD, baseline_days=7, dip_days=2
    )
    assert set(table["campaign_id"]) == {"c1"}
    gmv = row_of(table, "c1", "gmv", "baseline")
    assert (gmv["days"], gmv["campaign_days"], gmv["baseline_days_used"]) == (2, 4, 2)
    assert gmv["model"] == "level"
    assert (gmv["actual"], gmv["expected"], gmv["incremental"]) == pytest.approx((300, 200, 100))
    assert (gmv["ci_low"], gmv["ci_high"]) == pytest.approx((100, 100))
    assert math.isnan(gmv["post_dip"])
    notes = gmv["notes"]
    assert "evaluated over 2 of its 4 days" in notes
    assert "runs past the period end (2025-03-11)" in notes
    assert (
        "only 2 of 7 baseline days: the data start on 2025-03-05 "
        "(2 of the 7 days before the start are before it)"
    ) in notes
    assert "baseline skips the days of other campaigns and the 2 days after each (3 of c0)" in (
        notes
    )
    assert gmv["baseline_start"] == pd.Timestamp("2025-03-05")
    assert "post-campaign dip not yet observable" in notes
    daily = campaigns.campaign_daily(
        EDGE, EDGE_ORDERS, NO_ITEMS, NO_PRODUCTS, None, EDGE_PERIOD, baseline_days=7, dip_days=2
    )
    gmv_daily = daily[daily["metric"] == "gmv"].set_index("date")["phase"]
    # from the first baseline day used (03-05) to the data's last day (03-12)
    assert list(gmv_daily.items()) == [
        (pd.Timestamp("2025-03-05"), "baseline"),
        (pd.Timestamp("2025-03-06"), "left out"),
        (pd.Timestamp("2025-03-07"), "left out"),
        (pd.Timestamp("2025-03-08"), "left out"),
        (pd.Timestamp("2025-03-09"), "baseline"),
        (pd.Timestamp("2025-03-10"), "campaign"),
        (pd.Timestamp("2025-03-11"), "campaign"),
        (pd.Timestamp("2025-03-12"), "campaign (not evaluated)"),
    ]


def test_campaign_started_before_the_period():
    # Period 03-11 only: c1 (03-10..03-13) is evaluated on 03-11 (1 of 4 days), its baseline is
    # still the one before its own start (03-05 and 03-09, level 100): actual 150, expected 100.
    # c0 (03-06) is outside this period too.
    table = campaigns.campaign_effects(
        EDGE,
        EDGE_ORDERS,
        NO_ITEMS,
        NO_PRODUCTS,
        None,
        Period("2025-03-11", "2025-03-11", TZ),
        baseline_days=7,
        dip_days=2,
    )
    gmv = row_of(table, "c1", "gmv", "baseline")
    assert (gmv["days"], gmv["baseline_days_used"]) == (1, 2)
    assert (gmv["actual"], gmv["expected"], gmv["incremental"]) == pytest.approx((150, 100, 50))
    assert (
        "evaluated over 1 of its 4 days: it started before the period (2025-03-11)"
        in (gmv["notes"])
    )


def test_baseline_skips_overlapping_campaigns_and_looks_back():
    # c: category A from 03-20; dip_days = 1, baseline_days = 3, so the search reaches back
    # 2 × 3 = 6 days: 03-14 .. 03-19. o (shop-wide, 03-17..18) blocks 03-17..19 with its dip day;
    # o2 (category B, 03-16) is apart from c and blocks nothing: the baseline is 03-14..16.
    def at(text: str) -> int:
        return campaigns.epoch_day(dt.date.fromisoformat(text))

    def plan(cid, start, end, **scope):
        return campaigns.Campaign(cid, cid, "promotion", at(start), at(end), **scope)

    c = plan("c", "2025-03-20", "2025-03-21", category="A")
    o = plan("o", "2025-03-17", "2025-03-18")
    o2 = plan("o2", "2025-03-16", "2025-03-16", category="B")
    days, notes = campaigns.baseline_days_of(c, [c, o, o2], at("2025-01-01"), 3, 1)
    assert days.tolist() == [at("2025-03-14"), at("2025-03-15"), at("2025-03-16")]
    assert notes == ["baseline skips the days of other campaigns and the 1 day after each (3 of o)"]
    # o3 on the ads channel may share c's lines (category A sold through ads): 03-15 is blocked
    # too, and only 03-14 and 03-16 are left within the 6 days
    o3 = plan("o3", "2025-03-15", "2025-03-15", channel="ads")
    days, notes = campaigns.baseline_days_of(c, [c, o, o2, o3], at("2025-01-01"), 3, 0)
    assert days.tolist() == [at("2025-03-14"), at("2025-03-16"), at("2025-03-19")]
    days, notes = campaigns.baseline_days_of(c, [c, o, o2, o3], at("2025-01-01"), 3, 1)
    assert days.tolist() == [at("2025-03-14")]
    assert notes[-1] == "only 1 of 3 baseline days: no more in the 6 days before the start"


# --------------------------------------------------------------------------------------------
# A category campaign: line shares, discount cost, net margin and ROI
#
# Catalogue: a1 in A (cost 6, list 10), b1 in B (cost 2, list 5). Campaign on category A, 03-10
# only; baseline_days = 2 (03-08, 03-09): each day an a1 order paid 10 and a b1 order paid 5.
# Campaign day:
#   X (user x): a1 × 2 at 8 (value 16) + b1 × 1 at 4 (value 4); discount 2, paid 18.
#       A's share 16/20 = 0.8: GMV 14.4, coupon 1.6, markdown 2 × (10 − 8) = 4, cost 12.
#       The rest (B) gets 3.6 of GMV.
#   Y (user y): a1 × 1 at 8, paid 8: GMV 8, markdown 2, cost 6.
# Scope actual GMV 22.4, orders 2, buyers 2. discount_cost = 1.6 + (4 + 2) = 7.6.
# Margin rate over the baseline: m_b = 1 − (6 + 6) / (10 + 10) = 0.4. Gross profit on the
# campaign day 22.4 − 18 = 4.4.
#   baseline: expected 10 (level, s² 0) → incremental 12.4, net_margin = 4.4 − 10 × 0.4 = 0.4,
#             roi = 0.4 / 7.6.
#   did:      β = 20 / 10 = 2, rest 3.6 → expected 7.2, incremental 15.2,
#             net_margin = 4.4 − 7.2 × 0.4 = 1.52, roi = 1.52 / 7.6 = 0.2.

CATEGORY = campaign_table(
    [{"campaign_id": "cat", "start_date": "2025-03-10", "end_date": "2025-03-10", "category": "A"}]
)
CATEGORY_PERIOD = Period("2025-03-10", "2025-03-10", TZ)
CATEGORY_ORDERS = shop_orders(
    [
        ("pa1", "p", noon("2025-03-08"), "paid", 10.0, 0.0, "ads"),
        ("pb1", "q", noon("2025-03-08"), "paid", 5.0, 0.0, "ads"),
        ("pa2", "p", noon("2025-03-09"), "paid", 10.0, 0.0, "ads"),
        ("pb2", "q", noon("2025-03-09"), "paid", 5.0, 0.0, "ads"),
        ("X", "x", noon("2025-03-10"), "paid", 18.0, 2.0, "ads"),
        ("Y", "y", noon("2025-03-10"), "paid", 8.0, None, "ads"),
    ]
)
CATEGORY_ITEMS = items_table(
    [
        ("pa1", "a1", 1, 10.0),
        ("pb1", "b1", 1, 5.0),
        ("pa2", "a1", 1, 10.0),
        ("pb2", "b1", 1, 5.0),
        ("X", "a1", 2, 8.0),
        ("X", "b1", 1, 4.0),
        ("Y", "a1", 1, 8.0),
    ]
)
CATALOGUE = products_table([("a1", "A", 6.0, 10.0), ("b1", "B", 2.0, 5.0)])


def category_effects(products: ibis.Table) -> pd.DataFrame:
    return campaigns.campaign_effects(
        CATEGORY,
        CATEGORY_ORDERS,
        CATEGORY_ITEMS,
        products,
        None,
        CATEGORY_PERIOD,
        baseline_days=2,
        dip_days=1,
    )


def test_category_line_shares_discount_cost_and_roi():
    table = category_effects(CATALOGUE)
    base = row_of(table, "cat", "gmv", "baseline")
    assert base["scope"] == "category=A"
    assert (base["actual"], base["expected"], base["incremental"]) == pytest.approx(
        (22.4, 10, 12.4)
    )
    assert (base["coupon_discount"], base["markdown"]) == pytest.approx((1.6, 6.0))
    assert base["discount_cost"] == pytest.approx(7.6)
    assert base["net_margin"] == pytest.approx(0.4)
    assert base["roi"] == pytest.approx(0.4 / 7.6)
    assert (base["net_margin_low"], base["net_margin_high"]) == pytest.approx((0.4, 0.4))
    did = row_of(table, "cat", "gmv", "did")
    assert did["primary"]
    assert (did["expected"], did["incremental"]) == pytest.approx((7.2, 15.2))
    assert did["net_margin"] == pytest.approx(1.52)
    assert did["roi"] == pytest.approx(0.2)
    orders = row_of(table, "cat", "orders", "baseline")
    assert (orders["actual"], orders["expected"]) == pytest.approx((2, 1))
    note = campaigns.campaigns_note(table)
    assert "It paid at 95 %: net margin +1.52 (95 % +1.52 to +1.52) on 7.60 of discounts" in note
    assert "ROI 0.20" in note
    # the data end on the campaign day: the 1 dip day is not observable
    assert "The dip over the 1 day after it is not yet observable" in note


def test_category_without_unit_cost_has_no_net_margin():
    table = category_effects(products_table([("a1", "A", None, 10.0), ("b1", "B", 2.0, 5.0)]))
    did = row_of(table, "cat", "gmv", "did")
    assert did["discount_cost"] == pytest.approx(7.6)  # the discounts need no cost
    assert math.isnan(did["net_margin"]) and math.isnan(did["roi"])
    # all of A's GMV (baseline 20 + campaign 22.4) lacks a cost
    assert "100.0% of the scope's GMV has no unit_cost" in did["notes"]
    assert "not known: the net margin needs unit_cost" in campaigns.campaigns_note(table)


# --------------------------------------------------------------------------------------------
# Local midnight (Shanghai): campaign day 03-10 is UTC 03-09 16:00 .. 03-10 16:00.
#   UTC 03-09 15:59 → local 03-09 23:59: baseline (10, with 03-08's 10: mean 10);
#   UTC 03-09 16:00 → local 03-10 00:00: campaign (30); UTC 03-10 15:59:59 → 23:59:59 (5);
#   UTC 03-10 16:00 → local 03-11 00:00: the dip day (1000).
# actual 35, expected 10, +25; post_dip = 1000 − 10 = 990.


def test_local_midnight_boundary():
    orders = shop_orders(
        [
            ("m1", "u1", noon("2025-03-08"), "paid", 10.0, 0.0, None),
            ("m2", "u1", "2025-03-09 15:59", "paid", 10.0, 0.0, None),
            ("m3", "u1", "2025-03-09 16:00", "paid", 30.0, 0.0, None),
            ("m4", "u2", "2025-03-10 15:59:59", "paid", 5.0, 0.0, None),
            ("m5", "u1", "2025-03-10 16:00", "paid", 1000.0, 0.0, None),
        ]
    )
    # the campaigns as an Ibis table with date columns, as a source holds them
    plan = ibis.memtable(
        campaign_table(
            [
                {
                    "campaign_id": "m",
                    "start_date": dt.date(2025, 3, 10),
                    "end_date": dt.date(2025, 3, 10),
                }
            ]
        ),
        schema={
            "campaign_id": "string",
            "name": "string",
            "kind": "string",
            "category": "string",
            "channel": "string",
            "start_date": "date",
            "end_date": "date",
        },
    )
    table = campaigns.campaign_effects(
        plan,
        orders,
        NO_ITEMS,
        NO_PRODUCTS,
        None,
        Period("2025-03-10", "2025-03-10", TZ),
        baseline_days=2,
        dip_days=1,
    )
    gmv = row_of(table, "m", "gmv", "baseline")
    assert (gmv["actual"], gmv["expected"], gmv["incremental"]) == pytest.approx((35, 10, 25))
    assert gmv["post_dip"] == pytest.approx(990.0)
    assert row_of(table, "m", "buyers", "baseline")["actual"] == 2
    note = campaigns.campaigns_note(table)
    assert "In the 1 day after it GMV was 990 above expected (higher at 95 %" in note


def test_campaign_table_errors_and_empty_period():
    orders = weekly_orders()
    repeated = campaign_table(
        [
            {"campaign_id": "c", "start_date": "2025-03-10", "end_date": "2025-03-10"},
            {"campaign_id": "c", "start_date": "2025-03-11", "end_date": "2025-03-11"},
        ]
    )
    with pytest.raises(ValueError, match="'c' is repeated"):
        campaigns.campaign_effects(repeated, orders, NO_ITEMS, NO_PRODUCTS, None, WEEKLY_PERIOD)
    backwards = campaign_table(
        [{"campaign_id": "b", "start_date": "2025-03-11", "end_date": "2025-03-10"}]
    )
    with pytest.raises(ValueError, match="'b' ends"):
        campaigns.campaign_effects(backwards, orders, NO_ITEMS, NO_PRODUCTS, None, WEEKLY_PERIOD)
    later = Period("2025-04-01", "2025-04-02", TZ)
    table = campaigns.campaign_effects(WEEKLY, orders, NO_ITEMS, NO_PRODUCTS, None, later)
    assert table.empty and list(table.columns[:11]) == campaigns.COLUMNS
    assert campaigns.campaigns_note(table) == "No campaign has a day in the period."


def test_primary_series_takes_the_primary_method_and_marks_its_phases():
    effects = pd.DataFrame(
        {
            "campaign_id": ["C", "C", "C"],
            "metric": ["gmv", "gmv", "orders"],
            "method": ["baseline", "did", "did"],
            "primary": [False, True, True],
        }
    )
    days = pd.to_datetime(["2025-10-01", "2025-10-02", "2025-10-03", "2025-10-04"])
    rows = []
    for method, shift in (("baseline", 0.0), ("did", 100.0)):
        for day, phase, actual in zip(
            days, ["baseline", "campaign", "campaign", "dip"], [10.0, 30.0, 32.0, 5.0], strict=True
        ):
            rows.append(("C", day, phase, "gmv", method, actual, 10.0 + shift))
    daily = pd.DataFrame(
        rows, columns=["campaign_id", "date", "phase", "metric", "method", "actual", "expected"]
    ).iloc[::-1]  # any order in: by date out
    series = campaigns.primary_series(daily, effects, "C")
    assert list(series.columns) == ["date", "actual", "expected", "phase"]
    assert series["date"].tolist() == list(days)
    assert series["expected"].tolist() == [110.0] * 4  # the did rows, not the baseline's
    marks = campaigns.phase_marks(series)
    # a run starts at 10-02 (campaign) and 10-04 (dip); baseline days are not marked
    assert marks["date"].tolist() == [days[1], days[3]]
    assert marks["name"].tolist() == ["campaign starts", "dip starts"]
    assert campaigns.primary_series(daily, effects, "other").empty
    assert campaigns.phase_marks(campaigns.primary_series(daily, effects, "other")).empty


def test_campaign_tables_give_both_tables_from_one_reading():
    campaigns_table = pd.DataFrame(
        [
            {
                "campaign_id": "C",
                "name": "C",
                "start_date": dt.date(2025, 3, 10),
                "end_date": dt.date(2025, 3, 11),
                "kind": "promotion",
                "category": None,
                "channel": None,
            }
        ]
    )
    source = data.open_source(str(KNOWN_ANSWERS / "source"))
    period = Period("2025-03-10", "2025-03-11", "Asia/Shanghai")
    args = (source["orders"], source["order_items"], source["products"], source["events"], period)
    effects, daily = campaigns.campaign_tables(campaigns_table, *args, baseline_days=3, dip_days=1)
    pd.testing.assert_frame_equal(
        effects, campaigns.campaign_effects(campaigns_table, *args, baseline_days=3, dip_days=1)
    )
    pd.testing.assert_frame_equal(
        daily, campaigns.campaign_daily(campaigns_table, *args, baseline_days=3, dip_days=1)
    )
    assert len(effects) > 0 and len(daily) > 0
