"""Stock-outs and lost sales (lib/supply/stockouts.py) on the shop of tests/supply_shop.py."""

from __future__ import annotations

import math

import pytest

from lib import supply
from lib.periods import Period

from .conftest import events_table
from .supply_shop import (
    EVENTS,
    INVENTORY,
    ITEMS,
    ORDERS,
    PERIOD,
    PRODUCTS,
    D,
    inventory_table,
    view,
)


def test_stockouts_per_day():
    table = supply.stockouts_daily(INVENTORY, PERIOD)
    assert table["date"].dt.strftime("%m-%d").tolist() == ["03-10", "03-11", "03-12", "03-13"]
    assert table["skus"].tolist() == [2, 1, 2, 5]
    assert table["out_of_stock"].tolist() == [0, 1, 1, 1]
    assert table["out_of_stock_share"].tolist() == pytest.approx([0.0, 1.0, 0.5, 0.2])


def test_lost_sales_from_views_on_stockout_days():
    table = supply.lost_sales(INVENTORY, EVENTS, ORDERS, ITEMS, PRODUCTS, PERIOD)
    assert table["sku_id"].tolist() == ["B"]
    row = table.iloc[0]
    assert row["stockout_days"] == 3
    # 3 + 2 + 1 views on 03-11 … 03-13 (local days; 16:00 UTC 03-13 is 03-14)
    assert row["views_on_stockout_days"] == 6
    # in stock on 03-10 only: 2 units, 4 views; the unit sold on 03-11 (the day it ran out) is a
    # stock-out day's
    assert row["units_sold_in_stock"] == 2
    assert row["views_in_stock"] == 4
    assert row["units_per_view"] == pytest.approx(0.5)
    assert row["lost_units"] == pytest.approx(3.0)
    assert row["lost_revenue"] == pytest.approx(3 * 80.0)
    summary = supply.lost_sales_summary(table).iloc[0]
    assert summary["lost_revenue"] == pytest.approx(240.0)


def test_lost_sales_without_in_stock_views_are_unknown():
    inventory = inventory_table([(D(2025, 3, 10), "B", "east", 0), (D(2025, 3, 11), "B", "x", 0)])
    events = events_table([view("2025-03-10 02:00", "B")])
    period = Period("2025-03-10", "2025-03-11", "Asia/Shanghai")
    row = supply.lost_sales(inventory, events, ORDERS, ITEMS, PRODUCTS, period).iloc[0]
    assert row["stockout_days"] == 2 and row["views_on_stockout_days"] == 1
    assert math.isnan(row["units_per_view"]) and math.isnan(row["lost_revenue"])
