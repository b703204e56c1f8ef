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


def latest_order_reviews(
    orders: ir.Table, order_items: ir.Table, reviews: ir.Table, buyers: ir.Table, time: str
) -> ir.Table:
    """``order_id, user_id, sku_id, review_time, rating``: each review by one of ``buyers``
    matched to its author's latest order holding the reviewed SKU whose ``time`` column (e.g. the
    payment or the delivery) is at or before the review; ties go to the larger ``order_id``.
    ``orders``: ``order_id, user_id, <time>``. Reviews with no such order are left out.

    Which order a review belongs to depends on its author, SKU and time only: those are matched
    once and the reviews joined back, so identical reviews each count.
    """
    lines = order_items.select("order_id", "sku_id").distinct()
    candidates = orders.join(lines, "order_id").select(
        "order_id", time, buyer=orders.user_id, sku=lines.sku_id
    )
    written = reviews.semi_join(buyers, reviews.user_id == buyers.user_id)
    written = written.select("user_id", "sku_id", "review_time", "rating")
    moments = written.select("user_id", "sku_id", "review_time").distinct()
    pairs = moments.join(
        candidates,
        [
            moments.user_id == candidates.buyer,
            moments.sku_id == candidates.sku,
            moments.review_time >= candidates[time],
        ],
    )
    latest = ibis.window(
        group_by=["user_id", "sku_id", "review_time"],
        order_by=[ibis.desc(time), ibis.desc("order_id")],
    )
    pairs = pairs.mutate(rank=ibis.row_number().over(latest))
    matched = pairs.filter(pairs["rank"] == 0)
    matched = matched.select("order_id", "user_id", "sku_id", "review_time")
    return written.join(matched, ["user_id", "sku_id", "review_time"])
