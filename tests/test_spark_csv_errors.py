"""A CSV file Spark cannot read is one line naming the file, not Py4J's Java traceback (issue 16).

Part of the DuckDB/PySpark parity suite (docs/engines.md): it needs Java, and
``pytest --skip-spark`` skips it visibly. Rows Spark reads but cannot parse, and values of the
wrong type, are tested in tests/test_reliability.py (``test_spark_…``).
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from lib import data

from .conftest import KNOWN_ANSWERS

pytestmark = pytest.mark.spark


def test_a_csv_gz_cut_short_is_one_line_naming_the_file(tmp_path: Path) -> None:
    shutil.copytree(KNOWN_ANSWERS / "source", tmp_path, dirs_exist_ok=True)
    plain = tmp_path / "orders.csv"
    packed = gzip.compress(plain.read_bytes())
    plain.unlink()
    # an interrupted download: Spark reads the whole file to infer its types, and fails there
    (tmp_path / "orders.csv.gz").write_bytes(packed[:-20])
    with pytest.raises(data.DataError) as caught:
        data.open_source(f"spark://{tmp_path}")
    message = str(caught.value)
    assert message == (
        f"cannot read table 'orders' ({tmp_path / 'orders.csv.gz'}) on Spark: Unexpected end of "
        "input stream; export the table again"
    )


def test_text_in_a_timestamp_column_names_the_file_column_and_line(tmp_path: Path) -> None:
    shutil.copytree(KNOWN_ANSWERS / "source", tmp_path, dirs_exist_ok=True)
    events = tmp_path / "events.csv"
    lines = events.read_text().splitlines()
    lines[3] = "yesterday," + lines[3].split(",", 1)[1]
    events.write_text("\n".join(lines) + "\n")
    with pytest.raises(data.DataError) as caught:
        data.open_source(f"spark://{tmp_path}")
    problems = str(caught.value).splitlines()[1:]
    assert problems == [
        "  - table 'events' column 'event_time' should be a timestamp but is string",
        "  - table 'events' (events.csv): the first row that cannot be read is line 4: Error "
        'when converting column "event_time". Could not convert string "yesterday" to '
        f"'TIMESTAMP'; the row reads: {lines[3]}",
    ]
