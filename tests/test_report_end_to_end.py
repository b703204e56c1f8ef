"""The real notebooks, run by the runner on the hand-checked shop, write the known answers."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from lib import run

from .conftest import KNOWN_ANSWERS

ARGS = ["--start", "2025-03-01", "--end", "2025-03-07", "--timezone", "Asia/Shanghai", "--quiet"]


@pytest.fixture(scope="module")
def known_run(tmp_path_factory):
    output = tmp_path_factory.mktemp("runs") / "known"
    code = run.main([*ARGS, "--source", str(KNOWN_ANSWERS / "source"), "--output", str(output)])
    assert code == 0
    return output


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
    assert {p.name for p in (known_run / "notebooks").iterdir()} == {
        "00_overview.ipynb",
        "01_traffic.ipynb",
        "02_conversion.ipynb",
        "03_retention.ipynb",
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
