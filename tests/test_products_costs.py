"""Products (lib/products.py) and costs (lib/costs.py) on a tiny shop worked out by hand.

The shop, in Asia/Shanghai (UTC+8), period 2025-03-10..2025-03-11 local:

=====  ====  ==========================  =========  ========  =======  ========================
order  user  paid (UTC → local)          status     channel   coupon   lines (qty × price)
=====  ====  ==========================  =========  ========  =======  ========================
o1     u1    03-10 02:00 → 03-10 10:00    paid       search    19       A1 2 × 90, B1 1 × 10
o2     u2    03-10 15:59 → 03-10 23:59    paid       ads       0        A2 1 × 50, D1 1 × 20
o3     u3    03-09 15:59 → 03-09 23:59    paid       search    0        A1 1 × 100   (before)
o4     u1    03-10 16:01 → 03-11 00:01    paid       ads       0        A1 1 × 100
o5     u3    03-09 16:01 → 03-10 00:01    refunded   search    0        B1 3 × 10
o6     u4    03-10 05:00                  cancelled  search    0        A1 5 × 90
o7     u4    (never)                      unpaid     search    0        A2 1 × 50
=====  ====  ==========================  =========  ========  =======  ========================

Catalogue: A1 apparel (cost 20, list 100), A2 apparel (30, 50), B1 books (5, 10),
C1 cameras (400, 1000, never sold), D1 drinks (no cost, no list price).
Paid in the period: o1, o2, o4, o5 (a refunded order counts as paid); GMV 171 + 70 + 100 + 30 =
371, line revenue 390 (before the coupon of 19).
"""

from __future__ import annotations

import datetime as dt
import math
import re

import ibis
import pandas as pd
import pytest

from lib import costs, funnel, gmv, products, stats
from lib.periods import Period

from .conftest import events_table, shop_orders

PERIOD = Period("2025-03-10", "2025-03-11", "Asia/Shanghai")


ORDERS = shop_orders(
    [
        ("o1", "u1", "2025-03-10 02:00", "paid", 171.0, 19.0, "search"),
        ("o2", "u2", "2025-03-10 15:59", "paid", 70.0, 0.0, "ads"),
        ("o3", "u3", "2025-03-09 15:59", "paid", 100.0, 0.0, "search"),
        ("o4", "u1", "2025-03-10 16:01", "paid", 100.0, None, "ads"),
        ("o5", "u3", "2025-03-09 16:01", "refunded", 30.0, 0.0, "search"),
        ("o6", "u4", "2025-03-10 05:00", "cancelled", 450.0, 0.0, "search"),
        ("o7", "u4", None, "unpaid", 50.0, 0.0, "search"),
    ]
)

ITEMS = ibis.memtable(
    pd.DataFrame(
        [
            ("o1", "A1", 2, 90.0),
            ("o1", "B1", 1, 10.0),
            ("o2", "A2", 1, 50.0),
            ("o2", "D1", 1, 20.0),
            ("o3", "A1", 1, 100.0),
            ("o4", "A1", 1, 100.0),
            ("o5", "B1", 3, 10.0),
            ("o6", "A1", 5, 90.0),
            ("o7", "A2", 1, 50.0),
        ],
        columns=["order_id", "sku_id", "quantity", "unit_price"],
    )
)

CATALOGUE = ibis.memtable(
    pd.DataFrame(
        [
            ("A1", "apparel", 20.0, 100.0),
            ("A2", "apparel", 30.0, 50.0),
            ("B1", "books", 5.0, 10.0),
            ("C1", "cameras", 400.0, 1000.0),
            ("D1", "drinks", None, None),
        ],
        columns=["sku_id", "category", "unit_cost", "list_price"],
    ),
    schema={
        "sku_id": "string",
        "category": "string",
        "unit_cost": "float64",
        "list_price": "float64",
    },
)

EVENTS = events_table(
    [
        # list impressions: A1 ×2, A2 ×1 (apparel 3), B1 ×1 (books 1), C1 ×3 (cameras 3)
        ("2025-03-10 01:00", "u1", "view_item_list", None, "A1"),
        ("2025-03-10 01:01", "u1", "view_item_list", None, "A1"),
        ("2025-03-10 01:02", "u2", "view_item_list", None, "A2"),
        ("2025-03-10 01:03", "u1", "view_item_list", None, "B1"),
        ("2025-03-10 01:04", "u5", "view_item_list", None, "C1"),
        ("2025-03-10 01:05", "u5", "view_item_list", None, "C1"),
        ("2025-03-11 01:05", "u5", "view_item_list", None, "C1"),
        # clicks: A1 (apparel), C1 (cameras)
        ("2025-03-10 01:06", "u1", "select_item", None, "A1"),
        ("2025-03-10 01:07", "u5", "select_item", None, "C1"),
        # viewers: apparel u1, u2; books u1, u3, u6; cameras nobody
        ("2025-03-10 01:10", "u1", "view_item", None, "A1"),
        ("2025-03-10 01:11", "u1", "view_item", None, "A1"),
        ("2025-03-10 01:12", "u2", "view_item", None, "A1"),
        ("2025-03-10 01:13", "u2", "view_item", None, "A2"),
        ("2025-03-10 01:14", "u1", "view_item", None, "B1"),
        ("2025-03-10 01:15", "u3", "view_item", None, "B1"),
        ("2025-03-11 15:59", "u6", "view_item", None, "B1"),  # 23:59 local 03-11: inside
        # outside the period: 23:59 local on 03-09 and 00:00 local on 03-12
        ("2025-03-09 15:59", "u7", "view_item", None, "A1"),
        ("2025-03-11 16:00", "u8", "view_item", None, "B1"),
        ("2025-03-10 01:20", "u9", "page_view"),
    ]
)


def category_table(events=EVENTS) -> pd.DataFrame:
    return products.item_performance(ORDERS, ITEMS, CATALOGUE, PERIOD, events, "category")


# --------------------------------------------------------------------------------------------
# Category and SKU performance


def test_category_performance_by_hand():
    table = category_table().set_index("category")
    assert list(table.index) == ["apparel", "books", "drinks", "cameras"]  # by revenue
    apparel, books = table.loc["apparel"], table.loc["books"]
    # apparel: A1 2 + A2 1 + A1 1 (o4) = 4 units; 180 + 50 + 100 revenue; 40 + 30 + 20 cost
    assert (apparel["units"], apparel["revenue"], apparel["cost"]) == (4, 330.0, 90.0)
    assert apparel["gross_margin"] == pytest.approx(240 / 330)
    assert apparel["buyers"] == 2  # u1, u2
    assert (apparel["impressions"], apparel["clicks"], apparel["viewers"]) == (3, 1, 2)
    assert apparel["ctr"] == pytest.approx(1 / 3)
    assert apparel["conversion_rate"] == 1.0
    assert apparel["revenue_share"] == pytest.approx(330 / 390)
    # books: the refunded o5 counts as paid (3 units); buyers u1, u3; viewers u1, u3, u6
    assert (books["units"], books["revenue"], books["cost"], books["buyers"]) == (4, 40.0, 20.0, 2)
    assert books["conversion_rate"] == pytest.approx(2 / 3)
    assert books["ctr"] == 0.0
    # drinks: a SKU without a unit cost adds 0 to cost
    assert (table.loc["drinks", "revenue"], table.loc["drinks", "cost"]) == (20.0, 0.0)
    assert table.loc["drinks", "gross_margin"] == 1.0


def test_category_with_zero_viewers_has_no_conversion_rate_and_no_quadrant():
    table = products.with_quadrants(category_table()).set_index("category")
    cameras = table.loc["cameras"]
    assert (cameras["impressions"], cameras["clicks"], cameras["viewers"]) == (3, 1, 0)
    assert cameras["units"] == 0 and cameras["revenue"] == 0.0
    assert math.isnan(cameras["conversion_rate"])
    assert math.isnan(cameras["gross_margin"])  # no revenue
    assert cameras["quadrant"] == products.NO_QUADRANT
    # apparel (2 viewers) and books (3) are below the 30 viewers a quadrant needs
    assert table.loc["apparel", "quadrant"] == table.loc["books", "quadrant"] == "not enough data"
    # placed from 1 viewer: medians 2 impressions and 5/6; apparel's 2 of 2 has the Wilson
    # interval 34%–100%, books' 2 of 3 21%–94%: both contain 5/6, so neither is placed
    placed = products.with_quadrants(category_table(), min_viewers=1).set_index("category")
    assert placed.loc["apparel", "quadrant"] == placed.loc["books", "quadrant"] == products.UNCLEAR
    assert placed.loc["apparel", "conversion_low"] == pytest.approx(0.3424, abs=1e-4)


def test_viewers_are_those_of_item_conversion():
    table = category_table().set_index("category")
    conversion = funnel.item_conversion(
        EVENTS, ORDERS, ITEMS, PERIOD, level="category", products=CATALOGUE
    ).set_index("category")
    for category in conversion.index:
        assert table.loc[category, "viewers"] == conversion.loc[category, "viewers"]


def test_paid_order_at_local_midnight_boundaries():
    # o3 at 23:59 local on 03-09 is out; o5 at 00:01 local on 03-10 is in, o2 at 23:59 local on
    # 03-10 belongs to 03-10 and o4 at 00:01 local on 03-11 to 03-11
    first = products.item_performance(
        ORDERS, ITEMS, CATALOGUE, Period("2025-03-10", "2025-03-10", "Asia/Shanghai")
    )
    second = products.item_performance(
        ORDERS, ITEMS, CATALOGUE, Period("2025-03-11", "2025-03-11", "Asia/Shanghai")
    )
    first, second = first.set_index("category"), second.set_index("category")
    assert first.loc["apparel", "revenue"] == 230.0  # o1 A1 180 + o2 A2 50
    assert first.loc["books", "units"] == 4  # o1 1 + o5 3
    assert second.loc["apparel", "revenue"] == 100.0  # o4
    assert second.loc["books", "units"] == 0
    ledger = costs.cost_ledger(ORDERS, ITEMS, CATALOGUE, PERIOD, commission_rate=None)
    cogs = ledger[ledger["item"] == costs.COGS_ITEM].set_index("date")["amount"]
    assert cogs.to_dict() == {pd.Timestamp("2025-03-10"): 90.0, pd.Timestamp("2025-03-11"): 20.0}


def test_without_events_exposure_is_zero_and_rates_null():
    table = category_table(events=None).set_index("category")
    assert table["impressions"].sum() == table["viewers"].sum() == 0
    assert table["conversion_rate"].isna().all() and table["ctr"].isna().all()
    assert table.loc["apparel", "revenue"] == 330.0


def test_sku_performance_lists_every_catalogue_sku():
    table = products.item_performance(ORDERS, ITEMS, CATALOGUE, PERIOD, EVENTS, "sku")
    assert table["sku_id"].tolist() == ["A1", "A2", "B1", "D1", "C1"]
    a1 = table.set_index("sku_id").loc["A1"]
    assert (a1["category"], a1["units"], a1["revenue"], a1["cost"]) == ("apparel", 3, 280.0, 60.0)
    assert (a1["impressions"], a1["clicks"], a1["viewers"], a1["buyers"]) == (2, 1, 2, 1)
    assert a1["conversion_rate"] == 0.5


# --------------------------------------------------------------------------------------------
# Quadrants and the category mix


def matrix(rows: list[tuple], viewers: int = 10_000) -> pd.DataFrame:
    """Items with ``viewers`` viewers each (none without a rate), so many that a rate 0.1 from
    a split is far outside the noise (Wilson half-width under 1 point)."""
    table = pd.DataFrame(rows, columns=["category", "impressions", "conversion_rate", "revenue"])
    table["viewers"] = [0 if pd.isna(rate) else viewers for rate in table["conversion_rate"]]
    table["buyers"] = (table["conversion_rate"].fillna(0) * table["viewers"]).round().astype(int)
    return table


def test_exposure_at_its_median_counts_as_high_and_conversion_at_it_is_unclear():
    table = matrix(
        [
            ("p", 30, 0.1, 100.0),
            ("q", 20, 0.3, 50.0),  # exposure exactly at its median 20: a count, high
            ("r", 10, 0.2, 30.0),  # conversion exactly at its median 0.2: within the noise
            ("s", 5, None, 20.0),  # no viewers: not in the medians
        ]
    )
    assert products.quadrant_splits(table) == (20.0, 0.2)
    quadrants = products.with_quadrants(table).set_index("category")["quadrant"]
    assert quadrants.to_dict() == {
        "p": "traffic driver",
        "q": "star",
        "r": products.UNCLEAR,
        "s": products.NO_QUADRANT,
    }


def test_quadrants_with_given_splits():
    table = matrix([("p", 30, 0.1, 1.0), ("q", 20, 0.2, 1.0), ("r", 10, 0.3, 1.0)])
    quadrants = products.with_quadrants(table, exposure_split=25, conversion_split=0.25)
    assert quadrants["quadrant"].tolist() == ["traffic driver", "question", "future star"]


def test_quadrant_mix_against_the_target():
    table = products.with_quadrants(
        matrix(
            [
                ("p", 30, 0.1, 100.0),
                ("q", 20, 0.2, 50.0),
                ("r", 10, 0.3, 30.0),
                ("s", 5, None, 20.0),
            ]
        ),
        exposure_split=20,
        conversion_split=0.15,
    )
    target = {"star": 0.5, "traffic driver": 0.3, "future star": 0.2}
    mix = products.quadrant_mix(table, target).set_index("quadrant")
    assert list(mix.index) == [*products.QUADRANTS, products.NO_QUADRANT]
    assert mix["items"].tolist() == [1, 1, 1, 0, 1]
    assert mix["revenue"].tolist() == [50.0, 100.0, 30.0, 0.0, 20.0]
    assert mix.loc["star", "revenue_share"] == 0.25
    assert mix.loc["traffic driver", "gap"] == pytest.approx(0.5 - 0.3)
    assert mix.loc["question", "target_share"] == 0.0  # not in the target: 0
    assert math.isnan(mix.loc[products.NO_QUADRANT, "target_share"])
    with pytest.raises(ValueError, match="unknown quadrant"):
        products.quadrant_mix(table, {"stars": 1.0})


@pytest.mark.parametrize(
    ("target", "refusal"),
    [
        ({"star": -0.1}, "target_mix['star']=-0.1 must be from 0 to 1"),
        ({"star": 0.5, "question": 1.5}, "target_mix['question']=1.5 must be from 0 to 1"),
        ({"future star": math.nan}, "target_mix['future star']=nan must be from 0 to 1"),
        ({"star": 1.0, "question": 0.0}, None),
    ],
)
def test_quadrant_mix_targets_are_shares(target, refusal):
    table = products.with_quadrants(matrix([("p", 30, 0.1, 100.0), ("q", 20, 0.2, 50.0)]))
    if refusal is None:
        mix = products.quadrant_mix(table, target).set_index("quadrant")
        assert mix["target_share"].tolist() == [1.0, 0.0, 0.0, 0.0]
    else:
        with pytest.raises(ValueError, match=re.escape(refusal)):
            products.quadrant_mix(table, target)


# --------------------------------------------------------------------------------------------
# Pareto / ABC and roles


def test_pareto_abc_shares():
    skus = pd.DataFrame(
        {
            "sku_id": ["s5", "s1", "s2", "s3", "s4"],
            "category": ["x"] * 5,
            "revenue": [0.0, 50.0, 30.0, 15.0, 5.0],
        }
    )
    pareto = products.sku_pareto(skus)
    assert pareto["sku_id"].tolist() == ["s1", "s2", "s3", "s4", "s5"]
    assert pareto["cumulative_share"].tolist() == pytest.approx([0.5, 0.8, 0.95, 1.0, 1.0])
    # A: the fewest SKUs making 80% (s1, s2); B: up to 95% (s3); C: the rest and unsold s5
    assert pareto["abc_class"].tolist() == ["A", "A", "B", "C", "C"]
    assert pareto["sku_share"].tolist() == [0.2, 0.4, 0.6, 0.8, 1.0]
    summary = products.abc_summary(pareto).set_index("abc_class")
    assert summary["skus"].tolist() == [2, 1, 2]
    assert summary.loc["A", "share_of_sold_skus"] == 0.5  # 2 of the 4 sold SKUs make 80%
    assert summary.loc["A", "share_of_skus"] == 0.4
    assert summary["revenue_share"].tolist() == pytest.approx([0.8, 0.15, 0.05])


def test_pareto_crossing_sku_belongs_to_a():
    skus = pd.DataFrame({"sku_id": ["a", "b", "c"], "category": "x", "revenue": [70.0, 20.0, 10.0]})
    # a alone is 70% < 80%: b, which crosses 80%, is also A
    assert products.sku_pareto(skus)["abc_class"].tolist() == ["A", "A", "B"]


def test_product_roles_by_rule():
    skus = pd.DataFrame(
        {
            "sku_id": ["s1", "s2", "s3", "s4", "s5"],
            "category": "x",
            "units": [1, 10, 5, 3, 0],
            "revenue": [1000.0, 100.0, 100.0, 90.0, 0.0],
            "cost": [900.0, 90.0, 40.0, 63.0, 0.0],
            "viewers": [200, 100, 20, 30, 500],
            "gross_margin": [0.1, 0.1, 0.6, 0.3, None],
            # enough buyers for a role (3, role_min_buyers); the image item s1 needs none
            "buyers": [1, 5, 3, 3, 0],
        }
    )
    rule = products.RoleRule(
        image_price_quantile=0.75,
        image_max_units_quantile=0.5,
        traffic_views_quantile=0.5,
        traffic_max_margin_quantile=0.5,
        profit_margin_quantile=0.75,
    )
    thresholds = products.role_thresholds(skus, rule)["value"].tolist()
    # over the sold s1..s4: prices 1000, 10, 20, 30 -> q75 = 30 + 0.25 × 970; units median 4;
    # viewers median (30 + 100) / 2; margins 0.1, 0.1, 0.3, 0.6 -> median 0.2, q75 0.375
    assert thresholds == pytest.approx([272.5, 4.0, 65.0, 0.2, 0.375])
    roles = products.product_roles(skus, rule).set_index("sku_id")["role"]
    # s1 is both an image and a traffic item: the image rule comes first; s5 was not sold
    assert roles.to_dict() == {
        "s1": "image item",
        "s2": "traffic item",
        "s3": "profit item",
        "s4": "regular item",
    }
    summary = products.role_summary(products.product_roles(skus, rule)).set_index("role")
    assert summary["skus"].tolist() == [1, 1, 1, 1, 0]  # the last: not enough data
    assert summary.loc["image item", "revenue_share"] == pytest.approx(1000 / 1290)
    assert summary.loc["profit item", "gross_margin"] == pytest.approx(0.6)
    with pytest.raises(ValueError, match="quantile"):
        products.RoleRule(profit_margin_quantile=1.5)


def test_pareto_without_revenue_has_null_shares():
    skus = pd.DataFrame({"sku_id": ["a", "b"], "category": "x", "revenue": [0.0, 0.0]})
    pareto = products.sku_pareto(skus)
    # a share of a total of 0 is null, never 0
    assert pareto["revenue_share"].isna().all()
    assert pareto["cumulative_share"].isna().all()
    assert pareto["abc_class"].tolist() == ["C", "C"]  # unsold
    assert pareto["sku_share"].tolist() == [0.5, 1.0]
    summary = products.abc_summary(pareto).set_index("abc_class")
    assert summary["revenue_share"].isna().all()
    assert summary["share_of_sold_skus"].isna().all()
    assert summary.loc["C", "share_of_skus"] == 1.0


def test_pareto_sku_share_counts_skus_missing_from_the_catalogue():
    orders = shop_orders([("x1", "u1", "2025-03-10 02:00", "paid", 10.0, 0.0, None)])
    items = ibis.memtable(
        pd.DataFrame(
            [("x1", "X9", 1, 10.0)], columns=["order_id", "sku_id", "quantity", "unit_price"]
        )
    )
    skus = products.item_performance(orders, items, CATALOGUE, PERIOD, level="sku")
    pareto = products.sku_pareto(skus)
    # X9 is sold but not in the catalogue of 5: it is ranked, so it counts among the 6 SKUs and
    # the last SKU's share is 1, like its cumulative revenue share
    assert pareto["sku_id"].tolist() == ["X9", "A1", "A2", "B1", "C1", "D1"]
    assert pareto["sku_share"].tolist() == pytest.approx([1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6, 1.0])
    assert pareto["cumulative_share"].tolist() == [1.0] * 6


def test_role_summary_counts_the_cost_of_free_items():
    orders = shop_orders([("g1", "u1", "2025-03-10 02:00", "paid", 500.0, 0.0, None)])
    items = ibis.memtable(
        pd.DataFrame(
            [("g1", "IMG", 1, 300.0), ("g1", "R1", 5, 20.0), ("g1", "R2", 5, 20.0)]
            + [("g1", "GIFT", 5, 0.0)],  # given away, but each costs 4
            columns=["order_id", "sku_id", "quantity", "unit_price"],
        )
    )
    catalogue = ibis.memtable(
        pd.DataFrame(
            [("IMG", "c", 100.0, 300.0), ("R1", "c", 10.0, 20.0), ("R2", "c", 10.0, 20.0)]
            + [("GIFT", "c", 4.0, 4.0)],
            columns=["sku_id", "category", "unit_cost", "list_price"],
        )
    )
    skus = products.item_performance(orders, items, catalogue, PERIOD, level="sku")
    roles = products.product_roles(skus, min_buyers=1)  # one order: one buyer each
    # prices 300, 20, 20, 0: q90 = 20 + 0.7 × 280 = 216, so IMG (1 unit ≤ median 5) is the image
    # item; margins 2/3, 1/2, 1/2 (GIFT none): q75 = 0.5 + 0.5 × 1/6 > 0.5, so no profit item
    assert roles.set_index("sku_id")["role"].to_dict() == {
        "IMG": "image item",
        "R1": "regular item",
        "R2": "regular item",
        "GIFT": "regular item",
    }
    assert roles.set_index("sku_id").loc["GIFT", "cost"] == 20.0
    summary = products.role_summary(roles).set_index("role")
    regular = summary.loc["regular item"]
    assert (regular["skus"], regular["units"], regular["revenue"]) == (3, 15, 200.0)
    # cost 5 × 10 + 5 × 10 + 5 × 4 = 120: margin (200 − 120) / 200
    assert regular["gross_margin"] == pytest.approx(0.4)
    assert summary.loc["image item", "gross_margin"] == pytest.approx(200 / 300)
    assert math.isnan(summary.loc["profit item", "gross_margin"])  # no SKU, no revenue


# --------------------------------------------------------------------------------------------
# Discounts


def test_discount_loss_by_category():
    table = products.discount_loss(ORDERS, ITEMS, CATALOGUE, PERIOD).set_index("category")
    assert list(table.index) == ["apparel", "books", "drinks"]  # by revenue lost
    apparel = table.loc["apparel"]
    # list 2 × 100 + 50 + 100 = 350 against revenue 330: markdown 20; o1's coupon of 19 split by
    # line value 180 : 10, so apparel takes 18 and books 1
    assert (apparel["list_value"], apparel["markdown"], apparel["coupon_discount"]) == (
        350.0,
        20.0,
        18.0,
    )
    assert (apparel["net_revenue"], apparel["revenue_lost"]) == (312.0, 38.0)
    assert apparel["discount_rate"] == pytest.approx(38 / 350)
    assert apparel["margin_at_list"] == pytest.approx((350 - 90) / 350)
    assert apparel["margin_after_discounts"] == pytest.approx((312 - 90) / 312)
    assert apparel["margin_lost"] == pytest.approx((350 - 90) / 350 - (312 - 90) / 312)
    books = table.loc["books"]
    assert (books["markdown"], books["coupon_discount"], books["revenue_lost"]) == (0.0, 1.0, 1.0)
    # no list price: the selling price stands in, so nothing is lost
    assert table.loc["drinks", "revenue_lost"] == 0.0


# --------------------------------------------------------------------------------------------
# Reviews

REVIEWS = ibis.memtable(
    pd.DataFrame(
        [
            ("A1", "u1", pd.Timestamp("2025-03-10 03:00"), 5),
            ("B1", "u3", pd.Timestamp("2025-03-10 05:00"), 1),
            ("B1", "u6", pd.Timestamp("2025-03-11 05:00"), 2),
            ("A2", "u2", pd.Timestamp("2025-03-11 10:00"), 4),
            ("A1", "u9", pd.Timestamp("2025-03-09 15:59"), 3),  # 23:59 local 03-09: outside
            ("B1", "u8", pd.Timestamp("2025-03-11 15:59"), 3),  # 23:59 local 03-11: inside
        ],
        columns=["sku_id", "user_id", "review_time", "rating"],
    )
)


def test_review_summary_and_trend():
    summary = products.review_summary(REVIEWS, CATALOGUE, PERIOD).set_index("category")
    assert list(summary.index) == ["books", "apparel"]  # lowest average first
    assert summary["reviews"].tolist() == [3, 2]
    assert summary.loc["books", "average_rating"] == 2.0  # 1, 2, 3
    assert summary.loc["books", "low_share"] == pytest.approx(2 / 3)
    assert summary.loc["apparel", "average_rating"] == 4.5
    assert (summary.loc["apparel", "rating_4"], summary.loc["apparel", "rating_5"]) == (0.5, 0.5)
    trend = products.rating_trend(REVIEWS, CATALOGUE, PERIOD)
    assert trend["week"].unique().tolist() == [pd.Timestamp("2025-03-10")]  # a Monday
    assert trend["category"].tolist() == ["apparel", "books"]
    assert trend["average_rating"].tolist() == [4.5, 2.0]


def test_low_rated_skus_with_their_sales():
    low = products.low_rated_skus(REVIEWS, ORDERS, ITEMS, CATALOGUE, PERIOD, 3.0, 2)
    assert low["sku_id"].tolist() == ["B1"]  # A1 has one review in the period, A2 averages 4
    row = low.iloc[0]
    assert (row["reviews"], row["average_rating"], row["low_ratings"]) == (3, 2.0, 2)
    assert (row["units"], row["revenue"]) == (4, 40.0)


def test_rating_repurchase_follows_only_observable_reviews():
    # the orders end on local day 03-12 (o7 placed 2025-03-12 01:00 UTC)
    two_days = products.rating_repurchase(REVIEWS, ORDERS, CATALOGUE, PERIOD, window_days=2)
    # only reviews of 03-10 can be followed 2 days: u1 (5) paid o4 13 hours later, u3 (1) not
    assert two_days["reviews"].tolist() == [1, 0, 0, 0, 1]
    assert two_days["repurchased"].tolist() == [0, 0, 0, 0, 1]
    one_day = products.rating_repurchase(REVIEWS, ORDERS, CATALOGUE, PERIOD, window_days=1)
    assert one_day["reviews"].tolist() == [1, 1, 1, 1, 1]
    assert one_day["repurchased"].tolist() == [0, 0, 0, 0, 1]
    assert one_day["repurchase_rate"].tolist() == [0.0, 0.0, 0.0, 0.0, 1.0]
    test = products.rating_repurchase_test(one_day).iloc[0]
    assert (test["low_reviews"], test["low_repurchased"]) == (2, 0)
    assert (test["high_reviews"], test["high_repurchased"], test["high_rate"]) == (2, 1, 0.5)
    assert test["difference"] == 0.5
    assert test["p_value"] == pytest.approx(stats.two_proportion_pvalue(1, 2, 0, 2))


# --------------------------------------------------------------------------------------------
# Costs: the ROPG ledger

COSTS = ibis.memtable(
    pd.DataFrame(
        [
            (dt.date(2025, 3, 1), "platform", "store_fee", 3100.0),  # 100 a day in March
            (dt.date(2025, 3, 1), "platform", "platform_commission", 999.0),
            (dt.date(2025, 3, 1), "operating", "erp", 310.0),
            (dt.date(2025, 3, 1), "people", "staff", 6200.0),
            (dt.date(2025, 3, 1), "goods", "warehousing", 620.0),
            (dt.date(2025, 2, 1), "people", "staff", 2800.0),  # another month
        ],
        columns=["month", "component", "item", "amount"],
    )
)

SPEND = ibis.memtable(
    pd.DataFrame(
        [
            (dt.date(2025, 3, 10), "search", "CPC", 1000, 50, 10.0),
            (dt.date(2025, 3, 11), "search", "CPC", 1000, 50, 10.0),
            (dt.date(2025, 3, 10), "search", "CPT", 500, 300, 20.0),
            (dt.date(2025, 3, 10), "ads", "CPM", 4000, 30, 8.0),
            (dt.date(2025, 3, 11), "ads", "CPS", 1000, 10, 2.0),
            (dt.date(2025, 3, 10), "sms", "CPM", 1000, 5, 5.0),  # spend, but no orders
            (dt.date(2025, 3, 12), "search", "CPC", 1000, 50, 999.0),  # after the period
        ],
        columns=["date", "channel", "billing_model", "impressions", "clicks", "spend"],
    )
)


def ledger(rate: float | None = 0.1, period: Period = PERIOD, costs_table=COSTS) -> pd.DataFrame:
    return costs.cost_ledger(ORDERS, ITEMS, CATALOGUE, period, costs_table, SPEND, rate)


def test_monthly_ropg_breakdown_with_commission_from_the_rate():
    breakdown = costs.cost_breakdown(ledger())
    assert breakdown["month"].unique().tolist() == [pd.Timestamp("2025-03-01")]
    rows = list(zip(breakdown["component"], breakdown["item"], breakdown["amount"], strict=True))
    assert rows == [
        # commission = 0.1 × GMV 371 replaces the table's 999; monthly rows: 2 of March's 31 days
        ("platform", "platform_commission", 37.1),
        ("platform", "store_fee", 200.0),
        ("operating", "erp", 20.0),
        ("operating", "promotion_ads", 10.0),
        ("operating", "promotion_search", 40.0),
        ("operating", "promotion_sms", 5.0),
        ("people", "staff", 400.0),
        ("goods", "cost_of_goods_sold", 110.0),  # 40 + 5 + 30 + 0 + 20 + 15
        ("goods", "warehousing", 40.0),
    ]
    assert breakdown["share"].sum() == pytest.approx(1.0)
    assert breakdown.iloc[0]["share"] == pytest.approx(37.1 / 862.1)


def test_commission_from_the_costs_table_without_a_rate():
    breakdown = costs.cost_breakdown(ledger(rate=None)).set_index("item")
    assert breakdown.loc["platform_commission", "amount"] == round(999 * 2 / 31, 2)


def test_component_totals_add_up_to_the_total_cost():
    totals = costs.component_totals(costs.cost_breakdown(ledger())).set_index("component")
    assert list(totals.index) == ["platform", "operating", "people", "goods", "total"]
    assert totals["amount"].tolist() == [237.1, 75.0, 400.0, 150.0, 862.1]
    parts = totals.drop(index="total")
    assert parts["amount"].sum() == pytest.approx(totals.loc["total", "amount"])
    assert parts["share"].sum() == pytest.approx(1.0)
    assert round(ledger()["amount"].sum(), 2) == totals.loc["total", "amount"]


def test_month_with_no_costs_row():
    period = Period("2025-03-31", "2025-04-01", "Asia/Shanghai")
    entries = ledger(period=period)
    assert costs.months_without_costs(entries, period) == ["2025-04"]
    breakdown = costs.cost_breakdown(entries)
    april = breakdown[breakdown["month"] == pd.Timestamp("2025-04-01")]
    # no costs row and no orders in April: only the commission on a GMV of 0
    assert april["item"].tolist() == ["platform_commission"]
    assert april["amount"].tolist() == [0.0]
    march = breakdown[breakdown["month"] == pd.Timestamp("2025-03-01")].set_index("item")
    assert march.loc["staff", "amount"] == 200.0  # one day of March
    totals = costs.component_totals(breakdown)
    assert totals[totals["component"] == "total"]["amount"].tolist() == [330.0, 0.0]


def test_unit_economics_and_break_even():
    economics = costs.unit_economics(ledger(), ORDERS, PERIOD).set_index("line")
    # 4 paid orders from 3 buyers (u1, u2, u3); revenue is paid revenue, GMV 371 (the line
    # revenue, quantity × unit price, is 390)
    assert economics.loc["revenue", "amount"] == 371.0
    assert economics.loc["revenue", "label"] == "paid revenue (GMV)"
    assert economics.loc["revenue", "per_order"] == 371 / 4
    assert economics.loc["revenue", "per_buyer"] == pytest.approx(371 / 3)
    # variable: commission 37.1 + promotion 55 + cost of goods 110;
    # fixed: store fee 200 + erp 20 + staff 400 + warehousing 40 (a goods item, but flat)
    assert economics.loc["variable_costs", "amount"] == 202.1
    assert economics.loc["fixed_costs", "amount"] == 660.0
    assert economics.loc["total_cost", "amount"] == 862.1
    assert economics.loc["contribution_margin", "amount"] == 168.9
    assert economics.loc["net_profit", "amount"] == -491.1
    assert economics.loc["goods", "per_order"] == 37.5
    goods = economics.loc["goods"]
    assert (goods["cost_behaviour"], goods["variable_amount"], goods["fixed_amount"]) == (
        "mixed",
        110.0,
        40.0,
    )
    assert economics.loc["people", "cost_behaviour"] == "fixed"
    assert economics.loc["operating", "variable_amount"] == 55.0  # promotion; erp 20 fixed
    assert economics.loc["platform", "fixed_amount"] == 200.0
    assert economics.loc["variable_costs", "cost_behaviour"] == "variable"
    assert economics.loc["fixed_costs", "cost_behaviour"] == "fixed"
    assert economics.loc["net_profit", "cost_behaviour"] == ""
    assert math.isnan(economics.loc["net_profit", "variable_amount"])
    # March has costs rows: the costs are complete, so the last line is a profit (a loss here)
    assert economics.loc["net_profit", "label"] == "net profit"
    assert set(economics["cost_basis"]) == {"costs table, every month"}
    assert list(economics.reset_index().columns) == costs.ECONOMICS_COLUMNS
    even = costs.break_even(costs.unit_economics(ledger(), ORDERS, PERIOD), ORDERS, PERIOD).iloc[0]
    # 168.9 / 4 = 42.225 per order; 660 / 42.225 = 15.63 -> 16 orders
    assert even["contribution_per_order"] == pytest.approx(42.225)
    assert even["fixed_costs"] == 660.0
    assert even["break_even_orders"] == 16
    assert even["orders_vs_break_even"] == 0.25
    assert even["cost_basis"] == "costs table, every month"


def test_break_even_is_null_when_orders_lose_money():
    economics = pd.DataFrame(
        {"line": ["fixed_costs", "contribution_margin"], "amount": [100.0, -5.0]}
    )
    even = costs.break_even(economics, ORDERS, PERIOD).iloc[0]
    assert math.isnan(even["break_even_orders"])


def test_channel_roi_per_billing_model():
    roi = costs.channel_roi(SPEND, ORDERS, ITEMS, CATALOGUE, PERIOD)
    keys = list(zip(roi["channel"], roi["billing_model"], strict=True))
    assert keys == [
        ("ads", "CPM"),
        ("ads", "CPS"),
        ("search", "CPC"),
        ("search", "CPT"),
        ("sms", "CPM"),
    ]
    table = roi.set_index(["channel", "billing_model"])
    # search: o1 (171, goods 45) and o5 (30, goods 15); clicks CPC 100 : CPT 300
    cpc = table.loc[("search", "CPC")]
    assert (cpc["spend"], cpc["impressions"], cpc["clicks"]) == (20.0, 2000, 100)
    assert (cpc["orders"], cpc["gmv"], cpc["goods_cost"]) == (0.5, 50.25, 15.0)
    assert cpc["roas"] == pytest.approx(50.25 / 20)
    assert cpc["cost_per_order"] == 40.0
    assert cpc["roi"] == pytest.approx((50.25 - 15 - 20) / 20)
    assert (cpc["cpc"], cpc["cpm"], cpc["ctr"]) == (0.2, 10.0, 0.05)
    cpt = table.loc[("search", "CPT")]
    assert (cpt["orders"], cpt["gmv"]) == (1.5, 150.75)
    # ads: o2 (70, goods 30) and o4 (100, goods 20); clicks CPM 30 : CPS 10
    cps = table.loc[("ads", "CPS")]
    assert (cps["orders"], cps["gmv"], cps["goods_cost"], cps["spend"]) == (0.5, 42.5, 12.5, 2.0)
    assert cps["roas"] == 21.25
    assert cps["roi"] == 14.0  # (42.5 − 12.5 − 2) / 2
    assert table.loc[("ads", "CPM"), "roi"] == 10.25  # (127.5 − 37.5 − 8) / 8
    # spend but no orders: ROAS 0, no cost per order, the whole spend lost
    sms = table.loc[("sms", "CPM")]
    assert (sms["orders"], sms["gmv"], sms["roas"], sms["roi"]) == (0.0, 0.0, 0.0, -1.0)
    assert math.isnan(sms["cost_per_order"])


def test_channel_roi_ratios_use_unrounded_order_shares():
    orders = shop_orders([("r1", "u1", "2025-03-10 02:00", "paid", 100.0, 0.0, "ads")])
    items = ibis.memtable(
        pd.DataFrame(
            [("r1", "A2", 1, 100.0)], columns=["order_id", "sku_id", "quantity", "unit_price"]
        )
    )
    spend = ibis.memtable(
        pd.DataFrame(
            [(dt.date(2025, 3, 10), "ads", model, 0, 0, 10.0) for model in ("CPM", "CPS", "CPT")],
            columns=["date", "channel", "billing_model", "impressions", "clicks", "spend"],
        )
    )
    roi = costs.channel_roi(spend, orders, items, CATALOGUE, PERIOD)
    # no clicks: the one order (GMV 100, goods 30) is split in thirds over the three models
    assert roi["orders"].tolist() == pytest.approx([1 / 3] * 3)
    assert roi["gmv"].tolist() == [33.33] * 3  # money shown in cents
    assert roi["goods_cost"].tolist() == [10.0] * 3
    # 10 / (1/3), not 10 / 0.33; 33.333… / 10, not 33.33 / 10
    assert roi["cost_per_order"].tolist() == pytest.approx([30.0] * 3)
    assert roi["roas"].tolist() == pytest.approx([10 / 3] * 3)
    assert roi["roi"].tolist() == pytest.approx([(100 / 3 - 10 - 10) / 10] * 3)


def test_cost_trend_per_local_day():
    trend = costs.cost_trend(ledger(), gmv.gmv_daily(ORDERS, PERIOD))
    assert trend["gmv"].tolist() == [271.0, 100.0]
    # 03-10: fees 100 + commission 27.1; erp 10 + spend 10 + 20 + 8 + 5; staff 200; goods 90 + 20
    assert trend["platform"].tolist() == [127.1, 110.0]
    assert trend["operating"].tolist() == [53.0, 22.0]
    assert trend["people"].tolist() == [200.0, 200.0]
    assert trend["goods"].tolist() == [110.0, 40.0]
    assert trend["total_cost"].tolist() == [490.1, 372.0]
    assert trend["cost_ratio"].tolist() == pytest.approx([490.1 / 271, 3.72])


def test_cost_growth_flags_the_fastest_items():
    def entries(amounts: dict[str, float]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "date": pd.Timestamp("2025-03-10"),
                "component": "operating",
                "item": list(amounts),
                "amount": list(amounts.values()),
                "source": "costs",
            }
        )

    previous = entries({"a": 100.0, "b": 50.0, "c": 10.0})
    current = entries({"a": 150.0, "b": 150.0, "c": 5.0, "d": 30.0})
    growth = costs.cost_growth(current, previous, top_n=1)
    assert growth["item"].tolist() == ["b", "a", "c", "d"]
    assert growth["growth"].tolist()[:3] == pytest.approx([2.0, 0.5, -0.5])
    assert growth["fastest_growth"].tolist() == [True, False, False, False]
    assert growth["new"].tolist() == [False, False, False, True]
    flagged = costs.cost_growth(current, previous, top_n=3)["fastest_growth"].tolist()
    assert flagged == [True, True, False, False]  # a shrinking item is never flagged
    # shown in the notebook: b (fastest with top_n=1) and d (new, no growth to rank); a and c
    # are neither
    shown = costs.flagged_cost_items(growth)
    assert shown["item"].tolist() == ["b", "d"]
    assert shown.index.tolist() == [0, 1]
    assert set(growth["cost_behaviour"]) == {"fixed"}  # a to d are unknown items
