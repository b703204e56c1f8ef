"""Text that is literally "(unknown)", the reports' label of a missing value, is named by a note
(issue 16): it is kept and reported together with the missing values, in one row, and a value
map of a source mapping keeps it apart (docs/reliability.md, docs/bring-your-own-data.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from lib import data, quality, traffic
from lib.definitions import UNKNOWN
from lib.periods import Period
from tests.runner_support import call

pytest_plugins = ("tests.runner_fixtures",)

PERIOD = Period("2025-03-01", "2025-03-02", "UTC")
NOW = dt.datetime(2025, 6, 1)
EVENTS = """event_time,user_id,event_name,session_id,sku_id,channel,slot,platform
2025-03-01 10:00:00,u1,view_item,s1,S1,web,,app
2025-03-01 11:00:00,u2,view_item,s2,S2,,,app
2025-03-01 12:00:00,u3,view_item,s3,S2,(unknown),,app
2025-03-02 12:00:00,u3,page_view,s4,,(unknown),,app
2025-03-02 13:00:00,u4,page_view,s5,,(Unknown),,app
"""
PRODUCTS = """sku_id,category
S1,shoes
S2,(unknown)
"""
USERS = """user_id,signup_time,acquisition_channel,region
u1,2025-02-01 00:00:00,ads,north
u2,2025-02-01 00:00:00,ads,(unknown)
"""
NOTE = (
    "note: table '{table}' column '{column}' holds the text '(unknown)' in {rows}; the reports "
    "label a missing {column} (unknown) too, so these rows are reported together with the "
    "missing ones, in one row; to keep them apart, rename that value in the export (or with a "
    "value map in a source mapping, docs/bring-your-own-data.md)"
)


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    folder = tmp_path / "shop"
    folder.mkdir()
    for name, text in (("events", EVENTS), ("products", PRODUCTS), ("users", USERS)):
        (folder / f"{name}.csv").write_text(text)
    return folder


def test_each_column_holding_the_label_gets_one_note_naming_table_column_and_rows(shop):
    notes = quality.validate(data.open_source(shop), PERIOD, now=NOW)
    labelled = [n for n in notes if "'(unknown)'" in n]
    # in the order of the tables' checks; '(Unknown)' is another text and stays apart
    assert labelled == [
        NOTE.format(table="events", column="channel", rows="2 rows"),
        NOTE.format(table="products", column="category", rows="1 row"),
        NOTE.format(table="users", column="region", rows="1 row"),
    ]


def test_the_note_says_what_the_breakdowns_do(shop):
    # the missing channel (u2) and the literal one (u3) share one row: what the note announces
    rows = traffic.traffic_by(data.open_source(shop)["events"], PERIOD, "channel").set_index(
        "channel"
    )
    assert rows.loc[UNKNOWN, "users"] == 2
    assert rows.loc[UNKNOWN, "events"] == 3
    assert rows.loc["(Unknown)", "users"] == 1


def test_the_runner_prints_the_note_before_any_notebook(shop, outputs):
    code, _, err = call(
        ["--start", "2025-03-01", "--end", "2025-03-02", "--timezone", "UTC"]
        + ["--source", str(shop), "--notebooks", "traffic", "--dry-run"]
    )
    assert code == 0, err
    assert NOTE.format(table="events", column="channel", rows="2 rows") in err


def test_a_value_map_keeps_the_shops_own_unknown_apart(shop):
    (shop / "shop.yaml").write_text(
        "tables:\n"
        "  events:\n"
        "    from: events.csv\n"
        "    values: {channel: {'(unknown)': 'unknown channel'}}\n"
        "  products:\n"
        "    from: products.csv\n"
    )
    source = data.open_source(shop / "shop.yaml")
    notes = quality.validate(source, PERIOD, now=NOW)
    assert not [n for n in notes if "'(unknown)'" in n and "'events'" in n]
    assert NOTE.format(table="products", column="category", rows="1 row") in notes
    rows = traffic.traffic_by(source["events"], PERIOD, "channel").set_index("channel")
    assert rows.loc[UNKNOWN, "users"] == 1  # u2's missing channel alone
    assert rows.loc["unknown channel", "users"] == 1
