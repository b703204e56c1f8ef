"""Cohort retention (留存率): next-day, 3-, 7-, 14- and 30-day retention.

Definitions (docs/metrics.md):

- A user's *cohort date* is the local day of their first start event anywhere in the source
  (default: any event). Cohorts are the users whose cohort date lies in ``[start, end]``.
- Day ``N`` is the local calendar day ``cohort_date + N``. A user is *retained on day N* when they
  have a return event (default: any event) on that day; *retained on or after day N* when they
  have one on that day or any later day (unbounded). Activity after ``end`` counts.
- A ``(cohort, N)`` cell is reported only when ``cohort_date + N`` is on or before the last local
  day present in the events, so young cohorts are never shown as churned.
- Rates divide by the cohort size.
- *Weekly cohorts* (``granularity="week"``) group users by the local week (Monday to Sunday) of
  their cohort date, clipped to the period; ``cohort_date`` is that Monday. Day N still counts from
  each user's own cohort date, so the curve means the same as with daily cohorts. A cell is
  reported only when the cohort's last possible member (its last day in the period) has reached
  day N.

The *magic number* (:func:`early_behaviour_retention`, :func:`magic_number`): for cohort users who
can be followed to ``retention_day``, count an early behaviour in their first ``k_days`` local days
(days ``0 … k_days − 1``): active days, paid orders, or events of one name. A threshold ``t`` splits
them into "count ≥ t" and "count < t"; the magic number is the ``t`` with the largest Youden's J =
share of retained users at or above ``t`` − share of churned users at or above ``t`` (the ROC
criterion for the cut that best separates the two groups; ties go to the smaller ``t``). Its
``lift`` is retention at or above ``t`` divided by retention below. It is a correlation: users who
do more early may simply be the more interested ones.

*Retention phases* (:func:`retention_phases`) on the average curve ``r(N)`` (return on day N):
``loss(N)`` is the average daily drop over the next ``window`` days as a share of day-1 retention,
``(r(N) − r(N + w)) / (w · r(1))`` with ``w = min(window, max_day − N)``. The *volatile* phase runs
from day 0 until the first day ``V ≥ 1`` with ``loss < volatile_below``; the *selection* phase from
``V`` until the first day ``S ≥ V`` with ``loss < stable_below``; the *stable* phase from ``S``
on. Without such a day the earlier phase runs to the end of the curve.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from lib import data, parameters, stats
from lib.definitions import paid_orders, week_start
from lib.periods import Period, check_lengths, to_timestamps

DEFAULT_MAX_DAY = parameters.default("max_day")
HEADLINE_DAYS = (1, 3, 7, 14, 30)
GRANULARITIES = parameters.choices("cohort_granularity")
RETENTION_MEASURES = ("on", "on_or_after")
# Behaviours the magic number can count besides a named event.
ACTIVE_DAYS = "active_days"
PURCHASES = "purchases"
PHASES = ("volatile", "selection", "stable")

COLUMNS = [
    "cohort_date",
    "cohort_size",
    "day",
    "retained_users",
    "retention_rate",
    "retained_on_or_after",
    "retention_rate_on_or_after",
]


def _named(events: ir.Table, event_name: str | None) -> ir.Table:
    return events if event_name is None else events.filter(events.event_name == event_name)


def last_event_day(events: ir.Table, period: Period) -> int:
    """The last local day present in the events: the retention horizon."""
    return int(period.local_day(events.event_time.max()).to_pandas())


def cohort_users(events: ir.Table, period: Period, start_event: str | None = None) -> ir.Table:
    """``user_id, cohort_day``: users whose first start event anywhere falls in the period.

    Any event (``start_event`` None): the user's first day of :func:`lib.data.user_days`.
    """
    if start_event is None:
        days = data.user_days(events, period)
        cohort = days.group_by("user_id").aggregate(cohort_day=days.day.min())
        return cohort.filter(cohort.cohort_day.between(period.start_day, period.end_day))
    starts = _named(events, start_event)
    first = starts.group_by("user_id").aggregate(first_time=starts.event_time.min())
    cohort = first.select("user_id", cohort_day=period.local_day(first.first_time))
    return cohort.filter(cohort.cohort_day.between(period.start_day, period.end_day))


def _return_days(events: ir.Table, period: Period, return_event: str | None) -> ir.Table:
    """Distinct ``user_id, day`` with a return event from the period's start on (any event:
    :func:`lib.data.user_days`)."""
    if return_event is None:
        days = data.user_days(events, period)
        return days.filter(days.day >= period.start_day)
    returns = _named(events, return_event)
    lo, _ = period.utc_bounds()
    returns = returns.filter(returns.event_time >= ibis.literal(lo, "timestamp"))
    return returns.select("user_id", day=period.local_day(returns.event_time)).distinct()


def cohort_retention(
    events: ir.Table,
    period: Period,
    max_day: int = DEFAULT_MAX_DAY,
    start_event: str | None = None,
    return_event: str | None = None,
    granularity: str = "day",
) -> pd.DataFrame:
    """``cohort_date, cohort_size, day, retained_users, retention_rate, retained_on_or_after,
    retention_rate_on_or_after`` for daily (or weekly) cohorts, days ``0..max_day``."""
    parameters.check("max_day", max_day)
    parameters.check("cohort_granularity", granularity, "granularity")
    cohort = cohort_users(events, period, start_event)
    key = cohort.cohort_day if granularity == "day" else week_start(cohort.cohort_day)
    cohort = cohort.mutate(cohort_key=key)
    active = _return_days(events, period, return_event)

    joined = cohort.join(active, "user_id").filter(lambda t: t.day >= t.cohort_day)
    joined = joined.mutate(offset=joined.day - joined.cohort_day)
    # Three small counts in one query: the cohort and the join are subqueries it uses more than
    # once, which Ibis writes as CTEs and DuckDB computes once (three queries scanned the events
    # five times). ``n`` is cohort size, users retained on day ``k``, or users last seen on ``k``
    # (capped at max_day: "on or after N" only asks whether the last return is ≥ N ≤ max_day).
    sizes = (
        cohort.group_by("cohort_key")
        .aggregate(n=ibis._.count())
        .mutate(kind=ibis.literal("size"), k=ibis.literal(0, "int64"))
    )
    on_day = (
        joined.filter(joined.offset <= max_day)
        .group_by("cohort_key", k=joined.offset)
        .aggregate(n=ibis._.count())
        .mutate(kind=ibis.literal("on"))
    )
    last_offsets = joined.group_by(["user_id", "cohort_key"]).aggregate(last=joined.offset.max())
    last_counts = (
        last_offsets.group_by("cohort_key", k=ibis.least(last_offsets["last"], max_day))
        .aggregate(n=ibis._.count())
        .mutate(kind=ibis.literal("last"))
    )
    columns = ["kind", "cohort_key", "k", "n"]
    counts = ibis.union(*(t.select(columns) for t in (sizes, on_day, last_counts))).to_pandas()
    counts = counts.astype({"cohort_key": "int64", "k": "int64", "n": "int64"})
    sizes = counts[counts["kind"] == "size"][["cohort_key", "n"]]
    on_day = counts[counts["kind"] == "on"].rename(columns={"k": "offset", "n": "retained_users"})
    last_counts = counts[counts["kind"] == "last"].rename(columns={"k": "last", "n": "users"})
    horizon = last_event_day(events, period)

    # one row per cohort and day the cohort's youngest member has reached (the youngest member
    # of a weekly cohort joined on the week's last day in the period), built in whole columns
    sizes = sizes.sort_values("cohort_key")
    keys = sizes["cohort_key"].to_numpy()
    youngest = keys if granularity == "day" else np.minimum(keys + 6, period.end_day)
    n_days = np.clip(np.minimum(max_day, horizon - youngest) + 1, 0, None)
    table = pd.DataFrame(
        {
            "cohort_day": np.repeat(keys, n_days),
            "cohort_size": np.repeat(sizes["n"].to_numpy(), n_days),
        }
    )
    table["day"] = table.groupby("cohort_day").cumcount()
    cells = pd.MultiIndex.from_arrays([table["cohort_day"], table["day"]])
    retained = on_day.set_index(["cohort_key", "offset"])["retained_users"]
    table["retained_users"] = retained.reindex(cells).fillna(0).to_numpy()
    # users whose last return is on day k or later: a reverse running sum over k per cohort
    by_last = (
        last_counts.groupby(["cohort_key", "last"])["users"]
        .sum()
        .unstack(fill_value=0)
        .reindex(index=keys, columns=range(max_day + 1), fill_value=0)
    )
    at_least = by_last.iloc[:, ::-1].cumsum(axis=1).iloc[:, ::-1].stack()
    table["retained_on_or_after"] = at_least.reindex(cells).fillna(0).to_numpy()
    table = table.astype("int64")
    table.insert(0, "cohort_date", to_timestamps(table.pop("cohort_day")).to_numpy())
    table["retention_rate"] = table["retained_users"] / table["cohort_size"]
    table["retention_rate_on_or_after"] = table["retained_on_or_after"] / table["cohort_size"]
    return table[COLUMNS]


def average_retention(cohorts: pd.DataFrame) -> pd.DataFrame:
    """The retention curve over all cohorts, weighted by cohort size: ``day, cohorts, users,
    retained_users, retention_rate, retention_rate_on_or_after``.

    Each day pools only the cohorts old enough to have that day, so the curve is not dragged down
    by cohorts that have not reached it yet.
    """
    grouped = cohorts.groupby("day", as_index=False).agg(
        cohorts=("cohort_date", "nunique"),
        users=("cohort_size", "sum"),
        retained_users=("retained_users", "sum"),
        retained_on_or_after=("retained_on_or_after", "sum"),
    )
    grouped["retention_rate"] = grouped["retained_users"] / grouped["users"]
    grouped["retention_rate_on_or_after"] = grouped["retained_on_or_after"] / grouped["users"]
    return grouped


def headline_retention(
    cohorts: pd.DataFrame, days: tuple[int, ...] = HEADLINE_DAYS
) -> pd.DataFrame:
    """Next-day (次日), 3-, 7-, 14- and 30-day retention from :func:`average_retention`."""
    curve = average_retention(cohorts).set_index("day")
    rows = [
        {
            "day": day,
            "retention_rate": curve["retention_rate"].get(day, float("nan")),
            "cohort_users": int(curve["users"].get(day, 0)),
        }
        for day in days
    ]
    return pd.DataFrame(rows)


def early_behaviour_by_user(
    events: ir.Table,
    period: Period,
    behaviour: str = ACTIVE_DAYS,
    k_days: int = 7,
    retention_day: int = DEFAULT_MAX_DAY,
    orders: ir.Table | None = None,
    start_event: str | None = None,
    return_event: str | None = None,
    measure: str = "on_or_after",
) -> ir.Table:
    """``user_id, cohort_day, behaviour_count, retained`` for the cohort users of the period who
    can be followed to ``retention_day`` (``cohort_day + retention_day`` ≤ the last event day).

    ``behaviour`` is ``"active_days"`` (local days with any event), ``"purchases"`` (paid orders,
    by local payment day; needs ``orders``) or an event name, counted on days ``0 … k_days − 1``.
    ``retained``: a return event on ``retention_day`` (``measure="on"``) or on it or later
    (``"on_or_after"``).
    """
    if measure not in RETENTION_MEASURES:
        raise ValueError(f"measure={measure!r} should be one of {RETENTION_MEASURES}")
    parameters.check("magic_k_days", k_days, "k_days")
    parameters.check("magic_retention_day", retention_day, "retention_day")
    if retention_day < k_days:
        raise ValueError(f"need 1 ≤ k_days ≤ retention_day (got {k_days}, {retention_day})")
    horizon = last_event_day(events, period)
    cohort = cohort_users(events, period, start_event)
    cohort = cohort.filter(cohort.cohort_day + retention_day <= horizon)

    # one row per counted unit: a paid order, an active day, or an event
    if behaviour == PURCHASES:
        if orders is None:
            raise ValueError("behaviour='purchases' needs the orders table")
        paid = paid_orders(orders)
        acts = paid.select("user_id", day=period.local_day(paid.paid_time))
    elif behaviour == ACTIVE_DAYS:
        acts = _return_days(events, period, None)
    else:
        named = _named(events, behaviour)
        lo, _ = period.utc_bounds()
        named = named.filter(named.event_time >= ibis.literal(lo, "timestamp"))
        acts = named.select("user_id", day=period.local_day(named.event_time))
    early = cohort.join(acts, "user_id")
    early = early.filter(early.day >= early.cohort_day, early.day < early.cohort_day + k_days)
    counts = early.group_by("user_id").aggregate(behaviour_count=ibis._.count())

    returns = cohort.join(_return_days(events, period, return_event), "user_id")
    target = returns.cohort_day + retention_day
    hit = returns.day == target if measure == "on" else returns.day >= target
    retained = returns.filter(hit).select("user_id").distinct().mutate(retained=ibis.literal(True))

    table = cohort.left_join(counts, "user_id").select(
        cohort.user_id, cohort.cohort_day, behaviour_count=counts.behaviour_count.fill_null(0)
    )
    table = table.left_join(retained, "user_id").select(
        table.user_id,
        table.cohort_day,
        table.behaviour_count,
        retained=retained.retained.fill_null(False),
    )
    return table


def early_behaviour_retention(users: ir.Table, max_count: int = 10) -> pd.DataFrame:
    """``behaviour_count, users, retained_users, retention_rate`` per early-behaviour count
    (counts of ``max_count`` or more pooled in the ``max_count`` row, labelled ``"10+"``)."""
    capped = users.mutate(behaviour_count=ibis.least(users.behaviour_count, max_count))
    table = (
        capped.group_by("behaviour_count")
        .aggregate(users=ibis._.count(), retained_users=ibis._.retained.cast("int64").sum())
        .to_pandas()
        .sort_values("behaviour_count")
        .reset_index(drop=True)
        .astype("int64")
    )
    table["retention_rate"] = table["retained_users"] / table["users"]
    table["label"] = table["behaviour_count"].astype(str)
    table.loc[table["behaviour_count"] == max_count, "label"] = f"{max_count}+"
    return table


def magic_number_thresholds(by_count: pd.DataFrame) -> pd.DataFrame:
    """Every threshold ``t`` above the smallest count: users at or above it and below it, their
    retention, ``lift`` (retention above / below), Youden's ``youden_j`` and ``p_value``, the
    two-sided test that retention above and below differ (:func:`lib.stats.two_proportion_pvalue`).
    """
    total_users = int(by_count["users"].sum())
    total_retained = int(by_count["retained_users"].sum())
    total_churned = total_users - total_retained
    rows = []
    for t in sorted(by_count["behaviour_count"])[1:]:
        above = by_count[by_count["behaviour_count"] >= t]
        users_above, retained_above = int(above["users"].sum()), int(above["retained_users"].sum())
        users_below, retained_below = total_users - users_above, total_retained - retained_above
        churned_above = users_above - retained_above
        rate_above = retained_above / users_above
        rate_below = retained_below / users_below if users_below else float("nan")
        rows.append(
            {
                "threshold": int(t),
                "users_above": users_above,
                "share_above": users_above / total_users,
                "retention_above": rate_above,
                "retention_below": rate_below,
                "lift": rate_above / rate_below if rate_below > 0 else float("nan"),
                "youden_j": (
                    retained_above / total_retained - churned_above / total_churned
                    if total_retained and total_churned
                    else float("nan")
                ),
                "users_below": users_below,
                "p_value": stats.two_proportion_pvalue(
                    retained_above, users_above, retained_below, users_below
                ),
            }
        )
    columns = [
        "threshold",
        "users_above",
        "share_above",
        "retention_above",
        "retention_below",
        "lift",
        "youden_j",
        "users_below",
        "p_value",
    ]
    return pd.DataFrame(rows, columns=columns)


def magic_number(
    by_count: pd.DataFrame, min_users: int = 30, alpha: float = stats.ALPHA
) -> pd.DataFrame:
    """The threshold with the largest Youden's J (ties: the smaller threshold) among those that
    leave at least ``min_users`` users on each side and whose retention above and below differ
    at ``p < alpha``; one row, or none when no threshold qualifies (every user has the same
    count, nobody or everybody was retained, or the difference is within the noise)."""
    parameters.check("magic_min_users", min_users, "min_users")
    thresholds = magic_number_thresholds(by_count).dropna(subset=["youden_j", "p_value"])
    thresholds = thresholds[
        (thresholds["users_above"] >= min_users)
        & (thresholds["users_below"] >= min_users)
        & (thresholds["p_value"] < alpha)
    ]
    if thresholds.empty:
        return thresholds.reset_index(drop=True)
    best = thresholds.sort_values(["youden_j", "threshold"], ascending=[False, True]).head(1)
    return best.reset_index(drop=True)


def magic_number_note(best: pd.DataFrame, behaviour: str, k_days: int, day: int) -> str:
    """The sentence on :func:`magic_number`'s row: the threshold, both retention rates, the
    group sizes and the test; or that no threshold separates retained users beyond the noise."""
    behaviour = behaviour.replace("_", " ")
    if best.empty:
        return (
            f"No count of {behaviour} in the first {k_days} days separates users retained on or "
            f"after day {day} from the others beyond the noise (with enough users on both sides):"
            " no magic number here."
        )
    row = best.iloc[0]
    p_text = "p < 0.001" if row["p_value"] < 0.001 else f"p = {row['p_value']:.3f}"
    return (
        f"Users with {int(row['threshold'])} or more {behaviour} in their first {k_days} days: "
        f"{row['retention_above']:.0%} retained on or after day {day}, against "
        f"{row['retention_below']:.0%} of the others (lift {row['lift']:.1f}; "
        f"{int(row['users_above']):,} and {int(row['users_below']):,} users; {p_text})."
    )


def retention_phases(
    curve: pd.DataFrame,
    volatile_below: float = 0.05,
    stable_below: float = 0.01,
    window: int = 7,
) -> pd.DataFrame:
    """``day, retention_rate, loss, phase`` on the average curve (:func:`average_retention`).

    ``loss`` is the average daily drop over the next ``window`` days as a share of day-1 retention
    (the module docstring has the rule); ``phase`` is volatile, selection or stable.
    """
    # shares of day 1 lost per day: at 0 a falling curve never leaves the volatile phase
    parameters.check("phase_volatile_below", volatile_below, "volatile_below")
    parameters.check("phase_stable_below", stable_below, "stable_below")
    check_lengths(window=window)  # below 1 no next days to average over: every loss is NaN
    rates = curve.set_index("day")["retention_rate"].sort_index()
    if rates.empty:
        return pd.DataFrame({"day": [], "retention_rate": [], "loss": [], "phase": []})
    last = int(rates.index.max())
    day_one = rates.get(1, float("nan"))
    loss = pd.Series(float("nan"), index=rates.index)
    for day in rates.index:
        span = min(window, last - day)
        if day >= 1 and span > 0 and day_one > 0:
            loss[day] = (rates[day] - rates[day + span]) / (span * day_one)
    below_volatile = [d for d in loss.index if d >= 1 and loss[d] < volatile_below]
    selection_from = below_volatile[0] if below_volatile else last + 1
    below_stable = [d for d in loss.index if d >= selection_from and loss[d] < stable_below]
    stable_from = below_stable[0] if below_stable else last + 1
    phase = [
        "volatile" if d < selection_from else "selection" if d < stable_from else "stable"
        for d in rates.index
    ]
    return pd.DataFrame(
        {
            "day": rates.index.astype("int64"),
            "retention_rate": rates.to_numpy(),
            "loss": loss.to_numpy(),
            "phase": phase,
        }
    )


def phase_summary(phases: pd.DataFrame) -> pd.DataFrame:
    """``phase, first_day, last_day, retention_first, retention_last``: one row per phase met."""
    grouped = phases.groupby("phase", sort=False).agg(
        first_day=("day", "min"),
        last_day=("day", "max"),
        retention_first=("retention_rate", "first"),
        retention_last=("retention_rate", "last"),
    )
    order = [p for p in PHASES if p in grouped.index]
    return grouped.reindex(order).reset_index()
