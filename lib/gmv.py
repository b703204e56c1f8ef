"""GMV and its decomposition: GMV = UV × conversion rate × sales per buyer (客单价).

Definitions (docs/metrics.md):

- A *paid order* has ``paid_time`` not null and ``status`` other than ``cancelled``; a refunded
  order still counts as paid (it was paid; refunds are reported separately).
- An order belongs to the local day of its ``paid_time``.
- ``gmv``: sum of ``paid_amount`` of the paid orders; ``orders``: their count;
  ``buyers``: distinct users among them.
- ``conversion_rate = buyers / uv``; ``sales_per_buyer = gmv / buyers``; ``aov = gmv / orders``.
  So ``gmv = uv × conversion_rate × sales_per_buyer`` exactly whenever ``uv`` and ``buyers`` > 0.
  Buyers without events (phone orders) count for GMV but not for UV, so the conversion rate can
  exceed 1 on a day without traffic; it is null when ``uv`` is 0.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from lib.periods import Period, to_timestamps
from lib.traffic import events_in

# Sums of money are rounded to cents: engines add floats in no fixed order, and the last bits
# would otherwise differ between runs and backends.
MONEY_DECIMALS = 2


def paid_orders(orders: ir.Table) -> ir.Table:
    """Orders that were paid and not cancelled (refunded ones included)."""
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


def _ratios(table: pd.DataFrame) -> pd.DataFrame:
    uv = table["uv"].astype("float64")
    buyers = table["buyers"].astype("float64")
    orders = table["orders"].astype("float64")
    table["conversion_rate"] = table["buyers"] / uv.where(uv > 0)
    table["sales_per_buyer"] = table["gmv"] / buyers.where(buyers > 0)
    table["aov"] = table["gmv"] / orders.where(orders > 0)
    return table


def gmv_daily(orders: ir.Table, period: Period, events: ir.Table | None = None) -> pd.DataFrame:
    """``date, uv, buyers, orders, gmv, conversion_rate, sales_per_buyer, aov`` per local day.

    Without an events table ``uv`` and ``conversion_rate`` are null (GMV still works).
    """
    paid = paid_orders_in(orders, period)
    per_day = (
        paid.group_by("day")
        .aggregate(buyers=paid.user_id.nunique(), orders=paid.count(), gmv=paid.paid_amount.sum())
        .to_pandas()
        .set_index("day")
    )
    days = pd.RangeIndex(period.start_day, period.end_day + 1)
    table = pd.DataFrame(index=days)
    if events is not None:
        inside = events_in(events, period)
        uv = inside.group_by("day").aggregate(uv=inside.user_id.nunique()).to_pandas()
        table["uv"] = uv.set_index("day")["uv"].reindex(days).fillna(0).astype("int64")
    else:
        table["uv"] = pd.array([pd.NA] * len(days), dtype="Int64")
    table["buyers"] = per_day["buyers"].reindex(days).fillna(0).astype("int64")
    table["orders"] = per_day["orders"].reindex(days).fillna(0).astype("int64")
    table["gmv"] = per_day["gmv"].reindex(days).fillna(0.0).astype("float64").round(MONEY_DECIMALS)
    table.insert(0, "date", to_timestamps(days).to_numpy())
    return _ratios(table).reset_index(drop=True)


def gmv_summary(orders: ir.Table, period: Period, events: ir.Table | None = None) -> pd.DataFrame:
    """The same measures over the whole period, one row: users and buyers counted once each."""
    paid = paid_orders_in(orders, period)
    row = paid.aggregate(
        buyers=paid.user_id.nunique(), orders=paid.count(), gmv=paid.paid_amount.sum()
    ).to_pandas()
    uv = None
    if events is not None:
        uv = int(events_in(events, period).user_id.nunique().to_pandas())
    table = pd.DataFrame(
        {
            "start": [pd.Timestamp(period.start)],
            "end": [pd.Timestamp(period.end)],
            "uv": pd.array([uv], dtype="Int64"),
            "buyers": [int(row["buyers"].iloc[0])],
            "orders": [int(row["orders"].iloc[0])],
            "gmv": [round(float(row["gmv"].fillna(0.0).iloc[0]), MONEY_DECIMALS)],
        }
    )
    return _ratios(table)
