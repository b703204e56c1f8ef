"""The five indicator families of the brief (五大关键指标体系), this period against the last.

Families: active users (DAU/WAU/MAU), conversion, retention, repurchase and GMV. Each indicator
comes from the module that defines it; this module only lines them up against the previous period
of equal length. ``change`` is relative (value / previous − 1), null when the previous value is 0
or missing. Indicators that need a table the source lacks are left out.
"""

from __future__ import annotations

import ibis.expr.types as ir
import pandas as pd

from lib import gmv, repurchase, retention, traffic
from lib.periods import Period

COLUMNS = ["family", "indicator", "term", "value", "previous", "change", "unit"]

# The brief's Chinese terms (README glossary), kept out of chart labels: fonts may lack CJK glyphs.
TERMS = {
    "average DAU": "日活 DAU",
    "WAU on the last day": "周活 WAU",
    "MAU on the last day": "月活 MAU",
    "period active users (UV)": "访客数 UV",
    "conversion rate (buyers / UV)": "转化率",
    "next-day retention": "次日留存",
    "7-day retention": "7日留存",
    "repeat buyers": "复购用户量",
    "repurchase rate": "复购率",
    "repeat GMV share": "复购金额占比",
    "GMV": "成交总额 GMV",
    "sales per buyer": "客单价",
    "average order value": "笔单价",
}


def _in_period(table: pd.DataFrame, column: str, period: Period) -> pd.DataFrame:
    """The rows whose local date ``column`` falls in ``period``."""
    dates = table[column]
    return table[(dates >= pd.Timestamp(period.start)) & (dates <= pd.Timestamp(period.end))]


def _indicators(
    events: ir.Table | None,
    orders: ir.Table | None,
    period: Period,
    daily_all: pd.DataFrame | None,
    cohorts_all: pd.DataFrame | None,
) -> list[tuple]:
    rows: list[tuple] = []
    if events is not None and daily_all is not None and cohorts_all is not None:
        daily = _in_period(daily_all, "date", period).reset_index(drop=True)
        rows += [
            ("active users", "average DAU", daily["dau"].mean(), "users"),
            ("active users", "WAU on the last day", float(daily["wau"].iloc[-1]), "users"),
            ("active users", "MAU on the last day", float(daily["mau"].iloc[-1]), "users"),
            (
                "active users",
                "period active users (UV)",
                float(traffic.period_active_users(events, period)),
                "users",
            ),
            ("active users", "average stickiness (DAU/MAU)", daily["stickiness"].mean(), "ratio"),
            ("active users", "new users", float(daily["new_users"].sum()), "users"),
        ]
        cohorts = _in_period(cohorts_all, "cohort_date", period)
        headline = retention.headline_retention(cohorts, days=(1, 7)).set_index("day")
        rows += [
            (
                "retention",
                "next-day retention",
                headline.loc[1, "retention_rate"],
                "ratio",
            ),
            ("retention", "7-day retention", headline.loc[7, "retention_rate"], "ratio"),
        ]
    if orders is not None:
        summary = gmv.gmv_summary(orders, period, events).iloc[0]
        if events is not None:
            rows.append(
                ("conversion", "conversion rate (buyers / UV)", summary["conversion_rate"], "ratio")
            )
        repeat = repurchase.repurchase_summary(orders, period).iloc[0]
        rows += [
            ("repurchase", "repeat buyers", float(repeat["repeat_buyers"]), "users"),
            ("repurchase", "repurchase rate", repeat["repurchase_rate"], "ratio"),
            ("repurchase", "repeat GMV share", repeat["repeat_gmv_share"], "ratio"),
            ("GMV", "GMV", summary["gmv"], "currency"),
            ("GMV", "buyers", float(summary["buyers"]), "users"),
            ("GMV", "paid orders", float(summary["orders"]), "orders"),
            ("GMV", "sales per buyer", summary["sales_per_buyer"], "currency"),
            ("GMV", "average order value", summary["aov"], "currency"),
        ]
    return rows


def indicator_summary(
    period: Period, events: ir.Table | None = None, orders: ir.Table | None = None
) -> pd.DataFrame:
    """``family, indicator, value, previous, change, unit`` for the period vs the previous one.

    The daily traffic and the daily cohorts are computed once over both periods and split by day:
    each day's numbers depend only on that day (its windows, its cohort, the data's last day), so
    the split gives what two separate runs would, with one pass over the events instead of two.
    """
    before = period.previous()
    daily_all = cohorts_all = None
    if events is not None:
        both = Period(before.start, period.end, period.timezone)
        daily_all = traffic.active_and_new_users(events, both)  # daily_traffic's columns used
        cohorts_all = retention.cohort_retention(events, both, max_day=7)
    current = _indicators(events, orders, period, daily_all, cohorts_all)
    previous = {
        row[1]: row[2] for row in _indicators(events, orders, before, daily_all, cohorts_all)
    }
    table = pd.DataFrame(
        [(family, name, value, previous.get(name), unit) for family, name, value, unit in current],
        columns=["family", "indicator", "value", "previous", "unit"],
    )
    table["value"] = table["value"].astype("float64")
    table["previous"] = table["previous"].astype("float64")
    base = table["previous"].where(table["previous"] != 0)
    table["change"] = table["value"] / base - 1
    table["term"] = table["indicator"].map(TERMS).fillna("")
    order = ["active users", "conversion", "retention", "repurchase", "GMV"]
    table["family"] = pd.Categorical(table["family"], categories=order, ordered=True)
    table = table.sort_values("family", kind="stable").reset_index(drop=True)
    table["family"] = table["family"].astype(str)
    return table[COLUMNS]
