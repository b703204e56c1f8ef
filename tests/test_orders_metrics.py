"""GMV, repurchase and slot attribution on tiny order books worked out by hand."""

from __future__ import annotations

import math
import re

import ibis
import pandas as pd
import pytest
from scipy.stats import binomtest

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


def _slot_events(feed_click: str) -> ibis.Table:
    return events_table(
        [
            ("2025-03-10 01:00", "a", "view_promotion", "s1", None, None, "banner"),
            ("2025-03-10 01:01", "a", "select_promotion", "s1", None, None, "banner"),
            ("2025-03-10 01:02", "b", "view_promotion", "s2", None, None, "banner"),
            ("2025-03-10 01:05", "b", "view_promotion", "s2", None, None, "banner"),
            ("2025-03-10 01:10", "e", "view_promotion", "s4", None, None, "banner"),
            ("2025-03-10 01:03", "a", "view_promotion", "s1", None, None, "grid"),
            ("2025-03-10 14:00", "a", "select_promotion", "s1", None, None, "grid"),
            ("2025-03-10 02:00", "b", "select_promotion", "s2", None, None, "banner"),
            ("2025-03-10 00:50", "c", "view_promotion", "s3", None, None, "feed"),
            (feed_click, "c", "select_promotion", "s3", None, None, "feed"),
            ("2025-03-10 01:05", "e", "view_promotion", "s4", None, None, "feed"),
            ("2025-03-10 01:15", "e", "view_promotion", "s4", None, None, "feed"),
            ("2025-03-10 01:20", "e", "select_promotion", "s4", None, None, "feed"),
        ]
    )


def test_slot_performance_last_click_attribution():
    # c's feed click exactly 24 h before o5 (paid 2025-03-11 01:00) earns it
    table = slots.slot_performance(
        _slot_events("2025-03-10 01:00:00"), ORDERS, SHANGHAI, min_clickers=1
    ).set_index("slot")
    columns = ["impressions", "clicks", "clickers", "buyers", "converting_clickers", "orders"]
    # a's orders o1 (15:59) and o2 (16:01) follow the grid click at 14:00: credited to grid.
    # b's only paid order was cancelled; e never orders.
    assert table.loc["banner", columns].tolist() == [4, 2, 2, 0, 0, 0]
    assert table.loc["grid", columns].tolist() == [1, 1, 1, 1, 1, 2]
    assert table.loc["feed", columns].tolist() == [3, 2, 2, 1, 1, 1]
    assert table["gmv"].to_dict() == {"banner": 0.0, "feed": 20.0, "grid": 150.0}
    assert table["gmv_per_click"].to_dict() == {"banner": 0.0, "feed": 10.0, "grid": 150.0}
    assert table["ctr"].to_dict() == {"banner": 0.5, "feed": 2 / 3, "grid": 1.0}
    assert table["conversion_rate"].to_dict() == {"banner": 0.0, "feed": 0.5, "grid": 1.0}
    # intervals: the same Wilson bounds as scipy's, computed independently
    for slot, (clicks, impressions, converting, clickers) in {
        "banner": (2, 4, 0, 2),
        "grid": (1, 1, 1, 1),
        "feed": (2, 3, 1, 2),
    }.items():
        ctr_ci = binomtest(clicks, impressions).proportion_ci(method="wilson")
        conversion_ci = binomtest(converting, clickers).proportion_ci(method="wilson")
        row = table.loc[slot]
        assert row["ctr_low"] == pytest.approx(ctr_ci.low, abs=1e-12)
        assert row["ctr_high"] == pytest.approx(ctr_ci.high, abs=1e-12)
        assert row["conversion_low"] == pytest.approx(conversion_ci.low, abs=1e-12)
        assert row["conversion_high"] == pytest.approx(conversion_ci.high, abs=1e-12)
    # best: grid (1/1). Against it, pooled z-tests, p = erfc(|z| / √2):
    # banner 0/2: pooled 1/3, z = 1 / sqrt(1/3 · 2/3 · (1/2 + 1)) = √3
    # feed 1/2: pooled 2/3, z = 0.5 / sqrt(2/3 · 1/3 · (1/2 + 1)) = √3 / 2
    assert table["is_best"].to_dict() == {"banner": False, "feed": False, "grid": True}
    assert table.loc["banner", "p_value_vs_best"] == pytest.approx(math.erfc(math.sqrt(1.5)))
    assert table.loc["feed", "p_value_vs_best"] == pytest.approx(math.erfc(math.sqrt(0.375)))
    assert math.isnan(table.loc["grid", "p_value_vs_best"])
    assert not table["significant"].any()

    # one second earlier, 24 h + 1 s before the payment: o5 goes to no slot
    earlier = slots.slot_performance(
        _slot_events("2025-03-10 00:59:59"), ORDERS, SHANGHAI, min_clickers=1
    ).set_index("slot")
    assert earlier.loc["feed", columns].tolist() == [3, 2, 2, 0, 0, 0]
    assert earlier.loc["feed", "gmv"] == 0.0


def test_slot_credits_a_click_23_5_hours_before_payment_after_a_23_hour_day():
    # New York springs forward on 2025-03-09, so the local day before the period lasts 23 h.
    # o1 is paid 04:10 UTC 03-10 (00:10 local); a's click 23.5 h earlier is 23:40 local 03-08,
    # before the local midnight one day before the period, but within the 24 hours.
    new_york = Period("2025-03-10", "2025-03-10", "America/New_York")
    events = events_table(
        [
            ("2025-03-09 04:40", "a", "select_promotion", "s1", None, None, "banner"),
            ("2025-03-09 04:39:59", "b", "select_promotion", "s2", None, None, "grid"),  # 24 h 1 s
            ("2025-03-10 05:00", "z", "select_promotion", "s9", None, None, "banner"),
        ]
    )
    orders = orders_table(
        [
            ("o1", "a", "2025-03-10 04:05", "2025-03-10 04:10", "paid", 100.0),
            ("o2", "b", "2025-03-10 04:35", "2025-03-10 04:40", "paid", 50.0),
        ]
    )
    table = slots.slot_performance(events, orders, new_york, min_clickers=1)
    assert table["slot"].tolist() == ["banner"]
    row = table.iloc[0]
    assert (row["clickers"], row["buyers"], row["orders"], row["gmv"]) == (1, 1, 1, 100.0)
    # a clicked before the period, z did not buy: none of the period's clickers converted
    assert (row["converting_clickers"], row["conversion_rate"]) == (0, 0.0)


def test_slot_conversion_is_a_share_of_the_periods_clickers():
    period = Period("2025-03-10", "2025-03-10", "UTC")
    events = events_table(
        [
            # a and d click banner the evening before the period and pay in it: credited buyers,
            # but not clickers of the period
            ("2025-03-09 23:00", "a", "select_promotion", "s", None, None, "banner"),
            ("2025-03-09 23:30", "d", "select_promotion", "s", None, None, "banner"),
            # b clicks banner in the period and does not buy
            ("2025-03-10 02:00", "b", "select_promotion", "s", None, None, "banner"),
            # e clicks banner in the period and buys through it
            ("2025-03-10 03:00", "e", "select_promotion", "s", None, None, "banner"),
            # f clicks banner, then grid, then buys: credited to grid only
            ("2025-03-10 06:00", "f", "select_promotion", "s", None, None, "banner"),
            ("2025-03-10 07:00", "f", "select_promotion", "s", None, None, "grid"),
            # c clicks feed only before the period and buys in it
            ("2025-03-09 22:00", "c", "select_promotion", "s", None, None, "feed"),
        ]
    )
    orders = orders_table(
        [
            ("o1", "a", "2025-03-10 01:00", "2025-03-10 01:00", "paid", 10.0),
            ("o2", "d", "2025-03-10 01:00", "2025-03-10 01:00", "paid", 10.0),
            ("o3", "c", "2025-03-10 01:00", "2025-03-10 01:00", "paid", 10.0),
            ("o4", "e", "2025-03-10 04:00", "2025-03-10 04:00", "paid", 20.0),
            ("o5", "f", "2025-03-10 08:00", "2025-03-10 08:00", "paid", 30.0),
        ]
    )
    table = slots.slot_performance(events, orders, period, min_clickers=1).set_index("slot")
    columns = ["clicks", "clickers", "buyers", "converting_clickers", "orders", "gmv"]
    assert table.loc["banner", columns].tolist() == [3, 3, 3, 1, 3, 40.0]  # buyers a, d, e
    assert table.loc["grid", columns].tolist() == [1, 1, 1, 1, 1, 30.0]
    assert table.loc["feed", columns].tolist() == [0, 0, 1, 0, 1, 10.0]
    # banner: e of b, e, f; feed has no clickers in the period, so no rate (not 0, not 1)
    assert table.loc["banner", "conversion_rate"] == pytest.approx(1 / 3)
    assert table.loc["grid", "conversion_rate"] == 1.0
    assert table[["conversion_rate", "conversion_low", "conversion_high"]].loc["feed"].isna().all()
    ci = binomtest(1, 3).proportion_ci(method="wilson")
    assert table.loc["banner", "conversion_low"] == pytest.approx(ci.low, abs=1e-12)
    assert table.loc["banner", "conversion_high"] == pytest.approx(ci.high, abs=1e-12)
    # best grid 1/1; banner 1/3 against it: pooled 1/2, z = (2/3) / sqrt(1/4 · 4/3) = 2 / √3
    assert table["is_best"].to_dict() == {"banner": False, "feed": False, "grid": True}
    z = 2 / math.sqrt(3)
    assert table.loc["banner", "p_value_vs_best"] == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert math.isnan(table.loc["feed", "p_value_vs_best"])


@pytest.mark.parametrize("orders", [ORDERS, None], ids=["with orders", "without orders"])
@pytest.mark.parametrize(
    ("hours", "refusal"),
    [
        (0, "attribution_hours=0 must be from 1 to 87840"),
        (-24, "attribution_hours=-24 must be from 1 to 87840"),
        (1, None),
    ],
)
def test_slot_attribution_is_at_least_an_hour(orders, hours, refusal):
    events = _slot_events("2025-03-10 01:00:00")
    if refusal is None:
        table = slots.slot_performance(events, orders, SHANGHAI, hours, min_clickers=1)
        assert table["slot"].tolist() == ["banner", "feed", "grid"]
    else:
        with pytest.raises(ValueError, match=re.escape(refusal)):
            slots.slot_performance(events, orders, SHANGHAI, hours, min_clickers=1)


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
