"""After-sales service (售后服务): returns and refunds, their reasons and speed, and what they say
about carriers, ratings, repurchase and costs.

*Paid orders* are :func:`lib.definitions.paid_orders` (refunded ones included); local days are
calendar days of the period's zone (:class:`lib.periods.Period`); docs/metrics.md, "After-sales",
has every definition.

**Sources.** With the optional ``returns`` table (one row per return request: ``return_id,
order_id, sku_id`` (null: the whole order), ``quantity`` (null: every unit of that line),
``requested_time, refunded_time`` (null: not refunded yet), ``reason, refund_amount``; naive UTC)
a *return* of an order is a request of it. Without it (:func:`returns_from_orders`) a return is a
paid order with status ``refunded``: a whole-order refund of its ``paid_amount``, with no request
or refund time and no reason, so there is no return window, refund speed, backlog, reason Pareto
or cost item (:data:`WITHOUT_RETURNS_TABLE` says so in the notebook).

**Return rate** (:func:`returns_summary`, :func:`returns_overview`): among the paid orders paid in
[start, end], those with a return requested at most ``return_window_days`` (30) local days after
the local day of payment (the same day is day 0; a request dated before payment does not count) ÷
those orders. Per category (every category of the catalogue, so one without paid orders has a
null rate) an order counts in each category it has a line of, and is returned there when a return
touches that category: a line return of one of its SKUs, or a whole-order return (every line).
``returned_units``: a line return's ``quantity`` (null: the line's units), a whole-order
return's every unit. ``refund_amount``: Σ ``refund_amount`` of those returns that were refunded
(``refunded_time`` set, whenever; a missing amount counts 0); a whole-order refund is shared over
the order's lines by line value (quantity × unit_price; equally when they are all 0), as
``paid_amount`` is for the category GMV (:func:`lib.repurchase.order_category_shares`), so
``refund_share_of_gmv = refund_amount / GMV`` of the same lines. SKU rows: the ``top`` (20) SKUs
by refund amount (then returned units) among those returned; ``sku_id`` is empty on category rows.

**Flow over the period** (the returns table only): the requests *requested* on local days of the
period, whatever their order's payment day. :func:`return_reasons`: per reason (null:
``(unknown)``) the requests, their share and, over the reasons ranked by count, the cumulative
share; the amount refunded for them (refunded requests), its share and, over the reasons ranked by
amount, its cumulative share: each Pareto is ranked by its own measure. :func:`refund_speed`: per
local ISO week (Monday) of the request, the hours from request to refund of the requests refunded
by the end of ``end`` (median, 90th percentile, linear interpolation) and those still open then
(a week's late refunds show as open, not as hours); a last row ``all`` (``is_total``) pools the
period. :func:`refund_backlog`: requests still open at the end of ``end`` more than
``refund_sla_hours`` (72) after the request.

**Carriers** (:func:`returns_by_carrier`, needs ``shipments``): the paid orders of the period that
shipped (:func:`lib.supply.fulfilment.shipped_orders`: an order's first parcel gives its carrier),
their return rate per carrier and per delivery band. The fulfilment module's only delivery promise
is ``slow_delivery_days`` (3): an order is *slow* from that many days from payment to door
(:func:`lib.supply.fulfilment.delivery_effect`). So *on time* is under it, *1–2 days late* is
from it to under it + 2, *more than 2 days late* beyond; shipped orders not (fully) delivered are
``not delivered``. Each rate has its 95 % Wilson interval (:func:`lib.stats.proportion_interval`)
and is set against the pooled rate of the other groups of its breakdown (``rest_rate``):
``vs_rest`` is ``above``/``below`` only when the interval excludes it
(:func:`lib.stats.interval_side`), so a small carrier's rate is not over-read.

**Ratings** (:func:`returns_ratings`, needs ``reviews``): reviews carry no order id, so each review
is matched to its author's latest paid order (any time, any period) containing the reviewed SKU and
paid at or before the review (ties: the larger ``order_id``); a period order's rating is the mean
of its matched reviews. (The fulfilment section matches on delivery time instead; a returned order
may never have been delivered, or there may be no ``shipments``, so payment time is used here.)
Returned against not returned orders, and with ``shipments`` slow (``slow_delivery_days`` or
more, payment to door) against faster delivered orders: reviewed orders, the share of their
reviews giving 1…5 stars, the mean of the orders' ratings, and on the first group's row its
difference from the second's with Welch's 95 % interval and two-sided t-test (scipy).

**Repurchase after a refund** (:func:`returns_repurchase`): the buyers of the period's paid orders
whose order was refunded (a refunded return of one of them, requested within the window; without
the returns table an order with status ``refunded``) against those with no return request at all
(buyers with only open requests are in neither group). The clock starts at the buyer's first
refund (without the returns table, the refunded order's payment: no refund time is known), for the
others at their first paid order of the period. Bought again: another paid order paid within
``days`` (90) × 24 h after it; only buyers whose clock started at least ``days`` before the last
payment in the orders count (``observed_buyers``). The refunded group's rate is set against the
other's (:func:`lib.stats.proportion_change`: relative change, 95 % interval, p-value).

**Cost** (:func:`returns_cost`, appended by :func:`lib.costs.cost_ledger` as the goods (G) item
``returns_and_refunds`` when it is given the returns table): per local day of the refund, the
refunds paid less the unit cost of the goods they brought back. Counted once because: revenue
(GMV) is Σ ``paid_amount`` of the paid orders, refunded ones included, so no refund is netted out
before; ``cost_of_goods_sold`` counts every unit sold, so a returned unit that is sold again would
count twice unless its cost is credited when it comes back (the goods that cannot be resold are
the ``costs`` table's ``damage_loss`` rows, which stay); the returns table has no return shipping
cost, and what the shop pays carriers for return legs is already in the ``costs`` table's
``logistics`` rows, so none is added; a ``costs`` row called ``returns_and_refunds`` is dropped
when the item is computed (as a ``platform_commission`` row is for the commission rate).
"""

from __future__ import annotations

import math

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from lib import parameters
from lib.costs import RETURNS_ITEM  # the ledger's item: its name is written once
from lib.definitions import MONEY_DECIMALS, UNKNOWN, last_order_day, paid_orders, paid_orders_in
from lib.periods import Period, epoch_day, to_timestamps
from lib.stats import (
    Proportion,
    interval_side,
    proportion_change,
    proportion_interval,
    proportion_intervals,
)
from lib.supply._shared import (
    ALL,
    DAYS,
    TOTAL_FLAG,
    _catalogue,
    _category_of,
    _percentile,
    latest_order_reviews,
)
from lib.supply.fulfilment import HOURS, SLOW_DELIVERY_DAYS, shipped_orders

# The notebook parameters' declared defaults (lib/parameters.py).
RETURN_WINDOW_DAYS = parameters.default("return_window_days")
REFUND_SLA_HOURS = parameters.default("refund_sla_hours")
# Days after a refund within which buying again counts (issue 21 asks for 90).
REBUY_DAYS = 90
TOP_RETURN_SKUS = 20
STARS = (1, 2, 3, 4, 5)

SUMMARY_COLUMNS = [
    "category",
    "sku_id",
    "orders",
    "returned_orders",
    "return_rate",
    "returned_units",
    "refund_amount",
    "refund_share_of_gmv",
]
OVERVIEW_COLUMNS = [
    "source",
    "orders",
    "returned_orders",
    "return_rate",
    "rate_low",
    "rate_high",
    "refunded_orders",
    "refund_amount",
    "gmv",
    "refund_share_of_gmv",
    "full_window_orders",
]
REASON_COLUMNS = [
    "reason",
    "returns",
    "share",
    "cumulative_share",
    "refund_amount",
    "amount_share",
    "cumulative_amount_share",
]
SPEED_COLUMNS = [
    "week",
    "iso_week",
    "requests",
    "refunded",
    "open_at_end",
    "hours_p50",
    "hours_p90",
    TOTAL_FLAG,
]
BACKLOG_COLUMNS = ["return_id", "order_id", "requested_time", "hours_waiting", "reason"]
CARRIER_COLUMNS = [
    "breakdown",
    "group",
    "orders",
    "returned_orders",
    "return_rate",
    "rate_low",
    "rate_high",
    "rest_rate",
    "vs_rest",
]
RATING_COLUMNS = [
    "comparison",
    "group",
    "orders",
    "reviewed_orders",
    "reviews",
    "mean_rating",
    *[f"share_{star}" for star in STARS],
    "difference",
    "difference_low",
    "difference_high",
    "p_value",
]
REPURCHASE_COLUMNS = [
    "group",
    "buyers",
    "observed_buyers",
    "repurchased_buyers",
    "repurchase_rate",
    "rate_low",
    "rate_high",
    "change",
    "change_low",
    "change_high",
    "p_value",
]
COST_COLUMNS = ["date", "returns", "refunds", "returned_goods_cost", "amount"]

RETURNS_TABLE, REFUNDED_ORDERS = "returns table", "refunded orders (no returns table)"
REFUNDED, NOT_RETURNED = "refunded", "not returned"
RETURNED = "returned"
NOT_DELIVERED = "not delivered"

WITHOUT_RETURNS_TABLE = (
    "No returns table: returns are the paid orders with status refunded, each a whole-order "
    "refund of its paid amount, and the repurchase clock starts at their payment. A returns "
    "table (return_id, order_id, sku_id, quantity, requested_time, refunded_time, reason, "
    "refund_amount) would add the return window, partial returns of single lines, the reasons, "
    "refund speed and the after-sales backlog, the real refund time, and the cost item "
    "returns_and_refunds in the ROPG goods component."
)


# --------------------------------------------------------------------------------------------
# What every table is built from


def _times(values: pd.Series) -> pd.Series:
    """Timestamps as engines return them, as naive ``datetime64[us]`` (UTC)."""
    return pd.to_datetime(values).astype("datetime64[us]")


def _paid(orders: ir.Table, period: Period) -> pd.DataFrame:
    """The paid orders paid in the period: ``order_id, user_id, status, paid_time, paid_amount,
    day`` (local epoch day of payment), by ``order_id``."""
    paid = paid_orders_in(orders, period)
    frame = paid.select("order_id", "user_id", "status", "paid_time", "paid_amount", "day")
    frame = frame.to_pandas()
    frame["paid_time"] = _times(frame["paid_time"])
    frame["paid_amount"] = frame["paid_amount"].astype("float64")
    frame["day"] = frame["day"].astype("int64")
    return frame.sort_values("order_id", kind="stable").reset_index(drop=True)


# the returns' columns the after-sales tables read, typed by _typed_returns
RETURN_FIELDS = (
    "return_id",
    "order_id",
    "sku_id",
    "quantity",
    "requested_time",
    "refunded_time",
    "reason",
    "refund_amount",
)


def _window_returns(
    orders: ir.Table, returns: ir.Table, period: Period, return_window_days: int
) -> pd.DataFrame:
    """The return requests of the period's paid orders made within the window (local days)."""
    paid = paid_orders_in(orders, period).select("order_id", paid_day="day")
    joined = returns.join(paid, "order_id")
    lag = period.local_day(joined.requested_time) - joined.paid_day
    inside = joined.filter(lag >= 0, lag <= return_window_days)
    frame = inside.select(*RETURN_FIELDS).to_pandas()
    return _typed_returns(frame)


def _typed_returns(frame: pd.DataFrame) -> pd.DataFrame:
    frame["requested_time"] = _times(frame["requested_time"])
    frame["refunded_time"] = _times(frame["refunded_time"])
    frame["quantity"] = pd.to_numeric(frame["quantity"]).astype("float64")
    frame["refund_amount"] = pd.to_numeric(frame["refund_amount"]).astype("float64")
    # money actually paid back: a refunded request's amount (missing: 0), nothing while open
    refunded = frame["refunded_time"].notna()
    frame["refund"] = frame["refund_amount"].fillna(0.0).where(refunded, 0.0)
    return frame.sort_values(["order_id", "return_id"], kind="stable").reset_index(drop=True)


def _lines(
    orders: ir.Table, order_items: ir.Table, products: ir.Table, period: Period
) -> pd.DataFrame:
    """One row per SKU of each paid order of the period: ``order_id, sku_id, category, quantity,
    gmv`` (its part of ``paid_amount`` by line value, equal parts when the lines are worth 0)."""
    paid = paid_orders_in(orders, period).select("order_id", "paid_amount")
    items = order_items.select("order_id", "sku_id", "quantity", "unit_price")
    lines = paid.join(items, "order_id")
    per_sku = lines.group_by(["order_id", "sku_id"]).aggregate(
        paid_amount=lines.paid_amount.max(),
        quantity=lines.quantity.sum(),
        value=(lines.quantity * lines.unit_price).sum(),
    )
    frame = per_sku.to_pandas().sort_values(["order_id", "sku_id"], kind="stable")
    frame = frame.reset_index(drop=True)
    frame["quantity"] = frame["quantity"].astype("float64")
    frame["value"] = frame["value"].astype("float64").fillna(0.0)
    whole = frame.groupby("order_id")["value"].transform("sum")
    count = frame.groupby("order_id")["value"].transform("size")
    frame["share"] = (frame["value"] / whole.where(whole > 0)).fillna(1.0 / count)
    frame["gmv"] = frame["paid_amount"].astype("float64") * frame["share"]
    frame["category"] = _category_of(frame["sku_id"], _catalogue(products)).to_numpy()
    return frame[["order_id", "sku_id", "category", "quantity", "share", "gmv"]]


def _pieces(lines: pd.DataFrame, requests: pd.DataFrame, catalogue: pd.DataFrame) -> pd.DataFrame:
    """Each request spread over the order's SKUs it touches: ``order_id, sku_id, category, units,
    refund``. A whole-order request takes every line (its refund shared by line value); a line
    request its SKU (``quantity`` null: the line's units)."""
    whole = requests[requests["sku_id"].isna()][["order_id", "refund"]]
    whole = whole.merge(lines, on="order_id")
    whole = whole.assign(units=whole["quantity"], refund=whole["refund"] * whole["share"])
    part = requests[requests["sku_id"].notna()][["order_id", "sku_id", "quantity", "refund"]]
    part = part.merge(
        lines[["order_id", "sku_id", "quantity"]].rename(columns={"quantity": "line_units"}),
        on=["order_id", "sku_id"],
        how="left",
    )
    part["units"] = part["quantity"].fillna(part["line_units"]).fillna(0.0)
    part["category"] = _category_of(part["sku_id"], catalogue).to_numpy()
    columns = ["order_id", "sku_id", "category", "units", "refund"]
    return pd.concat([whole[columns], part[columns]], ignore_index=True)


def _rate(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.nan


def _summary_rows(lines: pd.DataFrame, pieces: pd.DataFrame, key: str, keys: list) -> pd.DataFrame:
    """The summary's measures per value of ``key`` (``category`` or ``sku_id``) for ``keys``."""
    orders = lines.groupby(key)["order_id"].nunique()
    gmv = lines.groupby(key)["gmv"].sum()
    # an order is returned in a category (SKU) it has a line of and a return touches
    touched = pieces[[key, "order_id"]].merge(lines[[key, "order_id"]].drop_duplicates())
    returned = touched.groupby(key)["order_id"].nunique()
    units = pieces.groupby(key)["units"].sum()
    refund = pieces.groupby(key)["refund"].sum()
    table = pd.DataFrame({key: keys})
    table["orders"] = table[key].map(orders).fillna(0).astype("int64")
    table["returned_orders"] = table[key].map(returned).fillna(0).astype("int64")
    table["return_rate"] = table["returned_orders"] / table["orders"].where(table["orders"] > 0)
    table["returned_units"] = table[key].map(units).fillna(0.0).round().astype("int64")
    table["refund_amount"] = table[key].map(refund).fillna(0.0).round(MONEY_DECIMALS)
    category_gmv = table[key].map(gmv).fillna(0.0)
    table["refund_share_of_gmv"] = table["refund_amount"] / category_gmv.where(category_gmv > 0)
    return table


def _summary(
    lines: pd.DataFrame, pieces: pd.DataFrame, catalogue: pd.DataFrame, top: int
) -> pd.DataFrame:
    categories = sorted(
        set(catalogue["category"]) | set(lines["category"]) | set(pieces["category"])
    )
    by_category = _summary_rows(lines, pieces, "category", categories)
    by_category = by_category.sort_values(
        ["refund_amount", "returned_orders", "category"], ascending=[False, False, True]
    )
    by_category.insert(1, "sku_id", "")
    skus = sorted(set(pieces["sku_id"]), key=str)
    by_sku = _summary_rows(lines, pieces, "sku_id", skus)
    by_sku = by_sku[(by_sku["returned_units"] > 0) | (by_sku["refund_amount"] > 0)]
    by_sku = by_sku.assign(_key=by_sku["sku_id"].astype(str))
    by_sku = by_sku.sort_values(
        ["refund_amount", "returned_units", "_key"], ascending=[False, False, True]
    ).head(top)
    by_sku.insert(0, "category", _category_of(by_sku["sku_id"], catalogue).to_numpy())
    table = pd.concat([by_category, by_sku.drop(columns="_key")], ignore_index=True)
    table["sku_id"] = table["sku_id"].astype(object)
    return table[SUMMARY_COLUMNS]


def _refunded_order_requests(paid: pd.DataFrame) -> pd.DataFrame:
    """The fallback's requests: each refunded paid order, refunded whole for its paid amount."""
    refunded = paid[paid["status"] == "refunded"]
    return pd.DataFrame(
        {
            "order_id": refunded["order_id"].to_numpy(),
            "sku_id": None,
            "quantity": math.nan,
            "refund": refunded["paid_amount"].to_numpy(dtype="float64"),
        }
    )


# --------------------------------------------------------------------------------------------
# Return rates


def returns_from_orders(
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    period: Period,
    top: int = TOP_RETURN_SKUS,
) -> pd.DataFrame:
    """:func:`returns_summary` without a returns table: every paid order of the period with status
    ``refunded`` is a whole-order return, refunded for its ``paid_amount`` (no window: no request
    time is known). Same columns."""
    paid = _paid(orders, period)
    lines = _lines(orders, order_items, products, period)
    catalogue = _catalogue(products)
    pieces = _pieces(lines, _refunded_order_requests(paid), catalogue)
    return _summary(lines, pieces, catalogue, top)


def returns_summary(
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    period: Period,
    returns: ir.Table | None = None,
    return_window_days: int = RETURN_WINDOW_DAYS,
    top: int = TOP_RETURN_SKUS,
) -> pd.DataFrame:
    """:data:`SUMMARY_COLUMNS` per category of the catalogue (by refund amount, then returned
    orders; ``sku_id`` empty) and for the ``top`` SKUs by refund amount (module docstring).
    Without ``returns`` it is :func:`returns_from_orders`."""
    parameters.check("return_window_days", return_window_days)
    if returns is None:
        return returns_from_orders(orders, order_items, products, period, top)
    lines = _lines(orders, order_items, products, period)
    catalogue = _catalogue(products)
    requests = _window_returns(orders, returns, period, return_window_days)
    return _summary(lines, _pieces(lines, requests, catalogue), catalogue, top)


def order_returns(
    orders: ir.Table,
    period: Period,
    returns: ir.Table | None = None,
    return_window_days: int = RETURN_WINDOW_DAYS,
) -> pd.DataFrame:
    """Per paid order of the period: ``order_id, user_id, paid_time, day`` (local day of
    payment), ``paid_amount, returned`` (a
    request within the window; without ``returns``, status ``refunded``), ``requested_time``
    (its first such request), ``refunded`` (one of them refunded; without ``returns`` as
    ``returned``), ``refunded_time`` (the first refund; null without ``returns``) and
    ``refund`` (Σ refunded amounts; the paid amount without ``returns``)."""
    parameters.check("return_window_days", return_window_days)
    paid = _paid(orders, period)
    table = paid[["order_id", "user_id", "paid_time", "day", "paid_amount"]].copy()
    if returns is None:
        refunded = (paid["status"] == "refunded").to_numpy()
        table["returned"] = refunded
        table["requested_time"] = pd.Series(pd.NaT, index=table.index, dtype="datetime64[us]")
        table["refunded"] = refunded
        table["refunded_time"] = table["requested_time"]
        table["refund"] = table["paid_amount"].where(refunded, 0.0)
        return table
    requests = _window_returns(orders, returns, period, return_window_days)
    per_order = requests.groupby("order_id", as_index=False).agg(
        requested_time=("requested_time", "min"),
        refunded_time=("refunded_time", "min"),
        refund=("refund", "sum"),
    )
    table = table.merge(per_order, on="order_id", how="left")
    for column in ("requested_time", "refunded_time"):
        table[column] = pd.to_datetime(table[column]).astype("datetime64[us]")
    table["returned"] = table["requested_time"].notna()
    table["refunded"] = table["refunded_time"].notna()
    table["refund"] = table["refund"].astype("float64").fillna(0.0)
    return table[
        [
            "order_id",
            "user_id",
            "paid_time",
            "day",
            "paid_amount",
            "returned",
            "requested_time",
            "refunded",
            "refunded_time",
            "refund",
        ]
    ]


def returns_overview(
    orders: ir.Table,
    period: Period,
    returns: ir.Table | None = None,
    return_window_days: int = RETURN_WINDOW_DAYS,
) -> pd.DataFrame:
    """One row: :data:`OVERVIEW_COLUMNS`. ``source`` says where returns came from;
    ``return_rate`` with its Wilson interval; ``refunded_orders`` and ``refund_amount`` (Σ
    refunds) against ``gmv`` (Σ paid amount); ``full_window_orders``: the orders whose window
    ended by the last local day in the orders (the others may still be returned, so the rate is
    a floor; with no returns table every refunded order counts, whenever refunded)."""
    table = order_returns(orders, period, returns, return_window_days)
    orders_n, returned = len(table), int(table["returned"].sum())
    low, high = proportion_interval(returned, orders_n)
    refund = round(float(table["refund"].sum()), MONEY_DECIMALS)
    gmv = round(float(table["paid_amount"].sum()), MONEY_DECIMALS)
    horizon = last_order_day(orders, period) if orders_n else 0
    full = int((table["day"] + return_window_days <= horizon).sum())
    row = {
        "source": RETURNS_TABLE if returns is not None else REFUNDED_ORDERS,
        "orders": orders_n,
        "returned_orders": returned,
        "return_rate": _rate(returned, orders_n),
        "rate_low": low,
        "rate_high": high,
        "refunded_orders": int(table["refunded"].sum()),
        "refund_amount": refund,
        "gmv": gmv,
        "refund_share_of_gmv": _rate(refund, gmv),
        "full_window_orders": full,
    }
    return pd.DataFrame([row], columns=OVERVIEW_COLUMNS)


# --------------------------------------------------------------------------------------------
# Reasons, refund speed and the backlog (the returns table only)


def _requested_in(returns: ir.Table, period: Period) -> pd.DataFrame:
    """The requests made on local days of the period, with their local ``day``."""
    lo, hi = period.utc_bounds()
    inside = returns.filter(
        returns.requested_time >= ibis.literal(lo, "timestamp"),
        returns.requested_time < ibis.literal(hi, "timestamp"),
    )
    inside = inside.mutate(day=period.local_day(inside.requested_time))
    # the optional status: a request turned down is closed, not open (null: not known)
    status = inside.status if "status" in inside.columns else ibis.null("string")
    frame = inside.select(*RETURN_FIELDS, "day", status=status.cast("string")).to_pandas()
    frame["day"] = frame["day"].astype("int64")
    frame["rejected"] = frame["status"].eq("rejected").fillna(False).astype(bool)
    return _typed_returns(frame)


def return_reasons(returns: ir.Table, period: Period) -> pd.DataFrame:
    """Per reason of the requests of the period (null: ``(unknown)``): :data:`REASON_COLUMNS`,
    by requests (then reason). ``cumulative_share`` runs over the reasons ranked by requests,
    ``cumulative_amount_share`` over them ranked by refunded amount (module docstring)."""
    frame = _requested_in(returns, period)
    frame["reason"] = frame["reason"].fillna(UNKNOWN).astype(str)
    table = frame.groupby("reason", as_index=False).agg(
        returns=("return_id", "size"), refund_amount=("refund", "sum")
    )
    table["refund_amount"] = table["refund_amount"].round(MONEY_DECIMALS)
    total, amount = table["returns"].sum(), table["refund_amount"].sum()
    table["share"] = table["returns"] / total if total else math.nan
    table["amount_share"] = table["refund_amount"] / amount if amount > 0 else math.nan
    by_amount = table.sort_values(["refund_amount", "reason"], ascending=[False, True])
    table["cumulative_amount_share"] = by_amount["amount_share"].cumsum().reindex(table.index)
    table = table.sort_values(["returns", "reason"], ascending=[False, True])
    table["cumulative_share"] = table["share"].cumsum()
    return table[REASON_COLUMNS].reset_index(drop=True)


def _speed_row(part: pd.DataFrame, cutoff: pd.Timestamp) -> dict:
    done = part["refunded_time"].notna() & (part["refunded_time"] < cutoff)
    hours = (part.loc[done, "refunded_time"] - part.loc[done, "requested_time"]) / HOURS
    rejected = part["rejected"] & ~done
    return {
        "requests": len(part),
        "refunded": int(done.sum()),
        "open_at_end": int((~done & ~rejected).sum()),
        "hours_p50": _percentile(hours, 50),
        "hours_p90": _percentile(hours, 90),
    }


def refund_speed(returns: ir.Table, period: Period) -> pd.DataFrame:
    """Per local ISO week (``week``: its Monday; ``iso_week``: ``YYYY-Www``) with a day in the
    period, over the requests made on its days of the period: ``requests``, ``refunded`` (by the
    end of ``end``), ``open_at_end`` (neither refunded nor turned down), ``hours_p50``,
    ``hours_p90`` (request to refund, refunded ones), then the row ``all`` (``is_total``) over
    the period."""
    frame = _requested_in(returns, period)
    cutoff = pd.Timestamp(period.utc_bounds()[1])
    frame["week_day"] = frame["day"] - (frame["day"] + 3) % 7  # Monday (1970-01-01: Thursday)
    first = period.start_day - (period.start_day + 3) % 7
    mondays = list(range(first, period.end_day + 1, 7))
    rows = []
    for monday in mondays:
        row = _speed_row(frame[frame["week_day"] == monday], cutoff)
        week = to_timestamps([monday]).iloc[0]
        year, number, _ = week.isocalendar()
        rows.append({"week": week, "iso_week": f"{year}-W{number:02d}", **row, TOTAL_FLAG: False})
    rows.append({"week": pd.NaT, "iso_week": ALL, **_speed_row(frame, cutoff), TOTAL_FLAG: True})
    table = pd.DataFrame(rows)
    table["week"] = pd.to_datetime(table["week"]).astype("datetime64[ns]")
    return table[SPEED_COLUMNS]


def refund_backlog(
    returns: ir.Table, period: Period, refund_sla_hours: float = REFUND_SLA_HOURS
) -> pd.DataFrame:
    """The requests of the period still not refunded at the end of ``end`` more than
    ``refund_sla_hours`` after the request (exactly at it is not late yet), leaving out those
    the optional ``status`` says were ``rejected`` (a refusal has no time: it is taken as made
    before the end of ``end``): ``return_id,
    order_id, requested_time, hours_waiting`` (at the end of ``end``), ``reason``; oldest
    first."""
    parameters.check("refund_sla_hours", refund_sla_hours)
    frame = _requested_in(returns, period)
    cutoff = pd.Timestamp(period.utc_bounds()[1])
    not_refunded = frame["refunded_time"].isna() | (frame["refunded_time"] >= cutoff)
    # a request turned down (returns.status) waits for nothing; without a status, every request
    # not refunded counts as open
    frame = frame[not_refunded & ~frame["rejected"]].copy()
    frame["hours_waiting"] = (cutoff - frame["requested_time"]) / HOURS
    late = frame[frame["hours_waiting"] > refund_sla_hours]
    late = late.sort_values(["requested_time", "return_id"], kind="stable")
    return late[BACKLOG_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Carriers and delivery delay


def delay_bands(slow_delivery_days: float = SLOW_DELIVERY_DAYS) -> tuple[str, ...]:
    """The delivery bands' labels, earliest first, then ``not delivered``."""
    late = slow_delivery_days + 2
    return (
        f"on time (under {slow_delivery_days:g} days)",
        f"1–2 days late ({slow_delivery_days:g} to under {late:g} days)",
        f"more than 2 days late ({late:g}+ days)",
        NOT_DELIVERED,
    )


def delay_band(
    days_to_door: pd.Series, slow_delivery_days: float = SLOW_DELIVERY_DAYS
) -> pd.Series:
    """Each order's band of :func:`delay_bands` from its payment-to-door days (NaN: not
    delivered); late is measured from the fulfilment module's ``slow_delivery_days``."""
    labels = delay_bands(slow_delivery_days)
    days = pd.Series(days_to_door, dtype="float64")
    band = np.select(
        [days.isna(), days < slow_delivery_days, days < slow_delivery_days + 2],
        [labels[3], labels[0], labels[1]],
        default=labels[2],
    )
    return pd.Series(band, index=days.index, dtype=object)


def _rate_rows(frame: pd.DataFrame, breakdown: str, groups: list) -> list[dict]:
    total, returned_total = len(frame), int(frame["returned"].sum())
    rows = []
    for group in groups:
        part = frame[frame["key"] == group]
        n, k = len(part), int(part["returned"].sum())
        rows.append(
            {
                "breakdown": breakdown,
                "group": str(group),
                "orders": n,
                "returned_orders": k,
                "return_rate": _rate(k, n),
                "rest_rate": _rate(returned_total - k, total - n),
            }
        )
    return rows


def returns_by_carrier(
    orders: ir.Table,
    shipments: ir.Table,
    period: Period,
    returns: ir.Table | None = None,
    return_window_days: int = RETURN_WINDOW_DAYS,
    slow_delivery_days: float = SLOW_DELIVERY_DAYS,
) -> pd.DataFrame:
    """:data:`CARRIER_COLUMNS`: the return rate of the period's shipped paid orders per carrier
    (``breakdown`` ``carrier``, sorted) and per delivery band (``delivery``, earliest first;
    empty bands left out), each with its Wilson interval, the pooled rate of the breakdown's
    other groups and where the interval lies against it (module docstring)."""
    parameters.check("slow_delivery_days", slow_delivery_days)
    shipped = shipped_orders(orders, shipments, period)
    flags = order_returns(orders, period, returns, return_window_days)[["order_id", "returned"]]
    frame = shipped.merge(flags, on="order_id", how="left")
    frame["returned"] = frame["returned"].eq(True)
    days_to_door = (frame["delivered_time"] - frame["paid_time"]) / DAYS
    carriers = frame.assign(key=frame["carrier"].astype(str))
    rows = _rate_rows(carriers, "carrier", sorted(carriers["key"].unique()))
    banded = frame.assign(key=delay_band(days_to_door, slow_delivery_days).to_numpy())
    present = set(banded["key"])
    bands = [band for band in delay_bands(slow_delivery_days) if band in present]
    rows += _rate_rows(banded, "delivery", bands)
    measured = ["breakdown", "group", "orders", "returned_orders", "return_rate", "rest_rate"]
    table = pd.DataFrame(rows, columns=measured)
    low, high = proportion_intervals(table["returned_orders"], table["orders"])
    table["rate_low"], table["rate_high"] = low, high
    table["vs_rest"] = interval_side(low, high, table["rest_rate"].to_numpy(dtype="float64"))
    return table[CARRIER_COLUMNS]


# --------------------------------------------------------------------------------------------
# Ratings


def matched_reviews(
    orders: ir.Table, order_items: ir.Table, reviews: ir.Table, period: Period
) -> pd.DataFrame:
    """``order_id, rating``: each review matched to a paid order of the period by the module's
    rule (its author's latest paid order containing the SKU paid at or before it), one row per
    review; reviews matched to orders outside the period are left out."""
    period_orders = paid_orders_in(orders, period).select("order_id", "user_id")
    buyers = period_orders.select("user_id").distinct()
    paid = paid_orders(orders).select("order_id", "user_id", "paid_time")
    paid = paid.semi_join(buyers, paid.user_id == buyers.user_id)
    rated = latest_order_reviews(paid, order_items, reviews, buyers, "paid_time")
    rated = rated.semi_join(period_orders, rated.order_id == period_orders.order_id)
    frame = rated.select("order_id", "rating").to_pandas()
    frame["rating"] = frame["rating"].astype("float64")
    return frame.sort_values(["order_id", "rating"], kind="stable").reset_index(drop=True)


def _rating_rows(
    comparison: str, groups: list[tuple[str, pd.Series]], ratings: pd.DataFrame
) -> list[dict]:
    """Two rows: each group's reviews and order ratings, the first set against the second."""
    rows, means = [], []
    for group, order_ids in groups:
        reviews = ratings[ratings["order_id"].isin(set(order_ids))]
        per_order = reviews.groupby("order_id")["rating"].mean()
        means.append(per_order.to_numpy(dtype="float64"))
        row = {
            "comparison": comparison,
            "group": group,
            "orders": len(order_ids),
            "reviewed_orders": len(per_order),
            "reviews": len(reviews),
            "mean_rating": float(per_order.mean()) if len(per_order) else math.nan,
        }
        for star in STARS:
            row[f"share_{star}"] = (
                float((reviews["rating"] == star).mean()) if len(reviews) else math.nan
            )
        row.update(difference=math.nan, difference_low=math.nan, difference_high=math.nan)
        row["p_value"] = math.nan
        rows.append(row)
    first, second = means
    rows[0]["difference"] = rows[0]["mean_rating"] - rows[1]["mean_rating"]
    if len(first) >= 2 and len(second) >= 2 and (first.var() > 0 or second.var() > 0):
        test = scipy_stats.ttest_ind(first, second, equal_var=False)
        interval = test.confidence_interval(0.95)
        rows[0]["difference_low"] = float(interval.low)
        rows[0]["difference_high"] = float(interval.high)
        rows[0]["p_value"] = float(test.pvalue)
    return rows


def returns_ratings(
    orders: ir.Table,
    order_items: ir.Table,
    reviews: ir.Table,
    period: Period,
    returns: ir.Table | None = None,
    shipments: ir.Table | None = None,
    return_window_days: int = RETURN_WINDOW_DAYS,
    slow_delivery_days: float = SLOW_DELIVERY_DAYS,
) -> pd.DataFrame:
    """:data:`RATING_COLUMNS`: comparison ``returns`` (``returned`` against ``not returned``)
    and, with ``shipments``, ``delivery`` (``slow``: ``slow_delivery_days`` or more from payment
    to door, against ``on time``), two rows each; the difference, its Welch interval and
    p-value on the first row (module docstring)."""
    parameters.check("slow_delivery_days", slow_delivery_days)
    ratings = matched_reviews(orders, order_items, reviews, period)
    flags = order_returns(orders, period, returns, return_window_days)
    returned = flags["returned"].to_numpy(dtype=bool)
    rows = _rating_rows(
        "returns",
        [(RETURNED, flags["order_id"][returned]), (NOT_RETURNED, flags["order_id"][~returned])],
        ratings,
    )
    if shipments is not None:
        shipped = shipped_orders(orders, shipments, period)
        shipped = shipped[shipped["delivered_time"].notna()]
        days = (shipped["delivered_time"] - shipped["paid_time"]) / DAYS
        slow = (days >= slow_delivery_days).to_numpy(dtype=bool)
        rows += _rating_rows(
            "delivery",
            [("slow", shipped["order_id"][slow]), ("on time", shipped["order_id"][~slow])],
            ratings,
        )
    return pd.DataFrame(rows, columns=RATING_COLUMNS)


# --------------------------------------------------------------------------------------------
# Repurchase after a refund


def returns_repurchase(
    orders: ir.Table,
    period: Period,
    returns: ir.Table | None = None,
    return_window_days: int = RETURN_WINDOW_DAYS,
    days: int = REBUY_DAYS,
) -> pd.DataFrame:
    """:data:`REPURCHASE_COLUMNS` for the buyers ``refunded`` and ``not returned`` (module
    docstring): the share of observed buyers who paid again within ``days`` of their clock's
    start, its Wilson interval, and on the ``refunded`` row its relative change against the
    other group's (interval and p-value)."""
    parameters.check("repurchase_days", days, "days")
    flags = order_returns(orders, period, returns, return_window_days)
    # the refunded buyers' clock starts at their first refund (its payment without a returns
    # table); the others' at their first paid order of the period
    start = flags["refunded_time"].where(flags["refunded_time"].notna(), flags["paid_time"])
    flags = flags.assign(start=start)
    refunded = flags[flags["refunded"]].sort_values(["start", "order_id"], kind="stable")
    refunded = refunded.groupby("user_id", as_index=False).first()
    asked = set(flags.loc[flags["returned"], "user_id"])
    others = flags[~flags["user_id"].isin(asked)].sort_values(["paid_time", "order_id"])
    others = others.groupby("user_id", as_index=False).first()
    paid = paid_orders(orders)
    buyers = paid_orders_in(orders, period).select("user_id").distinct()
    later = paid.filter(paid.paid_time >= ibis.literal(period.utc_bounds()[0], "timestamp"))
    later = later.semi_join(buyers, later.user_id == buyers.user_id)
    later = later.select("order_id", "user_id", "paid_time").to_pandas()
    later["paid_time"] = _times(later["paid_time"])
    last_paid = pd.Timestamp(paid.paid_time.max().to_pandas())
    horizon = pd.Timedelta(days=days)
    rows, counts = [], []
    for group, frame in ((REFUNDED, refunded), (NOT_RETURNED, others)):
        observed = frame[frame["start"] + horizon <= last_paid]
        pairs = observed[["user_id", "order_id", "start"]].merge(
            later.rename(columns={"order_id": "other", "paid_time": "again"}), on="user_id"
        )
        again = pairs[
            (pairs["other"] != pairs["order_id"])
            & (pairs["again"] > pairs["start"])
            & (pairs["again"] <= pairs["start"] + horizon)
        ]
        k, n = int(again["user_id"].nunique()), len(observed)
        low, high = proportion_interval(k, n)
        counts.append(Proportion(k, n))
        rows.append(
            {
                "group": group,
                "buyers": len(frame),
                "observed_buyers": n,
                "repurchased_buyers": k,
                "repurchase_rate": _rate(k, n),
                "rate_low": low,
                "rate_high": high,
                "change": math.nan,
                "change_low": math.nan,
                "change_high": math.nan,
                "p_value": math.nan,
            }
        )
    change = proportion_change(counts[0], counts[1])
    rows[0].update(
        change=change.change,
        change_low=change.low,
        change_high=change.high,
        p_value=change.p_value,
    )
    return pd.DataFrame(rows, columns=REPURCHASE_COLUMNS)


# --------------------------------------------------------------------------------------------
# Cost


def returns_cost(
    returns: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    period: Period,
) -> pd.DataFrame:
    """Per local day of the period with a refund: ``date, returns`` (refunded requests),
    ``refunds`` (Σ ``refund_amount``), ``returned_goods_cost`` (units they brought back ×
    ``unit_cost``, 0 without one, as for ``cost_of_goods_sold``) and ``amount = refunds −
    returned_goods_cost``, the cost item ``returns_and_refunds`` (module docstring: why this
    counts nothing twice). A refund counts on its own day, whenever its order was paid."""
    lo, hi = period.utc_bounds()
    done = returns.filter(
        returns.refunded_time >= ibis.literal(lo, "timestamp"),
        returns.refunded_time < ibis.literal(hi, "timestamp"),
    )
    done = done.mutate(day=period.local_day(done.refunded_time))
    frame = done.select("return_id", "order_id", "sku_id", "quantity", "refund_amount", "day")
    frame = frame.to_pandas()
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in COST_COLUMNS}).astype(
            {"date": "datetime64[ns]", "returns": "int64"}
        )
    ids = done.select("order_id").distinct()
    items = order_items.semi_join(ids, order_items.order_id == ids.order_id)
    items = items.group_by(["order_id", "sku_id"]).aggregate(line_units=items.quantity.sum())
    lines = items.to_pandas()
    unit_cost = _catalogue(products)["unit_cost"].astype("float64").fillna(0.0)
    lines["line_units"] = lines["line_units"].astype("float64")
    lines["cost"] = lines["line_units"] * lines["sku_id"].map(unit_cost).fillna(0.0).to_numpy()
    frame["quantity"] = pd.to_numeric(frame["quantity"]).astype("float64")
    whole = frame[frame["sku_id"].isna()][["return_id", "order_id"]]
    whole = whole.merge(lines.groupby("order_id", as_index=False)["cost"].sum(), how="left")
    part = frame[frame["sku_id"].notna()][["return_id", "order_id", "sku_id", "quantity"]]
    part = part.merge(lines, on=["order_id", "sku_id"], how="left")
    units = part["quantity"].fillna(part["line_units"]).fillna(0.0)
    part["cost"] = units * part["sku_id"].map(unit_cost).fillna(0.0).to_numpy()
    goods = pd.concat([whole[["return_id", "cost"]], part[["return_id", "cost"]]])
    frame["goods"] = frame["return_id"].map(goods.groupby("return_id")["cost"].sum()).fillna(0.0)
    frame["refund"] = pd.to_numeric(frame["refund_amount"]).astype("float64").fillna(0.0)
    table = frame.groupby("day", as_index=False).agg(
        returns=("return_id", "size"),
        refunds=("refund", "sum"),
        returned_goods_cost=("goods", "sum"),
    )
    table = table.sort_values("day")
    table["refunds"] = table["refunds"].round(MONEY_DECIMALS)
    table["returned_goods_cost"] = table["returned_goods_cost"].round(MONEY_DECIMALS)
    table["amount"] = (table["refunds"] - table["returned_goods_cost"]).round(MONEY_DECIMALS)
    table.insert(0, "date", to_timestamps(table.pop("day").astype("int64")).to_numpy())
    return table[COST_COLUMNS].astype({"returns": "int64"}).reset_index(drop=True)


def cost_ledger_rows(cost: pd.DataFrame) -> pd.DataFrame:
    """:func:`returns_cost` as pieces of :func:`lib.costs.cost_ledger` (``day`` epoch days)."""
    return pd.DataFrame(
        {
            "day": [epoch_day(pd.Timestamp(d).date()) for d in cost["date"]],
            "component": "goods",
            "item": RETURNS_ITEM,
            "amount": cost["amount"].astype("float64").to_numpy(),
            "source": "returns",
        }
    )


# --------------------------------------------------------------------------------------------
# Sentences from the tables


def returns_note(overview: pd.DataFrame, return_window_days: int) -> str:
    """The period's return rate, with its interval, refunds against GMV, and how many orders
    had their whole window by the data's end, from :func:`returns_overview`."""
    row = overview.iloc[0]
    if row["orders"] == 0:
        return "No paid order in the period: no return rate."
    rate = (
        f"{row['return_rate']:.1%} of the {int(row['orders']):,} paid orders "
        f"(95 % interval {row['rate_low']:.1%}–{row['rate_high']:.1%})"
    )
    money = (
        f"refunds {row['refund_amount']:,.2f}, {row['refund_share_of_gmv']:.1%} of their GMV"
        if row["gmv"] > 0
        else "no GMV to set refunds against"
    )
    if row["source"] == REFUNDED_ORDERS:
        return f"Refunded whole (status refunded): {rate}; {money}."
    text = (
        f"Returned within {return_window_days} days of payment: {rate}; "
        f"{int(row['refunded_orders']):,} refunded so far, {money}."
    )
    waiting = int(row["orders"]) - int(row["full_window_orders"])
    if waiting:
        text += (
            f" {waiting:,} of the orders were paid less than {return_window_days} days before the "
            "data ends and may still be returned: the rate is a floor."
        )
    return text


def carrier_note(by_carrier: pd.DataFrame) -> str:
    """The carrier and the delivery band with the highest return rate, named only when its
    interval lies above the rate of the others (:func:`returns_by_carrier`); else that none
    stands out."""
    parts = []
    for breakdown, what in (("carrier", "carrier"), ("delivery", "delivery band")):
        rows = by_carrier[(by_carrier["breakdown"] == breakdown) & (by_carrier["orders"] > 0)]
        if len(rows) < 2:
            parts.append(f"too few {what}s to compare")
            continue
        top = rows.sort_values(["return_rate", "group"], ascending=[False, True]).iloc[0]
        if top["vs_rest"] == "above":
            parts.append(
                f"the {what} {top['group']} is returned most, {top['return_rate']:.1%} "
                f"({top['rate_low']:.1%}–{top['rate_high']:.1%}, n = {int(top['orders']):,}) "
                f"against {top['rest_rate']:.1%} for the others"
            )
        else:
            parts.append(
                f"no {what} stands out: the highest, {top['group']} at {top['return_rate']:.1%} "
                f"(n = {int(top['orders']):,}), has an interval "
                f"({top['rate_low']:.1%}–{top['rate_high']:.1%}) that includes the others' "
                f"{top['rest_rate']:.1%}"
            )
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def refund_speed_note(speed: pd.DataFrame, backlog: pd.DataFrame, refund_sla_hours: float) -> str:
    """Median and 90th percentile of request-to-refund hours over the period, the requests open
    at its end and those open longer than ``refund_sla_hours`` (the backlog)."""
    row = speed[speed[TOTAL_FLAG].astype(bool)].iloc[0]
    if row["requests"] == 0:
        return "No return was requested in the period: no refund speed."
    if row["refunded"] == 0:
        speed_text = f"none of the {int(row['requests']):,} requests of the period was refunded"
    else:
        speed_text = (
            f"{int(row['refunded']):,} of {int(row['requests']):,} requests of the period were "
            f"refunded, in a median {row['hours_p50']:.0f} h (90th percentile "
            f"{row['hours_p90']:.0f} h)"
        )
    return (
        f"{speed_text[:1].upper()}{speed_text[1:]}; {int(row['open_at_end']):,} were open at "
        f"the end of the period, {len(backlog):,} of them for more than {refund_sla_hours:g} h "
        "(the after-sales backlog)."
    )


def ratings_note(ratings: pd.DataFrame) -> str:
    """Each comparison of :func:`returns_ratings` in words: the mean ratings, the difference's
    interval and whether it is significant (p < 0.05)."""
    parts = []
    for _, rows in ratings.groupby("comparison", sort=False):
        first, second = rows.iloc[0], rows.iloc[1]
        if pd.isna(first["p_value"]):
            parts.append(
                f"{first['group']} against {second['group']} orders: too few reviewed orders "
                f"to compare ({int(first['reviewed_orders'])} and "
                f"{int(second['reviewed_orders'])})"
            )
            continue
        verdict = "a significant" if first["p_value"] < 0.05 else "no significant"
        parts.append(
            f"{first['group']} orders rated {first['mean_rating']:.2f} against "
            f"{second['mean_rating']:.2f} for {second['group']} ones, {verdict} difference "
            f"({first['difference']:+.2f} stars, 95 % interval {first['difference_low']:+.2f} "
            f"to {first['difference_high']:+.2f}, p = {first['p_value']:.2g})"
        )
    text = "; ".join(parts) if parts else "No reviews to compare"
    return text[:1].upper() + text[1:] + "."


def repurchase_note(repurchase: pd.DataFrame, days: int = REBUY_DAYS) -> str:
    """Refunded buyers' repurchase against the others', from :func:`returns_repurchase`."""
    refunded, others = repurchase.iloc[0], repurchase.iloc[1]
    if refunded["observed_buyers"] == 0 or others["observed_buyers"] == 0:
        return (
            f"Too few buyers can be followed for {days} days after a refund (or their first "
            f"order of the period) before the last payment in the data "
            f"({int(refunded['observed_buyers'])} refunded and {int(others['observed_buyers'])} "
            "other buyers): a period ending that long before the data does would compare them."
        )
    text = (
        f"{refunded['repurchase_rate']:.1%} of refunded buyers paid again within {days} days "
        f"(n = {int(refunded['observed_buyers']):,}) against {others['repurchase_rate']:.1%} of "
        f"buyers without a return (n = {int(others['observed_buyers']):,})"
    )
    if pd.isna(refunded["p_value"]):
        return text + ": too few repurchases to test the difference."
    verdict = "a significant" if refunded["p_value"] < 0.05 else "no significant"
    return (
        f"{text}: {verdict} difference ({refunded['change']:+.0%}, 95 % interval "
        f"{refunded['change_low']:+.0%} to {refunded['change_high']:+.0%})."
    )


def reasons_note(reasons: pd.DataFrame) -> str:
    """The reasons that make 80 % of the requests, and the one costing the most refunds."""
    if reasons.empty:
        return "No return was requested in the period."
    head = reasons[reasons["cumulative_share"].shift(fill_value=0.0) < 0.8 - 1e-12]
    names = ", ".join(head["reason"])
    text = (
        f"{len(head)} of {len(reasons)} reasons make {head['share'].sum():.0%} of the "
        f"{int(reasons['returns'].sum()):,} requests: {names}"
    )
    if reasons["refund_amount"].sum() > 0:
        top = reasons.sort_values(["refund_amount", "reason"], ascending=[False, True]).iloc[0]
        text += f"; the most refunded is {top['reason']} ({top['amount_share']:.0%} of refunds)"
    return text + "."


def returns_cost_note(cost: pd.DataFrame) -> str:
    """The period's ``returns_and_refunds`` item and its two parts, from :func:`returns_cost`."""
    if cost.empty:
        return f"No refund was paid in the period: the item {RETURNS_ITEM} is 0."
    return (
        f"The cost item {RETURNS_ITEM} is {cost['amount'].sum():,.2f}: refunds of "
        f"{cost['refunds'].sum():,.2f} for {int(cost['returns'].sum()):,} returns less "
        f"{cost['returned_goods_cost'].sum():,.2f} of goods back at unit cost (counted in the cost "
        "of goods sold when they were sold)."
    )
