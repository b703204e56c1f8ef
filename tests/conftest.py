"""Shared fixtures: tiny sources whose answers are worked out by hand."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import ibis
import pandas as pd
import pytest

from lib import data

# Stored user-days and check results (lib.data.cache_folder) go to a folder of this test session:
# a test never reads what another session, or the developer's own runs, left behind.
os.environ["ECOMMERCE_OPS_CACHE"] = tempfile.mkdtemp(prefix="ecommerce-ops-tests-")

FIXTURES = Path(__file__).parent / "fixtures"
KNOWN_ANSWERS = FIXTURES / "known_answers"


@pytest.fixture(scope="session")
def known_source() -> data.Source:
    return data.open_source(KNOWN_ANSWERS / "source")


def memtable(rows: list[dict], **types: str) -> ibis.Table:
    """An in-memory Ibis table from rows; timestamps given as ISO strings are parsed as UTC."""
    frame = pd.DataFrame(rows)
    for column in frame.columns:
        if column.endswith("_time"):
            frame[column] = pd.to_datetime(frame[column], format="ISO8601")
    return ibis.memtable(frame, schema=types or None)


def events_table(rows: list[tuple]) -> ibis.Table:
    """Events from ``(event_time, user_id, event_name[, session_id, sku_id, channel, slot,
    platform])`` tuples."""
    columns = [
        "event_time",
        "user_id",
        "event_name",
        "session_id",
        "sku_id",
        "channel",
        "slot",
        "platform",
    ]
    padded = [tuple(row) + (None,) * (len(columns) - len(row)) for row in rows]
    frame = pd.DataFrame(padded, columns=columns)
    frame["event_time"] = pd.to_datetime(frame["event_time"], format="ISO8601")
    schema = {"event_time": "timestamp", **{c: "string" for c in columns[1:]}}
    return ibis.memtable(frame, schema=schema)


def orders_table(rows: list[tuple]) -> ibis.Table:
    """Orders from ``(order_id, user_id, order_time, paid_time, status, paid_amount)``."""
    columns = ["order_id", "user_id", "order_time", "paid_time", "status", "paid_amount"]
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("order_time", "paid_time"):
        frame[column] = pd.to_datetime(frame[column], format="ISO8601")
    frame["discount_amount"] = 0.0
    frame["coupon_id"] = None
    frame["channel"] = None
    schema = {
        "order_id": "string",
        "user_id": "string",
        "order_time": "timestamp",
        "paid_time": "timestamp",
        "status": "string",
        "paid_amount": "float64",
        "discount_amount": "float64",
        "coupon_id": "string",
        "channel": "string",
    }
    return ibis.memtable(frame, schema=schema)


def shop_orders(rows: list[tuple]) -> ibis.Table:
    """Orders from ``(order_id, user_id, paid_time, status, paid_amount, discount, channel)``;
    each placed 5 minutes before it was paid (unpaid ones at 2025-03-12 01:00)."""
    columns = ["order_id", "user_id", "paid_time", "status", "paid_amount", "discount_amount"]
    frame = pd.DataFrame(rows, columns=[*columns, "channel"])
    frame["paid_time"] = pd.to_datetime(frame["paid_time"], format="ISO8601")
    frame["order_time"] = (frame["paid_time"] - pd.Timedelta(minutes=5)).fillna(
        pd.Timestamp("2025-03-12 01:00")
    )
    frame["coupon_id"] = None
    schema = {
        "order_id": "string",
        "user_id": "string",
        "paid_time": "timestamp",
        "status": "string",
        "paid_amount": "float64",
        "discount_amount": "float64",
        "channel": "string",
        "order_time": "timestamp",
        "coupon_id": "string",
    }
    return ibis.memtable(frame, schema=schema)


def items_table(rows: list[tuple]) -> ibis.Table:
    """Order lines from ``(order_id, sku_id, quantity, unit_price)`` rows."""
    frame = pd.DataFrame(rows, columns=["order_id", "sku_id", "quantity", "unit_price"])
    schema = {
        "order_id": "string",
        "sku_id": "string",
        "quantity": "int64",
        "unit_price": "float64",
    }
    return ibis.memtable(frame, schema=schema)


def printed(notebook: Path) -> str:
    """What an executed notebook's cells printed, and the section notes they showed
    (:func:`lib.sections.show`), as one text."""
    import nbformat

    from lib.sections import NOTE_METADATA

    cells = nbformat.read(notebook, as_version=4).cells
    return "".join(
        output.get("text", "")
        if output.output_type == "stream"
        else str(output.get("data", {}).get("text/plain", "")) + "\n"
        for cell in cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.output_type == "stream" or NOTE_METADATA in output.get("metadata", {})
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--skip-spark",
        action="store_true",
        help="skip the DuckDB/PySpark parity tests (they need Java); the skip is reported",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--skip-spark"):
        return
    skip = pytest.mark.skip(reason="--skip-spark given: DuckDB/PySpark parity not checked")
    for item in items:
        if "spark" in item.keywords:
            item.add_marker(skip)
