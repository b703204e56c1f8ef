"""Traffic metrics on tiny event logs worked out by hand."""

from __future__ import annotations

import ibis
import pandas as pd

from lib import traffic
from lib.definitions import UNKNOWN
from lib.periods import Period

from .conftest import events_table

# Shanghai is UTC+8: 16:00 UTC is local midnight.
SHANGHAI = Period("2025-03-10", "2025-03-12", "Asia/Shanghai")


def test_daily_traffic_counts_local_days_and_first_visits():
    events = events_table(
        [
            ("2025-03-01 02:00", "a", "page_view", "s0"),  # a first seen long before the range
            ("2025-03-09 15:59", "b", "page_view", "s1"),  # 23:59 local on 03-09: before range
            ("2025-03-09 16:00", "c", "view_item", "s2"),  # 00:00 local on 03-10: new on 03-10
            ("2025-03-10 01:00", "a", "page_view", "s3"),
            ("2025-03-10 01:05", "a", "add_to_cart", "s3"),
            ("2025-03-10 16:30", "b", "session_start", "s4"),  # 00:30 local on 03-11
            ("2025-03-11 15:59", "d", "view_item", "s5"),  # 23:59 local on 03-11: new on 03-11
        ]
    )
    table = traffic.daily_traffic(events, SHANGHAI)
    assert list(table["date"]) == list(pd.to_datetime(["2025-03-10", "2025-03-11", "2025-03-12"]))
    assert list(table["uv"]) == [2, 2, 0]  # {a, c}, {b, d}, {}
    assert list(table["pv"]) == [2, 1, 0]  # c view_item + a page_view; d view_item
    assert list(table["new_users"]) == [1, 1, 0]  # c; d
    assert list(table["returning_users"]) == [1, 1, 0]
    assert list(table["sessions"]) == [2, 2, 0]
    assert list(table["events"]) == [3, 2, 0]
    # WAU(03-10): days 03-04..03-10 -> b (03-09), c, a = 3; MAU adds nothing more (a on 03-01
    # local 10:00 is within 30 days) -> {a, b, c} = 3.
    assert list(table["wau"]) == [3, 4, 4]
    assert list(table["mau"]) == [3, 4, 4]
    assert list(table["stickiness"]) == [2 / 3, 2 / 4, 0.0]


def test_active_and_new_users_are_daily_traffics_columns_across_local_midnight():
    # the first test's log: a seen long before, b at 23:59 local before the range, c new at
    # 00:00 local on 03-10, d new at 23:59 local on 03-11
    events = events_table(
        [
            ("2025-03-01 02:00", "a", "page_view", "s0"),
            ("2025-03-09 15:59", "b", "page_view", "s1"),
            ("2025-03-09 16:00", "c", "view_item", "s2"),
            ("2025-03-10 01:00", "a", "page_view", "s3"),
            ("2025-03-10 01:05", "a", "add_to_cart", "s3"),
            ("2025-03-10 16:30", "b", "session_start", "s4"),
            ("2025-03-11 15:59", "d", "view_item", "s5"),
        ]
    )
    table = traffic.active_and_new_users(events, SHANGHAI)
    assert list(table.columns) == ["date", "dau", "wau", "mau", "stickiness", "new_users"]
    assert list(table["dau"]) == [2, 2, 0]
    assert list(table["new_users"]) == [1, 1, 0]  # c; d (a and b were seen before)
    assert list(table["wau"]) == [3, 4, 4]
    assert list(table["stickiness"]) == [2 / 3, 2 / 4, 0.0]
    daily = traffic.daily_traffic(events, SHANGHAI)
    pd.testing.assert_frame_equal(table, daily[list(table.columns)])


def test_new_and_returning_user_days_of_the_period():
    # a: new on 03-10, back on 03-11 and 03-12; b: new on 03-11, back on 03-12; c: seen before
    # the range (returning on its one day 03-12). New user-days = new users = 2 (a, b);
    # returning user-days = a twice + b once + c once = 4; all = Σ uv = 1 + 2 + 3 = 6.
    events = events_table(
        [
            ("2025-03-01 02:00", "c", "page_view"),
            ("2025-03-10 01:00", "a", "page_view"),
            ("2025-03-11 01:00", "a", "page_view"),
            ("2025-03-11 02:00", "b", "page_view"),
            ("2025-03-12 01:00", "a", "page_view"),
            ("2025-03-12 02:00", "b", "view_item"),
            ("2025-03-12 03:00", "c", "page_view"),
        ]
    )
    daily = traffic.daily_traffic(events, SHANGHAI)
    assert daily["uv"].tolist() == [1, 2, 3]
    table = traffic.new_returning_user_days(daily)
    assert table["users"].tolist() == ["new", "returning", "all"]
    assert table["user_days"].tolist() == [2, 4, 6]
    assert table["share"].tolist() == [2 / 6, 4 / 6, 1.0]
    empty = traffic.new_returning_user_days(daily.assign(new_users=0, returning_users=0))
    assert empty["user_days"].tolist() == [0, 0, 0]
    assert empty["share"].isna().all()  # no user-days: no shares, not 0%


def test_rolling_windows_drop_users_exactly_after_the_window():
    # One user active on 03-01 only (UTC): in WAU through 03-07, out on 03-08; in MAU to 03-30.
    events = events_table([("2025-03-01 12:00", "a", "page_view")])
    period = Period("2025-03-01", "2025-03-31", "UTC")
    table = traffic.daily_traffic(events, period).set_index("date")
    assert table.loc["2025-03-07", "wau"] == 1
    assert table.loc["2025-03-08", "wau"] == 0
    assert table.loc["2025-03-30", "mau"] == 1
    assert table.loc["2025-03-31", "mau"] == 0


def test_rolling_windows_merge_overlapping_activity():
    # Active on days 1, 3 and 12 (UTC): WAU is 1 on days 1..9 and 12..18, 0 on 10 and 11.
    events = events_table(
        [
            ("2025-03-01 12:00", "a", "page_view"),
            ("2025-03-03 12:00", "a", "page_view"),
            ("2025-03-12 12:00", "a", "page_view"),
            ("2025-03-05 12:00", "b", "page_view"),
        ]
    )
    period = Period("2025-03-01", "2025-03-20", "UTC")
    wau = traffic.daily_traffic(events, period)["wau"].tolist()
    a = [1] * 9 + [0, 0] + [1] * 7 + [0, 0]
    b = [0] * 4 + [1] * 7 + [0] * 9
    assert wau == [x + y for x, y in zip(a, b, strict=True)]


def test_active_users_match_hand_counts_across_local_midnight():
    events = events_table(
        [
            ("2025-03-01 02:00", "a", "page_view"),  # 03-01 local: in MAU, not WAU, of 03-10
            ("2025-03-09 15:59", "b", "page_view"),  # 23:59 local on 03-09
            ("2025-03-09 16:00", "c", "view_item"),  # 00:00 local on 03-10
            ("2025-03-10 01:00", "a", "page_view"),  # 09:00 local on 03-10
            ("2025-03-10 16:30", "b", "add_to_cart"),  # 00:30 local on 03-11
            ("2025-03-10 16:31", "b", "page_view"),  # same user and day: counted once
        ]
    )
    table = traffic.active_users(events, SHANGHAI)
    assert list(table.columns) == ["date", "dau", "wau", "mau"]
    assert list(table["date"]) == list(pd.to_datetime(["2025-03-10", "2025-03-11", "2025-03-12"]))
    assert list(table["dau"]) == [2, 1, 0]  # {a, c}; {b}; {}
    assert list(table["wau"]) == [3, 3, 3]  # {a, b, c} in the 7 days ending on each day
    assert list(table["mau"]) == [3, 3, 3]
    # the same numbers as the full daily table computes in its own query
    daily = traffic.daily_traffic(events, SHANGHAI)
    pd.testing.assert_frame_equal(table, daily[["date", "dau", "wau", "mau"]])


def test_traffic_by_channel_with_unknown():
    events = events_table(
        [
            ("2025-03-10 01:00", "a", "page_view", "s1", None, "search"),
            ("2025-03-10 01:01", "a", "view_item", "s1", "k1", "search"),
            ("2025-03-10 02:00", "b", "page_view", "s2", None, "ads"),
            ("2025-03-10 03:00", "a", "page_view", "s3", None, "ads"),
            ("2025-03-10 04:00", "c", "add_to_cart", "s4", "k1", None),
        ]
    )
    table = traffic.traffic_by(events, SHANGHAI, "channel").set_index("channel")
    assert table.loc["ads", ["users", "sessions", "pv", "events"]].tolist() == [2, 2, 2, 2]
    assert table.loc["search", ["users", "sessions", "pv", "events"]].tolist() == [1, 1, 2, 2]
    assert table.loc[UNKNOWN, "users"] == 1
    assert table.loc["ads", "user_share"] == 2 / 3


def test_daily_users_by_platform():
    events = events_table(
        [
            ("2025-03-10 01:00", "a", "page_view", "s1", None, None, None, "web"),
            ("2025-03-10 17:00", "a", "page_view", "s2", None, None, None, "web"),
            ("2025-03-10 18:00", "b", "page_view", "s3", None, None, None, "app_ios"),
        ]
    )
    table = traffic.daily_users_by(events, SHANGHAI, "platform")
    assert table.to_dict("records") == [
        {"date": pd.Timestamp("2025-03-10"), "platform": "web", "users": 1},
        {"date": pd.Timestamp("2025-03-11"), "platform": "app_ios", "users": 1},
        {"date": pd.Timestamp("2025-03-11"), "platform": "web", "users": 1},
    ]


def test_hour_weekday_uses_local_time():
    # 2025-03-10 is a Monday. 13:30 UTC = 21:30 local Monday; 16:10 UTC = 00:10 local Tuesday.
    events = events_table(
        [
            ("2025-03-10 13:30", "a", "page_view"),
            ("2025-03-10 13:45", "b", "page_view"),
            ("2025-03-10 16:10", "a", "page_view"),
        ]
    )
    table = traffic.hour_weekday_activity(events, SHANGHAI).set_index(["weekday", "hour"])
    assert len(table) == 7 * 24
    assert table.loc[(0, 21), "events"] == 2
    assert table.loc[(0, 21), "users"] == 2
    assert table.loc[(1, 0), "events"] == 1
    assert table["events"].sum() == 3
    # Each weekday occurs once in a 3-day period (Mon..Wed); Thursday never occurs.
    assert table.loc[(0, 21), "avg_events"] == 2.0
    assert pd.isna(table.loc[(3, 0), "avg_events"])


def test_hour_weekday_users_are_distinct_over_the_period_not_a_daily_average():
    two_weeks = Period("2025-03-03", "2025-03-16", "UTC")  # Mondays 03-03 and 03-10
    events = events_table(
        [
            ("2025-03-03 21:10", "a", "page_view"),
            ("2025-03-10 21:10", "b", "page_view"),
            ("2025-03-10 21:40", "a", "page_view"),  # a again, on the other Monday
        ]
    )
    table = traffic.hour_weekday_activity(events, two_weeks).set_index(["weekday", "hour"])
    monday_21 = table.loc[(0, 21)]
    # a and b, each once, though a came on both Mondays; per-Monday users are 1 and 2 (mean 1.5)
    assert monday_21["users"] == 2
    assert monday_21["events"] == 3
    assert monday_21["avg_events"] == 1.5  # 3 events over 2 Mondays
    assert table["users"].sum() == 2


def test_period_active_users():
    events = events_table([("2025-03-10 01:00", "a", "page_view"), ("2025-03-13 01:00", "b", "x")])
    assert traffic.period_active_users(events, SHANGHAI) == 1


# One session across local midnight (Shanghai, UTC+8): 15:50 UTC is 23:50 on 03-10, 16:10 UTC
# is 00:10 on 03-11; a second session of another user on a different platform.
ACROSS_MIDNIGHT = [
    ("2025-03-10 15:50", "a", "page_view", "s1", None, "ads", "banner", "web"),
    ("2025-03-10 15:55", "a", "view_item", "s1", "k1", "ads", "banner", "web"),
    ("2025-03-10 16:10", "a", "add_to_cart", "s1", "k1", "ads", None, "web"),
    ("2025-03-10 16:20", "b", "page_view", "s2", None, "search", None, "app_ios"),
]


def test_session_hours_count_a_session_on_each_local_day_and_hour_it_touches():
    hours = traffic.session_hours(events_table(ACROSS_MIDNIGHT), SHANGHAI).to_pandas()
    hours = hours.sort_values(["user_id", "day", "hour"]).reset_index(drop=True)
    day = SHANGHAI.start_day  # 2025-03-10
    assert hours[["user_id", "session_id", "day", "hour", "events", "pv"]].values.tolist() == [
        ["a", "s1", day, 23, 2, 2],
        ["a", "s1", day + 1, 0, 1, 0],
        ["b", "s2", day + 1, 0, 1, 1],
    ]
    daily = traffic.daily_traffic(events_table(ACROSS_MIDNIGHT), SHANGHAI).set_index("date")
    assert daily.loc["2025-03-10", ["uv", "pv", "sessions", "events"]].tolist() == [1, 2, 1, 2]
    assert daily.loc["2025-03-11", ["uv", "pv", "sessions", "events"]].tolist() == [2, 1, 2, 2]


def test_traffic_by_a_column_the_session_hours_do_not_carry_reads_the_events():
    table = traffic.traffic_by(events_table(ACROSS_MIDNIGHT), SHANGHAI, "slot").set_index("slot")
    assert table.loc["banner", ["users", "sessions", "pv", "events"]].tolist() == [1, 1, 2, 2]
    assert table.loc[UNKNOWN, ["users", "sessions", "pv", "events"]].tolist() == [2, 2, 1, 2]


def test_the_session_hours_are_kept_once_per_shop_and_give_the_same_counts():
    con = ibis.duckdb.connect()
    frame = events_table(ACROSS_MIDNIGHT).to_pandas()
    events = con.create_table("events", frame)
    first, again = traffic.session_hours(events, SHANGHAI), traffic.session_hours(events, SHANGHAI)
    assert first.get_name() == again.get_name()  # one kept table, not a second grouping
    for dimension in ("channel", "platform"):
        kept = traffic.traffic_by(events, SHANGHAI, dimension)
        plain = traffic.traffic_by(ibis.memtable(frame), SHANGHAI, dimension)
        pd.testing.assert_frame_equal(kept, plain)
    activity = traffic.hour_weekday_activity(events, SHANGHAI).set_index(["weekday", "hour"])
    assert activity.loc[(0, 23), ["events", "users"]].tolist() == [2, 1]  # Monday 23h local
    assert activity.loc[(1, 0), ["events", "users"]].tolist() == [2, 2]  # Tuesday 0h local
