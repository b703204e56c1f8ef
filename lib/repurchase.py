"""Repurchase (复购): repeat buyers, repurchase rate and the share of GMV from repeat purchases.

Definitions (docs/metrics.md), over the orders paid in the period (paid as in :mod:`lib.gmv`):

- ``buyers``: users with at least one paid order; ``repeat_buyers``: users with two or more.
- ``repurchase_rate = repeat_buyers / buyers`` (复购率).
- ``repeat_gmv``: ``paid_amount`` of each buyer's second and later paid orders of the period,
  ordered by ``paid_time`` (ties by ``order_id``); ``repeat_gmv_share = repeat_gmv / gmv``
  (复购金额占比).

Orders alone are enough: no events table is needed.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from lib.gmv import MONEY_DECIMALS, paid_orders_in
from lib.periods import Period

COLUMNS = ["buyers", "repeat_buyers", "repurchase_rate", "gmv", "repeat_gmv", "repeat_gmv_share"]


def ranked_paid_orders(orders: ir.Table, period: Period) -> ir.Table:
    """Paid orders of the period with ``order_rank`` 1, 2, … per buyer in payment order."""
    paid = paid_orders_in(orders, period)
    order = ibis.window(group_by="user_id", order_by=["paid_time", "order_id"])
    return paid.mutate(order_rank=ibis.row_number().over(order) + 1)


def _summarise(table: pd.DataFrame) -> pd.DataFrame:
    table["repurchase_rate"] = table["repeat_buyers"] / table["buyers"].where(table["buyers"] > 0)
    table["repeat_gmv_share"] = table["repeat_gmv"] / table["gmv"].where(table["gmv"] > 0)
    return table


def repurchase_summary(orders: ir.Table, period: Period) -> pd.DataFrame:
    """One row: ``buyers, repeat_buyers, repurchase_rate, gmv, repeat_gmv, repeat_gmv_share``."""
    ranked = ranked_paid_orders(orders, period)
    per_buyer = ranked.group_by("user_id").aggregate(
        orders=ranked.count(),
        gmv=ranked.paid_amount.sum(),
        repeat_gmv=(ranked.order_rank >= 2).ifelse(ranked.paid_amount, 0.0).sum(),
    )
    row = per_buyer.aggregate(
        buyers=per_buyer.count(),
        repeat_buyers=(per_buyer.orders >= 2).sum(),
        gmv=per_buyer.gmv.sum(),
        repeat_gmv=per_buyer.repeat_gmv.sum(),
    ).to_pandas()
    table = pd.DataFrame(
        {
            "buyers": [int(row["buyers"].iloc[0])],
            "repeat_buyers": [int(row["repeat_buyers"].fillna(0).iloc[0])],
            "gmv": [round(float(row["gmv"].fillna(0.0).iloc[0]), MONEY_DECIMALS)],
            "repeat_gmv": [round(float(row["repeat_gmv"].fillna(0.0).iloc[0]), MONEY_DECIMALS)],
        }
    )
    return _summarise(table)[COLUMNS]
