"""The overview lines indicators up against a baseline (by default the previous period of equal
length), and compares only where the data covers the baseline."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from lib import data, gmv, overview, traffic
from lib.comparison import covered_days
from lib.periods import Period

from .conftest import events_table, orders_table

PERIOD = Period("2025-03-03", "2025-03-04", "UTC")  # previous period: 03-01..03-02

EVENT_ROWS = [
    ("2025-03-01 10:00", "a", "page_view"),
    ("2025-03-02 10:00", "a", "page_view"),
    ("2025-03-03 10:00", "a", "page_view"),
    ("2025-03-03 11:00", "b", "page_view"),
    ("2025-03-04 10:00", "b", "page_view"),
]
EVENTS = events_table(EVENT_ROWS)
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


# ---------------------------------------------------------------- baselines and their coverage


def test_covered_days_count_the_baseline_days_inside_the_data_across_local_midnight():
    shanghai = Period("2025-03-01", "2025-03-04", "Asia/Shanghai")
    # 15:59 UTC is 23:59 local on 03-01: the data begins on 03-01, all 4 days are covered
    early = events_table([("2025-03-01 15:59", "a", "page_view"), ("2025-03-05 01:00", "a", "x")])
    assert covered_days(early, "event_time", shanghai) == 4
    # 16:00 UTC is 00:00 local on 03-02: 03-01 holds no data (3 of 4)
    late = events_table([("2025-03-01 16:00", "a", "page_view"), ("2025-03-05 01:00", "a", "x")])
    assert covered_days(late, "event_time", shanghai) == 3
    # data ending on 03-02 local: 03-03 and 03-04 lie after it (2 of 4, the days between count)
    ends = events_table([("2025-02-01 01:00", "a", "page_view"), ("2025-03-02 10:00", "a", "x")])
    assert covered_days(ends, "event_time", shanghai) == 2
    assert covered_days(late, "event_time", Period("2024-03-01", "2024-03-04", "UTC")) == 0


def test_a_partly_covered_baseline_is_not_compared():
    # the events begin on 03-02: the previous period 03-01..03-02 has events on 1 of its 2 days;
    # the orders begin on 03-01 and cover it
    events = events_table([(t, u, n) for t, u, n in EVENT_ROWS if not t.startswith("2025-03-01")])
    table = overview.indicator_summary(PERIOD, events, ORDERS).set_index("indicator")
    partial = table[table["family"].isin(["active users", "retention", "conversion"])]
    assert partial["previous"].isna().all() and partial["change"].isna().all()
    assert set(partial["comparison"]) == {"the previous period covers only 1 of 2 days"}
    assert set(partial["baseline_days_covered"]) == {1}
    assert table.loc["GMV", ["previous", "change", "comparison"]].tolist() == [10.0, 7.0, ""]
    assert table.loc["GMV", "baseline_start"] == pd.Timestamp("2025-03-01")
    assert table.loc["GMV", "baseline_days"] == 2
    note = overview.comparison_note(table.reset_index(), "previous_period")
    assert note == (
        "Compared with the previous period, 2025-03-01..2025-03-02: the data covers only 1 of "
        "its 2 days for active users, conversion, retention, so those changes are not shown "
        "(a partial baseline would make every number look larger now)."
    )
    full = overview.indicator_summary(PERIOD, EVENTS, ORDERS)
    assert overview.comparison_note(full, "previous_period") == (
        "Compared with the previous period, 2025-03-01..2025-03-02, which the data covers in full."
    )


def test_no_baseline_and_last_years_baseline():
    none = overview.indicator_summary(PERIOD, EVENTS, ORDERS, compare_to="none")
    assert none["previous"].isna().all() and none["change"].isna().all()
    assert set(none["comparison"]) == {"not compared (compare_to none)"}
    assert overview.comparison_note(none, "none") == (
        "Not compared with another period (compare_to none)."
    )
    # a year earlier there is no data at all: nothing is compared
    last_year = overview.indicator_summary(PERIOD, EVENTS, ORDERS, "same_period_last_year")
    assert set(last_year["comparison"]) == {"the same period last year covers only 0 of 2 days"}
    assert last_year["baseline_start"].iloc[0] == pd.Timestamp("2024-03-03")
    assert last_year["change"].isna().all()
    with pytest.raises(ValueError, match="compare_to='last_week' must be one of"):
        overview.indicator_summary(PERIOD, EVENTS, ORDERS, compare_to="last_week")


def test_last_year_is_the_same_calendar_days():
    assert Period("2024-02-29", "2024-03-05").last_year() == Period("2023-02-28", "2023-03-05")
    assert Period("2025-03-03", "2025-03-04").baseline("previous_period") == Period(
        "2025-03-01", "2025-03-02"
    )
    assert Period("2025-03-03", "2025-03-04").baseline("none") is None


def test_the_sample_shop_started_19_days_before_this_range_is_not_compared():
    # known truth: the sample's data begins on 2025-08-01 (Shanghai); a 60-day range starting
    # 19 days later has a previous period (06-21..08-19) with data on 19 of its 60 days
    src = data.open_source(None)
    period = Period("2025-08-20", "2025-10-18", "Asia/Shanghai")
    table = overview.indicator_summary(period, src["events"], src["orders"])
    assert set(table["baseline_days_covered"]) == {19}
    assert table["change"].isna().all() and table["previous"].isna().all()
    assert set(table["comparison"]) == {"the previous period covers only 19 of 60 days"}


def test_the_gmv_summarys_visitors_are_the_period_active_users():
    # the overview takes the period's UV from gmv_summary when there are orders
    for period in (PERIOD, PERIOD.previous(), Period("2025-03-01", "2025-03-04", "Asia/Shanghai")):
        uv = gmv.gmv_summary(ORDERS, period, EVENTS)["uv"].iloc[0]
        assert uv == traffic.period_active_users(EVENTS, period)
    table = overview.indicator_summary(PERIOD, EVENTS, ORDERS).set_index("indicator")
    events_only = overview.indicator_summary(PERIOD, EVENTS).set_index("indicator")
    assert (
        table.loc["period active users (UV)", "value"]
        == events_only.loc["period active users (UV)", "value"]
        == 2.0
    )
