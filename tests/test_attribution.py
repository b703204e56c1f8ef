"""Multi-touch attribution (lib/attribution.py), worked out by hand on tiny journeys.

Every example uses the week 2025-03-10..16 in UTC (so local days are UTC days) unless it says
otherwise, and the default window of 30 days and half-life of 7 days unless it says otherwise.
Events are ``(time, user, session, channel)``; orders ``(order, user, paid_time, status,
paid_amount)``.
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pytest

from lib import attribution as attr
from lib.periods import Period

from .conftest import events_table, shop_orders

PERIOD = Period("2025-03-10", "2025-03-16", "UTC")
MODELS = list(attr.MODELS)


def events(rows: list[tuple]) -> ibis.Table:
    """Events from ``(time, user, session, channel)``, all ``page_view``."""
    return events_table([(t, u, "page_view", s, None, c) for t, u, s, c in rows])


def orders(rows: list[tuple]) -> ibis.Table:
    """Orders from ``(order, user, paid_time, status, paid_amount)``."""
    return shop_orders([(o, u, t, status, amount, 0.0, None) for o, u, t, status, amount in rows])


def spend_table(rows: list[tuple]) -> ibis.Table:
    frame = pd.DataFrame(
        rows, columns=["date", "channel", "billing_model", "impressions", "clicks", "spend"]
    )
    return ibis.memtable(frame)


def by_model(table: pd.DataFrame, column: str = "orders") -> dict[str, dict[str, float]]:
    """``{model: {channel: value}}`` of the channels with a non-zero value."""
    out: dict[str, dict[str, float]] = {}
    for row in table.itertuples(index=False):
        value = getattr(row, column)
        if value:
            out.setdefault(row.model, {})[row.channel] = value
    return out


def assert_close(actual: dict[str, dict[str, float]], expected: dict[str, dict[str, float]]):
    assert actual.keys() == expected.keys()
    for model, channels in expected.items():
        assert actual[model].keys() == channels.keys(), model
        for channel, value in channels.items():
            assert actual[model][channel] == pytest.approx(value, abs=1e-9), (model, channel)


def assert_shares_sum_to_one(table: pd.DataFrame, paid: int) -> None:
    sums = table.groupby("model")[["orders", "share"]].sum()
    assert sorted(sums.index) == sorted(MODELS)
    np.testing.assert_allclose(sums["share"], 1.0, atol=1e-12)
    np.testing.assert_allclose(sums["orders"], paid, atol=1e-9)


# --------------------------------------------------------------------------------------------
# One touch, two touches at the same second


def test_a_single_touch_gets_the_whole_order_in_every_model():
    # u1 came once through ads, 2 h before paying 50: every model, Markov too (the only path
    # start → ads → conversion; without ads nothing converts: removal effect 1, share 1)
    table = attr.attribution(
        events([("2025-03-10 08:00", "u1", "s1", "ads")]),
        orders([("o1", "u1", "2025-03-10 10:00", "paid", 50.0)]),
        PERIOD,
    )
    assert list(table.columns) == attr.COLUMNS
    assert table["model"].tolist() == MODELS
    assert set(table["channel"]) == {"ads"}
    assert table["orders"].tolist() == [1.0] * 6
    assert table["gmv"].tolist() == [50.0] * 6
    assert table["share"].tolist() == [1.0] * 6


TIED = [
    ("2025-03-10 08:00:00", "u1", "s2", "search"),
    ("2025-03-10 08:00:00", "u1", "s1", "ads"),
]


@pytest.mark.parametrize("rows", [TIED, TIED[::-1]])
def test_two_touches_at_the_same_second_are_ordered_by_channel_name(rows):
    # two sessions, each starting with a channel event at 08:00:00, paid 100 at 10:00: ads comes
    # before search (by name), whatever the order of the rows. Equal ages: time decay 1/2 each;
    # two touches: position-based 50/50; Markov start → ads → search → conversion: removing
    # either loses the one path, both effects 1, shares 1/2.
    table = attr.attribution(
        events(rows), orders([("o1", "u1", "2025-03-10 10:00", "paid", 100.0)]), PERIOD
    )
    half = {"ads": 0.5, "search": 0.5}
    assert_close(
        by_model(table),
        {
            "first_touch": {"ads": 1.0},
            "last_touch": {"search": 1.0},
            "linear": half,
            "time_decay": half,
            "position_based": half,
            "markov": half,
        },
    )
    assert_close(by_model(table, "gmv"), {"first_touch": {"ads": 100.0}} | {
        "last_touch": {"search": 100.0},
        **{m: {"ads": 50.0, "search": 50.0} for m in MODELS[2:]},
    })  # fmt: skip
    assert_shares_sum_to_one(table, 1)


# --------------------------------------------------------------------------------------------
# Three touches, the window's edges, sessions

# u1 pays 70 on 2025-03-15 12:00:00. Touches: social 14 days before (session s1), search 7 days
# before (session s2, whose later push event is not a touch), ads at the very second of payment
# (session s3, inside: the window ends at payment, inclusive). Not touches: email exactly 30
# days before (the window starts after it), sms one second after payment.
THREE = events(
    [
        ("2025-02-13 12:00:00", "u1", "s0", "email"),
        ("2025-03-01 12:00:00", "u1", "s1", "social"),
        ("2025-03-08 12:00:00", "u1", "s2", "search"),
        ("2025-03-08 12:05:00", "u1", "s2", "push"),
        ("2025-03-15 12:00:00", "u1", "s3", "ads"),
        ("2025-03-15 12:00:01", "u1", "s4", "sms"),
    ]
)
THREE_ORDERS = orders([("o1", "u1", "2025-03-15 12:00:00", "paid", 70.0)])


def test_three_touch_path_by_hand_in_every_model():
    table = attr.attribution(THREE, THREE_ORDERS, PERIOD)
    # ages 14, 7, 0 days at half-life 7: raw weights 1/4, 1/2, 1, sum 7/4 → 1/7, 2/7, 4/7
    # position-based: 0.4 first, 0.2 the middle one, 0.4 last
    # Markov: one path start → social → search → ads → conversion; each removal loses it: 1/3
    third = {"social": 1 / 3, "search": 1 / 3, "ads": 1 / 3}
    assert_close(
        by_model(table),
        {
            "first_touch": {"social": 1.0},
            "last_touch": {"ads": 1.0},
            "linear": third,
            "time_decay": {"social": 1 / 7, "search": 2 / 7, "ads": 4 / 7},
            "position_based": {"social": 0.4, "search": 0.2, "ads": 0.4},
            "markov": third,
        },
    )
    gmv = by_model(table, "gmv")
    assert gmv["time_decay"] == {"social": 10.0, "search": 20.0, "ads": 40.0}  # 70 × 1/7 …
    assert gmv["position_based"] == {"social": 28.0, "search": 14.0, "ads": 28.0}
    assert gmv["linear"] == {"social": 23.33, "search": 23.33, "ads": 23.33}  # cents
    # the excluded touches have no row at all; every channel has a row in every model
    assert sorted(set(table["channel"])) == ["ads", "search", "social"]
    assert len(table) == 3 * 6
    assert_shares_sum_to_one(table, 1)


def test_half_life_changes_only_time_decay():
    # half-life 14 days: raw weights 1/2, 1/√2, 1 for ages 14, 7, 0
    table = attr.attribution(THREE, THREE_ORDERS, PERIOD, half_life_days=14.0)
    raw = np.array([0.5, 2**-0.5, 1.0])
    decay = dict(zip(["social", "search", "ads"], raw / raw.sum(), strict=True))
    assert_close({"time_decay": by_model(table)["time_decay"]}, {"time_decay": decay})


def test_window_edges_with_a_two_day_window():
    # attribution_days=2, paid 2025-03-12 12:00:00: ads exactly 2 days before is out, search
    # one second later is in, social one second after payment is out: search is the only touch
    table = attr.attribution(
        events(
            [
                ("2025-03-10 12:00:00", "u1", "s1", "ads"),
                ("2025-03-10 12:00:01", "u1", "s2", "search"),
                ("2025-03-12 12:00:01", "u1", "s3", "social"),
            ]
        ),
        orders([("o1", "u1", "2025-03-12 12:00:00", "paid", 10.0)]),
        PERIOD,
        attribution_days=2,
    )
    assert set(table["channel"]) == {"search"}
    assert table["orders"].tolist() == [1.0] * 6


def test_events_without_a_session_are_touches_each_and_a_session_counts_once():
    # u1: two session-less events (search, then ads) and a session s1 of ads then social at
    # 09:00 and 09:30 (one touch: ads at 09:00). Paid at 10:00. Touches in order: search 07:00,
    # ads 08:00, ads 09:00 → linear search 1/3, ads 2/3; last touch ads; first search
    table = attr.attribution(
        events(
            [
                ("2025-03-10 07:00", "u1", None, "search"),
                ("2025-03-10 08:00", "u1", None, "ads"),
                ("2025-03-10 09:00", "u1", "s1", "ads"),
                ("2025-03-10 09:30", "u1", "s1", "social"),
                ("2025-03-10 09:45", "u1", "s1", None),  # no channel: never a touch
            ]
        ),
        orders([("o1", "u1", "2025-03-10 10:00", "paid", 30.0)]),
        PERIOD,
    )
    got = by_model(table)
    assert got["first_touch"] == {"search": 1.0}
    assert got["last_touch"] == {"ads": 1.0}
    assert got["linear"] == pytest.approx({"search": 1 / 3, "ads": 2 / 3})
    # position-based over search, ads, ads: 0.4 + (0.2 + 0.4) to ads
    assert got["position_based"] == pytest.approx({"search": 0.4, "ads": 0.6})
    assert "social" not in set(table["channel"])


def test_a_sessions_touch_is_its_least_second_then_channel_whatever_its_channels():
    # s1: social first, ads later: social, although ads is the least channel of the session;
    # s2: one channel twice: ads at its first second; s3: two channels in one second: the least
    # name (ads); u2's s1 is another user's session of the same id
    rows = [
        ("2025-03-10 09:00:00", "u1", "s1", "social"),
        ("2025-03-10 09:30:00", "u1", "s1", "ads"),
        ("2025-03-10 11:00:00", "u1", "s2", "ads"),
        ("2025-03-10 11:05:00", "u1", "s2", "ads"),
        ("2025-03-10 12:00:00", "u1", "s3", "search"),
        ("2025-03-10 12:00:00", "u1", "s3", "ads"),
        ("2025-03-10 13:00:00", "u2", "s1", "email"),
    ]
    found = attr.touches(events(rows), PERIOD, 30).to_pandas()
    found = found.sort_values(["user_id", "t"]).reset_index(drop=True)

    def second(text: str) -> int:
        return int(pd.Timestamp(text, tz="UTC").timestamp())

    assert found.values.tolist() == [
        ["u1", second("2025-03-10 09:00"), "social"],
        ["u1", second("2025-03-10 11:00"), "ads"],
        ["u1", second("2025-03-10 12:00"), "ads"],
        ["u2", second("2025-03-10 13:00"), "email"],
    ]
    # with one channel per session (no second reading of the sessions) the same touches
    single = [row for row in rows if row[2] != "s3" and row[3] != "ads" or row[2] == "s2"]
    alone = attr.touches(events(single), PERIOD, 30).to_pandas()
    assert sorted(zip(alone["user_id"], alone["channel"], strict=True)) == [
        ("u1", "ads"),
        ("u1", "social"),
        ("u2", "email"),
    ]


# --------------------------------------------------------------------------------------------
# Orders without touches, orders that do not count


def test_orders_without_touches_go_to_none_in_every_model():
    # o1 (u1, 40) has an ads touch; o2 (u2, 60) has none; o3 cancelled, o4 unpaid, o5 paid the
    # day before the period: not counted. 2 paid orders: ads 1 (share 1/2, gmv 40) and (none) 1
    # (share 1/2, gmv 60) in every model, the data-driven one included.
    table = attr.attribution(
        events([("2025-03-11 09:00", "u1", "s1", "ads"), ("2025-03-11 09:00", "u3", "s9", "ads")]),
        orders(
            [
                ("o1", "u1", "2025-03-11 10:00", "paid", 40.0),
                ("o2", "u2", "2025-03-11 10:00", "refunded", 60.0),
                ("o3", "u3", "2025-03-11 10:00", "cancelled", 80.0),
                ("o4", "u3", None, "unpaid", 80.0),
                ("o5", "u1", "2025-03-09 23:59:59", "paid", 90.0),
            ]
        ),
        PERIOD,
    )
    assert table["channel"].tolist() == ["ads", attr.NO_TOUCH] * 6  # (none) last
    assert table["orders"].tolist() == [1.0, 1.0] * 6
    assert table["gmv"].tolist() == [40.0, 60.0] * 6
    assert table["share"].tolist() == [0.5, 0.5] * 6
    assert_shares_sum_to_one(table, 2)


def test_a_period_without_paid_orders_gives_an_empty_table():
    table = attr.attribution(
        events([("2025-03-11 09:00", "u1", "s1", "ads")]),
        orders([("o1", "u1", None, "unpaid", 40.0)]),
        PERIOD,
    )
    assert table.empty
    assert list(table.columns) == attr.COLUMNS
    assert attr.attribution_note(table) == "No paid orders in the period: nothing to attribute."


# --------------------------------------------------------------------------------------------
# Markov removal effects

# Paths: o1 (u1, 30): A → B → conversion; u2, no order: A → null; o2 (u3, 60): B → conversion.
# Transitions: start→A 2, start→B 1, A→B 1, A→null 1, B→conversion 2. So P(start→A) = 2/3,
# P(start→B) = 1/3, A goes to B or null 1/2 each, B always converts:
#   P = 2/3 · 1/2 + 1/3 · 1 = 2/3.
#   Without A: only start → B converts: 1/3, removal effect 1 − (1/3)/(2/3) = 1/2.
#   Without B: nothing converts: removal effect 1.
# Shares 1/2 : 1 → A 1/3, B 2/3 of the 2 orders and of the GMV 90: A 2/3 order and 30, B 4/3
# and 60. (u4's only touch is before the period, so u4 is no path; u3's later visit, after the
# payment, is on no path either.)
MARKOV_EVENTS = events(
    [
        ("2025-03-10 08:00", "u1", "s1", "A"),
        ("2025-03-10 09:00", "u1", "s2", "B"),
        ("2025-03-11 08:00", "u2", "s3", "A"),
        ("2025-03-12 08:00", "u3", "s4", "B"),
        ("2025-03-13 08:00", "u3", "s5", "A"),
        ("2025-03-09 08:00", "u4", "s6", "B"),
    ]
)
MARKOV_ORDERS = orders(
    [
        ("o1", "u1", "2025-03-10 10:00", "paid", 30.0),
        ("o2", "u3", "2025-03-12 10:00", "paid", 60.0),
    ]
)


def test_a_buyers_two_orders_are_attributed_each_on_its_own():
    # u1: ads on 03-10 08:00, o1 paid 03-10 10:00 (path ads); search on 03-11 08:00, o2 paid
    # 03-11 10:00 (path ads, search: the ads touch counts for both orders).
    # Markov: start→ads 2, ads→conversion 1, ads→search 1, search→conversion 1. P = 1; without
    # ads nothing converts (effect 1); without search ads converts half the time (effect 1/2):
    # shares 2/3, 1/3 of the 2 orders.
    table = attr.attribution(
        events(
            [("2025-03-10 08:00", "u1", "s1", "ads"), ("2025-03-11 08:00", "u1", "s2", "search")]
        ),
        orders(
            [
                ("o1", "u1", "2025-03-10 10:00", "paid", 10.0),
                ("o2", "u1", "2025-03-11 10:00", "paid", 20.0),
            ]
        ),
        PERIOD,
    )
    assert_close(
        by_model(table),
        {
            "first_touch": {"ads": 2.0},
            "last_touch": {"ads": 1.0, "search": 1.0},
            "linear": {"ads": 1.5, "search": 0.5},
            # o2's touches are 26 h and 2 h old: 2^(-26/168), 2^(-2/168), normalised
            "time_decay": {
                "ads": 1 + 2 ** (-26 / 168) / (2 ** (-26 / 168) + 2 ** (-2 / 168)),
                "search": 2 ** (-2 / 168) / (2 ** (-26 / 168) + 2 ** (-2 / 168)),
            },
            "position_based": {"ads": 1.5, "search": 0.5},
            "markov": {"ads": 4 / 3, "search": 2 / 3},
        },
    )
    # Markov GMV: the same shares of the 30 paid
    assert by_model(table, "gmv")["markov"] == {"ads": 20.0, "search": 10.0}
    assert_shares_sum_to_one(table, 2)


def test_transition_counts_in_the_engine():
    buyers = attr.order_touches(MARKOV_EVENTS, MARKOV_ORDERS, PERIOD, 30)
    others = attr.non_buyer_paths(MARKOV_EVENTS, MARKOV_ORDERS, PERIOD, 30)
    counts = attr.transition_counts(buyers, others)
    got = {(r.from_state, r.to_state): r.transitions for r in counts.itertuples(index=False)}
    assert got == {
        (attr.START, "A"): 2,
        (attr.START, "B"): 1,
        ("A", "B"): 1,
        ("A", attr.NULL): 1,
        ("B", attr.CONVERSION): 2,
    }


def test_markov_removal_effects_end_to_end():
    table = attr.attribution(MARKOV_EVENTS, MARKOV_ORDERS, PERIOD)
    markov = table[table["model"] == "markov"].set_index("channel")
    assert markov["orders"].to_dict() == pytest.approx({"A": 2 / 3, "B": 4 / 3})
    assert markov["gmv"].to_dict() == {"A": 30.0, "B": 60.0}
    # last touch: both orders end on B
    assert by_model(table)["last_touch"] == {"B": 1.0 * 2}
    assert_shares_sum_to_one(table, 2)


def test_markov_removal_effects_with_a_loop():
    # Paths A → B → A → conversion, B → null, A → conversion:
    # start→A 2, start→B 1; A→B 1, A→conversion 2; B→A 1, B→null 1.
    # From A: B 1/3, conversion 2/3; from B: A 1/2, null 1/2.
    #   x_A = 2/3 + x_B/3, x_B = x_A/2 → x_A = 4/5, x_B = 2/5; P = 2/3·4/5 + 1/3·2/5 = 2/3.
    #   Without A: B only reaches null: P = 0, effect 1.
    #   Without B: x_A = 2/3, P = 2/3·2/3 = 4/9, effect 1 − (4/9)/(2/3) = 1/3.
    # Shares 1 : 1/3 → A 3/4, B 1/4.
    counts = pd.DataFrame(
        [
            (attr.START, "A", 2),
            (attr.START, "B", 1),
            ("A", "B", 1),
            ("A", attr.CONVERSION, 2),
            ("B", "A", 1),
            ("B", attr.NULL, 1),
        ],
        columns=["from_state", "to_state", "transitions"],
    )
    effects = attr.removal_effects(counts).set_index("channel")
    assert effects["removal_effect"].to_dict() == pytest.approx({"A": 1.0, "B": 1 / 3})
    assert effects["share"].to_dict() == pytest.approx({"A": 0.75, "B": 0.25})


def test_non_buyer_paths_need_a_touch_in_the_period():
    # u2: A on 03-11 (in the period), u4: B on 03-09 only (before it): only u2 has a path;
    # the buyers u1 and u3 have none, u3's visit after paying included.
    paths = attr.non_buyer_paths(MARKOV_EVENTS, MARKOV_ORDERS, PERIOD, 30).to_pandas()
    assert paths[["user_id", "channel", "k", "n"]].values.tolist() == [["u2", "A", 0, 1]]


# --------------------------------------------------------------------------------------------
# Spend, the matrix and the note


def test_spend_cost_per_order_and_roas_per_model():
    # THREE (70 paid, touches social, search, ads). Spend in the period: ads 20 (CPC) + 15 (CPM)
    # = 35, social 7; ads' 100 on 03-01 is outside the period. Search has no spend.
    spend = spend_table(
        [
            (dt.date(2025, 3, 10), "ads", "CPC", 100, 10, 20.0),
            (dt.date(2025, 3, 16), "ads", "CPM", 1000, 5, 15.0),
            (dt.date(2025, 3, 1), "ads", "CPC", 100, 10, 100.0),
            (dt.date(2025, 3, 12), "social", "CPC", 10, 1, 7.0),
        ]
    )
    table = attr.attribution(THREE, THREE_ORDERS, PERIOD, marketing_spend=spend)
    assert list(table.columns) == attr.COLUMNS + attr.SPEND_COLUMNS
    rows = table.set_index(["model", "channel"])
    # last touch: ads 1 order, 70 → cost per order 35, ROAS 2
    assert rows.loc[("last_touch", "ads"), ["spend", "cost_per_order", "roas"]].tolist() == [
        35.0,
        35.0,
        2.0,
    ]
    # linear: ads 1/3 order, 23.33… → cost per order 105, ROAS (70/3)/35 = 2/3
    assert rows.at[("linear", "ads"), "cost_per_order"] == pytest.approx(105.0)
    assert rows.at[("linear", "ads"), "roas"] == pytest.approx(2 / 3, abs=1e-3)  # cents
    # social: first touch 1 order → 7 per order, ROAS 10; last touch 0 orders → no cost per
    # order, ROAS 0
    assert rows.at[("first_touch", "social"), "cost_per_order"] == 7.0
    assert rows.at[("first_touch", "social"), "roas"] == 10.0
    assert np.isnan(rows.at[("last_touch", "social"), "cost_per_order"])
    assert rows.at[("last_touch", "social"), "roas"] == 0.0
    # search has no spend: neither a cost per order nor a ROAS
    assert rows.at[("linear", "search"), "spend"] == 0.0
    assert np.isnan(rows.at[("linear", "search"), "roas"])
    assert np.isnan(rows.at[("linear", "search"), "cost_per_order"])


def test_a_channel_with_spend_and_no_touch_has_rows_of_zero_orders():
    spend = spend_table([(dt.date(2025, 3, 11), "tv", "CPT", 0, 0, 500.0)])
    table = attr.attribution(THREE, THREE_ORDERS, PERIOD, marketing_spend=spend)
    tv = table[table["channel"] == "tv"]
    assert tv["model"].tolist() == MODELS
    assert tv["orders"].tolist() == [0.0] * 6
    assert tv["roas"].tolist() == [0.0] * 6
    assert tv["cost_per_order"].isna().all()


def test_matrix_is_channels_by_models():
    table = attr.attribution(MARKOV_EVENTS, MARKOV_ORDERS, PERIOD)
    wide = attr.attribution_matrix(table)
    assert list(wide.columns) == MODELS
    assert list(wide.index) == ["A", "B"]
    # first touch: o1 starts on A, o2 on B; last touch: both end on B; Markov 1/3, 2/3
    assert wide.loc["A", ["first_touch", "last_touch"]].tolist() == [0.5, 0.0]
    assert wide.loc["B", "markov"] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="value='spend'"):
        attr.attribution_matrix(table, "spend")


def test_note_is_computed_from_the_table():
    # the Markov example: last touch gives B 100 %; Markov moves A from 0 % to 33.3 % (+33.3
    # points) and B from 100 % to 66.7 %. A's share runs from 0 % (last touch) to 50 % (first
    # touch), B's from 50 % to 100 %: equal spreads, the first by name (A) is named.
    table = attr.attribution(MARKOV_EVENTS, MARKOV_ORDERS, PERIOD)
    note = attr.attribution_note(table)
    assert note == (
        "Last touch credits B most (100.0% of orders). The data-driven (Markov) model gives A "
        "the most extra share (+33.3 points, 0.0% → 33.3%) and takes the most from B (-33.3 "
        "points, 100.0% → 66.7%). The choice of model moves A most: from 0.0% (last touch) to "
        "50.0% (first touch)."
    )


def test_note_names_orders_without_touches_and_the_largest_spender():
    # one touched order (ads, 40) and one without touches (60); ads spent 20: 20 per order in
    # every model, since its one order is all its own
    spend = spend_table([(dt.date(2025, 3, 11), "ads", "CPC", 10, 2, 20.0)])
    table = attr.attribution(
        events([("2025-03-11 09:00", "u1", "s1", "ads")]),
        orders(
            [
                ("o1", "u1", "2025-03-11 10:00", "paid", 40.0),
                ("o2", "u2", "2025-03-11 10:00", "paid", 60.0),
            ]
        ),
        PERIOD,
        marketing_spend=spend,
    )
    note = attr.attribution_note(table)
    assert note.startswith(
        "1 of 2 paid orders (50.0%) had no channel touch in the attribution window and stay "
        "with (none) in every model. Last touch credits ads most (50.0% of orders). The "
        "data-driven (Markov) model gives the same shares as last touch."
    )
    assert note.endswith(
        "For ads, the largest spender (20.00), the cost per order is 20.00 in every model "
        "that credits it an order."
    )


# --------------------------------------------------------------------------------------------
# Parameters and time zones


@pytest.mark.parametrize(
    ("name", "value"),
    [("attribution_days", 0), ("attribution_days", 1.5), ("half_life_days", 0.0)],
)
def test_bad_parameters_are_refused(name, value):
    with pytest.raises(ValueError, match=name):
        attr.attribution(THREE, THREE_ORDERS, PERIOD, **{name: value})


def test_orders_count_by_local_day_of_payment():
    # Shanghai is UTC+8: paid 2025-03-09 16:00 UTC is 03-10 00:00 local, inside the period;
    # 2025-03-09 15:59:59 UTC is 03-09 23:59:59 local, outside
    shanghai = Period("2025-03-10", "2025-03-16", "Asia/Shanghai")
    table = attr.attribution(
        events([("2025-03-09 10:00", "u1", "s1", "ads"), ("2025-03-09 10:00", "u2", "s2", "ads")]),
        orders(
            [
                ("o1", "u1", "2025-03-09 16:00:00", "paid", 10.0),
                ("o2", "u2", "2025-03-09 15:59:59", "paid", 10.0),
            ]
        ),
        shanghai,
    )
    assert table["orders"].tolist() == [1.0] * 6
    assert set(table["channel"]) == {"ads"}
