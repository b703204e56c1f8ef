"""What goes with conversion (issue 18): events and entry properties more common among the main
funnel's converters than among its other entrants, or less, beyond the noise.

Definition (docs/metrics.md, "Conversion drivers"):

- The entrants are those of the main funnel (:func:`lib.funnel.funnel_reach`: first step-1
  event ``t1`` on a local day of the period); a *converter* reached the last step (``t_K`` not
  null). Times are whole epoch seconds, as in the funnel.
- Candidate ``event`` (``name`` = ``event``, ``value`` = the event name): an event that is no
  step of the funnel, done at second ``s`` with ``t1 < s < t_end``, both strict;
  ``t_end = t_K`` for converters and ``t1 + window_days × 86,400`` for the others. A user has
  it or not (counted once, however often it was done).
- Candidate ``entry``: a property of the entry (the user's first step-1 event, by
  :func:`lib.funnel.first_touch`): ``channel`` and ``platform`` when the events have them,
  ``category`` of its item (with a products table), each users column but ``user_id`` and the
  time columns, and ``visitor``: ``new`` when the user has no event (of any name, in the whole
  events table) on a local day before the entry's local day, else ``returning``. A missing value
  is ``(unknown)``. Every value is its own candidate.
- Per candidate: ``a`` converters and ``b`` non-converters with it, ``c`` and ``d`` without.
  Odds ratio ``(a+1)(d+1) / ((b+1)(c+1))`` (+1 in every cell, so a cell of 0 gives a finite
  ratio), 95 % interval ``exp(log OR ± 1.959964 · √(Σ 1/(cell+1)))``. p-value: Fisher's exact
  test on the raw counts when any expected count (row total × column total / entrants) is below
  5, else Pearson's χ² without continuity correction. A candidate held by fewer than
  ``min_support`` entrants (``a + b``), or by every entrant (nothing to contrast), is dropped;
  Benjamini–Hochberg q-values are taken across the rest. ``direction``: ``success`` when the odds
  ratio is above 1, ``failure`` below, ``none`` at exactly 1.

These are associations, not causes: an event done after the entry can be a consequence of the
intent to buy as much as a reason for it. Every query runs in the engine; only the per-candidate
counts reach pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats

from lib import data, funnel, parameters
from lib.definitions import UNKNOWN
from lib.periods import SECONDS_PER_DAY, Period, epoch_seconds

DEFAULT_MIN_SUPPORT = parameters.default("driver_min_support")
DEFAULT_FDR = parameters.default("driver_fdr")
DEFAULT_TOP_N = 5
# the 97.5 % quantile of the standard normal: a two-sided 95 % interval
Z_95 = 1.959964
# An expected cell count below this sends a candidate to Fisher's exact test instead of χ².
MIN_EXPECTED = 5
# Event columns that describe the entry (when the events have them).
ENTRY_EVENT_COLUMNS = ("channel", "platform")
VISITOR = "visitor"
DRIVER_COLUMNS = [
    "kind",
    "name",
    "value",
    "converters_with",
    "non_converters_with",
    "odds_ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "q_value",
    "direction",
]


@dataclass(frozen=True)
class Drivers:
    """What :func:`conversion_drivers` found.

    ``table``: the tested candidates (``tables/conversion_drivers.csv``, columns
    :data:`DRIVER_COLUMNS`); ``entrants`` and ``converters`` of the funnel; ``dropped``: the
    candidates held by fewer than ``min_support`` entrants, left out before the q-values;
    ``held_by_all``: those every entrant has (no contrast), left out too; ``steps`` the funnel.
    """

    table: pd.DataFrame
    entrants: int
    converters: int
    dropped: int
    held_by_all: int
    min_support: int
    steps: tuple[str, ...]


def _entrants(
    events: ir.Table, period: Period, steps: tuple[str, ...], window_days: int
) -> ir.Table:
    """``user_id, t1, converted, t_end`` per entrant: ``t_end`` is ``t_K`` for converters and
    ``t1 + window`` for the others (the exclusive end of their events that count)."""
    reach = funnel.funnel_reach(events, period, steps, window_days)
    last = reach[f"t{len(steps)}"]
    converted = last.notnull()
    window = window_days * SECONDS_PER_DAY
    return reach.select(
        "user_id", "t1", converted=converted, t_end=converted.ifelse(last, reach.t1 + window)
    )


def _rows(kind: str, name: str, value: ir.StringValue, table: ir.Table) -> ir.Table:
    """``kind, name, value, user_id, converted``: one candidate row per user of ``table``."""
    return table.select(
        kind=ibis.literal(kind, "string"),
        name=ibis.literal(name, "string"),
        value=value.cast("string"),
        user_id=table.user_id.cast("string"),
        converted=table.converted,
    )


def _event_rows(
    entrants: ir.Table,
    events: ir.Table,
    period: Period,
    steps: tuple[str, ...],
    window_days: int,
) -> ir.Table:
    """One row per entrant and event name outside the steps done with ``t1 < s < t_end``."""
    lo, late = funnel._window_bounds(period, window_days)
    acts = events.filter(
        events.event_time >= ibis.literal(lo, "timestamp"),
        events.event_time < ibis.literal(late, "timestamp"),
        ~events.event_name.isin(list(steps)),
    )
    acts = acts.select(
        act_user=acts.user_id, event_name=acts.event_name, s=epoch_seconds(acts.event_time)
    )
    joined = entrants.join(acts, entrants.user_id == acts.act_user)
    joined = joined.filter(joined.s > joined.t1, joined.s < joined.t_end)
    return _rows("event", "event", joined.event_name, joined).distinct()


def entry_properties(
    events: ir.Table, products: ir.Table | None = None, users: ir.Table | None = None
) -> list[str]:
    """The entry properties tested besides ``visitor``: ``channel`` and ``platform`` when the
    events have them, ``category`` with a products table (and ``sku_id`` on the events), and the
    users columns other than ``user_id`` and time (timestamp or date) columns."""
    names = [c for c in ENTRY_EVENT_COLUMNS if c in events.columns]
    if products is not None and "sku_id" in events.columns:
        names.append("category")
    if users is not None:
        schema = users.schema()
        names += [c for c in users.columns if c != "user_id" and not schema[c].is_temporal()]
    return list(dict.fromkeys(names))


def _entry_values(
    entrants: ir.Table,
    events: ir.Table,
    entries: ir.Table,
    period: Period,
    steps: tuple[str, ...],
    products: ir.Table | None,
    users: ir.Table | None,
) -> tuple[ir.Table, list[str]]:
    """The entrants (``user_id, converted``) with one column per entry property, ``p0``, ``p1``
    …, and the properties' names: the first-touch values (:func:`lib.funnel.first_touches`),
    then ``visitor``.

    ``entries`` holds the events the first touches read (the step-1 events of the period, kept
    in the engine); ``visitor`` reads the user-days of ``events`` (:func:`lib.data.user_days`)."""
    names = entry_properties(events, products, users)
    touches = funnel.first_touches(entries, period, steps[0], names, products, users)
    touches = touches.select(
        touch_user=touches.user_id, **{f"p{i}": touches[name] for i, name in enumerate(names)}
    )
    # new vs returning: any event on a local day before the entry's. A user's first local day
    # is the least of their user-days (lib.data.user_days: stored once per run, a tenth of the
    # events' rows at 100M); an entrant's first day is on or before the entry's, so the days
    # after the period that table also holds change nothing.
    days = data.user_days(events, period)
    firsts = days.group_by(first_user=days.user_id).aggregate(first_day=days.day.min())
    joined = entrants.left_join(touches, entrants.user_id == touches.touch_user)
    joined = joined.left_join(firsts, joined.user_id == firsts.first_user)
    returning = joined.first_day < funnel._local_day_of_second(period, joined.t1)
    values = joined.select(
        "user_id",
        "converted",
        **{f"p{i}": joined[f"p{i}"].fill_null(UNKNOWN) for i in range(len(names))},
        **{f"p{len(names)}": returning.ifelse("returning", "new")},
    )
    return values, [*names, VISITOR]


def _entry_rows(values: ir.Table, names: list[str]) -> list[ir.Table]:
    """One row per entrant and entry property, from :func:`_entry_values`."""
    return [_rows("entry", name, values[f"p{i}"], values) for i, name in enumerate(names)]


def _pvalue(a: int, b: int, c: int, d: int) -> float:
    """Fisher's exact test (two-sided) when an expected count is below :data:`MIN_EXPECTED`,
    else Pearson's χ² without continuity correction, on the table ``[[a, b], [c, d]]``."""
    n = a + b + c + d
    rows, columns = (a + b, c + d), (a + c, b + d)
    expected = [r * k / n for r in rows for k in columns]
    if min(expected) < MIN_EXPECTED:
        return float(stats.fisher_exact([[a, b], [c, d]]).pvalue)
    return float(stats.chi2_contingency([[a, b], [c, d]], correction=False).pvalue)


def _empty_table() -> pd.DataFrame:
    types = {
        "kind": "object",
        "name": "object",
        "value": "object",
        "converters_with": "int64",
        "non_converters_with": "int64",
        "direction": "object",
    }
    return pd.DataFrame({c: pd.Series(dtype=types.get(c, "float64")) for c in DRIVER_COLUMNS})


def driver_table(
    counts: pd.DataFrame, entrants: int, converters: int, min_support: int
) -> tuple[pd.DataFrame, int, int]:
    """The tested candidates from per-candidate counts (``kind, name, value, converters_with,
    non_converters_with``), and how many were dropped for support below ``min_support`` and for
    being held by every entrant: ``(table, dropped, held_by_all)``. Pure pandas and scipy."""
    counts = counts.astype({"converters_with": "int64", "non_converters_with": "int64"})
    support = counts["converters_with"] + counts["non_converters_with"]
    low = support < min_support
    everyone = ~low & (support >= entrants)
    kept = counts[~low & ~everyone].reset_index(drop=True)
    if kept.empty:
        return _empty_table(), int(low.sum()), int(everyone.sum())
    a = kept["converters_with"].to_numpy()
    b = kept["non_converters_with"].to_numpy()
    c = converters - a
    d = (entrants - converters) - b
    odds = (a + 1) * (d + 1) / ((b + 1) * (c + 1))
    spread = Z_95 * np.sqrt(1 / (a + 1) + 1 / (b + 1) + 1 / (c + 1) + 1 / (d + 1))
    table = kept[["kind", "name", "value", "converters_with", "non_converters_with"]].copy()
    table["odds_ratio"] = odds
    table["ci_low"] = np.exp(np.log(odds) - spread)
    table["ci_high"] = np.exp(np.log(odds) + spread)
    table["p_value"] = [
        _pvalue(int(w), int(x), int(y), int(z)) for w, x, y, z in zip(a, b, c, d, strict=True)
    ]
    table["q_value"] = stats.false_discovery_control(table["p_value"].to_numpy(), method="bh")
    table["direction"] = np.where(odds > 1, "success", np.where(odds < 1, "failure", "none"))
    # rounded so that ratios as far below 1 as others are above tie, and fall to the names
    table = table.assign(_strength=-np.round(np.abs(np.log(odds)), 12))
    table = table.sort_values(
        ["q_value", "p_value", "_strength", "kind", "name", "value"], kind="stable"
    )
    return (
        table.drop(columns="_strength").reset_index(drop=True),
        int(low.sum()),
        int(everyone.sum()),
    )


def conversion_drivers(
    events: ir.Table,
    period: Period,
    steps: Sequence[str] = funnel.DEFAULT_STEPS,
    window_days: int = funnel.DEFAULT_WINDOW_DAYS,
    *,
    products: ir.Table | None = None,
    users: ir.Table | None = None,
    min_support: int = DEFAULT_MIN_SUPPORT,
) -> Drivers:
    """Events done after the entry, and properties of the entry, that go with converting or not
    (``tables/conversion_drivers.csv`` is the returned :class:`Drivers`' ``table``).

    Definition in the module docstring (docs/metrics.md, "Conversion drivers"): the main
    funnel's entrants, converters = reached the last step; candidates of kind ``event`` (an event
    outside the steps with ``t1 < s < t_end``) and ``entry`` (first-touch ``channel``,
    ``platform``, ``category``, users columns, ``visitor`` new/returning); +1-smoothed odds ratio
    with its 95 % log interval, Fisher or χ² p-value, Benjamini–Hochberg q-value across the
    candidates held by at least ``min_support`` entrants and not by all. Sorted by q-value,
    p-value, the odds ratio's distance from 1 on the log scale (largest first), then kind, name
    and value.

    The entrants and the period's step-1 events are kept in the engine while it runs; one query
    gathers every candidate's two counts.
    """
    steps = funnel._check_steps(steps)
    parameters.check("driver_min_support", min_support, "min_support")
    entrants = _entrants(events, period, steps, window_days)
    lo, hi = period.utc_bounds()
    step_one = events.filter(
        events.event_name == steps[0],
        events.event_time >= ibis.literal(lo, "timestamp"),
        events.event_time < ibis.literal(hi, "timestamp"),
    )
    # only the columns the first touches read: the step-1 events can be a third of the period's
    step_one = step_one.select(
        *[c for c in events.columns if c in ("user_id", "event_time", "event_name", "sku_id")],
        *entry_properties(events),
    )
    with entrants.cache() as cached, step_one.cache() as entries:
        totals = cached.aggregate(
            entrants=cached.count(), converters=cached.converted.ifelse(1, 0).sum()
        ).to_pandas()
        n = int(totals["entrants"].iloc[0])
        converted = totals["converters"].iloc[0]
        k = 0 if pd.isna(converted) else int(converted)
        if n:
            values, names = _entry_values(cached, events, entries, period, steps, products, users)
            with values.cache() as entry_values:
                parts = [
                    _event_rows(cached, events, period, steps, window_days),
                    *_entry_rows(entry_values, names),
                ]
                rows = parts[0].union(*parts[1:], distinct=False)
                counts = (
                    rows.group_by(["kind", "name", "value"])
                    .aggregate(
                        converters_with=rows.converted.ifelse(1, 0).sum(),
                        non_converters_with=rows.converted.ifelse(0, 1).sum(),
                    )
                    .to_pandas()
                )
        else:
            counts = _empty_table()[["kind", "name", "value", "converters_with"]].assign(
                non_converters_with=pd.Series(dtype="int64")
            )
    table, dropped, held = driver_table(counts, n, k, min_support)
    return Drivers(table, n, k, dropped, held, min_support, steps)


def top_drivers(
    table: pd.DataFrame, fdr: float = DEFAULT_FDR, n: int = DEFAULT_TOP_N
) -> pd.DataFrame:
    """The ``n`` strongest candidates each way among those with ``q_value < fdr``: first those
    with ``direction`` ``success`` by odds ratio, largest first, then ``failure``, smallest first
    (ties by q-value, then kind, name and value)."""
    parameters.check("driver_fdr", fdr, "fdr")
    passed = table[table["q_value"] < fdr]
    parts = []
    for direction, largest in (("success", True), ("failure", False)):
        side = passed[passed["direction"] == direction]
        side = side.assign(_key=-side["odds_ratio"] if largest else side["odds_ratio"])
        side = side.sort_values(["_key", "q_value", "kind", "name", "value"], kind="stable")
        parts.append(side.head(n).drop(columns="_key"))
    return pd.concat(parts, ignore_index=True) if parts else table.iloc[:0]


def driver_label(row: pd.Series) -> str:
    """``name: value``, e.g. ``event: add_to_wishlist`` or ``channel: ads``."""
    return f"{row['name']}: {row['value']}"


def _ratio_text(row: pd.Series) -> str:
    return (
        f"{driver_label(row)} (odds ratio {row['odds_ratio']:.2f}, 95% interval "
        f"{row['ci_low']:.2f}–{row['ci_high']:.2f})"
    )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def drivers_note(drivers: Drivers, fdr: float = DEFAULT_FDR) -> str:
    """The sentences the notebook prints about :func:`conversion_drivers`: entrants and
    converters, candidates tested and dropped, how many pass the false discovery rate ``fdr``
    each way and the strongest of each, and that these are associations, not causes."""
    parameters.check("driver_fdr", fdr, "fdr")
    last = drivers.steps[-1]
    if not drivers.entrants:
        return "No entrants in the period: no driver of conversion to test."
    n, k = drivers.entrants, drivers.converters
    head = f"Of the {n:,} entrants, {k:,} ({k / n:.1%}) reached {last}."
    if k in (0, n):
        who = "nobody" if k == 0 else "everybody"
        return f"{head} Since {who} converted, there is no contrast: no driver can be tested."
    table = drivers.table
    dropped = (
        f"{_count(drivers.dropped, 'candidate')} held by fewer than {drivers.min_support:,} "
        f"entrants {'was' if drivers.dropped == 1 else 'were'} left out"
    )
    if drivers.held_by_all:
        dropped += f", and {drivers.held_by_all:,} held by every entrant"
    tested = (
        f"{_count(len(table), 'candidate')} (events done after the entry, and properties of the "
        f"entry) {'was' if len(table) == 1 else 'were'} tested; {dropped}."
    )
    top = top_drivers(table, fdr)
    passed = table[table["q_value"] < fdr]
    ups = passed[passed["direction"] == "success"]
    downs = passed[passed["direction"] == "failure"]
    caveat = (
        "These are associations, not causes: converters may differ from the others in other "
        "ways, and an event done after the entry can follow from the intent to buy as well as "
        "lead to it."
    )
    if ups.empty and downs.empty:
        return (
            f"{head} {tested} None passes the false discovery rate of {fdr:.0%} (every q-value "
            f"≥ {fdr:g}): no candidate goes with converting or not beyond the noise. {caveat}"
        )
    parts = [
        f"{len(ups):,} go with converting and {len(downs):,} with not converting at a false "
        f"discovery rate of {fdr:.0%} (q < {fdr:g})."
    ]
    best = top[top["direction"] == "success"]
    worst = top[top["direction"] == "failure"]
    if len(best):
        parts.append(f"The strongest towards converting: {_ratio_text(best.iloc[0])}.")
    if len(worst):
        parts.append(f"The strongest towards not converting: {_ratio_text(worst.iloc[0])}.")
    return f"{head} {tested} {' '.join(parts)} {caveat}"
