"""Baskets and "bought together" (lib/baskets.py), worked out by hand on tiny orders.

The basket example (period 2025-03-10..11, Asia/Shanghai, ``basket_max_items=3``):

- kept baskets (N = 5): o1 {A, B} (A on two lines), o2 {A, B, C}, o3 {A}, o4 {C, D}, o5 {B};
- left out: o6 cancelled, o7 unpaid, o8 with 4 distinct SKUs (over the maximum, counted), o9
  paid at 23:59 local the day before the period, o10 paid without lines (no basket).

So n_A = 3, n_B = 3, n_C = 2, n_D = 1 and the pairs AB 2, AC 1, BC 1, CD 1. The catalogue has
A, B apparel, C books and no D, which goes to ``(unknown)``.
"""

from __future__ import annotations

import math

import ibis
import pandas as pd
import pytest

from lib import baskets, data, plots
from lib.definitions import UNKNOWN, paid_orders_in
from lib.periods import Period

from .conftest import items_table, shop_orders

PERIOD = Period("2025-03-10", "2025-03-11", "Asia/Shanghai")
SAMPLE_PERIOD = Period("2025-10-15", "2025-11-14", "Asia/Shanghai")


ORDERS = shop_orders(
    [
        ("o1", "u1", "2025-03-10 02:00", "paid", 30.0, 0.0, "ads"),
        ("o2", "u2", "2025-03-10 03:00", "paid", 30.0, 0.0, "ads"),
        ("o3", "u3", "2025-03-10 04:00", "refunded", 10.0, 0.0, "ads"),
        ("o4", "u4", "2025-03-11 15:59", "paid", 20.0, 0.0, "ads"),  # 23:59 local, inside
        ("o5", "u5", "2025-03-09 16:00", "paid", 10.0, 0.0, "ads"),  # 00:00 local, inside
        ("o6", "u6", "2025-03-10 05:00", "cancelled", 20.0, 0.0, "ads"),
        ("o7", "u7", None, "unpaid", 20.0, 0.0, "ads"),
        ("o8", "u8", "2025-03-10 06:00", "paid", 40.0, 0.0, "ads"),
        ("o9", "u9", "2025-03-09 15:59", "paid", 20.0, 0.0, "ads"),  # 23:59 local, before
        ("o10", "u10", "2025-03-10 07:00", "paid", 5.0, 0.0, "ads"),
    ]
)

ITEMS = items_table(
    [
        ("o1", "A", 1, 10.0),
        ("o1", "B", 1, 10.0),
        ("o1", "A", 1, 10.0),  # the same SKU on a second line: the basket holds A once
        ("o2", "A", 1, 10.0),
        ("o2", "B", 1, 10.0),
        ("o2", "C", 1, 10.0),
        ("o3", "A", 1, 10.0),
        ("o4", "C", 1, 10.0),
        ("o4", "D", 1, 10.0),
        ("o5", "B", 2, 5.0),
        ("o6", "A", 1, 10.0),
        ("o6", "D", 1, 10.0),
        ("o7", "A", 1, 10.0),
        ("o7", "D", 1, 10.0),
        ("o8", "A", 1, 10.0),
        ("o8", "B", 1, 10.0),
        ("o8", "C", 1, 10.0),
        ("o8", "D", 1, 10.0),
        ("o9", "A", 1, 10.0),
        ("o9", "D", 1, 10.0),
    ]
)

PRODUCTS = ibis.memtable(
    pd.DataFrame(
        [("A", "apparel", 5.0, 10.0), ("B", "apparel", 5.0, 10.0), ("C", "books", 5.0, 10.0)],
        columns=["sku_id", "category", "unit_cost", "list_price"],
    )
)


def sku_pairs(min_pair_orders: int = 1) -> pd.DataFrame:
    return baskets.basket_pairs(ORDERS, ITEMS, PERIOD, min_pair_orders, basket_max_items=3)


def test_summary_counts_baskets_and_orders_left_out():
    summary = baskets.basket_summary(ORDERS, ITEMS, PERIOD, basket_max_items=3)
    assert summary.to_dict("records") == [
        {
            "paid_orders": 7,  # o1-o5, o8, o10
            "orders_without_lines": 1,  # o10
            "orders_over_max_items": 1,  # o8: 4 distinct SKUs > 3
            "baskets": 5,
            "multi_item_baskets": 3,  # o1, o2, o4
            "basket_max_items": 3,
        }
    ]
    # with room for o8 it is a basket like the others
    wider = baskets.basket_summary(ORDERS, ITEMS, PERIOD, basket_max_items=4)
    assert wider.loc[0, ["orders_over_max_items", "baskets"]].tolist() == [0, 6]


# (sku_a, sku_b, orders_both, support, confidence, lift, leverage, conviction), sorted by lift,
# then orders_both, then the ids
BY_HAND = [
    ("C", "D", 1, 0.2, 1 / 2, 2.5, 0.2 - 0.4 * 0.2, (1 - 0.2) / (1 - 1 / 2)),
    ("D", "C", 1, 0.2, 1.0, 2.5, 0.2 - 0.2 * 0.4, math.inf),
    ("A", "B", 2, 0.4, 2 / 3, 10 / 9, 0.4 - 0.6 * 0.6, (1 - 0.6) / (1 - 2 / 3)),
    ("B", "A", 2, 0.4, 2 / 3, 10 / 9, 0.4 - 0.6 * 0.6, (1 - 0.6) / (1 - 2 / 3)),
    ("A", "C", 1, 0.2, 1 / 3, 5 / 6, 0.2 - 0.6 * 0.4, (1 - 0.4) / (1 - 1 / 3)),
    ("B", "C", 1, 0.2, 1 / 3, 5 / 6, 0.2 - 0.6 * 0.4, (1 - 0.4) / (1 - 1 / 3)),
    ("C", "A", 1, 0.2, 1 / 2, 5 / 6, 0.2 - 0.4 * 0.6, (1 - 0.6) / (1 - 1 / 2)),
    ("C", "B", 1, 0.2, 1 / 2, 5 / 6, 0.2 - 0.4 * 0.6, (1 - 0.6) / (1 - 1 / 2)),
]
COLUMNS = ["orders_both", "support", "confidence", "lift", "leverage", "conviction"]


def test_sku_pair_measures_by_hand():
    table = sku_pairs()
    assert list(table.columns) == ["sku_a", "sku_b", *COLUMNS, *baskets.EXTRA]
    expected = pd.DataFrame(BY_HAND, columns=["sku_a", "sku_b", *COLUMNS])
    pd.testing.assert_frame_equal(table[expected.columns], expected, check_dtype=False)
    assert table["orders_both"].dtype == "int64"
    assert math.isinf(table.loc[1, "conviction"])
    assert table[["orders_a", "orders_b"]].values.tolist() == [
        [2, 1], [1, 2], [3, 3], [3, 3], [3, 2], [3, 2], [2, 3], [2, 3]
    ]  # fmt: skip


def test_p_values_are_one_sided_hypergeometric_and_q_values_bh_over_all_pairs():
    table = sku_pairs().set_index(["sku_a", "sku_b"])
    # P(X >= n_AB) for X the baskets with both when n_B of N = 5 baskets are drawn at random
    assert table.loc[("A", "B"), "p_value"] == pytest.approx(0.6 + 0.1)  # C(3,2)C(2,1)/10 + 1/10
    assert table.loc[("C", "D"), "p_value"] == pytest.approx(2 / 5)
    assert table.loc[("A", "C"), "p_value"] == pytest.approx(1 - 1 / 10)
    # 4 SKUs: 6 pairs, the 2 never bought together (A-D, B-D) with p = 1; all q capped at 1
    assert (table["q_value"] == 1.0).all()


def test_q_value_of_a_strong_pair():
    # 10 baskets {X, Y} and 10 {Z}: p = 1 / C(20, 10); 3 SKUs make 3 pairs, 1 seen
    rows = [(f"p{i}", f"u{i}", "2025-03-10 02:00", "paid", 1.0, 0.0, "ads") for i in range(20)]
    lines = [(f"p{i}", sku, 1, 1.0) for i in range(10) for sku in ("X", "Y")]
    lines += [(f"p{i}", "Z", 1, 1.0) for i in range(10, 20)]
    table = baskets.basket_pairs(shop_orders(rows), items_table(lines), PERIOD, 1)
    assert table[["sku_a", "sku_b"]].values.tolist() == [["X", "Y"], ["Y", "X"]]
    p = 1 / math.comb(20, 10)
    assert table["p_value"].tolist() == pytest.approx([p, p], rel=1e-9)
    assert table["q_value"].tolist() == pytest.approx([3 * p, 3 * p], rel=1e-9)
    assert baskets.is_bought_together(table).all()
    assert not baskets.is_bought_together(sku_pairs()).any()


def test_min_pair_orders_keeps_pairs_with_enough_baskets():
    table = sku_pairs(min_pair_orders=2)
    assert table[["sku_a", "sku_b", "orders_both"]].values.tolist() == [
        ["A", "B", 2],
        ["B", "A", 2],
    ]
    # the q-values do not depend on what is shown
    assert table["q_value"].tolist() == sku_pairs().iloc[2:4]["q_value"].tolist()
    assert sku_pairs(min_pair_orders=3).empty
    with pytest.raises(ValueError, match="min_pair_orders"):
        sku_pairs(min_pair_orders=0)
    with pytest.raises(ValueError, match="basket_max_items"):
        baskets.basket_pairs(ORDERS, ITEMS, PERIOD, basket_max_items=1)


def test_category_pair_measures_by_hand():
    table = baskets.basket_category_pairs(ORDERS, ITEMS, PRODUCTS, PERIOD, 1, basket_max_items=3)
    # baskets' categories: {apparel}, {apparel, books}, {apparel}, {books, D unknown}, {apparel}
    expected = pd.DataFrame(
        [
            (UNKNOWN, "books", 1, 0.2, 1.0, 2.5, 0.2 - 0.2 * 0.4, math.inf),
            ("books", UNKNOWN, 1, 0.2, 1 / 2, 2.5, 0.2 - 0.4 * 0.2, (1 - 0.2) / (1 / 2)),
            ("apparel", "books", 1, 0.2, 1 / 4, 0.625, 0.2 - 0.8 * 0.4, (1 - 0.4) / (3 / 4)),
            ("books", "apparel", 1, 0.2, 1 / 2, 0.625, 0.2 - 0.4 * 0.8, (1 - 0.8) / (1 / 2)),
        ],
        columns=["category_a", "category_b", *COLUMNS],
    )
    pd.testing.assert_frame_equal(table[expected.columns], expected, check_dtype=False)


def test_bought_together_ranks_companions_of_the_top_skus():
    table = baskets.bought_together(
        ORDERS, ITEMS, PERIOD, PRODUCTS, top_skus=3, recommend_n=2, min_pair_orders=1,
        basket_max_items=3,
    )  # fmt: skip
    # top SKUs by baskets: A 3, B 3 (ties by id), C 2; companions by lift, orders, id
    assert table[["sku_id", "rank", "companion_sku_id", "orders_both"]].values.tolist() == [
        ["A", 1, "B", 2],
        ["A", 2, "C", 1],
        ["B", 1, "A", 2],
        ["B", 2, "C", 1],
        ["C", 1, "D", 1],
        ["C", 2, "A", 1],  # A and B tie on lift and orders: by id
    ]
    assert list(table.columns) == [
        *baskets.BOUGHT_TOGETHER_COLUMNS,
        "companion_category",
        "q_value",
    ]
    assert table["companion_category"].tolist() == [
        "apparel", "books", "apparel", "books", UNKNOWN, "apparel"
    ]  # fmt: skip
    assert table["lift"].tolist() == pytest.approx([10 / 9, 5 / 6, 10 / 9, 5 / 6, 2.5, 5 / 6])
    assert table["confidence"].tolist() == pytest.approx([2 / 3, 1 / 3, 2 / 3, 1 / 3, 1 / 2, 1 / 2])
    top = baskets.bought_together(
        ORDERS, ITEMS, PERIOD, top_skus=1, recommend_n=1, min_pair_orders=2, basket_max_items=3
    )
    assert top[["sku_id", "rank", "companion_sku_id"]].values.tolist() == [["A", 1, "B"]]
    assert "companion_category" not in top.columns
    note = baskets.bought_together_note(top, top_skus=1)
    assert "1 of the top 1 SKUs" in note and "recommend B" in note and "lift 1.11" in note


def test_notes_quote_the_tables():
    summary = baskets.basket_summary(ORDERS, ITEMS, PERIOD, basket_max_items=3)
    pairs = sku_pairs()
    note = baskets.basket_note(summary, pairs, min_pair_orders=1)
    assert "5 baskets" in note and "3 of them (60.0%)" in note
    assert "1 paid orders with more than 3 distinct SKUs are left out" in note
    assert "1 paid orders have no lines" in note
    assert "C + D: both in 1 baskets, lift 2.50 (q 1)" in note
    assert "0 of the 4 pairs" in note
    weak = baskets.basket_note(summary, sku_pairs().iloc[4:], min_pair_orders=1)
    assert "No pair of SKUs in 1+ baskets is bought together more often than chance" in weak
    assert "the highest lift, 0.83, is A + C (1 baskets)" in weak
    empty = baskets.basket_note(summary, sku_pairs(3), min_pair_orders=3)
    assert "No pair of SKUs was bought together in 3+ baskets." in empty
    assert "No first-time buyer" in baskets.cross_sell_note(
        pd.DataFrame(columns=baskets.CROSS_SELL_COLUMNS),
        pd.DataFrame(columns=baskets.CROSS_SELL_BUYER_COLUMNS),
    )


# --------------------------------------------------------------------------------------------
# Cross-sell across a local midnight (Asia/Shanghai = UTC+8)

CROSS_ORDERS = shop_orders(
    [
        # u1: first paid order at 00:01 local on 03-10 (apparel 100 > books 50): inside
        ("c1", "u1", "2025-03-09 16:01", "paid", 150.0, 0.0, "ads"),
        ("c2", "u1", "2025-03-11 15:59", "paid", 10.0, 0.0, "ads"),  # 03-11 23:59: day + 1
        ("c3", "u1", "2025-03-11 16:00", "paid", 10.0, 0.0, "ads"),  # 03-12 00:00: day + 2
        # u2: first paid at 23:59 local on 03-09, before the period: no first-time buyer
        ("c4", "u2", "2025-03-09 15:59", "paid", 10.0, 0.0, "ads"),
        ("c5", "u2", "2025-03-10 02:00", "paid", 10.0, 0.0, "ads"),
        # u3: books 30 on two lines, apparel 30 on one: books (more lines); a cancelled then
        # a paid apparel order next
        ("c6", "u3", "2025-03-10 10:00", "paid", 60.0, 0.0, "ads"),
        ("c7", "u3", "2025-03-10 11:00", "cancelled", 10.0, 0.0, "ads"),
        ("c8", "u3", "2025-03-11 10:00", "paid", 10.0, 0.0, "ads"),
        # u4: a SKU missing from the catalogue, nothing next
        ("c9", "u4", "2025-03-11 02:00", "paid", 10.0, 0.0, "ads"),
        # u5: a cancelled order before the period (it never counts), apparel, apparel again
        ("c10", "u5", "2025-03-01 02:00", "cancelled", 10.0, 0.0, "ads"),
        ("c11", "u5", "2025-03-10 03:00", "paid", 10.0, 0.0, "ads"),
        ("c12", "u5", "2025-03-11 03:00", "paid", 10.0, 0.0, "ads"),
    ]
)
CROSS_ITEMS = items_table(
    [
        ("c1", "A", 1, 100.0),
        ("c1", "C", 1, 50.0),
        ("c2", "C", 1, 10.0),
        ("c3", "D", 1, 10.0),
        ("c4", "A", 1, 10.0),
        ("c5", "A", 1, 10.0),
        ("c6", "C", 1, 15.0),
        ("c6", "C", 1, 15.0),
        ("c6", "B", 1, 30.0),
        ("c7", "C", 1, 10.0),
        ("c8", "A", 1, 10.0),
        ("c9", "D", 1, 10.0),
        ("c10", "C", 1, 10.0),
        ("c11", "B", 1, 10.0),
        ("c12", "A", 1, 10.0),
    ]
)


def cross(next_days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    args = (CROSS_ORDERS, CROSS_ITEMS, PRODUCTS, PERIOD, next_days)
    return baskets.cross_sell_matrix(*args), baskets.cross_sell_buyers(*args)


def test_cross_sell_matrix_across_local_midnight():
    matrix, buyers = cross(1)
    assert matrix.values.tolist() == [
        ["apparel", "apparel", 1, 0.5],  # u5
        ["apparel", "books", 1, 0.5],  # u1 (c2 at 23:59 local, day + 1)
        ["books", "apparel", 1, 1.0],  # u3 (the cancelled c7 left out)
    ]
    assert buyers.values.tolist() == [
        ["apparel", 2, 2, 2],
        [UNKNOWN, 1, 0, 1],
        ["books", 1, 1, 1],
    ]
    # two days: u1's c3 at 00:00 local on 03-12 comes in; the data ends on 03-12, so only the
    # buyers of 03-10 are observed for the whole window
    matrix, buyers = cross(2)
    assert matrix.values.tolist() == [
        ["apparel", UNKNOWN, 1, 0.5],
        ["apparel", "apparel", 1, 0.5],
        ["apparel", "books", 1, 0.5],
        ["books", "apparel", 1, 1.0],
    ]
    assert buyers.values.tolist() == [
        ["apparel", 2, 2, 2],
        [UNKNOWN, 1, 0, 0],
        ["books", 1, 1, 1],
    ]
    note = baskets.cross_sell_note(matrix, buyers, next_days=2)
    assert note.startswith("4 buyers made their first paid order in the period; 3 (75.0%)")
    assert "window of 1 of them" in note
    assert "Of the 2 first-time buyers of apparel, 1 (50.0%) bought (unknown) next" in note


def test_cross_sell_heatmap():
    matrix, _ = cross(2)
    figure = plots.cross_sell_heatmap(matrix, "What first-time buyers buy next")
    assert not isinstance(figure, plots.NoChart)
    ax = figure.axes[0]
    assert ax.get_title() == "What first-time buyers buy next"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["apparel (2)", "books (1)"]
    empty = plots.cross_sell_heatmap(matrix.iloc[0:0], "Next")
    assert isinstance(empty, plots.NoChart)


# --------------------------------------------------------------------------------------------
# The same measures as mlxtend's association_rules on the bundled sample


def _mlxtend_rules(lines: pd.DataFrame, key: str, n_orders: int) -> pd.DataFrame:
    from mlxtend.frequent_patterns import association_rules, fpgrowth

    onehot = pd.crosstab(lines["order_id"], lines[key]).gt(0)
    assert len(onehot) == n_orders
    frequent = fpgrowth(onehot, min_support=1 / len(onehot) / 2, use_colnames=True, max_len=2)
    rules = association_rules(frequent, len(onehot), metric="support", min_threshold=0.0)
    rules = rules[(rules["antecedents"].map(len) == 1) & (rules["consequents"].map(len) == 1)]
    return rules.assign(
        a=rules["antecedents"].map(lambda s: next(iter(s))),
        b=rules["consequents"].map(lambda s: next(iter(s))),
    ).set_index(["a", "b"])


def test_measures_match_mlxtend_on_the_sample():
    pytest.importorskip("mlxtend")
    source = data.open_source(None)
    orders, items, products = source["orders"], source["order_items"], source["products"]
    paid = paid_orders_in(orders, SAMPLE_PERIOD).select("order_id").to_pandas()
    lines = items.select("order_id", "sku_id").to_pandas().merge(paid, on="order_id")
    sizes = lines.groupby("order_id")["sku_id"].nunique()
    kept = sizes[sizes <= baskets.DEFAULT_BASKET_MAX_ITEMS].index
    lines = lines[lines["order_id"].isin(kept)]
    catalogue = products.select("sku_id", "category").to_pandas()
    lines = lines.merge(catalogue, on="sku_id", how="left").fillna({"category": UNKNOWN})
    summary = baskets.basket_summary(orders, items, SAMPLE_PERIOD)
    n = int(summary.loc[0, "baskets"])
    measures = ["support", "confidence", "lift", "leverage", "conviction"]
    for ours, key in (
        (baskets.basket_pairs(orders, items, SAMPLE_PERIOD, min_pair_orders=1), "sku_id"),
        (baskets.basket_category_pairs(orders, items, products, SAMPLE_PERIOD, 1), "category"),
    ):
        theirs = _mlxtend_rules(lines, key, n)
        assert len(ours) == len(theirs) > 0
        ours = ours.set_index(list(ours.columns[:2]))
        theirs = theirs.loc[ours.index, measures]
        pd.testing.assert_frame_equal(
            ours[measures], theirs, check_names=False, rtol=1e-9, check_index_type=False
        )
