"""Products (商品分析): what sells, what earns, what draws traffic, and what buyers think of it.

Definitions (docs/metrics.md, "Products"), per category or SKU over the period:

- ``impressions``: ``view_item_list`` events of the item on a local day of the period;
  ``clicks``: ``select_item`` events; ``ctr = clicks / impressions``.
- ``viewers``: distinct users with a ``view_item`` of the item (the same viewers as
  :func:`lib.funnel.item_conversion`); ``buyers``: distinct users with a paid order
  (:func:`lib.definitions.paid_orders`) paid in the period containing the item (a line of the
  category); ``conversion_rate = buyers / viewers``. It is a ratio of the period's counts, not a
  funnel: a buyer need not have viewed the item in the period (the funnel is notebook 02's).
- ``units``: Σ quantity; ``revenue``: Σ quantity × unit_price over those orders' lines;
  ``cost``: Σ quantity × ``products.unit_cost`` (a SKU without a cost adds 0);
  ``gross_margin = (revenue − cost) / revenue``; ``revenue_share``: of the total revenue.

The *new BCG matrix* (新型波士顿矩阵, :func:`with_quadrants`): items with at least
``min_viewers`` viewers (``quadrant_min_viewers``, 30) are split on exposure (``impressions`` by
default) and ``conversion_rate`` at the medians of those items (or given splits). High exposure
and high conversion is a ``star``, high exposure and low conversion a ``traffic driver`` (导流型),
low exposure and high conversion a ``future star`` (未来明星), low and low a ``question``. A label
is given only beyond the noise: conversion is high when the lower end of its 95% Wilson interval
(``buyers`` of ``viewers``) is above the split, low when the upper end is below it; an interval
that contains the split is *near* it, and so is an exposure that is a proportion (``ctr``:
clicks of impressions) by the same rule. A count or an amount of money (impressions, clicks,
viewers, revenue, ...) is measured, not estimated: at or above its split it is high. (The
interval reads buyers / viewers as a share of the viewers; as a buyer need not be a viewer here,
it approximates the ratio's noise, and an item with more buyers than viewers has none: it is
near the split.) An item near a split is ``unclear (near a split)``, one with fewer viewers
``not enough data``, one without viewers ``(no viewers)``; ``label_basis`` says why, in numbers.

Pareto / ABC (:func:`sku_pareto`): SKUs by revenue (largest first, ties by ``sku_id``); a SKU is
``A`` while the cumulative share *before* it is below ``a_share`` (0.8), so the A SKUs are the
fewest that make 80% of revenue; ``B`` likewise up to ``b_share`` (0.95); the rest, and every SKU
without revenue, ``C``. Without any revenue the revenue shares are null.

Product roles (:func:`product_roles`), among SKUs sold in the period, with thresholds at quantiles
of those SKUs (:class:`RoleRule`); the first rule that matches names the role:

1. *image item* (形象款): average price (revenue / units) ≥ its ``image_price_quantile`` and units
   ≤ their ``image_max_units_quantile``: expensive and rarely bought, there to set the brand
   (rarity is the rule itself, so it needs no minimum of buyers);
2. ``not enough data``: fewer than ``min_buyers`` buyers (``role_min_buyers``, 3): the margin and
   price of one or two sales say too little to call a SKU anything else;
3. *traffic item* (引流款): viewers > 0 and ≥ their ``traffic_views_quantile`` and gross margin ≤
   its ``traffic_max_margin_quantile``: much looked at, little earned;
4. *profit item* (利润款): gross margin ≥ its ``profit_margin_quantile``;
5. otherwise a *regular item*.

Discounts (:func:`discount_loss`), per category: ``list_value`` = Σ quantity × list_price (the
selling price when the list price is unknown); ``markdown = list_value − revenue`` (price cuts);
``coupon_discount``: each paid order's ``discount_amount`` split over its lines by line value
(equally when the lines are worth 0); ``net_revenue = revenue − coupon_discount``;
``revenue_lost = markdown + coupon_discount`` is also the gross profit lost, as the cost of the
goods does not change; ``margin_at_list = (list_value − cost) / list_value``,
``margin_after_discounts = (net_revenue − cost) / net_revenue`` and ``margin_lost`` their
difference (in shares, 0.05 = 5 points).

The ``*_note`` functions are the sentences notebook 04 prints, each computed from one of these
tables; :func:`counted_labels`, :func:`matrix_labels` and :func:`rating_trend_shown` make charts
say how many observations a bar or cell rests on, or leave out what rests on too few.

Reviews (optional table), for reviews written on a local day of the period: the rating
distribution and weekly average by category (:func:`review_summary`, :func:`rating_trend`),
SKUs with a low average and enough reviews with their sales (:func:`low_rated_skus`), and
:func:`rating_repurchase`: per rating, the share of reviews whose author paid for another order
within ``window_days`` after the review (only reviews whose window ends by the last local day in
the orders count, so a recent review is never counted as no repurchase).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from lib import parameters
from lib.definitions import (
    MONEY_DECIMALS,
    UNKNOWN,
    catalogue,
    events_in,
    last_order_day,
    paid_lines,
    paid_orders,
    week_start,
)
from lib.periods import SECONDS_PER_DAY, Period, epoch_seconds, to_timestamps
from lib.stats import interval_side, proportion_intervals, two_proportion_pvalue

LEVELS = ("category", "sku")
ENGAGEMENT_EVENTS = ("view_item_list", "select_item", "view_item")
# the measures of the performance table, which the exposure_measure parameter chooses from
PERFORMANCE_COLUMNS = list(parameters.choices("exposure_measure"))
QUADRANTS = parameters.keys("target_mix")  # the quadrants, in display order
NO_QUADRANT = "(no viewers)"
NOT_ENOUGH_DATA = "not enough data"
UNCLEAR = "unclear (near a split)"
# the labels an item gets besides a quadrant, in display order after the quadrants
UNPLACED = (UNCLEAR, NOT_ENOUGH_DATA, NO_QUADRANT)
QUADRANT_ACTIONS = {
    "star": "keep it in stock and in the best slots; protect its price",
    "traffic driver": "use it as the way in: bundle it with profit items and fix what stops "
    "viewers from buying",
    "future star": "give it exposure: slots, search and ads bring buyers at a high rate",
    "question": "fix the offer or prune it; do not spend traffic on it",
    UNCLEAR: "within the noise of a split: judge it again on a longer period before moving "
    "stock or traffic",
    NOT_ENOUGH_DATA: "too few viewers to place it: judge it once more people have seen it",
    NO_QUADRANT: "no viewers in the period: get it seen first",
}
DEFAULT_TARGET_MIX = parameters.default("target_mix")
DEFAULT_QUADRANT_MIN_VIEWERS = parameters.default("quadrant_min_viewers")
# Performance measures that are a proportion of a count, as (successes, trials): they get a
# Wilson interval. The other measures are counts or money, measured rather than estimated.
PROPORTIONS = {"ctr": ("clicks", "impressions"), "conversion_rate": ("buyers", "viewers")}
# the shares among the measures, shown as percentages in label_basis
SHARES = ("ctr", "conversion_rate", "gross_margin", "revenue_share")
ROLES = ("image item", "traffic item", "profit item", "regular item")
# the rows of role_summary: the roles, then the SKUs sold too rarely for one
ROLE_ROWS = (*ROLES, NOT_ENOUGH_DATA)
DEFAULT_ROLE_MIN_BUYERS = parameters.default("role_min_buyers")
ABC_CLASSES = ("A", "B", "C")
RATINGS = (1, 2, 3, 4, 5)
SIGNIFICANCE_LEVEL = 0.05


# --------------------------------------------------------------------------------------------
# Category and SKU performance


def _item_key(level: str) -> str:
    if level not in LEVELS:
        raise ValueError(f"level={level!r} must be one of {', '.join(LEVELS)}")
    return "category" if level == "category" else "sku_id"


def _engagement(events: ir.Table, products: ir.Table, period: Period, key: str) -> pd.DataFrame:
    """Impressions, clicks and viewers per item, in one pass over the period's events."""
    inside = events_in(events, period)
    inside = inside.filter(inside.event_name.isin(ENGAGEMENT_EVENTS), inside.sku_id.notnull())
    if key == "category":
        known = catalogue(products)
        inside = inside.left_join(known, inside.sku_id == known.catalogue_sku)
        inside = inside.mutate(category=inside.category.fill_null(UNKNOWN))
    name = inside.event_name
    return (
        inside.group_by(key)
        .aggregate(
            impressions=(name == "view_item_list").cast("int64").sum(),
            clicks=(name == "select_item").cast("int64").sum(),
            viewers=(name == "view_item").ifelse(inside.user_id, ibis.null("string")).nunique(),
        )
        .to_pandas()
    )


def item_performance(
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    period: Period,
    events: ir.Table | None = None,
    level: str = "category",
) -> pd.DataFrame:
    """Exposure, conversion, sales and margin per category (or SKU) of the catalogue.

    Columns: the item (``category``, or ``sku_id`` and ``category``) and
    :data:`PERFORMANCE_COLUMNS` (see the module docstring). Every item of the catalogue has a row,
    sold or not, plus any item seen in the events or orders but missing from it (category
    ``(unknown)``). Without events, impressions, clicks and viewers are 0 and the rates null.
    Sorted by revenue (largest first), then the item.
    """
    key = _item_key(level)
    known = catalogue(products)
    if key == "category":
        base = known.select("category").distinct().to_pandas()
    else:
        base = known.select(sku_id=known.catalogue_sku, category=known.category).to_pandas()
        base = base.drop_duplicates("sku_id")

    lines = paid_lines(orders, order_items, products, period)
    sales = (
        lines.group_by(key)
        .aggregate(
            buyers=lines.user_id.nunique(),
            units=lines.quantity.sum(),
            revenue=lines.revenue.sum(),
            cost=lines.cost.sum(),
        )
        .to_pandas()
    )
    if events is not None:
        engagement = _engagement(events, products, period, key)
    else:
        engagement = pd.DataFrame(columns=[key, "impressions", "clicks", "viewers"])

    table = base.merge(sales, on=key, how="outer").merge(engagement, on=key, how="outer")
    if key == "sku_id":
        table["category"] = table["category"].fillna(UNKNOWN)
    for column in ("impressions", "clicks", "viewers", "buyers", "units"):
        table[column] = table[column].fillna(0).astype("int64")
    for column in ("revenue", "cost"):
        table[column] = table[column].fillna(0.0).astype("float64").round(MONEY_DECIMALS)
    table = _with_rates(table)
    table = table.sort_values(["revenue", key], ascending=[False, True])
    item_columns = [key] if key == "category" else ["sku_id", "category"]
    return table[item_columns + PERFORMANCE_COLUMNS].reset_index(drop=True)


def without_costs(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`item_performance`'s table with ``cost`` and ``gross_margin`` empty (NaN), for a
    catalogue without ``unit_cost``: a SKU without a cost adds 0, so they would read 0 and 100%."""
    return table.assign(**{c: math.nan for c in ("cost", "gross_margin") if c in table.columns})


def _with_rates(table: pd.DataFrame) -> pd.DataFrame:
    def ratio(top: pd.Series, bottom: pd.Series) -> pd.Series:
        return (top / bottom.where(bottom > 0)).astype("float64")

    table["ctr"] = ratio(table["clicks"], table["impressions"])
    table["conversion_rate"] = ratio(table["buyers"], table["viewers"])
    table["gross_margin"] = ratio(table["revenue"] - table["cost"], table["revenue"])
    total = table["revenue"].sum()
    table["revenue_share"] = table["revenue"] / total if total > 0 else math.nan
    return table


# --------------------------------------------------------------------------------------------
# The new BCG matrix and the category mix


def quadrant_splits(
    table: pd.DataFrame,
    exposure: str = "impressions",
    exposure_split: float | None = None,
    conversion_split: float | None = None,
    min_viewers: int = DEFAULT_QUADRANT_MIN_VIEWERS,
) -> tuple[float, float]:
    """``(exposure_split, conversion_split)``: the given values, or the medians over the items
    that get a quadrant (a conversion rate and at least ``min_viewers`` viewers)."""
    if exposure not in table.columns:
        raise ValueError(f"exposure={exposure!r} is not a column: {', '.join(table.columns)}")
    parameters.check("quadrant_min_viewers", min_viewers, "min_viewers")
    # the items too little seen to place are left out of the medians too: their rates are
    # mostly noise (0 of 8 viewers) and would pull the conversion split down
    placed = table[table["conversion_rate"].notna() & (table["viewers"] >= min_viewers)]
    if exposure_split is None:
        exposure_split = float(placed[exposure].median()) if len(placed) else math.nan
    if conversion_split is None:
        conversion_split = float(placed["conversion_rate"].median()) if len(placed) else math.nan
    return float(exposure_split), float(conversion_split)


def _number(value: float, share: bool) -> str:
    """A value as ``label_basis`` writes it: a share as a percentage, else a plain number."""
    if share:
        return f"{value:.1%}"
    return f"{value:,.0f}" if abs(value) >= 1000 or float(value).is_integer() else f"{value:,.4g}"


def _placement(table: pd.DataFrame, measure: str, split: float) -> pd.DataFrame:
    """``level`` (high, low, near the split, or empty without a value), ``low``, ``high`` (the
    95% Wilson interval of a proportion, else NaN) and ``text`` of ``measure`` against ``split``.

    A proportion (:data:`PROPORTIONS`) is high or low only when its interval excludes the split;
    a count or money is measured, and high at or above the split. A proportion whose successes
    exceed its trials (more buyers in the period than viewers) has no interval: no level.
    """
    share = measure in SHARES
    values = table[measure].astype("float64")
    if measure in PROPORTIONS:
        successes, trials = PROPORTIONS[measure]
        low, high = proportion_intervals(table[successes], table[trials])
        side = pd.Series(interval_side(low, high, split), index=table.index)
        level = side.map({"above": "high", "below": "low", "within": "near the split", "": ""})
        verb = side.map({"above": "above", "below": "below", "within": "includes", "": ""})
        texts = [
            f"{measure} {_number(v, share)} (95% {_number(lo, share)}–{_number(hi, share)}, "
            f"{int(n):,} {trials}) {w} the split {_number(split, share)}"
            if w
            else f"{measure} {_number(v, share)} of {int(n):,} {trials}: no interval"
            for v, lo, hi, n, w in zip(values, low, high, table[trials], verb, strict=True)
        ]
        return pd.DataFrame(
            {"level": level, "low": low, "high": high, "text": texts}, index=table.index
        )
    high_side = values >= split
    level = pd.Series(
        np.where(values.isna() | math.isnan(split), "", np.where(high_side, "high", "low")),
        index=table.index,
    )
    texts = [
        f"{measure} {_number(v, share)} {'at or above' if h else 'below'} the split "
        f"{_number(split, share)}"
        if lv
        else ""
        for v, h, lv in zip(values, high_side, level, strict=True)
    ]
    return pd.DataFrame(
        {"level": level, "low": math.nan, "high": math.nan, "text": texts}, index=table.index
    )


def with_quadrants(
    table: pd.DataFrame,
    exposure: str = "impressions",
    exposure_split: float | None = None,
    conversion_split: float | None = None,
    min_viewers: int = DEFAULT_QUADRANT_MIN_VIEWERS,
) -> pd.DataFrame:
    """``table`` (from :func:`item_performance`: it needs ``buyers`` and ``viewers``, and
    ``clicks`` and ``impressions`` when ``exposure`` is ``ctr``) with ``quadrant`` and, after it,
    ``conversion_low``, ``conversion_high`` (95% Wilson interval of buyers / viewers; null
    without viewers or with more buyers than viewers), ``exposure_level``, ``conversion_level``
    (high, low, near the split, not enough data; empty without viewers) and ``label_basis``, the
    comparison behind the label in words (see the module docstring)."""
    x_split, y_split = quadrant_splits(
        table, exposure, exposure_split, conversion_split, min_viewers
    )
    x = _placement(table, exposure, x_split)
    y = _placement(table, "conversion_rate", y_split)
    rated = table["conversion_rate"].notna()
    enough = rated & (table["viewers"] >= min_viewers)
    clear = x["level"].isin(("high", "low")) & y["level"].isin(("high", "low"))
    quadrant = pd.Series(NO_QUADRANT, index=table.index, dtype="object")
    quadrant[rated] = NOT_ENOUGH_DATA
    quadrant[enough] = UNCLEAR
    names = {
        ("high", "high"): "star",
        ("high", "low"): "traffic driver",
        ("low", "high"): "future star",
        ("low", "low"): "question",
    }
    for (exposure_level, conversion_level), name in names.items():
        quadrant[
            enough & clear & (x["level"] == exposure_level) & (y["level"] == conversion_level)
        ] = name
    conversion_level = y["level"].where(enough, "")
    conversion_level[rated & ~enough] = NOT_ENOUGH_DATA
    basis = pd.Series("no viewers", index=table.index, dtype="object")
    basis[enough] = y["text"][enough] + "; " + x["text"][enough]
    basis[rated & ~enough] = [
        f"{int(n):,} viewers, fewer than {min_viewers:,}" for n in table["viewers"][rated & ~enough]
    ]
    return table.assign(
        quadrant=quadrant,
        conversion_low=y["low"].where(rated),
        conversion_high=y["high"].where(rated),
        exposure_level=x["level"].where(rated, ""),
        conversion_level=conversion_level,
        label_basis=basis,
    )


def quadrant_actions() -> pd.DataFrame:
    """``quadrant, exposure, conversion, action``: what each quadrant (and each label given
    instead of one) means and what to do."""
    levels = {
        "star": ("high", "high"),
        "traffic driver": ("high", "low"),
        "future star": ("low", "high"),
        "question": ("low", "low"),
        UNCLEAR: (
            "high or low (near its split only for a rate, e.g. ctr)",
            "near its split: its 95% interval includes it",
        ),
        NOT_ENOUGH_DATA: ("any", "fewer viewers than quadrant_min_viewers"),
    }
    return pd.DataFrame(
        [
            {"quadrant": q, "exposure": e, "conversion": c, "action": QUADRANT_ACTIONS[q]}
            for q, (e, c) in levels.items()
        ]
    )


def quadrant_mix(table: pd.DataFrame, target_mix: dict[str, float] | None = None) -> pd.DataFrame:
    """Each quadrant's ``items, revenue, revenue_share`` (of all items' revenue) against
    ``target_share`` (the target mix, default :data:`DEFAULT_TARGET_MIX`); ``gap = revenue_share
    − target_share``. One row per quadrant in :data:`QUADRANTS` order, then one for each label of
    :data:`UNPLACED` some items have (no target, no gap)."""
    target_mix = DEFAULT_TARGET_MIX if target_mix is None else target_mix
    unknown = sorted(set(target_mix) - set(QUADRANTS))
    if unknown:
        raise ValueError(
            f"target_mix names unknown quadrant(s) {', '.join(unknown)}; "
            f"quadrants: {', '.join(QUADRANTS)}"
        )
    parameters.check("target_mix", target_mix)  # each a share
    present = set(table["quadrant"])
    order = list(QUADRANTS) + [label for label in UNPLACED if label in present]
    grouped = table.groupby("quadrant").agg(items=("quadrant", "size"), revenue=("revenue", "sum"))
    mix = grouped.reindex(order).fillna(0).rename_axis("quadrant").reset_index()
    mix["items"] = mix["items"].astype("int64")
    mix["revenue"] = mix["revenue"].astype("float64").round(MONEY_DECIMALS)
    total = mix["revenue"].sum()
    mix["revenue_share"] = mix["revenue"] / total if total > 0 else math.nan
    mix["target_share"] = [float(target_mix.get(q, 0.0)) for q in mix["quadrant"]]
    mix.loc[mix["quadrant"].isin(UNPLACED), "target_share"] = math.nan
    mix["gap"] = mix["revenue_share"] - mix["target_share"]
    mix["action"] = mix["quadrant"].map(QUADRANT_ACTIONS)
    return mix


# --------------------------------------------------------------------------------------------
# Pareto / ABC and product roles


def sku_pareto(
    sku_table: pd.DataFrame, a_share: float = 0.8, b_share: float = 0.95
) -> pd.DataFrame:
    """Every SKU of :func:`item_performance` (level ``sku``) by revenue: ``rank`` (1 = largest),
    ``sku_id, category, revenue, revenue_share, cumulative_share`` (null without any revenue),
    ``sku_share`` (rank / the table's SKUs, those missing from the catalogue included) and
    ``abc_class`` (see the module docstring)."""
    if not 0 < a_share <= b_share <= 1:
        raise ValueError(f"need 0 < a_share ({a_share}) ≤ b_share ({b_share}) ≤ 1")
    table = sku_table.sort_values(["revenue", "sku_id"], ascending=[False, True])
    table = table[["sku_id", "category", "revenue"]].reset_index(drop=True)
    total = table["revenue"].sum()
    table.insert(0, "rank", range(1, len(table) + 1))
    table["revenue_share"] = table["revenue"] / total if total > 0 else math.nan
    table["cumulative_share"] = table["revenue_share"].cumsum()
    before = table["cumulative_share"] - table["revenue_share"]
    sold = table["revenue"] > 0
    # compare with a small tolerance: cumulated float shares land a hair off 0.8 on exact splits
    eps = 1e-9
    table["abc_class"] = "C"
    table.loc[sold & (before < b_share - eps), "abc_class"] = "B"
    table.loc[sold & (before < a_share - eps), "abc_class"] = "A"
    table["sku_share"] = table["rank"] / len(table) if len(table) else math.nan
    return table


def abc_summary(pareto: pd.DataFrame) -> pd.DataFrame:
    """Per ABC class: ``skus, share_of_skus`` (of the SKUs in ``pareto``), ``sold_skus,
    share_of_sold_skus``, ``revenue, revenue_share``."""
    sold = int((pareto["revenue"] > 0).sum())
    grouped = pareto.groupby("abc_class").agg(
        skus=("sku_id", "size"),
        sold_skus=("revenue", lambda r: int((r > 0).sum())),
        revenue=("revenue", "sum"),
    )
    table = grouped.reindex(list(ABC_CLASSES)).fillna(0).rename_axis("abc_class").reset_index()
    table = table.astype({"skus": "int64", "sold_skus": "int64"})
    table["share_of_skus"] = table["skus"] / len(pareto) if len(pareto) else math.nan
    table["share_of_sold_skus"] = table["sold_skus"] / sold if sold else math.nan
    table["revenue"] = table["revenue"].round(MONEY_DECIMALS)
    total = table["revenue"].sum()
    table["revenue_share"] = table["revenue"] / total if total > 0 else math.nan
    columns = ["abc_class", "skus", "share_of_skus", "sold_skus", "share_of_sold_skus"]
    return table[columns + ["revenue", "revenue_share"]]


@dataclass(frozen=True)
class RoleRule:
    """Quantiles (over the SKUs sold in the period) that set the product-role thresholds."""

    image_price_quantile: float = 0.9
    image_max_units_quantile: float = 0.5
    traffic_views_quantile: float = 0.8
    traffic_max_margin_quantile: float = 0.5
    profit_margin_quantile: float = 0.75

    def __post_init__(self) -> None:
        parameters.check("role_rule", asdict(self), "RoleRule")  # quantiles


def _sold_skus(sku_table: pd.DataFrame) -> pd.DataFrame:
    sold = sku_table[sku_table["units"] > 0].copy()
    sold["price"] = sold["revenue"] / sold["units"]
    return sold


def role_thresholds(sku_table: pd.DataFrame, rule: RoleRule | None = None) -> pd.DataFrame:
    """``threshold, measure, quantile, value``: the cut-offs of :func:`product_roles`."""
    rule = rule or RoleRule()
    sold = _sold_skus(sku_table)
    rows = [
        ("image: price at least", "price", rule.image_price_quantile),
        ("image: units at most", "units", rule.image_max_units_quantile),
        ("traffic: viewers at least", "viewers", rule.traffic_views_quantile),
        ("traffic: gross margin at most", "gross_margin", rule.traffic_max_margin_quantile),
        ("profit: gross margin at least", "gross_margin", rule.profit_margin_quantile),
    ]
    return pd.DataFrame(
        [
            {
                "threshold": label,
                "measure": measure,
                "quantile": q,
                "value": float(sold[measure].quantile(q)) if len(sold) else math.nan,
            }
            for label, measure, q in rows
        ]
    )


def product_roles(
    sku_table: pd.DataFrame,
    rule: RoleRule | None = None,
    min_buyers: int = DEFAULT_ROLE_MIN_BUYERS,
) -> pd.DataFrame:
    """The SKUs sold in the period with their ``role`` (see the module docstring):
    ``sku_id, category, role, price, units, viewers, revenue, cost, gross_margin, buyers,
    label_basis`` (the rule and numbers behind the role), sorted by role (:data:`ROLE_ROWS`
    order), revenue (largest first) and ``sku_id``. SKUs sold to fewer than ``min_buyers`` buyers
    are image items or ``not enough data``."""
    parameters.check("role_min_buyers", min_buyers, "min_buyers")
    thresholds = role_thresholds(sku_table, rule)["value"].tolist()
    min_price, max_units, min_viewers, traffic_margin, profit_margin = thresholds
    sold = _sold_skus(sku_table)
    margin = sold["gross_margin"]
    image = (sold["price"] >= min_price) & (sold["units"] <= max_units)
    rare = sold["buyers"] < min_buyers
    traffic = (sold["viewers"] > 0) & (sold["viewers"] >= min_viewers) & (margin <= traffic_margin)
    profit = margin >= profit_margin
    sold["role"] = "regular item"
    sold.loc[profit, "role"] = "profit item"
    sold.loc[traffic, "role"] = "traffic item"
    sold.loc[rare, "role"] = NOT_ENOUGH_DATA
    sold.loc[image, "role"] = "image item"  # the first rule wins: assigned last

    def basis(row: pd.Series) -> str:
        role = row["role"]
        if role == "image item":
            return (
                f"price {row['price']:,.2f} ≥ {min_price:,.2f} and units {int(row['units']):,} "
                f"≤ {max_units:g}"
            )
        if role == NOT_ENOUGH_DATA:
            buyers = int(row["buyers"])
            return f"{buyers:,} buyer{'' if buyers == 1 else 's'}, fewer than {min_buyers:,}"
        if role == "traffic item":
            return (
                f"viewers {int(row['viewers']):,} ≥ {min_viewers:,.4g} and gross margin "
                f"{row['gross_margin']:.1%} ≤ {traffic_margin:.1%}"
            )
        if role == "profit item":
            return f"gross margin {row['gross_margin']:.1%} ≥ {profit_margin:.1%}"
        return "no rule matches"

    sold["label_basis"] = [basis(row) for _, row in sold.iterrows()] if len(sold) else []
    sold["role_order"] = sold["role"].map({role: i for i, role in enumerate(ROLE_ROWS)})
    sold = sold.sort_values(["role_order", "revenue", "sku_id"], ascending=[True, False, True])
    columns = ["sku_id", "category", "role", "price", "units", "viewers", "revenue"]
    columns += ["cost", "gross_margin", "buyers", "label_basis"]
    return sold[columns].reset_index(drop=True)


def role_summary(roles: pd.DataFrame) -> pd.DataFrame:
    """Per role, then ``not enough data`` (every row of :data:`ROLE_ROWS`): ``skus, sku_share``
    (of the SKUs in ``roles``), ``units, revenue, revenue_share, gross_margin = (revenue − cost) /
    revenue`` of the row's SKUs (null without revenue)."""
    # the cost is summed as sold, not rebuilt from margins: a SKU given away at price 0 has no
    # margin, yet its goods still cost money
    grouped = roles.groupby("role")
    table = grouped.agg(
        skus=("sku_id", "size"),
        units=("units", "sum"),
        revenue=("revenue", "sum"),
        cost=("cost", "sum"),
    )
    table = table.reindex(list(ROLE_ROWS)).fillna(0).rename_axis("role").reset_index()
    table = table.astype({"skus": "int64", "units": "int64"})
    table["sku_share"] = table["skus"] / len(roles) if len(roles) else math.nan
    total = table["revenue"].sum()
    table["revenue_share"] = table["revenue"] / total if total > 0 else math.nan
    table["gross_margin"] = (table["revenue"] - table["cost"]) / table["revenue"].where(
        table["revenue"] > 0
    )
    table["revenue"] = table["revenue"].round(MONEY_DECIMALS)
    return table[["role", "skus", "sku_share", "units", "revenue", "revenue_share", "gross_margin"]]


# --------------------------------------------------------------------------------------------
# Price and discount


def discount_loss(
    orders: ir.Table, order_items: ir.Table, products: ir.Table, period: Period
) -> pd.DataFrame:
    """Revenue and margin lost to price cuts and coupons per category (module docstring):
    ``category, list_value, revenue, markdown, coupon_discount, net_revenue, cost,
    revenue_lost, discount_rate`` (revenue_lost / list_value), ``margin_at_list,
    margin_after_discounts, margin_lost``; sorted by revenue lost (largest first), category."""
    lines = paid_lines(orders, order_items, products, period)
    table = (
        lines.group_by("category")
        .aggregate(
            list_value=lines.list_value.sum(),
            revenue=lines.revenue.sum(),
            coupon_discount=lines.coupon.sum(),
            cost=lines.cost.sum(),
        )
        .to_pandas()
    )
    money = ["list_value", "revenue", "coupon_discount", "cost"]
    table[money] = table[money].astype("float64").round(MONEY_DECIMALS)
    table["markdown"] = (table["list_value"] - table["revenue"]).round(MONEY_DECIMALS)
    table["net_revenue"] = (table["revenue"] - table["coupon_discount"]).round(MONEY_DECIMALS)
    table["revenue_lost"] = (table["markdown"] + table["coupon_discount"]).round(MONEY_DECIMALS)
    list_value = table["list_value"].where(table["list_value"] > 0)
    net = table["net_revenue"].where(table["net_revenue"] > 0)
    table["discount_rate"] = table["revenue_lost"] / list_value
    table["margin_at_list"] = (table["list_value"] - table["cost"]) / list_value
    table["margin_after_discounts"] = (table["net_revenue"] - table["cost"]) / net
    table["margin_lost"] = table["margin_at_list"] - table["margin_after_discounts"]
    table = table.sort_values(["revenue_lost", "category"], ascending=[False, True])
    columns = ["category", "list_value", "revenue", "markdown", "coupon_discount", "net_revenue"]
    columns += ["cost", "revenue_lost", "discount_rate", "margin_at_list"]
    columns += ["margin_after_discounts", "margin_lost"]
    return table[columns].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Reviews


def reviews_in(reviews: ir.Table, products: ir.Table, period: Period) -> ir.Table:
    """Reviews written on a local day of the period with ``day``, ``s`` (epoch second) and
    ``category``."""
    lo, hi = period.utc_bounds()
    ts = reviews.review_time
    inside = reviews.filter(ts >= ibis.literal(lo, "timestamp"), ts < ibis.literal(hi, "timestamp"))
    known = catalogue(products)
    inside = inside.left_join(known, inside.sku_id == known.catalogue_sku)
    return inside.select(
        "sku_id",
        "user_id",
        "rating",
        category=inside.category.fill_null(UNKNOWN),
        day=period.local_day(inside.review_time),
        s=epoch_seconds(inside.review_time),
    )


def review_summary(reviews: ir.Table, products: ir.Table, period: Period) -> pd.DataFrame:
    """Per category: ``reviews, average_rating``, the share of each rating ``rating_1`` …
    ``rating_5`` and ``low_share`` (ratings 1–2); lowest average first, then category."""
    inside = reviews_in(reviews, products, period)
    counts = inside.group_by(["category", "rating"]).aggregate(n=inside.count()).to_pandas()
    wide = counts.pivot(index="category", columns="rating", values="n")
    wide = wide.reindex(columns=list(RATINGS)).fillna(0).astype("int64")
    total = wide.sum(axis=1)
    table = pd.DataFrame({"reviews": total})
    weighted = sum(wide[r] * r for r in RATINGS)
    table["average_rating"] = weighted / total.where(total > 0)
    for rating in RATINGS:
        table[f"rating_{rating}"] = wide[rating] / total.where(total > 0)
    table["low_share"] = (wide[1] + wide[2]) / total.where(total > 0)
    table = table.rename_axis("category").reset_index()
    table = table.sort_values(["average_rating", "category"])
    return table.reset_index(drop=True)


def rating_trend(reviews: ir.Table, products: ir.Table, period: Period) -> pd.DataFrame:
    """``week`` (its Monday, local), ``category, reviews, average_rating`` per local week of the
    period (the first and last weeks may be partial); sorted by week and category."""
    inside = reviews_in(reviews, products, period)
    inside = inside.mutate(week_day=week_start(inside.day))
    table = (
        inside.group_by(["week_day", "category"])
        .aggregate(reviews=inside.count(), rating_sum=inside.rating.sum())
        .to_pandas()
    )
    table["reviews"] = table["reviews"].astype("int64")
    table["average_rating"] = table["rating_sum"].astype("float64") / table["reviews"]
    table = table.sort_values(["week_day", "category"]).reset_index(drop=True)
    table.insert(0, "week", to_timestamps(table["week_day"]).to_numpy())
    return table[["week", "category", "reviews", "average_rating"]]


def low_rated_skus(
    reviews: ir.Table,
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    period: Period,
    max_average: float = 3.0,
    min_reviews: int = 3,
) -> pd.DataFrame:
    """SKUs reviewed at least ``min_reviews`` times in the period with an average rating at or
    below ``max_average``: ``sku_id, category, reviews, average_rating, low_ratings`` (1–2),
    ``units, revenue`` sold in the period; most units first (the costliest to leave as they
    are), then lowest average, then ``sku_id``."""
    inside = reviews_in(reviews, products, period)
    rated = (
        inside.group_by(["sku_id", "category"])
        .aggregate(
            reviews=inside.count(),
            rating_sum=inside.rating.sum(),
            low_ratings=(inside.rating <= 2).cast("int64").sum(),
        )
        .to_pandas()
    )
    rated["reviews"] = rated["reviews"].astype("int64")
    rated["low_ratings"] = rated["low_ratings"].astype("int64")
    rated["average_rating"] = rated["rating_sum"].astype("float64") / rated["reviews"]
    flagged = rated[(rated["reviews"] >= min_reviews) & (rated["average_rating"] <= max_average)]
    lines = paid_lines(orders, order_items, products, period)
    sales = (
        lines.group_by("sku_id")
        .aggregate(units=lines.quantity.sum(), revenue=lines.revenue.sum())
        .to_pandas()
    )
    table = flagged.merge(sales, on="sku_id", how="left")
    table["units"] = table["units"].fillna(0).astype("int64")
    table["revenue"] = table["revenue"].fillna(0.0).astype("float64").round(MONEY_DECIMALS)
    table = table.sort_values(["units", "average_rating", "sku_id"], ascending=[False, True, True])
    columns = ["sku_id", "category", "reviews", "average_rating", "low_ratings", "units"]
    return table[columns + ["revenue"]].reset_index(drop=True)


def rating_repurchase(
    reviews: ir.Table,
    orders: ir.Table,
    products: ir.Table,
    period: Period,
    window_days: int = 30,
) -> pd.DataFrame:
    """Per rating: ``reviews`` that can be followed for ``window_days`` (their local day plus the
    window is on or before the last local day in the orders), ``repurchased``: those whose author
    paid for an order after the review and within the window, ``repurchase_rate`` with a 95% Wilson
    interval ``repurchase_low``–``repurchase_high``. A user's reviews each count."""
    horizon = last_order_day(orders, period)
    inside = reviews_in(reviews, products, period)
    inside = inside.filter(inside.day + window_days <= horizon)
    paid = paid_orders(orders)
    paid = paid.select(buyer=paid.user_id, paid_s=epoch_seconds(paid.paid_time))
    window = window_days * SECONDS_PER_DAY
    matched = inside.join(
        paid,
        (inside.user_id == paid.buyer)
        & (paid.paid_s > inside.s)
        & (paid.paid_s <= inside.s + window),
    )
    # a review is (user, SKU, second); several later orders still make one repurchase
    keys = ["user_id", "sku_id", "s"]
    again = matched.select(*keys).distinct().mutate(again=ibis.literal(1, "int64"))
    flagged = inside.left_join(again, keys)
    counts = (
        flagged.group_by("rating")
        .aggregate(reviews=flagged.count(), repurchased=flagged.again.fill_null(0).sum())
        .to_pandas()
    )
    table = counts.set_index("rating").reindex(list(RATINGS)).fillna(0).astype("int64")
    table = table.rename_axis("rating").reset_index()
    table["repurchase_rate"] = table["repurchased"] / table["reviews"].where(table["reviews"] > 0)
    table["repurchase_low"], table["repurchase_high"] = proportion_intervals(
        table["repurchased"], table["reviews"]
    )
    return table


def rating_repurchase_test(
    by_rating: pd.DataFrame, low_max: int = 2, high_min: int = 4
) -> pd.DataFrame:
    """One row: repurchase after low ratings (≤ ``low_max``) against high ratings (≥
    ``high_min``): reviews, repurchased and rate of each, ``difference = high − low`` and the
    two-proportion ``p_value`` (``significant`` when < 0.05)."""
    low = by_rating[by_rating["rating"] <= low_max][["reviews", "repurchased"]].sum()
    high = by_rating[by_rating["rating"] >= high_min][["reviews", "repurchased"]].sum()

    def rate(group: pd.Series) -> float:
        return group["repurchased"] / group["reviews"] if group["reviews"] else math.nan

    p_value = two_proportion_pvalue(
        int(high["repurchased"]), int(high["reviews"]), int(low["repurchased"]), int(low["reviews"])
    )
    return pd.DataFrame(
        [
            {
                "low_ratings": f"1–{low_max}",
                "low_reviews": int(low["reviews"]),
                "low_repurchased": int(low["repurchased"]),
                "low_rate": rate(low),
                "high_ratings": f"{high_min}–5",
                "high_reviews": int(high["reviews"]),
                "high_repurchased": int(high["repurchased"]),
                "high_rate": rate(high),
                "difference": rate(high) - rate(low),
                "p_value": p_value,
                "significant": p_value < SIGNIFICANCE_LEVEL,
            }
        ]
    )


# --------------------------------------------------------------------------------------------
# Chart labels and the sentences the notebook prints, computed from this run's tables


def counted_labels(
    labels: pd.Series, counts: pd.Series, noun: str, separator: str = " "
) -> pd.Series:
    """``name (n noun)`` per row, e.g. ``phones (5 reviews)``: a bar's label that says how many
    observations it rests on (``separator`` ``"\\n"`` puts the count on a line of its own, for
    labels side by side). ``noun`` is a plural; a count of 1 takes its singular."""
    singular = {"categories": "category", "SKUs": "SKU", "reviews": "review", "items": "item"}
    return pd.Series(
        [
            f"{label}{separator}({int(n):,} {singular.get(noun, noun) if n == 1 else noun})"
            for label, n in zip(labels, counts, strict=True)
        ],
        index=labels.index,
    )


def matrix_labels(table: pd.DataFrame, key: str = "category") -> pd.Series:
    """The BCG chart's point labels (:func:`with_quadrants`' table): the item, with ``(unclear)``
    when it is near a split and ``(n = viewers)`` when it has too few viewers to place, so that no
    point reads as a verdict the data does not support."""
    labels = table[key].astype(str)
    unclear = table["quadrant"] == UNCLEAR
    few = table["quadrant"] == NOT_ENOUGH_DATA
    labels = labels.where(~unclear, labels + " (unclear)")
    return labels.where(~few, labels + " (n = " + table["viewers"].astype(str) + ")")


def _listed(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``; ``none`` for no name."""
    if not names:
        return "none"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def revenue_margin_note(table: pd.DataFrame, key: str = "category", top: int = 3) -> str:
    """Which items lead by revenue (with their gross margins) and which by gross profit
    (revenue − cost), and how many lead both, from :func:`item_performance`'s table."""
    sold = table[table["revenue"] > 0].assign(profit=lambda t: t["revenue"] - t["cost"])
    if sold.empty:
        return "Nothing was sold in the period: no revenue or margin to rank."
    top = min(top, len(sold))
    by_revenue = sold.sort_values(["revenue", key], ascending=[False, True]).head(top)
    by_profit = sold.sort_values(["profit", key], ascending=[False, True]).head(top)

    margins = [
        "no margin" if pd.isna(value) else f"{value:.0%}" for value in by_revenue["gross_margin"]
    ]
    both = len(set(by_revenue[key]) & set(by_profit[key]))
    revenue, cost = sold["revenue"].sum(), sold["cost"].sum()
    return (
        f"By revenue the largest are {_listed(by_revenue[key].astype(str).tolist())}, at gross "
        f"margins of {_listed(margins)}; by gross profit (revenue − cost) "
        f"{_listed(by_profit[key].astype(str).tolist())}: {both} of the {top} lead both lists. "
        f"The gross margin over everything sold is {(revenue - cost) / revenue:.0%}."
    )


def quadrant_note(table: pd.DataFrame, key: str = "category") -> str:
    """The items of each quadrant of :func:`with_quadrants`' table, then those given no quadrant
    (near a split, too few viewers), by revenue."""
    ranked = table.sort_values(["revenue", key], ascending=[False, True])
    plural = {
        "star": "stars",
        "traffic driver": "traffic drivers",
        "future star": "future stars",
        "question": "questions",
    }
    parts = [
        f"{plural[q]}: {_listed(ranked.loc[ranked['quadrant'] == q, key].astype(str).tolist())}"
        for q in QUADRANTS
    ]
    for label in (UNCLEAR, NOT_ENOUGH_DATA):
        names = ranked.loc[ranked["quadrant"] == label, key].astype(str).tolist()
        if names:
            parts.append(f"{label}: {_listed(names)}")
    text = "; ".join(parts)
    return f"{text[0].upper()}{text[1:]}."


def mix_note(mix: pd.DataFrame) -> str:
    """The quadrant furthest from its target share in :func:`quadrant_mix`, and how much revenue
    sits in items without a clear quadrant (which the four shares then leave out)."""
    targeted = mix[mix["quadrant"].isin(QUADRANTS)].dropna(subset=["gap"])
    if targeted.empty:
        return "No revenue in the period: no mix to compare with the target."
    # the first of equal gaps, in quadrant order: idxmax keeps the first
    row = targeted.loc[targeted["gap"].abs().idxmax()]
    text = (
        f"The largest gap to the target is {row['quadrant']}: {row['revenue_share']:.0%} of "
        f"revenue against a target of {row['target_share']:.0%} "
        f"({row['gap'] * 100:+.0f} points)."
    )
    unplaced = mix.loc[mix["quadrant"].isin((UNCLEAR, NOT_ENOUGH_DATA)), "revenue_share"].sum()
    if unplaced > 0:
        text += (
            f" {unplaced:.0%} of revenue is in items without a clear quadrant (near a split or "
            f"too few viewers), so the four quadrants hold {targeted['revenue_share'].sum():.0%}."
        )
    return text


def abc_note(summary: pd.DataFrame) -> str:
    """How few SKUs make class A's revenue and how many sold nothing, from :func:`abc_summary`."""
    rows = summary.set_index("abc_class")
    a = rows.loc["A"]
    unsold = int(rows["skus"].sum() - rows["sold_skus"].sum())
    total = int(rows["skus"].sum())
    if not a["sold_skus"]:
        return f"Nothing was sold in the period: all {total:,} SKUs are class C."
    of_sold = (
        "" if pd.isna(a["share_of_sold_skus"]) else f", {a['share_of_sold_skus']:.0%} of those sold"
    )
    return (
        f"Class A: {int(a['skus']):,} SKUs ({a['share_of_skus']:.0%} of the SKUs{of_sold}) make "
        f"{a['revenue_share']:.0%} of revenue; {unsold:,} SKU{'' if unsold == 1 else 's'} "
        f"({unsold / total:.0%}) sold "
        "nothing in the period."
    )


def roles_note(summary: pd.DataFrame, min_buyers: int = DEFAULT_ROLE_MIN_BUYERS) -> str:
    """How many sold SKUs got no role for want of buyers, and the revenue share and margin of the
    traffic and profit items, from :func:`role_summary`."""
    rows = summary.set_index("role")
    sold = int(rows["skus"].sum())
    if not sold:
        return "No SKU was sold in the period: no roles."
    few = int(rows.loc[NOT_ENOUGH_DATA, "skus"])
    parts = []
    for role in ("traffic item", "profit item"):
        row = rows.loc[role]
        if not row["skus"]:
            parts.append(f"no SKU is a {role}")
        elif pd.isna(row["gross_margin"]):
            parts.append(f"{role}s bring no revenue")
        else:
            parts.append(
                f"{role}s bring {row['revenue_share']:.0%} of revenue at a "
                f"{row['gross_margin']:.0%} gross margin"
            )
    return (
        f"{few:,} of the {sold:,} SKUs sold ({few / sold:.0%}) had fewer than {min_buyers} "
        f"buyers and are not image items: not enough data for a role. "
        f"{parts[0][0].upper()}{parts[0][1:]}; {parts[1]}."
    )


def discount_note(discounts: pd.DataFrame) -> str:
    """Where discounts cost the most gross margin and the most revenue, from
    :func:`discount_loss`."""
    margins = discounts.dropna(subset=["margin_lost"])
    if discounts.empty or not (discounts["revenue_lost"] > 0).any():
        return "No price cut or coupon took anything off revenue in the period."
    lost = discounts.sort_values(["revenue_lost", "category"], ascending=[False, True]).iloc[0]
    text = (
        f"Discounts took the most revenue from {lost['category']}: {lost['revenue_lost']:,.0f} "
        f"({lost['discount_rate']:.0%} of its list value)"
    )
    if margins.empty:
        return f"{text}."
    worst = margins.sort_values(["margin_lost", "category"], ascending=[False, True]).iloc[0]
    return (
        f"{text}; the most gross margin from {worst['category']}: "
        f"{worst['margin_at_list']:.0%} at list prices, {worst['margin_after_discounts']:.0%} "
        f"after price cuts and coupons ({worst['margin_lost'] * 100:.1f} points)."
    )


def repurchase_note(test: pd.DataFrame, window_days: int) -> str:
    """What :func:`rating_repurchase_test` found, in words: the two repurchase rates and whether
    their difference is beyond the noise."""
    row = test.iloc[0]
    low = f"{row['low_ratings']} ({int(row['low_repurchased'])} of {int(row['low_reviews'])})"
    high = f"{row['high_ratings']} ({int(row['high_repurchased'])} of {int(row['high_reviews'])})"
    if pd.isna(row["p_value"]):
        return (
            f"Too few followed reviews to compare repurchase after ratings {low} and {high}: "
            "not enough data."
        )
    rates = (
        f"Within {window_days} days, {row['high_rate']:.0%} of reviews rated {high} were followed "
        f"by another order, against {row['low_rate']:.0%} of those rated {low}"
    )
    if row["significant"]:
        direction = "more" if row["difference"] > 0 else "less"
        return (
            f"{rates}: happier reviewers bought again {direction} often, beyond the noise "
            f"(p = {row['p_value']:.3f})."
        )
    return f"{rates}: the difference may be chance (p = {row['p_value']:.2f}, not significant)."


def rating_trend_shown(trend: pd.DataFrame, min_reviews: int) -> pd.DataFrame:
    """:func:`rating_trend`'s table for the heatmap: the average of a category-week with fewer
    than ``min_reviews`` reviews is blanked (null), as one or two ratings are not a trend."""
    return trend.assign(
        average_rating=trend["average_rating"].where(trend["reviews"] >= min_reviews)
    )
