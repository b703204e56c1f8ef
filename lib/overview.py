"""The five indicator families of the brief (五大关键指标体系), this period against a baseline.

Families: active users (DAU/WAU/MAU), conversion, retention, repurchase and GMV. Each indicator
comes from the module that defines it; this module only lines them up against the baseline chosen
by ``compare_to`` (:meth:`lib.periods.Period.baseline`: the previous period of equal length by
default, the same days a year earlier, or none). ``change`` is relative (value / previous − 1),
null when the previous value is 0 or missing. Indicators that need a table the source lacks are
left out.

Each indicator is compared only where the data covers every day of the baseline in the tables it
is computed from (:mod:`lib.comparison`: events for active users and retention, orders for
repurchase and GMV, both for conversion); otherwise ``previous`` and ``change`` are null and
``comparison`` says why (:func:`comparison_note` sums it up).
"""

from __future__ import annotations

import datetime as dt

import ibis.expr.types as ir
import pandas as pd

from lib import comparison, gmv, parameters, repurchase, retention, stats, traffic
from lib.periods import Period

COLUMNS = [
    "family",
    "indicator",
    "term",
    "value",
    "previous",
    "change",
    "unit",
    "baseline_start",
    "baseline_end",
    "baseline_days",
    "baseline_days_covered",
    "comparison",
    "change_low",
    "change_high",
    "p_value",
    "test",
]
# The tables each family is computed from: their coverage of the baseline decides the comparison.
FAMILY_TABLES = {
    "active users": ("events",),
    "retention": ("events",),
    "conversion": ("events", "orders"),
    "repurchase": ("orders",),
    "GMV": ("orders",),
}
# What the notebook shows of the table: the values, the change with its interval, the unit and
# why a change is missing (the baseline's dates are in the sentence above it; the test's p-value
# and name stay in the CSV).
SHOWN_COLUMNS = [
    *COLUMNS[: COLUMNS.index("change") + 1],
    *("change_low", "change_high", "unit", "comparison"),
]


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


def _with_baseline(table: pd.DataFrame, base: comparison.Baseline) -> pd.DataFrame:
    """The baseline columns, and ``previous`` nulled where the baseline is not fully covered."""
    table = table.copy()
    before = base.period
    table["baseline_start"] = pd.Timestamp(before.start) if before else pd.NaT
    table["baseline_end"] = pd.Timestamp(before.end) if before else pd.NaT
    table["baseline_days"] = base.days
    families = [FAMILY_TABLES[family] for family in table["family"]]
    table["baseline_days_covered"] = [base.covered_by(tables) for tables in families]
    table["comparison"] = [base.note(tables) for tables in families]
    uncompared = table["comparison"] != ""
    table.loc[uncompared, ["previous", "change_low", "change_high", "p_value"]] = float("nan")
    return table


def changes_title(compare_to: str) -> str:
    """The title of the chart of changes, naming the baseline."""
    return f"Change against {comparison.baseline_name(compare_to)}"


def comparison_note(summary: pd.DataFrame, compare_to: str) -> str:
    """One sentence on what :func:`indicator_summary` compared with, from its table."""
    if summary.empty:
        return "No indicator to compare."
    if compare_to == "none":
        return "Not compared with another period (compare_to none)."
    first = summary.iloc[0]
    name = comparison.baseline_name(compare_to)
    days = f"{first['baseline_start']:%Y-%m-%d}..{first['baseline_end']:%Y-%m-%d}"
    short = summary[summary["comparison"] != ""]
    if short.empty:
        return f"Compared with {name}, {days}, which the data covers in full."
    families = ", ".join(dict.fromkeys(short["family"]))
    covered = sorted(set(short["baseline_days_covered"]))
    counts = " or ".join(str(n) for n in covered)
    return (
        f"Compared with {name}, {days}: the data covers only {counts} of its "
        f"{int(first['baseline_days'])} days for {families}, so those changes are not shown "
        "(a partial baseline would make every number look larger now)."
    )


# How each indicator's change is tested (``test`` column); indicators not named are not tested:
# a count of distinct users over the whole period (UV, buyers) or one day's value (WAU, MAU) has no
# repeated observations to measure its noise with.
TESTS = {
    "daily": "daily values (Welch)",
    "proportion": "two proportions",
    "orders": "order amounts (Welch)",
}
Row = tuple[str, str, float, str, str, stats.Proportion | stats.Mean | None]


def _proportion(rate: float, trials: int) -> stats.Proportion | None:
    """The successes behind ``rate`` of ``trials`` (rates here are exact ratios of counts)."""
    if trials <= 0 or pd.isna(rate):
        return None
    return stats.Proportion(round(rate * trials), int(trials))


def _indicators(
    events: ir.Table | None,
    orders: ir.Table | None,
    period: Period,
    daily_all: pd.DataFrame | None,
    cohorts_all: pd.DataFrame | None,
) -> list[Row]:
    """``(family, indicator, value, unit, test, evidence)``: evidence its change is tested on."""
    rows: list[Row] = []
    # gmv_summary counts the period's visitors too (its conversion's denominator): one count of
    # them, not two, when there are orders (the same rule: traffic.period_active_users)
    summary = gmv.gmv_summary(orders, period, events).iloc[0] if orders is not None else None
    daily_test = TESTS["daily"]
    if events is not None and daily_all is not None and cohorts_all is not None:
        uv = summary["uv"] if summary is not None else traffic.period_active_users(events, period)
        daily = _in_period(daily_all, "date", period).reset_index(drop=True)
        rows += [
            (
                "active users",
                "average DAU",
                daily["dau"].mean(),
                "users",
                daily_test,
                stats.Mean.of(daily["dau"]),
            ),
            (
                "active users",
                "WAU on the last day",
                float(daily["wau"].iloc[-1]),
                "users",
                "",
                None,
            ),
            (
                "active users",
                "MAU on the last day",
                float(daily["mau"].iloc[-1]),
                "users",
                "",
                None,
            ),
            ("active users", "period active users (UV)", float(uv), "users", "", None),
            (
                "active users",
                "average stickiness (DAU/MAU)",
                daily["stickiness"].mean(),
                "ratio",
                daily_test,
                stats.Mean.of(daily["stickiness"]),
            ),
            (
                "active users",
                "new users",
                float(daily["new_users"].sum()),
                "users",
                daily_test,
                stats.Mean.of(daily["new_users"]),
            ),
        ]
        cohorts = _in_period(cohorts_all, "cohort_date", period)
        headline = retention.headline_retention(cohorts, days=(1, 7)).set_index("day")
        for day, name in ((1, "next-day retention"), (7, "7-day retention")):
            rate, users = headline.loc[day, "retention_rate"], headline.loc[day, "cohort_users"]
            evidence = _proportion(rate, users)
            rows.append(("retention", name, rate, "ratio", TESTS["proportion"], evidence))
    if orders is not None:
        if events is not None:
            rate = summary["conversion_rate"]
            evidence = _proportion(rate, int(summary["uv"]))
            name = "conversion rate (buyers / UV)"
            rows.append(("conversion", name, rate, "ratio", TESTS["proportion"], evidence))
        repeat = repurchase.repurchase_summary(orders, period).iloc[0]
        repeat_evidence = stats.Proportion(int(repeat["repeat_buyers"]), int(repeat["buyers"]))
        per_day = gmv.gmv_daily(orders, period)  # without events: no second count of visitors
        rows += [
            ("repurchase", "repeat buyers", float(repeat["repeat_buyers"]), "users", "", None),
            (
                "repurchase",
                "repurchase rate",
                repeat["repurchase_rate"],
                "ratio",
                TESTS["proportion"],
                repeat_evidence,
            ),
            ("repurchase", "repeat GMV share", repeat["repeat_gmv_share"], "ratio", "", None),
            ("GMV", "GMV", summary["gmv"], "currency", daily_test, stats.Mean.of(per_day["gmv"])),
            ("GMV", "buyers", float(summary["buyers"]), "users", "", None),
            (
                "GMV",
                "paid orders",
                float(summary["orders"]),
                "orders",
                daily_test,
                stats.Mean.of(per_day["orders"]),
            ),
            ("GMV", "sales per buyer", summary["sales_per_buyer"], "currency", "", None),
            (
                "GMV",
                "average order value",
                summary["aov"],
                "currency",
                TESTS["orders"],
                gmv.order_amounts(orders, period),
            ),
        ]
    return rows


def indicator_summary(
    period: Period,
    events: ir.Table | None = None,
    orders: ir.Table | None = None,
    compare_to: str = parameters.default("compare_to"),
) -> pd.DataFrame:
    """``family, indicator, term, value, previous, change, unit, baseline_start, baseline_end,
    baseline_days, baseline_days_covered, comparison`` for the period against its baseline.

    ``comparison`` is empty for a compared indicator, else says why it is not compared (no
    baseline, or one the data covers on fewer than all its days; module docstring).

    With a previous period, the daily traffic and cohorts are computed once over both periods and
    split by day: each day's numbers depend only on that day (its windows, its cohort, the data's
    last day), so the split gives what two separate runs would, with one pass over the events.
    """
    base = comparison.baseline(period, compare_to, {"events": events, "orders": orders})
    before = base.period
    adjacent = before is not None and before.end + dt.timedelta(days=1) == period.start
    daily_all = cohorts_all = daily_before = cohorts_before = None
    if events is not None:
        span = Period(before.start, period.end, period.timezone) if adjacent else period
        daily_all = traffic.active_and_new_users(events, span)  # daily_traffic's columns used
        cohorts_all = retention.cohort_retention(events, span, max_day=7)
        daily_before, cohorts_before = daily_all, cohorts_all
        if before is not None and not adjacent:
            daily_before = traffic.active_and_new_users(events, before)
            cohorts_before = retention.cohort_retention(events, before, max_day=7)
    current = _indicators(events, orders, period, daily_all, cohorts_all)
    previous: dict[str, tuple[float, stats.Proportion | stats.Mean | None]] = {}
    if before is not None:
        rows = _indicators(events, orders, before, daily_before, cohorts_before)
        previous = {row[1]: (row[2], row[5]) for row in rows}
    records = []
    for family, name, value, unit, test, evidence in current:
        before_value, before_evidence = previous.get(name, (None, None))
        change = stats.relative_change(evidence, before_evidence)
        records.append(
            (family, name, value, before_value, unit, change.low, change.high, change.p_value, test)
        )
    table = pd.DataFrame(
        records,
        columns=[
            "family",
            "indicator",
            "value",
            "previous",
            "unit",
            "change_low",
            "change_high",
            "p_value",
            "test",
        ],
    )
    table["value"] = table["value"].astype("float64")
    table["previous"] = table["previous"].astype("float64")
    table = _with_baseline(table, base)
    base = table["previous"].where(table["previous"] != 0)
    table["change"] = table["value"] / base - 1
    table["term"] = table["indicator"].map(TERMS).fillna("")
    order = ["active users", "conversion", "retention", "repurchase", "GMV"]
    table["family"] = pd.Categorical(table["family"], categories=order, ordered=True)
    table = table.sort_values("family", kind="stable").reset_index(drop=True)
    table["family"] = table["family"].astype(str)
    return table[COLUMNS]
