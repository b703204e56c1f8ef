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

- :func:`cost_breakdown` (``tables/cost_breakdown.csv``): ``month, component, item, amount,
  share`` per local calendar month clipped to the period; ``share`` is of the month's total cost.
- :func:`unit_economics`: per paid order and per buyer of the period: revenue (GMV), each
  component, variable and fixed costs, ``contribution_margin = revenue − variable costs`` and
  ``net_profit = revenue − total cost``. *Variable* costs move with sales: goods, the commission
  and the promotion spend; the other costs are *fixed*.
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
LEDGER_COLUMNS = ["date", "component", "item", "amount", "source"]
BREAKDOWN_COLUMNS = ["month", "component", "item", "amount", "share"]
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
    inside = _spend_in(marketing_spend, period)
    table = inside.group_by(["date", "channel"]).aggregate(amount=inside.spend.sum()).to_pandas()
    table["day"] = [epoch_day(pd.Timestamp(d).date()) for d in table["date"]]
    table["component"] = "operating"
    table["item"] = PROMOTION_PREFIX + table["channel"].astype(str)
    return table[["day", "component", "item", "amount"]].assign(source="marketing_spend")


def _spend_in(marketing_spend: ir.Table, period: Period) -> ir.Table:
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
) -> pd.DataFrame:
    """Every cost of the period per local day: ``date, component, item, amount, source`` (the
    table it comes from, or ``commission rate``). See the module docstring; sorted by date,
    component (ROPG order) and item. Amounts are not rounded here: sums of them are."""
    parameters.check("commission_rate", commission_rate)  # None: the costs table's rows
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
    pieces = [p for p in pieces if len(p)]
    if not pieces:
        return pd.DataFrame(columns=LEDGER_COLUMNS)
    ledger = pd.concat([p[["day", "component", "item", "amount", "source"]] for p in pieces])
    ledger["amount"] = ledger["amount"].astype("float64")
    ledger["order"] = ledger["component"].map(_component_order)
    ledger = ledger.sort_values(["day", "order", "component", "item", "source"])
    ledger.insert(0, "date", to_timestamps(ledger.pop("day")).to_numpy())
    return ledger[LEDGER_COLUMNS].reset_index(drop=True)


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
    labelled by its first day); ``share`` is of the month's total cost."""
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
    return _sorted(table, ["month", "component", "item"])[BREAKDOWN_COLUMNS]


def component_totals(breakdown: pd.DataFrame) -> pd.DataFrame:
    """``month, component, amount, share`` from :func:`cost_breakdown` (amounts are sums of the
    rounded items, so they add up to the month's total), plus a ``total`` row per month."""
    table = breakdown.groupby(["month", "component"], as_index=False)["amount"].sum()
    table["amount"] = table["amount"].round(MONEY_DECIMALS)
    totals = table.groupby("month", as_index=False)["amount"].sum().assign(component="total")
    totals["amount"] = totals["amount"].round(MONEY_DECIMALS)
    month_total = table.groupby("month")["amount"].transform("sum")
    table["share"] = table["amount"] / month_total.where(month_total > 0)
    totals["share"] = 1.0
    table = _sorted(table, ["month", "component"])
    out = pd.concat([table, totals[["month", "component", "amount", "share"]]])
    out["_total"] = out["component"] == "total"
    return (
        out.sort_values(["month", "_total"], kind="stable")
        .drop(columns="_total")
        .reset_index(drop=True)
    )


def months_without_costs(ledger: pd.DataFrame, period: Period) -> list[str]:
    """The period's months (``YYYY-MM``) with no row from the ``costs`` table."""
    covered = ledger.loc[ledger["source"] == "costs", "date"].dt.strftime("%Y-%m").unique()
    return [m.strftime("%Y-%m") for m in _months(period) if m.strftime("%Y-%m") not in covered]


def is_variable(component: str, item: str) -> bool:
    """Whether a cost moves with sales: goods, the platform commission, promotion spend."""
    return (
        component == "goods"
        or (component == "platform" and item == COMMISSION_ITEM)
        or (component == "operating" and item.startswith(PROMOTION_PREFIX))
    )


def _period_costs(ledger: pd.DataFrame) -> pd.DataFrame:
    """Component, item and amount over the whole period, rounded per item."""
    table = ledger.groupby(["component", "item"], as_index=False)["amount"].sum()
    table["amount"] = table["amount"].round(MONEY_DECIMALS)
    table["variable"] = [
        is_variable(c, i) for c, i in zip(table["component"], table["item"], strict=True)
    ]
    return table


def unit_economics(ledger: pd.DataFrame, orders: ir.Table, period: Period) -> pd.DataFrame:
    """``line, amount, per_order, per_buyer, share_of_revenue`` for the lines ``revenue``, each
    component present, ``variable_costs, fixed_costs, total_cost, contribution_margin,
    net_profit`` (see the module docstring). Per-order and per-buyer values are null without
    paid orders."""
    summary = gmv_summary(orders, period).iloc[0]
    revenue, n_orders, n_buyers = (
        float(summary["gmv"]),
        int(summary["orders"]),
        int(summary["buyers"]),
    )
    items = _period_costs(ledger)
    by_component = items.groupby("component")["amount"].sum()
    components = sorted(by_component.index, key=lambda c: (_component_order(c), c))
    variable = float(items.loc[items["variable"], "amount"].sum())
    total = float(items["amount"].sum())
    lines = [("revenue", revenue)]
    lines += [(component, float(by_component[component])) for component in components]
    lines += [
        ("variable_costs", variable),
        ("fixed_costs", total - variable),
        ("total_cost", total),
        ("contribution_margin", revenue - variable),
        ("net_profit", revenue - total),
    ]
    table = pd.DataFrame(lines, columns=["line", "amount"])
    table["amount"] = table["amount"].round(MONEY_DECIMALS)
    table["per_order"] = table["amount"] / n_orders if n_orders else math.nan
    table["per_buyer"] = table["amount"] / n_buyers if n_buyers else math.nan
    table["share_of_revenue"] = table["amount"] / revenue if revenue else math.nan
    return table


def break_even(economics: pd.DataFrame, orders: ir.Table, period: Period) -> pd.DataFrame:
    """One row: ``orders, fixed_costs, contribution_per_order, break_even_orders`` and
    ``orders_vs_break_even = orders / break_even_orders`` (≥ 1: the fixed costs are covered)."""
    amounts = economics.set_index("line")["amount"]
    n_orders = int(gmv_summary(orders, period)["orders"].iloc[0])
    fixed = float(amounts["fixed_costs"])
    per_order = float(amounts["contribution_margin"]) / n_orders if n_orders else math.nan
    covers = not math.isnan(per_order) and per_order > 0
    needed = math.ceil(round(fixed / per_order, 9)) if covers else math.nan
    return pd.DataFrame(
        [
            {
                "orders": n_orders,
                "fixed_costs": round(fixed, MONEY_DECIMALS),
                "contribution_per_order": per_order,
                "break_even_orders": needed,
                "orders_vs_break_even": n_orders / needed if covers and needed > 0 else math.nan,
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
) -> pd.DataFrame:
    """Per channel and billing model with spend in the period: :data:`ROI_COLUMNS` (see the
    module docstring). Channels without spend have no return on it and are left out. Sorted by
    channel and billing model."""
    inside = _spend_in(marketing_spend, period)
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
    for money in ("gmv", "goods_cost"):
        table[money] = table[money].round(MONEY_DECIMALS)
    table = table.sort_values(["channel", "billing_model"])
    return table[ROI_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Trend and growth


def cost_trend(ledger: pd.DataFrame, gmv_days: pd.DataFrame) -> pd.DataFrame:
    """``date, gmv``, the cost of each ROPG component, ``total_cost`` and ``cost_ratio = total_cost
    / gmv`` per local day (``gmv_days`` from :func:`lib.gmv.gmv_daily`)."""
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
    table["cost_ratio"] = table["total_cost"] / table["gmv"].where(table["gmv"] > 0)
    return table.reset_index()


def cost_growth(current: pd.DataFrame, previous: pd.DataFrame, top_n: int = 3) -> pd.DataFrame:
    """Each cost item of two ledgers (this period, the previous one): ``component, item,
    previous, current, change, growth`` (current / previous − 1, null when there was no previous
    cost), ``new`` (no previous cost) and ``fastest_growth``: the ``top_n`` items with the largest
    positive growth. Sorted by growth (largest first; new items after), component and item."""
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
    columns = ["component", "item", "previous", "current", "change", "growth", "new"]
    return table[columns + ["fastest_growth"]].reset_index(drop=True)


def flagged_cost_items(growth: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`cost_growth` worth a look: the ``fastest_growth`` items and the ``new``
    ones (no cost in the previous period, so no growth rate to rank), in its order."""
    return growth[growth["fastest_growth"] | growth["new"]].reset_index(drop=True)
