"""Ordered funnels (转化漏斗): how many users move through a sequence of steps, and how fast.

Definition (ordered funnel, first entry), docs/metrics.md:

- Entrants are users with a step-1 event on a local day in ``[start, end]``; ``t1`` is a user's
  first such event.
- For k ≥ 2, ``t_k`` is the earliest step-k event with ``t_(k−1) ≤ t_k ≤ t1 + window``; events
  after ``end`` count while inside the window. Steps done before ``t_(k−1)`` do not count.
- Times are compared as whole seconds (rounded down), so a step in the same second as
  ``t_(k−1)`` counts even if a fraction earlier; ``window`` is ``window_days`` × 24 h elapsed.
- A user reaches step k when ``t_k`` exists. Conversion from the first step is
  ``users_k / users_1``, from the previous step ``users_k / users_(k−1)``; drop-off is
  ``users_(k−1) − users_k``.

Built on the same per-entrant reach (docs/metrics.md, "Conversion"):

- :func:`funnel_breakdown`, :func:`segment_conversion`, :func:`compare_segments`: the funnel per
  *first-touch* value (the value on, or behind, the user's first step-1 event: ``channel``,
  ``platform``, the ``category`` of the viewed item, or a column of the users table), with Wilson
  intervals and two-proportion tests.
- :func:`funnel_paths`: secondary paths (次路径), each an ordered funnel of its own.
- :func:`item_conversion`: per-SKU and per-category conversion, ``view_item`` → a paid order
  containing that item within the window.
- :func:`daily_conversion`: the funnel's conversion per entry day, tested against the days before
  it by the rate detector of :mod:`lib.monitoring` (issue 17; it replaced a median ± k·MAD band).
- :func:`dropoff_users` and :func:`dropoff_behaviour`: who stopped after a step, and what they did
  compared with those who went on.
- the ``*_note`` functions: the sentences notebook 02 prints, each computed from one of these
  tables (a direction, ranking or verdict only where the table shows it, beyond the noise where
  the table has a test).

Every query runs in the engine; only per-entrant rows or per-group counts reach pandas.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from lib import parameters
from lib.data import Source, events_named, kept, named_events_of
from lib.definitions import UNKNOWN, events_in, paid_orders
from lib.periods import SECONDS_PER_DAY, Period, epoch_seconds, to_timestamps
from lib.stats import interval_side, proportion_intervals, two_proportion_pvalue

DEFAULT_STEPS = ("view_item", "add_to_cart", "begin_checkout", "purchase")
DEFAULT_WINDOW_DAYS = parameters.default("conversion_window_days")
DEFAULT_SECONDARY_PATHS = (
    ("view_promotion", "select_promotion", "view_item", "purchase"),
    ("view_item_list", "select_item", "view_item", "purchase"),
)
SIGNIFICANCE_LEVEL = 0.05
DEFAULT_BAND_DAYS = parameters.default("band_days")
# deprecated since issue 17 (the median ± k·MAD band): accepted, ignored, see band_k_note
DEFAULT_BAND_K = parameters.default("band_k")
DEFAULT_ALERT_FDR = parameters.default("alert_fdr")
DEFAULT_MIN_EFFECT = parameters.default("min_effect")
DEFAULT_PER_WEEKDAY = parameters.default("per_weekday")
DEFAULT_MIN_VIEWERS = parameters.default("min_viewers")
DEFAULT_WORST_N = parameters.default("worst_n")
ITEM_LEVELS = ("sku", "category")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
COMPARISON_COLUMNS = [
    "segment_a",
    "segment_b",
    "entrants_a",
    "converters_a",
    "conversion_a",
    "entrants_b",
    "converters_b",
    "conversion_b",
    "difference",
    "difference_low",
    "difference_high",
    "p_value",
    "significant",
]
# Event columns that identify rather than describe an event: not a breakdown.
_NOT_BREAKDOWNS = ("user_id", "event_time", "event_name")


def main_path(source: Source, steps: Sequence[str] | None = None) -> tuple[str, ...]:
    """The funnel to show: ``steps`` when given (not empty), else :data:`DEFAULT_STEPS` less the
    steps the source never has (:meth:`lib.data.Source.possible_event_names`).

    Taobao user-behaviour data has no ``begin_checkout``: its main path is view_item →
    add_to_cart → purchase instead of a funnel that stops at the cart. A step that occurs
    somewhere in the source but not in the period stays, and shows as a drop to 0. With fewer
    than two default steps left, the default steps are kept.
    """
    if steps:
        return _check_steps(steps)
    possible = source.possible_event_names()
    kept = [step for step in DEFAULT_STEPS if step in possible]
    return tuple(kept) if len(kept) >= 2 else DEFAULT_STEPS


def secondary_paths(
    source: Source, paths: Sequence[Sequence[str]] | None = None
) -> list[tuple[str, ...]]:
    """The secondary paths to show: ``paths`` when given (not empty), else those of
    :data:`DEFAULT_SECONDARY_PATHS` whose every step the source can have (none on Taobao
    user-behaviour data, which has no promotion or list events)."""
    if paths:
        return [_check_steps(path) for path in paths]
    possible = source.possible_event_names()
    return [path for path in DEFAULT_SECONDARY_PATHS if all(s in possible for s in path)]


def _check_steps(steps: Sequence[str]) -> tuple[str, ...]:
    steps = tuple(steps)
    if len(steps) < 2:
        raise ValueError(f"a funnel needs at least two steps, got {list(steps)}")
    return steps


def _check_order(order: str, steps: tuple[str, ...]) -> None:
    """Refuse an unknown ``order``, and a strict or any-order funnel naming one event twice:
    both place a step by its event name alone (its rank within a second, its distinct step)."""
    parameters.check("funnel_order", order, "order")
    if order != "ordered" and len(set(steps)) < len(steps):
        raise ValueError(
            f"order={order!r} needs distinct step events, got {list(steps)}: a repeated event "
            "has no single rank within a second (strict) or step to count (any)"
        )


Exclusion = tuple[str, int, int]


def check_exclusions(
    steps: Sequence[str], exclusions: Sequence[dict] | None
) -> tuple[Exclusion, ...]:
    """``exclusions`` (``{event, from_step, to_step}``, 1-based) as ``(event, from, to)``
    tuples, or ValueError naming the first that cannot apply to ``steps``: an event that is one
    of the steps (it would exclude the users for doing the funnel), ``from_step ≥ to_step``, or a
    step outside 1…len(steps). The runner gives the same message (lib/run/values.py)."""
    found = exclusion_problem(steps, exclusions or [])
    if found:
        raise ValueError(f"exclusions: {found}")
    return tuple((e["event"], int(e["from_step"]), int(e["to_step"])) for e in exclusions or [])


def exclusion_problem(steps: Sequence[str], exclusions: Sequence[dict]) -> str | None:
    """What is wrong with ``exclusions`` for a funnel of ``steps``, or None (see
    :func:`check_exclusions`)."""
    shape = parameters.problem(parameters.PARAMETERS["funnel_exclusions"], list(exclusions))
    if shape:
        return shape
    for rule in exclusions:
        event, hi = rule["event"], rule["to_step"]
        if event in steps:
            return (
                f"{event!r} is a step of the funnel ({path_name(steps)}); an exclusion names an "
                "event outside the steps"
            )
        if hi > len(steps):
            return (
                f"to_step={hi} of {event!r} is past the funnel's last step ({len(steps)}: "
                f"{path_name(steps)})"
            )
    return None


def _entry_events(events: ir.Table, period: Period, step: str) -> ir.Table:
    """Step-1 events on local days of the period, with local ``day`` and epoch second ``s``."""
    lo, hi = period.utc_bounds()
    first = events.filter(
        events.event_name == step,
        events.event_time >= ibis.literal(lo, "timestamp"),
        events.event_time < ibis.literal(hi, "timestamp"),
    )
    first = first.mutate(day=period.local_day(first.event_time), s=epoch_seconds(first.event_time))
    return first.filter(first.day.between(period.start_day, period.end_day))


def _window_bounds(period: Period, window_days: int) -> tuple[dt.datetime, dt.datetime]:
    """Naive UTC ``[lo, late)`` holding every instant from the period's start to ``t1 + window``.

    ``late`` is the period's end plus ``window_days`` × 24 h, not the local midnight ``window_days``
    days after it: ``t1 + window`` is counted in seconds, and when clocks spring forward inside
    the window that midnight comes an hour early and would cut off the window's last hour.
    """
    lo, hi = period.utc_bounds()
    return lo, hi + dt.timedelta(days=window_days)


def _earliest_between(
    times: ir.ArrayValue, lo: ir.IntegerValue, hi: ir.IntegerValue
) -> ir.IntegerValue:
    """The smallest of ``times`` within ``[lo, hi]``; null when none is (or the list is null)."""
    return times.filter(lambda t: (t >= lo) & (t <= hi)).mins()


def _reach(
    events: ir.Table,
    period: Period,
    steps: tuple[str, ...],
    window_days: int,
    keys: Sequence[str],
    order: str = "ordered",
    exclusions: Sequence[Exclusion] = (),
    store_steps: bool = True,
) -> ir.Table:
    """``keys`` and ``t1 … tK`` per entry: per user, or per user and entry day (``day``); with
    ``exclusions``, also ``excluded`` (the entry is dropped from every step by its caller).
    ``store_steps`` False reads the steps' events from ``events`` instead of their store (see
    below): for a funnel read once per run, storing them costs more than it saves.

    Times are whole epoch seconds, rounded down (:func:`lib.periods.epoch_seconds`), and every
    comparison is made on them: a step in the same second as the previous one follows it even
    when its timestamp is a fraction of a second earlier, while one in an earlier second does
    not. This is the definition, not a rounding slip: client clocks do not order events reliably
    within a second, and Spark's epoch seconds are whole, so finer times would not give the same
    numbers on every engine. The window ``t1 + window`` is ``window_days`` × 86,400 s of elapsed
    time, whatever the clocks do on the way.

    One scan of the step events (:func:`lib.data.events_named`: for a source's events, stored
    once per run and set of names) keeps those of the period and its window, and one
    grouping by user gathers, per later step, the list of that user's step-k times. ``t_k`` is
    then the smallest time in step k's list between ``t_(k−1)`` and ``t1 + window``: a filter
    and a minimum over a short list per entrant, with no join. Per user the lists hold only the
    user's own step events, so memory is bounded by the funnel's events of the period.

    ``order="strict"`` (:func:`funnel_table`) keeps that ``t_k`` only when nothing breaks the
    chain between ``t_(k−1)`` and it. The same grouping gathers every step event as the key
    ``s × (K + 1) + j`` (j its step), whose order is time, then step order within a second: a
    step event other than step k − 1 whose key is strictly between ``t_(k−1)``'s and ``t_k``'s
    breaks the chain. Events that are no step break it in a second strictly between the two;
    they are joined to the chains afterwards (:func:`_without_other_events`), since a list of
    them per user would hold nine in ten of the events.

    Each exclusion's event gets a list of its own, and an entry is ``excluded`` when one of its
    times lies strictly between ``t_from`` and ``t_to`` (``t1 + window`` when step ``to`` was not
    reached).

    Earlier forms, kept out for speed (docs/performance.md): one left join and grouping per step
    read the events once per step (2× slower at 10M events); sharing those scans through a CTE
    made DuckDB materialise the step events, 2.5× slower at 100M for a frequent first step.
    """
    # a window of 0 counts only steps in the entry's own second, below 0 none: a funnel that
    # looks like a collapse rather than a mistake
    parameters.check("conversion_window_days", window_days, "window_days")
    if order not in ("ordered", "strict"):
        raise ValueError(f"_reach builds ordered and strict funnels, not order={order!r}")
    strict = order == "strict"
    keys = list(keys)
    window = window_days * SECONDS_PER_DAY
    lo, late = _window_bounds(period, window_days)
    hi = period.utc_bounds()[1]
    # the events of the steps (and exclusions) alone, stored once per run for a source's events
    # (lib.data.events_named): the filter on every event's name was most of a funnel's time
    names = set(steps) | {event for event, _, _ in exclusions}
    named = events_named(events, names) if store_steps else named_events_of(events, sorted(names))
    scoped = named.filter(
        named.event_time >= ibis.literal(lo, "timestamp"),
        named.event_time <= ibis.literal(late, "timestamp"),
    )
    scoped = scoped.mutate(s=epoch_seconds(scoped.event_time))
    lists = {
        f"times{index}": scoped.s.collect(where=scoped.event_name == step)
        for index, step in enumerate(steps[1:], start=2)
    }
    lists |= {
        f"excluded_times{index}": scoped.s.collect(where=scoped.event_name == event)
        for index, (event, _, _) in enumerate(exclusions)
    }
    rank = len(steps) + 1  # a step's position within a second, below this
    if strict:
        is_step = scoped.event_name.isin(list(steps))
        position = ibis.cases(
            *((scoped.event_name == step, index) for index, step in enumerate(steps, start=1)),
            else_=0,
        )
        lists["step_keys"] = (scoped.s * rank + position).collect(where=is_step)
    if keys == ["user_id"]:
        # the rows _entry_events keeps, taken from the same scan as the later steps: from the
        # period's first local midnight (the scan's lower bound) to before the one after it,
        # which are the instants on its local days (Period.utc_bounds), with no local day to
        # work out per event
        before_end = scoped.event_time < ibis.literal(hi, "timestamp")
        entry = (scoped.event_name == steps[0]) & before_end
        reach = scoped.group_by("user_id").aggregate(t1=scoped.s.min(where=entry), **lists)
        reach = reach.filter(reach.t1.notnull())
    else:
        first = _entry_events(named, period, steps[0])
        entries = first.group_by(keys).aggregate(t1=first.s.min())
        later = scoped.group_by(step_user=scoped.user_id).aggregate(**lists)
        reach = entries.left_join(later, entries.user_id == later.step_user)
    previous = "t1"
    for index in range(2, len(steps) + 1):
        earliest = _earliest_between(reach[f"times{index}"], reach[previous], reach.t1 + window)
        if strict:
            earliest = _unbroken(reach, reach[previous], earliest, index, rank)
        reach = reach.mutate(**{f"t{index}": earliest})
        previous = f"t{index}"
    times = [f"t{index}" for index in range(1, len(steps) + 1)]
    if strict:
        reach = _without_other_events(reach, events, steps, keys, lo, late)
    if not exclusions:
        return _kept(reach.select(*keys, *times))
    hits = [
        reach[f"excluded_times{index}"]
        .filter(
            lambda t, lo=lo_step, hi=hi_step: (
                (t > reach[f"t{lo}"]) & (t < reach[f"t{hi}"].fill_null(reach.t1 + window))
            )
        )
        .mins()
        .notnull()
        for index, (_, lo_step, hi_step) in enumerate(exclusions)
    ]
    excluded = hits[0]
    for hit in hits[1:]:
        excluded = excluded | hit
    return _kept(reach.select(*keys, *times, excluded=excluded))


def _kept(reach: ir.Table) -> ir.Table:
    """``reach`` computed once and kept in the engine (:func:`lib.data.kept`).

    A notebook asks for the same funnel's reach many times (its table, time to convert, trend,
    drop-off users and behaviour, conversion drivers, what droppers did next); the same
    arguments build the same expression, so every later call reads the kept per-entrant rows
    (small next to the events) instead of grouping the events again: at 100M events each reach
    costs about 4 s.
    """
    return kept(reach, "reach", KEPT_REACHES)


# a notebook's funnels: the main one (ordered, and in its notebook's order mode), the
# per-entry-day one of the daily conversion, the secondary paths
KEPT_REACHES = 6


def _unbroken(
    reach: ir.Table,
    before: ir.IntegerValue,
    candidate: ir.IntegerValue,
    index: int,
    rank: int,
) -> ir.IntegerValue:
    """``candidate`` (the ordered ``t_k``) when no other step's event breaks the strict chain
    from ``before`` (``t_(k−1)``) to it, else null; see :func:`_reach`."""
    # time, then step order; repeats of step k − 1 are allowed
    step = reach.step_keys.filter(
        lambda key: (
            (key > before * rank + (index - 1))
            & (key < candidate * rank + index)
            & (key % rank != index - 1)
        )
    ).mins()
    return step.notnull().ifelse(ibis.null("int64"), candidate)


def _without_other_events(
    reach: ir.Table,
    events: ir.Table,
    steps: tuple[str, ...],
    keys: list[str],
    lo: dt.datetime,
    late: dt.datetime,
) -> ir.Table:
    """``reach`` with each strict chain cut at its first hop holding an event that is no step,
    in a second strictly between ``t_(k−1)`` and ``t_k`` (its order within a second is unknown).

    Until it is cut, a strict chain has the ordered times, so cutting later leaves the earlier
    times as they are. The events that are no step (nine in ten in a shop's log) are joined to
    the entries that went past step 1 and kept only inside their chain, rather than gathered
    into a list per user: at 10M events the lists took 7× the ordered funnel's time.
    """
    times = [f"t{index}" for index in range(1, len(steps) + 1)]
    last = ibis.coalesce(*(reach[t] for t in reversed(times[1:])))
    chains = reach.filter(reach.t2.notnull()).select(*keys, *times, last=last)
    others = events.filter(
        ~events.event_name.isin(list(steps)),
        events.event_time >= ibis.literal(lo, "timestamp"),
        events.event_time <= ibis.literal(late, "timestamp"),
    )
    others = others.select(other_user=others.user_id, other_time=others.event_time)
    inside = chains.join(others, chains.user_id == others.other_user)
    # whole seconds only for the events of these users: most events are not theirs
    inside = inside.mutate(other_s=epoch_seconds(inside.other_time))
    inside = inside.filter(inside.other_s > inside.t1, inside.other_s < inside.last)
    breaks = inside.group_by(keys).aggregate(
        **{
            f"broken{index}": (
                (inside.other_s > inside[f"t{index - 1}"]) & (inside.other_s < inside[f"t{index}"])
            )
            .ifelse(1, 0)
            .max()
            for index in range(2, len(steps) + 1)
        }
    )
    breaks = breaks.rename({f"break_{key}": key for key in keys})
    joined = reach.left_join(breaks, [reach[key] == breaks[f"break_{key}"] for key in keys])
    cut = ibis.literal(False)
    for index in range(2, len(steps) + 1):
        cut = cut | (joined[f"broken{index}"].fill_null(0) == 1)
        joined = joined.mutate(**{f"t{index}": cut.ifelse(ibis.null("int64"), joined[f"t{index}"])})
    return joined.drop(
        *(f"break_{key}" for key in keys), *(f"broken{i}" for i in range(2, len(steps) + 1))
    )


def funnel_reach(
    events: ir.Table,
    period: Period,
    steps: tuple[str, ...] | list[str] = DEFAULT_STEPS,
    window_days: int = DEFAULT_WINDOW_DAYS,
    *,
    order: str = "ordered",
    exclusions: Sequence[dict] | None = None,
) -> ir.Table:
    """One row per entrant: ``user_id`` and ``t1 … tK`` (epoch seconds, null = step not reached).

    ``order`` is ``ordered`` or ``strict`` (see :func:`funnel_table`; an any-order funnel has no
    step times); entrants excluded by ``exclusions`` are left out."""
    steps = _check_steps(steps)
    _check_order(order, steps)
    if order == "any":
        raise ValueError(
            "funnel_reach gives each step's time, and an any-order funnel has none: use "
            "funnel_table(order='any')"
        )
    rules = check_exclusions(steps, exclusions)
    reach = _reach(events, period, steps, window_days, ["user_id"], order, rules)
    if rules:
        reach = reach.filter(~reach.excluded).drop("excluded")
    return reach


def _step_table(steps: Sequence[str], users: Sequence[int]) -> pd.DataFrame:
    """``step_index, step, users, conversion_from_start, conversion_from_previous, drop_off``."""
    table = pd.DataFrame(
        {
            "step_index": range(1, len(steps) + 1),
            "step": list(steps),
            "users": [int(u) for u in users],
        }
    )
    first_users = table["users"].iloc[0]
    previous_users = table["users"].shift(1)
    table["conversion_from_start"] = table["users"] / first_users if first_users else float("nan")
    table["conversion_from_previous"] = table["users"] / previous_users.where(previous_users > 0)
    table["drop_off"] = (previous_users - table["users"]).fillna(0).astype("int64")
    return table


def _mean_hours(gap_seconds: pd.Series) -> float:
    """Mean of whole-second gaps, in hours; NaN when there are none.

    Whole seconds add up exactly in any order (below 2**53), so the mean does not depend on the
    order the engine returns the rows in, as a float mean of hours would in its last digit.
    """
    if gap_seconds.empty:
        return float("nan")
    return float(gap_seconds.sum()) / len(gap_seconds) / 3600


def funnel_table(
    events: ir.Table,
    period: Period,
    steps: tuple[str, ...] | list[str] = DEFAULT_STEPS,
    window_days: int = DEFAULT_WINDOW_DAYS,
    *,
    order: str = "ordered",
    exclusions: Sequence[dict] | None = None,
    store_steps: bool = True,
) -> pd.DataFrame:
    """``step_index, step, users, conversion_from_start, conversion_from_previous, drop_off,
    median_hours_from_previous, mean_hours_from_previous`` for a funnel (``funnel_order``).

    ``store_steps``: read the steps' events from their store, made once per run for a source's
    events (:func:`lib.data.events_named`; the main path's many funnels read it); False for a
    funnel read once, whose store would cost more than it saves (the secondary paths).

    Step times are compared to the whole second (see :func:`_reach`): a step a fraction of a
    second before the previous one, in the same second, counts as following it.

    - ``ordered`` (default): first entry, ``t_k`` the earliest step-k event in
      ``[t_(k−1), t1 + window]`` (the module's definition).
    - ``strict``: as ordered, but between ``t_(k−1)`` and ``t_k`` the user has no other event
      at all, of any name; repeating step k − 1 does not break the chain. Step events of one
      second are taken in step order (when ``t_k`` is in a later second, a step-j event in
      ``t_(k−1)``'s second breaks it when j > k, one in ``t_k``'s second when j < k − 1); an
      event that is no step breaks it only in a second strictly between the two, its order
      within a second being unknown. Steps must be distinct events.
    - ``any``: per user, the largest number of distinct steps whose events all lie within one
      window ``[t, t + window]``, ``t`` being one of the user's step events on a local day of
      the period. Row k counts the users with at least k steps, ``step`` = ``"k steps"``
      (``"1 step"``); there are no step times, so the hours columns are empty.

    ``exclusions`` (``funnel_exclusions``: ``{event, from_step, to_step}``, 1-based; ordered and
    strict only) drop an entrant from every step when, in the counted attempt (first entry),
    the event occurs strictly after ``t_from`` and strictly before ``t_to``, or before
    ``t1 + window`` when step ``to_step`` was not reached; an entrant who did not reach
    ``from_step`` is never excluded. How many were dropped is ``table.attrs["excluded_users"]``
    (:func:`excluded_users_note`).
    """
    steps = _check_steps(steps)
    _check_order(order, steps)
    rules = check_exclusions(steps, exclusions)
    if order == "any":
        if rules:
            raise ValueError(
                "funnel_exclusions need an ordered or strict funnel: an any-order funnel has no "
                "first attempt with step times to put the excluded event between"
            )
        table = _any_order_table(events, period, steps, window_days)
        table.attrs["excluded_users"] = 0
        return table
    reach = _reach(events, period, steps, window_days, ["user_id"], order, rules, store_steps)
    # one row per entrant, small next to the events; the user ids are not needed here
    times = reach.drop("user_id").to_pandas()
    excluded = 0
    if rules:
        dropped = times["excluded"].fillna(False).astype(bool)
        excluded = int(dropped.sum())
        times = times[~dropped].drop(columns="excluded")
    users = [int(times[f"t{index}"].notna().sum()) for index in range(1, len(steps) + 1)]
    table = _step_table(steps, users)
    medians, means = [float("nan")], [float("nan")]
    for index in range(2, len(steps) + 1):
        gap_seconds = (times[f"t{index}"] - times[f"t{index - 1}"]).dropna()
        medians.append((gap_seconds / 3600).median())
        means.append(_mean_hours(gap_seconds))
    table["median_hours_from_previous"] = medians
    table["mean_hours_from_previous"] = means
    table.attrs["excluded_users"] = excluded
    return table


def any_order_label(k: int) -> str:
    """The ``step`` of row k of an any-order funnel: ``1 step``, ``2 steps``, …"""
    return f"{k} step" if k == 1 else f"{k} steps"


def _any_order_table(
    events: ir.Table, period: Period, steps: tuple[str, ...], window_days: int
) -> pd.DataFrame:
    """:func:`funnel_table` for ``order="any"``.

    One scan keeps the step events of the period and its window, one row per user, second and
    step. A range window over each user's rows in time order, ``[s, s + window]``, says per row
    which steps occur in the window it opens; the rows on a local day of the period are the
    anchors, and a user's result is the largest count among them. The greatest number of steps
    in any window is always reached by a window starting at a step event, so the anchors are
    enough. One sort of the step events, no join.
    """
    parameters.check("conversion_window_days", window_days, "window_days")
    window = window_days * SECONDS_PER_DAY
    lo, late = _window_bounds(period, window_days)
    hi = period.utc_bounds()[1]
    scoped = events.filter(
        events.event_name.isin(list(steps)),
        events.event_time >= ibis.literal(lo, "timestamp"),
        events.event_time <= ibis.literal(late, "timestamp"),
    )
    anchor = (scoped.event_time < ibis.literal(hi, "timestamp")) & period.local_day(
        scoped.event_time
    ).between(period.start_day, period.end_day)
    position = ibis.cases(
        *((scoped.event_name == step, index) for index, step in enumerate(steps, start=1))
    )
    # the same second and step twice adds nothing to a window; a second is on one local day
    rows = scoped.select(
        "user_id", s=epoch_seconds(scoped.event_time), j=position, anchor=anchor
    ).distinct()
    span = ibis.window(group_by="user_id", order_by="s", range=(0, window))
    present = [
        (rows.j == index).ifelse(1, 0).max().over(span) for index in range(1, len(steps) + 1)
    ]
    count = present[0]
    for more in present[1:]:
        count = count + more
    counted = rows.mutate(n=count)
    counted = counted.filter(counted.anchor)
    best = counted.group_by("user_id").aggregate(n=counted.n.max())
    per_count = best.group_by("n").aggregate(users=best.count()).to_pandas()
    exactly = per_count.set_index("n")["users"].reindex(range(1, len(steps) + 1), fill_value=0)
    at_least = exactly[::-1].cumsum()[::-1]  # users with at least k steps
    labels = [any_order_label(k) for k in range(1, len(steps) + 1)]
    table = _step_table(labels, at_least.tolist())
    table["median_hours_from_previous"] = float("nan")
    table["mean_hours_from_previous"] = float("nan")
    return table


def excluded_users_note(table: pd.DataFrame, exclusions: Sequence[dict] | None) -> str | None:
    """How many entrants :func:`funnel_table` dropped for ``exclusions``, and why; None when
    there are no exclusions."""
    if not exclusions:
        return None
    excluded = int(table.attrs.get("excluded_users", 0))
    entrants = excluded + (int(table["users"].iloc[0]) if len(table) else 0)
    steps = table["step"].tolist()

    def step(number: int) -> str:
        return steps[number - 1] if 0 < number <= len(steps) else f"step {number}"

    rules = _listed(
        [
            f"{rule['event']} between {step(rule['from_step'])} and {step(rule['to_step'])}"
            for rule in exclusions
        ]
    )
    if not excluded:
        return f"No entrant was excluded ({rules}): the funnel keeps all {entrants:,}."
    share = f"{excluded / entrants:.1%}" if entrants else "all"
    noun = "entrant was" if excluded == 1 else "entrants were"
    return (
        f"{excluded:,} of {entrants:,} {noun} excluded ({share}) for {rules}: they leave "
        "every step of the funnel."
    )


# --------------------------------------------------------------------------------------------
# Breakdown by first touch, and significance between segments


def breakdowns(
    events: ir.Table, products: ir.Table | None = None, users: ir.Table | None = None
) -> list[str]:
    """The values :func:`first_touch` accepts as ``breakdown`` given these tables: the events
    columns that describe a touch, ``category`` with a products table, the users columns."""
    options = [c for c in events.columns if c not in _NOT_BREAKDOWNS]
    if products is not None:
        options.append("category")
    if users is not None:
        options += [c for c in users.columns if c != "user_id"]
    return list(dict.fromkeys(options))


def _with_category(table: ir.Table, products: ir.Table | None) -> ir.Table:
    """``table`` with ``segment``: the category of each row's ``sku_id`` (null when the catalogue
    lacks it); an error naming the products table when there is none."""
    if products is None:
        raise ValueError("breakdown='category' needs the products table (sku_id → category)")
    catalogue = products.select(catalogue_sku=products.sku_id, segment=products.category)
    return table.left_join(catalogue, table.sku_id == catalogue.catalogue_sku)


def first_touch(
    events: ir.Table,
    period: Period,
    step: str,
    breakdown: str,
    products: ir.Table | None = None,
    users: ir.Table | None = None,
) -> ir.Table:
    """``user_id, <breakdown>`` for each user with a ``step`` event on a local day of the period.

    The value is the one on the user's first such event (first touch): an events column such as
    ``channel`` or ``platform``; ``category`` of that event's ``sku_id`` (needs ``products``); or a
    column of ``users`` (e.g. ``region``). Missing values are ``(unknown)``. Events at the same
    instant are ordered by value, so the choice never depends on the engine's row order.
    """
    first = _entry_events(events, period, step)
    if breakdown == "category":
        first = _with_category(first, products)
    elif breakdown in events.columns and breakdown not in _NOT_BREAKDOWNS:
        first = first.mutate(segment=first[breakdown].cast("string"))
    elif users is not None and breakdown in users.columns and breakdown != "user_id":
        profile = users.select(profile_user=users.user_id, segment=users[breakdown].cast("string"))
        first = first.left_join(profile, first.user_id == profile.profile_user)
    else:
        event_columns = [c for c in events.columns if c not in _NOT_BREAKDOWNS]
        user_columns = [c for c in (users.columns if users is not None else []) if c != "user_id"]
        raise ValueError(
            f"breakdown={breakdown!r} is neither an events column ({', '.join(event_columns)}), "
            f"'category', nor a users column ({', '.join(user_columns) or 'no users table'})"
        )
    first = first.mutate(segment=first.segment.fill_null(UNKNOWN))
    order = ibis.window(group_by="user_id", order_by=["event_time", "segment"])
    ranked = first.mutate(rank=ibis.row_number().over(order))
    ranked = ranked.filter(ranked["rank"] == 0)
    return ranked.select("user_id", **{breakdown: ranked.segment})


def first_touches(
    events: ir.Table,
    period: Period,
    step: str,
    names: Sequence[str],
    products: ir.Table | None = None,
    users: ir.Table | None = None,
) -> ir.Table:
    """``user_id`` and one column per name of ``names`` (each one of :func:`breakdowns`):
    :func:`first_touch` of each, for the users with
    a ``step`` event on a local day of the period, with one ranking instead of one per breakdown.

    :func:`first_touch` takes the value on the user's first such event, the least value among
    events at that same instant: so the users' first instants are found once, their events at
    that instant read once, and each breakdown takes its least (filled) value there. A users
    column is the user's own value, whichever event comes first.
    """
    known = set(breakdowns(events, products, users))
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(
            f"breakdown(s) {', '.join(map(repr, unknown))} are neither events columns, "
            f"'category' with a products table, nor users columns: {', '.join(sorted(known))}"
        )
    from_events = [n for n in names if n != "category" and n in events.columns]
    from_users = [n for n in names if n != "category" and n not in from_events]
    first = _entry_events(events, period, step)
    firsts = first.group_by(first_user=first.user_id).aggregate(first_time=first.event_time.min())
    at_first = first.join(
        firsts, [first.user_id == firsts.first_user, first.event_time == firsts.first_time]
    )
    if "category" in names:
        at_first = _with_category(at_first, products)
    values = {name: at_first[name].cast("string") for name in from_events}
    if "category" in names:
        values["category"] = at_first.segment.cast("string")
    touched = at_first.group_by("user_id").aggregate(
        **{name: value.fill_null(UNKNOWN).min() for name, value in values.items()}
    )
    if from_users:
        # a user listed twice takes the least value, as a ranking by value would
        profile = users.group_by(profile_user=users.user_id).aggregate(
            **{name: users[name].cast("string").fill_null(UNKNOWN).min() for name in from_users}
        )
        joined = touched.left_join(profile, touched.user_id == profile.profile_user)
        touched = joined.select(
            touched.user_id,
            *[touched[name] for name in values],
            **{name: joined[name].fill_null(UNKNOWN) for name in from_users},
        )
    return touched.select("user_id", *names)


def funnel_breakdown(
    events: ir.Table,
    period: Period,
    steps: tuple[str, ...] | list[str] = DEFAULT_STEPS,
    window_days: int = DEFAULT_WINDOW_DAYS,
    breakdown: str = "channel",
    products: ir.Table | None = None,
    users: ir.Table | None = None,
) -> pd.DataFrame:
    """The funnel per first-touch value: ``<breakdown>, step_index, step, users,
    conversion_from_start, conversion_from_previous, drop_off``, sorted by value and step."""
    steps = _check_steps(steps)
    reach = funnel_reach(events, period, steps, window_days)
    touch = first_touch(events, period, steps[0], breakdown, products, users)
    joined = reach.join(touch, "user_id")  # both come from the same entrants: nobody is lost
    counts = (
        joined.group_by(breakdown)
        .aggregate(**{f"users_{i}": joined[f"t{i}"].count() for i in range(1, len(steps) + 1)})
        .to_pandas()
        .sort_values(breakdown)
    )
    tables = []
    for _, row in counts.iterrows():
        table = _step_table(steps, [row[f"users_{i}"] for i in range(1, len(steps) + 1)])
        table.insert(0, breakdown, row[breakdown])
        tables.append(table)
    if not tables:
        return _step_table(steps, [0] * len(steps)).iloc[:0].assign(**{breakdown: []})
    return pd.concat(tables, ignore_index=True)


def with_entrants_in_labels(breakdown_table: pd.DataFrame, breakdown: str) -> pd.DataFrame:
    """:func:`funnel_breakdown`'s table for a chart: each value of ``breakdown`` followed by its
    entrants, ``ads (n = 6,223)``, so that a line resting on few users says so."""
    entrants = breakdown_table[breakdown_table["step_index"] == 1].set_index(breakdown)["users"]
    labels = {value: f"{value} (n = {int(n):,})" for value, n in entrants.items()}
    return breakdown_table.assign(**{breakdown: breakdown_table[breakdown].map(labels)})


def segment_conversion(breakdown_table: pd.DataFrame, breakdown: str) -> pd.DataFrame:
    """Per segment of :func:`funnel_breakdown`: ``entrants, converters`` (reached the last step),
    ``conversion_rate`` with a 95% Wilson interval ``conversion_low``–``conversion_high``, and
    ``p_value_vs_rest``: the two-proportion test against all other entrants pooled
    (``significant`` when < 0.05). Sorted by entrants, largest first."""
    last_index = breakdown_table["step_index"].max()
    if breakdown_table.empty:
        columns = [
            breakdown,
            "entrants",
            "converters",
            "conversion_rate",
            "conversion_low",
            "conversion_high",
            "p_value_vs_rest",
            "significant",
        ]
        return pd.DataFrame(columns=columns)
    by_step = breakdown_table.set_index([breakdown, "step_index"])["users"]
    table = pd.DataFrame(
        {
            "entrants": by_step.xs(1, level="step_index"),
            "converters": by_step.xs(last_index, level="step_index"),
        }
    ).reset_index()
    table["conversion_rate"] = table["converters"] / table["entrants"].where(table["entrants"] > 0)
    table["conversion_low"], table["conversion_high"] = proportion_intervals(
        table["converters"], table["entrants"]
    )
    total_entrants, total_converters = table["entrants"].sum(), table["converters"].sum()
    table["p_value_vs_rest"] = [
        two_proportion_pvalue(c, n, total_converters - c, total_entrants - n)
        for c, n in zip(table["converters"], table["entrants"], strict=True)
    ]
    table["significant"] = table["p_value_vs_rest"] < SIGNIFICANCE_LEVEL
    table = table.sort_values(["entrants", breakdown], ascending=[False, True])
    return table.reset_index(drop=True)


def compare_segments(
    segments: pd.DataFrame, breakdown: str, a: str | None = None, b: str | None = None
) -> pd.DataFrame:
    """Test segment ``a`` against ``b`` (default: the two with the most entrants); one row.

    ``difference = conversion_a − conversion_b`` with Newcombe's 95% interval (built from the two
    Wilson intervals, so it is sound for small or extreme rates) and the two-proportion p-value.
    With no names and fewer than two segments there is nothing to compare: no rows.
    """
    if (a is None) != (b is None):
        raise ValueError("name both segments to compare, or neither (the two largest)")
    if a is None or b is None:
        if len(segments) < 2:
            return pd.DataFrame(columns=COMPARISON_COLUMNS)
        a, b = segments[breakdown].iloc[0], segments[breakdown].iloc[1]
    rows = segments.set_index(breakdown)
    missing = [s for s in (a, b) if s not in rows.index]
    if missing:
        raise ValueError(
            f"no segment {', '.join(map(repr, missing))} in {breakdown}; "
            f"segments: {', '.join(map(str, rows.index))}"
        )
    ra, rb = rows.loc[a], rows.loc[b]
    pa, pb = ra["conversion_rate"], rb["conversion_rate"]
    difference = pa - pb
    low = difference - math.hypot(pa - ra["conversion_low"], rb["conversion_high"] - pb)
    high = difference + math.hypot(ra["conversion_high"] - pa, pb - rb["conversion_low"])
    p_value = two_proportion_pvalue(
        int(ra["converters"]), int(ra["entrants"]), int(rb["converters"]), int(rb["entrants"])
    )
    row = pd.DataFrame(
        [
            {
                "segment_a": a,
                "segment_b": b,
                "entrants_a": int(ra["entrants"]),
                "converters_a": int(ra["converters"]),
                "conversion_a": pa,
                "entrants_b": int(rb["entrants"]),
                "converters_b": int(rb["converters"]),
                "conversion_b": pb,
                "difference": difference,
                "difference_low": low,
                "difference_high": high,
                "p_value": p_value,
                "significant": p_value < SIGNIFICANCE_LEVEL,
            }
        ]
    )
    return row[COMPARISON_COLUMNS]


# --------------------------------------------------------------------------------------------
# Secondary paths


def path_name(steps: Sequence[str]) -> str:
    """A path's label, e.g. ``view_item → purchase``."""
    return " → ".join(steps)


def funnel_paths(
    events: ir.Table,
    period: Period,
    paths: Sequence[Sequence[str]] = DEFAULT_SECONDARY_PATHS,
    window_days: int = DEFAULT_WINDOW_DAYS,
    *,
    order: str = "ordered",
) -> pd.DataFrame:
    """:func:`funnel_table` of each path (in ``order``), stacked with a ``path`` column, in the
    order given."""
    tables = []
    for steps in paths:
        # each path is read once per run: its steps' events are not worth storing
        table = funnel_table(
            events, period, list(steps), window_days, order=order, store_steps=False
        )
        table.insert(0, "path", path_name(steps))
        tables.append(table)
    if not tables:
        raise ValueError("no secondary paths given")
    return pd.concat(tables, ignore_index=True)


# --------------------------------------------------------------------------------------------
# Per-SKU and per-category conversion


def _with_item(table: ir.Table, level: str, products: ir.Table | None) -> ir.Table:
    """Add ``item``: the row's ``sku_id``, or its category from ``products``."""
    if level == "sku":
        return table.mutate(item=table.sku_id)
    catalogue = products.select(catalogue_sku=products.sku_id, item=products.category)
    joined = table.left_join(catalogue, table.sku_id == catalogue.catalogue_sku)
    return joined.drop("catalogue_sku").mutate(item=ibis._.item.fill_null(UNKNOWN))


def item_conversion(
    events: ir.Table,
    orders: ir.Table,
    order_items: ir.Table,
    period: Period,
    window_days: int = DEFAULT_WINDOW_DAYS,
    level: str = "sku",
    products: ir.Table | None = None,
    min_viewers: int = DEFAULT_MIN_VIEWERS,
    worst_n: int = DEFAULT_WORST_N,
    sort_by: str = "viewers",
    ascending: bool = False,
) -> pd.DataFrame:
    """Conversion of each SKU (or category): viewers who bought that item within the window.

    A *viewer* has a ``view_item`` of the item on a local day of the period; ``t1`` is their first
    such view. They are a *buyer* when a paid order (:func:`lib.definitions.paid_orders`) with a
    line of that item (of that category) is paid in ``[t1, t1 + window]``. Columns: the item
    (``sku_id`` plus ``category`` when ``products`` is given, or ``category``), ``views``,
    ``viewers``, ``buyers``, ``conversion_rate`` with a 95% Wilson interval, ``large_traffic``
    (``viewers ≥ min_viewers``), ``worst``, ``comparison_rate``, ``below_comparison`` and
    ``label_basis``. ``comparison_rate`` is the conversion of all *other* items' viewers pooled
    (their buyers over their viewers; a user who viewed two items counts for each), and an item
    is ``below_comparison`` when the upper end of its interval is below that rate: a shortfall
    beyond the noise. ``worst`` flags, among the large-traffic items below the comparison, the
    ``worst_n`` with the lowest conversion (ties: more viewers first, then item); an item that
    might convert as well as the others is never flagged, however low its point estimate.
    ``label_basis`` gives the numbers behind the flag. Sorted by ``sort_by`` then item.
    """
    if level not in ITEM_LEVELS:
        raise ValueError(f"level={level!r} must be one of {', '.join(ITEM_LEVELS)}")
    if level == "category" and products is None:
        raise ValueError("level='category' needs the products table (sku_id → category)")
    parameters.check("conversion_window_days", window_days, "window_days")
    item = "sku_id" if level == "sku" else "category"
    window = window_days * SECONDS_PER_DAY

    views = events_in(events, period)
    views = views.filter(views.event_name == "view_item", views.sku_id.notnull())
    views = _with_item(
        views.select("user_id", "sku_id", s=epoch_seconds(views.event_time)), level, products
    )
    first_views = views.group_by(["user_id", "item"]).aggregate(
        t1=views.s.min(), views=views.count()
    )
    per_item = first_views.group_by("item").aggregate(
        views=first_views.views.sum(), viewers=first_views.count()
    )

    lo, late = _window_bounds(period, window_days)
    paid = paid_orders(orders)
    paid = paid.filter(
        paid.paid_time >= ibis.literal(lo, "timestamp"),
        paid.paid_time < ibis.literal(late, "timestamp"),
    )
    paid = paid.select("order_id", "user_id", paid_s=epoch_seconds(paid.paid_time))
    lines = paid.join(order_items.select("order_id", "sku_id"), "order_id")
    lines = _with_item(lines.select("user_id", "sku_id", "paid_s"), level, products)
    matched = first_views.join(lines.select("user_id", "item", "paid_s"), ["user_id", "item"])
    matched = matched.filter(
        (matched.paid_s >= matched.t1) & (matched.paid_s <= matched.t1 + window)
    )
    buyers = (
        matched.select("user_id", "item")
        .distinct()
        .group_by("item")
        .aggregate(buyers=ibis._.count())
    )
    joined = per_item.left_join(buyers, "item").drop("item_right")
    if level == "sku" and products is not None:
        catalogue = products.select(catalogue_sku=products.sku_id, category=products.category)
        joined = joined.left_join(catalogue, joined.item == catalogue.catalogue_sku).drop(
            "catalogue_sku"
        )
    table = joined.to_pandas().rename(columns={"item": item})
    if "category" in table and item != "category":
        table["category"] = table["category"].fillna(UNKNOWN)

    table["buyers"] = table["buyers"].fillna(0).astype("int64")
    table["views"] = table["views"].astype("int64")
    table["viewers"] = table["viewers"].astype("int64")
    table["conversion_rate"] = table["buyers"] / table["viewers"]
    table["conversion_low"], table["conversion_high"] = proportion_intervals(
        table["buyers"], table["viewers"]
    )
    table["large_traffic"] = table["viewers"] >= min_viewers
    rest_buyers = table["buyers"].sum() - table["buyers"]
    rest_viewers = table["viewers"].sum() - table["viewers"]
    table["comparison_rate"] = rest_buyers / rest_viewers.where(rest_viewers > 0)
    side = interval_side(
        table["conversion_low"], table["conversion_high"], table["comparison_rate"]
    )
    table["below_comparison"] = side == "below"
    worst = (
        table[table["large_traffic"] & table["below_comparison"]]
        .sort_values(["conversion_rate", "viewers", item], ascending=[True, False, True])
        .head(worst_n)
    )
    table["worst"] = table.index.isin(worst.index)
    table["label_basis"] = _worst_basis(table, side, level, min_viewers, worst_n)

    columns = [item, *(["category"] if "category" in table and item != "category" else [])]
    columns += ["views", "viewers", "buyers", "conversion_rate", "conversion_low"]
    columns += ["conversion_high", "large_traffic", "worst", "comparison_rate"]
    columns += ["below_comparison", "label_basis"]
    if sort_by not in columns:
        raise ValueError(f"sort_by={sort_by!r} is not a column: {', '.join(columns)}")
    keys = [sort_by] if sort_by == item else [sort_by, item]
    order = [ascending] if sort_by == item else [ascending, True]
    return table[columns].sort_values(keys, ascending=order).reset_index(drop=True)


ITEM_NOUNS = {"sku": "SKUs", "category": "categories"}


def _worst_basis(
    table: pd.DataFrame, side: np.ndarray, level: str, min_viewers: int, worst_n: int
) -> list[str]:
    """Per item of :func:`item_conversion`, why it is (not) flagged as worst, in numbers."""
    others = f"the other {ITEM_NOUNS[level]}'"
    texts = []
    for row, where in zip(table.itertuples(index=False), side, strict=True):
        if not row.large_traffic:
            noun = "viewer" if row.viewers == 1 else "viewers"
            texts.append(f"{row.viewers:,} {noun}, fewer than {min_viewers:,}: not enough data")
            continue
        if not where:
            texts.append("no other viewers to compare with")
            continue
        interval = f"95% {row.conversion_low:.1%}–{row.conversion_high:.1%}"
        verb = {"below": "below", "above": "above", "within": "includes"}[where]
        text = f"{interval} {verb} {others} {row.comparison_rate:.1%}"
        if where == "below" and not row.worst:
            text += f", but not among the {worst_n} lowest"
        texts.append(text)
    return texts


def worst_items(table: pd.DataFrame) -> pd.DataFrame:
    """The rows :func:`item_conversion` flagged as ``worst``, lowest conversion first."""
    item = table.columns[0]
    flagged = table[table["worst"]]
    flagged = flagged.sort_values(
        ["conversion_rate", "viewers", item], ascending=[True, False, True]
    )
    return flagged.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Daily monitoring


def daily_conversion(
    events: ir.Table,
    period: Period,
    steps: tuple[str, ...] | list[str] = DEFAULT_STEPS,
    window_days: int = DEFAULT_WINDOW_DAYS,
    band_days: int = DEFAULT_BAND_DAYS,
    k: float = DEFAULT_BAND_K,
    noise_floor: bool = True,
    *,
    alert_fdr: float = DEFAULT_ALERT_FDR,
    min_effect: float = DEFAULT_MIN_EFFECT,
    per_weekday: bool = DEFAULT_PER_WEEKDAY,
) -> pd.DataFrame:
    """The funnel's conversion per entry day, tested against the days before it (issue 17).

    Each day is its own funnel: ``entrants`` are the users with a step-1 event on that local day
    (``t1`` = their first that day), ``converters`` those of them who reach the last step within
    the window. The series (k = converters, n = entrants) goes through the rate detector of
    :mod:`lib.monitoring` (docs/monitoring.md), as the ``funnel_conversion`` series:

    - ``band_median`` (= ``expected``) is the baseline rate ``p0 = Σ converters / Σ entrants``
      of the ``band_days`` days before the day (days before ``start`` included, so the first day
      has one; with ``per_weekday``, only the same weekday among them, which needs ``band_days``
      ≥ 7: shorter baselines pool every day). Days inside an incident are left out of later
      baselines.
    - ``band_low`` / ``band_high`` hold ``1 − alert_fdr`` of the day's rate if it converted at
      ``p0`` (binomial with the day's entrants): the band is the day's own sampling noise, so a
      day with one converter out of 25 is ordinary when the shop converts 4 %.
    - ``outside_band`` / ``flag`` (``below`` / ``above``, else empty) mark the detector's flagged
      days: the day, or the 3 or 7 days ending on it, differ from their baseline beyond the
      noise (exact binomial test, Benjamini–Hochberg over the period's days at ``alert_fdr``)
      and by at least ``min_effect`` relative to ``p0``. A flagged day's own point can sit
      inside its band when a window flagged it (a fall seen over three low-volume days).
    - ``p_value`` is that of the test that flagged the day (else the day's own test) and
      ``incident_id`` numbers runs of flagged days (0 outside any).

    Days without entrants have no rate and are never flagged; days whose baseline has no
    entrants have no band. ``k`` (``band_k``) and ``noise_floor`` belonged to the median ± k·MAD
    band this replaced: they are accepted and ignored (``k`` is still checked, so a value the
    runner refuses is refused here too).
    """
    # lib.monitoring builds its series from this module: imported here, not at the top
    from lib import monitoring

    steps = _check_steps(steps)
    parameters.check("band_days", band_days)
    parameters.check("band_k", k, "k")  # ignored, but NaN or a negative value is still refused
    # enough days before start for the first day's baseline and its longest scan window
    history = band_days + max(monitoring.SCAN_WINDOWS) - 1
    widened = Period(period.start - dt.timedelta(days=history), period.end, period.timezone)
    reach = _reach(events, widened, steps, window_days, ["user_id", "day"])
    last = f"t{len(steps)}"
    per_day = (
        reach.group_by("day")
        .aggregate(entrants=reach.count(), converters=reach[last].count())
        .to_pandas()
        .set_index("day")
    )
    days = pd.RangeIndex(widened.start_day, widened.end_day + 1)
    entrants = per_day["entrants"].reindex(days).fillna(0).astype("int64")
    converters = per_day["converters"].reindex(days).fillna(0).astype("int64")
    rates = pd.DataFrame(
        {
            "date": to_timestamps(days).to_numpy(),
            "series": "funnel_conversion",
            "step": path_name(steps),
            "k": converters.to_numpy(),
            "n": entrants.to_numpy(),
        }
    )
    # a same-weekday baseline needs at least one week of days
    detection = monitoring.detect(
        rates,
        baseline_days=band_days,
        per_weekday=per_weekday and band_days >= 7,
        alert_fdr=alert_fdr,
        min_effect=min_effect,
        start=period.start,
    )
    tested = detection.days.set_index("date").reindex(to_timestamps(days))
    flagged = tested["flagged"].fillna(False).astype(bool).to_numpy()
    flag = np.where(flagged, tested["direction"].fillna("").astype(str), "")
    table = pd.DataFrame(
        {
            "entrants": entrants.to_numpy(),
            "converters": converters.to_numpy(),
            "conversion_rate": (converters / entrants.where(entrants > 0)).astype("float64"),
            "band_median": tested["expected"].astype("float64").to_numpy(),
            "band_low": tested["lower"].astype("float64").to_numpy(),
            "band_high": tested["upper"].astype("float64").to_numpy(),
            "outside_band": flagged,
            "flag": flag,
            "expected": tested["expected"].astype("float64").to_numpy(),
            "p_value": tested["p_value"].astype("float64").to_numpy(),
            "incident_id": tested["incident_id"].fillna(0).astype("int64").to_numpy(),
        },
        index=days,
    ).loc[period.start_day :]
    table.insert(0, "date", to_timestamps(table.index).to_numpy())
    return table.reset_index(drop=True)


def band_k_note(band_k: float) -> str | None:
    """The note a notebook prints when it is given a ``band_k`` other than its default: the
    parameter is accepted (runs that pass it keep working) but no longer used since issue 17.
    None for the default."""
    if band_k == DEFAULT_BAND_K:
        return None
    return (
        f"band_k = {band_k:g} is ignored since issue 17: the daily monitoring no longer draws a "
        "median ± k·MAD band; each day is tested against its baseline, and alert_fdr and "
        "min_effect decide which days are flagged."
    )


def days_outside_band(daily: pd.DataFrame) -> pd.DataFrame:
    """The days of :func:`daily_conversion` whose conversion fell outside their band (``flag``
    says ``below`` or ``above``), in date order; no rows when every day was inside."""
    return daily[daily["outside_band"]].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Drop-off lists


def dropoff_note(steps: Sequence[str], step: str) -> str | None:
    """Why the drop-off lists of ``step`` cannot be made for this funnel, or None if they can.

    The lists need a step after ``step``: on a source whose main path is shorter (events without
    a checkout or a purchase, see :func:`main_path`) the notebook skips the section with this
    note instead of stopping the run.
    """
    if step in tuple(steps)[:-1]:
        return None
    return (
        f"{step!r} is not a step before the last of the funnel ({' → '.join(steps)}): "
        "the drop-off lists are skipped; set dropoff_step to one of "
        f"{', '.join(tuple(steps)[:-1])}."
    )


def _step_position(steps: tuple[str, ...], step: str) -> int:
    """1-based position of ``step``, which must have a next step to drop off before."""
    problem = dropoff_note(steps, step)
    if problem:
        raise ValueError(problem)
    return steps.index(step) + 1


def dropoff_users(
    events: ir.Table,
    period: Period,
    steps: tuple[str, ...] | list[str] = DEFAULT_STEPS,
    step: str = "add_to_cart",
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> pd.DataFrame:
    """Entrants who reached ``step`` but not the next one: ``user_id, last_step_time`` (UTC, as
    stored), ``last_step_local_time`` (in the period's zone), both as ``YYYY-MM-DD HH:MM:SS``
    text, and ``channel`` (first touch).

    User ids and behaviour only: the input for a targeted push or SMS. Sorted by ``user_id``.
    """
    steps = _check_steps(steps)
    k = _step_position(steps, step)
    reach = funnel_reach(events, period, steps, window_days)
    dropped = reach.filter(reach[f"t{k}"].notnull(), reach[f"t{k + 1}"].isnull())
    touch = first_touch(events, period, steps[0], "channel")
    joined = dropped.join(touch, "user_id")
    table = joined.select("user_id", "channel", last_step_s=joined[f"t{k}"]).to_pandas()
    utc = pd.to_datetime(table["last_step_s"].astype("int64"), unit="s")
    # Zone conversion happens here, on a few thousand rows in pandas, never in the engine.
    local = utc.dt.tz_localize("UTC").dt.tz_convert(period.zone).dt.tz_localize(None)
    # Text, not timestamps: the CSV writer (lib.outputs) prints timestamps as dates only.
    table = pd.DataFrame(
        {
            "user_id": table["user_id"],
            "last_step_time": utc.dt.strftime(TIME_FORMAT),
            "last_step_local_time": local.dt.strftime(TIME_FORMAT),
            "channel": table["channel"],
        }
    )
    return table.sort_values("user_id").reset_index(drop=True)


def dropoff_behaviour(
    events: ir.Table,
    period: Period,
    steps: tuple[str, ...] | list[str] = DEFAULT_STEPS,
    step: str = "add_to_cart",
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> pd.DataFrame:
    """What droppers did compared with converters, per event name.

    Among entrants who reached ``step``, *converters* reached the next step and *droppers* did not.
    A converter's events count from ``t1`` up to and including the second of the next step
    (events within one second have no reliable order); a dropper's from ``t1`` to the end of the
    window (``t1 + window``), the whole time they could have converted. Columns: ``event_name,
    droppers_with_event, converters_with_event, share_of_droppers, share_of_converters,
    events_per_dropper, events_per_converter`` (per user of the group, including those without
    the event), ``droppers`` and ``converters`` (the groups' sizes, the n of every share) and
    ``p_value``: the two-proportion test of ``share_of_droppers`` against
    ``share_of_converters`` (``significant`` when < 0.05; null when everyone or no one in both
    groups had the event); sorted by ``event_name``.
    """
    steps = _check_steps(steps)
    k = _step_position(steps, step)
    window = window_days * SECONDS_PER_DAY
    reach = funnel_reach(events, period, steps, window_days)
    reached = reach.filter(reach[f"t{k}"].notnull())
    converted = reached[f"t{k + 1}"].notnull()
    groups = reached.select(
        "user_id",
        "t1",
        group=converted.ifelse("converter", "dropper"),
        until=converted.ifelse(reached[f"t{k + 1}"], reached.t1 + window) + 1,  # exclusive end
    )
    sizes = groups.group_by("group").aggregate(n=ibis._.count()).to_pandas()
    sizes = sizes.set_index("group")["n"].reindex(["dropper", "converter"]).fillna(0)

    lo, late = _window_bounds(period, window_days)
    acts = events.filter(
        events.event_time >= ibis.literal(lo, "timestamp"),
        events.event_time < ibis.literal(late, "timestamp"),
    )
    acts = acts.select("user_id", "event_name", t=epoch_seconds(acts.event_time))
    joined = groups.join(acts, "user_id")
    joined = joined.filter((joined.t >= joined.t1) & (joined.t < joined.until))
    counts = (
        joined.group_by(["event_name", "group"])
        .aggregate(events=joined.count(), users=joined.user_id.nunique())
        .to_pandas()
    )
    wide = counts.pivot(index="event_name", columns="group", values=["users", "events"])
    wide = wide.reindex(
        columns=pd.MultiIndex.from_product([["users", "events"], ["dropper", "converter"]])
    ).fillna(0)
    # per user of the whole group, so users without the event count as 0
    size = {g: (sizes[g] if sizes[g] else float("nan")) for g in ("dropper", "converter")}
    table = pd.DataFrame(
        {
            "droppers_with_event": wide[("users", "dropper")].astype("int64"),
            "converters_with_event": wide[("users", "converter")].astype("int64"),
            "share_of_droppers": wide[("users", "dropper")] / size["dropper"],
            "share_of_converters": wide[("users", "converter")] / size["converter"],
            "events_per_dropper": wide[("events", "dropper")] / size["dropper"],
            "events_per_converter": wide[("events", "converter")] / size["converter"],
        },
        index=wide.index.rename("event_name"),
    )
    table["droppers"] = int(sizes["dropper"])
    table["converters"] = int(sizes["converter"])
    table["p_value"] = [
        two_proportion_pvalue(d, int(sizes["dropper"]), c, int(sizes["converter"]))
        for d, c in zip(table["droppers_with_event"], table["converters_with_event"], strict=True)
    ]
    table["significant"] = table["p_value"] < SIGNIFICANCE_LEVEL
    return table.sort_index().reset_index()


# --------------------------------------------------------------------------------------------
# The sentences the notebook prints, computed from this run's tables


def _listed(names: Sequence[str], limit: int = 6) -> str:
    """``a``, ``a and b``, ``a, b and c``; past ``limit`` names, ``… and N more``."""
    names = list(names)
    if len(names) > limit:
        names = [*names[:limit], f"{len(names) - limit} more"]
    if not names:
        return "none"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def main_path_note(table: pd.DataFrame) -> str:
    """The step of :func:`funnel_table` with the lowest ``conversion_from_previous`` and the one
    that lost the most users (the same step or not), with their numbers."""
    if table.empty or not table["users"].iloc[0]:
        return "No entrants in the period: no step to compare."
    later = table[table["step_index"] > 1].dropna(subset=["conversion_from_previous"])
    if later.empty:
        return "No step after the first was reached by anyone: nothing to compare."
    steps = table.set_index("step_index")["step"]
    users = table.set_index("step_index")["users"]

    def hop(row: pd.Series) -> str:
        return f"{steps[row['step_index'] - 1]} → {row['step']}"

    # idxmin / idxmax keep the first of equal values: the earlier step
    weakest = later.loc[later["conversion_from_previous"].idxmin()]
    most = later.loc[later["drop_off"].idxmax()]
    text = (
        f"The weakest step is {hop(weakest)}: {weakest['conversion_from_previous']:.1%} of the "
        f"{users[weakest['step_index'] - 1]:,} users at {steps[weakest['step_index'] - 1]} went on"
    )
    if most["step_index"] == weakest["step_index"]:
        return f"{text}, and it lost the most users ({int(most['drop_off']):,})."
    return (
        f"{text}; the most users were lost at {hop(most)} ({int(most['drop_off']):,}, "
        f"{most['conversion_from_previous']:.1%} went on)."
    )


def segments_note(segments: pd.DataFrame, breakdown: str) -> str:
    """Which segments of :func:`segment_conversion` convert above or below all other entrants
    beyond the noise (``significant``), and which the data cannot tell from the rest."""
    if segments.empty:
        return "No entrants in the period: no segment to compare."
    total_c, total_n = segments["converters"].sum(), segments["entrants"].sum()
    rest_n = total_n - segments["entrants"]
    rest = (total_c - segments["converters"]) / rest_n.where(rest_n > 0)
    significant = segments["significant"].fillna(False).astype(bool)
    above = segments[significant & (segments["conversion_rate"] > rest)]
    below = segments[significant & (segments["conversion_rate"] < rest)]
    unclear = segments[~segments.index.isin([*above.index, *below.index])]

    def named(rows: pd.DataFrame) -> str:
        ranked = rows.sort_values(["conversion_rate", breakdown], ascending=[False, True])
        return _listed(
            [
                f"{v} ({r:.1%})"
                for v, r in zip(ranked[breakdown], ranked["conversion_rate"], strict=True)
            ]
        )

    if above.empty and below.empty:
        return (
            f"No {breakdown} converts differently from all other entrants beyond the noise "
            "(p ≥ 0.05 for each): treat the gaps between them as chance."
        )
    return (
        f"Against all other entrants (p < 0.05), above the rest: {named(above)}; below: "
        f"{named(below)}; no clear difference: {_listed(unclear[breakdown].astype(str))}."
    )


def segment_comparison_note(comparison: pd.DataFrame) -> str:
    """:func:`compare_segments`' row in words: which converts better, by how much, with the
    interval, and whether it is beyond the noise."""
    if comparison.empty:
        return "Fewer than two segments: nothing to compare."
    row = comparison.iloc[0]
    a, b = row["segment_a"], row["segment_b"]
    if pd.isna(row["p_value"]):
        return (
            f"{a} and {b} cannot be tested: one has no entrants, or nobody (or everybody) bought."
        )
    difference = row["difference"]
    if difference == 0:
        where = f"as often as {b}"
    else:
        where = f"{abs(difference) * 100:.1f} points {'above' if difference > 0 else 'below'} {b}"
    text = (
        f"{a} converts {where} ({row['conversion_a']:.1%} of {int(row['entrants_a']):,} against "
        f"{row['conversion_b']:.1%} of {int(row['entrants_b']):,}; 95% interval of the difference "
        f"{row['difference_low'] * 100:+.1f} to {row['difference_high'] * 100:+.1f} points, "
        f"p = {row['p_value']:.3f})"
    )
    if row["significant"]:
        return f"{text}: a difference beyond the noise."
    return f"{text}: the data cannot tell them apart."


def worst_items_note(table: pd.DataFrame, level: str, min_viewers: int) -> str:
    """How many items of :func:`item_conversion` convert clearly below the others, and how many
    of them are flagged ``worst``; says so when none is, or none has enough viewers."""
    noun = ITEM_NOUNS[level]
    large = int(table["large_traffic"].sum())
    if not large:
        return (
            f"No {noun[:-1] if level == 'sku' else 'category'} had {min_viewers:,} viewers or "
            "more: not enough data to flag any as a worst converter."
        )
    below = int((table["large_traffic"] & table["below_comparison"]).sum())
    flagged = int(table["worst"].sum())
    if not below:
        return (
            f"None of the {large:,} {noun} with at least {min_viewers:,} viewers converts clearly "
            f"below the other {noun} (each 95% interval reaches their rate): none is flagged."
        )
    which = "flagged" if flagged == below else f"the {flagged:,} lowest flagged"
    verb = "converts" if below == 1 else "convert"
    return (
        f"{below:,} of the {large:,} {noun} with at least {min_viewers:,} viewers {verb} clearly "
        f"below the other {noun} (the whole 95% interval under their rate), {which}."
    )


def band_note(daily: pd.DataFrame) -> str:
    """How many days of :func:`daily_conversion` were flagged, above and below, and which; how
    many had no baseline to be tested against."""
    outside = days_outside_band(daily)
    unbanded = int(daily["band_median"].isna().sum())
    missing = f"; {unbanded} had no baseline to test against" if unbanded else ""
    if unbanded == len(daily):
        return "No day had a baseline to test against: nothing is flagged."
    if outside.empty:
        return (
            f"None of the {len(daily) - unbanded} days tested moved beyond its noise against "
            f"the days before it{missing}."
        )

    parts = []
    for flag in ("above", "below"):
        dates = outside.loc[outside["flag"] == flag, "date"]
        if len(dates):
            parts.append(f"{len(dates)} {flag} ({_listed([f'{d:%Y-%m-%d}' for d in dates])})")
    return (
        f"{len(outside)} of {len(daily)} days were flagged, beyond the noise against the days "
        f"before them: {' and '.join(parts)}{missing}."
    )


def dropoff_behaviour_note(
    behaviour: pd.DataFrame, steps: Sequence[str], step: str, window_days: int
) -> str:
    """What :func:`dropoff_behaviour` shows outside the funnel's own steps (which the groups
    differ on by definition): on how many event types each group logged more events per user,
    and which shares differ beyond the noise, in whose favour."""
    if behaviour.empty:
        return f"No user reached {step} in the period: no one to compare."
    droppers, converters = int(behaviour["droppers"].iloc[0]), int(behaviour["converters"].iloc[0])
    if not droppers or not converters:
        who = "went on" if not droppers else "stopped"
        return f"Every user who reached {step} {who}: there is no other group to compare with."
    others = behaviour[~behaviour["event_name"].isin(list(steps))]
    if others.empty:
        return "The users logged no events outside the funnel's steps: nothing to compare."
    dropper_more = others[others["events_per_dropper"] > others["events_per_converter"]]
    converter_more = others[others["events_per_dropper"] < others["events_per_converter"]]

    def named(rows: pd.DataFrame) -> str:
        return f" ({_listed(rows['event_name'])})" if len(rows) else ""

    counts = (
        f"Per user, droppers ({droppers:,}) logged more events than converters ({converters:,}) "
        f"on {len(dropper_more)} of the {len(others)} event types outside the funnel"
        f"{named(dropper_more)}; converters logged more on {len(converter_more)}"
        f"{named(converter_more)}."
    )
    significant = others[others["significant"].fillna(False).astype(bool)]
    gap = significant["share_of_droppers"] - significant["share_of_converters"]

    def shares(rows: pd.DataFrame) -> str:
        ordered = rows.assign(size=(rows["share_of_droppers"] - rows["share_of_converters"]).abs())
        ordered = ordered.sort_values(["size", "event_name"], ascending=[False, True])
        return _listed(
            [
                f"{r.event_name} ({r.share_of_droppers:.0%} of droppers, "
                f"{r.share_of_converters:.0%} of converters)"
                for r in ordered.itertuples()
            ],
            limit=4,
        )

    parts = []
    if (gap > 0).any():
        parts.append(f"more droppers than converters had {shares(significant[gap > 0])}")
    if (gap < 0).any():
        parts.append(f"more converters than droppers had {shares(significant[gap < 0])}")
    if parts:
        share_text = f"Beyond the noise (p < 0.05), {'; '.join(parts)}."
    else:
        share_text = "No event's share of users differs between the groups beyond the noise."
    window = (
        f"Droppers are followed for the whole {window_days}-day window and converters only until "
        "they went on, so both measures lean towards droppers; a difference in the converters' "
        "favour holds in spite of that."
    )
    return f"{counts} {share_text} {window}"


def behaviour_title(behaviour: pd.DataFrame, step: str, window_days: int) -> str:
    """The title of the drop-off behaviour chart: what is plotted, the two groups' sizes (the n of
    every bar) and how long each is followed."""
    if behaviour.empty:
        return f"Events per user after reaching {step}: no one reached it"
    droppers, converters = int(behaviour["droppers"].iloc[0]), int(behaviour["converters"].iloc[0])
    return (
        f"Events per user after reaching {step}: {droppers:,} droppers (followed {window_days} "
        f"days) vs {converters:,} converters (followed until they went on)"
    )


# --------------------------------------------------------------------------------------------
# Time to convert and the funnel's trend (issue 18), on the main funnel's reach

TIME_TO_CONVERT_COLUMNS = ["bin_start_hours", "bin_end_hours", "users", "share"]
TIME_TO_CONVERT_SUMMARY_COLUMNS = ["converters", "bins", "median_hours", "mean_hours", "max_hours"]
TRENDS_COLUMNS = ["period_start", "entrants", "converters", "conversion_rate"]
DEFAULT_TIME_TO_CONVERT_BINS = parameters.default("time_to_convert_bins")
# The most bars the cube-root rule gives, and the most a given count may ask for: one bound.
MAX_TIME_TO_CONVERT_BINS = int(parameters.bounds("time_to_convert_bins").high)
DEFAULT_TREND_INTERVAL = parameters.default("trend_interval")
TREND_INTERVALS = parameters.choices("trend_interval")


def _ceil_cube_root(n: int) -> int:
    """⌈∛n⌉ for ``n`` ≥ 0, in integers: the float cube root of 27 is 3.0000000000000004, which
    rounded up would give one bar too many on every perfect cube."""
    root = round(n ** (1 / 3))
    while root**3 < n:
        root += 1
    while root > 0 and (root - 1) ** 3 >= n:
        root -= 1
    return root


def time_to_convert_bin_count(converters: int, bins: int | None = None) -> int:
    """The histogram's number of equal-width bars: ``bins`` when given, else
    clamp(⌈∛converters⌉, 1, :data:`MAX_TIME_TO_CONVERT_BINS`) (Rice-like: more converters, more
    detail, never more bars than a chart can show)."""
    if bins is not None:
        parameters.check("time_to_convert_bins", bins, "bins")
        return int(bins)
    return min(max(_ceil_cube_root(converters), 1), MAX_TIME_TO_CONVERT_BINS)


def _conversion_seconds(
    events: ir.Table,
    period: Period,
    steps: tuple[str, ...],
    window_days: int,
    order: str,
    exclusions: Sequence[dict] | None,
) -> ir.Table:
    """``seconds``: ``t_last − t1`` (whole seconds) per entrant of the funnel who reached its
    last step; an expression, never fetched."""
    reach = funnel_reach(events, period, steps, window_days, order=order, exclusions=exclusions)
    last = reach[f"t{len(steps)}"]
    converted = reach.filter(last.notnull())
    return converted.select(seconds=converted[f"t{len(steps)}"] - converted.t1)


def time_to_convert(
    events: ir.Table,
    period: Period,
    steps: tuple[str, ...] | list[str] = DEFAULT_STEPS,
    window_days: int = DEFAULT_WINDOW_DAYS,
    bins: int | None = DEFAULT_TIME_TO_CONVERT_BINS,
    *,
    order: str = "ordered",
    exclusions: Sequence[dict] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The time from the first step (``t1``) to the last (``t_last``) of the funnel's converters
    (entrants of :func:`funnel_table` who reached its last step): ``(histogram, summary)``.
    ``order`` and ``exclusions`` are the funnel's (:func:`funnel_reach`; an any-order funnel has
    no step times and is refused).

    ``histogram`` (``tables/funnel_time_to_convert.csv``): ``bin_start_hours, bin_end_hours,
    users, share``, one row per bar, empty bars included. The bars split the whole seconds
    ``0 … longest`` into :func:`time_to_convert_bin_count` equal half-open ranges
    ``[start, end)`` of ``(longest + 1) / bins`` seconds each: integer arithmetic in the engine
    (bar = seconds × bins // (longest + 1)), so both engines put every converter in the same bar
    and a funnel converting within one second still has a bar. ``share`` = users / converters.

    ``summary``: one row, ``converters, bins, median_hours, mean_hours, max_hours``. The median
    is the engine's exact one (DuckDB ``percentile_cont(0.5)``, Spark ``percentile(0.5)``: both
    sort every duration and average the two middle ones of an even count, no sketch), the mean
    the exact integer sum of seconds divided by the converters.

    The per-converter durations stay in the engine, cached there for the two small queries
    (summary, then bars) so the funnel's reach is computed once.
    """
    steps = _check_steps(steps)
    if bins is not None:
        parameters.check("time_to_convert_bins", bins, "bins")
    seconds = _conversion_seconds(events, period, steps, window_days, order, exclusions)
    with seconds.cache() as cached:
        totals = (
            cached.aggregate(
                converters=cached.count(),
                total=cached.seconds.sum(),
                longest=cached.seconds.max(),
                median=cached.seconds.median(),
            )
            .to_pandas()
            .iloc[0]
        )
        converters = int(totals["converters"])
        count = time_to_convert_bin_count(converters, bins)
        if converters:
            span = int(totals["longest"]) + 1  # whole seconds 0 … longest
            bar = (cached.seconds * count) // span
            per_bar = cached.group_by(bar=bar).aggregate(users=cached.count()).to_pandas()
        else:
            span, per_bar = 0, pd.DataFrame({"bar": [], "users": []})
    summary = pd.DataFrame(
        {
            "converters": [converters],
            "bins": [count if converters else 0],
            "median_hours": [float(totals["median"]) / 3600 if converters else float("nan")],
            "mean_hours": [
                float(totals["total"]) / converters / 3600 if converters else float("nan")
            ],
            "max_hours": [float(totals["longest"]) / 3600 if converters else float("nan")],
        }
    )
    if not converters:
        empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in TIME_TO_CONVERT_COLUMNS})
        return empty.astype({"users": "int64"}), summary
    bars = np.arange(count)
    users = per_bar.set_index("bar")["users"].reindex(bars, fill_value=0).astype("int64")
    histogram = pd.DataFrame(
        {
            "bin_start_hours": bars * span / count / 3600,
            "bin_end_hours": (bars + 1) * span / count / 3600,
            "users": users.to_numpy(),
        }
    )
    histogram["share"] = histogram["users"] / converters
    return histogram, summary


def _duration_text(hours: float) -> str:
    """A duration in a sentence, in the unit a reader thinks in: minutes below an hour, hours
    below two days, else days with the hours beside them."""
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days ({hours:,.0f} h)"


def time_to_convert_note(summary: pd.DataFrame, steps: Sequence[str]) -> str:
    """The median and mean of :func:`time_to_convert`'s summary in words, and which way the
    mean sits from the median (a tail of slow or of fast converters)."""
    first, last = steps[0], steps[-1]
    row = summary.iloc[0]
    converters = int(row["converters"])
    if not converters:
        return f"No entrant reached {last} within the window: no time to convert to show."
    median, mean = float(row["median_hours"]), float(row["mean_hours"])
    text = (
        f"The {converters:,} entrants who reached {last} took a median of "
        f"{_duration_text(median)} and a mean of {_duration_text(mean)} from their first {first} "
        f"(the slowest {_duration_text(float(row['max_hours']))})"
    )
    if mean > median:
        return f"{text}: the mean above the median comes from a tail of slower converters."
    if mean < median:
        return f"{text}: the mean below the median comes from a group of quick converters."
    return f"{text}."


def _local_day_of_second(period: Period, seconds: ir.IntegerValue) -> ir.IntegerValue:
    """The local epoch day of an epoch-second column (the reach's ``t1``), by the zone's offsets
    around the period as :meth:`lib.periods.Period.local_day` applies them to timestamps: plain
    integer arithmetic, the same on every engine, daylight-saving days included."""
    offsets = period.offsets
    if len(offsets) == 1:
        local = seconds + offsets[0][1]
    else:
        branches = [
            (seconds < next_start, seconds + offset)
            for (_, offset), (next_start, _) in zip(offsets, offsets[1:], strict=False)
        ]
        local = ibis.cases(*branches, else_=seconds + offsets[-1][1])
    return local // SECONDS_PER_DAY


def _monday(day: int) -> int:
    """The Monday on or before epoch day ``day`` (1970-01-01 was a Thursday)."""
    return day - (day + 3) % 7


def funnel_trends(
    events: ir.Table,
    period: Period,
    steps: tuple[str, ...] | list[str] = DEFAULT_STEPS,
    window_days: int = DEFAULT_WINDOW_DAYS,
    interval: str = DEFAULT_TREND_INTERVAL,
    *,
    order: str = "ordered",
    exclusions: Sequence[dict] | None = None,
) -> pd.DataFrame:
    """``period_start, entrants, converters, conversion_rate`` per local day (``interval`` =
    ``day``) or ISO week (``week``, Monday to Sunday, local) of the entrants' ``t1``.

    The entrants and converters of :func:`funnel_table` (first entry in the period, so a user
    counts once, in the day or week they first entered), grouped by when they entered: the
    rows add up to the funnel's first and last steps. Every day or week from the first to the
    last of the period has a row (0 entrants: null rate); the first and last weeks may begin
    before ``start`` or end after ``end`` and hold only the period's days. ``period_start`` is
    the day, or the week's Monday, as a midnight timestamp. ``order`` and ``exclusions`` are the
    funnel's (:func:`funnel_reach`; an any-order funnel has no ``t1`` and is refused).
    """
    parameters.check("trend_interval", interval, "interval")
    steps = _check_steps(steps)
    reach = funnel_reach(events, period, steps, window_days, order=order, exclusions=exclusions)
    day = _local_day_of_second(period, reach.t1)
    start = day if interval == "day" else day - (day + 3) % 7
    grouped = (
        reach.group_by(start=start)
        .aggregate(entrants=reach.count(), converters=reach[f"t{len(steps)}"].count())
        .to_pandas()
        .set_index("start")
    )
    if interval == "day":
        starts = pd.RangeIndex(period.start_day, period.end_day + 1)
    else:
        starts = pd.RangeIndex(_monday(period.start_day), _monday(period.end_day) + 1, 7)
    table = grouped.reindex(starts, fill_value=0).astype("int64")
    entrants = table["entrants"]
    return pd.DataFrame(
        {
            "period_start": to_timestamps(starts).to_numpy(),
            "entrants": entrants.to_numpy(),
            "converters": table["converters"].to_numpy(),
            "conversion_rate": (table["converters"] / entrants.where(entrants > 0)).to_numpy(),
        }
    )


def trends_note(trends: pd.DataFrame, interval: str, period: Period) -> str:
    """The highest and lowest conversion of :func:`funnel_trends` among the days or weeks with
    entrants, and, by weeks, which weeks hold only part of the period."""
    noun = "day" if interval == "day" else "week"
    entered = trends[trends["entrants"] > 0]
    if entered.empty:
        return f"No entrants in the period: no {noun} to compare."

    def when(row: pd.Series) -> str:
        start = row["period_start"]
        label = f"{start:%Y-%m-%d}" if interval == "day" else f"the week of {start:%Y-%m-%d}"
        return f"{label}: {row['conversion_rate']:.1%} of {int(row['entrants']):,}"

    # idxmax / idxmin keep the first of equal rates: the earlier day or week
    best = entered.loc[entered["conversion_rate"].idxmax()]
    worst = entered.loc[entered["conversion_rate"].idxmin()]
    if len(entered) == 1:
        text = f"Only one {noun} had entrants ({when(best)})."
    else:
        text = (
            f"Across {len(entered)} {noun}s with entrants, conversion ranged from {when(worst)} "
            f"to {when(best)}."
        )
    if interval == "week":
        first, last = trends["period_start"].iloc[0], trends["period_start"].iloc[-1]
        partial = []
        if first < pd.Timestamp(period.start):
            partial.append(f"the week of {first:%Y-%m-%d} starts before {period.start}")
        if last + pd.Timedelta(days=6) > pd.Timestamp(period.end):
            partial.append(f"the week of {last:%Y-%m-%d} ends after {period.end}")
        if partial:
            text += f" Partial weeks, counting only the period's days: {'; '.join(partial)}."
    return text


def mode_scope_note(order: str = "ordered", exclusions: Sequence[Mapping] | None = None) -> str:
    """What a funnel order other than ``ordered``, or exclusions, apply to in the conversion
    notebook: the main funnel's table, its time to convert and trends, and the secondary paths
    (order only); the breakdowns, daily monitoring, drop-off lists and item conversion keep the
    ordered funnel without exclusions. Empty for the default funnel."""
    if order == "ordered" and not exclusions:
        return ""
    what = " and ".join(
        part
        for part in (
            f"the {order} order" if order != "ordered" else "",
            f"{len(exclusions)} exclusion(s)" if exclusions else "",
        )
        if part
    )
    reached = "the main funnel, its time to convert and trends" + (
        " and the secondary paths" if order != "ordered" else ""
    )
    return (
        f"Note: with {what}, only {reached} change; the breakdowns, the daily monitoring, the "
        "drop-off lists and the item conversion below use the ordered funnel without exclusions."
    )
