"""Traffic: visitors, page views, active users and where they come from (活跃用户量, 流量).

Definitions (docs/metrics.md has the full table):

- ``uv(d) = dau(d)``: distinct users with any event on local day ``d``.
- ``wau(d)`` / ``mau(d)``: distinct users with any event in the 7 / 30 local days ending on ``d``.
- ``stickiness(d) = dau(d) / mau(d)``.
- ``new_users(d)``: users whose first event anywhere in the source falls on ``d``;
  ``returning_users = uv − new_users``.
- ``pv(d)``: ``page_view`` plus ``view_item`` events on ``d``.
- :func:`stickiness`: user-weeks (or 30-day blocks) by their number of active days, over the
  full weeks (blocks) of the period; the spread behind DAU / MAU.

Every function takes Ibis tables and a :class:`~lib.periods.Period` and returns a small pandas
DataFrame sorted by its keys; the event table itself is never pulled into pandas.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from lib import data, parameters
from lib.definitions import UNKNOWN, events_in
from lib.periods import Period, to_timestamps

PAGE_VIEW_EVENTS = ("page_view", "view_item")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def active_user_days(events: ir.Table, period: Period, days_before: int = 0) -> ir.Table:
    """Distinct ``(user_id, day)`` pairs with any event, from ``days_before`` days before start
    to the end (from :func:`lib.data.user_days`, made once per source and zone).

    Events without a user (the contract forbids them) belong to no one and are left out.
    """
    days = data.user_days(events, period)
    window = days.day.between(period.start_day - days_before, period.end_day)
    return days.filter(days.user_id.notnull(), window)


# Event columns the kept session-hours carry as breakdowns (the contract's, when present).
SESSION_HOUR_BREAKDOWNS = ("channel", "platform")
SESSION_HOURS_KEPT = 2  # two shops or zones in one notebook


def _carried(events: ir.Table) -> list[str]:
    """The breakdowns the session-hours of ``events`` carry (a table outside the contract may
    lack one)."""
    return [name for name in SESSION_HOUR_BREAKDOWNS if name in events.columns]


def session_hours(events: ir.Table, period: Period) -> ir.Table:
    """``user_id, session_id, day, hour, channel, platform, events, pv``: the period's events
    counted per user, session, local day, local hour and breakdown value (a missing value is
    ``(unknown)``), computed once per notebook and kept in the engine (:func:`lib.data.kept`).

    Every count of this module is a sum of ``events`` or ``pv``, or a distinct count of users or
    sessions, over some of these keys, so each reads this table (at 100M events a twentieth of
    the period's rows) instead of grouping the events again: exact, since a user or session with
    a given day, hour or value has at least one row with it.
    """
    inside = events_in(events, period)
    seconds = period.local_seconds(inside.event_time)
    keys = {
        "user_id": inside.user_id,
        "session_id": inside.session_id,
        "day": inside.day,
        "hour": (seconds % 86_400) // 3_600,
    }
    for name in _carried(events):
        keys[name] = inside[name].cast("string").fill_null(UNKNOWN)
    counted = inside.group_by(**keys).aggregate(
        events=inside.count(), pv=inside.event_name.isin(PAGE_VIEW_EVENTS).sum().cast("int64")
    )
    return data.kept(counted, "session_hours", SESSION_HOURS_KEPT)


def _covers(user_days: ir.Table, windows: tuple[int, ...], last_day: int) -> ir.Table:
    """``day, end_<w>…, n``: active user-days by day and by where their cover ends, per window.

    A user active on day ``a`` is counted in the ``w``-day window ending on every day of
    ``[a, a + w)``. Cut each such cover at the user's next active day (whose own cover takes
    over): one user's covers are then disjoint, so the number of covers containing a day is the
    number of distinct users active in the window ending on it. One window function (``lead``)
    and one grouping, instead of a distinct count per day (Spark has no
    ``count(distinct) over`` window); the result has at most a few thousand rows.
    """
    ordered = ibis.window(group_by="user_id", order_by="day")
    with_next = user_days.mutate(next_day=user_days.day.lead().over(ordered))
    day, next_day = with_next.day, with_next.next_day
    ends = {f"end_{w}": ibis.least(day + w, next_day.fill_null(day + w)) for w in windows}
    covers = with_next.filter(day <= last_day).select("day", **ends)
    return covers.group_by(["day", *ends]).aggregate(n=ibis._.count())


def _cover_counts(user_days: ir.Table, windows: tuple[int, ...], last_day: int) -> pd.DataFrame:
    """:func:`_covers` as a pandas frame."""
    return _covers(user_days, windows, last_day).to_pandas()


def _active_in_windows(
    counts: pd.DataFrame, window_days: int, first_day: int, last_day: int
) -> pd.Series:
    """Users per day ``first_day..last_day`` from :func:`_cover_counts`: covers begun − ended."""
    days = pd.RangeIndex(first_day, last_day + 1)
    begun = counts.groupby("day")["n"].sum()
    ended = counts.groupby(f"end_{window_days}")["n"].sum()
    index = begun.index.union(ended.index).union(days)
    change = begun.reindex(index, fill_value=0) - ended.reindex(index, fill_value=0)
    return change.sort_index().cumsum().reindex(days).astype("int64")


def _active_columns(counts: pd.DataFrame, first_day: int, last_day: int) -> pd.DataFrame:
    """``dau, wau, mau`` per day ``first_day..last_day`` (an index of epoch days) from
    :func:`_cover_counts` with windows 7 and 30."""
    days = pd.RangeIndex(first_day, last_day + 1)
    # every user-day begins exactly one cover: user-days per day are the day's distinct users
    dau = counts.groupby("day")["n"].sum().reindex(days).fillna(0).astype("int64")
    return pd.DataFrame(
        {
            "dau": dau,
            "wau": _active_in_windows(counts, 7, first_day, last_day),
            "mau": _active_in_windows(counts, 30, first_day, last_day),
        },
        index=days,
    )


def active_users(events: ir.Table, period: Period) -> pd.DataFrame:
    """``date, dau, wau, mau`` per local day of the period: the active-user columns of
    :func:`daily_traffic` alone, from the user-days of the 29 days before start to the end (no
    page views, sessions or new users)."""
    user_days = active_user_days(events, period, days_before=29)
    counts = _cover_counts(user_days, (7, 30), period.end_day)
    table = _active_columns(counts, period.start_day, period.end_day)
    table.insert(0, "date", to_timestamps(table.index).to_numpy())
    return table.reset_index(drop=True)


def _new_users(events: ir.Table, period: Period) -> ir.Table:
    """``day, n``: new users per local day of the period: users whose first day with an event
    anywhere in the source (:func:`lib.data.user_days`) is that day."""
    days = data.user_days(events, period)
    known = days.filter(days.user_id.notnull())
    firsts = known.group_by("user_id").aggregate(first_day=known.day.min())
    return (
        firsts.filter(firsts.first_day.between(period.start_day, period.end_day))
        .group_by(day=firsts.first_day)
        .aggregate(n=ibis._.count())
    )


def _fetch(parts: dict[str, ir.Table]) -> dict[str, pd.DataFrame]:
    """Small count tables (each ``day, a, b, c``) fetched together: one union query, whose parts
    read their shared subqueries once (Ibis writes them as CTEs), split back by part name."""
    union = ibis.union(
        *(
            t.select("day", kind=ibis.literal(kind), **{v: t[v].cast("int64") for v in "abc"})
            for kind, t in parts.items()
        )
    ).to_pandas()
    return {kind: union[union["kind"] == kind] for kind in parts}


def _active_and_new_parts(covers: ir.Table, new: ir.Table) -> dict[str, ir.Table]:
    """The :func:`_fetch` parts of :func:`_covers` (windows 7 and 30) and :func:`_new_users`."""
    zero = ibis.literal(0, "int64")
    return {
        "cover": covers.select("day", a="end_7", b="end_30", c="n"),
        "new": new.select("day", a="n", b=zero, c=zero),
    }


def _active_and_new(
    fetched: dict[str, pd.DataFrame], first: int, last: int
) -> tuple[pd.DataFrame, pd.Series]:
    """``dau, wau, mau`` (:func:`_active_columns`) and new users per day ``first..last``."""
    covers = fetched["cover"].rename(columns={"a": "end_7", "b": "end_30", "c": "n"})
    active = _active_columns(covers, first, last)
    new_users = fetched["new"].set_index("day")["a"].reindex(active.index)
    return active, new_users.fillna(0).astype("int64")


def _stickiness(dau: pd.Series, mau: pd.Series) -> pd.Series:
    """DAU / MAU, null where MAU is 0."""
    return (dau / mau.where(mau > 0)).astype("float64")


def active_and_new_users(events: ir.Table, period: Period) -> pd.DataFrame:
    """``date, dau, wau, mau, stickiness, new_users`` per local day of the period: those columns
    of :func:`daily_traffic` (the same numbers), without its page views and sessions.

    One query over the stored user-days (:func:`lib.data.user_days`) from 29 days before start:
    the covers of :func:`_covers` and :func:`_new_users`; no pass over the events.
    """
    first, last = period.start_day, period.end_day
    user_days = active_user_days(events, period, days_before=29)
    parts = _active_and_new_parts(_covers(user_days, (7, 30), last), _new_users(events, period))
    table, new_users = _active_and_new(_fetch(parts), first, last)
    table["stickiness"] = _stickiness(table["dau"], table["mau"])
    table["new_users"] = new_users
    table.insert(0, "date", to_timestamps(table.index).to_numpy())
    return table.reset_index(drop=True)


def daily_traffic(events: ir.Table, period: Period) -> pd.DataFrame:
    """A row per local day: ``date, uv, pv, new_users, returning_users, dau, wau, mau, stickiness``.

    Also ``sessions`` (distinct ``session_id``) and ``events``. Days without events appear with 0.
    One query: the users from the stored user-days (:func:`lib.data.user_days`), page views,
    sessions and events from the kept :func:`session_hours`.
    """
    first, last = period.start_day, period.end_day
    covers = _covers(active_user_days(events, period, days_before=29), (7, 30), last)
    counted = session_hours(events, period)
    per_day = counted.group_by("day").aggregate(
        pv=counted.pv.sum().cast("int64"),
        sessions=counted.session_id.nunique(),
        events=counted.events.sum().cast("int64"),
    )
    new = _new_users(events, period)
    # the three results share one schema (day and three numbers) to travel as one union
    parts = _active_and_new_parts(covers, new)
    parts["day"] = per_day.select("day", a="pv", b="sessions", c="events")
    fetched = _fetch(parts)
    active, new_users = _active_and_new(fetched, first, last)
    per_day_frame = fetched["day"].set_index("day")
    per_day_frame = per_day_frame.rename(columns={"a": "pv", "b": "sessions", "c": "events"})

    days = pd.RangeIndex(first, last + 1)
    table = pd.DataFrame(index=days)
    table["uv"] = active["dau"]
    for column in ("pv", "sessions", "events"):
        table[column] = per_day_frame[column].reindex(days).fillna(0).astype("int64")
    table["new_users"] = new_users
    table["returning_users"] = table["uv"] - table["new_users"]
    table[["dau", "wau", "mau"]] = active
    table["stickiness"] = _stickiness(table["dau"], table["mau"])
    table.insert(0, "date", to_timestamps(days).to_numpy())
    columns = [
        "date",
        "uv",
        "pv",
        "new_users",
        "returning_users",
        "dau",
        "wau",
        "mau",
        "stickiness",
        "sessions",
        "events",
    ]
    return table[columns].reset_index(drop=True)


def new_returning_user_days(daily: pd.DataFrame) -> pd.DataFrame:
    """The period's user-days split into new and returning, from :func:`daily_traffic`.

    A user-day is one user active on one local day: summed over the days, ``uv`` counts a user
    once per day they were active. ``new`` user-days equal the distinct new users of the period
    (a user is new on one day only); ``returning`` user-days count a returning user once per day
    they came back. Rows ``new``, ``returning`` and ``all`` (= Σ ``uv``); columns ``users``,
    ``user_days`` and ``share`` of all user-days (null when there are none).
    """
    new, returning = int(daily["new_users"].sum()), int(daily["returning_users"].sum())
    total = new + returning
    table = pd.DataFrame(
        {"users": ["new", "returning", "all"], "user_days": [new, returning, total]}
    )
    table["share"] = table["user_days"] / total if total > 0 else float("nan")
    return table


def period_active_users(events: ir.Table, period: Period) -> int:
    """Distinct users with any event in the whole period."""
    days = active_user_days(events, period)
    return int(days.user_id.nunique().to_pandas())


def traffic_by(events: ir.Table, period: Period, dimension: str = "channel") -> pd.DataFrame:
    """Users, sessions, page views and events per value of ``dimension`` over the period.

    ``user_share`` divides by all active users; a user seen through two channels counts in both,
    so the shares can add up to more than 1. Missing values are reported as ``(unknown)``.
    """
    if dimension in _carried(events):
        counted = session_hours(events, period)
        keyed = counted.mutate(value=counted[dimension])
        pv, count = keyed.pv.sum(), keyed.events.sum()
    else:
        keyed = events_in(events, period)
        keyed = keyed.mutate(value=keyed[dimension].cast("string").fill_null(UNKNOWN))
        pv, count = keyed.event_name.isin(PAGE_VIEW_EVENTS).sum(), keyed.count()
    grouped = keyed.group_by("value").aggregate(
        users=keyed.user_id.nunique(),
        sessions=keyed.session_id.nunique(),
        pv=pv.cast("int64"),
        events=count.cast("int64"),
    )
    table = grouped.to_pandas().rename(columns={"value": dimension})
    total_users = period_active_users(events, period)
    table["user_share"] = table["users"] / total_users if total_users else float("nan")
    return table.sort_values(["users", dimension], ascending=[False, True]).reset_index(drop=True)


def daily_users_by(events: ir.Table, period: Period, dimension: str = "channel") -> pd.DataFrame:
    """Distinct users per local day and value of ``dimension`` (long form: date, value, users)."""
    if dimension in _carried(events):
        inside = session_hours(events, period)
        value = inside[dimension]
    else:
        inside = events_in(events, period)
        value = inside[dimension].cast("string").fill_null(UNKNOWN)
    grouped = (
        inside.mutate(value=value)
        .group_by(["day", "value"])
        .aggregate(users=ibis._.user_id.nunique())
    )
    table = grouped.to_pandas().rename(columns={"value": dimension})
    table = table.sort_values(["day", dimension]).reset_index(drop=True)
    table.insert(0, "date", to_timestamps(table.pop("day")).to_numpy())
    return table


def hour_weekday_activity(events: ir.Table, period: Period) -> pd.DataFrame:
    """Activity by local weekday × hour: ``weekday, hour, events, users, avg_events,
    weekday_name``, one row for each of the 7 × 24 cells.

    ``weekday`` is 0 = Monday … 6 = Sunday. ``events`` counts the events in that hour on every
    such weekday of the period; ``avg_events`` divides it by how many times that weekday occurs in
    the period, so a period that is not whole weeks is not biased. ``users`` is not an average:
    it is the distinct users with an event in that hour on any such weekday of the period, each
    user once however many of those days they came (two Mondays at 21h, seen by one user each,
    give 2; one user on both gives 1).
    """
    counted = session_hours(events, period)
    # 1970-01-01 was a Thursday (weekday 3 when Monday is 0).
    keyed = counted.mutate(weekday=(counted.day + 3) % 7)
    grouped = (
        keyed.group_by(["weekday", "hour"])
        .aggregate(events=keyed.events.sum(), users=keyed.user_id.nunique())
        .to_pandas()
    )
    full = pd.MultiIndex.from_product([range(7), range(24)], names=["weekday", "hour"])
    table = grouped.set_index(["weekday", "hour"]).reindex(full, fill_value=0).reset_index()
    weekday_count = pd.Series(
        [(d + 3) % 7 for d in range(period.start_day, period.end_day + 1)]
    ).value_counts()
    occurrences = table["weekday"].map(weekday_count).fillna(0)
    table["avg_events"] = table["events"] / occurrences.where(occurrences > 0)
    table["weekday_name"] = table["weekday"].map(dict(enumerate(WEEKDAYS)))
    return table.astype({"events": "int64", "users": "int64", "hour": "int64", "weekday": "int64"})


# An hour this much busier than the average hour is worth timing a push for; below it, the
# day is nearly even and a schedule by hour gains little (the heatmap's colours still vary).
MATERIAL_PEAK = 0.2


def busiest_hours_note(activity: pd.DataFrame, top: int = 3) -> str:
    """Which local hours and weekday are busiest, and by how much, from
    :func:`hour_weekday_activity`'s ``avg_events``; when the busiest hour is less than
    :data:`MATERIAL_PEAK` above the average hour, says the day is nearly even instead."""
    by_hour = activity.groupby("hour")["avg_events"].sum()
    mean = float(by_hour.mean())
    if not mean > 0:
        return "No events in the period: no busiest hour."
    ranked = by_hour.sort_values(ascending=False, kind="stable")
    excess = ranked / mean - 1
    hours = [f"{int(h):02d}:00 ({excess[h]:+.0%})" for h in ranked.index[:top]]
    if excess.iloc[0] < MATERIAL_PEAK:
        text = (
            f"Activity is nearly even across the day: the busiest hour, {hours[0]} against the "
            "average hour, is less than "
            f"{MATERIAL_PEAK:.0%} above it, so the hour of a push matters little here."
        )
    else:
        quiet = ranked.index[-1]
        text = (
            f"The busiest local hours are {', '.join(hours)} against the average hour; the "
            f"quietest is {int(quiet):02d}:00 ({excess[quiet]:+.0%})."
        )
    by_day = activity.groupby("weekday")["avg_events"].sum()
    day_excess = by_day / float(by_day.mean()) - 1
    busiest = int(day_excess.idxmax())
    return (
        f"{text} The busiest weekday is {WEEKDAYS[busiest]} "
        f"({day_excess[busiest]:+.0%} against the average weekday)."
    )


# --------------------------------------------------------------------------------------------
# Stickiness: how many days of a week (or 30-day block) each active user came (issue 18)

STICKINESS_COLUMNS = ["interval", "active_days", "users", "share", "cumulative_share"]
DEFAULT_STICKINESS_INTERVAL = parameters.default("stickiness_interval")
INTERVAL_DAYS = {"week": 7, "month": 30}
INTERVAL_NOUNS = {"week": "week", "month": "30-day block"}
# one user active in one interval: "user-30-day block" would not read
USER_INTERVAL_NOUNS = {"week": "user-week", "month": "user-block"}


def stickiness_intervals(
    period: Period, interval: str = DEFAULT_STICKINESS_INTERVAL
) -> list[tuple[int, int]]:
    """The first and last epoch day of each full interval inside the period, in order: local
    calendar weeks, Monday to Sunday (``week``), or consecutive 30-day blocks from ``start``
    (``month``). A part-week at either end, or the days after the last whole block, is left out:
    a user cannot come on 7 days of a week the period holds 3 days of."""
    parameters.check("stickiness_interval", interval, "interval")
    length = INTERVAL_DAYS[interval]
    # the first Monday on or after start (1970-01-01, epoch day 0, was a Thursday)
    first = (
        period.start_day + (-(period.start_day + 3)) % 7 if interval == "week" else period.start_day
    )
    count = max((period.end_day - first + 1) // length, 0)
    return [(first + i * length, first + (i + 1) * length - 1) for i in range(count)]


def stickiness(
    events: ir.Table, period: Period, interval: str = DEFAULT_STICKINESS_INTERVAL
) -> pd.DataFrame:
    """``interval, active_days, users, share, cumulative_share``: users by their number of active
    days in an interval of :func:`stickiness_intervals` (``tables/stickiness.csv``).

    Every user active in a full interval counts once per such interval (a *user-interval*: a
    user active in three weeks is three user-weeks), with the number of local days of it on which
    they had any event (from :func:`active_user_days`, the stored user-days: no pass over the
    events). One row per ``active_days`` from 1 to the interval's length, empty ones included:
    ``users`` user-intervals with exactly that many days, ``share`` of all user-intervals, and
    ``cumulative_share`` of those with at least that many (1 at 1 day, never increasing). No
    rows when the period holds no full interval; null shares when nobody was active in one.
    """
    spans = stickiness_intervals(period, interval)
    if not spans:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in STICKINESS_COLUMNS}).astype(
            {"interval": "object", "active_days": "int64", "users": "int64"}
        )
    length = INTERVAL_DAYS[interval]
    first, last = spans[0][0], spans[-1][1]
    days = active_user_days(events, period)
    inside = days.filter(days.day.between(first, last))
    per_user = inside.group_by(
        ["user_id", ((inside.day - first) // length).name("block")]
    ).aggregate(active_days=inside.count())
    counts = per_user.group_by("active_days").aggregate(users=per_user.count()).to_pandas()
    active = pd.RangeIndex(1, length + 1)
    users = counts.set_index("active_days")["users"].reindex(active, fill_value=0).astype("int64")
    total = int(users.sum())
    at_least = users[::-1].cumsum()[::-1]
    return pd.DataFrame(
        {
            "interval": interval,
            "active_days": active.to_numpy(),
            "users": users.to_numpy(),
            "share": (users / total).to_numpy() if total else float("nan"),
            "cumulative_share": (at_least / total).to_numpy() if total else float("nan"),
        }
    )


def stickiness_note(table: pd.DataFrame, intervals: int, at_least: int = 3) -> str:
    """:func:`stickiness` in words: how many user-intervals over how many full intervals, the
    share who came on one day only, on two or more and on ``at_least`` or more, and the median
    number of active days."""
    if table.empty:
        return "The period holds no full interval: no stickiness to show."
    interval = str(table["interval"].iloc[0])
    noun, user_noun = INTERVAL_NOUNS[interval], USER_INTERVAL_NOUNS[interval]
    total = int(table["users"].sum())
    if not total:
        return f"No user was active in the {intervals} full {noun}s of the period."
    by_days = table.set_index("active_days")
    share = by_days["share"]
    cumulative = by_days["cumulative_share"]
    # the (lower) median in integers: the fewest days that half the user-intervals stay within
    median = int((by_days["users"].cumsum() * 2 >= total).idxmax())
    span = "(Monday to Sunday)" if interval == "week" else "from the start"
    text = (
        f"Over {intervals} full {noun}{'s' if intervals != 1 else ''} {span}, {total:,} "
        f"{user_noun}{'s' if total != 1 else ''} (a user active in a {noun}, once per {noun}): "
        f"{share.get(1, 0.0):.1%} "
        f"came on one day only and {cumulative.get(2, 0.0):.1%} came back on 2 or more days"
    )
    if at_least > 2 and at_least in cumulative.index:
        text += f", {cumulative[at_least]:.1%} on {at_least} or more"
    days = f"{median} active day{'s' if median != 1 else ''}"
    return f"{text}; the median {user_noun} had {days}."
