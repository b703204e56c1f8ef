"""Ordered funnels (转化漏斗): how many users move through a sequence of steps, and how fast.

Definition (ordered funnel, first entry), docs/metrics.md:

- Entrants are users with a step-1 event on a local day in ``[start, end]``; ``t1`` is a user's
  first such event.
- For k ≥ 2, ``t_k`` is the earliest step-k event with ``t_(k−1) ≤ t_k ≤ t1 + window``; events
  after ``end`` count while inside the window. Steps done before ``t_(k−1)`` do not count.
- A user reaches step k when ``t_k`` exists. Conversion from the first step is
  ``users_k / users_1``, from the previous step ``users_k / users_(k−1)``; drop-off is
  ``users_(k−1) − users_k``.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import pandas as pd

from lib.periods import SECONDS_PER_DAY, Period

DEFAULT_STEPS = ("view_item", "add_to_cart", "begin_checkout", "purchase")
DEFAULT_WINDOW_DAYS = 7


def _seconds(ts: ir.TimestampValue) -> ir.IntegerValue:
    return ts.epoch_seconds().floor().cast("int64")


def funnel_reach(
    events: ir.Table,
    period: Period,
    steps: tuple[str, ...] | list[str] = DEFAULT_STEPS,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> ir.Table:
    """One row per entrant: ``user_id`` and ``t1 … tK`` (epoch seconds, null = step not reached)."""
    steps = tuple(steps)
    if len(steps) < 2:
        raise ValueError(f"a funnel needs at least two steps, got {list(steps)}")
    window = window_days * SECONDS_PER_DAY
    lo, hi = period.utc_bounds()
    lo_lit = ibis.literal(lo, "timestamp")
    late = ibis.literal(hi + dt.timedelta(days=window_days), "timestamp")

    first = events.filter(
        events.event_name == steps[0],
        events.event_time >= lo_lit,
        events.event_time < ibis.literal(hi, "timestamp"),
    )
    first = first.mutate(day=period.local_day(first.event_time))
    first = first.filter(first.day.between(period.start_day, period.end_day))
    reach = first.group_by("user_id").aggregate(t1=_seconds(first.event_time.min()))
    previous = "t1"
    for index, step in enumerate(steps[1:], start=2):
        candidates = events.filter(
            events.event_name == step, events.event_time >= lo_lit, events.event_time <= late
        )
        candidates = candidates.select("user_id", t=_seconds(candidates.event_time))
        matched = reach.join(candidates, "user_id").filter(
            lambda j, prev=previous: (j.t >= j[prev]) & (j.t <= j.t1 + window)
        )
        firsts = matched.group_by("user_id").aggregate(**{f"t{index}": matched.t.min()})
        reach = reach.left_join(firsts, "user_id").drop("user_id_right")
        previous = f"t{index}"
    return reach


def funnel_table(
    events: ir.Table,
    period: Period,
    steps: tuple[str, ...] | list[str] = DEFAULT_STEPS,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> pd.DataFrame:
    """``step_index, step, users, conversion_from_start, conversion_from_previous, drop_off,
    median_hours_from_previous, mean_hours_from_previous`` for an ordered funnel."""
    steps = tuple(steps)
    reach = funnel_reach(events, period, steps, window_days)
    times = reach.to_pandas()  # one row per entrant: small next to the events
    rows = []
    for index, step in enumerate(steps, start=1):
        column = times[f"t{index}"]
        users = int(column.notna().sum())
        gaps = (column - times[f"t{index - 1}"]) / 3600 if index > 1 else pd.Series(dtype=float)
        rows.append(
            {
                "step_index": index,
                "step": step,
                "users": users,
                "median_hours_from_previous": gaps.median() if index > 1 else float("nan"),
                "mean_hours_from_previous": gaps.mean() if index > 1 else float("nan"),
            }
        )
    table = pd.DataFrame(rows)
    first_users = table["users"].iloc[0]
    previous_users = table["users"].shift(1)
    table.insert(
        3, "conversion_from_start", table["users"] / first_users if first_users else float("nan")
    )
    table.insert(
        4, "conversion_from_previous", table["users"] / previous_users.where(previous_users > 0)
    )
    table.insert(5, "drop_off", (previous_users - table["users"]).fillna(0).astype("int64"))
    return table
