"""Stock-outs and lost sales (缺货): out-of-stock SKUs per day and the sales their stock-out days
lost.

*Units sold*, *snapshots* and local days are defined in :mod:`lib.supply`; docs/metrics.md,
"Supply chain", has every definition.

Lost sales (:func:`lost_sales`): for each SKU with stock-out days in the period, the
``view_item`` events of the SKU on its stock-out days × the SKU's units sold per view on its
in-stock days (the other days of the period), and that at ``list_price``.
"""

from __future__ import annotations

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from lib.definitions import MONEY_DECIMALS, events_in
from lib.periods import Period, to_timestamps
from lib.supply._shared import (
    _catalogue,
    _category_of,
    _epoch_days,
    _in_period,
    daily_stock,
    paid_units,
)

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
