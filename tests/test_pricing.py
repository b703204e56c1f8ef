"""Prices (lib/pricing.py), worked out by hand on tiny shops.

The shop of the band and depth tests (period 2025-03-10..11, Asia/Shanghai = UTC+8):

- apparel: A (list 10), B (list 20), C (list 40); books: D (no list price), E (list 10);
- priced lines: o1 (u1) A 2 × 8 and B 1 × 20; o2 (u2) A 1 × 10; o3 (u3) B 1 × 18 and C 1 × 40;
  o4 (u4) C 1 × 30; o5 (u5) D 3 × 5 and E 1 × 12;
- left out: o6 cancelled, o7 paid at 23:59 local the day before the period, o8's lines (a
  quantity of 0 and a free line: no price to read).
"""

from __future__ import annotations

import math

import ibis
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lib import pricing
from lib.definitions import UNKNOWN
from lib.periods import Period
from lib.stats import proportion_interval

from .conftest import events_table, items_table, shop_orders

PERIOD = Period("2025-03-10", "2025-03-11", "Asia/Shanghai")


def products_table(rows: list[tuple]) -> ibis.Table:
    frame = pd.DataFrame(rows, columns=["sku_id", "category", "unit_cost", "list_price"])
    schema = {
        "sku_id": "string",
        "category": "string",
        "unit_cost": "float64",
        "list_price": "float64",
    }
    return ibis.memtable(frame, schema=schema)


def competitor_table(rows: list[tuple]) -> ibis.Table:
    frame = pd.DataFrame(rows, columns=["date", "sku_id", "competitor", "price"])
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    schema = {"date": "date", "sku_id": "string", "competitor": "string", "price": "float64"}
    return ibis.memtable(frame, schema=schema)


ORDERS = shop_orders(
    [
        ("o1", "u1", "2025-03-10 02:00", "paid", 36.0, 0.0, "ads"),
        ("o2", "u2", "2025-03-10 03:00", "paid", 10.0, 0.0, "ads"),
        ("o3", "u3", "2025-03-11 04:00", "refunded", 58.0, 0.0, "ads"),
        ("o4", "u4", "2025-03-11 15:59", "paid", 30.0, 0.0, "ads"),  # 23:59 local, inside
        ("o5", "u5", "2025-03-10 05:00", "paid", 27.0, 0.0, "ads"),
        ("o6", "u6", "2025-03-10 06:00", "cancelled", 5.0, 0.0, "ads"),
        ("o7", "u7", "2025-03-09 15:59", "paid", 2.0, 0.0, "ads"),  # 23:59 local, before
        ("o8", "u8", "2025-03-10 07:00", "paid", 0.0, 0.0, "ads"),
    ]
)
ITEMS = items_table(
    [
        ("o1", "A", 2, 8.0),
        ("o1", "B", 1, 20.0),
        ("o2", "A", 1, 10.0),
        ("o3", "B", 1, 18.0),
        ("o3", "C", 1, 40.0),
        ("o4", "C", 1, 30.0),
        ("o5", "D", 3, 5.0),
        ("o5", "E", 1, 12.0),
        ("o6", "A", 5, 1.0),
        ("o7", "A", 1, 2.0),
        ("o8", "A", 0, 3.0),
        ("o8", "B", 1, 0.0),
    ]
)
PRODUCTS = products_table(
    [
        ("A", "apparel", 4.0, 10.0),
        ("B", "apparel", 8.0, 20.0),
        ("C", "apparel", 15.0, 40.0),
        ("D", "books", 2.0, None),
        ("E", "books", 5.0, 10.0),
    ]
)


# --------------------------------------------------------------------------------------------
# Price bands


def test_price_bands_cut_units_at_quantiles():
    table = pricing.price_bands(ORDERS, ITEMS, PRODUCTS, PERIOD, bands=4)
    assert list(table.columns) == pricing.BAND_COLUMNS
    # apparel units by price: 8:2, 10:1, 18:1, 20:1, 30:1, 40:1, T = 7. Band = ⌊4·C⁻/7⌋ + 1
    # with C⁻ the units below: 8 → 0 → 1; 10 → 2 → 2; 18 → 3 → 2; 20 → 4 → 3; 30 → 5 → 3;
    # 40 → 6 → 4. (Edges: e1 = min{C ≥ 1.75} = 8, e2 = min{C ≥ 3.5} = 18, e3 = 30.)
    # books: 5:3, 12:1, T = 4: 5 → 0 → 1; 12 → 3 → 4; bands 2 and 3 are empty (no row).
    expected = pd.DataFrame(
        [
            ("apparel", 1, 8.0, 8.0, 1, 2, 1, 16.0, 16 / 134),  # o1's A
            ("apparel", 2, 10.0, 18.0, 2, 2, 2, 28.0, 28 / 134),  # o2's A, o3's B
            ("apparel", 3, 20.0, 30.0, 2, 2, 2, 50.0, 50 / 134),  # o1's B, o4's C
            ("apparel", 4, 40.0, 40.0, 1, 1, 1, 40.0, 40 / 134),  # o3's C
            ("books", 1, 5.0, 5.0, 1, 3, 1, 15.0, 15 / 27),
            ("books", 4, 12.0, 12.0, 1, 1, 1, 12.0, 12 / 27),
        ],
        columns=pricing.BAND_COLUMNS,
    )
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
    assert table["units"].dtype == "int64"


def test_two_bands_split_at_the_median_unit():
    # apparel, 2 bands: ⌊2·C⁻/7⌋ + 1: 8, 10, 18 (C⁻ 0, 2, 3) → 1; 20, 30, 40 (4, 5, 6) → 2
    table = pricing.price_bands(ORDERS, ITEMS, PRODUCTS, PERIOD, bands=2)
    apparel = table[table["category"] == "apparel"]
    assert apparel[["band", "units", "orders", "gmv"]].values.tolist() == [
        [1, 4, 3, 44.0],  # o1 A 16, o2 A 10, o3 B 18
        [2, 3, 3, 90.0],  # o1 B 20, o3 C 40, o4 C 30
    ]


def test_bands_refuse_a_bad_count():
    with pytest.raises(ValueError, match="bands=0"):
        pricing.price_bands(ORDERS, ITEMS, PRODUCTS, PERIOD, bands=0)


# --------------------------------------------------------------------------------------------
# Discount depth

# view_item pairs: A by u1, u2, u9; B by u1; C by u4; F (never sold) by u3; a view of E the day
# after the period does not count
EVENTS = events_table(
    [
        ("2025-03-10 01:00", "u1", "view_item", "s1", "A"),
        ("2025-03-10 01:01", "u1", "view_item", "s1", "B"),
        ("2025-03-10 01:02", "u1", "view_item", "s1", "A"),  # again: one pair
        ("2025-03-10 02:30", "u2", "view_item", "s2", "A"),
        ("2025-03-10 03:00", "u9", "view_item", "s9", "A"),
        ("2025-03-11 03:00", "u4", "view_item", "s4", "C"),
        ("2025-03-10 03:00", "u3", "view_item", "s3", "F"),
        ("2025-03-11 16:00", "u5", "view_item", "s5", "E"),  # 00:00 local on 03-12: outside
        ("2025-03-10 03:00", "u9", "page_view", "s9", "B"),
    ]
)


def test_discount_depth_bands_skus_by_their_depth():
    table = pricing.discount_depth(ORDERS, ITEMS, PRODUCTS, PERIOD, EVENTS)
    assert list(table.columns) == pricing.DEPTH_COLUMNS
    rows = table.set_index("depth_band")
    assert list(rows.index) == [
        "at or above list",
        "0%–5%",
        "5%–10%",
        "10%–20%",
        "20%–30%",
        "30%–50%",
        "> 50%",
        "(no list price)",
        "(not sold)",
    ]
    # A: 1 − 26 / (3 × 10) = 0.1333; B: 1 − 38 / (2 × 20) = 0.05 exactly on the edge → (0, 5 %];
    # C: 1 − 70 / 80 = 0.125; E: 1 − 12 / 10 = −0.2 (above list); D has no list price
    assert rows.loc["at or above list", ["skus", "units", "gmv"]].tolist() == [1, 1, 12.0]
    assert rows.loc["at or above list", "mean_depth"] == pytest.approx(-0.2)
    assert rows.loc["0%–5%", ["skus", "units", "gmv"]].tolist() == [1, 2, 38.0]
    assert rows.loc["0%–5%", "mean_depth"] == pytest.approx(0.05)
    assert rows.loc["10%–20%", ["skus", "units", "gmv"]].tolist() == [2, 5, 96.0]
    assert rows.loc["10%–20%", "mean_depth"] == pytest.approx(1 - 96 / 110)
    assert rows.loc["5%–10%", ["skus", "units", "viewers"]].tolist() == [0, 0, 0]
    assert math.isnan(rows.loc["5%–10%", "mean_depth"])
    # D is left out of the bands and counted
    assert rows.loc["(no list price)", ["skus", "units", "gmv"]].tolist() == [1, 3, 15.0]
    # viewers and buyers among them: A 3 viewers (u1, u2 bought), C 1 (u4 bought), B 1 (u1
    # bought); F viewed by u3, never sold
    assert rows.loc["10%–20%", ["viewers", "buyers"]].tolist() == [4, 3]
    assert rows.loc["10%–20%", "conversion"] == pytest.approx(0.75)
    low, high = proportion_interval(3, 4)
    assert rows.loc["10%–20%", ["ci_low", "ci_high"]].tolist() == pytest.approx([low, high])
    assert rows.loc["0%–5%", ["viewers", "buyers"]].tolist() == [1, 1]
    assert rows.loc["(not sold)", ["skus", "units", "viewers", "buyers"]].tolist() == [1, 0, 1, 0]
    assert rows.loc["at or above list", "viewers"] == 0  # E's only view is outside the period
    assert math.isnan(rows.loc["at or above list", "conversion"])


def test_discount_depth_without_events_or_list_prices():
    table = pricing.discount_depth(ORDERS, ITEMS, PRODUCTS, PERIOD)
    assert "(not sold)" not in set(table["depth_band"])
    assert (table["viewers"] == 0).all() and table["conversion"].isna().all()
    # a catalogue without any list price: every SKU sold is counted in "(no list price)"
    bare = products_table([(s, "apparel", 1.0, None) for s in "ABCDE"])
    table = pricing.discount_depth(ORDERS, ITEMS, bare, PERIOD).set_index("depth_band")
    assert table.loc["(no list price)", ["skus", "units", "gmv"]].tolist() == [
        5,
        11,
        161.0,
    ]  # A 3, B 2, C 2, D 3, E 1 units
    assert table.drop("(no list price)")["skus"].sum() == 0
    note = pricing.depth_note(table.reset_index())
    assert note.startswith("No SKU sold in the period has a list price (5 without)")


def test_depth_note_reads_the_table():
    table = pricing.discount_depth(ORDERS, ITEMS, PRODUCTS, PERIOD, EVENTS)
    note = pricing.depth_note(table)
    # 4 SKUs with a list price, GMV 146 of which 12 (E) at or above list: 134 / 146 below it
    assert note.startswith("4 SKUs sold with a list price; 91.8% of their GMV was sold below it.")
    assert "1 SKUs sold without a list price are left out of the depth bands (15.00 of GMV)" in note
    # the shallowest and deepest viewed bands: 0 %–5 % (1 of 1) and 10 %–20 % (3 of 4)
    assert "0%–5% SKUs bought 100.0% of the time (1 of 1" in note
    assert "10%–20% ones 75.0% (3 of 4" in note


# --------------------------------------------------------------------------------------------
# Elasticity


def day_shop(rows: list[tuple[str, str, int, int, float]]):
    """Orders, items and products from ``(sku_id, category, day, units, price)``: one order a
    row, paid at noon local (04:00 UTC) on day ``day`` counted from 2025-03-03 (a Monday)."""
    orders, items, skus = [], [], {}
    for i, (sku, category, day, units, price) in enumerate(rows):
        paid = pd.Timestamp("2025-03-03 04:00") + pd.Timedelta(days=day)
        orders.append((f"o{i}", f"u{i}", str(paid), "paid", units * price, 0.0, None))
        items.append((f"o{i}", sku, units, price))
        skus[sku] = category
    products = products_table([(s, c, 1.0, None) for s, c in skus.items()])
    return shop_orders(orders), items_table(items), products


ELASTICITY_PERIOD = Period("2025-03-03", "2025-04-27", "Asia/Shanghai")


def test_elasticity_worked_by_hand_and_a_category_without_price_changes():
    shop = day_shop(
        [
            # apparel, same weekday a week apart (no weekday dummies): price 10 → 20 doubles
            # log p by ln 2; A's units 8 → 2 (Δ log u = −2 ln 2), B's 8 → 4 (−ln 2)
            ("A", "apparel", 0, 8, 10.0),
            ("A", "apparel", 7, 2, 20.0),
            ("B", "apparel", 0, 8, 10.0),
            ("B", "apparel", 7, 4, 20.0),
            # books: D never changes price; E moves by exactly 1 % (10 → 10.1: no change)
            ("D", "books", 0, 3, 5.0),
            ("D", "books", 1, 1, 5.0),
            ("D", "books", 2, 2, 5.0),
            ("E", "books", 0, 4, 10.0),
            ("E", "books", 1, 2, 10.1),
        ]
    )
    table = pricing.price_elasticity(*shop, ELASTICITY_PERIOD, min_price_changes=2)
    assert list(table.columns) == pricing.ELASTICITY_COLUMNS
    apparel, books = table.iloc[0], table.iloc[1]
    # within each SKU: x = ±ln2/2, y = ±Δ/2, so ε = Σxy/Σx² = (−2 ln²2 − ln²2) / (2 ln²2) = −1.5.
    # residuals ±(Δ − ε ln2)/2 = ∓ln2/4 (A), ±ln2/4 (B); cluster scores Σ x e = ∓ln²2/4;
    # meat = 2 · ln⁴2/16, bread = 1/Σx² = 1/ln²2, correction G/(G−1)·(N−1)/(N−K) = 2 · 3/3:
    # V = 2 · ln⁴2/8 / ln⁴2 = 1/4, se = 0.5; t(0.975, G − 1 = 1) = 12.7062
    assert apparel["category"] == "apparel"
    assert apparel["elasticity"] == pytest.approx(-1.5)
    assert apparel["se"] == pytest.approx(0.5)
    t = 12.706204736174698
    assert apparel["ci_low"] == pytest.approx(-1.5 - t * 0.5)
    assert apparel["ci_high"] == pytest.approx(-1.5 + t * 0.5)
    assert apparel[["skus", "sku_days", "price_changes", "note"]].tolist() == [2, 4, 2, ""]
    # books: no change of more than 1 %: no number, and the note says so
    assert books["category"] == "books"
    assert math.isnan(books["elasticity"]) and math.isnan(books["ci_low"])
    assert books[["skus", "sku_days", "price_changes"]].tolist() == [2, 5, 0]
    assert books["note"] == "not enough price variation (0 changes)"
    # with 3 changes required, apparel's 2 are not enough either
    strict = pricing.price_elasticity(*shop, ELASTICITY_PERIOD, min_price_changes=3)
    assert strict["note"].tolist() == [
        "not enough price variation (2 changes)",
        "not enough price variation (0 changes)",
    ]
    note = pricing.elasticity_note(table, 2)
    assert "1 of 2 categories have an elasticity" in note
    assert "apparel: -1.50 (95 % -7.85 to 4.85, 2 price changes over 4 SKU-days)" in note
    assert "1 category has fewer than 2 price changes and gets no number" in note
    assert "Only days with sales have a price" in note


def test_price_change_threshold():
    days = pd.DataFrame(
        {
            "sku_id": ["A", "A", "A", "A", "B"],
            "day": [1, 2, 5, 6, 1],
            "price": [10.0, 10.1, 10.201, 10.0, 3.0],
        }
    )
    # 10 → 10.1: exactly 1 %, no change; 10.1 → 10.201: exactly 1 % again; 10.201 → 10: −1.97 %
    assert pricing.price_changes(days).tolist() == [False, False, False, True, False]
    assert pricing.price_changes(days, 0.005).tolist() == [False, True, True, True, False]


def test_elasticity_recovered_exactly_on_noiseless_data():
    # log(units) = α_sku + γ_weekday − 1.5 log(price), no noise: draw whole units and solve for
    # the price. 6 SKUs over 28 days (every weekday 4 times), one SKU sold on a single day
    # (dropped: its own effect absorbs it)
    rng = np.random.default_rng(20)
    alpha = rng.uniform(1.0, 3.0, 6)
    gamma = rng.uniform(-0.5, 0.5, 7)
    rows = []
    for s in range(6):
        for day in range(28):
            units = int(rng.integers(1, 40))
            log_price = (alpha[s] + gamma[day % 7] - math.log(units)) / 1.5
            rows.append((f"S{s}", "toys", day, units, math.exp(log_price)))
    rows.append(("S9", "toys", 3, 5, 7.0))
    table = pricing.price_elasticity(*day_shop(rows), ELASTICITY_PERIOD)
    row = table.iloc[0]
    assert row["elasticity"] == pytest.approx(-1.5, abs=1e-9)
    assert row["se"] == pytest.approx(0.0, abs=1e-9)
    assert row["ci_low"] == pytest.approx(-1.5, abs=1e-8)
    assert row["ci_high"] == pytest.approx(-1.5, abs=1e-8)
    assert row[["skus", "sku_days"]].tolist() == [6, 168]
    assert row["note"] == ""


def test_price_moving_only_with_the_weekday_gives_no_number():
    # one SKU, dear on Mondays and cheap otherwise: log price is a weekday effect
    rows = [("A", "toys", d, 1 + d % 3, 20.0 if d % 7 == 0 else 10.0) for d in range(21)]
    table = pricing.price_elasticity(*day_shop(rows), ELASTICITY_PERIOD, min_price_changes=1)
    assert math.isnan(table.loc[0, "elasticity"])
    assert table.loc[0, "note"] == "price moves only with the SKU and weekday effects"
    assert table.loc[0, "price_changes"] == 5  # into and out of each of the 3 Mondays, less one


# --------------------------------------------------------------------------------------------
# Competitor prices

CP_PERIOD = Period("2025-03-10", "2025-03-12", "Asia/Shanghai")
CP_PRODUCTS = products_table(
    [
        ("A", "apparel", 1.0, 100.0),
        ("B", "apparel", 1.0, 110.0),
        ("C", "books", 1.0, None),
        ("D", "books", 1.0, 50.0),
    ]
)
COMPETITORS = competitor_table(
    [
        # A: 03-10 lowest 80 (c2) → 1.25; 03-11 c1 alone, 100 → 1.0; 03-12 missing
        ("2025-03-10", "A", "c1", 90.0),
        ("2025-03-10", "A", "c2", 80.0),
        ("2025-03-11", "A", "c1", 100.0),
        # B: lowest 100 every day → 110 / 100 = 1.1, exactly 10 % above
        ("2025-03-10", "B", "c1", 100.0),
        ("2025-03-10", "B", "c2", 120.0),
        ("2025-03-11", "B", "c1", 100.0),
        ("2025-03-12", "B", "c2", 100.0),
        # C: no list price
        ("2025-03-10", "C", "c1", 10.0),
        # D: a day before the period, a price of 0 and a missing one are ignored → 50 / 40
        ("2025-03-09", "D", "c1", 10.0),
        ("2025-03-12", "D", "c1", 0.0),
        ("2025-03-12", "D", "c3", None),
        ("2025-03-12", "D", "c2", 40.0),
    ]
)


def test_competitor_price_index_by_hand():
    table = pricing.competitor_price_index(COMPETITORS, CP_PRODUCTS, CP_PERIOD)
    assert list(table.columns) == pricing.INDEX_COLUMNS
    assert table["sku_id"].tolist() == ["D", "A", "B", "C"]
    rows = table.set_index("sku_id")
    assert rows.loc["A", "price_index"] == pytest.approx((1.25 + 1.0) / 2)
    assert rows.loc["A", ["days", "competitors", "lowest_price"]].tolist() == [2, 2, 90.0]
    assert rows.loc["B", "price_index"] == pytest.approx(1.1)
    assert rows.loc["B", ["days", "competitors"]].tolist() == [3, 2]
    assert rows.loc["D", "price_index"] == pytest.approx(1.25)
    assert rows.loc["D", ["days", "competitors", "lowest_price"]].tolist() == [1, 1, 40.0]
    assert math.isnan(rows.loc["C", "price_index"]) and math.isnan(rows.loc["C", "list_price"])
    # a 3-day period: both "weeks" are the whole period, so no change
    assert rows.loc["A", "index_first_week"] == pytest.approx(1.125)
    assert rows.loc["A", "index_change"] == pytest.approx(0.0)
    # more than 10 % above: A (12.5 %) and D (25 %); B at exactly 10 % is not; C has no index
    assert rows["overpriced"].to_dict() == {"D": True, "A": True, "B": False, "C": False}
    wider = pricing.competitor_price_index(COMPETITORS, CP_PRODUCTS, CP_PERIOD, price_gap=0.09)
    assert wider.set_index("sku_id").loc["B", "overpriced"]
    narrow = pricing.competitor_price_index(COMPETITORS, CP_PRODUCTS, CP_PERIOD, price_gap=0.125)
    assert not narrow.set_index("sku_id").loc["A", "overpriced"]  # 12.5 % is not above 12.5 %


def test_index_trend_first_against_last_week():
    period = Period("2025-03-01", "2025-03-14", "Asia/Shanghai")
    rows = [
        (
            str(pd.Timestamp("2025-03-01") + pd.Timedelta(days=d)),
            "A",
            "c1",
            100.0 if d < 7 else 80.0,
        )
        for d in range(14)
    ]
    table = pricing.competitor_price_index(competitor_table(rows), CP_PRODUCTS, period)
    row = table.iloc[0]
    # days 1-7: 100 / 100 = 1; days 8-14: 100 / 80 = 1.25
    assert row["index_first_week"] == pytest.approx(1.0)
    assert row["index_last_week"] == pytest.approx(1.25)
    assert row["index_change"] == pytest.approx(0.25)
    assert row["price_index"] == pytest.approx(1.125)


def test_daily_and_category_index():
    daily = pricing.price_index_daily(COMPETITORS, CP_PRODUCTS, CP_PERIOD)
    assert list(daily.columns) == pricing.DAILY_COLUMNS
    expected = pd.DataFrame(
        [
            (pd.Timestamp("2025-03-10"), "apparel", 2, (1.25 + 1.1) / 2),
            (pd.Timestamp("2025-03-11"), "apparel", 2, (1.0 + 1.1) / 2),
            (pd.Timestamp("2025-03-12"), "apparel", 1, 1.1),
            (pd.Timestamp("2025-03-12"), "books", 1, 1.25),
        ],
        columns=pricing.DAILY_COLUMNS,
    )
    pd.testing.assert_frame_equal(daily, expected, check_dtype=False)
    index = pricing.competitor_price_index(COMPETITORS, CP_PRODUCTS, CP_PERIOD)
    categories = pricing.category_price_index(index)
    assert categories.values.tolist() == [
        ["apparel", 2, 2, pytest.approx((1.125 + 1.1) / 2), 1, 0.5],
        ["books", 2, 1, pytest.approx(1.25), 1, 1.0],  # C has no list price
    ]


def test_overpriced_conversion_two_proportions():
    index = pricing.competitor_price_index(COMPETITORS, CP_PRODUCTS, CP_PERIOD)
    # views in the period: A by u1, u2; D by u3; B by u1, u4, u5, u6; C (no index) by u7
    events = events_table(
        [
            ("2025-03-10 01:00", "u1", "view_item", "s1", "A"),
            ("2025-03-10 01:00", "u2", "view_item", "s2", "A"),
            ("2025-03-11 01:00", "u3", "view_item", "s3", "D"),
            ("2025-03-10 01:05", "u1", "view_item", "s1", "B"),
            ("2025-03-10 01:00", "u4", "view_item", "s4", "B"),
            ("2025-03-10 01:00", "u5", "view_item", "s5", "B"),
            ("2025-03-10 01:00", "u6", "view_item", "s6", "B"),
            ("2025-03-10 01:00", "u7", "view_item", "s7", "C"),
        ]
    )
    # bought: u1 A and B, u3 D, u4 B, u7 C; u8 bought A without viewing it (no viewer)
    orders = shop_orders(
        [
            ("p1", "u1", "2025-03-10 02:00", "paid", 210.0, 0.0, None),
            ("p3", "u3", "2025-03-11 02:00", "paid", 50.0, 0.0, None),
            ("p4", "u4", "2025-03-12 02:00", "paid", 110.0, 0.0, None),
            ("p7", "u7", "2025-03-10 02:00", "paid", 10.0, 0.0, None),
            ("p8", "u8", "2025-03-10 02:00", "paid", 100.0, 0.0, None),
            ("p5", "u5", "2025-03-10 02:00", "cancelled", 110.0, 0.0, None),
        ]
    )
    items = items_table(
        [
            ("p1", "A", 1, 100.0),
            ("p1", "B", 1, 110.0),
            ("p3", "D", 1, 50.0),
            ("p4", "B", 1, 110.0),
            ("p7", "C", 1, 10.0),
            ("p8", "A", 1, 100.0),
            ("p5", "B", 1, 110.0),
        ]
    )
    table = pricing.overpriced_conversion(events, orders, items, index, CP_PERIOD)
    assert list(table.columns) == pricing.CONVERSION_COLUMNS
    # overpriced A, D: pairs u1A, u2A, u3D, bought u1A, u3D → 2 of 3; rest B: 2 of 4 (u5 cancelled)
    assert table[["group", "skus", "viewers", "buyers"]].values.tolist() == [
        ["overpriced", 2, 3, 2],
        ["rest", 1, 4, 2],
    ]
    over, rest = table.iloc[0], table.iloc[1]
    assert over["conversion"] == pytest.approx(2 / 3) and rest["conversion"] == pytest.approx(0.5)
    assert over["diff"] == pytest.approx(1 / 6)
    # pooled p = 4/7: z² = (1/6)² / (4/7 · 3/7 · (1/3 + 1/4)) = (1/36) / (1/7) = 7/36
    assert over["p_value"] == pytest.approx(2 * stats.norm.sf(math.sqrt(7 / 36)))
    # Newcombe: from the two Wilson intervals
    l1, u1 = proportion_interval(2, 3)
    l2, u2 = proportion_interval(2, 4)
    assert over["diff_low"] == pytest.approx(1 / 6 - math.hypot(2 / 3 - l1, u2 - 0.5))
    assert over["diff_high"] == pytest.approx(1 / 6 + math.hypot(u1 - 2 / 3, 0.5 - l2))
    assert math.isnan(rest["diff"]) and math.isnan(rest["p_value"])
    note = pricing.competitor_note(index, table)
    assert "Over 3 SKUs with competitor prices" in note
    assert "2 (66.7%) are more than 10% above it" in note
    assert "1 SKUs with competitor prices have no list price and no index." in note
    assert "66.7% of the time (2 of 3), of the others 50.0% (2 of 4): +16.7 points" in note
    assert "no difference beyond the noise" in note


def test_bands_note_reads_the_table():
    table = pricing.price_bands(ORDERS, ITEMS, PRODUCTS, PERIOD)
    note = pricing.bands_note(table)
    # apparel (GMV 134) is the largest; its band 3 brings 50/134 = 37.3 % of GMV from 2/7 units
    assert "In apparel, the largest by GMV (134.00), band 3 (paid 20.00–30.00)" in note
    assert "brings 37.3% of the GMV from 28.6% of the units." in note
    assert UNKNOWN not in note
    assert pricing.pricing_note(bands=table).startswith("2 categories are cut into price bands")


def test_shop_index_daily_weighs_each_sku_alike():
    daily = pd.DataFrame(
        {
            "date": pd.to_datetime(["2025-10-01", "2025-10-01", "2025-10-02"]),
            "category": ["a", "b", "a"],
            "skus": [1, 3, 2],
            "price_index": [1.2, 1.0, 1.1],
        }
    )
    shop = pricing.shop_index_daily(daily)
    # 10-01: (1 × 1.2 + 3 × 1.0) / 4 = 1.05; 10-02: one category, 1.1
    assert shop["skus"].tolist() == [4, 2]
    assert shop["price_index"].tolist() == pytest.approx([1.05, 1.1])
    assert pricing.shop_index_daily(daily.iloc[:0]).empty


def test_the_elasticity_note_names_categories_whose_units_rose_with_price():
    table = pd.DataFrame(
        {
            "category": ["a", "b", "c"],
            "elasticity": [-1.2, 2.5, np.nan],
            "ci_low": [-2.0, 0.5, np.nan],
            "ci_high": [-0.4, 4.5, np.nan],
            "se": [0.4, 1.0, np.nan],
            "skus": [5, 4, 1],
            "sku_days": [50, 40, 3],
            "price_changes": [20, 10, 1],
            "note": ["", "", "not enough price variation (1 changes)"],
        }
    )
    note = pricing.elasticity_note(table, min_price_changes=5)
    assert "Units rose with price in b (+2.50, 95 % 0.50 to 4.50)" in note
    assert "in a" not in note  # its interval is below 0: an ordinary downward slope
