"""examples/taobao/shop.yaml gives the same tables as the taobao:// adapter (lib/taobao.py) on the
adapter's own fixture (tests/test_taobao.py: the public file's headerless layout, a behaviour in
capitals and spaces, an unknown one, a row outside the collection window), and the raw-table
keys it needs (``header``, ``columns``) are checked like the rest of a mapping."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lib import data, quality

from .test_taobao import ROWS, write_csv

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "taobao" / "shop.yaml"
# the public file's collection window, Beijing time (lib.taobao.PUBLIC_DAYS), in Unix seconds
WINDOW = "1511539200", "1512316800"


def shop(folder: Path, rows: list[tuple] = ROWS, window: bool = False) -> Path:
    """The example mapping next to ``raw/UserBehavior.csv``; ``window``: its commented-out
    lines keeping the collection window switched on."""
    (folder / "raw").mkdir()
    write_csv(folder / "raw", rows)
    text = EXAMPLE.read_text(encoding="utf-8")
    if window:
        text = text.replace("    # filter:", "    filter:").replace("      -- and", "      and")
    (folder / "shop.yaml").write_text(text, encoding="utf-8")
    return folder / "shop.yaml"


def types(table) -> dict[str, str]:
    """Each column's type, a timestamp's nominal scale left out (Ibis types make_timestamp's
    result with scale 6 and the mapping's conversion without one: both DuckDB TIMESTAMP)."""
    return {
        name: str(dtype.copy(scale=None) if dtype.is_timestamp() else dtype)
        for name, dtype in table.schema().items()
    }


def tables(source: data.Source) -> dict[str, pd.DataFrame]:
    keys = {"events": ["user_id", "event_time", "event_name"], "products": ["sku_id"]}
    return {
        name: source[name].to_pandas().sort_values(key).reset_index(drop=True)
        for name, key in keys.items()
    }


@pytest.mark.parametrize("window", [False, True], ids=["whole-file", "collection-window"])
def test_the_mapping_gives_the_adapters_tables(tmp_path: Path, window: bool) -> None:
    mapped = data.open_source(str(shop(tmp_path, window=window)))
    url = f"taobao://{tmp_path / 'raw' / 'UserBehavior.csv'}"
    adapter = data.open_source(url + ("?days=2017-11-25..2017-12-03" if window else ""))
    assert sorted(mapped.tables) == sorted(adapter.tables) == ["events", "products"]
    ours, theirs = tables(mapped), tables(adapter)
    for name in ("events", "products"):
        assert list(ours[name].columns) == list(theirs[name].columns), name
        assert types(mapped[name]) == types(adapter[name]), name
        pd.testing.assert_frame_equal(ours[name], theirs[name], check_dtype=True)
    names = set(ours["events"]["event_name"])
    assert {"view_item", "unknown_behavior:click"} <= names
    # the stray 2017-09-11 row: kept in the whole file, left out by the window
    assert (ours["events"]["event_time"] < pd.Timestamp("2017-11-01")).any() != window
    # the runner's value checks read both alike
    assert quality.validate(mapped) == quality.validate(adapter)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (
            "{path: raw/UserBehavior.csv, header: false}",
            "raw.behaviour: a CSV without a header needs columns: [its names, in order]",
        ),
        (
            "{path: raw/UserBehavior.csv, header: 'no', columns: [a, b, c, d, e]}",
            "raw.behaviour.header: expected true or false (got 'no')",
        ),
        (
            "{path: raw/UserBehavior.csv, header: false, columns: [a, b, a, d, e]}",
            "raw.behaviour.columns: a named more than once",
        ),
        (
            "{path: raw/UserBehavior.csv, headers: false, columns: [a, b, c, d, e]}",
            "raw.behaviour: unknown key 'headers'; did you mean 'header'? (known: path, header, "
            "columns)",
        ),
        (
            "{file: raw/UserBehavior.csv}",
            "raw.behaviour.path: expected a file path (got None)",
        ),
        (
            "{path: raw/UserBehavior.csv, header: false, columns: [a, b, c, d]}",
            "columns names 4 column(s), and the file has 5: give every column's name, in order",
        ),
        (
            "{path: raw/UserBehavior.csv, header: false, columns: [a, b, c, d, e, f]}",
            "columns names 6 column(s), and the file has 5: give every column's name, in order",
        ),
    ],
)
def test_a_raw_tables_keys_are_checked(tmp_path: Path, raw: str, problem: str) -> None:
    (tmp_path / "raw").mkdir()
    write_csv(tmp_path / "raw")
    (tmp_path / "shop.yaml").write_text(
        f"epoch_unit: s\nraw:\n  behaviour: {raw}\ntables:\n"
        "  products:\n    sql: select 1 as sku_id, 'x' as category\n"
    )
    with pytest.raises(data.DataError) as caught:
        data.open_source(str(tmp_path / "shop.yaml"))
    assert problem in str(caught.value)


def test_a_parquet_raw_table_takes_no_csv_keys(tmp_path: Path) -> None:
    pd.DataFrame({"sku_id": ["S1"], "category": ["x"]}).to_parquet(tmp_path / "p.parquet")
    (tmp_path / "shop.yaml").write_text(
        "raw:\n  catalogue: {path: p.parquet, header: false, columns: [sku_id, category]}\n"
        "tables:\n  products:\n    from: catalogue\n"
    )
    with pytest.raises(data.DataError) as caught:
        data.open_source(str(tmp_path / "shop.yaml"))
    assert "raw.catalogue: header and columns apply to CSV files, and 'p.parquet' is not one" in (
        str(caught.value)
    )
