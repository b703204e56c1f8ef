"""Files a Spark source opens as DuckDB does, and the one-line errors of those it cannot open.

Part of the DuckDB/PySpark parity suite (docs/engines.md): it needs Java, and
``pytest --skip-spark`` skips it visibly, as tests/test_backend_parity.py.
"""

from __future__ import annotations

from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib import data

pytestmark = pytest.mark.spark

# Written as datetime64[ns] (pd.to_datetime's unit before pandas 3, and still that of many
# exports). Whole microseconds: DuckDB keeps a nanosecond column's digits below the
# microsecond, which Spark cannot hold (docs/engines.md).
EVENT_TIMES = [
    "2025-03-01 00:00:00.123456",
    "2025-03-01 12:30:00",
    "2025-03-02 23:59:59.999999",
    None,
]


def _nanos(values: list, zone: str | None = None) -> pd.Series:
    """Timestamps as datetime64[ns] (pandas 3 infers the unit from text: microseconds here)."""
    times = pd.Series(pd.to_datetime(values, format="ISO8601"))
    return (times.dt.tz_localize(zone) if zone else times).astype(
        f"datetime64[ns, {zone}]" if zone else "datetime64[ns]"
    )


def _types(table: ibis.Table) -> dict[str, str]:
    """Each column's type, a timestamp's scale left out: DuckDB keeps a nanosecond column's
    scale (9) where Spark's is its one microsecond type (the values are compared below)."""
    return {
        name: str(dtype.copy(scale=None) if dtype.is_timestamp() else dtype)
        for name, dtype in table.schema().items()
    }


def _write(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` keeping nanosecond timestamps as Parquet TIMESTAMP(NANOS)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, path, coerce_timestamps=None, use_deprecated_int96_timestamps=False)


def _nanosecond_shop(folder: Path) -> Path:
    """events and orders Parquet files with pandas' nanosecond timestamps (one zoned)."""
    events = pd.DataFrame(
        {
            "event_time": _nanos(EVENT_TIMES),
            "user_id": ["u1", "u2", "u1", "u3"],
            "event_name": ["page_view", "view_item", "purchase", "page_view"],
            **{
                column: ["a", None, "b", None]
                for column in ("session_id", "sku_id", "channel", "slot", "platform")
            },
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2"],
            "user_id": ["u1", "u2"],
            "order_time": _nanos(["2025-03-02 23:59:59.999999", "1969-12-31 23:59:59"]),
            # a zoned column: written with isAdjustedToUTC=true
            "paid_time": _nanos(["2025-03-03 00:00:00.000001", None], "UTC"),
            "status": ["paid", "unpaid"],
            "paid_amount": [10.5, 0.0],
            "discount_amount": [0.0, None],
            "coupon_id": [None, None],
            "channel": ["ads", None],
        }
    )
    _write(events, folder / "events.parquet")
    _write(orders, folder / "orders.parquet")
    return folder


def test_the_shop_really_has_nanosecond_parquet_timestamps(tmp_path):
    folder = _nanosecond_shop(tmp_path)
    for name, index in (("events", 0), ("orders", 2), ("orders", 3)):
        column = pq.read_metadata(folder / f"{name}.parquet").schema.column(index)
        assert column.name.endswith("_time")
        assert "nanoseconds" in str(column.logical_type)


@pytest.mark.parametrize(
    ("name", "keys"), [("events", ["event_time", "user_id"]), ("orders", ["order_id"])]
)
def test_nanosecond_timestamps_read_on_spark_as_on_duckdb(tmp_path, name, keys):
    folder = _nanosecond_shop(tmp_path)
    duck = data.open_source(folder)
    spark = data.open_source(f"spark://{folder}")
    assert spark.backend.name == "pyspark"
    assert _types(duck[name]) == _types(spark[name])
    left = duck[name].to_pandas().sort_values(keys, na_position="last").reset_index(drop=True)
    right = spark[name].to_pandas().sort_values(keys, na_position="last").reset_index(drop=True)
    times = [c for c in left.columns if c.endswith("_time")]
    for column in times:  # exactly, to the microsecond, nulls in place
        assert left[column].astype(str).tolist() == right[column].astype(str).tolist()
    # the engines hand pandas different units (DuckDB's cast zoned column is in microseconds)
    for frame in (left, right):
        frame[times] = frame[times].astype("datetime64[ns]")
    pd.testing.assert_frame_equal(left, right, check_dtype=False)


def test_a_folder_of_nanosecond_parts_reads_on_spark_as_on_duckdb(tmp_path):
    folder = _nanosecond_shop(tmp_path)
    parts = folder / "events"
    parts.mkdir()
    (folder / "events.parquet").rename(parts / "part-0.parquet")
    duck = data.open_source(folder)["events"].to_pandas()
    spark = data.open_source(f"spark://{folder}")["events"].to_pandas()
    order = ["event_time", "user_id"]
    assert (
        duck.sort_values(order).astype(str).values.tolist()
        == spark.sort_values(order).astype(str).values.tolist()
    )


def test_a_parquet_file_spark_cannot_read_is_one_line_naming_the_file(tmp_path):
    (tmp_path / "events.parquet").write_bytes(b"not a parquet file" * 10)
    with pytest.raises(data.DataError) as caught:
        data.open_source(f"spark://{tmp_path}")
    message = str(caught.value)
    assert len(message.splitlines()) == 1, message
    assert str(tmp_path / "events.parquet") in message
    assert "not a Parquet file" in message
    assert "Py4J" not in message and "at org.apache" not in message


def test_a_column_of_a_type_spark_cannot_read_is_named(tmp_path):
    _nanosecond_shop(tmp_path)
    events = pq.read_table(tmp_path / "events.parquet")
    # a time of day in nanoseconds: DuckDB reads it, Spark has no such type
    clock = pa.array([None] * events.num_rows, pa.time64("ns"))
    pq.write_table(events.append_column("clock", clock), tmp_path / "events.parquet")
    with pytest.raises(data.DataError) as caught:
        data.open_source(f"spark://{tmp_path}")
    message = str(caught.value)
    assert len(message.splitlines()) == 1, message
    assert str(tmp_path / "events.parquet") in message
    assert "column 'clock'" in message and "TIME(NANOS" in message
    assert "SQLSTATE" not in message


def test_a_folder_storing_one_column_in_two_units_is_one_line_naming_it(tmp_path):
    _nanosecond_shop(tmp_path)
    events = pq.read_table(tmp_path / "events.parquet")
    parts = tmp_path / "events"
    parts.mkdir()
    # the first file in microseconds: the nanosecond one comes second
    pq.write_table(events, parts / "part-0.parquet", coerce_timestamps="us")
    (tmp_path / "events.parquet").rename(parts / "part-1.parquet")
    with pytest.raises(data.DataError) as caught:
        data.open_source(f"spark://{tmp_path}")
    message = str(caught.value)
    assert len(message.splitlines()) == 1, message
    assert str(parts) in message and "column 'event_time'" in message


def test_duckdb_cuts_nanoseconds_to_microseconds_as_spark_does(tmp_path):
    frame = pd.DataFrame(
        {
            "event_time": pd.to_datetime(["2025-03-01 10:00:00.000001999"]),
            "user_id": ["u1"],
            "event_name": ["page_view"],
            "session_id": ["s1"],
            "sku_id": ["k1"],
            "channel": ["web"],
            "slot": ["top"],
            "platform": ["ios"],
        }
    )
    pq.write_table(
        pa.Table.from_pandas(frame, preserve_index=False),
        tmp_path / "events.parquet",
        coerce_timestamps=None,
    )
    events = data.open_source(tmp_path)["events"]
    assert (events.event_time.type().scale or 0) <= 6
    value = events.event_time.to_pandas().iloc[0]
    assert value == pd.Timestamp("2025-03-01 10:00:00.000001")  # truncated, not rounded up


def test_the_spark_console_stays_readable():
    session = data.spark_session()
    assert session.conf.get("spark.ui.showConsoleProgress") == "false"  # no stage bars
    manager = session.sparkContext._jvm.org.apache.logging.log4j.LogManager
    assert manager.getRootLogger().getLevel().toString() == "ERROR"  # no WARN lines
    for name in data.SPARK_QUIET_LOGGERS:
        assert manager.getLogger(name).getLevel().toString() == "OFF"
