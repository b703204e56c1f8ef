"""A source mapping: a YAML file saying how a shop's own raw files become the contract's tables.

``open_source("shop.yaml")`` (and the runner's ``--source shop.yaml``) reads the mapping, checks
it, and gives the contract's tables as lazy Ibis expressions over the raw files, read in place by
the embedded DuckDB; :mod:`lib.data` then runs its contract checks on them as on any source. The
format is documented with a complete example in docs/bring-your-own-data.md::

    naive_time_zone: America/Sao_Paulo   # naive timestamps are local times there (-> UTC)
    epoch_unit: s                        # integer timestamps are Unix seconds (s) or ms
    raw:                                 # raw tables by name, paths relative to this file
      sales: raw/sales.csv
      clicks: {path: raw/clicks.csv, header: false, columns: [ts, visitor, action]}  # no header
    tables:
      orders:
        from: sales                      # a raw table's name, or a file path
        filter: "customer is not null"   # SQL (DuckDB) over the raw columns, applied first
        columns: {order_id: id, user_id: customer, order_time: created_at}  # contract: raw
        values: {status: {canceled: cancelled}}
        constants: {channel: web, coupon_id: null}
      order_items:
        sql: "select order_id, sku as sku_id, count(*) as quantity ... from lines group by all"

A ``database: <URL>`` (``${VAR}`` expanded from the environment; a password must be one) makes
``from`` name that database's tables and ``sql`` run there (:func:`open_tables`).

Why each step is where it is:

- The mapping is checked before any table is built: first the file alone (unknown keys,
  tables, columns, raw files that do not exist, time zone, epoch unit), then the raw tables'
  *schemas* (raw columns named in ``columns``, SQL and filters that do not bind). Every problem
  is collected and raised once, as one :class:`~lib.data.DataError` listing them all: a user
  fixing a mapping should not meet its problems one run at a time.
- Nothing is read or copied: raw files are DuckDB views and every step is an Ibis expression, so
  a mapped source costs a run what a folder source costs (docs/bring-your-own-data.md, "Time",
  has the measurements).
- Local times (``naive_time_zone``) follow DuckDB's ``timezone(zone, ts)`` (ICU). On a
  fall-back night a repeated local time is taken as its *later* instant (standard time, the
  second pass of the clock: New York 01:30 on 2025-11-02 is 06:30 UTC); a local time skipped by
  a spring-forward is read with the offset in force before the jump, so it lands as far past the
  jump as it was past the last valid minute (New York 02:30 on 2025-03-09 is 07:30 UTC, i.e.
  03:30 EDT). This is PostgreSQL's rule too. The zone's offsets from 1970 to 2050 are written
  into the query (:func:`_local_to_utc_table`), several times faster than the per-row call.
"""

from __future__ import annotations

import datetime
import difflib
import functools
import glob
import os
import re
from collections.abc import Callable
from collections.abc import Mapping as MappingType
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from lib.data import CONTRACT, DataError, redact, url_secrets
from lib.periods import PeriodError, check_timezone

SUFFIXES = (".yaml", ".yml")
TOP_KEYS = ("tables", "raw", "database", "naive_time_zone", "epoch_unit")
TABLE_KEYS = (
    "from",
    "sql",
    "filter",
    "columns",
    "values",
    "constants",
    "naive_time_zone",
    "epoch_unit",
)
# A raw table given as keys instead of a path: a headerless CSV names its columns.
RAW_KEYS = ("path", "header", "columns")
EPOCH_UNITS = {"s": 1_000_000, "ms": 1_000}  # microseconds per unit
_CSV_ENDINGS = (".csv", ".csv.gz", ".tsv", ".txt")
_PARQUET_ENDINGS = (".parquet",)
# The Ibis type each contract kind takes as a constant (the kinds lib.data normalises to).
_KIND_TYPES = {
    "id": "string",
    "string": "string",
    "number": "float64",
    "integer": "int64",
    "timestamp": "timestamp",
    "date": "date",
}


@ibis.udf.scalar.builtin(name="timezone")
def _local_to_utc(zone: dt.string, local: dt.timestamp) -> dt.Timestamp(timezone="UTC"):  # type: ignore[valid-type]
    """DuckDB's ``timezone(zone, naive)``: the instant a local wall time in ``zone`` names (cast
    it to naive: Ibis pins DuckDB's session zone to UTC, so the wall time is then UTC)."""


@ibis.udf.scalar.builtin(name="epoch_us")
def _micros(value: dt.timestamp) -> dt.int64:  # type: ignore[valid-type]
    """DuckDB's ``epoch_us``: microseconds since 1970 of a naive timestamp's wall time."""


@ibis.udf.scalar.builtin(name="make_timestamp")
def _from_micros(micros: dt.int64) -> dt.timestamp:  # type: ignore[valid-type]
    """DuckDB's ``make_timestamp(µs)``: a naive timestamp of the UTC instant (what the contract
    wants; ``to_timestamp`` would give a zoned one that pandas then carries as tz-aware)."""


@dataclass
class Mapped:
    """The mapped contract tables and the files behind them (for messages and change checks)."""

    backend: BaseBackend
    tables: dict[str, ir.Table]
    # the raw file each table reads (the mapping itself for a SQL table over files; none for a
    # database's), for read errors and lib.data's memos
    paths: dict[str, Path] = field(default_factory=dict)
    # every file whose change changes the tables: the mapping and all its raw files
    depends_on: tuple[Path, ...] = ()


def is_mapping(source: str) -> bool:
    """Whether a source string names a mapping file (``*.yaml`` / ``*.yml``, no URL scheme)."""
    return "://" not in source and source.strip().lower().endswith(SUFFIXES)


def _suggest(name: object, known: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(name), list(known), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _unknown_keys(where: str, given: MappingType, known: tuple[str, ...]) -> list[str]:
    return [
        f"{where}: unknown key '{key}'{_suggest(key, known)} (known: {', '.join(known)})"
        for key in given
        if key not in known
    ]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _resolve(base: Path, text: str) -> Path:
    path = Path(os.path.expandvars(text)).expanduser()
    return path if path.is_absolute() else base / path


def _raw_problem(path: Path, shown: str) -> str | None:
    """Why a raw file path cannot be read, or None: it must exist (a glob must match) and be a
    CSV, a Parquet file, or a folder of Parquet files."""
    if glob.has_magic(str(path)):
        if not glob.glob(str(path)):
            return f"raw file pattern '{shown}' matches no file (looked for {path})"
    elif not path.exists():
        return f"raw file '{shown}' not found (looked for {path})"
    elif path.is_dir():
        if not any(path.glob("*.parquet")):
            return f"raw folder '{shown}' holds no .parquet file directly"
        return None
    if not path.name.lower().endswith(_CSV_ENDINGS + _PARQUET_ENDINGS):
        return (
            f"raw file '{shown}' is not read: a raw table is a .csv, .csv.gz, .tsv, .txt or "
            ".parquet file (or a folder of .parquet files)"
        )
    return None


def _register(
    con: BaseBackend, view: str, path: Path, options: MappingType | None = None
) -> ir.Table:
    """A raw file as a DuckDB view named ``view`` (nothing is read but the schema); a CSV's
    ``options`` (``header``, ``names``: :func:`_raw_entry`) go to DuckDB's ``read_csv``."""
    if path.is_dir():
        return con.read_parquet(str(path / "*.parquet"), table_name=view)
    if path.name.lower().endswith(_PARQUET_ENDINGS):
        return con.read_parquet(str(path), table_name=view)
    options = dict(options or {})
    if "names" in options:
        # DuckDB would name the columns past the list column3, column4, … and fail to sniff
        # with more names than columns: count them first (the sniffer reads a sample only)
        detected = con.read_csv(str(path))  # under a name Ibis makes up: no raw name taken
        if len(detected.columns) != len(options["names"]):
            raise ValueError(
                f"columns names {len(options['names'])} column(s), and the file has "
                f"{len(detected.columns)}: give every column's name, in order"
            )
    return con.read_csv(str(path), table_name=view, **options)


def _engine_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@dataclass
class _Checked:
    """The mapping file, checked on its own (no data touched)."""

    folder: Path
    raw: dict[str, Path]
    tables: dict[str, dict[str, Any]]
    zone: str | None
    unit: str | None
    problems: list[str]
    database: str | None = None  # the database URL, ${VAR} expanded
    # read_csv options of the raw CSV tables given as keys (header, names): _raw_entry
    raw_options: dict[str, dict[str, Any]] = field(default_factory=dict)


def _check_settings(where: str, given: MappingType, problems: list[str]) -> dict[str, str]:
    """The valid ``naive_time_zone`` and ``epoch_unit`` of ``given``; problems appended."""
    valid = {}
    zone = given.get("naive_time_zone")
    if zone is not None:
        try:
            check_timezone(str(zone))
            valid["naive_time_zone"] = str(zone)
        except PeriodError:
            problems.append(
                f"{where}naive_time_zone '{zone}' is not a known IANA time zone "
                "(e.g. 'America/Sao_Paulo', 'Europe/London', 'UTC')"
            )
    unit = given.get("epoch_unit")
    if unit in EPOCH_UNITS:
        valid["epoch_unit"] = str(unit)
    elif unit is not None:
        problems.append(
            f"{where}epoch_unit '{unit}' is not one of s, ms (seconds or milliseconds since "
            "1970-01-01 UTC)"
        )
    return valid


def _looks_like_path(text: str) -> bool:
    return "/" in text or "\\" in text or text.lower().endswith(_CSV_ENDINGS + _PARQUET_ENDINGS)


def _check_table(
    name: str,
    conf: object,
    raw: dict[str, Path],
    folder: Path,
    problems: list[str],
    database: bool = False,
) -> dict[str, Any] | None:
    """Problems of one entry of ``tables`` that the file alone shows, appended to ``problems``.

    Returns the entry with its faulty parts left out, or None when the table cannot be built at
    all (no readable ``from``/``sql``): a buildable table is still built, so that the problems
    its raw schema shows join the same message.
    """
    where = f"tables.{name}"
    if name not in CONTRACT:
        problems.append(
            f"tables: '{name}' is not a contract table{_suggest(name, tuple(CONTRACT))} "
            f"(contract tables: {', '.join(CONTRACT)})"
        )
        return None
    if not isinstance(conf, MappingType):
        problems.append(f"{where}: expected keys such as from, columns (got {conf!r})")
        return None
    problems += _unknown_keys(where, conf, TABLE_KEYS)
    # a faulty setting is left out (its problem is listed) so that the table is still built
    clean: dict[str, Any] = _check_settings(f"{where}: ", conf, problems)
    buildable = True
    if ("from" in conf) == ("sql" in conf):
        problems.append(f"{where}: give exactly one of 'from' (a raw table or file) or 'sql'")
        buildable = False
    source = conf.get("from")
    # with a database, a name that is not a path is one of its tables (checked once connected)
    in_database = database and source is not None and not _looks_like_path(str(source))
    if source is not None and str(source) not in raw and not in_database:
        shown = str(source)
        problem = _raw_problem(_resolve(folder, shown), shown)
        if problem:
            known = f" (raw tables: {', '.join(raw)})" if raw else ""
            problems.append(
                f"{where}.from: '{shown}' is neither a raw table nor a file: {problem}{known}"
            )
            buildable = False
    for key in ("from", "sql", "filter"):
        if key in conf and not isinstance(conf[key], str):
            problems.append(f"{where}.{key}: expected text (got {conf[key]!r})")
            buildable = False
        elif conf.get(key):
            clean[key] = conf[key]
    spec = CONTRACT[name]
    names = tuple(c.name for c in spec.all_columns)
    kinds = {c.name: c.kind for c in spec.all_columns}
    sections: dict[str, dict] = {}
    for key in ("columns", "values", "constants"):
        given = conf.get(key) or {}
        sections[key] = {}
        if not isinstance(given, MappingType):
            problems.append(f"{where}.{key}: expected 'contract column: …' pairs (got {given!r})")
            continue
        for column, value in given.items():
            if column in names:
                sections[key][column] = value
            else:
                problems.append(
                    f"{where}.{key}: '{column}' is not a column of the contract's {name} "
                    f"table{_suggest(column, names)} (its columns: {', '.join(names)})"
                )
    clean["columns"] = {}
    for column, raw_name in sections["columns"].items():
        if not isinstance(raw_name, str):
            problems.append(
                f"{where}.columns.{column}: expected a raw column name (got {raw_name!r})"
            )
        elif column in sections["constants"]:
            problems.append(
                f"{where}: '{column}' is both renamed (columns) and a constant; keep one"
            )
        else:
            clean["columns"][column] = raw_name
    clean["values"] = {}
    for column, value_map in sections["values"].items():
        before = len(problems)
        if column in sections["constants"]:
            problems.append(
                f"{where}.values.{column}: a value map on a constant; write the constant's value"
            )
        if kinds[column] not in ("id", "string"):
            problems.append(
                f"{where}.values.{column}: value maps apply to text columns, and {column} is "
                f"{kinds[column]}"
            )
        if not isinstance(value_map, MappingType):
            problems.append(f"{where}.values.{column}: expected 'raw value: contract value' pairs")
            continue
        for value in (*value_map.keys(), *value_map.values()):
            # YAML 1.1 reads yes/no/on/off as booleans: the text meant would be lost
            if isinstance(value, bool):
                problems.append(
                    f"{where}.values.{column}: {value!r} is a YAML boolean; quote the text "
                    "meant (e.g. 'yes')"
                )
            elif isinstance(value, (list, dict)):
                problems.append(f"{where}.values.{column}: {value!r} is not a single value")
        if len(problems) == before:
            clean["values"][column] = value_map
    clean["constants"] = {}
    for column, value in sections["constants"].items():
        if isinstance(value, (list, dict)):
            problems.append(f"{where}.constants.{column}: {value!r} is not a single value")
        else:
            clean["constants"][column] = value
    return clean if buildable else None


def load(path: Path) -> _Checked:
    """Parse the mapping file and check everything the file alone shows; nothing is read."""
    import yaml  # only mapped sources need it

    problems: list[str] = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"source mapping {path} cannot be read: {exc.strerror or exc}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DataError(f"source mapping {path} is not valid YAML: {exc}") from None
    if not isinstance(doc, MappingType) or not isinstance(doc.get("tables"), MappingType):
        raise DataError(
            f"source mapping {path} has no 'tables:' section mapping contract tables to raw data "
            "(docs/bring-your-own-data.md)"
        )
    folder = path.parent
    problems += _unknown_keys("mapping", doc, TOP_KEYS)
    settings = _check_settings("", doc, problems)
    raw: dict[str, Path] = {}
    raw_given = doc.get("raw") or {}
    if not isinstance(raw_given, MappingType):
        problems.append(f"raw: expected 'name: file' pairs (got {raw_given!r})")
        raw_given = {}
    raw_options: dict[str, dict[str, Any]] = {}
    for name, given in raw_given.items():
        file, options = _raw_entry(f"raw.{name}", given, problems)
        if file is None:
            continue
        problem = _raw_problem(_resolve(folder, file), file)
        if problem:
            problems.append(f"raw.{name}: {problem}")
        raw[str(name)] = _resolve(folder, file)
        if options:
            raw_options[str(name)] = options
    tables = {}
    for name, conf in doc["tables"].items():
        clean = _check_table(str(name), conf, raw, folder, problems, "database" in doc)
        if clean is not None:
            tables[str(name)] = clean
    zone, unit = settings.get("naive_time_zone"), settings.get("epoch_unit")
    database = _check_database(doc.get("database"), problems)
    return _Checked(folder, raw, tables, zone, unit, problems, database, raw_options)


def _raw_entry(where: str, given: object, problems: list[str]) -> tuple[str | None, dict]:
    """A raw table's path and its ``read_csv`` options (problems appended; None: no path).

    A raw table is a path, or keys: ``path``, ``header`` (true/false: whether the CSV's first
    line names its columns; detected when not given) and ``columns`` (the CSV's column names in
    order, required without a header, else they replace the header's).
    """
    if isinstance(given, str):
        return given, {}
    if not isinstance(given, MappingType):
        problems.append(
            f"{where}: expected a file path, or the keys {', '.join(RAW_KEYS)} (got {given!r})"
        )
        return None, {}
    problems += _unknown_keys(where, given, RAW_KEYS)
    file = given.get("path")
    if not isinstance(file, str):
        problems.append(f"{where}.path: expected a file path (got {file!r})")
        return None, {}
    options: dict[str, Any] = {}
    header = given.get("header")
    if isinstance(header, bool):
        options["header"] = header
    elif header is not None:
        problems.append(f"{where}.header: expected true or false (got {header!r})")
    columns = given.get("columns")
    if columns is not None:
        if not isinstance(columns, list) or not all(isinstance(c, str) and c for c in columns):
            problems.append(
                f"{where}.columns: expected the file's column names in order, e.g. [user_id, "
                f"item_id] (got {columns!r})"
            )
        elif twice := sorted({c for c in columns if columns.count(c) > 1}):
            problems.append(f"{where}.columns: {', '.join(twice)} named more than once")
        else:
            options["names"] = list(columns)
    elif header is False:
        problems.append(f"{where}: a CSV without a header needs columns: [its names, in order]")
    if options and not file.lower().endswith(_CSV_ENDINGS):
        problems.append(f"{where}: header and columns apply to CSV files, and '{file}' is not one")
        options = {}
    return file, options


def _check_database(given: object, problems: list[str]) -> str | None:
    """The mapping's database URL with ``${VAR}`` expanded, or None.

    A password or secret query value must be a ``${VAR}`` reference (docs/data-contract.md): a
    mapping is a file that gets copied and committed, and the runner only knows to mask the
    secrets it expands. A secret that is not one is a problem, named without its value.
    """
    if given is None:
        return None
    if not isinstance(given, str) or "://" not in given:
        problems.append(f"database: expected a database URL such as postgres://… (got {given!r})")
        return None
    for secret in url_secrets(given):
        if not re.fullmatch(r"\$\{\w+\}|\$\w+", secret):
            problems.append(
                f"database: {redact(given)} writes a secret into the mapping; put it in an "
                "environment variable and write ${VARIABLE} instead"
            )
    unset = sorted(set(re.findall(r"\$\{(\w+)\}|\$(\w+)", given)) - {("", "")})
    missing = [a or b for a, b in unset if (a or b) not in os.environ]
    if missing:
        problems.append(f"database: environment variable(s) {', '.join(missing)} not set")
        return None
    return os.path.expandvars(given)


def _typed_constant(value: object, kind: str) -> ir.Value:
    target = _KIND_TYPES[kind]
    if value is None:
        return ibis.null().cast(target)
    if kind in ("id", "string"):
        return ibis.literal(str(value), "string")
    return ibis.literal(value).cast(target)


def _map_values(column: ir.Value, value_map: MappingType) -> ir.Value:
    """``column`` with each raw value replaced; values not in the map are kept (so that the
    value checks name an unmapped status), and a ``null`` key fills the empty ones."""
    if not column.type().is_string():
        column = column.cast("string")
    pairs = {str(k): (None if v is None else str(v)) for k, v in value_map.items() if k is not None}
    if None in value_map:
        column = column.fill_null(str(value_map[None]))
    return column.substitute(pairs) if pairs else column


# The years whose clock changes are written into the query (see _local_offsets); local times
# outside them go to DuckDB's timezone(), which follows the same rules, only slower.
TABLE_YEARS = (1970, 2050)


@functools.lru_cache(maxsize=32)
def _local_offsets(zone: str) -> tuple[int, tuple[tuple[datetime.datetime, int], ...]]:
    """``(offset before the first change, ((local wall time from which, new offset), …))`` of
    ``zone`` in :data:`TABLE_YEARS`, offsets in seconds east of UTC.

    A change at UTC instant T to offset b takes effect, on the local clock, at T + b: on a
    fall-back night the repeated wall times from T + b on get the new (standard) offset, the
    later instant; on a spring-forward night the skipped ones before T + b keep the old offset.
    These are the rules of DuckDB's ``timezone()`` (and PostgreSQL's), which
    tests/test_mapping.py checks this table against.

    The changes are found by comparing the offset day by day, then bisecting to the second
    (about 30,000 offset look-ups, once per zone and process).
    """
    info = ZoneInfo(zone)

    def offset(instant: datetime.datetime) -> int:
        return int(instant.astimezone(info).utcoffset().total_seconds())  # type: ignore[union-attr]

    day = datetime.timedelta(days=1)
    instant = datetime.datetime(TABLE_YEARS[0], 1, 1, tzinfo=datetime.UTC)
    stop = datetime.datetime(TABLE_YEARS[1], 1, 1, tzinfo=datetime.UTC)
    first = current = offset(instant)
    changes = []
    while instant < stop:
        following = instant + day
        if (new := offset(following)) != current:
            lo, hi = instant, following
            while hi - lo > datetime.timedelta(seconds=1):
                middle = (lo + (hi - lo) / 2).replace(microsecond=0)
                lo, hi = (middle, hi) if offset(middle) == current else (lo, middle)
            wall = (hi + datetime.timedelta(seconds=new)).replace(tzinfo=None)
            changes.append((wall, new))
            current = new
        instant = following
    return first, tuple(changes)


def _local_to_utc_table(zone: str, value: ir.TimestampValue) -> ir.TimestampValue:
    """``value`` (naive local times in ``zone``) as naive UTC, by the zone's offsets written
    into the query as a balanced tree of comparisons: four to six times faster than DuckDB's
    ``timezone()`` per row (2.2 million events: about 0.25 s against 1.3 s), with the same
    answers."""
    first, changes = _local_offsets(zone)
    walls = [wall for wall, _ in changes]
    offsets = [first, *(new for _, new in changes)]

    def tree(i: int, j: int) -> ir.IntegerValue:
        # offsets[k] holds from walls[k - 1] (inclusive) to walls[k]
        if i == j:
            # in microseconds: a literal of seconds would be a 32-bit integer to DuckDB, and
            # multiplying it by a million would overflow
            return ibis.literal(offsets[i] * 1_000_000, "int64")
        middle = (i + j) // 2
        return ibis.ifelse(
            value < ibis.literal(walls[middle], "timestamp"), tree(i, middle), tree(middle + 1, j)
        )

    converted = _from_micros(_micros(value) - tree(0, len(offsets) - 1))
    # a day inside the table's years on each side: no change is missed at its edges
    lo = datetime.datetime(TABLE_YEARS[0], 1, 2)
    hi = datetime.datetime(TABLE_YEARS[1] - 1, 12, 31)
    inside = (value >= ibis.literal(lo, "timestamp")) & (value < ibis.literal(hi, "timestamp"))
    return ibis.ifelse(inside, converted, _local_to_utc(zone, value).cast("timestamp"))


def _convert_times(
    name: str, out: dict[str, ir.Value], zone: str | None, unit: str | None, problems: list[str]
) -> None:
    """Contract timestamps to naive UTC: epoch integers by ``unit``, naive ones from ``zone``.

    A zoned timestamp is an instant already (lib.data makes it naive UTC); a ``date`` column is a
    local day and is never converted (docs/data-contract.md, "Time").
    """
    for column in CONTRACT[name].all_columns:
        if column.kind != "timestamp" or column.name not in out:
            continue
        value = out[column.name]
        dtype = value.type()
        if dtype.is_integer():
            if unit is None:
                problems.append(
                    f"tables.{name}: column '{column.name}' holds integers ({dtype}); say what "
                    "they count with epoch_unit: s or ms"
                )
                continue
            out[column.name] = _from_micros(value.cast("int64") * EPOCH_UNITS[unit])
        elif dtype.is_timestamp() and dtype.timezone is None and zone is not None:
            out[column.name] = _local_to_utc_table(zone, value)


def _build(
    name: str,
    conf: dict[str, Any],
    checked: _Checked,
    con: BaseBackend,
    views: dict[str, str],
    problems: list[str],
) -> ir.Table | None:
    """One mapped table as an Ibis expression, or None (its problems appended)."""
    where = f"tables.{name}"
    if "sql" in conf:
        query, what = conf["sql"], "the SQL query's result"
    else:
        source = str(conf["from"])
        query = f"SELECT * FROM {_quote(views[source])}"
        what = f"raw table '{source}'"
    # DuckDB binds each query (its schema, no rows): the query alone first, so that an error is
    # blamed on the key that holds it
    steps = [("sql" if "sql" in conf else "from", query)]
    if conf.get("filter"):
        steps.append(("filter", f"SELECT * FROM ({query}) AS mapped WHERE {conf['filter']}"))
    for key, text in steps:
        try:
            base = con.sql(text)
        except Exception as exc:
            problems.append(f"{where}.{key}: DuckDB cannot run it: {_engine_line(exc)}")
            return None
    renames: dict[str, str] = conf["columns"]
    constants: dict[str, object] = conf["constants"]
    missing = [(c, r) for c, r in renames.items() if r not in base.columns]
    for contract, raw in missing:
        problems.append(
            f"{where}.columns.{contract}: '{raw}' is not a column of {what}"
            f"{_suggest(raw, base.columns)} (it has: {', '.join(base.columns)})"
        )
    if missing:
        return None
    kinds = {c.name: c.kind for c in CONTRACT[name].all_columns}
    out: dict[str, ir.Value] = {c: base[r] for c, r in renames.items()}
    # other raw columns are kept under their own names (the contract keeps extra columns),
    # unless renamed away or shadowed by a mapped or constant column
    consumed = set(renames.values())
    for column in base.columns:
        if column not in out and column not in consumed and column not in constants:
            out[column] = base[column]
    for column, value_map in conf["values"].items():
        if column not in out:
            problems.append(
                f"{where}.values.{column}: the mapped table has no column '{column}'; map it "
                "under columns first"
            )
            continue
        out[column] = _map_values(out[column], value_map)
    zone = conf.get("naive_time_zone", checked.zone)
    unit = conf.get("epoch_unit", checked.unit)
    _convert_times(name, out, zone, unit, problems)
    for column, value in constants.items():
        try:
            out[column] = _typed_constant(value, kinds[column])
        except Exception as exc:
            problems.append(f"{where}.constants.{column}: {value!r} is not {kinds[column]}: {exc}")
    contract_first = [c for c in kinds if c in out] + [c for c in out if c not in kinds]
    return base.select(**{column: out[column].name(column) for column in contract_first})


def _settings_used(checked: _Checked) -> bool:
    return bool(checked.zone or checked.unit) or any(
        key in conf for conf in checked.tables.values() for key in ("naive_time_zone", "epoch_unit")
    )


def open_tables(
    path: Path,
    embedded: Callable[[], BaseBackend],
    connect: Callable[[str], BaseBackend],
) -> Mapped:
    """The mapping's contract tables, on the backend :mod:`lib.data` opens for it: its
    ``embedded`` DuckDB, or ``connect(url)`` for a mapping's ``database``.

    Raises one :class:`DataError` naming every problem of the mapping: those of the file, then
    those its raw tables' schemas show. Only schemas are read.
    """
    path = Path(path).expanduser().absolute()
    checked = load(path)
    problems = checked.problems
    if checked.database is None:
        con = embedded()
    else:
        try:
            con = connect(checked.database)  # its message holds no secret (lib.data)
        except DataError as exc:
            problems.append(f"database: {exc}")
            raise _problems(path, problems) from None
    if con.name == "duckdb":
        # relative paths in a table's SQL (read_csv('raw/x.csv')) are relative to the mapping
        folder = str(checked.folder).replace("'", "''")
        con.raw_sql(f"SET file_search_path = '{folder}'")
    else:
        # raw files and the conversions are DuckDB's (read_csv, timezone(), make_timestamp)
        if checked.raw or any(
            "from" in conf and _looks_like_path(conf["from"]) for conf in checked.tables.values()
        ):
            problems.append(
                f"database: raw files are read by the embedded DuckDB, not by {con.name}; load "
                "them into the database, or map them in a mapping of their own"
            )
        if _settings_used(checked):
            problems.append(
                f"database: naive_time_zone and epoch_unit are converted by DuckDB, not by "
                f"{con.name}; convert the times in the table's sql instead"
            )
        if problems:
            raise _problems(path, problems)
    in_database = set(con.list_tables()) if checked.database else set()
    views: dict[str, str] = {}
    files: dict[str, Path] = {}
    for raw_name, raw_path in checked.raw.items():
        if _raw_problem(raw_path, raw_name) is None:
            try:
                _register(con, raw_name, raw_path, checked.raw_options.get(raw_name))
            except Exception as exc:
                problems.append(f"raw.{raw_name}: cannot read {raw_path}: {_engine_line(exc)}")
                continue
            views[raw_name], files[raw_name] = raw_name, raw_path
    # a query naming a raw table whose problem is listed would only fail as a consequence
    failed = [re.escape(name) for name in checked.raw if name not in views]
    unreadable = re.compile(rf"\b({'|'.join(failed)})\b", re.I) if failed else None
    tables: dict[str, ir.Table] = {}
    paths: dict[str, Path] = {}
    for name, conf in checked.tables.items():
        source = conf.get("from")
        if source is not None and source in checked.raw:
            if source not in views:
                continue  # the raw entry's problem is listed
            paths[name] = files[source]
        elif source is not None and checked.database and not _looks_like_path(source):
            if source not in in_database:
                problems.append(
                    f"tables.{name}.from: '{source}' is not a table of the database"
                    f"{_suggest(source, sorted(in_database))}"
                )
                continue
            # no path: the memos of lib.data cannot tell a database table's change
            views[source] = source
        elif source is not None:
            file = _resolve(checked.folder, source)
            view = f"_raw_{name}"
            try:
                _register(con, view, file)
            except Exception as exc:
                problems.append(f"tables.{name}.from: cannot read {file}: {_engine_line(exc)}")
                continue
            views[source], files[view] = view, file
            paths[name] = file
        else:
            if unreadable is not None and unreadable.search(conf["sql"]):
                continue
            if not checked.database:
                # a read error names the mapping holding the query; its memo key is the mapping
                # and the raw files (files a query reads by path are not watched: use raw:)
                paths[name] = path
        table = _build(name, conf, checked, con, views, problems)
        if table is not None:
            tables[name] = table
    if problems:
        raise _problems(path, problems)
    # a pattern's files are the ones it matches now (a new match changes the mapping's key)
    read = {Path(f) for file in files.values() for f in (glob.glob(str(file)) or [file])}
    return Mapped(con, tables, paths, (path, *sorted(read)))


def _problems(path: Path, problems: list[str]) -> DataError:
    return DataError(
        f"the source mapping {path} has {len(problems)} problem(s) "
        "(docs/bring-your-own-data.md):\n  - " + "\n  - ".join(problems)
    )


def secrets(path: str | os.PathLike) -> tuple[str, ...]:
    """The secrets of a mapping's database URL once its ``${VAR}`` are expanded (password,
    secret query values, and the expanded URL itself), longest first: the runner masks them in
    everything a run writes, as it does a ``--source`` URL's (lib/run/source.py). Empty when the
    mapping has no database or cannot be read (opening it will say why)."""
    import yaml

    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return ()
    given = doc.get("database") if isinstance(doc, MappingType) else None
    if not isinstance(given, str):
        return ()
    url = os.path.expandvars(given)
    values = url_secrets(url)
    # a very short secret would blank out ordinary text (the rule of lib/run/source.py)
    found = {v for value in values if len(value) >= 4 for v in (value, unquote(value))}
    found |= {url} if values else set()
    return tuple(sorted(found, key=len, reverse=True))
