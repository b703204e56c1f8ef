"""Conversion drivers (issue 18, lib/drivers.py), on tiny logs and counts worked out by hand.

Range 2025-03-10..2025-03-11 in Asia/Shanghai (UTC+8): local 03-10 is UTC 03-09 16:00 to
03-10 16:00. All times below are UTC unless marked local. Funnel: view_item → purchase, window
1 day (86,400 s).
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import ibis
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from scipy import stats

from lib import drivers, plots
from lib.definitions import UNKNOWN
from lib.periods import Period

from .conftest import events_table

SHANGHAI = Period("2025-03-10", "2025-03-11", "Asia/Shanghai")
STEPS = ["view_item", "purchase"]
Z = 1.959964
# the tables live on a DuckDB connection of their own, as a source's do
CON = ibis.duckdb.connect()


def _bound(name: str, table: ibis.Table) -> ibis.Table:
    return CON.create_table(name, table, overwrite=True)


def _drivers(events, **kwargs) -> drivers.Drivers:
    kwargs.setdefault("min_support", 1)
    return drivers.conversion_drivers(events, SHANGHAI, STEPS, 1, **kwargs)


def _row(table: pd.DataFrame, name: str, value: str) -> pd.Series:
    rows = table[(table["name"] == name) & (table["value"] == value)]
    assert len(rows) == 1, f"{name}: {value} not in {table[['name', 'value']].values.tolist()}"
    return rows.iloc[0]


def _pairs(table: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(table["name"], table["value"], strict=True))


# u1, u2 convert; u3, u4 do not. Session, sku, channel, slot, platform follow the event name.
EVENTS = _bound(
    "events",
    events_table(
        [
            # u1: wishlist between view and purchase counts; a search after the purchase does not
            ("2025-03-10 01:00", "u1", "view_item", None, None, "ads"),
            ("2025-03-10 01:30", "u1", "add_to_wishlist"),
            ("2025-03-10 02:00", "u1", "purchase"),
            ("2025-03-10 03:00", "u1", "search"),
            # u2: the same, at other minutes
            ("2025-03-10 01:00", "u2", "view_item", None, None, "ads"),
            ("2025-03-10 01:10", "u2", "add_to_wishlist"),
            ("2025-03-10 01:20", "u2", "purchase"),
            # u3 never buys: search inside the window counts, a coupon 1 s before t1 + window
            # counts, a wishlist at exactly t1 + window and one after it do not
            ("2025-03-10 01:00", "u3", "view_item", None, None, "organic"),
            ("2025-03-10 01:30", "u3", "search"),
            ("2025-03-11 00:59:59", "u3", "claim_coupon"),
            ("2025-03-11 01:00:00", "u3", "add_to_wishlist"),
            ("2025-03-11 02:00", "u3", "add_to_wishlist"),
            # u4 never buys: a page view in t1's own second (half a second later) is not after t1
            ("2025-03-10 01:00", "u4", "view_item", None, None, "organic"),
            ("2025-03-10 01:00:00.5", "u4", "page_view"),
        ]
    ),
)


def test_the_table_has_the_contract_columns():
    found = _drivers(EVENTS)
    assert list(found.table.columns) == drivers.DRIVER_COLUMNS
    assert (found.entrants, found.converters, found.steps) == (4, 2, tuple(STEPS))


def test_an_event_done_only_by_converters_has_a_finite_smoothed_odds_ratio():
    row = _row(_drivers(EVENTS).table, "event", "add_to_wishlist")
    assert row["kind"] == "event"
    # a = 2 converters, b = 0 (u3's wishlists are at or after t1 + window), c = 0, d = 2
    assert (row["converters_with"], row["non_converters_with"]) == (2, 0)
    assert row["odds_ratio"] == 9.0  # (2+1)(2+1) / ((0+1)(0+1))
    spread = Z * math.sqrt(1 / 3 + 1 / 1 + 1 / 1 + 1 / 3)
    assert row["ci_low"] == pytest.approx(math.exp(math.log(9) - spread), rel=1e-12)
    assert row["ci_high"] == pytest.approx(math.exp(math.log(9) + spread), rel=1e-12)
    # every expected count is 1 < 5: Fisher, 2 × C(2,2)C(2,0)/C(4,2) = 1/3
    assert row["p_value"] == pytest.approx(1 / 3, rel=1e-12)
    assert row["direction"] == "success"


def test_events_after_the_last_step_or_the_window_do_not_count():
    table = _drivers(EVENTS).table
    # u1's search came after the purchase: only u3's counts
    search = _row(table, "event", "search")
    assert (search["converters_with"], search["non_converters_with"]) == (0, 1)
    assert search["odds_ratio"] == pytest.approx(1 * 2 / (2 * 3), rel=1e-12)
    assert search["direction"] == "failure"
    # a second before t1 + window counts; t1's own second does not (page_view is absent)
    coupon = _row(table, "event", "claim_coupon")
    assert (coupon["converters_with"], coupon["non_converters_with"]) == (0, 1)
    assert ("event", "page_view") not in _pairs(table)
    # the funnel's steps are never candidates
    assert not {("event", "view_item"), ("event", "purchase")} & _pairs(table)


def test_entry_channel_and_candidates_held_by_everyone():
    found = _drivers(EVENTS)
    ads = _row(found.table, "channel", "ads")
    organic = _row(found.table, "channel", "organic")
    assert ads["kind"] == "entry"
    assert (ads["converters_with"], ads["non_converters_with"]) == (2, 0)
    assert (organic["converters_with"], organic["non_converters_with"]) == (0, 2)
    assert organic["odds_ratio"] == pytest.approx(1 / 9, rel=1e-12)
    # platform is (unknown) and every entrant is new: held by all 4, no contrast
    assert found.held_by_all == 2
    assert ("platform", UNKNOWN) not in _pairs(found.table)
    assert not any(name == "visitor" for name, _ in _pairs(found.table))
    # session_id, sku_id and slot are no entry properties
    assert {name for name, _ in _pairs(found.table)} == {"event", "channel"}
    assert found.dropped == 0 and len(found.table) == 5


def test_min_support_drops_rare_candidates_before_the_q_values():
    found = _drivers(EVENTS, min_support=2)
    # search and claim_coupon are held by 1 entrant each
    assert found.dropped == 2
    assert _pairs(found.table) == {
        ("event", "add_to_wishlist"),
        ("channel", "ads"),
        ("channel", "organic"),
    }
    assert found.table["q_value"].tolist() == pytest.approx(
        stats.false_discovery_control(found.table["p_value"], method="bh").tolist()
    )
    # with 5 every candidate has too few entrants, those held by all included
    none = _drivers(EVENTS, min_support=5)
    assert none.table.empty and list(none.table.columns) == drivers.DRIVER_COLUMNS
    assert (none.dropped, none.held_by_all) == (7, 0)


def test_min_support_is_checked():
    with pytest.raises(ValueError, match="min_support=0"):
        _drivers(EVENTS, min_support=0)


# r1 and n1 convert, r2 and n2 do not.
VISITS = _bound(
    "visits",
    events_table(
        [
            # r1: a page view at local 03-09 23:59, the entry at local 03-10 00:30 (same UTC day)
            ("2025-03-09 15:59", "r1", "page_view"),
            ("2025-03-09 16:30", "r1", "view_item", None, "sku_a"),
            ("2025-03-09 17:00", "r1", "purchase"),
            # n1: a page view at local 03-10 00:05 (UTC 03-09), the entry at local 09:00 (UTC 03-10)
            ("2025-03-09 16:05", "n1", "page_view"),
            ("2025-03-10 01:00", "n1", "view_item", None, "sku_b"),
            ("2025-03-10 02:00", "n1", "purchase"),
            # r2: an event on local 03-10, the entry on local 03-11
            ("2025-03-10 05:00", "r2", "page_view"),
            ("2025-03-11 01:00", "r2", "view_item", None, "sku_a"),
            # n2: only the entry (its SKU is not in the catalogue), and a later day's visit
            ("2025-03-11 02:00", "n2", "view_item", None, "sku_x"),
            ("2025-03-12 03:00", "n2", "page_view"),
        ]
    ),
)
PRODUCTS = _bound(
    "products",
    ibis.memtable(
        pd.DataFrame({"sku_id": ["sku_a", "sku_b"], "category": ["shoes", "toys"]}),
        schema={"sku_id": "string", "category": "string"},
    ),
)
USERS = _bound(
    "users",
    ibis.memtable(
        pd.DataFrame(
            {
                "user_id": ["r1", "n1", "r2"],
                "signup_time": pd.to_datetime(["2025-01-01", "2025-03-01", "2025-02-01"]),
                "region": ["north", "south", "south"],
            }
        ),
        schema={"user_id": "string", "signup_time": "timestamp", "region": "string"},
    ),
)


def test_new_and_returning_by_local_day_across_midnight():
    table = _drivers(VISITS).table
    returning, new = _row(table, "visitor", "returning"), _row(table, "visitor", "new")
    assert (returning["converters_with"], returning["non_converters_with"]) == (1, 1)  # r1, r2
    assert (new["converters_with"], new["non_converters_with"]) == (1, 1)  # n1, n2
    assert returning["odds_ratio"] == 1.0 and returning["direction"] == "none"
    # events before the entry are no event candidates
    assert not any(name == "event" for name, _ in _pairs(table))


def test_category_and_users_columns_of_the_entry():
    found = _drivers(VISITS, products=PRODUCTS, users=USERS)
    expect = {
        ("category", "shoes"): (1, 1),  # r1, r2
        ("category", "toys"): (1, 0),  # n1
        ("category", UNKNOWN): (0, 1),  # n2's SKU is not in the catalogue
        ("region", "north"): (1, 0),
        ("region", "south"): (1, 1),
        ("region", UNKNOWN): (0, 1),  # n2 is not in the users table
    }
    for (name, value), pair in expect.items():
        row = _row(found.table, name, value)
        assert (row["kind"], row["converters_with"], row["non_converters_with"]) == ("entry", *pair)
    assert "signup_time" not in set(found.table["name"])
    assert drivers.entry_properties(VISITS, PRODUCTS, USERS) == [
        "channel",
        "platform",
        "category",
        "region",
    ]


# ------------------------------------------------------------------ statistics, on counts


def _counts(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["kind", "name", "value", "converters_with", "non_converters_with"]
    )


def test_q_values_are_a_hand_worked_benjamini_hochberg():
    # 200 entrants, 100 converters; every expected count ≥ 5 for A and C (χ²), not for B
    counts = _counts(
        [
            ("event", "event", "A", 60, 40),  # χ² = 200 (60·60 − 40·40)² / 100⁴ = 8
            ("event", "event", "B", 3, 0),  # expected 1.5: Fisher
            ("event", "event", "C", 55, 45),  # χ² = 2
        ]
    )
    table, dropped, held = drivers.driver_table(counts, 200, 100, 1)
    assert (dropped, held) == (0, 0)
    p = table.set_index("value")["p_value"]
    assert p["A"] == pytest.approx(math.erfc(2.0), rel=1e-9)  # P(χ²₁ > 8)
    assert p["C"] == pytest.approx(math.erfc(1.0), rel=1e-9)  # P(χ²₁ > 2)
    assert p["B"] == pytest.approx(2 * math.comb(100, 3) / math.comb(200, 3), rel=1e-9)
    # BH by hand: sorted A < C < B
    q_b = p["B"]
    q_c = min(q_b, p["C"] * 3 / 2)
    q_a = min(q_c, p["A"] * 3)
    assert table["value"].tolist() == ["A", "C", "B"]
    assert table["q_value"].tolist() == pytest.approx([q_a, q_c, q_b], rel=1e-12)


def test_fisher_below_an_expected_count_of_5_else_chi_square():
    # [[10, 0], [0, 10]]: every expected count exactly 5, so χ²
    table, _, _ = drivers.driver_table(_counts([("event", "event", "x", 10, 0)]), 20, 10, 1)
    chi2 = stats.chi2_contingency([[10, 0], [0, 10]], correction=False).pvalue
    assert table["p_value"].iloc[0] == pytest.approx(chi2, rel=1e-12)
    assert chi2 == pytest.approx(math.erfc(math.sqrt(10)), rel=1e-9)  # χ² = 20
    # [[9, 0], [1, 10]]: expected 9·10/20 = 4.5 < 5, so Fisher
    table, _, _ = drivers.driver_table(_counts([("event", "event", "x", 9, 0)]), 20, 10, 1)
    fisher = stats.fisher_exact([[9, 0], [1, 10]]).pvalue
    assert table["p_value"].iloc[0] == pytest.approx(fisher, rel=1e-12)
    assert fisher != pytest.approx(
        stats.chi2_contingency([[9, 0], [1, 10]], correction=False).pvalue, rel=1e-3
    )


def test_sorting_by_q_then_p_then_strength_then_names():
    # 200 entrants, 100 converters; all four rare ones get Fisher p = 1 and q = 1
    counts = _counts(
        [
            ("event", "event", "even", 1, 1),  # OR 1
            ("entry", "region", "b", 1, 0),  # OR 2·101/(1·100) = 2.02
            ("entry", "region", "a", 1, 0),  # the same: by name, then value
            ("entry", "channel", "z", 0, 1),  # OR 100/(2·101): as far below 1 as 2.02 above
            ("event", "event", "strong", 60, 40),
        ]
    )
    table, _, _ = drivers.driver_table(counts, 200, 100, 1)
    assert table["q_value"].iloc[1:].tolist() == pytest.approx([1.0] * 4)
    assert list(zip(table["kind"], table["name"], table["value"], strict=True)) == [
        ("event", "event", "strong"),
        ("entry", "channel", "z"),
        ("entry", "region", "a"),
        ("entry", "region", "b"),
        ("event", "event", "even"),
    ]
    assert table["direction"].tolist() == ["success", "failure", "success", "success", "none"]


def _strong() -> drivers.Drivers:
    counts = _counts(
        [
            ("event", "event", "add_to_wishlist", 60, 40),
            ("entry", "channel", "ads", 70, 30),
            ("entry", "channel", "social", 35, 65),
            ("entry", "platform", "ios", 52, 48),
            ("event", "event", "rare", 5, 3),
        ]
    )
    table, dropped, held = drivers.driver_table(counts, 200, 100, 30)
    return drivers.Drivers(table, 200, 100, dropped, held, 30, tuple(STEPS))


def test_top_drivers_each_way_below_the_fdr():
    found = _strong()
    assert found.dropped == 1  # rare: 8 entrants < 30
    top = drivers.top_drivers(found.table)
    assert top["value"].tolist() == ["ads", "add_to_wishlist", "social"]
    assert drivers.top_drivers(found.table, n=1)["value"].tolist() == ["ads", "social"]
    assert drivers.top_drivers(found.table, fdr=1e-9).empty


def test_the_note_gives_the_computed_numbers_and_says_association():
    found = _strong()
    ads = _row(found.table, "channel", "ads")
    social = _row(found.table, "channel", "social")
    note = drivers.drivers_note(found)
    assert note.startswith("Of the 200 entrants, 100 (50.0%) reached purchase.")
    assert "4 candidates (events" in note
    assert "1 candidate held by fewer than 30 entrants was left out" in note
    assert "2 go with converting and 1 with not converting at a false discovery rate of 5%" in note
    assert (
        f"towards converting: channel: ads (odds ratio {ads['odds_ratio']:.2f}, 95% interval "
        f"{ads['ci_low']:.2f}–{ads['ci_high']:.2f})" in note
    )
    assert f"towards not converting: channel: social (odds ratio {social['odds_ratio']:.2f}" in note
    assert "associations, not causes" in note


def test_the_note_names_no_driver_below_the_noise():
    found = _drivers(EVENTS)
    assert (found.table["q_value"] >= 0.05).all()
    note = drivers.drivers_note(found)
    assert "Of the 4 entrants, 2 (50.0%) reached purchase." in note
    assert "5 candidates (events" in note and "held by every entrant" in note
    assert "None passes the false discovery rate of 5%" in note
    assert "add_to_wishlist" not in note and "strongest" not in note
    assert "associations, not causes" in note


def test_no_entrants_and_no_contrast():
    nobody = _drivers(_bound("nobody", events_table([("2025-03-10 01:00", "u1", "page_view")])))
    assert (nobody.entrants, nobody.converters) == (0, 0) and nobody.table.empty
    assert drivers.drivers_note(nobody) == (
        "No entrants in the period: no driver of conversion to test."
    )
    nobuy = _drivers(_bound("nobuy", events_table([("2025-03-10 01:00", "u1", "view_item")])))
    assert "no contrast" in drivers.drivers_note(nobuy)


def test_the_forest_plot_and_its_empty_case():
    found = _strong()
    figure = plots.driver_odds_chart(found.table, "What goes with converting")
    ax = figure.axes[0]
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "channel: ads"
    plt.close(figure)
    empty = plots.driver_odds_chart(found.table.iloc[:0], "What goes with converting")
    assert isinstance(empty, plots.NoChart)
