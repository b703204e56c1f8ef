"""Inventory (lib/supply/inventory.py): health, status, turnover and holding cost on the shop of
tests/supply_shop.py.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from lib import supply

from .supply_shop import (
    INVENTORY,
    ITEMS,
    ORDERS,
    PERIOD,
    PRODUCTS,
    PURCHASE_ORDERS,
)


@pytest.fixture(scope="module")
def health() -> pd.DataFrame:
    return supply.inventory_health(
        INVENTORY, ORDERS, ITEMS, PRODUCTS, PERIOD, PURCHASE_ORDERS, velocity_days=7
    ).set_index("sku_id")


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


def test_holding_cost_by_day_adds_up_to_the_period_cost():
    daily = supply.holding_cost_daily(INVENTORY, PRODUCTS, PERIOD, holding_rate=0.25)
    assert daily["date"].dt.strftime("%m-%d").tolist() == ["03-10", "03-11", "03-12", "03-13"]
    # stock value 100, 0, 70, 367 on the four snapshot dates (every day has one: scale 1)
    values = [100.0, 0.0, 70.0, 367.0]
    assert daily["amount"].tolist() == pytest.approx([round(0.25 * v / 365, 2) for v in values])
    total = supply.inventory_holding_cost(INVENTORY, ORDERS, ITEMS, PRODUCTS, PERIOD, 0.25)
    assert daily["amount"].sum() == pytest.approx(total["holding_cost"].iloc[0], abs=0.02)


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
    with pytest.raises(ValueError, match=re.escape("overstock_days=0 must be from 1 to 3660")):
        supply.stock_status(units, recent, cover, 7, 0)


@pytest.mark.parametrize(
    ("function", "days", "refusal"),
    [
        (_health, {"velocity_days": 0}, "velocity_days=0 must be from 1 to 3660"),
        (_health, {"dead_stock_days": -60}, "dead_stock_days=-60 must be from 1 to 3660"),
        (_health, {"low_stock_days": 0.5}, "low_stock_days=0.5 must be from 1 to 3660"),
        (_health, {"overstock_days": math.nan}, "overstock_days=nan must be from 1 to 3660"),
        (_health, ONE_DAY_HEALTH, None),
        (_reorder, {"velocity_days": 0}, "velocity_days=0 must be from 1 to 3660"),
        (
            _reorder,
            {"default_lead_time_days": 0},
            "default_lead_time_days=0 must be from 1 to 3660",
        ),
        (_reorder, {"velocity_days": 1, "default_lead_time_days": 1}, None),
    ],
)
def test_supply_day_counts_are_at_least_1(function, days, refusal):
    if refusal is None:
        assert not function(**days).empty
    else:
        with pytest.raises(ValueError, match=re.escape(refusal)):
            function(**days)
