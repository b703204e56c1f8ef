"""Time to convert, the funnel's trend and stickiness (issue 18), on tiny logs worked by hand."""

from __future__ import annotations

import inspect
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from lib import funnel, parameters, plots, traffic
from lib.periods import Period

from .conftest import events_table

STEPS = ["view_item", "purchase"]
# Asia/Shanghai is UTC+8: 16:00 UTC is the local midnight.
SHANGHAI = Period("2025-03-10", "2025-03-11", "Asia/Shanghai")


def _converting_log():
    return events_table(
        [
            # u1 views at 23:30 local 03-10 and buys at 00:30 local 03-11: 1 h, across midnight
            ("2025-03-10 15:30", "u1", "view_item"),
            ("2025-03-10 16:30", "u1", "purchase"),
            # u2: 10:00 → 13:00 local 03-10, 3 h
            ("2025-03-10 02:00", "u2", "view_item"),
            ("2025-03-10 05:00", "u2", "purchase"),
            # u3: 08:00 → 18:00 local 03-11, 10 h
            ("2025-03-11 00:00", "u3", "view_item"),
            ("2025-03-11 10:00", "u3", "purchase"),
            # u4 views at 00:10 local 03-11 (still 03-10 in UTC) and never buys
            ("2025-03-10 16:10", "u4", "view_item"),
        ]
    )


# ------------------------------------------------------------------ time to convert


@pytest.mark.parametrize(
    ("converters", "bins"),
    [(0, 1), (1, 1), (2, 2), (8, 2), (9, 3), (27, 3), (28, 4), (216_000, 60), (300_000, 60)],
)
def test_the_bin_rule_is_the_cube_root_rounded_up_between_1_and_60(converters, bins):
    assert funnel.time_to_convert_bin_count(converters) == bins


def test_a_given_bin_count_wins_and_is_checked():
    assert funnel.time_to_convert_bin_count(300_000, 5) == 5
    for wrong in (0, 61):
        with pytest.raises(ValueError, match="bins="):
            funnel.time_to_convert_bin_count(10, wrong)


def test_time_to_convert_across_the_local_midnight():
    histogram, summary = funnel.time_to_convert(_converting_log(), SHANGHAI, STEPS, 3)
    assert list(histogram.columns) == ["bin_start_hours", "bin_end_hours", "users", "share"]
    # 3 converters: ⌈∛3⌉ = 2 bars over the whole seconds 0 … 36,000 (10 h), 36,001 / 2 s each
    assert histogram["users"].tolist() == [2, 1]
    assert histogram["bin_start_hours"].tolist() == [0.0, 36_001 / 2 / 3600]
    assert histogram["bin_end_hours"].tolist() == [36_001 / 2 / 3600, 36_001 / 3600]
    assert histogram["share"].tolist() == [2 / 3, 1 / 3]
    row = summary.iloc[0]
    assert list(summary.columns) == funnel.TIME_TO_CONVERT_SUMMARY_COLUMNS
    assert (row["converters"], row["bins"]) == (3, 2)
    assert row["median_hours"] == 3.0
    assert row["mean_hours"] == pytest.approx(14 / 3, rel=1e-12)
    assert row["max_hours"] == 10.0
    assert funnel.time_to_convert_note(summary, STEPS) == (
        "The 3 entrants who reached purchase took a median of 3.0 h and a mean of 4.7 h from "
        "their first view_item (the slowest 10.0 h): the mean above the median comes from a "
        "tail of slower converters."
    )


def test_an_even_count_averages_the_two_middle_durations_and_empty_bars_stay():
    events = events_table(
        [
            ("2025-03-10 01:00", "a", "view_item"),
            ("2025-03-10 02:00", "a", "purchase"),
            ("2025-03-10 01:00", "b", "view_item"),
            ("2025-03-10 03:00", "b", "purchase"),
        ]
    )
    histogram, summary = funnel.time_to_convert(events, SHANGHAI, STEPS, bins=4)
    # 3,600 × 4 // 7,201 = 1 and 7,200 × 4 // 7,201 = 3
    assert histogram["users"].tolist() == [0, 1, 0, 1]
    assert summary["median_hours"].iloc[0] == 1.5
    assert summary["mean_hours"].iloc[0] == 1.5


def test_time_to_convert_without_converters():
    events = events_table([("2025-03-10 01:00", "a", "view_item")])
    histogram, summary = funnel.time_to_convert(events, SHANGHAI, STEPS)
    assert histogram.empty and list(histogram.columns) == funnel.TIME_TO_CONVERT_COLUMNS
    assert summary["converters"].iloc[0] == 0 and math.isnan(summary["median_hours"].iloc[0])
    assert funnel.time_to_convert_note(summary, STEPS) == (
        "No entrant reached purchase within the window: no time to convert to show."
    )
    assert isinstance(plots.time_to_convert_chart(histogram, "Time to convert"), plots.NoChart)


def test_the_duration_text_picks_minutes_hours_or_days():
    summary = pd.DataFrame(
        {
            "converters": [2],
            "bins": [2],
            "median_hours": [0.5],
            "mean_hours": [0.5],
            "max_hours": [72.0],
        }
    )
    assert funnel.time_to_convert_note(summary, STEPS) == (
        "The 2 entrants who reached purchase took a median of 30 min and a mean of 30 min from "
        "their first view_item (the slowest 3.0 days (72 h))."
    )


# ------------------------------------------------------------------ trends


def test_trends_by_local_day_of_the_first_step():
    trends = funnel.funnel_trends(_converting_log(), SHANGHAI, STEPS, 3)
    assert list(trends.columns) == ["period_start", "entrants", "converters", "conversion_rate"]
    assert trends["period_start"].tolist() == list(pd.to_datetime(["2025-03-10", "2025-03-11"]))
    # u1 and u2 enter on 03-10; u3 and u4 (00:10 local, 03-10 in UTC) on 03-11
    assert trends["entrants"].tolist() == [2, 2]
    assert trends["converters"].tolist() == [2, 1]
    assert trends["conversion_rate"].tolist() == [1.0, 0.5]
    table = funnel.funnel_table(_converting_log(), SHANGHAI, STEPS, 3)
    assert trends["entrants"].sum() == table["users"].iloc[0]
    assert trends["converters"].sum() == table["users"].iloc[-1]


WEEKS = Period("2025-03-12", "2025-03-18", "Asia/Shanghai")  # Wednesday to Tuesday


def _weekly_log():
    return events_table(
        [
            # a: 04:00 local Wed 03-12, the period's first day, in the week of Monday 03-10
            ("2025-03-11 20:00", "a", "view_item"),
            ("2025-03-12 01:00", "a", "purchase"),
            # b: a view before the period, then 23:59 local Sunday 03-16; never buys
            ("2025-03-08 02:00", "b", "view_item"),
            ("2025-03-16 15:59", "b", "view_item"),
            # c: 00:00 local Monday 03-17, the next week
            ("2025-03-16 16:00", "c", "view_item"),
            ("2025-03-17 01:00", "c", "purchase"),
            # d: 23:00 local Tuesday 03-11, in the week of 03-10 but before the period
            ("2025-03-11 15:00", "d", "view_item"),
            ("2025-03-11 16:30", "d", "purchase"),
        ]
    )


def test_trends_by_iso_week_with_a_week_crossing_the_period_start():
    trends = funnel.funnel_trends(_weekly_log(), WEEKS, STEPS, interval="week")
    assert trends["period_start"].tolist() == list(pd.to_datetime(["2025-03-10", "2025-03-17"]))
    assert trends["entrants"].tolist() == [2, 1]  # d entered before the period: not counted
    assert trends["converters"].tolist() == [1, 1]
    assert trends["conversion_rate"].tolist() == [0.5, 1.0]
    assert funnel.trends_note(trends, "week", WEEKS) == (
        "Across 2 weeks with entrants, conversion ranged from the week of 2025-03-10: 50.0% of 2 "
        "to the week of 2025-03-17: 100.0% of 1. Partial weeks, counting only the period's days: "
        "the week of 2025-03-10 starts before 2025-03-12; the week of 2025-03-17 ends after "
        "2025-03-18."
    )
    daily = funnel.funnel_trends(_weekly_log(), WEEKS, STEPS, interval="day")
    assert len(daily) == 7
    entered = daily[daily["entrants"] > 0]
    assert entered["period_start"].dt.strftime("%m-%d").tolist() == ["03-12", "03-16", "03-17"]
    assert daily["conversion_rate"].isna().sum() == 4  # days without entrants have no rate


def test_trends_take_the_local_day_across_a_clock_change():
    # New York leaves summer time at 06:00 UTC on 2025-11-02 (UTC−4 before, UTC−5 after)
    period = Period("2025-11-01", "2025-11-03", "America/New_York")
    events = events_table(
        [
            ("2025-11-02 03:30", "a", "view_item"),  # 23:30 EDT on 11-01
            ("2025-11-03 04:30", "b", "view_item"),  # 23:30 EST on 11-02 (00:30 in EDT)
        ]
    )
    trends = funnel.funnel_trends(events, period, STEPS)
    assert trends["entrants"].tolist() == [1, 1, 0]


def test_an_unknown_trend_interval_is_refused():
    with pytest.raises(ValueError, match="interval='month'"):
        funnel.funnel_trends(_weekly_log(), WEEKS, STEPS, interval="month")


# ------------------------------------------------------------------ stickiness

# Wednesday 03-05 to Sunday 03-23: the part-week 03-05…03-09 and two full weeks
STICKY = Period("2025-03-05", "2025-03-23", "Asia/Shanghai")


def _sticky_log():
    return events_table(
        [
            ("2025-03-06 02:00", "a", "page_view"),  # part-week: not counted
            ("2025-03-10 02:00", "a", "page_view"),  # a's one active day of week 1
            ("2025-03-16 16:30", "a", "page_view"),  # 00:30 local Monday 03-17: week 2
            ("2025-03-18 02:00", "a", "view_item"),
            ("2025-03-19 02:00", "a", "page_view"),
            ("2025-03-10 03:00", "b", "page_view"),
            ("2025-03-11 01:00", "b", "page_view"),
            ("2025-03-11 09:00", "b", "add_to_cart"),  # the same local day: counted once
            ("2025-03-07 02:00", "c", "page_view"),  # only in the part-week: no user-week
            *[(f"2025-03-{day:02d} 04:00", "d", "page_view") for day in range(17, 24)],
        ]
    )


def test_full_weeks_only():
    assert traffic.stickiness_intervals(STICKY) == [(20157, 20163), (20164, 20170)]
    assert traffic.stickiness_intervals(Period("2025-03-12", "2025-03-16")) == []
    assert traffic.stickiness_intervals(Period("2025-03-10", "2025-03-16")) == [(20157, 20163)]


def test_stickiness_counts_active_days_per_user_and_full_week():
    table = traffic.stickiness(_sticky_log(), STICKY)
    assert list(table.columns) == ["interval", "active_days", "users", "share", "cumulative_share"]
    assert table["active_days"].tolist() == list(range(1, 8))
    assert (table["interval"] == "week").all()
    # user-weeks: a in week 1 (1 day), a in week 2 (3), b in week 1 (2), d in week 2 (7)
    assert table["users"].tolist() == [1, 1, 1, 0, 0, 0, 1]
    assert table["share"].tolist() == [0.25, 0.25, 0.25, 0.0, 0.0, 0.0, 0.25]
    assert table["cumulative_share"].tolist() == [1.0, 0.75, 0.5, 0.25, 0.25, 0.25, 0.25]
    assert table["cumulative_share"].is_monotonic_decreasing
    assert traffic.stickiness_note(table, 2) == (
        "Over 2 full weeks (Monday to Sunday), 4 user-weeks (a user active in a week, once per "
        "week): 25.0% came on one day only and 75.0% came back on 2 or more days, 50.0% on 3 or "
        "more; the median user-week had 2 active days."
    )


def test_stickiness_by_30_day_blocks_from_the_start():
    period = Period("2025-03-01", "2025-04-15", "Asia/Shanghai")  # one full block: 03-01…03-30
    assert len(traffic.stickiness_intervals(period, "month")) == 1
    assert len(traffic.stickiness_intervals(Period("2025-03-01", "2025-04-29"), "month")) == 2
    events = events_table(
        [
            ("2025-03-01 02:00", "e", "page_view"),
            ("2025-03-30 02:00", "e", "page_view"),
            ("2025-03-31 02:00", "e", "page_view"),  # after the last full block
        ]
    )
    table = traffic.stickiness(events, period, "month")
    assert len(table) == 30 and (table["interval"] == "month").all()
    assert table.loc[table["users"] > 0, "active_days"].tolist() == [2]
    assert table["cumulative_share"].iloc[:2].tolist() == [1.0, 1.0]
    assert table["cumulative_share"].iloc[2] == 0.0
    assert traffic.stickiness_note(table, 1) == (
        "Over 1 full 30-day block from the start, 1 user-block (a user active in a 30-day block, "
        "once per 30-day block): 0.0% came on one day only and 100.0% came back on 2 or more "
        "days, 0.0% on 3 or more; the median user-block had 2 active days."
    )
    one = plots.stickiness_chart(table, "Blocks")
    assert str(one) == "Blocks: every user-block had 2 active days."
    two = table.assign(users=[1, 1, *[0] * 28])
    fig = plots.stickiness_chart(two, "Active days per user and block")
    assert fig.axes[0].get_ylabel() == "share of user-blocks [%]"
    assert fig.axes[0].get_xlabel() == "active days in the 30-day block [days]"
    plt.close(fig)


def test_a_period_without_a_full_week_has_no_rows_and_says_so():
    period = Period("2025-03-12", "2025-03-16", "Asia/Shanghai")
    table = traffic.stickiness(_sticky_log(), period)
    assert table.empty and list(table.columns) == traffic.STICKINESS_COLUMNS
    assert traffic.stickiness_note(table, 0) == (
        "The period holds no full interval: no stickiness to show."
    )
    assert isinstance(plots.stickiness_chart(table, "Stickiness"), plots.NoChart)


# ------------------------------------------------------------------ parameters and charts


def test_the_lib_defaults_are_the_declared_ones():
    signature = inspect.signature
    assert signature(funnel.time_to_convert).parameters["bins"].default is None
    assert parameters.default("time_to_convert_bins") is None
    assert signature(funnel.funnel_trends).parameters["interval"].default == parameters.default(
        "trend_interval"
    )
    assert signature(traffic.stickiness).parameters["interval"].default == parameters.default(
        "stickiness_interval"
    )
    assert tuple(traffic.INTERVAL_DAYS) == parameters.choices("stickiness_interval")
    assert funnel.MAX_TIME_TO_CONVERT_BINS == 60
    own = parameters.NOTEBOOKS["conversion"].own
    assert {"time_to_convert_bins", "trend_interval"} <= set(own)
    assert "stickiness_interval" in parameters.NOTEBOOKS["traffic"].own


def test_the_time_to_convert_chart_names_its_axes_and_the_median():
    histogram, summary = funnel.time_to_convert(_converting_log(), SHANGHAI, STEPS, 3)
    fig = plots.time_to_convert_chart(histogram, "Time to convert", summary["median_hours"].iloc[0])
    ax = fig.axes[0]
    assert ax.get_title() == "Time to convert"
    assert ax.get_xlabel() == "hours from the first step to the last [h]"
    assert ax.get_ylabel() == "converters [users]"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["median 3.0 h"]
    assert plots.describe(fig, "Median 3 h.") == (
        "Time to convert: converters [users] against hours from the first step to the last [h]. "
        "Median 3 h."
    )
    plt.close(fig)
    one_bar = histogram.assign(users=[3, 0])
    assert str(plots.time_to_convert_chart(one_bar, "Time to convert")) == (
        "Time to convert: all 3 converters took 0.0–5.0 h; one bar only."
    )


def test_the_trend_chart_names_the_entry_week():
    trends = funnel.funnel_trends(_weekly_log(), WEEKS, STEPS, interval="week")
    fig = plots.funnel_trend_chart(trends, "week", "Conversion by entry week")
    assert plots.describe(fig) == (
        "Conversion by entry week: entrants who reached the last step [%] against entry week "
        "(local, from Monday)."
    )
    assert fig.axes[0].get_ylim()[0] == 0
    plt.close(fig)
    one = plots.funnel_trend_chart(trends.iloc[:1], "week", "Conversion by entry week")
    assert isinstance(one, plots.NoChart) and "only one week" in one


def test_the_stickiness_chart_names_its_axes_and_keeps_the_legend_outside():
    table = traffic.stickiness(_sticky_log(), STICKY)
    fig = plots.stickiness_chart(table, "Active days per user and week")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "active days in the week [days]"
    assert ax.get_ylabel() == "share of user-weeks [%]"
    assert plots.describe(fig) == (
        "Active days per user and week: share of user-weeks [%] against active days in the "
        "week [days]."
    )
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    assert legend.x0 >= ax.get_window_extent(renderer).x1
    plt.close(fig)
    same = table.assign(users=[4, 0, 0, 0, 0, 0, 0])
    assert str(plots.stickiness_chart(same, "Stickiness")) == (
        "Stickiness: every user-week had 1 active day."
    )


def test_time_to_convert_and_trends_follow_the_funnels_order():
    events = events_table(
        [
            # a's chain is broken by a page view: a converter when ordered, not when strict
            ("2025-03-10 01:00", "a", "view_item"),
            ("2025-03-10 01:30", "a", "page_view"),
            ("2025-03-10 02:00", "a", "purchase"),
            ("2025-03-10 01:00", "b", "view_item"),
            ("2025-03-10 03:00", "b", "purchase"),
        ]
    )
    _, ordered = funnel.time_to_convert(events, SHANGHAI, STEPS)
    _, strict = funnel.time_to_convert(events, SHANGHAI, STEPS, order="strict")
    assert (ordered["converters"].iloc[0], ordered["median_hours"].iloc[0]) == (2, 1.5)
    assert (strict["converters"].iloc[0], strict["median_hours"].iloc[0]) == (1, 2.0)
    trends = funnel.funnel_trends(events, SHANGHAI, STEPS, order="strict")
    assert trends["converters"].tolist() == [1, 0]
    assert trends["entrants"].tolist() == [2, 0]
