"""Inventory (库存管理): stock health, days of supply, dead, low and over stock, turnover and
holding cost.

*Units sold*, *snapshots* and local days are defined in :mod:`lib.supply`; docs/metrics.md,
"Supply chain", has every definition.

Inventory health (:func:`inventory_health` → ``tables/inventory_health.csv``), per SKU:

- ``starting_units``: the SKU's latest snapshot on or before ``start − 1`` (0 if none);
  ``ending_units``: its latest snapshot on or before ``end`` (0 if none).
- ``received_units``: Σ ``qty_received`` of purchase orders with ``received_date`` in the period.
- ``units_sold``: units sold on local days of the period.
- ``sell_through = units_sold / (starting_units + received_units)``, null when that is 0.
- ``stockout_days``: snapshot dates in the period with ``on_hand`` = 0.
- ``days_of_supply = ending_units / (units sold in the velocity_days local days ending on end ÷
  velocity_days)``, null when nothing sold in that window.
- ``status``, the first that applies: ``stockout`` (ending_units = 0); ``dead`` (nothing sold in
  the ``dead_stock_days`` ending on end); ``low`` (days_of_supply < ``low_stock_days``);
  ``overstock`` (days_of_supply > ``overstock_days``, or null: stock that did not sell at all in
  the velocity window lasts longer than any threshold); else ``healthy``.

Turnover per category (:func:`inventory_turnover` → ``tables/inventory_turnover.csv``):
``cogs`` = Σ units_sold × ``unit_cost``; ``avg_inventory_value`` = mean over the snapshot dates
in the period (dates on which the inventory table has any row) of Σ on_hand × ``unit_cost``;
``turnover = cogs / avg_inventory_value`` (null when the average is 0); ``days_of_inventory = days
in the period / turnover``. SKUs without a ``unit_cost`` add nothing to either value.
:func:`inventory_holding_cost`: backlog cost = ``holding_rate`` (per year, default 0.25) ×
average inventory value × days / 365; :func:`holding_cost_daily` spreads it over the snapshot
dates. Both are estimates: the costs ledger (notebook 05) books the backlog cost from the
``costs`` table's goods rows, so it does not add these (it would count the cost twice).
"""

from __future__ import annotations

import datetime as dt
import math

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from lib import parameters
from lib.definitions import MONEY_DECIMALS
from lib.periods import EPOCH, Period, to_timestamps
from lib.supply._shared import (
    UNKNOWN_CATEGORY,
    VELOCITY_DAYS,
    _catalogue,
    _category_of,
    _epoch_days,
    _in_period,
    _latest_on_or_before,
    daily_stock,
    paid_units,
)

# The notebook parameters' declared defaults (lib/parameters.py).
DEAD_STOCK_DAYS = parameters.default("dead_stock_days")
LOW_STOCK_DAYS = parameters.default("low_stock_days")
OVERSTOCK_DAYS = parameters.default("overstock_days")
HOLDING_RATE = parameters.default("holding_rate")
STATUSES = ("stockout", "dead", "low", "overstock", "healthy")

HEALTH_COLUMNS = [
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
TURNOVER_COLUMNS = ["category", "cogs", "avg_inventory_value", "turnover", "days_of_inventory"]


def _day(epoch: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(epoch))


def _units_by_sku(
    orders: ir.Table, order_items: ir.Table, period: Period, windows: dict[str, tuple[int, int]]
) -> pd.DataFrame:
    """Units sold per SKU in each named window of epoch days ``(first, last)``: one query."""
    first = min(lo for lo, _ in windows.values())
    wide = Period(_day(min(first, period.start_day)), period.end, period.timezone)
    lines = paid_units(orders, order_items, wide)
    sums = {
        name: lines.quantity.sum(where=(lines.day >= lo) & (lines.day <= hi))
        for name, (lo, hi) in windows.items()
    }
    frame = lines.group_by("sku_id").aggregate(**sums).to_pandas()
    for name in windows:
        frame[name] = frame[name].fillna(0).astype("int64")
    return frame.set_index("sku_id")


def inventory_health(
    inventory: ir.Table,
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    period: Period,
    purchase_orders: ir.Table | None = None,
    velocity_days: int = VELOCITY_DAYS,
    dead_stock_days: int = DEAD_STOCK_DAYS,
    low_stock_days: float = LOW_STOCK_DAYS,
    overstock_days: float = OVERSTOCK_DAYS,
) -> pd.DataFrame:
    """Per SKU: ``sku_id, category, starting_units, received_units, units_sold, ending_units,
    sell_through, days_of_supply, stockout_days, status`` (module docstring).

    The SKUs are those with a snapshot on or before ``end`` or with sales or receipts in the
    period, sorted by ``sku_id``. Without ``purchase_orders`` the received units are unknown:
    ``received_units`` and ``sell_through`` are null.
    """
    for name, value in (
        ("velocity_days", velocity_days),
        ("dead_stock_days", dead_stock_days),
        ("low_stock_days", low_stock_days),
        ("overstock_days", overstock_days),
    ):
        parameters.check(name, value)
    stock = daily_stock(inventory)
    starting = _latest_on_or_before(stock, period.start - dt.timedelta(days=1))
    ending = _latest_on_or_before(stock, period.end)
    inside = _in_period(stock, "date", period)
    out = inside.filter(inside.on_hand == 0)
    stockouts = out.group_by("sku_id").aggregate(days=out.count()).to_pandas()
    stockouts = stockouts.set_index("sku_id")["days"]
    end = period.end_day
    sold = _units_by_sku(
        orders,
        order_items,
        period,
        {
            "units_sold": (period.start_day, end),
            "velocity_units": (end - velocity_days + 1, end),
            "recent_units": (end - dead_stock_days + 1, end),
        },
    )
    received = None
    if purchase_orders is not None:
        arrived = _in_period(purchase_orders, "received_date", period)
        received = (
            arrived.group_by("sku_id")
            .aggregate(units=arrived.qty_received.fill_null(0).sum())
            .to_pandas()
            .set_index("sku_id")["units"]
        )
    period_sold = sold.index[sold["units_sold"] > 0]
    skus = ending.index.union(period_sold).union(stockouts.index)
    if received is not None:
        skus = skus.union(received.index[received > 0])
    skus = pd.Index(sorted(skus), name="sku_id")
    catalogue = _catalogue(products)

    table = pd.DataFrame({"sku_id": skus})
    table["category"] = _category_of(table["sku_id"], catalogue).to_numpy()
    table["starting_units"] = starting.reindex(skus).fillna(0).astype("int64").to_numpy()
    if received is None:
        table["received_units"] = pd.array([pd.NA] * len(skus), dtype="Int64")
    else:
        table["received_units"] = received.reindex(skus).fillna(0).astype("int64").to_numpy()
    units = sold.reindex(skus).fillna(0).astype("int64")
    table["units_sold"] = units["units_sold"].to_numpy()
    table["ending_units"] = ending.reindex(skus).fillna(0).astype("int64").to_numpy()
    available = (table["starting_units"] + table["received_units"]).to_numpy(
        dtype="float64", na_value=np.nan
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        through = np.where(available > 0, table["units_sold"] / available, np.nan)
    table["sell_through"] = through
    per_day = units["velocity_units"].to_numpy() / velocity_days
    with np.errstate(divide="ignore", invalid="ignore"):
        supply_days = np.where(per_day > 0, table["ending_units"] / per_day, np.nan)
    table["days_of_supply"] = supply_days
    table["stockout_days"] = stockouts.reindex(skus).fillna(0).astype("int64").to_numpy()
    table["status"] = stock_status(
        table["ending_units"],
        units["recent_units"].to_numpy(),
        table["days_of_supply"],
        low_stock_days,
        overstock_days,
    )
    return table[HEALTH_COLUMNS]


def stock_status(
    ending_units: pd.Series,
    recent_units: np.ndarray | pd.Series,
    days_of_supply: pd.Series,
    low_stock_days: float = LOW_STOCK_DAYS,
    overstock_days: float = OVERSTOCK_DAYS,
) -> list[str]:
    """The status of each SKU, the first rule that applies (module docstring)."""
    parameters.check("low_stock_days", low_stock_days)
    parameters.check("overstock_days", overstock_days)
    statuses = []
    for units, recent, supply in zip(
        ending_units, np.asarray(recent_units), days_of_supply, strict=True
    ):
        if units == 0:
            statuses.append("stockout")
        elif recent == 0:
            statuses.append("dead")
        elif pd.notna(supply) and supply < low_stock_days:
            statuses.append("low")
        elif pd.isna(supply) or supply > overstock_days:
            statuses.append("overstock")
        else:
            statuses.append("healthy")
    return statuses


def status_summary(health: pd.DataFrame, products: ir.Table) -> pd.DataFrame:
    """Per status (in the order of :data:`STATUSES`): ``skus, ending_units, inventory_value``
    (ending units × ``unit_cost``) and ``value_share`` of the total inventory value."""
    cost = _catalogue(products)["unit_cost"]
    value = health["ending_units"] * health["sku_id"].map(cost).fillna(0.0).to_numpy()
    frame = health.assign(value=value).groupby("status")
    table = pd.DataFrame({"status": list(STATUSES)}).set_index("status")
    table["skus"] = frame.size().reindex(table.index).fillna(0).astype("int64")
    table["ending_units"] = frame["ending_units"].sum().reindex(table.index).fillna(0)
    table["ending_units"] = table["ending_units"].astype("int64")
    table["inventory_value"] = frame["value"].sum().reindex(table.index).fillna(0.0)
    table["inventory_value"] = table["inventory_value"].round(MONEY_DECIMALS)
    total = table["inventory_value"].sum()
    table["value_share"] = table["inventory_value"] / total if total > 0 else math.nan
    return table.reset_index()


def _inventory_value_by_category(
    inventory: ir.Table, products: ir.Table, period: Period
) -> tuple[pd.Series, int]:
    """Σ over the snapshot dates in the period of Σ on_hand × unit_cost per category, and the
    number of snapshot dates (dates on which the inventory table has any row)."""
    inside = _in_period(inventory, "date", period)
    known = products.select(
        catalogue_sku=products.sku_id, category=products.category, unit_cost=products.unit_cost
    )
    rows = inside.left_join(known, inside.sku_id == known.catalogue_sku)
    value = rows.on_hand * rows.unit_cost
    per_date = rows.group_by(["category", "date"]).aggregate(value=value.sum()).to_pandas()
    dates = int(inside.date.nunique().to_pandas())
    per_date["category"] = per_date["category"].fillna(UNKNOWN_CATEGORY)
    totals = per_date.groupby("category")["value"].sum(min_count=1).fillna(0.0)
    return totals, dates


def inventory_turnover(
    inventory: ir.Table,
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    period: Period,
) -> pd.DataFrame:
    """Per category: ``category, cogs, avg_inventory_value, turnover, days_of_inventory``.

    Categories with sales in the period or stock on a snapshot date in it, sorted by name.
    """
    catalogue = _catalogue(products)
    lines = paid_units(orders, order_items, period)
    sold = lines.group_by("sku_id").aggregate(units=lines.quantity.sum()).to_pandas()
    sold["category"] = _category_of(sold["sku_id"], catalogue).to_numpy()
    sold["cogs"] = sold["units"] * sold["sku_id"].map(catalogue["unit_cost"]).to_numpy()
    cogs = sold.groupby("category")["cogs"].sum(min_count=1).fillna(0.0)
    value_sums, dates = _inventory_value_by_category(inventory, products, period)
    categories = sorted(set(cogs.index) | set(value_sums.index))
    table = pd.DataFrame({"category": categories})
    table["cogs"] = cogs.reindex(categories).fillna(0.0).round(MONEY_DECIMALS).to_numpy()
    value_sums = value_sums.reindex(categories).fillna(0.0)
    average = value_sums / dates if dates else value_sums * 0.0
    table["avg_inventory_value"] = average.round(MONEY_DECIMALS).to_numpy()
    return _with_turnover(table, period.n_days)[TURNOVER_COLUMNS]


def _with_turnover(table: pd.DataFrame, days: int) -> pd.DataFrame:
    average = table["avg_inventory_value"]
    table["turnover"] = table["cogs"] / average.where(average > 0)
    turnover = table["turnover"]
    table["days_of_inventory"] = days / turnover.where(turnover > 0)
    return table


def inventory_holding_cost(
    inventory: ir.Table,
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    period: Period,
    holding_rate: float = HOLDING_RATE,
) -> pd.DataFrame:
    """One row: ``cogs, avg_inventory_value, turnover, days_of_inventory, holding_rate, days,
    holding_cost`` for the whole catalogue; ``holding_cost = holding_rate × avg_inventory_value ×
    days / 365`` (an estimate of the backlog cost, 库存积压成本; :func:`holding_cost_daily`
    spreads it over the days)."""
    parameters.check("holding_rate", holding_rate)
    by_category = inventory_turnover(inventory, orders, order_items, products, period)
    table = pd.DataFrame(
        {
            "cogs": [round(float(by_category["cogs"].sum()), MONEY_DECIMALS)],
            "avg_inventory_value": [
                round(float(by_category["avg_inventory_value"].sum()), MONEY_DECIMALS)
            ],
        }
    )
    table = _with_turnover(table, period.n_days)
    table["holding_rate"] = holding_rate
    table["days"] = period.n_days
    cost = holding_rate * table["avg_inventory_value"] * period.n_days / 365
    table["holding_cost"] = cost.round(MONEY_DECIMALS)
    return table


def holding_cost_daily(
    inventory: ir.Table, products: ir.Table, period: Period, holding_rate: float = HOLDING_RATE
) -> pd.DataFrame:
    """``date, amount``: the backlog cost of :func:`inventory_holding_cost` by snapshot date in
    the period, each ``holding_rate × stock value that date / 365 × days / snapshot dates``, so
    the amounts add up to the period's cost (before rounding to cents). An estimate for shops
    whose ``costs`` table lacks a backlog item; the costs ledger does not book it."""
    inside = _in_period(inventory, "date", period)
    known = products.select(catalogue_sku=products.sku_id, unit_cost=products.unit_cost)
    rows = inside.left_join(known, inside.sku_id == known.catalogue_sku)
    per_date = rows.group_by("date").aggregate(value=(rows.on_hand * rows.unit_cost).sum())
    frame = per_date.to_pandas()
    frame["day"] = _epoch_days(frame["date"]).to_numpy()
    frame = frame.sort_values("day").reset_index(drop=True)
    scale = period.n_days / len(frame) if len(frame) else 0.0
    amount = holding_rate * frame["value"].fillna(0.0) / 365 * scale
    return pd.DataFrame(
        {
            "date": to_timestamps(frame["day"]).to_numpy(),
            "amount": amount.round(MONEY_DECIMALS).to_numpy(),
        }
    )
