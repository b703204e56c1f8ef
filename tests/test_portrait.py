"""The user portrait (lib/portrait.py): a tiny shop worked out by hand, and the bundled sample."""

from __future__ import annotations

import math

import ibis
import pandas as pd
import pytest

from lib import clv, data, plots, portrait, segments
from lib.definitions import UNKNOWN
from lib.periods import Period
from tests.conftest import events_table, orders_table

# Asia/Shanghai is UTC+8: 2025-02-28T16:30Z is 00:30 on 1 March there.
PERIOD = Period("2025-03-01", "2025-03-14", "Asia/Shanghai")
# two lifecycle windows (1–7 and 8–14 March); activity over the 14 days, highly active from 3
KNOBS = {
    "lifecycle_days": 7,
    "activity_window_days": 14,
    "highly_active_days": 3,
    "churn_days": 30,
}

# A: events and orders; B: orders only (one paid 23:30 and one 00:30 local, across midnight);
# C: events only, on the last local day; D: only after the end; E: a cancelled order only.
EVENTS = events_table(
    [
        # event_time (UTC), user, name, session, sku, channel, slot, platform
        ("2025-02-20T02:00:00", "A", "page_view", "s0", None, None, None, "web"),
        ("2025-03-02T01:00:00", "A", "view_item", "s1", "K1", None, None, "app_ios"),
        ("2025-03-02T01:05:00", "A", "view_item", "s1", "K1", None, None, "app_ios"),
        ("2025-03-09T03:00:00", "A", "view_item", "s2", "K2", None, None, "web"),
        ("2025-03-09T03:10:00", "A", "add_to_cart", "s2", "K2", None, None, "app_ios"),
        ("2025-03-10T05:00:00", "A", "page_view", None, None, None, None, None),
        ("2025-03-14T16:10:00", "A", "page_view", "s9", None, None, None, "web"),  # 15 March
        ("2025-03-13T20:00:00", "C", "view_item", "s3", "K1", None, None, "web"),  # 14 March
        ("2025-03-13T20:01:00", "C", "view_item", "s3", "K2", None, None, "mini_program"),
        ("2025-03-14T16:30:00", "D", "page_view", "s4", None, None, None, "web"),  # 15 March
    ]
)
ORDERS = orders_table(
    [
        ("o1", "A", "2025-03-09T03:15:00", "2025-03-09T03:20:00", "paid", 100.0),
        ("o2", "A", "2025-03-10T05:55:00", "2025-03-10T06:00:00", "refunded", 50.0),
        ("o3", "B", "2025-02-28T15:25:00", "2025-02-28T15:30:00", "paid", 30.0),  # 28 Feb
        ("o4", "B", "2025-02-28T16:25:00", "2025-02-28T16:30:00", "paid", 80.0),  # 1 March
        ("o5", "E", "2025-03-05T01:00:00", "2025-03-05T01:05:00", "cancelled", 70.0),
        ("o6", "C", "2025-03-05T01:00:00", None, "unpaid", 20.0),
    ]
)
ITEMS = ibis.memtable(
    pd.DataFrame(
        {
            "order_id": ["o1", "o1", "o2", "o3", "o4", "o5"],
            "sku_id": ["K2", "K1", "K2", "K1", "K9", "K1"],
            "quantity": [1, 2, 1, 1, 1, 5],
            "unit_price": [60.0, 20.0, 50.0, 30.0, 80.0, 14.0],
        }
    )
)
# K9 is missing from the catalogue: its lines are (unknown)
PRODUCTS = ibis.memtable(
    pd.DataFrame(
        {
            "sku_id": ["K1", "K2"],
            "category": ["toys", "books"],
            "unit_cost": [5.0, 10.0],
            "list_price": [25.0, 60.0],
        }
    )
)
USERS = ibis.memtable(
    pd.DataFrame(
        {
            "user_id": ["A", "B", "Z"],
            "signup_time": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03"]),
            "acquisition_channel": ["ads", None, "search"],
            "region": ["Beijing", "Shanghai", "Henan"],
        }
    )
)
# precomputed CLV rows (a user outside the portrait included): read, not refitted
CLV = pd.DataFrame(
    {
        "user_id": ["A", "B", "Z"],
        "frequency": [1, 1, 0],
        "recency": [0.1, 0.1, 0.0],
        "T": [1.0, 2.0, 3.0],
        "monetary_value": [50.0, 80.0, float("nan")],
        "p_alive": [0.8, 0.5, 1.0],
        "expected_purchases": [0.4, 0.1, 0.2],
        "expected_value": [12.5, 3.0, 9.0],
    }
)


def _day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def _rows(table: pd.DataFrame) -> dict[str, dict]:
    return table.set_index("user_id").to_dict(orient="index")


def test_every_column_by_hand():
    table = portrait.user_portrait(
        ORDERS, PERIOD, EVENTS, ITEMS, PRODUCTS, USERS, clv_table=CLV, **KNOBS
    )
    assert list(table.columns) == portrait.PORTRAIT_COLUMNS
    assert table["user_id"].tolist() == ["A", "B", "C"]  # not D (after the end), not E
    rows = _rows(table)
    a, b, c = rows["A"], rows["B"], rows["C"]
    # A: seen on 20 Feb; the event of 15 March local is after the end
    assert (a["first_seen"], a["last_seen"]) == (_day("2025-02-20"), _day("2025-03-10"))
    assert (a["acquisition_channel"], a["region"]) == ("ads", "Beijing")
    # app_ios 3 events, web 1, no platform 1 (the 20 Feb and 15 March ones are outside)
    assert a["main_platform"] == "app_ios"
    assert a["active_days"] == 3  # 2, 9 and 10 March
    assert a["sessions"] == 2  # s1, s2; the event without a session is not one
    assert (a["orders"], a["gmv"], a["aov"]) == (2, 150.0, 75.0)  # the refunded one counts
    # bought books 60 + 50 against toys 40 (toys were viewed more: purchases come first)
    assert a["favourite_category"] == "books"
    assert a["rfm_segment"] == "about_to_sleep"  # R 3 (4 days against 13), F 1, M 3: FM 2
    assert a["lifecycle"] == "returning"  # active in 8–14 March and in 1–7 March
    assert a["activity_segment"] == "highly_active"
    assert (a["p_alive"], a["expected_value"]) == (0.8, 12.5)
    # B: orders only; 30 paid at 23:30 on 28 Feb (before), 80 at 00:30 on 1 March (in)
    assert (b["first_seen"], b["last_seen"]) == (_day("2025-02-28"), _day("2025-03-01"))
    assert (b["acquisition_channel"], b["region"]) == (UNKNOWN, "Shanghai")
    assert b["main_platform"] is None
    assert (b["active_days"], b["sessions"]) == (0, 0)  # activity is events when there are events
    assert (b["orders"], b["gmv"], b["aov"]) == (1, 80.0, 80.0)
    assert b["favourite_category"] == UNKNOWN  # K9 is not in the catalogue
    assert b["rfm_segment"] == "hibernating"  # R 1, F 1, M 1
    assert b["lifecycle"] is None and b["activity_segment"] is None  # no event: never "seen"
    assert (b["p_alive"], b["expected_value"]) == (0.5, 3.0)
    # C: events only, two views on 14 March local (13 March UTC)
    assert (c["first_seen"], c["last_seen"]) == (_day("2025-03-14"), _day("2025-03-14"))
    assert (c["acquisition_channel"], c["region"]) == (UNKNOWN, UNKNOWN)  # not in users
    assert c["main_platform"] == "mini_program"  # one event each: alphabetical
    assert (c["active_days"], c["sessions"]) == (1, 1)
    assert (c["orders"], c["gmv"]) == (0, 0.0) and math.isnan(c["aov"])  # unpaid order: none
    assert c["favourite_category"] == "books"  # one view each of books and toys: alphabetical
    assert c["rfm_segment"] is None
    assert (c["lifecycle"], c["activity_segment"]) == ("new", "low_activity")
    assert math.isnan(c["p_alive"]) and math.isnan(c["expected_value"])


def test_orders_only_and_no_users_or_products():
    table = portrait.user_portrait(ORDERS, PERIOD, clv_table=CLV, **KNOBS)
    assert table["user_id"].tolist() == ["A", "B"]
    rows = _rows(table)
    a, b = rows["A"], rows["B"]
    assert (a["first_seen"], a["last_seen"]) == (_day("2025-03-09"), _day("2025-03-10"))
    assert {a["acquisition_channel"], a["region"], b["acquisition_channel"]} == {UNKNOWN}
    assert a["main_platform"] is None and pd.isna(a["sessions"])  # no events: not measured
    assert a["active_days"] == 2 and b["active_days"] == 1  # paid days, as lib.segments
    assert a["favourite_category"] is None  # no order_items given
    assert (a["lifecycle"], b["lifecycle"]) == ("new", "dormant")
    assert (a["activity_segment"], b["activity_segment"]) == ("low_activity", "low_activity")
    assert (a["orders"], a["gmv"], b["orders"], b["gmv"]) == (2, 150.0, 1, 80.0)
    # lines without a catalogue: a favourite, but of an unknown category
    with_lines = portrait.user_portrait(ORDERS, PERIOD, order_items=ITEMS, clv_table=CLV, **KNOBS)
    assert with_lines["favourite_category"].tolist() == [UNKNOWN, UNKNOWN]


def test_events_only_and_fitted_clv():
    table = portrait.user_portrait(None, PERIOD, EVENTS, products=PRODUCTS, **KNOBS)
    assert table["user_id"].tolist() == ["A", "C"]
    assert (table["orders"] == 0).all() and table["p_alive"].isna().all()
    assert table["favourite_category"].tolist() == ["toys", "books"]  # views only
    # fitted here: p_alive and expected_value are clv.lifetime_value's, null for non-buyers
    fitted = portrait.user_portrait(ORDERS, PERIOD, EVENTS, ITEMS, PRODUCTS, **KNOBS)
    expected, _ = clv.lifetime_value(ORDERS, PERIOD)
    values = expected.set_index("user_id")
    for column in ("p_alive", "expected_value"):
        got = fitted.set_index("user_id")[column]
        pd.testing.assert_series_equal(
            got.loc[["A", "B"]], values.loc[["A", "B"], column], check_names=False
        )
        assert math.isnan(got.loc["C"])


def test_segment_portraits_add_up():
    table = portrait.user_portrait(
        ORDERS, PERIOD, EVENTS, ITEMS, PRODUCTS, USERS, clv_table=CLV, **KNOBS
    )
    by_rfm = portrait.segment_portraits(table)
    assert list(by_rfm.columns) == portrait.SEGMENT_COLUMNS
    assert by_rfm["segment"].tolist() == ["about_to_sleep", "hibernating", portrait.NO_SEGMENT]
    assert by_rfm["gmv"].tolist() == [150.0, 80.0, 0.0]
    top = by_rfm.iloc[0]
    assert (top["users"], top["orders"], top["aov"], top["buyers_share"]) == (1, 2, 75.0, 1.0)
    assert top["gmv_share"] == pytest.approx(150 / 230)
    assert top["expected_value_share"] == pytest.approx(12.5 / 15.5)
    assert (top["top_channel"], top["top_category"], top["top_platform"]) == (
        "ads",
        "books",
        "app_ios",
    )
    none = by_rfm.iloc[2]
    assert math.isnan(none["expected_value"]) and none["top_platform"] == "mini_program"
    note = portrait.portrait_note(table, by_rfm)
    assert "3 users were active or bought in the period (2 bought)" in note
    assert "none is singled out" in note  # no segment of 30 users
    assert isinstance(plots.segment_portrait_chart(by_rfm, "segments"), plots.Figure)
    assert isinstance(plots.segment_portrait_chart(by_rfm.iloc[:0], "x"), plots.NoChart)


# --------------------------------------------------------------------------------------------
# The bundled sample: the per-user states add up to lib.segments' counts

SAMPLE_PERIOD = Period("2025-10-15", "2025-11-14", "Asia/Shanghai")


@pytest.fixture(scope="module")
def sample() -> tuple[data.Source, pd.DataFrame]:
    source = data.open_source(None)
    table = portrait.user_portrait(
        source["orders"],
        SAMPLE_PERIOD,
        source["events"],
        source["order_items"],
        source["products"],
        source.optional("users"),
    )
    return source, table


def test_sample_states_add_up_to_segments(sample):
    source, table = sample
    assert table["user_id"].is_unique and len(table) > 1000
    days, _ = segments.activity_user_days(SAMPLE_PERIOD, source["orders"], source["events"])
    last = segments.lifecycle(days, SAMPLE_PERIOD, 7).iloc[-1]
    states = portrait.lifecycle_states(days, SAMPLE_PERIOD, 7).to_pandas()
    for state in segments.LIFECYCLE_STATES:
        assert (states["lifecycle"] == state).sum() == last[state], state
        # the last two windows lie in the period: every user with a state is in the portrait
        assert (table["lifecycle"] == state).sum() == last[state], state
    activity = segments.activity_segments(days, SAMPLE_PERIOD)
    counts = table["activity_segment"].value_counts()
    for segment in ("highly_active", "low_activity"):  # 30 days ending on end: in the period
        assert counts.get(segment, 0) == (activity["segment"] == segment).sum(), segment
    # silent: active on the period's first day only (31 days, a 30-day window); none churned
    silent = activity[activity["segment"] == "silent"]
    in_period = silent["last_active_date"] >= pd.Timestamp(SAMPLE_PERIOD.start)
    assert counts.get("silent", 0) == in_period.sum() > 0
    assert counts.get("churned", 0) == 0
    assert table["activity_segment"].notna().all()  # every user of the sample has events
    rfm = segments.rfm_scores(source["orders"], SAMPLE_PERIOD)
    buyers = table[table["orders"] > 0]
    assert buyers["rfm_segment"].notna().all()
    assert set(table["rfm_segment"].dropna()) <= set(segments.RFM_SEGMENT_NAMES)
    assert table["rfm_segment"].notna().sum() == rfm["user_id"].isin(table["user_id"]).sum()


def test_sample_segment_portraits_add_up(sample):
    _, table = sample
    for by in ("rfm_segment", "lifecycle", "activity_segment"):
        segs = portrait.segment_portraits(table, by)
        assert segs["users"].sum() == len(table)
        assert segs["orders"].sum() == table["orders"].sum()
        assert segs["gmv"].sum() == pytest.approx(table["gmv"].sum(), abs=0.01)
        assert segs["share"].sum() == pytest.approx(1.0)
        assert segs["gmv"].is_monotonic_decreasing
    note = portrait.portrait_note(table, portrait.segment_portraits(table))
    assert "is worth the most" in note and "n = " in note


def test_members_only_drops_the_unsegmented_and_shares_among_members():
    table = pd.DataFrame(
        {
            "segment": ["loyal", "(none)", "at_risk"],
            "users": [2, 6, 2],
            "share": [0.2, 0.6, 0.2],
            "gmv": [30.0, 0.0, 10.0],
            "gmv_share": [0.75, 0.0, 0.25],
            "expected_value": [3.0, 0.0, 1.0],
            "expected_value_share": [0.75, 0.0, 0.25],
        }
    )
    kept = portrait.members_only(table)
    assert kept["segment"].tolist() == ["loyal", "at_risk"]
    assert kept["share"].tolist() == [0.5, 0.5]
    assert kept["gmv_share"].tolist() == [0.75, 0.25]
    assert kept["expected_value_share"].tolist() == [0.75, 0.25]
