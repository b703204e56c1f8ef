"""Opening sources: the contract check names every problem; tables come out normalised."""

from __future__ import annotations

import gzip
import shutil

import duckdb
import pandas as pd
import pytest

from lib import data

from .conftest import KNOWN_ANSWERS


@pytest.fixture
def shop(tmp_path):
    folder = tmp_path / "shop"
    shutil.copytree(KNOWN_ANSWERS / "source", folder)
    return folder


def test_folder_of_csv_opens_with_contract_types(shop):
    src = data.open_source(shop)
    assert set(src.tables) == {"events", "orders", "order_items", "products"}
    schema = src["events"].schema()
    assert schema["event_time"].is_timestamp()
    assert schema["session_id"].is_string()  # an all-empty CSV column
    assert src.optional("reviews") is None
    with pytest.raises(data.DataError, match="no 'reviews' table"):
        src.table("reviews")


def test_every_problem_is_named_at_once(shop):
    orders = pd.read_csv(shop / "orders.csv").drop(columns=["status"])
    orders["paid_amount"] = orders["paid_amount"].astype(str) + " CNY"
    orders.to_csv(shop / "orders.csv", index=False)
    events = pd.read_csv(shop / "events.csv")
    events["event_time"] = range(len(events))
    events.to_csv(shop / "events.csv", index=False)
    with pytest.raises(data.DataError) as error:
        data.open_source(shop)
    message = str(error.value)
    assert "table 'orders' is missing column(s) status" in message
    assert "table 'orders' column 'paid_amount' should be a number" in message
    assert "table 'events' column 'event_time' should be a timestamp" in message


def test_parquet_integer_ids_and_zoned_timestamps_are_normalised(tmp_path):
    frame = pd.DataFrame(
        {
            "order_id": [1, 2],
            "user_id": [10, 11],
            "order_time": pd.to_datetime(["2025-03-01 23:30", "2025-03-02 01:00"]).tz_localize(
                "Asia/Shanghai"
            ),
            "paid_time": pd.to_datetime(["2025-03-01 23:30", None]).tz_localize("Asia/Shanghai"),
            "status": ["paid", "unpaid"],
            "paid_amount": [5, 6],
            "discount_amount": [0.0, 0.0],
            "coupon_id": [None, None],
            "channel": ["ads", None],
        }
    )
    frame.to_parquet(tmp_path / "orders.parquet")
    orders = data.open_source(tmp_path)["orders"]
    assert orders.schema()["user_id"].is_string()
    assert orders.schema()["paid_amount"].is_floating()
    result = orders.to_pandas()
    # 23:30 Shanghai is 15:30 UTC: zoned timestamps become naive UTC.
    assert result["order_time"].iloc[0] == pd.Timestamp("2025-03-01 15:30")
    assert result["order_id"].tolist() == ["1", "2"]


def test_missing_folder_and_empty_folder(tmp_path):
    with pytest.raises(data.DataError, match="does not exist"):
        data.open_source(tmp_path / "nope")
    with pytest.raises(data.DataError, match="none of the contract's tables"):
        data.open_source(tmp_path)


def test_corrupt_parquet_names_the_file(tmp_path):
    (tmp_path / "events.parquet").write_bytes(b"PAR1 not really parquet")
    with pytest.raises(data.DataError, match="events.parquet"):
        data.open_source(tmp_path)


def test_require_lists_every_missing_table(shop):
    src = data.open_source(shop)
    with pytest.raises(data.DataError, match="lacks table\\(s\\) costs, reviews"):
        src.require("events", "costs", "reviews")


def test_bundled_sample_is_the_default():
    src = data.open_source(None)
    assert src.description == "the bundled sample shop (data/sample)"
    assert {"events", "orders", "order_items", "products"} <= set(src.tables)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgres://analyst:hunter2@db/shop", "postgres://analyst:***@db/shop"),
        ("duckdb:///tmp/shop.ddb", "duckdb:///tmp/shop.ddb"),
        ("trino://u@h/cat?password=hunter2&x=1", "trino://u@h/cat?password=***&x=1"),
        ("/data/shop", "/data/shop"),
    ],
)
def test_redact_hides_passwords(url, shown):
    assert data.redact(url) == shown


def test_url_source_with_env_password_is_not_echoed(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOP_PASSWORD", "hunter2")
    with pytest.raises(data.DataError) as error:
        data.open_source("postgres://analyst:${SHOP_PASSWORD}@127.0.0.1:1/shop")
    assert "hunter2" not in str(error.value)
    assert "cannot connect" in str(error.value)


def test_coverage_note_counts_rows_or_warns(shop):
    from lib.periods import Period

    src = data.open_source(shop)
    note = data.coverage_note(src, Period("2025-03-01", "2025-03-07", "Asia/Shanghai"))
    # UTC bounds 02-28 16:00 .. 03-07 16:00 (exclusive) leave out u4's view on 02-27, u2's cart
    # on 03-09 and u4's visit at 03-07 16:00 UTC, which is 03-08 00:00 local: 17 - 3 = 14.
    assert note == "2025-03-01..2025-03-07 (Asia/Shanghai, 7 days): 14 events, 8 orders."
    empty = data.coverage_note(src, Period("2024-01-01", "2024-01-02", "Asia/Shanghai"))
    assert empty.startswith("No events or orders fall in 2024-01-01..2024-01-02")
    # events run to local 03-10, orders to 03-07: the days after them are named
    partial = data.coverage_note(src, Period("2025-03-05", "2025-03-12", "Asia/Shanghai"))
    assert partial.endswith(
        " The data does not cover it all: no events on 2025-03-11 to 2025-03-12 (2 of 8 days); "
        "no orders on 2025-03-08 to 2025-03-12 (5 of 8 days)."
    )


def test_coverage_is_computed_once_for_unchanged_files(tmp_path, monkeypatch):
    import os

    from lib.periods import Period

    shop = tmp_path / "shop"
    shutil.copytree(KNOWN_ANSWERS / "source", shop)
    period = Period("2025-03-01", "2025-03-07", "Asia/Shanghai")
    queries = []
    computed = data._coverage
    monkeypatch.setattr(data, "_coverage", lambda *a: queries.append(1) or computed(*a))
    first = data.coverage(data.open_source(shop), period)
    # another notebook, another Source over the same files: no second query
    assert data.coverage(data.open_source(shop), period) == first and len(queries) == 1
    # another period, or a file changed since, is computed again
    data.coverage(data.open_source(shop), Period("2025-03-02", "2025-03-07", "Asia/Shanghai"))
    assert len(queries) == 2
    events = next(shop.glob("events.*"))
    stat = events.stat()
    os.utime(events, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert data.coverage(data.open_source(shop), period) == first and len(queries) == 3


def test_event_names_are_read_once_for_unchanged_files(tmp_path, monkeypatch):
    import os

    shop = tmp_path / "shop"
    shutil.copytree(KNOWN_ANSWERS / "source", shop)
    names = data.open_source(shop).possible_event_names()
    asked = []
    table = data.Source.table
    monkeypatch.setattr(data.Source, "table", lambda self, n: asked.append(n) or table(self, n))
    again = data.open_source(shop)
    asked.clear()
    assert again.possible_event_names() == names and asked == []  # another Source, same files
    events = next(shop.glob("events.*"))
    stat = events.stat()
    os.utime(events, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    changed = data.open_source(shop)
    asked.clear()
    assert changed.possible_event_names() == names and asked == ["events"]


def test_possible_event_names_read_once_per_source(tmp_path):
    frame = pd.DataFrame(
        {
            "event_time": pd.to_datetime(["2025-03-01 10:00", "2025-03-01 10:05"]),
            "user_id": ["a", "b"],
            "event_name": ["view_item", "page_view"],
        }
    )
    for column in ("session_id", "sku_id", "channel", "slot", "platform"):
        frame[column] = pd.Series([None, None], dtype="string")
    frame.to_parquet(tmp_path / "events.parquet")
    source = data.open_source(tmp_path)
    assert source.possible_event_names() == ("page_view", "view_item")
    (tmp_path / "events.parquet").unlink()  # a second read would fail: the answer is kept
    assert source.possible_event_names() == ("page_view", "view_item")


# ------------------------------------------------------------------ which file is which table


def _orders_parquet(csv_path, path, where=""):
    """The orders CSV (rows ``where`` …) as typed Parquet."""
    duckdb.execute(
        f"copy (select * from read_csv_auto('{csv_path}') {where}) to '{path}' (format parquet)"
    )


@pytest.mark.parametrize("form", ["orders.csv.gz", "Orders.CSV", "orders.parquet", "orders/"])
def test_a_table_is_read_from_each_accepted_form(shop, form):
    expected = pd.read_csv(shop / "orders.csv")
    original = shop / "original.txt"
    (shop / "orders.csv").rename(original)
    if form == "orders.csv.gz":
        (shop / form).write_bytes(gzip.compress(original.read_bytes()))
    elif form == "Orders.CSV":  # table names are matched in any case, like the endings
        (shop / form).write_bytes(original.read_bytes())
    elif form == "orders.parquet":
        _orders_parquet(original, shop / form)
    else:  # a folder of parts, as Spark writes it
        (shop / "orders").mkdir()
        _orders_parquet(original, shop / "orders" / "part-0.parquet", "where order_id <= 'o3'")
        _orders_parquet(original, shop / "orders" / "part-1.parquet", "where order_id > 'o3'")
    # files not named like a table are no concern of the source, broken or not
    (shop / "notes.csv").write_text('a,b\n1,"2\n')
    (shop / "orders_2024.json").write_text("{")
    src = data.open_source(shop)
    assert src.paths["orders"].name == form.rstrip("/")
    got = src["orders"].order_by("order_id").to_pandas()
    assert got["order_id"].tolist() == expected["order_id"].tolist()
    assert got["paid_amount"].sum() == expected["paid_amount"].sum()


@pytest.mark.parametrize(
    ("extra", "shown"),
    [
        ("orders.parquet", "orders.csv and orders.parquet"),
        ("orders/", "orders/ and orders.csv"),
        ("ORDERS.csv", "ORDERS.csv and orders.csv"),
    ],
)
def test_two_files_for_one_table_are_refused_naming_both(shop, extra, shown):
    if extra == "orders/":
        (shop / "orders").mkdir()
        _orders_parquet(shop / "orders.csv", shop / "orders" / "part-0.parquet")
    elif extra.endswith(".parquet"):
        _orders_parquet(shop / "orders.csv", shop / extra)
    else:
        (shop / extra).write_bytes((shop / "orders.csv").read_bytes())
    with pytest.raises(data.DataError) as error:
        data.open_source(shop)
    message = str(error.value)
    assert f"table 'orders' is claimed by 2 files: {shown}" in message
    assert "orders.parquet, orders.csv, orders.csv.gz or a folder orders/" in message
    assert message.count("\n  - ") == 1


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("events.tsv", "name it events.csv (the delimiter is detected)"),
        ("events.json", "convert it to Parquet or CSV"),
        ("events.csv.zip", "compress it with gzip as events.csv.gz"),
        ("events.csv.bak", "rename or convert it, or move it out of the folder"),
        ("events/", "it holds no .parquet file directly"),
    ],
)
def test_a_file_named_like_a_table_in_a_form_not_read_is_refused(shop, name, hint):
    # skipped in silence, it would make the notebooks needing the table skip "for want of it"
    events = shop / "events.csv"
    if name.endswith("/"):
        (shop / "events").mkdir()
        events.rename(shop / "events" / "part-0.csv")
    else:
        events.rename(shop / name)
    with pytest.raises(data.DataError) as error:
        data.open_source(shop)
    message = str(error.value)
    assert f"{name} is named like table 'events' but is not read: " in message
    assert hint in message and "a table is one of events.parquet, events.csv" in message
