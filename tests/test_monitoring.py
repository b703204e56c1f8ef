"""Monitoring (lib/monitoring.py): tiny series worked by hand, the two flagging rules apart,
incidents, weekly series, the issue's floors on simulated shops, and the series builders on a
tiny source across a local midnight."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from lib import data, monitoring
from lib.periods import Period
from tests.conftest import events_table, orders_table

DAY = pd.Timedelta(days=1)
START = pd.Timestamp("2025-01-01")  # a Wednesday


def rates(series: str, k: list[int], n: list[int], step: str = "") -> pd.DataFrame:
    dates = pd.date_range(START, periods=len(k), freq="D")
    return pd.DataFrame({"date": dates, "series": series, "step": step, "k": k, "n": n})


def counts(series: str, values: list[float], count: list[float] | None = None) -> pd.DataFrame:
    dates = pd.date_range(START, periods=len(values), freq="D")
    frame = pd.DataFrame({"date": dates, "series": series, "step": "", "value": values})
    frame["count"] = np.nan if count is None else count
    return frame


# --------------------------------------------------------------------------------------------
# Rate tests worked by hand


def test_a_day_against_a_pooled_baseline_by_hand() -> None:
    # 4 baseline days of 5 trials, 10 successes of 20: p0 = 0.5 (shrunk: 10.5 / 21, also 0.5)
    table = monitoring.rate_tests(
        rates("r", [2, 3, 2, 3, 0], [5, 5, 5, 5, 5]), baseline_days=4, per_weekday=False
    )
    last = table.iloc[-1]
    assert last["value"] == 0.0 and last["expected"] == 0.5
    # P(X ≤ 0) = 1/32 under Binomial(5, 0.5); two-sided: twice that
    assert last["p_value"] == pytest.approx(2 / 32)
    assert last["direction"] == "below"
    # the central 99 % interval of Binomial(5, 0.5) is 0 … 5 successes
    assert (last["lower"], last["upper"]) == (0.0, 1.0)
    # the first day has no baseline: no test
    assert math.isnan(table.iloc[0]["p_value"]) and table.iloc[0]["direction"] == ""


def test_a_day_without_trials_has_no_value_no_test_and_is_never_flagged() -> None:
    k = [5] * 30 + [0] + [5] * 5
    n = [10] * 30 + [0] + [10] * 5
    table = monitoring.rate_tests(rates("r", k, n))
    empty = table[table["n"] == 0].iloc[0]
    assert math.isnan(empty["value"]) and math.isnan(empty["p_value"])
    found = monitoring.detect(rates("r", k, n))
    assert found.alerts.empty and found.incidents.empty


def test_a_baseline_of_days_without_trials_gives_no_test() -> None:
    table = monitoring.rate_tests(rates("r", [0] * 28 + [3], [0] * 28 + [5]))
    assert table["p_value"].isna().all()
    assert monitoring.detect(rates("r", [0] * 28 + [3], [0] * 28 + [5])).alerts.empty


def test_a_first_success_after_a_baseline_without_any_is_rare_not_impossible() -> None:
    # 28 days of 25 trials and no success, then one: with p0 = 0 exactly the day would be
    # "impossible" (p = 0); shrunk by half a success it is merely unusual
    table = monitoring.rate_tests(rates("r", [0] * 28 + [1], [25] * 29), per_weekday=False)
    last = table.iloc[-1]
    assert last["expected"] == 0.0
    shrunk = 0.5 / (28 * 25 + 1)
    assert last["p_value"] == pytest.approx(2 * scipy_stats.binom.sf(0, 25, shrunk))
    assert last["p_value"] > 0.01
    assert monitoring.detect(rates("r", [0] * 28 + [1], [25] * 29)).alerts.empty


def test_one_converter_on_a_low_volume_shop_is_not_an_alert() -> None:
    # ~25 entrants a day, mostly no converter: the old median ± k·MAD band collapsed to [0, 0]
    # here and called every one-converter day "above"
    rng = np.random.default_rng(7)
    n = rng.poisson(25, 60).tolist()
    k = [0] * 60
    for day in (3, 11, 19, 30, 41, 52):
        k[day] = 1
    k[59] = 1
    found = monitoring.detect(rates("funnel_conversion", k, n))
    assert found.alerts.empty


def test_a_genuine_drop_is_flagged_below_with_its_band() -> None:
    k = [100] * 28 + [40]
    n = [200] * 29
    found = monitoring.detect(rates("payment_success", k, n), per_weekday=False)
    (alert,) = found.alerts.itertuples()
    assert alert.date == START + 28 * DAY
    assert alert.direction == "below" and alert.value == 0.2 and alert.expected == 0.5
    assert alert.p_value < 1e-15
    # the band is Binomial(200, p) quantiles / 200 with p = (2800 + 0.5) / (5600 + 1)
    shrunk = 2800.5 / 5601
    # per weekday (the default) the same, from the four Wednesdays: p = 400.5 / 801 = 0.5
    weekday = monitoring.detect(rates("payment_success", k, n)).alerts.iloc[0]
    assert weekday["upper"] == scipy_stats.binom.ppf(0.995, 200, 0.5) / 200
    assert alert.lower == scipy_stats.binom.ppf(0.005, 200, shrunk) / 200
    assert alert.upper == scipy_stats.binom.ppf(0.995, 200, shrunk) / 200
    (incident,) = found.incidents.itertuples()
    assert (incident.days, incident.observed) == (1, 40.0)
    assert incident.expected == pytest.approx(100.0)
    assert incident.impact == pytest.approx(-60.0)


def test_per_weekday_pools_only_the_same_weekday() -> None:
    # weekdays convert at 0.5, Saturdays (day 3, 10, …: 2025-01-04 was a Saturday) at 0.1
    k = [10 if (day - 3) % 7 else 2 for day in range(36)]
    table = monitoring.rate_tests(rates("r", k, [20] * 36), baseline_days=28, per_weekday=True)
    saturday = table[table["date"] == pd.Timestamp("2025-02-01")].iloc[0]
    assert saturday["expected"] == pytest.approx(0.1)  # four Saturdays, 8 of 80
    pooled = monitoring.rate_tests(rates("r", k, [20] * 36), baseline_days=28, per_weekday=False)
    assert pooled[pooled["date"] == pd.Timestamp("2025-02-01")].iloc[0]["expected"] > 0.4


# --------------------------------------------------------------------------------------------
# The two rules, apart


def test_benjamini_hochberg_by_hand() -> None:
    # m = 5, thresholds 0.01, 0.02, 0.03, 0.04, 0.05 for the sorted 0.005, 0.01, 0.03, 0.04, 0.5
    p = [0.01, 0.04, 0.03, 0.005, 0.5]
    assert monitoring.benjamini_hochberg(p, 0.05).tolist() == [True, True, True, True, False]
    # step-up: 0.011 misses its own threshold 0.01, but 0.02 ≤ 2 · 0.03 / 3 takes it along
    assert monitoring.benjamini_hochberg([0.011, 0.02, 0.9], 0.03).tolist() == [
        True,
        True,
        False,
    ]
    assert not monitoring.benjamini_hochberg([0.04, 0.045, 0.3], 0.05).any()
    # a missing p-value is no test: neither rejected nor counted (m = 2, not 3)
    assert monitoring.benjamini_hochberg([0.02, np.nan, 0.04], 0.05).tolist() == [
        True,
        False,
        True,
    ]
    assert monitoring.benjamini_hochberg([], 0.05).tolist() == []


def test_the_minimum_effect_by_hand() -> None:
    value = [1.25, 1.1, 0.0, 0.0, 1.0, np.nan, 0.7]
    expected = [1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0]
    assert monitoring.large_effect(value, expected, 0.2).tolist() == [
        True,  # +25 %
        False,  # +10 %
        False,  # 0 of 0: no change
        True,  # −100 %
        True,  # from nothing
        False,  # no value
        True,  # −30 %
    ]
    with pytest.raises(ValueError, match="min_effect"):
        monitoring.large_effect([1.0], [1.0], -0.1)


def test_a_significant_but_tiny_change_at_huge_volume_is_not_an_alert() -> None:
    k = [100_000] * 28 + [95_000]
    n = [200_000] * 29
    assert monitoring.rate_tests(rates("r", k, n)).iloc[-1]["p_value"] < 1e-40
    assert monitoring.detect(rates("r", k, n)).alerts.empty  # −5 %, below min_effect
    assert len(monitoring.detect(rates("r", k, n), min_effect=0.02).alerts) == 1


# --------------------------------------------------------------------------------------------
# Incidents


def test_incidents_from_consecutive_days() -> None:
    dates = pd.date_range(START, periods=10, freq="D")
    flagged = [False, True, True, False, True, False, False, True, True, True]
    has_value = [True, True, True, True, True, True, True, True, False, True]
    direction = ["", "below", "below", "", "below", "", "", "above", "", "below"]
    days = pd.DataFrame(
        {
            "date": dates,
            "series": "gmv",
            "step": "",
            "flagged": flagged,
            "has_value": has_value,
            "direction": direction,
            "observed": [10.0, 1, 2, 8, 3, 10, 10, 20, 0, 5],
            "expected_total": [10.0] * 10,
        }
    )
    table, ids = monitoring.incidents(days)
    assert list(table.columns) == monitoring.INCIDENT_COLUMNS
    # days 1–4: one gap day (3) between flagged days joins them; day 7 turns above; day 8 has
    # no value and neither ends nor extends; day 9 turns below again
    assert table[["start", "end", "days", "direction"]].values.tolist() == [
        [dates[1], dates[4], 4, "below"],
        [dates[7], dates[7], 1, "above"],
        [dates[9], dates[9], 1, "below"],
    ]
    first = table.iloc[0]
    assert (first["observed"], first["expected"], first["impact"]) == (14.0, 40.0, -26.0)
    assert ids.tolist() == [0, 1, 1, 1, 1, 0, 0, 2, 0, 3]


def test_alerts_and_incidents_have_the_public_columns_and_name_the_step() -> None:
    k = [8] * 28 + [1, 0, 1] + [8] * 3
    n = [10] * 34
    found = monitoring.detect(rates("step_conversion", k, n, step="purchase"))
    assert list(found.alerts.columns) == monitoring.ALERT_COLUMNS
    assert list(found.incidents.columns) == monitoring.INCIDENT_COLUMNS
    (incident,) = found.incidents.itertuples()
    assert (incident.series, incident.step, incident.direction) == (
        "step_conversion",
        "purchase",
        "below",
    )
    assert incident.start == START + 28 * DAY
    assert set(found.alerts["incident_id"]) == {incident.incident_id}


# --------------------------------------------------------------------------------------------
# Counts


def test_a_count_band_is_never_narrower_than_poisson_noise() -> None:
    # four identical Wednesdays: no empirical spread at all, yet 115 against 100 is noise
    values = [100.0 if day % 7 == 0 else 50.0 for day in range(29)]
    values[28] = 115.0
    table = monitoring.count_tests(counts("orders", values))
    last = table.iloc[-1]
    sd = math.sqrt(100) * math.sqrt(1 + 1 / 4)  # Poisson floor × the spread of a prediction
    half = scipy_stats.norm.ppf(0.995) * sd
    assert last["expected"] == 100.0
    assert (last["lower"], last["upper"]) == pytest.approx((100 - half, 100 + half))
    assert last["p_value"] >= 2 * scipy_stats.norm.sf(15 / sd)
    assert last["p_value"] > 0.1
    assert monitoring.detect(counts=counts("orders", values)).alerts.empty
    values[28] = 200.0
    (alert,) = monitoring.detect(counts=counts("orders", values)).alerts.itertuples()
    assert alert.direction == "above"


def test_a_count_needs_three_of_its_weekdays() -> None:
    table = monitoring.count_tests(counts("uv", [10.0] * 14 + [30.0]))
    assert table["p_value"].isna().all()  # 2025-01-15 has only two Wednesdays before it
    table = monitoring.count_tests(counts("uv", [10.0] * 21 + [30.0]))
    assert table["p_value"].notna().sum() == 1  # 2025-01-22 has three


def test_gmv_moves_only_with_its_orders_and_aov_has_a_floor_from_the_orders() -> None:
    orders = [4.0] * 28 + [4.0]
    gmv = [400.0] * 28 + [800.0]  # order value doubled on four orders: AOV's alert, not GMV's
    aov = [g / o for g, o in zip(gmv, orders, strict=True)]
    frame = pd.concat([counts("gmv", gmv, orders), counts("aov", aov, orders)])
    table = monitoring.count_tests(frame).set_index("series")
    assert table.loc["gmv"].iloc[-1]["p_value"] == 1.0  # 4 orders against 4 a day
    aov = table.loc["aov"].iloc[-1]
    sd = 100 / math.sqrt(4) * math.sqrt(1 + 1 / 4)
    assert aov["upper"] == pytest.approx(100 + scipy_stats.norm.ppf(0.995) * sd)


# --------------------------------------------------------------------------------------------
# Weekly


def test_weekly_series_sum_complete_iso_weeks() -> None:
    # 2025-01-01 is a Wednesday: the first week is partial; two complete weeks follow
    r = rates("r", list(range(19)), [10] * 19)
    c = pd.concat(
        [counts("orders", [2.0] * 19), counts("aov", [10.0] * 12 + [40.0] * 7, [1.0] * 19)]
    )
    weekly_rates, weekly_counts = monitoring.weekly_series(r, c)
    assert weekly_rates["date"].tolist() == [pd.Timestamp("2025-01-06"), pd.Timestamp("2025-01-13")]
    assert weekly_rates["k"].tolist() == [sum(range(5, 12)), sum(range(12, 19))]
    assert weekly_rates["n"].tolist() == [70, 70]
    by = weekly_counts.set_index(["series", "date"])["value"]
    assert by[("orders", pd.Timestamp("2025-01-06"))] == 14.0
    # the AOV of a week is its GMV over its orders: (7 · 10) / 7, then (7 · 40) / 7
    assert by[("aov", pd.Timestamp("2025-01-06"))] == 10.0
    assert by[("aov", pd.Timestamp("2025-01-13"))] == 40.0


def test_weekly_monitoring_finds_a_fall_too_small_for_days() -> None:
    # 4 trials a day at 0.75; one week at 0.25 (7 successes of 28)
    rng = np.random.default_rng(3)
    days = 7 * 10
    p = np.where((np.arange(days) >= 49) & (np.arange(days) < 56), 0.25, 0.75)
    n = np.full(days, 4)
    k = rng.binomial(n, p)
    found = monitoring.detect_weekly(rates("step_conversion", k.tolist(), n.tolist(), "purchase"))
    (incident,) = found.incidents.itertuples()
    assert incident.start == START + 47 * DAY  # the Monday of the week of day 49
    assert incident.direction == "below" and incident.days == 1


# --------------------------------------------------------------------------------------------
# The floors, on simulated shops


def simulated_shop(seed: int, days: int = 120, fall: tuple[int, int] | None = None):
    """A shop of ~25 funnel entrants a day with weekly seasonality; every series of the issue.
    ``fall``: the purchase step's conversion falls from 0.8 to 0.2 on days [a, b)."""
    rng = np.random.default_rng(seed)
    week = 1 + 0.2 * np.sin(2 * np.pi * np.arange(days) / 7)
    entrants = rng.poisson(25 * week)
    frames, reached = [], entrants
    for step, rate in (("add_to_cart", 0.3), ("begin_checkout", 0.5), ("purchase", 0.8)):
        p = np.full(days, rate)
        if fall and step == "purchase":
            p[fall[0] : fall[1]] = 0.2
        k = rng.binomial(reached, p)
        frames.append(rates("step_conversion", k.tolist(), reached.tolist(), step))
        reached = k
    frames.append(rates("funnel_conversion", reached.tolist(), entrants.tolist(), "whole"))
    paid = reached
    placed = paid + rng.binomial(paid + 1, 0.1)
    on_time = rng.binomial(paid, 0.9)
    frames += [
        rates("payment_success", paid.tolist(), placed.tolist()),
        rates("refund_rate", rng.binomial(paid, 0.05).tolist(), paid.tolist()),
        rates("on_time_shipping", on_time.tolist(), paid.tolist()),
    ]
    gmv = np.array([rng.gamma(2.0, 50.0, size=orders).sum() for orders in paid])
    aov = np.where(paid > 0, gmv / np.maximum(paid, 1), np.nan)
    amounts = [
        counts("uv", rng.poisson(40 * week).astype(float).tolist()),
        counts("orders", paid.astype(float).tolist()),
        counts("buyers", paid.astype(float).tolist()),
        counts("gmv", gmv.tolist(), paid.astype(float).tolist()),
        counts("aov", aov.tolist(), paid.astype(float).tolist()),
        counts("stockout_skus", rng.poisson(3, days).astype(float).tolist()),
        counts("late_shipments", (paid - on_time).astype(float).tolist()),
    ]
    return pd.concat(frames, ignore_index=True), pd.concat(amounts, ignore_index=True)


@pytest.mark.parametrize("seed", range(4))
def test_a_twenty_day_fall_at_25_entrants_a_day_is_one_incident_at_its_step(seed: int) -> None:
    r, c = simulated_shop(seed, fall=(60, 80))
    found = monitoring.detect(r, c, start=START + 28 * DAY)
    at_step = found.incidents[found.incidents["step"] == "purchase"]
    assert len(at_step) == 1, found.incidents
    incident = at_step.iloc[0]
    assert incident["series"] == "step_conversion" and incident["direction"] == "below"
    assert abs((incident["start"] - (START + 60 * DAY)).days) <= 3
    assert incident["impact"] < 0


@pytest.mark.parametrize("seed", range(4))
def test_the_same_shop_without_an_incident_has_at_most_one_false_incident(seed: int) -> None:
    r, c = simulated_shop(100 + seed)
    found = monitoring.detect(r, c, start=START + 28 * DAY)
    assert len(found.incidents) <= 1, found.incidents


# --------------------------------------------------------------------------------------------
# Series from a tiny source, across a local midnight


@pytest.fixture
def tiny_source() -> data.Source:
    # Asia/Shanghai is UTC+8: 15:59:59Z is 23:59:59 on the 1st, 16:00:00Z midnight of the 2nd
    events = events_table(
        [
            ("2025-03-01T15:59:59", "a", "view_item"),
            ("2025-03-01T16:10:00", "a", "purchase"),  # a entered on the 1st, bought
            ("2025-03-01T16:00:00", "b", "view_item"),  # b entered on the 2nd
            ("2025-03-01T17:00:00", "c", "view_item"),
            ("2025-03-01T17:05:00", "c", "purchase"),
        ]
    )
    orders = orders_table(
        [
            ("o1", "a", "2025-03-01T15:30:00", "2025-03-01T16:10:00", "paid", 50.0),
            ("o2", "c", "2025-03-01T16:30:00", "2025-03-01T17:05:00", "refunded", 30.0),
            ("o3", "b", "2025-03-01T16:40:00", None, "unpaid", 20.0),
        ]
    )
    return data.Source(data.duckdb_connect(), {"events": events, "orders": orders})


def test_the_series_count_local_days(tiny_source: data.Source) -> None:
    period = Period("2025-03-01", "2025-03-02", "Asia/Shanghai")
    events, orders = tiny_source.table("events"), tiny_source.table("orders")
    funnel = monitoring.funnel_series(events, period, ["view_item", "purchase"])
    funnel = funnel.set_index(["series", "date"])
    day1, day2 = pd.Timestamp("2025-03-01"), pd.Timestamp("2025-03-02")
    step = funnel.loc["step_conversion"]
    assert step.loc[day1, ["k", "n"]].tolist() == [1, 1]  # a entered at 23:59:59, bought
    assert step.loc[day2, ["k", "n"]].tolist() == [1, 2]  # b and c; c bought
    assert funnel.loc["funnel_conversion"].loc[day2, "step"] == "view_item → purchase"

    money = monitoring.order_series(orders, period).set_index(["series", "date"])
    # o1 placed at 23:30 on the 1st (paid after midnight); o2, o3 placed on the 2nd
    assert money.loc[("payment_success", day1), ["k", "n"]].tolist() == [1, 1]
    assert money.loc[("payment_success", day2), ["k", "n"]].tolist() == [1, 2]
    # refunds by local payment day: both paid on the 2nd, one refunded
    assert money.loc[("refund_rate", day1), ["k", "n"]].tolist() == [0, 0]
    assert money.loc[("refund_rate", day2), ["k", "n"]].tolist() == [1, 2]

    amounts = monitoring.count_series(period, events, orders).set_index(["series", "date"])
    assert amounts.loc[("orders", day2), "value"] == 2.0
    assert amounts.loc[("gmv", day2), ["value", "count"]].tolist() == [80.0, 2.0]
    assert amounts.loc[("aov", day2), "value"] == 40.0
    assert amounts.loc[("uv", day1), "value"] == 1.0
    assert amounts.loc[("uv", day2), "value"] == 3.0  # a bought after midnight


def test_sections_without_their_table_are_absent(tiny_source: data.Source) -> None:
    period = Period("2025-03-01", "2025-03-02", "Asia/Shanghai")
    r, c = monitoring.monitoring_series(tiny_source, period, steps=["view_item", "purchase"])
    assert set(r["series"]) == {
        "step_conversion",
        "funnel_conversion",
        "payment_success",
        "refund_rate",
    }
    assert set(c["series"]) == {"uv", "orders", "buyers", "gmv", "aov"}
    # the series start early enough for the first day's baseline
    assert r["date"].min() == pd.Timestamp("2025-03-01") - monitoring.history_days() * DAY
    found = monitoring.detect(r, c, start=period.start)
    assert list(found.alerts.columns) == monitoring.ALERT_COLUMNS
