"""Prices (价格策略, 竞争对手价格监测): price bands, discount depth, own-price elasticity and the
price index against competitors.

Definitions (docs/metrics.md, "Prices"):

- A **priced line** is a line of a paid order (:func:`lib.definitions.paid_orders_in`: paid, not
  cancelled, paid on a local day of the period) with a ``sku_id``, ``quantity > 0`` and
  ``unit_price > 0`` (a free or empty line has no price to read). Its ``unit_price`` is the paid
  unit price (before the order-level coupon, which is not a price of the SKU); its category comes
  from ``products`` (``(unknown)`` when missing). GMV here is Σ quantity × unit_price.
- **Price bands** (:func:`price_bands`): per category, the units sold are ordered by their paid
  unit price and cut at the quantiles ``k / bands``. With ``C⁻(p)`` the category's units sold at
  prices below ``p`` and ``T`` all its units, a price ``p`` is in band ``⌊bands · C⁻(p) / T⌋ + 1``.
  That is the lower (inverse-CDF) quantile: band ``b`` holds the prices ``p`` with
  ``e_{b−1} < p ≤ e_b``, ``e_k = min{p : C(p) ≥ k·T/bands}``. Worked out in integers in the engine
  (window sums over the lines), so no float decides a boundary. Units at one price are never
  split, so a price that holds more than a band's worth of units leaves the next band(s) empty:
  empty bands have no row, and band numbers keep their quantile meaning.
  Per band: ``price_low``, ``price_high`` (lowest and highest paid price in it), ``skus``,
  ``units``, ``orders`` (distinct paid orders with a line in it), ``gmv`` and ``gmv_share`` (of the
  category's GMV).
- **Discount depth** (:func:`discount_depth`), per SKU sold in the period:
  ``depth = 1 − GMV / (units × list_price)``, the unit-weighted mean of ``1 − unit_price /
  list_price`` over its priced lines, rounded to 6 decimals (so a 10 % cut lands on the 10 % edge
  and not a float's width beside it). SKUs are put in the bands of ``depth_edges``: ``≤ 0`` (at or
  above the list price), then ``(e_i, e_{i+1}]``, and ``> e_last``. A SKU without a usable list
  price (null, ≤ 0, or not in the catalogue) has no depth: it is left out of the bands and
  counted in the row ``(no list price)``. With events: ``viewers`` = (user, SKU) pairs with a
  ``view_item`` of the SKU on a local day of the period, ``buyers`` = those of the pairs whose
  user has a paid order of the period with a line of the SKU, ``conversion = buyers / viewers``
  with a 95 % Wilson interval (pairs of one user are taken as independent). SKUs viewed but
  without a priced line in the period have no paid price and so no depth: they are the row
  ``(not sold)``. The comparison of
  depth bands therefore runs among SKUs that sold at least once, which raises the conversion of
  every band (a SKU that never sold, at whatever price it was shown, is not in them).
- **Own-price elasticity** (:func:`price_elasticity`), per category: priced lines are summed in
  the engine to SKU × local day: ``units`` and ``price = GMV / units`` (the unit-weighted mean
  paid price). In pandas, ``log(units) = ε · log(price) + α_SKU + γ_weekday + e`` is fitted by
  least squares (numpy): the SKU effects by the within transformation (every variable minus its
  SKU mean), the weekday effects as dummies (one weekday, the first present, is the base). SKUs
  with a single day are dropped (their effect absorbs them). ``ε`` is the elasticity; its 95 %
  interval is cluster-robust by SKU (the sandwich ``(X'X)⁻¹ Σ_g X_g'e_g e_g'X_g (X'X)⁻¹`` with
  the correction ``G/(G−1) · (N−1)/(N−K)``, K the regressors after the within step as the SKU
  effects are nested in the clusters, and Student's t with G−1 degrees of freedom), so days of
  one SKU may be correlated. A **price change** is a SKU's price on a day with sales differing
  from its price on its previous day with sales by more than ``price_change`` (1 %) relative
  (rounded to 9 decimals, so exactly 1 % is no change). A category with fewer than
  ``min_price_changes`` changes gets no number (``elasticity`` NaN) and the note
  ``not enough price variation (k changes)``; one whose log price is wholly explained by the SKU
  and weekday effects gets none either (``price moves only with the SKU and weekday effects``),
  and one with a single SKU gets its number without an interval (one cluster).

  **Limitation**: a day without sales has no observed price, so only days with sales enter. When
  a high price drives a day's sales to zero, that day is missing from the fit, and the days kept
  at high prices are the ones whose demand happened to be high: the fit sees less fall in
  demand than there is, and the elasticity is biased toward zero (too inelastic). Prices are also
  set by the shop, often in response to demand (promotions on slow days), so the number is an
  association along the observed prices, not a controlled experiment.
- **Competitor price index** (:func:`competitor_price_index`): for a SKU on a day (the
  ``competitor_prices.date``, a local day, in the period), ``index = list_price / lowest
  competitor price that day`` (competitor prices null or ≤ 0 ignored). ``price_index`` is the mean
  over the days that have at least one competitor price (days without one are skipped, not
  filled). ``index_first_week`` and ``index_last_week`` are the means over the period's first and
  last 7 days (they overlap in a period under 14 days), ``index_change`` their difference. The
  own price is the catalogue's ``list_price``, which has no history: the index moves with the
  competitors' prices only. A SKU is **overpriced** when ``price_index`` (rounded to 9 decimals)
  is more than ``1 + price_gap``: exactly ``price_gap`` above is not above. SKUs with competitor
  prices but no list price keep a row with an empty index, never overpriced.
- **Conversion of overpriced SKUs** (:func:`overpriced_conversion`): viewers and buyers as for
  discount depth, summed over the overpriced SKUs and over the other SKUs with an index; the
  difference of the two conversions with Newcombe's 95 % interval (from the two Wilson
  intervals) and the two-proportion p-value. An association: overpriced SKUs may differ in other
  ways.

Only aggregates reach pandas (per price, per SKU, per SKU-day, per SKU-date), so DuckDB and
PySpark give the same tables; money is rounded to cents.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats

from lib.definitions import MONEY_DECIMALS, UNKNOWN, catalogue, events_in, paid_orders_in
from lib.periods import Period
from lib.stats import CONFIDENCE, proportion_intervals, two_proportion_pvalue

DEFAULT_PRICE_BANDS = 4
DEFAULT_DEPTH_EDGES = (0.0, 0.05, 0.10, 0.20, 0.30, 0.50)
DEFAULT_MIN_PRICE_CHANGES = 5
DEFAULT_PRICE_CHANGE = 0.01
DEFAULT_PRICE_GAP = 0.10
# Ratios are rounded before a threshold decides: 110 / 100 must read as exactly 10 % above.
RATIO_DECIMALS = 9
# Depths are rounded so that a 10 % cut (1 − 90/100 = 0.0999…98 in floats) sits on its edge.
DEPTH_DECIMALS = 6
WEEK_DAYS = 7

NO_LIST_PRICE = "(no list price)"
NOT_SOLD = "(not sold)"
AT_LIST = "at or above list"
OVERPRICED = "overpriced"
REST = "rest"

BAND_COLUMNS = [
    "category",
    "band",
    "price_low",
    "price_high",
    "skus",
    "units",
    "orders",
    "gmv",
    "gmv_share",
]
DEPTH_COLUMNS = [
    "depth_band",
    "depth_low",
    "depth_high",
    "skus",
    "units",
    "gmv",
    "mean_depth",
    "viewers",
    "buyers",
    "conversion",
    "ci_low",
    "ci_high",
]
ELASTICITY_COLUMNS = [
    "category",
    "elasticity",
    "ci_low",
    "ci_high",
    "se",
    "skus",
    "sku_days",
    "price_changes",
    "note",
]
INDEX_COLUMNS = [
    "sku_id",
    "category",
    "list_price",
    "days",
    "competitors",
    "lowest_price",
    "price_index",
    "index_first_week",
    "index_last_week",
    "index_change",
    "overpriced",
]
DAILY_COLUMNS = ["date", "category", "skus", "price_index"]
CATEGORY_INDEX_COLUMNS = [
    "category",
    "skus",
    "skus_with_index",
    "price_index",
    "overpriced_skus",
    "overpriced_share",
]
CONVERSION_COLUMNS = [
    "group",
    "skus",
    "viewers",
    "buyers",
    "conversion",
    "ci_low",
    "ci_high",
    "diff",
    "diff_low",
    "diff_high",
    "p_value",
]


def _check_count(name: str, value: int, low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name}={value!r} must be a whole number from {low}")


def _check_share(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and 0 <= value < 1):
        raise ValueError(f"{name}={value!r} must be a number from 0 to below 1")


# --------------------------------------------------------------------------------------------
# Lines and SKUs in the engine


def _priced_lines(
    orders: ir.Table, order_items: ir.Table, products: ir.Table, period: Period
) -> ir.Table:
    """``order_id, user_id, day, sku_id, category, list_price, quantity, unit_price`` of the
    priced lines (module docstring) of the orders paid in the period."""
    paid = paid_orders_in(orders, period).select("order_id", "user_id", "day")
    items = order_items.filter(
        order_items.sku_id.notnull(), order_items.quantity > 0, order_items.unit_price > 0
    ).select("order_id", "sku_id", "quantity", "unit_price")
    lines = paid.join(items, "order_id")
    known = catalogue(products).select("catalogue_sku", "category", "list_price")
    lines = lines.left_join(known, lines.sku_id == known.catalogue_sku)
    return lines.select(
        "order_id",
        "user_id",
        "day",
        "sku_id",
        "quantity",
        "unit_price",
        "list_price",
        category=lines.category.fill_null(UNKNOWN),
    )


def _sku_conversion(
    events: ir.Table, orders: ir.Table, order_items: ir.Table, period: Period
) -> pd.DataFrame:
    """``sku_id, viewers, buyers``: (user, SKU) pairs with a ``view_item`` of the SKU on a local
    day of the period, and those whose user paid in the period for an order with a line of it."""
    inside = events_in(events, period)
    views = inside.filter(
        inside.event_name == "view_item", inside.sku_id.notnull(), inside.user_id.notnull()
    )
    views = views.select("user_id", "sku_id").distinct()
    paid = paid_orders_in(orders, period).select("order_id", buyer="user_id")
    items = order_items.filter(order_items.sku_id.notnull()).select("order_id", "sku_id")
    bought = paid.join(items, "order_id").select("buyer", bought_sku="sku_id").distinct()
    pairs = views.left_join(
        bought, [views.user_id == bought.buyer, views.sku_id == bought.bought_sku]
    )
    counted = pairs.group_by("sku_id").aggregate(
        viewers=pairs.count(), buyers=pairs.buyer.notnull().cast("int64").sum()
    )
    table = counted.to_pandas()
    return table.fillna({"buyers": 0}).astype({"viewers": "int64", "buyers": "int64"})


# --------------------------------------------------------------------------------------------
# Price bands


def price_bands(
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    period: Period,
    *,
    bands: int = DEFAULT_PRICE_BANDS,
) -> pd.DataFrame:
    """``category, band, price_low, price_high, skus, units, orders, gmv, gmv_share``: each
    category's units cut into ``bands`` quantile bands of the paid unit price (module
    docstring; empty bands have no row). By category, then band."""
    _check_count("bands", bands)
    lines = _priced_lines(orders, order_items, products, period)
    # C⁻(p) = the units at prices up to p (a range frame takes in every line at p) less the
    # units at p; window sums over the lines, so no join back to a per-price table is needed
    upto = ibis.window(group_by="category", order_by="unit_price", range=(None, 0))
    at = ibis.window(group_by=["category", "unit_price"])
    whole = ibis.window(group_by="category")
    units = lines.quantity
    below = units.sum().over(upto) - units.sum().over(at)
    banded = lines.mutate(band=((below * bands) // units.sum().over(whole)).cast("int64") + 1)
    counted = banded.group_by(["category", "band"]).aggregate(
        price_low=banded.unit_price.min(),
        price_high=banded.unit_price.max(),
        skus=banded.sku_id.nunique(),
        units=banded.quantity.sum(),
        orders=banded.order_id.nunique(),
        gmv=(banded.quantity * banded.unit_price).sum(),
    )
    table = counted.to_pandas()
    if table.empty:
        return pd.DataFrame(columns=BAND_COLUMNS)
    table = table.astype({"band": "int64", "skus": "int64", "units": "int64", "orders": "int64"})
    table["gmv"] = table["gmv"].astype("float64")
    category_gmv = table.groupby("category")["gmv"].transform("sum")
    table["gmv_share"] = table["gmv"] / category_gmv.where(category_gmv > 0)
    table["gmv"] = table["gmv"].round(MONEY_DECIMALS)
    table = table.sort_values(["category", "band"])
    return table[BAND_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Discount depth


def _depth_labels(edges: Sequence[float]) -> list[tuple[str, float, float]]:
    """``(label, low, high]`` of each depth band, the first ``≤ edges[0]``, the last open."""
    labels = [(AT_LIST, -math.inf, edges[0])]
    for low, high in zip(edges, edges[1:], strict=False):
        labels.append((f"{low:.0%}–{high:.0%}", low, high))
    labels.append((f"> {edges[-1]:.0%}", edges[-1], math.inf))
    return labels


def _depth_band(depth: pd.Series, edges: Sequence[float]) -> pd.Series:
    """The label of each depth's band: ``(low, high]`` (module docstring)."""
    labels = _depth_labels(edges)
    # the index of the first edge at or above the depth: 0 is "at or above list"
    position = np.searchsorted(np.asarray(edges, dtype="float64"), depth.to_numpy(), side="left")
    return pd.Series([labels[i][0] for i in position], index=depth.index, dtype="object")


def _conversion_columns(table: pd.DataFrame) -> pd.DataFrame:
    viewers = table["viewers"].astype("int64")
    buyers = table["buyers"].astype("int64")
    table["conversion"] = (buyers / viewers.where(viewers > 0)).astype("float64")
    low, high = proportion_intervals(buyers.to_numpy(), viewers.to_numpy(), CONFIDENCE)
    table["ci_low"], table["ci_high"] = low, high
    return table


def discount_depth(
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    period: Period,
    events: ir.Table | None = None,
    *,
    depth_edges: Sequence[float] = DEFAULT_DEPTH_EDGES,
) -> pd.DataFrame:
    """``depth_band, depth_low, depth_high, skus, units, gmv, mean_depth, viewers, buyers,
    conversion, ci_low, ci_high``: SKUs sold in the period by their discount depth off the list
    price (module docstring), shallowest band first, then ``(no list price)`` and, with events,
    ``(not sold)``. Every band of ``depth_edges`` has a row, empty or not. Without events the
    viewers and buyers are 0 and the conversion empty."""
    edges = [float(e) for e in depth_edges]
    if not edges or any(b <= a for a, b in zip(edges, edges[1:], strict=False)) or edges[0] < 0:
        raise ValueError(f"depth_edges={list(depth_edges)!r} must rise from 0 or more")
    lines = _priced_lines(orders, order_items, products, period)
    per_sku = lines.group_by(["sku_id", "list_price"]).aggregate(
        units=lines.quantity.sum(), gmv=(lines.quantity * lines.unit_price).sum()
    )
    skus = per_sku.to_pandas().astype({"units": "int64", "gmv": "float64"})
    skus["list_price"] = skus["list_price"].astype("float64")
    priced = skus["list_price"] > 0  # NaN compares False: no list price
    list_value = skus["units"] * skus["list_price"]
    skus["depth"] = (1.0 - skus["gmv"] / list_value.where(priced)).round(DEPTH_DECIMALS)
    skus["depth_band"] = NO_LIST_PRICE
    skus.loc[priced, "depth_band"] = _depth_band(skus.loc[priced, "depth"], edges)
    skus["list_value"] = list_value.where(priced)

    if events is not None:
        seen = _sku_conversion(events, orders, order_items, period)
        skus = skus.merge(seen, on="sku_id", how="outer")
        unsold = skus["depth_band"].isna()
        skus.loc[unsold, "depth_band"] = NOT_SOLD
        skus = skus.fillna({"units": 0, "gmv": 0.0, "viewers": 0, "buyers": 0})
    else:
        skus["viewers"], skus["buyers"] = 0, 0

    grouped = skus.groupby("depth_band", sort=False).agg(
        skus=("sku_id", "nunique"),
        units=("units", "sum"),
        gmv=("gmv", "sum"),
        list_value=("list_value", "sum"),
        viewers=("viewers", "sum"),
        buyers=("buyers", "sum"),
    )
    rows = [(label, low, high) for label, low, high in _depth_labels(edges)]
    rows += [(NO_LIST_PRICE, math.nan, math.nan)]
    if events is not None:
        rows += [(NOT_SOLD, math.nan, math.nan)]
    frame = pd.DataFrame(rows, columns=["depth_band", "depth_low", "depth_high"])
    table = frame.merge(grouped, left_on="depth_band", right_index=True, how="left")
    table = table.fillna({c: 0 for c in ("skus", "units", "viewers", "buyers", "gmv")})
    table = table.astype({c: "int64" for c in ("skus", "units", "viewers", "buyers")})
    list_total = table["list_value"].where(table["list_value"] > 0)
    table["mean_depth"] = 1.0 - table["gmv"] / list_total
    special = table["depth_band"].isin([NO_LIST_PRICE, NOT_SOLD])
    table.loc[special, "mean_depth"] = math.nan
    table["gmv"] = table["gmv"].astype("float64").round(MONEY_DECIMALS)
    table = _conversion_columns(table)
    if events is None:
        table[["conversion", "ci_low", "ci_high"]] = math.nan
    return table[DEPTH_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Own-price elasticity


def sku_days(
    orders: ir.Table, order_items: ir.Table, products: ir.Table, period: Period
) -> pd.DataFrame:
    """``sku_id, category, day, units, price``: each SKU's priced lines summed per local day
    (epoch day) with sales; ``price = GMV / units``. By SKU, then day."""
    lines = _priced_lines(orders, order_items, products, period)
    daily = lines.group_by(["sku_id", "category", "day"]).aggregate(
        units=lines.quantity.sum(), gmv=(lines.quantity * lines.unit_price).sum()
    )
    table = daily.to_pandas()
    table = table.astype({"day": "int64", "units": "int64", "gmv": "float64"})
    table["price"] = table["gmv"] / table["units"]
    table = table.sort_values(["sku_id", "day"])
    return table[["sku_id", "category", "day", "units", "price"]].reset_index(drop=True)


def price_changes(days: pd.DataFrame, price_change: float = DEFAULT_PRICE_CHANGE) -> pd.Series:
    """Whether each SKU-day of :func:`sku_days` is a price change: its price differs from the
    SKU's previous day with sales by more than ``price_change`` (relative, rounded to 9
    decimals). A SKU's first day is no change."""
    ordered = days.sort_values(["sku_id", "day"])
    previous = ordered.groupby("sku_id")["price"].shift()
    relative = (ordered["price"] / previous - 1.0).abs().round(RATIO_DECIMALS)
    return (relative > price_change).reindex(days.index)


def _within(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each column minus its group mean (the within transformation)."""
    codes, inverse = np.unique(groups, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(codes)).astype("float64")
    sums = np.zeros((len(codes), values.shape[1]))
    np.add.at(sums, inverse, values)
    return values - (sums / counts[:, None])[inverse]


def fit_elasticity(days: pd.DataFrame, confidence: float = CONFIDENCE) -> dict[str, float | str]:
    """The fixed-effects log-log fit of one category's SKU-days (module docstring):
    ``elasticity, se, ci_low, ci_high, skus, sku_days`` and a ``note`` ('' when all is well)."""
    per_sku = days.groupby("sku_id")["day"].transform("size")
    used = days[per_sku >= 2]
    n, groups = len(used), used["sku_id"].nunique()
    result: dict[str, float | str] = {
        "elasticity": math.nan,
        "se": math.nan,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "skus": groups,
        "sku_days": n,
        "note": "",
    }
    if groups == 0:
        result["note"] = "no SKU sold on two or more days"
        return result
    weekday = ((used["day"].to_numpy() + 3) % WEEK_DAYS).astype("int64")  # Monday = 0
    present = np.unique(weekday)
    dummies = (weekday[:, None] == present[None, 1:]).astype("float64")
    x = np.column_stack([np.log(used["price"].to_numpy(dtype="float64")), dummies])
    y = np.log(used["units"].to_numpy(dtype="float64"))
    sku = used["sku_id"].to_numpy()
    xw = _within(x, sku)
    yw = _within(y[:, None], sku)[:, 0]
    k = xw.shape[1]
    # is log(price) left with any variation once the SKU and weekday effects are taken out?
    others = xw[:, 1:]
    if others.shape[1]:
        coef, *_ = np.linalg.lstsq(others, xw[:, 0], rcond=None)
        left = xw[:, 0] - others @ coef
    else:
        left = xw[:, 0]
    scale = max(float(np.abs(xw[:, 0]).max()), 1.0)
    if float(np.abs(left).max()) <= 1e-9 * scale or np.linalg.matrix_rank(xw) < k or n <= k:
        result["note"] = "price moves only with the SKU and weekday effects"
        return result
    xtx_inv = np.linalg.inv(xw.T @ xw)
    beta = xtx_inv @ (xw.T @ yw)
    residual = yw - xw @ beta
    result["elasticity"] = float(beta[0])
    if groups < 2:
        result["note"] = "one SKU: no cluster-robust interval"
        return result
    scores = np.zeros((groups, k))
    _, inverse = np.unique(sku, return_inverse=True)
    np.add.at(scores, inverse, xw * residual[:, None])
    correction = groups / (groups - 1) * (n - 1) / (n - k)
    covariance = correction * xtx_inv @ (scores.T @ scores) @ xtx_inv
    se = math.sqrt(max(float(covariance[0, 0]), 0.0))
    t = float(stats.t.ppf(0.5 + confidence / 2, groups - 1))
    result.update(se=se, ci_low=float(beta[0]) - t * se, ci_high=float(beta[0]) + t * se)
    return result


def price_elasticity(
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    period: Period,
    *,
    min_price_changes: int = DEFAULT_MIN_PRICE_CHANGES,
    price_change: float = DEFAULT_PRICE_CHANGE,
) -> pd.DataFrame:
    """``category, elasticity, ci_low, ci_high, se, skus, sku_days, price_changes, note``: the
    own-price elasticity of each category with sales (module docstring). A category with fewer
    than ``min_price_changes`` price changes has no number and says why in ``note``. By
    category."""
    _check_count("min_price_changes", min_price_changes)
    _check_share("price_change", price_change)
    days = sku_days(orders, order_items, products, period)
    if days.empty:
        return pd.DataFrame(columns=ELASTICITY_COLUMNS)
    days["change"] = price_changes(days, price_change)
    rows = []
    for category, group in days.groupby("category", sort=True):
        changes = int(group["change"].sum())
        if changes < min_price_changes:
            per_sku = group.groupby("sku_id")["day"].transform("size")
            rows.append(
                {
                    "category": category,
                    "elasticity": math.nan,
                    "ci_low": math.nan,
                    "ci_high": math.nan,
                    "se": math.nan,
                    "skus": int(group.loc[per_sku >= 2, "sku_id"].nunique()),
                    "sku_days": int((per_sku >= 2).sum()),
                    "price_changes": changes,
                    "note": f"not enough price variation ({changes} changes)",
                }
            )
            continue
        fitted = fit_elasticity(group)
        rows.append({"category": category, **fitted, "price_changes": changes})
    table = pd.DataFrame(rows)
    table = table.astype({"skus": "int64", "sku_days": "int64", "price_changes": "int64"})
    return table[ELASTICITY_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Competitor prices


def _daily_index(competitor_prices: ir.Table, products: ir.Table, period: Period) -> ir.Table:
    """``sku_id, category, list_price, date, lowest, competitors, index`` per SKU and day of the
    period with a competitor price (``index`` null without a usable list price)."""
    cp = competitor_prices
    cp = cp.filter(period.contains(cp.date), cp.sku_id.notnull(), cp.price.notnull(), cp.price > 0)
    daily = cp.group_by(["sku_id", "date"]).aggregate(
        lowest=cp.price.min(), competitors=cp.competitor.nunique()
    )
    known = catalogue(products).select("catalogue_sku", "category", "list_price")
    joined = daily.left_join(known, daily.sku_id == known.catalogue_sku)
    usable = joined.list_price.notnull() & (joined.list_price > 0)
    return joined.select(
        "sku_id",
        "date",
        "lowest",
        "competitors",
        "list_price",
        category=joined.category.fill_null(UNKNOWN),
        index=usable.ifelse(joined.list_price / joined.lowest, ibis.null("float64")),
    )


def _overpriced(index: pd.Series, price_gap: float) -> pd.Series:
    return index.round(RATIO_DECIMALS) > round(1.0 + price_gap, RATIO_DECIMALS)


def competitor_price_index(
    competitor_prices: ir.Table,
    products: ir.Table,
    period: Period,
    *,
    price_gap: float = DEFAULT_PRICE_GAP,
) -> pd.DataFrame:
    """``sku_id, category, list_price, days, competitors, lowest_price, price_index,
    index_first_week, index_last_week, index_change, overpriced``: each SKU with a competitor
    price in the period against the cheapest competitor (module docstring). ``days``: days with
    a competitor price; ``competitors``: distinct competitors over the period;
    ``lowest_price``: the mean of the daily lowest prices. Most overpriced first (SKUs without
    an index last), then by ``sku_id``."""
    if not (isinstance(price_gap, int | float) and price_gap >= 0):
        raise ValueError(f"price_gap={price_gap!r} must be a number from 0")
    daily = _daily_index(competitor_prices, products, period)
    week = dt.timedelta(days=WEEK_DAYS - 1)
    first_end = ibis.literal(period.start + week, "date")
    last_start = ibis.literal(period.end - week, "date")
    null = ibis.null("float64")
    per_sku = daily.group_by(["sku_id", "category"]).aggregate(
        list_price=daily.list_price.max(),
        days=daily.count(),
        lowest_price=daily.lowest.mean(),
        price_index=daily["index"].mean(),
        index_first_week=(daily.date <= first_end).ifelse(daily["index"], null).mean(),
        index_last_week=(daily.date >= last_start).ifelse(daily["index"], null).mean(),
    )
    cp = competitor_prices
    cp = cp.filter(period.contains(cp.date), cp.sku_id.notnull(), cp.price.notnull(), cp.price > 0)
    rivals = cp.group_by("sku_id").aggregate(competitors=cp.competitor.nunique())
    table = per_sku.to_pandas().merge(rivals.to_pandas(), on="sku_id", how="left")
    if table.empty:
        return pd.DataFrame(columns=INDEX_COLUMNS)
    table = table.astype({"days": "int64", "competitors": "int64"})
    for column in ("list_price", "lowest_price", "price_index", "index_first_week"):
        table[column] = table[column].astype("float64")
    table["index_last_week"] = table["index_last_week"].astype("float64")
    table["index_change"] = table["index_last_week"] - table["index_first_week"]
    table["overpriced"] = _overpriced(table["price_index"], price_gap)
    # sorted on the rounded index: engines add in different orders, and equal indices must not
    # swap places over their last bits
    table["order"] = table["price_index"].round(RATIO_DECIMALS)
    table = table.sort_values(["order", "sku_id"], ascending=[False, True], na_position="last")
    return table[INDEX_COLUMNS].reset_index(drop=True)


def price_index_daily(
    competitor_prices: ir.Table, products: ir.Table, period: Period
) -> pd.DataFrame:
    """``date, category, skus, price_index``: per day of the period and category, the SKUs with
    an index that day and the mean of their index (the series behind the trend). By date, then
    category."""
    daily = _daily_index(competitor_prices, products, period)
    daily = daily.filter(daily["index"].notnull())
    counted = daily.group_by(["date", "category"]).aggregate(
        skus=daily.sku_id.nunique(), price_index=daily["index"].mean()
    )
    table = counted.to_pandas()
    if table.empty:
        return pd.DataFrame(columns=DAILY_COLUMNS)
    table["date"] = pd.to_datetime(table["date"]).astype("datetime64[ns]")
    table = table.astype({"skus": "int64", "price_index": "float64"})
    table = table.sort_values(["date", "category"])
    return table[DAILY_COLUMNS].reset_index(drop=True)


def category_price_index(index: pd.DataFrame) -> pd.DataFrame:
    """``category, skus, skus_with_index, price_index, overpriced_skus, overpriced_share``
    from :func:`competitor_price_index`: the mean of the SKUs' indices (each SKU weighs the
    same) and the overpriced share of the SKUs with an index. Most overpriced SKUs first."""
    if index.empty:
        return pd.DataFrame(columns=CATEGORY_INDEX_COLUMNS)
    table = index.groupby("category").agg(
        skus=("sku_id", "nunique"),
        skus_with_index=("price_index", "count"),
        price_index=("price_index", "mean"),
        overpriced_skus=("overpriced", "sum"),
    )
    table = table.reset_index().astype(
        {"skus": "int64", "skus_with_index": "int64", "overpriced_skus": "int64"}
    )
    with_index = table["skus_with_index"].where(table["skus_with_index"] > 0)
    table["overpriced_share"] = table["overpriced_skus"] / with_index
    table = table.sort_values(["overpriced_skus", "category"], ascending=[False, True])
    return table[CATEGORY_INDEX_COLUMNS].reset_index(drop=True)


def overpriced_conversion(
    events: ir.Table,
    orders: ir.Table,
    order_items: ir.Table,
    index: pd.DataFrame,
    period: Period,
) -> pd.DataFrame:
    """``group, skus, viewers, buyers, conversion, ci_low, ci_high, diff, diff_low, diff_high,
    p_value``: rows ``overpriced`` and ``rest`` (the other SKUs of :func:`competitor_price_index`
    with an index); viewer → buyer conversion of each (module docstring). The difference
    (overpriced − rest) with Newcombe's interval and the p-value are on the ``overpriced`` row."""
    indexed = index[index["price_index"].notna()][["sku_id", "overpriced"]]
    seen = _sku_conversion(events, orders, order_items, period)
    merged = indexed.merge(seen, on="sku_id", how="left").fillna({"viewers": 0, "buyers": 0})
    rows = []
    for group, flag in ((OVERPRICED, True), (REST, False)):
        part = merged[merged["overpriced"] == flag]
        rows.append(
            {
                "group": group,
                "skus": len(part),
                "viewers": int(part["viewers"].sum()),
                "buyers": int(part["buyers"].sum()),
            }
        )
    table = _conversion_columns(pd.DataFrame(rows))
    over, rest = table.iloc[0], table.iloc[1]
    diff = over["conversion"] - rest["conversion"]
    low = diff - math.hypot(
        over["conversion"] - over["ci_low"], rest["ci_high"] - rest["conversion"]
    )
    high = diff + math.hypot(
        over["ci_high"] - over["conversion"], rest["conversion"] - rest["ci_low"]
    )
    p_value = two_proportion_pvalue(
        int(over["buyers"]), int(over["viewers"]), int(rest["buyers"]), int(rest["viewers"])
    )
    table["diff"] = [diff, math.nan]
    table["diff_low"] = [low, math.nan]
    table["diff_high"] = [high, math.nan]
    table["p_value"] = [p_value, math.nan]
    return table[CONVERSION_COLUMNS]


# --------------------------------------------------------------------------------------------
# Notes


def _share(value: float) -> str:
    return f"{value:.1%}"


def _money(value: float) -> str:
    return f"{value:,.2f}"


def bands_note(bands: pd.DataFrame) -> str:
    """Sentences from :func:`price_bands`: for the category with the most GMV, where in its
    price range the GMV and the units sit."""
    if bands.empty:
        return "No priced line was paid in the period: no price band to show."
    totals = bands.groupby("category").agg(gmv=("gmv", "sum"), units=("units", "sum"))
    top = totals.sort_values(["gmv", "units"], ascending=False).index[0]
    mine = bands[bands["category"] == top]
    units = int(mine["units"].sum())
    best = mine.sort_values(["gmv_share", "band"], ascending=[False, True]).iloc[0]
    parts = [
        f"{len(totals)} categories are cut into price bands by the units sold.",
        f"In {top}, the largest by GMV ({_money(totals.loc[top, 'gmv'])}), band {best['band']} "
        f"(paid {_money(best['price_low'])}–{_money(best['price_high'])}) brings "
        f"{_share(best['gmv_share'])} of the GMV from {_share(best['units'] / units)} of the "
        "units.",
    ]
    missing = sorted(set(range(1, int(mine["band"].max()) + 1)) - set(mine["band"]))
    if missing:
        parts.append(
            f"Its band(s) {', '.join(map(str, missing))} are empty: one price holds more than a "
            "band's worth of units."
        )
    return " ".join(parts)


def depth_note(depth: pd.DataFrame) -> str:
    """Sentences from :func:`discount_depth`: how much GMV sells off the list price, the SKUs
    without one, and the conversion of the deepest band next to the full-price one."""
    banded = depth[~depth["depth_band"].isin([NO_LIST_PRICE, NOT_SOLD])]
    sold = int(banded["skus"].sum())
    rows = depth.set_index("depth_band")
    missing = int(rows.loc[NO_LIST_PRICE, "skus"]) if NO_LIST_PRICE in rows.index else 0
    if not sold and not missing:
        return "No priced line was paid in the period: no discount depth to read."
    if not sold:
        return (
            f"No SKU sold in the period has a list price ({missing} without): discount depth "
            "cannot be read."
        )
    gmv = float(banded["gmv"].sum())
    full = float(rows.loc[AT_LIST, "gmv"]) if AT_LIST in rows.index else 0.0
    parts = [
        f"{sold} SKUs sold with a list price; {_share(1 - full / gmv) if gmv else 'none'} of "
        "their GMV was sold below it."
    ]
    if missing:
        parts.append(
            f"{missing} SKUs sold without a list price are left out of the depth bands "
            f"({_money(float(rows.loc[NO_LIST_PRICE, 'gmv']))} of GMV)."
        )
    viewed = banded[(banded["viewers"] > 0) & (banded["skus"] > 0)]
    if len(viewed) >= 2:
        a, b = viewed.iloc[0], viewed.iloc[-1]
        parts.append(
            f"Viewers of the {a['depth_band']} SKUs bought {_share(a['conversion'])} of the time "
            f"({a['buyers']:,} of {a['viewers']:,}, 95 % {_share(a['ci_low'])}–"
            f"{_share(a['ci_high'])}); of the {b['depth_band']} ones {_share(b['conversion'])} "
            f"({b['buyers']:,} of {b['viewers']:,}, {_share(b['ci_low'])}–"
            f"{_share(b['ci_high'])}). Only SKUs that sold have a depth, which raises both."
        )
    return " ".join(parts)


def elasticity_note(table: pd.DataFrame, min_price_changes: int = DEFAULT_MIN_PRICE_CHANGES) -> str:
    """Sentences from :func:`price_elasticity`: which categories have a number, the clearest
    one with its interval, and the limitation of reading prices on days with sales only."""
    if table.empty:
        return "No priced line was paid in the period: no elasticity to estimate."
    known = table[table["elasticity"].notna()]
    short = table[table["note"].str.startswith("not enough")]
    parts = []
    if known.empty:
        parts.append(
            f"No category has enough price variation for an elasticity (at least "
            f"{min_price_changes} price changes of more than 1 % needed)."
        )
    else:
        with_ci = known[known["ci_low"].notna()]
        if len(with_ci):
            best = with_ci.assign(width=with_ci["ci_high"] - with_ci["ci_low"]).sort_values(
                ["width", "category"]
            )
            row = best.iloc[0]
            if row["ci_high"] < -1:
                reading = "elastic: a 1 % higher price loses more than 1 % of units"
            elif row["ci_low"] > -1 and row["ci_high"] < 0:
                reading = "inelastic: units fall by less than the price rises"
            elif row["ci_low"] > 0:
                reading = "positive, which points at prices that follow demand, not the reverse"
            else:
                reading = "not clearly elastic or inelastic"
            parts.append(
                f"{len(known)} of {len(table)} categories have an elasticity. The most precise, "
                f"{row['category']}: {row['elasticity']:.2f} (95 % {row['ci_low']:.2f} to "
                f"{row['ci_high']:.2f}, {int(row['price_changes'])} price changes over "
                f"{int(row['sku_days']):,} SKU-days), {reading}."
            )
        else:
            parts.append(f"{len(known)} of {len(table)} categories have an elasticity.")
        rising = known[known["ci_low"] > 0].sort_values("category")
        if len(rising):
            names = ", ".join(
                f"{r.category} ({r.elasticity:+.2f}, 95 % {r.ci_low:.2f} to {r.ci_high:.2f})"
                for r in rising.itertuples()
            )
            parts.append(
                f"Units rose with price in {names}: demand does not do that, so there prices "
                "moved with demand (promotions, season) and the slope is no reaction to price."
            )
    if len(short):
        parts.append(
            f"1 category has fewer than {min_price_changes} price changes and gets no number."
            if len(short) == 1
            else f"{len(short)} categories have fewer than {min_price_changes} price changes "
            "and get no number."
        )
    parts.append(
        "Only days with sales have a price, so days when a price choked sales off are missing: "
        "the elasticities lean toward zero."
    )
    return " ".join(parts)


def competitor_note(
    index: pd.DataFrame,
    conversion: pd.DataFrame | None = None,
    price_gap: float = DEFAULT_PRICE_GAP,
) -> str:
    """Sentences from :func:`competitor_price_index` and :func:`overpriced_conversion`: how
    many SKUs are priced more than ``price_gap`` above the cheapest competitor, the trend, and
    their conversion next to the rest."""
    if index.empty:
        return "No competitor price in the period: no price index."
    with_index = index[index["price_index"].notna()]
    missing = len(index) - len(with_index)
    if with_index.empty:
        return f"{len(index)} SKUs have competitor prices but none has a list price: no index."
    over = int(with_index["overpriced"].sum())
    parts = [
        f"Over {len(with_index)} SKUs with competitor prices, the own list price is on average "
        f"{with_index['price_index'].mean():.2f} times the cheapest competitor's; {over} "
        f"({_share(over / len(with_index))}) are more than {price_gap:.0%} above it."
    ]
    change = with_index["index_change"].dropna()
    if len(change):
        parts.append(
            f"From the first week to the last, the mean index moved by {change.mean():+.3f}."
            if round(change.mean(), 3) != 0
            else "From the first week to the last, the mean index stayed level (within 0.001)."
        )
    if missing:
        parts.append(f"{missing} SKUs with competitor prices have no list price and no index.")
    if conversion is not None and len(conversion) == 2:
        o, r = conversion.iloc[0], conversion.iloc[1]
        if o["viewers"] > 0 and r["viewers"] > 0:
            verdict = (
                "a difference beyond the noise"
                if o["diff_low"] > 0 or o["diff_high"] < 0
                else "no difference beyond the noise"
            )
            parts.append(
                f"Viewers of the overpriced SKUs bought {_share(o['conversion'])} of the time "
                f"({int(o['buyers']):,} of {int(o['viewers']):,}), of the others "
                f"{_share(r['conversion'])} ({int(r['buyers']):,} of {int(r['viewers']):,}): "
                f"{(o['diff'] * 100):+.1f} points (95 % {(o['diff_low'] * 100):+.1f} to "
                f"{(o['diff_high'] * 100):+.1f}), {verdict}."
            )
    return " ".join(parts)


def pricing_note(
    bands: pd.DataFrame | None = None,
    depth: pd.DataFrame | None = None,
    elasticity: pd.DataFrame | None = None,
    index: pd.DataFrame | None = None,
    conversion: pd.DataFrame | None = None,
    *,
    min_price_changes: int = DEFAULT_MIN_PRICE_CHANGES,
    price_gap: float = DEFAULT_PRICE_GAP,
) -> str:
    """The notes of the tables given, in order, one paragraph each."""
    parts = []
    if bands is not None:
        parts.append(bands_note(bands))
    if depth is not None:
        parts.append(depth_note(depth))
    if elasticity is not None:
        parts.append(elasticity_note(elasticity, min_price_changes))
    if index is not None:
        parts.append(competitor_note(index, conversion, price_gap))
    return "\n\n".join(parts)


def shop_index_daily(index_daily: pd.DataFrame) -> pd.DataFrame:
    """``date, skus, price_index``: the shop's mean price index each day from
    :func:`price_index_daily`, each SKU with an index that day weighing the same (the categories'
    means weighted by their SKUs), by date — the trend line of the figure."""
    if index_daily.empty:
        return pd.DataFrame(columns=["date", "skus", "price_index"])
    weighted = index_daily.assign(total=index_daily["price_index"] * index_daily["skus"])
    daily = weighted.groupby("date", sort=True).agg(skus=("skus", "sum"), total=("total", "sum"))
    daily["price_index"] = daily.pop("total") / daily["skus"]
    return daily.reset_index()
