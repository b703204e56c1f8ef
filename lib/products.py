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

The *new BCG matrix* (新型波士顿矩阵, :func:`with_quadrants`): items with viewers are split on
exposure (``impressions`` by default) and ``conversion_rate`` at the medians of those items (or
given splits); a value at or above its split is *high*. High exposure and high conversion is a
``star``, high exposure and low conversion a ``traffic driver`` (导流型), low exposure and high
conversion a ``future star`` (未来明星), low and low a ``question``. Items without viewers have no
conversion rate and no quadrant (``(no viewers)``).

Pareto / ABC (:func:`sku_pareto`): SKUs by revenue (largest first, ties by ``sku_id``); a SKU is
``A`` while the cumulative share *before* it is below ``a_share`` (0.8), so the A SKUs are the
fewest that make 80% of revenue; ``B`` likewise up to ``b_share`` (0.95); the rest, and every SKU
without revenue, ``C``. Without any revenue the revenue shares are null.

Product roles (:func:`product_roles`), among SKUs sold in the period, with thresholds at quantiles
of those SKUs (:class:`RoleRule`); the first rule that matches names the role:

1. *image item* (形象款): average price (revenue / units) ≥ its ``image_price_quantile`` and units
   ≤ their ``image_max_units_quantile``: expensive and rarely bought, there to set the brand;
2. *traffic item* (引流款): viewers > 0 and ≥ their ``traffic_views_quantile`` and gross margin ≤
   its ``traffic_max_margin_quantile``: much looked at, little earned;
3. *profit item* (利润款): gross margin ≥ its ``profit_margin_quantile``;
4. otherwise a *regular item*.

Discounts (:func:`discount_loss`), per category: ``list_value`` = Σ quantity × list_price (the
selling price when the list price is unknown); ``markdown = list_value − revenue`` (price cuts);
``coupon_discount``: each paid order's ``discount_amount`` split over its lines by line value
(equally when the lines are worth 0); ``net_revenue = revenue − coupon_discount``;
``revenue_lost = markdown + coupon_discount`` is also the gross profit lost, as the cost of the
goods does not change; ``margin_at_list = (list_value − cost) / list_value``,
``margin_after_discounts = (net_revenue − cost) / net_revenue`` and ``margin_lost`` their
difference (in shares, 0.05 = 5 points).

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
from lib.stats import proportion_intervals, two_proportion_pvalue

LEVELS = ("category", "sku")
ENGAGEMENT_EVENTS = ("view_item_list", "select_item", "view_item")
# the measures of the performance table, which the exposure_measure parameter chooses from
PERFORMANCE_COLUMNS = list(parameters.choices("exposure_measure"))
QUADRANTS = parameters.keys("target_mix")  # the quadrants, in display order
NO_QUADRANT = "(no viewers)"
QUADRANT_ACTIONS = {
    "star": "keep it in stock and in the best slots; protect its price",
    "traffic driver": "use it as the way in: bundle it with profit items and fix what stops "
    "viewers from buying",
    "future star": "give it exposure: slots, search and ads bring buyers at a high rate",
    "question": "fix the offer or prune it; do not spend traffic on it",
    NO_QUADRANT: "no viewers in the period: get it seen first",
}
DEFAULT_TARGET_MIX = parameters.default("target_mix")
ROLES = ("image item", "traffic item", "profit item", "regular item")
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
) -> tuple[float, float]:
    """``(exposure_split, conversion_split)``: the given values, or the medians over the items
    with viewers (a conversion rate)."""
    if exposure not in table.columns:
        raise ValueError(f"exposure={exposure!r} is not a column: {', '.join(table.columns)}")
    rated = table[table["conversion_rate"].notna()]
    if exposure_split is None:
        exposure_split = float(rated[exposure].median()) if len(rated) else math.nan
    if conversion_split is None:
        conversion_split = float(rated["conversion_rate"].median()) if len(rated) else math.nan
    return float(exposure_split), float(conversion_split)


def with_quadrants(
    table: pd.DataFrame,
    exposure: str = "impressions",
    exposure_split: float | None = None,
    conversion_split: float | None = None,
) -> pd.DataFrame:
    """``table`` (from :func:`item_performance`) with a ``quadrant`` column; a value at or above
    its split is high (see the module docstring)."""
    x_split, y_split = quadrant_splits(table, exposure, exposure_split, conversion_split)
    high_exposure = table[exposure] >= x_split
    high_conversion = table["conversion_rate"] >= y_split
    quadrant = pd.Series(NO_QUADRANT, index=table.index, dtype="object")
    rated = table["conversion_rate"].notna()
    quadrant[rated & high_exposure & high_conversion] = "star"
    quadrant[rated & high_exposure & ~high_conversion] = "traffic driver"
    quadrant[rated & ~high_exposure & high_conversion] = "future star"
    quadrant[rated & ~high_exposure & ~high_conversion] = "question"
    return table.assign(quadrant=quadrant)


def quadrant_actions() -> pd.DataFrame:
    """``quadrant, exposure, conversion, action``: what each quadrant means and what to do."""
    levels = {
        "star": ("high", "high"),
        "traffic driver": ("high", "low"),
        "future star": ("low", "high"),
        "question": ("low", "low"),
    }
    return pd.DataFrame(
        [
            {"quadrant": q, "exposure": e, "conversion": c, "action": QUADRANT_ACTIONS[q]}
            for q, (e, c) in levels.items()
        ]
    )


def quadrant_mix(table: pd.DataFrame, target_mix: dict[str, float] | None = None) -> pd.DataFrame:
    """Each quadrant's ``items, revenue, revenue_share`` against ``target_share`` (the target mix,
    default :data:`DEFAULT_TARGET_MIX`); ``gap = revenue_share − target_share``. One row per
    quadrant in :data:`QUADRANTS` order, plus ``(no viewers)`` when some items have no viewers."""
    target_mix = DEFAULT_TARGET_MIX if target_mix is None else target_mix
    unknown = sorted(set(target_mix) - set(QUADRANTS))
    if unknown:
        raise ValueError(
            f"target_mix names unknown quadrant(s) {', '.join(unknown)}; "
            f"quadrants: {', '.join(QUADRANTS)}"
        )
    parameters.check("target_mix", target_mix)  # each a share
    order = list(QUADRANTS) + ([NO_QUADRANT] if (table["quadrant"] == NO_QUADRANT).any() else [])
    grouped = table.groupby("quadrant").agg(items=("quadrant", "size"), revenue=("revenue", "sum"))
    mix = grouped.reindex(order).fillna(0).rename_axis("quadrant").reset_index()
    mix["items"] = mix["items"].astype("int64")
    mix["revenue"] = mix["revenue"].astype("float64").round(MONEY_DECIMALS)
    total = mix["revenue"].sum()
    mix["revenue_share"] = mix["revenue"] / total if total > 0 else math.nan
    mix["target_share"] = [float(target_mix.get(q, 0.0)) for q in mix["quadrant"]]
    mix.loc[mix["quadrant"] == NO_QUADRANT, "target_share"] = math.nan
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


def product_roles(sku_table: pd.DataFrame, rule: RoleRule | None = None) -> pd.DataFrame:
    """The SKUs sold in the period with their ``role`` (see the module docstring):
    ``sku_id, category, role, price, units, viewers, revenue, cost, gross_margin``, sorted by role
    (:data:`ROLES` order), revenue (largest first) and ``sku_id``."""
    thresholds = role_thresholds(sku_table, rule)["value"].tolist()
    min_price, max_units, min_viewers, traffic_margin, profit_margin = thresholds
    sold = _sold_skus(sku_table)
    margin = sold["gross_margin"]
    image = (sold["price"] >= min_price) & (sold["units"] <= max_units)
    traffic = (sold["viewers"] > 0) & (sold["viewers"] >= min_viewers) & (margin <= traffic_margin)
    profit = margin >= profit_margin
    sold["role"] = "regular item"
    sold.loc[profit, "role"] = "profit item"
    sold.loc[traffic, "role"] = "traffic item"
    sold.loc[image, "role"] = "image item"  # the first rule wins: assigned last
    sold["role_order"] = sold["role"].map({role: i for i, role in enumerate(ROLES)})
    sold = sold.sort_values(["role_order", "revenue", "sku_id"], ascending=[True, False, True])
    columns = ["sku_id", "category", "role", "price", "units", "viewers", "revenue"]
    return sold[columns + ["cost", "gross_margin"]].reset_index(drop=True)


def role_summary(roles: pd.DataFrame) -> pd.DataFrame:
    """Per role (every role of :data:`ROLES`): ``skus, sku_share`` (of the SKUs in ``roles``),
    ``units, revenue, revenue_share, gross_margin = (revenue − cost) / revenue`` of the role's SKUs
    (null without revenue)."""
    # the cost is summed as sold, not rebuilt from margins: a SKU given away at price 0 has no
    # margin, yet its goods still cost money
    grouped = roles.groupby("role")
    table = grouped.agg(
        skus=("sku_id", "size"),
        units=("units", "sum"),
        revenue=("revenue", "sum"),
        cost=("cost", "sum"),
    )
    table = table.reindex(list(ROLES)).fillna(0).rename_axis("role").reset_index()
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
