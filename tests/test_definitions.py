"""The definitions shared by several domains (lib/definitions.py) on tiny data worked out by hand.

Shanghai is UTC+8 all year: local midnight is 16:00 UTC the day before. New York moved its clocks
forward on 2025-03-09 (EST UTC−5 → EDT UTC−4), so that local day lasted 23 hours.
2025-03-09 was a Sunday and 2025-03-10 a Monday.
"""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import ibis
import pandas as pd
import pytest

from lib import definitions
from lib.definitions import (
    MONEY_DECIMALS,
    UNKNOWN,
    events_in,
    last_order_day,
    paid_lines,
    paid_orders,
    paid_orders_in,
    week_start,
)
from lib.periods import Period, epoch_day

from .conftest import events_table, orders_table, shop_orders

SHANGHAI = Period("2025-03-10", "2025-03-11", "Asia/Shanghai")


def day(iso: str) -> int:
    return epoch_day(dt.date.fromisoformat(iso))


def order_lines(rows: list[tuple]) -> ibis.Table:
    """Order lines from ``(order_id, sku_id, quantity, unit_price)``."""
    return ibis.memtable(
        pd.DataFrame(rows, columns=["order_id", "sku_id", "quantity", "unit_price"])
    )


CATALOGUE = ibis.memtable(
    pd.DataFrame(
        [
            ("A1", "apparel", 20.0, 100.0),
            ("B1", "books", 5.0, 10.0),
            ("D1", None, None, None),  # no category, cost or list price
        ],
        columns=["sku_id", "category", "unit_cost", "list_price"],
    ),
    schema={
        "sku_id": "string",
        "category": "string",
        "unit_cost": "float64",
        "list_price": "float64",
    },
)


def test_constants():
    assert MONEY_DECIMALS == 2
    assert UNKNOWN == "(unknown)"


# --------------------------------------------------------------------------------------------
# Paid orders


def test_paid_orders_are_those_with_a_payment_that_were_not_cancelled():
    orders = orders_table(
        [
            ("paid", "u1", "2025-03-10 01:00", "2025-03-10 01:05", "paid", 10.0),
            ("refunded", "u2", "2025-03-10 01:00", "2025-03-10 01:05", "refunded", 20.0),
            ("paid_cancelled", "u3", "2025-03-10 01:00", "2025-03-10 01:05", "cancelled", 30.0),
            ("cancelled", "u4", "2025-03-10 01:00", None, "cancelled", 40.0),
            ("unpaid", "u5", "2025-03-10 01:00", None, "unpaid", 50.0),
            # the rule reads paid_time and the cancelled status only:
            ("paid_status_no_payment", "u6", "2025-03-10 01:00", None, "paid", 60.0),
            ("unpaid_status_paid", "u7", "2025-03-10 01:00", "2025-03-10 01:05", "unpaid", 70.0),
        ]
    )
    paid = paid_orders(orders).to_pandas()
    assert sorted(paid["order_id"]) == ["paid", "refunded", "unpaid_status_paid"]
    assert sorted(paid.columns) == sorted(orders.columns)  # rows filtered, columns untouched


def test_paid_orders_in_a_period_by_local_payment_day():
    orders = shop_orders(
        [
            ("before", "u1", "2025-03-09 15:59:59", "paid", 1.0, 0.0, None),  # 03-09 23:59:59
            ("first", "u1", "2025-03-09 16:00", "paid", 2.0, 0.0, None),  # 03-10 00:00 local
            ("last", "u2", "2025-03-11 15:59:59", "refunded", 3.0, 0.0, None),  # 03-11 23:59:59
            ("after", "u2", "2025-03-11 16:00", "paid", 4.0, 0.0, None),  # 03-12 00:00 local
            ("cancelled", "u3", "2025-03-10 04:00", "cancelled", 5.0, 0.0, None),
            ("unpaid", "u3", None, "unpaid", 6.0, 0.0, None),
        ]
    )
    inside = paid_orders_in(orders, SHANGHAI).to_pandas().set_index("order_id")["day"]
    assert inside.sort_index().to_dict() == {"first": day("2025-03-10"), "last": day("2025-03-11")}
    # days_after widens the end by whole local days (the start stays)
    wider = paid_orders_in(orders, SHANGHAI, days_after=1).to_pandas().set_index("order_id")["day"]
    assert wider.sort_index().to_dict() == {
        "after": day("2025-03-12"),
        "first": day("2025-03-10"),
        "last": day("2025-03-11"),
    }


def test_last_order_day_is_the_latest_local_order_or_payment_day():
    # placed 03-12 23:59 local (unpaid) against paid 03-12 00:30 local: the order time wins
    orders = orders_table(
        [
            ("o1", "u1", "2025-03-10 02:00", "2025-03-11 16:30", "paid", 10.0),
            ("o2", "u2", "2025-03-12 15:59", None, "unpaid", 20.0),
        ]
    )
    assert last_order_day(orders, SHANGHAI) == day("2025-03-12")
    # paid on 03-13 00:00 local for an order placed on 03-10: the payment wins; a cancelled
    # order is still in the orders
    orders = orders_table(
        [
            ("o1", "u1", "2025-03-10 02:00", "2025-03-12 16:00", "paid", 10.0),
            ("o2", "u2", "2025-03-11 02:00", None, "cancelled", 20.0),
        ]
    )
    assert last_order_day(orders, SHANGHAI) == day("2025-03-13")
    # no payment at all: the order times alone
    orders = orders_table([("o1", "u1", "2025-03-11 15:59", None, "unpaid", 10.0)])
    assert last_order_day(orders, SHANGHAI) == day("2025-03-11")


# --------------------------------------------------------------------------------------------
# Paid order lines


def test_paid_lines_value_cost_list_value_and_coupon_per_line():
    orders = shop_orders(
        [
            ("o1", "u1", "2025-03-10 02:00", "paid", 171.0, 19.0, "search"),
            ("o2", "u2", "2025-03-11 03:00", "refunded", 35.0, None, "ads"),
            ("o3", "u3", "2025-03-10 05:00", "cancelled", 100.0, 0.0, "ads"),  # not paid
            ("o4", "u4", "2025-03-09 15:59", "paid", 100.0, 0.0, "ads"),  # 03-09 local: before
        ]
    )
    items = order_lines(
        [
            ("o1", "A1", 2, 90.0),
            ("o1", "B1", 1, 10.0),
            ("o2", "D1", 1, 20.0),
            ("o2", "X9", 3, 5.0),  # missing from the catalogue
            ("o3", "A1", 1, 100.0),
            ("o4", "A1", 1, 100.0),
        ]
    )
    lines = paid_lines(orders, items, CATALOGUE, SHANGHAI).to_pandas()
    lines = lines.sort_values(["order_id", "sku_id"]).set_index("sku_id")
    assert list(lines["order_id"]) == ["o1", "o1", "o2", "o2"]
    assert list(lines["user_id"]) == ["u1", "u1", "u2", "u2"]
    assert list(lines["day"]) == [day("2025-03-10")] * 2 + [day("2025-03-11")] * 2
    assert list(lines["channel"]) == ["search", "search", "ads", "ads"]
    assert list(lines["category"]) == ["apparel", "books", UNKNOWN, UNKNOWN]
    assert list(lines["quantity"]) == [2, 1, 1, 3]
    assert list(lines["revenue"]) == [180.0, 10.0, 20.0, 15.0]
    # unit cost 20 and 5; D1 and X9 have no cost: 0
    assert list(lines["cost"]) == [40.0, 5.0, 0.0, 0.0]
    # list price 100 and 10; without one the list value is the revenue
    assert list(lines["list_value"]) == [200.0, 10.0, 20.0, 15.0]
    # o1's coupon of 19 by line value: 180/190 × 19 = 18 and 10/190 × 19 = 1; o2 has none
    assert lines["coupon"].tolist() == pytest.approx([18.0, 1.0, 0.0, 0.0])


def test_coupon_of_an_order_worth_nothing_is_split_equally():
    orders = shop_orders([("z", "u", "2025-03-10 02:00", "paid", 0.0, 6.0, None)])
    items = ibis.memtable(
        pd.DataFrame(
            [("z", "A1", 1, 0.0), ("z", "B1", 2, 0.0)],
            columns=["order_id", "sku_id", "quantity", "unit_price"],
        )
    )
    lines = paid_lines(orders, items, CATALOGUE, SHANGHAI).to_pandas()
    assert sorted(lines["coupon"]) == [3.0, 3.0]


# --------------------------------------------------------------------------------------------
# Events and weeks


def test_events_in_a_period_by_local_day_at_its_midnight_edges():
    events = events_table(
        [
            ("2025-03-08 15:59:59", "a", "page_view"),  # 03-08 23:59:59 local
            ("2025-03-08 16:00", "b", "page_view"),  # 03-09 00:00 local: the day before
            ("2025-03-09 15:59:59", "c", "page_view"),  # 03-09 23:59:59 local: the day before
            ("2025-03-09 16:00", "d", "page_view"),  # 03-10 00:00 local: first instant
            ("2025-03-11 15:59:59", "e", "page_view"),  # 03-11 23:59:59 local: last instant
            ("2025-03-11 16:00", "f", "page_view"),  # 03-12 00:00 local: the day after
        ]
    )
    inside = events_in(events, SHANGHAI).to_pandas().set_index("user_id")["day"]
    assert inside.sort_index().to_dict() == {"d": day("2025-03-10"), "e": day("2025-03-11")}
    wider = events_in(events, SHANGHAI, days_before=1, days_after=1).to_pandas()
    assert wider.set_index("user_id")["day"].sort_index().to_dict() == {
        "b": day("2025-03-09"),
        "c": day("2025-03-09"),
        "d": day("2025-03-10"),
        "e": day("2025-03-11"),
        "f": day("2025-03-12"),
    }


def test_events_in_a_23_hour_local_day():
    # New York on 2025-03-09: midnight is 05:00 UTC (EST), the next midnight 04:00 UTC (EDT)
    period = Period("2025-03-09", "2025-03-09", "America/New_York")
    events = events_table(
        [
            ("2025-03-09 04:59:59", "a", "page_view"),  # 03-08 23:59:59 EST
            ("2025-03-09 05:00", "b", "page_view"),  # 03-09 00:00 EST
            ("2025-03-09 06:59:59", "c", "page_view"),  # 01:59:59 EST, just before the change
            ("2025-03-09 07:00", "d", "page_view"),  # 03:00 EDT
            ("2025-03-10 03:59:59", "e", "page_view"),  # 03-09 23:59:59 EDT
            ("2025-03-10 04:00", "f", "page_view"),  # 03-10 00:00 EDT
        ]
    )
    inside = events_in(events, period).to_pandas()
    assert sorted(inside["user_id"]) == ["b", "c", "d", "e"]
    assert set(inside["day"]) == {day("2025-03-09")}


def test_week_start_is_the_monday_of_the_week():
    days = ibis.memtable(
        pd.DataFrame(
            {
                "day": [
                    day("1970-01-01"),  # a Thursday: epoch day 0
                    day("2025-03-09"),  # Sunday: the Monday before
                    day("2025-03-10"),  # Monday: itself
                    day("2025-03-16"),  # Sunday: the same week
                    day("2025-03-17"),  # Monday: the next week
                ]
            }
        )
    )
    starts = days.mutate(week=week_start(days.day)).to_pandas()["week"].tolist()
    assert starts == [
        day("1969-12-29"),
        day("2025-03-03"),
        day("2025-03-10"),
        day("2025-03-10"),
        day("2025-03-17"),
    ]


def test_week_start_of_local_days_across_local_midnight():
    # 15:59:59 UTC on Sunday 03-09 is still Sunday in Shanghai; 16:00 UTC is Monday 00:00 there
    events = events_table(
        [
            ("2025-03-09 15:59:59", "sunday", "page_view"),
            ("2025-03-09 16:00", "monday", "page_view"),
        ]
    )
    period = Period("2025-03-09", "2025-03-10", "Asia/Shanghai")
    inside = events_in(events, period)
    weeks = inside.mutate(week=week_start(inside.day)).to_pandas().set_index("user_id")["week"]
    assert weeks.to_dict() == {"sunday": day("2025-03-03"), "monday": day("2025-03-10")}


# --------------------------------------------------------------------------------------------
# The module's place


def test_definitions_import_no_domain_module():
    """Every domain imports the definitions, so they may import only periods and data."""
    tree = ast.parse(Path(definitions.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert {name for name in imported if name and name.startswith("lib")} <= {
        "lib.periods",
        "lib.data",
    }
