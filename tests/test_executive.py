"""The executive summary: relative changes with intervals (lib.stats), the rule that lists them
(lib.executive), the purchase-events-against-orders check (lib.quality), and shops where the
answer is known."""

from __future__ import annotations

import math

import ibis
import numpy as np
import pandas as pd
import pytest

from lib import data, executive, overview, quality, stats
from lib.periods import Period

from .conftest import events_table, orders_table

# --------------------------------------------------------------------------------------------
# Relative changes, worked by hand


def test_proportion_change_by_hand():
    # 20 of 100 against 10 of 100: ratio 2; se(log) = sqrt(1/20 - 1/100 + 1/10 - 1/100)
    # = sqrt(0.13) = 0.360555; z = 1.959964; log 2 / se = 1.92243 -> p = 0.05455
    found = stats.proportion_change(stats.Proportion(20, 100), stats.Proportion(10, 100))
    assert found.change == pytest.approx(1.0)
    assert found.low == pytest.approx(math.exp(0.693147 - 1.959964 * 0.360555) - 1, abs=1e-5)
    assert found.high == pytest.approx(math.exp(0.693147 + 1.959964 * 0.360555) - 1, abs=1e-5)
    assert found.low == pytest.approx(-0.01343, abs=1e-4)
    assert found.p_value == pytest.approx(0.05455, abs=1e-4)


def test_mean_change_by_hand():
    # [2, 4, 6] (mean 4, variance 4) against [1, 2, 3] (mean 2, variance 1): both terms of the
    # log ratio's variance are 4/(3*16) = 1/(3*4) = 1/12, se = sqrt(1/6) = 0.408248, Welch's
    # degrees of freedom (1/6)^2 / (2 * (1/12)^2 / 2) = 4, t(0.975, 4) = 2.776445,
    # t = log 2 / se = 1.697857 -> p = 0.16484
    found = stats.mean_change(stats.Mean.of([2, 4, 6]), stats.Mean.of([1, 2, 3]))
    assert found.change == pytest.approx(1.0)
    assert found.low == pytest.approx(math.exp(0.693147 - 2.776445 * 0.408248) - 1, abs=1e-5)
    assert found.high == pytest.approx(math.exp(0.693147 + 2.776445 * 0.408248) - 1, abs=1e-5)
    assert found.p_value == pytest.approx(0.16484, abs=1e-4)


@pytest.mark.parametrize(
    ("current", "previous"),
    [
        (stats.Proportion(0, 100), stats.Proportion(10, 100)),  # no success: log undefined
        (stats.Proportion(5, 4), stats.Proportion(1, 4)),  # more successes than trials
        (stats.Proportion(4, 4), stats.Proportion(3, 3)),  # all succeed: nothing to test
        (stats.Mean.of([3.0]), stats.Mean.of([1.0, 2.0])),  # one observation
        (stats.Mean.of([0.0, 0.0]), stats.Mean.of([1.0, 2.0])),  # mean 0
        (stats.Mean.of([2.0, 2.0]), stats.Mean.of([1.0, 1.0])),  # no variation
        (stats.Mean.of([2.0, 3.0]), stats.Proportion(1, 2)),  # different kinds
    ],
)
def test_undefined_changes(current, previous):
    found = stats.relative_change(current, previous)
    assert math.isnan(found.change) and math.isnan(found.p_value) and math.isnan(found.low)


def test_interval_excludes_no_change_exactly_when_significant():
    rng = np.random.default_rng(3)
    for _ in range(200):
        n1, n0 = rng.integers(20, 400, size=2)
        k1, k0 = rng.integers(1, n1), rng.integers(1, n0)
        found = stats.proportion_change(stats.Proportion(k1, n1), stats.Proportion(k0, n0))
        assert (found.low > 0 or found.high < 0) == (found.p_value < 0.05)
        a, b = rng.gamma(2, 50, size=int(rng.integers(2, 30))), rng.gamma(2, 60, size=14)
        found = stats.mean_change(stats.Mean.of(a), stats.Mean.of(b))
        assert (found.low > 0 or found.high < 0) == (found.p_value < 0.05)


# --------------------------------------------------------------------------------------------
# Which changes are listed


def _indicators(rows: list[tuple]) -> pd.DataFrame:
    """An overview table from ``(indicator, family, value, previous, p_value, comparison)``."""
    frame = pd.DataFrame(
        rows, columns=["indicator", "family", "value", "previous", "p_value", "comparison"]
    )
    frame["change"] = frame["value"] / frame["previous"] - 1
    frame["change_low"] = frame["change"] - 0.01
    frame["change_high"] = frame["change"] + 0.01
    frame["unit"] = "users"
    frame["test"] = np.where(frame["p_value"].notna(), "daily values (Welch)", "")
    return frame


def test_listed_changes_rank_by_log_size_and_drop_noise():
    table = _indicators(
        [
            ("halved", "GMV", 50.0, 100.0, 0.001, ""),  # |log 0.5| = 0.69
            ("rose 60 %", "GMV", 160.0, 100.0, 0.001, ""),  # log 1.6 = 0.47: ranks second
            ("tiny", "GMV", 102.0, 100.0, 0.001, ""),  # significant but below 5 %
            ("noisy", "GMV", 300.0, 100.0, 0.4, ""),  # large but not significant
            ("partial", "GMV", 400.0, 100.0, 0.001, "previous period covers 3 of 7 days"),
            ("untested", "GMV", 500.0, 100.0, float("nan"), ""),
        ]
    )
    listed = executive.significant_changes(table, min_change=0.05, max_items=7)
    assert listed["indicator"].tolist() == ["halved", "rose 60 %"]
    # Benjamini-Hochberg over the four tested and compared: p = 0.001 ranks 1..3, 0.4 rank 4
    assert listed["p_adjusted"].tolist() == pytest.approx([0.001 * 4 / 3] * 2)
    assert executive.significant_changes(table, 0.05, 1)["indicator"].tolist() == ["halved"]


def test_false_discovery_control_drops_a_lone_weak_p_value_among_many():
    rows = [(f"flat {i}", "GMV", 100.0 + i, 100.0, 0.9, "") for i in range(9)]
    table = _indicators([*rows, ("weak", "GMV", 130.0, 100.0, 0.02, "")])
    # alone p = 0.02 < 0.05, but 0.02 * 10 / 1 = 0.2 after the adjustment
    assert executive.significant_changes(table).empty


def test_sentence_and_link():
    row = pd.Series(
        {
            "indicator": "GMV",
            "family": "GMV",
            "value": 902679.96,
            "previous": 371727.99,
            "change": 1.428,
            "change_low": 0.4788,
            "change_high": 2.9875,
            "unit": "currency",
        }
    )
    assert executive.change_sentence(row) == (
        "GMV rose 143 % (371,728 → 902,680; 95 % interval +48 % to +299 %)."
    )
    row.update({"indicator": "next-day retention", "unit": "ratio", "value": 0.25})
    row.update({"previous": 0.3, "change": -1 / 6, "change_low": -0.25, "change_high": -0.08})
    assert executive.change_sentence(row) == (
        "Next-day retention fell 17 % (30.0 % → 25.0 %; 95 % interval −25 % to −8.0 %)."
    )
    assert executive.section_link("retention") == "03_retention.ipynb#Cohort-retention-(留存率)"


def test_summary_notes_and_warnings():
    quiet = _indicators([("flat", "GMV", 101.0, 100.0, 0.8, "")])
    table = executive.executive_summary(quiet, "previous_period", ["The data does not cover"])
    assert table["kind"].tolist() == ["note", "warning"]
    assert table["sentence"].iloc[0].startswith("No indicator moved beyond its noise")
    assert "(1 tested;" in table["sentence"].iloc[0]
    none = executive.executive_summary(quiet, "none")
    assert none["sentence"].tolist() == [
        "Not compared with another period (compare_to none): no change is listed."
    ]
    moved = _indicators([("DAU", "active users", 200.0, 100.0, 0.001, "")])
    table = executive.executive_summary(moved, "previous_period")
    assert table[["rank", "kind", "indicator"]].values.tolist() == [[1, "change", "DAU"]]
    assert table["section"].iloc[0].startswith("01_traffic.ipynb#Active-users")
    assert list(table.columns) == executive.COLUMNS


def test_warnings_name_a_partial_baseline_and_a_disagreement():
    table = _indicators([("DAU", "active users", 200.0, 100.0, 0.001, "covers 3 of 7 days")])
    table["baseline_start"] = pd.Timestamp("2025-03-01")
    table["baseline_end"] = pd.Timestamp("2025-03-07")
    table["baseline_days"] = 7
    table["baseline_days_covered"] = 3
    reconciliation = pd.DataFrame(
        {
            "date": pd.to_datetime(["2025-03-08"]),
            "purchase_events": [50],
            "payments": [100],
            "gap": [-50],
            "gap_share": [-0.5],
        }
    )
    found = executive.warnings(table, "previous_period", "", reconciliation)
    assert len(found) == 2
    assert "covers only 3 of its 7 days" in found[0]
    assert found[1].startswith("Purchase events and orders disagree: 50 purchase events")
    assert executive.warnings(table, "none") == []


# --------------------------------------------------------------------------------------------
# Purchase events against payments, across a local midnight


def test_purchase_reconciliation_by_local_day():
    period = Period("2025-03-01", "2025-03-02", "Asia/Shanghai")
    events = events_table(
        [
            ("2025-02-28 15:30", "a", "page_view"),  # local 02-28 23:30: outside
            ("2025-02-28 16:30", "a", "purchase"),  # local 03-01 00:30
            ("2025-03-01 16:01", "b", "purchase"),  # local 03-02 00:01
        ]
    )
    orders = orders_table(
        [
            ("o1", "a", "2025-02-28 16:29", "2025-02-28 16:30", "paid", 10.0),
            # paid at local 03-01 23:59, its purchase event logged after midnight: one each day
            ("o2", "b", "2025-03-01 15:58", "2025-03-01 15:59", "cancelled", 20.0),
            ("o3", "c", "2025-03-01 15:00", None, "unpaid", 30.0),
        ]
    )
    table = quality.purchase_reconciliation(events, orders, period)
    assert table[["purchase_events", "payments", "gap"]].values.tolist() == [[1, 2, -1], [1, 0, 1]]
    assert table["gap_share"].iloc[0] == -0.5 and pd.isna(table["gap_share"].iloc[1])
    text, disagree = quality.reconciliation_note(table)
    assert not disagree  # the totals agree, and no day has 20 or more
    assert text.startswith("Purchase events and orders agree: 2 purchase events against 2")


def test_reconciliation_flags_a_busy_day_that_is_off():
    table = pd.DataFrame(
        {
            "date": pd.to_datetime(["2025-03-01", "2025-03-02"]),
            "purchase_events": [100, 70],
            "payments": [70, 100],
        }
    )
    table["gap"] = table["purchase_events"] - table["payments"]
    text, disagree = quality.reconciliation_note(table)
    assert disagree  # totals agree; both days are 30 off
    assert "2 day(s) differ by more than 10%" in text
    assert quality.reconciliation_note(table.assign(purchase_events=0, gap=-70))[1]


# --------------------------------------------------------------------------------------------
# Shops where the answer is known


def _shop(conversion_before: float, conversion_after: float, seed: int = 7):
    """84 UTC days from 02-01 (the baseline 03-01..03-28 and the period 03-29..04-25 are the
    last 56, after a month that fills MAU), 300 new visitors a day, each buying once at the
    conversion of the period (one order of 100 ± 20): traffic is flat, only conversion changes."""
    rng = np.random.default_rng(seed)
    events, orders = [], []
    start = pd.Timestamp("2025-02-01 10:00")
    for day in range(84):
        rate = conversion_before if day < 56 else conversion_after
        for i in range(int(rng.poisson(300))):
            user = f"u{day}-{i}"
            time = start + pd.Timedelta(days=day, minutes=i)
            events.append((str(time), user, "page_view"))
            if rng.random() < rate:
                paid = time + pd.Timedelta(minutes=1)
                events.append((str(paid), user, "purchase"))
                amount = float(rng.normal(100, 20))
                orders.append((f"o{day}-{i}", user, str(time), str(paid), "paid", amount))
    return events_table(events), orders_table(orders)


@pytest.mark.parametrize(("before", "after", "listed"), [(0.10, 0.05, True), (0.08, 0.08, False)])
def test_known_shops(before, after, listed):
    events, orders = _shop(before, after)
    period = Period("2025-03-29", "2025-04-25", "UTC")
    table = overview.indicator_summary(period, events, orders)
    summary = executive.executive_summary(table, "previous_period")
    changes = summary[summary["kind"] == "change"]
    if listed:
        # conversion halved, and so did buyers' GMV and orders; visitors did not move
        assert "conversion rate (buyers / UV)" in set(changes["indicator"])
        row = changes.set_index("indicator").loc["conversion rate (buyers / UV)"]
        assert row["change_low"] < -0.5 < row["change_high"]
        assert {"GMV", "paid orders"} <= set(changes["indicator"])
    else:
        assert changes.empty
        assert summary["sentence"].iloc[0].startswith("No indicator moved beyond its noise")
    assert "average DAU" not in set(changes["indicator"])
    assert "average order value" not in set(changes["indicator"])


def test_sample_lists_the_singles_day_surge():
    """The sample's documented surge (11-10 and 11-11 inside 10-15..11-14) lifts GMV."""
    source = data.open_source(None)
    period = Period("2025-10-15", "2025-11-14", "Asia/Shanghai")
    table = overview.indicator_summary(period, source["events"], source["orders"])
    changes = executive.significant_changes(table)
    assert {"GMV", "paid orders", "conversion rate (buyers / UV)"} <= set(changes["indicator"])
    assert (changes["change"] > 0).all()


def test_money_in_a_sentence_names_the_currency():
    row = pd.Series(
        {
            "indicator": "average order value",
            "value": 250.0,
            "previous": 200.0,
            "change": 0.25,
            "change_low": 0.1,
            "change_high": 0.4,
            "unit": "currency",
        }
    )
    assert executive.change_sentence(row, "CNY") == (
        "Average order value rose 25 % (CNY 200 → CNY 250; 95 % interval +10 % to +40 %)."
    )


def test_purchase_reconciliation_by_item_where_events_name_the_sku():
    period = Period("2025-03-01", "2025-03-01", "UTC")
    events = events_table(
        [
            ("2025-03-01 10:00", "a", "purchase", None, "s1"),
            ("2025-03-01 10:00", "a", "purchase", None, "s2"),
            ("2025-03-01 11:00", "b", "purchase", None, "s1"),
            ("2025-03-01 12:00", "c", "purchase", None, "s3"),  # no order line of s3
        ]
    )
    orders = orders_table(
        [
            ("o1", "a", "2025-03-01 09:59", "2025-03-01 10:00", "paid", 10.0),
            ("o2", "b", "2025-03-01 10:59", "2025-03-01 11:00", "refunded", 5.0),
            ("o3", "d", "2025-02-28 10:00", "2025-02-28 10:01", "paid", 5.0),  # before
        ]
    )
    items = ibis.memtable(
        pd.DataFrame(
            {
                "order_id": ["o1", "o1", "o2", "o3"],
                "sku_id": ["s1", "s2", "s1", "s1"],
                "quantity": [1, 1, 1, 1],
                "unit_price": [5.0, 5.0, 5.0, 5.0],
            }
        )
    )
    table = quality.purchase_reconciliation_by_item(events, orders, items, period)
    assert table.values.tolist() == [["s3", 1, 0, 1], ["s1", 2, 2, 0], ["s2", 1, 1, 0]]
    assert quality.item_reconciliation_note(table) == (
        "Per item, purchase events and paid order lines differ for 1 of 3 SKUs, most for s3 "
        "(1 events against 0 lines)."
    )
    unnamed = events_table([("2025-03-01 10:00", "a", "purchase")])
    empty = quality.purchase_reconciliation_by_item(unnamed, orders, items, period)
    assert empty.empty
    assert quality.item_reconciliation_note(empty) == (
        "The purchase events name no SKU: no check per item."
    )
