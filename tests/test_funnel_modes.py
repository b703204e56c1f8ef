"""Funnel order modes and exclusions (issue 18, first part), on tiny logs worked out by hand.

Range 2025-03-10..2025-03-11 in Asia/Shanghai (UTC+8): local 03-10 is UTC 03-09 16:00 to
03-10 16:00. All times below are UTC unless marked local. Steps: view_item → add_to_cart →
purchase; ``page_view`` and ``search`` are no steps.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from lib import data, funnel
from lib.periods import Period
from lib.run import Parameter, UsageError
from lib.run.notebooks import Notebook
from lib.run.values import check_source_values, user_parameters

from .conftest import events_table
from .runner_support import SOURCE, dry_run_real

pytest_plugins = ("tests.runner_fixtures",)

SHANGHAI = Period("2025-03-10", "2025-03-11", "Asia/Shanghai")
STEPS = ["view_item", "add_to_cart", "purchase"]


def _users(events, **kwargs) -> list[int]:
    return funnel.funnel_table(events, SHANGHAI, STEPS, **kwargs)["users"].tolist()


def _reach(events, **kwargs) -> pd.DataFrame:
    reach = funnel.funnel_reach(events, SHANGHAI, STEPS, **kwargs).to_pandas()
    return reach.set_index("user_id").sort_index()


def _at(text: str) -> float:
    return pd.Timestamp(text).timestamp()


# ------------------------------------------------------------------ strict

STRICT = events_table(
    [
        # a page view between the view and the cart: strict stops at the view
        ("2025-03-10 01:00", "u_break", "view_item"),
        ("2025-03-10 01:30", "u_break", "page_view"),
        ("2025-03-10 02:00", "u_break", "add_to_cart"),
        ("2025-03-10 03:00", "u_break", "purchase"),
        # repeats of the step just completed do not break it; t2 stays the first cart
        ("2025-03-10 01:00", "u_repeat", "view_item"),
        ("2025-03-10 01:10", "u_repeat", "view_item"),
        ("2025-03-10 02:00", "u_repeat", "add_to_cart"),
        ("2025-03-10 02:30", "u_repeat", "add_to_cart"),
        ("2025-03-10 03:00", "u_repeat", "purchase"),
        # a later step between view and cart breaks it as any other event does
        ("2025-03-10 01:00", "u_skip", "view_item"),
        ("2025-03-10 01:30", "u_skip", "purchase"),
        ("2025-03-10 02:00", "u_skip", "add_to_cart"),
        ("2025-03-10 03:00", "u_skip", "purchase"),
        # back to the view after the cart: not the step just completed, so it breaks cart → buy
        ("2025-03-10 01:00", "u_back", "view_item"),
        ("2025-03-10 02:00", "u_back", "add_to_cart"),
        ("2025-03-10 02:30", "u_back", "view_item"),
        ("2025-03-10 03:00", "u_back", "purchase"),
        # nothing else: the whole chain
        ("2025-03-10 01:00", "u_clean", "view_item"),
        ("2025-03-10 02:00", "u_clean", "add_to_cart"),
        ("2025-03-10 03:00", "u_clean", "purchase"),
        # page views before the entry and after the last step do not matter
        ("2025-03-10 00:30", "u_around", "page_view"),
        ("2025-03-10 01:00", "u_around", "view_item"),
        ("2025-03-10 02:00", "u_around", "add_to_cart"),
        ("2025-03-10 03:00", "u_around", "purchase"),
        ("2025-03-10 03:30", "u_around", "page_view"),
    ]
)


def test_strict_is_broken_by_any_other_event_but_not_by_repeating_the_step_just_done():
    # ordered: everyone goes all the way
    assert _users(STRICT) == [6, 6, 6]
    # strict: u_break and u_skip stop at the view, u_back at the cart
    assert _users(STRICT, order="strict") == [6, 4, 3]
    reach = _reach(STRICT, order="strict")
    assert reach.loc["u_repeat"].tolist() == [
        _at("2025-03-10 01:00"),
        _at("2025-03-10 02:00"),  # the first cart, not the repeat
        _at("2025-03-10 03:00"),
    ]
    assert reach.loc["u_break", ["t2", "t3"]].isna().all()
    assert reach.loc["u_back", "t2"] == _at("2025-03-10 02:00")
    assert pd.isna(reach.loc["u_back", "t3"])
    # the hours of strict are those of the chains that held: 1 h view → cart, 1 h cart → buy
    table = funnel.funnel_table(STRICT, SHANGHAI, STEPS, order="strict")
    assert table["median_hours_from_previous"].iloc[1:].tolist() == [1.0, 1.0]


def test_strict_takes_events_of_one_second_in_step_order():
    events = events_table(
        [
            # three steps in one second, logged in reverse: in step order, the whole chain
            ("2025-03-10 01:00:00", "u_same", "purchase"),
            ("2025-03-10 01:00:00", "u_same", "add_to_cart"),
            ("2025-03-10 01:00:00", "u_same", "view_item"),
            # the cart a fraction before the view, in the same second: still after it
            ("2025-03-10 01:00:00.700", "u_fraction", "view_item"),
            ("2025-03-10 01:00:00.200", "u_fraction", "add_to_cart"),
            # a purchase in the view's second comes after the view in step order: between the
            # view and the cart of 5 s later, it breaks the chain
            ("2025-03-10 01:00:00", "u_step_between", "view_item"),
            ("2025-03-10 01:00:00", "u_step_between", "purchase"),
            ("2025-03-10 01:00:05", "u_step_between", "add_to_cart"),
            ("2025-03-10 01:00:10", "u_step_between", "purchase"),
            # a view in the purchase's second comes before it in step order: it breaks
            # cart → purchase
            ("2025-03-10 01:00:00", "u_view_before_buy", "view_item"),
            ("2025-03-10 01:00:05", "u_view_before_buy", "add_to_cart"),
            ("2025-03-10 01:00:10", "u_view_before_buy", "view_item"),
            ("2025-03-10 01:00:10", "u_view_before_buy", "purchase"),
            # page views in the seconds of the steps themselves: their order within the second
            # is unknown, so they do not break the chain
            ("2025-03-10 01:00:00", "u_page_same", "view_item"),
            ("2025-03-10 01:00:00", "u_page_same", "page_view"),
            ("2025-03-10 01:00:05", "u_page_same", "page_view"),
            ("2025-03-10 01:00:05", "u_page_same", "add_to_cart"),
            ("2025-03-10 01:00:10", "u_page_same", "purchase"),
        ]
    )
    reach = _reach(events, order="strict")
    reached = reach.notna().sum(axis=1).to_dict()
    assert reached == {
        "u_fraction": 2,
        "u_page_same": 3,
        "u_same": 3,
        "u_step_between": 1,
        "u_view_before_buy": 2,
    }
    # ordered counts all of them through the cart, and the three with a later purchase
    assert _users(events) == [5, 5, 4]


def test_strict_entry_is_the_first_view_on_a_local_day_of_the_range():
    events = events_table(
        [
            # 23:59 local 03-09 (before the range), a page view, then 00:00 local 03-10: enters
            # at the second view, and the page view before it does not matter
            ("2025-03-09 15:59", "u_midnight", "view_item"),
            ("2025-03-09 15:59:30", "u_midnight", "page_view"),
            ("2025-03-09 16:00", "u_midnight", "view_item"),
            ("2025-03-09 16:30", "u_midnight", "add_to_cart"),
            # 00:00 local 03-12: after the range, not an entrant
            ("2025-03-11 16:00", "u_late", "view_item"),
            ("2025-03-11 16:30", "u_late", "add_to_cart"),
        ]
    )
    reach = _reach(events, order="strict")
    assert reach.index.tolist() == ["u_midnight"]
    assert reach.loc["u_midnight", ["t1", "t2"]].tolist() == [
        _at("2025-03-09 16:00"),
        _at("2025-03-09 16:30"),
    ]


# ------------------------------------------------------------------ any order


def test_any_order_counts_distinct_steps_within_one_window_and_its_edge():
    events = events_table(
        [
            # bought, then viewed, then carted exactly 1 day after the purchase: one window
            ("2025-03-10 01:00:00", "u_edge_in", "purchase"),
            ("2025-03-10 02:00:00", "u_edge_in", "view_item"),
            ("2025-03-11 01:00:00", "u_edge_in", "add_to_cart"),
            # the cart 1 s later: no window holds all three, two at most
            ("2025-03-10 01:00:00", "u_edge_out", "purchase"),
            ("2025-03-10 02:00:00", "u_edge_out", "view_item"),
            ("2025-03-11 01:00:01", "u_edge_out", "add_to_cart"),
            # a view repeated: one distinct step
            ("2025-03-10 01:00", "u_views", "view_item"),
            ("2025-03-10 02:00", "u_views", "view_item"),
            # not a step at all: not counted
            ("2025-03-10 01:00", "u_none", "page_view"),
        ]
    )
    table = funnel.funnel_table(events, SHANGHAI, STEPS, window_days=1, order="any")
    assert table["step"].tolist() == ["1 step", "2 steps", "3 steps"]
    assert table["users"].tolist() == [3, 2, 1]
    assert table["conversion_from_start"].tolist() == [1.0, 2 / 3, 1 / 3]
    assert table["drop_off"].tolist() == [0, 1, 1]
    assert table["median_hours_from_previous"].isna().all()


def test_any_order_windows_start_on_a_local_day_of_the_range():
    events = events_table(
        [
            # view 23:59:59 local 03-09, cart 00:00 local 03-10: only the cart opens a window,
            # and the view before it is outside it
            ("2025-03-09 15:59:59", "u_midnight", "view_item"),
            ("2025-03-09 16:00:00", "u_midnight", "add_to_cart"),
            # view 23:59 local 03-11 (the last day), cart and purchase after the range but
            # inside the window: they count
            ("2025-03-11 15:59", "u_last_day", "view_item"),
            ("2025-03-11 17:00", "u_last_day", "add_to_cart"),
            ("2025-03-11 18:00", "u_last_day", "purchase"),
            # only after the range: no window
            ("2025-03-11 16:00", "u_after", "view_item"),
            ("2025-03-11 16:01", "u_after", "add_to_cart"),
        ]
    )
    table = funnel.funnel_table(events, SHANGHAI, STEPS, window_days=1, order="any")
    assert table["users"].tolist() == [2, 1, 1]


# ------------------------------------------------------------------ exclusions

EXCLUDED = events_table(
    [
        # a search between the view and the cart: excluded
        ("2025-03-10 01:00", "u_in", "view_item"),
        ("2025-03-10 01:30", "u_in", "search"),
        ("2025-03-10 02:00", "u_in", "add_to_cart"),
        ("2025-03-10 03:00", "u_in", "purchase"),
        # a search before the view: kept
        ("2025-03-10 00:30", "u_before", "search"),
        ("2025-03-10 01:00", "u_before", "view_item"),
        ("2025-03-10 02:00", "u_before", "add_to_cart"),
        # a search after the cart: kept (by an exclusion from 1 to 2)
        ("2025-03-10 01:00", "u_after", "view_item"),
        ("2025-03-10 02:00", "u_after", "add_to_cart"),
        ("2025-03-10 02:30", "u_after", "search"),
        ("2025-03-10 03:00", "u_after", "purchase"),
        # in the view's own second: not after it
        ("2025-03-10 01:00:00", "u_same_second", "view_item"),
        ("2025-03-10 01:00:00", "u_same_second", "search"),
        # no cart: a search before t1 + window excludes, one at t1 + window does not
        ("2025-03-10 01:00", "u_no_cart", "view_item"),
        ("2025-03-11 00:00", "u_no_cart", "search"),
        ("2025-03-10 01:00", "u_at_window_end", "view_item"),
        ("2025-03-12 01:00", "u_at_window_end", "search"),
    ]
)
SEARCH_1_2 = [{"event": "search", "from_step": 1, "to_step": 2}]


def test_exclusions_before_inside_and_after_their_step_range():
    # without exclusions: 6 entrants, 3 carts, 2 purchases
    plain = funnel.funnel_table(EXCLUDED, SHANGHAI, STEPS, window_days=2)
    assert plain["users"].tolist() == [6, 3, 2]
    assert plain.attrs["excluded_users"] == 0
    table = funnel.funnel_table(EXCLUDED, SHANGHAI, STEPS, window_days=2, exclusions=SEARCH_1_2)
    # u_in and u_no_cart leave: u_before, u_after, u_same_second, u_at_window_end remain
    assert table["users"].tolist() == [4, 2, 1]
    assert table.attrs["excluded_users"] == 2
    later = [{"event": "search", "from_step": 2, "to_step": 3}]
    # between cart and purchase: u_after (its purchase reached), and u_before (no purchase: a
    # search within the window would count, it has none after its cart)
    table = funnel.funnel_table(EXCLUDED, SHANGHAI, STEPS, window_days=2, exclusions=later)
    assert table["users"].tolist() == [5, 2, 1]
    assert table.attrs["excluded_users"] == 1


def test_excluded_users_leave_every_step_and_the_note_says_how_many():
    reach = _reach(EXCLUDED, window_days=2, exclusions=SEARCH_1_2)
    assert reach.index.tolist() == ["u_after", "u_at_window_end", "u_before", "u_same_second"]
    table = funnel.funnel_table(EXCLUDED, SHANGHAI, STEPS, window_days=2, exclusions=SEARCH_1_2)
    assert funnel.excluded_users_note(table, SEARCH_1_2) == (
        "2 of 6 entrants were excluded (33.3%) for search between view_item and add_to_cart: "
        "they leave every step of the funnel."
    )
    assert funnel.excluded_users_note(table, []) is None
    # a strict funnel drops them too: u_in's search broke its chain anyway
    strict = funnel.funnel_table(
        EXCLUDED, SHANGHAI, STEPS, window_days=2, order="strict", exclusions=SEARCH_1_2
    )
    assert strict.attrs["excluded_users"] == 2
    # u_after's search breaks cart → purchase: no purchase under strict
    assert strict["users"].tolist() == [4, 2, 0]


def test_no_exclusion_note_when_nobody_was_excluded():
    rules = [{"event": "login", "from_step": 1, "to_step": 3}]
    table = funnel.funnel_table(EXCLUDED, SHANGHAI, STEPS, window_days=2, exclusions=rules)
    assert table["users"].tolist() == [6, 3, 2]
    assert funnel.excluded_users_note(table, rules) == (
        "No entrant was excluded (login between view_item and purchase): the funnel keeps all 6."
    )


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"order": "loose"}, "order='loose' must be one of ordered, strict, any"),
        (
            {"exclusions": [{"event": "add_to_cart", "from_step": 1, "to_step": 3}]},
            "exclusions: 'add_to_cart' is a step of the funnel",
        ),
        (
            {"exclusions": [{"event": "search", "from_step": 2, "to_step": 2}]},
            "exclusions: expected a JSON list of",
        ),
        (
            {"exclusions": [{"event": "search", "from_step": 1, "to_step": 4}]},
            "exclusions: to_step=4 of 'search' is past the funnel's last step (3",
        ),
        (
            {"exclusions": [{"event": "search", "from_step": 0, "to_step": 2}]},
            "exclusions: expected a JSON list of",
        ),
        (
            {"order": "any", "exclusions": SEARCH_1_2},
            "funnel_exclusions need an ordered or strict funnel",
        ),
    ],
)
def test_unusable_orders_and_exclusions_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        funnel.funnel_table(EXCLUDED, SHANGHAI, STEPS, **kwargs)


def test_modes_that_need_distinct_steps_or_step_times_say_so():
    with pytest.raises(ValueError, match="needs distinct step events"):
        funnel.funnel_table(EXCLUDED, SHANGHAI, ["view_item", "view_item"], order="strict")
    with pytest.raises(ValueError, match="an any-order funnel has none"):
        funnel.funnel_reach(EXCLUDED, SHANGHAI, STEPS, order="any")


# ------------------------------------------------------------------ before the run


def _conversion(exclusions: str, steps: str = "[]") -> Notebook:
    """The conversion notebook's two funnel parameters, as its cell declares them."""
    return Notebook(
        "conversion",
        SOURCE,
        {
            "funnel_steps": Parameter("funnel_steps", steps),
            "funnel_exclusions": Parameter("funnel_exclusions", exclusions),
        },
    )


def _check(pairs: list[list[str]]) -> None:
    notebook = _conversion("[]")
    values = user_parameters(pairs, [notebook])
    check_source_values(pairs, values, [notebook], data.open_source(str(SOURCE)))


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (
            [["funnel_exclusions", '[{"event": "add_to_cart", "from_step": 1, "to_step": 2}]']],
            '-p funnel_exclusions \'[{"event": "add_to_cart", "from_step": 1, "to_step": '
            "2}]': 'add_to_cart' is a step of the funnel (view_item → add_to_cart → "
            "begin_checkout → purchase); an exclusion names an event outside the steps in "
            "notebook 'conversion'",
        ),
        (
            [["funnel_exclusions", '[{"event": "page_view", "from_step": 3, "to_step": 2}]']],
            "expected a JSON list of",
        ),
        (
            [
                ["funnel_steps", '["view_item", "purchase"]'],
                ["funnel_exclusions", '[{"event": "page_view", "from_step": 1, "to_step": 3}]'],
            ],
            "to_step=3 of 'page_view' is past the funnel's last step (2: view_item → purchase)",
        ),
        (
            [["funnel_exclusions", '[{"event": "page_veiw", "from_step": 1, "to_step": 2}]']],
            "'page_veiw' is not an event name of the source; did you mean 'page_view'?",
        ),
        ([["funnel_order", "loose"]], None),  # not a parameter of this stand-in notebook
    ],
)
def test_the_runner_refuses_exclusions_the_funnel_cannot_use(
    pairs: list[list[str]], message: str | None
) -> None:
    if message is None:
        with pytest.raises(UsageError, match="no selected notebook has a parameter"):
            _check(pairs)
        return
    with pytest.raises(UsageError) as raised:
        _check(pairs)
    assert message in str(raised.value)
    assert str(raised.value).count("\n") == 0


def test_the_runner_accepts_exclusions_outside_the_steps():
    _check([["funnel_exclusions", '[{"event": "page_view", "from_step": 1, "to_step": 4}]']])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            ["-p", "funnel_exclusions", '[{"event": "purchase", "from_step": 1, "to_step": 2}]'],
            "'purchase' is a step of the funnel",
        ),
        (
            ["-p", "funnel_exclusions", '[{"event": "search", "from_step": 2, "to_step": 1}]'],
            "expected a JSON list of",
        ),
        (["-p", "funnel_order", "loose"], "expected one of ordered, strict, any"),
    ],
)
def test_the_runner_stops_before_any_notebook_runs(raw: list[str], message: str, outputs) -> None:
    code, out, err = dry_run_real(raw)
    assert code == 2 and err.startswith("error: -p funnel_") and err.count("\n") == 1, err
    assert message in err and "in notebook 'conversion'" in err
    assert out == "" and not outputs.exists()


def test_the_scope_note_says_what_the_order_and_exclusions_reach():
    assert funnel.mode_scope_note() == ""
    assert funnel.mode_scope_note("ordered", []) == ""
    strict = funnel.mode_scope_note("strict")
    assert strict.startswith("Note: with the strict order, only the main funnel")
    assert "and the secondary paths" in strict
    excluded = funnel.mode_scope_note("ordered", [{"event": "x", "from_step": 1, "to_step": 2}])
    assert excluded.startswith("Note: with 1 exclusion(s), only the main funnel")
    assert "secondary paths" not in excluded
