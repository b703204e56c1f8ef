"""products.unit_cost and list_price are optional: absent or empty throughout, they read as nulls,
and the sections whose numbers rest on them say so (lib.sections ``columns``; issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib import data, sections

PRODUCTS = "sku_id,category,unit_cost,list_price\nS1,shoes,10.0,100.0\nS2,bags,,\n"


def _shop(tmp_path: Path, products: str, engine: str = "duckdb") -> data.Source:
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "products.csv").write_text(products)
    return data.open_source(f"spark://{folder}" if engine == "spark" else folder)


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_a_catalogue_without_costs_opens_and_reads_them_as_nulls(
    tmp_path: Path, engine: str
) -> None:
    # no unit_cost column; a list_price column left blank throughout (a CSV reader types it text)
    source = _shop(tmp_path, "sku_id,category,list_price\nS1,shoes,\nS2,bags, \n", engine)
    table = source.table("products").order_by("sku_id").to_pandas()
    assert table.columns.tolist() == ["sku_id", "category", "list_price", "unit_cost"]
    for column in ("unit_cost", "list_price"):
        assert table[column].isna().all() and str(table[column].dtype) == "float64"
        assert not source.has_column("products", column)
    assert not source.has_column("orders", "order_id")  # no such table


@pytest.mark.parametrize(
    ("products", "has_cost", "has_price"),
    [
        (PRODUCTS, True, True),  # one value is enough
        ("sku_id,category,unit_cost,list_price\nS1,shoes,,5.0\n", False, True),  # empty: not had
        ("sku_id,category,unit_cost\nS1,shoes,abc\n", None, None),  # text: a contract error
    ],
)
def test_has_column_needs_a_value_and_a_present_column_is_checked(
    tmp_path: Path, products: str, has_cost: bool | None, has_price: bool | None
) -> None:
    if has_cost is None:
        with pytest.raises(data.DataError, match="'unit_cost' should be a number"):
            _shop(tmp_path, products)
        return
    source = _shop(tmp_path, products)
    assert source.has_column("products", "unit_cost") is has_cost
    assert source.has_column("products", "list_price") is has_price


class _Shop:
    """A stand-in source: tables, and columns holding values."""

    kind = ""

    def __init__(self, tables: set[str], columns: set[str]) -> None:
        self._tables, self._columns = tables, columns

    def has(self, name: str) -> bool:
        return name in self._tables

    def has_column(self, table: str, column: str) -> bool:
        return f"{table}.{column}" in self._columns


def test_a_needed_column_skips_the_section_and_an_optional_one_is_left_out() -> None:
    without = _Shop({"products", "inventory"}, {"products.list_price"})
    needs = sections.Needs(tables="inventory", columns="products.unit_cost")
    assert needs.tables == ("inventory", "products")  # a column implies its table
    assert sections.missing(without, needs) == ["unit_cost"]
    note = sections.note(without, needs, "inventory turnover")
    assert note == "No unit_cost in this source: inventory turnover is skipped."
    assert note.skipped
    both = sections.Needs(columns=("products.list_price", "products.unit_cost"))
    nothing = _Shop({"products"}, set())
    assert sections.note(nothing, both, "discounts") == (
        "No list_price or unit_cost in this source: discounts is skipped."
    )
    # a missing table is said first: the columns cannot be there
    assert sections.note(_Shop(set(), set()), needs, "x") == (
        "No inventory or products table in this source: x is skipped."
    )
    optional = sections.Needs(tables="inventory", optional={"products.unit_cost": "stock value"})
    note = sections.note(without, optional, "the inventory health")
    assert note == "No unit_cost in this source: the inventory health leaves out stock value."
    assert not note.skipped and sections.missing(without, optional) == []
    full = _Shop({"products", "inventory"}, {"products.unit_cost", "products.list_price"})
    assert sections.note(full, needs, "x") is None and sections.note(full, optional, "x") is None
    with pytest.raises(ValueError, match="table.column"):
        sections.Needs(columns="unit_cost")
