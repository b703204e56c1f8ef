"""Supply-chain metrics (lib/supply.py) on tiny tables worked out by hand.

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
"""

from __future__ import annotations

import datetime as dt
import math
import re

import ibis
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lib import supply
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


@pytest.fixture(scope="module")
def health() -> pd.DataFrame:
    return supply.inventory_health(
        INVENTORY, ORDERS, ITEMS, PRODUCTS, PERIOD, PURCHASE_ORDERS, velocity_days=7
    ).set_index("sku_id")


# ------------------------------------------------------------------------- inventory health


def test_health_has_the_issue_columns_in_order(health):
    assert list(health.reset_index().columns) == [
        "sku_id",
        "category",
        "starting_units",
        "received_units",
        "units_sold",
        "ending_units",
        "sell_through",
        "days_of_supply",
        "stockout_days",
        "status",
    ]
    assert health.index.tolist() == ["A", "B", "C", "D", "E", "F", "G"]


def test_starting_and_ending_units_come_from_the_latest_snapshots(health):
    # A: 6 + 4 at two locations on 03-09; ending from 03-12 (none on 03-13; 03-14 is after end)
    assert health.loc["A", "starting_units"] == 10
    assert health.loc["A", "ending_units"] == 7
    # B has no snapshot before start
    assert health.loc["B", "starting_units"] == 0
    assert health.loc["B", "ending_units"] == 0
    # C was never stocked
    assert (health.loc["C", "starting_units"], health.loc["C", "ending_units"]) == (0, 0)


def test_received_units_by_received_date(health):
    # A: P4 (6 of 10, 03-12) + P6 (promised after end but received 03-11)
    assert health.loc["A", "received_units"] == 10
    assert health.loc["B", "received_units"] == 3
    assert health.loc["E", "received_units"] == 44
    assert health.loc["D", "received_units"] == 0  # P5 not received


def test_units_sold_on_local_payment_days(health):
    # A: o1 paid at 00:00 local 03-10 and refunded o2 count; o0 (23:59 the day before) and the
    # cancelled o9 do not
    assert health.loc["A", "units_sold"] == 3
    assert health.loc["B", "units_sold"] == 3  # the unpaid o10 does not count
    assert health.loc["G", "units_sold"] == 0


def test_sell_through_and_its_null_cases(health):
    assert health.loc["A", "sell_through"] == pytest.approx(3 / (10 + 10))
    assert health.loc["B", "sell_through"] == pytest.approx(1.0)
    assert health.loc["E", "sell_through"] == pytest.approx(14 / 44)
    assert health.loc["D", "sell_through"] == 0.0
    # nothing on hand before and nothing received: no denominator
    assert math.isnan(health.loc["C", "sell_through"])
    assert math.isnan(health.loc["F", "sell_through"])


def test_days_of_supply_uses_the_velocity_window(health):
    # A sold 4 (o0, 23:59 local 03-09) + 2 + 1 in the 7 days ending 03-13: 1 a day
    assert health.loc["A", "days_of_supply"] == pytest.approx(7.0)
    assert health.loc["E", "days_of_supply"] == pytest.approx(30 / (14 / 7))
    assert health.loc["F", "days_of_supply"] == pytest.approx(100.0)
    assert health.loc["B", "days_of_supply"] == 0.0
    # no sale in the window: null
    assert math.isnan(health.loc["D", "days_of_supply"])
    assert math.isnan(health.loc["G", "days_of_supply"])


def test_stockout_days_count_snapshot_dates_at_zero(health):
    assert health.loc["B", "stockout_days"] == 3
    # C has no snapshot at all: no stock-out *days*, although it ends at 0
    assert health.loc["C", "stockout_days"] == 0
    assert health.loc["A", "stockout_days"] == 0


def test_status_rules(health):
    assert health["status"].to_dict() == {
        "A": "low",  # 7 days of supply < 14
        "B": "stockout",
        "C": "stockout",
        "D": "dead",  # on hand, nothing sold in 60 days
        "E": "healthy",  # 15 days
        "F": "overstock",  # 100 days > 90
        "G": "overstock",  # on hand, sold 03-01 (within 60 days) but not in the last 7
    }


def test_status_thresholds_are_strict_and_ordered():
    statuses = supply.stock_status(
        pd.Series([0, 5, 5, 5, 5, 5]),
        np.array([0, 0, 3, 3, 3, 3]),
        pd.Series([math.nan, math.nan, 14.0, 13.99, 90.0, 90.01]),
        low_stock_days=14,
        overstock_days=90,
    )
    assert statuses == ["stockout", "dead", "healthy", "low", "healthy", "overstock"]


def test_without_purchase_orders_received_units_are_unknown():
    table = supply.inventory_health(INVENTORY, ORDERS, ITEMS, PRODUCTS, PERIOD, None, 7)
    table = table.set_index("sku_id")
    assert table["received_units"].isna().all()
    assert table["sell_through"].isna().all()
    assert table.loc["A", "starting_units"] == 10


def test_status_summary_values_stock_at_unit_cost(health):
    summary = supply.status_summary(health.reset_index(), PRODUCTS).set_index("status")
    assert summary.index.tolist() == ["stockout", "dead", "low", "overstock", "healthy"]
    assert summary["skus"].tolist() == [2, 1, 1, 2, 1]
    # overstock: F 100 × 2 + G 9 × 3
    assert summary.loc["overstock", "inventory_value"] == pytest.approx(227.0)
    assert summary["value_share"].sum() == pytest.approx(1.0)


# ------------------------------------------------------------------------------ turnover


def test_turnover_per_category():
    table = supply.inventory_turnover(INVENTORY, ORDERS, ITEMS, PRODUCTS, PERIOD)
    table = table.set_index("category")
    assert table.index.tolist() == ["books", "shoes", "toys"]
    # shoes: cogs A 3 × 10 + B 3 × 20; value per snapshot date (03-10 … 03-13, the dates with any
    # row): 8 × 10 + 1 × 20 = 100, 0, 7 × 10 = 70, 0 -> mean 42.5
    assert table.loc["shoes", "cogs"] == pytest.approx(90.0)
    assert table.loc["shoes", "avg_inventory_value"] == pytest.approx(42.5)
    assert table.loc["shoes", "turnover"] == pytest.approx(90 / 42.5)
    assert table.loc["shoes", "days_of_inventory"] == pytest.approx(4 / (90 / 42.5))
    # toys: 03-13 only: 5 × 4 + 30 × 4 + 100 × 2 + 9 × 3 = 367 over 4 dates; cogs 14 × 4 + 7 × 2
    assert table.loc["toys", "avg_inventory_value"] == pytest.approx(367 / 4)
    assert table.loc["toys", "turnover"] == pytest.approx(70 / (367 / 4))


def test_a_category_without_inventory_has_no_turnover():
    table = supply.inventory_turnover(INVENTORY, ORDERS, ITEMS, PRODUCTS, PERIOD)
    books = table.set_index("category").loc["books"]
    assert books["cogs"] == pytest.approx(5.0)
    assert books["avg_inventory_value"] == 0.0
    assert math.isnan(books["turnover"]) and math.isnan(books["days_of_inventory"])


def test_holding_cost_is_a_yearly_rate_on_average_stock():
    row = supply.inventory_holding_cost(
        INVENTORY, ORDERS, ITEMS, PRODUCTS, PERIOD, holding_rate=0.25
    ).iloc[0]
    average = 42.5 + 0.0 + 367 / 4
    assert row["avg_inventory_value"] == pytest.approx(average)
    assert row["cogs"] == pytest.approx(165.0)
    assert row["holding_cost"] == pytest.approx(round(0.25 * average * 4 / 365, 2))
    assert row["days"] == 4


# -------------------------------------------------------------------- stock-outs, lost sales


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


# ------------------------------------------------------------------------------ forecast


def daily(key: str, values: list[float], first: str = "2025-03-03") -> pd.DataFrame:
    """A daily series starting on a Monday (2025-03-03)."""
    dates = pd.date_range(first, periods=len(values), freq="D")
    return pd.DataFrame({"key": key, "date": dates, "units": values})


def test_forecast_is_the_weekday_mean_without_campaign_days():
    values = [1, 2, 3, 4, 5, 6, 7] * 4
    values[10] = 100  # a campaign Thursday: above 3 × the median (4), left out
    forecast = supply.forecast_demand(daily("x", values), horizon_days=8, level_days=28)
    assert forecast["date"].iloc[0] == pd.Timestamp("2025-03-31")  # the Monday after
    assert forecast["forecast"].tolist() == pytest.approx([1, 2, 3, 4, 5, 6, 7, 1])
    # every kept day equals its weekday mean: no spread, a zero-width interval
    assert forecast["low"].tolist() == pytest.approx(forecast["forecast"].tolist())
    assert forecast["high"].tolist() == pytest.approx(forecast["forecast"].tolist())


def test_forecast_interval_from_the_spread_around_weekday_means():
    values = [2, 0, 0, 0, 0, 0, 0] * 4
    values[0], values[14] = 1, 1  # Mondays 1, 2, 1, 2: mean 1.5, residuals ∓0.5
    values[7], values[21] = 2, 2
    forecast = supply.forecast_demand(daily("x", values), horizon_days=2, interval=0.9)
    sigma = math.sqrt(4 * 0.25 / 27)  # four residuals of ±0.5 among 28, n − 1 = 27
    half = stats.norm.ppf(0.95) * sigma
    assert forecast["forecast"].tolist() == pytest.approx([1.5, 0.0])
    assert forecast["high"].tolist() == pytest.approx([1.5 + half, half])
    assert forecast["low"].tolist() == pytest.approx([1.5 - half, 0.0])  # clipped at 0


def test_backtest_wape_against_the_seasonal_naive():
    # x: weeks of 2, 4, 3 a day: the two-week mean (3) is exact, last week (4) is off by 1 a day
    # y: weeks of 1, 5, 5: the mean (3) is off by 2 a day, last week is exact
    series = pd.concat([daily("x", [2] * 7 + [4] * 7 + [3] * 7), daily("y", [1] * 7 + [5] * 14)])
    table = supply.backtest_forecast(series, weeks=1, level_days=14).set_index("key")
    assert table.loc["x", "wape_method"] == pytest.approx(0.0)
    assert table.loc["x", "wape_seasonal_naive"] == pytest.approx(7 / 21)
    assert bool(table.loc["x", "beats_naive"]) is True
    assert table.loc["y", "wape_method"] == pytest.approx(14 / 35)
    assert table.loc["y", "wape_seasonal_naive"] == pytest.approx(0.0)
    assert bool(table.loc["y", "beats_naive"]) is False
    # pooled: (0 + 14) / 56 against (7 + 0) / 56
    assert table.loc["all", "wape_method"] == pytest.approx(14 / 56)
    assert table.loc["all", "wape_seasonal_naive"] == pytest.approx(7 / 56)
    assert "does NOT beat" in supply.backtest_verdict(table.reset_index(), "the test")


def test_forecast_history_days_is_exactly_what_the_backtest_needs():
    assert supply.forecast_history_days(6) == 28 + 42  # the notebook's defaults: 70 days
    assert supply.forecast_history_days(1, level_days=14) == 21
    enough = daily("x", [1] * supply.forecast_history_days(1, level_days=14))
    assert len(supply.backtest_forecast(enough, weeks=1, level_days=14)) == 2  # x and all
    with pytest.raises(ValueError, match="needs 21 days"):
        supply.backtest_forecast(enough.iloc[1:], weeks=1, level_days=14)


def test_daily_units_fill_every_day_and_category():
    table = supply.daily_units(ORDERS, ITEMS, PRODUCTS, PERIOD.end, PERIOD.timezone, 7)
    shoes = table[table["key"] == "shoes"]
    assert shoes["date"].dt.strftime("%m-%d").tolist()[0] == "03-07"
    # 03-09: o0 (23:59 local), 03-10: o1 + o3, 03-11: o4, 03-12: o2
    assert shoes["units"].tolist() == [0, 0, 4, 4, 1, 1, 0]
    assert sorted(table["key"].unique()) == ["books", "shoes", "toys"]


def test_top_skus_by_units_paid_in_the_period():
    # in the period (Shanghai days): E 14 (o6), F 7 (o7), A 2 + 1 (o1 at local 00:00 and the
    # refunded but paid o2), B 2 + 1, C 1; o0 is paid on 03-09 local, o9 cancelled, o10 unpaid
    assert supply.top_skus(ORDERS, ITEMS, PERIOD, 4) == ["E", "F", "A", "B"]  # A, B tie: by id
    assert supply.top_skus(ORDERS, ITEMS, PERIOD, 10) == ["E", "F", "A", "B", "C"]


def test_top_keys_count_only_the_last_days_and_break_ties_by_key():
    daily = pd.DataFrame(
        {
            "date": pd.to_datetime(["2025-03-01", "2025-03-08", "2025-03-09", "2025-03-10"] * 3),
            "key": ["x"] * 4 + ["y"] * 4 + ["z"] * 4,
            # x sold most overall but only on 03-01, outside the last 3 days (03-08 … 03-10)
            "units": [100, 1, 0, 1] + [0, 2, 0, 1] + [0, 0, 0, 3],
        }
    )
    assert supply.top_keys(daily, 3, days=3) == ["y", "z", "x"]  # y 3, z 3 (tie: by key), x 2
    assert supply.top_keys(daily, 2, days=10) == ["x", "y"]  # x 102, then y and z 3 each
    assert supply.top_keys(daily.iloc[0:0], 2) == []


# ------------------------------------------------------------------------ reorder points


def test_reorder_point_formula():
    points = supply.reorder_points(
        INVENTORY,
        ORDERS,
        ITEMS,
        PRODUCTS,
        PERIOD,
        PURCHASE_ORDERS,
        velocity_days=7,
        service_level=0.95,
        default_lead_time_days=14,
    ).set_index("sku_id")
    a = points.loc["A"]
    # A's daily units over 03-07 … 03-13: 0, 0, 4, 2, 0, 1, 0
    units = np.array([0, 0, 4, 2, 0, 1, 0], dtype=float)
    lead = (7 + 10) / 2  # P4 and P6
    z = stats.norm.ppf(0.95)
    assert a["mean_daily_demand"] == pytest.approx(1.0)
    assert a["demand_std"] == pytest.approx(units.std(ddof=1))
    assert a["lead_time_days"] == pytest.approx(lead)
    assert a["lead_time_source"] == "purchase_orders"
    assert a["safety_stock"] == pytest.approx(z * units.std(ddof=1) * math.sqrt(lead))
    assert a["reorder_point"] == pytest.approx(1.0 * lead + z * units.std(ddof=1) * math.sqrt(lead))
    assert bool(a["below_reorder_point"]) is True  # 7 on hand
    assert points.loc["B", "lead_time_days"] == pytest.approx((9 + 11) / 2)
    c = points.loc["C"]
    assert (c["lead_time_days"], c["lead_time_source"]) == (14, "default")
    assert c["reorder_point"] == pytest.approx(
        1 / 7 * 14 + z * np.std([1, 0, 0, 0, 0, 0, 0], ddof=1) * math.sqrt(14)
    )
    assert bool(points.loc["D", "below_reorder_point"]) is False  # no demand: point 0
    reorder = supply.skus_to_reorder(points.reset_index())
    assert set(reorder["sku_id"]) == set(points.index[points["below_reorder_point"]])
    assert reorder["shortfall"].is_monotonic_decreasing


def _health(**days: float) -> pd.DataFrame:
    return supply.inventory_health(
        INVENTORY, ORDERS, ITEMS, PRODUCTS, PERIOD, PURCHASE_ORDERS, **days
    )


def _reorder(**days: float) -> pd.DataFrame:
    return supply.reorder_points(
        INVENTORY, ORDERS, ITEMS, PRODUCTS, PERIOD, PURCHASE_ORDERS, **days
    )


ONE_DAY_HEALTH = {
    "velocity_days": 1,
    "dead_stock_days": 1,
    "low_stock_days": 1,
    "overstock_days": 1,
}


def test_stock_status_thresholds_are_at_least_a_day():
    units, recent, cover = pd.Series([0, 5, 5]), [1, 0, 2], pd.Series([0.0, math.inf, 50.0])
    assert supply.stock_status(units, recent, cover, 1, 1) == ["stockout", "dead", "overstock"]
    with pytest.raises(ValueError, match=re.escape("overstock_days=0 must be at least 1")):
        supply.stock_status(units, recent, cover, 7, 0)


@pytest.mark.parametrize(
    ("function", "days", "refusal"),
    [
        (_health, {"velocity_days": 0}, "velocity_days=0 must be at least 1"),
        (_health, {"dead_stock_days": -60}, "dead_stock_days=-60 must be at least 1"),
        (_health, {"low_stock_days": 0.5}, "low_stock_days=0.5 must be at least 1"),
        (_health, {"overstock_days": math.nan}, "overstock_days=nan must be at least 1"),
        (_health, ONE_DAY_HEALTH, None),
        (_reorder, {"velocity_days": 0}, "velocity_days=0 must be at least 1"),
        (_reorder, {"default_lead_time_days": 0}, "default_lead_time_days=0 must be at least 1"),
        (_reorder, {"velocity_days": 1, "default_lead_time_days": 1}, None),
    ],
)
def test_supply_day_counts_are_at_least_1(function, days, refusal):
    if refusal is None:
        assert not function(**days).empty
    else:
        with pytest.raises(ValueError, match=re.escape(refusal)):
            function(**days)


# -------------------------------------------------------------------------- fulfilment

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


def test_fulfilment_per_carrier_and_total():
    table = supply.fulfilment(SHIP_ORDERS, SHIPMENTS, SHIP_PERIOD, ship_sla_hours=48)
    assert table["carrier"].tolist() == ["SF", "ZTO", "all"]
    sf, zto, total = (row for _, row in table.iterrows())
    one_second = 1 / 3600
    # SF: s1 (48 h, delivered in 1.5 days) and s2 (48 h 1 s, not delivered)
    assert sf["orders"] == 2
    assert sf["ship_hours_p50"] == pytest.approx(48 + one_second / 2)
    assert sf["ship_hours_p90"] == pytest.approx(48 + 0.9 * one_second)
    assert sf["delivery_days_p50"] == pytest.approx(1.5)
    assert sf["delivery_days_p90"] == pytest.approx(1.5)
    assert sf["on_time_ship_rate"] == pytest.approx(0.5)  # exactly at the SLA is on time
    assert sf["shipping_cost_per_order"] == pytest.approx(11.0)
    assert sf["shipping_cost_share"] == pytest.approx(22 / 150)
    # ZTO: s3 (12 h; both parcels delivered: 03-10 14:00 -> 03-13 02:00 = 2.5 days; cost 6 + 4)
    # and s7 (49 h, not delivered)
    assert zto["orders"] == 2
    assert zto["ship_hours_p50"] == pytest.approx(30.5)
    assert zto["ship_hours_p90"] == pytest.approx(12 + 0.9 * 37)
    assert zto["delivery_days_p50"] == pytest.approx(2.5)
    assert zto["on_time_ship_rate"] == pytest.approx(0.5)
    assert zto["shipping_cost_per_order"] == pytest.approx(7.5)
    assert zto["shipping_cost_share"] == pytest.approx(15 / 100)
    # all four: hours 48, 48 h 1 s, 12, 49 -> p90 at rank 2.7
    assert total["orders"] == 4
    assert total["ship_hours_p90"] == pytest.approx(48 + one_second + 0.7 * (1 - one_second))
    assert total["delivery_days_p50"] == pytest.approx(2.0)
    assert total["delivery_days_p90"] == pytest.approx(1.5 + 0.9 * 1.0)
    assert total["shipping_cost_per_order"] == pytest.approx(37 / 4)
    assert total["shipping_cost_share"] == pytest.approx(37 / 250)


def test_fulfilment_daily_by_local_payment_day():
    table = supply.fulfilment_daily(SHIP_ORDERS, SHIPMENTS, SHIP_PERIOD, 48)
    # 03-10: s1, s2, s3; 03-11: s7 (paid 00:00 local 03-11); 03-12: none
    assert table["orders"].tolist() == [3, 1, 0]
    assert table["on_time_ship_rate"].iloc[0] == pytest.approx(2 / 3)
    assert table["ship_hours_p50"].iloc[1] == pytest.approx(49.0)
    assert math.isnan(table["ship_hours_p50"].iloc[2])


def test_shipping_backlog_as_of_the_end_of_the_period():
    table = supply.shipping_backlog(SHIP_ORDERS, SHIPMENTS, SHIP_PERIOD, 48)
    # s6: 64 h unshipped; s5 waited 30 h; s7 exactly 48 h at the end (shipped later): not yet late
    assert table["order_id"].tolist() == ["s6"]
    assert table["hours_waiting"].iloc[0] == pytest.approx(64.0)


def test_delivered_orders_ratings_and_repurchase():
    reviews = memtable(
        [
            # u1 reviews s1's SKU after delivery (2) and before it (5: not about this delivery)
            {"sku_id": "K1", "user_id": "u1", "review_time": "2025-03-14 00:00", "rating": 2},
            {"sku_id": "K1", "user_id": "u1", "review_time": "2025-03-12 00:00", "rating": 5},
            {"sku_id": "K9", "user_id": "u3", "review_time": "2025-03-14 00:00", "rating": 4},
        ],
        sku_id="string",
        user_id="string",
        review_time="timestamp",
        rating="int64",
    )
    items = memtable(
        [
            {"order_id": "s1", "sku_id": "K1", "quantity": 1, "unit_price": 100.0},
            {"order_id": "s3", "sku_id": "K3", "quantity": 1, "unit_price": 40.0},
        ]
    )
    table = supply.delivered_orders(SHIP_ORDERS, items, SHIPMENTS, SHIP_PERIOD, reviews, 30)
    table = table.set_index("order_id")
    assert table.index.tolist() == ["s1", "s3"]  # s2 and s7 were not delivered
    # s1: paid 03-09 16:00, delivered 03-13 04:00; s3: paid 03-10 02:00, delivered 03-13 02:00
    assert table.loc["s1", "days_to_door"] == pytest.approx(3.5)
    assert table.loc["s3", "days_to_door"] == pytest.approx(3.0)
    assert table.loc["s1", "rating"] == 2
    assert math.isnan(table.loc["s3", "rating"])  # u3 reviewed a SKU not in s3
    assert table["observed"].all()  # the data runs to 04-30
    assert bool(table.loc["s3", "repurchased"]) is True  # s9 on 03-20
    assert bool(table.loc["s1", "repurchased"]) is False
    experience = supply.delivery_experience(table.reset_index()).set_index("delivery")
    assert experience.loc["3–4 days", "orders"] == 2
    assert experience.loc["3–4 days", "repurchase_rate"] == pytest.approx(0.5)
    assert experience["orders"].sum() == 2


REVIEW_PERIOD = Period("2025-03-01", "2025-03-07", "UTC")
REVIEW_ORDERS = orders_table(
    [
        ("a1", "u1", "2025-03-02 10:00", "2025-03-02 10:00", "paid", 50.0),  # K and J
        ("b1", "u1", "2025-03-15 10:00", "2025-03-15 10:00", "paid", 50.0),  # K again, later
        ("a2", "u2", "2025-03-03 10:00", "2025-03-03 10:00", "paid", 50.0),  # K
        ("b2", "u2", "2025-03-10 10:00", "2025-03-10 10:00", "paid", 50.0),  # K again, later
        ("p3", "u3", "2025-02-20 10:00", "2025-02-20 10:00", "paid", 50.0),  # K, earlier
        ("a3", "u3", "2025-03-04 10:00", "2025-03-04 10:00", "paid", 50.0),  # K
    ]
)
REVIEW_SKUS = {"a1": "KJ", "b1": "K", "a2": "K", "b2": "K", "p3": "K", "a3": "K"}
REVIEW_ITEMS = memtable(
    [
        {"order_id": order, "sku_id": sku, "quantity": 1, "unit_price": 50.0}
        for order, skus in REVIEW_SKUS.items()
        for sku in skus
    ]
)
REVIEW_SHIPMENTS = memtable(
    [
        {
            "order_id": order,
            "carrier": "SF",
            "shipped_time": shipped,
            "delivered_time": delivered,
            "shipping_cost": 5.0,
        }
        for order, shipped, delivered in [
            ("a1", "2025-03-03 10:00", "2025-03-04 10:00"),
            ("b1", "2025-03-16 10:00", "2025-03-17 10:00"),
            ("a2", "2025-03-04 10:00", "2025-03-05 10:00"),
            ("b2", "2025-03-11 10:00", "2025-03-12 10:00"),
            ("p3", "2025-02-21 10:00", "2025-02-22 10:00"),
            ("a3", "2025-03-05 10:00", "2025-03-06 10:00"),
        ]
    ],
    order_id="string",
    carrier="string",
    shipped_time="timestamp",
    delivered_time="timestamp",
    shipping_cost="float64",
)


def review_rows(rows: list[tuple]) -> ibis.Table:
    """Reviews from ``(user_id, sku_id, review_time, rating)``."""
    columns = ["user_id", "sku_id", "review_time", "rating"]
    return memtable(
        [dict(zip(columns, row, strict=True)) for row in rows],
        user_id="string",
        sku_id="string",
        review_time="timestamp",
        rating="int64",
    )


def test_delivered_orders_review_after_a_later_delivery_belongs_to_it():
    reviews = review_rows(
        [
            ("u1", "K", "2025-03-10 10:00", 4),  # between a1's (03-04) and b1's (03-17) delivery
            ("u1", "K", "2025-03-20 10:00", 1),  # after b1's delivery: b1's, paid after the end
            ("u1", "J", "2025-03-20 10:00", 3),  # J was only in a1: still a1's
            ("u2", "K", "2025-03-13 10:00", 1),  # after b2's delivery (03-12): nothing for a2
        ]
    )
    table = supply.delivered_orders(
        REVIEW_ORDERS, REVIEW_ITEMS, REVIEW_SHIPMENTS, REVIEW_PERIOD, reviews, 30
    ).set_index("order_id")
    assert table.index.tolist() == ["a1", "a2", "a3"]  # b1, b2 paid after the end, p3 before
    assert table.loc["a1", "rating"] == pytest.approx((4 + 3) / 2)
    assert math.isnan(table.loc["a2", "rating"])
    assert math.isnan(table.loc["a3", "rating"])


def test_delivered_orders_review_after_an_earlier_delivery_goes_to_the_periods_order():
    reviews = review_rows(
        [
            ("u3", "K", "2025-02-25 10:00", 2),  # after p3's delivery (02-22), before a3's: p3's
            ("u3", "K", "2025-03-07 10:00", 5),  # after a3's delivery (03-06): a3's
            ("u3", "K", "2025-03-20 10:00", 4),  # after the end, no later delivery: a3's
        ]
    )
    table = supply.delivered_orders(
        REVIEW_ORDERS, REVIEW_ITEMS, REVIEW_SHIPMENTS, REVIEW_PERIOD, reviews, 30
    ).set_index("order_id")
    assert table.loc["a3", "rating"] == pytest.approx((5 + 4) / 2)
    assert math.isnan(table.loc["a1", "rating"])
    assert math.isnan(table.loc["a2", "rating"])


def test_delivery_effect_compares_fast_and_slow():
    delivered = pd.DataFrame(
        {
            "days_to_door": [1.0, 2.0, 4.0, 5.0],
            "rating": [5.0, 4.0, 2.0, math.nan],
            "observed": [True, True, True, False],
            "repurchased": [True, False, False, True],
        }
    )
    effect = supply.delivery_effect(delivered, slow_delivery_days=3).set_index("measure")
    assert effect.loc["rating", "fast"] == pytest.approx(4.5)
    assert effect.loc["rating", "slow"] == pytest.approx(2.0)
    assert (effect.loc["rating", "fast_orders"], effect.loc["rating", "slow_orders"]) == (2, 1)
    assert effect.loc["repurchase", "fast"] == pytest.approx(0.5)
    assert effect.loc["repurchase", "slow"] == pytest.approx(0.0)  # the unobserved one is out
    assert effect.loc["repurchase", "slow_orders"] == 1


# ---------------------------------------------------------------------------- suppliers


def test_supplier_scorecard():
    table = supply.supplier_scorecard(PURCHASE_ORDERS, PERIOD).set_index("supplier")
    assert table.index.tolist() == ["Acme", "Bolt"]
    # Acme, promised in the period: P2 (on time in full, 9 days), P3 (a day late, 10 days)
    assert table.loc["Acme", "purchase_orders"] == 2
    assert table.loc["Acme", "otif_rate"] == pytest.approx(0.5)
    assert table.loc["Acme", "fill_rate"] == pytest.approx(1.0)
    assert table.loc["Acme", "lead_time_days_p50"] == pytest.approx(9.5)
    assert table.loc["Acme", "lead_time_days_p90"] == pytest.approx(9.9)
    # Bolt: P4 (on time, 6 of 10: short), P5 (not received); P6 is promised after the period
    assert table.loc["Bolt", "purchase_orders"] == 2
    assert table.loc["Bolt", "otif_rate"] == 0.0
    assert table.loc["Bolt", "fill_rate"] == pytest.approx(6 / 15)
    assert table.loc["Bolt", "lead_time_days_p50"] == pytest.approx(7.0)


def test_notes_name_the_missing_tables():
    notes = supply.supply_notes(None, PURCHASE_ORDERS, None, None)
    assert set(notes) == {"inventory", "shipments", "events"}
    assert "inventory" in notes["inventory"] and "on_hand" in notes["inventory"]
    assert supply.supply_notes(INVENTORY, PURCHASE_ORDERS, SHIPMENTS, EVENTS) == {}


def test_holding_cost_by_day_adds_up_to_the_period_cost():
    daily = supply.holding_cost_daily(INVENTORY, PRODUCTS, PERIOD, holding_rate=0.25)
    assert daily["date"].dt.strftime("%m-%d").tolist() == ["03-10", "03-11", "03-12", "03-13"]
    # stock value 100, 0, 70, 367 on the four snapshot dates (every day has one: scale 1)
    values = [100.0, 0.0, 70.0, 367.0]
    assert daily["amount"].tolist() == pytest.approx([round(0.25 * v / 365, 2) for v in values])
    total = supply.inventory_holding_cost(INVENTORY, ORDERS, ITEMS, PRODUCTS, PERIOD, 0.25)
    assert daily["amount"].sum() == pytest.approx(total["holding_cost"].iloc[0], abs=0.02)
