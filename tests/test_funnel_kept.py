"""The funnel's per-entrant reach is computed once per notebook and kept (lib.funnel._kept,
through lib.data.kept)."""

from __future__ import annotations

import ibis
import pandas as pd

from lib import data, funnel
from lib.periods import Period

PERIOD = Period("2025-03-01", "2025-03-02", "UTC")
STEPS = ("view_item", "add_to_cart")


def _events(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["user_id", "event_time", "event_name"])
    frame["event_time"] = pd.to_datetime(frame["event_time"])
    return frame


BASE = [("u1", "2025-03-01 10:00:00", "view_item"), ("u1", "2025-03-01 10:05:00", "add_to_cart")]


def test_the_same_reach_is_read_again_not_recomputed() -> None:
    con = ibis.duckdb.connect()
    events = con.create_table("events", _events(BASE))
    first = funnel.funnel_reach(events, PERIOD, STEPS, 7)
    again = funnel.funnel_reach(events, PERIOD, STEPS, 7)
    # the same kept table: one query's rows, not a second grouping of the events
    assert first.op() == again.op()
    assert first.get_name() == again.get_name()
    other_window = funnel.funnel_reach(events, PERIOD, STEPS, 1)
    assert other_window.get_name() != first.get_name()


def test_two_connections_with_one_table_name_never_share_a_reach() -> None:
    # Ibis calls the two `events` tables equal; the shops differ (u2 only views on the second)
    one, two = ibis.duckdb.connect(), ibis.duckdb.connect()
    first = one.create_table("events", _events(BASE))
    second = two.create_table(
        "events", _events([*BASE, ("u2", "2025-03-01 11:00:00", "view_item")])
    )
    assert first.op() == second.op()
    users = [funnel.funnel_table(t, PERIOD, STEPS, 7)["users"].tolist() for t in (first, second)]
    assert users == [[1, 1], [2, 1]]


def test_only_the_latest_reaches_are_held() -> None:
    con = ibis.duckdb.connect()
    events = con.create_table("events", _events(BASE))
    for window in range(1, funnel.KEPT_REACHES + 3):
        funnel.funnel_reach(events, PERIOD, STEPS, window)
    assert len(data._KEPT["reach"]) == funnel.KEPT_REACHES


def test_a_funnel_of_in_memory_tables_alone_runs_without_keeping() -> None:
    events = ibis.memtable(_events(BASE))
    assert funnel.funnel_table(events, PERIOD, STEPS, 7)["users"].tolist() == [1, 1]
