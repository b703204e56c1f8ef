"""Notebook 07 (monitoring) on the bundled sample, whose incident and abusers are known
(data/sample/README.md, "Known truth"), and the helpers it reads its sentences and charts from."""

from __future__ import annotations

import datetime as dt

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from lib import data, monitoring, plots, risks, simulate  # noqa: E402
from lib.periods import Period  # noqa: E402

from .runner_support import run_sample_notebook  # noqa: E402

PERIOD = Period("2025-10-15", "2025-11-14", "Asia/Shanghai")
INCIDENT = (dt.date(2025, 10, 20), dt.date(2025, 10, 24))  # payment success at 40 %
ONE_DAY = pd.Timedelta(days=1)


@pytest.fixture(scope="module")
def sample() -> data.Source:
    return data.open_source(None)


@pytest.fixture(scope="module")
def detection(sample: data.Source) -> monitoring.Detection:
    rates, counts = monitoring.monitoring_series(sample, PERIOD)
    return monitoring.detect(rates, counts, start=PERIOD.start)


def _payment_incidents(detection: monitoring.Detection) -> pd.DataFrame:
    found = detection.incidents
    return found[(found["series"] == "payment_success") & (found["direction"] == "below")]


def test_the_sample_payment_incident_is_one_incident_starting_on_its_first_day(detection):
    payment = _payment_incidents(detection)
    assert len(payment) == 1
    assert abs(payment["start"].iloc[0] - pd.Timestamp(INCIDENT[0])) <= ONE_DAY
    assert payment["end"].iloc[0] >= pd.Timestamp(INCIDENT[1]) - ONE_DAY
    assert payment["impact"].iloc[0] < 0  # paid orders lost


def test_the_sample_payment_incident_ends_within_a_day_of_its_last_day(detection):
    payment = _payment_incidents(detection)
    assert abs(payment["end"].iloc[0] - pd.Timestamp(INCIDENT[1])) <= ONE_DAY


def test_risk_flags_find_exactly_the_planted_users(sample: data.Source):
    flags = risks.risk_flags(PERIOD, sample["events"], sample["orders"], sample["order_items"])
    planted = simulate.planted_users()
    by_rule = {
        "coupon_claims": planted["coupon"],
        "coupon_uses": planted["coupon"],
        "unpaid_orders": planted["unpaid"],
        "refund_share": planted["refund"],
        "events_per_minute": planted["crawler"],
        "sessions_per_day": planted["session"],
    }
    assert planted["coupon"] == ["U00050001", "U00050002"]
    assert sorted(planted["crawler"] + planted["session"]) == [
        f"U000500{k:02d}" for k in range(7, 11)
    ]
    for rule, users in by_rule.items():
        assert sorted(flags.loc[flags["rule"] == rule, "user_id"]) == sorted(users), rule
    # the SKU rules flag order lines of ordinary buyers, never a planted user's
    every_planted = {user for users in planted.values() for user in users}
    sku = flags[flags["rule"].isin(["sku_quantity", "sku_amount"])]
    assert not set(sku["user_id"]) & every_planted


@pytest.fixture(scope="module")
def monitoring_run(tmp_path_factory):
    return run_sample_notebook("monitoring", tmp_path_factory.mktemp("runs") / "monitoring")


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("alerts", monitoring.ALERT_COLUMNS),
        ("incidents", monitoring.INCIDENT_COLUMNS),
        ("alerts_weekly", monitoring.ALERT_COLUMNS),
        ("incidents_weekly", monitoring.INCIDENT_COLUMNS),
        ("risk_flags", risks.COLUMNS),
    ],
)
def test_the_runner_writes_the_tables_with_their_exact_columns(monitoring_run, table, columns):
    written = pd.read_csv(monitoring_run / "tables" / f"{table}.csv", keep_default_na=False)
    assert list(written.columns) == columns
    assert len(written) > 0


def test_the_runner_writes_the_payment_incident_and_its_chart(monitoring_run):
    incidents = pd.read_csv(monitoring_run / "tables" / "incidents.csv")
    assert (incidents["series"] == "payment_success").sum() == 1
    assert (monitoring_run / "figures" / "monitoring_payment_success.png").exists()
    assert list(monitoring.INCIDENT_COLUMNS) == [
        "incident_id",
        "series",
        "step",
        "start",
        "end",
        "days",
        "direction",
        "expected",
        "observed",
        "impact",
    ]


# ------------------------------------------------------------------ the sentence, by hand


def _incidents(rows: list[tuple]) -> pd.DataFrame:
    """Incidents from ``(series, step, start, end, direction, expected, observed)``."""
    frame = pd.DataFrame(
        rows, columns=["series", "step", "start", "end", "direction", "expected", "observed"]
    )
    frame["start"] = pd.to_datetime(frame["start"])
    frame["end"] = pd.to_datetime(frame["end"])
    frame["days"] = (frame["end"] - frame["start"]).dt.days + 1
    frame["impact"] = frame["observed"] - frame["expected"]
    frame.insert(0, "incident_id", np.arange(1, len(frame) + 1))
    return frame[monitoring.INCIDENT_COLUMNS]


def test_incidents_note_without_any_incident():
    empty = _incidents([])
    assert monitoring.incidents_note(empty, "CNY") == (
        "No incident above the noise in this period: every series stayed within its band."
    )


def test_incidents_note_of_one_incident_names_it_in_its_unit():
    one = _incidents([("payment_success", "", "2025-10-20", "2025-10-24", "below", 400.0, 160.0)])
    assert monitoring.incidents_note(one, "CNY") == (
        "1 incident above the noise: payment success, 2025-10-20..2025-10-24 (5 days), below "
        "expected: 160 observed against 400 expected, impact −240 paid orders, −60% of expected."
    )


def test_incidents_note_of_several_puts_the_most_serious_harm_first():
    several = _incidents(
        [
            # a rise of GMV is good news, however large
            ("gmv", "", "2025-11-10", "2025-11-12", "above", 1000.0, 9000.0),
            ("step_conversion", "purchase", "2025-10-20", "2025-10-21", "below", 90.0, 45.0),
            ("uv", "", "2025-10-22", "2025-10-22", "below", 1000.0, 700.0),
        ]
    )
    assert monitoring.incidents_note(several, "CNY") == (
        "3 incidents above the noise (2 below expected, 1 above); the most serious: step "
        "conversion to purchase, 2025-10-20..2025-10-21 (2 days), below expected: 45 observed "
        "against 90 expected, impact −45 users reaching purchase, −50% of expected."
    )
    # among rises, money reads in the currency with cents
    rise = monitoring.incidents_note(several.iloc[[0]], "CNY")
    assert "impact +8,000.00 CNY, +800% of expected." in rise
    assert monitoring.top_series(several, 2) == [("step_conversion", "purchase"), ("uv", "")]


def test_incidents_note_reads_weeks_and_a_harmful_rise():
    weekly = _incidents(
        [
            ("late_shipments", "", "2025-11-03", "2025-11-03", "above", 10.0, 30.0),
            ("orders", "", "2025-11-10", "2025-11-10", "below", 100.0, 90.0),
        ]
    )
    weekly["days"] = 1
    note = monitoring.incidents_note(weekly, step_days=7)
    assert "the most serious: late shipments, the week of 2025-11-03 (1 week), above" in note


def test_risk_summary_lists_every_rule_that_ran():
    flags = pd.DataFrame(
        {
            "rule": ["unpaid_orders", "unpaid_orders", "sku_amount", "sku_amount"],
            "user_id": ["u1", "u2", "u3", "u4"],
            "order_id": ["", "", "o1", "o2"],
            "value": [7.0, 6.0, 500.0, 90.0],
            "threshold": [5.0, 5.0, 250.0, 60.0],
        }
    )
    summary = monitoring.risk_summary(flags, ["unpaid_orders", "coupon_claims", "sku_amount"])
    assert summary["rule"].tolist() == ["unpaid_orders", "coupon_claims", "sku_amount"]
    assert summary["flagged"].tolist() == [2, 0, 2]
    assert summary["threshold"].tolist()[0] == 5.0
    assert np.isnan(summary["threshold"].iloc[1])
    assert summary["threshold"].iloc[2] == 60.0
    assert monitoring.rules_note(list(risks.RULES)).endswith("(all 8).")
    assert "skipped, the source lacking their table or column: coupon_claims, " in (
        monitoring.rules_note(["unpaid_orders"])
    )


def test_figure_names_are_file_names():
    assert monitoring.figure_name("payment_success") == "monitoring_payment_success"
    assert monitoring.figure_name("step_conversion", "add_to_cart") == (
        "monitoring_step_conversion_add_to_cart"
    )
    path = "view_item → add_to_cart → purchase"
    assert monitoring.figure_name("funnel_conversion", path) == "monitoring_funnel_conversion"


# ------------------------------------------------------------------ the chart


def _days(values: list[float], flagged: list[bool], ids: list[int]) -> pd.DataFrame:
    n = len(values)
    return pd.DataFrame(
        {
            "date": pd.date_range("2025-10-15", periods=n),
            "value": values,
            "expected": [0.8] * n,
            "lower": [0.7] * n,
            "upper": [0.9] * n,
            "flagged": flagged,
            "incident_id": ids,
        }
    )


def test_monitored_series_has_title_labels_units_band_and_shaded_incident():
    days = _days([0.8, 0.82, 0.3, 0.35, 0.79], [False, False, True, True, False], [0, 0, 1, 1, 0])
    ylabel, percent = monitoring.chart_axis("payment_success")
    title = monitoring.chart_title("payment_success")
    fig = plots.monitored_series(days, title, ylabel, percent)
    ax = fig.axes[0]
    assert ax.get_title() == "Payment success: observed against expected"
    assert ax.get_xlabel() == "date (local)"
    assert ax.get_ylabel() == "paid orders / orders placed [%]"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["expected band", "expected", "observed", "incident", "flagged day"]
    assert plots.describe(fig, "One incident.") == (
        "Payment success: observed against expected: paid orders / orders placed [%] against "
        "date (local). One incident."
    )
    assert ax.get_ylim()[0] == 0  # a rate from 0
    plt.close(fig)


def test_monitored_series_names_the_currency_and_is_not_drawn_flat():
    plots.use_report_style("CNY")
    try:
        ylabel, percent = monitoring.chart_axis("gmv")
        days = _days([100.0, 120.0, 300.0], [False, False, True], [0, 0, 1])
        fig = plots.monitored_series(days, monitoring.chart_title("gmv"), ylabel, percent)
        assert fig.axes[0].get_ylabel() == "GMV by payment day [CNY]"
        plt.close(fig)
    finally:
        plots.use_report_style(None)
    flat = plots.monitored_series(_days([5.0] * 4, [False] * 4, [0] * 4), "Flat", "x [count]")
    assert isinstance(flat, plots.NoChart)
