"""Reliability: bad data stops a run before any notebook starts, and metrics keep their invariants.

Every case of docs/reliability.md has its test here (or, for the command-line cases, in
tests/test_run_*.py). Runner cases use ``--dry-run`` or stop at validation, so no kernel starts. The
property tests generate small event and order tables with Hypothesis and check what must hold for
any data: funnels never grow along the steps, rates stay in [0, 1], day-0 retention is 1,
repurchase rate ≤ 1, and neither row order nor splitting a Parquet file changes a result.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import io
import random
import shutil
import tempfile
from pathlib import Path

import duckdb
import hypothesis.strategies as st
import ibis
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings

from lib import data, funnel, quality, repurchase, retention, run, traffic
from lib.periods import Period
from lib.run import plan as run_plan

from .conftest import KNOWN_ANSWERS, events_table, orders_table

NOTEBOOKS = Path(__file__).parent / "fixtures" / "notebooks"
SOURCE = KNOWN_ANSWERS / "source"
RANGE = ["--start", "2025-03-01", "--end", "2025-03-07"]
PERIOD = Period("2025-03-01", "2025-03-07")
# "now" for the future-timestamp check, so the tests do not depend on the clock
NOW = dt.datetime(2025, 6, 1)


def call(argv: list[str]) -> tuple[int, str, str]:
    """``python -m lib.run`` in-process on the fixture notebooks: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run.main(["--notebooks-dir", str(NOTEBOOKS), "--quiet", *argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh default outputs folder (not created yet)."""
    folder = tmp_path / "outputs"
    monkeypatch.setattr(run_plan, "OUTPUTS_DIR", folder)
    return folder


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A writable copy of the known-answers source (CSV files)."""
    folder = tmp_path / "shop"
    shutil.copytree(SOURCE, folder)
    return folder


def edit(folder: Path, table: str, change) -> None:
    """Rewrite ``folder/<table>.csv`` through ``change(frame) -> frame``."""
    path = folder / f"{table}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(frame).to_csv(path, index=False)


def set_value(column: str, value: str, rows: slice = slice(0, 1)):
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[frame.index[rows], column] = value
        return frame

    return change


def repeat_first(n: int = 1):
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.concat([frame, *[frame.iloc[:1]] * n], ignore_index=True)

    return change


def run_error(folder: Path, outputs: Path) -> str:
    """The runner's message for a source that must be refused; checks exit 2 and no output."""
    # --dry-run: should validation let the source through, no kernel starts
    code, out, err = call([*RANGE, "--source", str(folder), "--dry-run"])
    assert code == 2, err
    assert out == ""
    assert err.startswith("error: ") and err.count("error: ") == 1, err
    assert "Traceback" not in err
    assert not outputs.exists()
    return err


# ------------------------------------------------------------------ the contract: exit 2


def test_missing_column_and_wrong_types_stop_the_run_naming_each(shop: Path, outputs: Path) -> None:
    def break_orders(frame: pd.DataFrame) -> pd.DataFrame:
        frame["paid_amount"] = frame["paid_amount"] + " CNY"
        return frame.drop(columns=["status"])

    def integer_times(frame: pd.DataFrame) -> pd.DataFrame:
        frame["event_time"] = [str(i) for i in range(len(frame))]
        return frame

    edit(shop, "orders", break_orders)
    edit(shop, "events", integer_times)
    err = run_error(shop, outputs)
    assert "table 'orders' is missing column(s) status" in err
    assert "table 'orders' column 'paid_amount' should be a number but is string" in err
    assert "table 'events' column 'event_time' should be a timestamp but is int64" in err


# ------------------------------------------------------------------ value checks: exit 2


@pytest.mark.parametrize(
    ("table", "change", "expected"),
    [
        pytest.param(
            "orders",
            set_value("user_id", "", slice(0, 2)),
            "table 'orders' column 'user_id' is empty (null) in 2 rows of 8",
            id="null_in_required_column",
        ),
        pytest.param(
            "order_items",
            set_value("quantity", "-1"),
            "table 'order_items' column 'quantity' is negative in 1 row;",
            id="negative_quantity",
        ),
        pytest.param(
            "order_items",
            set_value("unit_price", "-5.0", slice(0, 3)),
            "table 'order_items' column 'unit_price' is negative in 3 rows",
            id="negative_unit_price",
        ),
        pytest.param(
            "orders",
            set_value("paid_amount", "-40.0"),
            "table 'orders' column 'paid_amount' is negative in 1 row;",
            id="negative_paid_amount",
        ),
        pytest.param(
            "orders",
            repeat_first(2),
            "table 'orders' column 'order_id' repeats the id of another row in 2 rows",
            id="duplicate_order_id",
        ),
        pytest.param(
            "orders",
            set_value("status", "PAID", slice(0, 2)),
            "table 'orders' column 'status' is not one of paid, unpaid, cancelled, refunded in "
            "2 rows (e.g. 'PAID')",
            id="unknown_status",
        ),
        pytest.param(
            "events",
            set_value("event_time", "1970-01-01 00:00:00", slice(0, 3)),
            "table 'events' column 'event_time' is exactly 1970-01-01 00:00:00 (the Unix "
            "epoch, a placeholder for a missing time) in 3 rows",
            id="epoch_placeholder",
        ),
        pytest.param(
            "orders",
            set_value("paid_time", "2999-01-01 00:00:00"),
            "table 'orders' column 'paid_time' is more than a day in the future in 1 row ",
            id="timestamp_in_the_future",
        ),
    ],
)
def test_bad_values_stop_the_run_naming_table_column_and_rows(
    table: str, change, expected: str, shop: Path, outputs: Path
) -> None:
    edit(shop, table, change)
    err = run_error(shop, outputs)
    assert expected in err
    assert "fails the value checks" in err
    # each problem also says what to do about it
    line = next(ln for ln in err.splitlines() if expected in ln)
    assert any(word in line for word in ("fill", "fix", "keep only", "map", "check"))


def test_every_value_problem_is_named_in_one_message(shop: Path) -> None:
    edit(shop, "orders", set_value("paid_amount", "-1.0"))
    edit(shop, "orders", set_value("status", "shipped", slice(1, 2)))
    edit(shop, "order_items", set_value("quantity", "-2"))
    edit(shop, "events", set_value("event_time", "1970-01-01 00:00:00"))
    problems = quality.check_values(data.open_source(shop), now=NOW)
    assert len(problems) == 4
    with pytest.raises(data.DataError) as error:
        quality.validate(data.open_source(shop), PERIOD, now=NOW)
    message = str(error.value)
    for column in ("paid_amount", "status", "quantity", "event_time"):
        assert f"column '{column}'" in message


def test_a_clean_source_passes_and_the_future_check_follows_now(shop: Path) -> None:
    source = data.open_source(shop)
    assert quality.check_values(source, now=NOW) == []
    assert quality.validate(source, PERIOD, now=NOW) == []
    # the same data seen from before it happened is in the future
    problems = quality.check_values(source, now=dt.datetime(2025, 2, 1))
    assert any("'event_time'" in p and "future" in p for p in problems)


def _empty_parquet_copy(shop: Path, tables: list[str]) -> None:
    """Replace CSV tables by typed Parquet files with zero rows."""
    for table in tables:
        csv_path = shop / f"{table}.csv"
        duckdb.execute(
            f"copy (select * from read_csv_auto('{csv_path}') limit 0) "
            f"to '{shop / table}.parquet' (format parquet)"
        )
        csv_path.unlink()


def test_empty_source_is_refused(shop: Path, outputs: Path) -> None:
    _empty_parquet_copy(shop, ["events", "orders", "order_items", "products"])
    err = run_error(shop, outputs)
    assert "no rows in any of them" in err and "events, order_items, orders, products" in err


def test_one_empty_table_is_refused(shop: Path, outputs: Path) -> None:
    _empty_parquet_copy(shop, ["orders"])
    err = run_error(shop, outputs)
    assert "table 'orders' has no rows" in err and "remove it from the source" in err


def test_csv_with_only_a_header_is_named(shop: Path, outputs: Path) -> None:
    header = (shop / "events.csv").read_text().splitlines()[0]
    (shop / "events.csv").write_text(header + "\n")
    err = run_error(shop, outputs)
    assert "table 'events' (events.csv): the file has a header but no rows" in err


# ------------------------------------------------------------------ repeated rows


def write_table(folder: Path, table: str, header: str, *rows: str) -> None:
    """A small optional table as ``folder/<table>.csv``."""
    (folder / f"{table}.csv").write_text("\n".join([header, *rows]) + "\n")


USERS_HEADER = "user_id,signup_time,acquisition_channel,region"
INVENTORY_HEADER = "date,sku_id,on_hand"
PURCHASE_ORDERS_HEADER = (
    "po_id,supplier,sku_id,ordered_date,promised_date,received_date,qty_ordered,qty_received,"
    "unit_cost"
)
REVIEWS_HEADER = "sku_id,user_id,review_time,rating"
SHIPMENTS_HEADER = "order_id,carrier,shipped_time,delivered_time,shipping_cost"
COSTS_HEADER = "month,component,item,amount"
SPEND_HEADER = "date,channel,billing_model,impressions,clicks,spend"
RETURNS_HEADER = (
    "return_id,order_id,sku_id,quantity,requested_time,refunded_time,reason,refund_amount"
)


@pytest.mark.parametrize(
    ("table", "header", "rows", "expected", "advice"),
    [
        pytest.param(
            "products",
            "sku_id,category,unit_cost,list_price",
            ["S1,shoes,10.0,100.0", "S1,bags,12.0,100.0", "S2,bags,5.0,50.0"],
            "table 'products' column 'sku_id' repeats the id of another row in 1 row "
            "(1 sku_id value in more than one row, e.g. 'S1' in 2 rows)",
            "keep only one row per sku_id",
            id="products_sku_id",
        ),
        pytest.param(
            "users",
            USERS_HEADER,
            ["u1,2025-03-01 00:00:00,ads,east", "u1,2025-03-01 00:00:00,ads,west"]
            + ["u2,2025-03-01 00:00:00,ads,east"] * 3,
            "table 'users' column 'user_id' repeats the id of another row in 3 rows "
            "(2 user_id values in more than one row, e.g. 'u2' in 3 rows)",
            "keep only one row per user_id",
            id="users_user_id",
        ),
        pytest.param(
            "inventory",
            INVENTORY_HEADER + ",location",
            ["2025-03-01,S1,5,A", "2025-03-01,S1,3,B", "2025-03-01,S1,4,A"],
            "table 'inventory' key (date, sku_id, location) repeats that of another row in 1 row "
            "(1 key in more than one row, e.g. date 2025-03-01, sku_id 'S1', location 'A' in "
            "2 rows)",
            "one on_hand per date and location",
            id="inventory_with_location",
        ),
        pytest.param(
            "inventory",
            INVENTORY_HEADER,
            ["2025-03-01,S1,5", "2025-03-01,S1,5", "2025-03-02,S1,4"],
            "table 'inventory' key (date, sku_id) repeats that of another row in 1 row "
            "(1 key in more than one row, e.g. date 2025-03-01, sku_id 'S1' in 2 rows)",
            "add a 'location' column",
            id="inventory_without_location",
        ),
        pytest.param(
            "purchase_orders",
            PURCHASE_ORDERS_HEADER,
            ["po1,acme,S1,2025-02-01,2025-02-10,2025-02-09,10,10,8.0"] * 2,
            "table 'purchase_orders' column 'po_id' repeats the id of another row in 1 row "
            "(1 po_id value in more than one row, e.g. 'po1' in 2 rows)",
            "keep only the latest version of each po_id",
            id="purchase_orders_po_id",
        ),
        pytest.param(
            "reviews",
            REVIEWS_HEADER,
            ["S1,u1,2025-03-03 10:00:00,5", "S1,u1,2025-03-03 10:00:00,1"],
            "table 'reviews' key (user_id, sku_id, review_time) repeats that of another row in "
            "1 row (1 key in more than one row, e.g. user_id 'u1', sku_id 'S1', review_time "
            "2025-03-03 10:00:00 in 2 rows)",
            "one row per review",
            id="reviews_user_sku_time",
        ),
        pytest.param(
            "returns",
            RETURNS_HEADER,
            ["r1,o1,S1,1,2025-03-03 10:00:00,2025-03-04 10:00:00,damaged,100.0"] * 2,
            "table 'returns' column 'return_id' repeats the id of another row in 1 row "
            "(1 return_id value in more than one row, e.g. 'r1' in 2 rows)",
            "keep only the latest version of each return_id",
            id="returns_return_id",
        ),
    ],
)
def test_repeated_keys_stop_the_run_naming_table_key_count_and_example(
    table: str, header: str, rows: list[str], expected: str, advice: str, shop: Path, outputs: Path
) -> None:
    # a repeated key multiplies what joins on it (a SKU's lines, a user's events) or counts a
    # thing twice: the numbers would double without a word, so it stops the run
    write_table(shop, table, header, *rows)
    err = run_error(shop, outputs)
    assert "fails the value checks" in err
    [line] = [ln for ln in err.splitlines() if expected in ln]
    assert advice in line


def test_rows_the_metrics_sum_are_not_taken_for_repeated_keys(shop: Path) -> None:
    # locations of a SKU and date, a user's reviews of a SKU at two times, two cost rows of one
    # item, two spend rows of one channel and day and two parcels of one order are all counted
    # or summed by the metrics as they are: no error, no note
    write_table(
        shop, "inventory", INVENTORY_HEADER + ",location", "2025-03-01,S1,5,A", "2025-03-01,S1,3,B"
    )
    write_table(
        shop,
        "reviews",
        REVIEWS_HEADER,
        "S1,u1,2025-03-03 10:00:00,5",
        "S1,u1,2025-03-04 10:00:00,4",
    )
    write_table(
        shop,
        "costs",
        COSTS_HEADER,
        "2025-03-01,operating,software,10.0",
        "2025-03-01,operating,software,12.0",
    )
    write_table(
        shop,
        "marketing_spend",
        SPEND_HEADER,
        "2025-03-01,ads,CPC,100,5,3.0",
        "2025-03-01,ads,CPC,90,4,2.0",
    )
    write_table(
        shop,
        "shipments",
        SHIPMENTS_HEADER,
        "o1,SF,2025-03-01 05:00:00,2025-03-02 05:00:00,6.0",
        "o1,SF,2025-03-01 06:00:00,,6.0",
    )
    source = data.open_source(shop)
    assert quality.check_values(source, now=NOW) == []
    assert quality.validate(source, PERIOD, now=NOW) == []


def test_exact_copies_of_order_lines_are_kept_and_noted(shop: Path, outputs: Path) -> None:
    # two equal lines are what an order holding one SKU at one price twice looks like, and every
    # metric sums lines (two lines of 1 unit = one line of 2 units): a note, not an error
    edit(shop, "order_items", repeat_first(2))
    code, _, err = call([*RANGE, "--source", str(shop), "--dry-run"])
    assert code == 0, err
    [note] = [line for line in err.splitlines() if "order_items rows" in line]
    assert note.startswith("note: 2 of 10 order_items rows (20.00%) repeat another row exactly")
    assert "e.g. order_id 'o1', sku_id 'S1', quantity 1, unit_price 100.0 in 3 rows" in note
    assert "drop them in the export" in note
    assert not outputs.exists()


@pytest.mark.parametrize(
    ("table", "header", "row", "effect"),
    [
        pytest.param(
            "shipments",
            SHIPMENTS_HEADER,
            "o1,SF,2025-03-01 05:00:00,2025-03-02 05:00:00,6.0",
            "shipping cost",
            id="shipments",
        ),
        pytest.param(
            "costs",
            COSTS_HEADER,
            "2025-03-01,people,salaries,900.0",
            "add to the month's costs",
            id="costs",
        ),
        pytest.param(
            "marketing_spend",
            SPEND_HEADER,
            "2025-03-01,ads,CPC,100,5,3.0",
            "add to the channel's spend",
            id="marketing_spend",
        ),
    ],
)
def test_exact_copies_in_tables_without_a_key_are_noted(
    table: str, header: str, row: str, effect: str, shop: Path
) -> None:
    write_table(shop, table, header, row, row)
    [note] = quality.validate(data.open_source(shop), PERIOD, now=NOW)
    assert note.startswith(f"note: 1 of 2 {table} rows (50.00%) repeat another row exactly")
    assert "in 2 rows" in note and effect in note


def test_repeat_checks_never_group_the_events(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # grouping 100M events costs ~20 s; the events' only grouping is duplicate_events, in the
    # period. Tables with a one-column key find repeats in the scan they already get.
    grouped = []
    original = quality.find_repeats
    monkeypatch.setattr(
        quality,
        "find_repeats",
        lambda src, name, cols: grouped.append(name) or original(src, name, cols),
    )
    write_table(shop, "users", USERS_HEADER, "u1,2025-03-01 00:00:00,ads,east")
    write_table(shop, "inventory", INVENTORY_HEADER, "2025-03-01,S1,5")
    quality.validate(data.open_source(shop), PERIOD, now=NOW)
    assert sorted(grouped) == ["inventory", "order_items"]


# ------------------------------------------------------------------ broken files


def test_csv_broken_row_beyond_the_sniffer_names_file_and_line(shop: Path, outputs: Path) -> None:
    # DuckDB sniffs the first 20,480 rows; a bad value after them fails only when the data is
    # scanned, which the runner's value check does before any notebook starts
    rows = [f"2025-03-02 10:00:00,u{i},page_view,,,,," for i in range(25_000)]
    rows[22_000] = "2025-03-02 10:00:00,u1,page_view,,,,web,app,extra"  # nine fields
    header = (shop / "events.csv").read_text().splitlines()[0]
    (shop / "events.csv").write_text("\n".join([header, *rows]) + "\n")
    err = run_error(shop, outputs)
    assert "events.csv" in err and "line 22002" in err and "extra" in err
    assert len(err.strip().splitlines()) <= 2


@pytest.mark.parametrize(
    ("table", "change", "expected"),
    [
        pytest.param(
            "orders",
            set_value("paid_amount", "abc", slice(2, 3)),
            ["column 'paid_amount' should be a number", "orders.csv", "line 4", "abc"],
            id="csv_bad_value",
        ),
        pytest.param(
            "events",
            set_value("event_time", "01.03.2025 10am", slice(4, 5)),
            ["column 'event_time' should be a timestamp", "events.csv", "line 6", "10am"],
            id="csv_bad_timestamp",
        ),
    ],
)
def test_csv_bad_value_the_sniffer_saw_names_the_line(
    table: str, change, expected: list[str], shop: Path, outputs: Path
) -> None:
    edit(shop, table, change)
    err = run_error(shop, outputs)
    for text in expected:
        assert text in err


def test_csv_row_with_an_extra_field_names_the_line(shop: Path, outputs: Path) -> None:
    path = shop / "orders.csv"
    lines = path.read_text().splitlines()
    lines[3] += ",surplus"
    path.write_text("\n".join(lines) + "\n")
    err = run_error(shop, outputs)
    assert "orders.csv" in err and "line 4" in err and "Expected Number of Columns" in err
    assert "missing column" not in err  # a consequence of the row, not a second problem


def test_csv_row_with_too_few_fields_names_the_line(shop: Path, outputs: Path) -> None:
    path = shop / "orders.csv"
    lines = path.read_text().splitlines()
    lines[2] = ",".join(lines[2].split(",")[:4])  # row 3: 4 of 9 fields
    path.write_text("\n".join(lines) + "\n")
    err = run_error(shop, outputs)
    assert "orders.csv" in err and "line 3: Expected Number of Columns: 9 Found: 4" in err
    assert "the row reads: o2,u1,2025-03-05 23:00:00,2025-03-05 23:30:00" in err
    assert "missing column" not in err


def _orders_csv_with_a_short_row(path: Path, rows: int, short_line: int) -> str:
    """``rows`` orders, the one on ``short_line`` (the header is line 1) cut to 4 fields."""
    header = (SOURCE / "orders.csv").read_text().splitlines()[0]
    body = [
        f"o{i},u{i % 7},2025-03-01 10:00:00,2025-03-01 10:05:00,paid,{i % 90}.5,0.0,,search"
        for i in range(rows)
    ]
    short = ",".join(body[short_line - 2].split(",")[:4])
    body[short_line - 2] = short
    text = "\n".join([header, *body]) + "\n"
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return short


@pytest.mark.parametrize("name", ["orders.csv", "orders.csv.gz"])
def test_csv_row_that_fails_the_sniffer_names_the_line(
    name: str, shop: Path, outputs: Path
) -> None:
    # a short row after DuckDB's first 2,048 rows but inside the ~20,000 it samples fails the
    # dialect detection itself, with a message naming no line
    (shop / "orders.csv").unlink()
    short = _orders_csv_with_a_short_row(shop / name, 3_000, 2_500)
    err = run_error(shop, outputs)
    assert f"cannot read table 'orders' ({shop / name})" in err
    assert "line 2500: Expected Number of Columns: 9 Found: 4" in err
    assert f"the row reads: {short};" in err
    assert "sniffing" not in err and len(err.strip().splitlines()) == 1


def test_two_files_for_one_table_stop_the_run_naming_both(shop: Path, outputs: Path) -> None:
    # which one a run read would depend on the order of names: half a month, say, of orders
    duckdb.execute(
        f"copy (select * from read_csv_auto('{shop / 'orders.csv'}') limit 2) "
        f"to '{shop / 'orders.parquet'}' (format parquet)"
    )
    err = run_error(shop, outputs)
    assert "table 'orders' is claimed by 2 files: orders.csv and orders.parquet" in err
    assert "move the other out of the folder" in err


def test_corrupt_parquet_names_the_file(shop: Path, outputs: Path) -> None:
    (shop / "events.csv").unlink()
    (shop / "events.parquet").write_bytes(b"PAR1 not really parquet")
    err = run_error(shop, outputs)
    assert "events.parquet" in err


# ------------------------------------------------------------------ kept and counted: notes


def test_unknown_event_names_are_kept_and_counted(shop: Path, outputs: Path) -> None:
    names = ["foo"] * 4 + ["bar"] * 3 + ["baz"] * 2 + ["qux", "quux", "corge"]

    def add_unknown(frame: pd.DataFrame) -> pd.DataFrame:
        extra = pd.concat([frame.iloc[:1]] * len(names), ignore_index=True)
        extra["event_name"] = names
        return pd.concat([frame, extra], ignore_index=True)

    edit(shop, "events", add_unknown)
    source = data.open_source(shop)
    assert quality.unknown_event_names(source) == (
        12,
        6,
        [("foo", 4), ("bar", 3), ("baz", 2), ("corge", 1), ("quux", 1)],
    )
    code, _, err = call([*RANGE, "--source", str(shop), "--dry-run"])
    assert code == 0, err
    [note] = [line for line in err.splitlines() if "outside the contract's list" in line]
    assert note.startswith("note: 12 events have 6 name(s)")
    assert "'foo' 4, 'bar' 3, 'baz' 2, 'corge' 1, 'quux' 1 and 1 more" in note
    assert not outputs.exists()


def test_duplicate_events_are_counted_reported_and_deduplicated_on_request(
    shop: Path, outputs: Path
) -> None:
    edit(shop, "events", repeat_first(1))  # an event of 2025-03-01 ...

    def repeat_an_early_one(frame: pd.DataFrame) -> pd.DataFrame:
        early = frame[frame["event_time"] < "2025-03-01"].iloc[:1]  # ... and one before the range
        return pd.concat([frame, early, early], ignore_index=True)

    edit(shop, "events", repeat_an_early_one)
    raw = data.open_source(shop)
    assert quality.duplicate_events(raw) == (20, 3)
    assert quality.duplicate_events(raw, PERIOD)[1] == 1  # only the range's duplicates

    code, _, err = call([*RANGE, "--source", str(shop), "--dry-run"])
    assert code == 0, err
    assert "note: 1 of " in err and "repeat another event exactly" in err

    # null columns take part in the comparison: a copy differing only by a null is no copy
    def null_variant(frame: pd.DataFrame) -> pd.DataFrame:
        variant = frame.iloc[:1].copy()
        variant["sku_id"] = None if pd.notna(variant["sku_id"].iloc[0]) else "S-other"
        return pd.concat([frame, variant], ignore_index=True)

    edit(shop, "events", null_variant)
    assert quality.duplicate_events(data.open_source(shop)) == (21, 3)
    # the rule: users are counted distinct, so duplicates only add to event counts
    deduped = data.open_source(shop, dedupe_events=True)
    assert raw["events"].count().to_pandas() == 21
    assert deduped["events"].count().to_pandas() == 18
    before = traffic.daily_traffic(raw["events"], PERIOD)
    after = traffic.daily_traffic(deduped["events"], PERIOD)
    pd.testing.assert_series_equal(before["uv"], after["uv"])
    assert before["events"].sum() - after["events"].sum() == 1

    # the same from the command line: the real traffic notebook with -p dedupe_events true
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = run.main(
            [*RANGE, "--timezone", PERIOD.timezone, "--source", str(shop), "--notebooks", "traffic"]
            + ["--quiet", "--output", str(outputs / "deduped"), "-p", "dedupe_events", "true"]
        )
    assert code == 0, err.getvalue()
    written = pd.read_csv(outputs / "deduped" / "tables" / "traffic_daily.csv")
    assert written["events"].tolist() == after["events"].tolist()
    assert written["uv"].tolist() == before["uv"].tolist()


def test_dedupe_keeps_extra_columns_from_one_of_the_copies() -> None:
    events = events_table([("2025-03-01T10:00:00", "u1", "page_view")] * 3).mutate(
        event_id=ibis.row_number()
    )
    deduped = data.dedupe(events)
    frame = deduped.to_pandas()
    assert len(frame) == 1 and "event_id" in frame.columns


# ------------------------------------------------------------------ broken CSV rows on Spark


@pytest.mark.spark
# pyspark says its Arrow transfer met the error: expected here, the error is the point
@pytest.mark.filterwarnings("ignore:toPandas attempted Arrow optimization:UserWarning")
def test_spark_names_the_line_of_a_csv_row_with_too_few_fields(shop: Path) -> None:
    # PERMISSIVE Spark would read the missing fields as nulls; FAILFAST makes the first query
    # fail, and the error names the file's line by finding the row Spark quotes
    with (shop / "orders.csv").open("a") as handle:
        handle.write("o99,u1,2025-03-02 10:00:00\n")  # 3 of 9 fields: line 10
    source = data.open_source(f"spark://{shop}")
    with pytest.raises(data.DataError) as caught:
        quality.validate(source, PERIOD, now=NOW)
    message = str(caught.value)
    assert "table 'orders'" in message and "orders.csv" in message
    assert "line 10: the row has too few or too many fields" in message
    assert "the row reads: o99,u1,2025-03-02 10:00:00" in message


@pytest.mark.spark
def test_spark_counts_duplicate_events_as_duckdb_does(shop: Path) -> None:
    # Spark's row hash is 32-bit: the exact second phase decides, as on DuckDB
    edit(shop, "events", repeat_first(2))
    expected = quality.duplicate_events(data.open_source(shop))
    assert expected[1] == 2
    assert quality.duplicate_events(data.open_source(f"spark://{shop}")) == expected


@pytest.mark.spark
def test_spark_source_names_the_line_of_an_unreadable_value(shop: Path) -> None:
    edit(shop, "orders", lambda f: f.assign(paid_amount=f["paid_amount"].mask(f.index == 2, "n/a")))
    with pytest.raises(data.DataError) as caught:
        data.open_source(f"spark://{shop}")
    message = str(caught.value)
    # Spark reads the column as text; DuckDB's strict reader names the row (header = line 1)
    assert "column 'paid_amount' should be a number" in message
    assert "line 4" in message and "n/a" in message


# ------------------------------------------------------------------ a range without data


def test_rows_in_range_counts_events_and_orders_in_the_utc_bounds(shop: Path) -> None:
    source = data.open_source(shop)
    assert data.rows_in_range(source, PERIOD) == {"events": 15, "orders": 8}
    assert data.rows_in_range(source, Period("2024-01-01", "2024-01-31")) == {
        "events": 0,
        "orders": 0,
    }


def test_a_range_without_data_is_refused_naming_where_the_data_is(outputs: Path) -> None:
    code, out, err = call(
        ["--start", "2024-01-01", "--end", "2024-01-07", "--source", str(SOURCE),
         "--timezone", "Asia/Shanghai", "--dry-run"]
    )  # fmt: skip
    assert code == 2 and out == "", err
    [error] = err.splitlines()
    assert error.startswith("error: no events or orders from 2024-01-01 to 2024-01-07 (Asia/")
    assert "events run from 2025-02-27 to 2025-03-10" in error
    assert "orders run from 2025-03-01 to 2025-03-07" in error
    assert not outputs.exists()


# ------------------------------------------------------------------ property tests

P_PERIOD = Period("2025-03-02", "2025-03-04")
P_START = dt.datetime(2025, 3, 1)
USERS = [f"u{i}" for i in range(6)]
NAMES = [*funnel.DEFAULT_STEPS, "page_view", "session_start"]
# No example database: a test run should not leave a .hypothesis folder in the project.
PROPERTY_SETTINGS = settings(max_examples=50, deadline=None, database=None)


@st.composite
def event_rows(draw: st.DrawFn) -> list[tuple]:
    """1–40 events of a few users over five days around :data:`P_PERIOD`, to the minute."""
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(0, 5 * 24 * 60),
                st.sampled_from(USERS),
                st.sampled_from(NAMES),
                st.sampled_from(["s1", "s2", None]),
            ),
            min_size=1,
            max_size=40,
        )
    )
    return [
        ((P_START + dt.timedelta(minutes=m)).isoformat(), user, name, session)
        for m, user, name, session in rows
    ]


@st.composite
def order_rows(draw: st.DrawFn) -> list[tuple]:
    """0–25 orders with unique ids; paid a few minutes later unless unpaid."""
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(0, 5 * 24 * 60),
                st.sampled_from(USERS),
                st.sampled_from(data.ORDER_STATUSES),
                st.integers(0, 500),
                st.integers(0, 90),
            ),
            max_size=25,
        )
    )
    orders = []
    for index, (m, user, status, amount, delay) in enumerate(rows):
        placed = P_START + dt.timedelta(minutes=m)
        paid = None if status == "unpaid" else (placed + dt.timedelta(minutes=delay)).isoformat()
        orders.append((f"o{index}", user, placed.isoformat(), paid, status, float(amount)))
    return orders


def _orders(rows: list[tuple]):
    if rows:
        return orders_table(rows)
    # an empty frame has no dtypes to infer: give the contract's schema explicitly
    return orders_table([("o", "u", "2025-03-01T00:00:00", None, "paid", 0.0)]).limit(0)


def _shuffled(rows: list[tuple], seed: int) -> list[tuple]:
    copy = list(rows)
    random.Random(seed).shuffle(copy)
    return copy


@PROPERTY_SETTINGS
@given(event_rows())
def test_funnel_counts_never_increase_and_rates_stay_in_0_1(rows: list[tuple]) -> None:
    table = funnel.funnel_table(events_table(rows), P_PERIOD)
    users = table["users"].tolist()
    assert all(a >= b for a, b in zip(users, users[1:], strict=False))
    for column in ("conversion_from_start", "conversion_from_previous"):
        rates = table[column].dropna()
        assert ((rates >= 0) & (rates <= 1)).all()
    assert (table["drop_off"] >= 0).all()


@PROPERTY_SETTINGS
@given(event_rows())
def test_retention_on_day_0_is_1_for_event_cohorts(rows: list[tuple]) -> None:
    table = retention.cohort_retention(events_table(rows), P_PERIOD, max_day=3)
    day0 = table[table["day"] == 0]
    assert (day0["retention_rate"] == 1).all()
    assert day0["cohort_size"].sum() == table.drop_duplicates("cohort_date")["cohort_size"].sum()
    for column in ("retention_rate", "retention_rate_on_or_after"):
        assert table[column].between(0, 1).all()


@PROPERTY_SETTINGS
@given(order_rows())
def test_repurchase_rate_is_at_most_1(rows: list[tuple]) -> None:
    summary = repurchase.repurchase_summary(_orders(rows), P_PERIOD).iloc[0]
    assert summary["repeat_buyers"] <= summary["buyers"]
    if summary["buyers"]:
        assert 0 <= summary["repurchase_rate"] <= 1
        assert 0 <= summary["repeat_gmv"] <= summary["gmv"] + 1e-9


def _results(events, orders) -> dict[str, pd.DataFrame]:
    return {
        "funnel": funnel.funnel_table(events, P_PERIOD),
        "retention": retention.cohort_retention(events, P_PERIOD, max_day=3),
        "repurchase": repurchase.repurchase_summary(orders, P_PERIOD),
    }


def _assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for name in a:
        # sums of floats may differ in the last bits with the order they are added in
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=False, obj=name)


@settings(PROPERTY_SETTINGS, max_examples=15)  # each example runs every metric twice
@given(event_rows(), order_rows(), st.integers(0, 2**32 - 1))
def test_results_do_not_depend_on_row_order(
    events: list[tuple], orders: list[tuple], seed: int
) -> None:
    _assert_same(
        _results(events_table(events), _orders(orders)),
        _results(events_table(_shuffled(events, seed)), _orders(_shuffled(orders, seed))),
    )


def _write(table, path: Path, parts: int) -> None:
    """Write an Ibis table as one Parquet file or as a folder of ``parts`` files, same schema."""
    frame = table.to_pyarrow()
    if parts == 1:
        pq.write_table(frame, path.with_suffix(".parquet"))
        return
    path.mkdir()
    size = -(-frame.num_rows // parts) if frame.num_rows else 0
    for index in range(parts):
        piece = frame.slice(index * size, size) if size else frame
        pq.write_table(piece, path / f"part-{index}.parquet")


@settings(PROPERTY_SETTINGS, max_examples=10)
@given(event_rows(), order_rows())
def test_results_do_not_depend_on_splitting_a_parquet_file(
    events: list[tuple], orders: list[tuple]
) -> None:
    # Hypothesis runs many examples per test, so each makes its own folders (not tmp_path)
    with tempfile.TemporaryDirectory() as root:
        one, two = Path(root, "one"), Path(root, "two")
        for folder, parts in ((one, 1), (two, 2)):
            folder.mkdir()
            _write(events_table(events), folder / "events", parts)
            _write(_orders(orders), folder / "orders", parts)
        whole, split = data.open_source(one), data.open_source(two)
        assert (two / "events").is_dir() and not (two / "events.parquet").exists()
        _assert_same(
            _results(whole["events"], whole["orders"]),
            _results(split["events"], split["orders"]),
        )
