"""Promotion slots (流量入口资源位): which entry positions earn their traffic.

Definitions (docs/metrics.md), per ``slot`` over the period:

- ``impressions``: ``view_promotion`` events; ``clicks``: ``select_promotion`` events;
  ``ctr = clicks / impressions``; ``clickers``: distinct users who clicked the slot.
- Orders are credited by *last click*: a paid order (see :mod:`lib.gmv`) paid in the period goes to
  the slot of the buyer's latest ``select_promotion`` in the ``attribution_hours`` before
  ``paid_time``; orders with no such click go to no slot.
- ``buyers``: distinct users with a credited order; ``orders`` and ``gmv``: credited orders and
  their ``paid_amount``; ``gmv_per_click = gmv / clicks``. These include orders credited to a
  click shortly before the period, so ``buyers`` can exceed ``clickers``.
- ``converting_clickers``: the slot's ``clickers`` with at least one order credited to the slot;
  ``conversion_rate = converting_clickers / clickers``, a proportion of the same users.
- ``ctr_low/high`` and ``conversion_low/high``: 95% Wilson intervals. ``p_value_vs_best``: the
  two-proportion test of the slot's conversion rate against the slot with the highest one
  (among slots with at least ``min_clickers`` clickers); ``significant`` when p < 0.05.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import pandas as pd

from lib import parameters
from lib.definitions import MONEY_DECIMALS, events_in, paid_orders_in
from lib.periods import Period, epoch_seconds
from lib.stats import proportion_intervals, two_proportion_pvalue

DEFAULT_ATTRIBUTION_HOURS = 24
SIGNIFICANCE_LEVEL = 0.05


def slot_performance(
    events: ir.Table,
    orders: ir.Table | None,
    period: Period,
    attribution_hours: int = DEFAULT_ATTRIBUTION_HOURS,
    min_clickers: int = 30,
) -> pd.DataFrame:
    """One row per slot: exposure, clicks, credited buyers and GMV, and the share of the slot's
    clickers who bought through it (``converting_clickers / clickers``), with intervals and a test.

    Without an orders table the sales columns are 0 and only exposure and clicks are meaningful.
    """
    # at 0 only a click in the payment's own second earns it, below 0 none: no sales, which
    # reads as a result. Checked without orders too, so that a call does not start failing
    # once orders are given.
    parameters.check("attribution_hours", attribution_hours)
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
        sales = pd.DataFrame(columns=["slot", "buyers", "converting_clickers", "orders", "gmv"])
    else:
        sales = _credited_sales(events, orders, period, attribution_hours)
    table = exposure.merge(sales, on="slot", how="outer")
    for column in ("impressions", "clicks", "clickers", "buyers", "converting_clickers", "orders"):
        table[column] = table[column].fillna(0).astype("int64")
    table["gmv"] = table["gmv"].fillna(0.0).astype("float64").round(MONEY_DECIMALS)
    return _with_statistics(table, min_clickers)


def _credited_sales(
    events: ir.Table, orders: ir.Table, period: Period, attribution_hours: int
) -> pd.DataFrame:
    """Buyers, converting clickers, orders and GMV per slot under last-click attribution."""
    lo, hi = period.utc_bounds()
    # Clicks up to attribution_hours before the period can earn its orders. The bound is an
    # instant, not a local midnight: a 23-hour day (clocks going forward) before the period
    # would otherwise drop clicks between 23 and 24 hours before a payment.
    earliest = lo - dt.timedelta(hours=attribution_hours)
    clicks = events.filter(
        events.event_name == "select_promotion",
        events.slot.notnull(),
        events.event_time >= ibis.literal(earliest, "timestamp"),
        events.event_time < ibis.literal(hi, "timestamp"),
    )
    clicks = clicks.select(
        "user_id", "slot", "event_time", click_s=epoch_seconds(clicks.event_time)
    )
    paid = paid_orders_in(orders, period)
    paid = paid.select("order_id", "user_id", "paid_amount", paid_s=epoch_seconds(paid.paid_time))
    pairs = paid.join(clicks, "user_id").filter(
        lambda t: (t.click_s <= t.paid_s) & (t.click_s >= t.paid_s - attribution_hours * 3600)
    )
    latest = ibis.window(group_by="order_id", order_by=[ibis.desc("click_s"), "slot"])
    credited = pairs.mutate(rank=ibis.row_number().over(latest)).filter(ibis._.rank == 0)
    sales = credited.group_by("slot").aggregate(
        buyers=credited.user_id.nunique(),
        orders=credited.count(),
        gmv=credited.paid_amount.sum(),
    )
    # conversion_rate needs a share of the clickers the exposure counts (in-period clicks), and
    # buyers credited through a click before the period are not among them
    in_period = clicks.filter(clicks.event_time >= ibis.literal(lo, "timestamp"))
    in_period = in_period.select(clicker=in_period.user_id, clicked_slot=in_period.slot).distinct()
    buyer_slots = credited.select("user_id", "slot").distinct()
    converting = buyer_slots.join(
        in_period,
        [
            buyer_slots.user_id == in_period.clicker,
            buyer_slots.slot == in_period.clicked_slot,
        ],
    )
    converting = converting.group_by(converting_slot=converting.slot).aggregate(
        converting_clickers=ibis._.count()
    )
    sales = sales.left_join(converting, sales.slot == converting.converting_slot)
    return sales.drop("converting_slot").to_pandas()


def _with_statistics(table: pd.DataFrame, min_clickers: int) -> pd.DataFrame:
    impressions, clicks = table["impressions"], table["clicks"]
    table["ctr"] = clicks / impressions.where(impressions > 0)
    table["ctr_low"], table["ctr_high"] = proportion_intervals(clicks, impressions)
    converting, clickers = table["converting_clickers"], table["clickers"]
    table["conversion_rate"] = converting / clickers.where(clickers > 0)
    table["conversion_low"], table["conversion_high"] = proportion_intervals(converting, clickers)
    table["gmv_per_click"] = table["gmv"] / clicks.where(clicks > 0)

    eligible = table[table["clickers"] >= min_clickers]
    table["is_best"] = False
    table["p_value_vs_best"] = float("nan")
    if not eligible.empty:
        best = eligible.sort_values(["conversion_rate", "slot"], ascending=[False, True]).index[0]
        table.loc[best, "is_best"] = True
        b_converting, b_clickers = table.loc[best, ["converting_clickers", "clickers"]]
        table["p_value_vs_best"] = [
            float("nan")
            if index == best
            else two_proportion_pvalue(converted, clicked, b_converting, b_clickers)
            for index, converted, clicked in zip(table.index, converting, clickers, strict=True)
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
        "converting_clickers",
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
