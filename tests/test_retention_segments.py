"""Cohorts, repurchase, the magic number, phases and segments on little stories worked by hand."""

from __future__ import annotations

import math
import re

import ibis
import pandas as pd
import pytest

from lib import data, repurchase, retention, segments
from lib.periods import Period

from .conftest import events_table, orders_table

SHANGHAI = Period("2025-03-10", "2025-03-11", "Asia/Shanghai")


def dates(*values: str) -> list[pd.Timestamp]:
    return list(pd.to_datetime(list(values)))


def coupon_events(rows: list[tuple]) -> ibis.Table:
    """Events from ``(event_time, user_id, event_name, sku_id, coupon_id)`` tuples."""
    frame = pd.DataFrame(
        rows, columns=["event_time", "user_id", "event_name", "sku_id", "coupon_id"]
    )
    frame["event_time"] = pd.to_datetime(frame["event_time"])
    frame["session_id"] = None
    schema = {
        "event_time": "timestamp",
        "user_id": "string",
        "event_name": "string",
        "sku_id": "string",
        "coupon_id": "string",
        "session_id": "string",
    }
    return ibis.memtable(frame, schema=schema)


def coupon_orders(rows: list[tuple]) -> ibis.Table:
    """Orders from ``orders_table`` rows with a ``coupon_id`` appended to each."""
    base = orders_table([row[:6] for row in rows]).to_pandas()
    base["coupon_id"] = [row[6] for row in rows]
    return ibis.memtable(base, schema=orders_table([rows[0][:6]]).schema())


# ------------------------------------------------------------------------------ cohort retention

STORY = events_table(
    [
        ("2025-03-09 16:30", "a", "page_view"),  # 00:30 local 03-10: cohort 03-10
        ("2025-03-11 15:59", "a", "page_view"),  # 23:59 local 03-11: day 1
        ("2025-03-12 16:00", "a", "page_view"),  # 00:00 local 03-13: day 3
        ("2025-03-09 15:59", "b", "page_view"),  # 23:59 local 03-09: before the range
        ("2025-03-10 02:00", "b", "page_view"),
        ("2025-03-10 03:00", "c", "page_view"),  # 11:00 local 03-10: active only on day 0
        ("2025-03-10 16:00", "d", "page_view"),  # 00:00 local 03-11: cohort 03-11
        ("2025-03-12 17:00", "d", "page_view"),  # 01:00 local 03-13: day 2, the last day
    ]
)


def test_cohorts_on_day_and_on_or_after_with_horizon():
    table = retention.cohort_retention(STORY, SHANGHAI, max_day=5)
    # The last local day in the data is 03-13: cohort 03-10 stops at day 3, 03-11 at day 2.
    assert table["cohort_date"].tolist() == dates(*["2025-03-10"] * 4, *["2025-03-11"] * 3)
    assert table["day"].tolist() == [0, 1, 2, 3, 0, 1, 2]
    assert table["cohort_size"].tolist() == [2, 2, 2, 2, 1, 1, 1]  # a, c ; d
    assert table["retained_users"].tolist() == [2, 1, 0, 1, 1, 0, 1]
    # a is seen on day 3, so a counts "on or after" day 2 though absent that day; c never returns
    assert table["retained_on_or_after"].tolist() == [2, 1, 1, 1, 1, 1, 1]
    assert table["retention_rate"].tolist() == [1.0, 0.5, 0.0, 0.5, 1.0, 0.0, 1.0]
    assert table["retention_rate_on_or_after"].tolist() == [1.0, 0.5, 0.5, 0.5, 1.0, 1.0, 1.0]
    assert list(table.columns) == retention.COLUMNS


def test_cohorts_depend_on_the_time_zone():
    table = retention.cohort_retention(STORY, Period("2025-03-10", "2025-03-11"), max_day=1)
    # In UTC, a and b start on 03-09 (outside), c and d on 03-10.
    assert table.groupby("cohort_date")["cohort_size"].first().to_dict() == {
        pd.Timestamp("2025-03-10"): 2
    }


def test_weekly_cohorts_wait_for_their_youngest_member():
    events = events_table(
        [
            ("2025-03-05 10:00", "p", "page_view"),  # Wednesday: week of Monday 03-03
            ("2025-03-06 10:00", "p", "page_view"),  # p day 1
            ("2025-03-12 10:00", "p", "page_view"),  # p day 7, the last day in the data
            ("2025-03-09 10:00", "q", "page_view"),  # Sunday: same week
            ("2025-03-10 10:00", "q", "page_view"),  # q day 1
            ("2025-03-10 11:00", "r", "page_view"),  # Monday: week of 03-10
            ("2025-03-11 11:00", "r", "page_view"),  # r day 1
        ]
    )
    period = Period("2025-03-05", "2025-03-11")
    table = retention.cohort_retention(events, period, max_day=7, granularity="week")
    # Week 03-03 holds p and q; q (03-09) has only 3 days after it in the data, so days 0..3.
    # Week 03-10 is clipped to the period's 03-10..03-11: its youngest possible member has 1 day.
    assert table["cohort_date"].tolist() == dates(*["2025-03-03"] * 4, *["2025-03-10"] * 2)
    assert table["day"].tolist() == [0, 1, 2, 3, 0, 1]
    assert table["cohort_size"].tolist() == [2, 2, 2, 2, 1, 1]
    assert table["retained_users"].tolist() == [2, 2, 0, 0, 1, 1]
    assert table["retained_on_or_after"].tolist() == [2, 2, 1, 1, 1, 1]
    with pytest.raises(ValueError, match="granularity"):
        retention.cohort_retention(events, period, granularity="month")


# ------------------------------------------------------------------------------ the magic number

MAGIC_EVENTS = events_table(
    [
        ("2025-03-01 01:00", "u1", "page_view"),
        ("2025-03-01 02:00", "u1", "add_to_cart"),
        ("2025-03-01 03:00", "u1", "add_to_cart"),
        ("2025-03-02 01:00", "u1", "page_view"),
        ("2025-03-03 01:00", "u1", "add_to_cart"),  # day 2: outside the first 2 days
        ("2025-03-04 01:00", "u1", "page_view"),  # day 3: retained
        ("2025-03-01 01:00", "u2", "page_view"),
        ("2025-03-02 01:00", "u2", "page_view"),  # 2 active days, never back
        ("2025-03-01 01:00", "u3", "page_view"),
        ("2025-03-05 01:00", "u3", "page_view"),  # day 4: retained on or after day 3 only
        ("2025-03-01 01:00", "u4", "page_view"),
        ("2025-03-01 05:00", "u5", "page_view"),
        ("2025-03-02 01:00", "u6", "page_view"),
        ("2025-03-03 01:00", "u6", "page_view"),
        ("2025-03-05 02:00", "u6", "page_view"),  # day 3 of cohort 03-02; the last day in the data
        ("2025-03-03 01:00", "u7", "page_view"),  # cohort 03-03: day 3 is after the data ends
    ]
)
MAGIC_PERIOD = Period("2025-03-01", "2025-03-03")


def test_magic_number_on_a_constructed_case():
    users = retention.early_behaviour_by_user(
        MAGIC_EVENTS, MAGIC_PERIOD, "active_days", k_days=2, retention_day=3
    )
    assert sorted(users.to_pandas()["user_id"]) == ["u1", "u2", "u3", "u4", "u5", "u6"]
    by_count = retention.early_behaviour_retention(users)
    # 1 active day: u3 (retained), u4, u5; 2 active days: u1 (retained), u2, u6 (retained)
    assert by_count[["behaviour_count", "users", "retained_users"]].values.tolist() == [
        [1, 3, 1],
        [2, 3, 2],
    ]
    # three users a side are too few for a magic number (magic_min_users); the threshold's
    # measures are still computed
    assert retention.magic_number(by_count).empty
    assert retention.magic_number(by_count, min_users=1).empty  # 2/3 against 1/3: p = 0.41
    best = retention.magic_number_thresholds(by_count).iloc[0]
    assert best["threshold"] == 2
    assert best["share_above"] == 0.5
    assert best["retention_above"] == pytest.approx(2 / 3)
    assert best["retention_below"] == pytest.approx(1 / 3)
    assert best["lift"] == pytest.approx(2.0)
    # J = 2 of 3 retained at or above − 1 of 3 churned at or above
    assert best["youden_j"] == pytest.approx(1 / 3)


def test_magic_number_on_day_measure_and_other_behaviours():
    on_day = retention.early_behaviour_by_user(
        MAGIC_EVENTS, MAGIC_PERIOD, "active_days", 2, 3, measure="on"
    )
    by_count = retention.early_behaviour_retention(on_day)
    assert by_count["retained_users"].tolist() == [0, 2]  # u3 came back on day 4, not 3
    best = retention.magic_number_thresholds(by_count).iloc[0]
    assert best["youden_j"] == pytest.approx(1 - 1 / 4)  # 2/2 retained vs 1/4 churned above
    assert math.isnan(best["lift"])  # nobody below was retained

    carts = retention.early_behaviour_by_user(MAGIC_EVENTS, MAGIC_PERIOD, "add_to_cart", 2, 3)
    counts = carts.to_pandas().set_index("user_id")["behaviour_count"]
    assert counts.to_dict() == {"u1": 2, "u2": 0, "u3": 0, "u4": 0, "u5": 0, "u6": 0}

    orders = orders_table([("o1", "u2", "2025-03-02 01:00", "2025-03-02 01:00", "paid", 9.0)])
    bought = retention.early_behaviour_by_user(
        MAGIC_EVENTS, MAGIC_PERIOD, "purchases", 2, 3, orders=orders
    )
    assert bought.to_pandas().set_index("user_id")["behaviour_count"]["u2"] == 1
    capped = retention.early_behaviour_retention(carts, max_count=1)
    assert capped["label"].tolist() == ["0", "1+"]


# ------------------------------------------------------------------------------ retention phases


def test_phase_rule():
    curve = pd.DataFrame(
        {"day": range(7), "retention_rate": [1.0, 0.5, 0.3, 0.2, 0.19, 0.185, 0.18]}
    )
    phases = retention.retention_phases(curve, volatile_below=0.05, stable_below=0.012, window=2)
    # loss(N) = (r(N) − r(N + w)) / (w · r(1)), w = min(2, 6 − N):
    # 1: 0.3/1 = 0.3; 2: 0.11; 3: 0.015; 4: 0.01; 5: 0.005/0.5 = 0.01; 6: undefined
    assert phases["loss"].iloc[1:6].round(6).tolist() == [0.3, 0.11, 0.015, 0.01, 0.01]
    assert phases["phase"].tolist() == ["volatile"] * 3 + ["selection"] + ["stable"] * 3
    summary = retention.phase_summary(phases)
    assert summary[["phase", "first_day", "last_day"]].values.tolist() == [
        ["volatile", 0, 2],
        ["selection", 3, 3],
        ["stable", 4, 6],
    ]
    never_flat = retention.retention_phases(curve, 0.05, 0.001, window=2)
    assert never_flat["phase"].tolist() == ["volatile"] * 3 + ["selection"] * 4


PHASE_CURVE = pd.DataFrame({"day": range(4), "retention_rate": [1.0, 0.5, 0.4, 0.35]})


@pytest.mark.parametrize(
    ("argument", "value", "refusal"),
    [
        ("volatile_below", 0, "volatile_below=0 must be above 0 and at most 1"),
        ("volatile_below", 1.5, "volatile_below=1.5 must be above 0 and at most 1"),
        ("volatile_below", math.nan, "volatile_below=nan must be above 0 and at most 1"),
        ("stable_below", -0.01, "stable_below=-0.01 must be above 0 and at most 1"),
        ("volatile_below", 1, None),
        ("stable_below", 1, None),
        ("window", 0, "window=0 must be at least 1"),
        ("window", 1, None),
    ],
)
def test_retention_phases_thresholds_are_shares_above_0(argument, value, refusal):
    if refusal is None:
        assert len(retention.retention_phases(PHASE_CURVE, **{argument: value})) == 4
    else:
        with pytest.raises(ValueError, match=re.escape(refusal)):
            retention.retention_phases(PHASE_CURVE, **{argument: value})


# ------------------------------------------------------------------------------------ repurchase

SHOP = orders_table(
    [
        ("o1", "a", "2025-01-21 02:00", "2025-01-21 02:00", "paid", 100.0),
        ("o2", "a", "2025-01-25 02:00", "2025-01-25 02:00", "refunded", 40.0),  # still paid
        ("o3", "a", "2025-01-31 16:00", "2025-01-31 16:30", "paid", 10.0),  # 02-01 00:30 local
        ("o4", "b", "2025-02-03 01:00", "2025-02-03 01:00", "paid", 20.0),
        ("o5", "b", "2025-02-03 05:00", "2025-02-03 05:00", "paid", 30.0),  # same day again
        ("o6", "c", "2025-01-22 01:00", "2025-01-22 01:00", "cancelled", 500.0),  # not paid
        ("o7", "c", "2025-01-23 01:00", None, "unpaid", 60.0),  # not paid
        ("o8", "c", "2025-01-24 01:00", "2025-01-24 01:00", "paid", 5.0),
    ]
)
SHOP_PERIOD = Period("2025-01-20", "2025-02-10", "Asia/Shanghai")


def test_repurchase_summary_with_refund_cancel_and_same_day_orders():
    row = repurchase.repurchase_summary(SHOP, SHOP_PERIOD).iloc[0]
    # buyers a, b, c; repeat a (o1, o2, o3) and b (o4, o5); repeat GMV o2 + o3 + o5
    assert row[["buyers", "repeat_buyers", "gmv", "repeat_gmv"]].tolist() == [3, 2, 205.0, 80.0]
    assert row["repurchase_rate"] == pytest.approx(2 / 3)


def test_repurchase_by_month_counts_within_each_local_month():
    table = repurchase.repurchase_by_month(SHOP, SHOP_PERIOD)
    assert table["month"].tolist() == dates("2025-01-01", "2025-02-01")
    assert table["days"].tolist() == [12, 10]
    # January: a (o1, o2) and c (o8); February: a (o3, local 02-01) and b (o4, o5)
    assert table["buyers"].tolist() == [2, 2]
    assert table["repeat_buyers"].tolist() == [1, 1]
    assert table["gmv"].tolist() == [145.0, 60.0]
    assert table["repeat_gmv"].tolist() == [40.0, 30.0]
    assert table["repeat_gmv_share"].tolist() == pytest.approx([40 / 145, 0.5])


def test_repurchase_by_category_splits_orders_by_line_value():
    items = ibis.memtable(
        pd.DataFrame(
            [
                ("o1", "s1", 1, 60.0),  # o1: food 60, toys 40 -> 100 split 60 / 40
                ("o1", "s2", 2, 20.0),
                ("o2", "s1", 1, 50.0),
                ("o3", "s3", 1, 10.0),  # s3 is not in the catalogue
                ("o4", "s2", 1, 20.0),
                ("o5", "s2", 1, 0.0),  # o5: all lines free -> equal parts 15 / 15
                ("o5", "s1", 1, 0.0),
            ],  # o8 has no lines
            columns=["order_id", "sku_id", "quantity", "unit_price"],
        )
    )
    products = ibis.memtable(pd.DataFrame({"sku_id": ["s1", "s2"], "category": ["food", "toys"]}))
    table = repurchase.repurchase_by_category(SHOP, items, products, SHOP_PERIOD)
    assert table["category"].tolist() == ["food", "toys", "(unknown)"]
    # food: a o1 60, a o2 40, b o5 15; toys: a o1 40, b o4 20, b o5 15; unknown: a o3, c o8
    assert table["buyers"].tolist() == [2, 2, 2]
    assert table["repeat_buyers"].tolist() == [1, 1, 0]
    assert table["gmv"].tolist() == [115.0, 75.0, 15.0]
    assert table["repeat_gmv"].tolist() == [40.0, 15.0, 0.0]


BUYERS = orders_table(
    [
        ("a1", "u1", "2025-01-05 10:00", "2025-01-05 10:00", "paid", 1.0),
        ("a2", "u1", "2025-02-03 10:00", "2025-02-03 10:00", "paid", 1.0),  # 29 days later
        ("b1", "u2", "2025-01-10 10:00", "2025-01-10 10:00", "paid", 1.0),
        ("b2", "u2", "2025-03-15 10:00", "2025-03-15 10:00", "paid", 1.0),  # 64 days later
        ("c1", "u3", "2025-01-20 10:00", "2025-01-20 10:00", "paid", 1.0),  # never again
        ("d1", "u4", "2025-02-01 10:00", "2025-02-01 10:00", "paid", 1.0),
        ("d2", "u4", "2025-02-01 11:00", "2025-02-01 11:00", "paid", 1.0),  # same day: 0 days
        ("e1", "u5", "2024-12-20 10:00", "2024-12-20 10:00", "paid", 1.0),  # first in December
        ("e2", "u5", "2025-01-15 10:00", "2025-01-15 10:00", "paid", 1.0),
        ("f0", "u6", "2025-03-01 10:00", "2025-03-01 10:00", "cancelled", 1.0),  # not a purchase
        ("f1", "u6", "2025-03-20 10:00", "2025-03-20 10:00", "paid", 1.0),
        ("f2", "u6", "2025-03-25 10:00", "2025-03-25 10:00", "refunded", 1.0),  # 5 days later
        ("g1", "u8", "2025-04-02 10:00", "2025-04-02 10:00", "paid", 1.0),  # first after end
        ("h1", "u7", "2025-04-20 10:00", None, "unpaid", 1.0),  # the last day in the orders
    ]
)
Q1 = Period("2025-01-01", "2025-03-31")


def test_buyer_cohorts_repeat_within_30_60_90_days():
    table = repurchase.buyer_cohorts(BUYERS, Q1, months=3).set_index("cohort_month")
    assert list(table.index) == dates("2025-01-01", "2025-02-01", "2025-03-01")
    assert table["buyers"].tolist() == [3, 1, 1]  # u1 u2 u3 ; u4 ; u6
    # Data end 04-20: January buyers can all be judged at 90 days (01-20 + 90 = 04-20),
    # February's u4 not (05-02), March's u6 at 30 days (04-19) but not 60.
    assert table["observed_30d"].tolist() == [3, 1, 1]
    assert table["repeat_buyers_30d"].tolist() == [1, 1, 1]
    assert table["observed_60d"].tolist() == [3, 1, 0]
    assert table["repeat_buyers_60d"].tolist() == [1, 1, 0]
    assert table["observed_90d"].tolist() == [3, 0, 0]
    assert table["repeat_buyers_90d"].tolist() == [2, 0, 0]
    assert table["repeat_rate_90d"].iloc[0] == pytest.approx(2 / 3)
    assert math.isnan(table["repeat_rate_90d"].iloc[1])


def test_days_between_first_and_second_purchase():
    gaps = repurchase.days_to_second_purchase(BUYERS, Q1, months=3)
    assert gaps["days"].tolist() == [0, 5, 29, 64]
    assert gaps["cumulative_share"].tolist() == [0.25, 0.5, 0.75, 1.0]
    quantiles = repurchase.days_to_second_quantiles(gaps)
    assert quantiles["days"].tolist() == [0, 5, 29]


@pytest.mark.parametrize("function", [repurchase.buyer_cohorts, repurchase.days_to_second_purchase])
@pytest.mark.parametrize(
    ("months", "refusal"),
    [
        (0, "months=0 must be from 1 to 120"),
        (-3, "months=-3 must be from 1 to 120"),
        (121, "months=121 must be from 1 to 120"),
        (10**9, f"months={10**9} must be from 1 to 120"),  # not an OverflowError from dates
        (1, None),
        (120, None),
    ],
)
def test_cohort_months_from_1_to_120(function, months, refusal):
    if refusal is None:
        assert isinstance(function(BUYERS, Q1, months=months), pd.DataFrame)
    else:
        with pytest.raises(ValueError, match=re.escape(refusal)):
            function(BUYERS, Q1, months=months)


def test_cohort_months_cap_is_the_runners():
    from lib import parameters

    assert parameters.bounds("buyer_cohort_months").high == repurchase.MAX_COHORT_MONTHS


# ------------------------------------------------------------------------------------- segments


def test_lifecycle_states():
    events = events_table(
        [
            ("2025-03-10 09:00", "n1", "page_view"),  # new in W0 (03-08..03-14)
            ("2025-03-16 09:00", "n1", "page_view"),  # returning in W1 (03-15..03-21)
            ("2025-03-02 09:00", "r1", "page_view"),  # W-1 (03-01..03-07)
            ("2025-03-09 09:00", "r1", "page_view"),  # returning in W0, dormant in W1
            ("2025-02-20 09:00", "z1", "page_view"),
            ("2025-03-12 09:00", "z1", "page_view"),  # resurrected in W0, dormant in W1
            ("2025-03-05 09:00", "d1", "page_view"),  # dormant in W0
            ("2025-03-03 09:00", "s1", "page_view"),  # dormant in W0
            ("2025-03-18 09:00", "s1", "page_view"),  # resurrected in W1
            ("2025-03-20 09:00", "n2", "page_view"),  # new in W1
            ("2025-03-25 09:00", "n2", "page_view"),  # after the end: ignored
            ("2025-03-21 23:00", "n3", "page_view"),  # new in W1
            ("2025-03-25 09:00", "x", "page_view"),  # only after the end: ignored
        ]
    )
    period = Period("2025-03-06", "2025-03-21")  # 16 days: 03-06 and 03-07 fill no window
    user_days, means = segments.activity_user_days(period, orders_table([]), events)
    assert means == "any event"
    table = segments.lifecycle(user_days, period, window_days=7)
    assert table["window_start"].tolist() == dates("2025-03-08", "2025-03-15")
    assert table["window_end"].tolist() == dates("2025-03-14", "2025-03-21")
    assert table[list(segments.LIFECYCLE_STATES)].values.tolist() == [[1, 1, 1, 2], [2, 1, 1, 2]]
    assert table["active"].tolist() == [3, 4]
    assert table["quick_ratio"].tolist() == [1.0, 1.5]


def test_activity_segments_thresholds():
    events = events_table(
        [
            ("2025-02-01 09:00", "h", "x"),
            ("2025-03-29 09:00", "h", "x"),
            ("2025-03-30 09:00", "h", "x"),
            ("2025-03-31 09:00", "h", "x"),
            ("2025-03-31 10:00", "h", "x"),  # same day: one active day
            ("2025-03-22 09:00", "l", "x"),  # first day of the 10-day window
            ("2025-03-21 09:00", "s", "x"),  # 10 days before the end: silent
            ("2025-03-12 09:00", "s2", "x"),  # 19 days: still silent
            ("2025-03-11 09:00", "c", "x"),  # 20 days: churned
            ("2025-04-01 09:00", "f", "x"),  # after the end: not listed
        ]
    )
    period = Period("2025-03-01", "2025-03-31")
    user_days = segments.user_days_from_events(events, period)
    table = segments.activity_segments(user_days, period, 10, 3, 20).set_index("user_id")
    assert table["segment"].to_dict() == {
        "c": "churned",
        "h": "highly_active",
        "l": "low_activity",
        "s": "silent",
        "s2": "silent",
    }
    assert table["active_days"].to_dict() == {"c": 0, "h": 3, "l": 1, "s": 0, "s2": 0}
    assert table["days_since_active"].to_dict() == {"c": 20, "h": 0, "l": 9, "s": 10, "s2": 19}
    groups = segments.split_segments(table.reset_index(), "segment", segments.ACTIVITY_SEGMENTS)
    assert list(groups) == ["highly_active", "low_activity", "silent", "churned"]
    assert groups["silent"]["user_id"].tolist() == ["s", "s2"]


def test_quintile_scores_share_ties():
    assert segments.quintile_scores(pd.Series([1, 1, 1, 1, 2])).tolist() == [1, 1, 1, 1, 5]
    recency = pd.Series([0, 10, 20, 30, 40])
    assert segments.quintile_scores(recency, higher_is_better=False).tolist() == [5, 4, 3, 2, 1]


def test_rfm_scores_and_segments():
    orders = orders_table(
        [
            ("a1", "A", "2025-03-31 01:00", "2025-03-31 01:00", "paid", 100.0),
            ("a2", "A", "2025-03-31 02:00", "2025-03-31 02:00", "paid", 100.0),
            ("b1", "B", "2025-03-21 01:00", "2025-03-21 01:00", "paid", 50.0),
            ("c1", "C", "2025-03-11 01:00", "2025-03-11 01:00", "paid", 30.0),
            ("d1", "D", "2025-03-01 01:00", "2025-03-01 01:00", "paid", 20.0),
            ("e1", "E", "2025-02-19 01:00", "2025-02-19 01:00", "paid", 10.0),
            ("e2", "E", "2025-03-30 01:00", "2025-03-30 01:00", "cancelled", 1000.0),
            ("e3", "E", "2025-03-30 02:00", None, "unpaid", 1000.0),
        ]
    )
    period = Period("2025-03-01", "2025-03-31")
    table = segments.rfm_scores(orders, period).set_index("user_id")
    assert table["recency_days"].tolist() == [0, 10, 20, 30, 40]
    assert table["frequency"].tolist() == [2, 1, 1, 1, 1]
    assert table["monetary"].tolist() == [200.0, 50.0, 30.0, 20.0, 10.0]
    assert table["r_score"].tolist() == [5, 4, 3, 2, 1]
    assert table["f_score"].tolist() == [5, 1, 1, 1, 1]
    assert table["m_score"].tolist() == [5, 4, 3, 2, 1]
    assert table["fm_score"].tolist() == [5, 3, 2, 2, 1]  # (F + M) / 2 rounded half up
    # B (R 4, FM 3) bought once: named by recency alone, promising, not a potential loyalist
    assert table["rfm_segment"].tolist() == [
        "champions",
        "promising",
        "about_to_sleep",
        "hibernating",
        "hibernating",
    ]
    recent = segments.rfm_scores(orders, period, lookback_days=35)  # from 02-25: E drops out
    assert recent["user_id"].tolist() == ["A", "B", "C", "D"]


DECISION_EVENTS = coupon_events(
    [
        ("2025-03-10 01:00", "v1", "view_item", "A", None),
        ("2025-03-10 05:00", "v1", "view_item", "B", None),  # last view: B
        ("2025-03-10 01:00", "v2", "view_item", "A", None),  # bought an hour later
        ("2025-03-10 03:00", "v3", "view_item", "A", None),  # bought before the view
        ("2025-03-11 10:00", "v4", "view_item", "A", None),  # paid only after the end
        ("2025-03-10 01:00", "c1", "add_to_cart", "C", None),  # ordered (unpaid) after
        ("2025-03-11 05:00", "c2", "add_to_cart", "D", None),  # never ordered
        ("2025-03-09 05:00", "c3", "add_to_cart", "D", None),  # before the period
        ("2025-03-10 01:00", "k1", "claim_coupon", None, "X"),
        ("2025-03-10 02:00", "k1", "claim_coupon", None, "Y"),
        ("2025-03-10 05:00", "k2", "claim_coupon", None, "X"),  # used before the claim
        ("2025-03-11 01:00", "k3", "claim_coupon", None, "Z"),  # order with it left unpaid
        ("2025-03-10 01:00", "k4", "claim_coupon", None, "X"),  # paid with another coupon
    ]
)
DECISION_ORDERS = coupon_orders(
    [
        ("ov2", "v2", "2025-03-10 02:00", "2025-03-10 02:00", "paid", 10.0, None),
        ("ov3", "v3", "2025-03-10 00:30", "2025-03-10 01:00", "paid", 20.0, None),
        ("ov4", "v4", "2025-03-11 12:00", "2025-03-12 01:00", "paid", 30.0, None),
        ("oc1", "c1", "2025-03-10 02:00", None, "unpaid", 40.0, None),
        ("op1a", "p1", "2025-03-10 01:00", None, "unpaid", 50.0, None),
        ("op1b", "p1", "2025-03-10 04:00", "2025-03-10 04:05", "paid", 60.0, None),
        ("op2a", "p2", "2025-03-10 01:00", "2025-03-10 01:10", "paid", 70.0, None),
        ("op2b", "p2", "2025-03-11 01:00", None, "cancelled", 80.0, None),
        ("ok1", "k1", "2025-03-10 03:00", "2025-03-10 03:00", "paid", 5.0, "X"),
        ("ok2", "k2", "2025-03-10 04:00", "2025-03-10 04:00", "paid", 5.0, "X"),
        ("ok3", "k3", "2025-03-11 02:00", None, "unpaid", 5.0, "Z"),
        ("ok4", "k4", "2025-03-10 03:00", "2025-03-10 03:00", "paid", 5.0, "Y"),
    ]
)
UTC_DAYS = Period("2025-03-10", "2025-03-11")


def test_decision_stage_segments():
    groups = segments.decision_stage_segments(DECISION_ORDERS, UTC_DAYS, DECISION_EVENTS)
    assert list(groups) == list(segments.DECISION_STAGES)
    viewed = groups["viewed_not_bought"]
    assert viewed["user_id"].tolist() == ["v1", "v3", "v4"]
    assert viewed["views"].tolist() == [2, 1, 1]
    assert viewed["last_viewed_sku"].tolist() == ["B", "A", "A"]
    assert viewed["last_view_date"].tolist() == dates("2025-03-10", "2025-03-10", "2025-03-11")
    carted = groups["carted_not_ordered"]
    assert carted[["user_id", "carts", "last_carted_sku"]].values.tolist() == [["c2", 1, "D"]]
    unpaid = groups["ordered_not_paid"].set_index("user_id")
    # c1 never paid; p2's last order was cancelled unpaid; k3 left it; v4 paid after the end.
    # p1 paid a later order, so p1 is not waiting on a payment.
    assert list(unpaid.index) == ["c1", "k3", "p2", "v4"]
    assert unpaid.loc["p2", ["orders_placed", "unpaid_orders", "last_order_amount"]].tolist() == [
        2,
        1,
        80.0,
    ]
    not_used = groups["coupon_claimed_not_used"].set_index("user_id")
    assert list(not_used.index) == ["k1", "k2", "k3", "k4"]
    assert not_used.loc["k1", ["coupons_claimed", "coupons_unused"]].tolist() == [2, 1]
    assert not_used["last_unused_coupon_id"].tolist() == ["Y", "X", "Z", "X"]
    used = groups["coupon_claimed_and_used"]
    assert used[["user_id", "coupons_claimed", "coupons_used"]].values.tolist() == [["k1", 2, 1]]


def test_coupon_segments_without_coupon_ids_on_events():
    events = DECISION_EVENTS.drop("coupon_id")
    groups = segments.coupon_segments(events, DECISION_ORDERS, UTC_DAYS)
    # Any coupon order placed after the user's claim and paid counts: k1 and k4 used one.
    assert groups["coupon_claimed_and_used"]["user_id"].tolist() == ["k1", "k4"]
    assert groups["coupon_claimed_not_used"]["user_id"].tolist() == ["k2", "k3"]


def test_claims_on_different_days_are_different_coupons_without_ids():
    events = coupon_events(
        [
            ("2025-03-10 01:00", "m", "claim_coupon", None, None),
            ("2025-03-10 03:00", "m", "claim_coupon", None, None),  # same day: the same coupon
            ("2025-03-11 01:00", "m", "claim_coupon", None, None),  # next day: another one
        ]
    ).drop("coupon_id")
    orders = coupon_orders([("o1", "m", "2025-03-10 04:55", "2025-03-10 05:00", "paid", 9.0, "C1")])
    groups = segments.coupon_segments(events, orders, UTC_DAYS)
    used = groups["coupon_claimed_and_used"].set_index("user_id")
    assert used.loc["m", ["coupons_claimed", "coupons_used"]].tolist() == [2, 1]
    unused = groups["coupon_claimed_not_used"].set_index("user_id")
    assert unused.loc["m", ["coupons_claimed", "coupons_unused"]].tolist() == [2, 1]
    assert unused.loc["m", "last_claim_date"] == pd.Timestamp("2025-03-11")


def test_category_propensity():
    events = events_table(
        [
            ("2025-03-11 09:00", "u", "view_item", None, "s1"),  # food: 1 x 1
            ("2025-03-10 09:00", "u", "add_to_cart", None, "s2"),  # toys: 3 x 0.5
            ("2025-03-10 09:00", "t", "view_item", None, "s1"),  # a tie for t
            ("2025-03-10 10:00", "t", "view_item", None, "s2"),
            ("2025-03-12 09:00", "w", "view_item", None, "s2"),  # after the end
        ]
    )
    orders = orders_table(
        [
            ("o1", "u", "2025-03-09 09:00", "2025-03-09 09:00", "paid", 9.0),  # food: 5 x 0.25
            ("o2", "w", "2025-03-01 09:00", "2025-03-01 09:00", "paid", 9.0),  # before the period
            ("o3", "x", "2025-03-10 09:00", "2025-03-10 09:00", "paid", 9.0),
        ]
    )
    items = ibis.memtable(
        pd.DataFrame(
            {
                "order_id": ["o1", "o2", "o3"],
                "sku_id": ["s1", "s1", "s2"],
                "quantity": [1, 1, 1],
                "unit_price": [9.0, 9.0, 9.0],
            }
        )
    )
    products = ibis.memtable(pd.DataFrame({"sku_id": ["s1", "s2"], "category": ["food", "toys"]}))
    table = segments.category_propensity(
        orders, items, products, UTC_DAYS, events, half_life_days=1
    ).set_index("user_id")
    # u: food 1 + 1.25 = 2.25, toys 1.5, of 3.75; t: 0.5 each, alphabetical; x: toys only
    assert list(table.index) == ["t", "u", "x"]
    assert table["next_category"].tolist() == ["food", "food", "toys"]
    assert table["propensity"].tolist() == [0.5, 0.6, 1.0]
    assert table.loc["u", "second_category"] == "toys"
    assert table.loc["u", "second_propensity"] == 0.4
    assert pd.isna(table.loc["x", "second_category"])
    orders_only = segments.category_propensity(orders, items, products, UTC_DAYS)
    assert orders_only["user_id"].tolist() == ["x"]  # u's purchase was before the period


def _lifecycle(window_days: int) -> pd.DataFrame:
    return segments.lifecycle(
        segments.user_days_from_orders(SHOP, SHOP_PERIOD), SHOP_PERIOD, window_days
    )


def _propensity(half_life_days: float) -> pd.DataFrame:
    items = ibis.memtable(
        pd.DataFrame({"order_id": ["o1"], "sku_id": ["s1"], "quantity": [1], "unit_price": [1.0]})
    )
    products = ibis.memtable(pd.DataFrame({"sku_id": ["s1"], "category": ["food"]}))
    return segments.category_propensity(
        SHOP, items, products, SHOP_PERIOD, half_life_days=half_life_days
    )


@pytest.mark.parametrize(
    ("function", "value", "refusal"),
    [
        (_lifecycle, 0, "window_days=0 must be from 1 to 3660"),
        (_lifecycle, -7, "window_days=-7 must be from 1 to 3660"),
        (_lifecycle, 1, None),
        (_propensity, 0, "half_life_days=0 must be above 0"),
        (_propensity, -30, "half_life_days=-30 must be above 0"),
        (_propensity, math.nan, "half_life_days=nan must be above 0"),
        (_propensity, 0.5, None),  # under a day is a half-life too, unlike 0
    ],
)
def test_segment_windows_and_half_life_are_positive(function, value, refusal):
    if refusal is None:
        assert not function(value).empty
    else:
        with pytest.raises(ValueError, match=re.escape(refusal)):
            function(value)


def test_segment_summary_size_and_value():
    orders = orders_table(
        [
            ("o1", "a", "2025-03-10 09:00", "2025-03-10 09:00", "paid", 100.0),
            ("o2", "a", "2025-03-01 09:00", "2025-03-01 09:00", "paid", 50.0),
            ("o3", "a", "2025-03-12 09:00", "2025-03-12 09:00", "paid", 999.0),  # after the end
            ("o4", "b", "2025-03-10 09:00", "2025-03-10 09:00", "paid", 7.0),  # not a member
        ]
    )
    members = {"g": pd.DataFrame({"user_id": ["a", "z"]}), "empty": pd.DataFrame({"user_id": []})}
    table = segments.segment_summary(members, orders, UTC_DAYS).set_index("segment")
    assert table.loc["g"].tolist() == [2, 1, 100.0, 150.0, 75.0]
    assert table.loc["empty", "users"] == 0
    assert math.isnan(table.loc["empty", "gmv_to_date_per_user"])


def test_segment_summary_without_orders_gives_only_the_size():
    # events-only data (Taobao): no value to add up, and no made-up zero GMV either
    members = {"g": pd.DataFrame({"user_id": ["a", "z"]}), "empty": pd.DataFrame({"user_id": []})}
    table = segments.segment_summary(members, None, UTC_DAYS)
    assert table.to_dict("list") == {"segment": ["g", "empty"], "users": [2, 0]}


def test_activity_user_days_needs_events_or_orders():
    events = events_table([("2025-03-10 09:00", "a", "page_view")])
    user_days, means = segments.activity_user_days(UTC_DAYS, None, events)
    assert means == "any event"
    assert user_days.to_pandas()["user_id"].tolist() == ["a"]
    with pytest.raises(ValueError, match="events or an orders table"):
        segments.activity_user_days(UTC_DAYS, None, None)


# ---------------------------------------------------------------------------- orders-only source


def test_orders_only_source(tmp_path):
    frame = SHOP.to_pandas()
    frame.to_csv(tmp_path / "orders.csv", index=False)
    src = data.open_source(tmp_path)
    assert src.optional("events") is None
    orders = src["orders"]
    row = repurchase.repurchase_summary(orders, SHOP_PERIOD).iloc[0]
    assert row[["buyers", "repeat_buyers", "gmv", "repeat_gmv"]].tolist() == [3, 2, 205.0, 80.0]
    assert repurchase.repurchase_by_month(orders, SHOP_PERIOD)["buyers"].tolist() == [2, 2]
    user_days, means = segments.activity_user_days(SHOP_PERIOD, orders, None)
    assert means.startswith("a paid order")
    # 22 days, 7-day windows: 01-21..01-27, 01-28..02-03, 02-04..02-10 (local).
    # a pays 01-21, 01-25, 02-01; b 02-03; c 01-24.
    table = segments.lifecycle(user_days, SHOP_PERIOD, window_days=7)
    assert table[list(segments.LIFECYCLE_STATES)].values.tolist() == [
        [2, 0, 0, 0],
        [1, 1, 0, 1],
        [0, 0, 0, 2],
    ]
    groups = segments.decision_stage_segments(orders, SHOP_PERIOD)
    assert list(groups) == ["ordered_not_paid"]
    assert groups["ordered_not_paid"]["user_id"].tolist() == []  # c paid o8 after o7
    rfm = segments.rfm_scores(orders, SHOP_PERIOD)
    assert rfm["user_id"].tolist() == ["a", "b", "c"]
