"""Multi-touch attribution (多触点归因, issue 20): which marketing channels the period's paid
orders owe to, under six models side by side, and what each model does to cost per order and ROAS.

Definitions (docs/metrics.md, "Attribution"):

- **Orders.** Paid orders (:func:`lib.definitions.paid_orders`) paid within the period's local
  days (:func:`lib.definitions.paid_orders_in`); an order's value is its ``paid_amount``. Each
  order is attributed on its own: a buyer's two orders may share touches.
- **Touches.** A *channel event* is an event with a non-null ``channel``. A session
  (``user_id``, ``session_id``) makes **one touch**: its first channel event (by time, then
  channel name), at that event's time and with that event's channel; later channel events of the
  session, whatever their channel, are not touches. A channel event without a ``session_id`` is
  a touch of its own (no inactivity timeout is applied). Events from ``attribution_days`` + 1
  whole local days before the period to its end are read, so a session that began up to a day
  before the earliest window is still seen from its first channel event.
- **Window.** A touch counts for an order when its time lies in ``(paid_time −
  attribution_days, paid_time]``: after the instant ``attribution_days`` × 24 h before payment,
  and at or before payment (a touch in the same second as the payment counts; one a second after
  it does not). Times are compared in whole epoch seconds, rounded down
  (:func:`lib.periods.epoch_seconds`), as the funnel and the paths do.
- **Order of touches.** By time (whole seconds), then channel name, so that first and last are
  the same on every engine when two touches share a second (``ads`` before ``search``).
- **Orders without touches** are attributed to :data:`NO_TOUCH` (``(none)``) with weight 1 in
  every model, the data-driven one included: no model may invent a channel for them.
- **Heuristic models.** For an order with ``n`` touches ordered ``1 … n``, ages ``a_i`` (days
  from the touch to payment, fractional) the weights are: ``first_touch`` 1 on touch 1;
  ``last_touch`` 1 on touch ``n``; ``linear`` ``1/n`` each; ``time_decay`` ``2^(−a_i /
  half_life_days)`` normalised to sum to 1 over the order; ``position_based`` 40 % to the first,
  40 % to the last and 20 % split evenly over those between, 100 % when ``n = 1`` and 50/50
  when ``n = 2``. A channel's ``orders`` is the sum of its weights, its ``gmv`` the sum of
  weight × ``paid_amount``; two touches of one channel in an order add up.
- **Data-driven model** (``markov``): the first-order Markov-chain *removal effect*. Each order
  with touches is a path ``(start) → c_1 → … → c_n → (conversion)``. The *non-buyers'* paths end
  in ``(null)``: a user with no paid order paid in the period, with at least one touch in the
  period, has the path of their touches in ``(end − attribution_days, end)`` (``end`` = the
  instant the period ends), as if the period's end were their moment of decision. Transition
  probabilities are the transition counts over all paths, normalised per state (repeats such as
  ``ads → ads`` are kept: a self-loop changes no absorption probability). ``P`` = the probability
  of reaching ``(conversion)`` from ``(start)`` (the absorbing chain solved as a linear system);
  ``P_−c`` = the same with channel ``c`` removed (every transition into ``c`` is lost, i.e. goes
  to ``(null)``). ``removal_effect_c = 1 − P_−c / P``; the channels' shares are the removal
  effects normalised to sum to 1, and they split the orders with touches and their GMV (the
  same share for both). Buyers' activity after their payment and orders without touches are not
  on any path.
- ``share`` = the channel's ``orders`` / all paid orders of the period: it sums to 1 per model,
  ``(none)`` included. Every channel with a touch on an order (and, with ``marketing_spend``,
  every channel with spend) has a row in every model, 0 where the model credits it nothing.
- With ``marketing_spend``: ``spend`` = Σ ``spend`` of the channel over the period's local days,
  all billing models together, read as :func:`lib.costs.channel_roi` reads it;
  ``cost_per_order = spend / orders`` and ``roas = gmv / spend`` (null when the denominator is
  0): the same spend, divided by each model's orders.

The touches, their per-order weights (``row_number`` and ``count`` over the order's touches, the
time-decay sum) and the Markov transition counts are all worked out in the engine; only the sums
per channel and the transition counts (a few rows each) come back to pandas, where the chain is
solved with numpy. DuckDB and PySpark give the same tables (tests/test_backend_parity.py).
"""

from __future__ import annotations

import datetime as dt
import math

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from lib.costs import spend_in
from lib.definitions import MONEY_DECIMALS, paid_orders_in
from lib.periods import SECONDS_PER_DAY, Period, check_lengths, epoch_seconds

DEFAULT_ATTRIBUTION_DAYS = 30
DEFAULT_HALF_LIFE_DAYS = 7.0

NO_TOUCH = "(none)"
START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
# Events read before the earliest window, so that a session begun shortly before it is seen from
# its first channel event (sessions rarely last a day).
MARGIN_DAYS = 1

FIRST, LAST, LINEAR, DECAY, POSITION, MARKOV = (
    "first_touch",
    "last_touch",
    "linear",
    "time_decay",
    "position_based",
    "markov",
)
MODELS = (FIRST, LAST, LINEAR, DECAY, POSITION, MARKOV)
HEURISTIC_MODELS = MODELS[:-1]
MODEL_LABELS = {
    FIRST: "first touch",
    LAST: "last touch",
    LINEAR: "linear",
    DECAY: "time decay",
    POSITION: "position-based",
    MARKOV: "data-driven Markov",
}
# position-based: the first and the last touch each get this, the middle ones share the rest
POSITION_END_WEIGHT = 0.4

COLUMNS = ["channel", "model", "orders", "gmv", "share"]
SPEND_COLUMNS = ["spend", "cost_per_order", "roas"]


def _check(attribution_days: int, half_life_days: float) -> None:
    if isinstance(attribution_days, bool) or not isinstance(attribution_days, int):
        raise ValueError(f"attribution_days={attribution_days!r} must be a whole number of days")
    check_lengths(attribution_days=attribution_days)
    if not (isinstance(half_life_days, int | float) and half_life_days > 0) or math.isinf(
        half_life_days
    ):
        raise ValueError(f"half_life_days={half_life_days!r} must be a positive number of days")


# --------------------------------------------------------------------------------------------
# Touches and paths in the engine


def _seconds(instant: dt.datetime) -> int:
    return int(instant.replace(tzinfo=dt.UTC).timestamp())


# digits of an epoch second in a touch's text key (years to 5138 fit in 11; one more for sure)
_T_WIDTH = 12


def touches(events: ir.Table, period: Period, attribution_days: int) -> ir.Table:
    """``user_id, t, channel``: the touches (one per session, see the module docstring) that can
    fall in a window of the period: ``t`` is whole epoch seconds.

    The sessions' first seconds are computed here and kept in the engine while the returned
    table is held, so that only the sessions with several channels are read a second time."""
    lo, hi = period.utc_bounds(days_before=attribution_days + MARGIN_DAYS)
    ts = events.event_time
    scoped = events.filter(
        ts >= ibis.literal(lo, "timestamp"),
        ts < ibis.literal(hi, "timestamp"),
        events.channel.notnull(),
    )
    scoped = scoped.select(
        "user_id",
        "channel",
        session_id=scoped.session_id.cast("string"),
        t=epoch_seconds(scoped.event_time),
    )
    # A session's touch is its least (t, channel). One grouping gives each session's first
    # second and its least and greatest channel: when they agree (one channel in the session,
    # as in most exports) the touch is that pair. Only sessions with several channels are
    # grouped again, on the least of a text key of t, zero-padded to a fixed width, and the
    # channel (the key costs twice the grouping at 100M events; a window ordering every event
    # of the sessions, eight times). Events without a session are each a touch.
    in_sessions = scoped.filter(scoped.session_id.notnull())
    sessions = in_sessions.group_by(["user_id", "session_id"]).aggregate(
        t=in_sessions.t.min(),
        channel=in_sessions.channel.min(),
        last_channel=in_sessions.channel.max(),
    )
    alone = scoped.filter(scoped.session_id.isnull()).select("user_id", "t", "channel")
    sessions = sessions.cache()
    one_channel = sessions.filter(sessions.channel == sessions.last_channel)
    firsts = one_channel.select("user_id", "t", "channel")
    mixed = sessions.filter(sessions.channel != sessions.last_channel)
    if int(mixed.count().to_pandas()):
        wanted = mixed.select(mixed_user="user_id", mixed_session="session_id")
        events_of = in_sessions.semi_join(
            wanted,
            [
                in_sessions.user_id == wanted.mixed_user,
                in_sessions.session_id == wanted.mixed_session,
            ],
        )
        key = events_of.t.cast("string").lpad(_T_WIDTH, "0").concat(events_of.channel)
        least = (
            events_of.mutate(key=key)
            .group_by(["user_id", "session_id"])
            .aggregate(first=ibis._.key.min())
        )
        least = least.select(
            "user_id",
            t=least.first.substr(0, _T_WIDTH).cast("int64"),
            channel=least.first.substr(_T_WIDTH),
        )
        firsts = ibis.union(firsts, least, distinct=False)
    return ibis.union(firsts, alone, distinct=False)


def order_touches(
    events: ir.Table, orders: ir.Table, period: Period, attribution_days: int
) -> ir.Table:
    """``order_id, amount, paid_s, t, channel, k, n``: each paid order of the period joined with
    its touches in the window, ``k`` = 0-based position (time, then channel), ``n`` = touches."""
    return _order_paths(touches(events, period, attribution_days), orders, period, attribution_days)


def _order_paths(
    found: ir.Table, orders: ir.Table, period: Period, attribution_days: int
) -> ir.Table:
    paid = paid_orders_in(orders, period)
    paid = paid.select(
        "order_id",
        buyer=paid.user_id,
        amount=paid.paid_amount.fill_null(0.0).cast("float64"),
        paid_s=epoch_seconds(paid.paid_time),
    )
    span = attribution_days * SECONDS_PER_DAY
    joined = paid.join(
        found,
        [
            paid.buyer == found.user_id,
            found.t <= paid.paid_s,
            found.t > paid.paid_s - span,
        ],
    )
    joined = joined.select("order_id", "amount", "paid_s", "t", "channel")
    path = ibis.window(group_by=joined.order_id, order_by=[joined.t, joined.channel])
    whole = ibis.window(group_by=joined.order_id)
    return joined.mutate(k=ibis.row_number().over(path), n=joined.count().over(whole))


def _weights(paths: ir.Table, half_life_days: float) -> ir.Table:
    """One weight column per heuristic model on each touch of an order (each sums to 1)."""
    first, last = paths.k == 0, paths.k == paths.n - 1
    ends = first | last
    middle = (1.0 - 2 * POSITION_END_WEIGHT) / (paths.n - 2).cast("float64")
    position = ibis.cases(
        (paths.n == 1, 1.0),
        (paths.n == 2, 0.5),
        (ends, POSITION_END_WEIGHT),
        else_=middle,
    )
    age_days = (paths.paid_s - paths.t).cast("float64") / SECONDS_PER_DAY
    decay = (age_days * (-math.log(2.0) / half_life_days)).exp()
    paths = paths.mutate(
        **{
            FIRST: first.ifelse(1.0, 0.0),
            LAST: last.ifelse(1.0, 0.0),
            LINEAR: 1.0 / paths.n.cast("float64"),
            POSITION: position,
            "decay_raw": decay,
        }
    )
    whole = ibis.window(group_by=paths.order_id)
    return paths.mutate(**{DECAY: paths.decay_raw / paths.decay_raw.sum().over(whole)})


def _heuristic_sums(paths: ir.Table, half_life_days: float) -> pd.DataFrame:
    """``channel`` and, per heuristic model, ``<model>_orders`` and ``<model>_gmv``."""
    weighted = _weights(paths, half_life_days)
    sums = {}
    for model in HEURISTIC_MODELS:
        sums[f"{model}_orders"] = weighted[model].sum()
        sums[f"{model}_gmv"] = (weighted[model] * weighted.amount).sum()
    return weighted.group_by("channel").aggregate(**sums).to_pandas()


def _untouched(orders: ir.Table, paths: ir.Table, period: Period) -> tuple[int, float]:
    """The paid orders of the period without any touch, and their GMV."""
    paid = paid_orders_in(orders, period)
    seen = paths.select(seen_order="order_id").distinct()
    alone = paid.anti_join(seen, paid.order_id == seen.seen_order)
    row = alone.aggregate(orders=alone.count(), gmv=alone.paid_amount.sum()).to_pandas()
    gmv = row["gmv"].iloc[0]
    return int(row["orders"].iloc[0]), 0.0 if pd.isna(gmv) else float(gmv)


def non_buyer_paths(
    events: ir.Table, orders: ir.Table, period: Period, attribution_days: int
) -> ir.Table:
    """``user_id, t, channel, k, n``: the touches of the period's non-buyers (no paid order paid
    in the period, at least one touch in it) in ``(end − attribution_days, end)``."""
    found = touches(events, period, attribution_days)
    return _non_buyer_paths(found, orders, period, attribution_days)


def _non_buyer_paths(
    found: ir.Table, orders: ir.Table, period: Period, attribution_days: int
) -> ir.Table:
    lo, hi = period.utc_bounds()
    lo_s, hi_s = _seconds(lo), _seconds(hi)
    found = found.filter(found.t > hi_s - attribution_days * SECONDS_PER_DAY, found.t < hi_s)
    paid = paid_orders_in(orders, period)
    buyers = paid.select(buyer=paid.user_id).distinct()
    found = found.anti_join(buyers, found.user_id == buyers.buyer)
    found = found.mutate(latest=found.t.max().over(ibis.window(group_by=found.user_id)))
    found = found.filter(found.latest >= lo_s).drop("latest")
    path = ibis.window(group_by=found.user_id, order_by=[found.t, found.channel])
    whole = ibis.window(group_by=found.user_id)
    return found.mutate(k=ibis.row_number().over(path), n=found.count().over(whole))


def _edges(paths: ir.Table, key: str, end: str) -> ir.Table:
    """``from_state, to_state`` of every step of the paths (one row per step)."""
    path = ibis.window(group_by=paths[key], order_by=[paths.t, paths.channel])
    previous = paths.channel.lag().over(path)
    steps = paths.select(
        from_state=(paths.k == 0).ifelse(ibis.literal(START), previous), to_state=paths.channel
    )
    last = paths.filter(paths.k == paths.n - 1)
    exits = last.select(from_state=last.channel, to_state=ibis.literal(end))
    return steps.union(exits, distinct=False)


def transition_counts(buyer_paths: ir.Table, other_paths: ir.Table) -> pd.DataFrame:
    """``from_state, to_state, transitions`` over the buyers' and the non-buyers' paths."""
    edges = _edges(buyer_paths, "order_id", CONVERSION).union(
        _edges(other_paths, "user_id", NULL), distinct=False
    )
    counted = edges.group_by(["from_state", "to_state"]).aggregate(transitions=edges.count())
    counted = counted.to_pandas().astype({"transitions": "int64"})
    return counted.sort_values(["from_state", "to_state"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# The absorbing chain, solved in numpy


def _conversion_probability(
    channels: list[str], probs: np.ndarray, start: np.ndarray, to_conversion: np.ndarray
) -> float:
    """P(start reaches conversion) over the transient ``channels`` (``probs`` among them)."""
    if not channels:
        return 0.0
    reach = np.linalg.solve(np.eye(len(channels)) - probs, to_conversion)
    return float(start @ reach)


def removal_effects(transitions: pd.DataFrame) -> pd.DataFrame:
    """``channel, removal_effect, share`` from :func:`transition_counts`: ``removal_effect = 1 −
    P(conversion without the channel) / P(conversion)``, ``share`` = the effects normalised to 1
    (0 everywhere when nothing converts). Sorted by channel."""
    specials = {START, CONVERSION, NULL}
    channels = sorted(
        (set(transitions["from_state"]) | set(transitions["to_state"])) - specials, key=str
    )
    out = pd.DataFrame({"channel": channels, "removal_effect": 0.0, "share": 0.0})
    if not channels:
        return out
    index = {c: i for i, c in enumerate(channels)}
    size = len(channels)
    counts = np.zeros((size, size))
    start, conversion, outgoing = np.zeros(size), np.zeros(size), np.zeros(size)
    start_total = 0.0
    for row in transitions.itertuples(index=False):
        n = float(row.transitions)
        if row.from_state == START:
            start_total += n
            if row.to_state in index:
                start[index[row.to_state]] += n
            continue
        i = index[row.from_state]
        outgoing[i] += n
        if row.to_state == CONVERSION:
            conversion[i] += n
        elif row.to_state in index:
            counts[i, index[row.to_state]] += n
    start = start / start_total if start_total else start
    # every channel on a path has a step out of it (to the next touch or to the path's end)
    probs = counts / outgoing[:, None]
    to_conversion = conversion / outgoing
    base = _conversion_probability(channels, probs, start, to_conversion)
    if base <= 0:
        return out
    effects = []
    for c in range(size):
        kept = [i for i in range(size) if i != c]
        without = _conversion_probability(
            kept, probs[np.ix_(kept, kept)], start[kept], to_conversion[kept]
        )
        effects.append(max(0.0, 1.0 - without / base))
    out["removal_effect"] = effects
    total = sum(effects)
    out["share"] = [e / total for e in effects] if total > 0 else 0.0
    return out


# --------------------------------------------------------------------------------------------
# The table


def _spend(marketing_spend: ir.Table, period: Period) -> pd.DataFrame:
    inside = spend_in(marketing_spend, period)
    spend = inside.group_by("channel").aggregate(spend=inside.spend.sum()).to_pandas()
    spend["spend"] = spend["spend"].astype("float64").round(MONEY_DECIMALS)
    return spend[spend["channel"].notna()]


def _channel_key(channel: str) -> tuple[int, str]:
    """Channels by name, :data:`NO_TOUCH` last."""
    return (channel == NO_TOUCH, str(channel))


def attribution(
    events: ir.Table,
    orders: ir.Table,
    period: Period,
    *,
    attribution_days: int = DEFAULT_ATTRIBUTION_DAYS,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    marketing_spend: ir.Table | None = None,
) -> pd.DataFrame:
    """``channel, model, orders, gmv, share`` (``tables/attribution.csv``) for each model of
    :data:`MODELS` and each channel (see the module docstring); with ``marketing_spend`` also
    ``spend, cost_per_order, roas``. Sorted by model (in :data:`MODELS` order), then channel
    (``(none)`` last). ``orders`` is fractional and not rounded; ``gmv`` is in cents. Empty
    (with its columns) when the period has no paid order."""
    _check(attribution_days, half_life_days)
    # the touches are read from the events once, and the orders' paths built once: both are
    # held by the engine (ibis ``cache``) for the four queries that read them
    with (
        touches(events, period, attribution_days).cache() as found,
        _order_paths(found, orders, period, attribution_days).cache() as paths,
    ):
        sums = _heuristic_sums(paths, half_life_days)
        alone_orders, alone_gmv = _untouched(orders, paths, period)
        others = _non_buyer_paths(found, orders, period, attribution_days)
        markov = removal_effects(transition_counts(paths, others))

    sums = sums.set_index("channel").astype("float64")
    # first touch puts exactly 1.0 on one touch per order: its sums are whole orders and the
    # orders' own amounts, free of the rounding of 1/3 + 1/3 + 1/3
    touched_orders = float(sums[f"{FIRST}_orders"].sum()) if len(sums) else 0.0
    touched_gmv = float(sums[f"{FIRST}_gmv"].sum()) if len(sums) else 0.0
    total_orders = touched_orders + alone_orders
    columns = COLUMNS + (SPEND_COLUMNS if marketing_spend is not None else [])
    spend = _spend(marketing_spend, period) if marketing_spend is not None else None
    channels = set(sums.index)
    if alone_orders:
        channels.add(NO_TOUCH)
    if spend is not None:
        channels |= set(spend["channel"])
    if total_orders == 0:
        return pd.DataFrame(columns=columns)
    channels = sorted(channels, key=_channel_key)

    shares = markov.set_index("channel")["share"]
    rows = []
    for model in MODELS:
        for channel in channels:
            if channel == NO_TOUCH:
                orders_, gmv = float(alone_orders), alone_gmv
            elif model == MARKOV:
                share = float(shares.get(channel, 0.0))
                orders_, gmv = share * touched_orders, share * touched_gmv
            elif channel in sums.index:
                orders_ = float(sums.at[channel, f"{model}_orders"])
                gmv = float(sums.at[channel, f"{model}_gmv"])
            else:
                orders_, gmv = 0.0, 0.0
            rows.append({"channel": channel, "model": model, "orders": orders_, "gmv": gmv})
    table = pd.DataFrame(rows)
    table["share"] = table["orders"] / total_orders
    if spend is not None:
        table = table.merge(spend, on="channel", how="left")
        table["spend"] = table["spend"].fillna(0.0)
        has_spend = table["spend"].where(table["spend"] > 0)
        table["cost_per_order"] = has_spend / table["orders"].where(table["orders"] > 0)
        table["roas"] = table["gmv"] / has_spend
        # (none) bought nothing with spend: no cost per order for it
        table.loc[table["channel"] == NO_TOUCH, ["cost_per_order", "roas"]] = np.nan
    table["gmv"] = table["gmv"].round(MONEY_DECIMALS)
    table["model"] = pd.Categorical(table["model"], categories=list(MODELS), ordered=True)
    table["_key"] = [_channel_key(c) for c in table["channel"]]
    table = table.sort_values(["model", "_key"]).drop(columns="_key")
    table["model"] = table["model"].astype(str)
    return table[columns].reset_index(drop=True)


def attribution_matrix(table: pd.DataFrame, value: str = "share") -> pd.DataFrame:
    """Channels × models (in :data:`MODELS` order) of one column of :func:`attribution`
    (``share`` by default; ``orders``, ``gmv``, ``cost_per_order``, ``roas`` too): the
    side-by-side view. Channels by name, ``(none)`` last."""
    if value not in table.columns:
        raise ValueError(f"value={value!r} is not a column of the attribution table")
    wide = table.pivot(index="channel", columns="model", values=value)
    models = [m for m in MODELS if m in wide.columns]
    wide = wide[models]
    wide = wide.loc[sorted(wide.index, key=_channel_key)]
    wide.columns.name = None
    return wide


# --------------------------------------------------------------------------------------------
# Notes


def _percent(share: float) -> str:
    """A share to one decimal, a positive share below 0.05 % as ``<0.1%`` rather than 0.0 %."""
    return "<0.1%" if 0 < share < 0.0005 else f"{share:.1%}"


def _points(change: float) -> str:
    return f"{change * 100:+.1f} points"


def attribution_note(table: pd.DataFrame) -> str:
    """Sentences from :func:`attribution`: the orders without touches, the channel last touch
    credits most, which channel gains and which loses most share from last touch to the
    data-driven model, the channel the choice of model moves most, and (with spend) how far its
    cost per order moves."""
    if table.empty:
        return "No paid orders in the period: nothing to attribute."
    shares = attribution_matrix(table, "share").fillna(0.0)
    orders = attribution_matrix(table, "orders").fillna(0.0)
    total = float(orders[LAST].sum())
    sentences = []
    if NO_TOUCH in shares.index and orders.at[NO_TOUCH, LAST] > 0:
        sentences.append(
            f"{orders.at[NO_TOUCH, LAST]:,.0f} of {total:,.0f} paid orders "
            f"({_percent(shares.at[NO_TOUCH, LAST])}) had no channel touch in the attribution "
            f"window and stay with {NO_TOUCH} in every model."
        )
    channels = shares.drop(index=NO_TOUCH, errors="ignore")
    if channels.empty or float(channels[LAST].sum()) <= 0:
        sentences.append("No order had a channel touch, so no channel is credited.")
        return " ".join(sentences)
    top = channels[LAST].sort_values(ascending=False, kind="stable").index[0]
    sentences.append(f"Last touch credits {top} most ({channels.at[top, LAST]:.1%} of orders).")
    change = (channels[MARKOV] - channels[LAST]).sort_index()
    gain, loss = change.idxmax(), change.idxmin()
    if change[gain] > 0 and change[loss] < 0:
        sentences.append(
            f"The data-driven (Markov) model gives {gain} the most extra share "
            f"({_points(change[gain])}, {channels.at[gain, LAST]:.1%} → "
            f"{channels.at[gain, MARKOV]:.1%}) and takes the most from {loss} "
            f"({_points(change[loss])}, {channels.at[loss, LAST]:.1%} → "
            f"{channels.at[loss, MARKOV]:.1%})."
        )
    else:
        sentences.append("The data-driven (Markov) model gives the same shares as last touch.")
    spread = (channels.max(axis=1) - channels.min(axis=1)).sort_index()
    moved = spread.idxmax()
    low, high = channels.loc[moved].idxmin(), channels.loc[moved].idxmax()
    if spread[moved] > 0:
        sentences.append(
            f"The choice of model moves {moved} most: from {channels.at[moved, low]:.1%} "
            f"({MODEL_LABELS[low]}) to {channels.at[moved, high]:.1%} ({MODEL_LABELS[high]})."
        )
    if "cost_per_order" in table.columns:
        sentences.append(_spend_sentence(table))
    return " ".join(s for s in sentences if s)


def _spend_sentence(table: pd.DataFrame) -> str:
    spend = (
        table[table["model"] == LAST]
        .set_index("channel")["spend"]
        .drop(index=NO_TOUCH, errors="ignore")
    )
    spend = spend[spend > 0]
    if spend.empty:
        return "No channel had marketing spend in the period."
    biggest = spend.sort_index().idxmax()
    costs = attribution_matrix(table, "cost_per_order").loc[biggest].dropna()
    if costs.empty:
        return (
            f"{biggest}, the largest spender ({spend[biggest]:,.2f}), is credited no order in "
            f"any model."
        )
    low, high = costs.idxmin(), costs.idxmax()
    if costs[high] - costs[low] < 0.005:  # equal to the cent
        return (
            f"For {biggest}, the largest spender ({spend[biggest]:,.2f}), the cost per order is "
            f"{costs[low]:,.2f} in every model that credits it an order."
        )
    return (
        f"For {biggest}, the largest spender ({spend[biggest]:,.2f}), the cost per order runs "
        f"from {costs[low]:,.2f} ({MODEL_LABELS[low]}) to {costs[high]:,.2f} "
        f"({MODEL_LABELS[high]})."
    )
