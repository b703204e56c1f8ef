"""Products (issue 15): labels only above the noise, and the sentences notebook 04 prints, on
tables made by hand. Each sentence is checked on a table where the relationship it states is
one way and on one where it is the other.

The Wilson intervals below are worked out from the closed form (z = 1.96):
center = (2np + z²) / (2(n + z²)), half-width = z / (2(n + z²)) · sqrt(4np(1 − p) + z²).
"""

from __future__ import annotations

import inspect
import math

import pandas as pd
import pytest

from lib import parameters, products, stats


def items(rows: list[tuple]) -> pd.DataFrame:
    """``(category, impressions, clicks, viewers, buyers, revenue)`` rows with their rates."""
    table = pd.DataFrame(
        rows, columns=["category", "impressions", "clicks", "viewers", "buyers", "revenue"]
    )
    table["ctr"] = table["clicks"] / table["impressions"]
    table["conversion_rate"] = table["buyers"] / table["viewers"].where(table["viewers"] > 0)
    return table


# a: 120 of 400 = 30%, Wilson 25.7%–34.7%; b: 40 of 400 = 10%, 7.4%–13.3%;
# c: 20 of 100 = 20%, 13.3%–28.9%; f: 10 of 40 = 25%, 14.2%–40.2%;
# d: 20 viewers, fewer than 30; e: no viewers. Medians over a, b, c, f: impressions
# (50, 80, 90, 100) -> 85, conversion (10%, 20%, 25%, 30%) -> 22.5%.
SHOP = items(
    [
        ("a", 100, 10, 400, 120, 500.0),
        ("b", 50, 5, 400, 40, 400.0),
        ("c", 80, 8, 100, 20, 300.0),
        ("f", 90, 9, 40, 10, 200.0),
        ("d", 10, 1, 20, 2, 100.0),
        ("e", 5, 0, 0, 1, 50.0),
    ]
)


def test_a_quadrant_needs_the_interval_clear_of_the_split_and_enough_viewers():
    assert products.quadrant_splits(SHOP) == (85.0, 0.225)
    table = products.with_quadrants(SHOP).set_index("category")
    assert table["quadrant"].to_dict() == {
        "a": "star",  # 25.7%–34.7% above 22.5%, 100 impressions ≥ 85
        "b": "question",  # 7.4%–13.3% below, 50 < 85
        "c": products.UNCLEAR,  # 20% is below the median, but its interval contains it
        "f": products.UNCLEAR,  # 25% is above the median, but its interval contains it
        "d": products.NOT_ENOUGH_DATA,  # 20 viewers < 30
        "e": products.NO_QUADRANT,
    }
    assert table.loc["a", "conversion_low"] == pytest.approx(0.2572, abs=1e-4)
    assert table.loc["a", "conversion_high"] == pytest.approx(0.3466, abs=1e-4)
    assert table.loc["b", "conversion_high"] == pytest.approx(0.1333, abs=1e-4)
    assert table["conversion_level"].to_dict() == {
        "a": "high",
        "b": "low",
        "c": "near the split",
        "f": "near the split",
        "d": products.NOT_ENOUGH_DATA,
        "e": "",
    }
    assert table["exposure_level"].tolist() == ["high", "low", "low", "high", "low", ""]
    assert table.loc["c", "label_basis"] == (
        "conversion_rate 20.0% (95% 13.3%–28.9%, 100 viewers) includes the split 22.5%; "
        "impressions 80 below the split 85"
    )
    assert table.loc["d", "label_basis"] == "20 viewers, fewer than 30"
    assert table.loc["e", "label_basis"] == "no viewers"
    # with 20 viewers enough, d (10% of 20: 2.8%–30.1%) joins the medians and is unclear too
    looser = products.with_quadrants(SHOP, min_viewers=20).set_index("category")
    assert looser.loc["d", "quadrant"] == products.UNCLEAR


def test_an_exposure_rate_is_placed_by_its_interval_too():
    table = items(
        [
            ("x", 100, 12, 1000, 300, 1.0),  # ctr 12% of 100: 7.0%–19.8% contains 10%
            ("y", 1000, 300, 1000, 300, 1.0),  # ctr 30% of 1,000: clearly above 10%
            ("z", 1000, 300, 50, 60, 1.0),  # more buyers than viewers: no interval
        ]
    )
    placed = products.with_quadrants(table, "ctr", 0.1, 0.1).set_index("category")
    assert placed["quadrant"].to_dict() == {
        "x": products.UNCLEAR,
        "y": "star",
        "z": products.UNCLEAR,
    }
    assert placed.loc["x", "exposure_level"] == "near the split"
    assert math.isnan(placed.loc["z", "conversion_low"])
    assert placed.loc["z", "label_basis"].startswith("conversion_rate 120.0% of 50 viewers: no")


def test_stats_interval_side():
    side = stats.interval_side([0.1, 0.3, 0.0, math.nan], [0.2, 0.4, 0.5, 1.0], 0.25)
    assert side.tolist() == ["below", "above", "within", ""]
    # touching the reference is within: the test cannot reject it
    assert stats.interval_side(0.25, 0.3, 0.25).tolist() == "within"


def test_the_mix_keeps_unplaced_revenue_apart_and_says_so():
    mix = products.quadrant_mix(products.with_quadrants(SHOP)).set_index("quadrant")
    assert list(mix.index) == [*products.QUADRANTS, *products.UNPLACED]
    assert mix["items"].tolist() == [1, 0, 0, 1, 2, 1, 1]
    assert mix.loc[products.UNCLEAR, "revenue_share"] == pytest.approx(500 / 1550)
    assert mix.loc[list(products.UNPLACED), "target_share"].isna().all()
    # default target 50%, 20%, 20%, 10%: star a 500 / 1,550 = 32% (−18 points), traffic
    # drivers and future stars 0% (−20 each), question b 26% (+16): the first −20 is the largest
    assert products.mix_note(mix.reset_index()) == (
        "The largest gap to the target is traffic driver: 0% of revenue against a target of 20% "
        "(-20 points). 39% of revenue is in items without a clear quadrant (near a split or too "
        "few viewers), so the four quadrants hold 58%."
    )
    # reversed: without a, only b is placed (a question, 38% of revenue against 10%)
    only_question = products.quadrant_mix(
        products.with_quadrants(SHOP[SHOP["category"] != "a"], conversion_split=0.2),
        {"question": 0.1},
    )
    assert products.mix_note(only_question).startswith(
        "The largest gap to the target is question: "
    )


def test_the_quadrant_note_lists_each_quadrants_items_by_revenue():
    assert products.quadrant_note(products.with_quadrants(SHOP)) == (
        "Stars: a; traffic drivers: none; future stars: none; questions: b; "
        "unclear (near a split): c and f; not enough data: d."
    )


def test_matrix_labels_mark_what_is_not_a_verdict():
    table = products.with_quadrants(SHOP)
    assert products.matrix_labels(table).tolist() == [
        "a",
        "b",
        "c (unclear)",
        "f (unclear)",
        "d (n = 20)",
        "e",
    ]


def test_counted_labels_and_sparse_rating_cells():
    labels = products.counted_labels(pd.Series(["phones", "toys"]), pd.Series([5, 1200]), "reviews")
    assert labels.tolist() == ["phones (5 reviews)", "toys (1,200 reviews)"]
    stacked = products.counted_labels(pd.Series(["image item"]), pd.Series([82]), "SKUs", "\n")
    assert stacked.tolist() == ["image item\n(82 SKUs)"]
    one = products.counted_labels(pd.Series(["future star"]), pd.Series([1]), "categories")
    assert one.tolist() == ["future star (1 category)"]
    trend = pd.DataFrame({"reviews": [1, 2, 3], "average_rating": [1.0, 4.5, 4.0]})
    shown = products.rating_trend_shown(trend, 2)
    assert shown["average_rating"].isna().tolist() == [True, False, False]
    assert trend["average_rating"].notna().all()  # the saved table keeps every week


# --------------------------------------------------------------------------------------------
# Product roles need enough buyers

SKUS = pd.DataFrame(
    {
        "sku_id": ["img", "few", "prof", "traf", "reg"],
        "category": "x",
        "units": [1, 2, 3, 10, 4],
        "revenue": [1000.0, 100.0, 150.0, 100.0, 100.0],
        "cost": [800.0, 20.0, 30.0, 90.0, 60.0],
        "viewers": [10, 10, 10, 500, 5],
        "gross_margin": [0.2, 0.8, 0.8, 0.1, 0.4],
        "buyers": [1, 2, 3, 8, 3],
    }
)


RULE = products.RoleRule(0.9, 0.5, 0.75, 0.5, 0.75)


def test_a_role_but_image_item_needs_enough_buyers():
    rule = RULE
    # prices 10, 25, 50, 50, 1000 -> q90 50 + 0.6 × 950 = 620; units median 3; viewers
    # 5, 10, 10, 10, 500 -> q75 10; margins 0.1, 0.2, 0.4, 0.8, 0.8 -> median 0.4, q75 0.8
    assert products.role_thresholds(SKUS, rule)["value"].tolist() == pytest.approx(
        [620.0, 3.0, 10.0, 0.4, 0.8]
    )
    roles = products.product_roles(SKUS, rule).set_index("sku_id")
    # "few" has the profit margin of "prof" but 2 buyers; "img" has 1 buyer but is judged on
    # its price and rarity
    assert roles["role"].to_dict() == {
        "img": "image item",
        "traf": "traffic item",
        "prof": "profit item",
        "reg": "regular item",
        "few": products.NOT_ENOUGH_DATA,
    }
    assert roles["label_basis"].to_dict() == {
        "img": "price 1,000.00 ≥ 620.00 and units 1 ≤ 3",
        "traf": "viewers 500 ≥ 10 and gross margin 10.0% ≤ 40.0%",
        "prof": "gross margin 80.0% ≥ 80.0%",
        "reg": "no rule matches",
        "few": "2 buyers, fewer than 3",
    }
    # with 2 buyers enough, "few" is a profit item like "prof"
    assert products.product_roles(SKUS, rule, 2).set_index("sku_id").loc["few", "role"] == (
        "profit item"
    )
    summary = products.role_summary(products.product_roles(SKUS, rule))
    assert summary["role"].tolist() == list(products.ROLE_ROWS)
    assert summary["skus"].tolist() == [1, 1, 1, 1, 1]
    with pytest.raises(ValueError, match="min_buyers=0"):
        products.product_roles(SKUS, rule, 0)


def test_roles_note_counts_the_skus_without_a_role():
    summary = products.role_summary(products.product_roles(SKUS, RULE))
    assert products.roles_note(summary) == (
        "1 of the 5 SKUs sold (20%) had fewer than 3 buyers and are not image items: not enough "
        "data for a role. Traffic items bring 7% of revenue at a 10% gross margin; profit items "
        "bring 10% of revenue at a 80% gross margin."
    )


# --------------------------------------------------------------------------------------------
# Sentences from the tables


def test_revenue_margin_note_follows_the_table_either_way():
    thin_leads = pd.DataFrame(
        {
            "category": ["big", "mid", "small"],
            "revenue": [1000.0, 500.0, 200.0],
            "cost": [950.0, 250.0, 40.0],
            "gross_margin": [0.05, 0.5, 0.8],
        }
    )
    # gross profit: big 50, mid 250, small 160
    assert products.revenue_margin_note(thin_leads, top=2) == (
        "By revenue the largest are big and mid, at gross margins of 5% and 50%; by gross profit "
        "(revenue − cost) mid and small: 1 of the 2 lead both lists. The gross margin over "
        "everything sold is 27%."
    )
    fat_leads = thin_leads.assign(cost=[200.0, 400.0, 190.0], gross_margin=[0.8, 0.2, 0.05])
    assert "big and mid: 2 of the 2 lead both lists" in products.revenue_margin_note(
        fat_leads, top=2
    )
    assert products.revenue_margin_note(thin_leads.assign(revenue=0.0)).startswith("Nothing")


def test_abc_note():
    pareto = products.sku_pareto(
        pd.DataFrame(
            {
                "sku_id": ["s1", "s2", "s3", "s4", "s5"],
                "category": "x",
                "revenue": [50.0, 30.0, 15.0, 5.0, 0.0],
            }
        )
    )
    assert products.abc_note(products.abc_summary(pareto)) == (
        "Class A: 2 SKUs (40% of the SKUs, 50% of those sold) make 80% of revenue; 1 SKU (20%) "
        "sold nothing in the period."
    )
    unsold = products.abc_summary(products.sku_pareto(pareto.assign(revenue=0.0)))
    assert products.abc_note(unsold) == "Nothing was sold in the period: all 5 SKUs are class C."


def test_discount_note_names_the_costliest_category_each_way():
    discounts = pd.DataFrame(
        {
            "category": ["thin", "fat"],
            "revenue_lost": [50.0, 80.0],
            "discount_rate": [0.05, 0.2],
            "margin_at_list": [0.10, 0.60],
            "margin_after_discounts": [0.05, 0.58],
            "margin_lost": [0.05, 0.02],
        }
    )
    assert products.discount_note(discounts) == (
        "Discounts took the most revenue from fat: 80 (20% of its list value); the most gross "
        "margin from thin: 10% at list prices, 5% after price cuts and coupons (5.0 points)."
    )
    none = discounts.assign(revenue_lost=0.0)
    assert products.discount_note(none).startswith("No price cut or coupon")


def repurchase_test(low: tuple[int, int], high: tuple[int, int]) -> pd.DataFrame:
    by_rating = pd.DataFrame(
        {
            "rating": [1, 2, 3, 4, 5],
            "reviews": [low[0], 0, 0, high[0], 0],
            "repurchased": [low[1], 0, 0, high[1], 0],
        }
    )
    return products.rating_repurchase_test(by_rating)


def test_repurchase_note_says_whether_the_gap_is_beyond_the_noise():
    # 10 of 100 against 40 of 100: chi-square 24, p < 0.001
    assert products.repurchase_note(repurchase_test((100, 10), (100, 40)), 30) == (
        "Within 30 days, 40% of reviews rated 4–5 (40 of 100) were followed by another order, "
        "against 10% of those rated 1–2 (10 of 100): happier reviewers bought again more often, "
        "beyond the noise (p = 0.000)."
    )
    # reversed, and significant: the unhappy bought again more
    reversed_note = products.repurchase_note(repurchase_test((100, 40), (100, 10)), 30)
    assert "happier reviewers bought again less often" in reversed_note
    # 1 of 5 against 2 of 5: p = 0.49, not significant
    assert products.repurchase_note(repurchase_test((5, 1), (5, 2)), 7).endswith(
        "the difference may be chance (p = 0.49, not significant)."
    )
    assert "not enough data" in products.repurchase_note(repurchase_test((0, 0), (5, 2)), 7)


def test_the_lib_defaults_are_the_declared_parameters():
    # the new minimum counts, as tests/test_parameters.py's LIB_DEFAULTS ties the others
    for function, argument, name in [
        (products.quadrant_splits, "min_viewers", "quadrant_min_viewers"),
        (products.with_quadrants, "min_viewers", "quadrant_min_viewers"),
        (products.product_roles, "min_buyers", "role_min_buyers"),
        (products.roles_note, "min_buyers", "role_min_buyers"),
    ]:
        default = inspect.signature(function).parameters[argument].default
        assert default == parameters.default(name), (function.__name__, argument)
