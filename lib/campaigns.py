"""Promotion and campaign evaluation (价格与促销活动的效果评估): did a campaign lift the sales of
what it targeted, by how much (with a 95 % interval), what did it give away, did it pay, and did
sales dip after it (pull-forward).

Definitions (docs/metrics.md, "Campaigns"):

- **Campaigns** (optional table): ``campaign_id, name, start_date, end_date`` (local days, both
  included), ``kind`` (promotion, coupon, price_cut, ad_burst…; reported, not used in the
  arithmetic), optional ``category``, ``channel``, ``discount_rate`` (read, not used: what was
  given away is measured from the orders). A repeated ``campaign_id`` or an end before the start
  is an error naming the campaign. A campaign is evaluated when one of its days is in the period.
- **Scope**: the orders the campaign targets. With a ``category``: the part of each paid order
  that lies in that category: the order's ``paid_amount`` is split over its lines by line value
  (``quantity × unit_price``; equally over the lines when they are all worth 0), as
  :func:`lib.repurchase.order_category_shares` and :func:`lib.definitions.paid_lines` split it,
  so the category's GMV is its lines' share of what the buyers paid; an order counts (for orders
  and buyers) in the scope when it has a line of the category. With a ``channel``: orders whose
  ``channel`` is the campaign's (an order without a channel is not in it). Both: lines of the
  category in orders of the channel. Neither: the whole shop. The **rest** (the untargeted
  comparison) is every other line: other categories, other channels (or none); an order with
  lines in and out of the scope counts in both, its GMV split. A paid order without lines is
  one line of the ``(unknown)`` category. Visitors (UV) of a scope: distinct users with an event
  on the day whose ``channel`` is the campaign's, and/or whose ``sku_id`` is of the category
  (events without a SKU count for neither the category nor its rest); the shop's UV is its
  daily active users (:func:`lib.traffic.active_user_days`).
- **Daily series** per local day of ``paid_time`` (:func:`lib.definitions.paid_orders_in`, the
  period's zone), for the scope and the rest: ``gmv`` (money rounded to cents), ``orders``,
  ``buyers`` (distinct users that day) and ``uv`` (without events left out). A campaign's totals
  add the days up, so ``buyers`` and ``uv`` over several days are buyer-days and visitor-days (a
  counterfactual of distinct users over a span cannot be built from daily series). Everything is
  grouped in the engine (one query by day and scope for the orders, one for the events); only
  the daily series come back to pandas, where the models are fitted with numpy.
- **Days**. *Campaign days* evaluated: the campaign's days in the period, up to the last local
  day present in the orders (a campaign running past the period end, or past the data, is
  evaluated over its days so far: ``days`` of ``campaign_days``, and the note says so). *Baseline
  days* (:func:`baseline_days_of`): the ``baseline_days`` latest local days before the
  campaign's own start (never its first evaluated day: a campaign's days are never its own
  baseline) that are usable: not before the first local day of the orders (they would read as
  days without sales), and not a day of another campaign whose scope may overlap this one, nor
  one of the ``dip_days`` after it (two scopes are apart only when both name different
  categories, or both different channels). Skipped days are replaced by older ones, looking back
  at most :data:`BASELINE_LOOKBACK` × ``baseline_days`` days (a straight trend should not be
  fitted on days far from the campaign); the days skipped, and a baseline left short (by the
  data start: how many of the days before the start are before it), are counted in the notes,
  and ``baseline_days_used`` and ``baseline_start`` say what was used. *Dip days*: the
  ``dip_days`` local days after the campaign's end. Another campaign whose scope may overlap
  and that runs on evaluated days is named in the notes: what is measured is their effect
  together (Double 11 coupons and the Double 11 days cannot be told apart).
- **(a) baseline** counterfactual (:func:`baseline_fit`): on the baseline days, ordinary least
  squares (numpy) of the daily value on a level, a linear trend and day-of-week effects
  (additive: ``y = a + b·t + c_weekday + e``, model ``weekly + trend``), projected over the
  campaign days; ``expected`` is the sum of the projections. The weekly effects need every
  weekday at least :data:`MIN_WEEKDAY_REPEATS` times in the baseline; a shorter one is fitted
  with ``level + trend`` from :data:`MIN_TREND_DAYS` days, with the ``level`` (its mean) below
  that, and fewer than 2 days give no counterfactual (``model`` says which). The trend is there
  because shops grow: on the sample shop, placebo campaigns (26 scopes, two quiet weeks) came
  out "significant" at 95 % in 0–5 % of cases for GMV, orders and buyers with it and 4–19 %
  without (UV: 15 % either way, see below). The interval of
  ``incremental = actual − expected`` is the prediction interval of the sum of ``H`` new days:
  ``± t(0.975, n − p) · sqrt(s² (H + Lᵀ (XᵀX)⁻¹ L))``, with ``s²`` the residual variance
  (``RSS / (n − p)``), ``L`` the sum of the campaign days' design rows, ``n`` baseline days and
  ``p`` parameters: the noise of the days themselves plus that of the fitted level, trend and
  effects (the further out the campaign, the wider). Days are taken as independent given the
  model: a level that wanders from week to week makes the interval too narrow.
- **(b) did** (difference in differences, scopes with a category or channel): ``expected =
  scope's baseline mean × (rest's campaign-days mean / rest's baseline mean) × H``, i.e. ``β̂ ×
  X_c`` with ``β̂ = Σ_baseline scope / Σ_baseline rest`` (the ratio estimator) and ``X_c`` the
  rest's total over the campaign days: what the scope would have done had it moved as the rest
  did, weekday mix and shop-wide shocks included. Its interval treats the scope's days as ``y_t
  = β x_t + e_t`` with ``Var e_t = σ² x_t`` (the model under which ``β̂`` is the least-squares
  estimate): ``σ̂² = Σ (y_t − β̂ x_t)² / x_t / (m − 1)`` over the ``m`` baseline days with ``x_t
  > 0``, and ``± t(0.975, m − 1) · sqrt(σ̂² X_c (1 + X_c / X_b))``, ``X_b`` the rest's baseline
  total. It assumes the campaign did not move the rest (no cannibalisation). The same placebo
  campaigns came out "significant" in 4–6 % of cases for GMV, orders and buyers. UV is the
  weak measure of both methods (17 % and 12 % of the placebos, ``benchmarks/campaign_placebos.py``):
  the channels' visitors drift below the baseline's linear trend, a bias the interval does not
  hold; read its interval as too narrow (the notes speak of GMV only). Both
  methods are rows (``method``); ``primary`` marks the one the notes read: ``did`` where it
  exists, else ``baseline``.
- **Money** (``gmv`` rows; NaN on the others): ``discount_cost`` = ``coupon_discount`` (each
  scope order's ``discount_amount`` split over its lines by line value, the scope's part) +
  ``markdown`` (the list-price gap Σ quantity × (list_price − unit_price) of the scope's lines;
  0 for a line without a list price), over the campaign days: what the scope's sales gave away.
  ``net_margin`` = the campaign days' gross profit minus the counterfactual's: ``(actual GMV −
  cost of goods) − expected GMV × m_b``, with ``m_b = 1 − cost of goods / GMV`` of the scope over
  the baseline days (cost of goods = Σ quantity × ``products.unit_cost``). As GMV is after the
  discounts, the discounts are inside it: it equals ``incremental GMV × m_b − actual GMV × (m_b −
  m_c)`` (``m_c`` the campaign days' margin rate), the extra sales' margin less the margin the
  campaign's prices took off all of its sales
  (with a baseline at full price, ``(incremental GMV + discounts) × m − discounts``). It is NaN,
  and said (the share of the scope's GMV concerned), when some of the scope's GMV on the
  baseline or campaign days has no known cost of goods: a line whose SKU has no ``unit_cost`` or
  is not in the catalogue, a paid order without lines, or no products table.
  ``net_margin_low/high`` carry the incremental GMV's interval through (the margin rate taken as
  known). ``roi = net_margin / discount_cost`` (NaN when nothing was given away): the net margin
  gained per unit of discount, negative when the campaign lost money.
- **post_dip** = actual − expected (same method) summed over the ``dip_days`` after the end,
  with its interval (``post_dip_low/high``); negative = pull-forward. NaN, "not yet observable",
  when the dip's last day is after the last local day in the orders.

:func:`campaign_daily` gives the daily actual and counterfactual series behind the table (the
figure), :func:`campaigns_note` the sentences the notebook prints, computed from the table.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats

from lib import traffic
from lib.definitions import (
    MONEY_DECIMALS,
    UNKNOWN,
    catalogue,
    events_in,
    order_share,
    paid_orders_in,
)
from lib.periods import EPOCH, Period, check_lengths, epoch_day, parse_date, to_timestamps

DEFAULT_BASELINE_DAYS = 28
DEFAULT_DIP_DAYS = 7
CONFIDENCE = 0.95
# The weekly model is fitted only when every weekday is in the baseline this many times: with
# one of each, a weekday's effect is a single day and the residual variance has no days left.
MIN_WEEKDAY_REPEATS = 2
# A shorter baseline gets a level and a trend from this many days on (its level alone before).
MIN_TREND_DAYS = 7
# How far back the baseline may reach (× baseline_days) when it skips other campaigns' days: a
# straight trend fitted on days long before the campaign says little about its days.
BASELINE_LOOKBACK = 2

METRICS = ("gmv", "orders", "buyers", "uv")
METHODS = ("baseline", "did")
COLUMNS = [
    "campaign_id",
    "metric",
    "actual",
    "expected",
    "incremental",
    "ci_low",
    "ci_high",
    "discount_cost",
    "net_margin",
    "roi",
    "post_dip",
]
EXTRA_COLUMNS = [
    "method",
    "primary",
    "name",
    "kind",
    "scope",
    "start",
    "end",
    "days",
    "campaign_days",
    "baseline_days_used",
    "baseline_start",
    "model",
    "coupon_discount",
    "markdown",
    "net_margin_low",
    "net_margin_high",
    "post_dip_low",
    "post_dip_high",
    "dip_days",
    "notes",
]
DAILY_COLUMNS = ["campaign_id", "date", "phase", "metric", "method", "actual", "expected"]
REQUIRED = ("campaign_id", "name", "start_date", "end_date", "kind")
# the money sums of the daily query, besides gmv
MONEY = ("coupon", "revenue", "cost", "list_value", "costless")


# --------------------------------------------------------------------------------------------
# Campaigns


@dataclass(frozen=True)
class Campaign:
    """One row of the campaigns table; ``start`` and ``end`` are epoch days (local, inclusive)."""

    campaign_id: str
    name: str
    kind: str
    start: int
    end: int
    category: str | None = None
    channel: str | None = None

    @property
    def scope(self) -> str:
        """``category=…``, ``channel=…`` (both joined by ``&``) or ``shop``."""
        parts = [f"category={self.category}"] if self.category is not None else []
        parts += [f"channel={self.channel}"] if self.channel is not None else []
        return " & ".join(parts) or "shop"

    @property
    def targeted(self) -> bool:
        """Whether the campaign targets part of the shop (so that a rest exists for DiD)."""
        return self.category is not None or self.channel is not None

    def apart_from(self, other: Campaign) -> bool:
        """Whether the two scopes cannot share an order line: different categories, or
        different channels (a shop-wide campaign overlaps every other)."""
        categories = self.category is not None and other.category is not None
        channels = self.channel is not None and other.channel is not None
        return (categories and self.category != other.category) or (
            channels and self.channel != other.channel
        )


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def read_campaigns(campaigns: ir.Table | pd.DataFrame) -> list[Campaign]:
    """The campaigns (a small table, read into pandas whole), ordered by start, then id."""
    frame = campaigns if isinstance(campaigns, pd.DataFrame) else campaigns.to_pandas()
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ValueError(f"the campaigns table lacks column(s) {', '.join(missing)}")
    found: dict[str, Campaign] = {}
    for row in frame.to_dict("records"):
        cid = _text(row["campaign_id"])
        if cid is None:
            raise ValueError("a campaign has no campaign_id")
        if cid in found:
            raise ValueError(f"campaign_id {cid!r} is repeated in the campaigns table")
        start = parse_date(_date(row["start_date"]), f"start_date of campaign {cid}")
        end = parse_date(_date(row["end_date"]), f"end_date of campaign {cid}")
        if end < start:
            raise ValueError(f"campaign {cid!r} ends ({end}) before it starts ({start})")
        found[cid] = Campaign(
            campaign_id=cid,
            name=_text(row["name"]) or cid,
            kind=_text(row["kind"]) or "",
            start=epoch_day(start),
            end=epoch_day(end),
            category=_text(row.get("category")),
            channel=_text(row.get("channel")),
        )
    return sorted(found.values(), key=lambda c: (c.start, c.campaign_id))


def _date(value: object) -> object:
    """A date cell as :func:`parse_date` takes it (pandas reads date columns as timestamps)."""
    return value.date() if isinstance(value, pd.Timestamp) else value


def _days(n: int) -> str:
    return f"{n} day{'' if n == 1 else 's'}"


def _day_date(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


# --------------------------------------------------------------------------------------------
# Daily series in the engine


def _line_flag(lines: ir.Table, campaign: Campaign) -> ir.BooleanValue:
    """Whether a line (an order's or an event's) is in the campaign's scope; never null."""
    flag = ibis.literal(True)
    if campaign.category is not None:
        flag = flag & (lines.category.fill_null(UNKNOWN) == campaign.category)
    if campaign.channel is not None:
        flag = flag & (lines.channel == campaign.channel).fill_null(False)
    return flag


def _order_series(
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table | None,
    window: Period,
    campaign: Campaign,
) -> pd.DataFrame:
    """``day, in_scope, gmv, orders, buyers`` + the money sums of :data:`MONEY`, per local day
    of the window and side (scope or rest), in one grouped query."""
    paid = paid_orders_in(orders, window)
    paid = paid.select(
        "order_id",
        "user_id",
        "day",
        "channel",
        "paid_amount",
        discount=paid.discount_amount.fill_null(0.0),
    )
    items = order_items.select(
        item_order="order_id", sku_id="sku_id", quantity="quantity", unit_price="unit_price"
    )
    lines = paid.left_join(items, paid.order_id == items.item_order)
    if products is not None:
        known = catalogue(products)
        lines = lines.left_join(known, lines.sku_id == known.catalogue_sku)
        category, unit_cost, list_price = lines.category, lines.unit_cost, lines.list_price
    else:
        category = ibis.null("string")
        unit_cost = list_price = ibis.null("float64")
    value = (lines.quantity * lines.unit_price).fill_null(0.0)
    lines = lines.mutate(
        category=category,
        value=value,
        cost=lines.quantity * unit_cost,
        # a line whose cost is unknown: a SKU without unit_cost, no catalogue, no line at all
        known_cost=lines.quantity.notnull() & unit_cost.notnull(),
        list_value=(lines.quantity * list_price).fill_null(value),
    )
    share = order_share(lines, "value")
    lines = lines.select(
        "order_id",
        "user_id",
        "day",
        in_scope=_line_flag(lines, campaign),
        gmv=lines.paid_amount * share,
        coupon=lines.discount * share,
        revenue=lines.value,
        cost=lines.cost,
        list_value=lines.list_value,
        # the GMV whose cost of goods is unknown
        costless=lines.known_cost.ifelse(0.0, lines.paid_amount * share),
    )
    # one row per order and side: an order with lines in and out of the scope is on both
    sides = lines.group_by(["order_id", "user_id", "day", "in_scope"]).aggregate(
        gmv=lines.gmv.sum(), **{m: lines[m].sum() for m in MONEY}
    )
    daily = sides.group_by(["day", "in_scope"]).aggregate(
        gmv=sides.gmv.sum(),
        orders=sides.count(),
        buyers=sides.user_id.nunique(),
        **{m: sides[m].sum() for m in MONEY},
    )
    table = daily.to_pandas()
    for column in ("gmv", *MONEY):
        table[column] = table[column].astype("float64").fillna(0.0).round(MONEY_DECIMALS)
    return table


def _visitor_series(
    events: ir.Table, products: ir.Table | None, window: Period, campaign: Campaign
) -> pd.DataFrame:
    """``day, in_scope, uv`` per local day of the window and side, in one grouped query."""
    if not campaign.targeted:
        active = traffic.active_user_days(events, window)
        daily = active.group_by("day").aggregate(uv=active.user_id.nunique())
        return daily.mutate(in_scope=ibis.literal(True)).to_pandas()
    seen = events_in(events, window)
    seen = seen.filter(seen.user_id.notnull())
    if campaign.category is not None:
        # only item events have a category; without a catalogue every SKU is (unknown)
        seen = seen.filter(seen.sku_id.notnull())
        if products is not None:
            known = catalogue(products).select("catalogue_sku", "category")
            seen = seen.left_join(known, seen.sku_id == known.catalogue_sku)
        else:
            seen = seen.mutate(category=ibis.null("string"))
    seen = seen.select("user_id", "day", in_scope=_line_flag(seen, campaign))
    daily = seen.group_by(["day", "in_scope"]).aggregate(uv=seen.user_id.nunique())
    return daily.to_pandas()


def _data_days(orders: ir.Table, period: Period) -> tuple[int | None, int | None]:
    """The first and last local days present in the orders (order or payment time)."""
    row = orders.aggregate(
        a=period.local_day(orders.order_time.min()),
        b=period.local_day(orders.paid_time.min()),
        c=period.local_day(orders.order_time.max()),
        d=period.local_day(orders.paid_time.max()),
    ).to_pandas()
    values = [row[c].iloc[0] for c in "abcd"]
    firsts = [int(v) for v in values[:2] if not pd.isna(v)]
    lasts = [int(v) for v in values[2:] if not pd.isna(v)]
    return (min(firsts) if firsts else None, max(lasts) if lasts else None)


# --------------------------------------------------------------------------------------------
# Counterfactuals (numpy)


@dataclass
class Fit:
    """A counterfactual fitted on the baseline days: ``predict(days, rest)`` gives each day's
    expected value, ``spread(days, rest)`` the standard error of predicting their sum, ``df``
    the degrees of freedom of its t quantile (0: no interval)."""

    model: str
    predict: Callable[[np.ndarray, np.ndarray], np.ndarray]
    spread: Callable[[np.ndarray, np.ndarray], float]
    df: int


def weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0 … Sunday = 6 of epoch days (1970-01-01 was a Thursday)."""
    return (np.asarray(days, dtype="int64") + 3) % 7


def _design(days: np.ndarray, model: str, origin: int) -> np.ndarray:
    """Design rows of ``model``: ``[1]`` (``level``), ``[1, t]`` (``level + trend``) or ``[1,
    Tue, Wed, …, Sun, t]`` (``weekly + trend``; Monday the reference), ``t = day − origin``."""
    days = np.asarray(days, dtype="int64")
    columns = [np.ones(len(days))]
    if model == "weekly + trend":
        columns += list((weekday(days)[None, :] == np.arange(1, 7)[:, None]).astype("float64"))
    if model != "level":
        columns.append((days - origin).astype("float64"))
    return np.column_stack(columns)


def baseline_fit(days: np.ndarray, values: np.ndarray) -> Fit | None:
    """Level, linear trend and day-of-week effects by least squares on the baseline days
    (``weekly + trend``); without every weekday :data:`MIN_WEEKDAY_REPEATS` times ``level +
    trend`` from :data:`MIN_TREND_DAYS` days, else ``level``; None under 2 days."""
    days = np.asarray(days, dtype="int64")
    y = np.asarray(values, dtype="float64")
    if len(days) < 2:
        return None
    counts = np.bincount(weekday(days), minlength=7)
    if counts.min() >= MIN_WEEKDAY_REPEATS:
        model = "weekly + trend"
    elif len(days) >= MIN_TREND_DAYS:
        model = "level + trend"
    else:
        model = "level"
    # the trend is counted from the day after the baseline: small numbers, a stable fit
    origin = int(days.max()) + 1
    x = _design(days, model, origin)
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    df = len(y) - x.shape[1]
    residual = y - x @ beta
    s2 = float(residual @ residual) / df if df > 0 else math.nan
    inverse = np.linalg.pinv(x.T @ x)

    def predict(new_days: np.ndarray, _rest: np.ndarray) -> np.ndarray:
        return _design(new_days, model, origin) @ beta

    def spread(new_days: np.ndarray, _rest: np.ndarray) -> float:
        total = _design(new_days, model, origin).sum(axis=0)
        return math.sqrt(s2 * (len(new_days) + float(total @ inverse @ total)))

    return Fit(model, predict, spread, df)


def ratio_fit(scope: np.ndarray, rest: np.ndarray) -> Fit | None:
    """The DiD counterfactual ``β̂ × rest`` with ``β̂ = Σ scope / Σ rest`` over the baseline days
    (see the module docstring); None when the rest sold nothing in the baseline."""
    y = np.asarray(scope, dtype="float64")
    x = np.asarray(rest, dtype="float64")
    x_total = float(x.sum())
    if len(y) < 1 or x_total <= 0:
        return None
    beta = float(y.sum()) / x_total
    positive = x > 0
    m = int(positive.sum())
    df = m - 1
    weighted = (y[positive] - beta * x[positive]) ** 2 / x[positive]
    sigma2 = float(weighted.sum()) / df if df > 0 else math.nan

    def predict(_days: np.ndarray, new_rest: np.ndarray) -> np.ndarray:
        return beta * np.asarray(new_rest, dtype="float64")

    def spread(_days: np.ndarray, new_rest: np.ndarray) -> float:
        total = float(np.sum(new_rest))
        return math.sqrt(sigma2 * total * (1 + total / x_total))

    return Fit("ratio to the rest", predict, spread, df)


def _interval(difference: float, fit: Fit, days: np.ndarray, rest: np.ndarray):
    """``(low, high)`` of ``difference`` (actual − expected over ``days``) at 95 %."""
    if fit.df <= 0 or len(days) == 0:
        return math.nan, math.nan
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, fit.df)) * fit.spread(days, rest)
    return difference - half, difference + half


# --------------------------------------------------------------------------------------------
# Evaluation of one campaign


def baseline_days_of(
    campaign: Campaign,
    campaigns: list[Campaign],
    first_day: int | None,
    baseline_days: int,
    dip_days: int,
) -> tuple[np.ndarray, list[str]]:
    """The campaign's baseline days (epoch days, ascending) and the notes on them: the
    ``baseline_days`` latest days before its start that are on or after ``first_day`` (the data
    start) and outside every other campaign of ``campaigns`` whose scope may overlap (and the
    ``dip_days`` after it), looking back at most :data:`BASELINE_LOOKBACK` × ``baseline_days``
    days."""
    if first_day is None:
        return np.array([], dtype="int64"), ["no orders: no baseline"]
    oldest = max(campaign.start - BASELINE_LOOKBACK * baseline_days, first_day)
    searched = np.arange(campaign.start - 1, oldest - 1, -1, dtype="int64")  # latest first
    blocked = np.zeros(len(searched), dtype=bool)
    blockers: dict[str, np.ndarray] = {}
    for other in campaigns:
        if other.campaign_id == campaign.campaign_id or campaign.apart_from(other):
            continue
        inside = (searched >= other.start) & (searched <= other.end + dip_days)
        blockers[other.campaign_id] = inside
        blocked |= inside
    free = np.flatnonzero(~blocked)[:baseline_days]
    chosen = searched[free]
    # the days looked at: down to the oldest day used, or all searched when too few were found
    reach = int(free[-1]) + 1 if len(free) == baseline_days else len(searched)
    notes = []
    skipped = [
        f"{int(inside[:reach].sum())} of {cid}"
        for cid, inside in blockers.items()
        if inside[:reach].any()
    ]
    if skipped:
        notes.append(
            "baseline skips the days of other campaigns and the "
            f"{_days(dip_days)} after each ({', '.join(skipped)})"
        )
    if len(chosen) < baseline_days:
        why = (
            f"the data start on {_day_date(first_day)}"
            if oldest == first_day
            else f"no more in the {BASELINE_LOOKBACK * baseline_days} days before the start"
        )
        before = max(0, first_day - (campaign.start - baseline_days))
        counted = (
            f" ({min(before, baseline_days)} of the {baseline_days} days before the start are "
            "before it)"
            if before
            else ""
        )
        notes.append(f"only {len(chosen)} of {baseline_days} baseline days: {why}{counted}")
    return np.sort(chosen), notes


@dataclass
class _Evaluation:
    """A campaign's daily series (``day`` index; ``<metric>`` scope, ``rest_<metric>``, money
    sums of the scope), its day sets and the notes shared by its rows."""

    campaign: Campaign
    series: pd.DataFrame
    metrics: list[str]
    baseline: np.ndarray
    evaluated: np.ndarray
    dip: np.ndarray
    dip_observable: bool
    last_day: int | None
    notes: list[str] = field(default_factory=list)
    fits: dict[tuple[str, str], Fit | None] = field(default_factory=dict)


def _series(
    orders_daily: pd.DataFrame, visitors: pd.DataFrame | None, days: pd.RangeIndex
) -> pd.DataFrame:
    """Scope and rest columns per day, days without sales as 0."""
    table = pd.DataFrame(index=days)
    for side, prefix in ((True, ""), (False, "rest_")):
        part = orders_daily[orders_daily["in_scope"] == side].set_index("day")
        for column in ("gmv", "orders", "buyers", *MONEY):
            table[prefix + column] = (
                part[column].reindex(days).astype("float64").fillna(0.0) if len(part) else 0.0
            )
        if visitors is not None:
            seen = visitors[visitors["in_scope"] == side].set_index("day")
            table[prefix + "uv"] = (
                seen["uv"].reindex(days).astype("float64").fillna(0.0) if len(seen) else 0.0
            )
    return table


def _evaluate(
    campaign: Campaign,
    others: list[Campaign],
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table | None,
    events: ir.Table | None,
    period: Period,
    data_days: tuple[int | None, int | None],
    baseline_days: int,
    dip_days: int,
) -> _Evaluation:
    first, last = data_days
    baseline, notes = baseline_days_of(campaign, others, first, baseline_days, dip_days)
    lo_day = min(int(baseline.min()) if len(baseline) else campaign.start, campaign.start)
    window = Period(_day_date(lo_day), _day_date(campaign.end + dip_days), period.timezone)
    days = pd.RangeIndex(window.start_day, window.end_day + 1)
    orders_daily = _order_series(orders, order_items, products, window, campaign)
    visitors = None
    if events is not None:
        visitors = _visitor_series(events, products, window, campaign)
    series = _series(orders_daily, visitors, days)
    metrics = [m for m in METRICS if m in series.columns]

    # campaign days evaluated: in the period and in the data
    lo = max(campaign.start, period.start_day)
    hi = min(campaign.end, period.end_day, last if last is not None else campaign.end)
    evaluated = np.arange(lo, hi + 1, dtype="int64")
    total_days = campaign.end - campaign.start + 1
    if len(evaluated) < total_days:
        reasons = []
        if campaign.start < period.start_day:
            reasons.append(f"it started before the period ({period.start})")
        if campaign.end > period.end_day:
            reasons.append(f"it runs past the period end ({period.end})")
        if last is not None and campaign.end > last and last < period.end_day:
            reasons.append(f"the data end on {_day_date(last)}")
        notes.insert(
            0, f"evaluated over {len(evaluated)} of its {total_days} days: " + "; ".join(reasons)
        )
    # other campaigns on the same lines during its days: the effects are not told apart
    together = [
        f"{other.campaign_id} on {_days(shared)}"
        for other in others
        if other.campaign_id != campaign.campaign_id
        and not campaign.apart_from(other)
        and (shared := int(((evaluated >= other.start) & (evaluated <= other.end)).sum()))
    ]
    if together:
        notes.append(
            "runs with " + ", ".join(together) + ": the effect is theirs together, not its own"
        )

    dip = np.arange(campaign.end + 1, campaign.end + dip_days + 1, dtype="int64")
    dip_observable = last is not None and int(dip[-1]) <= last
    if not dip_observable:
        notes.append(
            f"post-campaign dip not yet observable: its {_days(dip_days)} end on "
            f"{_day_date(int(dip[-1]))}, the data on "
            f"{_day_date(last) if last is not None else '(no orders)'}"
        )
    evaluation = _Evaluation(
        campaign, series, metrics, baseline, evaluated, dip, dip_observable, last, notes
    )
    for metric in metrics:
        base = series.loc[baseline]
        evaluation.fits[(metric, "baseline")] = baseline_fit(baseline, base[metric].to_numpy())
        if campaign.targeted:
            evaluation.fits[(metric, "did")] = (
                ratio_fit(base[metric].to_numpy(), base["rest_" + metric].to_numpy())
                if len(baseline)
                else None
            )
    return evaluation


def _evaluations(
    campaigns: ir.Table | pd.DataFrame,
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table | None,
    events: ir.Table | None,
    period: Period,
    baseline_days: int,
    dip_days: int,
) -> list[_Evaluation]:
    check_lengths(baseline_days=baseline_days, dip_days=dip_days)
    every = read_campaigns(campaigns)
    chosen = [c for c in every if c.start <= period.end_day and c.end >= period.start_day]
    if not chosen:
        return []
    data_days = _data_days(orders, period)
    return [
        _evaluate(
            c,
            every,
            orders,
            order_items,
            products,
            events,
            period,
            data_days,
            baseline_days,
            dip_days,
        )
        for c in chosen
    ]


# --------------------------------------------------------------------------------------------
# Public tables


def _money(evaluation: _Evaluation, expected: float, ci: tuple[float, float]) -> dict:
    """The ``gmv`` row's money columns for one method's expected GMV and interval."""
    series = evaluation.series
    campaign_days = series.loc[evaluation.evaluated]
    base = series.loc[evaluation.baseline]
    coupon = round(float(campaign_days["coupon"].sum()), MONEY_DECIMALS)
    markdown = round(
        float((campaign_days["list_value"] - campaign_days["revenue"]).sum()), MONEY_DECIMALS
    )
    cost = round(coupon + markdown, MONEY_DECIMALS)
    row = {
        "coupon_discount": coupon,
        "markdown": markdown,
        "discount_cost": cost,
        "net_margin": math.nan,
        "net_margin_low": math.nan,
        "net_margin_high": math.nan,
        "roi": math.nan,
    }
    costless = float(campaign_days["costless"].sum() + base["costless"].sum())
    base_gmv = float(base["gmv"].sum())
    if costless > 0 or base_gmv <= 0 or math.isnan(expected):
        return row
    rate = 1 - float(base["cost"].sum()) / base_gmv
    actual = float(campaign_days["gmv"].sum())
    profit = actual - float(campaign_days["cost"].sum())
    row["net_margin"] = profit - expected * rate
    # the expected GMV is actual − incremental; its interval moves the margin the other way
    row["net_margin_low"] = profit - (actual - ci[0]) * rate
    row["net_margin_high"] = profit - (actual - ci[1]) * rate
    row["roi"] = row["net_margin"] / cost if cost > 0 else math.nan
    return row


def _money_note(evaluation: _Evaluation) -> str | None:
    series = evaluation.series
    days = np.concatenate([evaluation.baseline, evaluation.evaluated])
    part = series.loc[days]
    costless, gmv = float(part["costless"].sum()), float(part["gmv"].sum())
    if costless > 0:
        share = costless / gmv if gmv > 0 else 1.0
        return f"net margin left out: {share:.1%} of the scope's GMV has no unit_cost"
    if float(series.loc[evaluation.baseline, "gmv"].sum()) <= 0:
        return "net margin left out: no baseline GMV to take a margin rate from"
    return None


def _rows(evaluation: _Evaluation) -> list[dict]:
    campaign = evaluation.campaign
    series = evaluation.series
    days = evaluation.evaluated
    shared = {
        "campaign_id": campaign.campaign_id,
        "name": campaign.name,
        "kind": campaign.kind,
        "scope": campaign.scope,
        "start": pd.Timestamp(_day_date(campaign.start)),
        "end": pd.Timestamp(_day_date(campaign.end)),
        "days": len(days),
        "campaign_days": campaign.end - campaign.start + 1,
        "baseline_days_used": len(evaluation.baseline),
        "baseline_start": (
            pd.Timestamp(_day_date(int(evaluation.baseline.min())))
            if len(evaluation.baseline)
            else pd.NaT
        ),
        "dip_days": len(evaluation.dip),
    }
    has_did = any(evaluation.fits.get((m, "did")) is not None for m in evaluation.metrics)
    money_note = _money_note(evaluation)
    rows = []
    for metric in evaluation.metrics:
        for method in METHODS:
            if (metric, method) not in evaluation.fits:
                continue
            fit = evaluation.fits[(metric, method)]
            notes = list(evaluation.notes)
            row = dict(shared, metric=metric, method=method)
            row["primary"] = method == ("did" if has_did else "baseline")
            actual = float(series.loc[days, metric].sum()) if len(days) else math.nan
            if fit is None or not len(days):
                expected = ci_low = ci_high = math.nan
                notes.append(
                    "no counterfactual: "
                    + (
                        "no campaign day with data"
                        if not len(days)
                        else "the rest sold nothing in the baseline"
                        if method == "did"
                        else "fewer than 2 baseline days"
                    )
                )
                row["model"] = None
            else:
                rest = series.loc[days, "rest_" + metric].to_numpy()
                expected = float(fit.predict(days, rest).sum())
                ci_low, ci_high = _interval(actual - expected, fit, days, rest)
                row["model"] = fit.model
                if fit.model != "weekly + trend":
                    notes.append(
                        "baseline too short for weekly seasonality "
                        f"(each weekday {MIN_WEEKDAY_REPEATS}× needed): {fit.model} only"
                    )
            if metric == "gmv":
                actual, expected = (round(v, MONEY_DECIMALS) for v in (actual, expected))
            row.update(
                actual=actual,
                expected=expected,
                incremental=actual - expected,
                ci_low=ci_low,
                ci_high=ci_high,
            )
            if metric == "gmv":
                row.update(_money(evaluation, expected, (ci_low, ci_high)))
                if money_note:
                    notes.append(money_note)
            row.update(_dip(evaluation, metric, fit))
            row["notes"] = "; ".join(notes)
            rows.append(row)
    return rows


def _dip(evaluation: _Evaluation, metric: str, fit: Fit | None) -> dict:
    if fit is None or not evaluation.dip_observable:
        return {"post_dip": math.nan, "post_dip_low": math.nan, "post_dip_high": math.nan}
    days = evaluation.dip
    part = evaluation.series.loc[days]
    rest = part["rest_" + metric].to_numpy()
    difference = float(part[metric].sum()) - float(fit.predict(days, rest).sum())
    low, high = _interval(difference, fit, days, rest)
    return {"post_dip": difference, "post_dip_low": low, "post_dip_high": high}


def campaign_effects(
    campaigns: ir.Table | pd.DataFrame,
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table | None,
    events: ir.Table | None,
    period: Period,
    *,
    baseline_days: int = DEFAULT_BASELINE_DAYS,
    dip_days: int = DEFAULT_DIP_DAYS,
) -> pd.DataFrame:
    """``campaign_id, metric, actual, expected, incremental, ci_low, ci_high, discount_cost,
    net_margin, roi, post_dip`` and then :data:`EXTRA_COLUMNS` (``method``, ``primary``, …,
    ``notes``): per campaign with a day in the period (by start, then id), per metric (``gmv,
    orders, buyers``, and ``uv`` with events) and method (``baseline``; ``did`` for a targeted
    scope), the campaign days' totals against the counterfactual, as the module docstring
    defines them. Money columns are on the ``gmv`` rows only."""
    return campaign_tables(
        campaigns,
        orders,
        order_items,
        products,
        events,
        period,
        baseline_days=baseline_days,
        dip_days=dip_days,
    )[0]


def _effects_table(evaluations: list[_Evaluation]) -> pd.DataFrame:
    rows = [row for evaluation in evaluations for row in _rows(evaluation)]
    table = pd.DataFrame(rows, columns=[*COLUMNS, *EXTRA_COLUMNS])
    for column in ("days", "campaign_days", "baseline_days_used", "dip_days"):
        table[column] = table[column].astype("int64")
    table["primary"] = table["primary"].astype("bool")
    return table.reset_index(drop=True)


def campaign_daily(
    campaigns: ir.Table | pd.DataFrame,
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table | None,
    events: ir.Table | None,
    period: Period,
    *,
    baseline_days: int = DEFAULT_BASELINE_DAYS,
    dip_days: int = DEFAULT_DIP_DAYS,
) -> pd.DataFrame:
    """``campaign_id, date, phase, metric, method, actual, expected``: the daily series behind
    :func:`campaign_effects` for the figure. ``phase`` is ``baseline`` (a day the model was
    fitted on; ``expected`` is then the fitted value), ``left out`` (a baseline-window day not
    used), ``campaign`` (evaluated), ``campaign (not evaluated)`` (outside the period) or
    ``dip``. Days after the last day in the orders, and before the first, have no row; a method
    without a counterfactual has ``expected`` NaN."""
    return campaign_tables(
        campaigns,
        orders,
        order_items,
        products,
        events,
        period,
        baseline_days=baseline_days,
        dip_days=dip_days,
    )[1]


def campaign_tables(
    campaigns: ir.Table | pd.DataFrame,
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table | None,
    events: ir.Table | None,
    period: Period,
    *,
    baseline_days: int = DEFAULT_BASELINE_DAYS,
    dip_days: int = DEFAULT_DIP_DAYS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`campaign_effects` and :func:`campaign_daily` from one reading of the data: each
    campaign's daily series are queried once (at 100M events, half the time of the two
    calls)."""
    evaluations = _evaluations(
        campaigns, orders, order_items, products, events, period, baseline_days, dip_days
    )
    return _effects_table(evaluations), _daily_table(evaluations)


def _daily_table(evaluations: list[_Evaluation]) -> pd.DataFrame:
    frames = []
    for evaluation in evaluations:
        campaign, series = evaluation.campaign, evaluation.series
        days = series.index.to_numpy()
        phase = np.full(len(days), "left out", dtype=object)
        phase[np.isin(days, evaluation.baseline)] = "baseline"
        inside = (days >= campaign.start) & (days <= campaign.end)
        phase[inside] = "campaign (not evaluated)"
        phase[np.isin(days, evaluation.evaluated)] = "campaign"
        phase[np.isin(days, evaluation.dip)] = "dip"
        # keep the days with data: from the first baseline day used (or the campaign) on
        first_used = evaluation.baseline.min() if len(evaluation.baseline) else campaign.start
        last = evaluation.last_day if evaluation.last_day is not None else first_used - 1
        shown = (days >= first_used) & (days <= min(last, int(evaluation.dip[-1])))
        for metric in evaluation.metrics:
            for method in METHODS:
                if (metric, method) not in evaluation.fits:
                    continue
                fit = evaluation.fits[(metric, method)]
                rest = series["rest_" + metric].to_numpy()
                expected = (
                    fit.predict(days, rest) if fit is not None else np.full(len(days), np.nan)
                )
                frames.append(
                    pd.DataFrame(
                        {
                            "campaign_id": campaign.campaign_id,
                            "date": to_timestamps(days[shown]).to_numpy(),
                            "phase": phase[shown],
                            "metric": metric,
                            "method": method,
                            "actual": series[metric].to_numpy()[shown],
                            "expected": np.asarray(expected, dtype="float64")[shown],
                        }
                    )
                )
    if not frames:
        return pd.DataFrame(columns=DAILY_COLUMNS)
    return pd.concat(frames, ignore_index=True)[DAILY_COLUMNS]


# --------------------------------------------------------------------------------------------
# Notes


def _amount(value: float, sign: bool = False) -> str:
    """Money or counts as the notes write them: whole above 100, else with two decimals."""
    spec = ",.0f" if abs(value) >= 100 else ",.2f"
    return format(value, ("+" if sign else "") + spec)


def _method_text(row: pd.Series) -> str:
    if row["method"] == "did":
        return "difference in differences against the rest of the shop"
    shape = {
        "weekly + trend": "a trend and weekly seasonality",
        "level + trend": "a trend (too short for weekly seasonality)",
    }.get(row["model"], "its level only")
    return f"a baseline of {int(row['baseline_days_used'])} days with {shape}"


def _campaign_sentences(row: pd.Series) -> list[str]:
    head = (
        f"Campaign {row['campaign_id']} ({row['name']}; {row['scope']}; "
        f"{row['start']:%Y-%m-%d} to {row['end']:%Y-%m-%d}, "
        f"{int(row['days'])} of {int(row['campaign_days'])} days evaluated)"
    )
    if pd.isna(row["expected"]):
        return [f"{head}: no counterfactual ({row['notes']})."]
    lift = (
        "a lift at 95 %"
        if row["ci_low"] > 0
        else "a fall at 95 %"
        if row["ci_high"] < 0
        else "not told apart from no effect at 95 %"
        if not pd.isna(row["ci_low"])
        else "no interval (too few baseline days)"
    )
    interval = (
        f" (95 % {_amount(row['ci_low'], True)} to {_amount(row['ci_high'], True)})"
        if not pd.isna(row["ci_low"])
        else ""
    )
    sentences = [
        f"{head}: GMV {_amount(row['actual'])} against {_amount(row['expected'])} expected by "
        f"{_method_text(row)}, {_amount(row['incremental'], True)}{interval}: {lift}."
    ]
    cost = row["discount_cost"]
    given = f" on {_amount(cost)} of discounts" if cost > 0 else " with no discount given"
    roi = f", ROI {row['roi']:.2f}" if not pd.isna(row["roi"]) else ""
    if pd.isna(row["net_margin"]):
        sentences.append("Whether it paid is not known: the net margin needs unit_cost.")
    else:
        margin = (
            f"net margin {_amount(row['net_margin'], True)} (95 % "
            f"{_amount(row['net_margin_low'], True)} to {_amount(row['net_margin_high'], True)})"
        )
        if row["net_margin_low"] > 0:
            verdict = "It paid at 95 %"
        elif row["net_margin_high"] < 0:
            verdict = "It did not pay at 95 %"
        else:
            verdict = "Whether it paid is not clear at 95 %"
        sentences.append(f"{verdict}: {margin}{given}{roi}.")
    days = int(row["dip_days"])
    span = _days(days)
    if pd.isna(row["post_dip"]):
        sentences.append(f"The dip over the {span} after it is not yet observable in the data.")
    else:
        dip = row["post_dip"]
        side = f"{_amount(abs(dip))} {'below' if dip < 0 else 'above'} expected"
        if row["post_dip_high"] < 0:
            tail = "a dip at 95 %: sales were pulled forward"
        elif row["post_dip_low"] > 0:
            tail = "higher at 95 %: no pull-forward"
        elif pd.isna(row["post_dip_low"]):
            tail = "no interval (too few baseline days)"
        else:
            tail = "no dip beyond the noise at 95 %"
        sentences.append(f"In the {span} after it GMV was {side} ({tail}).")
    return sentences


def campaigns_note(effects: pd.DataFrame) -> str:
    """Sentences on each campaign from :func:`campaign_effects`' primary ``gmv`` row: the GMV
    against its counterfactual and whether the interval excludes 0, whether it paid (the net
    margin's interval above 0, below, or across), and the dip after it."""
    if effects.empty:
        return "No campaign has a day in the period."
    gmv = effects[(effects["metric"] == "gmv") & effects["primary"]]
    sentences = [s for _, row in gmv.iterrows() for s in _campaign_sentences(row)]
    return " ".join(sentences)


def primary_series(
    daily: pd.DataFrame, effects: pd.DataFrame, campaign_id: str, metric: str = "gmv"
) -> pd.DataFrame:
    """``date, actual, expected, phase``: one campaign's daily ``metric`` under its primary
    method (:func:`campaign_effects`' ``primary`` row; difference in differences where there is
    one), from :func:`campaign_daily`, by date — the figure of actual against counterfactual.
    Empty when the campaign has no such row."""
    chosen = effects[
        (effects["campaign_id"] == campaign_id) & (effects["metric"] == metric) & effects["primary"]
    ]
    if chosen.empty:
        return pd.DataFrame(columns=["date", "actual", "expected", "phase"])
    method = chosen["method"].iloc[0]
    rows = daily[
        (daily["campaign_id"] == campaign_id)
        & (daily["metric"] == metric)
        & (daily["method"] == method)
    ]
    series = rows[["date", "actual", "expected", "phase"]].sort_values("date", kind="stable")
    return series.reset_index(drop=True)


def phase_marks(series: pd.DataFrame) -> pd.DataFrame:
    """``date, name``: the first day of each run of campaign, dip and not-evaluated days in a
    :func:`primary_series`, named by its phase, for the figure's dashed lines."""
    if series.empty:
        return pd.DataFrame(columns=["date", "name"])
    changes = series["phase"].ne(series["phase"].shift())
    starts = series[changes & series["phase"].isin(["campaign", "campaign (not evaluated)", "dip"])]
    return pd.DataFrame(
        {"date": pd.to_datetime(starts["date"]), "name": starts["phase"] + " starts"}
    ).reset_index(drop=True)
