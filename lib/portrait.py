"""The user portrait (用户画像): one row of ids and behaviour per user, and each segment's portrait.

``tables/user_portrait.csv`` has one row per user *in the period*: any event on a local day of
the period, or a paid order (:func:`lib.definitions.paid_orders`) paid on one. Ids and behaviour
only, never personal data. Every field reuses a definition made elsewhere (docs/metrics.md):

- ``first_seen`` / ``last_seen``: the first / last local day with any event or a paid order, over
  the whole history up to ``end`` (never after it).
- ``acquisition_channel``, ``region``: from the users table; :data:`~lib.definitions.UNKNOWN`
  when it is missing, lacks the user or holds no value.
- ``main_platform``: the platform with the most events in the period (ties: alphabetical; events
  without a platform count as ``(unknown)``); null for a user without an event in the period, and
  for everyone without an events table.
- ``active_days``: local days of the period with activity as :mod:`lib.segments` defines it (any
  event; a paid order on a source without events), so it matches the lifecycle and activity
  segments. ``sessions``: distinct non-null ``session_id`` of the user's events in the period
  (events without one are not counted); null without an events table.
- ``orders`` / ``gmv``: the paid orders paid in the period and their ``paid_amount`` (the GMV
  definition, :func:`lib.definitions.paid_orders_in`); ``aov`` = gmv / orders, null without one.
- ``favourite_category``: the category with the largest paid line value (quantity × unit price,
  :func:`lib.definitions.paid_lines`) in the period, else the most viewed (``view_item``) one;
  ties alphabetical; a SKU missing from the catalogue, or no catalogue at all, is ``(unknown)``;
  null for a user who neither bought a line nor viewed an item in the period.
- ``rfm_segment``: :func:`lib.segments.rfm_scores` (null: no paid order in its lookback).
- ``lifecycle``: the user's state in the *last* window of :func:`lib.segments.lifecycle` (new,
  returning, resurrected, dormant; null when none: active in the period, not in the last two
  windows). ``lifecycle`` gives counts only, so :func:`lifecycle_states` computes the state per
  user by the same definition; summed, they are its last window's counts (tests/test_portrait.py).
- ``activity_segment``: :func:`lib.segments.activity_segments`.
- ``p_alive``, ``expected_value``: :func:`lib.clv.lifetime_value` (null for a user who never
  bought up to ``end``).

Each per-user field is computed in the engine, one query each, joined there to the users of the
period (kept in the engine) and read back in user order, so that the fields line up without a
join in pandas: one query computing every field held all their groupings at once
(docs/performance.md). The tables that are already per-user pandas frames (RFM, activity
segments, CLV) join the one-row-per-user result in pandas. The precomputed ones can be
passed in, so a notebook does not fit the CLV model twice.

:func:`segment_portraits` puts each segment's portrait side by side (size, value, expected value,
channel, category and platform mix), so a campaign can be aimed: who to push, with what.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from lib import clv, data, parameters, segments, stats
from lib.definitions import (
    MONEY_DECIMALS,
    UNKNOWN,
    catalogue,
    events_in,
    paid_lines,
    paid_orders_in,
)
from lib.periods import Period, to_timestamps

PORTRAIT_COLUMNS = [
    "user_id",
    "first_seen",
    "last_seen",
    "acquisition_channel",
    "region",
    "main_platform",
    "active_days",
    "sessions",
    "orders",
    "gmv",
    "aov",
    "favourite_category",
    "rfm_segment",
    "lifecycle",
    "activity_segment",
    "p_alive",
    "expected_value",
]
SEGMENT_COLUMNS = [
    "segment",
    "users",
    "share",
    "active_days_mean",
    "buyers",
    "buyers_share",
    "orders",
    "gmv",
    "gmv_share",
    "aov",
    "p_alive_mean",
    "expected_value",
    "expected_value_share",
    "expected_value_per_user",
    "top_channel",
    "top_channel_share",
    "top_category",
    "top_category_share",
    "top_platform",
    "top_platform_share",
]
# The label of users a segmentation leaves out (no RFM: no paid order in its lookback; no
# lifecycle state in the last window): a group of its own, so the segments add up to everyone.
NO_SEGMENT = "(none)"
# A note compares segments of at least this many users only: smaller ones are noise.
MIN_SEGMENT_USERS = 30


# --------------------------------------------------------------------------------------------
# Per-user fields in the engine


def lifecycle_states(user_days: ir.Table, period: Period, window_days: int = 7) -> ir.Table:
    """``user_id, lifecycle``: each user's state in the last window of
    :func:`lib.segments.lifecycle` (same windows, same definition), users without one left out.

    The last window ``L`` is the ``window_days`` local days ending on ``end``: *new* when active
    in ``L`` and first active in it; *returning* when active in ``L`` and in the window before;
    *resurrected* when active in ``L``, not in the window before, seen earlier; *dormant* when
    active in the window before but not in ``L``. No window fits the period: no row.
    """
    parameters.check("lifecycle_days", window_days, "window_days")
    days = user_days.filter(user_days.user_id.notnull(), user_days.day <= period.end_day)
    if period.n_days // window_days == 0:
        return days.select("user_id", lifecycle=ibis.literal(None, "string")).limit(0)
    last_start = period.end_day - window_days + 1
    firsts = days.group_by("user_id").aggregate(first_day=days.day.min())
    recent = days.filter(days.day >= last_start - window_days)
    per_user = recent.group_by("user_id").aggregate(
        in_last=(recent.day >= last_start).cast("int64").max(),
        in_before=(recent.day < last_start).cast("int64").max(),
    )
    per_user = per_user.join(firsts, "user_id")
    state = ibis.cases(
        ((per_user.in_last == 1) & (per_user.first_day >= last_start), "new"),
        ((per_user.in_last == 1) & (per_user.in_before == 1), "returning"),
        (per_user.in_last == 1, "resurrected"),
        else_="dormant",
    )
    return per_user.select("user_id", lifecycle=state)


def _top_per_user(table: ir.Table, value: str, score: list, name: str) -> ir.Table:
    """``user_id, <name>``: each user's ``value`` of the first row by ``score`` (then by value)."""
    best = ibis.window(group_by="user_id", order_by=[*score, ibis.asc(value)])
    ranked = table.mutate(position=ibis.row_number().over(best))
    return ranked.filter(ranked.position == 0).select("user_id", **{name: ranked[value]})


def _favourite_category(
    period: Period,
    orders: ir.Table | None,
    order_items: ir.Table | None,
    products: ir.Table | None,
    events: ir.Table | None,
) -> ir.Table | None:
    """``user_id, favourite_category``: the largest paid line value in the period, else the most
    viewed category (ties alphabetical); None when there is neither lines nor events."""
    parts = []
    if orders is not None and order_items is not None:
        if products is not None:
            lines = paid_lines(orders, order_items, products, period)
        else:
            paid = paid_orders_in(orders, period)
            items = order_items.select("order_id", "quantity", "unit_price")
            lines = paid.join(items, "order_id").mutate(
                category=ibis.literal(UNKNOWN), revenue=ibis._.quantity * ibis._.unit_price
            )
        bought = lines.group_by(["user_id", "category"]).aggregate(
            score=lines.revenue.sum().round(MONEY_DECIMALS).cast("float64")
        )
        parts.append(bought.mutate(source=ibis.literal(0, "int64")))
    if events is not None:
        views = events_in(events, period).filter(
            lambda t: (t.event_name == "view_item") & t.sku_id.notnull() & t.user_id.notnull()
        )
        if products is not None:
            known = catalogue(products).select("catalogue_sku", "category")
            views = views.left_join(known, views.sku_id == known.catalogue_sku).select(
                "user_id", category=known.category.fill_null(UNKNOWN)
            )
        else:
            views = views.select("user_id", category=ibis.literal(UNKNOWN))
        viewed = views.group_by(["user_id", "category"]).aggregate(
            score=ibis._.count().cast("float64")
        )
        parts.append(viewed.mutate(source=ibis.literal(1, "int64")))
    if not parts:
        return None
    signals = parts[0] if len(parts) == 1 else ibis.union(*parts)
    signals = signals.select("user_id", "category", "score", "source")
    return _top_per_user(
        signals, "category", [ibis.asc("source"), ibis.desc("score")], "favourite_category"
    )


def _engine_table(
    period: Period,
    orders: ir.Table | None,
    events: ir.Table | None,
    order_items: ir.Table | None,
    products: ir.Table | None,
    users: ir.Table | None,
    activity_days: ir.Table,
    lifecycle_days: int,
) -> tuple[ir.Table, list[ir.Table]]:
    """The users in the period (``user_id``) and the per-user fields the engine computes, each
    a table keyed by ``user_id`` (users without a value have no row)."""
    keys, parts = [], []
    if events is not None:
        inside = events_in(events, period)
        inside = inside.filter(inside.user_id.notnull())
        # the period's active users from the stored user-days, not a distinct over its events
        days = data.user_days(events, period)
        in_period = days.filter(
            days.user_id.notnull(), days.day.between(period.start_day, period.end_day)
        )
        keys.append(in_period.select("user_id"))
        platform = inside.platform.cast("string").fill_null(UNKNOWN)
        platforms = (
            inside.mutate(platform=platform)
            .group_by(["user_id", "platform"])
            .aggregate(events=ibis._.count())
        )
        parts.append(_top_per_user(platforms, "platform", [ibis.desc("events")], "main_platform"))
        parts.append(inside.group_by("user_id").aggregate(sessions=inside.session_id.nunique()))
    if orders is not None:
        paid = paid_orders_in(orders, period)
        keys.append(paid.select("user_id"))
        parts.append(
            paid.group_by("user_id").aggregate(
                orders=paid.count(), gmv=paid.paid_amount.sum().round(MONEY_DECIMALS)
            )
        )
    population = (keys[0] if len(keys) == 1 else ibis.union(*keys)).distinct()
    # first and last seen: any event or paid order, whole history up to end
    history = []
    if events is not None:
        history.append(segments.user_days_from_events(events, period))
    if orders is not None:
        history.append(segments.user_days_from_orders(orders, period))
    seen = history[0] if len(history) == 1 else ibis.union(*history)
    parts.append(
        seen.group_by("user_id").aggregate(first_day=seen.day.min(), last_day=seen.day.max())
    )
    active = activity_days.filter(
        activity_days.day >= period.start_day, activity_days.day <= period.end_day
    )
    parts.append(active.group_by("user_id").aggregate(active_days=active.day.nunique()))
    parts.append(lifecycle_states(activity_days, period, lifecycle_days))
    favourite = _favourite_category(period, orders, order_items, products, events)
    if favourite is not None:
        parts.append(favourite)
    if users is not None:
        parts.append(
            users.group_by("user_id").aggregate(
                acquisition_channel=users.acquisition_channel.cast("string").max(),
                region=users.region.cast("string").max(),
            )
        )
    return population, parts


def _labels(values: pd.Series) -> pd.Series:
    """``values`` as an object Series whose equal labels are one Python string, missing ones None
    (an object dtype: assigned as an array, pandas would make it a string column with NaN).

    A column of a few labels over every user (platform, segment, region) converted element by
    element holds one string object per user: at 100M events, seven such columns of 1.4 million
    users took half a GB of the portrait's 650 MB. The labels are the same either way.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    labels = np.empty(len(uniques) + 1, dtype=object)  # the last one, None, for code -1
    labels[: len(uniques)] = [str(u) for u in uniques]
    return pd.Series(labels[codes], index=values.index, dtype=object)


def user_portrait(
    orders: ir.Table | None,
    period: Period,
    events: ir.Table | None = None,
    order_items: ir.Table | None = None,
    products: ir.Table | None = None,
    users: ir.Table | None = None,
    *,
    lifecycle_days: int = parameters.default("lifecycle_days"),
    activity_window_days: int = parameters.default("activity_window_days"),
    highly_active_days: int = parameters.default("highly_active_days"),
    churn_days: int = parameters.default("churn_days"),
    rfm_lookback_days: int = parameters.default("rfm_lookback_days"),
    clv_time_unit: str = clv.DEFAULT_TIME_UNIT,
    clv_horizon_days: int = clv.DEFAULT_HORIZON_DAYS,
    clv_discount_rate: float = clv.DEFAULT_DISCOUNT_RATE,
    clv_table: pd.DataFrame | None = None,
    rfm_table: pd.DataFrame | None = None,
    activity_table: pd.DataFrame | None = None,
    activity_days: ir.Table | None = None,
) -> pd.DataFrame:
    """``tables/user_portrait.csv`` (:data:`PORTRAIT_COLUMNS`, definitions in the module
    docstring), one row per user active or buying in the period, sorted by ``user_id``.

    ``orders`` or ``events`` may be None (an events-only or orders-only source), not both.
    ``clv_table`` (:func:`lib.clv.lifetime_value`'s first table), ``rfm_table``
    (:func:`lib.segments.rfm_scores`), ``activity_table`` (:func:`lib.segments.activity_segments`)
    and ``activity_days`` (:func:`lib.segments.activity_user_days`) are used when given, so
    nothing is computed twice; otherwise they are made with the parameters here.
    """
    if activity_days is None:
        activity_days, _ = segments.activity_user_days(period, orders, events)
    if activity_table is None:
        activity_table = segments.activity_segments(
            activity_days, period, activity_window_days, highly_active_days, churn_days
        )
    if orders is not None and rfm_table is None:
        rfm_table = segments.rfm_scores(orders, period, rfm_lookback_days)
    if orders is not None and clv_table is None:
        clv_table, _ = clv.lifetime_value(
            orders, period, clv_time_unit, clv_horizon_days, clv_discount_rate
        )
    population, parts = _engine_table(
        period, orders, events, order_items, products, users, activity_days, lifecycle_days
    )
    # one query per field, each joined in the engine to the period's users (kept there, in
    # user order) so that its rows come back aligned with them: one query computing every field
    # at once held all their groupings together (at 10M events a quarter of a GB more at its
    # peak), and joining the fields in pandas cost several seconds at 100M
    with population.cache() as users_in:
        ordered = users_in.order_by("user_id")
        table = ordered.to_pandas()
        for part in parts:
            columns = [c for c in part.columns if c != "user_id"]
            aligned = users_in.left_join(part, users_in.user_id == part.user_id)
            aligned = aligned.select(users_in.user_id, *[part[c] for c in columns])
            values = aligned.order_by("user_id").drop("user_id").to_pandas()
            for column in columns:
                table[column] = values[column].to_numpy()
    n = len(table)
    for column in ("acquisition_channel", "region"):
        values = table[column] if column in table.columns else pd.Series([None] * n, dtype=object)
        table[column] = _labels(values.fillna(UNKNOWN))
    table["first_seen"] = to_timestamps(table.pop("first_day")).to_numpy()
    table["last_seen"] = to_timestamps(table.pop("last_day")).to_numpy()
    table["active_days"] = table["active_days"].fillna(0).astype("int64")
    if events is not None:
        table["sessions"] = table["sessions"].fillna(0).astype("int64")
    else:
        table["sessions"] = pd.Series([pd.NA] * n, dtype="Int64")
        table["main_platform"] = None
    if orders is not None:
        table["orders"] = table["orders"].fillna(0).astype("int64")
        table["gmv"] = table["gmv"].fillna(0.0).astype("float64").round(MONEY_DECIMALS)
    else:
        table["orders"] = np.zeros(n, dtype="int64")
        table["gmv"] = np.zeros(n, dtype="float64")
    bought = table["orders"] > 0
    aov = table["gmv"] / table["orders"].where(bought)
    table["aov"] = aov.astype("float64").round(MONEY_DECIMALS)
    if "favourite_category" not in table.columns:
        table["favourite_category"] = None
    table = table.set_index("user_id")
    if rfm_table is not None:
        table["rfm_segment"] = rfm_table.set_index("user_id")["rfm_segment"]
    else:
        table["rfm_segment"] = None
    table["activity_segment"] = activity_table.set_index("user_id")["segment"]
    if clv_table is not None:
        values = clv_table.set_index("user_id")
        table["p_alive"] = values["p_alive"].astype("float64")
        table["expected_value"] = values["expected_value"].astype("float64")
    else:
        table["p_alive"] = np.nan
        table["expected_value"] = np.nan
    for column in (
        "main_platform",
        "favourite_category",
        "rfm_segment",
        "lifecycle",
        "activity_segment",
    ):
        table[column] = _labels(table[column])
    table = table.rename_axis("user_id").reset_index().sort_values("user_id")
    return table.reset_index(drop=True)[PORTRAIT_COLUMNS]


# --------------------------------------------------------------------------------------------
# Each segment's portrait


def _top_share(values: pd.Series) -> tuple[object, float]:
    """The most frequent non-null value (ties alphabetical) and its share of the non-null ones."""
    known = values.dropna().astype(str)
    if known.empty:
        return None, np.nan
    counts = known.value_counts()
    top = counts[counts == counts.max()].index.min()
    return top, counts[top] / len(known)


def segment_portraits(portrait: pd.DataFrame, by: str = "rfm_segment") -> pd.DataFrame:
    """One row per value of ``by`` (users without one under :data:`NO_SEGMENT`), sorted by GMV
    descending (then users, then name): :data:`SEGMENT_COLUMNS`.

    ``share``, ``gmv_share`` and ``expected_value_share`` are of the portrait's totals;
    ``buyers`` bought in the period; ``aov`` = segment GMV / its orders; ``p_alive_mean`` over
    the users with a value (those who ever bought); ``expected_value`` the sum (CLV horizon).
    ``top_channel`` / ``top_category`` / ``top_platform``: the most common acquisition channel,
    favourite category and main platform, each with its share of the segment's users who have
    one (ties alphabetical).
    """
    groups = portrait.assign(segment=portrait[by].astype(object).where(portrait[by].notna()))
    groups["segment"] = groups["segment"].fillna(NO_SEGMENT)
    total_users = len(portrait)
    total_gmv = float(portrait["gmv"].sum())
    total_value = float(portrait["expected_value"].sum(min_count=1))
    rows = []
    for name, members in groups.groupby("segment", sort=True):
        users = len(members)
        orders = int(members["orders"].sum())
        gmv = round(float(members["gmv"].sum()), MONEY_DECIMALS)
        value = members["expected_value"].sum(min_count=1)
        channel, channel_share = _top_share(members["acquisition_channel"])
        category, category_share = _top_share(members["favourite_category"])
        platform, platform_share = _top_share(members["main_platform"])
        buyers = int((members["orders"] > 0).sum())
        rows.append(
            {
                "segment": name,
                "users": users,
                "share": users / total_users,
                "active_days_mean": float(members["active_days"].mean()),
                "buyers": buyers,
                "buyers_share": buyers / users,
                "orders": orders,
                "gmv": gmv,
                "gmv_share": gmv / total_gmv if total_gmv else np.nan,
                "aov": round(gmv / orders, MONEY_DECIMALS) if orders else np.nan,
                "p_alive_mean": float(members["p_alive"].mean()),
                "expected_value": round(float(value), MONEY_DECIMALS),
                "expected_value_share": value / total_value if total_value else np.nan,
                "expected_value_per_user": round(float(value) / users, MONEY_DECIMALS),
                "top_channel": channel,
                "top_channel_share": channel_share,
                "top_category": category,
                "top_category_share": category_share,
                "top_platform": platform,
                "top_platform_share": platform_share,
            }
        )
    table = pd.DataFrame(rows, columns=SEGMENT_COLUMNS)
    table = table.sort_values(["gmv", "users", "segment"], ascending=[False, False, True])
    return table.reset_index(drop=True)


def _money(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.2f}"


def portrait_note(
    portrait: pd.DataFrame,
    table: pd.DataFrame,
    by: str = "rfm_segment",
    min_users: int = MIN_SEGMENT_USERS,
) -> str:
    """Sentences from :func:`user_portrait` and :func:`segment_portraits`: how many users and
    buyers, the largest segment, and, among segments of at least ``min_users`` users, the one
    worth the most per user (expected value) with its typical channel and favourite category,
    each against all users (n shown)."""
    if portrait.empty:
        return "No user was active or bought in the period: no portrait."
    buyers = int((portrait["orders"] > 0).sum())
    parts = [f"{len(portrait):,} users were active or bought in the period ({buyers:,} bought)."]
    named = table[table["segment"] != NO_SEGMENT]
    outside = table.loc[table["segment"] == NO_SEGMENT, "users"].sum()
    if outside:
        parts.append(
            f"{int(outside):,} ({outside / len(portrait):.0%}) have no {by.replace('_', ' ')}."
        )
    if named.empty:
        return " ".join(parts)
    largest = named.sort_values(["users", "segment"], ascending=[False, True]).iloc[0]
    parts.append(
        f"By {by.replace('_', ' ')}, the largest segment is {largest['segment']} "
        f"({int(largest['users']):,} users, {largest['share']:.0%}; "
        f"{largest['gmv_share']:.0%} of the GMV)."
        if pd.notna(largest["gmv_share"])
        else f"By {by.replace('_', ' ')}, the largest segment is {largest['segment']} "
        f"({int(largest['users']):,} users, {largest['share']:.0%})."
    )
    large = named[(named["users"] >= min_users) & named["expected_value_per_user"].notna()]
    large = large[large["expected_value_per_user"] > 0]
    if len(large) < 2:
        parts.append(
            f"Fewer than two segments of at least {min_users} users have an expected value: "
            "none is singled out."
        )
        return " ".join(parts)
    best = large.sort_values(["expected_value_per_user", "segment"], ascending=[False, True]).iloc[
        0
    ]
    overall = float(portrait["expected_value"].sum()) / len(portrait)
    parts.append(
        f"Per user, {best['segment']} is worth the most in the coming horizon: "
        f"{_money(best['expected_value_per_user'])} expected against {_money(overall)} for all "
        f"users (n = {int(best['users']):,})."
    )
    members = portrait[portrait[by].astype(object) == best["segment"]]
    rest = portrait[portrait[by].astype(object) != best["segment"]]
    typical = []
    for column, top, what in (
        ("acquisition_channel", best["top_channel"], "acquisition channel"),
        ("favourite_category", best["top_category"], "favourite category"),
    ):
        if top is None:
            continue
        inside, outside = members[column].dropna().astype(str), rest[column].dropna().astype(str)
        hits, others = int((inside == top).sum()), int((outside == top).sum())
        p_value = stats.two_proportion_pvalue(hits, len(inside), others, len(outside))
        shares = (
            f"{hits / len(inside):.0%} of {len(inside):,} against "
            f"{others / len(outside) if len(outside) else np.nan:.0%} of the other "
            f"{len(outside):,} users"
        )
        if p_value < stats.ALPHA and hits / len(inside) > others / max(len(outside), 1):
            typical.append(f"{what} is {top}, more common than among other users ({shares})")
        else:
            typical.append(f"{what} is {top}, but no more common than among others ({shares})")
    if typical:
        parts.append("Their most common " + "; ".join(typical) + ".")
    return " ".join(parts)


def members_only(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`segment_portraits` without the users who have no segment (:data:`NO_SEGMENT`), its
    ``share``, ``gmv_share`` and ``expected_value_share`` taken again among the segments'
    members, so that a chart of the segments is not flattened by the users outside them (for
    RFM, everyone who did not buy in the lookback)."""
    kept = table[table["segment"] != NO_SEGMENT].copy()
    for share, total in (
        ("share", "users"),
        ("gmv_share", "gmv"),
        ("expected_value_share", "expected_value"),
    ):
        whole = kept[total].sum()
        kept[share] = kept[total] / whole if whole else float("nan")
    return kept.reset_index(drop=True)
