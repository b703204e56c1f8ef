"""Promotion slots (流量入口资源位): which entry positions earn their traffic.

Definitions (docs/metrics.md), per ``slot`` over the period:

- ``impressions``: ``view_promotion`` events; ``clicks``: ``select_promotion`` events;
  ``ctr = clicks / impressions``; ``clickers``: distinct users who clicked the slot.
- Orders are credited by *last click*: a paid order (see :mod:`lib.gmv`) paid in the period goes to
  the slot of the buyer's latest ``select_promotion`` in the ``attribution_hours`` before
  ``paid_time``; orders with no such click go to no slot.
- ``buyers``: distinct users with a credited order; ``orders`` and ``gmv``: credited orders and
  their ``paid_amount``; ``conversion_rate = buyers / clickers``; ``gmv_per_click = gmv / clicks``.
- ``ctr_low/high`` and ``conversion_low/high``: 95% Wilson intervals. ``p_value_vs_best``: the
  two-proportion test of the slot's conversion rate against the slot with the highest one
  (among slots with at least ``min_clickers`` clickers); ``significant`` when p < 0.05.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from lib.gmv import MONEY_DECIMALS, paid_orders_in
from lib.periods import Period, epoch_seconds
from lib.stats import proportion_intervals, two_proportion_pvalue
from lib.traffic import events_in

DEFAULT_ATTRIBUTION_HOURS = 24
SIGNIFICANCE_LEVEL = 0.05


def slot_performance(
    events: ir.Table,
    orders: ir.Table | None,
    period: Period,
    attribution_hours: int = DEFAULT_ATTRIBUTION_HOURS,
    min_clickers: int = 30,
) -> pd.DataFrame:
    """One row per slot: exposure, clicks, credited buyers and GMV, with intervals and a test.

    Without an orders table the sales columns are 0 and only exposure and clicks are meaningful.
    """
    promo = events_in(events, period)
    promo = promo.filter(promo.slot.notnull())
    exposure = (
        promo.group_by("slot")
        .aggregate(
            impressions=(promo.event_name == "view_promotion").sum(),
            clicks=(promo.event_name == "select_promotion").sum(),
            clickers=(promo.event_name == "select_promotion")
            .ifelse(promo.user_id, ibis.null("string"))
            .nunique(),
        )
        .to_pandas()
    )

    if orders is None:
        sales = pd.DataFrame(columns=["slot", "buyers", "orders", "gmv"])
    else:
        sales = _credited_sales(events, orders, period, attribution_hours)
    table = exposure.merge(sales, on="slot", how="outer")
    for column in ("impressions", "clicks", "clickers", "buyers", "orders"):
        table[column] = table[column].fillna(0).astype("int64")
    table["gmv"] = table["gmv"].fillna(0.0).astype("float64").round(MONEY_DECIMALS)
    return _with_statistics(table, min_clickers)


def _credited_sales(
    events: ir.Table, orders: ir.Table, period: Period, attribution_hours: int
) -> pd.DataFrame:
    """Buyers, orders and GMV per slot under last-click attribution."""
    window_days = -(-attribution_hours // 24)  # clicks just before the period can earn its orders
    clicks = events_in(events, period, days_before=window_days)
    clicks = clicks.filter(clicks.event_name == "select_promotion", clicks.slot.notnull())
    clicks = clicks.select("user_id", "slot", click_s=epoch_seconds(clicks.event_time))
    paid = paid_orders_in(orders, period)
    paid = paid.select("order_id", "user_id", "paid_amount", paid_s=epoch_seconds(paid.paid_time))
    pairs = paid.join(clicks, "user_id").filter(
        lambda t: (t.click_s <= t.paid_s) & (t.click_s >= t.paid_s - attribution_hours * 3600)
    )
    latest = ibis.window(group_by="order_id", order_by=[ibis.desc("click_s"), "slot"])
    credited = pairs.mutate(rank=ibis.row_number().over(latest)).filter(ibis._.rank == 0)
    return (
        credited.group_by("slot")
        .aggregate(
            buyers=credited.user_id.nunique(),
            orders=credited.count(),
            gmv=credited.paid_amount.sum(),
        )
        .to_pandas()
    )


def _with_statistics(table: pd.DataFrame, min_clickers: int) -> pd.DataFrame:
    impressions, clicks = table["impressions"], table["clicks"]
    table["ctr"] = clicks / impressions.where(impressions > 0)
    table["ctr_low"], table["ctr_high"] = proportion_intervals(clicks, impressions)
    table["conversion_rate"] = table["buyers"] / table["clickers"].where(table["clickers"] > 0)
    table["conversion_low"], table["conversion_high"] = proportion_intervals(
        table["buyers"], table["clickers"]
    )
    table["gmv_per_click"] = table["gmv"] / clicks.where(clicks > 0)

    eligible = table[table["clickers"] >= min_clickers]
    table["is_best"] = False
    table["p_value_vs_best"] = float("nan")
    if not eligible.empty:
        best = eligible.sort_values(["conversion_rate", "slot"], ascending=[False, True]).index[0]
        table.loc[best, "is_best"] = True
        b_buyers, b_clickers = table.loc[best, ["buyers", "clickers"]]
        table["p_value_vs_best"] = [
            float("nan")
            if index == best
            else two_proportion_pvalue(buyers, clickers, b_buyers, b_clickers)
            for index, buyers, clickers in zip(
                table.index, table["buyers"], table["clickers"], strict=True
            )
        ]
    table["significant"] = table["p_value_vs_best"] < SIGNIFICANCE_LEVEL
    columns = [
        "slot",
        "impressions",
        "clicks",
        "ctr",
        "ctr_low",
        "ctr_high",
        "clickers",
        "buyers",
        "conversion_rate",
        "conversion_low",
        "conversion_high",
        "orders",
        "gmv",
        "gmv_per_click",
        "is_best",
        "p_value_vs_best",
        "significant",
    ]
    return table[columns].sort_values("slot").reset_index(drop=True)
