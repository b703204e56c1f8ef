"""Opening and validating data sources: the one place that knows where tables come from.

A *source* holds the logical tables of the data contract (docs/data-contract.md). It is one of:

- a folder with ``<table>.parquet``, ``<table>.csv`` or a ``<table>/`` folder of Parquet files,
  read in place by an embedded DuckDB (nothing is copied into memory);
- a database URL that :func:`ibis.connect` accepts (``${VAR}`` is expanded from the environment,
  so a password need not be written into a notebook);
- ``spark:///path/to/folder?master=local[2]``: the same files read by Spark (PySpark through
  Ibis) — the tested distributed engine; a cluster's master URL works the same way;
- a live Ibis backend passed from Python (e.g. ``ibis.pyspark.connect(spark)`` on a cluster);
- ``None``: the bundled sample shop in ``data/sample``.

:func:`open_source` checks every table it finds against the contract and raises one
:class:`DataError` naming every missing column and wrong type. Metric functions receive the
normalised Ibis tables (:meth:`Source.table`), never pandas copies of them.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
from ibis.backends import BaseBackend

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "sample"

Kind = Literal["timestamp", "id", "string", "number", "integer", "date"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    nullable: bool = False


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Column, ...]
    required: bool = False
    description: str = ""


def _cols(*specs: str) -> tuple[Column, ...]:
    """Columns from ``"name:kind"`` strings; a trailing ``?`` marks a nullable column."""
    columns = []
    for spec in specs:
        name, kind = spec.split(":")
        columns.append(Column(name, kind.rstrip("?"), nullable=kind.endswith("?")))  # type: ignore[arg-type]
    return tuple(columns)


# The data contract. Extra columns are kept and ignored; optional tables enable extra sections.
CONTRACT: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            "events",
            _cols(
                "event_time:timestamp",
                "user_id:id",
                "event_name:string",
                "session_id:id?",
                "sku_id:id?",
                "channel:string?",
                "slot:string?",
                "platform:string?",
            ),
            description="behaviour events (GA4 e-commerce event names)",
        ),
        TableSpec(
            "orders",
            _cols(
                "order_id:id",
                "user_id:id",
                "order_time:timestamp",
                "paid_time:timestamp?",
                "status:string",
                "paid_amount:number",
                "discount_amount:number?",
                "coupon_id:id?",
                "channel:string?",
            ),
            description="one row per order",
        ),
        TableSpec(
            "order_items",
            _cols("order_id:id", "sku_id:id", "quantity:integer", "unit_price:number"),
            description="order lines",
        ),
        TableSpec(
            "products",
            _cols("sku_id:id", "category:string", "unit_cost:number?", "list_price:number?"),
            description="the catalogue",
        ),
        TableSpec(
            "users",
            _cols(
                "user_id:id",
                "signup_time:timestamp?",
                "acquisition_channel:string?",
                "region:string?",
            ),
        ),
        TableSpec(
            "marketing_spend",
            _cols(
                "date:date",
                "channel:string",
                "billing_model:string",
                "impressions:integer?",
                "clicks:integer?",
                "spend:number",
            ),
        ),
        TableSpec("costs", _cols("month:date", "component:string", "item:string", "amount:number")),
        TableSpec(
            "reviews",
            _cols("sku_id:id", "user_id:id", "review_time:timestamp", "rating:integer"),
        ),
    )
}

ORDER_STATUSES = ("paid", "unpaid", "cancelled", "refunded")

# GA4's recommended e-commerce events plus claim_coupon; other names are kept and unused.
EVENT_NAMES = (
    "session_start",
    "page_view",
    "view_promotion",
    "select_promotion",
    "view_item_list",
    "select_item",
    "view_item",
    "add_to_wishlist",
    "add_to_cart",
    "begin_checkout",
    "purchase",
    "claim_coupon",
)


class DataError(ValueError):
    """A source that does not meet the data contract; the message says what and where."""


def _kind_accepts(kind: Kind, dtype: dt.DataType) -> bool:
    if dtype.is_null():  # an all-null column read from CSV/Parquet carries no type
        return True
    return {
        "timestamp": dtype.is_timestamp(),
        "id": dtype.is_string() or dtype.is_integer(),
        "string": dtype.is_string(),
        "number": dtype.is_numeric() or dtype.is_decimal(),
        "integer": dtype.is_integer(),
        "date": dtype.is_date() or dtype.is_timestamp(),
    }[kind]


_KIND_NAMES = {
    "timestamp": "a timestamp",
    "id": "a string (or integer) id",
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "date": "a date",
}


def _normalise(table: ir.Table, spec: TableSpec) -> ir.Table:
    """Give contract columns one type on every backend: string ids, naive-UTC timestamps."""
    changes = {}
    for col in spec.columns:
        if col.name not in table.columns:
            continue
        dtype = table[col.name].type()
        if col.kind in ("id", "string") and not dtype.is_string():
            changes[col.name] = table[col.name].cast("string")
        elif col.kind == "timestamp" and (dtype.is_null() or dtype.timezone is not None):
            # Ibis pins the session zone to UTC, so dropping the zone keeps the UTC wall time.
            changes[col.name] = table[col.name].cast("timestamp")
        elif col.kind == "number" and not dtype.is_floating():
            changes[col.name] = table[col.name].cast("float64")
        elif col.kind == "integer" and dtype.is_null():
            changes[col.name] = table[col.name].cast("int64")
        elif col.kind == "date" and not dtype.is_date():
            changes[col.name] = table[col.name].cast("date")
    return table.mutate(**changes) if changes else table


def check_tables(tables: dict[str, ir.Table]) -> list[str]:
    """Every contract problem of the given tables, one line each (empty when all is well)."""
    problems = []
    for name, table in sorted(tables.items()):
        spec = CONTRACT.get(name)
        if spec is None:
            continue
        schema = table.schema()
        missing = [c.name for c in spec.columns if c.name not in schema]
        if missing:
            problems.append(
                f"table '{name}' is missing column(s) {', '.join(missing)} "
                f"(has: {', '.join(schema.names)})"
            )
        for col in spec.columns:
            if col.name in schema and not _kind_accepts(col.kind, schema[col.name]):
                problems.append(
                    f"table '{name}' column '{col.name}' should be {_KIND_NAMES[col.kind]} "
                    f"but is {schema[col.name]}"
                )
    return problems


@dataclass
class Source:
    """The tables of one data source, checked and normalised, on one Ibis backend."""

    backend: BaseBackend
    tables: dict[str, ir.Table]
    description: str = ""
    _normalised: dict[str, ir.Table] = field(default_factory=dict, repr=False)

    def has(self, name: str) -> bool:
        return name in self.tables

    def table(self, name: str) -> ir.Table:
        """The named table with contract columns normalised; :class:`DataError` if absent."""
        if name not in self.tables:
            raise DataError(
                f"the source ({self.description}) has no '{name}' table; "
                f"it has: {', '.join(sorted(self.tables)) or 'none'}"
            )
        if name not in self._normalised:
            spec = CONTRACT.get(name)
            table = self.tables[name]
            self._normalised[name] = _normalise(table, spec) if spec else table
        return self._normalised[name]

    def __getitem__(self, name: str) -> ir.Table:
        return self.table(name)

    def optional(self, name: str) -> ir.Table | None:
        """The named table, or None when the source lacks it (its sections are then skipped)."""
        return self.table(name) if name in self.tables else None

    def require(self, *names: str) -> None:
        """Raise one :class:`DataError` naming every one of ``names`` the source lacks."""
        missing = [n for n in names if n not in self.tables]
        if missing:
            raise DataError(
                f"the source ({self.description}) lacks table(s) {', '.join(missing)}; "
                f"it has: {', '.join(sorted(self.tables)) or 'none'}"
            )


def redact(source: object) -> str:
    """A printable form of a source with any password in a URL replaced by ``***``."""
    text = str(source)
    if "://" not in text:
        return text
    parts = urlsplit(text)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        text = text.replace(parts.netloc, netloc, 1)
    # Edit the text rather than re-joining the parts: urlunsplit drops the empty host of
    # URLs such as duckdb:///shop.ddb.
    return re.sub(r"(?i)((?:password|passwd|pwd|token|secret)=)[^&#]*", r"\1***", text)


def _folder_tables(folder: Path, con: BaseBackend) -> dict[str, ir.Table]:
    tables: dict[str, ir.Table] = {}
    for path in sorted(folder.iterdir()):
        name, suffix = path.stem, path.suffix.lower()
        if name in tables or name.startswith("."):
            continue
        try:
            if path.is_dir() and any(path.glob("*.parquet")):
                tables[name] = con.read_parquet(str(path / "*.parquet"), table_name=name)
            elif suffix == ".parquet":
                tables[name] = con.read_parquet(str(path), table_name=name)
            elif suffix == ".csv":
                tables[name] = con.read_csv(str(path), table_name=name)
        except Exception as exc:  # the engine's message names the problem; add the file
            first_line = (
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            )
            raise DataError(f"cannot read {path}: {first_line}") from exc
    return tables


def spark_session(master: str = "local[2]") -> object:
    """A Spark session set up so that Spark gives the same numbers as DuckDB.

    The session zone is UTC (Spark reads and shows timestamps in it) and Arrow is on: without it
    pandas' missing strings reach Spark as the text 'NaN'.
    """
    from pyspark.sql import SparkSession  # optional dependency: only Spark sources need it

    return (
        SparkSession.builder.master(master)
        .appName("ecommerce-ops-analysis")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )


def _spark_tables(url: str) -> tuple[BaseBackend, dict[str, ir.Table]]:
    """``spark:///path/to/folder?master=local[2]``: the folder's files as Spark temp views."""
    from urllib.parse import parse_qs

    parts = urlsplit(url)
    folder = Path(parts.path)
    if not folder.is_dir():
        raise DataError(f"source folder {folder} (from {redact(url)}) does not exist")
    master = parse_qs(parts.query).get("master", ["local[2]"])[0]
    try:
        session = spark_session(master)
    except Exception as exc:  # no pyspark, or no Java
        raise DataError(f"cannot start Spark ({master}): {type(exc).__name__}: {exc}") from None
    # Temp views live in the one session a process has: name them per folder, or a second
    # source would silently replace the first one's tables.
    prefix = "src_" + hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:10]
    views = {}
    for path in sorted(folder.iterdir()):
        name, suffix = path.stem, path.suffix.lower()
        if name not in CONTRACT or name in views:
            continue
        if suffix == ".parquet" or (path.is_dir() and any(path.glob("*.parquet"))):
            frame = session.read.parquet(str(path))
        elif suffix == ".csv":
            frame = session.read.option("header", True).option("inferSchema", True).csv(str(path))
        else:
            continue
        views[name] = f"{prefix}_{name}"
        frame.createOrReplaceTempView(views[name])
    con = ibis.pyspark.connect(session)
    return con, {name: con.table(view) for name, view in views.items()}


def open_source(source: str | os.PathLike | BaseBackend | None = None) -> Source:
    """Open a source (see module docstring) and check it against the data contract."""
    bundled = source is None or (isinstance(source, str) and source.strip() in ("", "sample"))
    if bundled:
        source = SAMPLE_DIR
    if isinstance(source, BaseBackend):
        con = source
        tables = {name: con.table(name) for name in con.list_tables() if name in CONTRACT}
        description = f"{con.name} backend"
    elif (expanded := os.path.expandvars(str(source))).startswith("spark://"):
        con, tables = _spark_tables(expanded)
        description = f"Spark ({redact(expanded)})"
    elif "://" not in expanded:
        folder = Path(expanded).expanduser()
        if not folder.is_dir():
            raise DataError(f"source folder {folder} does not exist")
        con = ibis.duckdb.connect()
        tables = _folder_tables(folder, con)
        # The sample's absolute path differs per checkout; notebooks print this description.
        description = "the bundled sample shop (data/sample)" if bundled else str(folder)
    else:
        url = expanded
        description = redact(url)
        # Notebooks run in parallel kernels; two read-write handles on one DuckDB file collide.
        options = {"read_only": True} if url.startswith("duckdb://") else {}
        try:
            con = ibis.connect(url, **options)
        except Exception as exc:
            detail = redact(str(exc).strip().splitlines()[0]) if str(exc).strip() else ""
            detail = detail.replace(url, description)
            if password := urlsplit(url).password:
                detail = detail.replace(password, "***")
            raise DataError(
                f"cannot connect to {description}: {type(exc).__name__}: {detail}"
            ) from None
        tables = {name: con.table(name) for name in con.list_tables() if name in CONTRACT}

    tables = {name: t for name, t in tables.items() if name in CONTRACT}
    if not tables:
        raise DataError(
            f"the source ({description}) holds none of the contract's tables "
            f"({', '.join(CONTRACT)}); expected e.g. events.parquet or orders.csv"
        )
    problems = check_tables(tables)
    if problems:
        raise DataError(
            f"the source ({description}) does not meet the data contract "
            "(docs/data-contract.md):\n  - " + "\n  - ".join(problems)
        )
    return Source(con, tables, description)
