"""Rule-based risk flags (lib/risks.py) on tiny tables worked out by hand, and on a simulated shop
whose abusers and bots are known (lib/simulate.py plants them)."""

from __future__ import annotations

import inspect

import ibis
import pandas as pd
import pytest

from lib import data, parameters, risks, simulate
from lib.periods import Period

from .conftest import events_table, items_table

SHANGHAI = Period("2025-03-10", "2025-03-11", "Asia/Shanghai")
UTC = Period("2025-03-10", "2025-03-11", "UTC")

ORDER_SCHEMA = {
    "order_id": "string",
    "user_id": "string",
    "order_time": "timestamp",
    "paid_time": "timestamp",
    "status": "string",
    "paid_amount": "float64",
    "discount_amount": "float64",
    "coupon_id": "string",
    "channel": "string",
}


def orders(rows: list[tuple], coupon: bool = True) -> ibis.Table:
    """Orders from ``(order_id, user_id, order_time, paid_time, status[, coupon_id])``."""
    padded = [tuple(row) + (None,) * (6 - len(row)) for row in rows]
    frame = pd.DataFrame(
        padded, columns=["order_id", "user_id", "order_time", "paid_time", "status", "coupon_id"]
    )
    for column in ("order_time", "paid_time"):
        frame[column] = pd.to_datetime(frame[column], format="ISO8601")
    frame["paid_amount"] = 10.0
    frame["discount_amount"] = 0.0
    frame["channel"] = None
    schema = dict(ORDER_SCHEMA)
    if not coupon:
        frame = frame.drop(columns="coupon_id")
        del schema["coupon_id"]
    return ibis.memtable(frame[list(schema)], schema=schema)


def flagged(table: pd.DataFrame) -> list[tuple]:
    return [tuple(row) for row in table[risks.COLUMNS].itertuples(index=False)]


# ----------------------------------------------------------------------------- order rules
def test_unpaid_orders_counts_unpaid_and_cancelled_orders_placed_in_the_period():
    book = orders(
        [
            ("a1", "a", "2025-03-10 01:00", None, "unpaid"),
            ("a2", "a", "2025-03-10 02:00", None, "unpaid"),
            ("a3", "a", "2025-03-10 03:00", "2025-03-10 03:05", "cancelled"),
            ("a4", "a", "2025-03-10 04:00", "2025-03-10 04:05", "paid"),  # paid: not counted
            ("a5", "a", "2025-03-10 05:00", "2025-03-10 05:05", "refunded"),  # paid once
            ("b1", "b", "2025-03-10 01:00", None, "unpaid"),
            ("b2", "b", "2025-03-10 02:00", None, "unpaid"),
            ("b3", "b", "2025-03-12 02:00", None, "unpaid"),  # 03-12 local: after the period
        ]
    )
    assert flagged(risks.unpaid_order_users(book, SHANGHAI, min_orders=3)) == [
        ("unpaid_orders", "a", "", 3.0, 3.0)
    ]
    assert flagged(risks.unpaid_order_users(book, SHANGHAI, min_orders=2)) == [
        ("unpaid_orders", "a", "", 3.0, 2.0),
        ("unpaid_orders", "b", "", 2.0, 2.0),
    ]


def test_unpaid_orders_across_a_local_midnight():
    # 16:00 UTC is local midnight in Shanghai: 03-09 15:59:59 is 03-09 23:59:59 local (before
    # the period) and 03-11 16:00 is 03-12 00:00 local (after it); in UTC both lie inside
    book = orders(
        [
            ("m1", "m", "2025-03-09 15:59:59", None, "unpaid"),
            ("m2", "m", "2025-03-09 16:00:00", None, "unpaid"),
            ("m3", "m", "2025-03-11 15:59:59", None, "unpaid"),
            ("m4", "m", "2025-03-11 16:00:00", None, "unpaid"),
            ("m5", "m", "2025-03-11 23:59:59", None, "unpaid"),
        ]
    )
    assert flagged(risks.unpaid_order_users(book, SHANGHAI, min_orders=1)) == [
        ("unpaid_orders", "m", "", 2.0, 1.0)
    ]
    assert flagged(risks.unpaid_order_users(book, UTC, min_orders=1)) == [
        ("unpaid_orders", "m", "", 3.0, 1.0)  # m3, m4, m5; m1 and m2 fall on 03-09
    ]


def test_coupon_uses_counts_paid_orders_with_a_coupon():
    book = orders(
        [
            ("c1", "c", "2025-03-10 01:00", "2025-03-10 01:01", "paid", "X"),
            ("c2", "c", "2025-03-10 02:00", "2025-03-10 02:01", "refunded", "Y"),  # still paid
            ("c3", "c", "2025-03-10 03:00", None, "unpaid", "X"),  # never redeemed
            ("c4", "c", "2025-03-10 04:00", "2025-03-10 04:01", "cancelled", "X"),  # not paid
            ("c5", "c", "2025-03-10 05:00", "2025-03-10 05:01", "paid"),  # no coupon
            ("d1", "d", "2025-03-10 01:00", "2025-03-10 01:01", "paid", "X"),
        ]
    )
    assert flagged(risks.coupon_use_users(book, SHANGHAI, min_uses=2)) == [
        ("coupon_uses", "c", "", 2.0, 2.0)
    ]
    # without the column the rule is skipped, and says so
    no_coupons = orders([("c1", "c", "2025-03-10 01:00", None, "unpaid")], coupon=False)
    assert risks.coupon_use_users(no_coupons, SHANGHAI, min_uses=1).empty
    assert "coupon_uses" not in risks.rules_run(orders=no_coupons)
    assert "unpaid_orders" in risks.rules_run(orders=no_coupons)


def test_refund_share_needs_enough_paid_orders():
    rows = [
        # r: 4 paid orders, 3 refunded -> 0.75; the cancelled one is no paid order
        ("r1", "r", "2025-03-10 01:00", "2025-03-10 01:01", "refunded"),
        ("r2", "r", "2025-03-10 02:00", "2025-03-10 02:01", "refunded"),
        ("r3", "r", "2025-03-10 03:00", "2025-03-10 03:01", "refunded"),
        ("r4", "r", "2025-03-10 04:00", "2025-03-10 04:01", "paid"),
        ("r5", "r", "2025-03-10 05:00", "2025-03-10 05:01", "cancelled"),
        # s: every order refunded, but only two
        ("s1", "s", "2025-03-10 01:00", "2025-03-10 01:01", "refunded"),
        ("s2", "s", "2025-03-10 02:00", "2025-03-10 02:01", "refunded"),
        # t: 4 paid orders, 1 refunded -> 0.25
        *[(f"t{k}", "t", "2025-03-10 01:00", "2025-03-10 01:01", "paid") for k in range(3)],
        ("t3", "t", "2025-03-10 01:00", "2025-03-10 01:01", "refunded"),
    ]
    book = orders(rows)
    assert flagged(risks.refund_share_users(book, SHANGHAI, min_share=0.5, min_orders=4)) == [
        ("refund_share", "r", "", 0.75, 0.5)
    ]
    assert flagged(risks.refund_share_users(book, SHANGHAI, min_share=0.25, min_orders=2)) == [
        ("refund_share", "s", "", 1.0, 0.25),
        ("refund_share", "r", "", 0.75, 0.25),
        ("refund_share", "t", "", 0.25, 0.25),
    ]


def test_extreme_lines_against_the_skus_exact_median():
    paid_at = ("2025-03-10 01:00", "2025-03-10 01:01", "paid")
    rows, lines = [], []
    # SKU k: ten lines of 1 at 10.0 and one of 6: median 1 (odd count), 10.0 by amount
    for n in range(10):
        rows.append((f"k{n}", f"u{n}", *paid_at))
        lines.append((f"k{n}", "k", 1, 10.0))
    rows.append(("kx", "big", *paid_at))
    lines.append(("kx", "k", 6, 10.0))
    # SKU e: ten lines 1,1,1,1,2,4,4,4,4,20 at 1.5: median (2 + 4) / 2 = 3 (even count)
    for n, quantity in enumerate([1, 1, 1, 1, 2, 4, 4, 4, 4, 20]):
        rows.append((f"e{n}", "bulk" if quantity == 20 else f"v{n}", *paid_at))
        lines.append((f"e{n}", "e", quantity, 1.5))
    # SKU j: too few lines to judge; an unpaid order's line counts for nothing
    rows += [("j0", "w", *paid_at), ("j1", "w", *paid_at)]
    rows.append(("jx", "x", "2025-03-10 01:00", None, "unpaid"))
    lines += [("j0", "j", 1, 5.0), ("j1", "j", 99, 5.0), ("jx", "k", 500, 10.0)]
    table = risks.extreme_sku_lines(
        orders(rows), items_table(lines), SHANGHAI, factor=5, min_orders=10
    )
    assert flagged(table) == [
        ("sku_quantity", "bulk", "e9", 20.0, 15.0),
        ("sku_quantity", "big", "kx", 6.0, 5.0),
        ("sku_amount", "big", "kx", 60.0, 50.0),
        ("sku_amount", "bulk", "e9", 30.0, 22.5),
    ]
    # with two lines enough, j is judged: its median is (1 + 99) / 2 = 50, so 99 stays below 5 x
    loose = risks.extreme_sku_lines(
        orders(rows), items_table(lines), SHANGHAI, factor=5, min_orders=2
    )
    assert ("j1" in set(loose["order_id"])) is False


# ----------------------------------------------------------------------------- event rules
def test_coupon_claims_per_user_in_local_days():
    events = events_table(
        [
            ("2025-03-09 15:59:59", "a", "claim_coupon"),  # 03-09 local: outside
            ("2025-03-09 16:00:00", "a", "claim_coupon"),
            ("2025-03-10 12:00:00", "a", "claim_coupon"),
            ("2025-03-10 12:00:00", "a", "page_view"),
            ("2025-03-10 12:00:00", "b", "claim_coupon"),
        ]
    )
    assert flagged(risks.coupon_claim_users(events, SHANGHAI, min_claims=2)) == [
        ("coupon_claims", "a", "", 2.0, 2.0)
    ]


def test_nearest_rank_quantile():
    histogram = pd.DataFrame({"value": [50, 1, 2], "n": [1, 998, 1]})
    assert risks.nearest_rank_quantile(histogram, 0.999) == 2  # 999 of 1000 at or below 2
    assert risks.nearest_rank_quantile(histogram, 0.998) == 1
    assert risks.nearest_rank_quantile(histogram, 1.0) == 50
    assert risks.nearest_rank_quantile(pd.DataFrame({"value": [], "n": []}), 0.999) != 0


def _crowd(n: int, day: str = "2025-03-10") -> list[tuple]:
    """n ordinary users with one event (one session) each, a minute apart."""
    start = pd.Timestamp(f"{day} 01:00")
    return [(str(start + pd.Timedelta(minutes=k)), f"u{k}", "page_view", f"s{k}") for k in range(n)]


def test_events_per_minute_far_above_the_shops_p999():
    # 1000 user-minutes with 1 event, one with 2 and the bot's with 10
    rows = _crowd(1000)
    rows += [("2025-03-10 05:00:00", "two", "page_view", "t1")] * 2
    rows += [(f"2025-03-10 06:00:{k:02d}", "bot", "page_view", "b1") for k in range(10)]
    table = risks.bot_users(events_table(rows), SHANGHAI, factor=3.0)
    assert flagged(table[table["rule"] == "events_per_minute"]) == [
        ("events_per_minute", "bot", "", 10.0, 6.0)
    ]
    # the p99.9 of the 1002 user-minutes is 2 (1000 / 1002 = 0.998 are at most 1, 1001 / 1002 =
    # 0.999 at most 2), so the threshold is 3 x 2 = 6 and the user with 2 is not flagged


def test_sessions_per_day_across_a_local_midnight():
    rows = _crowd(1000)
    # the bot's sessions: three on local 03-10 (its first at 00:00 local, its last at 23:59),
    # one on local 03-11 (00:00 local); in UTC days they would be 2 + 2
    for k, at in enumerate(
        ["2025-03-09 16:00:00", "2025-03-09 16:30:00", "2025-03-10 15:59:00", "2025-03-10 16:00:00"]
    ):
        rows.append((at, "bot", "page_view", f"b{k}"))
    table = risks.bot_users(events_table(rows), SHANGHAI, factor=3.0)
    # 1001 user-days with one session (the bot's 03-11 too) and one with three: p99.9 = 1
    # (1001 / 1002 >= 0.999), threshold 3
    assert flagged(table[table["rule"] == "sessions_per_day"]) == [
        ("sessions_per_day", "bot", "", 3.0, 3.0)
    ]
    utc = risks.bot_users(events_table(rows), UTC, factor=3.0)
    assert utc[utc["rule"] == "sessions_per_day"].empty  # 2 a day in UTC


def test_bot_rules_without_sessions_or_events():
    rows = [(at, user, name) for at, user, name, _ in _crowd(5)]
    no_sessions = events_table(rows).drop("session_id")
    assert risks.rules_run(events=no_sessions) == ["coupon_claims", "events_per_minute"]
    table = risks.bot_users(no_sessions, SHANGHAI, factor=1.0)
    assert set(table["rule"]) == {"events_per_minute"}  # every user-minute has 1: all at p99.9
    empty = risks.bot_users(events_table(rows), Period("2024-01-01", "2024-01-02"), factor=3.0)
    assert list(empty.columns) == risks.COLUMNS and empty.empty


# ----------------------------------------------------------------------------- all rules
def test_risk_flags_runs_what_the_tables_allow_and_sorts():
    book = orders(
        [
            ("a1", "a", "2025-03-10 01:00", None, "unpaid"),
            ("b1", "b", "2025-03-10 01:00", None, "unpaid"),
            ("b2", "b", "2025-03-10 02:00", None, "unpaid"),
            ("c1", "c", "2025-03-10 01:00", "2025-03-10 01:01", "refunded", "X"),
        ]
    )
    events = events_table([("2025-03-10 01:00", "c", "claim_coupon", "s1")])
    table = risks.risk_flags(
        SHANGHAI,
        events,
        book,
        unpaid_orders=1,
        coupon_claims=1,
        coupon_uses=1,
        refund_share=1.0,
        refund_min_orders=1,
        bot_factor=1.0,
    )
    assert list(table.columns) == risks.COLUMNS
    assert flagged(table) == [
        ("unpaid_orders", "b", "", 2.0, 1.0),
        ("unpaid_orders", "a", "", 1.0, 1.0),
        ("coupon_claims", "c", "", 1.0, 1.0),
        ("coupon_uses", "c", "", 1.0, 1.0),
        ("refund_share", "c", "", 1.0, 1.0),
        ("events_per_minute", "c", "", 1.0, 1.0),
        ("sessions_per_day", "c", "", 1.0, 1.0),
    ]
    assert risks.rules_run(events, book) == list(risks.RULES[:6])
    assert risks.rules_run() == []
    assert risks.risk_flags(SHANGHAI).empty


def test_thresholds_are_checked_against_their_declarations():
    book = orders([("a1", "a", "2025-03-10 01:00", None, "unpaid")])
    with pytest.raises(ValueError, match="min_orders=0"):
        risks.unpaid_order_users(book, SHANGHAI, min_orders=0)
    with pytest.raises(ValueError, match="min_share=0"):
        risks.refund_share_users(book, SHANGHAI, min_share=0)
    with pytest.raises(ValueError, match="factor=0.5"):
        risks.bot_users(events_table(_crowd(3)), SHANGHAI, factor=0.5)


# -------------------------------------------------------------------------- simulated shop
@pytest.fixture(scope="module")
def planted_shop(tmp_path_factory) -> data.Source:
    folder = tmp_path_factory.mktemp("planted_shop")
    simulate.generate(
        folder,
        seed=7,
        target_events=500_000,
        incidents=simulate.SAMPLE_INCIDENTS,
        abusers=simulate.SAMPLE_ABUSERS,
    )
    return data.open_source(str(folder))


@pytest.mark.parametrize(
    "period",
    [Period("2025-10-15", "2025-11-14", "Asia/Shanghai"), Period("2025-08-01", "2025-11-28")],
    ids=["default_range", "whole_window_utc"],
)
def test_flags_find_exactly_the_planted_abusers_and_bots(planted_shop, period):
    table = risks.risk_flags(
        period, planted_shop["events"], planted_shop["orders"], planted_shop["order_items"]
    )
    planted = simulate.planted_users(500_000, simulate.SAMPLE_ABUSERS)
    expected = {
        "unpaid_orders": planted["unpaid"],
        "coupon_claims": planted["coupon"],
        "coupon_uses": planted["coupon"],
        "refund_share": planted["refund"],
        "events_per_minute": planted["crawler"],
        "sessions_per_day": planted["session"],
    }
    for rule, users in expected.items():
        assert set(table.loc[table["rule"] == rule, "user_id"]) == set(users), rule
    # the extreme lines are ordinary buyers' (none is planted): only their rows may remain
    rest = table[~table["rule"].isin(list(expected))]
    assert set(rest["rule"]) <= {"sku_quantity", "sku_amount"}
    assert (rest["order_id"] != "").all()


# the lib functions' keyword defaults are the declared parameters' (lib/parameters.py)
RISK_DEFAULTS = [
    (risks.unpaid_order_users, "min_orders", "risk_unpaid_orders"),
    (risks.coupon_claim_users, "min_claims", "risk_coupon_claims"),
    (risks.coupon_use_users, "min_uses", "risk_coupon_uses"),
    (risks.refund_share_users, "min_share", "risk_refund_share"),
    (risks.refund_share_users, "min_orders", "risk_refund_min_orders"),
    (risks.bot_users, "factor", "risk_bot_factor"),
    (risks.extreme_sku_lines, "factor", "risk_sku_factor"),
    (risks.extreme_sku_lines, "min_orders", "risk_sku_min_orders"),
    (risks.risk_flags, "unpaid_orders", "risk_unpaid_orders"),
    (risks.risk_flags, "coupon_claims", "risk_coupon_claims"),
    (risks.risk_flags, "coupon_uses", "risk_coupon_uses"),
    (risks.risk_flags, "refund_share", "risk_refund_share"),
    (risks.risk_flags, "refund_min_orders", "risk_refund_min_orders"),
    (risks.risk_flags, "bot_factor", "risk_bot_factor"),
    (risks.risk_flags, "sku_factor", "risk_sku_factor"),
    (risks.risk_flags, "sku_min_orders", "risk_sku_min_orders"),
]


@pytest.mark.parametrize(
    ("function", "argument", "name"),
    RISK_DEFAULTS,
    ids=[f"{f.__name__}-{a}" for f, a, _ in RISK_DEFAULTS],
)
def test_defaults_are_the_declared_parameters(function, argument, name):
    found = inspect.signature(function).parameters[argument].default
    assert found == parameters.default(name)
