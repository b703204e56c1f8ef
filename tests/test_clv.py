"""Customer lifetime value (lib/clv.py): the summary on tiny orders worked out by hand, the
BG/NBD and Gamma-Gamma fits against their published CDNOW estimates, and the validation table on
a simulated shop whose buyers follow the BG/NBD process.

Shanghai is UTC+8 all year: local midnight is 16:00 UTC the day before.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

from lib import clv
from lib.periods import Period

from .conftest import FIXTURES, orders_table

CDNOW = FIXTURES / "cdnow"
MARCH = Period("2025-03-01", "2025-03-31", "Asia/Shanghai")

# (order_id, user_id, order_time, paid_time, status, paid_amount); times UTC
ORDERS = [
    # u1: two orders on local 03-01 (one purchase day worth 15), a refunded one on 03-08 (still
    # paid), one on 03-15, and one paid after the end (local 04-01 00:30): not counted
    ("o1", "u1", "2025-03-01 01:55", "2025-03-01 02:00", "paid", 10.0),
    ("o2", "u1", "2025-03-01 09:55", "2025-03-01 10:00", "paid", 5.0),
    ("o3", "u1", "2025-03-08 00:55", "2025-03-08 01:00", "refunded", 20.0),
    ("o4", "u1", "2025-03-15 02:55", "2025-03-15 03:00", "paid", 30.0),
    ("o5", "u1", "2025-03-31 16:25", "2025-03-31 16:30", "paid", 99.0),
    # u2: one purchase day
    ("o6", "u2", "2025-03-20 03:55", "2025-03-20 04:00", "paid", 50.0),
    # u3: one UTC day, two local days (23:59 on 03-09 and 00:01 on 03-10 in Shanghai)
    ("o7", "u3", "2025-03-09 15:50", "2025-03-09 15:59", "paid", 8.0),
    ("o8", "u3", "2025-03-09 15:55", "2025-03-09 16:01", "paid", 12.0),
    # u4: a cancelled order, even with a payment time; u5: never paid
    ("o9", "u4", "2025-03-05 01:00", "2025-03-05 01:05", "cancelled", 40.0),
    ("o10", "u5", "2025-03-05 01:00", None, "created", 40.0),
    # u6: first purchase on the last local day (23:30 on 03-31): T = 0
    ("o11", "u6", "2025-03-31 15:25", "2025-03-31 15:30", "paid", 7.0),
]

# by hand, in days
EXPECTED_DAYS = pd.DataFrame(
    [
        ("u1", 2, 14.0, 30.0, 25.0),  # days 03-01, 03-08, 03-15; (20 + 30) / 2
        ("u2", 0, 0.0, 11.0, math.nan),
        ("u3", 1, 1.0, 22.0, 12.0),  # first day 03-09; 03-31 − 03-09 = 22
        ("u6", 0, 0.0, 0.0, math.nan),
    ],
    columns=clv.SUMMARY_COLUMNS,
)


def test_import_is_cheap() -> None:
    code = "import sys, lib.clv; print(any(m.startswith('scipy') for m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
    )
    assert out.stdout.strip() == "False"


def test_summary_by_hand_in_days() -> None:
    summary = clv.customer_summary(orders_table(ORDERS), MARCH, time_unit="day")
    pd.testing.assert_frame_equal(summary, EXPECTED_DAYS, check_dtype=False)
    assert summary["frequency"].dtype == "int64"


def test_summary_in_weeks() -> None:
    summary = clv.customer_summary(orders_table(ORDERS), MARCH)  # week is the default
    expected = EXPECTED_DAYS.assign(recency=EXPECTED_DAYS["recency"] / 7, T=EXPECTED_DAYS["T"] / 7)
    pd.testing.assert_frame_equal(summary, expected, check_dtype=False)


def test_summary_in_utc_merges_the_shanghai_days() -> None:
    """In UTC u3's two orders fall on one day: a single purchase."""
    utc = Period("2025-03-01", "2025-03-31", "UTC")
    summary = clv.customer_summary(orders_table(ORDERS), utc, time_unit="day")
    u3 = summary.set_index("user_id").loc["u3"]
    assert (u3["frequency"], u3["recency"], u3["T"]) == (0, 0.0, 22.0)
    assert math.isnan(u3["monetary_value"])
    # in UTC o5 (16:30 on 03-31) is on the last day: u1 has a fourth purchase day worth 99
    u1 = summary.set_index("user_id").loc["u1"]
    assert (u1["frequency"], u1["monetary_value"]) == (3, (20 + 30 + 99) / 3)


def test_unknown_time_unit() -> None:
    with pytest.raises(ValueError, match="time_unit='month' must be one of day, week"):
        clv.customer_summary(orders_table(ORDERS), MARCH, time_unit="month")


def test_gamma_gamma_leaves_out_single_purchases_and_zero_amounts() -> None:
    summary = EXPECTED_DAYS.copy()
    summary.loc[len(summary)] = ("u7", 1, 3.0, 5.0, 0.0)  # a free repeat purchase
    assert list(clv.gamma_gamma_customers(summary)["user_id"]) == ["u1", "u3"]


# --------------------------------------------------------------------------------------------
# CDNOW (Fader, Hardie and Lee 2005)


def cdnow_orders() -> ibis.Table:
    """The CDNOW purchases as paid orders at UTC midnight of their day."""
    raw = pd.read_csv(
        CDNOW / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "user_id", "date", "cds", "amount"],
        dtype={"date": str},
    )
    paid = pd.to_datetime(raw["date"], format="%Y%m%d")
    return orders_table(
        list(
            zip(
                raw.index.astype(str),
                raw["user_id"].astype(str),
                paid,
                paid,
                ["paid"] * len(raw),
                raw["amount"],
                strict=True,
            )
        )
    )


def published_summary() -> pd.DataFrame:
    table = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")
    return pd.DataFrame(
        {
            "user_id": table["ID"].astype(str),
            "frequency": table["x"],
            "recency": table["t_x"],
            "T": table["T"],
            "monetary_value": table["zbar"].where(table["x"] > 0),
        }
    )


def test_cdnow_summary_matches_the_published_one() -> None:
    """39 weeks of calibration: 1997-01-01 to 1997-09-30, in weeks."""
    calibration = Period("1997-01-01", "1997-09-30", "UTC")
    ours = clv.customer_summary(cdnow_orders(), calibration).set_index("user_id")
    published = published_summary().set_index("user_id").loc[ours.index]
    assert len(ours) == 2357
    assert (ours["frequency"] == published["frequency"]).all()
    for column in ("recency", "T"):  # published rounded to 2 decimals
        assert (ours[column] - published[column]).abs().max() <= 0.005 + 1e-9
    repeat = ours["frequency"] > 0
    assert ours.loc[~repeat, "monetary_value"].isna().all()
    gap = (ours.loc[repeat, "monetary_value"] - published.loc[repeat, "monetary_value"]).abs()
    assert gap.max() <= 0.005 + 1e-9


def test_cdnow_bgnbd_parameters_within_2_percent_of_the_paper() -> None:
    fitted = clv.fit_bgnbd(published_summary())
    paper = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in paper.items():
        assert fitted.parameters()[name] == pytest.approx(value, rel=0.02), name


def test_cdnow_gamma_gamma_parameters_within_2_percent_of_the_note() -> None:
    """Fader and Hardie (2013), note 025: p = 6.25, q = 3.74, γ = 15.44."""
    fitted = clv.fit_gamma_gamma(published_summary())
    for name, value in {"p": 6.25, "q": 3.74, "v": 15.44}.items():
        assert fitted.parameters()[name] == pytest.approx(value, rel=0.02), name


def test_cdnow_predictions_of_the_paper() -> None:
    """The paper's customer (x = 2, t_x = 30.43, T = 38.86) is expected to make 1.226 purchases
    in the next 39 weeks, with the paper's parameters."""
    model = clv.BgNbd(r=0.243, alpha=4.414, a=0.793, b=2.426)
    expected = model.expected_purchases(39, [2], [30.43], [38.86])
    assert expected[0] == pytest.approx(1.226, abs=0.001)
    # a customer without a repeat purchase is alive for sure (BG/NBD drops out after purchases)
    assert model.p_alive([0], [0.0], [38.86])[0] == 1.0


def test_cdnow_tables() -> None:
    calibration = Period("1997-01-01", "1997-09-30", "UTC")
    table, model = clv.lifetime_value(cdnow_orders(), calibration, horizon_days=273)
    assert list(table.columns) == clv.CLV_COLUMNS
    assert list(model.columns) == clv.MODEL_COLUMNS
    assert list(model["parameter"]) == ["r", "alpha", "a", "b", "p", "q", "v"]
    assert len(table) == 2357 and table["expected_value"].notna().all()
    assert table["expected_value"].is_monotonic_decreasing
    assert ((table["p_alive"] > 0) & (table["p_alive"] <= 1)).all()
    # the paper's customer 1 (x = 2, t_x = 30.43 weeks) as in test_cdnow_predictions_of_the_paper
    first = table.set_index("user_id").loc["1"]
    assert first["expected_purchases"] == pytest.approx(1.226, abs=0.005)
    note = clv.clv_note(table, model, 273)
    assert note.startswith("2,357 customers (40.1% bought on two days or more")


def test_cdnow_validation() -> None:
    """Calibration to 1997-09-30, holdout the next 39 weeks (to 1998-06-30): the customers bought
    on 1,882 days; the model predicts 1,653 (−12 %), the naive baseline 2,930 (+56 %)."""
    period = Period("1997-01-01", "1998-06-30", "UTC")
    table = clv.validation(cdnow_orders(), period, holdout_days=273)
    assert list(table["customers"]) == [1411, 439, 214, 100, 62, 38, 29, 64]
    assert table["actual_purchases"].sum() == 1882
    assert table["predicted_purchases"].sum() == pytest.approx(1653, abs=1)
    assert table["naive_purchases"].sum() == pytest.approx(2930, abs=1)
    note = clv.validation_note(table, 273)
    assert note.endswith("The model beats the baseline in total and per frequency.")


# --------------------------------------------------------------------------------------------
# Validation on a simulated shop


def simulated_orders(n: int = 3000, seed: int = 7) -> ibis.Table:
    """Buyers following BG/NBD in days (r = 0.6, α = 20, a = 1, b = 4), first purchases over the
    year before 2025-10-02 (the holdout's first day), spend Gamma around 50."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-10-01")
    end = pd.Timestamp("2025-12-31")  # the period's end (UTC), 90 days after the calibration
    rows = []
    for user in range(n):
        rate = rng.gamma(0.6, 1 / 20)
        drop = rng.beta(1.0, 4.0)
        t = start + pd.Timedelta(days=float(rng.uniform(0, 366)))
        k = 0
        while t < end + pd.Timedelta(days=1):
            paid = t.floor("s")
            rows.append(
                (f"{user}-{k}", f"u{user}", paid, paid, "paid", round(rng.gamma(4, 12.5), 2))
            )
            k += 1
            if rng.random() < drop:
                break
            t += pd.Timedelta(days=min(float(rng.exponential(1 / rate)), 1000.0))
    return orders_table(rows)


@pytest.fixture(scope="module")
def simulated() -> ibis.Table:
    return simulated_orders()


def test_validation_table(simulated: ibis.Table) -> None:
    period = Period("2025-12-01", "2025-12-31", "UTC")
    table = clv.validation(simulated, period, holdout_days=90, time_unit="day")
    assert list(table.columns) == clv.VALIDATION_COLUMNS
    assert list(table["frequency_cal"]) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    # every calibration customer once; actual purchases counted directly from the orders
    calibration = clv.customer_summary(
        simulated, Period("2025-10-02", "2025-10-02", "UTC"), time_unit="day"
    )
    assert table["customers"].sum() == len(calibration)
    frame = simulated.to_pandas()
    day = frame["paid_time"].dt.normalize()
    holdout = frame[(day >= "2025-10-03") & (day <= "2025-12-31")]
    holdout = holdout[holdout["user_id"].isin(calibration["user_id"])]
    actual = holdout.assign(day=day).drop_duplicates(["user_id", "day"])
    assert table["actual_purchases"].sum() == len(actual)
    # the model of the process that made the data predicts the total within 15 % and beats
    # the baseline, which ignores that buyers leave
    assert table["predicted_purchases"].sum() == pytest.approx(len(actual), rel=0.15)
    errors = clv.validation_errors(table)
    assert errors["model_total_error"] < errors["naive_total_error"]
    assert errors["model_group_error"] < errors["naive_group_error"]
    note = clv.validation_note(table, 90)
    assert note.endswith("The model beats the baseline in total and per frequency.")


def test_validation_note_says_when_the_model_loses() -> None:
    table = pd.DataFrame(
        [("0", 10, 5.0, 1, 0.0), ("1", 5, 1.0, 6, 5.0)], columns=clv.VALIDATION_COLUMNS
    )
    note = clv.validation_note(table, 90)
    assert "bought on 7 days; the model predicted 6, the naive baseline" in note
    assert note.endswith("The model beats the baseline in total but NOT per frequency.")
    worse = table.assign(predicted_purchases=[9.0, 0.0])
    assert "does NOT beat the naive baseline" in clv.validation_note(worse, 90)


def test_validation_without_repeat_buyers() -> None:
    orders = orders_table([("o1", "u1", "2025-01-01", "2025-01-01", "paid", 5.0)])
    period = Period("2025-06-01", "2025-06-30", "UTC")
    table = clv.validation(orders, period, holdout_days=90)
    assert table["predicted_purchases"].isna().all()
    assert "cannot be fitted" in clv.validation_note(table, 90)
    empty = clv.validation(orders, Period("2025-01-01", "2025-01-31", "UTC"), holdout_days=90)
    assert empty.empty
    assert clv.validation_note(empty, 90).startswith("No customer bought before")


def test_tables_without_repeat_buyers() -> None:
    table, model = clv.lifetime_value(orders_table(ORDERS[5:6]), MARCH)
    assert model["value"].isna().all()
    assert table["expected_value"].isna().all()
    assert "cannot be fitted" in clv.clv_note(table, model, 90)


def test_time_unit_does_not_change_the_predictions() -> None:
    """α scales with the unit (days = 7 × weeks); the other parameters and every prediction stay."""
    calibration = Period("1997-01-01", "1997-09-30", "UTC")
    weeks, weeks_model = clv.lifetime_value(cdnow_orders(), calibration, "week", 90, 0.0)
    days, days_model = clv.lifetime_value(cdnow_orders(), calibration, "day", 90, 0.0)
    alpha = days_model.set_index("parameter")["value"]["alpha"]
    assert alpha == pytest.approx(7 * weeks_model.set_index("parameter")["value"]["alpha"], 1e-3)
    merged = weeks.merge(days, on="user_id", suffixes=("_w", "_d"))
    for column in ("p_alive", "expected_purchases", "expected_value"):
        assert np.allclose(merged[f"{column}_w"], merged[f"{column}_d"], rtol=1e-3, atol=0.01)


def test_discounting() -> None:
    """Without discount the value is purchases × spend; 1 % a month takes off a little."""
    calibration = Period("1997-01-01", "1997-09-30", "UTC")
    plain, model = clv.lifetime_value(cdnow_orders(), calibration, horizon_days=90, discount_rate=0)
    gg = clv.GammaGamma(*model["value"].iloc[4:])
    spend = gg.expected_spend(plain["frequency"], plain["monetary_value"])
    assert np.allclose(
        plain["expected_value"], plain["expected_purchases"] * spend, rtol=1e-3, atol=0.01
    )
    discounted, _ = clv.lifetime_value(cdnow_orders(), calibration, horizon_days=90)
    ratio = discounted["expected_value"].sum() / plain["expected_value"].sum()
    assert 1 / 1.01**3 < ratio < 1 / 1.01


def test_parameters_at_the_bound_are_named() -> None:
    model = clv.model_table(clv.BgNbd(0.5, 6.0, math.exp(15), math.exp(15)), None)
    assert clv.at_bound(model) == ["BG/NBD a", "BG/NBD b"]
