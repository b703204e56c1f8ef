"""Supply chain (库存管理, 供应链, 物流): stock health and turnover, stock-outs and lost sales,
demand forecast and reorder points, fulfilment and carriers, suppliers.

Definitions (docs/metrics.md, "Supply chain"). *Units sold* are always the quantities of the
lines of paid orders (paid as in :mod:`lib.gmv`) on the local day of payment. ``inventory`` and
``purchase_orders`` dates are local calendar days already and are compared as they are; the
timestamps of orders, shipments, events and reviews are UTC and become local days through
:class:`lib.periods.Period`. A *snapshot* is the ``on_hand`` of one SKU on one date, summed over
the rows of that SKU and date (locations).

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

Lost sales (:func:`lost_sales`): for each SKU with stock-out days in the period, the
``view_item`` events of the SKU on its stock-out days × the SKU's units sold per view on its
in-stock days (the other days of the period), and that at ``list_price``.

Demand forecast (:func:`forecast_demand`): the forecast for a day is the mean of the same weekday
over the last ``level_days`` (28) days of history, leaving out *campaign days* (units above
``outlier_factor`` × the median day of that window, when the median is above 0); a weekday
without such days takes the mean of all kept days. The interval is the forecast ± z × σ, σ the
standard deviation (n − 1) of the kept days around their weekday means and z the normal quantile
of the ``interval`` level; the lower end is clipped at 0. :func:`backtest_forecast` compares it
with the seasonal naive forecast (the same weekday a week earlier) from weekly rolling origins,
a week ahead each, by WAPE = Σ |actual − forecast| / Σ actual.

Reorder points (:func:`reorder_points`): ``reorder_point = μ × L + z × σ × √L`` with μ and σ the
mean and standard deviation (n − 1) of the SKU's daily units over the ``velocity_days`` ending on
end (days without sales count as 0), L the mean ``received_date − ordered_date`` of the SKU's
purchase orders received on or before end (else ``default_lead_time_days``) and z the normal
quantile of ``service_level``.

Fulfilment (:func:`fulfilment` → ``tables/fulfilment.csv``): paid orders paid in the period that
have a shipment, per carrier and in total (``all``). An order with several shipments counts once:
its first shipment gives the carrier and ``shipped_time``, its cost is the sum, and it is
delivered when every shipment is (at the last ``delivered_time``). ``ship hours = shipped_time −
paid_time``; ``delivery days = delivered_time − shipped_time`` (delivered orders); on time =
shipped within ``ship_sla_hours`` (48) of payment (exactly at it counts); ``shipping_cost_share =
Σ shipping_cost / Σ paid_amount``. Percentiles interpolate linearly (numpy's default).
:func:`shipping_backlog`: paid orders of the period that had not shipped by the end of ``end``
although more than ``ship_sla_hours`` had passed since payment.

Suppliers (:func:`supplier_scorecard` → ``tables/supplier_scorecard.csv``): purchase orders with
``promised_date`` in the period, per supplier. On time in full (OTIF) = received on or before
``promised_date`` with ``qty_received ≥ qty_ordered``; ``fill_rate = Σ qty_received / Σ
qty_ordered``; lead time = ``received_date − ordered_date`` in days, received orders only. A
missing ``qty_received`` counts as 0.
"""

from __future__ import annotations

import datetime as dt
import math

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from lib.gmv import MONEY_DECIMALS, paid_orders, paid_orders_in
from lib.periods import EPOCH, Period, check_lengths, to_timestamps
from lib.stats import two_proportion_pvalue
from lib.traffic import events_in

UNKNOWN_CATEGORY = "(unknown)"
ALL = "all"
HOURS = pd.Timedelta(hours=1)
DAYS = pd.Timedelta(days=1)

# Defaults of the notebook's parameters (docs/metrics.md).
VELOCITY_DAYS = 28
DEAD_STOCK_DAYS = 60
LOW_STOCK_DAYS = 14
OVERSTOCK_DAYS = 90
HOLDING_RATE = 0.25
HORIZON_DAYS = 28
LEVEL_DAYS = 28
BACKTEST_WEEKS = 6
FORECAST_INTERVAL = 0.9
OUTLIER_FACTOR = 3.0
SERVICE_LEVEL = 0.95
DEFAULT_LEAD_TIME_DAYS = 14.0
SHIP_SLA_HOURS = 48.0
REPURCHASE_DAYS = 30
SLOW_DELIVERY_DAYS = 3
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
LOST_SALES_COLUMNS = [
    "sku_id",
    "category",
    "stockout_days",
    "views_on_stockout_days",
    "units_sold_in_stock",
    "views_in_stock",
    "units_per_view",
    "lost_units",
    "list_price",
    "lost_revenue",
]
FULFILMENT_COLUMNS = [
    "carrier",
    "orders",
    "ship_hours_p50",
    "ship_hours_p90",
    "delivery_days_p50",
    "delivery_days_p90",
    "on_time_ship_rate",
    "shipping_cost_per_order",
    "shipping_cost_share",
]
SUPPLIER_COLUMNS = [
    "supplier",
    "purchase_orders",
    "otif_rate",
    "fill_rate",
    "lead_time_days_p50",
    "lead_time_days_p90",
]
REORDER_COLUMNS = [
    "sku_id",
    "category",
    "mean_daily_demand",
    "demand_std",
    "lead_time_days",
    "lead_time_source",
    "safety_stock",
    "reorder_point",
    "ending_units",
    "below_reorder_point",
]


# --------------------------------------------------------------------------------------------
# Shared pieces


def _day(epoch: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(epoch))


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


def _period_ending(end: dt.date, days: int, timezone: str) -> Period:
    """The ``days`` local days ending on ``end``."""
    return Period(end - dt.timedelta(days=days - 1), end, timezone)


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


# --------------------------------------------------------------------------------------------
# Inventory health and turnover


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
    check_lengths(
        velocity_days=velocity_days,
        dead_stock_days=dead_stock_days,
        low_stock_days=low_stock_days,
        overstock_days=overstock_days,
    )
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
    check_lengths(low_stock_days=low_stock_days, overstock_days=overstock_days)
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


# --------------------------------------------------------------------------------------------
# Stock-outs and lost sales


def stockouts_daily(inventory: ir.Table, period: Period) -> pd.DataFrame:
    """Per local day of the period: ``date, skus`` (with a snapshot that day),
    ``out_of_stock`` (snapshots at 0) and ``out_of_stock_share`` (null on days without
    snapshots)."""
    inside = _in_period(daily_stock(inventory), "date", period)
    per_date = (
        inside.group_by("date")
        .aggregate(skus=inside.count(), out_of_stock=(inside.on_hand == 0).sum())
        .to_pandas()
    )
    per_date.index = _epoch_days(per_date["date"]).to_numpy()
    days = pd.RangeIndex(period.start_day, period.end_day + 1)
    table = pd.DataFrame({"date": to_timestamps(days).to_numpy()})
    table["skus"] = per_date["skus"].reindex(days).fillna(0).astype("int64").to_numpy()
    out = per_date["out_of_stock"].reindex(days).fillna(0).astype("int64")
    table["out_of_stock"] = out.to_numpy()
    skus = table["skus"].astype("float64")
    table["out_of_stock_share"] = table["out_of_stock"] / skus.where(skus > 0)
    return table


def lost_sales(
    inventory: ir.Table,
    events: ir.Table,
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    period: Period,
) -> pd.DataFrame:
    """Per SKU with a stock-out day in the period: ``sku_id, category, stockout_days,
    views_on_stockout_days, units_sold_in_stock, views_in_stock, units_per_view, lost_units,
    list_price, lost_revenue`` (module docstring); largest lost revenue first.

    ``units_per_view`` (and so the estimate) is null for a SKU without views on in-stock days.
    """
    inside = _in_period(daily_stock(inventory), "date", period)
    out = inside.filter(inside.on_hand == 0).select("sku_id", "date")
    out_days = out.to_pandas()
    if out_days.empty:
        return pd.DataFrame(columns=LOST_SALES_COLUMNS)
    out_days["day"] = _epoch_days(out_days["date"]).to_numpy()
    out_skus = out.select("sku_id").distinct()

    views = events_in(events, period)
    views = views.filter(views.event_name == "view_item", views.sku_id.notnull())
    views = views.semi_join(out_skus, views.sku_id == out_skus.sku_id)
    views = views.group_by(["sku_id", "day"]).aggregate(views=views.count()).to_pandas()
    lines = paid_units(orders, order_items, period)
    lines = lines.semi_join(out_skus, lines.sku_id == out_skus.sku_id)
    units = lines.group_by(["sku_id", "day"]).aggregate(units=lines.quantity.sum()).to_pandas()

    keys = ["sku_id", "day"]
    flagged = out_days[keys].assign(out=True)
    views = views.merge(flagged, on=keys, how="left")
    units = units.merge(flagged, on=keys, how="left")
    views["out"] = views["out"].fillna(False).astype(bool)
    units["out"] = units["out"].fillna(False).astype(bool)

    catalogue = _catalogue(products)
    table = out_days.groupby("sku_id").size().rename("stockout_days").reset_index()
    table = table.sort_values("sku_id", kind="stable").reset_index(drop=True)
    skus = table["sku_id"]
    table.insert(1, "category", _category_of(skus, catalogue).to_numpy())

    def total(frame: pd.DataFrame, column: str, on_stockout: bool) -> np.ndarray:
        picked = frame[frame["out"] == on_stockout].groupby("sku_id")[column].sum()
        return picked.reindex(skus).fillna(0).astype("int64").to_numpy()

    table["views_on_stockout_days"] = total(views, "views", True)
    table["units_sold_in_stock"] = total(units, "units", False)
    table["views_in_stock"] = total(views, "views", False)
    in_stock_views = table["views_in_stock"].astype("float64")
    table["units_per_view"] = table["units_sold_in_stock"] / in_stock_views.where(
        in_stock_views > 0
    )
    table["lost_units"] = table["views_on_stockout_days"] * table["units_per_view"]
    table["list_price"] = skus.map(catalogue["list_price"]).astype("float64").to_numpy()
    table["lost_revenue"] = (table["lost_units"] * table["list_price"]).round(MONEY_DECIMALS)
    table = table.sort_values(
        ["lost_revenue", "sku_id"], ascending=[False, True], na_position="last", kind="stable"
    )
    return table[LOST_SALES_COLUMNS].reset_index(drop=True)


def lost_sales_summary(lost: pd.DataFrame) -> pd.DataFrame:
    """One row: ``skus_out_of_stock, stockout_days, views_on_stockout_days, lost_units,
    lost_revenue`` over the SKUs of :func:`lost_sales`."""
    return pd.DataFrame(
        {
            "skus_out_of_stock": [len(lost)],
            "stockout_days": [int(lost["stockout_days"].sum())],
            "views_on_stockout_days": [int(lost["views_on_stockout_days"].sum())],
            "lost_units": [float(lost["lost_units"].sum())],
            "lost_revenue": [round(float(lost["lost_revenue"].sum()), MONEY_DECIMALS)],
        }
    )


# --------------------------------------------------------------------------------------------
# Demand forecast and reorder points


def daily_units(
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    end: dt.date,
    timezone: str,
    history_days: int,
    level: str = "category",
    skus: list[str] | None = None,
) -> pd.DataFrame:
    """``key, date, units``: units sold per local day over the ``history_days`` ending on
    ``end``, per category (``level="category"``, every category of the catalogue) or per SKU of
    ``skus`` (``level="sku"``); days without sales are 0. Sorted by key and date."""
    if level not in ("category", "sku"):
        raise ValueError(f"level={level!r} must be 'category' or 'sku'")
    history = _period_ending(end, history_days, timezone)
    lines = paid_units(orders, order_items, history)
    catalogue = _catalogue(products)
    if level == "sku":
        keys = sorted(skus or [])
        if not keys:
            return pd.DataFrame({"key": [], "date": [], "units": []})
        lines = lines.filter(lines.sku_id.isin(keys))
        grouped = lines.group_by(["sku_id", "day"]).aggregate(units=lines.quantity.sum())
        frame = grouped.to_pandas().rename(columns={"sku_id": "key"})
    else:
        per_sku = lines.group_by(["sku_id", "day"]).aggregate(units=lines.quantity.sum())
        frame = per_sku.to_pandas()
        frame["key"] = _category_of(frame["sku_id"], catalogue).to_numpy()
        frame = frame.groupby(["key", "day"], as_index=False)["units"].sum()
        keys = sorted(set(catalogue["category"]) | set(frame["key"]))
    days = range(history.start_day, history.end_day + 1)
    grid = pd.MultiIndex.from_product([keys, days], names=["key", "day"])
    units = frame.set_index(["key", "day"])["units"].reindex(grid).fillna(0).astype("int64")
    table = units.reset_index()
    table.insert(1, "date", to_timestamps(table.pop("day")).to_numpy())
    return table


def forecast_history_days(backtest_weeks: int, level_days: int = LEVEL_DAYS) -> int:
    """Days of daily units :func:`backtest_forecast` needs: ``level_days`` to fit the method at
    the earliest origin plus the 7 days of each of the ``backtest_weeks`` weeks it forecasts
    (also enough for :func:`forecast_demand`, which fits on the last ``level_days``)."""
    return level_days + 7 * backtest_weeks


def top_keys(daily: pd.DataFrame, n: int, days: int = LEVEL_DAYS) -> list[str]:
    """The ``n`` keys of ``daily`` with the most units in its last ``days`` days (ties by key)."""
    if daily.empty:
        return []
    recent = daily[daily["date"] > daily["date"].max() - pd.Timedelta(days=days)]
    totals = recent.groupby("key")["units"].sum().reset_index()
    totals = totals.sort_values(["units", "key"], ascending=[False, True], kind="stable")
    return totals["key"].head(n).tolist()


def top_skus(orders: ir.Table, order_items: ir.Table, period: Period, n: int) -> list[str]:
    """The ``n`` SKUs with the most units sold in the period (ties by ``sku_id``)."""
    lines = paid_units(orders, order_items, period)
    sold = lines.group_by("sku_id").aggregate(units=lines.quantity.sum()).to_pandas()
    sold = sold.sort_values(["units", "sku_id"], ascending=[False, True], kind="stable")
    return sold["sku_id"].head(n).tolist()


def _weekday_means(
    dates: pd.Series, units: np.ndarray, outlier_factor: float
) -> tuple[dict[int, float], float, np.ndarray, np.ndarray]:
    """Means per weekday of the kept days, the mean of all kept days, the kept mask and the
    weekday of each day (campaign days above ``outlier_factor`` × median are left out)."""
    median = float(np.median(units)) if len(units) else 0.0
    kept = units <= outlier_factor * median if median > 0 else np.ones(len(units), dtype=bool)
    weekdays = pd.to_datetime(dates).dt.weekday.to_numpy()
    overall = float(units[kept].mean()) if kept.any() else 0.0
    means = {}
    for weekday in range(7):
        chosen = kept & (weekdays == weekday)
        means[weekday] = float(units[chosen].mean()) if chosen.any() else overall
    return means, overall, kept, weekdays


def _forecast_one(
    dates: pd.Series,
    units: np.ndarray,
    horizon_days: int,
    level_days: int,
    z: float,
    outlier_factor: float,
) -> pd.DataFrame:
    """Forecast ``horizon_days`` after the last of ``dates`` from its last ``level_days``."""
    recent_dates, recent = dates.iloc[-level_days:], units[-level_days:]
    means, _, kept, weekdays = _weekday_means(recent_dates, recent, outlier_factor)
    fitted = np.array([means[w] for w in weekdays])
    residuals = (recent - fitted)[kept]
    sigma = float(np.std(residuals, ddof=1)) if len(residuals) >= 2 else 0.0
    last = pd.Timestamp(dates.iloc[-1])
    future = pd.date_range(last + DAYS, periods=horizon_days, freq="D")
    forecast = np.array([means[d.weekday()] for d in future])
    return pd.DataFrame(
        {
            "date": future.astype("datetime64[ns]"),
            "forecast": forecast,
            "low": np.maximum(forecast - z * sigma, 0.0),
            "high": forecast + z * sigma,
        }
    )


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"a confidence or service level must be between 0 and 1, not {level}")
    return float(scipy_stats.norm.ppf(level))


def forecast_demand(
    daily: pd.DataFrame,
    horizon_days: int = HORIZON_DAYS,
    level_days: int = LEVEL_DAYS,
    interval: float = FORECAST_INTERVAL,
    outlier_factor: float = OUTLIER_FACTOR,
) -> pd.DataFrame:
    """``key, date, forecast, low, high`` for the ``horizon_days`` after the last day of
    ``daily`` (from :func:`daily_units`), per key (module docstring)."""
    z = _z(0.5 + interval / 2)
    pieces = []
    for key, rows in daily.groupby("key", sort=True):
        rows = rows.sort_values("date")
        piece = _forecast_one(
            rows["date"],
            rows["units"].to_numpy(dtype="float64"),
            horizon_days,
            level_days,
            z,
            outlier_factor,
        )
        pieces.append(piece.assign(key=key))
    if not pieces:
        return pd.DataFrame(columns=["key", "date", "forecast", "low", "high"])
    table = pd.concat(pieces, ignore_index=True)
    return table[["key", "date", "forecast", "low", "high"]]


def backtest_forecast(
    daily: pd.DataFrame,
    weeks: int = BACKTEST_WEEKS,
    level_days: int = LEVEL_DAYS,
    outlier_factor: float = OUTLIER_FACTOR,
) -> pd.DataFrame:
    """Rolling-origin backtest: ``key, actual_units, wape_method, wape_seasonal_naive,
    beats_naive`` per key and pooled (``all``), last row.

    Origins are the last day of ``daily`` minus 7, 14, …, 7 × ``weeks`` days; from each, the
    method (fitted on the ``level_days`` up to the origin) and the seasonal naive forecast (the
    same weekday a week earlier) predict the 7 days after it. ``daily`` must hold
    ``level_days + 7 × weeks`` days. WAPEs are null when the actual units add up to 0.
    """
    needed = level_days + 7 * weeks
    rows = []
    pooled = np.zeros(3)
    for key, frame in daily.groupby("key", sort=True):
        frame = frame.sort_values("date")
        units = frame["units"].to_numpy(dtype="float64")
        dates = frame["date"].reset_index(drop=True)
        if len(units) < needed:
            raise ValueError(f"the backtest needs {needed} days of history, {key} has {len(units)}")
        errors = np.zeros(3)  # actual, |error| of the method, |error| of the seasonal naive
        for week in range(weeks, 0, -1):
            origin = len(units) - 7 * week  # index of the first day forecast
            history = slice(origin - level_days, origin)
            means, _, _, _ = _weekday_means(dates.iloc[history], units[history], outlier_factor)
            ahead = dates.iloc[origin : origin + 7]
            actual = units[origin : origin + 7]
            method = np.array([means[d.weekday()] for d in pd.to_datetime(ahead)])
            naive = units[origin - 7 : origin]
            errors += [actual.sum(), np.abs(actual - method).sum(), np.abs(actual - naive).sum()]
        pooled += errors
        rows.append(_wape_row(key, errors))
    rows.append(_wape_row(ALL, pooled))
    return pd.DataFrame(rows)


def _wape_row(key: str, errors: np.ndarray) -> dict:
    actual, method, naive = errors
    wape_method = method / actual if actual > 0 else math.nan
    wape_naive = naive / actual if actual > 0 else math.nan
    beats = bool(wape_method < wape_naive) if actual > 0 else None
    return {
        "key": key,
        "actual_units": int(actual),
        "wape_method": wape_method,
        "wape_seasonal_naive": wape_naive,
        "beats_naive": beats,
    }


def backtest_verdict(backtest: pd.DataFrame, what: str) -> str:
    """One sentence on whether the method beat the seasonal naive forecast (the ``all`` row)."""
    row = backtest.set_index("key").loc[ALL]
    if pd.isna(row["wape_method"]):
        return f"Nothing sold in the backtest weeks for {what}: the forecast cannot be judged."
    method, naive = row["wape_method"], row["wape_seasonal_naive"]
    if method < naive:
        return (
            f"For {what}, the weekday mean beats the seasonal naive forecast in the backtest "
            f"(WAPE {method:.0%} against {naive:.0%}); use it, within its interval."
        )
    return (
        f"For {what}, the weekday mean does NOT beat the seasonal naive forecast in the backtest "
        f"(WAPE {method:.0%} against {naive:.0%}): plan with last week's sales instead, or "
        "improve the method before trusting it."
    )


def reorder_points(
    inventory: ir.Table,
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    period: Period,
    purchase_orders: ir.Table | None = None,
    velocity_days: int = VELOCITY_DAYS,
    service_level: float = SERVICE_LEVEL,
    default_lead_time_days: float = DEFAULT_LEAD_TIME_DAYS,
) -> pd.DataFrame:
    """Per SKU with a snapshot on or before end or sales in the velocity window:
    ``sku_id, category, mean_daily_demand, demand_std, lead_time_days, lead_time_source
    (purchase_orders / default), safety_stock, reorder_point, ending_units,
    below_reorder_point`` (module docstring), sorted by ``sku_id``."""
    # a velocity window of 0 days divides the demand by 0; a default lead time of 0 zeroes the
    # reorder points it sets
    check_lengths(velocity_days=velocity_days, default_lead_time_days=default_lead_time_days)
    z = _z(service_level)
    window = _period_ending(period.end, velocity_days, period.timezone)
    lines = paid_units(orders, order_items, window)
    per_day = lines.group_by(["sku_id", "day"]).aggregate(units=lines.quantity.sum())
    moments = (
        per_day.group_by("sku_id")
        .aggregate(total=per_day.units.sum(), squares=(per_day.units * per_day.units).sum())
        .to_pandas()
        .set_index("sku_id")
    )
    ending = _latest_on_or_before(daily_stock(inventory), period.end)
    skus = pd.Index(sorted(ending.index.union(moments.index)), name="sku_id")
    lead = pd.Series(dtype="float64")
    if purchase_orders is not None:
        received = purchase_orders.filter(
            purchase_orders.received_date.notnull(),
            purchase_orders.received_date <= ibis.literal(period.end, "date"),
        )
        frame = received.select("sku_id", "ordered_date", "received_date").to_pandas()
        if len(frame):
            frame["days"] = _epoch_days(frame["received_date"]) - _epoch_days(frame["ordered_date"])
            lead = frame.groupby("sku_id")["days"].mean()

    n = velocity_days
    total = moments["total"].reindex(skus).fillna(0).astype("float64")
    squares = moments["squares"].reindex(skus).fillna(0).astype("float64")
    mean = total / n
    # sample variance over the n days, the days without sales included as 0
    variance = ((squares - n * mean**2) / (n - 1)).clip(lower=0.0) if n > 1 else 0.0 * mean
    table = pd.DataFrame({"sku_id": skus})
    table["category"] = _category_of(table["sku_id"], _catalogue(products)).to_numpy()
    table["mean_daily_demand"] = mean.to_numpy()
    table["demand_std"] = np.sqrt(variance).to_numpy()
    known = lead.reindex(skus)
    table["lead_time_days"] = known.fillna(default_lead_time_days).to_numpy()
    table["lead_time_source"] = np.where(known.notna(), "purchase_orders", "default")
    root = np.sqrt(table["lead_time_days"])
    table["safety_stock"] = z * table["demand_std"] * root
    table["reorder_point"] = (
        table["mean_daily_demand"] * table["lead_time_days"] + table["safety_stock"]
    )
    table["ending_units"] = ending.reindex(skus).fillna(0).astype("int64").to_numpy()
    table["below_reorder_point"] = table["ending_units"] < table["reorder_point"]
    return table[REORDER_COLUMNS]


def skus_to_reorder(points: pd.DataFrame) -> pd.DataFrame:
    """The SKUs of :func:`reorder_points` whose ending units are below their reorder point, with
    ``shortfall = reorder_point − ending_units``, largest first."""
    below = points[points["below_reorder_point"]].copy()
    below["shortfall"] = below["reorder_point"] - below["ending_units"]
    below = below.sort_values(["shortfall", "sku_id"], ascending=[False, True], kind="stable")
    return below.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Fulfilment and logistics


def _shipments_per_order(shipments: ir.Table) -> ir.Table:
    """One row per shipped order: the first shipment's ``carrier`` and ``shipped_time``, the
    last ``delivered_time`` (null unless every shipment was delivered), summed cost."""
    ranked = shipments.mutate(
        rank=ibis.row_number().over(
            ibis.window(group_by="order_id", order_by=["shipped_time", "carrier"])
        )
    )
    first = ranked.filter(ranked["rank"] == 0).select("order_id", "carrier")
    totals = shipments.group_by("order_id").aggregate(
        shipped_time=shipments.shipped_time.min(),
        last_delivered=shipments.delivered_time.max(),
        undelivered=shipments.delivered_time.isnull().sum(),
        shipping_cost=shipments.shipping_cost.fill_null(0.0).sum(),
    )
    joined = totals.join(first, "order_id")
    delivered = ibis.ifelse(joined.undelivered == 0, joined.last_delivered, ibis.null("timestamp"))
    return joined.select(
        "order_id", "carrier", "shipped_time", "shipping_cost", delivered_time=delivered
    )


def shipped_orders(orders: ir.Table, shipments: ir.Table, period: Period) -> pd.DataFrame:
    """Per paid order paid in the period with a shipment: ``order_id, user_id, day, carrier,
    paid_time, shipped_time, delivered_time, paid_amount, shipping_cost, ship_hours,
    delivery_days`` (one row per order; times in pandas, so every engine gives the same)."""
    paid = paid_orders_in(orders, period).select(
        "order_id", "user_id", "day", "paid_time", "paid_amount"
    )
    joined = paid.join(_shipments_per_order(shipments), "order_id")
    frame = joined.to_pandas().sort_values("order_id", kind="stable").reset_index(drop=True)
    for column in ("paid_time", "shipped_time", "delivered_time"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    frame["ship_hours"] = (frame["shipped_time"] - frame["paid_time"]) / HOURS
    frame["delivery_days"] = (frame["delivered_time"] - frame["shipped_time"]) / DAYS
    return frame


def _percentile(values: pd.Series, q: float) -> float:
    values = values.dropna()
    return float(np.percentile(values, q)) if len(values) else math.nan


def _fulfilment_row(carrier: str, frame: pd.DataFrame, sla_hours: float) -> dict:
    paid = float(frame["paid_amount"].sum())
    cost = float(frame["shipping_cost"].sum())
    orders = len(frame)
    return {
        "carrier": carrier,
        "orders": orders,
        "ship_hours_p50": _percentile(frame["ship_hours"], 50),
        "ship_hours_p90": _percentile(frame["ship_hours"], 90),
        "delivery_days_p50": _percentile(frame["delivery_days"], 50),
        "delivery_days_p90": _percentile(frame["delivery_days"], 90),
        "on_time_ship_rate": float((frame["ship_hours"] <= sla_hours).mean())
        if orders
        else math.nan,
        "shipping_cost_per_order": round(cost / orders, MONEY_DECIMALS) if orders else math.nan,
        "shipping_cost_share": cost / paid if paid > 0 else math.nan,
    }


def fulfilment(
    orders: ir.Table, shipments: ir.Table, period: Period, ship_sla_hours: float = SHIP_SLA_HOURS
) -> pd.DataFrame:
    """Per carrier (sorted) and ``all`` (last): ``carrier, orders, ship_hours_p50,
    ship_hours_p90, delivery_days_p50, delivery_days_p90, on_time_ship_rate,
    shipping_cost_per_order, shipping_cost_share`` (module docstring)."""
    frame = shipped_orders(orders, shipments, period)
    rows = [
        _fulfilment_row(str(carrier), group, ship_sla_hours)
        for carrier, group in frame.groupby("carrier", sort=True)
    ]
    rows.append(_fulfilment_row(ALL, frame, ship_sla_hours))
    return pd.DataFrame(rows, columns=FULFILMENT_COLUMNS)


def fulfilment_daily(
    orders: ir.Table, shipments: ir.Table, period: Period, ship_sla_hours: float = SHIP_SLA_HOURS
) -> pd.DataFrame:
    """Per local payment day: ``date, orders`` (shipped), ``ship_hours_p50, ship_hours_p90,
    on_time_ship_rate`` (as in :func:`fulfilment`); every day of the period."""
    frame = shipped_orders(orders, shipments, period)
    days = pd.RangeIndex(period.start_day, period.end_day + 1)
    grouped = frame.groupby("day")["ship_hours"]
    table = pd.DataFrame({"date": to_timestamps(days).to_numpy()})
    table["orders"] = grouped.size().reindex(days).fillna(0).astype("int64").to_numpy()
    table["ship_hours_p50"] = grouped.quantile(0.5).reindex(days).to_numpy()
    table["ship_hours_p90"] = grouped.quantile(0.9).reindex(days).to_numpy()
    on_time = frame.assign(on_time=frame["ship_hours"] <= ship_sla_hours)
    table["on_time_ship_rate"] = on_time.groupby("day")["on_time"].mean().reindex(days).to_numpy()
    return table


def shipping_backlog(
    orders: ir.Table, shipments: ir.Table, period: Period, ship_sla_hours: float = SHIP_SLA_HOURS
) -> pd.DataFrame:
    """Paid orders of the period not shipped within the SLA as of the end of ``end``: more than
    ``ship_sla_hours`` passed from payment to then, and no shipment left by then.
    ``order_id, paid_time, hours_waiting`` (at the end of ``end``), oldest first."""
    _, cutoff = period.utc_bounds()
    cutoff_literal = ibis.literal(cutoff, "timestamp")
    paid = paid_orders_in(orders, period).select("order_id", "paid_time")
    gone = shipments.filter(shipments.shipped_time < cutoff_literal).select("order_id")
    waiting = paid.anti_join(gone, paid.order_id == gone.order_id).to_pandas()
    waiting["paid_time"] = pd.to_datetime(waiting["paid_time"]).astype("datetime64[us]")
    waiting["hours_waiting"] = (pd.Timestamp(cutoff) - waiting["paid_time"]) / HOURS
    # exactly at the SLA it may still ship on time (shipping at the SLA is on time)
    late = waiting[waiting["hours_waiting"] > ship_sla_hours]
    late = late.sort_values(["paid_time", "order_id"], kind="stable").reset_index(drop=True)
    return late[["order_id", "paid_time", "hours_waiting"]]


def delivered_orders(
    orders: ir.Table,
    order_items: ir.Table,
    shipments: ir.Table,
    period: Period,
    reviews: ir.Table | None = None,
    repurchase_days: int = REPURCHASE_DAYS,
) -> pd.DataFrame:
    """Per delivered paid order paid in the period: ``order_id, user_id, days_to_door``
    (payment to delivery, days), ``rating`` (mean rating of the reviews its buyer wrote of its
    SKUs after delivery, each review matched to the buyer's latest order of that SKU delivered
    before it; null without), ``observed`` (the data runs ``repurchase_days`` past delivery:
    the last payment in the orders is at least that late) and ``repurchased`` (the buyer paid
    another order within ``repurchase_days`` after delivery)."""
    frame = shipped_orders(orders, shipments, period)
    frame = frame[frame["delivered_time"].notna()].reset_index(drop=True)
    frame["days_to_door"] = (frame["delivered_time"] - frame["paid_time"]) / DAYS
    table = frame[["order_id", "user_id", "paid_time", "delivered_time", "days_to_door"]].copy()
    # the same orders in the engine, to fetch only their buyers' reviews and later orders
    shipped = paid_orders_in(orders, period).join(_shipments_per_order(shipments), "order_id")
    shipped = shipped.select("order_id", "user_id")
    buyers = shipped.select("user_id").distinct()

    table["rating"] = math.nan
    if reviews is not None and len(table):
        table["rating"] = _ratings_after_delivery(
            orders, order_items, shipments, reviews, shipped, buyers, table
        )

    paid = paid_orders(orders)
    last_paid = pd.Timestamp(paid.paid_time.max().to_pandas())
    horizon = pd.Timedelta(days=repurchase_days)
    table["observed"] = table["delivered_time"] + horizon <= last_paid
    later = paid.semi_join(buyers, paid.user_id == buyers.user_id)
    later = later.filter(later.paid_time >= ibis.literal(period.utc_bounds()[0], "timestamp"))
    later = later.select("user_id", "order_id", "paid_time").to_pandas()
    later["paid_time"] = pd.to_datetime(later["paid_time"]).astype("datetime64[us]")
    pairs = table[["order_id", "user_id", "delivered_time"]].merge(
        later.rename(columns={"order_id": "other_order"}), on="user_id"
    )
    again = pairs[
        (pairs["other_order"] != pairs["order_id"])
        & (pairs["paid_time"] > pairs["delivered_time"])
        & (pairs["paid_time"] <= pairs["delivered_time"] + horizon)
    ]
    table["repurchased"] = table["order_id"].isin(set(again["order_id"]))
    return table.drop(columns=["paid_time"])


def _ratings_after_delivery(
    orders: ir.Table,
    order_items: ir.Table,
    shipments: ir.Table,
    reviews: ir.Table,
    shipped: ir.Table,
    buyers: ir.Table,
    table: pd.DataFrame,
) -> np.ndarray:
    """Mean rating per order of ``table`` (see :func:`delivered_orders`)."""
    # every delivery of the buyers' SKUs competes for a review, not only the period's: a later
    # re-purchase (or an earlier one) of the SKU takes the reviews written after its own delivery
    paid = paid_orders(orders).select("order_id", "user_id")
    paid = paid.semi_join(buyers, paid.user_id == buyers.user_id)
    delivered = _shipments_per_order(shipments)
    delivered = delivered.filter(delivered.delivered_time.notnull())
    delivered = paid.join(delivered.select("order_id", "delivered_time"), "order_id")
    lines = order_items.select("order_id", "sku_id").distinct()
    candidates = delivered.join(lines, "order_id").select(
        "order_id",
        "delivered_time",
        buyer=delivered.user_id,
        sku=lines.sku_id,
    )
    written = reviews.semi_join(buyers, reviews.user_id == buyers.user_id)
    written = written.select("user_id", "sku_id", "review_time", "rating")
    # which delivery a review follows depends only on its buyer, SKU and time; matching those
    # and joining the reviews back keeps identical reviews counting once each
    moments = written.select("user_id", "sku_id", "review_time").distinct()
    pairs = moments.join(
        candidates,
        [
            moments.user_id == candidates.buyer,
            moments.sku_id == candidates.sku,
            moments.review_time >= candidates.delivered_time,
        ],
    )
    latest = ibis.window(
        group_by=["user_id", "sku_id", "review_time"],
        order_by=[ibis.desc("delivered_time"), ibis.desc("order_id")],
    )
    pairs = pairs.mutate(rank=ibis.row_number().over(latest))
    matched = pairs.filter(pairs["rank"] == 0)
    matched = matched.semi_join(shipped, matched.order_id == shipped.order_id)
    matched = matched.select("order_id", "user_id", "sku_id", "review_time")
    rated = written.join(matched, ["user_id", "sku_id", "review_time"])
    means = rated.group_by("order_id").aggregate(rating=rated.rating.mean()).to_pandas()
    ratings = means.set_index("order_id")["rating"]
    return table["order_id"].map(ratings).astype("float64").to_numpy()


DELIVERY_BUCKETS = ("< 2 days", "2–3 days", "3–4 days", "4–5 days", "≥ 5 days")


def delivery_experience(delivered: pd.DataFrame) -> pd.DataFrame:
    """Per bucket of payment-to-door days (:data:`DELIVERY_BUCKETS`): ``delivery, orders,
    reviewed_orders, mean_rating, observed_orders, repurchased_orders, repurchase_rate``."""
    bucket = np.clip(np.floor(delivered["days_to_door"].to_numpy()), 1, 5).astype(int) - 1
    frame = delivered.assign(bucket=bucket)
    rows = []
    for index, label in enumerate(DELIVERY_BUCKETS):
        part = frame[frame["bucket"] == index]
        observed = part[part["observed"]]
        rated = part["rating"].dropna()
        rows.append(
            {
                "delivery": label,
                "orders": len(part),
                "reviewed_orders": len(rated),
                "mean_rating": float(rated.mean()) if len(rated) else math.nan,
                "observed_orders": len(observed),
                "repurchased_orders": int(observed["repurchased"].sum()),
                "repurchase_rate": float(observed["repurchased"].mean())
                if len(observed)
                else math.nan,
            }
        )
    return pd.DataFrame(rows)


def delivery_effect(
    delivered: pd.DataFrame, slow_delivery_days: float = SLOW_DELIVERY_DAYS
) -> pd.DataFrame:
    """Fast (payment to door under ``slow_delivery_days``) against slow orders: rows ``rating``
    (mean rating of reviewed orders; two-sided Mann–Whitney U test) and ``repurchase`` (rate
    among observed orders; two-proportion χ² test): ``measure, fast, slow, fast_orders,
    slow_orders, p_value, significant`` (p < 0.05)."""
    slow = delivered["days_to_door"] >= slow_delivery_days
    rated = delivered["rating"].notna()
    fast_ratings = delivered.loc[~slow & rated, "rating"]
    slow_ratings = delivered.loc[slow & rated, "rating"]
    rating_p = math.nan
    if len(fast_ratings) and len(slow_ratings):
        rating_p = float(
            scipy_stats.mannwhitneyu(fast_ratings, slow_ratings, alternative="two-sided").pvalue
        )
    seen = delivered["observed"]
    fast_seen = delivered.loc[~slow & seen, "repurchased"]
    slow_seen = delivered.loc[slow & seen, "repurchased"]
    repurchase_p = two_proportion_pvalue(
        int(fast_seen.sum()), len(fast_seen), int(slow_seen.sum()), len(slow_seen)
    )

    def mean(values: pd.Series) -> float:
        return float(values.mean()) if len(values) else math.nan

    table = pd.DataFrame(
        {
            "measure": ["rating", "repurchase"],
            "fast": [mean(fast_ratings), mean(fast_seen)],
            "slow": [mean(slow_ratings), mean(slow_seen)],
            "fast_orders": [len(fast_ratings), len(fast_seen)],
            "slow_orders": [len(slow_ratings), len(slow_seen)],
            "p_value": [rating_p, repurchase_p],
        }
    )
    table["significant"] = table["p_value"] < 0.05
    return table


def delivery_verdict(effect: pd.DataFrame, slow_delivery_days: float) -> str:
    """One sentence on what :func:`delivery_effect` found."""
    parts = []
    for row in effect.itertuples():
        what = "ratings" if row.measure == "rating" else "repurchase within the window"
        if pd.isna(row.p_value):
            parts.append(f"{what}: too few orders to compare")
            continue
        shown = (
            f"{row.fast:.2f} vs {row.slow:.2f}"
            if row.measure == "rating"
            else f"{row.fast:.1%} vs {row.slow:.1%}"
        )
        verdict = "a significant difference" if row.significant else "no significant difference"
        parts.append(f"{what}: {shown} (fast vs slow), {verdict} (p = {row.p_value:.2f})")
    return (
        f"Orders delivered in {slow_delivery_days:g}+ days against faster ones — "
        + "; ".join(parts)
        + "."
    )


# --------------------------------------------------------------------------------------------
# Suppliers


def supplier_scorecard(purchase_orders: ir.Table, period: Period) -> pd.DataFrame:
    """Per supplier (sorted): ``supplier, purchase_orders, otif_rate, fill_rate,
    lead_time_days_p50, lead_time_days_p90`` over the purchase orders with ``promised_date``
    in the period (module docstring)."""
    due = _in_period(purchase_orders, "promised_date", period)
    frame = due.select(
        "supplier",
        "ordered_date",
        "promised_date",
        "received_date",
        "qty_ordered",
        "qty_received",
    ).to_pandas()
    frame["qty_received"] = frame["qty_received"].fillna(0)
    received = frame["received_date"].notna()
    ordered_day = _epoch_days(frame["ordered_date"])
    promised_day = _epoch_days(frame["promised_date"])
    received_day = pd.Series(np.nan, index=frame.index)
    if received.any():
        received_day[received] = _epoch_days(frame.loc[received, "received_date"]).to_numpy()
    frame["lead_time_days"] = received_day - ordered_day
    frame["otif"] = (
        received & (received_day <= promised_day) & (frame["qty_received"] >= frame["qty_ordered"])
    )
    rows = []
    for supplier, group in frame.groupby("supplier", sort=True):
        wanted = float(group["qty_ordered"].sum())
        rows.append(
            {
                "supplier": supplier,
                "purchase_orders": len(group),
                "otif_rate": float(group["otif"].mean()),
                "fill_rate": float(group["qty_received"].sum()) / wanted if wanted else math.nan,
                "lead_time_days_p50": _percentile(group["lead_time_days"], 50),
                "lead_time_days_p90": _percentile(group["lead_time_days"], 90),
            }
        )
    return pd.DataFrame(rows, columns=SUPPLIER_COLUMNS)


def supply_notes(
    inventory: ir.Table | None,
    purchase_orders: ir.Table | None,
    shipments: ir.Table | None,
    events: ir.Table | None = None,
) -> dict[str, str]:
    """What each section would need, for the tables the source lacks (empty when none)."""
    notes = {}
    if inventory is None:
        notes["inventory"] = (
            "Skipped: this section needs an `inventory` table (date, sku_id, on_hand: units on "
            "hand per SKU at the end of each local day)."
        )
    if purchase_orders is None:
        notes["purchase_orders"] = (
            "Skipped: this section needs a `purchase_orders` table (po_id, supplier, sku_id, "
            "ordered_date, promised_date, received_date, qty_ordered, qty_received, unit_cost)."
        )
    if shipments is None:
        notes["shipments"] = (
            "Skipped: this section needs a `shipments` table (order_id, carrier, shipped_time, "
            "delivered_time, shipping_cost)."
        )
    if events is None:
        notes["events"] = (
            "Skipped: lost sales need `view_item` events, and the source has no events table."
        )
    return notes
