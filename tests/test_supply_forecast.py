"""Demand forecast, backtest and reorder points (lib/supply/forecast.py), on daily series and the
shop of tests/supply_shop.py.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lib import supply

from .conftest import memtable, orders_table
from .supply_shop import (
    INVENTORY,
    ITEMS,
    ORDERS,
    PERIOD,
    PRODUCTS,
    PURCHASE_ORDERS,
)


def daily(key: str, values: list[float], first: str = "2025-03-03") -> pd.DataFrame:
    """A daily series starting on a Monday (2025-03-03)."""
    dates = pd.date_range(first, periods=len(values), freq="D")
    return pd.DataFrame({"key": key, "date": dates, "units": values})


def test_forecast_is_the_weekday_mean_without_campaign_days():
    values = [1, 2, 3, 4, 5, 6, 7] * 4
    values[10] = 100  # a campaign Thursday: above 3 × the median (4), left out
    forecast = supply.forecast_demand(daily("x", values), horizon_days=8, level_days=28)
    assert forecast["date"].iloc[0] == pd.Timestamp("2025-03-31")  # the Monday after
    assert forecast["forecast"].tolist() == pytest.approx([1, 2, 3, 4, 5, 6, 7, 1])
    # every kept day equals its weekday mean: no spread, a zero-width interval
    assert forecast["low"].tolist() == pytest.approx(forecast["forecast"].tolist())
    assert forecast["high"].tolist() == pytest.approx(forecast["forecast"].tolist())


def test_forecast_interval_from_the_spread_around_weekday_means():
    values = [2, 0, 0, 0, 0, 0, 0] * 4
    values[0], values[14] = 1, 1  # Mondays 1, 2, 1, 2: mean 1.5, residuals ∓0.5
    values[7], values[21] = 2, 2
    forecast = supply.forecast_demand(daily("x", values), horizon_days=2, interval=0.9)
    sigma = math.sqrt(4 * 0.25 / 27)  # four residuals of ±0.5 among 28, n − 1 = 27
    half = stats.norm.ppf(0.95) * sigma
    assert forecast["forecast"].tolist() == pytest.approx([1.5, 0.0])
    assert forecast["high"].tolist() == pytest.approx([1.5 + half, half])
    assert forecast["low"].tolist() == pytest.approx([1.5 - half, 0.0])  # clipped at 0


# Three weeks a day each (level_days=14, weeks=1: two weeks fit the method, the third is forecast).
# x: weeks of 2, 4, 3: the two-week mean (3) is exact, last week (4) is off by 1 a day.
X = [2] * 7 + [4] * 7 + [3] * 7
# y: weeks of 1, 5, 5: the mean (3) is off by 2 a day, last week is exact.
Y = [1] * 7 + [5] * 14
# w: a flat 6, then 0/12 alternating (mean 36/7), then a flat 6: the weekday means (3 and 9)
# miss by 3 a day, the same weekday last week by 6, last week's mean by 6/7.
W = [6] * 7 + [0, 12] * 3 + [0] + [6] * 7
# z: 0, then 10, then 1 unit in a week: every forecast but zero is far off.
Z = [0] * 7 + [10] * 7 + [1] + [0] * 6


def series(**keys: list[int]) -> pd.DataFrame:
    return pd.concat([daily(key, values) for key, values in keys.items()])


def test_backtest_wape_against_the_naive_baselines():
    table = supply.backtest_forecast(series(x=X, y=Y, w=W), weeks=1, level_days=14)
    assert table.columns.tolist() == supply.BACKTEST_COLUMNS
    table = table.set_index("key")
    x, y, w = table.loc["x"], table.loc["y"], table.loc["w"]
    assert x["wape_method"] == pytest.approx(0.0)
    assert x["wape_seasonal_naive"] == pytest.approx(7 / 21)
    assert x["wape_last_week_mean"] == pytest.approx(7 / 21)
    assert x["wape_zero"] == pytest.approx(1.0)
    assert (bool(x["beats_naive"]), bool(x["use_forecast"])) == (True, True)
    assert y["wape_method"] == pytest.approx(14 / 35)
    assert y["wape_seasonal_naive"] == pytest.approx(0.0)
    assert y["wape_last_week_mean"] == pytest.approx(0.0)
    # a tie between the naive forecasts goes to the first of BASELINES
    assert (y["best_baseline"], y["wape_best_baseline"]) == ("seasonal_naive", 0.0)
    assert (bool(y["beats_naive"]), bool(y["use_forecast"])) == (False, False)
    # w: the method beats the seasonal naive but not last week's mean
    assert w["wape_method"] == pytest.approx(21 / 42)
    assert w["wape_seasonal_naive"] == pytest.approx(42 / 42)
    assert w["wape_last_week_mean"] == pytest.approx(6 / 42)
    assert w["best_baseline"] == "last_week_mean"
    assert (bool(w["beats_naive"]), bool(w["use_forecast"])) == (True, False)
    # pooled: (0 + 14 + 21) / 98 against (7 + 0 + 42) / 98 and (7 + 0 + 6) / 98
    total = table.loc["all"]
    assert total["actual_units"] == 21 + 35 + 42
    assert total["wape_method"] == pytest.approx(35 / 98)
    assert total["wape_seasonal_naive"] == pytest.approx(49 / 98)
    assert total["wape_last_week_mean"] == pytest.approx(13 / 98)
    assert (total["best_baseline"], bool(total["use_forecast"])) == ("last_week_mean", False)


def test_backtest_worse_than_zero_and_without_sales():
    table = supply.backtest_forecast(series(z=Z, n=[0] * 21), weeks=1, level_days=14)
    z, n = table.set_index("key").loc["z"], table.set_index("key").loc["n"]
    # z: the weekday means (5) miss by 4 + 6 × 5 = 34 on 1 unit; last week (10) by 9 + 60
    assert z["wape_method"] == pytest.approx(34.0)
    assert z["wape_seasonal_naive"] == pytest.approx(69.0)
    assert z["wape_last_week_mean"] == pytest.approx(69.0)
    assert (z["best_baseline"], z["wape_best_baseline"]) == ("zero", 1.0)
    assert bool(z["use_forecast"]) is False
    # nothing sold: no WAPE, no verdict
    assert math.isnan(n["wape_method"]) and math.isnan(n["wape_zero"])
    assert pd.isna(n["use_forecast"]) and pd.isna(n["best_baseline"])
    assert n["interval_coverage"] == pytest.approx(1.0)  # 0 units inside a zero-width interval


def test_backtest_interval_coverage():
    # x: residuals ±1 around the weekday means, σ = √(14 / 13); y: ±2, σ = √(56 / 13).
    # At 50 %, z = 0.674: x's interval 3 ± 0.70 holds its 3s, y's 3 ± 1.40 misses its 5s.
    table = supply.backtest_forecast(series(x=X, y=Y), weeks=1, level_days=14, interval=0.5)
    coverage = table.set_index("key")["interval_coverage"]
    assert coverage.to_dict() == pytest.approx({"x": 1.0, "y": 0.0, "all": 0.5})
    # at 90 %, y's 3 ± 3.41 holds them too
    wide = supply.backtest_forecast(series(x=X, y=Y), weeks=1, level_days=14, interval=0.9)
    assert wide.set_index("key")["interval_coverage"].to_dict() == pytest.approx(
        {"x": 1.0, "y": 1.0, "all": 1.0}
    )


def test_backtest_verdict_recommends_the_forecast_only_where_it_beats_every_baseline():
    # pooled x, z and w: 55 / 64 against 118 / 64, 82 / 64 and zero (1): the method wins
    table = supply.backtest_forecast(series(x=X, z=Z, w=W), weeks=1, level_days=14)
    text = supply.backtest_verdict(table, "the test keys", interval=0.9)
    assert text.startswith(
        "Pooled over the test keys, the weekday mean beats every naive baseline in the backtest "
        "(WAPE 86% against 184% for last week's same weekday, 128% for last week's average day "
        "and 100% for a forecast of zero)."
    )
    assert "beats every baseline for 1 of the 3 test keys (x): use the forecast for those only" in (
        text
    )
    assert "worse than a forecast of zero for z (3400%)" in text
    assert text.endswith("its 90% interval held the actual units on 100% of the backtest days.")


def test_backtest_verdict_says_plainly_when_a_baseline_wins():
    table = supply.backtest_forecast(series(x=X, y=Y), weeks=1, level_days=14)
    text = supply.backtest_verdict(table, "the test keys")
    # pooled 14 / 56 against 7 / 56 for both naive forecasts: the seasonal naive settles the tie
    assert text.startswith(
        "Pooled over the test keys, the weekday mean does NOT beat last week's same weekday in the "
        "backtest (WAPE 25% against 12%): plan with last week's same weekday instead"
    )
    assert "for 1 of the 2 test keys (x)" in text
    nothing = supply.backtest_forecast(series(y=Y, w=W), weeks=1, level_days=14)
    text = supply.backtest_verdict(nothing, "the test keys")
    assert "for none of the 2 test keys: use it for none of them." in text
    assert "interval" not in text  # no key to use it for, nothing to say about its interval


def test_backtest_verdict_worse_than_zero_and_nothing_sold():
    alone = supply.backtest_forecast(series(z=Z), weeks=1, level_days=14)
    text = supply.backtest_verdict(alone, "z")
    assert text == (
        "Pooled over z, the weekday mean does NOT beat even a forecast of zero in the backtest "
        "(WAPE 3400% against 100%: its errors add up to at least the units sold); do not plan "
        "with it."
    )
    empty = supply.backtest_forecast(series(n=[0] * 21), weeks=1, level_days=14)
    assert "cannot be judged" in supply.backtest_verdict(empty, "n")


def test_forecast_labels_carry_each_keys_verdict():
    table = supply.backtest_forecast(series(x=X, y=Y, z=Z, n=[0] * 21), weeks=1, level_days=14)
    assert supply.forecast_labels(table) == {
        "n": "n · no sales in the backtest",
        "x": "x · WAPE 0% (use)",
        "y": "y · WAPE 40% (naive better)",
        "z": "z · WAPE 3400% (worse than zero)",
    }


def test_forecast_history_days_is_exactly_what_the_backtest_needs():
    assert supply.forecast_history_days(6) == 28 + 42  # the notebook's defaults: 70 days
    assert supply.forecast_history_days(1, level_days=14) == 21
    enough = daily("x", [1] * supply.forecast_history_days(1, level_days=14))
    assert len(supply.backtest_forecast(enough, weeks=1, level_days=14)) == 2  # x and all
    with pytest.raises(ValueError, match="needs 21 days"):
        supply.backtest_forecast(enough.iloc[1:], weeks=1, level_days=14)


def test_daily_units_fill_every_day_and_category():
    table = supply.daily_units(ORDERS, ITEMS, PRODUCTS, PERIOD.end, PERIOD.timezone, 7)
    shoes = table[table["key"] == "shoes"]
    assert shoes["date"].dt.strftime("%m-%d").tolist()[0] == "03-07"
    # 03-09: o0 (23:59 local), 03-10: o1 + o3, 03-11: o4, 03-12: o2
    assert shoes["units"].tolist() == [0, 0, 4, 4, 1, 1, 0]
    assert sorted(table["key"].unique()) == ["books", "shoes", "toys"]


def test_top_skus_by_units_paid_in_the_period():
    # in the period (Shanghai days): E 14 (o6), F 7 (o7), A 2 + 1 (o1 at local 00:00 and the
    # refunded but paid o2), B 2 + 1, C 1; o0 is paid on 03-09 local, o9 cancelled, o10 unpaid
    assert supply.top_skus(ORDERS, ITEMS, PERIOD, 4) == ["E", "F", "A", "B"]  # A, B tie: by id
    assert supply.top_skus(ORDERS, ITEMS, PERIOD, 10) == ["E", "F", "A", "B", "C"]


def test_top_keys_count_only_the_last_days_and_break_ties_by_key():
    daily = pd.DataFrame(
        {
            "date": pd.to_datetime(["2025-03-01", "2025-03-08", "2025-03-09", "2025-03-10"] * 3),
            "key": ["x"] * 4 + ["y"] * 4 + ["z"] * 4,
            # x sold most overall but only on 03-01, outside the last 3 days (03-08 … 03-10)
            "units": [100, 1, 0, 1] + [0, 2, 0, 1] + [0, 0, 0, 3],
        }
    )
    assert supply.top_keys(daily, 3, days=3) == ["y", "z", "x"]  # y 3, z 3 (tie: by key), x 2
    assert supply.top_keys(daily, 2, days=10) == ["x", "y"]  # x 102, then y and z 3 each
    assert supply.top_keys(daily.iloc[0:0], 2) == []


def test_reorder_point_formula():
    points = supply.reorder_points(
        INVENTORY,
        ORDERS,
        ITEMS,
        PRODUCTS,
        PERIOD,
        PURCHASE_ORDERS,
        velocity_days=7,
        service_level=0.95,
        default_lead_time_days=14,
    ).set_index("sku_id")
    a = points.loc["A"]
    # A's daily units over 03-07 … 03-13: 0, 0, 4, 2, 0, 1, 0
    units = np.array([0, 0, 4, 2, 0, 1, 0], dtype=float)
    lead = (7 + 10) / 2  # P4 and P6
    z = stats.norm.ppf(0.95)
    assert a["mean_daily_demand"] == pytest.approx(1.0)
    assert a["demand_std"] == pytest.approx(units.std(ddof=1))
    assert a["lead_time_days"] == pytest.approx(lead)
    assert a["lead_time_source"] == "purchase_orders"
    assert a["safety_stock"] == pytest.approx(z * units.std(ddof=1) * math.sqrt(lead))
    assert a["reorder_point"] == pytest.approx(1.0 * lead + z * units.std(ddof=1) * math.sqrt(lead))
    assert bool(a["below_reorder_point"]) is True  # 7 on hand
    assert points.loc["B", "lead_time_days"] == pytest.approx((9 + 11) / 2)
    c = points.loc["C"]
    assert (c["lead_time_days"], c["lead_time_source"]) == (14, "default")
    assert c["reorder_point"] == pytest.approx(
        1 / 7 * 14 + z * np.std([1, 0, 0, 0, 0, 0, 0], ddof=1) * math.sqrt(14)
    )
    assert bool(points.loc["D", "below_reorder_point"]) is False  # no demand: point 0
    reorder = supply.skus_to_reorder(points.reset_index())
    assert set(reorder["sku_id"]) == set(points.index[points["below_reorder_point"]])
    assert reorder["shortfall"].is_monotonic_decreasing


# Singles' Day shop, Asia/Shanghai (UTC+8): one unit at local noon on 11-06 … 11-12, except
# on 11-10, sold at 23:59 local (15:59 UTC), and on 11-11, when 10 units sell at 00:00 local
# (16:00 UTC on 11-10). By UTC days the peak would be 11-10, "the day before Singles' Day".
PEAK_ORDERS = orders_table(
    [
        (f"n{day}", "u1", f"2025-11-{day:02d} 04:00", f"2025-11-{day:02d} 04:00", "paid", 1.0)
        for day in (6, 7, 8, 9, 12)
    ]
    + [
        ("eve", "u2", "2025-11-10 15:50", "2025-11-10 15:59", "paid", 1.0),
        ("peak", "u3", "2025-11-10 15:59", "2025-11-10 16:00", "paid", 10.0),
    ]
)
PEAK_ITEMS = memtable(
    [
        {
            "order_id": order,
            "sku_id": "A",
            "quantity": 10 if order == "peak" else 1,
            "unit_price": 1.0,
        }
        for order in ("n6", "n7", "n8", "n9", "n12", "eve", "peak")
    ]
)
PEAK_PRODUCTS = memtable(
    [{"sku_id": "A", "category": "gifts", "unit_cost": 1.0, "list_price": 1.0}]
)


def test_peaks_are_local_days_named_by_the_calendar():
    end = dt.date(2025, 11, 12)
    daily = supply.daily_units(PEAK_ORDERS, PEAK_ITEMS, PEAK_PRODUCTS, end, "Asia/Shanghai", 7)
    assert daily["units"].tolist() == [1, 1, 1, 1, 1, 10, 1]  # 11-06 … 11-12, local days
    calendar = supply.calendar_days(dt.date(2025, 11, 6), end, "CN")
    peaks = supply.peak_days(daily, calendar, days=7)
    assert peaks.columns.tolist() == supply.PEAK_COLUMNS
    assert peaks["date"].tolist() == [pd.Timestamp("2025-11-11")]
    assert peaks.iloc[0][["units", "median_units", "times_median"]].tolist() == [10, 1.0, 10.0]
    assert peaks.iloc[0]["calendar"] == "Singles' Day (shopping day)"
    # the same sales in a market without Singles' Day: the peak keeps no borrowed name
    us = supply.peak_days(daily, supply.calendar_days(dt.date(2025, 11, 6), end, "US"), days=7)
    assert us.iloc[0]["calendar"] == "Veterans Day (public holiday)"
    assert supply.peaks_note(peaks, days=7) == (
        "The peaks of the last 7 days (all keys, above 3 × the median day of 1 units): "
        "2025-11-11, 10 units (10.0 ×), Singles' Day (shopping day). The forecast leaves such "
        "campaign days out."
    )


def test_peaks_are_the_largest_days_above_the_campaign_rule():
    dates = pd.date_range("2025-03-01", periods=10, freq="D")
    units = [2, 2, 2, 2, 9, 7, 2, 2, 7, 100]
    daily = pd.DataFrame({"key": "x", "date": dates, "units": units})
    calendar = pd.DataFrame(
        {"date": [pd.Timestamp("2025-03-08")], "name": ["Women's Day"], "kind": ["observance"]}
    )
    # the last 9 days: median 2, so days above 6 count; 03-01 is outside the window
    peaks = supply.peak_days(daily, calendar, days=9, n=3)
    assert peaks["date"].dt.strftime("%m-%d").tolist() == ["03-10", "03-05", "03-06"]  # 7s: by date
    assert peaks["calendar"].tolist() == [
        "2 days after Women's Day (observance)",
        "",
        "2 days before Women's Day (observance)",
    ]
    assert "2025-03-05, 9 units (4.5 ×), a day the calendar does not name" in supply.peaks_note(
        peaks, days=9
    )
    flat = daily.assign(units=2)
    assert supply.peak_days(flat, calendar).empty
    assert supply.peaks_note(supply.peak_days(flat, calendar)) == (
        "No day of the last 28 sold more than 3 × the median day: no campaign peak to name."
    )


def test_horizon_note_lists_the_calendar_days_of_the_forecast():
    calendar = supply.calendar_days(dt.date(2025, 11, 1), dt.date(2025, 12, 31), "US")
    text = supply.horizon_note(calendar, dt.date(2025, 11, 27), dt.date(2025, 12, 1), "US")
    assert text == (
        "The US calendar names 3 days in the forecast's days (2025-11-27 … 2025-12-01): "
        "2025-11-27 Thanksgiving Day (public holiday); 2025-11-28 Black Friday (shopping day); "
        "2025-12-01 Cyber Monday (shopping day). The weekday mean does not foresee them: plan "
        "these days separately."
    )
    one = supply.horizon_note(calendar, dt.date(2025, 11, 28), dt.date(2025, 11, 30), "US")
    assert one.startswith("The US calendar names 1 day in the forecast's days (2025-11-28 … ")
    quiet = supply.horizon_note(calendar, dt.date(2025, 11, 12), dt.date(2025, 11, 20), "US")
    assert quiet == (
        "The US calendar names no day in the forecast's days (2025-11-12 … 2025-11-20)."
    )
