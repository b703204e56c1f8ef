"""Costs (成本核算): the brief's ROPG model, unit economics and the return on promotion spend.

Every cost of the period is a line of a *ledger* (:func:`cost_ledger`): one amount per local day,
ROPG component and item. Definitions (docs/metrics.md, "Costs"):

- **R, platform** (平台固定成本): the ``platform`` rows of the ``costs`` table (deposits, annual and
  payment fees), plus ``platform_commission = commission_rate × GMV`` of the day (GMV as in
  :mod:`lib.gmv`). With a ``commission_rate`` the rate replaces any ``platform_commission`` row of
  the ``costs`` table, so the commission is never counted twice; with ``None`` the table's row is
  used as it is.
- **O, operating** (运营成本): *hard* costs, the ``operating`` rows of ``costs`` (software and
  devices), and *soft* costs, the promotion spend of ``marketing_spend`` per channel
  (``promotion_<channel>``).
- **P, people** (人员成本): the ``people`` rows of ``costs``.
- **G, goods** (货品成本): ``cost_of_goods_sold`` = Σ quantity × unit_cost over the lines of the
  orders paid that day, plus the ``goods`` rows of ``costs`` (warehousing, backlog, damage, …).

A ``costs`` row covers its calendar month: each day of the month carries ``amount / days in the
month``, so a month the period covers only in part contributes the share of its days in the period.
Rows of other components are kept under their own name after the four ROPG components.

Each item is *variable* (it moves with the period's orders) or *fixed* (it does not), by its name
(:func:`cost_behaviour`), first rule that applies:

1. variable by definition: ``cost_of_goods_sold`` (the goods of the orders), the
   ``platform_commission`` (a share of GMV, from the rate or the ``costs`` table) and every
   ``promotion_<channel>`` item (the spend that buys the orders);
2. a known item of :data:`VARIABLE_ITEMS` (billed per order or as a share of what is paid:
   payment fees, logistics, packaging, damage) is variable;
3. a known item of :data:`FIXED_ITEMS` (deposits, yearly fees, software, devices, salaries,
   warehousing, the stock backlog) is fixed;
4. any other item of the ``costs`` table is fixed: a monthly amount is billed per month, not per
   order. Tables name the rule that decided (``behaviour_rule``), so such an assumption shows.

*Revenue* depends on the ``business_model`` (:func:`shop_revenue`, :class:`Revenue`):

- ``retailer`` (the default): the shop sells its own goods, so its revenue is **paid revenue**,
  the GMV: the sum of ``paid_amount`` of the paid orders (after discounts), never the line revenue
  Σ quantity × unit_price of :mod:`lib.products`; the goods sold are its cost.
- ``marketplace``: the shop is a platform taking a commission on its sellers' sales, so its
  revenue is **commission revenue**, ``commission_rate × GMV``: the rate is then its *take rate*,
  an assumption, unless ``commission_rate`` is None and the ``costs`` table's
  ``platform_commission`` rows carry the commission income. The commission is then no cost, and
  the sellers' goods (:func:`sellers_cost`: the cost of goods sold and the other variable
  ``goods`` items, logistics, packaging, damage) are not its costs: the ledger leaves them out,
  so they drop out of the unit economics, the break-even and the cost ratio, which is set
  against the commission revenue (``cost_trend`` gets a ``revenue`` column). GMV stays the volume
  measure; channel ROI keeps the sellers' return and adds the marketplace's (``revenue``,
  ``revenue_roi``).

- :func:`cost_breakdown` (``tables/cost_breakdown.csv``): ``month, component, item, amount,
  share`` per local calendar month clipped to the period; ``share`` is of the month's total cost;
  ``cost_behaviour`` and ``behaviour_rule`` as above.
- :func:`unit_economics`: per paid order and per buyer of the period: paid revenue (the line
  ``revenue``), each component, ``variable_costs`` and ``fixed_costs`` (by the rule above),
  ``contribution_margin = revenue − variable costs`` and ``net_profit = revenue − total cost``.
  Without ``costs`` rows for every month of the period the costs are incomplete: ``net_profit``
  is then labelled a margin after default or incomplete costs (:class:`CostBasis`), never profit.
- :func:`break_even`: ``break_even_orders = ⌈fixed costs / contribution margin per order⌉``, the
  paid orders needed for the period's fixed costs (null when an order contributes nothing).
- :func:`channel_roi` (``tables/channel_roi.csv``): per channel and billing model (CPC, CPM, CPT,
  CPS) of ``marketing_spend`` in the period: ``spend, impressions, clicks``, ``cpc = spend /
  clicks``, ``cpm = 1000 × spend / impressions``. Paid orders carry a channel but no billing
  model: the channel's paid orders, their GMV and goods cost are shared among its billing models
  in proportion to their clicks (equally when none were recorded), so ``orders`` may be
  fractional (it is not rounded). ``roas = gmv / spend``, ``cost_per_order = spend / orders`` and
  ``roi = (gmv − goods_cost − spend) / spend``: the return after the goods and the spend, all
  from the unrounded shares (``gmv`` and ``goods_cost`` are then shown in cents).
- :func:`cost_trend`: daily GMV against daily cost (``cost_ratio = total_cost / gmv``), and
  :func:`cost_growth`: each item against the previous period of equal length, the ``top_n``
  fastest-growing flagged.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from lib import parameters
from lib.definitions import MONEY_DECIMALS, paid_lines, paid_orders_in
from lib.gmv import gmv_daily, gmv_summary
from lib.periods import Period, epoch_day, to_timestamps

COMPONENTS = ("platform", "operating", "people", "goods")  # R, O, P, G
COMMISSION_ITEM = "platform_commission"
COGS_ITEM = "cost_of_goods_sold"
PROMOTION_PREFIX = "promotion_"
DEFAULT_COMMISSION_RATE = parameters.default("commission_rate")
RETAILER, MARKETPLACE = parameters.choices("business_model")
DEFAULT_BUSINESS_MODEL = parameters.default("business_model")
LEDGER_COLUMNS = ["date", "component", "item", "amount", "source"]
BREAKDOWN_COLUMNS = ["month", "component", "item", "amount", "share"]
BREAKDOWN_COLUMNS += ["cost_behaviour", "behaviour_rule"]
ECONOMICS_COLUMNS = ["line", "amount", "per_order", "per_buyer", "share_of_revenue"]
ECONOMICS_COLUMNS += ["label", "cost_behaviour", "variable_amount", "fixed_amount", "cost_basis"]

FIXED, VARIABLE, MIXED = "fixed", "variable", "mixed"
# Known items of the costs table that move with the period's orders: billed per order or parcel,
# or as a share of what is paid (the sample shop's names; docs/metrics.md lists them).
VARIABLE_ITEMS = frozenset(
    {"payment_processing_fee", "logistics", "packaging_materials", "damage_loss"}
)
# Known items that do not: deposits and yearly fees, subscriptions, devices, salaries (temporary
# staff and bonuses too: decided per month, not per order), the warehouse's monthly fee and the
# backlog of stock on hand.
FIXED_ITEMS = frozenset(
    {"store_deposit", "annual_tech_service_fee", "erp_software", "crm_software"}
    | {"customer_service_saas", "label_printers", "barcode_scanners", "warehousing"}
    | {"inventory_backlog", "operations_staff", "customer_service", "designer"}
    | {"warehouse_staff", "temporary_staff", "performance_bonus"}
)
# After-sales (lib/supply/aftersales.py, docs/metrics.md "After-sales"): with a returns table the
# ledger holds refunds less the goods they bring back as one goods (G) item, which moves with the
# orders; a costs-table row of the same name gives way to it, so it is never counted twice.
RETURNS_ITEM = "returns_and_refunds"
VARIABLE_ITEMS = VARIABLE_ITEMS | {RETURNS_ITEM}
RULE_BY_DEFINITION = "variable by definition"
RULE_VARIABLE = "known variable item"
RULE_FIXED = "known fixed item"
RULE_DEFAULT = "unknown item: assumed fixed"
COMPONENT_LABELS = {
    "platform": "platform (R)",
    "operating": "operating (O)",
    "people": "people (P)",
    "goods": "goods (G)",
}
ROI_COLUMNS = ["channel", "billing_model", "spend", "orders", "gmv", "roas", "cost_per_order"]
ROI_COLUMNS += ["roi", "impressions", "clicks", "ctr", "cpc", "cpm", "goods_cost"]


def _days_in_month(month: dt.date) -> int:
    following = (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return (following - month.replace(day=1)).days


def _months(period: Period) -> list[dt.date]:
    months, month = [], period.start.replace(day=1)
    while month <= period.end:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def _monthly_rows(costs: ir.Table, period: Period, commission_rate: float | None) -> pd.DataFrame:
    """The ``costs`` rows of the period's months spread evenly over their days."""
    months = _months(period)
    last = (months[-1] + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    inside = costs.filter(
        costs.month >= ibis.literal(months[0], "date"), costs.month <= ibis.literal(last, "date")
    )
    rows = (
        inside.group_by(
            year=inside.month.year(),
            month_number=inside.month.month(),
            component="component",
            item="item",
        )
        .aggregate(amount=inside.amount.sum())
        .to_pandas()
    )
    if commission_rate is not None:
        # the rate on GMV replaces the table's commission: never both
        rows = rows[~((rows["component"] == "platform") & (rows["item"] == COMMISSION_ITEM))]
    pieces = []
    for row in rows.itertuples(index=False):
        month = dt.date(int(row.year), int(row.month_number), 1)
        first = max(epoch_day(month), period.start_day)
        end_of_month = epoch_day(month) + _days_in_month(month) - 1
        days = range(first, min(end_of_month, period.end_day) + 1)
        per_day = float(row.amount) / _days_in_month(month)
        pieces.append(
            pd.DataFrame(
                {"day": list(days), "component": row.component, "item": row.item, "amount": per_day}
            )
        )
    if not pieces:
        return pd.DataFrame(columns=["day", "component", "item", "amount"])
    return pd.concat(pieces, ignore_index=True).assign(source="costs")


def _promotion_spend(marketing_spend: ir.Table, period: Period) -> pd.DataFrame:
    inside = spend_in(marketing_spend, period)
    table = inside.group_by(["date", "channel"]).aggregate(amount=inside.spend.sum()).to_pandas()
    table["day"] = [epoch_day(pd.Timestamp(d).date()) for d in table["date"]]
    table["component"] = "operating"
    table["item"] = PROMOTION_PREFIX + table["channel"].astype(str)
    return table[["day", "component", "item", "amount"]].assign(source="marketing_spend")


def spend_in(marketing_spend: ir.Table, period: Period) -> ir.Table:
    """Spend rows of the period's local days (``date`` is already a local day)."""
    return marketing_spend.filter(period.contains(marketing_spend.date))


def cost_ledger(
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    period: Period,
    costs: ir.Table | None = None,
    marketing_spend: ir.Table | None = None,
    commission_rate: float | None = DEFAULT_COMMISSION_RATE,
    business_model: str = DEFAULT_BUSINESS_MODEL,
    returns: ir.Table | None = None,
) -> pd.DataFrame:
    """Every cost of the period per local day: ``date, component, item, amount, source`` (the
    table it comes from, or ``commission rate``). See the module docstring; sorted by date,
    component (ROPG order) and item. Amounts are not rounded here: sums of them are. With the
    ``returns`` table the goods item ``returns_and_refunds`` is added (:func:`_with_returns`).

    For a ``marketplace`` the commission is its revenue (:func:`shop_revenue`), not a cost, and
    the sellers' goods (:func:`sellers_cost`) are the sellers' costs: both are left out."""
    parameters.check("commission_rate", commission_rate)  # None: the costs table's rows
    parameters.check("business_model", business_model)
    pieces = []
    lines = paid_lines(orders, order_items, products, period)
    cogs = lines.group_by("day").aggregate(amount=lines.cost.sum()).to_pandas()
    pieces.append(cogs.assign(component="goods", item=COGS_ITEM, source="orders"))
    if commission_rate is not None:
        gmv = gmv_daily(orders, period)
        day = [epoch_day(d.date()) for d in gmv["date"]]
        pieces.append(
            pd.DataFrame(
                {
                    "day": day,
                    "component": "platform",
                    "item": COMMISSION_ITEM,
                    "amount": commission_rate * gmv["gmv"],
                    "source": "commission rate",
                }
            )
        )
    if costs is not None:
        pieces.append(_monthly_rows(costs, period, commission_rate))
    if marketing_spend is not None:
        pieces.append(_promotion_spend(marketing_spend, period))
    if returns is not None:
        pieces = _with_returns(pieces, returns, order_items, products, period)
    pieces = [p for p in pieces if len(p)]
    if not pieces:
        return _empty_ledger()
    ledger = pd.concat([p[["day", "component", "item", "amount", "source"]] for p in pieces])
    if business_model == MARKETPLACE:
        kept = [
            not (c == "platform" and i == COMMISSION_ITEM) and not sellers_cost(c, i)
            for c, i in zip(ledger["component"], ledger["item"], strict=True)
        ]
        ledger = ledger[kept].copy()
        if ledger.empty:
            return _empty_ledger()
    ledger["amount"] = ledger["amount"].astype("float64")
    ledger["order"] = ledger["component"].map(_component_order)
    ledger = ledger.sort_values(["day", "order", "component", "item", "source"])
    ledger.insert(0, "date", to_timestamps(ledger.pop("day")).to_numpy())
    return ledger[LEDGER_COLUMNS].reset_index(drop=True)


def _empty_ledger() -> pd.DataFrame:
    """A ledger without lines, typed like a full one: the tables built on it use its dates (a
    marketplace without a costs table or spend has no cost at all)."""
    return pd.DataFrame(
        {
            "date": pd.Series(dtype="datetime64[ns]"),
            "component": pd.Series(dtype=object),
            "item": pd.Series(dtype=object),
            "amount": pd.Series(dtype="float64"),
            "source": pd.Series(dtype=object),
        }
    )


def _component_order(component: str) -> int:
    return COMPONENTS.index(component) if component in COMPONENTS else len(COMPONENTS)


def _sorted(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sorted by ``keys`` with ``component`` in ROPG order (others after, alphabetically)."""
    order = table["component"].map(_component_order)
    table = table.assign(_order=order)
    keys = [("_order" if k == "component" else k) for k in keys]
    keys += ["component"] if "component" in table.columns else []
    return table.sort_values(keys).drop(columns="_order").reset_index(drop=True)


def cost_breakdown(ledger: pd.DataFrame) -> pd.DataFrame:
    """``month, component, item, amount, share`` per local calendar month (clipped to the period,
    labelled by its first day); ``share`` is of the month's total cost; ``cost_behaviour``
    (``fixed`` or ``variable``) and the ``behaviour_rule`` that decided (:func:`behaviour_rule`)."""
    if ledger.empty:
        return pd.DataFrame(columns=BREAKDOWN_COLUMNS)
    month = ledger["date"].dt.to_period("M").dt.to_timestamp()
    table = (
        ledger.assign(month=month)
        .groupby(["month", "component", "item"], as_index=False)["amount"]
        .sum()
    )
    table["amount"] = table["amount"].round(MONEY_DECIMALS)
    totals = table.groupby("month")["amount"].transform("sum")
    table["share"] = table["amount"] / totals.where(totals > 0)
    table = _with_behaviour(table)
    return _sorted(table, ["month", "component", "item"])[BREAKDOWN_COLUMNS]


def component_totals(breakdown: pd.DataFrame) -> pd.DataFrame:
    """``month, component, amount, share, is_total`` from :func:`cost_breakdown` (amounts are
    sums of the rounded items, so they add up to the month's total), plus a ``total`` row per
    month, the one row whose ``is_total`` is true (a component of the costs table may itself be
    called "total")."""
    table = breakdown.groupby(["month", "component"], as_index=False)["amount"].sum()
    table["amount"] = table["amount"].round(MONEY_DECIMALS)
    totals = table.groupby("month", as_index=False)["amount"].sum().assign(component="total")
    totals["amount"] = totals["amount"].round(MONEY_DECIMALS)
    month_total = table.groupby("month")["amount"].transform("sum")
    table["share"] = table["amount"] / month_total.where(month_total > 0)
    totals["share"] = 1.0
    table = _sorted(table, ["month", "component"])
    columns = ["month", "component", "amount", "share"]
    out = pd.concat([table[columns].assign(is_total=False), totals[columns].assign(is_total=True)])
    return out.sort_values(["month", "is_total"], kind="stable").reset_index(drop=True)


def months_without_costs(ledger: pd.DataFrame, period: Period) -> list[str]:
    """The period's months (``YYYY-MM``) with no row from the ``costs`` table."""
    covered = ledger.loc[ledger["source"] == "costs", "date"].dt.strftime("%Y-%m").unique()
    return [m.strftime("%Y-%m") for m in _months(period) if m.strftime("%Y-%m") not in covered]


def behaviour_rule(item: str) -> str:
    """The rule (module docstring) that classifies ``item``: :data:`RULE_BY_DEFINITION`,
    :data:`RULE_VARIABLE`, :data:`RULE_FIXED` or, for an item it does not know,
    :data:`RULE_DEFAULT`. The item's name decides, not its component: a flat monthly warehousing
    fee is a goods cost that does not move with the orders."""
    if item in (COGS_ITEM, COMMISSION_ITEM) or item.startswith(PROMOTION_PREFIX):
        return RULE_BY_DEFINITION
    if item in VARIABLE_ITEMS:
        return RULE_VARIABLE
    if item in FIXED_ITEMS:
        return RULE_FIXED
    return RULE_DEFAULT


def cost_behaviour(item: str) -> str:
    """``"variable"`` when ``item`` moves with the period's orders, else ``"fixed"`` (by
    :func:`behaviour_rule`)."""
    return VARIABLE if behaviour_rule(item) in (RULE_BY_DEFINITION, RULE_VARIABLE) else FIXED


def sellers_cost(component: str, item: str) -> bool:
    """Whether a cost is the sellers' when the shop is a marketplace: the cost of the goods sold
    and every other *variable* goods item (logistics, packaging, damage: they move with the
    sellers' goods). The fixed goods items (warehousing, the backlog) stay the platform's: a
    monthly fee is billed to whoever runs the warehouse, so a marketplace whose sellers bear it
    leaves it out of its costs table."""
    return component == "goods" and cost_behaviour(item) == VARIABLE


def is_variable(component: str, item: str) -> bool:
    """Whether a cost moves with sales, by :func:`cost_behaviour` of its item (the component
    no longer decides: goods hold fixed items too)."""
    return cost_behaviour(item) == VARIABLE


def _with_behaviour(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with ``cost_behaviour`` and ``behaviour_rule`` of its ``item`` column."""
    items = table["item"].astype(str)
    return table.assign(
        cost_behaviour=items.map(cost_behaviour).astype(object),
        behaviour_rule=items.map(behaviour_rule).astype(object),
    )


def _period_costs(ledger: pd.DataFrame) -> pd.DataFrame:
    """Component, item and amount over the whole period, rounded per item, with its behaviour."""
    table = ledger.groupby(["component", "item"], as_index=False)["amount"].sum()
    table["amount"] = table["amount"].round(MONEY_DECIMALS)
    table = _with_behaviour(table)
    table["variable"] = table["cost_behaviour"] == VARIABLE
    return table


@dataclass(frozen=True)
class CostBasis:
    """What the period's costs rest on: which of its months (``YYYY-MM``) have rows of the
    ``costs`` table. Without them only the costs computed from orders and spend are counted
    (goods at unit cost, the commission at its rate, promotion spend): fees, software, people
    and warehousing are missing, so what is left is no profit."""

    months: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        """Every month of the period has rows of the ``costs`` table."""
        return not self.missing

    @property
    def without_costs_table(self) -> bool:
        """No month of the period has a row of the ``costs`` table."""
        return len(self.missing) == len(self.months)

    def describe(self) -> str:
        """A short phrase for a table's ``cost_basis`` column."""
        if self.complete:
            return "costs table, every month"
        if self.without_costs_table:
            return "default rates (assumed): no costs table rows"
        return f"incomplete: no costs table rows for {', '.join(self.missing)}"

    def margin_name(self) -> str:
        """What revenue − all the costs counted is called: net profit only on complete costs."""
        if self.complete:
            return "net profit"
        if self.without_costs_table:
            return "margin after default cost rates (assumed)"
        return "margin after incomplete costs (assumed)"

    def total_cost_name(self) -> str:
        """What the sum of the costs counted is called: a total only on complete costs."""
        return "total cost" if self.complete else "costs counted"

    def gap(self) -> str:
        """Why the costs are incomplete, as a clause ("" when they are complete)."""
        if self.complete:
            return ""
        if self.without_costs_table:
            return (
                "there are no costs table rows for the period, so platform fees, software, "
                "people and warehousing are missing"
            )
        return f"there are no costs table rows for {', '.join(self.missing)}"

    def assumption(self, commission_rate: float | None, business_model: str = RETAILER) -> str:
        """The defaults that stand in for the shop's costs, for a chart title ("" when none); for
        a marketplace the rate is its take rate, an assumed revenue rather than a cost."""
        what = "take rate" if business_model == MARKETPLACE else "commission"
        rate = (
            f"{what} assumed at {_percent(commission_rate)} of GMV"
            if commission_rate is not None
            else ""
        )
        if self.complete:
            return rate
        gap = (
            "no costs table: fees, people, warehousing missing"
            if self.without_costs_table
            else f"no costs table rows for {', '.join(self.missing)}"
        )
        return "; ".join(part for part in (gap, rate) if part)

    def title(
        self, title: str, commission_rate: float | None, business_model: str = RETAILER
    ) -> str:
        """``title`` with the assumptions it rests on named on a second line."""
        assumption = self.assumption(commission_rate, business_model)
        return f"{title}\n({assumption})" if assumption else title

    def sentence(self, commission_rate: float | None, business_model: str = RETAILER) -> str:
        """One sentence for the reader: what the costs below rest on, naming the defaults."""
        if business_model == MARKETPLACE:
            # the commission is then the marketplace's revenue (Revenue.sentence names its source)
            commission = "the commission is the marketplace's revenue, not one of its costs"
        elif commission_rate is not None:
            commission = (
                f"the platform commission is an assumed {_percent(commission_rate)} of GMV "
                "(commission_rate), not the platform's bill"
            )
        elif self.complete:
            commission = "the platform commission is the costs table's platform_commission rows"
        elif self.without_costs_table:
            commission = "no platform commission is counted (commission_rate is None)"
        else:
            commission = "the platform commission comes from the costs table, so it is missing too"
        if self.complete:
            return (
                f"Costs from the shop's costs table for every month ({', '.join(self.months)}); "
                f"{commission}."
            )
        if self.without_costs_table:
            counted = (
                "only any promotion spend is counted (the sellers' goods are not its cost)"
                if business_model == MARKETPLACE
                else "only the cost of goods sold and any promotion spend are counted"
            )
            return (
                f"No costs table rows for the period: {counted}, and {commission}. "
                "Platform fees, software, people "
                "and warehousing are missing, so the margins below rest on default rates and are "
                "not a profit."
            )
        return (
            f"No costs table rows for {', '.join(self.missing)} (of {', '.join(self.months)}): "
            f"the fees, salaries and other costs of those months are missing, and {commission}. "
            "The margin after all costs is therefore not called a profit."
        )


def _percent(rate: float) -> str:
    return f"{100 * rate:.3g}%"


@dataclass(frozen=True, eq=False)
class Revenue:
    """The shop's revenue per local day, by its business model (:func:`shop_revenue`).

    A ``retailer`` sells its own goods: its revenue is the amount paid, the GMV. A
    ``marketplace`` takes a commission on its sellers' sales: its revenue is that commission,
    ``commission_rate × GMV`` (the rate is then its *take rate*, an assumption), or with
    ``commission_rate=None`` the ``platform_commission`` rows of the ``costs`` table read as
    commission income. GMV stays the volume measure either way. ``daily``: ``date, gmv, revenue``
    (unrounded for the commission: sums of it are rounded)."""

    business_model: str
    commission_rate: float | None
    daily: pd.DataFrame

    @property
    def marketplace(self) -> bool:
        """Whether the revenue is a commission on the sellers' GMV."""
        return self.business_model == MARKETPLACE

    @property
    def gmv(self) -> float:
        """The period's GMV (amount paid), the volume measure of both models."""
        return round(float(self.daily["gmv"].sum()), MONEY_DECIMALS)

    @property
    def total(self) -> float:
        """The period's revenue, rounded to cents."""
        return round(float(self.daily["revenue"].sum()), MONEY_DECIMALS)

    @property
    def take_rate(self) -> float:
        """Revenue / GMV: 1 for a retailer, the commission's share of GMV for a marketplace (the
        effective rate when it comes from the costs table); null without GMV."""
        return self.total / self.gmv if self.gmv > 0 else math.nan

    @property
    def short(self) -> str:
        """The revenue's name in a ratio or an axis: ``GMV`` or ``commission revenue``."""
        return "commission revenue" if self.marketplace else "GMV"

    def name(self) -> str:
        """The revenue's name in a sentence: ``paid revenue`` or ``commission revenue``."""
        return "commission revenue" if self.marketplace else "paid revenue"

    def label(self) -> str:
        """The revenue line's label: it says what the revenue is."""
        if not self.marketplace:
            return "paid revenue (GMV)"
        if self.commission_rate is None:
            return "commission revenue (costs table)"
        return "commission revenue (take rate × GMV)"

    def heading(self) -> str:
        """:meth:`label` capitalised, to open a chart title."""
        return _capitalised(self.label())

    def roi_title(self) -> str:
        """The channel ROI chart's title: for a marketplace it shows its sellers' return (GMV and
        their goods; the chart's axes name them), its own return is in ``revenue_roi``."""
        if self.marketplace:
            return "Sellers' return on promotion spend by channel and billing model"
        return "Return on promotion spend by channel and billing model"

    def series_label(self) -> str:
        """The daily revenue's name on a chart's legend."""
        return "commission revenue (take rate × GMV)" if self.marketplace else "GMV (amount paid)"

    def column(self) -> str:
        """The column of :func:`cost_trend` holding the daily revenue."""
        return "revenue" if self.marketplace else "gmv"

    def sentence(self) -> str:
        """One sentence for the reader: which revenue the costs are set against, and why."""
        if not self.marketplace:
            return (
                "Business model: retailer. Revenue is paid revenue, the GMV (the amount paid for "
                "the paid orders), and the goods sold are the shop's cost."
            )
        if self.commission_rate is not None:
            source = (
                f"an assumed take rate of {_percent(self.commission_rate)} of GMV "
                "(commission_rate), not commission income booked by the shop"
            )
        elif self.total > 0:
            rate = f" (a take rate of {self.take_rate:.2%})" if self.gmv > 0 else ""
            source = f"the costs table's platform_commission rows, read as commission income{rate}"
        else:
            source = (
                "the costs table's platform_commission rows, but it has none for the period, so "
                "the revenue is 0 (set commission_rate to assume a take rate)"
            )
        return (
            "Business model: marketplace. Revenue is the commission on the sellers' sales, "
            f"{self.total:,.2f} on a GMV of {self.gmv:,.2f}, from {source}. The sellers' goods "
            "(cost of goods sold, logistics, packaging, damage) are not the marketplace's cost and "
            "are left out; GMV stays the volume measure."
        )


def shop_revenue(
    orders: ir.Table,
    period: Period,
    business_model: str = DEFAULT_BUSINESS_MODEL,
    commission_rate: float | None = DEFAULT_COMMISSION_RATE,
    costs: ir.Table | None = None,
) -> Revenue:
    """The period's :class:`Revenue` per local day: the GMV of :func:`lib.gmv.gmv_daily` for a
    ``retailer``; for a ``marketplace`` ``commission_rate × GMV``, or with ``None`` the
    ``platform_commission`` rows of ``costs`` spread over their month's days (0 without them)."""
    parameters.check("business_model", business_model)
    parameters.check("commission_rate", commission_rate)
    days = gmv_daily(orders, period)[["date", "gmv"]].copy()
    if business_model == RETAILER:
        days["revenue"] = days["gmv"]
    elif commission_rate is not None:
        days["revenue"] = commission_rate * days["gmv"]
    else:
        income = pd.Series(0.0, index=[epoch_day(d.date()) for d in days["date"]])
        if costs is not None:
            rows = _monthly_rows(costs, period, None)
            rows = rows[(rows["component"] == "platform") & (rows["item"] == COMMISSION_ITEM)]
            income = income.add(rows.groupby("day")["amount"].sum(), fill_value=0.0)
        days["revenue"] = income.to_numpy(dtype="float64")
    return Revenue(business_model, commission_rate, days.reset_index(drop=True))


def cost_basis(ledger: pd.DataFrame, period: Period) -> CostBasis:
    """The :class:`CostBasis` of a ledger: the period's months and those without a ``costs``
    row (:func:`months_without_costs`)."""
    months = tuple(m.strftime("%Y-%m") for m in _months(period))
    return CostBasis(months, tuple(months_without_costs(ledger, period)))


def _behaviour_of(variable: float, fixed: float) -> str:
    if variable and fixed:
        return MIXED
    return VARIABLE if variable else FIXED


def unit_economics(
    ledger: pd.DataFrame, orders: ir.Table, period: Period, revenue: Revenue | None = None
) -> pd.DataFrame:
    """``line, amount, per_order, per_buyer, share_of_revenue`` for the lines ``revenue`` (paid
    revenue: GMV, the amount paid; or ``revenue``'s, for a marketplace its commission, labelled
    :meth:`Revenue.label`), each component present, ``variable_costs, fixed_costs,
    total_cost, contribution_margin, net_profit`` (see the module docstring), then:

    - ``label``: the line's name for a reader; ``net_profit`` is "net profit" only when the
      ``costs`` table covers every month, else a margin after default or incomplete costs
      (:meth:`CostBasis.margin_name`);
    - ``cost_behaviour``: ``variable``, ``fixed`` or ``mixed`` for a cost line (by
      :func:`cost_behaviour` of its items), empty for revenue and the margins;
    - ``variable_amount``, ``fixed_amount``: the part of a cost line counted as each (null for
      revenue and the margins);
    - ``cost_basis``: :meth:`CostBasis.describe`, the same on every line.

    Per-order and per-buyer values are null without paid orders."""
    summary = gmv_summary(orders, period).iloc[0]
    n_orders, n_buyers = int(summary["orders"]), int(summary["buyers"])
    income = float(summary["gmv"]) if revenue is None else revenue.total
    income_label = "paid revenue (GMV)" if revenue is None else revenue.label()
    basis = cost_basis(ledger, period)
    items = _period_costs(ledger)
    parts = items.assign(
        v=items["amount"].where(items["variable"], 0.0),
        f=items["amount"].where(~items["variable"], 0.0),
    )
    by_component = parts.groupby("component")[["amount", "v", "f"]].sum()
    components = sorted(by_component.index, key=lambda c: (_component_order(c), c))
    variable = float(parts["v"].sum())
    total = float(items["amount"].sum())
    fixed = total - variable
    # (line, amount, label, behaviour, variable part, fixed part)
    lines = [("revenue", income, income_label, "", math.nan, math.nan)]
    for component in components:
        v, f = float(by_component.at[component, "v"]), float(by_component.at[component, "f"])
        label = COMPONENT_LABELS.get(component, component)
        lines.append((component, v + f, label, _behaviour_of(v, f), v, f))
    lines += [
        ("variable_costs", variable, "variable costs", VARIABLE, variable, 0.0),
        ("fixed_costs", fixed, "fixed costs", FIXED, 0.0, fixed),
        (
            "total_cost",
            total,
            basis.total_cost_name() + ("" if basis.complete else " (incomplete)"),
            _behaviour_of(variable, fixed),
            variable,
            fixed,
        ),
        ("contribution_margin", income - variable, "contribution margin", "", math.nan, math.nan),
        ("net_profit", income - total, basis.margin_name(), "", math.nan, math.nan),
    ]
    table = pd.DataFrame(
        lines,
        columns=["line", "amount", "label", "cost_behaviour", "variable_amount", "fixed_amount"],
    )
    for money in ("amount", "variable_amount", "fixed_amount"):
        table[money] = table[money].astype("float64").round(MONEY_DECIMALS)
    table["per_order"] = table["amount"] / n_orders if n_orders else math.nan
    table["per_buyer"] = table["amount"] / n_buyers if n_buyers else math.nan
    table["share_of_revenue"] = table["amount"] / income if income else math.nan
    table["cost_basis"] = basis.describe()
    return table[ECONOMICS_COLUMNS]


def economics_chart_lines(economics: pd.DataFrame, basis: CostBasis) -> pd.DataFrame:
    """The lines of :func:`unit_economics` a chart may show: without complete costs the
    ``net_profit`` line is left out, as a chart labels it by its name and it is no profit then
    (the table keeps it, labelled a margin after default or incomplete costs)."""
    if basis.complete:
        return economics
    return economics[economics["line"] != "net_profit"].reset_index(drop=True)


def break_even(economics: pd.DataFrame, orders: ir.Table, period: Period) -> pd.DataFrame:
    """One row: ``orders, fixed_costs, contribution_per_order, break_even_orders`` and
    ``orders_vs_break_even = orders / break_even_orders`` (≥ 1: the fixed costs are covered).
    Only the items :func:`cost_behaviour` calls fixed count as fixed; the variable ones are in
    the contribution per order. ``cost_basis`` is the economics' (empty when it has none): without
    complete costs the fixed costs are missing some or all of the shop's fees and salaries."""
    amounts = economics.set_index("line")["amount"]
    n_orders = int(gmv_summary(orders, period)["orders"].iloc[0])
    fixed = float(amounts["fixed_costs"])
    per_order = float(amounts["contribution_margin"]) / n_orders if n_orders else math.nan
    covers = not math.isnan(per_order) and per_order > 0
    needed = math.ceil(round(fixed / per_order, 9)) if covers else math.nan
    basis = str(economics["cost_basis"].iloc[0]) if "cost_basis" in economics.columns else ""
    return pd.DataFrame(
        [
            {
                "orders": n_orders,
                "fixed_costs": round(fixed, MONEY_DECIMALS),
                "contribution_per_order": per_order,
                "break_even_orders": needed,
                "orders_vs_break_even": n_orders / needed if covers and needed > 0 else math.nan,
                "cost_basis": basis,
            }
        ]
    )


# --------------------------------------------------------------------------------------------
# Channel ROI


def channel_roi(
    marketing_spend: ir.Table,
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    period: Period,
    revenue: Revenue | None = None,
) -> pd.DataFrame:
    """Per channel and billing model with spend in the period: :data:`ROI_COLUMNS` (see the
    module docstring). Channels without spend have no return on it and are left out. Sorted by
    channel and billing model.

    ``roi`` is the return after the goods: a retailer's, or for a marketplace its sellers'. For a
    marketplace (``revenue``) two columns follow: ``revenue``, its commission on the channel's
    GMV at the period's take rate (:attr:`Revenue.take_rate`), and ``revenue_roi = (revenue −
    spend) / spend``, the marketplace's own return on the spend."""
    inside = spend_in(marketing_spend, period)
    spend = (
        inside.group_by(["channel", "billing_model"])
        .aggregate(
            spend=inside.spend.sum(),
            impressions=inside.impressions.sum(),
            clicks=inside.clicks.sum(),
        )
        .to_pandas()
    )
    lines = paid_lines(orders, order_items, products, period)
    goods = lines.group_by("order_id").aggregate(goods_cost=lines.cost.sum())
    paid = paid_orders_in(orders, period)
    paid = paid.left_join(goods, "order_id")
    sales = (
        paid.group_by("channel")
        .aggregate(
            channel_orders=paid.count(),
            channel_gmv=paid.paid_amount.sum(),
            channel_goods=paid.goods_cost.fill_null(0.0).sum(),
        )
        .to_pandas()
    )
    for column in ("impressions", "clicks"):
        spend[column] = spend[column].fillna(0).astype("int64")
    spend["spend"] = spend["spend"].astype("float64").round(MONEY_DECIMALS)
    table = spend.merge(sales, on="channel", how="left")
    table = table.fillna({"channel_orders": 0, "channel_gmv": 0.0, "channel_goods": 0.0})
    channel_clicks = table.groupby("channel")["clicks"].transform("sum")
    models = table.groupby("channel")["billing_model"].transform("size")
    weight = (table["clicks"] / channel_clicks.where(channel_clicks > 0)).fillna(1.0 / models)
    # shares stay unrounded until every ratio is taken: a third of an order rounded to 0.33 put
    # the cost per order 1% off; orders is a fractional count, not money, and is never rounded
    table["orders"] = weight * table["channel_orders"]
    table["gmv"] = weight * table["channel_gmv"]
    table["goods_cost"] = weight * table["channel_goods"]

    def ratio(top: pd.Series, bottom: pd.Series) -> pd.Series:
        return (top / bottom.where(bottom > 0)).astype("float64")

    table["roas"] = ratio(table["gmv"], table["spend"])
    table["cost_per_order"] = ratio(table["spend"], table["orders"])
    table["roi"] = ratio(table["gmv"] - table["goods_cost"] - table["spend"], table["spend"])
    table["ctr"] = ratio(table["clicks"], table["impressions"])
    table["cpc"] = ratio(table["spend"], table["clicks"])
    table["cpm"] = 1000 * ratio(table["spend"], table["impressions"])
    columns = list(ROI_COLUMNS)
    if revenue is not None and revenue.marketplace:
        # the commission on the channel's (unrounded) GMV share, at the period's take rate
        take = revenue.take_rate if not math.isnan(revenue.take_rate) else 0.0
        commission = take * table["gmv"]
        table["revenue_roi"] = ratio(commission - table["spend"], table["spend"])
        table["revenue"] = commission
        columns += ["revenue", "revenue_roi"]
    for money in ("gmv", "goods_cost", "revenue"):
        if money in table.columns:
            table[money] = table[money].round(MONEY_DECIMALS)
    table = table.sort_values(["channel", "billing_model"])
    return table[columns].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Trend and growth


def cost_trend(
    ledger: pd.DataFrame, gmv_days: pd.DataFrame, revenue: Revenue | None = None
) -> pd.DataFrame:
    """``date, gmv``, the cost of each ROPG component, ``total_cost`` and ``cost_ratio = total_cost
    / gmv`` per local day (``gmv_days`` from :func:`lib.gmv.gmv_daily`). For a marketplace
    (``revenue``) a ``revenue`` column (its commission) follows ``gmv`` and ``cost_ratio =
    total_cost / revenue``: the costs against what it earns, not against its sellers' sales."""
    wide = ledger.pivot_table(index="date", columns="component", values="amount", aggfunc="sum")
    components = sorted(wide.columns, key=lambda c: (_component_order(c), c))
    for component in COMPONENTS:
        if component not in wide.columns:
            wide[component] = 0.0
            components.append(component)
    components = sorted(set(components), key=lambda c: (_component_order(c), c))
    table = gmv_days[["date", "gmv"]].set_index("date").join(wide[components]).fillna(0.0)
    table[components] = table[components].round(MONEY_DECIMALS)
    table["total_cost"] = table[components].sum(axis=1).round(MONEY_DECIMALS)
    base = "gmv"
    if revenue is not None and revenue.marketplace:
        income = revenue.daily.set_index("date")["revenue"].reindex(table.index).fillna(0.0)
        table.insert(1, "revenue", income.round(MONEY_DECIMALS))
        base = "revenue"
    table["cost_ratio"] = table["total_cost"] / table[base].where(table[base] > 0)
    return table.reset_index()


def cost_growth(current: pd.DataFrame, previous: pd.DataFrame, top_n: int = 3) -> pd.DataFrame:
    """Each cost item of two ledgers (this period, the previous one): ``component, item,
    previous, current, change, growth`` (current / previous − 1, null when there was no previous
    cost), ``new`` (no previous cost), ``fastest_growth``: the ``top_n`` items with the largest
    positive growth, and ``cost_behaviour`` (:func:`cost_behaviour`). Sorted by growth (largest
    first; new items after), component and item."""
    now = _period_costs(current).set_index(["component", "item"])["amount"]
    before = _period_costs(previous).set_index(["component", "item"])["amount"]
    table = pd.DataFrame({"previous": before, "current": now}).fillna(0.0)
    table = table.rename_axis(["component", "item"]).reset_index()
    table["change"] = (table["current"] - table["previous"]).round(MONEY_DECIMALS)
    table["growth"] = table["current"] / table["previous"].where(table["previous"] > 0) - 1
    table["new"] = (table["previous"] == 0) & (table["current"] > 0)
    ranked = table[table["growth"] > 0]
    ranked = ranked.assign(order=ranked["component"].map(_component_order))
    ranked = ranked.sort_values(["growth", "order", "item"], ascending=[False, True, True])
    table["fastest_growth"] = table.index.isin(ranked.head(top_n).index)
    table["_order"] = table["component"].map(_component_order)
    table["_missing"] = table["growth"].isna()
    table = table.sort_values(
        ["_missing", "growth", "_order", "component", "item"],
        ascending=[True, False, True, True, True],
    )
    table = _with_behaviour(table)
    columns = ["component", "item", "previous", "current", "change", "growth", "new"]
    return table[columns + ["fastest_growth", "cost_behaviour"]].reset_index(drop=True)


def flagged_cost_items(growth: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`cost_growth` worth a look: the ``fastest_growth`` items and the ``new``
    ones (no cost in the previous period, so no growth rate to rank), in its order."""
    return growth[growth["fastest_growth"] | growth["new"]].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# After-sales: the returns table's refunds in the goods component


def _with_returns(
    pieces: list[pd.DataFrame],
    returns: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    period: Period,
) -> list[pd.DataFrame]:
    """``pieces`` with the item :data:`RETURNS_ITEM` computed from ``returns``
    (:func:`lib.supply.aftersales.returns_cost`: refunds less the cost of the goods they bring
    back, per local day of the refund) in place of any ``costs`` row of that name.

    Nothing is counted twice: revenue (GMV) includes refunded orders, so refunds are netted out
    here only; ``cost_of_goods_sold`` counted the returned units when they were sold, so their
    cost is credited back (the unsellable ones stay in the ``costs`` table's ``damage_loss``);
    return shipping is in the ``costs`` table's ``logistics`` rows and is not added."""
    # imported here: lib.supply loads the holiday calendars, which no other ledger line needs
    from lib.supply.aftersales import cost_ledger_rows, returns_cost

    kept = [
        p[~((p["source"] == "costs") & (p["item"] == RETURNS_ITEM))]
        if len(p) and "source" in p.columns
        else p
        for p in pieces
    ]
    return [*kept, cost_ledger_rows(returns_cost(returns, order_items, products, period))]


# --------------------------------------------------------------------------------------------
# Sentences from the tables: every direction, ranking or verdict the notebook states


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _names(values: list[str], most: int = 5) -> str:
    shown = ", ".join(values[:most])
    return f"{shown} and {len(values) - most} more" if len(values) > most else shown


def component_note(totals: pd.DataFrame, basis: CostBasis) -> str:
    """Which component was the largest cost of each month, and its share of the month's cost,
    from :func:`component_totals` (ties go to the first in R, O, P, G order)."""
    parts = totals[~totals["is_total"].astype(bool) & (totals["amount"] > 0)]
    if parts.empty:
        return "No cost in the period."
    parts = parts.assign(_order=parts["component"].map(_component_order))
    top = parts.sort_values(["month", "amount", "_order"], ascending=[True, False, True])
    top = top.groupby("month").head(1)
    of = "of the month's cost" if basis.complete else "of the month's costs counted"
    labels = [COMPONENT_LABELS.get(c, c) for c in top["component"]]
    months = [f"{m:%Y-%m}" for m in top["month"]]
    shares = [f"{share:.1%}" for share in top["share"]]
    if len(set(labels)) == 1:
        where = "in each month" if len(top) > 1 else "of the period"
        detail = ", ".join(f"{s} in {m}" for s, m in zip(shares, months, strict=True))
        return f"{_capitalised(labels[0])} is the largest cost {where}: {detail} {of}."
    detail = ", ".join(
        f"{label} in {m} ({s})" for label, m, s in zip(labels, months, shares, strict=True)
    )
    return f"The largest cost changes from month to month ({of}): {detail}."


def behaviour_note(breakdown: pd.DataFrame) -> str:
    """How many of the period's cost items count as variable and as fixed, naming those counted
    fixed only because their name is unknown (:data:`RULE_DEFAULT`)."""
    if breakdown.empty:
        return "No cost item in the period."
    items = breakdown.drop_duplicates(["component", "item"])
    variable = int((items["cost_behaviour"] == VARIABLE).sum())
    assumed = sorted(items.loc[items["behaviour_rule"] == RULE_DEFAULT, "item"])
    text = (
        f"Of {len(items)} cost item{'s' if len(items) != 1 else ''}: variable (moving with the "
        f"orders) {variable}, fixed {len(items) - variable}"
    )
    if not assumed:
        return f"{text}; every item is a known one, none is fixed by assumption."
    return (
        f"{text}; fixed by assumption, as their names are not known ones: {_names(assumed)} "
        "(docs/metrics.md, Costs)."
    )


def economics_note(
    economics: pd.DataFrame, basis: CostBasis, revenue: Revenue | None = None
) -> str:
    """Per paid order: paid revenue (or ``revenue``'s: a marketplace's commission, with the GMV
    it is taken on), variable costs, the contribution margin and what is left after all the costs
    counted, called net profit (or loss) only on complete costs."""
    rows = economics.set_index("line")
    if rows["per_order"].isna().all():
        return "No paid orders in the period: nothing to share per order."
    name = "paid revenue" if revenue is None else revenue.name()
    income = float(rows.at["revenue", "per_order"])
    variable = float(rows.at["variable_costs", "per_order"])
    if income <= 0:
        return (
            f"No {name} in the period: each paid order only adds its variable costs of "
            f"{variable:,.2f}."
        )
    on_gmv = ""
    if revenue is not None and revenue.marketplace and revenue.take_rate > 0:
        # the commission per order is the take rate of the sellers' GMV per order
        on_gmv = (
            f" (on a GMV of {income / revenue.take_rate:,.2f}, take rate {revenue.take_rate:.1%})"
        )
    margin = float(rows.at["contribution_margin", "per_order"])
    left = float(rows.at["net_profit", "per_order"])
    left_share = rows.at["net_profit", "share_of_revenue"]
    margin_share = rows.at["contribution_margin", "share_of_revenue"]
    contribution = (
        f"a contribution margin of {margin:,.2f} ({margin_share:.1%} of {name})"
        if margin >= 0
        else f"a loss of {-margin:,.2f} before any fixed cost"
    )
    text = (
        f"Per paid order: {name} {income:,.2f}{on_gmv}, variable costs {variable:,.2f}, so "
        f"{contribution}"
    )
    if basis.complete:
        after = "net profit" if left >= 0 else "net loss"
        return (
            f"{text}; after the fixed costs a {after} of {abs(left):,.2f} "
            f"({abs(left_share):.1%} of {name})."
        )
    return (
        f"{text}; {basis.margin_name()} {left:,.2f} ({left_share:.1%}), which is not a profit: "
        f"{basis.gap()}."
    )


def break_even_note(
    breakeven: pd.DataFrame, basis: CostBasis, revenue: Revenue | None = None
) -> str:
    """Whether the period's paid orders covered its fixed costs, from :func:`break_even`; for a
    marketplace (``revenue``) the contribution is its commission less its variable costs."""
    row = breakeven.iloc[0]
    orders, fixed = int(row["orders"]), float(row["fixed_costs"])
    per_order = float(row["contribution_per_order"])
    if orders == 0:
        return "No paid orders in the period: no break-even."
    # a marketplace's contribution is its commission, not the order's GMV, less variable costs
    of = " (commission revenue less variable costs)" if revenue and revenue.marketplace else ""
    if per_order <= 0:
        each = "contributes nothing" if per_order == 0 else f"loses {-per_order:,.2f}"
        return (
            f"Each paid order {each}{of} before fixed costs, so no number of orders covers the "
            f"fixed costs of {fixed:,.2f}."
        )
    if fixed == 0:
        if basis.complete:
            return (
                "The period has no fixed costs: every paid order adds its contribution of "
                f"{per_order:,.2f}."
            )
        return (
            "No fixed cost is counted (no costs table rows), so the break-even volume is not known."
        )
    needed, ratio = int(row["break_even_orders"]), float(row["orders_vs_break_even"])
    if orders >= needed:
        verdict = f"covered ({orders - needed:,} orders to spare)"
    else:
        verdict = f"not covered ({needed - orders:,} orders short)"
    text = (
        f"{orders:,} paid orders against the {needed:,} needed to cover the fixed costs of "
        f"{fixed:,.2f} at a contribution of {per_order:,.2f} per order{of} ({ratio:.2f}×): the "
        f"fixed costs were {verdict}."
    )
    if basis.complete:
        return text
    # missing rows can only add costs (fixed ones, and variable ones that thin the contribution)
    return (
        f"On the costs counted, {text[0].lower()}{text[1:]} But {basis.gap()}: the true "
        "break-even is higher, and the verdict may not hold."
    )


def roi_note(roi: pd.DataFrame, revenue: Revenue | None = None) -> str:
    """Which channel and billing models earned back their goods and spend (ROI > 0), the best
    one, and those that did not (worst first), from :func:`channel_roi`. For a marketplace
    (``revenue``) that is its sellers' return, and a second sentence gives its own: the channels
    whose commission earned back the spend (``revenue_roi`` > 0)."""
    text = _goods_roi_note(roi)
    if revenue is None or not revenue.marketplace or "revenue_roi" not in roi.columns:
        return text
    rated = roi[roi["revenue_roi"].notna()]
    if rated.empty:
        return text
    best = rated.loc[rated["revenue_roi"].idxmax()]
    positive = int((rated["revenue_roi"] > 0).sum())
    return (
        f"Sellers' view (GMV less their goods): {text} The marketplace's own "
        f"return, its commission ({revenue.take_rate:.1%} of GMV) less the spend, is positive for "
        f"{positive} of {len(rated)}, highest for {best['channel']} · {best['billing_model']} "
        f"({best['revenue_roi']:.2f})."
    )


def _goods_roi_note(roi: pd.DataFrame) -> str:
    rated = roi[roi["roi"].notna()]
    if rated.empty:
        return "No promotion spend with a return to measure in the period."
    name = rated["channel"] + " · " + rated["billing_model"]
    positive, negative = rated[rated["roi"] > 0], rated[rated["roi"] < 0]
    best = rated.loc[rated["roi"].idxmax()]
    losers = negative.sort_values(["roi", "channel", "billing_model"])
    lost = [f"{name[i]} ({losers.at[i, 'roi']:.2f})" for i in losers.index]
    if positive.empty:
        return (
            f"No channel and billing model earned back its goods and spend: ROI after goods cost "
            f"is not positive for any of {len(rated)} ({_names(lost)})."
        )
    text = (
        f"ROI after goods cost is positive for {len(positive)} of {len(rated)} channel and "
        f"billing models, highest for {best['channel']} · {best['billing_model']} "
        f"({best['roi']:.2f})"
    )
    if not lost:
        return f"{text}; none is negative."
    return f"{text}; negative, so not earning back goods and spend: {_names(lost)}."


def cost_ratio_note(trend: pd.DataFrame, basis: CostBasis) -> str:
    """The period's cost per unit of GMV (amount paid), the days whose costs exceeded their GMV
    and the highest day, from :func:`cost_trend`; per unit of commission revenue when the table
    has a marketplace's ``revenue`` column."""
    # the table names its revenue: a marketplace's trend carries its commission as ``revenue``
    column, short, long = "gmv", "GMV", "GMV (amount paid)"
    if "revenue" in trend.columns:
        column, short = "revenue", "commission revenue"
        long = "commission revenue (take rate × GMV)"
    income = float(trend[column].sum()) if len(trend) else 0.0
    if income <= 0:
        return f"No {short} in the period: no cost ratio."
    ratio = float(trend["total_cost"].sum()) / income
    above = int((trend["cost_ratio"] > 1).sum())
    peak = trend.loc[trend["cost_ratio"].idxmax()]
    counted = "total cost was" if basis.complete else "the costs counted were"
    days = (
        f"costs exceeded {short} on {above} of {len(trend)} days, most"
        if above
        else f"no day's costs exceeded its {short} (of {len(trend)} days); the highest ratio was"
    )
    text = (
        f"Over the period, {counted} {ratio:.1%} of {long}; {days} on "
        f"{peak['date']:%Y-%m-%d} ({peak['cost_ratio']:.1%})."
    )
    if basis.complete:
        return text
    return f"{text} But {basis.gap()}: the true ratio is higher."


# An item whose growth is within a percentage point of GMV's follows GMV: a commission at a fixed
# rate differs from it only by the rounding of cents, and is not "faster".
FOLLOWS_GMV = 0.01


def cost_growth_note(
    growth: pd.DataFrame, gmv_current: float, gmv_previous: float, most: int = 5
) -> str:
    """GMV's growth against the baseline and the cost items that grew faster, by more than
    :data:`FOLLOWS_GMV` (largest first, at most ``most`` named), and the items new since then,
    from :func:`cost_growth`."""
    new = growth.loc[growth["new"], "item"].tolist()
    new_text = f" New since the baseline: {_names(new, most)}." if new else ""
    if gmv_previous <= 0:
        return f"No GMV in the baseline, so cost growth cannot be set against it.{new_text}"
    gmv_growth = gmv_current / gmv_previous - 1
    direction = "grew" if gmv_growth >= 0 else "fell"
    text = f"GMV (amount paid) {direction} {abs(gmv_growth):.1%} against the baseline"
    faster = growth[growth["growth"] > gmv_growth + FOLLOWS_GMV]
    if faster.empty:
        return f"{text}; no cost item grew faster.{new_text}"
    named = [
        f"{item} ({rate:+.0%}, {behaviour})"
        for item, rate, behaviour in zip(
            faster["item"], faster["growth"], faster["cost_behaviour"], strict=True
        )
    ]
    return f"{text}; cost items that grew faster: {_names(named, most)}.{new_text}"
