"""Opening and validating data sources: the one place that knows where tables come from.

A *source* holds the logical tables of the data contract (docs/data-contract.md). It is one of:

- a folder with ``<table>.parquet``, ``<table>.csv``, ``<table>.csv.gz`` or a ``<table>/``
  folder of Parquet files, read in place by an embedded DuckDB (nothing is copied into memory);
  a file or folder named like a table in another form, or a second one for the same table, is an
  error (:func:`_table_files`);
- a database URL that :func:`ibis.connect` accepts (``${VAR}`` is expanded from the environment,
  so a password need not be written into a notebook);
- ``spark:///path/to/folder?master=local[2]``: the same files read by Spark (PySpark through
  Ibis) — the tested distributed engine; a cluster's master URL works the same way;
- ``taobao:///path/to/UserBehavior.csv``: the Taobao user-behaviour CSV as events and products
  (:mod:`lib.taobao`);
- a live Ibis backend passed from Python (e.g. ``ibis.pyspark.connect(spark)`` on a cluster);
- ``None``: the bundled sample shop in ``data/sample``.

:func:`open_source` checks every table it finds against the contract and raises one
:class:`DataError` naming every missing column and wrong type. Metric functions receive the
normalised Ibis tables (:meth:`Source.table`), never pandas copies of them.

Opening stays cheap (schemas only) because every notebook opens the source again. The checks of
the *values* (nulls, negative amounts, repeated keys, unknown statuses, impossible timestamps,
empty tables) scan the data, so :func:`lib.quality.validate` runs them once, in the runner,
before any notebook starts: one aggregate query per table (docs/reliability.md).
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import gzip
import hashlib
import json
import os
import re
import shutil
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal, TypeVar
from urllib.parse import unquote, urlsplit

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
from ibis.backends import BaseBackend

from lib.periods import Period

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "sample"

T = TypeVar("T")

Kind = Literal["timestamp", "id", "string", "number", "integer", "date"]


# The Arrow type of each kind in the sample's Parquet files: ids as strings, timestamps as naive
# UTC microseconds, numbers as float64, integers as int64, dates as days.
ARROW_TYPES: dict[str, pa.DataType] = {
    "timestamp": pa.timestamp("us"),
    "id": pa.string(),
    "string": pa.string(),
    "number": pa.float64(),
    "integer": pa.int64(),
    "date": pa.date32(),
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    nullable: bool = False
    # Optional: a column the contract names without requiring it. A source may lack it; the
    # sections that use one (events.coupon_id, inventory.location) do so when it is there. Like
    # any extra column it is neither checked nor normalised; the sample carries it.
    optional: bool = False
    # An optional column the metrics read wherever its table is used (products.unit_cost and
    # list_price): checked and normalised like a required one when present, read as nulls when
    # absent, so nothing fails for want of it. The sections whose numbers rest on its values
    # declare it (lib.sections.Needs columns) and say so when the source lacks them.
    absent_as_null: bool = False


@dataclass(frozen=True)
class TableSpec:
    name: str
    all_columns: tuple[Column, ...]  # required and optional, in the order the sample stores them
    required: bool = False
    description: str = ""

    @property
    def columns(self) -> tuple[Column, ...]:
        """The required columns: every source of the table has them (checked and normalised)."""
        return tuple(column for column in self.all_columns if not column.optional)

    @property
    def read_columns(self) -> tuple[Column, ...]:
        """The columns checked and normalised when present: the required ones and those read as
        nulls when absent (:attr:`Column.absent_as_null`)."""
        return tuple(c for c in self.all_columns if not c.optional or c.absent_as_null)

    def arrow_schema(self) -> pa.Schema:
        """The Arrow schema the sample's Parquet file of this table has (:mod:`lib.simulate`):
        every column, optional ones included, in order, each kind as :data:`ARROW_TYPES`.

        Every field is nullable in Arrow (Parquet ``OPTIONAL``), as the files have always been
        written: a column's ``nullable`` is a rule on its values, checked by :mod:`lib.quality`.
        """
        return pa.schema([(column.name, ARROW_TYPES[column.kind]) for column in self.all_columns])


def _cols(*specs: str) -> tuple[Column, ...]:
    """Columns from ``"name:kind"`` strings; a trailing ``?`` marks a nullable column and
    ``"[name:kind]"`` in brackets an optional one."""
    columns = []
    for spec in specs:
        optional = spec.startswith("[") and spec.endswith("]")
        name, kind = spec.strip("[]").split(":")
        columns.append(
            Column(name, kind.rstrip("?"), nullable=kind.endswith("?"), optional=optional)  # type: ignore[arg-type]
        )
    return tuple(columns)


# The data contract. Extra columns are kept and ignored; optional tables enable extra sections;
# optional columns (in brackets) are used when present.
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
                "[coupon_id:id?]",
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
            (
                *_cols("sku_id:id", "category:string"),
                # optional: a catalogue export often has no costs (Taobao's has neither)
                Column("unit_cost", "number", nullable=True, optional=True, absent_as_null=True),
                Column("list_price", "number", nullable=True, optional=True, absent_as_null=True),
                *_cols("[brand:string?]", "[product_name:string?]"),
            ),
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
        # Supply chain (notebook 06). Several inventory rows for one SKU and date (locations)
        # are summed; an optional ``location`` column gives the split.
        TableSpec(
            "inventory",
            _cols("date:date", "sku_id:id", "[location:string]", "on_hand:integer"),
            description="units on hand per SKU at the end of each local day",
        ),
        TableSpec(
            "purchase_orders",
            _cols(
                "po_id:id",
                "supplier:string",
                "sku_id:id",
                "ordered_date:date",
                "promised_date:date",
                "received_date:date?",
                "qty_ordered:integer",
                "qty_received:integer?",
                "unit_cost:number?",
            ),
            description="purchase orders to suppliers (received_date null = not received)",
        ),
        TableSpec(
            "shipments",
            _cols(
                "order_id:id",
                "carrier:string",
                "shipped_time:timestamp",
                "delivered_time:timestamp?",
                "shipping_cost:number?",
            ),
            description="parcels handed to carriers (delivered_time null = not delivered)",
        ),
        # After-sales (notebook 06): one row per return request; a whole-order return has no
        # sku_id or quantity, a request not refunded (yet) no refunded_time or refund_amount.
        # The optional status (RETURN_STATUSES) tells a refused request from an open one;
        # without it every request not refunded counts as open.
        TableSpec(
            "returns",
            (
                *_cols(
                    "return_id:id",
                    "order_id:id",
                    "sku_id:id?",
                    "quantity:integer?",
                    "requested_time:timestamp",
                    "refunded_time:timestamp?",
                    "reason:string?",
                    "refund_amount:number?",
                ),
                Column("status", "string", nullable=True, optional=True, absent_as_null=True),
            ),
            description="return and refund requests (refunded_time null = not refunded yet)",
        ),
        # Marketing (issue 20). Campaigns: local days, both ends included; category, channel and
        # discount_rate narrow a campaign's scope and price it, read as nulls when absent (a
        # shop-wide campaign has none).
        TableSpec(
            "campaigns",
            (
                *_cols(
                    "campaign_id:id",
                    "name:string",
                    "start_date:date",
                    "end_date:date",
                    "kind:string",
                ),
                Column("category", "string", nullable=True, optional=True, absent_as_null=True),
                Column("channel", "string", nullable=True, optional=True, absent_as_null=True),
                Column(
                    "discount_rate", "number", nullable=True, optional=True, absent_as_null=True
                ),
            ),
            description="promotions, coupons, price cuts and ad bursts (local days)",
        ),
        # A/B tests: one row per user and experiment (lib.quality refuses a user assigned twice).
        TableSpec(
            "experiments",
            _cols("user_id:id", "experiment:string", "variant:string", "assigned_time:timestamp"),
            description="A/B test assignments (one variant per user and experiment)",
        ),
        TableSpec(
            "competitor_prices",
            _cols("date:date", "sku_id:id", "competitor:string", "price:number"),
            description="competitors' daily prices of the shop's SKUs (local days)",
        ),
    )
}

ORDER_STATUSES = ("paid", "unpaid", "cancelled", "refunded")
# A return request's state (the optional returns.status): refunded, refused, or still open.
RETURN_STATUSES = ("refunded", "rejected", "open")
# The kinds of campaign the contract names (campaigns.kind); others are kept and read as given.
CAMPAIGN_KINDS = ("promotion", "coupon", "price_cut", "ad_burst")

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
    # issue 18: on-site search, and a checkout that goes back to the cart
    "search",
    "view_cart",
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
        # ISO date text (and YYYY-MM for a month column) is parsed by _normalise; other text
        # becomes null there, and lib.quality names its table, column and an example
        "date": dtype.is_date() or dtype.is_timestamp() or dtype.is_string(),
    }[kind]


_KIND_NAMES = {
    "timestamp": "a timestamp",
    "id": "a string (or integer) id",
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "date": "a date",
}


# Date columns holding a month, which exports often write as text "2025-03": read as the
# month's first day (the day the costs module files a month's costs under).
MONTH_COLUMNS = {("costs", "month")}
# The only date text read, on every engine alike: each engine's own cast accepts other forms
# (Spark reads "2025-3" and "2025" as dates, DuckDB does not), which would make them differ.
_ISO_DATE_TEXT = r"^\d{4}-\d{2}-\d{2}$"
_MONTH_TEXT = r"^\d{4}-\d{2}$"
# Where raw_table(..., keep_text=True) keeps a text date column's original text.
TEXT_SUFFIX = "__text"


def date_from_text(text: ir.StringValue, month: bool = False) -> ir.DateValue:
    """ISO date text (``2025-03-01``, spaces around it ignored) as a date; with ``month``, also
    ``2025-03`` as the month's first day. Any other text is null (a date the calendar lacks,
    ``2025-02-30``, too): :func:`lib.quality.check_values` counts such values as errors."""
    value = text.strip()
    if month:
        value = value.re_search(_MONTH_TEXT).ifelse(value.concat("-01"), value)
    return value.re_search(_ISO_DATE_TEXT).ifelse(value.try_cast("date"), ibis.null("date"))


_IBIS_TYPES = {
    "timestamp": "timestamp",
    "id": "string",
    "string": "string",
    "number": "float64",
    "integer": "int64",
    "date": "date",
}


def _normalise(table: ir.Table, spec: TableSpec, keep_text: bool = False) -> ir.Table:
    """Give contract columns one type on every backend: string ids, naive-UTC timestamps, dates
    from ISO text (:func:`date_from_text`). ``keep_text`` keeps each text date column's original
    text as ``<name>__text`` too (for the value checks). Columns read as nulls when absent
    (:attr:`Column.absent_as_null`) are added, typed, when the table lacks them."""
    changes = {}
    for col in spec.read_columns:
        if col.name not in table.columns:
            if col.absent_as_null:
                changes[col.name] = ibis.null(_IBIS_TYPES[col.kind])
            continue
        dtype = table[col.name].type()
        if col.kind in ("id", "string") and not dtype.is_string():
            changes[col.name] = table[col.name].cast("string")
        elif col.kind == "timestamp" and (
            dtype.is_null() or dtype.timezone is not None or (dtype.scale or 0) > 6
        ):
            # Ibis pins the session zone to UTC, so dropping the zone keeps the UTC wall time;
            # nanoseconds (pandas' default) are cut to microseconds, the one precision Spark has,
            # so both engines give the same tables (DuckDB's cast truncates, as the Spark reader).
            changes[col.name] = table[col.name].cast("timestamp")
        elif col.kind == "number" and dtype.is_string():
            # only a column of blanks gets here (check_tables): every value reads as null
            changes[col.name] = table[col.name].try_cast("float64")
        elif col.kind == "number" and not dtype.is_floating():
            changes[col.name] = table[col.name].cast("float64")
        elif col.kind == "integer" and dtype.is_null():
            changes[col.name] = table[col.name].cast("int64")
        elif col.kind == "date" and dtype.is_string():
            month = (spec.name, col.name) in MONTH_COLUMNS
            changes[col.name] = date_from_text(table[col.name], month)
            if keep_text:
                changes[col.name + TEXT_SUFFIX] = table[col.name]
        elif col.kind == "date" and not dtype.is_date():
            changes[col.name] = table[col.name].cast("date")
    return table.mutate(**changes) if changes else table


def _blank_text(table: ir.Table, column: str) -> bool:
    """Whether ``column`` is text with no value but blanks: a CSV reader types a column it finds
    empty throughout as text. One count, asked only of such a column (products: small)."""
    if not table[column].type().is_string():
        return False
    text = table[column].strip()
    filled = table.aggregate(n=(text.notnull() & (text != "")).sum()).to_pandas()["n"].iloc[0]
    return as_count(filled) == 0


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
        for col in spec.read_columns:
            if col.absent_as_null and col.name in schema and _blank_text(table, col.name):
                continue  # read as nulls: a CSV column left empty throughout is text
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
    # Drop events identical on every contract column (see :func:`dedupe`); off by default.
    dedupe_events: bool = False
    # The file or folder each table was read from, when it was (for error messages).
    paths: dict[str, Path] = field(default_factory=dict)
    # Files besides ``paths`` whose change changes the tables (a source mapping and all its raw
    # files, lib/mapping.py): part of the key of the coverage and event-name memos.
    depends_on: tuple[Path, ...] = ()
    # What kind of data it is, when that explains a missing table (e.g. "Taobao user-behaviour
    # data": no orders); shown in :func:`lib.sections.note`.
    kind: str = ""
    # The event names the source can hold at all, when its format fixes them (Taobao: four);
    # None: any. Defaults such as the main funnel leave out the steps it can never have.
    event_names: tuple[str, ...] | None = None
    _normalised: dict[str, ir.Table] = field(default_factory=dict, repr=False)
    _found_event_names: tuple[str, ...] | None = field(default=None, repr=False)
    _column_values: dict[tuple[str, str], bool] = field(default_factory=dict, repr=False)
    _user_days: dict[tuple, ir.Table] = field(default_factory=dict, repr=False)
    _named_events: dict[tuple[str, ...], ir.Table] = field(default_factory=dict, repr=False)

    def has(self, name: str) -> bool:
        return name in self.tables

    def has_column(self, table: str, column: str) -> bool:
        """Whether the source has ``table`` with ``column`` holding at least one value: a column
        absent or empty throughout (``unit_cost`` of a catalogue without costs) is not had. One
        count over the table the first time a column of it is asked (columns that ask it are
        those of small tables: products)."""
        if table not in self.tables:
            return False
        if column not in self.tables[table].columns:
            return False
        key = (table, column)
        if key not in self._column_values:
            values = self.table(table)[column]  # normalised: a CSV column of blanks is null
            try:
                count = values.count().to_pandas()
            except Exception as exc:
                raise read_error(self, table, exc) from None
            self._column_values[key] = as_count(count) > 0
        return self._column_values[key]

    def possible_event_names(self) -> tuple[str, ...]:
        """The event names the source can have: :attr:`event_names` when its format fixes them,
        else the names found anywhere in its events (one pass over that column, the first time
        it is asked; the whole source, not a period)."""
        if self.event_names is not None:
            return self.event_names
        if self._found_event_names is None:
            key = _files_key(self, ["events"])
            if key is not None and key in _EVENT_NAMES_MEMO:
                self._found_event_names = _EVENT_NAMES_MEMO[key]
            else:
                names = self.table("events").select("event_name").distinct().to_pandas()
                self._found_event_names = tuple(sorted(names["event_name"].dropna()))
                if key is not None:
                    _remember(_EVENT_NAMES_MEMO, key, self._found_event_names)
        return self._found_event_names

    def table(self, name: str) -> ir.Table:
        """The named table with contract columns normalised; :class:`DataError` if absent.

        ``events`` is the raw table unless the source was opened with ``dedupe_events=True``.
        """
        if name not in self.tables:
            raise DataError(
                f"the source ({self.description}) has no '{name}' table; "
                f"it has: {', '.join(sorted(self.tables)) or 'none'}"
            )
        if name not in self._normalised:
            spec = CONTRACT.get(name)
            table = self.tables[name]
            table = _normalise(table, spec) if spec else table
            if name == "events" and self.dedupe_events:
                table = dedupe(table, CONTRACT["events"])
            if name == "events":
                _EVENTS_OF[_table_key(table)] = self  # so user_days(events, …) finds its store
            self._normalised[name] = table
        return self._normalised[name]

    def __getitem__(self, name: str) -> ir.Table:
        return self.table(name)

    def user_days(self, period: Period) -> ir.Table:
        """:func:`user_days_of` this source's events, computed once per source and zone: read
        from the run's store when the events come from files (:func:`stored_user_days`), else
        cached on the engine for the life of this source (a database: nothing tells a change)."""
        key = (period.timezone, _zone_key(period))
        if key not in self._user_days:
            table = stored_user_days(self, period)
            self._user_days[key] = table if table is not None else self._cached_user_days(period)
        return self._user_days[key]

    def events_named(self, names: tuple[str, ...]) -> ir.Table:
        """:func:`named_events_of` this source's events for the sorted ``names``: read from the
        run's store when the events come from files (:func:`stored_named_events`), else the
        filter itself (a database: nothing tells a change, and its own scan is what it was)."""
        if names not in self._named_events:
            table = stored_named_events(self, names)
            if table is None:
                table = named_events_of(self.table("events"), names)
            self._named_events[names] = table
        return self._named_events[names]

    def _cached_user_days(self, period: Period) -> ir.Table:
        return user_days_of(self.table("events"), period).cache()

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


# The password of a URL is everything between ``scheme://user:`` and the last ``@`` (not
# urlsplit's: a '/', '#' or '?' written unencoded in a password ends its netloc early, and it
# then finds no password at all; an '@' in the query hides more of the URL, never less). A query
# value is secret when its key contains password, passwd, pwd, secret, token or key.
_URL_PASSWORD = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.-]*://[^:/?#@]*:(?P<secret>.+)@", re.S)
_SECRET_QUERY = re.compile(
    r"(?i)[?&;][^=&?#]*(?:password|passwd|pwd|secret|token|key)[^=&?#]*=(?P<secret>[^&]*)"
)


def _secret_spans(text: str) -> list[tuple[int, int]]:
    """Where the secrets of a source URL are in ``text`` (see the patterns above), in order."""
    if "://" not in text:
        return []
    spans, query_from = [], 0
    if match := _URL_PASSWORD.match(text):
        spans.append(match.span("secret"))
        query_from = match.end()
    return spans + [m.span("secret") for m in _SECRET_QUERY.finditer(text, query_from)]


def url_secrets(url: str) -> list[str]:
    """The secret values of a source URL: its password and secret query values (non-empty)."""
    return [url[a:b] for a, b in _secret_spans(url) if b > a]


def redact(source: object) -> str:
    """A printable form of a source with the secrets of :func:`url_secrets` replaced by ``***``."""
    text = str(source)
    # Edit the text rather than re-joining the parts: urlunsplit drops the empty host of
    # URLs such as duckdb:///shop.ddb.
    for a, b in reversed(_secret_spans(text)):
        text = f"{text[:a]}***{text[b:]}"
    return text


# DuckDB's own default memory limit is 80% of the machine, per process; the runner and two
# kernels each hold a connection, so without a limit a large source could take all of it. Past the
# limit, DuckDB spills to the temp directory (one per process: spill files of two processes in
# one folder would collide). Override with the variable, e.g. ECOM_DUCKDB_MEMORY_LIMIT=4GB.
DUCKDB_MEMORY_LIMIT_ENV = "ECOM_DUCKDB_MEMORY_LIMIT"
DUCKDB_MEMORY_LIMIT = "1GB"


def duckdb_connect() -> BaseBackend:
    """An in-memory DuckDB for reading files in place, with bounded memory (see above)."""
    import tempfile

    limit = os.environ.get(DUCKDB_MEMORY_LIMIT_ENV, "").strip() or DUCKDB_MEMORY_LIMIT
    spill = Path(tempfile.gettempdir()) / f"ecom-duckdb-{os.getpid()}"
    return ibis.duckdb.connect(memory_limit=limit, temp_directory=str(spill))


# How a folder source names its tables; anything else named after a table is refused, not skipped.
TABLE_FORMS = "{t}.parquet, {t}.csv, {t}.csv.gz or a folder {t}/ of .parquet files"
_CSV_ENDINGS = (".csv", ".csv.gz")
_TEXT_ENDINGS = (".tsv", ".txt", ".tab")
_PACKED_ENDINGS = (".zip", ".bz2", ".xz", ".zst", ".gzip", ".7z")
_OTHER_FORMATS = (".json", ".jsonl", ".ndjson", ".xlsx", ".xls", ".feather", ".arrow", ".avro")
# a file named like a table was meant to be read: say how to make it readable
_CONVERT_HINTS = {
    _TEXT_ENDINGS: "name it {t}.csv (the delimiter is detected)",
    _PACKED_ENDINGS: "decompress it, or compress it with gzip as {t}.csv.gz",
    _OTHER_FORMATS: "convert it to Parquet or CSV",
}


def _is_csv(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(_CSV_ENDINGS)


def _open_text(path: Path) -> IO[str]:
    """A CSV file (gzipped or not) opened as text, for the error paths that read it line by line."""
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", newline="", encoding="utf-8", errors="replace")
    return path.open(newline="", encoding="utf-8", errors="replace")


def _readable_form(path: Path, table: str) -> bool:
    rest = path.name.lower()[len(table) :]
    if path.is_dir():
        # Spark writes a table as a folder orders.parquet/ of part files
        return rest in ("", ".parquet") and any(path.glob("*.parquet"))
    return rest in (".parquet", *_CSV_ENDINGS)


def _shown(path: Path) -> str:
    return path.name + ("/" if path.is_dir() else "")


def _unread_reason(path: Path, table: str) -> str:
    if path.is_dir():
        return "it holds no .parquet file directly (sub-folders and other formats are not read)"
    ending = path.name.lower()[len(table) :]
    for endings, hint in _CONVERT_HINTS.items():
        if ending.endswith(endings):
            return f"that form is not read: {hint.format(t=table)}"
    return "that form is not read: rename or convert it, or move it out of the folder"


def _table_files(folder: Path) -> dict[str, Path]:
    """The file or folder each contract table of a folder source is read from.

    A file or folder whose name before its first dot is a table's (in any case) claims that
    table: an export meant as a table must not be skipped in silence (the notebooks needing it
    would be skipped too, with a note blaming the table), nor one of two exports be picked by
    name order. So two claims on one table, or a claim in a form that is not read, raise one
    :class:`DataError` naming every such file and the forms that are read.
    """
    claims: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        table = path.name.lower().split(".", 1)[0]
        if table in CONTRACT and not path.name.startswith("."):
            claims.setdefault(table, []).append(path)
    files, problems = {}, []
    for table, claimants in claims.items():
        forms = TABLE_FORMS.format(t=table)
        if len(claimants) > 1:
            shown = [_shown(p) for p in claimants]
            listed = f"{', '.join(shown[:-1])} and {shown[-1]}"
            problems.append(
                f"table '{table}' is claimed by {len(claimants)} files: {listed}; keep the one "
                f"to read and move the other{'s' if len(claimants) > 2 else ''} out of the "
                f"folder (a table is one of {forms})"
            )
        elif not _readable_form(claimants[0], table):
            problems.append(
                f"{_shown(claimants[0])} is named like table '{table}' but is not read: "
                f"{_unread_reason(claimants[0], table)} (a table is one of {forms})"
            )
        else:
            files[table] = claimants[0]
    if problems:
        raise DataError(
            f"the source folder {folder} does not say unambiguously which file holds each table "
            "(docs/data-contract.md):\n  - " + "\n  - ".join(problems)
        )
    return files


def _folder_tables(
    folder: Path, con: BaseBackend, paths: dict[str, Path] | None = None
) -> dict[str, ir.Table]:
    """The folder's table files as DuckDB views; ``paths`` (if given) receives each file."""
    tables: dict[str, ir.Table] = {}
    paths = {} if paths is None else paths
    for name, path in _table_files(folder).items():
        try:
            if path.is_dir():
                tables[name] = con.read_parquet(str(path / "*.parquet"), table_name=name)
            elif _is_csv(path):
                tables[name] = con.read_csv(str(path), table_name=name)
            else:
                tables[name] = con.read_parquet(str(path), table_name=name)
        except Exception as exc:  # the engine's message names the problem; add the file
            # A row with too few fields among the rows DuckDB samples for the dialect fails the
            # sniffing with a message naming no line; the strict reader names it.
            row = _csv_row_problem(path, con, CONTRACT[name]) if _is_csv(path) else None
            if row:
                raise DataError(
                    f"cannot read table '{name}' ({path}): {row}; fix or remove that row, or "
                    "export the table again"
                ) from None
            raise DataError(f"cannot read {path}: {_engine_detail(exc)}") from exc
        paths[name] = path
    return tables


# Spark loggers silenced entirely: the shutdown hook's "Failed to delete blockmgr" (a temporary
# folder Spark removes while another hook still uses it) is harmless and alarming.
SPARK_QUIET_LOGGERS = (
    "org.apache.spark.util.ShutdownHookManager",
    "org.apache.spark.storage.DiskBlockManager",
)


def spark_session(master: str = "local[2]") -> object:
    """A Spark session set up so that Spark gives the same numbers as DuckDB.

    The session zone is UTC (Spark reads and shows timestamps in it) and Arrow is on: without it
    pandas' missing strings reach Spark as the text 'NaN'.
    """
    from pyspark.sql import SparkSession  # optional dependency: only Spark sources need it

    session = (
        SparkSession.builder.master(master)
        .appName("ecommerce-ops-analysis")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.ui.enabled", "false")
        # Spark has no nanosecond timestamp and refuses a Parquet file holding one (pandas'
        # datetime64[ns] written as is) with PARQUET_TYPE_ILLEGAL; read as a long, such a
        # column is turned into a timestamp by _spark_parquet, as DuckDB reads it.
        .config("spark.sql.legacy.parquet.nanosAsLong", "true")
        # a readable console: no stage progress bars between the runner's lines
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    # and Spark's log at errors only (its WARN lines interleave with the runner's), some loggers
    # not at all (SPARK_QUIET_LOGGERS); the JVM is already running, so through its log4j
    session.sparkContext.setLogLevel("ERROR")
    jvm = session.sparkContext._jvm
    for logger in SPARK_QUIET_LOGGERS:
        jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(
            logger, jvm.org.apache.logging.log4j.Level.OFF
        )
    return session


def _spark_tables(url: str) -> tuple[BaseBackend, dict[str, ir.Table], dict[str, Path]]:
    """``spark:///path/to/folder?master=local[2]``: the folder's files as Spark temp views,
    and the file behind each (for error messages).

    CSV files are read in Spark's ``FAILFAST`` mode: by default (``PERMISSIVE``) a row with too
    few fields would silently read as nulls; this way the first query reading it fails, and
    :func:`read_error` names its line.
    """
    from urllib.parse import parse_qs

    parts = urlsplit(url)
    folder = Path(parts.path)
    if not folder.is_dir():
        raise DataError(f"source folder {folder} (from {redact(url)}) does not exist")
    master = parse_qs(parts.query).get("master", ["local[2]"])[0]
    files = _table_files(folder)  # before starting Spark: a naming problem is found quicker
    try:
        session = spark_session(master)
    except Exception as exc:  # no pyspark, or no Java
        raise DataError(f"cannot start Spark ({master}): {type(exc).__name__}: {exc}") from None
    # Temp views live in the one session a process has: name them per folder, or a second
    # source would silently replace the first one's tables.
    prefix = "src_" + hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:10]
    views, paths = {}, {}
    for name, path in files.items():
        if _is_csv(path):  # Spark reads a .csv.gz by its ending
            frame = _spark_csv(session, name, path)
        else:
            frame = _spark_parquet(session, name, path)
        views[name], paths[name] = f"{prefix}_{name}", path
        frame.createOrReplaceTempView(views[name])
    con = ibis.pyspark.connect(session)
    return con, {name: con.table(view) for name, view in views.items()}, paths


def _parquet_files(path: Path) -> list[Path]:
    """The Parquet files of a table: the file, or those of its folder (as Spark reads them)."""
    return sorted(path.glob("*.parquet")) if path.is_dir() else [path]


def _nanosecond_columns(name: str, path: Path) -> dict[str, bool]:
    """The top-level columns stored as Parquet ``TIMESTAMP(NANOS, …)``, each with whether it is
    adjusted to UTC (zoned). Only the footers are read. A column stored so in some files of a
    folder and not in others is a :class:`DataError`: Spark would read it as a long in some
    files and a timestamp in others."""
    import pyarrow.parquet as pq

    per_file: list[dict[str, bool]] = []
    for file in _parquet_files(path):
        try:
            schema = pq.read_metadata(file).schema
        except Exception:  # unreadable: Spark's own error names the problem (_spark_parquet)
            return {}
        nanos = {}
        for column in schema:
            logical = str(column.logical_type)
            # top level only (a nested field's path is dotted): nested ones are left as read
            if column.path == column.name and "Timestamp(" in logical and "nanoseconds" in logical:
                nanos[column.name] = "isAdjustedToUTC=true" in logical
        per_file.append(nanos)
    # per column, its kind in every file: None where a file does not store it in nanoseconds
    found = {c: {nanos.get(c) for nanos in per_file} for nanos in per_file for c in nanos}
    mixed = sorted(column for column, kinds in found.items() if len(kinds) > 1)
    if mixed:
        raise DataError(
            f"cannot read table '{name}' ({path}): column '{mixed[0]}' is a nanosecond "
            "timestamp in some of its files and not in others; export them alike"
        )
    return {column: kinds.pop() is True for column, kinds in found.items()}


def _illegal_type_column(text: str, path: Path) -> str | None:
    """The column of a ``PARQUET_TYPE_ILLEGAL`` error (Spark names only the type, e.g.
    ``INT64 (TIME(NANOS,false))``), found in the files' footers; None when not found."""
    import pyarrow.parquet as pq

    match = re.search(r"Illegal Parquet type: (\w+) \((\w+)\((\w+)?", text)
    if not match:
        return None
    physical, logical, unit = match.groups()
    logical = {"INTEGER": "INT"}.get(logical, logical)  # pyarrow's name of the same type
    for file in _parquet_files(path):
        try:
            schema = pq.read_metadata(file).schema
        except Exception:
            return None
        for column in schema:
            described = str(column.logical_type).lower()
            if (
                column.physical_type == physical
                and column.logical_type.type == logical
                and (unit not in ("NANOS", "MICROS", "MILLIS") or unit[:4].lower() in described)
            ):
                return column.path
    return None


def _spark_parquet(session: object, name: str, path: Path) -> object:
    """A table's Parquet file (or folder) as a Spark DataFrame, with the tables DuckDB gives.

    Nanosecond timestamps are read as longs (``spark.sql.legacy.parquet.nanosAsLong``, set by
    :func:`spark_session`) and turned into microsecond timestamps here, truncated toward zero as
    DuckDB casts them, zoned or naive as they were stored (Spark reads a naive micros column
    as ``timestamp_ntz``). Any engine error while opening the file is one :class:`DataError`
    line naming the file, and the column where it is known.
    """
    from pyspark.sql import functions as F

    nanos = _nanosecond_columns(name, path)
    try:
        frame = session.read.parquet(str(path))  # type: ignore[attr-defined]
        for column, zoned in nanos.items():
            quoted = "`" + column.replace("`", "``") + "`"
            micros = F.expr(f"timestamp_micros({quoted} div 1000)")
            frame = frame.withColumn(column, micros if zoned else micros.cast("timestamp_ntz"))
    except Exception as exc:
        text = str(exc)
        column = _illegal_type_column(text, path)
        where = f"column '{column}': " if column else ""
        # a type Spark lacks is fixed by a cast in the export; any other error by a new export
        fix = "export it again in a type Spark reads" if column else "export the table again"
        detail = _engine_detail(exc, path).rstrip(".")
        raise DataError(
            f"cannot read table '{name}' ({path}) on Spark: {where}{detail}; {fix}"
        ) from None
    return frame


def _spark_csv(session: object, name: str, path: Path) -> object:
    """A table's CSV file as a Spark DataFrame (``FAILFAST``: see :func:`_spark_tables`).

    Inferring the types reads the whole file, so a file Spark cannot read at all (a ``.csv.gz``
    cut short, a row it cannot parse) fails here, not at the first query: one
    :class:`DataError` line naming the file (and the row, as :func:`read_error` does), not
    Py4J's Java traceback.
    """
    try:
        reader = session.read.option("header", True).option("inferSchema", True)  # type: ignore[attr-defined]
        return reader.option("mode", "FAILFAST").csv(str(path))
    except Exception as exc:
        detail = _engine_detail(exc, path).rstrip(".")
        fix = "fix or remove that row, or " if "the row reads:" in detail else ""
        raise DataError(
            f"cannot read table '{name}' ({path}) on Spark: {detail}; {fix}export the table again"
        ) from None


def _spark_java_error(text: str) -> str | None:
    """The cause of a Py4J error, whose first line names only the Java call
    (``An error occurred while calling o56.parquet.``): its innermost cause or Spark error
    class, without the SQLSTATE; None for other texts."""
    if not text.startswith("An error occurred while calling"):
        return None
    causes = re.findall(r"^Caused by: [\w.$]+: (.+)$", text, re.MULTILINE)
    if not causes:
        causes = re.findall(r"(\[[A-Z_.]+\] .+)$", text, re.MULTILINE)
    return re.sub(r"\s*SQLSTATE: \w+\.?$", "", causes[-1].strip()) if causes else None


def _connect_url(url: str) -> BaseBackend:
    """The backend of a database URL (``${VAR}`` already expanded); a :class:`DataError` whose
    message holds no secret of the URL when it cannot be opened."""
    description = redact(url)
    # Notebooks run in parallel kernels; two read-write handles on one DuckDB file collide.
    options = {"read_only": True} if url.startswith("duckdb://") else {}
    try:
        return ibis.connect(url, **options)
    except Exception as exc:
        detail = redact(str(exc).strip().splitlines()[0]) if str(exc).strip() else ""
        detail = detail.replace(url, description)
        for secret in url_secrets(url):
            detail = detail.replace(secret, "***").replace(unquote(secret), "***")
        raise DataError(
            f"cannot connect to {description}: {type(exc).__name__}: {detail}"
        ) from None


def _mapping_path(source: str) -> Path | None:
    """The file of a source mapping (``shop.yaml``, see lib/mapping.py), else None."""
    from lib import mapping  # imported here: lib.mapping imports this module

    return Path(source).expanduser() if mapping.is_mapping(source) else None


def open_source(
    source: str | os.PathLike | BaseBackend | None = None, *, dedupe_events: bool = False
) -> Source:
    """Open a source (see module docstring) and check its schema against the data contract.

    Only schemas are read, so this is quick on any size of data; :func:`validate` checks the
    values. ``dedupe_events=True`` drops events identical on every contract column (a distinct
    over the events in every query: see docs/reliability.md before using it on large data).
    """
    bundled = source is None or (isinstance(source, str) and source.strip() in ("", "sample"))
    if bundled:
        source = SAMPLE_DIR
    paths: dict[str, Path] = {}  # files behind the tables, for folder sources
    depends_on: tuple[Path, ...] = ()  # further files the tables depend on (a mapping's)
    kind = ""
    event_names: tuple[str, ...] | None = None
    if isinstance(source, BaseBackend):
        con = source
        tables = {name: con.table(name) for name in con.list_tables() if name in CONTRACT}
        description = f"{con.name} backend"
    elif (expanded := os.path.expandvars(str(source))).startswith("spark://"):
        con, tables, spark_paths = _spark_tables(expanded)
        paths.update(spark_paths)
        description = f"Spark ({redact(expanded)})"
    elif expanded.startswith("taobao://"):
        # The Taobao user-behaviour CSV (lib/taobao.py): events and products views over the file.
        from lib import taobao

        try:
            con, tables, csv_path = taobao.open_tables(expanded, duckdb_connect())
        except taobao.TaobaoError as exc:
            raise DataError(str(exc)) from None
        paths.update(events=csv_path, products=csv_path)  # read errors name the file
        description = f"Taobao user behaviour ({csv_path})"
        kind = taobao.KIND
        event_names = taobao.EVENT_NAMES
    elif mapping_file := _mapping_path(expanded):
        # A source mapping (lib/mapping.py): the shop's raw files renamed and converted into the
        # contract's tables, lazily, on an embedded DuckDB; checked below like any other source.
        from lib import mapping

        mapped = mapping.open_tables(mapping_file, duckdb_connect, _connect_url)
        con, tables, depends_on = mapped.backend, mapped.tables, mapped.depends_on
        paths.update(mapped.paths)
        description = f"{mapping_file} (source mapping)"
    elif "://" not in expanded:
        folder = Path(expanded).expanduser()
        if not folder.is_dir():
            raise DataError(f"source folder {folder} does not exist")
        con = duckdb_connect()
        tables = _folder_tables(folder, con, paths)
        # The sample's absolute path differs per checkout; notebooks print this description.
        description = "the bundled sample shop (data/sample)" if bundled else str(folder)
    else:
        url = expanded
        description = redact(url)
        con = _connect_url(url)
        tables = {name: con.table(name) for name in con.list_tables() if name in CONTRACT}

    tables = {name: t for name, t in tables.items() if name in CONTRACT}
    if not tables:
        raise DataError(
            f"the source ({description}) holds none of the contract's tables "
            f"({', '.join(CONTRACT)}); expected e.g. events.parquet or orders.csv"
        )
    problems = check_tables(tables)
    if problems:
        # A CSV row the sniffer could not read as the contract's type turns its whole column
        # (or the whole file) into text; read it again strictly so the message names the row.
        for name in sorted(tables):
            path = paths.get(name)
            culprit = any(p.startswith(f"table '{name}'") for p in problems)
            if culprit and path is not None and _is_csv(path):
                # DuckDB's strict reader names the line, whatever engine reads the source
                checker = con if con.name == "duckdb" else duckdb_connect()
                row = _csv_row_problem(path, checker, CONTRACT[name])
                if row:
                    if len(tables[name].columns) == 1:
                        # the row made the sniffer read the file as one column: the "missing
                        # columns" line is only a consequence of it
                        problems = [p for p in problems if not p.startswith(f"table '{name}'")]
                    problems.append(f"table '{name}' ({path.name}): {row}")
        raise DataError(
            f"the source ({description}) does not meet the data contract "
            "(docs/data-contract.md):\n  - " + "\n  - ".join(problems)
        )
    return Source(
        con,
        tables,
        description,
        dedupe_events=dedupe_events,
        paths=paths,
        kind=kind,
        event_names=event_names,
        depends_on=depends_on,
    )


# --------------------------------------------------------------------------------------------
# Engine errors: name the file and the row, in a line or two


def _csv_error(text: str) -> str | None:
    """``line N: reason; the row reads: ...`` from a DuckDB CSV error message, else None."""
    match = re.search(r"CSV Error on Line: (\d+)", text)
    if not match:
        return None
    lines = [line.strip() for line in text.splitlines()]
    original, reason = "", ""
    for index, line in enumerate(lines):
        if line.startswith("Original Line:"):
            original = line.split(":", 1)[1].strip()
            # DuckDB puts the reason on the line after the offending row
            reason = next((ln for ln in lines[index + 1 :] if ln), "")
            break
    if not reason:  # an older message layout: the reason follows the line number
        reason = text[match.end() :].strip().splitlines()[0] if text[match.end() :].strip() else ""
    shown = original if len(original) <= 120 else original[:117] + "..."
    return f"line {match.group(1)}: {reason.rstrip('.')}" + (
        f"; the row reads: {shown}" if shown else ""
    )


def _spark_csv_error(text: str, path: Path | None) -> str | None:
    """``line N: ...; the row reads: ...`` from Spark's FAILFAST error, else None.

    Spark quotes the malformed row but not its line: the line is found by reading the file for
    that row (error path only).
    """
    match = re.search(r"Malformed CSV record: (.*?)(?:\s+SQLSTATE|$)", text, re.MULTILINE)
    if not match:
        return None
    record = match.group(1).strip()
    line = None
    if path is not None and path.is_file():
        with _open_text(path) as handle:
            line = next((n for n, row in enumerate(handle, 1) if row.strip() == record), None)
    shown = record if len(record) <= 120 else record[:117] + "..."
    where = f"line {line}: " if line else ""
    return f"{where}the row has too few or too many fields; the row reads: {shown}"


def _engine_detail(exc: BaseException, path: Path | None = None) -> str:
    """The useful part of an engine error: the CSV line and reason, or the first line."""
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    detail = _csv_error(text) or _spark_csv_error(text, path) or _spark_java_error(text)
    # a Spark error class line ends in its SQLSTATE code, of no use to the reader
    return detail or re.sub(r"\s*SQLSTATE: \w+\.?$", "", text.splitlines()[0])


# DuckDB types that read a CSV column strictly as the contract's kind (error path only).
_CSV_TYPES = {
    # TIMESTAMP parses zoned text too; a TIMESTAMPTZ column of a CSV nulls bad text silently
    "timestamp": "TIMESTAMP",
    "number": "DOUBLE",
    "integer": "BIGINT",
    "date": "DATE",
}


def _csv_row_problem(path: Path, con: BaseBackend, spec: TableSpec) -> str | None:
    """Why a CSV's columns came out with the wrong types: no rows, or its first unreadable row.

    The sniffer hides a broken row: a bad value makes its column text, a row with an extra field
    can make the whole file one text column, and a file with only a header has text columns.
    Reading it again with the delimiter, header and types fixed makes DuckDB stop at the first
    such row and name its line.
    """
    try:
        with _open_text(path) as handle:
            header = handle.readline()
            has_rows = any(line.strip() for line in handle)
    except (OSError, EOFError):  # EOFError: a truncated .gz
        return None
    if not has_rows:
        return (
            "the file has a header but no rows; export it again, or remove it so that the "
            "notebooks needing it are skipped"
        )
    delimiter = max(",;\t|", key=header.count)
    names = next(csv.reader([header], delimiter=delimiter), [])
    if not names or len(set(names)) != len(names):
        return None
    kinds = {column.name: column.kind for column in spec.columns}
    columns = {name: _CSV_TYPES.get(kinds.get(name, "string"), "VARCHAR") for name in names}
    try:
        table = con.read_csv(
            str(path), columns=columns, delim=delimiter, header=True, auto_detect=False, quote='"'
        )
        # counting each column makes the reader convert every value
        table.aggregate(**{f"c{i}": table[n].count() for i, n in enumerate(names)}).execute()
    except Exception as exc:
        row = _csv_error(str(exc))
        return f"the first row that cannot be read is {row}" if row else None
    return None


# --------------------------------------------------------------------------------------------
# What a period holds, and exact duplicates (the value checks are in lib/quality.py)

# The timestamp that places a table's rows in a report period.
PERIOD_COLUMNS = {"events": "event_time", "orders": "order_time"}


def raw_table(source: Source, name: str, keep_text: bool = False) -> ir.Table:
    """A table normalised but never de-duplicated: checks look at the data as it is.
    ``keep_text`` keeps the original text of text date columns (see :func:`_normalise`)."""
    return _normalise(source.tables[name], CONTRACT[name], keep_text)


def read_error(source: Source, name: str, exc: BaseException) -> DataError:
    """The error for a table the engine could not read: the file (or source) and the row."""
    path = source.paths.get(name)
    where = path or source.description
    return DataError(
        f"cannot read table '{name}' ({where}): {_engine_detail(exc, path)}; fix or remove "
        "that row, or export the table again"
    )


def as_count(value: object) -> int:
    """An engine's count as an int (a null count, e.g. a sum over no rows, is 0)."""
    return 0 if value is None or pd.isna(value) else int(value)


@dataclass(frozen=True)
class Coverage:
    """How a table with a period column (``events``, ``orders``) meets a period."""

    rows: int  # rows in the period's UTC bounds
    first: datetime.date | None  # local days of the table's first and last timestamp
    last: datetime.date | None

    def uncovered(self, period: Period) -> list[tuple[datetime.date, datetime.date]]:
        """The runs of the period's days before the first or after the last row (none when
        the table has no row in the period: it is then empty, not partly covered)."""
        if not self.rows or self.first is None or self.last is None:
            return []
        one = datetime.timedelta(days=1)
        runs = []
        if self.first > period.start:
            runs.append((period.start, self.first - one))
        if self.last < period.end:
            runs.append((self.last + one, period.end))
        return runs


# Coverage and event names already computed in this process, by the files read (and the
# period): every notebook prints the coverage at its top and most ask for the event names, and
# notebooks run one after another on a kept kernel (lib/run/execute.py) would otherwise each scan
# the events again (about 1.4 s per notebook at 100M events for the coverage alone).
_COVERAGE_MEMO: dict[tuple, dict[str, Coverage]] = {}
_EVENT_NAMES_MEMO: dict[tuple, tuple[str, ...]] = {}
_MEMO_SIZE = 16


def _remember(memo: dict, key: tuple, value: object) -> None:
    """Keep ``value`` under ``key``, forgetting the oldest entry beyond :data:`_MEMO_SIZE`."""
    if len(memo) >= _MEMO_SIZE:
        memo.pop(next(iter(memo)))
    memo[key] = value


def _files_key(source: Source, names: Sequence[str]) -> tuple | None:
    """The path, size and modification time of every file the tables ``names`` were read from;
    None when one was not read from files (a database: nothing to tell a change by)."""
    items = []
    for name in [*names, *source.depends_on]:
        path = source.paths.get(name) if isinstance(name, str) else name
        if path is None:
            return None
        try:
            files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
            for file in files:
                stat = file.stat()
                items.append((str(file.resolve()), stat.st_size, stat.st_mtime_ns))
        except OSError:  # gone or unreadable: ask the engine, which says what is wrong
            return None
    return tuple(items)


def coverage(source: Source, period: Period) -> dict[str, Coverage]:
    """:class:`Coverage` of ``events`` and ``orders`` (those the source has): one aggregate
    query per table, made once per process for the same unchanged files and period."""
    names = [name for name in PERIOD_COLUMNS if name in source.tables]
    files = _files_key(source, names)
    key = None if files is None else (files, period.start, period.end, period.timezone)
    if key is not None and key in _COVERAGE_MEMO:
        return dict(_COVERAGE_MEMO[key])
    found = _coverage(source, period)
    if key is not None:
        _remember(_COVERAGE_MEMO, key, dict(found))
    return found


def _coverage(source: Source, period: Period) -> dict[str, Coverage]:
    lo, hi = period.utc_bounds()
    found = {}
    for name, column in PERIOD_COLUMNS.items():
        if name not in source.tables:
            continue
        table = raw_table(source, name)
        ts = table[column]
        inside = (ts >= ibis.literal(lo, "timestamp")) & (ts < ibis.literal(hi, "timestamp"))
        query = table.aggregate(first=ts.min(), last=ts.max(), rows=inside.ifelse(1, 0).sum())
        try:
            row = query.to_pandas().iloc[0]
        except Exception as exc:
            raise read_error(source, name, exc) from None
        found[name] = Coverage(
            as_count(row["rows"]),
            _local_date(row["first"], period),
            _local_date(row["last"], period),
        )
    return found


def _local_date(value: object, period: Period) -> datetime.date | None:
    """The local day of a naive-UTC timestamp from the engine, or None for no value."""
    if value is None or pd.isna(value):
        return None
    instant = pd.Timestamp(value).to_pydatetime()
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=datetime.UTC)
    return instant.astimezone(period.zone).date()


def days_text(first: datetime.date, last: datetime.date, period: Period) -> str:
    """``2025-11-29 to 2025-12-20 (22 of 31 days)``: a run of days of the period."""
    n = (last - first).days + 1
    span = str(first) if first == last else f"{first} to {last}"
    return f"{span} ({n} of {period.n_days} days)"


def rows_in_range(source: Source, period: Period) -> dict[str, int]:
    """Rows of ``events`` and ``orders`` (those the source has) in the period's UTC bounds."""
    return {name: found.rows for name, found in coverage(source, period).items()}


def coverage_note(source: Source, period: Period) -> str:
    """One line for the top of a notebook: how much data the period holds, which of its days
    lie outside the data, or that it has none.

    A notebook on an empty period still runs top to bottom (tables are empty, charts say "no
    data"); this line says why before the reader meets them.
    """
    found = coverage(source, period)
    if found and not any(c.rows for c in found.values()):
        return (
            f"No {' or '.join(found)} fall in {period.start}..{period.end} ({period.timezone}): "
            "every table and chart below is empty. Check start and end."
        )
    counts = ", ".join(f"{c.rows:,} {name}" for name, c in found.items())
    note = f"{period.start}..{period.end} ({period.timezone}, {period.n_days} days): {counts}."
    gaps = coverage_gaps(source, period)
    return f"{note} {gaps}" if gaps else note


def coverage_gaps(source: Source, period: Period) -> str:
    """``The data does not cover it all: no orders on …``, or empty when every day of the period
    lies within the data of ``events`` and ``orders`` (or when the period holds none at all:
    :func:`coverage_note` says that)."""
    gaps = [
        f"no {name} on {' and '.join(days_text(a, b, period) for a, b in runs)}"
        for name, c in coverage(source, period).items()
        if (runs := c.uncovered(period))
    ]
    return f"The data does not cover it all: {'; '.join(gaps)}." if gaps else ""


def event_keys(events: ir.Table) -> list[str]:
    """The contract columns the events table has: two events equal on all of them are copies."""
    return [c.name for c in CONTRACT["events"].columns if c.name in events.columns]


def dedupe(events: ir.Table, spec: TableSpec = CONTRACT["events"]) -> ir.Table:
    """Events with one row per set of rows identical on every contract column.

    Extra columns are kept from one of the identical rows. This is a distinct over every event
    a query reads; the engine pushes a query's time filter below it, but it is still a grouping
    of all those rows (docs/reliability.md weighs it against de-duplicating upstream).
    """
    keys = [c.name for c in spec.columns if c.name in events.columns]
    if len(keys) == len(events.columns):
        return events.distinct()
    return events.distinct(on=keys, keep="first")


# --------------------------------------------------------------------------------------------
# User-days: the table most reports start from, made once per source and zone

# Bump when the definition of user_days_of changes: stored tables of an older one are not read.
USER_DAYS_VERSION = 1
NAMED_EVENTS_VERSION = 1
# Where stored user-days go: a folder, or "off" to keep them on the engine only.
CACHE_ENV = "ECOMMERCE_OPS_CACHE"
_OFF = {"", "off", "0", "false", "no", "none"}
# The events table of each open source, by its expression: user_days(events, …) of a source's own
# events reads the source's stored table; any other table (a test's, a filtered one) computes it.
_EVENTS_OF: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def kept(table: ir.Table, kind: str, limit: int) -> ir.Table:
    """``table`` computed once and kept in the engine for as long as a caller holds it; the same
    expression asked for again is read from there.

    Ibis keys its cache by the expression, and the same arguments to a metric build the same
    expression. The last ``limit`` tables of each ``kind`` are held here (Ibis drops a kept
    table once nothing refers to it); the oldest is let go when a new one comes.

    The key holds the connection too: Ibis calls two tables of one name and schema equal even
    on two connections (two shops, or a folder rewritten and opened again), and each must get
    its own table. The connection is held with the table, so its ``id`` is not reused. Tables
    on no connection or on several (in-memory tables in tests) are returned as they are.
    """
    backends, _ = table._find_backends()
    if len(backends) != 1:
        return table
    backend = backends[0]
    held_of_kind = _KEPT.setdefault(kind, {})
    key = (id(backend), table.op())
    held = held_of_kind.pop(key, None)
    result = held[1] if held is not None else table.cache()
    held_of_kind[key] = (backend, result)  # now the most recent
    while len(held_of_kind) > limit:
        held_of_kind.pop(next(iter(held_of_kind)))
    return result


_KEPT: dict[str, dict[tuple[int, ops.Node], tuple[BaseBackend, ir.Table]]] = {}


def release_kept() -> None:
    """Let go of every table :func:`kept` holds, and with them of their connections.

    A kept table holds its connection, so a notebook's connection (its DuckDB memory, up to the
    memory limit, and the kept tables in it) would outlive the notebook: the runner calls this
    between two notebooks on one kernel (at 100M events a kernel kept 800 MB of the previous
    notebook's otherwise).
    """
    _KEPT.clear()


def user_days_of(events: ir.Table, period: Period) -> ir.Table:
    """``user_id, day``: every distinct pair of a user and a local day (``period``'s zone, an
    epoch day) with at least one event, over the whole table, not only the period.

    A user's first day is the least ``day``; the active users of any window are those with a
    ``day`` in it. ``user_id`` is null on the day rows of events without a user (the contract
    forbids them; callers that count users leave them out, as they did before).
    """
    return events.select("user_id", day=period.local_day(events.event_time)).distinct()


def named_events_of(events: ir.Table, names: Sequence[str]) -> ir.Table:
    """``user_id, event_time, event_name`` of the events called one of ``names``, over the whole
    table."""
    named = events.filter(events.event_name.isin(list(names)))
    return named.select("user_id", "event_time", "event_name")


def events_named(events: ir.Table, names: Sequence[str]) -> ir.Table:
    """:func:`named_events_of` ``events``: the source's stored table when ``events`` is an open
    source's events table (:meth:`Source.events_named`), otherwise the expression itself.

    A funnel reads its steps' events only; at 10M events a main path's four steps are a ninth
    of them, so reading them back from the store (made once per run and set of names) spares each
    funnel the filter of every event's name, which was most of its time.
    """
    names = tuple(sorted(set(names)))
    source = _EVENTS_OF.get(_table_key(events))
    return named_events_of(events, names) if source is None else source.events_named(names)


def user_days(events: ir.Table, period: Period) -> ir.Table:
    """:func:`user_days_of` ``events``: the source's stored table when ``events`` is an open
    source's events table (:meth:`Source.user_days`), otherwise the expression itself.

    The daily traffic, the overview, cohort retention and the lifecycle all start from it; made
    once per run and zone and read back, it replaces a grouping of the events per section (at
    100M events 8 s each; the stored table has a few million rows).
    """
    source = _EVENTS_OF.get(_table_key(events))
    return user_days_of(events, period) if source is None else source.user_days(period)


def _table_key(table: ir.Table) -> tuple[tuple[int, ...], ops.Node]:
    """A table's expression with the connections it reads: Ibis calls two tables of one name
    and schema equal even on two connections (two shops open in one notebook), and each must
    find its own source. A source holds its connection, so an ``id`` is not reused while the
    source is registered."""
    backends, _ = table._find_backends()
    return tuple(sorted(id(backend) for backend in backends)), table.op()


def cache_folder() -> Path | None:
    """Where stored user-days go: ``$ECOMMERCE_OPS_CACHE``, by default
    ``$XDG_CACHE_HOME/ecommerce-ops-analysis`` (``~/.cache/…``); None when set to ``off``."""
    value = os.environ.get(CACHE_ENV)
    if value is not None:
        return None if value.strip().lower() in _OFF else Path(value).expanduser()
    home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(home) / "ecommerce-ops-analysis"


def _zone_key(period: Period) -> tuple:
    """What the local days of :func:`user_days_of` depend on: the zone's offsets as the period
    knows them (its changes within a margin around the period), not where that margin starts. A
    zone with one offset throughout (Asia/Shanghai) has one key for every period."""
    (_, first), *changes = period.offsets
    return (first, *changes)


def user_days_path(source: Source, period: Period) -> Path | None:
    """The file of ``source``'s stored user-days in ``period``'s zone, or None when they cannot be
    stored: no cache folder, or events not read from files. The name hashes every file's path,
    size and modification time, the zone's offsets, the de-duplication and the definition's
    version, so changed data or code never reads an old table."""
    folder = cache_folder()
    files = _files_key(source, ["events"])
    if folder is None or files is None:
        return None
    key = (files, source.dedupe_events, _zone_key(period), USER_DAYS_VERSION, source.backend.name)
    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:24]
    return folder / f"user_days-{digest}.parquet"


def stored_user_days(source: Source, period: Period) -> ir.Table | None:
    """``source``'s user-days read from :func:`user_days_path`, written there first when absent;
    None when they cannot be stored (the caller caches them on the engine instead)."""
    path = user_days_path(source, period)
    if path is None:
        return None
    return _stored(source, path, lambda: user_days_of(source.table("events"), period))


def named_events_path(source: Source, names: tuple[str, ...]) -> Path | None:
    """The file of ``source``'s stored events of ``names`` (:func:`named_events_of`), or None
    when they cannot be stored; named like :func:`user_days_path`, by the files, the names, the
    de-duplication and the definition's version."""
    folder = cache_folder()
    files = _files_key(source, ["events"])
    if folder is None or files is None:
        return None
    key = (files, source.dedupe_events, names, NAMED_EVENTS_VERSION, source.backend.name)
    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:24]
    return folder / f"events_named-{digest}.parquet"


def stored_named_events(source: Source, names: tuple[str, ...]) -> ir.Table | None:
    """``source``'s events of ``names`` read from :func:`named_events_path`, written there first
    when absent; None when they cannot be stored."""
    path = named_events_path(source, names)
    if path is None:
        return None
    return _stored(source, path, lambda: named_events_of(source.table("events"), names))


def _stored(source: Source, path: Path, make: Callable[[], ir.Table]) -> ir.Table | None:
    """The Parquet at ``path`` on ``source``'s engine, ``make()`` written there first when absent;
    None on a read-only or full disk (the caller computes the table instead).

    Written to a temporary name and renamed, so a reader never sees half a file and two kernels
    making it at once both end with a whole one. On Spark the file is a folder of parts.
    """
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f"{path.stem}.{os.getpid()}.partial")
            make().to_parquet(partial)
            try:
                os.replace(partial, path)
            except OSError:  # another process stored it first (a folder cannot be replaced)
                shutil.rmtree(partial, ignore_errors=True)
        return source.backend.read_parquet(str(path))
    except OSError:
        return None


# Bump when the runner's checks change what they find: results of older checks are not read.
CHECKS_VERSION = 3  # 2: notes on text that is literally "(unknown)"; 3: campaigns' dates


def remembered(source: Source, kind: str, extra: tuple, compute: Callable[[], T]) -> T:
    """``compute()``'s JSON-able result, kept in :func:`cache_folder` for the same unchanged files
    of every table of ``source`` and the same ``extra`` (e.g. the period): the runner's value
    checks read every row of a source, and a report run again on the same export (another
    period, other parameters) need not read them again. Computed each time when the source is
    not files or the cache is off; an exception is never kept."""
    folder = cache_folder()
    files = _files_key(source, sorted(source.tables))
    if folder is None or files is None:
        return compute()
    key = (kind, files, source.dedupe_events, extra, CHECKS_VERSION)
    path = folder / f"{kind}-{hashlib.sha256(repr(key).encode()).hexdigest()[:24]}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    result = compute()
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.write_text(json.dumps(result), encoding="utf-8")
        os.replace(partial, path)
    return result
