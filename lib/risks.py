"""Rule-based risk flags (风险识别): users and orders that look like abuse, bots or mistakes.

Every rule reads the period's local calendar days (:class:`lib.periods.Period`) and gives rows
``rule, user_id, order_id, value, threshold``: the ids and the measured value only, with the
threshold it reached. ``order_id`` is empty ("") for a rule about a user; an order's rule gives its
buyer too. A flag is a lead to look at, not a verdict: each threshold is a notebook parameter.

The rules (``rule`` names in :data:`RULES` order):

- ``unpaid_orders``: orders the user *placed* in the period (local day of ``order_time``) that were
  never paid (``paid_time`` null) or were cancelled (``status = 'cancelled'``), i.e. placed orders
  that are not paid orders (:func:`lib.definitions.paid_orders`). Flagged when the count is
  ≥ ``risk_unpaid_orders`` (default 5). An order still waiting for payment at the end of the data
  counts as unpaid.
- ``coupon_claims``: ``claim_coupon`` events of the user in the period (local day of
  ``event_time``) ≥ ``risk_coupon_claims`` (default 10).
- ``coupon_uses``: the user's paid orders paid in the period with a ``coupon_id`` ≥
  ``risk_coupon_uses`` (default 5). Skipped when ``orders`` has no ``coupon_id``.
- ``refund_share``: among the user's paid orders paid in the period (refunded ones included; the
  rule of :func:`lib.definitions.paid_orders_in`), the share with ``status = 'refunded'``,
  flagged when it is ≥ ``risk_refund_share`` (default 0.5) and the user has at least
  ``risk_refund_min_orders`` (default 5) such orders, so one refund of one order is no pattern.
- ``events_per_minute``: for every user and local minute of the period, the user's events in that
  minute. The shop's p99.9 is the nearest-rank 99.9th percentile over all those user-minutes
  (the smallest count with at least 99.9 % of user-minutes at or below it). A user is flagged
  when their busiest minute has ≥ ``risk_bot_factor`` × that p99.9 events (default 3 ×; 1 means
  the p99.9 itself). ``value`` is the busiest minute's count.
- ``sessions_per_day``: likewise for every user and local day, the distinct ``session_id`` with
  an event that day (a session across midnight counts on both days); the threshold is
  ``risk_bot_factor`` × the p99.9 over user-days, ``value`` the user's busiest day. Events
  without a ``session_id`` are not counted.
  Both bot rules hold while bots make up less than 0.1 % of the user-minutes (user-days): beyond
  that the p99.9 is itself a bot's, and the threshold rises out of their reach.
- ``sku_quantity`` and ``sku_amount``: lines of the orders paid in the period, per SKU. A line
  whose ``quantity`` (``sku_quantity``) or amount ``quantity × unit_price`` (``sku_amount``) is
  ≥ ``risk_sku_factor`` × the median of that SKU's lines of the period (default 5 ×) is flagged,
  for SKUs with at least ``risk_sku_min_orders`` (default 10) such lines (fewer give no stable
  median). The median is the exact one (the mean of the two middle values of an even count).
  ``value`` is the line's quantity or amount; the rows name the order and its buyer.

A rule whose table or column is missing is skipped: it gives no rows, and :func:`rules_run`
says which rules the given tables allow. Everything is computed with Ibis expressions, so DuckDB
and PySpark give the same rows; only the small histograms the percentiles are read from, and the
flagged rows, reach pandas.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from lib import parameters
from lib.definitions import MONEY_DECIMALS, events_in, paid_orders_in
from lib.periods import Period

__all__ = [
    "BOT_QUANTILE",
    "COLUMNS",
    "RULES",
    "bot_users",
    "coupon_claim_users",
    "coupon_use_users",
    "extreme_sku_lines",
    "nearest_rank_quantile",
    "refund_share_users",
    "risk_flags",
    "rules_run",
    "unpaid_order_users",
]

COLUMNS = ["rule", "user_id", "order_id", "value", "threshold"]
RULES = (
    "unpaid_orders",
    "coupon_claims",
    "coupon_uses",
    "refund_share",
    "events_per_minute",
    "sessions_per_day",
    "sku_quantity",
    "sku_amount",
)
# The percentile of the shop the bot thresholds are a multiple of.
BOT_QUANTILE = 0.999
SECONDS_PER_MINUTE = 60


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rule": pd.Series(dtype="object"),
            "user_id": pd.Series(dtype="object"),
            "order_id": pd.Series(dtype="object"),
            "value": pd.Series(dtype="float64"),
            "threshold": pd.Series(dtype="float64"),
        }
    )


def _rows(rule: str, found: pd.DataFrame, threshold: float | pd.Series) -> pd.DataFrame:
    """Rows of one rule from ``user_id``, ``value`` (and ``order_id``) columns, sorted."""
    if found.empty:
        return _empty()
    table = pd.DataFrame(
        {
            "rule": rule,
            "user_id": found["user_id"].astype(str).to_numpy(),
            "order_id": (found["order_id"].astype(str).to_numpy() if "order_id" in found else ""),
            "value": found["value"].astype("float64").to_numpy(),
            "threshold": (
                threshold.astype("float64").to_numpy()
                if isinstance(threshold, pd.Series)
                else float(threshold)
            ),
        }
    )
    return _sorted(table)


def _sorted(table: pd.DataFrame) -> pd.DataFrame:
    """Rules in :data:`RULES` order, the largest values first, then by ids (a fixed order)."""
    order = table["rule"].map({rule: k for k, rule in enumerate(RULES)})
    table = table.assign(_order=order, _negative=-table["value"])
    table = table.sort_values(["_order", "_negative", "user_id", "order_id"], kind="stable")
    return table.drop(columns=["_order", "_negative"]).reset_index(drop=True)[COLUMNS]


def _placed_in(orders: ir.Table, period: Period) -> ir.Table:
    """Orders placed in the period (local day of ``order_time``)."""
    lo, hi = period.utc_bounds()
    return orders.filter(
        orders.order_time >= ibis.literal(lo, "timestamp"),
        orders.order_time < ibis.literal(hi, "timestamp"),
    )


def _per_user_at_least(table: ir.Table, count: ir.IntegerValue, minimum: int) -> pd.DataFrame:
    per_user = table.group_by("user_id").aggregate(value=count)
    return per_user.filter(per_user.value >= minimum).to_pandas()


# --------------------------------------------------------------------------------------------
# Orders


def unpaid_order_users(orders: ir.Table, period: Period, min_orders: int = 5) -> pd.DataFrame:
    """``unpaid_orders``: users with ≥ ``min_orders`` orders placed in the period that were never
    paid or were cancelled (the module docstring has the precise rule)."""
    parameters.check("risk_unpaid_orders", min_orders, "min_orders")
    placed = _placed_in(orders, period)
    not_paid = placed.filter(placed.paid_time.isnull() | (placed.status == "cancelled"))
    found = _per_user_at_least(not_paid, not_paid.count(), min_orders)
    return _rows("unpaid_orders", found, min_orders)


def coupon_use_users(orders: ir.Table, period: Period, min_uses: int = 5) -> pd.DataFrame:
    """``coupon_uses``: users with ≥ ``min_uses`` paid orders of the period carrying a coupon;
    no rows when ``orders`` has no ``coupon_id``."""
    parameters.check("risk_coupon_uses", min_uses, "min_uses")
    if "coupon_id" not in orders.columns:
        return _empty()
    paid = paid_orders_in(orders, period)
    used = paid.filter(paid.coupon_id.notnull())
    found = _per_user_at_least(used, used.count(), min_uses)
    return _rows("coupon_uses", found, min_uses)


def refund_share_users(
    orders: ir.Table, period: Period, min_share: float = 0.5, min_orders: int = 5
) -> pd.DataFrame:
    """``refund_share``: users whose paid orders of the period are refunded in a share
    ≥ ``min_share``, among users with ≥ ``min_orders`` paid orders."""
    parameters.check("risk_refund_share", min_share, "min_share")
    parameters.check("risk_refund_min_orders", min_orders, "min_orders")
    paid = paid_orders_in(orders, period)
    per_user = paid.group_by("user_id").aggregate(
        orders=paid.count(), refunded=(paid.status == "refunded").cast("int64").sum()
    )
    found = per_user.filter(per_user.orders >= min_orders).to_pandas()
    found["value"] = found["refunded"].astype("float64") / found["orders"].astype("float64")
    return _rows("refund_share", found[found["value"] >= min_share], min_share)


def _median_per_sku(lines: ir.Table, column: str) -> ir.Table:
    """``sku_id, lines, sku_median`` of ``column`` over each SKU's lines: the exact median, from the
    one or two middle rows by rank, so that every engine gives the same number."""
    by_sku = ibis.window(group_by="sku_id")
    ranked = lines.mutate(
        rank=ibis.row_number().over(ibis.window(group_by="sku_id", order_by=lines[column])),
        lines=lines.count().over(by_sku),
    )
    middle = ranked.filter(
        (ranked["rank"] == (ranked["lines"] - 1) // 2) | (ranked["rank"] == ranked["lines"] // 2)
    )
    return middle.group_by("sku_id").aggregate(
        lines=middle["lines"].max(), sku_median=middle[column].cast("float64").mean()
    )


def extreme_sku_lines(
    orders: ir.Table,
    order_items: ir.Table,
    period: Period,
    factor: float = 5.0,
    min_orders: int = 10,
) -> pd.DataFrame:
    """``sku_quantity`` and ``sku_amount``: lines of the period's paid orders whose quantity or
    amount is ≥ ``factor`` × their SKU's median, for SKUs with ≥ ``min_orders`` lines."""
    parameters.check("risk_sku_factor", factor, "factor")
    parameters.check("risk_sku_min_orders", min_orders, "min_orders")
    paid = paid_orders_in(orders, period).select("order_id", "user_id")
    items = order_items.select("order_id", "sku_id", "quantity", "unit_price")
    lines = paid.join(items, "order_id")
    # unrounded: rounding in the engine could differ between DuckDB and Spark at half cents
    lines = lines.mutate(amount=lines.quantity * lines.unit_price)
    parts = []
    for rule, column in (("sku_quantity", "quantity"), ("sku_amount", "amount")):
        medians = _median_per_sku(lines, column)
        medians = medians.filter(medians["lines"] >= min_orders)
        joined = lines.join(medians, "sku_id")
        limit = joined["sku_median"] * factor
        flagged = joined.filter(joined[column] >= limit).select(
            "user_id", "order_id", value=joined[column].cast("float64"), threshold=limit
        )
        found = flagged.to_pandas()
        if rule == "sku_amount":  # money to cents (monotonic: a flagged value stays ≥ its limit)
            found = found.round({"value": MONEY_DECIMALS, "threshold": MONEY_DECIMALS})
        if not found.empty:
            parts.append(_rows(rule, found, found["threshold"]))
    return _sorted(pd.concat(parts, ignore_index=True)) if parts else _empty()


# --------------------------------------------------------------------------------------------
# Events


def coupon_claim_users(events: ir.Table, period: Period, min_claims: int = 10) -> pd.DataFrame:
    """``coupon_claims``: users with ≥ ``min_claims`` ``claim_coupon`` events in the period."""
    parameters.check("risk_coupon_claims", min_claims, "min_claims")
    inside = events_in(events, period)
    claims = inside.filter(inside.event_name == "claim_coupon")
    found = _per_user_at_least(claims, claims.count(), min_claims)
    return _rows("coupon_claims", found, min_claims)


def nearest_rank_quantile(histogram: pd.DataFrame, q: float) -> float:
    """The nearest-rank ``q`` quantile of counts given as ``value, n`` (``n`` items have
    ``value``): the smallest value with at least ``q`` of the items at or below it; NaN if none."""
    if histogram.empty or histogram["n"].sum() == 0:
        return float("nan")
    table = histogram.sort_values("value")
    covered = table["n"].cumsum() / table["n"].sum()
    # a hair of tolerance: 999 of 1000 is exactly 0.999, whatever the float division gives
    return float(table.loc[covered >= q - 1e-12, "value"].iloc[0])


def _peaks(grouped: ir.Table, factor: float) -> tuple[pd.DataFrame, float]:
    """Users whose busiest group (``count`` per user and minute or day) reaches ``factor`` ×
    the p99.9 over all groups, with that threshold."""
    # each user's groups counted by size, kept in the engine: the histogram and the peaks are
    # two small aggregations of it, where each would otherwise group every event again (at 100M
    # events a few million rows against a hundred million)
    with grouped.group_by(["user_id", "count"]).aggregate(n=grouped.count()).cache() as sizes:
        histogram = sizes.group_by(value=sizes["count"]).aggregate(n=sizes.n.sum()).to_pandas()
        threshold = factor * nearest_rank_quantile(histogram, BOT_QUANTILE)
        if threshold != threshold:  # NaN: no events in the period
            return pd.DataFrame(columns=["user_id", "value"]), threshold
        peak = sizes.group_by("user_id").aggregate(value=sizes["count"].max())
        return peak.filter(peak.value >= threshold).to_pandas(), threshold


def bot_users(events: ir.Table, period: Period, factor: float = 3.0) -> pd.DataFrame:
    """``events_per_minute`` and ``sessions_per_day``: users whose busiest local minute (day)
    reaches ``factor`` × the shop's p99.9 of events per user-minute (sessions per user-day)."""
    parameters.check("risk_bot_factor", factor, "factor")
    inside = events_in(events, period)
    stamped = inside.mutate(minute=period.local_seconds(inside.event_time) // SECONDS_PER_MINUTE)
    per_minute = stamped.group_by(["user_id", "minute"]).aggregate(count=stamped.count())
    found, threshold = _peaks(per_minute, factor)
    parts = [_rows("events_per_minute", found, threshold)]
    if "session_id" in events.columns:
        with_session = inside.filter(inside.session_id.notnull())
        per_day = with_session.group_by(["user_id", "day"]).aggregate(
            count=with_session.session_id.nunique()
        )
        found, threshold = _peaks(per_day, factor)
        parts.append(_rows("sessions_per_day", found, threshold))
    parts = [part for part in parts if not part.empty]
    return _sorted(pd.concat(parts, ignore_index=True)) if parts else _empty()


# --------------------------------------------------------------------------------------------
# All rules


def _has(table: ir.Table | None, *columns: str) -> bool:
    return table is not None and all(column in table.columns for column in columns)


def rules_run(
    events: ir.Table | None = None,
    orders: ir.Table | None = None,
    order_items: ir.Table | None = None,
) -> list[str]:
    """The rules (in :data:`RULES` order) the given tables and columns allow; the others are
    skipped by :func:`risk_flags`."""
    ok = {
        "unpaid_orders": _has(orders, "user_id", "order_time", "paid_time", "status"),
        "coupon_claims": _has(events, "user_id", "event_time", "event_name"),
        "coupon_uses": _has(orders, "user_id", "paid_time", "status", "coupon_id"),
        "refund_share": _has(orders, "user_id", "paid_time", "status"),
        "events_per_minute": _has(events, "user_id", "event_time"),
        "sessions_per_day": _has(events, "user_id", "event_time", "session_id"),
        "sku_quantity": _has(orders, "order_id", "user_id", "paid_time", "status")
        and _has(order_items, "order_id", "sku_id", "quantity", "unit_price"),
    }
    ok["sku_amount"] = ok["sku_quantity"]
    return [rule for rule in RULES if ok[rule]]


def risk_flags(
    period: Period,
    events: ir.Table | None = None,
    orders: ir.Table | None = None,
    order_items: ir.Table | None = None,
    *,
    unpaid_orders: int = 5,
    coupon_claims: int = 10,
    coupon_uses: int = 5,
    refund_share: float = 0.5,
    refund_min_orders: int = 5,
    bot_factor: float = 3.0,
    sku_factor: float = 5.0,
    sku_min_orders: int = 10,
) -> pd.DataFrame:
    """Every rule the tables allow (:func:`rules_run`), as one table of ``rule, user_id,
    order_id, value, threshold`` sorted by rule (:data:`RULES` order), value (largest first) and
    ids. The keyword arguments are the ``risk_*`` notebook parameters."""
    run = set(rules_run(events, orders, order_items))
    parts = []
    if "unpaid_orders" in run:
        parts.append(unpaid_order_users(orders, period, unpaid_orders))
    if "coupon_claims" in run:
        parts.append(coupon_claim_users(events, period, coupon_claims))
    if "coupon_uses" in run:
        parts.append(coupon_use_users(orders, period, coupon_uses))
    if "refund_share" in run:
        parts.append(refund_share_users(orders, period, refund_share, refund_min_orders))
    if "events_per_minute" in run:
        parts.append(bot_users(events, period, bot_factor))
    if "sku_quantity" in run:
        parts.append(extreme_sku_lines(orders, order_items, period, sku_factor, sku_min_orders))
    parts = [part for part in parts if not part.empty]
    return _sorted(pd.concat(parts, ignore_index=True)) if parts else _empty()
