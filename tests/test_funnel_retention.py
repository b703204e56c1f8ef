"""Funnel and cohort retention on little user stories, across the local midnight."""

from __future__ import annotations

import pandas as pd

from lib import funnel, retention
from lib.periods import Period

from .conftest import events_table

SHANGHAI = Period("2025-03-10", "2025-03-11", "Asia/Shanghai")


def test_funnel_order_window_and_entry_day():
    events = events_table(
        [
            # u1 views 23:59 local 03-09 (before the range), again 00:00 local 03-10: enters then.
            ("2025-03-09 15:59", "u1", "view_item"),
            ("2025-03-09 16:00", "u1", "view_item"),
            ("2025-03-09 17:00", "u1", "add_to_cart"),
            ("2025-03-09 19:00", "u1", "purchase"),
            # u2 carts before viewing (does not count), then views and never carts again.
            ("2025-03-10 01:00", "u2", "add_to_cart"),
            ("2025-03-10 02:00", "u2", "view_item"),
            # u3 views, carts exactly at the 3-day window's end, buys one second too late.
            ("2025-03-10 03:00", "u3", "view_item"),
            ("2025-03-13 03:00", "u3", "add_to_cart"),
            ("2025-03-13 03:00:01", "u3", "purchase"),
        ]
    )
    steps = ["view_item", "add_to_cart", "purchase"]
    table = funnel.funnel_table(events, SHANGHAI, steps, window_days=3)
    assert table["users"].tolist() == [3, 2, 1]
    assert table["drop_off"].tolist() == [0, 1, 1]
    assert table["conversion_from_start"].tolist() == [1.0, 2 / 3, 1 / 3]
    assert table["conversion_from_previous"].iloc[1:].tolist() == [2 / 3, 0.5]
    # u1 carts 1 h after the view, u3 72 h after; u1 buys 2 h after carting.
    assert table["median_hours_from_previous"].iloc[1] == 36.5
    assert table["mean_hours_from_previous"].iloc[2] == 2.0


def test_funnel_repeated_steps_use_the_earliest_in_order():
    events = events_table(
        [
            ("2025-03-10 01:00", "u", "view_item"),
            ("2025-03-10 02:00", "u", "view_item"),
            ("2025-03-10 03:00", "u", "add_to_cart"),
            ("2025-03-10 04:00", "u", "add_to_cart"),
        ]
    )
    table = funnel.funnel_table(events, SHANGHAI, ["view_item", "add_to_cart"])
    assert table["users"].tolist() == [1, 1]
    assert table["median_hours_from_previous"].iloc[1] == 2.0  # from the first view


def test_cohort_retention_local_days_and_horizon():
    events = events_table(
        [
            ("2025-03-01 00:00", "old", "page_view"),  # first seen before the range: no cohort
            ("2025-03-10 01:00", "old", "page_view"),
            ("2025-03-09 16:30", "a", "page_view"),  # 00:30 local 03-10: cohort 03-10
            ("2025-03-10 15:59", "a", "page_view"),  # 23:59 local 03-10: still day 0
            ("2025-03-11 16:00", "a", "page_view"),  # 00:00 local 03-12: day 2
            ("2025-03-10 20:00", "b", "page_view"),  # 04:00 local 03-11: cohort 03-11
            ("2025-03-12 17:00", "c", "purchase"),  # 01:00 local 03-13: last day in the data
        ]
    )
    table = retention.cohort_retention(events, SHANGHAI, max_day=5)
    got = table[["cohort_date", "cohort_size", "day", "retained_users", "retained_on_or_after"]]
    expected = pd.DataFrame(
        [
            ("2025-03-10", 1, 0, 1, 1),
            ("2025-03-10", 1, 1, 0, 1),
            ("2025-03-10", 1, 2, 1, 1),
            ("2025-03-10", 1, 3, 0, 0),
            ("2025-03-11", 1, 0, 1, 1),
            ("2025-03-11", 1, 1, 0, 0),
            ("2025-03-11", 1, 2, 0, 0),
        ],
        columns=got.columns,
    )
    expected["cohort_date"] = pd.to_datetime(expected["cohort_date"])
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert table["retention_rate"].tolist() == [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0]


def test_cohort_retention_with_start_and_return_events():
    events = events_table(
        [
            ("2025-03-10 01:00", "a", "page_view"),
            ("2025-03-10 02:00", "a", "purchase"),
            ("2025-03-11 02:00", "a", "page_view"),
            ("2025-03-12 02:00", "a", "purchase"),
            ("2025-03-10 03:00", "b", "purchase"),
            ("2025-03-11 03:00", "b", "page_view"),
        ]
    )
    table = retention.cohort_retention(
        events, SHANGHAI, max_day=2, start_event="purchase", return_event="purchase"
    )
    # a and b both first purchase on 03-10; a buys again on day 2, b never.
    assert table["cohort_size"].unique().tolist() == [2]
    assert table["retained_users"].tolist() == [2, 0, 1]
    assert table["retained_on_or_after"].tolist() == [2, 1, 1]


def test_average_and_headline_retention_pool_by_cohort_size():
    cohorts = pd.DataFrame(
        {
            "cohort_date": pd.to_datetime(["2025-03-01", "2025-03-01", "2025-03-02", "2025-03-02"]),
            "cohort_size": [10, 10, 30, 30],
            "day": [0, 1, 0, 1],
            "retained_users": [10, 5, 30, 3],
            "retained_on_or_after": [10, 6, 30, 9],
        }
    )
    curve = retention.average_retention(cohorts).set_index("day")
    assert curve.loc[1, "retention_rate"] == 8 / 40
    assert curve.loc[1, "retention_rate_on_or_after"] == 15 / 40
    headline = retention.headline_retention(cohorts, days=(1, 3)).set_index("day")
    assert headline.loc[1, "retention_rate"] == 0.2
    assert pd.isna(headline.loc[3, "retention_rate"])


def test_mean_gap_is_the_same_whatever_the_row_order():
    # gaps of 1 s, 2 h and 3 h 20 min: the mean is (1 + 7200 + 12000) / 3 s = 6400.333… s
    gaps = pd.Series([1.0, 7200.0, 12000.0, float("nan")]).dropna()
    assert funnel._mean_hours(gaps) == (1 + 7200 + 12000) / 3 / 3600
    # many awkward gaps: every order gives the same float, to the last digit
    many = pd.Series([float(s) for s in range(1, 5000, 7)])
    results = {funnel._mean_hours(many.sample(frac=1, random_state=seed)) for seed in range(20)}
    assert results == {float(many.sum()) / len(many) / 3600}
    assert pd.isna(funnel._mean_hours(pd.Series([], dtype=float)))
