"""Date columns written as text: ISO dates are read on every engine, ``YYYY-MM`` too for
``costs.month`` (the month's first day), and any other text is an error naming the table, the
column and an example (docs/data-contract.md, "Time")."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib import data, quality

COSTS_CSV = (
    "month,component,item,amount\n"
    "2025-03,rent,office,100\n"  # a month as text: its first day
    "2025-04-01,rent,office,50\n"  # an ISO date
    " 2025-05 ,staff,pay,1\n"  # spaces around it are ignored
)


def _shop(folder: Path, inventory_dates: list[str]) -> Path:
    folder.mkdir()
    (folder / "costs.csv").write_text(COSTS_CSV)
    # Parquet with the dates as strings: the engines' own casts would differ on some of them
    dates = pa.array(inventory_dates, pa.string())
    rows = len(inventory_dates)
    table = pa.table({"date": dates, "sku_id": ["S1"] * rows, "on_hand": list(range(rows))})
    pq.write_table(table, folder / "inventory.parquet")
    return folder


def _read(source: data.Source) -> tuple[list[dt.date], list[object]]:
    costs = source.table("costs").order_by("amount").to_pandas()
    inventory = source.table("inventory").order_by("on_hand").to_pandas()
    as_dates = [None if v is None or v != v else v.date() for v in inventory["date"]]
    return [v.date() for v in costs["month"]], as_dates


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_month_and_iso_date_text_are_read_and_anything_else_is_named(
    engine: str, tmp_path: Path
) -> None:
    folder = _shop(tmp_path / "shop", ["2025-03-01", "2025-03-02", "2025-02-30", "3/4/2025"])
    source = data.open_source(f"spark://{folder}" if engine == "spark" else str(folder))
    months, days = _read(source)
    # amounts 1, 50, 100: May (from " 2025-05 "), April (an ISO date), March (from "2025-03")
    assert months == [dt.date(2025, 5, 1), dt.date(2025, 4, 1), dt.date(2025, 3, 1)]
    # on_hand 0..3: two ISO dates, then a day the calendar lacks and a US date, both unread
    assert days == [dt.date(2025, 3, 1), dt.date(2025, 3, 2), None, None]
    assert quality.check_values(source, now=dt.datetime(2025, 6, 1)) == [
        "table 'inventory' column 'date' holds text that is not a date in 2 rows (e.g. "
        "'2025-02-30'); write dates as YYYY-MM-DD, or as the file format's date type"
    ]


def test_a_month_is_text_only_for_costs_month_and_the_error_says_which_forms(
    tmp_path: Path,
) -> None:
    # "2025-03" is a month, not a day: an inventory date written so is an error...
    folder = _shop(tmp_path / "shop", ["2025-03"])
    (folder / "costs.csv").write_text("month,component,item,amount\nMarch 2025,rent,office,1\n")
    problems = quality.check_values(data.open_source(folder), now=dt.datetime(2025, 6, 1))
    assert problems == [
        "table 'costs' column 'month' holds text that is not a date in 1 row (e.g. 'March "
        "2025'); write dates as YYYY-MM-DD or YYYY-MM (read as the month's first day), or as "
        "the file format's date type",
        "table 'inventory' column 'date' holds text that is not a date in 1 row (e.g. "
        "'2025-03'); write dates as YYYY-MM-DD, or as the file format's date type",
    ]
    # ...and the unread values are not also reported as empty required values
    assert not any("empty (null)" in p for p in problems)
