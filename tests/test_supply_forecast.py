"""Demand forecast, backtest and reorder points (lib/supply/forecast.py), on daily series and the
shop of tests/supply_shop.py.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lib import supply

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


def test_backtest_wape_against_the_seasonal_naive():
    # x: weeks of 2, 4, 3 a day: the two-week mean (3) is exact, last week (4) is off by 1 a day
    # y: weeks of 1, 5, 5: the mean (3) is off by 2 a day, last week is exact
    series = pd.concat([daily("x", [2] * 7 + [4] * 7 + [3] * 7), daily("y", [1] * 7 + [5] * 14)])
    table = supply.backtest_forecast(series, weeks=1, level_days=14).set_index("key")
    assert table.loc["x", "wape_method"] == pytest.approx(0.0)
    assert table.loc["x", "wape_seasonal_naive"] == pytest.approx(7 / 21)
    assert bool(table.loc["x", "beats_naive"]) is True
    assert table.loc["y", "wape_method"] == pytest.approx(14 / 35)
    assert table.loc["y", "wape_seasonal_naive"] == pytest.approx(0.0)
    assert bool(table.loc["y", "beats_naive"]) is False
    # pooled: (0 + 14) / 56 against (7 + 0) / 56
    assert table.loc["all", "wape_method"] == pytest.approx(14 / 56)
    assert table.loc["all", "wape_seasonal_naive"] == pytest.approx(7 / 56)
    assert "does NOT beat" in supply.backtest_verdict(table.reset_index(), "the test")


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
