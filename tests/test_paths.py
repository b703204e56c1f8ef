"""User paths (issue 18, lib/paths.py) on tiny logs worked out by hand.

Range 2025-03-10..2025-03-11 in Asia/Shanghai (UTC+8): local 03-10 is UTC 03-09 16:00 to
03-10 16:00, and the period ends at UTC 03-11 16:00. All times below are UTC unless marked
local. A row is ``(event_time, user_id, event_name[, session_id])``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from lib import paths, plots
from lib.periods import Period

from .conftest import events_table

SHANGHAI = Period("2025-03-10", "2025-03-11", "Asia/Shanghai")
E = paths.ENDED

LOG = events_table(
    [
        # u_gap, no session_id: 29:59 and exactly 30:00 keep the session (the second view_item
        # is a repeat, collapsed); 30:01 starts a new one, which starts later and is not chosen
        ("2025-03-10 01:00:00", "u_gap", "page_view"),
        ("2025-03-10 01:29:59", "u_gap", "view_item"),
        ("2025-03-10 01:59:59", "u_gap", "view_item"),
        ("2025-03-10 02:30:00", "u_gap", "add_to_cart"),
        # u_sid: session s1 spans 2.5 h (a session_id is never cut by time); s2 starts later
        ("2025-03-10 03:00", "u_sid", "page_view", "s1"),
        ("2025-03-10 04:00", "u_sid", "search", "s2"),
        ("2025-03-10 05:00", "u_sid", "view_item", "s1"),
        ("2025-03-10 05:30", "u_sid", "purchase", "s1"),
        # u_rep: repeats collapsed; at 06:05 add_to_wishlist sorts before page_view (name
        # order within a second); the purchase is beyond the 3 steps shown but still counts
        ("2025-03-10 06:00", "u_rep", "view_item", "sA"),
        ("2025-03-10 06:01", "u_rep", "view_item", "sA"),
        ("2025-03-10 06:02", "u_rep", "add_to_cart", "sA"),
        ("2025-03-10 06:03", "u_rep", "add_to_cart", "sA"),
        ("2025-03-10 06:04", "u_rep", "view_item", "sA"),
        ("2025-03-10 06:05", "u_rep", "page_view", "sA"),
        ("2025-03-10 06:05", "u_rep", "add_to_wishlist", "sA"),
        ("2025-03-10 06:10", "u_rep", "purchase", "sA"),
        # u_same: the same path as u_gap
        ("2025-03-10 07:00", "u_same", "page_view", "sS"),
        ("2025-03-10 07:01", "u_same", "view_item", "sS"),
        # u_early: eE1 starts at local 03-09 23:50 (before the period) and its view_item is at
        # local 03-10 00:20; eE2 starts at local 03-10 00:30
        ("2025-03-09 15:50", "u_early", "page_view", "eE1"),
        ("2025-03-09 16:20", "u_early", "view_item", "eE1"),
        ("2025-03-09 16:30", "u_early", "search", "eE2"),
        ("2025-03-09 16:40", "u_early", "view_item", "eE2"),
        # u_late starts at local 03-11 23:50; the path goes on after the period's last midnight
        ("2025-03-11 15:50", "u_late", "view_item", "sL"),
        ("2025-03-11 16:10", "u_late", "add_to_cart", "sL"),
        ("2025-03-11 16:20", "u_late", "purchase", "sL"),
        # u_out starts at local 03-12 00:30: after the period, no path
        ("2025-03-11 16:30", "u_out", "page_view", "sO"),
    ]
)


def _paths(events=LOG, **kwargs) -> pd.DataFrame:
    table = paths.session_paths(events, SHANGHAI, path_steps=3, **kwargs).to_pandas()
    table = table.sort_values("user_id").set_index("user_id")
    return table


def _rows(table: pd.DataFrame) -> dict[str, tuple]:
    columns = [c for c in table.columns if c[1:].isdigit()]
    return {
        user: (*(row[c] for c in columns), bool(row["purchased"])) for user, row in table.iterrows()
    }


# ------------------------------------------------------------------ sessions and paths


def test_default_paths_one_per_user_padded_with_ended():
    table = _paths()
    assert list(table.columns) == ["p0", "p1", "p2", "p3", "purchased"]
    assert _rows(table) == {
        "u_early": ("search", "view_item", E, E, False),
        "u_gap": ("page_view", "view_item", E, E, False),
        "u_late": ("view_item", "add_to_cart", "purchase", E, True),
        "u_rep": ("view_item", "add_to_cart", "view_item", "add_to_wishlist", True),
        "u_same": ("page_view", "view_item", E, E, False),
        "u_sid": ("page_view", "view_item", "purchase", E, True),
    }


def test_a_gap_longer_than_the_timeout_starts_a_new_session():
    # with 60 minutes u_gap's add_to_cart 30:01 later stays in its first session
    table = _paths(session_timeout_minutes=60)
    assert _rows(table)["u_gap"] == ("page_view", "view_item", "add_to_cart", E, False)
    # one minute: every event of u_gap is a session of its own; the first is chosen
    table = _paths(session_timeout_minutes=1)
    assert _rows(table)["u_gap"] == ("page_view", E, E, E, False)


def test_start_and_end_events():
    table = _paths(path_start_event="view_item", path_end_event="add_to_cart")
    assert _rows(table) == {
        # eE1's view_item at local 03-10 00:20 is in the period, in a session begun before it
        "u_early": ("view_item", E, E, E, False),
        "u_gap": ("view_item", E, E, E, False),
        # the end is inclusive; the purchase after it still counts
        "u_late": ("view_item", "add_to_cart", E, E, True),
        "u_rep": ("view_item", "add_to_cart", E, E, True),
        "u_same": ("view_item", E, E, E, False),
        "u_sid": ("view_item", "purchase", E, E, True),
    }


def test_one_path_per_user_from_the_first_session_holding_the_start():
    log = events_table(
        [
            # m1 has no view_item; m2 is the first with one; m3 comes later
            ("2025-03-10 09:00", "u", "page_view", "m1"),
            ("2025-03-10 09:05", "u", "search", "m1"),
            ("2025-03-10 10:00", "u", "page_view", "m2"),
            ("2025-03-10 10:05", "u", "view_item", "m2"),
            ("2025-03-10 10:06", "u", "add_to_cart", "m2"),
            ("2025-03-10 11:00", "u", "view_item", "m3"),
            ("2025-03-10 11:01", "u", "purchase", "m3"),
            # a purchase before the start does not count
            ("2025-03-10 08:00", "b", "purchase", "b1"),
            ("2025-03-10 08:10", "b", "view_item", "b1"),
        ]
    )
    assert _rows(_paths(log, path_start_event="view_item")) == {
        "b": ("view_item", E, E, E, False),
        "u": ("view_item", "add_to_cart", E, E, False),
    }
    # without a start event: each user's first session in the period
    assert _rows(_paths(log)) == {
        "b": ("purchase", "view_item", E, E, True),
        "u": ("page_view", "search", E, E, False),
    }


def test_a_start_event_that_is_also_the_end_ends_the_path_at_once():
    table = _paths(path_start_event="view_item", path_end_event="view_item")
    assert (table[["p1", "p2", "p3"]] == E).all().all()


def test_wrong_parameters_are_refused():
    with pytest.raises(ValueError, match="path_steps=0"):
        paths.session_paths(LOG, SHANGHAI, path_steps=0)
    with pytest.raises(ValueError, match="session_timeout_minutes=0"):
        paths.session_paths(LOG, SHANGHAI, session_timeout_minutes=0)
    with pytest.raises(ValueError, match="session_paths"):
        paths.path_transitions(LOG)


# ------------------------------------------------------------------ the three tables


@pytest.fixture(scope="module")
def prepared():
    return paths.session_paths(LOG, SHANGHAI, path_steps=3)


def test_transitions_exact(prepared):
    table = paths.path_transitions(prepared)
    assert list(table.columns) == paths.TRANSITIONS_COLUMNS
    rows = list(table.itertuples(index=False, name=None))
    assert rows == [
        (1, "page_view", "view_item", 3, 3),
        (1, "view_item", "add_to_cart", 2, 2),
        (1, "search", "view_item", 1, 1),
        (2, "view_item", E, 3, 3),
        (2, "add_to_cart", "purchase", 1, 1),
        (2, "add_to_cart", "view_item", 1, 1),
        (2, "view_item", "purchase", 1, 1),
        (3, "purchase", E, 2, 2),
        (3, "view_item", "add_to_wishlist", 1, 1),
    ]


def test_step_matrix_shares_sum_to_one(prepared):
    table = paths.step_matrix(prepared)
    assert list(table.columns) == paths.STEP_MATRIX_COLUMNS
    rows = [(p, e, u) for p, e, u, _ in table.itertuples(index=False, name=None)]
    assert rows == [
        (1, "view_item", 4),
        (1, "add_to_cart", 2),
        (2, E, 3),
        (2, "purchase", 2),
        (2, "view_item", 1),
        (3, E, 5),
        (3, "add_to_wishlist", 1),
    ]
    assert table["share"].tolist() == pytest.approx(
        [4 / 6, 2 / 6, 3 / 6, 2 / 6, 1 / 6, 5 / 6, 1 / 6]
    )
    assert table.groupby("position")["share"].sum().tolist() == pytest.approx([1, 1, 1])
    assert paths.step_matrix_note(table) == (
        "The most common event right after the path's start is view_item (67% of paths); "
        "0% of paths end after their first event; 83% have ended by position 3."
    )


def test_top_paths_and_purchase_rate(prepared):
    table = paths.paths_top(prepared)
    assert list(table.columns) == paths.PATHS_TOP_COLUMNS
    assert table["path"].tolist() == [
        "page_view → view_item",
        "page_view → view_item → purchase",
        "search → view_item",
        "view_item → add_to_cart → purchase",
        "view_item → add_to_cart → view_item → add_to_wishlist",
    ]
    assert table["users"].tolist() == [2, 1, 1, 1, 1]
    assert table["share"].tolist() == pytest.approx([2 / 6, 1 / 6, 1 / 6, 1 / 6, 1 / 6])
    # u_rep's purchase comes after the steps shown and still counts
    assert table["purchase_rate"].tolist() == [0.0, 1.0, 0.0, 1.0, 1.0]
    assert paths.paths_top(prepared, n=2)["path"].tolist() == table["path"].tolist()[:2]
    note = paths.paths_top_note(table)
    assert note.startswith("The most frequent path is page_view → view_item (2 users, 33%")


def test_notes_on_empty_tables():
    empty = paths.session_paths(LOG, Period("2024-01-01", "2024-01-02"), path_steps=2)
    assert paths.transitions_note(paths.path_transitions(empty)).startswith("No path")
    assert paths.step_matrix_note(paths.step_matrix(empty)).startswith("No path")
    assert paths.paths_top_note(paths.paths_top(empty)).startswith("No path")


def test_transitions_note(prepared):
    note = paths.transitions_note(paths.path_transitions(prepared))
    assert note == (
        "Of 6 paths, the most common first move is page_view → view_item (3 users, 50%). The "
        "strongest transition at each later step: step 2: view_item → ENDED (3); step 3: "
        "purchase → ENDED (2)."
    )


# ------------------------------------------------------------------ after the drop

STEPS = ["view_item", "add_to_cart", "purchase"]
DROP_LOG = events_table(
    [
        # d1 dropped: page_view (its repeat collapsed), then search
        ("2025-03-10 01:00", "d1", "view_item"),
        ("2025-03-10 01:10", "d1", "add_to_cart"),
        ("2025-03-10 01:20", "d1", "page_view"),
        ("2025-03-10 01:25", "d1", "page_view"),
        ("2025-03-10 01:30", "d1", "search"),
        # d2 dropped: a page view in the cart's own second is not after it
        ("2025-03-10 02:00", "d2", "view_item"),
        ("2025-03-10 02:10:00", "d2", "add_to_cart"),
        ("2025-03-10 02:10:00.700", "d2", "page_view"),
        # d3 dropped: a search, then a page view after the 1-day window
        ("2025-03-10 03:00", "d3", "view_item"),
        ("2025-03-10 03:10", "d3", "add_to_cart"),
        ("2025-03-10 03:20", "d3", "search"),
        ("2025-03-11 03:30", "d3", "page_view"),
        # c1, c2 continued
        ("2025-03-10 04:00", "c1", "view_item"),
        ("2025-03-10 04:10", "c1", "add_to_cart"),
        ("2025-03-10 04:20", "c1", "purchase"),
        ("2025-03-10 04:30", "c1", "page_view"),
        ("2025-03-10 05:00", "c2", "view_item"),
        ("2025-03-10 05:10", "c2", "add_to_cart"),
        ("2025-03-10 05:15", "c2", "view_item"),
        ("2025-03-10 05:20", "c2", "purchase"),
        # n1 never reached the cart: in neither group
        ("2025-03-10 06:00", "n1", "view_item"),
        ("2025-03-10 06:10", "n1", "page_view"),
    ]
)


def test_after_dropoff_groups_exact():
    table = paths.after_dropoff(DROP_LOG, SHANGHAI, "add_to_cart", STEPS, 1, 2)
    assert list(table.columns) == paths.AFTER_DROPOFF_COLUMNS
    rows = [(g, p, e, u) for g, p, e, u, _ in table.itertuples(index=False, name=None)]
    assert rows == [
        ("dropped", 1, E, 1),
        ("dropped", 1, "page_view", 1),
        ("dropped", 1, "search", 1),
        ("dropped", 2, E, 2),
        ("dropped", 2, "search", 1),
        ("continued", 1, "purchase", 1),
        ("continued", 1, "view_item", 1),
        ("continued", 2, "page_view", 1),
        ("continued", 2, "purchase", 1),
    ]
    assert table["share"].tolist() == pytest.approx([1 / 3] * 3 + [2 / 3, 1 / 3] + [0.5] * 4)
    sums = table.groupby(["group", "position"])["share"].sum()
    assert sums.tolist() == pytest.approx([1, 1, 1, 1])
    note = paths.after_dropoff_note(table, "add_to_cart", STEPS)
    assert note == (
        "Next event after add_to_cart: most often no further event (33%) for the 3 who dropped, "
        "purchase (50%) for the 2 who continued. Apart from the funnel's later steps and "
        "leaving, no next event's share differs between the groups beyond the noise (q < 0.05)."
    )


def test_after_dropoff_note_names_only_differences_beyond_the_noise():
    # 200 users a group at position 1: search 30 % vs 10 % (p ≈ 4e-7), view_item 20 % vs 22 %
    # (p ≈ 0.6); ENDED only among those who dropped and purchase only among those who
    # continued are differences by definition, never named
    rows = [
        ("dropped", "ENDED", 100),
        ("dropped", "search", 60),
        ("dropped", "view_item", 40),
        ("continued", "purchase", 136),
        ("continued", "search", 20),
        ("continued", "view_item", 44),
    ]
    table = pd.DataFrame(
        [(g, 1, e, n, n / 200) for g, e, n in rows], columns=paths.AFTER_DROPOFF_COLUMNS
    )
    note = paths.after_dropoff_note(table, "add_to_cart", STEPS)
    assert note.endswith(
        "Beyond the noise (Benjamini-Hochberg q < 0.05): search (30% of those who dropped vs "
        "10% of those who continued)."
    )
    assert "view_item (" not in note and "no further event (" not in note.split("Beyond")[1]


def test_after_dropoff_note_leaves_out_the_steps_after_the_next_one():
    # a four-step funnel: after view_item the next step is add_to_cart, and purchase comes two
    # steps later; 0 of 200 who dropped against 40 of 200 who continued went straight on to a
    # purchase (p ≈ 1e-10), which follows from the funnel's order, not from behaviour
    rows = [
        ("dropped", "ENDED", 120),
        ("dropped", "search", 80),
        ("continued", "add_to_cart", 120),
        ("continued", "purchase", 40),
        ("continued", "search", 40),
    ]
    table = pd.DataFrame(
        [(g, 1, e, n, n / 200) for g, e, n in rows], columns=paths.AFTER_DROPOFF_COLUMNS
    )
    four = ["view_item", "add_to_cart", "begin_checkout", "purchase"]
    note = paths.after_dropoff_note(table, "view_item", four)
    # search: 40 % vs 20 % is named; purchase is not, though its difference is larger
    assert note.endswith(
        "Beyond the noise (Benjamini-Hochberg q < 0.05): search (40% of those who dropped vs "
        "20% of those who continued)."
    )


def test_after_dropoff_refuses_the_last_step():
    with pytest.raises(ValueError, match="not a step before the last"):
        paths.after_dropoff(DROP_LOG, SHANGHAI, "purchase", STEPS, 1, 2)


# ------------------------------------------------------------------ charts


def test_charts_draw_and_refuse_empty_tables(prepared):
    flow = plots.path_flow_chart(paths.path_transitions(prepared), "Paths")
    heat = plots.step_matrix_heatmap(paths.step_matrix(prepared), "Step matrix")
    for chart in (flow, heat):
        assert isinstance(chart, plt.Figure)
        plt.close(chart)
    empty_t = pd.DataFrame(columns=paths.TRANSITIONS_COLUMNS)
    empty_m = pd.DataFrame(columns=paths.STEP_MATRIX_COLUMNS)
    assert isinstance(plots.path_flow_chart(empty_t, "Paths"), plots.NoChart)
    assert isinstance(plots.step_matrix_heatmap(empty_m, "Step matrix"), plots.NoChart)


def test_next_event_shares_put_the_groups_side_by_side() -> None:
    table = pd.DataFrame(
        {
            "group": ["dropped", "dropped", "continued", "continued", "dropped"],
            "position": [1, 1, 1, 1, 2],
            "event": ["ENDED", "view_item", "begin_checkout", "view_item", "ENDED"],
            "users": [3, 1, 2, 2, 4],
            "share": [0.75, 0.25, 0.5, 0.5, 1.0],
        }
    )
    wide = paths.next_event_shares(table)
    assert wide["event"].tolist() == ["ENDED", "begin_checkout", "view_item"]
    assert wide["dropped"].tolist() == [0.75, 0.0, 0.25]
    assert wide["continued"].tolist() == [0.0, 0.5, 0.5]
    assert wide["dropped_users"].unique().tolist() == [4]
    assert wide["continued_users"].unique().tolist() == [4]
    # the events frequent in either group: ENDED for those who dropped, begin_checkout for
    # those who continued
    assert paths.next_event_shares(table, top=2)["event"].tolist() == ["ENDED", "begin_checkout"]


def test_group_labels_name_each_group_with_its_n() -> None:
    shares = pd.DataFrame(
        {
            "event": ["ENDED"],
            "dropped": [1.0],
            "continued": [0.0],
            "dropped_users": [2105],
            "continued_users": [0],
        }
    )
    assert paths.group_labels(shares) == ["dropped (n = 2,105)", "continued (n = 0)"]
    empty = shares.iloc[0:0]
    assert paths.group_labels(empty) == ["dropped (n = 0)", "continued (n = 0)"]
