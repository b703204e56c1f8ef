"""Baskets and "bought together": pairs of SKUs and of categories in the same paid order, the
companions to recommend with each top SKU, and what first-time buyers of a category buy next.

Definitions (docs/metrics.md):

- A **basket** is a paid order (:func:`lib.definitions.paid_orders`) paid within the period's
  local days, seen as the set of its distinct SKUs (a SKU on two lines, or bought twice, counts
  once). Paid orders without any line are no basket. Orders with more than ``basket_max_items``
  distinct SKUs are left out and counted (:func:`basket_summary`): bulk, wholesale or test
  orders would pair every SKU with every other and swamp the real pairs.
- ``N`` = the baskets kept, single-item ones included. For A → B, with ``n_A`` the baskets
  holding A and ``n_AB`` those holding both: ``support = n_AB / N``, ``confidence = n_AB /
  n_A``, ``lift = confidence / (n_B / N)``, ``leverage = support − (n_A / N)(n_B / N)``,
  ``conviction = (1 − n_B / N) / (1 − confidence)`` (inf when confidence is 1), as mlxtend's
  ``association_rules`` defines them. Both directions are rows. Categories (missing or unknown
  ones ``(unknown)``) are counted in the same way over each basket's distinct categories.
- ``p_value``: one-sided hypergeometric (Fisher) test of ``n_AB`` or more baskets with both,
  given ``n_A``, ``n_B`` and ``N``; ``q_value``: Benjamini–Hochberg over every pair of items
  present in the kept baskets (a pair never bought together has p = 1 and still counts in the
  family). A pair is labelled **bought together** only when ``lift > 1`` and ``q_value ≤``
  :data:`FDR_LEVEL` (:func:`is_bought_together`).
- Tables list pairs with at least ``min_pair_orders`` baskets with both, sorted by lift
  (largest first), then ``orders_both`` (largest first), then the ids.
- ``bought_together``: the ``top_skus`` SKUs in the most kept baskets (ties by id) and for each
  its ``recommend_n`` best companions by lift (then ``orders_both``, then id) among its pairs
  with at least ``min_pair_orders`` baskets.
- Cross-sell (:func:`cross_sell_matrix`): a first-time buyer of the period is a user whose first
  paid order ever (by ``paid_time``, ties by ``order_id``) was paid within the period. The
  order's category is the one with the largest line value (``quantity × unit_price``) in it,
  ties by more lines, then by name (an order without lines: ``(unknown)``). Their next paid
  orders are the later ones paid at most ``next_days`` local days after the first day (after
  the period end too, when the data has them); each category in any of their lines counts once
  per buyer, the first category included (buying it again). ``share = buyers /`` the first
  category's first-time buyers.

Everything is counted in the engine (a self-join of the baskets' lines by order): only pair
counts come back to pandas, where the ratios are worked out from the integers, so DuckDB and
PySpark give the same tables. Orders alone (+ ``order_items``, ``products``) are enough.
"""

from __future__ import annotations

import math

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats

from lib import parameters
from lib.definitions import UNKNOWN, catalogue, last_order_day, paid_orders, paid_orders_in
from lib.periods import Period

DEFAULT_BASKET_MAX_ITEMS = parameters.default("basket_max_items")
DEFAULT_RECOMMEND_N = parameters.default("recommend_n")
DEFAULT_MIN_PAIR_ORDERS = parameters.default("basket_min_pair_orders")
DEFAULT_TOP_SKUS = 20
DEFAULT_NEXT_DAYS = parameters.default("cross_sell_days")
# Benjamini–Hochberg false discovery rate under which a pair with lift > 1 is "bought together".
FDR_LEVEL = 0.05

MEASURES = ["orders_both", "support", "confidence", "lift", "leverage", "conviction"]
EXTRA = ["orders_a", "orders_b", "p_value", "q_value"]
# the contract's columns of basket_pairs.csv (the category table has category_a, category_b)
PAIR_COLUMNS = ["sku_a", "sku_b", *MEASURES]
SUMMARY_COLUMNS = [
    "paid_orders",
    "orders_without_lines",
    "orders_over_max_items",
    "baskets",
    "multi_item_baskets",
    "basket_max_items",
]
BOUGHT_TOGETHER_COLUMNS = [
    "sku_id",
    "rank",
    "companion_sku_id",
    "orders_both",
    "confidence",
    "lift",
]
CROSS_SELL_COLUMNS = ["first_category", "next_category", "buyers", "share"]
CROSS_SELL_BUYER_COLUMNS = ["first_category", "buyers", "buyers_with_next", "observed_buyers"]


def _check_count(name: str, value: int, low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name}={value!r} must be a whole number from {low}")


# --------------------------------------------------------------------------------------------
# Baskets in the engine


def _order_skus(orders: ir.Table, order_items: ir.Table, period: Period) -> ir.Table:
    """``order_id, sku_id``: the distinct SKUs of each paid order of the period."""
    paid = paid_orders_in(orders, period).select("order_id").distinct()
    items = order_items.filter(order_items.sku_id.notnull()).select("order_id", "sku_id")
    return paid.join(items, "order_id").select("order_id", "sku_id").distinct()


def _kept_skus(orders: ir.Table, order_items: ir.Table, period: Period, max_items: int) -> ir.Table:
    """``order_id, sku_id`` of the baskets with at most ``max_items`` distinct SKUs."""
    _check_count("basket_max_items", max_items, 2)
    lines = _order_skus(orders, order_items, period)
    sizes = lines.group_by("order_id").aggregate(n_skus=lines.count())
    kept = sizes.filter(sizes.n_skus <= max_items).select(kept_order="order_id")
    return lines.join(kept, lines.order_id == kept.kept_order).select("order_id", "sku_id")


def _kept_categories(
    orders: ir.Table, order_items: ir.Table, products: ir.Table, period: Period, max_items: int
) -> ir.Table:
    """``order_id, item``: the distinct categories of the kept baskets."""
    lines = _kept_skus(orders, order_items, period, max_items)
    known = catalogue(products).select("catalogue_sku", "category")
    joined = lines.left_join(known, lines.sku_id == known.catalogue_sku)
    return joined.select("order_id", item=joined.category.fill_null(UNKNOWN)).distinct()


def basket_summary(
    orders: ir.Table,
    order_items: ir.Table,
    period: Period,
    basket_max_items: int = DEFAULT_BASKET_MAX_ITEMS,
) -> pd.DataFrame:
    """One row: ``paid_orders`` of the period, ``orders_without_lines``,
    ``orders_over_max_items`` (left out), ``baskets`` (N, kept), ``multi_item_baskets`` (two or
    more SKUs) and the ``basket_max_items`` used."""
    _check_count("basket_max_items", basket_max_items, 2)
    paid = paid_orders_in(orders, period).select("order_id").distinct()
    lines = _order_skus(orders, order_items, period)
    sizes = lines.group_by("order_id").aggregate(n_skus=lines.count())
    counted = sizes.aggregate(
        with_lines=sizes.count(),
        over=(sizes.n_skus > basket_max_items).cast("int64").sum(),
        multi=((sizes.n_skus >= 2) & (sizes.n_skus <= basket_max_items)).cast("int64").sum(),
    ).to_pandas()
    paid_count = int(paid.count().to_pandas())
    with_lines = int(counted["with_lines"].fillna(0).iloc[0])
    over = int(counted["over"].fillna(0).iloc[0])
    row = {
        "paid_orders": paid_count,
        "orders_without_lines": paid_count - with_lines,
        "orders_over_max_items": over,
        "baskets": with_lines - over,
        "multi_item_baskets": int(counted["multi"].fillna(0).iloc[0]),
        "basket_max_items": basket_max_items,
    }
    return pd.DataFrame([row], columns=SUMMARY_COLUMNS).astype("int64")


def _pair_counts(lines: ir.Table, key: str) -> tuple[int, pd.DataFrame, pd.DataFrame]:
    """``N``, the baskets per item (``item, orders``) and the unordered pairs bought together at
    least once (``item_a < item_b, orders_both``), counted in the engine."""
    lines = lines.select("order_id", item=lines[key])
    n = int(lines.order_id.nunique().to_pandas())
    per_item = lines.group_by("item").aggregate(orders=lines.count()).to_pandas()
    left = lines.select(order_a="order_id", item_a="item")
    right = lines.select(order_b="order_id", item_b="item")
    pairs = left.join(right, [left.order_a == right.order_b, left.item_a < right.item_b])
    counted = pairs.group_by(["item_a", "item_b"]).aggregate(orders_both=pairs.count())
    return n, per_item.astype({"orders": "int64"}), counted.to_pandas()


def _measures(n: int, per_item: pd.DataFrame, pairs: pd.DataFrame, min_orders: int) -> pd.DataFrame:
    """Both directions of the unordered pairs with their measures, p- and q-values."""
    counts = per_item.set_index("item")["orders"]
    table = pairs.astype({"orders_both": "int64"})
    table["orders_a"] = table["item_a"].map(counts).astype("int64")
    table["orders_b"] = table["item_b"].map(counts).astype("int64")
    # one-sided: n_AB or more baskets with both, given the marginals (symmetric in A and B)
    table["p_value"] = stats.hypergeom.sf(
        table["orders_both"] - 1, n, table["orders_a"], table["orders_b"]
    )
    # BH over every pair of items in the baskets; pairs never bought together have p = 1, and
    # BH with those added is the BH of the others scaled by (all pairs / pairs seen), capped at 1
    k = len(counts)
    family = k * (k - 1) // 2
    if len(table):
        found = stats.false_discovery_control(table["p_value"].to_numpy(), method="bh")
        table["q_value"] = np.minimum(1.0, found * (family / len(table)))
    else:
        table["q_value"] = pd.Series(dtype="float64")
    table = table[table["orders_both"] >= min_orders]
    flipped = table.rename(
        columns={
            "item_a": "item_b",
            "item_b": "item_a",
            "orders_a": "orders_b",
            "orders_b": "orders_a",
        }
    )
    both = pd.concat([table, flipped], ignore_index=True)
    n_ab, n_a, n_b = (both[c].astype("float64") for c in ("orders_both", "orders_a", "orders_b"))
    both["support"] = n_ab / n
    both["confidence"] = n_ab / n_a
    # worked from the counts so that A → B and B → A have exactly the same lift
    both["lift"] = (n_ab * n) / (n_a * n_b)
    both["leverage"] = both["support"] - (n_a / n) * (n_b / n)
    certain = both["confidence"] >= 1.0
    both["conviction"] = np.where(
        certain, np.inf, (1.0 - n_b / n) / (1.0 - both["confidence"].where(~certain, 0.0))
    )
    both = both.sort_values(
        ["lift", "orders_both", "item_a", "item_b"], ascending=[False, False, True, True]
    )
    return both[["item_a", "item_b", *MEASURES, *EXTRA]].reset_index(drop=True)


def _pairs_table(lines: ir.Table, key: str, min_pair_orders: int, names: tuple[str, str]):
    _check_count("min_pair_orders", min_pair_orders)
    n, per_item, pairs = _pair_counts(lines, key)
    table = _measures(n, per_item, pairs, min_pair_orders)
    return table.rename(columns={"item_a": names[0], "item_b": names[1]})


def basket_pairs(
    orders: ir.Table,
    order_items: ir.Table,
    period: Period,
    min_pair_orders: int = DEFAULT_MIN_PAIR_ORDERS,
    basket_max_items: int = DEFAULT_BASKET_MAX_ITEMS,
) -> pd.DataFrame:
    """``sku_a, sku_b, orders_both, support, confidence, lift, leverage, conviction, orders_a,
    orders_b, p_value, q_value``: A → B for SKU pairs in at least ``min_pair_orders`` baskets of
    the period (see the module docstring), both directions, by lift, then orders, then ids."""
    lines = _kept_skus(orders, order_items, period, basket_max_items)
    return _pairs_table(lines, "sku_id", min_pair_orders, ("sku_a", "sku_b"))


def basket_category_pairs(
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    period: Period,
    min_pair_orders: int = DEFAULT_MIN_PAIR_ORDERS,
    basket_max_items: int = DEFAULT_BASKET_MAX_ITEMS,
) -> pd.DataFrame:
    """As :func:`basket_pairs` for the baskets' categories: ``category_a, category_b, …``."""
    lines = _kept_categories(orders, order_items, products, period, basket_max_items)
    return _pairs_table(lines, "item", min_pair_orders, ("category_a", "category_b"))


def is_bought_together(pairs: pd.DataFrame, alpha: float = FDR_LEVEL) -> pd.Series:
    """Whether each pair is bought together beyond chance: ``lift > 1`` and ``q_value ≤
    alpha`` (Benjamini–Hochberg false discovery rate)."""
    return (pairs["lift"] > 1.0) & (pairs["q_value"] <= alpha)


def top_skus_by_orders(
    orders: ir.Table,
    order_items: ir.Table,
    period: Period,
    top_skus: int = DEFAULT_TOP_SKUS,
    basket_max_items: int = DEFAULT_BASKET_MAX_ITEMS,
) -> pd.DataFrame:
    """``sku_id, orders``: the ``top_skus`` SKUs in the most kept baskets, ties by id."""
    _check_count("top_skus", top_skus)
    lines = _kept_skus(orders, order_items, period, basket_max_items)
    counted = lines.group_by("sku_id").aggregate(orders=lines.count())
    table = counted.order_by([ibis.desc("orders"), "sku_id"]).limit(top_skus).to_pandas()
    table = table.sort_values(["orders", "sku_id"], ascending=[False, True])
    return table.astype({"orders": "int64"}).reset_index(drop=True)


def bought_together(
    orders: ir.Table,
    order_items: ir.Table,
    period: Period,
    products: ir.Table | None = None,
    top_skus: int = DEFAULT_TOP_SKUS,
    recommend_n: int = DEFAULT_RECOMMEND_N,
    min_pair_orders: int = DEFAULT_MIN_PAIR_ORDERS,
    basket_max_items: int = DEFAULT_BASKET_MAX_ITEMS,
) -> pd.DataFrame:
    """``sku_id, rank, companion_sku_id, orders_both, confidence, lift`` (+
    ``companion_category`` with ``products``, then ``q_value``): for each of the ``top_skus``
    SKUs in the most baskets (in that order), its ``recommend_n`` best companions by lift, then
    ``orders_both``, then id, among pairs in at least ``min_pair_orders`` baskets. A top SKU
    without such a pair has no row."""
    _check_count("recommend_n", recommend_n)
    top = top_skus_by_orders(orders, order_items, period, top_skus, basket_max_items)
    pairs = basket_pairs(orders, order_items, period, min_pair_orders, basket_max_items)
    position = {sku: i for i, sku in enumerate(top["sku_id"])}
    chosen = pairs[pairs["sku_a"].isin(position)].copy()
    chosen["_top"] = chosen["sku_a"].map(position)
    chosen = chosen.sort_values(
        ["_top", "lift", "orders_both", "sku_b"], ascending=[True, False, False, True]
    )
    chosen = chosen.groupby("_top", sort=False).head(recommend_n)
    chosen["rank"] = chosen.groupby("_top").cumcount().astype("int64") + 1
    table = chosen.rename(columns={"sku_a": "sku_id", "sku_b": "companion_sku_id"})
    columns = list(BOUGHT_TOGETHER_COLUMNS)
    if products is not None:
        known = catalogue(products).select("catalogue_sku", "category").to_pandas()
        names = known.set_index("catalogue_sku")["category"]
        table["companion_category"] = table["companion_sku_id"].map(names).fillna(UNKNOWN)
        columns.append("companion_category")
    return table[[*columns, "q_value"]].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Cross-sell: what first-time buyers of a category buy next


def _order_main_category(order_items: ir.Table, products: ir.Table) -> ir.Table:
    """``order_id, main_category``: the category with the largest line value in each order, ties
    by more lines, then by name."""
    known = catalogue(products).select("catalogue_sku", "category")
    lines = order_items.left_join(known, order_items.sku_id == known.catalogue_sku)
    lines = lines.select(
        lines.order_id,
        category=lines.category.fill_null(UNKNOWN),
        value=(lines.quantity * lines.unit_price).fill_null(0.0),
    )
    per = lines.group_by(["order_id", "category"]).aggregate(
        value=lines.value.sum(), lines=lines.count()
    )
    # values rounded to cents before ranking: engines add floats in no fixed order
    per = per.mutate(value=per.value.round(2))
    order = ibis.window(
        group_by="order_id", order_by=[ibis.desc("value"), ibis.desc("lines"), "category"]
    )
    ranked = per.mutate(position=ibis.row_number().over(order))
    first = ranked.filter(ranked.position == 0)
    return first.select(main_order="order_id", main_category="category")


def _order_categories(order_items: ir.Table, products: ir.Table) -> ir.Table:
    """``order_id, category``: the distinct categories of each order's lines."""
    known = catalogue(products).select("catalogue_sku", "category")
    lines = order_items.left_join(known, order_items.sku_id == known.catalogue_sku)
    return lines.select(lines.order_id, category=lines.category.fill_null(UNKNOWN)).distinct()


def _first_time_buyers(
    orders: ir.Table, order_items: ir.Table, products: ir.Table, period: Period
) -> ir.Table:
    """``user_id, first_order, first_time, first_day, first_category`` of the buyers whose first
    paid order ever was paid within the period."""
    paid = paid_orders(orders)
    order = ibis.window(group_by="user_id", order_by=["paid_time", "order_id"])
    ranked = paid.mutate(position=ibis.row_number().over(order))
    first = ranked.filter(ranked.position == 0)
    first = first.mutate(first_day=period.local_day(first.paid_time))
    first = first.filter(first.first_day.between(period.start_day, period.end_day))
    main = _order_main_category(order_items, products)
    first = first.select(
        "user_id", "first_day", first_order=first.order_id, first_time=first.paid_time
    )
    joined = first.left_join(main, first.first_order == main.main_order)
    return joined.select(
        "user_id",
        "first_order",
        "first_time",
        "first_day",
        first_category=joined.main_category.fill_null(UNKNOWN),
    )


def _next_categories(
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    period: Period,
    next_days: int,
) -> tuple[ir.Table, ir.Table]:
    """The first-time buyers and ``user_id, first_category, next_category`` (distinct) of their
    next paid orders within ``next_days`` local days."""
    _check_count("next_days", next_days)
    buyers = _first_time_buyers(orders, order_items, products, period)
    paid = paid_orders(orders)
    paid = paid.select(
        next_user="user_id",
        next_order="order_id",
        next_time="paid_time",
        next_day=period.local_day(paid.paid_time),
    )
    later = buyers.join(
        paid,
        [
            buyers.user_id == paid.next_user,
            buyers.first_order != paid.next_order,
            # later in payment order (ties by order_id, as the first order was chosen)
            (paid.next_time > buyers.first_time)
            | ((paid.next_time == buyers.first_time) & (paid.next_order > buyers.first_order)),
            paid.next_day <= buyers.first_day + next_days,
        ],
    )
    categories = _order_categories(order_items, products)
    nexts = later.left_join(categories, later.next_order == categories.order_id)
    nexts = nexts.select(
        "user_id", "first_category", next_category=nexts.category.fill_null(UNKNOWN)
    ).distinct()
    return buyers, nexts


def cross_sell_matrix(
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    period: Period,
    next_days: int = DEFAULT_NEXT_DAYS,
) -> pd.DataFrame:
    """``first_category, next_category, buyers, share``: first-time buyers of the period by
    their first order's category, and how many of them bought each category in their next paid
    orders within ``next_days`` days (see the module docstring). By first category's buyers
    (most first), then buyers (most first), then names."""
    buyers, nexts = _next_categories(orders, order_items, products, period, next_days)
    sizes = buyers.group_by("first_category").aggregate(first_buyers=buyers.count()).to_pandas()
    counted = (
        nexts.group_by(["first_category", "next_category"])
        .aggregate(buyers=nexts.count())
        .to_pandas()
    )
    table = counted.merge(sizes, on="first_category", how="left")
    table = table.astype({"buyers": "int64", "first_buyers": "int64"})
    table["share"] = table["buyers"] / table["first_buyers"]
    table = table.sort_values(
        ["first_buyers", "first_category", "buyers", "next_category"],
        ascending=[False, True, False, True],
    )
    return table[CROSS_SELL_COLUMNS].reset_index(drop=True)


def cross_sell_buyers(
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    period: Period,
    next_days: int = DEFAULT_NEXT_DAYS,
) -> pd.DataFrame:
    """``first_category, buyers, buyers_with_next, observed_buyers``: the first-time buyers of
    each first category (n of :func:`cross_sell_matrix`'s shares), those with a next paid
    order within ``next_days`` days, and those whose whole window lies within the last local
    day in the orders (the others may still buy again). Most buyers first."""
    buyers, nexts = _next_categories(orders, order_items, products, period, next_days)
    horizon = last_order_day(orders, period)
    sizes = buyers.group_by("first_category").aggregate(
        buyers=buyers.count(),
        observed_buyers=(buyers.first_day + next_days <= horizon).cast("int64").sum(),
    )
    again = nexts.select("user_id", "first_category").distinct()
    again = again.group_by("first_category").aggregate(buyers_with_next=again.count())
    table = sizes.to_pandas().merge(again.to_pandas(), on="first_category", how="left")
    table = table.fillna({"buyers_with_next": 0, "observed_buyers": 0})
    table = table.astype({c: "int64" for c in CROSS_SELL_BUYER_COLUMNS[1:]})
    table = table.sort_values(["buyers", "first_category"], ascending=[False, True])
    return table[CROSS_SELL_BUYER_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Notes


def _share(value: float) -> str:
    return f"{value:.1%}"


def _lift(value: float) -> str:
    return "∞" if math.isinf(value) else f"{value:.2f}"


def _q(value: float) -> str:
    return f"{value:.2g}" if value >= 0.001 else "< 0.001"


def basket_note(
    summary: pd.DataFrame,
    pairs: pd.DataFrame,
    category_pairs: pd.DataFrame | None = None,
    min_pair_orders: int = DEFAULT_MIN_PAIR_ORDERS,
    alpha: float = FDR_LEVEL,
) -> str:
    """Sentences from :func:`basket_summary` and :func:`basket_pairs` (and optionally
    :func:`basket_category_pairs`): baskets counted, orders left out and why, the strongest
    pair with its lift and n, and how many pairs are bought together beyond chance."""
    row = summary.iloc[0]
    paid, kept, multi = int(row["paid_orders"]), int(row["baskets"]), int(row["multi_item_baskets"])
    over, empty, cap = (
        int(row["orders_over_max_items"]),
        int(row["orders_without_lines"]),
        int(row["basket_max_items"]),
    )
    if not kept:
        return f"No basket to read: {paid:,} paid orders in the period, none with lines kept."
    parts = [
        f"{kept:,} baskets (paid orders of the period) are read; {multi:,} of them "
        f"({_share(multi / kept)}) hold two or more SKUs, the only ones that can pair."
    ]
    if over:
        parts.append(
            f"{over:,} paid orders with more than {cap} distinct SKUs are left out "
            "(bulk or test orders would pair every SKU with every other)."
        )
    else:
        parts.append(f"No paid order had more than {cap} distinct SKUs, so none was left out.")
    if empty:
        parts.append(f"{empty:,} paid orders have no lines and are no basket.")
    for table, what, a, b in (
        (pairs, "SKUs", "sku_a", "sku_b"),
        (category_pairs, "categories", "category_a", "category_b"),
    ):
        if table is None:
            continue
        if table.empty:
            parts.append(f"No pair of {what} was bought together in {min_pair_orders}+ baskets.")
            continue
        top = table.iloc[0]
        together = is_bought_together(table, alpha)
        n_pairs, n_together = len(table) // 2, int(together.sum()) // 2
        if top["lift"] <= 1.0:
            parts.append(
                f"No pair of {what} in {min_pair_orders}+ baskets is bought together more often "
                f"than chance would give: the highest lift, {_lift(top['lift'])}, is "
                f"{top[a]} + {top[b]} ({int(top['orders_both']):,} baskets)."
            )
            continue
        parts.append(
            f"The strongest pair of {what} is {top[a]} + {top[b]}: both in "
            f"{int(top['orders_both']):,} baskets, lift {_lift(top['lift'])} "
            f"(q {_q(top['q_value'])}); {n_together:,} of the {n_pairs:,} pairs in "
            f"{min_pair_orders}+ baskets are bought together beyond chance (lift > 1, "
            f"Benjamini–Hochberg q ≤ {alpha:g})."
        )
    return " ".join(parts)


def bought_together_note(table: pd.DataFrame, top_skus: int = DEFAULT_TOP_SKUS) -> str:
    """Sentences from :func:`bought_together`: how many top SKUs have companions, the
    strongest recommendation and how many rest on a pair beyond chance."""
    if table.empty:
        return (
            f"None of the top {top_skus} SKUs has a companion bought with it often enough to "
            "recommend."
        )
    skus = table["sku_id"].nunique()
    best = table.sort_values(["lift", "orders_both"], ascending=[False, False]).iloc[0]
    together = int(is_bought_together(table).sum())
    if together == len(table):
        evidence = f"All {len(table)} rest on a pair bought together beyond chance."
    else:
        evidence = (
            f"{together} of the {len(table)} recommendations rest on a pair bought together "
            "beyond chance; the others are weaker evidence."
        )
    return (
        f"{skus} of the top {top_skus} SKUs have companions to recommend ({len(table)} in all). "
        f"The strongest: with {best['sku_id']}, recommend {best['companion_sku_id']} "
        f"(bought together in {int(best['orders_both']):,} baskets, {_share(best['confidence'])} "
        f"of those with {best['sku_id']}, lift {_lift(best['lift'])}). {evidence}"
    )


def cross_sell_note(
    matrix: pd.DataFrame, buyers: pd.DataFrame, next_days: int = DEFAULT_NEXT_DAYS
) -> str:
    """Sentences from :func:`cross_sell_matrix` and :func:`cross_sell_buyers`: first-time
    buyers, how many bought again within ``next_days`` days, and the strongest move from the
    largest first category to another."""
    total = int(buyers["buyers"].sum()) if len(buyers) else 0
    if not total:
        return "No first-time buyer in the period."
    again = int(buyers["buyers_with_next"].sum())
    observed = int(buyers["observed_buyers"].sum())
    parts = [
        f"{total:,} buyers made their first paid order in the period; {again:,} "
        f"({_share(again / total)}) paid for another within {next_days} days."
    ]
    if observed < total:
        parts.append(
            f"The data ends before the {next_days}-day window of {total - observed:,} of them "
            "closes, so their next purchases may still come: the shares are lower bounds."
        )
    other = matrix[matrix["first_category"] != matrix["next_category"]]
    if not other.empty:
        largest = buyers.iloc[0]["first_category"]
        mine = other[other["first_category"] == largest]
        row = mine.iloc[0] if len(mine) else other.iloc[0]
        n = int(buyers.set_index("first_category").loc[row["first_category"], "buyers"])
        parts.append(
            f"Of the {n:,} first-time buyers of {row['first_category']}, {int(row['buyers']):,} "
            f"({_share(row['share'])}) bought {row['next_category']} next, the most common other "
            "category."
        )
    return " ".join(parts)
