"""User paths (用户路径, issue 18): which events follow which within a session, and after a drop.

Definitions (docs/metrics.md, "Paths"):

- **Sessions.** Events with a ``session_id`` form one session per ``(user_id, session_id)``. A
  user's events without one are cut into sessions by inactivity: an event more than
  ``session_timeout_minutes`` after the user's previous session-less event (strictly longer:
  a gap of exactly the timeout stays in the session) starts a new session. Gaps are measured in
  whole seconds, rounded down (:func:`lib.periods.epoch_seconds`), as the funnel compares times.
- **Order and repeats.** Inside a session events are ordered by ``event_time``, then
  ``event_name`` (ties broken the same way on every engine); consecutive repeats of one event
  name are collapsed into one.
- **Start and end.** A path starts at the first ``path_start_event`` of its session (without
  one: at the session's first event) and stops after the first ``path_end_event`` at or after
  that start, inclusive (without one: at the session's end). Position 0 is the start, positions
  1 … ``path_steps`` the events after it; a path that ends before is padded with :data:`ENDED`.
- **Which sessions.** Sessions whose path start falls on a local day of the period. Each user
  contributes one path: their session with the earliest path start (ties, rare: an inactivity
  session first, then the smaller ``session_id``). Events one local day either side of the
  period are read, so a session is seen whole unless it spans more than a day beyond the period.
- **Purchase.** A path's user *purchased* when the session has a :data:`PURCHASE_EVENT` at or
  after the path's start (after it too: the end event does not cut this).

The work is split so that the sessions are computed once (docs/performance.md): call
:func:`session_paths` (one row per user: ``user_id, p0 … pN, purchased``; it is cached by the
backend) and pass its table to :func:`path_transitions`, :func:`step_matrix` and
:func:`paths_top`, each an aggregation of that small table in the engine. :func:`after_dropoff`
follows the funnel's droppers instead (:func:`lib.funnel.funnel_reach`) and reads the events
itself. Only aggregated rows reach pandas; no backend-specific function is used, so DuckDB and
PySpark give the same tables (tests/test_backend_parity.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import pandas as pd
from scipy.stats import false_discovery_control

from lib import funnel, parameters
from lib.periods import SECONDS_PER_DAY, Period, epoch_seconds
from lib.stats import two_proportion_pvalue

ENDED = "ENDED"
PURCHASE_EVENT = "purchase"
ARROW = " → "
SIGNIFICANCE_LEVEL = 0.05
DEFAULT_PATH_STEPS = parameters.default("path_steps")
DEFAULT_SESSION_TIMEOUT_MINUTES = parameters.default("session_timeout_minutes")
DEFAULT_TOP_PATHS = 20
# Events read either side of the period, so that a session crossing its first or last midnight
# is seen whole (its start before the period, its path after it).
MARGIN_DAYS = 1

TRANSITIONS_COLUMNS = ["step", "from_event", "to_event", "users", "transitions"]
STEP_MATRIX_COLUMNS = ["position", "event", "users", "share"]
PATHS_TOP_COLUMNS = ["path", "users", "share", "purchase_rate"]
AFTER_DROPOFF_COLUMNS = ["group", "position", "event", "users", "share"]
GROUPS = ("dropped", "continued")


def _position_columns(paths: ir.Table) -> list[str]:
    """``p0 … pN`` of a :func:`session_paths` table, in order."""
    names = [c for c in paths.columns if c.startswith("p") and c[1:].isdigit()]
    if not names or "user_id" not in paths.columns:
        raise ValueError(
            "expected the table of paths.session_paths (user_id, p0 … pN, purchased), got "
            f"columns {list(paths.columns)}"
        )
    return sorted(names, key=lambda c: int(c[1:]))


def _sessions(scoped: ir.Table, timeout: int, with_second: bool = False) -> ir.Table:
    """``user_id, skey, sess_no, event_time, event_name`` of ``scoped`` events, a session being
    one ``(user_id, skey, sess_no)``.

    Events with a ``session_id`` keep it (``skey``; ``sess_no`` 0). A user's events without one
    (``skey`` empty) are numbered 1, 2, … by inactivity: a new session starts at an event whose
    second is more than ``timeout`` seconds after the user's previous session-less event's. Both
    windows order by the whole second and the count runs over a range frame, so events in one
    second share their session whatever order the engine gives them. ``with_second`` adds the
    event's second ``s``: the same rows as another expression (see :func:`session_paths`).
    """
    columns = ["user_id", "skey", "sess_no", "event_time", "event_name"]
    if with_second:
        columns.append("s")
    with_id = scoped.filter(scoped.session_id.notnull())
    with_id = with_id.mutate(skey=with_id.session_id, sess_no=ibis.literal(0, "int64"))
    without = scoped.filter(scoped.session_id.isnull())
    previous = without.s.lag().over(ibis.window(group_by=without.user_id, order_by=without.s))
    without = without.mutate(
        new=(previous.isnull() | (without.s - previous > timeout)).cast("int64")
    )
    running = ibis.window(group_by=without.user_id, order_by=without.s, range=(None, 0))
    without = without.mutate(skey=ibis.literal(""), sess_no=without.new.sum().over(running))
    return ibis.union(with_id.select(*columns), without.select(*columns), distinct=False)


def session_paths(
    events: ir.Table,
    period: Period,
    *,
    path_start_event: str | None = None,
    path_end_event: str | None = None,
    path_steps: int = DEFAULT_PATH_STEPS,
    session_timeout_minutes: int = DEFAULT_SESSION_TIMEOUT_MINUTES,
    cache: bool = True,
) -> ir.Table:
    """One path per user: ``user_id``, ``p0`` … ``p<path_steps>`` (event names, :data:`ENDED`
    once the path has ended) and ``purchased`` (bool), as defined in the module docstring.

    The input of :func:`path_transitions`, :func:`step_matrix` and :func:`paths_top`. With
    ``cache`` (the default) the table is computed now and held by the backend
    (``ibis.Table.cache``), so the three read it instead of the events; ``cache=False`` returns
    the expression.

    In the engine (docs/performance.md): the period's events with a day's margin each side;
    session-less events numbered into sessions by two windows over those events alone; one
    grouping per session (its path start) and a ranking of each user's sessions; a join back to
    the chosen sessions' events from their start; then two windows over those (repeats, rank),
    by user since each user has one session left, and one grouping per user (the pivot into
    ``p0 … pN``). Windows over every event of the period, with their string sort keys, cost
    about 1.5 s each at 10M events; this order keeps them to the rows that can be on a path.
    """
    parameters.check("path_start_event", path_start_event, "path_start_event")
    parameters.check("path_end_event", path_end_event, "path_end_event")
    parameters.check("path_steps", path_steps, "path_steps")
    parameters.check("session_timeout_minutes", session_timeout_minutes, "session_timeout_minutes")
    timeout = session_timeout_minutes * 60
    lo, hi = period.utc_bounds(MARGIN_DAYS, MARGIN_DAYS)
    ts = events.event_time
    scoped = events.filter(ts >= ibis.literal(lo, "timestamp"), ts < ibis.literal(hi, "timestamp"))
    scoped = scoped.select(
        "user_id",
        "event_time",
        "event_name",
        session_id=scoped.session_id.cast("string"),
        s=epoch_seconds(scoped.event_time),
    )
    sessioned = _sessions(scoped, timeout)
    # one row per session: its path start (the first start event, or its first event)
    at_start = None if path_start_event is None else sessioned.event_name == path_start_event
    sessions = sessioned.group_by(["user_id", "skey", "sess_no"]).aggregate(
        start_time=sessioned.event_time.min(where=at_start)
    )
    sessions = sessions.filter(
        sessions.start_time.notnull(),
        period.local_day(sessions.start_time).between(period.start_day, period.end_day),
    )
    # each user's session with the earliest path start (ties: session_id, then sess_no)
    first = ibis.window(
        group_by=sessions.user_id,
        order_by=[sessions.start_time, sessions.skey, sessions.sess_no],
    )
    sessions = sessions.mutate(rank=ibis.row_number().over(first))
    chosen = sessions.filter(sessions.rank == 0).select(
        chosen_user=sessions.user_id,
        chosen_skey=sessions.skey,
        chosen_sess_no=sessions.sess_no,
        start_time=sessions.start_time,
    )
    # The join reads its own copy of the sessions (one more column, so Ibis does not share one
    # CTE between the two uses): DuckDB materialises a CTE referenced twice, here every
    # event of the period, which cost twice the time of reading the events again at 100M
    # (docs/performance.md). On Spark the two are planned alike.
    again = _sessions(scoped, timeout, with_second=True)
    rows = again.join(
        chosen,
        [
            again.user_id == chosen.chosen_user,
            again.skey == chosen.chosen_skey,
            again.sess_no == chosen.chosen_sess_no,
        ],
    )
    # the path's events: the start and all after it, in (event_time, event_name) order
    after = rows.event_time > rows.start_time
    if path_start_event is not None:
        after = after | (
            (rows.event_time == rows.start_time) & (rows.event_name >= path_start_event)
        )
    else:
        after = after | (rows.event_time == rows.start_time)
    rows = rows.filter(after)
    # one session per user now: windows by user; repeats collapsed, then ranked from 0
    by_user = ibis.window(group_by=rows.user_id, order_by=[rows.event_time, rows.event_name])
    rows = rows.mutate(repeat=rows.event_name.lag().over(by_user) == rows.event_name)
    rows = rows.filter(~rows.repeat.fill_null(False))
    by_user = ibis.window(group_by=rows.user_id, order_by=[rows.event_time, rows.event_name])
    rows = rows.mutate(position=ibis.row_number().over(by_user))
    found = {f"p{j}": rows.event_name.max(where=rows.position == j) for j in range(path_steps + 1)}
    if path_end_event is not None:
        found["end_position"] = rows.position.min(where=rows.event_name == path_end_event)
    chosen = rows.group_by("user_id").aggregate(
        purchased=(rows.event_name == PURCHASE_EVENT).any(), **found
    )

    def at(j: int) -> ir.StringValue:
        name = chosen[f"p{j}"].fill_null(ENDED)
        if path_end_event is None:
            return name
        return (chosen.end_position.notnull() & (chosen.end_position < j)).ifelse(ENDED, name)

    paths = chosen.select(
        "user_id",
        **{f"p{j}": at(j) for j in range(path_steps + 1)},
        purchased=chosen.purchased,
    )
    return paths.cache() if cache else paths


def _pairs(paths: ir.Table) -> ir.Table:
    """``user_id, step, from_event, to_event`` for steps 1 … N: one row per path and step."""
    columns = _position_columns(paths)
    return ibis.union(
        *(
            paths.select(
                "user_id",
                step=ibis.literal(j, "int64"),
                from_event=paths[columns[j - 1]],
                to_event=paths[columns[j]],
            )
            for j in range(1, len(columns))
        ),
        distinct=False,
    )


def path_transitions(paths: ir.Table) -> pd.DataFrame:
    """``step, from_event, to_event, users, transitions`` from a :func:`session_paths` table.

    Step j goes from position j − 1 to position j, for j = 1 … N; rows only where the path had
    not ended before the step (``from_event`` is never :data:`ENDED`, ``to_event`` is ENDED when
    the path ends there). ``users`` counts distinct users, ``transitions`` every occurrence of
    the pair at that step across paths: equal here, since each user has one path. Sorted by
    step, users (descending), from_event, to_event.
    """
    pairs = _pairs(paths)
    pairs = pairs.filter(pairs.from_event != ENDED)
    table = (
        pairs.group_by(["step", "from_event", "to_event"])
        .aggregate(users=pairs.user_id.nunique(), transitions=pairs.count())
        .to_pandas()
    )
    table = table.astype({"step": "int64", "users": "int64", "transitions": "int64"})
    table = table.sort_values(
        ["step", "users", "from_event", "to_event"], ascending=[True, False, True, True]
    )
    return table[TRANSITIONS_COLUMNS].reset_index(drop=True)


def step_matrix(paths: ir.Table) -> pd.DataFrame:
    """``position, event, users, share`` from a :func:`session_paths` table: for positions
    1 … N, the users whose path has each event there (:data:`ENDED` included) and their share of
    all paths, so each position's shares add up to 1. Sorted by position, users (descending),
    event."""
    pairs = _pairs(paths)
    counts = (
        pairs.group_by(position=pairs.step, event=pairs.to_event)
        .aggregate(users=pairs.count())
        .to_pandas()
    )
    counts = counts.astype({"position": "int64"})
    counts["users"] = counts["users"].astype("int64")
    # every path has an event (or ENDED) at every position: the column total is all paths
    table = counts.assign(
        share=counts["users"] / counts.groupby("position")["users"].transform("sum")
    )
    table = table.sort_values(["position", "users", "event"], ascending=[True, False, True])
    return table[STEP_MATRIX_COLUMNS].reset_index(drop=True)


def _path_text(paths: ir.Table) -> ir.StringValue:
    """``p0 → p1 → …`` with the trailing :data:`ENDED` dropped (once ended, a path stays so)."""
    columns = _position_columns(paths)
    text = paths[columns[0]]
    for column in columns[1:]:
        value = paths[column]
        text = text + (value == ENDED).ifelse("", ARROW + value)
    return text


def paths_top(paths: ir.Table, n: int = DEFAULT_TOP_PATHS) -> pd.DataFrame:
    """``path, users, share, purchase_rate``: the ``n`` most frequent whole paths of a
    :func:`session_paths` table (positions 0 … N joined by " → ", trailing :data:`ENDED`
    dropped), with their share of all paths and the share of their users who purchased
    (``purchased``: a :data:`PURCHASE_EVENT` in the session at or after the path's start).
    Sorted by users (descending), then path."""
    if n < 1:
        raise ValueError(f"n={n} must be at least 1")
    text = paths.mutate(path=_path_text(paths))
    grouped = text.group_by("path").aggregate(
        users=text.count(), purchasers=text.purchased.cast("int64").sum()
    )
    top = grouped.order_by([grouped.users.desc(), grouped.path.asc()]).limit(n).to_pandas()
    total = int(paths.count().to_pandas())
    table = pd.DataFrame(
        {
            "path": top["path"].astype(str),
            "users": top["users"].astype("int64"),
            "share": top["users"] / total if total else top["users"] * 0.0,
            "purchase_rate": top["purchasers"].astype("int64") / top["users"],
        }
    )
    # the engine's order, made explicit (both order strings by code point)
    table = table.sort_values(["users", "path"], ascending=[False, True])
    return table[PATHS_TOP_COLUMNS].reset_index(drop=True)


def after_dropoff(
    events: ir.Table,
    period: Period,
    step: str = parameters.default("dropoff_step"),
    steps: Sequence[str] = funnel.DEFAULT_STEPS,
    window_days: int = funnel.DEFAULT_WINDOW_DAYS,
    path_steps: int = DEFAULT_PATH_STEPS,
) -> pd.DataFrame:
    """``group, position, event, users, share``: what the users who reached funnel ``step`` did
    next, those who did not reach the next step (``dropped``) next to those who did
    (``continued``).

    Reach is :func:`lib.funnel.funnel_reach` (ordered funnel, first entry). A user's next events
    are those strictly after ``t_k`` (whole seconds) and at most ``t1 + window``, ordered by
    time, then name, consecutive repeats collapsed, not cut by session: positions 1 …
    ``path_steps``, padded with :data:`ENDED`. ``share`` is of the group's users, so each
    group's shares at a position add up to 1. Sorted by group (dropped first), position, users
    (descending), event. The last step has no next one and is refused (ValueError).
    """
    steps = tuple(steps)
    problem = funnel.dropoff_note(steps, step)
    if problem:
        raise ValueError(problem)
    parameters.check("path_steps", path_steps, "path_steps")
    k = steps.index(step) + 1
    window = window_days * SECONDS_PER_DAY
    reach = funnel.funnel_reach(events, period, steps, window_days)
    reached = reach.filter(reach[f"t{k}"].notnull())
    chosen = reached.select(
        "user_id",
        after=reached[f"t{k}"],
        until=reached.t1 + window,
        group=reached[f"t{k + 1}"].notnull().ifelse(GROUPS[1], GROUPS[0]),
    )
    # the reach is read twice (group sizes, next events): computed once, then released
    with chosen.cache() as groups:
        sizes = groups.group_by("group").aggregate(n=groups.count()).to_pandas()
        sizes = sizes.set_index("group")["n"].reindex(list(GROUPS)).fillna(0).astype("int64")

        lo, late = funnel._window_bounds(period, window_days)
        ts = events.event_time
        acts = events.filter(
            ts >= ibis.literal(lo, "timestamp"), ts <= ibis.literal(late, "timestamp")
        )
        acts = acts.select(
            act_user=acts.user_id,
            event_time=acts.event_time,
            event_name=acts.event_name,
            s=epoch_seconds(acts.event_time),
        )
        joined = groups.join(acts, groups.user_id == acts.act_user)
        joined = joined.filter(joined.s > joined.after, joined.s <= joined.until)
        by_user = ibis.window(
            group_by=joined.user_id, order_by=[joined.event_time, joined.event_name]
        )
        joined = joined.mutate(repeat=joined.event_name.lag().over(by_user) == joined.event_name)
        kept = joined.filter(~joined.repeat.fill_null(False))
        kept = kept.mutate(
            position=ibis.row_number().over(
                ibis.window(group_by=kept.user_id, order_by=[kept.event_time, kept.event_name])
            )
            + 1
        )
        kept = kept.filter(kept.position <= path_steps)
        counts = (
            kept.group_by(["group", "position", kept.event_name.name("event")])
            .aggregate(users=kept.count())
            .to_pandas()
        )
    rows = [counts.astype({"position": "int64", "users": "int64"})]
    for group in GROUPS:
        mine = counts[counts["group"] == group]
        seen = mine.groupby("position")["users"].sum()
        ended = [
            (group, j, ENDED, int(sizes[group] - seen.get(j, 0)))
            for j in range(1, path_steps + 1)
            if sizes[group] - seen.get(j, 0) > 0
        ]
        rows.append(pd.DataFrame(ended, columns=["group", "position", "event", "users"]))
    table = pd.concat([r for r in rows if not r.empty] or [rows[0]], ignore_index=True)
    table = table.astype({"position": "int64", "users": "int64"})
    table["share"] = table["users"] / table["group"].map(sizes).astype("float64")
    table["_group"] = table["group"].map({g: i for i, g in enumerate(GROUPS)})
    table = table.sort_values(
        ["_group", "position", "users", "event"], ascending=[True, True, False, True]
    )
    return table[AFTER_DROPOFF_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# The sentences the notebook prints, each computed from one of the tables above


def _pct(value: float) -> str:
    return f"{value:.0%}" if value >= 0.1 or value == 0 else f"{value:.1%}"


def transitions_note(transitions: pd.DataFrame) -> str:
    """The most common first step and the strongest transition at each later step."""
    if transitions.empty:
        return "No path started in the period: no transitions to show."
    first = transitions[transitions["step"] == 1]
    starts = first.groupby("from_event")["users"].sum()
    paths = int(starts.sum())
    top = first.iloc[0]
    text = (
        f"Of {paths:,} paths, the most common first move is {top['from_event']} → "
        f"{top['to_event']} ({int(top['users']):,} users, {_pct(top['users'] / paths)})."
    )
    later = []
    for step, rows in transitions[transitions["step"] > 1].groupby("step", sort=True):
        best = rows.iloc[0]
        later.append(
            f"step {int(step)}: {best['from_event']} → {best['to_event']} ({int(best['users']):,})"
        )
    if later:
        text += f" The strongest transition at each later step: {'; '.join(later)}."
    return text


def step_matrix_note(matrix: pd.DataFrame) -> str:
    """The most common event at position 1 (other than ending) and the share of paths that
    ended after one step, and by the last position."""
    if matrix.empty:
        return "No path started in the period: no step matrix to show."
    first = matrix[matrix["position"] == 1]
    ended_first = float(first.loc[first["event"] == ENDED, "share"].sum())
    events = first[first["event"] != ENDED]
    parts = []
    if not events.empty:
        top = events.iloc[0]
        parts.append(
            f"The most common event right after the path's start is {top['event']} "
            f"({_pct(top['share'])} of paths)"
        )
    parts.append(f"{_pct(ended_first)} of paths end after their first event")
    last = int(matrix["position"].max())
    if last > 1:
        ended_last = float(
            matrix.loc[(matrix["position"] == last) & (matrix["event"] == ENDED), "share"].sum()
        )
        parts.append(f"{_pct(ended_last)} have ended by position {last}")
    return "; ".join(parts) + "."


def paths_top_note(top: pd.DataFrame) -> str:
    """The most frequent path, how much of all paths the listed ones cover, and, among paths of
    at least 30 users, the listed path with the highest purchase rate."""
    if top.empty:
        return "No path started in the period: no paths to rank."
    first = top.iloc[0]
    text = (
        f"The most frequent path is {first['path']} ({int(first['users']):,} users, "
        f"{_pct(first['share'])} of paths); the {len(top)} listed cover "
        f"{_pct(float(top['share'].sum()))} of all paths."
    )
    large = top[top["users"] >= 30]
    if len(large) > 1 and large["purchase_rate"].nunique() > 1:
        best = large.sort_values(["purchase_rate", "users"], ascending=[False, False]).iloc[0]
        text += (
            f" Among listed paths of 30 users or more, {best['path']} converts best: "
            f"{_pct(best['purchase_rate'])} of its users purchased in the session."
        )
    return text


def after_dropoff_note(
    table: pd.DataFrame, step: str, steps: Sequence[str] = funnel.DEFAULT_STEPS
) -> str:
    """How the next event of those who dropped after ``step`` differs from those who continued:
    each group's most common next event, and the next events whose share differs between the
    groups beyond the noise (two-proportion tests, Benjamini-Hochberg q < 0.05 over the events
    tested), the largest differences first.

    The funnel's later steps and :data:`ENDED` (no next event) are left out of the test: only
    those who continued have the next step and only those who dropped have no next event, by
    definition, and the steps after the next one follow from continuing (a user who dropped
    reaches them only out of the funnel's order).
    """
    if table.empty:
        return f"No user reached {step} in the period: no one to follow."
    first = table[table["position"] == 1]
    sizes = first.groupby("group")["users"].sum().reindex(list(GROUPS)).fillna(0).astype(int)
    if not sizes["dropped"] or not sizes["continued"]:
        who = "continued" if not sizes["dropped"] else "dropped"
        return f"Every user who reached {step} {who}: there is no other group to compare with."
    steps = tuple(steps)
    later = set(steps[steps.index(step) + 1 :]) if step in steps else set()
    wide = first.pivot(index="event", columns="group", values="users")
    wide = wide.reindex(columns=list(GROUPS)).fillna(0).astype(int)

    def said(event: str) -> str:
        return "no further event" if event == ENDED else event

    def most(group: str) -> str:
        row = first[first["group"] == group].iloc[0]
        return f"{said(row['event'])} ({_pct(row['share'])})"

    text = (
        f"Next event after {step}: most often {most('dropped')} for the {sizes['dropped']:,} "
        f"who dropped, {most('continued')} for the {sizes['continued']:,} who continued."
    )
    candidates = []
    for event, row in wide.iterrows():
        # by definition: the next step only those who continued have, and no next event
        # (ENDED) only those who dropped; the steps after it follow from continuing
        if event in later or event == ENDED:
            continue
        dropped, continued = int(row["dropped"]), int(row["continued"])
        p = two_proportion_pvalue(
            dropped, int(sizes["dropped"]), continued, int(sizes["continued"])
        )
        if p == p:  # NaN: the test is undefined
            a, b = dropped / sizes["dropped"], continued / sizes["continued"]
            candidates.append((p, str(event), a, b))
    # many next events are tested at once: a Benjamini-Hochberg q-value, not each p alone
    q_values = (
        false_discovery_control([c[0] for c in candidates], method="bh") if candidates else []
    )
    tested = [
        (abs(a - b), event, a, b)
        for q, (_, event, a, b) in zip(q_values, candidates, strict=True)
        if q < SIGNIFICANCE_LEVEL
    ]
    if not tested:
        return text + (
            " Apart from the funnel's later steps and leaving, no next event's share differs "
            "between the groups beyond the noise (q < 0.05)."
        )
    tested.sort(key=lambda t: (-t[0], t[1]))
    named = [
        f"{said(event)} ({_pct(a)} of those who dropped vs {_pct(b)} of those who continued)"
        for _, event, a, b in tested[:3]
    ]
    more = f", and {len(tested) - 3} more" if len(tested) > 3 else ""
    return text + f" Beyond the noise (Benjamini-Hochberg q < 0.05): {'; '.join(named)}{more}."


def next_event_shares(
    table: pd.DataFrame, position: int = 1, top: int | None = None
) -> pd.DataFrame:
    """``event, dropped, continued, dropped_users, continued_users`` from :func:`after_dropoff`:
    each event's share of the two groups at ``position`` (1: the first event after the step),
    side by side for a chart; an event one group never had there has share 0. The group sizes
    (the n of each share) repeat on every row. Sorted by the larger share, then event; with
    ``top``, the first ``top`` rows: the events frequent in either group."""
    at = table[table["position"] == position]
    shares = at.pivot(index="event", columns="group", values="share")
    shares = shares.reindex(columns=list(GROUPS)).fillna(0.0)
    sizes = at.groupby("group")["users"].sum().reindex(list(GROUPS)).fillna(0).astype("int64")
    out = shares.reset_index()
    out.columns.name = None
    for group in GROUPS:
        out[f"{group}_users"] = int(sizes[group])
    order = out[list(GROUPS)].max(axis=1)
    out = out.assign(_order=-order).sort_values(["_order", "event"]).drop(columns="_order")
    return out.head(top).reset_index(drop=True) if top is not None else out.reset_index(drop=True)


def group_labels(shares: pd.DataFrame) -> list[str]:
    """The chart's legend for :func:`next_event_shares`: each group with its n, e.g.
    ``"dropped (n = 2,105)"`` (0 when nobody reached the step)."""
    sizes = {g: int(shares[f"{g}_users"].iloc[0]) if len(shares) else 0 for g in GROUPS}
    return [f"{group} (n = {sizes[group]:,})" for group in GROUPS]
