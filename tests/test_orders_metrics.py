"""GMV, repurchase and slot attribution on tiny order books worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from lib import gmv, repurchase, slots, stats
from lib.periods import Period

from .conftest import events_table, orders_table

SHANGHAI = Period("2025-03-10", "2025-03-11", "Asia/Shanghai")

ORDERS = orders_table(
    [
        # paid 23:59 local 03-10 -> 03-10
        ("o1", "a", "2025-03-10 15:00", "2025-03-10 15:59", "paid", 100.0),
        # paid 00:01 local 03-11 -> 03-11
        ("o2", "a", "2025-03-10 15:58", "2025-03-10 16:01", "refunded", 50.0),
        ("o3", "b", "2025-03-10 02:00", "2025-03-10 02:05", "cancelled", 70.0),  # not paid
        ("o4", "b", "2025-03-10 03:00", None, "unpaid", 30.0),  # never paid
        ("o5", "c", "2025-03-11 01:00", "2025-03-11 01:00", "paid", 20.0),
        ("o6", "c", "2025-03-11 20:00", "2025-03-11 20:00", "paid", 10.0),  # 04:00 local 03-12
    ]
)


def test_gmv_daily_by_local_payment_day():
    events = events_table(
        [
            ("2025-03-10 01:00", "a", "page_view"),
            ("2025-03-10 02:00", "b", "x"),
            ("2025-03-11 03:00", "a", "page_view"),
        ]
    )
    table = gmv.gmv_daily(ORDERS, SHANGHAI, events)
    assert table["uv"].tolist() == [2, 1]
    assert table["buyers"].tolist() == [1, 2]  # a ; a and c
    assert table["orders"].tolist() == [1, 2]
    assert table["gmv"].tolist() == [100.0, 70.0]
    assert table["conversion_rate"].tolist() == [0.5, 2.0]  # c buys without events
    assert table["sales_per_buyer"].tolist() == [100.0, 35.0]
    assert table["aov"].tolist() == [100.0, 35.0]
    day1 = table.iloc[0]
    assert day1["gmv"] == day1["uv"] * day1["conversion_rate"] * day1["sales_per_buyer"]


def test_gmv_summary_counts_buyers_once():
    events = events_table([("2025-03-10 01:00", "a", "page_view"), ("2025-03-11 03:00", "d", "x")])
    row = gmv.gmv_summary(ORDERS, SHANGHAI, events).iloc[0]
    assert (row["uv"], row["buyers"], row["orders"], row["gmv"]) == (2, 2, 3, 170.0)
    assert row["conversion_rate"] == 1.0
    assert row["sales_per_buyer"] == 85.0
    assert row["aov"] == pytest.approx(170 / 3)


def test_gmv_without_events_has_null_uv():
    table = gmv.gmv_daily(ORDERS, SHANGHAI)
    assert table["uv"].isna().all()
    assert table["conversion_rate"].isna().all()
    assert table["gmv"].tolist() == [100.0, 70.0]


def test_repurchase_summary():
    row = repurchase.repurchase_summary(ORDERS, SHANGHAI).iloc[0]
    # buyers a (o1, o2), c (o5; o6 is after the range) -> repeat buyer a, repeat GMV o2 = 50
    assert (row["buyers"], row["repeat_buyers"], row["gmv"], row["repeat_gmv"]) == (
        2,
        1,
        170.0,
        50.0,
    )
    assert row["repurchase_rate"] == 0.5
    assert row["repeat_gmv_share"] == pytest.approx(50 / 170)


def test_repurchase_ranks_orders_by_payment_time_not_order_time():
    orders = orders_table(
        [
            ("x2", "a", "2025-03-10 01:00", "2025-03-10 09:00", "paid", 5.0),
            ("x1", "a", "2025-03-10 02:00", "2025-03-10 03:00", "paid", 80.0),
        ]
    )
    row = repurchase.repurchase_summary(orders, SHANGHAI).iloc[0]
    assert row["repeat_gmv"] == 5.0  # x1 was paid first


def test_repurchase_empty_period():
    row = repurchase.repurchase_summary(ORDERS, Period("2024-01-01", "2024-01-02")).iloc[0]
    assert (row["buyers"], row["repeat_buyers"], row["gmv"]) == (0, 0, 0.0)
    assert math.isnan(row["repurchase_rate"])


def test_slot_performance_last_click_attribution():
    events = events_table(
        [
            ("2025-03-10 01:00", "a", "view_promotion", "s1", None, None, "banner"),
            ("2025-03-10 01:01", "a", "select_promotion", "s1", None, None, "banner"),
            ("2025-03-10 01:02", "b", "view_promotion", "s2", None, None, "banner"),
            ("2025-03-10 01:03", "a", "view_promotion", "s1", None, None, "grid"),
            ("2025-03-10 14:00", "a", "select_promotion", "s1", None, None, "grid"),
            ("2025-03-10 02:00", "b", "select_promotion", "s2", None, None, "banner"),
            (
                "2025-03-09 00:00",
                "c",
                "select_promotion",
                "s3",
                None,
                None,
                "grid",
            ),  # > 24 h before
        ]
    )
    table = slots.slot_performance(events, ORDERS, SHANGHAI, min_clickers=1).set_index("slot")
    assert table.loc["banner", ["impressions", "clicks", "clickers"]].tolist() == [2, 2, 2]
    assert table.loc["grid", ["impressions", "clicks", "clickers"]].tolist() == [1, 1, 1]
    # a's orders o1 (15:59) and o2 (16:01) follow the grid click at 14:00: credited to grid.
    # b's only paid order was cancelled; c's click is too old for o5.
    assert table.loc["grid", ["buyers", "orders", "gmv"]].tolist() == [1, 2, 150.0]
    assert table.loc["banner", ["buyers", "orders", "gmv"]].tolist() == [0, 0, 0.0]
    assert table.loc["grid", "conversion_rate"] == 1.0
    assert table.loc["grid", "is_best"]
    assert table.loc["grid", "gmv_per_click"] == 150.0
    low, high = table.loc["banner", ["ctr_low", "ctr_high"]]
    assert low < 1.0 <= high


def test_wilson_interval_matches_textbook_values():
    # 10 successes out of 100, 95%: Wilson interval (0.0552, 0.1744).
    low, high = stats.proportion_interval(10, 100)
    assert (round(low, 4), round(high, 4)) == (0.0552, 0.1744)
    assert all(math.isnan(x) for x in stats.proportion_interval(0, 0))


def test_two_proportion_pvalue_equals_z_test():
    # 30/100 vs 20/100: pooled p = 0.25, z = 0.1/sqrt(0.25*0.75*0.02) = 1.633, p = 0.1025.
    assert stats.two_proportion_pvalue(30, 100, 20, 100) == pytest.approx(0.1025, abs=1e-4)
    assert math.isnan(stats.two_proportion_pvalue(0, 10, 0, 10))
    assert math.isnan(stats.two_proportion_pvalue(1, 0, 1, 10))


def test_gmv_daily_dates_are_midnights():
    table = gmv.gmv_daily(ORDERS, SHANGHAI)
    assert list(table["date"]) == list(pd.to_datetime(["2025-03-10", "2025-03-11"]))
