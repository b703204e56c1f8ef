"""The real notebooks, run by the runner on the hand-checked shop, write the known answers."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from lib import run
from lib.run import plan as run_plan

from .conftest import KNOWN_ANSWERS

ARGS = ["--start", "2025-03-01", "--end", "2025-03-07", "--timezone", "Asia/Shanghai", "--quiet"]


# Personal data a shop's users table may hold; no output may copy it (issue 7).
PERSONAL = {"phone": "+86-138-0000-1234", "email": "u1@example.invalid", "full_name": "Li Lei"}


@pytest.fixture(scope="module")
def known_run(tmp_path_factory):
    """All notebooks on the hand-checked shop, plus a users table carrying personal data."""
    source = tmp_path_factory.mktemp("source") / "known"
    shutil.copytree(KNOWN_ANSWERS / "source", source)
    users = pd.DataFrame(
        {
            "user_id": ["u1", "u2", "u3", "u4", "u5"],
            "signup_time": ["2025-03-01 01:00:00"] * 5,
            "acquisition_channel": ["search"] * 5,
            "region": ["Zhejiang"] * 5,
            **{column: [value] * 5 for column, value in PERSONAL.items()},
        }
    )
    users.to_csv(source / "users.csv", index=False)
    output = tmp_path_factory.mktemp("runs") / "known"
    code = run.main([*ARGS, "--source", str(source), "--output", str(output)])
    assert code == 0
    return output


def test_no_output_copies_personal_data(known_run):
    tables = list((known_run / "tables").glob("*.csv"))
    assert any(p.name.startswith("segment_") for p in tables)
    for path in [*tables, known_run / "report.html", *(known_run / "notebooks").iterdir()]:
        text = path.read_text()
        for column, value in PERSONAL.items():
            assert value not in text, f"{path.name} holds {column}"


@pytest.mark.spark
def test_a_spark_source_runs_a_notebook_to_the_known_answers(tmp_path):
    # the runner's --source spark://… reaches the kernel, which opens its own Spark session
    output = tmp_path / "spark"
    source = f"spark://{KNOWN_ANSWERS / 'source'}"
    code = run.main([*ARGS, "--source", source, "--notebooks", "traffic", "--output", str(output)])
    assert code == 0
    got = pd.read_csv(output / "tables" / "traffic_daily.csv")
    want = pd.read_csv(KNOWN_ANSWERS / "expected" / "traffic_daily.csv")
    pd.testing.assert_frame_equal(
        got[list(want.columns)], want, check_dtype=False, check_exact=False, rtol=1e-9
    )


@pytest.mark.parametrize(
    "table", ["traffic_daily", "funnel", "gmv_daily", "retention", "repurchase"]
)
def test_notebook_tables_match_known_answers(known_run, table):
    got = pd.read_csv(known_run / "tables" / f"{table}.csv")
    want = pd.read_csv(KNOWN_ANSWERS / "expected" / f"{table}.csv")
    pd.testing.assert_frame_equal(
        got[list(want.columns)], want, check_dtype=False, check_exact=False, rtol=1e-9
    )


def test_overview_table_has_the_known_gmv_and_repurchase(known_run):
    table = pd.read_csv(known_run / "tables" / "overview.csv").set_index("indicator")
    assert table.loc["GMV", "value"] == 235.0
    assert table.loc["repeat buyers", "value"] == 2
    assert table.loc["buyers", "value"] == 3


def test_run_writes_report_and_figures(known_run):
    html = (known_run / "report.html").read_text()
    assert "01 · Traffic" in html and "00 · Overview" in html
    assert (known_run / "figures" / "traffic_uv_pv.png").stat().st_size > 0
    # every chart's alt text is its description (title and axes), never nbconvert's placeholder
    assert "No description has been provided" not in html
    assert (
        'alt="Daily visitors (UV) and page views (PV): UV [users per local day]; PV [views per '
        'local day] against date (local)."' in html
    )
    assert {p.name for p in (known_run / "notebooks").iterdir()} == {
        "00_overview.ipynb",
        "01_traffic.ipynb",
        "02_conversion.ipynb",
        "03_retention.ipynb",
        "04_products.ipynb",
        "05_costs.ipynb",
        "06_supply_chain.ipynb",
        "07_monitoring.ipynb",
        "08_journeys.ipynb",
        "09_customers.ipynb",
        "10_marketing.ipynb",
    }


def test_orders_only_source_runs_the_order_based_notebooks(tmp_path, capsys):
    source = tmp_path / "orders_only"
    source.mkdir()
    for table in ("orders", "order_items", "products"):
        shutil.copy(KNOWN_ANSWERS / "source" / f"{table}.csv", source)
    output = tmp_path / "out"
    assert run.main([*ARGS, "--source", str(source), "--output", str(output)]) == 0
    assert "traffic" in capsys.readouterr().err  # named as skipped
    table = pd.read_csv(output / "tables" / "overview.csv").set_index("indicator")
    assert table.loc["GMV", "value"] == 235.0
    assert "average DAU" not in table.index
    assert not (output / "notebooks" / "01_traffic.ipynb").exists()
    # the report's contents list the skipped notebooks and sections, each with its reason
    html = (output / "report.html").read_text()
    assert 'traffic <span class="report-skipped">(skipped: no events table)</span>' in html
    assert '<span class="report-skipped">(skipped: No events table in this source: ' in html


def test_an_empty_period_runs_and_says_so(tmp_path, monkeypatch):
    # The runner refuses a range without data (test_run_plan.py); opened in Jupyter, a notebook can
    # still be given one, so its own note is checked here with the refusal switched off.
    monkeypatch.setattr(run_plan, "coverage_warnings", lambda source, period: [])
    output = tmp_path / "empty"
    args = ["--start", "2024-01-01", "--end", "2024-01-07", "--timezone", "Asia/Shanghai"]
    code = run.main(
        [*args, "--quiet", "--source", str(KNOWN_ANSWERS / "source"), "--output", str(output)]
    )
    assert code == 0
    for notebook in (output / "notebooks").iterdir():
        assert "every table and chart below is empty" in notebook.read_text(), notebook.name
    daily = pd.read_csv(output / "tables" / "traffic_daily.csv")
    assert daily["uv"].sum() == 0 and len(daily) == 7
