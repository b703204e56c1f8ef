"""Suppliers (供应商): purchase orders on time in full, fill rate and lead times per supplier.

*Units sold*, *snapshots* and local days are defined in :mod:`lib.supply`; docs/metrics.md,
"Supply chain", has every definition.

Suppliers (:func:`supplier_scorecard` → ``tables/supplier_scorecard.csv``): purchase orders with
``promised_date`` in the period, per supplier. On time in full (OTIF) = received on or before
``promised_date`` with ``qty_received ≥ qty_ordered``; ``fill_rate = Σ qty_received / Σ
qty_ordered``; lead time = ``received_date − ordered_date`` in days, received orders only. A
missing ``qty_received`` counts as 0.
"""

from __future__ import annotations

import math

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from lib.periods import Period
from lib.supply._shared import _epoch_days, _in_period, _percentile

SUPPLIER_COLUMNS = [
    "supplier",
    "purchase_orders",
    "otif_rate",
    "fill_rate",
    "lead_time_days_p50",
    "lead_time_days_p90",
]


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
