"""Definitions shared by several domains: one place for the rules every metric must agree on.

What belongs here: a rule or constant that two or more domain modules (traffic, funnel, gmv,
retention, …) use, so that they cannot drift apart: which orders count as paid, which events fall
in a period, how money is rounded, the label of a missing value, where a week starts, the last day
in the orders, and the lines of the paid orders. Nothing here is a metric: a function that
measures something belongs to its domain module, and so does a helper that one domain alone uses.
Time-zone arithmetic lives in :mod:`lib.periods` and opening data in :mod:`lib.data`; this module
imports those two only, so every domain module can import it without importing another domain.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from lib.periods import Period

# Sums of money are rounded to cents: engines add floats in no fixed order, and the last bits
# would otherwise differ between runs and backends.
MONEY_DECIMALS = 2

# The label of a missing dimension value or category (a SKU missing from the catalogue included).
UNKNOWN = "(unknown)"


# --------------------------------------------------------------------------------------------
# Orders


def paid_orders(orders: ir.Table) -> ir.Table:
    """Orders that were paid and not cancelled (refunded ones included).

    This is the definition of a *paid order* for every metric: ``paid_time`` is not null and
    ``status`` is not ``cancelled``. A refunded order still counts (it was paid; refunds are
    reported separately); no other status is read, so an order with a ``paid_time`` counts whatever
    its other status says, and one without never does.
    """
    return orders.filter(orders.paid_time.notnull(), orders.status != "cancelled")


def paid_orders_in(orders: ir.Table, period: Period, days_after: int = 0) -> ir.Table:
    """Paid orders paid within the period (plus ``days_after`` days), with their local ``day``."""
    paid = paid_orders(orders)
    lo, hi = period.utc_bounds(days_after=days_after)
    paid = paid.filter(
        paid.paid_time >= ibis.literal(lo, "timestamp"),
        paid.paid_time < ibis.literal(hi, "timestamp"),
    )
    return paid.mutate(day=period.local_day(paid.paid_time))


def last_order_day(orders: ir.Table, period: Period) -> int:
    """The last local day present in the orders (order or payment time): their horizon."""
    days = [period.local_day(orders[c].max()).to_pandas() for c in ("order_time", "paid_time")]
    return int(max(d for d in days if d is not None and not pd.isna(d)))


def catalogue(products: ir.Table) -> ir.Table:
    """``catalogue_sku, category, unit_cost, list_price`` with missing categories ``(unknown)``."""
    return products.select(
        catalogue_sku=products.sku_id,
        category=products.category.fill_null(UNKNOWN),
        unit_cost=products.unit_cost,
        list_price=products.list_price,
    )


def paid_lines(
    orders: ir.Table, order_items: ir.Table, products: ir.Table, period: Period
) -> ir.Table:
    """One row per line of the orders paid in the period.

    Columns: ``order_id, user_id, day, channel, sku_id, category, quantity, revenue`` (quantity ×
    unit_price), ``cost`` (quantity × unit_cost; 0 when the SKU has no cost), ``list_value``
    (quantity × list_price; the revenue when there is no list price) and ``coupon``: the order's
    ``discount_amount`` split over its lines by line value (equally when they are worth 0).
    """
    paid = paid_orders_in(orders, period)
    paid = paid.select(
        "order_id", "user_id", "day", "channel", discount=paid.discount_amount.fill_null(0.0)
    )
    items = order_items.select("order_id", "sku_id", "quantity", "unit_price")
    lines = paid.join(items, "order_id")
    known = catalogue(products)
    lines = lines.left_join(known, lines.sku_id == known.catalogue_sku)
    revenue = lines.quantity * lines.unit_price
    lines = lines.select(
        "order_id",
        "user_id",
        "day",
        "channel",
        "sku_id",
        "discount",
        category=lines.category.fill_null(UNKNOWN),
        quantity=lines.quantity,
        revenue=revenue,
        cost=lines.quantity * lines.unit_cost.fill_null(0.0),
        list_value=(lines.quantity * lines.list_price).fill_null(revenue),
    )
    return lines.mutate(coupon=lines.discount * order_share(lines, "revenue")).drop("discount")


def order_share(rows: ir.Table, value: str) -> ir.FloatingValue:
    """Each row's part of its order (rows grouped by ``order_id``, e.g. its lines or its
    categories): its ``value`` over the order's total, or an equal part when the order's rows
    are worth 0 together. How an order's amount (paid, discounted) is split over its lines."""
    whole = ibis.window(group_by=rows.order_id)
    total = rows[value].sum().over(whole)
    return (total > 0).ifelse(rows[value] / total, 1.0 / rows.count().over(whole))


# --------------------------------------------------------------------------------------------
# Events and days


def events_in(
    events: ir.Table, period: Period, days_before: int = 0, days_after: int = 0
) -> ir.Table:
    """Events of the period (widened by whole local days) with their local ``day`` added.

    The UTC pre-filter lets the engine skip data outside the range before any arithmetic.
    """
    lo, hi = period.utc_bounds(days_before, days_after)
    ts = events.event_time
    inside = events.filter(ts >= ibis.literal(lo, "timestamp"), ts < ibis.literal(hi, "timestamp"))
    return inside.mutate(day=period.local_day(inside.event_time))


def week_start(day: ir.IntegerValue) -> ir.IntegerValue:
    """The Monday of the local week of an epoch day (1970-01-01 was a Thursday)."""
    return day - (day + 3) % 7
