"""Costs (lib/costs.py): which costs are fixed and which variable, what the numbers rest on when
the shop's costs table is missing, and the sentences the costs notebook states.

The ledger tests use the tiny shop of tests/test_products_costs.py (period 2025-03-10..11 in
Asia/Shanghai, 4 paid orders, GMV 371); each sentence helper is checked on a hand-made table and
on the same table with the relationship reversed, so no sentence is only right for the sample.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import ibis
import pandas as pd
import pytest

from lib import costs, data
from lib.gmv import gmv_daily
from lib.periods import Period

from .conftest import printed, shop_orders
from .test_products_costs import CATALOGUE, ORDERS, PERIOD, ledger

# --------------------------------------------------------------------------------------------
# Fixed and variable costs


WAREHOUSE_ONLY = ibis.memtable(
    pd.DataFrame(
        [(dt.date(2025, 3, 1), "goods", "warehousing", 310.0)],  # flat: 10 a day in March
        columns=["month", "component", "item", "amount"],
    )
)


def _orders_of_one_sku(n: int) -> tuple[ibis.Table, ibis.Table]:
    """``n`` paid orders on 2025-03-10, each one A1 at 100 (unit cost 20)."""
    rows = [(f"w{k}", f"u{k}", "2025-03-10 02:00", "paid", 100.0, 0.0, "search") for k in range(n)]
    items = pd.DataFrame(
        [(f"w{k}", "A1", 1, 100.0) for k in range(n)],
        columns=["order_id", "sku_id", "quantity", "unit_price"],
    )
    return shop_orders(rows), ibis.memtable(items)


def test_a_flat_warehousing_fee_does_not_scale_with_orders():
    # the same flat fee (20 for the period's 2 days) over 1 and over 4 orders
    per_order = {}
    for n in (1, 4):
        orders, items = _orders_of_one_sku(n)
        entries = costs.cost_ledger(orders, items, CATALOGUE, PERIOD, WAREHOUSE_ONLY, None, None)
        economics = costs.unit_economics(entries, orders, PERIOD).set_index("line")
        even = costs.break_even(economics.reset_index(), orders, PERIOD).iloc[0]
        # the fee is fixed whatever the volume; each order's variable cost is its goods, 20
        assert economics.loc["fixed_costs", "amount"] == 20.0
        assert economics.loc["goods", "fixed_amount"] == 20.0
        assert economics.loc["variable_costs", "amount"] == 20.0 * n
        assert even["fixed_costs"] == 20.0
        # contribution 100 − 20 = 80 per order covers the fee with one order: ⌈20 / 80⌉
        assert even["contribution_per_order"] == 80.0
        assert even["break_even_orders"] == 1
        per_order[n] = economics.loc["variable_costs", "per_order"]
    # counted as variable (the old rule: all goods), the fee's share per order fell from 20 to 5
    # and the variable cost per order with it (40 against 25); now it stays at 20
    assert per_order[1] == per_order[4] == 20.0


def test_every_cost_item_is_fixed_or_variable_by_a_named_rule():
    assert costs.behaviour_rule(costs.COGS_ITEM) == costs.RULE_BY_DEFINITION
    assert costs.behaviour_rule("platform_commission") == costs.RULE_BY_DEFINITION
    assert costs.behaviour_rule("promotion_search") == costs.RULE_BY_DEFINITION
    assert costs.behaviour_rule("logistics") == costs.RULE_VARIABLE
    assert costs.behaviour_rule("payment_processing_fee") == costs.RULE_VARIABLE
    assert costs.behaviour_rule("warehousing") == costs.RULE_FIXED
    assert costs.behaviour_rule("inventory_backlog") == costs.RULE_FIXED
    assert costs.behaviour_rule("office_rent") == costs.RULE_DEFAULT
    assert costs.cost_behaviour("logistics") == "variable"
    assert costs.cost_behaviour("office_rent") == "fixed"  # unknown: assumed fixed
    assert costs.cost_behaviour("warehousing") == "fixed"
    # the component does not decide: a goods item can be fixed, a platform item variable
    assert not costs.is_variable("goods", "warehousing")
    assert costs.is_variable("platform", "payment_processing_fee")
    assert not (costs.VARIABLE_ITEMS & costs.FIXED_ITEMS)
    breakdown = costs.cost_breakdown(ledger())
    assert list(breakdown.columns) == costs.BREAKDOWN_COLUMNS
    breakdown = breakdown.set_index("item")
    assert breakdown.loc["warehousing", ["cost_behaviour", "behaviour_rule"]].tolist() == [
        "fixed",
        "known fixed item",
    ]
    assert breakdown.loc["store_fee", ["cost_behaviour", "behaviour_rule"]].tolist() == [
        "fixed",
        "unknown item: assumed fixed",
    ]
    assert breakdown.loc["cost_of_goods_sold", "cost_behaviour"] == "variable"
    assert breakdown.loc["promotion_sms", "cost_behaviour"] == "variable"


def test_without_costs_rows_nothing_is_called_profit():
    entries = ledger(costs_table=None)
    basis = costs.cost_basis(entries, PERIOD)
    assert (basis.complete, basis.without_costs_table, basis.missing) == (False, True, ("2025-03",))
    economics = costs.unit_economics(entries, ORDERS, PERIOD).set_index("line")
    # only computed costs: commission 37.1, promotion 55, goods 110; all variable, none fixed
    assert economics.loc["total_cost", "amount"] == 202.1
    assert economics.loc["fixed_costs", "amount"] == 0.0
    margin = economics.loc["net_profit"]
    assert margin["amount"] == 168.9
    assert margin["label"] == "margin after default cost rates (assumed)"
    assert "profit" not in margin["label"]
    assert economics.loc["total_cost", "label"] == "costs counted (incomplete)"
    assert basis.total_cost_name() == "costs counted"  # never a total without the costs table
    assert set(economics["cost_basis"]) == {"default rates (assumed): no costs table rows"}
    # the chart labels lines by name: without complete costs it gets no net_profit line
    shown = costs.economics_chart_lines(economics.reset_index(), basis)
    assert "net_profit" not in shown["line"].tolist()
    assert len(shown) == len(economics) - 1
    # the title names the defaults standing in for the shop's costs
    title = basis.title("Paid revenue and costs per paid order", 0.1)
    assert title == (
        "Paid revenue and costs per paid order\n"
        "(no costs table: fees, people, warehousing missing; commission assumed at 10% of GMV)"
    )
    sentence = basis.sentence(0.1)
    assert sentence.startswith("No costs table rows for the period")
    assert "assumed 10% of GMV" in sentence and "not a profit" in sentence
    assert "no platform commission is counted" in basis.sentence(None)


def test_costs_rows_for_only_some_months():
    period = Period("2025-03-31", "2025-04-01", "Asia/Shanghai")
    entries = ledger(period=period)
    basis = costs.cost_basis(entries, period)
    assert (basis.months, basis.missing) == (("2025-03", "2025-04"), ("2025-04",))
    assert (basis.complete, basis.without_costs_table) == (False, False)
    economics = costs.unit_economics(entries, ORDERS, period).set_index("line")
    assert economics.loc["net_profit", "label"] == "margin after incomplete costs (assumed)"
    assert set(economics["cost_basis"]) == {"incomplete: no costs table rows for 2025-04"}
    assert basis.title("T", None) == "T\n(no costs table rows for 2025-04)"
    assert "2025-04 (of 2025-03, 2025-04)" in basis.sentence(0.1)


def test_complete_costs_name_profit_and_only_the_rate_they_assume():
    basis = costs.cost_basis(ledger(), PERIOD)
    assert basis.complete and basis.margin_name() == "net profit"
    economics = costs.unit_economics(ledger(), ORDERS, PERIOD)
    assert costs.economics_chart_lines(economics, basis) is economics
    assert basis.title("T", 0.1) == "T\n(commission assumed at 10% of GMV)"
    assert basis.title("T", None) == "T"  # the commission is the shop's own row
    assert basis.sentence(None) == (
        "Costs from the shop's costs table for every month (2025-03); the platform commission "
        "is the costs table's platform_commission rows."
    )


# --------------------------------------------------------------------------------------------
# Sentences from the tables

COMPLETE = costs.CostBasis(("2025-10", "2025-11"), ())
PARTIAL = costs.CostBasis(("2025-10", "2025-11"), ("2025-11",))
NO_COSTS = costs.CostBasis(("2025-10", "2025-11"), ("2025-10", "2025-11"))


def _totals(november: dict[str, float]) -> pd.DataFrame:
    rows = []
    for month, amounts in (
        ("2025-10-01", {"platform": 10.0, "people": 10.0, "goods": 80.0}),
        ("2025-11-01", november),
    ):
        total = sum(amounts.values())
        rows += [(month, c, a, a / total) for c, a in amounts.items()]
        rows.append((month, "total", total, 1.0))
    table = pd.DataFrame(rows, columns=["month", "component", "amount", "share"])
    # as lib.costs.component_totals marks its total rows
    return table.assign(
        month=pd.to_datetime(table["month"]), is_total=table["component"] == "total"
    )


def test_component_note_names_the_largest_cost_of_each_month():
    goods = costs.component_note(_totals({"people": 40.0, "goods": 60.0}), COMPLETE)
    assert goods == (
        "Goods (G) is the largest cost in each month: 80.0% in 2025-10, 60.0% in 2025-11 of the "
        "month's cost."
    )
    people = costs.component_note(_totals({"people": 60.0, "goods": 40.0}), COMPLETE)
    assert people == (
        "The largest cost changes from month to month (of the month's cost): goods (G) in "
        "2025-10 (80.0%), people (P) in 2025-11 (60.0%)."
    )
    # a tie goes to the first in R, O, P, G order; without the costs table, of what is counted
    tie = costs.component_note(_totals({"platform": 50.0, "goods": 50.0}), NO_COSTS)
    assert "platform (R) in 2025-11 (50.0%)" in tie and "costs counted" in tie
    assert costs.component_note(_totals({"goods": 1.0}).iloc[:0], COMPLETE) == (
        "No cost in the period."
    )


def test_behaviour_note_names_the_items_fixed_by_assumption():
    breakdown = costs.cost_breakdown(ledger())
    assumed = costs.behaviour_note(breakdown)
    # variable: commission, 3 promotions, goods; fixed: warehousing (known) and 3 unknown names
    assert assumed == (
        "Of 9 cost items: variable (moving with the orders) 5, fixed 4; fixed by assumption, as "
        "their names are not known ones: erp, staff, store_fee (docs/metrics.md, Costs)."
    )
    known = costs.behaviour_note(breakdown[breakdown["behaviour_rule"] != costs.RULE_DEFAULT])
    assert known.endswith("fixed 1; every item is a known one, none is fixed by assumption.")
    one = costs.behaviour_note(breakdown[breakdown["item"] == "warehousing"])
    assert one.startswith("Of 1 cost item: variable (moving with the orders) 0, fixed 1;")


def _economics(margin: float, left: float) -> pd.DataFrame:
    lines = ["revenue", "variable_costs", "contribution_margin", "net_profit"]
    per_order = [100.0, 100.0 - margin, margin, left]
    return pd.DataFrame(
        {"line": lines, "per_order": per_order, "share_of_revenue": [v / 100 for v in per_order]}
    )


def test_economics_note_calls_it_profit_only_on_complete_costs():
    profit = costs.economics_note(_economics(40.0, 10.0), COMPLETE)
    assert profit == (
        "Per paid order: paid revenue 100.00, variable costs 60.00, so a contribution margin of "
        "40.00 (40.0% of paid revenue); after the fixed costs a net profit of 10.00 (10.0% of "
        "paid revenue)."
    )
    loss = costs.economics_note(_economics(40.0, -5.0), COMPLETE)
    assert loss.endswith("after the fixed costs a net loss of 5.00 (5.0% of paid revenue).")
    before = costs.economics_note(_economics(-10.0, -30.0), COMPLETE)
    assert "so a loss of 10.00 before any fixed cost;" in before
    assumed = costs.economics_note(_economics(40.0, 40.0), NO_COSTS)
    assert "margin after default cost rates (assumed) 40.00 (40.0%), which is not a profit" in (
        assumed
    )
    assert "net profit" not in assumed and "no costs table rows for the period" in assumed
    nothing = _economics(40.0, 10.0).assign(per_order=math.nan)
    assert costs.economics_note(nothing, COMPLETE).startswith("No paid orders")


def _even(orders: int, fixed: float, per_order: float) -> pd.DataFrame:
    needed = math.ceil(fixed / per_order) if per_order > 0 else math.nan
    ratio = orders / needed if per_order > 0 and needed else math.nan
    return pd.DataFrame(
        [
            {
                "orders": orders,
                "fixed_costs": fixed,
                "contribution_per_order": per_order,
                "break_even_orders": needed,
                "orders_vs_break_even": ratio,
            }
        ]
    )


def test_break_even_note_says_whether_the_fixed_costs_were_covered():
    covered = costs.break_even_note(_even(120, 1000.0, 10.0), COMPLETE)
    assert covered == (
        "120 paid orders against the 100 needed to cover the fixed costs of 1,000.00 at a "
        "contribution of 10.00 per order (1.20×): the fixed costs were covered (20 orders to "
        "spare)."
    )
    short = costs.break_even_note(_even(80, 1000.0, 10.0), COMPLETE)
    assert short.endswith("(0.80×): the fixed costs were not covered (20 orders short).")
    partial = costs.break_even_note(_even(120, 1000.0, 10.0), PARTIAL)
    assert partial.startswith("On the costs counted, 120 paid orders against the 100 needed")
    assert partial.endswith(
        "But there are no costs table rows for 2025-11: the true break-even is higher, and the "
        "verdict may not hold."
    )
    losing = costs.break_even_note(_even(80, 1000.0, -2.0), COMPLETE)
    assert losing.startswith("Each paid order loses 2.00 before fixed costs")
    unknown = costs.break_even_note(_even(80, 0.0, 10.0), NO_COSTS)
    assert unknown == (
        "No fixed cost is counted (no costs table rows), so the break-even volume is not known."
    )
    assert costs.break_even_note(_even(80, 0.0, 10.0), COMPLETE).startswith(
        "The period has no fixed costs"
    )
    assert costs.break_even_note(_even(0, 100.0, math.nan), COMPLETE).startswith("No paid orders")


def _roi(values: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "channel": ["a", "b", "c", "d"],
            "billing_model": ["CPC", "CPM", "CPS", "CPT"],
            "roi": values,
        }
    )


def test_roi_note_ranks_the_channels_both_ways():
    mixed = costs.roi_note(_roi([0.5, -0.2, 2.0, -0.5]))
    assert mixed == (
        "ROI after goods cost is positive for 2 of 4 channel and billing models, highest for "
        "c · CPS (2.00); negative, so not earning back goods and spend: d · CPT (-0.50), "
        "b · CPM (-0.20)."
    )
    reversed_ = costs.roi_note(_roi([-0.5, 0.2, -2.0, 0.5]))
    assert "positive for 2 of 4" in reversed_ and "highest for d · CPT (0.50)" in reversed_
    assert reversed_.endswith("c · CPS (-2.00), a · CPC (-0.50).")
    assert costs.roi_note(_roi([0.5, 0.2, 2.0, 0.1])).endswith("; none is negative.")
    losing = costs.roi_note(_roi([-0.5, -0.2, -2.0, math.nan]))
    assert losing.startswith("No channel and billing model earned back its goods and spend")
    assert "any of 3" in losing
    assert costs.roi_note(_roi([math.nan] * 4)).startswith("No promotion spend")


def _trend(cost: list[float]) -> pd.DataFrame:
    table = pd.DataFrame(
        {"date": pd.to_datetime(["2025-03-10", "2025-03-11"]), "gmv": [100.0, 300.0]}
    )
    table["total_cost"] = cost
    table["cost_ratio"] = table["total_cost"] / table["gmv"]
    return table


def test_cost_ratio_note_counts_the_days_above_break_even():
    above = costs.cost_ratio_note(_trend([120.0, 150.0]), COMPLETE)
    assert above == (
        "Over the period, total cost was 67.5% of GMV (amount paid); costs exceeded GMV on 1 of "
        "2 days, most on 2025-03-10 (120.0%)."
    )
    below = costs.cost_ratio_note(_trend([30.0, 240.0]), COMPLETE)
    assert below == (
        "Over the period, total cost was 67.5% of GMV (amount paid); no day's costs exceeded its "
        "GMV (of 2 days); the highest ratio was on 2025-03-11 (80.0%)."
    )
    assumed = costs.cost_ratio_note(_trend([30.0, 240.0]), NO_COSTS)
    assert assumed.startswith("Over the period, the costs counted were 67.5%")
    assert assumed.endswith("warehousing are missing: the true ratio is higher.")
    no_gmv = _trend([1.0, 1.0]).assign(gmv=0.0)
    assert costs.cost_ratio_note(no_gmv, COMPLETE) == "No GMV in the period: no cost ratio."


def _growth() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item": ["a", "b", "c", "d"],
            "growth": [2.0, 0.8, 0.2, math.nan],
            "new": [False, False, False, True],
            "cost_behaviour": ["variable", "fixed", "variable", "fixed"],
        }
    )


def test_cost_growth_note_sets_items_against_gmv():
    faster = costs.cost_growth_note(_growth(), 150.0, 100.0)
    assert faster == (
        "GMV (amount paid) grew 50.0% against the baseline; cost items that grew faster: "
        "a (+200%, variable), b (+80%, fixed). New since the baseline: d."
    )
    none = costs.cost_growth_note(_growth(), 300.0, 100.0)
    assert none == (
        "GMV (amount paid) grew 200.0% against the baseline; no cost item grew faster. New since "
        "the baseline: d."
    )
    fell = costs.cost_growth_note(_growth(), 50.0, 100.0)
    assert fell.startswith("GMV (amount paid) fell 50.0% against the baseline")
    assert "c (+20%, variable)" in fell
    assert costs.cost_growth_note(_growth(), 50.0, 0.0).startswith("No GMV in the baseline")
    capped = costs.cost_growth_note(_growth(), 101.0, 100.0, most=1)
    assert "a (+200%, variable) and 2 more." in capped
    # within a point of GMV's growth an item follows GMV (a commission at a rate, rounded)
    follows = costs.cost_growth_note(_growth(), 179.5, 100.0)
    assert follows.endswith("grew faster: a (+200%, variable). New since the baseline: d.")


# --------------------------------------------------------------------------------------------
# Business model: a retailer's revenue is the GMV, a marketplace's its commission

# 4 paid orders of A1 at 100 (unit cost 20) on 2025-03-10: GMV 400, goods 80. March's rows
# (31 days) count 2/31 in the period: store fee 20, payment fee 4, logistics 8, warehousing 20,
# staff 40; the table's commission income 10. Search spend 12 (CPC, 10 clicks).
MODEL_COSTS = ibis.memtable(
    pd.DataFrame(
        [
            (dt.date(2025, 3, 1), "platform", "store_fee", 310.0),
            (dt.date(2025, 3, 1), "platform", "payment_processing_fee", 62.0),
            (dt.date(2025, 3, 1), "platform", "platform_commission", 155.0),
            (dt.date(2025, 3, 1), "goods", "logistics", 124.0),
            (dt.date(2025, 3, 1), "goods", "warehousing", 310.0),
            (dt.date(2025, 3, 1), "people", "staff", 620.0),
        ],
        columns=["month", "component", "item", "amount"],
    )
)
MODEL_SPEND = ibis.memtable(
    pd.DataFrame(
        [(dt.date(2025, 3, 10), "search", "CPC", 100, 10, 12.0)],
        columns=["date", "channel", "billing_model", "impressions", "clicks", "spend"],
    )
)


def _shop(model: str, rate: float | None = 0.1):
    orders, items = _orders_of_one_sku(4)
    entries = costs.cost_ledger(
        orders, items, CATALOGUE, PERIOD, MODEL_COSTS, MODEL_SPEND, rate, model
    )
    revenue = costs.shop_revenue(orders, PERIOD, model, rate, MODEL_COSTS)
    economics = costs.unit_economics(entries, orders, PERIOD, revenue)
    even = costs.break_even(economics, orders, PERIOD)
    return orders, items, entries, revenue, economics, even


def test_a_retailer_sets_its_costs_against_the_gmv():
    orders, items, entries, revenue, economics, even = _shop("retailer")
    assert (revenue.total, revenue.gmv, revenue.take_rate) == (400.0, 400.0, 1.0)
    # the default: passing the retailer's Revenue changes nothing
    assert economics.equals(costs.unit_economics(entries, orders, PERIOD))
    rows = economics.set_index("line")
    assert rows.at["revenue", "label"] == "paid revenue (GMV)"
    # variable: commission 40 + payment fee 4 + promotion 12 + goods 80 + logistics 8 = 144;
    # fixed: store fee 20 + staff 40 + warehousing 20 = 80
    assert rows.loc["revenue":"goods", "amount"].tolist() == [400.0, 64.0, 12.0, 40.0, 108.0]
    assert (rows.at["variable_costs", "amount"], rows.at["fixed_costs", "amount"]) == (144.0, 80.0)
    assert rows.at["contribution_margin", "amount"] == 256.0  # 400 − 144
    assert rows.at["net_profit", "amount"] == 176.0  # 400 − 224
    # 64 per order covers the fixed 80 with ⌈80 / 64⌉ = 2 orders
    assert even.iloc[0][["contribution_per_order", "break_even_orders"]].tolist() == [64.0, 2]
    trend = costs.cost_trend(entries, gmv_daily(orders, PERIOD), revenue)
    assert "revenue" not in trend.columns  # the retailer's table is as it always was
    assert trend["total_cost"].sum() == 224.0
    # 03-10: 178 of costs (commission 40, goods 80, logistics 4, ...) on a GMV of 400
    assert costs.cost_ratio_note(trend, costs.cost_basis(entries, PERIOD)) == (
        "Over the period, total cost was 56.0% of GMV (amount paid); no day's costs exceeded its "
        "GMV (of 2 days); the highest ratio was on 2025-03-10 (44.5%)."
    )
    roi = costs.channel_roi(MODEL_SPEND, orders, items, CATALOGUE, PERIOD, revenue)
    assert list(roi.columns) == costs.ROI_COLUMNS  # no marketplace columns
    assert revenue.sentence().startswith("Business model: retailer. Revenue is paid revenue")


def test_a_marketplace_earns_its_commission_and_not_its_sellers_goods():
    orders, items, entries, revenue, economics, even = _shop("marketplace")
    # revenue: the 10% take rate of the GMV of 400; GMV stays the volume measure
    assert (revenue.total, revenue.gmv, revenue.take_rate) == (40.0, 400.0, 0.1)
    # the ledger holds no commission (its revenue) and no sellers' goods (goods 80, logistics 8)
    assert sorted(entries["item"].unique()) == [
        "payment_processing_fee",
        "promotion_search",
        "staff",
        "store_fee",
        "warehousing",
    ]
    rows = economics.set_index("line")
    assert rows.at["revenue", "label"] == "commission revenue (take rate × GMV)"
    # variable: payment fee 4 + promotion 12 = 16; fixed 80 as for the retailer
    assert rows.at["revenue", "amount"] == 40.0
    assert (rows.at["variable_costs", "amount"], rows.at["fixed_costs", "amount"]) == (16.0, 80.0)
    assert rows.at["contribution_margin", "amount"] == 24.0  # 40 − 16, 6 per order
    assert rows.at["net_profit", "amount"] == -56.0  # 40 − 96
    assert rows.at["net_profit", "share_of_revenue"] == -1.4  # of the commission, not of GMV
    # 6 per order needs ⌈80 / 6⌉ = 14 orders, not the retailer's 2
    assert even.iloc[0][["contribution_per_order", "break_even_orders"]].tolist() == [6.0, 14]
    basis = costs.cost_basis(entries, PERIOD)
    assert costs.economics_note(economics, basis, revenue) == (
        "Per paid order: commission revenue 10.00 (on a GMV of 100.00, take rate 10.0%), "
        "variable costs 4.00, so a contribution margin of 6.00 (60.0% of commission revenue); "
        "after the fixed costs a net loss of 14.00 (140.0% of commission revenue)."
    )
    assert costs.break_even_note(even, basis, revenue) == (
        "4 paid orders against the 14 needed to cover the fixed costs of 80.00 at a contribution "
        "of 6.00 per order (commission revenue less variable costs) (0.29×): the fixed costs were "
        "not covered (10 orders short)."
    )
    # cost against revenue: 03-10 costs 54 (store 10, fee 2, promotion 12, staff 20,
    # warehousing 10) on a commission of 40; 03-11 costs 42 and earns nothing
    trend = costs.cost_trend(entries, gmv_daily(orders, PERIOD), revenue)
    assert list(trend.columns[:3]) == ["date", "gmv", "revenue"]
    assert trend["revenue"].tolist() == [40.0, 0.0]
    assert trend["total_cost"].tolist() == [54.0, 42.0]
    assert trend["cost_ratio"].iloc[0] == 1.35 and math.isnan(trend["cost_ratio"].iloc[1])
    assert costs.cost_ratio_note(trend, basis) == (
        "Over the period, total cost was 240.0% of commission revenue (take rate × GMV); costs "
        "exceeded commission revenue on 1 of 2 days, most on 2025-03-10 (135.0%)."
    )
    # channel ROI: the sellers' (400 − 80 − 12) / 12, and the marketplace's (40 − 12) / 12
    roi = costs.channel_roi(MODEL_SPEND, orders, items, CATALOGUE, PERIOD, revenue).iloc[0]
    assert roi["roi"] == pytest.approx(308 / 12)
    assert roi["revenue"] == 40.0 and roi["revenue_roi"] == pytest.approx(28 / 12)
    assert costs.roi_note(pd.DataFrame([roi]), revenue) == (
        "Sellers' view (GMV less their goods): ROI after goods cost is positive for 1 of 1 "
        "channel and billing models, highest for search · CPC (25.67); none is negative. The "
        "marketplace's own return, its commission (10.0% of GMV) less the spend, is positive for "
        "1 of 1, highest for search · CPC (2.33)."
    )
    assert revenue.roi_title().startswith("Sellers' return on promotion spend")
    # every chart and sentence names the revenue and the rate as a take rate
    assert revenue.heading() == "Commission revenue (take rate × GMV)"
    assert (revenue.short, revenue.column()) == ("commission revenue", "revenue")
    assert basis.title("T", 0.1, "marketplace") == "T\n(take rate assumed at 10% of GMV)"
    assert "assumed take rate of 10% of GMV (commission_rate)" in revenue.sentence()
    assert "not one of its costs" in basis.sentence(0.1, "marketplace")


def test_a_marketplace_without_a_rate_reads_its_commission_income_from_the_costs_table():
    orders, items, entries, revenue, economics, even = _shop("marketplace", None)
    # the table's platform_commission row is income: 155 × 2/31 = 10, a take rate of 2.5%
    assert (revenue.total, revenue.take_rate) == (10.0, 0.025)
    assert "platform_commission" not in set(entries["item"])  # not also a cost
    assert revenue.label() == "commission revenue (costs table)"
    assert "read as commission income (a take rate of 2.50%)" in revenue.sentence()
    rows = economics.set_index("line")
    # 10 of revenue against 16 of variable costs: each order loses 1.50 before fixed costs
    assert rows.at["contribution_margin", "amount"] == -6.0
    assert math.isnan(even.iloc[0]["break_even_orders"])
    note = costs.break_even_note(even, costs.cost_basis(entries, PERIOD), revenue)
    assert note.startswith("Each paid order loses 1.50 (commission revenue less variable costs)")
    # no such rows: no income, said so, and the sentences do not divide by it
    none = costs.shop_revenue(orders, PERIOD, "marketplace", None, WAREHOUSE_ONLY)
    assert none.total == 0.0 and "so the revenue is 0" in none.sentence()
    empty = costs.unit_economics(entries, orders, PERIOD, none)
    assert costs.economics_note(empty, costs.cost_basis(entries, PERIOD), none) == (
        "No commission revenue in the period: each paid order only adds its variable costs of 4.00."
    )


def test_the_business_model_is_a_declared_choice():
    orders, items = _orders_of_one_sku(1)
    with pytest.raises(ValueError, match="business_model='shop'"):
        costs.shop_revenue(orders, PERIOD, "shop")
    with pytest.raises(ValueError, match="business_model"):
        costs.cost_ledger(orders, items, CATALOGUE, PERIOD, business_model="platform")
    assert (costs.RETAILER, costs.MARKETPLACE) == ("retailer", "marketplace")
    assert costs.sellers_cost("goods", "logistics") and costs.sellers_cost("goods", "damage_loss")
    assert not costs.sellers_cost("goods", "warehousing")  # a fixed fee stays the platform's
    assert not costs.sellers_cost("platform", "payment_processing_fee")


NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "05_costs.ipynb"


def test_the_costs_notebook_runs_as_a_marketplace_on_the_sample(tmp_path):
    import papermill

    out = tmp_path / "out"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(tmp_path / "05_costs.ipynb"),
        parameters={"business_model": "marketplace", "output_dir": str(out)},
        cwd=str(NOTEBOOK.parent.parent),
        progress_bar=False,
    )
    tables = out / "tables"
    economics = pd.read_csv(tables / "unit_economics.csv").set_index("line")
    trend = pd.read_csv(tables / "cost_trend.csv")
    # the revenue is the 3% take rate of the sample's GMV, day by day and in total
    assert economics.at["revenue", "label"] == "commission revenue (take rate × GMV)"
    assert trend["revenue"].to_numpy() == pytest.approx(0.03 * trend["gmv"].to_numpy(), abs=0.006)
    assert economics.at["revenue", "amount"] == pytest.approx(0.03 * trend["gmv"].sum(), abs=0.01)
    assert trend["cost_ratio"].to_numpy() == pytest.approx(
        (trend["total_cost"] / trend["revenue"]).to_numpy()
    )
    # the costs are the retailer's less the commission and the sellers' goods, item by item
    src = data.open_source(None)
    period = Period("2025-10-15", "2025-11-14", "Asia/Shanghai")
    shop = (src["orders"], src["order_items"], src["products"], period)
    retailer = costs.cost_breakdown(
        costs.cost_ledger(*shop, src.optional("costs"), src.optional("marketing_spend"))
    )
    kept = [
        item != costs.COMMISSION_ITEM and not costs.sellers_cost(component, item)
        for component, item in zip(retailer["component"], retailer["item"], strict=True)
    ]
    marketplace = pd.read_csv(tables / "cost_breakdown.csv")
    assert marketplace["item"].tolist() == retailer.loc[kept, "item"].tolist()
    assert marketplace["amount"].tolist() == retailer.loc[kept, "amount"].tolist()
    assert {"cost_of_goods_sold", "logistics", "platform_commission"}.isdisjoint(
        marketplace["item"]
    )
    roi = pd.read_csv(tables / "channel_roi.csv")
    assert list(roi.columns[-2:]) == ["revenue", "revenue_roi"]
    said = printed(tmp_path / "05_costs.ipynb")
    assert "Business model: marketplace. Revenue is the commission" in said
    assert "% of commission revenue (take rate × GMV)" in said


@pytest.mark.spark
@pytest.mark.parametrize("rate", [0.03, None])
def test_a_marketplace_gives_the_same_tables_on_duckdb_and_pyspark(rate):
    from .test_backend_parity import assert_same

    period = Period("2025-11-05", "2025-11-14", "Asia/Shanghai")
    tables = []
    for source in (data.open_source(None), data.open_source(f"spark://{data.SAMPLE_DIR}")):
        orders, spend, costs_table = source["orders"], source["marketing_spend"], source["costs"]
        shop = (orders, source["order_items"], source["products"], period)
        entries = costs.cost_ledger(*shop, costs_table, spend, rate, "marketplace")
        revenue = costs.shop_revenue(orders, period, "marketplace", rate, costs_table)
        economics = costs.unit_economics(entries, orders, period, revenue)
        tables.append(
            [
                economics,
                costs.break_even(economics, orders, period),
                costs.cost_trend(entries, gmv_daily(orders, period), revenue),
                costs.channel_roi(spend, *shop, revenue),
            ]
        )
    for duck, spark in zip(*tables, strict=True):
        assert_same(duck, spark)
    assert tables[0][0].at[0, "amount"] > 0  # a commission was earned, either way


def test_a_marketplace_without_costs_or_spend_has_no_cost_yet_its_tables_build():
    orders, items = _orders_of_one_sku(2)
    entries = costs.cost_ledger(orders, items, CATALOGUE, PERIOD, None, None, 0.1, "marketplace")
    # its only costs would be the goods and the commission, neither of them its own
    assert entries.empty and pd.api.types.is_datetime64_any_dtype(entries["date"])
    assert costs.months_without_costs(entries, PERIOD) == ["2025-03"]
    revenue = costs.shop_revenue(orders, PERIOD, "marketplace", 0.1)
    economics = costs.unit_economics(entries, orders, PERIOD, revenue).set_index("line")
    assert economics.at["revenue", "amount"] == 20.0  # 10% of 2 × 100
    assert economics.at["total_cost", "amount"] == 0.0
    assert economics.at["net_profit", "label"] == "margin after default cost rates (assumed)"
    trend = costs.cost_trend(entries, gmv_daily(orders, PERIOD), revenue)
    assert trend["revenue"].tolist() == [20.0, 0.0] and trend["total_cost"].sum() == 0.0
