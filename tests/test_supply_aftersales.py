"""After-sales: returns, refunds, their speed and what they do to carriers, ratings, repurchase
and costs (lib/supply/aftersales.py), on a hand-worked shop.

The shop: period 2025-03-10 (a Monday) … 03-17 in Asia/Shanghai (local midnight = 16:00 UTC the
day before; the end of the period, local 03-18 00:00, is 2025-03-17 16:00 UTC).

=====  ====  ==================  =========  =====================================================
order  user  paid (UTC)          local day  lines (sku × units @ price)
=====  ====  ==================  =========  =====================================================
o1     u1    03-10 02:00         03-10      A × 2 @ 30, C × 4 @ 10 (100)
o2     u2    03-10 03:00         03-10      B × 1 @ 50
o3     u3    03-11 03:00         03-11      A × 1 @ 80
o4     u4    03-12 03:00         03-12      C × 2 @ 20; status refunded, no returns row
o5     u5    03-09 15:30         03-09      before the period
o6     u1    04-20 02:00         04-20      A × 1 @ 20, after it (the data's last payment)
o7     u6    03-13 17:00         03-14      B × 1 @ 60
o8     u6    03-20 02:00         03-20      B × 1 @ 25, after it: u6 buys again
=====  ====  ==================  =========  =====================================================

Catalogue: A, B shoes (unit cost 10, 20), C books (5), D toys (4: no paid order, a null rate).

=====  =====  ========  ===  ===========  ===========  =============  ======  ===================
id     order  sku       qty  requested    refunded     reason         amount  what it tests
=====  =====  ========  ===  ===========  ===========  =============  ======  ===================
r1     o1     A         1    03-12 01:00  03-13 01:00  size           30      a partial return
r2     o2     (whole)        04-12 03:00  04-13 03:00  damaged        50      after the window
r3     o3     A         —    03-15 15:30  open         size                   open at the end
r4     o2     B         1    03-10 16:10  open         (null)                 local 03-11: backlog
r5     o7     (whole)        03-16 16:30  03-17 20:00  late delivery  60      local 03-17 00:30
r6     o1     C         2    03-11 02:00  03-11 14:00  damaged        20      12 h to refund
=====  =====  ========  ===  ===========  ===========  =============  ======  ===================
"""

from __future__ import annotations

import datetime as dt
import math

import ibis
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from lib import costs, plots, supply
from lib.periods import Period
from lib.supply import aftersales

from .conftest import memtable, orders_table

PERIOD = Period("2025-03-10", "2025-03-17", "Asia/Shanghai")

ORDERS = orders_table(
    [
        ("o1", "u1", "2025-03-10 01:00", "2025-03-10 02:00", "paid", 100.0),
        ("o2", "u2", "2025-03-10 02:00", "2025-03-10 03:00", "paid", 50.0),
        ("o3", "u3", "2025-03-11 02:00", "2025-03-11 03:00", "paid", 80.0),
        ("o4", "u4", "2025-03-12 02:00", "2025-03-12 03:00", "refunded", 40.0),
        ("o5", "u5", "2025-03-09 15:00", "2025-03-09 15:30", "paid", 30.0),
        ("o6", "u1", "2025-04-20 01:00", "2025-04-20 02:00", "paid", 20.0),
        ("o7", "u6", "2025-03-13 16:00", "2025-03-13 17:00", "paid", 60.0),
        ("o8", "u6", "2025-03-20 01:00", "2025-03-20 02:00", "paid", 25.0),
    ]
)

ITEMS = memtable(
    [
        {"order_id": order, "sku_id": sku, "quantity": units, "unit_price": price}
        for order, sku, units, price in [
            ("o1", "A", 2, 30.0),
            ("o1", "C", 4, 10.0),
            ("o2", "B", 1, 50.0),
            ("o3", "A", 1, 80.0),
            ("o4", "C", 2, 20.0),
            ("o5", "A", 1, 30.0),
            ("o6", "A", 1, 20.0),
            ("o7", "B", 1, 60.0),
            ("o8", "B", 1, 25.0),
        ]
    ],
    order_id="string",
    sku_id="string",
    quantity="int64",
    unit_price="float64",
)

PRODUCTS = memtable(
    [
        {"sku_id": "A", "category": "shoes", "unit_cost": 10.0, "list_price": 40.0},
        {"sku_id": "B", "category": "shoes", "unit_cost": 20.0, "list_price": 60.0},
        {"sku_id": "C", "category": "books", "unit_cost": 5.0, "list_price": 12.0},
        {"sku_id": "D", "category": "toys", "unit_cost": 4.0, "list_price": 10.0},
    ]
)

RETURN_TYPES = {
    "return_id": "string",
    "order_id": "string",
    "sku_id": "string",
    "quantity": "int64",
    "requested_time": "timestamp",
    "refunded_time": "timestamp",
    "reason": "string",
    "refund_amount": "float64",
}
RETURN_COLUMNS = list(RETURN_TYPES)


def returns_table(rows: list[tuple]) -> ibis.Table:
    return memtable([dict(zip(RETURN_COLUMNS, row, strict=True)) for row in rows], **RETURN_TYPES)


RETURNS = returns_table(
    [
        ("r1", "o1", "A", 1, "2025-03-12 01:00", "2025-03-13 01:00", "size", 30.0),
        ("r2", "o2", None, None, "2025-04-12 03:00", "2025-04-13 03:00", "damaged", 50.0),
        ("r3", "o3", "A", None, "2025-03-15 15:30", None, "size", None),
        ("r4", "o2", "B", 1, "2025-03-10 16:10", None, None, None),
        ("r5", "o7", None, None, "2025-03-16 16:30", "2025-03-17 20:00", "late delivery", 60.0),
        ("r6", "o1", "C", 2, "2025-03-11 02:00", "2025-03-11 14:00", "damaged", 20.0),
    ]
)

SHIPMENTS = memtable(
    [
        {
            "order_id": order,
            "carrier": carrier,
            "shipped_time": shipped,
            "delivered_time": delivered,
            "shipping_cost": 5.0,
        }
        for order, carrier, shipped, delivered in [
            ("o1", "SF", "2025-03-10 10:00", "2025-03-12 02:00"),  # 2 days from payment
            ("o2", "SF", "2025-03-10 12:00", "2025-03-14 03:00"),  # 4 days: 1 day late
            ("o3", "ZTO", "2025-03-11 12:00", "2025-03-17 03:00"),  # 6 days: 3 days late
            ("o4", "ZTO", "2025-03-12 12:00", None),  # not delivered
            ("o7", "SF", "2025-03-14 00:00", "2025-03-15 17:00"),  # 2 days
        ]
    ],
    order_id="string",
    carrier="string",
    shipped_time="timestamp",
    delivered_time="timestamp",
    shipping_cost="float64",
)

REVIEWS = memtable(
    [
        {"user_id": user, "sku_id": sku, "review_time": time, "rating": rating}
        for user, sku, time, rating in [
            ("u1", "A", "2025-03-14 00:00", 2),  # o1
            ("u1", "A", "2025-04-25 00:00", 5),  # o6 (paid 04-20, after the period): left out
            ("u1", "C", "2025-03-15 00:00", 1),  # o1
            ("u3", "A", "2025-03-16 00:00", 4),  # o3
            ("u4", "C", "2025-03-16 00:00", 5),  # o4
            ("u6", "B", "2025-03-15 00:00", 3),  # o7
            ("u2", "B", "2025-03-09 00:00", 1),  # before u2 paid for B: no order
        ]
    ],
    user_id="string",
    sku_id="string",
    review_time="timestamp",
    rating="int64",
)


# --------------------------------------------------------------------------------------------
# Return rates


def test_returns_summary_per_category_and_sku_by_hand():
    table = supply.returns_summary(ORDERS, ITEMS, PRODUCTS, PERIOD, RETURNS, 30)
    assert list(table.columns) == supply.SUMMARY_COLUMNS
    categories = table[table["sku_id"] == ""].set_index("category")
    assert categories.index.tolist() == ["shoes", "books", "toys"]  # by refund amount
    # shoes: o1, o2, o3, o7 all returned (r1, r4, r3, r5; r2 is outside the window)
    shoes = categories.loc["shoes"]
    assert (shoes["orders"], shoes["returned_orders"]) == (4, 4)
    assert shoes["returned_units"] == 4  # r1's 1 of 2, r3's line (1), r4's 1, r5's whole order
    assert shoes["refund_amount"] == pytest.approx(90.0)  # r1 30 + r5 60; r3, r4 open
    assert shoes["refund_share_of_gmv"] == pytest.approx(90 / (60 + 50 + 80 + 60))
    # books: o1 (r6, a partial return of its C line) of o1 and o4 (refunded, but no returns row)
    books = categories.loc["books"]
    assert (books["orders"], books["returned_orders"]) == (2, 1)
    assert books["return_rate"] == pytest.approx(0.5)
    assert books["returned_units"] == 2
    assert books["refund_share_of_gmv"] == pytest.approx(20 / (40 + 40))
    # toys: no paid order, a null rate and no crash
    toys = categories.loc["toys"]
    assert toys["orders"] == 0 and math.isnan(toys["return_rate"])
    assert math.isnan(toys["refund_share_of_gmv"])
    skus = table[table["sku_id"] != ""]
    assert skus["sku_id"].tolist() == ["B", "A", "C"]  # by refund amount
    assert skus["category"].tolist() == ["shoes", "shoes", "books"]
    a = skus.set_index("sku_id").loc["A"]
    assert (a["orders"], a["returned_orders"], a["returned_units"]) == (2, 2, 2)
    assert a["refund_share_of_gmv"] == pytest.approx(30 / (60 + 80))


def test_a_return_requested_after_the_window_does_not_count():
    # r2, o2's whole-order refund, was requested on the 33rd local day after its payment
    wide = supply.order_returns(ORDERS, PERIOD, RETURNS, 33).set_index("order_id")
    narrow = supply.order_returns(ORDERS, PERIOD, RETURNS, 30).set_index("order_id")
    assert bool(narrow.loc["o2", "returned"])  # by r4
    assert not bool(narrow.loc["o2", "refunded"])  # r4 is open, r2 outside the window
    assert bool(wide.loc["o2", "refunded"])  # r2 is day 33 of the window
    assert wide.loc["o2", "refund"] == pytest.approx(50.0)


def test_the_window_counts_local_days():
    orders = orders_table([("x", "u", "2025-03-10 14:00", "2025-03-10 15:00", "paid", 10.0)])
    # paid 23:00 local on 03-10; day 30 is local 04-09
    inside = returns_table(
        [("in", "x", None, None, "2025-04-09 15:30", None, None, None)]  # 23:30 local 04-09
    )
    outside = returns_table(
        [("out", "x", None, None, "2025-04-09 17:00", None, None, None)]  # 01:00 local 04-10
    )
    period = Period("2025-03-10", "2025-03-10", "Asia/Shanghai")
    assert supply.order_returns(orders, period, inside, 30)["returned"].tolist() == [True]
    # 30 UTC days after payment, but the 31st local day
    assert supply.order_returns(orders, period, outside, 30)["returned"].tolist() == [False]


def test_without_a_returns_table_refunded_orders_are_whole_order_returns():
    table = supply.returns_summary(ORDERS, ITEMS, PRODUCTS, PERIOD)
    assert table.equals(supply.returns_from_orders(ORDERS, ITEMS, PRODUCTS, PERIOD))
    categories = table[table["sku_id"] == ""].set_index("category")
    assert categories.index.tolist() == ["books", "shoes", "toys"]
    books = categories.loc["books"]  # o4, refunded without a returns row
    assert (books["orders"], books["returned_orders"], books["returned_units"]) == (2, 1, 2)
    assert books["refund_amount"] == pytest.approx(40.0)  # its paid amount
    assert categories.loc["shoes", "returned_orders"] == 0
    assert math.isnan(categories.loc["toys", "return_rate"])
    assert table.loc[table["sku_id"] != "", "sku_id"].tolist() == ["C"]
    overview = supply.returns_overview(ORDERS, PERIOD).iloc[0]
    assert overview["source"] == aftersales.REFUNDED_ORDERS
    assert (overview["orders"], overview["returned_orders"]) == (5, 1)
    assert "would add" in supply.WITHOUT_RETURNS_TABLE


def test_returns_overview_and_its_sentence():
    row = supply.returns_overview(ORDERS, PERIOD, RETURNS, 30).iloc[0]
    assert (row["orders"], row["returned_orders"], row["refunded_orders"]) == (5, 4, 2)
    assert row["refund_amount"] == pytest.approx(110.0)  # r1, r6, r5 (refunded after the end)
    assert row["gmv"] == pytest.approx(330.0)
    assert row["rate_low"] < 0.8 < row["rate_high"]
    assert row["full_window_orders"] == 5  # the data runs to 04-20
    note = supply.returns_note(supply.returns_overview(ORDERS, PERIOD, RETURNS, 30), 30)
    assert note.startswith("Returned within 30 days of payment: 80.0% of the 5 paid orders")
    assert "floor" not in note


# --------------------------------------------------------------------------------------------
# Reasons, refund speed, backlog


def test_reasons_pareto_by_count_and_by_amount():
    table = supply.return_reasons(RETURNS, PERIOD)
    assert list(table.columns) == supply.REASON_COLUMNS
    # r2 was requested after the period; r4 has no reason
    assert table["reason"].tolist() == ["size", "(unknown)", "damaged", "late delivery"]
    assert table["returns"].tolist() == [2, 1, 1, 1]
    assert table["cumulative_share"].tolist() == pytest.approx([0.4, 0.6, 0.8, 1.0])
    assert table["refund_amount"].tolist() == pytest.approx([30.0, 0.0, 20.0, 60.0])
    amounts = table.set_index("reason")
    # ranked by amount: late delivery 60, size 30, damaged 20, (unknown) 0
    assert amounts["cumulative_amount_share"].to_dict() == pytest.approx(
        {"late delivery": 60 / 110, "size": 90 / 110, "damaged": 1.0, "(unknown)": 1.0}
    )
    assert amounts.loc["size", "amount_share"] == pytest.approx(30 / 110)
    assert supply.reasons_note(table).startswith("3 of 4 reasons make 80% of the 5 requests")


def test_refund_speed_per_local_iso_week():
    table = supply.refund_speed(RETURNS, PERIOD)
    assert list(table.columns) == supply.SPEED_COLUMNS
    assert table["iso_week"].tolist() == ["2025-W11", "2025-W12", "all"]
    w11, w12, total = (row for _, row in table.iterrows())
    # r4 at 16:10 UTC on Monday 03-10 is local Tuesday: still W11; r1 24 h, r6 12 h
    assert (w11["requests"], w11["refunded"], w11["open_at_end"]) == (4, 2, 2)
    assert w11["hours_p50"] == pytest.approx(18.0)
    assert w11["hours_p90"] == pytest.approx(12 + 0.9 * 12)
    # r5: Sunday 03-16 16:30 UTC is Monday 00:30 local, W12; refunded after the end: open
    assert (w12["requests"], w12["refunded"], w12["open_at_end"]) == (1, 0, 1)
    assert math.isnan(w12["hours_p50"])
    assert w12["week"] == pd.Timestamp("2025-03-17")
    assert (total["requests"], total["refunded"], bool(total["is_total"])) == (5, 2, True)


def test_refund_backlog_at_the_end_of_the_range():
    table = supply.refund_backlog(RETURNS, PERIOD, 72)
    assert list(table.columns) == supply.BACKLOG_COLUMNS
    # r4: 03-10 16:10 to 03-17 16:00; r3 (48.5 h) and r5 (23.5 h) are open but within 72 h
    assert table["return_id"].tolist() == ["r4"]
    assert table["hours_waiting"].iloc[0] == pytest.approx(167 + 50 / 60)
    assert supply.refund_backlog(RETURNS, PERIOD, 24)["return_id"].tolist() == ["r4", "r3"]
    speed = supply.refund_speed(RETURNS, PERIOD)
    note = supply.refund_speed_note(speed, table, 72)
    assert note == (
        "2 of 5 requests of the period were refunded, in a median 18 h (90th percentile 23 h); "
        "3 were open at the end of the period, 1 of them for more than 72 h (the after-sales "
        "backlog)."
    )


# --------------------------------------------------------------------------------------------
# Carriers and delivery delay


def test_returns_by_carrier_and_delivery_band():
    table = supply.returns_by_carrier(ORDERS, SHIPMENTS, PERIOD, RETURNS, 30, 3)
    assert list(table.columns) == supply.CARRIER_COLUMNS
    rows = table.set_index(["breakdown", "group"])
    assert rows.loc[("carrier", "SF"), ["orders", "returned_orders"]].tolist() == [3, 3]
    assert rows.loc[("carrier", "ZTO"), ["orders", "returned_orders"]].tolist() == [2, 1]
    assert rows.loc[("carrier", "SF"), "rest_rate"] == pytest.approx(0.5)
    # 3 of 3 is no evidence against 1 of 2: the Wilson interval of 3/3 reaches down to 0.44
    assert rows.loc[("carrier", "SF"), "rate_low"] == pytest.approx(3 / (3 + 1.959964**2))
    assert rows.loc[("carrier", "SF"), "vs_rest"] == "within"
    bands = table[table["breakdown"] == "delivery"]
    assert bands["group"].tolist() == list(supply.delay_bands(3))
    assert bands["orders"].tolist() == [2, 1, 1, 1]  # o1, o7 | o2 | o3 | o4
    assert bands["returned_orders"].tolist() == [2, 1, 1, 0]
    note = supply.carrier_note(table)
    assert note.startswith("No carrier stands out: the highest, SF at 100.0% (n = 3)")


def test_carrier_note_names_a_carrier_only_when_its_interval_excludes_the_rest():
    rows = [
        ("carrier", "big", 1000, 200, 0.2, 0.176, 0.226, 0.05, "above"),
        ("carrier", "small", 1000, 50, 0.05, 0.038, 0.065, 0.2, "below"),
    ]
    table = pd.DataFrame(rows, columns=supply.CARRIER_COLUMNS)
    note = supply.carrier_note(table)
    assert note.startswith("The carrier big is returned most, 20.0% (17.6%–22.6%, n = 1,000)")
    assert "too few delivery bands to compare" in note


# --------------------------------------------------------------------------------------------
# Ratings


def test_reviews_match_the_authors_latest_order_of_the_sku_paid_before_them():
    matched = supply.matched_reviews(ORDERS, ITEMS, REVIEWS, PERIOD)
    by_order = matched.groupby("order_id")["rating"].apply(sorted).to_dict()
    # u1's review of A on 04-25 follows o6 (paid 04-20), outside the period; u2's came before
    # u2 paid for B
    assert by_order == {"o1": [1.0, 2.0], "o3": [4.0], "o4": [5.0], "o7": [3.0]}


def test_ratings_of_returned_and_late_orders():
    table = supply.returns_ratings(ORDERS, ITEMS, REVIEWS, PERIOD, RETURNS, SHIPMENTS, 30, 3)
    assert list(table.columns) == supply.RATING_COLUMNS
    rows = table.set_index(["comparison", "group"])
    returned = rows.loc[("returns", "returned")]
    assert (returned["orders"], returned["reviewed_orders"], returned["reviews"]) == (4, 3, 4)
    assert returned["mean_rating"] == pytest.approx((1.5 + 4 + 3) / 3)  # mean of order means
    assert [returned[f"share_{s}"] for s in range(1, 6)] == pytest.approx([0.25] * 4 + [0.0])
    assert returned["difference"] == pytest.approx((1.5 + 4 + 3) / 3 - 5)
    assert math.isnan(returned["p_value"])  # one reviewed order is not returned: no test
    slow = rows.loc[("delivery", "slow")]  # o2 (unreviewed) and o3
    assert (slow["orders"], slow["mean_rating"]) == (2, 4.0)
    assert rows.loc[("delivery", "on time"), "mean_rating"] == pytest.approx(2.25)
    assert "too few reviewed orders" in supply.ratings_note(table)


def test_the_rating_difference_is_welchs():
    ratings = pd.DataFrame(
        {"order_id": ["a", "a", "b", "c", "d", "e"], "rating": [1.0, 2.0, 2.0, 5.0, 4.0, 5.0]}
    )
    rows = aftersales._rating_rows(
        "returns",
        [("returned", pd.Series(["a", "b"])), ("not", pd.Series(["c", "d", "e"]))],
        ratings,
    )
    test = scipy_stats.ttest_ind([1.5, 2.0], [5.0, 4.0, 5.0], equal_var=False)
    interval = test.confidence_interval(0.95)
    assert rows[0]["difference"] == pytest.approx(1.75 - 14 / 3)
    assert rows[0]["difference_low"] == pytest.approx(interval.low)
    assert rows[0]["difference_high"] == pytest.approx(interval.high)
    assert rows[0]["p_value"] == pytest.approx(test.pvalue)
    assert math.isnan(rows[1]["p_value"])


# --------------------------------------------------------------------------------------------
# Repurchase after a refund


def test_repurchase_after_a_refund():
    table = supply.returns_repurchase(ORDERS, PERIOD, RETURNS, 30, days=30)
    assert list(table.columns) == supply.REPURCHASE_COLUMNS
    refunded, others = (row for _, row in table.iterrows())
    # refunded: u1 (r6 on 03-11) and u6 (r5 on 03-17 20:00, then o8 on 03-20); u2 and u3 only
    # asked (open requests): in neither group; not returned: u4 (o4 has no returns row)
    assert (refunded["buyers"], refunded["observed_buyers"], refunded["repurchased_buyers"]) == (
        2,
        2,
        1,
    )
    assert (others["buyers"], others["observed_buyers"], others["repurchased_buyers"]) == (1, 1, 0)
    assert math.isnan(refunded["change"])  # no repurchase among the others: undefined
    # 90 days after 03-11 is past the last payment (04-20): nobody can be judged yet
    later = supply.returns_repurchase(ORDERS, PERIOD, RETURNS, 30, days=90)
    assert later["observed_buyers"].tolist() == [0, 0]
    assert supply.repurchase_note(later).startswith("Too few buyers")


def test_repurchase_without_a_returns_table_starts_at_the_refunded_orders_payment():
    table = supply.returns_repurchase(ORDERS, PERIOD, days=30).set_index("group")
    assert table.loc["refunded", ["buyers", "repurchased_buyers"]].tolist() == [1, 0]  # u4
    # u1, u2, u3, u6 (o7 paid 03-13, o8 on 03-20)
    assert table.loc["not returned", ["observed_buyers", "repurchased_buyers"]].tolist() == [4, 1]


# --------------------------------------------------------------------------------------------
# Cost


COSTS = ibis.memtable(
    pd.DataFrame(
        [
            (dt.date(2025, 3, 1), "goods", "damage_loss", 31.0),
            (dt.date(2025, 3, 1), "goods", "returns_and_refunds", 3100.0),  # booked by hand
        ],
        columns=["month", "component", "item", "amount"],
    )
)


def test_returns_cost_is_refunds_less_the_goods_they_bring_back():
    table = supply.returns_cost(RETURNS, ITEMS, PRODUCTS, PERIOD)
    assert list(table.columns) == supply.COST_COLUMNS
    # r6 refunded local 03-11 (20, two C back at 5), r1 local 03-13 (30, one A at 10); r5 on
    # local 03-18, after the period
    assert table["date"].tolist() == [pd.Timestamp("2025-03-11"), pd.Timestamp("2025-03-13")]
    assert table["refunds"].tolist() == pytest.approx([20.0, 30.0])
    assert table["returned_goods_cost"].tolist() == pytest.approx([10.0, 10.0])
    assert table["amount"].tolist() == pytest.approx([10.0, 20.0])


def test_the_cost_item_is_not_counted_twice():
    def items(returns: ibis.Table | None) -> pd.Series:
        ledger = costs.cost_ledger(
            ORDERS, ITEMS, PRODUCTS, PERIOD, COSTS, commission_rate=None, returns=returns
        )
        return ledger.groupby(["item", "source"])["amount"].sum()

    without, with_returns = items(None), items(RETURNS)
    # without the returns table the costs table's row is the item (8 of March's 31 days)
    assert without[("returns_and_refunds", "costs")] == pytest.approx(800.0)
    # with it, the computed item replaces that row: never both
    assert ("returns_and_refunds", "costs") not in with_returns.index
    assert with_returns[("returns_and_refunds", "returns")] == pytest.approx(30.0)
    # the goods sold and the damaged goods are the same either way
    for item in (("cost_of_goods_sold", "orders"), ("damage_loss", "costs")):
        assert with_returns[item] == pytest.approx(without[item])
    assert costs.cost_behaviour(supply.RETURNS_ITEM) == costs.VARIABLE
    # a marketplace's refunds are its sellers': left out with their goods
    market = costs.cost_ledger(
        ORDERS,
        ITEMS,
        PRODUCTS,
        PERIOD,
        COSTS,
        commission_rate=0.05,
        business_model="marketplace",
        returns=RETURNS,
    )
    assert supply.RETURNS_ITEM not in set(market["item"])


# --------------------------------------------------------------------------------------------
# Charts


def test_after_sales_charts_have_titles_units_and_alt_text():
    reasons = supply.return_reasons(RETURNS, PERIOD)
    fig = plots.return_reasons_chart(reasons, "Return reasons")
    alt = plots.describe(fig)
    assert alt.startswith("Return reasons: return requests [count] against return reason")
    assert "cumulative share of refunds [%]" in alt
    # one week with refunds only (W12's only request is open): nothing to draw over time
    speed = supply.refund_speed(RETURNS, PERIOD)
    chart = plots.refund_speed_chart(speed, 72, "Refund speed")
    assert isinstance(chart, plots.NoChart) and "only one week" in chart
    carriers = supply.returns_by_carrier(ORDERS, SHIPMENTS, PERIOD, RETURNS, 30, 3)
    fig = plots.return_rate_chart(carriers, "delivery", "Return rate by delivery delay")
    assert plots.describe(fig) == (
        "Return rate by delivery delay: delivery (days from payment to door) against orders "
        "returned within the window [%]."
    )


def test_the_sample_late_deliveries_are_returned_more_and_refusals_are_no_backlog() -> None:
    """Known truth (data/sample/README.md): deliveries more than 2 days late are returned about
    twice as often as on-time ones, and refused requests (status rejected) are not open."""
    from lib import data

    sample = data.open_source()
    period = Period("2025-10-15", "2025-11-14", "Asia/Shanghai")
    by_carrier = supply.returns_by_carrier(
        sample["orders"], sample["shipments"], period, sample["returns"]
    )
    bands = by_carrier[by_carrier["breakdown"] == "delivery"].set_index("group")
    labels = aftersales.delay_bands()
    late, on_time = bands.loc[labels[2]], bands.loc[labels[0]]
    assert late["vs_rest"] == "above"
    assert late["rate_low"] > on_time["rate_high"]  # beyond the noise, not by chance
    assert "more than 2 days late" in aftersales.carrier_note(by_carrier)
    backlog = supply.refund_backlog(sample["returns"], period)
    statuses = sample["returns"].select("return_id", "status").to_pandas()
    kept = statuses[statuses["return_id"].isin(backlog["return_id"])]
    # open at the end of the period: still open, or refunded after it; never a refusal
    assert len(kept) > 0 and not (kept["status"] == "rejected").any()
