"""Conversion (issue 3): funnel edge cases, breakdowns, items, monitoring, drop-off lists and the
GMV decomposition, on tiny logs whose answers are worked out by hand in the comments.

Range 2025-03-10..2025-03-11 in Asia/Shanghai (UTC+8): local 03-10 is UTC 03-09 16:00 to
03-10 16:00. All times below are UTC unless marked local.
"""

from __future__ import annotations

import math
import re

import ibis
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib import funnel, gmv, plots
from lib.periods import Period

from .conftest import events_table, orders_table

SHANGHAI = Period("2025-03-10", "2025-03-11", "Asia/Shanghai")
STEPS = ["view_item", "add_to_cart", "purchase"]

# (event_time, user_id, event_name, session_id, sku_id, channel)
STORY = events_table(
    [
        # out of order: carts before viewing (does not count), buys without a counted cart
        ("2025-03-10 01:00", "u_order", "add_to_cart", None, None, "search"),
        ("2025-03-10 02:00", "u_order", "view_item", None, None, "ads"),
        ("2025-03-10 03:00", "u_order", "purchase", None, None, "ads"),
        # repeated steps: the first view and the first cart after it count
        ("2025-03-10 01:00", "u_repeat", "view_item", None, None, "search"),
        ("2025-03-10 02:00", "u_repeat", "add_to_cart", None, None, "ads"),
        ("2025-03-10 05:00", "u_repeat", "view_item", None, None, "ads"),
        ("2025-03-10 06:00", "u_repeat", "add_to_cart", None, None, "ads"),
        ("2025-03-10 07:00", "u_repeat", "purchase", None, None, "ads"),
        # the cart exactly at t1 + 2 days is inside the window, the purchase 1 s later is not
        ("2025-03-10 04:00", "u_inside", "view_item"),
        ("2025-03-12 04:00:00", "u_inside", "add_to_cart"),
        ("2025-03-12 04:00:01", "u_inside", "purchase"),
        # first view 18:00 local 03-09 (before start) with a cart; enters with the view of
        # 04:00 local 03-11, and only what follows that view counts
        ("2025-03-09 10:00", "u_before", "view_item", None, None, "ads"),
        ("2025-03-09 11:00", "u_before", "add_to_cart", None, None, "ads"),
        ("2025-03-10 20:00", "u_before", "view_item", None, None, "push"),
        ("2025-03-10 21:00", "u_before", "add_to_cart", None, None, "push"),
        ("2025-03-10 22:00", "u_before", "purchase", None, None, "push"),
        # UTC 03-09 but 00:30 local 03-10: inside the range
        ("2025-03-09 16:30", "u_tz_in", "view_item", None, None, "search"),
        # UTC 03-11 but 00:30 local 03-12: after the range, not an entrant
        ("2025-03-11 16:30", "u_tz_out", "view_item", None, None, "search"),
        ("2025-03-11 16:40", "u_tz_out", "add_to_cart", None, None, "search"),
    ]
)


def test_funnel_story_counts_rates_and_times():
    table = funnel.funnel_table(STORY, SHANGHAI, STEPS, window_days=2)
    # entrants: u_order, u_repeat, u_inside, u_before, u_tz_in; carts: u_repeat, u_inside,
    # u_before; purchases: u_repeat, u_before
    assert table["users"].tolist() == [5, 3, 2]
    assert table["conversion_from_start"].tolist() == [1.0, 0.6, 0.4]
    assert table["conversion_from_previous"].iloc[1:].tolist() == [0.6, 2 / 3]
    assert table["drop_off"].tolist() == [0, 2, 1]
    # view → cart: u_repeat 1 h, u_inside 48 h, u_before 1 h; cart → purchase: 5 h and 1 h
    assert table["median_hours_from_previous"].iloc[1:].tolist() == [1.0, 3.0]
    assert table["mean_hours_from_previous"].iloc[1:].tolist() == [50 / 3, 3.0]


def test_funnel_reach_keeps_the_first_in_range_view_of_a_user_seen_before_start():
    reach = funnel.funnel_reach(STORY, SHANGHAI, STEPS, 2).to_pandas().set_index("user_id")
    t1 = pd.Timestamp("2025-03-10 20:00").timestamp()
    assert reach.loc["u_before"].tolist() == [t1, t1 + 3600, t1 + 7200]
    assert "u_tz_out" not in reach.index


def test_funnel_compares_step_times_to_the_whole_second():
    events = events_table(
        [
            # same second, cart 0.8 s before the view: counts (times are whole seconds, floored)
            ("2025-03-10 10:00:00.900", "same", "view_item"),
            ("2025-03-10 10:00:00.100", "same", "add_to_cart"),
            # cart 0.2 s before the view but in the second before it: does not count
            ("2025-03-10 10:00:01.100", "earlier", "view_item"),
            ("2025-03-10 10:00:00.900", "earlier", "add_to_cart"),
        ]
    )
    table = funnel.funnel_table(events, SHANGHAI, ["view_item", "add_to_cart"])
    assert table["users"].tolist() == [2, 1]
    assert table["median_hours_from_previous"].iloc[1] == 0.0
    reach = funnel.funnel_reach(events, SHANGHAI, ["view_item", "add_to_cart"])
    reach = reach.to_pandas().set_index("user_id")
    second = pd.Timestamp("2025-03-10 10:00:00").timestamp()
    assert reach.loc["same"].tolist() == [second, second]
    assert reach.loc["earlier", "t1"] == second + 1
    assert pd.isna(reach.loc["earlier", "t2"])


def test_breakdown_is_first_touch():
    table = funnel.funnel_breakdown(STORY, SHANGHAI, STEPS, 2, "channel")
    wide = table.pivot(index="channel", columns="step_index", values="users")
    # u_inside has no channel; u_repeat's first view came from search, its second from ads;
    # u_before's view before the range (ads) is not its entry (push)
    assert wide.to_dict("index") == {
        "(unknown)": {1: 1, 2: 1, 3: 0},
        "ads": {1: 1, 2: 0, 3: 0},
        "push": {1: 1, 2: 1, 3: 1},
        "search": {1: 2, 2: 1, 3: 1},
    }
    assert (
        table["channel"].tolist() == ["(unknown)"] * 3 + ["ads"] * 3 + ["push"] * 3 + ["search"] * 3
    )
    search = table[table["channel"] == "search"]
    assert search["conversion_from_start"].tolist() == [1.0, 0.5, 0.5]
    assert search["conversion_from_previous"].iloc[1:].tolist() == [0.5, 1.0]


def test_first_touch_takes_the_first_step_event_in_local_days_ties_by_value():
    events = events_table(
        [
            # Shanghai 03-10 starts at 03-09 16:00 UTC: a's 15:59 view is on local 03-09
            ("2025-03-09 15:59:59", "a", "view_item", None, None, "ads"),
            ("2025-03-09 16:00:00", "a", "view_item", None, None, "search"),
            ("2025-03-09 17:00:00", "a", "view_item", None, None, "push"),
            # two views at one instant: the smaller value, whatever the engine's row order
            ("2025-03-10 01:00:00", "b", "view_item", None, None, "search"),
            ("2025-03-10 01:00:00", "b", "view_item", None, None, "ads"),
            ("2025-03-10 02:00:00", "c", "view_item"),  # no channel
            ("2025-03-10 02:00:00", "d", "add_to_cart", None, None, "ads"),  # not the step
        ]
    )
    touch = funnel.first_touch(events, SHANGHAI, "view_item", "channel").to_pandas()
    assert dict(zip(touch["user_id"], touch["channel"], strict=True)) == {
        "a": "search",
        "b": "ads",
        "c": "(unknown)",
    }


def test_first_touches_take_each_first_touch_in_one_ranking():
    # a's first view in the local days is at 16:00 UTC (00:00 local 03-10). b has two views at
    # its first instant: each column takes its own least value there (channel ads; platform
    # "(unknown)", as the search view has none and "(" sorts before "w"; category bags, of k2),
    # not the values of one row. c's only view is at local 03-10 00:30.
    events = events_table(
        [
            ("2025-03-09 15:59:59", "a", "view_item", None, "k2", "ads", None, "web"),
            ("2025-03-09 16:00:00", "a", "view_item", None, "k1", "search", None, "app_ios"),
            ("2025-03-10 01:00:00", "b", "view_item", None, "k1", "search", None, None),
            ("2025-03-10 01:00:00", "b", "view_item", None, "k2", "ads", None, "web"),
            ("2025-03-10 02:00:00", "b", "view_item", None, "k3", "ads", None, "app_ios"),
            ("2025-03-09 16:30:00", "c", "view_item", None, "k9", None, None, "web"),
        ]
    )
    products = ibis.memtable(
        pd.DataFrame({"sku_id": ["k1", "k2", "k3"], "category": ["shoes", "bags", "hats"]})
    )
    # a user listed twice takes the least value; c is not in the users table
    users = ibis.memtable(
        pd.DataFrame({"user_id": ["a", "a", "b"], "region": ["west", "east", None]})
    )
    names = ["channel", "platform", "category", "region"]
    touches = funnel.first_touches(events, SHANGHAI, "view_item", names, products, users)
    table = touches.to_pandas().set_index("user_id").sort_index()
    assert table.to_dict("index") == {
        "a": {"channel": "search", "platform": "app_ios", "category": "shoes", "region": "east"},
        "b": {"channel": "ads", "platform": "(unknown)", "category": "bags", "region": "(unknown)"},
        "c": {
            "channel": "(unknown)",
            "platform": "web",
            "category": "(unknown)",
            "region": "(unknown)",
        },
    }
    for name in names:  # the same as one first touch each
        one = funnel.first_touch(events, SHANGHAI, "view_item", name, products, users).to_pandas()
        assert one.set_index("user_id")[name].sort_index().to_dict() == table[name].to_dict()
    with pytest.raises(ValueError, match="'colour'"):
        funnel.first_touches(events, SHANGHAI, "view_item", ["colour"], products, users)


def test_breakdowns_are_the_touch_columns_category_and_user_columns():
    events = events_table([("2025-03-10 01:00", "a", "view_item")])
    products = ibis.memtable(pd.DataFrame({"sku_id": ["s1"], "category": ["shoes"]}))
    users = ibis.memtable(pd.DataFrame({"user_id": ["a"], "region": ["north"]}))
    touch = ["session_id", "sku_id", "channel", "slot", "platform"]
    assert funnel.breakdowns(events) == touch
    assert funnel.breakdowns(events, products, users) == [*touch, "category", "region"]


def test_segment_conversion_intervals_and_test_against_the_rest():
    table = funnel.funnel_breakdown(STORY, SHANGHAI, STEPS, 2, "channel")
    segments = funnel.segment_conversion(table, "channel")
    # largest first, ties by name
    assert segments["channel"].tolist() == ["search", "(unknown)", "ads", "push"]
    assert segments["entrants"].tolist() == [2, 1, 1, 1]
    assert segments["converters"].tolist() == [1, 0, 0, 1]
    push = segments.set_index("channel").loc["push"]
    # Wilson for 1/1: centre (1 + z²/2) / (1 + z²), half-width (z²/2) / (1 + z²): from 1/(1 + z²)
    z = 1.959964
    assert push["conversion_low"] == pytest.approx(1 / (1 + z * z), rel=1e-5)
    assert push["conversion_high"] == pytest.approx(1.0)
    # search 1/2 against the other three entrants' 1/3: pooled z-test, p = 2 (1 − Φ(|z|))
    pooled = 2 / 5
    z_search = (1 / 2 - 1 / 3) / math.sqrt(pooled * (1 - pooled) * (1 / 2 + 1 / 3))
    p_search = math.erfc(z_search / math.sqrt(2))
    assert segments["p_value_vs_rest"].iloc[0] == pytest.approx(p_search)
    assert not segments["significant"].any()


def test_compare_segments_matches_newcombes_worked_example():
    # Newcombe (1998), Stat Med 17:873, example (a): 56/70 vs 48/80, method 10: 0.0524 to 0.3339
    steps = pd.DataFrame(
        {
            "arm": ["a", "a", "b", "b"],
            "step_index": [1, 2, 1, 2],
            "users": [70, 56, 80, 48],
        }
    )
    segments = funnel.segment_conversion(steps, "arm")
    row = funnel.compare_segments(segments, "arm", "a", "b").iloc[0]
    assert row["difference"] == pytest.approx(0.2)
    assert row["difference_low"] == pytest.approx(0.0524, abs=1e-4)
    assert row["difference_high"] == pytest.approx(0.3339, abs=1e-4)
    # chi-square on [[56, 14], [48, 32]]: z = 0.2 / sqrt(p(1 − p)(1/70 + 1/80)), p = 104/150
    pooled = 104 / 150
    z = 0.2 / math.sqrt(pooled * (1 - pooled) * (1 / 70 + 1 / 80))
    assert row["p_value"] == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert bool(row["significant"])
    # without names: the two largest segments, b (80) then a (70)
    default = funnel.compare_segments(segments, "arm").iloc[0]
    assert (default["segment_a"], default["segment_b"]) == ("b", "a")
    with pytest.raises(ValueError, match="name both"):
        funnel.compare_segments(segments, "arm", "a")


def test_breakdown_by_category_of_the_first_viewed_item_and_by_a_user_column():
    events = events_table(
        [
            ("2025-03-10 01:00", "a", "view_item", None, "s1"),
            ("2025-03-10 02:00", "a", "view_item", None, "s2"),  # later view: not the touch
            ("2025-03-10 03:00", "a", "purchase"),
            ("2025-03-10 01:00", "b", "view_item", None, "s2"),
            ("2025-03-10 01:00", "c", "view_item", None, "s9"),  # not in the catalogue
        ]
    )
    products = ibis.memtable(pd.DataFrame({"sku_id": ["s1", "s2"], "category": ["shoes", "toys"]}))
    steps = ["view_item", "purchase"]
    table = funnel.funnel_breakdown(events, SHANGHAI, steps, 7, "category", products)
    wide = table.pivot(index="category", columns="step_index", values="users")
    assert wide.to_dict("index") == {
        "(unknown)": {1: 1, 2: 0},
        "shoes": {1: 1, 2: 1},
        "toys": {1: 1, 2: 0},
    }

    users = ibis.memtable(pd.DataFrame({"user_id": ["a", "b"], "region": ["north", "north"]}))
    table = funnel.funnel_breakdown(events, SHANGHAI, steps, 7, "region", users=users)
    wide = table.pivot(index="region", columns="step_index", values="users")
    assert wide.to_dict("index") == {"(unknown)": {1: 1, 2: 0}, "north": {1: 2, 2: 1}}

    with pytest.raises(ValueError, match="needs the products table"):
        funnel.funnel_breakdown(events, SHANGHAI, steps, 7, "category")
    with pytest.raises(ValueError, match="neither an events column"):
        funnel.funnel_breakdown(events, SHANGHAI, steps, 7, "region")


def test_secondary_paths_are_stacked_in_the_order_given():
    events = events_table(
        [
            ("2025-03-10 01:00", "a", "view_promotion"),
            ("2025-03-10 01:01", "a", "select_promotion"),
            ("2025-03-10 01:02", "a", "purchase"),
            ("2025-03-10 01:00", "b", "view_promotion"),
            ("2025-03-10 02:00", "b", "view_item_list"),
            ("2025-03-10 02:01", "b", "select_item"),
        ]
    )
    paths = [
        ["view_promotion", "select_promotion", "purchase"],
        ["view_item_list", "select_item", "purchase"],
    ]
    table = funnel.funnel_paths(events, SHANGHAI, paths)
    assert (
        table["path"].tolist()
        == ["view_promotion → select_promotion → purchase"] * 3
        + ["view_item_list → select_item → purchase"] * 3
    )
    assert table["users"].tolist() == [2, 1, 1, 1, 1, 0]
    assert table["conversion_from_start"].tolist() == [1.0, 0.5, 0.5, 1.0, 1.0, 0.0]


# ---------------------------------------------------------------------------------------------
# Per-SKU and per-category conversion

ITEM_EVENTS = events_table(
    [
        ("2025-03-10 02:00", "a", "view_item", None, "s1"),
        ("2025-03-10 03:00", "a", "view_item", None, "s1"),
        ("2025-03-10 02:30", "a", "view_item", None, "s2"),
        ("2025-03-10 05:00", "b", "view_item", None, "s1"),
        ("2025-03-09 10:00", "c", "view_item", None, "s2"),  # 18:00 local 03-09: before start
        ("2025-03-10 06:00", "c", "add_to_cart", None, "s2"),  # not a view
    ]
)
ITEM_ORDERS = orders_table(
    [
        ("o1", "a", "2025-03-10 04:00", "2025-03-10 04:00", "paid", 30.0),  # s1 + s3
        ("o2", "b", "2025-03-09 00:00", "2025-03-09 00:00", "paid", 10.0),  # before b's view
        ("o3", "b", "2025-03-12 05:00", "2025-03-12 05:00:01", "paid", 10.0),  # 1 s too late
        ("o4", "a", "2025-03-10 04:00", "2025-03-10 04:00", "cancelled", 20.0),  # not paid
        ("o5", "d", "2025-03-10 04:00", "2025-03-10 04:00", "paid", 10.0),  # no events at all
        ("o6", "c", "2025-03-10 12:00", "2025-03-10 12:00", "paid", 20.0),  # viewed too early
    ]
)
ITEM_LINES = ibis.memtable(
    pd.DataFrame(
        {
            "order_id": ["o1", "o1", "o2", "o3", "o4", "o5", "o6"],
            "sku_id": ["s1", "s3", "s1", "s1", "s2", "s1", "s2"],
            "quantity": [1] * 7,
            "unit_price": [10.0] * 7,
        }
    )
)
ITEM_PRODUCTS = ibis.memtable(
    pd.DataFrame({"sku_id": ["s1", "s2", "s3"], "category": ["shoes", "shoes", "toys"]})
)


def test_sku_conversion_counts_purchases_of_that_item_inside_the_window():
    table = funnel.item_conversion(
        ITEM_EVENTS, ITEM_ORDERS, ITEM_LINES, SHANGHAI, 2, "sku", ITEM_PRODUCTS, 2, 1
    )
    # s1: viewers a (2 views) and b; a bought s1 2 h after the view, b only before and too late.
    # s2: viewer a (c viewed before start), bought only in a cancelled order.
    assert table["sku_id"].tolist() == ["s1", "s2"]
    assert table["category"].tolist() == ["shoes", "shoes"]
    assert table["views"].tolist() == [3, 1]
    assert table["viewers"].tolist() == [2, 1]
    assert table["buyers"].tolist() == [1, 0]
    assert table["conversion_rate"].tolist() == [0.5, 0.0]
    # only s1 has ≥ 2 viewers, so it is the one large-traffic item; each item's comparison is
    # the other's viewers pooled: s1 against s2's 0 of 1, s2 against s1's 1 of 2. s1's Wilson
    # interval of 1 of 2 (9.5%–90.5%) is not below 0, so it is not flagged (tests/
    # test_conversion_labels.py flags an item that is)
    assert table["large_traffic"].tolist() == [True, False]
    assert table["comparison_rate"].tolist() == [0.0, 0.5]
    assert table["below_comparison"].tolist() == [False, False]
    assert table["worst"].tolist() == [False, False]
    assert table["label_basis"].tolist() == [
        "95% 9.5%–90.5% above the other SKUs' 0.0%",
        "1 viewer, fewer than 2: not enough data",
    ]
    assert funnel.worst_items(table).empty

    by_rate = funnel.item_conversion(
        ITEM_EVENTS, ITEM_ORDERS, ITEM_LINES, SHANGHAI, 2, sort_by="conversion_rate", ascending=True
    )
    assert by_rate["sku_id"].tolist() == ["s2", "s1"]
    assert "category" not in by_rate


def test_category_conversion_counts_any_item_of_the_category():
    table = funnel.item_conversion(
        ITEM_EVENTS, ITEM_ORDERS, ITEM_LINES, SHANGHAI, 2, "category", ITEM_PRODUCTS
    )
    # shoes: viewers a (s1, s2) and b; a bought s1; toys (s3) was bought but never viewed
    assert table["category"].tolist() == ["shoes"]
    assert (table["views"].iloc[0], table["viewers"].iloc[0], table["buyers"].iloc[0]) == (4, 2, 1)
    with pytest.raises(ValueError, match="needs the products table"):
        funnel.item_conversion(ITEM_EVENTS, ITEM_ORDERS, ITEM_LINES, SHANGHAI, level="category")


# New York springs forward on Sunday 2025-03-09 (UTC−5 → UTC−4), inside a 7-day window from 03-05.
NEW_YORK = Period("2025-03-05", "2025-03-05", "America/New_York")


def test_item_conversion_window_is_seven_times_24_hours_across_spring_forward():
    events = events_table(
        [
            # 23:30 local on the last day (EST): t1 = 03-06 04:30 UTC, t1 + 7 d = 03-13 04:30 UTC
            ("2025-03-06 04:30", "in", "view_item", None, "s1"),
            ("2025-03-06 04:30", "late", "view_item", None, "s1"),
        ]
    )
    orders = orders_table(
        [
            # t1 + 6 d 23 h 45 min, i.e. 00:15 local 03-13: after the local midnight of
            # end + 8 days (04:00 UTC, EDT), still inside the window
            ("o1", "in", "2025-03-13 04:15", "2025-03-13 04:15", "paid", 10.0),
            ("o2", "late", "2025-03-13 04:30", "2025-03-13 04:30:01", "paid", 10.0),  # 1 s past
        ]
    )
    lines = ibis.memtable(
        pd.DataFrame(
            {"order_id": ["o1", "o2"], "sku_id": ["s1", "s1"], "quantity": 1, "unit_price": 10.0}
        )
    )
    table = funnel.item_conversion(events, orders, lines, NEW_YORK, 7, min_viewers=1)
    assert table[["sku_id", "viewers", "buyers", "conversion_rate"]].to_dict("list") == {
        "sku_id": ["s1"],
        "viewers": [2],
        "buyers": [1],
        "conversion_rate": [0.5],
    }
    # the funnel over the same events and window agrees
    funnel_events = events_table(
        [
            ("2025-03-06 04:30", "in", "view_item"),
            ("2025-03-13 04:15", "in", "purchase"),
            ("2025-03-06 04:30", "late", "view_item"),
            ("2025-03-13 04:30:01", "late", "purchase"),
        ]
    )
    steps = ["view_item", "purchase"]
    assert funnel.funnel_table(funnel_events, NEW_YORK, steps, 7)["users"].tolist() == [2, 1]


# ---------------------------------------------------------------------------------------------
# Daily monitoring


def _day_of_entrants(day: str, entrants: int, converters: int, prefix: str) -> list[tuple]:
    """``entrants`` users viewing at 10:00 local on ``day``, the first ``converters`` buying 1 h
    later."""
    rows = []
    for i in range(entrants):
        rows.append((f"{day} 02:00", f"{prefix}{i}", "view_item"))
        if i < converters:
            rows.append((f"{day} 03:00", f"{prefix}{i}", "purchase"))
    return rows


MONITORED = events_table(
    _day_of_entrants("2025-03-07", 2, 1, "d7_")  # 0.5
    + _day_of_entrants("2025-03-08", 4, 1, "d8_")  # 0.25
    + _day_of_entrants("2025-03-09", 2, 1, "d9_")  # 0.5
    + _day_of_entrants("2025-03-10", 4, 4, "d10_")  # 1.0
    + _day_of_entrants("2025-03-11", 1, 1, "d11_")
    # 16:30 UTC 03-10 is 00:30 local 03-11: with d11_0, 03-11 has 2 entrants, 1 converter
    + [("2025-03-10 16:30", "late", "view_item")]
)


def test_daily_conversion_tests_each_day_against_the_pooled_days_before_it():
    # band_days=3 (< 7: every day pooled, no weekday). 03-10: baseline 03-07..03-09 = 3 of 8
    # → p0 = 0.375; the test uses (3 + 0.5) / (8 + 1) = 0.3889: P(X ≥ 4 | 4, 0.3889) = 0.0229,
    # p = 0.0457. The band holds 99 % (alert_fdr 0.01) of X / 4: P(X = 0) = 0.139 > 0.005 → low
    # 0; P(X ≤ 3) = 0.977 < 0.995 → high 4 / 4 = 1. The 3-day window 03-08..03-10 (6 of 10)
    # against 03-05..03-07 (1 of 2, shrunk 0.5) gives p = 0.754; the 7-day window has no
    # baseline. The day's p-value is min(0.0457, 0.754) × 2 windows = 0.091 > 0.01: not flagged
    # (the old median ± k·MAD band without its noise floor flagged this day "above").
    # 03-11: 1 of 2 against 03-08..03-10 = 6 of 10 → p0 = 0.6, p = 1, band [0, 1].
    table = funnel.daily_conversion(MONITORED, SHANGHAI, ["view_item", "purchase"], 1, band_days=3)
    assert table["date"].dt.strftime("%Y-%m-%d").tolist() == ["2025-03-10", "2025-03-11"]
    assert table["entrants"].tolist() == [4, 2]
    assert table["converters"].tolist() == [4, 1]
    assert table["conversion_rate"].tolist() == [1.0, 0.5]
    assert table["band_median"].tolist() == pytest.approx([0.375, 0.6])
    assert table["expected"].tolist() == table["band_median"].tolist()
    assert table["band_low"].tolist() == [0.0, 0.0]
    assert table["band_high"].tolist() == [1.0, 1.0]
    assert table["p_value"].tolist() == pytest.approx([0.045744, 1.0], abs=1e-6)
    assert table["outside_band"].tolist() == [False, False]
    assert table["flag"].tolist() == ["", ""]
    assert table["incident_id"].tolist() == [0, 0]
    # the old columns first, in their order (funnel_daily.csv's contract)
    assert table.columns[:9].tolist() == [
        "date",
        "entrants",
        "converters",
        "conversion_rate",
        "band_median",
        "band_low",
        "band_high",
        "outside_band",
        "flag",
    ]


def test_days_outside_band_keeps_only_the_flagged_days_in_date_order():
    daily = pd.DataFrame(
        {
            "date": pd.to_datetime(["2025-03-10", "2025-03-11", "2025-03-12", "2025-03-13"]),
            "conversion_rate": [0.5, 0.9, 0.4, 0.1],
            "outside_band": [False, True, False, True],
            "flag": ["", "above", "", "below"],
        }
    )
    flagged = funnel.days_outside_band(daily)
    assert flagged["date"].dt.strftime("%m-%d").tolist() == ["03-11", "03-13"]
    assert flagged["flag"].tolist() == ["above", "below"]
    assert flagged.index.tolist() == [0, 1]
    assert funnel.days_outside_band(daily.assign(outside_band=False)).empty


# The low-volume shop: 25 entrants a day converting 0, 2, 0, 0, 4 in turn (a 5-day cycle,
# so the weekday baselines mix every value: 7 mod 5 = 2), 4.8 % on average.
LOW_START = pd.Timestamp("2025-01-01")
LOW_CYCLE = [0, 2, 0, 0, 4]


def _low_volume_shop(days: int, fall: range = range(0)) -> ibis.Table:
    """``days`` days from LOW_START of 25 entrants; on the day offsets in ``fall`` nobody buys."""
    rows = []
    for offset in range(days):
        day = f"{LOW_START + pd.Timedelta(days=offset):%Y-%m-%d}"
        converters = 0 if offset in fall else LOW_CYCLE[offset % len(LOW_CYCLE)]
        rows += _day_of_entrants(day, 25, converters, f"u{offset}_")
    return events_table(rows)


LOW_PERIOD = Period("2025-02-05", "2025-03-06", "Asia/Shanghai")  # offsets 35..64


def test_daily_conversion_flags_no_ordinary_day_of_a_low_volume_shop():
    # The old band: any 7 days hold a whole cycle and two more days, so at least four days
    # without a converter: median 0, MAD 0, noise floor sqrt(0 × 1 / 25) = 0, the band [0, 0],
    # and every day with a converter (2 of 5, 12 of these 30) was "above".
    # Now a 4-converter day (16 %) is compared with its four same weekdays, 0, 0, 0 and 2 of
    # 100 (shrunk p0 = 2.5 / 101 ≈ 2.5 %): P(X ≥ 4 | 25, 0.025) ≈ 0.0031, p ≈ 0.0063, times 3
    # windows 0.019; the six such days are far from the Benjamini–Hochberg cuts over 30 days at
    # 0.01 (0.01 × 6 / 30 = 0.002 for six discoveries).
    table = funnel.daily_conversion(
        _low_volume_shop(65), LOW_PERIOD, ["view_item", "purchase"], 1, band_days=28
    )
    assert len(table) == 30
    assert table["entrants"].eq(25).all()
    assert table["converters"].between(0, 4).all()
    assert table["band_median"].notna().all()
    assert not table["outside_band"].any()
    assert table["flag"].eq("").all()
    assert table["p_value"].min() == pytest.approx(0.0063, abs=1e-4)  # a 4-converter day's own


def test_daily_conversion_flags_a_genuine_fall_of_a_low_volume_shop_below():
    # Nobody buys on offsets 45..54 (2025-02-15..02-24), where 12 converters were due. One day
    # (0 of 25 at p0 ≈ 4.8 %: P(X = 0) ≈ 0.29) or three (0.952^75 ≈ 0.025, p ≈ 0.15 after
    # doubling and 3 windows) cannot tell. Seven can: 0 of 175 has P ≈ 0.952^175 ≈ 2e-4, p ≈
    # 1e-3 after doubling and 3 windows, under the Benjamini–Hochberg cut of five discoveries
    # among 30 days (0.01 × 5 / 30); the window ending 02-20 still holds 02-14's 4 converters.
    # So the incident starts on 02-21, once the 7-day window lies in the fall, "below", and runs
    # on while a 7-day window still holds enough of the fall (up to 6 days after it).
    table = funnel.daily_conversion(
        _low_volume_shop(65, fall=range(45, 55)),
        LOW_PERIOD,
        ["view_item", "purchase"],
        1,
        band_days=28,
    )
    flagged = funnel.days_outside_band(table)
    fall = pd.date_range("2025-02-15", "2025-02-24")
    assert flagged["date"].min() == pd.Timestamp("2025-02-21")
    assert flagged["date"].max() <= fall[-1] + pd.Timedelta(days=6)
    assert flagged["flag"].eq("below").all()
    assert flagged["incident_id"].nunique() == 1
    assert flagged["date"].isin(fall).sum() == 4  # 02-21..02-24


def test_band_k_note_only_for_a_value_other_than_the_default():
    assert funnel.band_k_note(3.0) is None
    assert funnel.band_k_note(2) == (
        "band_k = 2 is ignored since issue 17: the daily monitoring no longer draws a median ± "
        "k·MAD band; each day is tested against its baseline, and alert_fdr and min_effect "
        "decide which days are flagged."
    )


def test_daily_conversion_accepts_band_k_and_ignores_it():
    default = funnel.daily_conversion(MONITORED, SHANGHAI, ["view_item", "purchase"], 1, 3)
    other = funnel.daily_conversion(MONITORED, SHANGHAI, ["view_item", "purchase"], 1, 3, 0.5)
    pd.testing.assert_frame_equal(default, other)


# ---------------------------------------------------------------------------------------------
# Drop-off lists


def test_dropoff_list_holds_who_stopped_after_the_step():
    carted = funnel.dropoff_users(STORY, SHANGHAI, STEPS, "add_to_cart", 2)
    expected = pd.DataFrame(
        {
            "user_id": ["u_inside"],
            "last_step_time": ["2025-03-12 04:00:00"],
            "last_step_local_time": ["2025-03-12 12:00:00"],
            "channel": ["(unknown)"],
        }
    )
    pd.testing.assert_frame_equal(carted, expected, check_dtype=False)

    viewed = funnel.dropoff_users(STORY, SHANGHAI, STEPS, "view_item", 2)
    assert viewed["user_id"].tolist() == ["u_order", "u_tz_in"]
    assert viewed["last_step_local_time"].tolist() == ["2025-03-10 10:00:00", "2025-03-10 00:30:00"]
    assert viewed["channel"].tolist() == ["ads", "search"]
    with pytest.raises(ValueError, match="before the last"):
        funnel.dropoff_users(STORY, SHANGHAI, STEPS, "purchase", 2)


def test_dropoff_behaviour_counts_events_until_conversion_or_window_end():
    events = events_table(
        [
            # converter: counted from the view up to the purchase, not after
            ("2025-03-10 01:00", "c", "view_item"),
            ("2025-03-10 01:30", "c", "page_view"),
            ("2025-03-10 02:00", "c", "add_to_cart"),
            ("2025-03-10 02:30", "c", "claim_coupon"),
            ("2025-03-10 03:00", "c", "purchase"),
            ("2025-03-10 04:00", "c", "page_view"),
            # dropper: counted for the whole day after the view, to 01:00 the next day
            ("2025-03-10 01:00", "d", "view_item"),
            ("2025-03-10 02:00", "d", "add_to_cart"),
            ("2025-03-10 05:00", "d", "page_view"),
            ("2025-03-10 06:00", "d", "page_view"),
            ("2025-03-11 00:59", "d", "view_item"),
            ("2025-03-11 01:00:01", "d", "page_view"),
            # never carted: in neither group
            ("2025-03-10 01:00", "e", "view_item"),
            ("2025-03-10 01:05", "e", "page_view"),
        ]
    )
    table = funnel.dropoff_behaviour(events, SHANGHAI, STEPS, "add_to_cart", 1)
    # one dropper and one converter: the n of every share (the test of the shares is checked in
    # tests/test_conversion_labels.py)
    assert table["droppers"].tolist() == table["converters"].tolist() == [1] * 5
    table = table.drop(columns=["droppers", "converters", "p_value", "significant"])
    assert table.to_dict("list") == {
        "event_name": ["add_to_cart", "claim_coupon", "page_view", "purchase", "view_item"],
        "droppers_with_event": [1, 0, 1, 0, 1],
        "converters_with_event": [1, 1, 1, 1, 1],
        "share_of_droppers": [1.0, 0.0, 1.0, 0.0, 1.0],
        "share_of_converters": [1.0, 1.0, 1.0, 1.0, 1.0],
        "events_per_dropper": [1.0, 0.0, 2.0, 0.0, 2.0],
        "events_per_converter": [1.0, 1.0, 1.0, 1.0, 1.0],
    }


def test_dropoff_behaviour_watches_droppers_until_t1_plus_window_across_spring_forward():
    events = events_table(
        [
            ("2025-03-06 04:30", "d", "view_item"),  # 23:30 local 03-05 (EST): t1
            ("2025-03-06 05:00", "d", "add_to_cart"),  # never purchases: a dropper
            # t1 + 6 d 23 h 45 min = 00:15 local 03-13 (EDT): inside the window, though after
            # the local midnight of end + 8 days (04:00 UTC)
            ("2025-03-13 04:15", "d", "page_view"),
            ("2025-03-13 04:30:01", "d", "page_view"),  # t1 + 7 d + 1 s: after the window
        ]
    )
    table = funnel.dropoff_behaviour(events, NEW_YORK, STEPS, "add_to_cart", 7)
    table = table.set_index("event_name")
    assert table.index.tolist() == ["add_to_cart", "page_view", "view_item"]
    assert table["droppers_with_event"].tolist() == [1, 1, 1]
    assert table["events_per_dropper"].tolist() == [1.0, 1.0, 1.0]
    assert table["converters_with_event"].tolist() == [0, 0, 0]


# Every funnel function that takes a window, called with the window as its one argument.
WINDOWED = {
    "funnel_reach": lambda w: funnel.funnel_reach(STORY, SHANGHAI, STEPS, w).to_pandas(),
    "funnel_table": lambda w: funnel.funnel_table(STORY, SHANGHAI, STEPS, w),
    "funnel_breakdown": lambda w: funnel.funnel_breakdown(STORY, SHANGHAI, STEPS, w),
    "funnel_paths": lambda w: funnel.funnel_paths(STORY, SHANGHAI, [STEPS], w),
    "item_conversion": lambda w: funnel.item_conversion(
        ITEM_EVENTS, ITEM_ORDERS, ITEM_LINES, SHANGHAI, w
    ),
    "daily_conversion": lambda w: funnel.daily_conversion(
        MONITORED, SHANGHAI, ["view_item", "purchase"], w, band_days=3
    ),
    "dropoff_users": lambda w: funnel.dropoff_users(STORY, SHANGHAI, STEPS, "add_to_cart", w),
    "dropoff_behaviour": lambda w: funnel.dropoff_behaviour(
        STORY, SHANGHAI, STEPS, "add_to_cart", w
    ),
}


@pytest.mark.parametrize("function", sorted(WINDOWED))
@pytest.mark.parametrize(
    ("window_days", "refusal"),
    [
        (0, "window_days=0 must be from 1 to 3660"),
        (-7, "window_days=-7 must be from 1 to 3660"),
        (3661, "window_days=3661 must be from 1 to 3660"),  # the runner's bound (lib.parameters)
        (1, None),
    ],
)
def test_funnel_windows_are_at_least_a_day(function, window_days, refusal):
    if refusal is None:
        assert isinstance(WINDOWED[function](window_days), pd.DataFrame)
    else:
        with pytest.raises(ValueError, match=re.escape(refusal)):
            WINDOWED[function](window_days)


@pytest.mark.parametrize(
    ("k", "refusal"),
    [(0, "k=0 must be above 0"), (-3, "k=-3 must be above 0"), (math.nan, "k=nan must be above 0")],
)
def test_daily_conversion_band_multiplier_is_above_0(k, refusal):
    with pytest.raises(ValueError, match=re.escape(refusal)):
        funnel.daily_conversion(MONITORED, SHANGHAI, ["view_item", "purchase"], 1, band_days=3, k=k)


# ---------------------------------------------------------------------------------------------
# GMV decomposition


def test_gmv_decomposition_by_hand():
    events = events_table(
        [
            # previous period (03-08..03-09): visitors x, y
            ("2025-03-08 02:00", "x", "page_view"),
            ("2025-03-08 03:00", "y", "page_view"),
            # this period: visitors x, y, z, w
            ("2025-03-10 02:00", "x", "page_view"),
            ("2025-03-10 02:00", "y", "page_view"),
            ("2025-03-11 02:00", "z", "page_view"),
            ("2025-03-11 02:00", "w", "page_view"),
        ]
    )
    orders = orders_table(
        [
            ("p1", "x", "2025-03-08 02:00", "2025-03-08 02:00", "paid", 100.0),
            ("c1", "x", "2025-03-10 02:00", "2025-03-10 02:00", "paid", 150.0),
            ("c2", "z", "2025-03-09 16:00", "2025-03-09 16:30", "paid", 90.0),  # 00:30 local 03-10
            ("c3", "phone", "2025-03-10 05:00", "2025-03-10 05:00", "paid", 60.0),  # no events
            ("c4", "w", "2025-03-10 05:00", "2025-03-10 05:00", "cancelled", 500.0),
            ("c5", "w", "2025-03-11 16:30", "2025-03-11 16:30", "paid", 70.0),  # 03-12 local
        ]
    )
    table = gmv.gmv_decomposition(orders, SHANGHAI, events).set_index("factor")
    # before: 2 visitors × 1/2 × 100 = 100; after: 4 × 3/4 × 100 = 300 (the phone buyer buys
    # without visiting). Shapley: UV 2 × (0.5 + 0.75)/2 × 100 = 125, conversion
    # 0.25 × (2 + 4)/2 × 100 = 75, sales per buyer unchanged: 0.
    assert table["previous"].tolist() == [2.0, 0.5, 100.0, 100.0]
    assert table["current"].tolist() == [4.0, 0.75, 100.0, 300.0]
    assert table["gmv_effect"].tolist() == [125.0, 75.0, 0.0, 200.0]
    assert table["share_of_change"].tolist() == [0.625, 0.375, 0.0, 1.0]
    assert table.loc["gmv", "change"] == 200.0
    assert table.loc["uv", "relative_change"] == 1.0


def test_gmv_decomposition_is_null_when_buyers_have_no_visitors():
    orders = orders_table([("o", "phone", "2025-03-10 05:00", "2025-03-10 05:00", "paid", 60.0)])
    events = events_table([("2025-03-01 01:00", "x", "page_view")])  # nobody in either period
    table = gmv.gmv_decomposition(orders, SHANGHAI, events)
    assert table["gmv_effect"].iloc[:3].isna().all()
    assert table["gmv_effect"].iloc[3] == 60.0


def test_round_to_total_gives_leftover_cents_to_the_largest_remainders():
    assert gmv.round_to_total([1 / 3, 1 / 3, 1 / 3], 1.0) == [0.34, 0.33, 0.33]
    assert gmv.round_to_total([-1 / 3, -1 / 3, -1 / 3], -1.0) == [-0.33, -0.33, -0.34]
    # equal remainders: the earlier part gets the cent
    assert gmv.round_to_total([0.125, 0.875, 0.0], 1.0) == [0.13, 0.87, 0.0]


factor = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)
rate = st.floats(min_value=0, max_value=1, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(st.tuples(factor, rate, factor), st.tuples(factor, rate, factor))
def test_shapley_effects_add_up_to_the_change(before, after):
    effects = gmv.shapley_effects(before, after)
    change = math.prod(after) - math.prod(before)
    # float error grows with the largest mixed product the formula forms, e.g. x1·y1·z0
    scale = max(
        [
            x * y * z
            for x in (before[0], after[0])
            for y in (before[1], after[1])
            for z in (before[2], after[2])
        ]
        + [1.0]
    )
    assert sum(effects) == pytest.approx(change, rel=1e-9, abs=1e-9 * scale)
    total = round(change, 2)
    rounded = gmv.round_to_total(effects, total)
    assert sum(round(part * 100) for part in rounded) == round(total * 100)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=4 * 24 * 60),  # minutes after 03-09 12:00 UTC
            st.sampled_from(["a", "b", "c", "d"]),
            st.sampled_from(STEPS),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_funnel_counts_never_increase_and_rates_are_shares(rows):
    start = pd.Timestamp("2025-03-09 12:00")
    events = events_table(
        [((start + pd.Timedelta(minutes=m)).isoformat(), user, name) for m, user, name in rows]
    )
    table = funnel.funnel_table(events, SHANGHAI, STEPS, window_days=1)
    users = table["users"].tolist()
    assert all(later <= earlier for earlier, later in zip(users, users[1:], strict=False))
    for column in ("conversion_from_start", "conversion_from_previous"):
        shares = table[column].dropna()
        assert ((shares >= 0) & (shares <= 1)).all()


# ---------------------------------------------------------------------------------------------
# Charts


@pytest.mark.parametrize(
    "make",
    [
        lambda: plots.funnel_chart(funnel.funnel_table(STORY, SHANGHAI, STEPS, 2), "Funnel"),
        lambda: plots.funnel_paths_chart(
            funnel.funnel_paths(STORY, SHANGHAI, [STEPS, ["view_item", "purchase"]]), "Paths"
        ),
        lambda: plots.funnel_by_segment(
            funnel.funnel_breakdown(STORY, SHANGHAI, STEPS, 2), "channel", "By channel"
        ),
        lambda: plots.conversion_band(
            funnel.daily_conversion(MONITORED, SHANGHAI, ["view_item", "purchase"], 1, 3, 2.0),
            "Band",
        ),
        lambda: plots.item_conversion_scatter(
            funnel.item_conversion(ITEM_EVENTS, ITEM_ORDERS, ITEM_LINES, SHANGHAI, 2), "SKUs", 2
        ),
        lambda: plots.behaviour_comparison(
            funnel.dropoff_behaviour(STORY, SHANGHAI, STEPS, "add_to_cart", 2), "Behaviour"
        ),
        lambda: plots.gmv_waterfall(
            pd.DataFrame(
                {
                    "factor": ["uv", "conversion_rate", "sales_per_buyer", "gmv"],
                    "previous": [2.0, 0.5, 100.0, 100.0],
                    "current": [4.0, 0.75, 80.0, 240.0],
                    "gmv_effect": [125.0, 75.0, -60.0, 140.0],
                }
            ),
            "Waterfall",
        ),
    ],
)
def test_conversion_charts_have_title_and_axis_labels(make):
    fig = make()
    ax = fig.axes[0]
    assert ax.get_title() or (fig._suptitle is not None and fig._suptitle.get_text())
    assert ax.get_xlabel() and ax.get_ylabel()
    plt.close(fig)


def test_main_path_leaves_out_steps_the_events_never_have(tmp_path):
    from lib import data

    # a shop that never logs begin_checkout (common: checkout happens on a payment page)
    frame = pd.DataFrame(
        {
            "event_time": pd.to_datetime(["2025-03-01 10:00", "2025-03-01 10:05"]),
            "user_id": ["a", "a"],
            "event_name": ["view_item", "add_to_cart"],
        }
    )
    for column in ("session_id", "sku_id", "channel", "slot", "platform"):
        frame[column] = pd.Series([None, None], dtype="string")
    frame.to_parquet(tmp_path / "events.parquet")
    shop = data.open_source(tmp_path)
    # no checkout and no purchase either: the view and the cart remain
    assert funnel.main_path(shop) == ("view_item", "add_to_cart")
    # steps given are kept as given
    assert funnel.main_path(shop, ["view_item", "purchase"]) == ("view_item", "purchase")
    # neither default secondary path: no promotion or list events
    assert funnel.secondary_paths(shop) == []
    # the sample has every default step and both default secondary paths
    sample = data.open_source()
    assert funnel.main_path(sample) == funnel.DEFAULT_STEPS
    assert funnel.secondary_paths(sample) == list(funnel.DEFAULT_SECONDARY_PATHS)


def test_dropoff_note_only_when_the_step_has_no_next_step():
    assert funnel.dropoff_note(funnel.DEFAULT_STEPS, "add_to_cart") is None
    note = funnel.dropoff_note(("view_item", "add_to_cart"), "add_to_cart")
    assert note is not None and "'add_to_cart' is not a step before the last" in note
    assert note.endswith("set dropoff_step to one of view_item.")
    assert "add_to_kart" in funnel.dropoff_note(funnel.DEFAULT_STEPS, "add_to_kart")
