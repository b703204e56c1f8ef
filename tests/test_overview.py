"""The overview lines indicators up against the previous period of equal length."""

from __future__ import annotations

import math

from lib import overview
from lib.periods import Period

from .conftest import events_table, orders_table

PERIOD = Period("2025-03-03", "2025-03-04", "UTC")  # previous period: 03-01..03-02

EVENTS = events_table(
    [
        ("2025-03-01 10:00", "a", "page_view"),
        ("2025-03-02 10:00", "a", "page_view"),
        ("2025-03-03 10:00", "a", "page_view"),
        ("2025-03-03 11:00", "b", "page_view"),
        ("2025-03-04 10:00", "b", "page_view"),
    ]
)
ORDERS = orders_table(
    [
        ("o1", "a", "2025-03-01 10:00", "2025-03-01 10:05", "paid", 10.0),
        ("o2", "a", "2025-03-03 10:00", "2025-03-03 10:05", "paid", 30.0),
        ("o3", "a", "2025-03-04 10:00", "2025-03-04 10:05", "paid", 50.0),
    ]
)


def test_indicator_summary_values_and_changes():
    table = overview.indicator_summary(PERIOD, EVENTS, ORDERS).set_index("indicator")
    assert table.loc["GMV", ["value", "previous"]].tolist() == [80.0, 10.0]
    assert table.loc["GMV", "change"] == 7.0
    assert table.loc["period active users (UV)", ["value", "previous"]].tolist() == [2.0, 1.0]
    assert table.loc["average DAU", ["value", "previous"]].tolist() == [1.5, 1.0]
    assert table.loc["conversion rate (buyers / UV)", ["value", "previous"]].tolist() == [0.5, 1.0]
    assert table.loc["repurchase rate", "value"] == 1.0  # a paid twice in the period
    assert table.loc["repeat GMV share", "value"] == 50 / 80
    # b is new on 03-03 and back on 03-04: next-day retention 1; a's cohort (03-01) is earlier.
    assert table.loc["next-day retention", "value"] == 1.0
    assert table.loc["next-day retention", "previous"] == 1.0
    assert math.isnan(table.loc["7-day retention", "value"])
    assert table.loc["repurchase rate", "term"] == "复购率"
    assert list(table["family"].unique()) == [
        "active users",
        "conversion",
        "retention",
        "repurchase",
        "GMV",
    ]


def test_indicator_summary_orders_only():
    table = overview.indicator_summary(PERIOD, orders=ORDERS)
    assert "average DAU" not in set(table["indicator"])
    assert table.set_index("indicator").loc["GMV", "value"] == 80.0


def test_previous_period_counts_returns_that_fall_in_the_current_one():
    # Shanghai days; previous period 03-01..03-02, current 03-03..03-04. c is new on 03-02
    # (local 23:30, UTC 15:30) and back on 03-03 (local 00:30, UTC 16:30 on 03-02): its next-day
    # return lies in the current period but belongs to the previous period's cohort.
    period = Period("2025-03-03", "2025-03-04", "Asia/Shanghai")
    events = events_table(
        [
            ("2025-03-01 02:00", "a", "page_view"),  # a: new on 03-01, never back
            ("2025-03-02 15:30", "c", "page_view"),
            ("2025-03-02 16:30", "c", "page_view"),
            ("2025-03-03 02:00", "d", "page_view"),  # d: new on 03-03, back on 03-04
            ("2025-03-04 02:00", "d", "page_view"),
        ]
    )
    table = overview.indicator_summary(period, events).set_index("indicator")
    # previous cohorts: a (03-01, not back) and c (03-02, back on 03-03): 1 of 2
    assert table.loc["next-day retention", "previous"] == 0.5
    assert table.loc["next-day retention", "value"] == 1.0  # d
    assert table.loc["new users", ["value", "previous"]].tolist() == [1.0, 2.0]
    # DAU: 03-01 {a}, 03-02 {c}; 03-03 {c, d}, 03-04 {d}
    assert table.loc["average DAU", ["value", "previous"]].tolist() == [1.5, 1.0]
    assert table.loc["WAU on the last day", ["value", "previous"]].tolist() == [3.0, 2.0]
