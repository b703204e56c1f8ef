"""Fulfilment and logistics (物流): shipping times against the SLA per carrier, the shipping
backlog, delivery times and what they do to ratings and repurchase.

*Units sold*, *snapshots* and local days are defined in :mod:`lib.supply`; docs/metrics.md,
"Supply chain", has every definition.

Fulfilment (:func:`fulfilment` → ``tables/fulfilment.csv``): paid orders paid in the period that
have a shipment, per carrier and in total (``all``). An order with several shipments counts once:
its first shipment gives the carrier and ``shipped_time``, its cost is the sum, and it is
delivered when every shipment is (at the last ``delivered_time``). ``ship hours = shipped_time −
paid_time``; ``delivery days = delivered_time − shipped_time`` (delivered orders); on time =
shipped within ``ship_sla_hours`` (48) of payment (exactly at it counts); ``shipping_cost_share =
Σ shipping_cost / Σ paid_amount``. Percentiles interpolate linearly (numpy's default).
:func:`shipping_backlog`: paid orders of the period that had not shipped by the end of ``end``
although more than ``ship_sla_hours`` had passed since payment. :func:`ship_sla_note` sets the
target beside the shop's own shipping times and says when most orders miss it.

Delivery (:func:`delivery_experience`): payment-to-door days in buckets that end, by default, at
this period's quintiles of those days, rounded to whole days (:func:`delivery_bucket_edges`), so
the buckets follow the shop's own delivery times wherever it sells.
"""

from __future__ import annotations

import itertools
import math

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from lib import parameters
from lib.definitions import MONEY_DECIMALS, paid_orders, paid_orders_in
from lib.periods import Period, to_timestamps
from lib.stats import two_proportion_pvalue
from lib.supply._shared import ALL, DAYS, TOTAL_FLAG, _percentile, latest_order_reviews

HOURS = pd.Timedelta(hours=1)

# The notebook parameters' declared defaults (lib/parameters.py).
SHIP_SLA_HOURS = parameters.default("ship_sla_hours")
REPURCHASE_DAYS = parameters.default("repurchase_days")
SLOW_DELIVERY_DAYS = parameters.default("slow_delivery_days")

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
    TOTAL_FLAG,
]


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


def _fulfilment_row(
    carrier: str, frame: pd.DataFrame, sla_hours: float, total: bool = False
) -> dict:
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
        TOTAL_FLAG: total,
    }


def fulfilment(
    orders: ir.Table, shipments: ir.Table, period: Period, ship_sla_hours: float = SHIP_SLA_HOURS
) -> pd.DataFrame:
    """Per carrier (sorted) and ``all`` (last): ``carrier, orders, ship_hours_p50,
    ship_hours_p90, delivery_days_p50, delivery_days_p90, on_time_ship_rate,
    shipping_cost_per_order, shipping_cost_share, is_total`` (module docstring); ``is_total`` is
    true on the ``all`` row only, since a carrier may be called ``all`` too."""
    parameters.check("ship_sla_hours", ship_sla_hours)
    frame = shipped_orders(orders, shipments, period)
    rows = [
        _fulfilment_row(str(carrier), group, ship_sla_hours)
        for carrier, group in frame.groupby("carrier", sort=True)
    ]
    rows.append(_fulfilment_row(ALL, frame, ship_sla_hours, total=True))
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
    ``order_id, paid_time, hours_waiting`` (at the end of ``end``), oldest first.

    Refunded orders are left out: paid (so in every sales figure) but, with no shipment, money
    returned for goods that will not leave; they are not waiting to ship.
    """
    _, cutoff = period.utc_bounds()
    cutoff_literal = ibis.literal(cutoff, "timestamp")
    paid = paid_orders_in(orders, period)
    paid = paid.filter(paid.status != "refunded").select("order_id", "paid_time")
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
    parameters.check("repurchase_days", repurchase_days)
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
    rated = latest_order_reviews(delivered, order_items, reviews, buyers, "delivered_time")
    rated = rated.semi_join(shipped, rated.order_id == shipped.order_id)
    means = rated.group_by("order_id").aggregate(rating=rated.rating.mean()).to_pandas()
    ratings = means.set_index("order_id")["rating"]
    return table["order_id"].map(ratings).astype("float64").to_numpy()


# Where the buckets of payment-to-door days end by default: the quintiles of the period's
# delivered orders, so the last bucket holds the slowest fifth wherever the shop sells (a fixed
# "≥ 5 days" holds nearly every order of a marketplace whose median is ten days).
DELIVERY_QUANTILES = (0.2, 0.4, 0.6, 0.8)
# The edges when there is no delivered order to take quantiles of.
DELIVERY_BUCKET_DAYS = (2, 3, 4, 5)


def delivery_bucket_edges(
    days_to_door: pd.Series, quantiles: tuple[float, ...] = DELIVERY_QUANTILES
) -> tuple[int, ...]:
    """Whole-day edges of the delivery buckets from the data: the ``quantiles`` (linear
    interpolation) of ``days_to_door``, each rounded to the nearest whole day (halves up),
    without repeats and without edges below 1 day; :data:`DELIVERY_BUCKET_DAYS` when no order
    was delivered."""
    values = pd.Series(days_to_door, dtype="float64").dropna()
    if values.empty:
        return DELIVERY_BUCKET_DAYS
    found = np.floor(np.quantile(values, quantiles) + 0.5).astype(int)
    return tuple(sorted({int(edge) for edge in found if edge >= 1}))


def delivery_bucket_labels(edges: tuple[int, ...]) -> tuple[str, ...]:
    """``< a days``, ``a–b days``, …, ``≥ z days`` for ascending whole-day ``edges``."""
    if not edges:
        return ("all days",)

    def days(count: int) -> str:
        return f"{count} day" if count == 1 else f"{count} days"

    middle = [f"{low}–{days(high)}" for low, high in itertools.pairwise(edges)]
    return (f"< {days(edges[0])}", *middle, f"≥ {days(edges[-1])}")


DELIVERY_BUCKETS = delivery_bucket_labels(DELIVERY_BUCKET_DAYS)


def delivery_experience(
    delivered: pd.DataFrame, edges: tuple[int, ...] | None = None
) -> pd.DataFrame:
    """Per bucket of payment-to-door days: ``delivery, days_from, days_to, orders,
    reviewed_orders, mean_rating, observed_orders, repurchased_orders, repurchase_rate``. A
    bucket holds the orders with ``days_from ≤ days_to_door < days_to`` (null: unbounded).
    ``edges`` are the whole days where buckets end; None takes them from the data
    (:func:`delivery_bucket_edges`)."""
    if edges is None:
        edges = delivery_bucket_edges(delivered["days_to_door"])
    edges = tuple(sorted(edges))
    bucket = np.searchsorted(np.asarray(edges, dtype="float64"), delivered["days_to_door"], "right")
    frame = delivered.assign(bucket=bucket)
    bounds = [math.nan, *edges, math.nan]
    rows = []
    for index, label in enumerate(delivery_bucket_labels(edges)):
        part = frame[frame["bucket"] == index]
        observed = part[part["observed"]]
        rated = part["rating"].dropna()
        rows.append(
            {
                "delivery": label,
                "days_from": bounds[index],
                "days_to": bounds[index + 1],
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


def delivery_times(
    delivered: pd.DataFrame, slow_delivery_days: float = SLOW_DELIVERY_DAYS
) -> pd.DataFrame:
    """One row on the delivered orders of :func:`delivered_orders`: ``orders,
    days_to_door_p50, days_to_door_p90`` (linear interpolation), ``slow_orders`` (taking
    ``slow_delivery_days`` or more) and ``slow_share``."""
    parameters.check("slow_delivery_days", slow_delivery_days)
    days = delivered["days_to_door"]
    slow = int((days >= slow_delivery_days).sum())
    return pd.DataFrame(
        {
            "orders": [len(days)],
            "days_to_door_p50": [_percentile(days, 50)],
            "days_to_door_p90": [_percentile(days, 90)],
            "slow_orders": [slow],
            "slow_share": [slow / len(days) if len(days) else math.nan],
        }
    )


# A slow threshold that leaves fewer than this share of orders on one side compares almost
# every order with a handful.
ONE_SIDED_SHARE = 0.2


def delivery_times_note(times: pd.DataFrame, slow_delivery_days: float) -> str:
    """One sentence on the payment-to-door days of :func:`delivery_times` and where the slow
    threshold falls in them; it suggests the median as the threshold when fewer than
    :data:`ONE_SIDED_SHARE` of the orders are on one side of it."""
    row = times.iloc[0]
    if row["orders"] == 0:
        return "No order of the period was delivered: delivery times cannot be described."
    text = (
        f"Payment to door: median {row['days_to_door_p50']:.1f} days, 90th percentile "
        f"{row['days_to_door_p90']:.1f} days over {int(row['orders']):,} delivered orders (the "
        f"buckets below are this period's quintiles); the slow threshold of "
        f"{slow_delivery_days:g}+ days counts {row['slow_share']:.0%} of them as slow"
    )
    share = row["slow_share"]
    if share < ONE_SIDED_SHARE or share > 1 - ONE_SIDED_SHARE:
        median = math.floor(row["days_to_door_p50"] + 0.5)
        text += (
            ": nearly every order is on one side of it, so set slow_delivery_days near the "
            f"median ({median:g} days) for a comparison that says something"
        )
    return text + "."


def ship_sla_note(carriers: pd.DataFrame, daily: pd.DataFrame, ship_sla_hours: float) -> str:
    """One sentence on the shipping target against the shop's own shipping times: the share of
    orders shipped within ``ship_sla_hours`` and the median and 90th percentile of
    payment-to-shipment hours (the ``all`` row of :func:`fulfilment`), the days of
    :func:`fulfilment_daily` whose 90th percentile was above the target, and, when most orders
    missed it, that the target does not describe this shop's shipping. ``carriers`` and
    ``daily`` must have been computed with the same ``ship_sla_hours``."""
    row = carriers[carriers[TOTAL_FLAG].astype(bool)].iloc[0]
    if row["orders"] == 0:
        return "No paid order of the period shipped: shipping times cannot be described."
    rate, p50, p90 = row["on_time_ship_rate"], row["ship_hours_p50"], row["ship_hours_p90"]
    shipped = daily[daily["orders"] > 0]
    over = int((shipped["ship_hours_p90"] > ship_sla_hours).sum())
    text = (
        f"{rate:.0%} of shipped orders left within the {ship_sla_hours:g} h target; the shop's "
        f"own median is {p50:.0f} h and 90th percentile {p90:.0f} h, and {over} of "
        f"{len(shipped)} payment days had a 90th percentile above the target."
    )
    if rate < 0.5:
        text += (
            f" Most orders miss {ship_sla_hours:g} h: unless that is the promise made to buyers, "
            f"set ship_sla_hours to it (the 90th percentile, {p90:.0f} h, is what this "
            "shop achieves for nine orders in ten); the on-time rates and the backlog are "
            f"measured against {ship_sla_hours:g} h."
        )
    return text


def delivery_effect(
    delivered: pd.DataFrame, slow_delivery_days: float = SLOW_DELIVERY_DAYS
) -> pd.DataFrame:
    """Fast (payment to door under ``slow_delivery_days``) against slow orders: rows ``rating``
    (mean rating of reviewed orders; two-sided Mann–Whitney U test) and ``repurchase`` (rate
    among observed orders; two-proportion χ² test): ``measure, fast, slow, fast_orders,
    slow_orders, p_value, significant`` (p < 0.05)."""
    parameters.check("slow_delivery_days", slow_delivery_days)
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
