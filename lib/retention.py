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
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from lib.periods import Period, to_timestamps

DEFAULT_MAX_DAY = 30
HEADLINE_DAYS = (1, 3, 7, 14, 30)


def _named(events: ir.Table, event_name: str | None) -> ir.Table:
    return events if event_name is None else events.filter(events.event_name == event_name)


def cohort_retention(
    events: ir.Table,
    period: Period,
    max_day: int = DEFAULT_MAX_DAY,
    start_event: str | None = None,
    return_event: str | None = None,
) -> pd.DataFrame:
    """``cohort_date, cohort_size, day, retained_users, retention_rate, retained_on_or_after,
    retention_rate_on_or_after`` for daily cohorts of the period, days ``0..max_day``."""
    starts = _named(events, start_event)
    first = starts.group_by("user_id").aggregate(first_time=starts.event_time.min())
    cohort = first.select("user_id", cohort_day=period.local_day(first.first_time))
    cohort = cohort.filter(cohort.cohort_day.between(period.start_day, period.end_day))

    returns = _named(events, return_event)
    lo, _ = period.utc_bounds()
    returns = returns.filter(returns.event_time >= ibis.literal(lo, "timestamp"))
    active = returns.select("user_id", day=period.local_day(returns.event_time)).distinct()

    joined = cohort.join(active, "user_id").filter(lambda t: t.day >= t.cohort_day)
    joined = joined.mutate(offset=joined.day - joined.cohort_day)
    on_day = (
        joined.filter(joined.offset <= max_day)
        .group_by(["cohort_day", "offset"])
        .aggregate(retained_users=ibis._.count())
        .to_pandas()
    )
    last_offsets = joined.group_by(["user_id", "cohort_day"]).aggregate(last=joined.offset.max())
    last_counts = (
        last_offsets.group_by(["cohort_day", "last"]).aggregate(users=ibis._.count()).to_pandas()
    )
    sizes = cohort.group_by("cohort_day").aggregate(cohort_size=ibis._.count()).to_pandas()
    horizon = int(period.local_day(events.event_time.max()).to_pandas())

    rows = []
    retained = on_day.set_index(["cohort_day", "offset"])["retained_users"]
    for cohort_day, size in sizes.sort_values("cohort_day").itertuples(index=False):
        lasts = last_counts[last_counts["cohort_day"] == cohort_day]
        for offset in range(0, min(max_day, horizon - cohort_day) + 1):
            rows.append(
                (
                    cohort_day,
                    size,
                    offset,
                    int(retained.get((cohort_day, offset), 0)),
                    int(lasts.loc[lasts["last"] >= offset, "users"].sum()),
                )
            )
    table = pd.DataFrame(
        rows,
        columns=["cohort_day", "cohort_size", "day", "retained_users", "retained_on_or_after"],
    ).astype("int64")
    table.insert(0, "cohort_date", to_timestamps(table.pop("cohort_day")).to_numpy())
    table["retention_rate"] = table["retained_users"] / table["cohort_size"]
    table["retention_rate_on_or_after"] = table["retained_on_or_after"] / table["cohort_size"]
    columns = [
        "cohort_date",
        "cohort_size",
        "day",
        "retained_users",
        "retention_rate",
        "retained_on_or_after",
        "retention_rate_on_or_after",
    ]
    return table[columns]


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
