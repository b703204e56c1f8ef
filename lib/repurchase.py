"""Repurchase (复购): repeat buyers, repurchase rate and the share of GMV from repeat purchases.

Definitions (docs/metrics.md), over the orders paid in the period (paid as in
:func:`lib.definitions.paid_orders`):

- ``buyers``: users with at least one paid order; ``repeat_buyers``: users with two or more.
- ``repurchase_rate = repeat_buyers / buyers`` (复购率).
- ``repeat_gmv``: ``paid_amount`` of each buyer's second and later paid orders of the period,
  ordered by ``paid_time`` (ties by ``order_id``); ``repeat_gmv_share = repeat_gmv / gmv``
  (复购金额占比).

By month and by category (:func:`repurchase_by_month`, :func:`repurchase_by_category`) the same
measures are worked out within each group, so a repeat buyer of a month bought twice in that month:

- Months are local calendar months clipped to the period (``days`` says how many period days a
  month has, so a partial month is visible).
- Categories come from ``order_items`` + ``products``. An order counts once in every category it
  contains, so buyers and orders of the categories add up to more than the totals; its
  ``paid_amount`` is split over those categories in proportion to the line values
  (``quantity × unit_price``; equal parts if they are all 0), so category GMV adds up to GMV.
  A repeat buyer of a category paid for two or more orders containing it; repeat GMV is the
  category's part of the second and later of them. Orders without lines go to ``(unknown)``.

Buyer cohorts (:func:`buyer_cohorts`, :func:`days_to_second_purchase`): a buyer's first and second
purchase are their first two paid orders anywhere in the source, by ``paid_time``. Cohorts are the
local months of the first purchase, from ``months`` months back through the month of ``end``
(first purchases after ``end`` are left out). "Bought again within X days" means the second
purchase's local day is at most X days after the first's (the same day counts). Only buyers whose
first purchase is at least X days before the last local day in the orders can be judged, so each
window divides by those (``observed_<X>d``) and young buyers are never counted as lost.

Orders alone are enough: no events table is needed.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import pandas as pd

from lib import parameters
from lib.definitions import (
    MONEY_DECIMALS,
    UNKNOWN,
    last_order_day,
    order_share,
    paid_orders,
    paid_orders_in,
)
from lib.periods import Period, epoch_day, to_timestamps

COLUMNS = ["buyers", "repeat_buyers", "repurchase_rate", "gmv", "repeat_gmv", "repeat_gmv_share"]
UNKNOWN_CATEGORY = UNKNOWN
REPEAT_WINDOWS = (30, 60, 90)
# The most cohort months shown: the bound of the buyer_cohort_months parameter (its reasons are
# in lib/parameters.py).
MAX_COHORT_MONTHS = parameters.MAX_COHORT_MONTHS


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


def _grouped_summary(paid: ir.Table, key: str, amount: str = "paid_amount") -> pd.DataFrame:
    """The summary's measures per value of ``key``, ranking each buyer's orders within it."""
    order = ibis.window(group_by=["user_id", key], order_by=["paid_time", "order_id"])
    ranked = paid.mutate(order_rank=ibis.row_number().over(order) + 1)
    per_buyer = ranked.group_by([key, "user_id"]).aggregate(
        orders=ranked.count(),
        gmv=ranked[amount].sum(),
        repeat_gmv=(ranked.order_rank >= 2).ifelse(ranked[amount], 0.0).sum(),
    )
    table = (
        per_buyer.group_by(key)
        .aggregate(
            buyers=per_buyer.count(),
            repeat_buyers=(per_buyer.orders >= 2).cast("int64").sum(),
            gmv=per_buyer.gmv.sum(),
            repeat_gmv=per_buyer.repeat_gmv.sum(),
        )
        .to_pandas()
    )
    for column in ("gmv", "repeat_gmv"):
        table[column] = table[column].astype("float64").round(MONEY_DECIMALS)
    return table.astype({"buyers": "int64", "repeat_buyers": "int64"})


def calendar_months(first: dt.date, last: dt.date) -> list[tuple[int, int]]:
    """``(first_day, last_day)`` epoch days of each calendar month from ``first`` to ``last``,
    the first and last months clipped to them."""
    months = []
    month = first.replace(day=1)
    while month <= last:
        following = (month + dt.timedelta(days=32)).replace(day=1)
        lo = max(epoch_day(month), epoch_day(first))
        hi = min(epoch_day(following) - 1, epoch_day(last))
        months.append((lo, hi))
        month = following
    return months


def _month_of(day: ir.IntegerValue, bounds: list[tuple[int, int]]) -> ir.IntegerValue:
    """The first day of the bounds-piece an epoch day falls in (plain integer comparisons)."""
    if len(bounds) == 1:
        return ibis.literal(bounds[0][0], "int64")
    return ibis.cases(*[(day <= hi, lo) for lo, hi in bounds[:-1]], else_=bounds[-1][0])


def repurchase_by_month(orders: ir.Table, period: Period) -> pd.DataFrame:
    """``month, days`` and the summary's columns per local calendar month of the period."""
    bounds = calendar_months(period.start, period.end)
    paid = paid_orders_in(orders, period)
    paid = paid.mutate(month_day=_month_of(paid.day, bounds))
    found = _grouped_summary(paid, "month_day").set_index("month_day")
    table = pd.DataFrame({"month_day": [lo for lo, _ in bounds]})
    table["days"] = [hi - lo + 1 for lo, hi in bounds]
    table = table.join(found, on="month_day")
    table = table.fillna({"buyers": 0, "repeat_buyers": 0, "gmv": 0.0, "repeat_gmv": 0.0})
    table = table.astype({"buyers": "int64", "repeat_buyers": "int64"})
    # a clipped month is labelled by its calendar month's first day
    first_of_month = to_timestamps(table.pop("month_day")).dt.to_period("M").dt.to_timestamp()
    table.insert(0, "month", first_of_month.to_numpy())
    return _summarise(table)[["month", "days", *COLUMNS]]


def order_category_shares(order_items: ir.Table, products: ir.Table) -> ir.Table:
    """``order_id, category, share``: each order's categories and their part of its value."""
    lines = order_items.left_join(products, "sku_id").select(
        order_items.order_id,
        category=products.category.fill_null(UNKNOWN_CATEGORY),
        value=order_items.quantity * order_items.unit_price,
    )
    per_category = lines.group_by(["order_id", "category"]).aggregate(value=lines.value.sum())
    return per_category.select("order_id", "category", share=order_share(per_category, "value"))


def repurchase_by_category(
    orders: ir.Table, order_items: ir.Table, products: ir.Table, period: Period
) -> pd.DataFrame:
    """``category`` and the summary's columns per product category, by GMV (largest first)."""
    paid = paid_orders_in(orders, period)
    shares = order_category_shares(order_items, products)
    joined = paid.left_join(shares, "order_id")
    joined = joined.select(
        joined.user_id,
        joined.order_id,
        joined.paid_time,
        category=joined.category.fill_null(UNKNOWN_CATEGORY),
        amount=joined.paid_amount * joined.share.fill_null(1.0),
    )
    table = _summarise(_grouped_summary(joined, "category", amount="amount"))
    table = table.sort_values(["gmv", "category"], ascending=[False, True])
    return table[["category", *COLUMNS]].reset_index(drop=True)


def first_two_purchases(orders: ir.Table, period: Period) -> ir.Table:
    """``user_id, first_day, second_day`` (null without a second) over all paid orders."""
    paid = paid_orders(orders)
    order = ibis.window(group_by="user_id", order_by=["paid_time", "order_id"])
    ranked = paid.mutate(rank=ibis.row_number().over(order), day=period.local_day(paid.paid_time))
    firsts = ranked.filter(ranked.rank <= 1)
    return firsts.group_by("user_id").aggregate(
        first_day=(firsts.rank == 0).ifelse(firsts.day, ibis.null("int64")).max(),
        second_day=(firsts.rank == 1).ifelse(firsts.day, ibis.null("int64")).max(),
    )


def _check_months(months: int) -> None:
    # below 1 the loop in _first_cohort_month does not run and one month is shown instead
    parameters.check("buyer_cohort_months", months, "months")


def _first_cohort_month(period: Period, months: int) -> dt.date:
    first_month = period.end.replace(day=1)
    for _ in range(months - 1):
        first_month = (first_month - dt.timedelta(days=1)).replace(day=1)
    return first_month


def _cohort_buyers(orders: ir.Table, period: Period, months: int) -> ir.Table:
    first_month = _first_cohort_month(period, months)
    buyers = first_two_purchases(orders, period)
    return buyers.filter(buyers.first_day.between(epoch_day(first_month), period.end_day))


def buyer_cohorts(
    orders: ir.Table,
    period: Period,
    months: int = 6,
    windows: tuple[int, ...] = REPEAT_WINDOWS,
) -> pd.DataFrame:
    """Per first-purchase month: ``cohort_month, buyers`` and, for each window X,
    ``observed_Xd, repeat_buyers_Xd, repeat_rate_Xd`` (see the module docstring)."""
    _check_months(months)
    buyers = _cohort_buyers(orders, period, months)
    horizon = last_order_day(orders, period)
    span = buyers.second_day - buyers.first_day
    bounds = calendar_months(_first_cohort_month(period, months), period.end)
    keyed = buyers.mutate(month_day=_month_of(buyers.first_day, bounds))
    measures = {"buyers": ibis._.count()}
    for x in windows:
        observed = keyed.first_day + x <= horizon
        measures[f"observed_{x}d"] = observed.cast("int64").sum()
        measures[f"repeat_buyers_{x}d"] = (
            (observed & (span.fill_null(x + 1) <= x)).cast("int64").sum()
        )
    table = keyed.group_by("month_day").aggregate(**measures).to_pandas()
    table = table.sort_values("month_day").reset_index(drop=True)
    table.insert(0, "cohort_month", to_timestamps(table.pop("month_day")).to_numpy())
    columns = ["cohort_month", "buyers"]
    for x in windows:
        observed = table[f"observed_{x}d"].astype("float64")
        table[f"repeat_rate_{x}d"] = table[f"repeat_buyers_{x}d"] / observed.where(observed > 0)
        columns += [f"observed_{x}d", f"repeat_buyers_{x}d", f"repeat_rate_{x}d"]
    int_columns = [c for c in columns if c.startswith(("buyers", "observed", "repeat_buyers"))]
    return table[columns].astype({c: "int64" for c in int_columns})


def days_to_second_purchase(orders: ir.Table, period: Period, months: int = 6) -> pd.DataFrame:
    """``days, buyers, share, cumulative_share``: local days from the first to the second paid
    order of the cohort buyers (:func:`buyer_cohorts`) who have bought a second time."""
    _check_months(months)
    buyers = _cohort_buyers(orders, period, months)
    repeat = buyers.filter(buyers.second_day.notnull())
    table = (
        repeat.group_by(days=repeat.second_day - repeat.first_day)
        .aggregate(buyers=ibis._.count())
        .to_pandas()
        .sort_values("days")
        .reset_index(drop=True)
        .astype("int64")
    )
    total = table["buyers"].sum()
    table["share"] = table["buyers"] / total if total else float("nan")
    table["cumulative_share"] = table["share"].cumsum()
    return table


def days_to_second_quantiles(
    gaps: pd.DataFrame, quantiles: tuple[float, ...] = (0.25, 0.5, 0.75)
) -> pd.DataFrame:
    """``quantile, days``: the first gap (in days) by which that share of repeat buyers had
    bought again, from :func:`days_to_second_purchase`."""
    rows = []
    for q in quantiles:
        reached = gaps.loc[gaps["cumulative_share"] >= q - 1e-12, "days"]
        rows.append({"quantile": q, "days": int(reached.iloc[0]) if len(reached) else None})
    return pd.DataFrame(rows, columns=["quantile", "days"]).astype({"days": "Int64"})
