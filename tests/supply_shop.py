"""The hand-worked shop of the supply-chain tests (tests/test_supply_*.py).

The shop: period 2025-03-10 … 03-13 in Asia/Shanghai (local midnight = 16:00 UTC the day before).

=====  ==========  =====  ==========================================================
sku    category    cost   what it tests
=====  ==========  =====  ==========================================================
A      shoes       10     two locations on 03-09 (starting 6 + 4), no snapshot on 03-13 (ending =
                          03-12's 7), a snapshot after end ignored, an order at 23:59 local the day
                          before start (velocity window only) and one at 00:00 local on start
B      shoes       20     no snapshot before start; 1 unit on 03-10, then out of stock 03-11 … 03-13
                          with views on those days
C      books       5      sold, never stocked: the category's average inventory is 0
D … G  toys        4/4/2/3  dead, healthy, overstock, and stock without sales in the velocity window
=====  ==========  =====  ==========================================================

Fulfilment: ``SHIP_PERIOD`` 2025-03-10 … 03-12 in Asia/Shanghai, with ``SHIP_ORDERS`` and their
``SHIPMENTS`` (the comments on each row say what it tests).
"""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd

from lib.periods import Period

from .conftest import events_table, memtable, orders_table

PERIOD = Period("2025-03-10", "2025-03-13", "Asia/Shanghai")
D = dt.date

PRODUCTS = memtable(
    [
        {"sku_id": "A", "category": "shoes", "unit_cost": 10.0, "list_price": 50.0},
        {"sku_id": "B", "category": "shoes", "unit_cost": 20.0, "list_price": 80.0},
        {"sku_id": "C", "category": "books", "unit_cost": 5.0, "list_price": 12.0},
        {"sku_id": "D", "category": "toys", "unit_cost": 4.0, "list_price": 10.0},
        {"sku_id": "E", "category": "toys", "unit_cost": 4.0, "list_price": 10.0},
        {"sku_id": "F", "category": "toys", "unit_cost": 2.0, "list_price": 6.0},
        {"sku_id": "G", "category": "toys", "unit_cost": 3.0, "list_price": 9.0},
    ]
)

ORDERS = orders_table(
    [
        ("o0", "u1", "2025-03-09 15:00", "2025-03-09 15:59", "paid", 200.0),  # 23:59 local 03-09
        ("o1", "u1", "2025-03-09 15:59", "2025-03-09 16:00", "paid", 100.0),  # 00:00 local 03-10
        ("o2", "u2", "2025-03-12 01:00", "2025-03-12 02:00", "refunded", 50.0),  # paid: counts
        ("o3", "u3", "2025-03-10 00:30", "2025-03-10 01:00", "paid", 160.0),
        ("o4", "u4", "2025-03-11 00:30", "2025-03-11 01:00", "paid", 80.0),
        ("o5", "u5", "2025-03-11 02:00", "2025-03-11 03:00", "paid", 12.0),
        ("o6", "u6", "2025-03-12 02:00", "2025-03-12 03:00", "paid", 140.0),
        ("o7", "u7", "2025-03-12 03:00", "2025-03-12 04:00", "paid", 42.0),
        ("o8", "u8", "2025-03-01 03:00", "2025-03-01 04:00", "paid", 9.0),
        ("o9", "u9", "2025-03-11 01:00", "2025-03-11 02:00", "cancelled", 2500.0),  # not sold
        ("o10", "u9", "2025-03-11 01:00", None, "unpaid", 720.0),  # not sold
    ]
)
ITEMS = memtable(
    [
        {"order_id": "o0", "sku_id": "A", "quantity": 4, "unit_price": 50.0},
        {"order_id": "o1", "sku_id": "A", "quantity": 2, "unit_price": 50.0},
        {"order_id": "o2", "sku_id": "A", "quantity": 1, "unit_price": 50.0},
        {"order_id": "o3", "sku_id": "B", "quantity": 2, "unit_price": 80.0},
        {"order_id": "o4", "sku_id": "B", "quantity": 1, "unit_price": 80.0},
        {"order_id": "o5", "sku_id": "C", "quantity": 1, "unit_price": 12.0},
        {"order_id": "o6", "sku_id": "E", "quantity": 14, "unit_price": 10.0},
        {"order_id": "o7", "sku_id": "F", "quantity": 7, "unit_price": 6.0},
        {"order_id": "o8", "sku_id": "G", "quantity": 1, "unit_price": 9.0},
        {"order_id": "o9", "sku_id": "A", "quantity": 50, "unit_price": 50.0},
        {"order_id": "o10", "sku_id": "B", "quantity": 9, "unit_price": 80.0},
    ]
)


def inventory_table(rows: list[tuple]) -> ibis.Table:
    frame = pd.DataFrame(rows, columns=["date", "sku_id", "location", "on_hand"])
    return ibis.memtable(
        frame, schema={"date": "date", "sku_id": "string", "location": "string", "on_hand": "int64"}
    )


INVENTORY = inventory_table(
    [
        (D(2025, 3, 9), "A", "east", 6),
        (D(2025, 3, 9), "A", "south", 4),
        (D(2025, 3, 10), "A", "east", 5),
        (D(2025, 3, 10), "A", "south", 3),
        (D(2025, 3, 12), "A", "east", 7),
        (D(2025, 3, 14), "A", "east", 100),  # after end: ignored
        (D(2025, 3, 10), "B", "east", 1),
        (D(2025, 3, 11), "B", "east", 0),
        (D(2025, 3, 12), "B", "east", 0),
        (D(2025, 3, 13), "B", "east", 0),
        (D(2025, 3, 9), "D", "east", 5),
        (D(2025, 3, 13), "D", "east", 5),
        (D(2025, 3, 13), "E", "east", 30),
        (D(2025, 3, 13), "F", "east", 100),
        (D(2025, 3, 13), "G", "east", 9),
    ]
)


def purchase_orders_table(rows: list[tuple]) -> ibis.Table:
    columns = [
        "po_id",
        "supplier",
        "sku_id",
        "ordered_date",
        "promised_date",
        "received_date",
        "qty_ordered",
        "qty_received",
        "unit_cost",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame["qty_received"] = frame["qty_received"].astype("Int64")
    schema = {
        "po_id": "string",
        "supplier": "string",
        "sku_id": "string",
        "ordered_date": "date",
        "promised_date": "date",
        "received_date": "date",
        "qty_ordered": "int64",
        "qty_received": "int64",
        "unit_cost": "float64",
    }
    return ibis.memtable(frame, schema=schema)


PURCHASE_ORDERS = purchase_orders_table(
    [
        # on time in full, lead 9 days
        ("P2", "Acme", "B", D(2025, 3, 1), D(2025, 3, 10), D(2025, 3, 10), 3, 3, 20.0),
        # received a day late, lead 10 days
        ("P3", "Acme", "E", D(2025, 3, 1), D(2025, 3, 10), D(2025, 3, 11), 44, 44, 4.0),
        # on time but short (6 of 10), lead 7 days
        ("P4", "Bolt", "A", D(2025, 3, 5), D(2025, 3, 12), D(2025, 3, 12), 10, 6, 10.0),
        # not received (qty_received missing: 0)
        ("P5", "Bolt", "D", D(2025, 3, 8), D(2025, 3, 13), None, 5, None, 4.0),
        # promised after the period but received in it: received units, not the scorecard
        ("P6", "Bolt", "A", D(2025, 3, 1), D(2025, 3, 20), D(2025, 3, 11), 4, 4, 10.0),
        # long before: only B's lead time (11 days)
        ("P7", "Acme", "B", D(2025, 2, 1), D(2025, 2, 10), D(2025, 2, 12), 5, 5, 20.0),
    ]
)


def view(at: str, sku: str) -> tuple:
    return (at, "shopper", "view_item", "s1", sku)


EVENTS = events_table(
    [
        # B in stock on 03-10: 4 views (the last at 23:59:59 local)
        view("2025-03-10 01:00", "B"),
        view("2025-03-10 02:00", "B"),
        view("2025-03-10 03:00", "B"),
        view("2025-03-10 15:59:59", "B"),
        # B out of stock: 3 views on 03-11 (the first at 00:00 local), 2 on 03-12, 1 on 03-13
        view("2025-03-10 16:00:00", "B"),
        view("2025-03-11 02:00", "B"),
        view("2025-03-11 03:00", "B"),
        view("2025-03-12 02:00", "B"),
        view("2025-03-12 03:00", "B"),
        view("2025-03-13 02:00", "B"),
        view("2025-03-13 16:00", "B"),  # 00:00 local 03-14: after the period
        ("2025-03-11 02:00", "shopper", "page_view", "s1", None),
        ("2025-03-11 02:00", "shopper", "add_to_cart", "s1", "B"),  # not a view
    ]
)

SHIP_PERIOD = Period("2025-03-10", "2025-03-12", "Asia/Shanghai")  # ends 2025-03-12 16:00 UTC
SHIP_ORDERS = orders_table(
    [
        ("s1", "u1", "2025-03-09 15:00", "2025-03-09 16:00", "paid", 100.0),  # 00:00 local 03-10
        ("s2", "u2", "2025-03-10 00:00", "2025-03-10 00:00", "paid", 50.0),
        ("s3", "u3", "2025-03-10 01:00", "2025-03-10 02:00", "refunded", 40.0),
        ("s4", "u4", "2025-03-09 15:00", "2025-03-09 15:59", "paid", 70.0),  # 23:59 local 03-09
        ("s5", "u5", "2025-03-11 09:00", "2025-03-11 10:00", "paid", 30.0),  # not shipped, 30 h
        ("s6", "u6", "2025-03-09 23:00", "2025-03-10 00:00", "paid", 20.0),  # not shipped, 64 h
        ("s7", "u7", "2025-03-10 15:00", "2025-03-10 16:00", "paid", 60.0),  # 48 h at the end
        ("s8", "u8", "2025-03-10 01:00", "2025-03-10 02:00", "cancelled", 90.0),  # shipped anyway
        ("s9", "u3", "2025-03-20 01:00", "2025-03-20 02:00", "paid", 10.0),  # u3 buys again
        ("s10", "u9", "2025-04-30 01:00", "2025-04-30 02:00", "paid", 10.0),  # the data's end
    ]
)
SHIPMENTS = memtable(
    [
        # exactly 48 h after payment: on time; delivered 36 h later
        {"order_id": "s1", "carrier": "SF", "shipped_time": "2025-03-11 16:00",
         "delivered_time": "2025-03-13 04:00", "shipping_cost": 10.0},
        # 48 h and 1 s: late; never delivered
        {"order_id": "s2", "carrier": "SF", "shipped_time": "2025-03-12 00:00:01",
         "delivered_time": None, "shipping_cost": 12.0},
        # two parcels: the first (ZTO, 12 h) counts, delivered when the last arrives
        {"order_id": "s3", "carrier": "ZTO", "shipped_time": "2025-03-10 14:00",
         "delivered_time": "2025-03-12 14:00", "shipping_cost": 6.0},
        {"order_id": "s3", "carrier": "EMS", "shipped_time": "2025-03-10 20:00",
         "delivered_time": "2025-03-13 02:00", "shipping_cost": 4.0},
        {"order_id": "s4", "carrier": "SF", "shipped_time": "2025-03-10 01:00",
         "delivered_time": "2025-03-11 01:00", "shipping_cost": 9.0},
        # shipped after the end of the period, 49 h after payment
        {"order_id": "s7", "carrier": "ZTO", "shipped_time": "2025-03-12 17:00",
         "delivered_time": None, "shipping_cost": 5.0},
        {"order_id": "s8", "carrier": "SF", "shipped_time": "2025-03-10 03:00",
         "delivered_time": "2025-03-11 03:00", "shipping_cost": 9.0},
    ],
    order_id="string",
    carrier="string",
    shipped_time="timestamp",
    delivered_time="timestamp",
    shipping_cost="float64",
)  # fmt: skip
