"""Conversion (issue 15): worst items only beyond the noise, and the sentences notebook 02 prints,
on data and tables made by hand. Each sentence is checked on a table where the relationship it
states is one way and on one where it is the other.

Range 2025-03-10..2025-03-11 in Asia/Shanghai (UTC+8). Wilson intervals (z = 1.96):
center = (2np + z²) / (2(n + z²)), half-width = z / (2(n + z²)) · sqrt(4np(1 − p) + z²).
"""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from lib import funnel
from lib.periods import Period
from lib.stats import two_proportion_pvalue

from .conftest import events_table, orders_table

SHANGHAI = Period("2025-03-10", "2025-03-11", "Asia/Shanghai")

# (SKU, viewers, buyers): every viewer views at 02:00 UTC on 03-10, a buyer pays an hour later
SKUS = [("low", 300, 3), ("mid", 300, 15), ("high", 300, 30), ("tiny", 5, 0)]


def _shop() -> tuple[ibis.Table, ibis.Table, ibis.Table]:
    views, orders, lines = [], [], []
    for sku, viewers, buyers in SKUS:
        for i in range(viewers):
            user = f"{sku}{i}"
            views.append(("2025-03-10 02:00", user, "view_item", None, sku))
            if i < buyers:
                order = f"o_{user}"
                orders.append((order, user, "2025-03-10 03:00", "2025-03-10 03:00", "paid", 1.0))
                lines.append((order, sku, 1, 1.0))
    items = pd.DataFrame(lines, columns=["order_id", "sku_id", "quantity", "unit_price"])
    return events_table(views), orders_table(orders), ibis.memtable(items)


EVENTS, ORDERS, LINES = _shop()


def test_an_item_is_worst_only_when_its_interval_is_below_the_other_items():
    table = funnel.item_conversion(
        EVENTS, ORDERS, LINES, SHANGHAI, 7, min_viewers=200, worst_n=2, sort_by="sku_id"
    ).set_index("sku_id")
    # all items: 48 buyers of 905 viewers; each against the others pooled
    assert table["comparison_rate"].to_dict() == pytest.approx(
        {"high": 18 / 605, "low": 45 / 605, "mid": 33 / 605, "tiny": 48 / 900}
    )
    # low: 3 of 300, 0.3%–2.9%, below 7.4%; mid: 15 of 300, 3.1%–8.1%, contains 5.5%, so it is
    # not flagged although its rate is the second lowest of the large items (the old rule
    # flagged the two lowest); tiny converts least but has 5 viewers
    assert table["conversion_low"]["low"] == pytest.approx(0.00341, abs=1e-5)
    assert table["conversion_high"]["mid"] == pytest.approx(0.08085, abs=1e-5)
    assert table["below_comparison"].to_dict() == {
        "high": False,
        "low": True,
        "mid": False,
        "tiny": False,
    }
    assert table["worst"].to_dict() == {"high": False, "low": True, "mid": False, "tiny": False}
    assert table["label_basis"].to_dict() == {
        "high": "95% 7.1%–13.9% above the other SKUs' 3.0%",
        "low": "95% 0.3%–2.9% below the other SKUs' 7.4%",
        "mid": "95% 3.1%–8.1% includes the other SKUs' 5.5%",
        "tiny": "5 viewers, fewer than 200: not enough data",
    }
    assert funnel.worst_items_note(table.reset_index(), "sku", 200) == (
        "1 of the 3 SKUs with at least 200 viewers converts clearly below the other SKUs (the "
        "whole 95% interval under their rate), flagged."
    )


def test_worst_items_note_when_none_is_flagged_or_none_is_large():
    table = funnel.item_conversion(EVENTS, ORDERS, LINES, SHANGHAI, 7, min_viewers=400)
    assert funnel.worst_items_note(table, "sku", 400) == (
        "No SKU had 400 viewers or more: not enough data to flag any as a worst converter."
    )
    table = funnel.item_conversion(EVENTS, ORDERS, LINES, SHANGHAI, 7, min_viewers=200, worst_n=0)
    # low is below the others but worst_n = 0 flags none
    assert funnel.worst_items_note(table, "sku", 200).endswith("the 0 lowest flagged.")
    # two large items, neither clearly below the other
    table = pd.DataFrame(
        {
            "large_traffic": [True, True, False],
            "below_comparison": [False, False, True],
            "worst": [False, False, False],
        }
    )
    assert funnel.worst_items_note(table, "sku", 200) == (
        "None of the 2 SKUs with at least 200 viewers converts clearly below the other SKUs "
        "(each 95% interval reaches their rate): none is flagged."
    )


# --------------------------------------------------------------------------------------------
# The main path, segments and the daily band


def steps_table(users: list[int]) -> pd.DataFrame:
    return funnel._step_table(["view_item", "add_to_cart", "begin_checkout", "purchase"], users)


def test_main_path_note_names_the_weakest_step_and_the_largest_loss():
    # 1000 -> 500 (50%, 500 lost) -> 100 (20%, 400 lost) -> 90: the weakest rate is not the
    # largest loss
    assert funnel.main_path_note(steps_table([1000, 500, 100, 90])) == (
        "The weakest step is add_to_cart → begin_checkout: 20.0% of the 500 users at add_to_cart "
        "went on; the most users were lost at view_item → add_to_cart (500, 50.0% went on)."
    )
    # 1000 -> 100 (10%, 900 lost) -> 90 -> 80: the same step both ways
    assert funnel.main_path_note(steps_table([1000, 100, 90, 80])) == (
        "The weakest step is view_item → add_to_cart: 10.0% of the 1,000 users at view_item went "
        "on, and it lost the most users (900)."
    )
    assert funnel.main_path_note(steps_table([0, 0, 0, 0])).startswith("No entrants")


def segments(rows: list[tuple]) -> pd.DataFrame:
    """``segment_conversion`` of ``(channel, entrants, converters)``."""
    breakdown = pd.concat(
        [
            funnel._step_table(["view_item", "purchase"], [n, c]).assign(channel=name)
            for name, n, c in rows
        ]
    )
    return funnel.segment_conversion(breakdown, "channel")


def test_segments_note_follows_the_tests_either_way():
    # ads 50 of 1,000 and search 150 of 1,000 differ from the rest beyond the noise; sms 10 of
    # 100 (10%) sits at the others' 200 of 2,000 (p = 1)
    table = segments([("ads", 1000, 50), ("search", 1000, 150), ("sms", 100, 10)])
    assert funnel.segments_note(table, "channel") == (
        "Against all other entrants (p < 0.05), above the rest: search (15.0%); below: ads (5.0%); "
        "no clear difference: sms."
    )
    reversed_table = segments([("ads", 1000, 150), ("search", 1000, 50), ("sms", 100, 10)])
    assert "above the rest: ads (15.0%); below: search (5.0%)" in funnel.segments_note(
        reversed_table, "channel"
    )
    alike = segments([("ads", 100, 10), ("search", 100, 11)])
    assert funnel.segments_note(alike, "channel").startswith(
        "No channel converts differently from all other entrants beyond the noise"
    )


def test_segment_comparison_note_says_which_side_and_whether_beyond_the_noise():
    table = segments([("ads", 1000, 50), ("search", 1000, 150)])
    # the two largest, ads first on the tie; Newcombe from 5% (3.81%–6.53%) and 15%
    # (12.92%–17.35%): −10 − hypot(1.19, 2.35) = −12.6, −10 + hypot(1.53, 2.08) = −7.4
    assert funnel.segment_comparison_note(funnel.compare_segments(table, "channel")) == (
        "ads converts 10.0 points below search (5.0% of 1,000 against 15.0% of 1,000; 95% "
        "interval of the difference -12.6 to -7.4 points, p = 0.000): a difference beyond the "
        "noise."
    )
    close = segments([("ads", 100, 10), ("search", 90, 11)])
    note = funnel.segment_comparison_note(funnel.compare_segments(close, "channel"))
    assert note.startswith("ads converts 2.2 points below search")
    assert note.endswith("the data cannot tell them apart.")
    assert funnel.segment_comparison_note(funnel.compare_segments(table.head(1), "channel")) == (
        "Fewer than two segments: nothing to compare."
    )


def test_band_note_counts_days_above_and_below():
    days = pd.to_datetime(["2025-03-10", "2025-03-11", "2025-03-12", "2025-03-13"])
    daily = pd.DataFrame(
        {
            "date": days,
            "band_median": [None, 0.1, 0.1, 0.1],
            "outside_band": [False, True, False, True],
            "flag": ["", "below", "", "above"],
        }
    )
    assert funnel.band_note(daily) == (
        "2 of 4 days were flagged, beyond the noise against the days before them: 1 above "
        "(2025-03-13) and 1 below (2025-03-11); 1 had no baseline to test against."
    )
    inside = daily.assign(outside_band=False, flag="")
    assert funnel.band_note(inside) == (
        "None of the 3 days tested moved beyond its noise against the days before it; 1 had no "
        "baseline to test against."
    )
    assert funnel.band_note(daily.assign(band_median=None)) == (
        "No day had a baseline to test against: nothing is flagged."
    )


# --------------------------------------------------------------------------------------------
# Drop-off behaviour: the sentence a reader found contradicted by the chart


def behaviour(per_dropper: list[float], per_converter: list[float], share_d, share_c):
    """A :func:`funnel.dropoff_behaviour` table of 100 droppers and 200 converters."""
    names = ["add_to_cart", "page_view", "session_start", "view_item"]
    table = pd.DataFrame(
        {
            "event_name": names,
            "share_of_droppers": share_d,
            "share_of_converters": share_c,
            "events_per_dropper": per_dropper,
            "events_per_converter": per_converter,
            "droppers": 100,
            "converters": 200,
        }
    )
    table["droppers_with_event"] = (table["share_of_droppers"] * 100).round().astype(int)
    table["converters_with_event"] = (table["share_of_converters"] * 200).round().astype(int)
    table["p_value"] = [
        two_proportion_pvalue(d, 100, c, 200)
        for d, c in zip(table["droppers_with_event"], table["converters_with_event"], strict=True)
    ]
    table["significant"] = table["p_value"] < 0.05
    return table


STEPS = ["view_item", "add_to_cart", "purchase"]


def test_dropoff_note_says_converters_log_more_when_they_do():
    # the reader's shop: converters logged more on every row, and a larger share of them
    # had a session (80% of 200 against 50% of 100: p < 0.001)
    table = behaviour(
        [1.0, 2.0, 1.0, 2.0], [1.2, 5.0, 3.0, 4.0], [1, 0.9, 0.5, 1], [1, 0.92, 0.8, 1]
    )
    assert funnel.dropoff_behaviour_note(table, STEPS, "add_to_cart", 7) == (
        "Per user, droppers (100) logged more events than converters (200) on 0 of the 2 event "
        "types outside the funnel; converters logged more on 2 (page_view and session_start). "
        "Beyond the noise (p < 0.05), more converters than droppers had session_start (50% of "
        "droppers, 80% of converters). Droppers are followed for the whole 7-day window and "
        "converters only until they went on, so both measures lean towards droppers; a "
        "difference in the converters' favour holds in spite of that."
    )


def test_dropoff_note_says_droppers_log_more_when_they_do():
    table = behaviour(
        [1.0, 6.0, 2.0, 4.0], [1.2, 3.0, 1.0, 3.0], [1, 0.9, 0.8, 1], [1, 0.9, 0.5, 1]
    )
    note = funnel.dropoff_behaviour_note(table, STEPS, "add_to_cart", 7)
    assert note.startswith(
        "Per user, droppers (100) logged more events than converters (200) on 2 of the 2 event "
        "types outside the funnel (page_view and session_start); converters logged more on 0."
    )
    assert "more droppers than converters had session_start (80% of droppers" in note
    same = behaviour([1.0, 2.0, 1.0, 2.0], [1.0, 2.0, 1.0, 2.0], [1, 0.9, 0.5, 1], [1, 0.9, 0.5, 1])
    assert "No event's share of users differs between the groups beyond the noise." in (
        funnel.dropoff_behaviour_note(same, STEPS, "add_to_cart", 7)
    )
    nobody = table.assign(converters=0)
    assert funnel.dropoff_behaviour_note(nobody, STEPS, "add_to_cart", 7) == (
        "Every user who reached add_to_cart stopped: there is no other group to compare with."
    )


def test_behaviour_title_and_share_tests_on_events():
    events = events_table(
        [
            ("2025-03-10 01:00", "c", "view_item"),
            ("2025-03-10 02:00", "c", "add_to_cart"),
            ("2025-03-10 03:00", "c", "purchase"),
            ("2025-03-10 01:00", "d", "view_item"),
            ("2025-03-10 02:00", "d", "add_to_cart"),
            ("2025-03-10 05:00", "d", "page_view"),
        ]
    )
    table = funnel.dropoff_behaviour(events, SHANGHAI, STEPS, "add_to_cart", 1)
    rows = table.set_index("event_name")
    # everyone has add_to_cart: the test is undefined; page_view 1 of 1 against 0 of 1:
    # chi-square 2 on the 2 × 2 table, p = 0.157
    assert pd.isna(rows.loc["add_to_cart", "p_value"])
    assert rows.loc["page_view", "p_value"] == pytest.approx(0.1573, abs=1e-4)
    assert not rows["significant"].any()
    assert funnel.behaviour_title(table, "add_to_cart", 1) == (
        "Events per user after reaching add_to_cart: 1 droppers (followed 1 days) vs 1 converters "
        "(followed until they went on)"
    )


def test_segment_lines_name_their_entrants():
    table = pd.concat(
        [
            funnel._step_table(["view_item", "purchase"], [n, c]).assign(channel=name)
            for name, n, c in [("ads", 6223, 488), ("sms", 57, 6)]
        ]
    )
    labelled = funnel.with_entrants_in_labels(table, "channel")
    assert labelled["channel"].tolist() == ["ads (n = 6,223)"] * 2 + ["sms (n = 57)"] * 2
    assert table["channel"].tolist() == ["ads", "ads", "sms", "sms"]  # the table is kept
