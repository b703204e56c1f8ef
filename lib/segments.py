"""Lifecycle and user segments for targeted operations (精细化运营: 用户分层).

Every segment is "as of the end of the period": nothing after ``end`` is looked at. User lists hold
``user_id`` and behavioural fields only, never personal data. Definitions (docs/metrics.md):

- **Lifecycle** (:func:`lifecycle`): the period is cut into windows of ``window_days`` local days
  ending on ``end`` (leading days that do not fill a window are left out). In each window a user
  is *new* (first activity ever falls in it), *returning* (active in it and in the window before),
  *resurrected* (active in it, not in the window before, seen earlier) or *dormant* (active in the
  window before, not in this one). Activity is any event, or a paid order on an orders-only source.
- **Activity segments** (:func:`activity_segments`), over users seen on or before ``end``:
  *highly active* with at least ``highly_active_days`` active days in the ``window_days`` days
  ending on ``end``; *low activity* with 1 to ``highly_active_days − 1``; *silent* with none in
  the window but some within ``churn_days``; *churned* with none in the last ``churn_days`` days.
- **RFM** (:func:`rfm_scores`), over buyers with a paid order paid in the ``lookback_days`` ending
  on ``end``: recency = days since the last payment, frequency = paid orders, monetary = their
  ``paid_amount``. Each score is ``1 + ⌊5 × share of buyers with a strictly worse value⌋`` (1…5;
  tied values share a score, so heavily tied measures skip scores). ``fm_score`` is the mean of
  F and M rounded half up; the named segment comes from R and FM (:data:`RFM_SEGMENTS`).
- **Decision stages** (:func:`decision_stage_segments`), from the behaviour in the period:
  *viewed not bought*: no paid order paid after the user's last ``view_item`` (by ``end``);
  *carted not ordered*: no order placed after the last ``add_to_cart``; *ordered not paid*: the
  last order placed in the period had no payment by ``end``; *coupon claimed not used* / *claimed
  and used*: a coupon claimed (``claim_coupon``) in the period was not / was redeemed on a paid
  order placed after the claim and paid by ``end`` (matched on ``coupon_id`` when the events carry
  it, otherwise any coupon order counts). A user can be in both coupon segments.
- **Category propensity** (:func:`category_propensity`): for users with a view, cart or purchase
  in the period, each category's score is the sum over their history of ``weight ×
  0.5^(age in days / half_life_days)`` with weights view 1, cart 3, purchased line 5;
  ``propensity`` is the category's share of the user's score, and the most likely next category
  is the highest (ties: alphabetical).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pandas as pd

from lib import data, outputs, parameters
from lib.definitions import MONEY_DECIMALS, events_in, paid_orders, paid_orders_in
from lib.periods import Period, to_timestamps

LIFECYCLE_STATES = ("new", "returning", "resurrected", "dormant")
ACTIVITY_SEGMENTS = ("highly_active", "low_activity", "silent", "churned")
DECISION_STAGES = (
    "viewed_not_bought",
    "carted_not_ordered",
    "ordered_not_paid",
    "coupon_claimed_not_used",
    "coupon_claimed_and_used",
)
PROPENSITY_WEIGHTS = {"view_item": 1.0, "add_to_cart": 3.0, "purchase": 5.0}

# The usual RFM grid on (R score, FM score): the first matching rule names the segment.
RFM_SEGMENTS: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...] = (
    ("champions", (5,), (4, 5)),
    ("loyal", (3, 4), (4, 5)),
    ("potential_loyalists", (4, 5), (2, 3)),
    ("new_customers", (5,), (1,)),
    ("promising", (4,), (1,)),
    ("need_attention", (3,), (3,)),
    ("about_to_sleep", (3,), (1, 2)),
    ("cant_lose_them", (1, 2), (5,)),
    ("at_risk", (1, 2), (3, 4)),
    ("hibernating", (1, 2), (1, 2)),
)
RFM_SEGMENT_NAMES = tuple(name for name, _, _ in RFM_SEGMENTS)


def _end_bound(period: Period) -> ir.TimestampScalar:
    """The UTC instant the period's last local day ends: nothing at or after it is looked at."""
    _, hi = period.utc_bounds()
    return ibis.literal(hi, "timestamp")


def user_days_from_events(events: ir.Table, period: Period) -> ir.Table:
    """Distinct ``user_id, day`` with any event, over all history up to ``end``
    (:func:`lib.data.user_days`)."""
    days = data.user_days(events, period)
    return days.filter(days.day <= period.end_day)


def user_days_from_orders(orders: ir.Table, period: Period) -> ir.Table:
    """Distinct ``user_id, day`` with a paid order paid that day, over all history up to ``end``."""
    paid = paid_orders(orders)
    paid = paid.filter(paid.paid_time < _end_bound(period))
    return paid.select("user_id", day=period.local_day(paid.paid_time)).distinct()


def activity_user_days(
    period: Period, orders: ir.Table | None, events: ir.Table | None = None
) -> tuple[ir.Table, str]:
    """Active user-days for the lifecycle, and what "active" means: any event when there are
    events (orders are then not needed), otherwise a paid order (an orders-only source).

    Both are made once: the events' user-days are the source's stored table
    (:func:`lib.data.user_days`), the orders' are cached on the engine (Ibis ``cache``); the
    lifecycle and the activity segments both read them, and each would otherwise scan the whole
    history again (at 100M events 10 s each).
    """
    if events is not None:
        return user_days_from_events(events, period), "any event"
    if orders is None:
        raise ValueError("activity needs an events or an orders table")
    return user_days_from_orders(orders, period).cache(), "a paid order (no events table)"


def lifecycle(user_days: ir.Table, period: Period, window_days: int = 7) -> pd.DataFrame:
    """``window_start, window_end, new, returning, resurrected, dormant, active, quick_ratio`` per
    window (``active`` = new + returning + resurrected; ``quick_ratio`` = (new + resurrected) /
    dormant, above 1 when the active base grows)."""
    parameters.check("lifecycle_days", window_days, "window_days")
    n_windows = period.n_days // window_days
    columns = ["window_start", "window_end", *LIFECYCLE_STATES, "active", "quick_ratio"]
    if n_windows == 0:
        return pd.DataFrame(columns=columns)
    anchor = period.end_day - n_windows * window_days + 1  # first day of window 0
    firsts = user_days.group_by("user_id").aggregate(first_day=user_days.day.min())
    recent = user_days.filter(user_days.day >= anchor - window_days)
    # shifted so the numerator is never negative: window −1 is the one before the first
    recent = recent.mutate(window=(recent.day - anchor + window_days) // window_days - 1)
    windows = recent.select("user_id", "window").distinct().join(firsts, "user_id")
    ordered = ibis.window(group_by="user_id", order_by="window")
    windows = windows.mutate(
        previous=windows.window.lag().over(ordered), following=windows.window.lead().over(ordered)
    )
    window_start = anchor + windows.window * window_days
    state = ibis.cases(
        (windows.first_day >= window_start, "new"),
        (windows.previous == windows.window - 1, "returning"),
        else_="resurrected",
    )
    active = windows.filter(windows.window >= 0).select("window", state=state)
    gone = windows.filter(
        windows.window < n_windows - 1,
        windows.following.isnull() | (windows.following != windows.window + 1),
    ).select(window=windows.window + 1, state=ibis.literal("dormant"))
    counts = (
        ibis.union(active, gone).group_by(["window", "state"]).aggregate(users=ibis._.count())
    ).to_pandas()
    table = (
        counts.pivot_table(index="window", columns="state", values="users", fill_value=0)
        .reindex(index=range(n_windows), columns=list(LIFECYCLE_STATES), fill_value=0)
        .astype("int64")
        .rename_axis(index=None, columns=None)
    )
    table["active"] = table["new"] + table["returning"] + table["resurrected"]
    dormant = table["dormant"].astype("float64")
    table["quick_ratio"] = (table["new"] + table["resurrected"]) / dormant.where(dormant > 0)
    starts = [anchor + w * window_days for w in range(n_windows)]
    table.insert(0, "window_start", to_timestamps(starts).to_numpy())
    table.insert(1, "window_end", to_timestamps([s + window_days - 1 for s in starts]).to_numpy())
    return table.reset_index(drop=True)[columns]


def activity_segments(
    user_days: ir.Table,
    period: Period,
    window_days: int = 30,
    highly_active_days: int = 8,
    churn_days: int = 60,
) -> pd.DataFrame:
    """``user_id, segment, active_days, last_active_date, days_since_active`` for every user
    seen on or before ``end`` (``active_days``: in the ``window_days`` days ending on ``end``)."""
    parameters.check("highly_active_days", highly_active_days)
    parameters.check("activity_window_days", window_days, "window_days")
    parameters.check("churn_days", churn_days)
    if not highly_active_days <= window_days <= churn_days:
        raise ValueError(
            "need 1 ≤ highly_active_days ≤ window_days ≤ churn_days, got "
            f"{highly_active_days}, {window_days}, {churn_days}"
        )
    seen = user_days.filter(user_days.day <= period.end_day)
    in_window = seen.day > period.end_day - window_days
    per_user = seen.group_by("user_id").aggregate(
        active_days=in_window.cast("int64").sum(), last_day=seen.day.max()
    )
    table = per_user.to_pandas()
    table["days_since_active"] = (period.end_day - table["last_day"]).astype("int64")
    table["active_days"] = table["active_days"].astype("int64")
    segment = pd.Series("low_activity", index=table.index)
    segment[table["active_days"] >= highly_active_days] = "highly_active"
    segment[table["active_days"] == 0] = "silent"
    segment[table["days_since_active"] >= churn_days] = "churned"
    table["segment"] = segment
    table["last_active_date"] = to_timestamps(table.pop("last_day")).to_numpy()
    table = table.sort_values("user_id").reset_index(drop=True)
    return table[["user_id", "segment", "active_days", "last_active_date", "days_since_active"]]


def quintile_scores(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """``1 + ⌊5 × share of values strictly worse⌋``: 1…5, tied values share a score."""
    if values.empty:
        return values.astype("int64")
    keyed = values if higher_is_better else -values
    strictly_worse = keyed.rank(method="min") - 1
    return (1 + (5 * strictly_worse / len(values)).astype("int64")).clip(1, 5).astype("int64")


def rfm_segment(r_score: int, fm_score: int, frequency: int = 2) -> str:
    """The named segment of an (R, FM) score pair (:data:`RFM_SEGMENTS`).

    A buyer with one paid order (``frequency`` 1) is named by recency alone (FM read as 1: new
    customers, promising, about to sleep, hibernating): one order says nothing about loyalty, and
    where nearly everyone buys once a high spend would otherwise make one-time buyers "loyal" or
    "potential loyalists".
    """
    if frequency < 2:
        fm_score = 1
    for name, recencies, values in RFM_SEGMENTS:
        if r_score in recencies and fm_score in values:
            return name
    raise ValueError(f"no RFM segment for R={r_score}, FM={fm_score}")  # the grid covers all


def rfm_scores(orders: ir.Table, period: Period, lookback_days: int = 365) -> pd.DataFrame:
    """``user_id, recency_days, frequency, monetary, r_score, f_score, m_score, fm_score,
    rfm_segment`` for the buyers of the ``lookback_days`` days ending on ``end``; a one-order
    buyer's segment rests on recency alone (:func:`rfm_segment`)."""
    window = Period(period.end - dt.timedelta(days=lookback_days - 1), period.end, period.timezone)
    paid = paid_orders_in(orders, window)
    table = (
        paid.group_by("user_id")
        .aggregate(last_day=paid.day.max(), frequency=paid.count(), monetary=paid.paid_amount.sum())
        .to_pandas()
    )
    table["recency_days"] = (period.end_day - table.pop("last_day")).astype("int64")
    table["frequency"] = table["frequency"].astype("int64")
    table["monetary"] = table["monetary"].astype("float64").round(MONEY_DECIMALS)
    table["r_score"] = quintile_scores(table["recency_days"], higher_is_better=False)
    table["f_score"] = quintile_scores(table["frequency"])
    table["m_score"] = quintile_scores(table["monetary"])
    # half up, not Python's round-half-to-even: (3 + 4) / 2 scores 4
    table["fm_score"] = ((table["f_score"] + table["m_score"] + 1) // 2).astype("int64")
    table["rfm_segment"] = [
        rfm_segment(r, fm, f)
        for r, fm, f in zip(table["r_score"], table["fm_score"], table["frequency"], strict=True)
    ]
    columns = [
        "user_id",
        "recency_days",
        "frequency",
        "monetary",
        "r_score",
        "f_score",
        "m_score",
        "fm_score",
        "rfm_segment",
    ]
    return table.sort_values("user_id").reset_index(drop=True)[columns]


def _last_event(events: ir.Table, period: Period, name: str) -> ir.Table:
    """Each user's last event called ``name`` in the period (``last_time, last_sku, last_day``)
    and how many they had (``count``)."""
    named = events_in(events, period).filter(lambda t: t.event_name == name)
    latest = ibis.window(
        group_by="user_id", order_by=[ibis.desc("event_time"), ibis.desc("sku_id")]
    )
    ranked = named.mutate(position=ibis.row_number().over(latest))
    last = ranked.filter(ranked.position == 0).select(
        "user_id", last_time=ranked.event_time, last_sku=ranked.sku_id, last_day=ranked.day
    )
    counts = named.group_by("user_id").aggregate(count=ibis._.count())
    return last.join(counts, "user_id")


def _user_frame(table: ir.Table, date_columns: dict[str, str]) -> pd.DataFrame:
    """Pull a small per-user table, turning epoch-day columns into dates, sorted by user_id."""
    frame = table.to_pandas()
    for day_column, date_column in date_columns.items():
        frame[date_column] = to_timestamps(frame.pop(day_column)).to_numpy()
    return frame.sort_values("user_id").reset_index(drop=True)


def viewed_not_bought(events: ir.Table, orders: ir.Table, period: Period) -> pd.DataFrame:
    """``user_id, views, last_view_date, last_viewed_sku``: no paid order after the last view."""
    last = _last_event(events, period, "view_item")
    paid = paid_orders(orders)
    paid = paid.filter(paid.paid_time < _end_bound(period))
    bought = last.join(paid, "user_id").filter(lambda t: t.paid_time >= t.last_time)
    table = last.anti_join(bought.select("user_id"), "user_id").select(
        "user_id", views=last["count"], last_day=last.last_day, last_viewed_sku=last.last_sku
    )
    frame = _user_frame(table, {"last_day": "last_view_date"})
    return frame[["user_id", "views", "last_view_date", "last_viewed_sku"]]


def carted_not_ordered(events: ir.Table, orders: ir.Table, period: Period) -> pd.DataFrame:
    """``user_id, carts, last_cart_date, last_carted_sku``: no order placed after the last cart."""
    last = _last_event(events, period, "add_to_cart")
    placed = orders.filter(orders.order_time < _end_bound(period))
    ordered = last.join(placed, "user_id").filter(lambda t: t.order_time >= t.last_time)
    table = last.anti_join(ordered.select("user_id"), "user_id").select(
        "user_id", carts=last["count"], last_day=last.last_day, last_carted_sku=last.last_sku
    )
    frame = _user_frame(table, {"last_day": "last_cart_date"})
    return frame[["user_id", "carts", "last_cart_date", "last_carted_sku"]]


def ordered_not_paid(orders: ir.Table, period: Period) -> pd.DataFrame:
    """``user_id, orders_placed, unpaid_orders, last_order_date, last_order_amount``: users whose
    last order placed in the period had no payment by ``end`` (whatever its status)."""
    lo, _ = period.utc_bounds()
    end = _end_bound(period)
    placed = orders.filter(
        orders.order_time >= ibis.literal(lo, "timestamp"), orders.order_time < end
    )
    unpaid = placed.paid_time.isnull() | (placed.paid_time >= end)
    placed = placed.mutate(unpaid=unpaid, day=period.local_day(placed.order_time))
    latest = ibis.window(
        group_by="user_id", order_by=[ibis.desc("order_time"), ibis.desc("order_id")]
    )
    ranked = placed.mutate(position=ibis.row_number().over(latest))
    last = ranked.filter(ranked.position == 0, ranked.unpaid)
    counts = placed.group_by("user_id").aggregate(
        orders_placed=ibis._.count(), unpaid_orders=ibis._.unpaid.cast("int64").sum()
    )
    table = last.join(counts, "user_id").select(
        "user_id",
        "orders_placed",
        "unpaid_orders",
        last_day=last.day,
        last_order_amount=last.paid_amount.round(MONEY_DECIMALS),
    )
    frame = _user_frame(table, {"last_day": "last_order_date"})
    return frame[
        ["user_id", "orders_placed", "unpaid_orders", "last_order_date", "last_order_amount"]
    ]


def coupon_segments(events: ir.Table, orders: ir.Table, period: Period) -> dict[str, pd.DataFrame]:
    """``coupon_claimed_not_used`` (``user_id, coupons_claimed, coupons_unused, last_claim_date,
    last_unused_coupon_id``) and ``coupon_claimed_and_used`` (``user_id, coupons_claimed,
    coupons_used, last_claim_date``)."""
    claims = events_in(events, period).filter(lambda t: t.event_name == "claim_coupon")
    has_ids = "coupon_id" in claims.columns
    # With coupon ids on the events, a coupon is its id (claimed again on another day, it is
    # still one coupon) and only an order carrying that id redeems it. Without them, each local
    # day's claims are one coupon (claims on different days are different coupons, not merged),
    # redeemed by any coupon order of the user placed after the claim.
    coupon = claims.coupon_id.cast("string") if has_ids else claims.day.cast("string")
    pairs = (
        claims.mutate(coupon=coupon)
        .group_by(["user_id", "coupon"])
        .aggregate(claim_time=ibis._.event_time.min(), last_claim_day=ibis._.day.max())
    )
    paid = paid_orders(orders)
    paid = paid.filter(paid.coupon_id.notnull(), paid.paid_time < _end_bound(period))
    keys = ["user_id", "coupon"] if has_ids else ["user_id"]
    paid = paid.mutate(coupon=paid.coupon_id.cast("string")).select(*keys, "order_time")
    used = (
        pairs.join(paid, keys)
        .filter(lambda t: t.order_time >= t.claim_time)
        .select("user_id", "coupon")
        .distinct()
        .mutate(used=ibis.literal(True))
    )
    marked = pairs.left_join(used, ["user_id", "coupon"]).select(
        pairs.user_id, pairs.coupon, pairs.last_claim_day, used=used.used.fill_null(False)
    )
    latest_unused = ibis.window(
        group_by="user_id", order_by=[ibis.desc("last_claim_day"), ibis.desc("coupon")]
    )
    unused = marked.filter(~marked.used)
    unused = unused.mutate(position=ibis.row_number().over(latest_unused))
    last_unused = unused.filter(unused.position == 0).select(
        "user_id", last_unused_coupon_id=unused.coupon
    )
    per_user = marked.group_by("user_id").aggregate(
        coupons_claimed=ibis._.count(),
        coupons_used=ibis._.used.cast("int64").sum(),
        last_day=ibis._.last_claim_day.max(),
    )
    frame = _user_frame(
        per_user.left_join(last_unused, "user_id").select(
            per_user, last_unused.last_unused_coupon_id
        ),
        {"last_day": "last_claim_date"},
    )
    frame["coupons_unused"] = frame["coupons_claimed"] - frame["coupons_used"]
    if not has_ids:
        frame["last_unused_coupon_id"] = None
    not_used = frame[frame["coupons_unused"] > 0]
    used_any = frame[frame["coupons_used"] > 0]
    return {
        "coupon_claimed_not_used": not_used[
            [
                "user_id",
                "coupons_claimed",
                "coupons_unused",
                "last_claim_date",
                "last_unused_coupon_id",
            ]
        ].reset_index(drop=True),
        "coupon_claimed_and_used": used_any[
            ["user_id", "coupons_claimed", "coupons_used", "last_claim_date"]
        ].reset_index(drop=True),
    }


def decision_stage_segments(
    orders: ir.Table, period: Period, events: ir.Table | None = None
) -> dict[str, pd.DataFrame]:
    """The decision-stage segments by name; only ``ordered_not_paid`` without events."""
    segments = {}
    if events is not None:
        segments["viewed_not_bought"] = viewed_not_bought(events, orders, period)
        segments["carted_not_ordered"] = carted_not_ordered(events, orders, period)
    segments["ordered_not_paid"] = ordered_not_paid(orders, period)
    if events is not None:
        segments.update(coupon_segments(events, orders, period))
    return segments


def category_propensity(
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    period: Period,
    events: ir.Table | None = None,
    half_life_days: float = 30.0,
) -> pd.DataFrame:
    """``user_id, next_category, propensity, second_category, second_propensity`` for users with a
    view, cart or purchase in the period (purchases only without events)."""
    # 0 decays the last day's signals to NaN and older ones to nothing; below 0 old signals
    # outweigh new ones. Written as `not > 0` so that NaN is refused too.
    if not half_life_days > 0:
        raise ValueError(f"half_life_days={half_life_days} must be above 0")
    end = _end_bound(period)
    paid = paid_orders(orders)
    paid = paid.filter(paid.paid_time < end)
    bought = paid.join(order_items, "order_id").select(
        "user_id",
        "sku_id",
        day=period.local_day(paid.paid_time),
        weight=ibis.literal(PROPENSITY_WEIGHTS["purchase"]),
    )
    signals = bought
    if events is not None:
        looked = events.filter(
            events.event_time < end,
            events.event_name.isin(["view_item", "add_to_cart"]),
            events.sku_id.notnull(),
        )
        weight = (looked.event_name == "view_item").ifelse(
            PROPENSITY_WEIGHTS["view_item"], PROPENSITY_WEIGHTS["add_to_cart"]
        )
        looked = looked.select(
            "user_id", "sku_id", day=period.local_day(looked.event_time), weight=weight
        )
        signals = ibis.union(bought, looked)
    signals = signals.join(products.select("sku_id", "category"), "sku_id")
    age = (period.end_day - signals.day).cast("float64")
    decayed = signals.weight * (ibis.literal(0.5) ** (age / half_life_days))
    recent_users = signals.filter(signals.day >= period.start_day).select("user_id").distinct()
    scored = (
        signals.mutate(score=decayed)
        .semi_join(recent_users, "user_id")
        .group_by(["user_id", "category"])
        .aggregate(score=ibis._.score.sum())
    )
    total = scored.score.sum().over(ibis.window(group_by="user_id"))
    # rounded before ranking: engines add floats in no fixed order, ties must not flicker
    scored = scored.mutate(propensity=(scored.score / total).round(6))
    best = ibis.window(group_by="user_id", order_by=[ibis.desc("propensity"), ibis.asc("category")])
    ranked = scored.mutate(position=ibis.row_number().over(best))
    top = ranked.filter(ranked.position <= 1).to_pandas()
    first = top[top["position"] == 0].set_index("user_id")
    second = top[top["position"] == 1].set_index("user_id")
    table = pd.DataFrame(
        {
            "next_category": first["category"],
            "propensity": first["propensity"],
            "second_category": second["category"].reindex(first.index),
            "second_propensity": second["propensity"].reindex(first.index),
        }
    )
    table = table.rename_axis("user_id").reset_index().sort_values("user_id")
    return table.reset_index(drop=True)


def split_segments(
    table: pd.DataFrame, column: str, names: tuple[str, ...] = ()
) -> dict[str, pd.DataFrame]:
    """A user table cut by ``column`` into ``{segment: members}`` (``names`` first, in order,
    each present even when empty; then any other values alphabetically)."""
    values = list(names) + sorted(set(table[column]) - set(names))
    return {
        str(value): table[table[column] == value].drop(columns=column).reset_index(drop=True)
        for value in values
    }


def segment_summary(
    segments: dict[str, pd.DataFrame], orders: ir.Table | None, period: Period
) -> pd.DataFrame:
    """``segment, users, buyers_in_period, gmv_in_period, gmv_to_date, gmv_to_date_per_user``
    per segment: its size and value (paid orders paid in the period / up to ``end``).

    Without orders (``None``: events-only data) only ``segment, users``: there is no value.
    """
    if orders is None:
        sizes = [(name, len(members)) for name, members in segments.items()]
        return pd.DataFrame(sizes, columns=["segment", "users"])
    paid = paid_orders(orders)
    paid = paid.filter(paid.paid_time < _end_bound(period))
    lo, _ = period.utc_bounds()
    in_period = paid.paid_time >= ibis.literal(lo, "timestamp")
    per_user = (
        paid.group_by("user_id")
        .aggregate(
            gmv_to_date=paid.paid_amount.sum(),
            gmv_in_period=in_period.ifelse(paid.paid_amount, 0.0).sum(),
            orders_in_period=in_period.cast("int64").sum(),
        )
        .to_pandas()
        .set_index("user_id")
        .round(MONEY_DECIMALS)
    )
    rows = []
    for name, members in segments.items():
        value = per_user.reindex(members["user_id"]).fillna(0.0)
        users = len(members)
        gmv_to_date = round(float(value["gmv_to_date"].sum()), MONEY_DECIMALS)
        rows.append(
            {
                "segment": name,
                "users": users,
                "buyers_in_period": int((value["orders_in_period"] > 0).sum()),
                "gmv_in_period": round(float(value["gmv_in_period"].sum()), MONEY_DECIMALS),
                "gmv_to_date": gmv_to_date,
                "gmv_to_date_per_user": round(gmv_to_date / users, MONEY_DECIMALS)
                if users
                else float("nan"),
            }
        )
    columns = [
        "segment",
        "users",
        "buyers_in_period",
        "gmv_in_period",
        "gmv_to_date",
        "gmv_to_date_per_user",
    ]
    return pd.DataFrame(rows, columns=columns)


def save_segment_tables(
    groups: dict[str, pd.DataFrame], output_dir: str | Path | None, prefix: str = ""
) -> None:
    """Write each segment's members to ``tables/segment_<prefix><name>.csv``."""
    for name, members in groups.items():
        outputs.save_table(members, f"segment_{prefix}{name}", output_dir)


# --------------------------------------------------------------------------------------------
# Sentences computed from the tables (the notebook states no direction of its own)


def _money(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.2f}"


def activity_value_note(summary: pd.DataFrame) -> str:
    """Which of the highly active and the low-activity users is worth more, per user (to date)
    and in total (in the period), from :func:`segment_summary` of the activity segments; empty
    without their value (no orders) or without both segments."""
    if "gmv_in_period" not in summary.columns:
        return ""
    rows = summary.set_index("segment")
    if not {"highly_active", "low_activity"} <= set(rows.index):
        return ""
    high, low = rows.loc["highly_active"], rows.loc["low_activity"]
    if not (high["users"] and low["users"]):
        return ""
    per_user = (
        f"Per user, the highly active are worth {_money(high['gmv_to_date_per_user'])} to date "
        f"against {_money(low['gmv_to_date_per_user'])} for low-activity users"
    )
    high_gmv, low_gmv = float(high["gmv_in_period"]), float(low["gmv_in_period"])
    if high_gmv == low_gmv:
        total = f"in the period both groups brought {_money(high_gmv)} of GMV"
    else:
        larger = "low-activity" if low_gmv > high_gmv else "highly active"
        total = (
            f"in the period the {larger} users brought more GMV in total "
            f"({_money(max(high_gmv, low_gmv))} against {_money(min(high_gmv, low_gmv))}; "
            f"{int(low['users']):,} low-activity and {int(high['users']):,} highly active users)"
        )
    advice = (
        ", so moving low-activity users up is worth as much as keeping the highly active."
        if low_gmv >= high_gmv
        else ", so keeping the highly active comes first."
    )
    return f"{per_user}; {total}{advice}"


def lifecycle_note(table: pd.DataFrame) -> str:
    """Whether the active base grew in the last window of :func:`lifecycle` (quick ratio above 1)
    and in how many of the windows, from the table."""
    rated = table.dropna(subset=["quick_ratio"])
    if rated.empty:
        return "No window has dormant users to compare with: no quick ratio."
    last = rated.iloc[-1]
    won = int(last["new"] + last["resurrected"])
    verb = "grew" if last["quick_ratio"] > 1 else "shrank" if last["quick_ratio"] < 1 else "held"
    growing = int((rated["quick_ratio"] > 1).sum())
    return (
        f"In the last window ({last['window_start']:%Y-%m-%d}..{last['window_end']:%Y-%m-%d}) the "
        f"quick ratio was {last['quick_ratio']:.2f}: {won:,} new and resurrected users against "
        f"{int(last['dormant']):,} dormant, so the active base {verb}; it grew in {growing} of "
        f"{len(rated)} windows."
    )
