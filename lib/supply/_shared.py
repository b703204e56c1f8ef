"""What several supply-chain modules share: units sold, inventory snapshots, the catalogue's
categories and costs, epoch days and percentiles.

Units sold and snapshots are defined in :mod:`lib.supply` (docs/metrics.md, "Supply chain").
"""

from __future__ import annotations

import datetime as dt
import math

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from lib import parameters
from lib.definitions import UNKNOWN, paid_orders_in
from lib.periods import EPOCH, Period

UNKNOWN_CATEGORY = UNKNOWN
# The label of a table's total row (pooled backtest, all carriers). A category, SKU or carrier
# may be called "all" too, so a total row is found by its ``is_total`` column, never by label.
ALL = "all"
TOTAL_FLAG = "is_total"
DAYS = pd.Timedelta(days=1)

# The declared default (lib/parameters.py) that both inventory health and reorder points use.
VELOCITY_DAYS = parameters.default("velocity_days")


def _epoch_days(values: pd.Series) -> pd.Series:
    """Calendar dates (date objects or midnight timestamps, as engines return them) as epoch
    days."""
    stamps = pd.to_datetime(pd.Series(values).reset_index(drop=True))
    return ((stamps - pd.Timestamp(EPOCH)) // DAYS).astype("int64")


def _catalogue(products: ir.Table) -> pd.DataFrame:
    """``sku_id, category, unit_cost, list_price`` of the catalogue (small: one row per SKU)."""
    frame = products.select("sku_id", "category", "unit_cost", "list_price").to_pandas()
    frame = frame.drop_duplicates("sku_id").set_index("sku_id")
    frame["category"] = frame["category"].fillna(UNKNOWN_CATEGORY)
    return frame


def _category_of(skus: pd.Series, catalogue: pd.DataFrame) -> pd.Series:
    return skus.map(catalogue["category"]).fillna(UNKNOWN_CATEGORY)


def paid_units(orders: ir.Table, order_items: ir.Table, period: Period) -> ir.Table:
    """``sku_id, day, quantity``: the lines of the orders paid in the period (units sold)."""
    paid = paid_orders_in(orders, period).select("order_id", "day")
    lines = order_items.select("order_id", "sku_id", "quantity")
    return paid.join(lines, "order_id").select("sku_id", "day", "quantity")


def daily_stock(inventory: ir.Table) -> ir.Table:
    """``sku_id, date, on_hand``: one snapshot per SKU and date, summed over locations."""
    return inventory.group_by(["sku_id", "date"]).aggregate(on_hand=inventory.on_hand.sum())


def _latest_on_or_before(stock: ir.Table, day: dt.date) -> pd.Series:
    """The latest snapshot of each SKU on or before ``day`` (SKUs without one are absent)."""
    before = stock.filter(stock.date <= ibis.literal(day, "date"))
    latest = before.group_by("sku_id").aggregate(latest=before.date.max())
    joined = before.join(latest, [before.sku_id == latest.sku_id, before.date == latest.latest])
    frame = joined.select(before.sku_id, before.on_hand).to_pandas()
    return frame.set_index("sku_id")["on_hand"].astype("int64")


def _in_period(table: ir.Table, column: str, period: Period) -> ir.Table:
    return table.filter(period.contains(table[column]))


def _percentile(values: pd.Series, q: float) -> float:
    values = values.dropna()
    return float(np.percentile(values, q)) if len(values) else math.nan
