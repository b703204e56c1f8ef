"""The real notebooks on variants of the sample shop that once broke them (issue 16): a category
and a carrier called ``all``, like the total rows; a catalogue without ``unit_cost`` and
``list_price``. Each runs the notebooks through the runner and reads what they wrote."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd

from lib import data, run

ARGS = ["--start", "2025-10-15", "--end", "2025-11-14", "--timezone", "Asia/Shanghai", "--quiet"]


def _sample_copy(folder: Path, queries: dict[str, str]) -> Path:
    """The sample shop in ``folder`` with each named table replaced by ``queries[name]`` (SQL
    reading the original as ``t``)."""
    shutil.copytree(data.SAMPLE_DIR, folder)
    con = duckdb.connect()
    for name, query in queries.items():
        path = folder / f"{name}.parquet"
        con.execute(f"CREATE OR REPLACE VIEW t AS SELECT * FROM '{data.SAMPLE_DIR / path.name}'")
        con.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet)")
    return folder


def _notebook_text(output: Path, name: str) -> str:
    """Every output text of an executed notebook of the run."""
    [path] = (output / "notebooks").glob(f"*_{name}.ipynb")
    return path.read_text()


def test_a_category_and_a_carrier_called_all_stay_apart_from_the_total_rows(
    tmp_path: Path,
) -> None:
    source = _sample_copy(
        tmp_path / "named_all",
        {
            # the first category and carrier by name take the total rows' label
            "products": "SELECT * REPLACE (CASE WHEN category = (SELECT min(category) FROM t) "
            "THEN 'all' ELSE category END AS category) FROM t",
            "shipments": "SELECT * REPLACE (CASE WHEN carrier = (SELECT min(carrier) FROM t) "
            "THEN 'all' ELSE carrier END AS carrier) FROM t",
        },
    )
    output = tmp_path / "run"
    argv = [*ARGS, "--source", str(source), "--output", str(output)]
    code = run.main([*argv, "--notebooks", "supply_chain"])
    assert code == 0
    tables = output / "tables"
    carriers = pd.read_csv(tables / "fulfilment.csv")
    named = carriers[carriers["carrier"] == "all"]
    assert named["is_total"].tolist() == [False, True]
    # the total counts every carrier's orders, the carrier called "all" among them
    total = carriers[carriers["is_total"]]
    assert int(total["orders"].iloc[0]) == int(carriers[~carriers["is_total"]]["orders"].sum())
    backtest = pd.read_csv(tables / "forecast_backtest_category.csv")
    assert backtest[backtest["key"] == "all"]["is_total"].tolist() == [False, True]
    pooled = backtest[backtest["is_total"]]
    assert int(pooled["actual_units"].iloc[0]) == int(
        backtest[~backtest["is_total"]]["actual_units"].sum()
    )
    assert "all" in set(pd.read_csv(tables / "demand_forecast_category.csv")["key"])


NO_COST_NOTES = {
    "products": [
        "No unit_cost in this source: category performance leaves out cost and gross margin.",
        "No unit_cost in this source: the revenue and gross margin chart is skipped.",
        "No unit_cost in this source: product roles is skipped.",
        "No list_price or unit_cost in this source: the discount section is skipped.",
    ],
    "costs": [
        "No unit_cost in this source: the cost ledger behind every table below leaves out the "
        "cost of goods (counted as 0).",
    ],
    "supply_chain": [
        "No unit_cost in this source: the inventory health leaves out stock value.",
        "No unit_cost in this source: inventory turnover and holding cost is skipped.",
        "No list_price in this source: the lost-sales estimate is skipped.",
    ],
}


def test_a_catalogue_without_unit_cost_and_list_price_runs_and_says_what_it_skips(
    tmp_path: Path,
) -> None:
    source = _sample_copy(
        tmp_path / "no_costs", {"products": "SELECT * EXCLUDE (unit_cost, list_price) FROM t"}
    )
    output = tmp_path / "run"
    argv = [*ARGS, "--source", str(source), "--output", str(output)]
    code = run.main([*argv, "--notebooks", ",".join(NO_COST_NOTES)])
    assert code == 0
    for name, notes in NO_COST_NOTES.items():
        text = _notebook_text(output, name)
        for note in notes:
            assert note in text, (name, note)
    tables = output / "tables"
    # skipped sections write nothing; the rest ran, without a margin that would read 100%
    for skipped in ("product_roles", "discount_loss", "inventory_turnover", "lost_sales"):
        assert not (tables / f"{skipped}.csv").exists()
    categories = pd.read_csv(tables / "category_performance.csv")
    assert categories["revenue"].sum() > 0 and categories["gross_margin"].isna().all()
    assert (tables / "inventory_health.csv").exists() and (tables / "unit_economics.csv").exists()
