"""The overview's headline incidents (issue 17): the sample's injected fall of payment success is
found, the sentences are worked out by hand, and the overview runs on orders alone and on
events alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from lib import data, monitoring, run
from lib.periods import Period

from .conftest import printed

PERIOD = Period("2025-10-15", "2025-11-14", "Asia/Shanghai")
LINK = "Every series and funnel step: [the monitoring notebook](07_monitoring.ipynb)."


@pytest.fixture(scope="module")
def sample() -> data.Source:
    return data.open_source(None)


def test_the_samples_payment_failure_is_a_headline_incident(sample) -> None:
    # data/sample/README.md: payment success falls to ~40 % of normal on 2025-10-20..10-24
    found = monitoring.headline_incidents(sample, PERIOD)
    assert found.columns.tolist() == monitoring.INCIDENT_COLUMNS
    assert len(found) <= 3
    payment = found[found["series"] == "payment_success"]
    assert len(payment) == 1
    row = payment.iloc[0]
    assert row["direction"] == "below"
    assert abs(row["start"] - pd.Timestamp("2025-10-20")) <= pd.Timedelta(days=1)
    assert row["impact"] < 0
    # harm first: every incident shown is a fall (none of the refund rate)
    assert found["direction"].eq("below").all()
    everything = monitoring.headline_incidents(sample, PERIOD, top=None)
    assert len(everything) >= len(found)
    assert set(found["incident_id"]) <= set(everything["incident_id"])


def _partial_copy(folder: Path, keep: set[str]) -> Path:
    """The sample shop in ``folder`` with only the tables ``keep``."""
    folder.mkdir()
    for path in data.SAMPLE_DIR.glob("*.parquet"):
        if path.stem in keep:
            shutil.copy(path, folder / path.name)
    return folder


@pytest.mark.parametrize(
    ("tables", "series"),
    [
        ({"events"}, {"uv", "new_users"}),
        ({"orders"}, {"orders", "buyers", "gmv", "aov", "payment_success", "refund_rate"}),
    ],
)
def test_headline_series_are_those_the_source_can_give(tmp_path: Path, tables, series) -> None:
    source = data.open_source(str(_partial_copy(tmp_path / "shop", tables)))
    rates, counts = monitoring.headline_series(source, PERIOD)
    assert set(rates["series"]) | set(counts["series"]) == series
    # from history_days (34) before the start: the first day has its whole baseline
    assert counts["date"].min() == pd.Timestamp("2025-09-11")
    found = monitoring.headline_incidents(source, PERIOD, top=None)
    assert set(found["series"]) <= series


def _incident(series: str, start: str, end: str, direction: str, expected: float, observed: float):
    days = (pd.Timestamp(end) - pd.Timestamp(start)).days + 1
    row = dict(
        incident_id=1,
        series=series,
        step="",
        start=pd.Timestamp(start),
        end=pd.Timestamp(end),
        days=days,
        direction=direction,
        expected=expected,
        observed=observed,
        impact=observed - expected,
    )
    return pd.DataFrame([row], columns=monitoring.INCIDENT_COLUMNS)


def test_the_note_without_incidents() -> None:
    empty = pd.DataFrame(columns=monitoring.INCIDENT_COLUMNS)
    assert monitoring.headline_note(empty, "CNY") == (
        f"No incident on the headline series above the noise. {LINK}"
    )


def test_a_rate_incident_counts_its_successes() -> None:
    # 2,000 paid orders expected over five days, 766 seen: 1,234 fewer, 766 / 2,000 = 38 %
    one = _incident("payment_success", "2025-10-20", "2025-10-24", "below", 2000.0, 766.0)
    assert monitoring.headline_note(one, "CNY") == (
        "Payment success was below the expected level from 2025-10-20 to 2025-10-24 (5 days): "
        "1,234 paid orders fewer than expected (766 observed, 38 % of the 2,000 expected). " + LINK
    )


def test_money_is_in_the_currency_and_an_aov_per_order() -> None:
    # GMV one day: 12,000 expected, 18,000 seen → 6,000 more, 150 %
    gmv = _incident("gmv", "2025-11-11", "2025-11-11", "above", 12000.0, 18000.0)
    # AOV over 2 days: Σ expected 200, Σ seen 180 → 10 per order below on average, 90 %
    aov = _incident("aov", "2025-10-01", "2025-10-02", "below", 200.0, 180.0)
    both = pd.concat([gmv, aov], ignore_index=True)
    assert monitoring.headline_note(both, "CNY") == (
        "1. GMV was above the expected level on 2025-11-11: CNY 6,000 more than expected "
        "(CNY 18,000 observed, 150 % of the CNY 12,000 expected).\n"
        "2. AOV was below the expected level from 2025-10-01 to 2025-10-02 (2 days): CNY 10.00 "
        "per order below expected on average (90 % of the expected).\n\n" + LINK
    )
    # without a currency the amounts stand alone
    assert monitoring.incident_sentence(gmv.iloc[0]).endswith(
        "6,000 more than expected (18,000 observed, 150 % of the 12,000 expected)."
    )


def test_counts_name_their_unit_and_the_refund_rate_its_harm() -> None:
    # UV over 3 days: 3,000 expected, 4,500 seen → 1,500 more, 150 %
    uv = _incident("uv", "2025-11-01", "2025-11-03", "above", 3000.0, 4500.0)
    assert monitoring.incident_sentence(uv.iloc[0], "CNY") == (
        "UV was above the expected level from 2025-11-01 to 2025-11-03 (3 days): 1,500 visitors "
        "(summed over the days) more than expected (4,500 observed, 150 % of the 3,000 expected)."
    )
    refunds = _incident("refund_rate", "2025-11-05", "2025-11-05", "above", 10.0, 25.0)
    assert monitoring.incident_sentence(refunds.iloc[0]) == (
        "The refund rate was above the expected level on 2025-11-05: 15 refunded orders more "
        "than expected (25 observed, 250 % of the 10 expected)."
    )


@pytest.mark.parametrize(
    ("keep", "note"),
    [
        (
            {"orders", "order_items", "products", "users"},
            "No events table in this source: the incident list leaves out UV and new users.",
        ),
        (
            {"events", "products", "users"},
            "No orders table in this source: the incident list leaves out paid orders, "
            "buyers, GMV, AOV, payment success and refund rate.",
        ),
    ],
    ids=["orders-only", "events-only"],
)
def test_the_overview_watches_what_the_source_has(tmp_path: Path, keep, note) -> None:
    source = _partial_copy(tmp_path / "shop", keep)
    output = tmp_path / "run"
    argv = ["--start", "2025-10-15", "--end", "2025-11-14", "--timezone", "Asia/Shanghai"]
    argv += ["--quiet", "--source", str(source), "--output", str(output)]
    assert run.main([*argv, "--notebooks", "overview"]) == 0
    notebook = output / "notebooks" / "00_overview.ipynb"
    assert note in printed(notebook)
    table = pd.read_csv(output / "tables" / "overview_incidents.csv")
    assert table.columns.tolist() == monitoring.INCIDENT_COLUMNS
    assert set(table["series"]) <= set(monitoring.HEADLINE_SERIES)
    [reading] = [
        output["data"]["text/markdown"]
        for cell in nbformat.read(notebook, as_version=4).cells
        for output in cell.get("outputs", [])
        if LINK in str(output.get("data", {}).get("text/markdown", ""))
    ]
    assert reading.startswith("No incident on the headline series") == table.empty


def test_days_before_the_data_are_no_baseline(sample) -> None:
    # the sample starts on 2025-08-01 (local). The builders count 0 on the days before it; kept,
    # they made the opening week a rise of every count against zeros (nine paid orders against
    # 0 on 08-01). Trimmed to the data's days, no day of the first week has a same weekday before
    # it (counts need three, rates with per_weekday one), so nothing is tested.
    start = Period("2025-08-01", "2025-08-07", "Asia/Shanghai")
    rates, counts = monitoring.headline_series(sample, start)
    assert rates["date"].min() == counts["date"].min() == pd.Timestamp("2025-08-01")
    days = monitoring.detect(*monitoring.headline_series(sample, start), start=start.start).days
    assert days["p_value"].isna().all()
    found = monitoring.headline_incidents(sample, start)
    assert found.empty
    assert found.columns.tolist() == monitoring.INCIDENT_COLUMNS
    assert monitoring.headline_note(found).startswith("No incident on the headline series")


def test_an_expected_zero_has_no_share() -> None:
    # a count that had been 0 on every baseline day: 3 seen, 3 more, no "% of" an expected 0
    new = _incident("new_users", "2025-08-22", "2025-08-22", "above", 0.0, 3.0)
    assert monitoring.incident_sentence(new.iloc[0]) == (
        "New users were above the expected level on 2025-08-22: 3 new users more than expected "
        "(3 observed, the 0 expected)."
    )


def test_the_monitoring_notebooks_counts_keep_to_the_datas_days(sample) -> None:
    # the same rule for every count of notebook 07: no zero-count days before the data begins
    start = Period("2025-08-01", "2025-08-07", "Asia/Shanghai")
    _, counts = monitoring.monitoring_series(sample, start)
    orders_and_users = counts[counts["series"].isin(["uv", "orders", "buyers", "gmv", "aov"])]
    assert orders_and_users["date"].min() == pd.Timestamp("2025-08-01")
    found = monitoring.detect(*monitoring.monitoring_series(sample, start), start=start.start)
    assert not found.incidents["series"].isin(["uv", "orders", "buyers", "gmv", "aov"]).any()
