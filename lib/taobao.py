"""The Taobao user-behaviour format, read straight into the data contract by DuckDB.

The public Taobao user-behaviour data set (``UserBehavior.csv``, about 100 million rows) is a CSV
without a header::

    user_id,item_id,category_id,behavior_type,timestamp
    1,2268318,2520377,pv,1511544070

``behavior_type`` is ``pv`` (item page view), ``fav`` (favourite), ``cart`` (add to cart) or
``buy``; ``timestamp`` is Unix seconds. Open it with ``--source taobao:///abs/path/UserBehavior.csv``
(see docs/scaling.md). The file is read in place by an embedded DuckDB, streaming, never into
pandas; the contract tables are views over it:

- ``events``: ``event_time`` (naive UTC from the Unix seconds), ``user_id``, ``event_name``
  (pv → ``view_item``, fav → ``add_to_wishlist``, cart → ``add_to_cart``, buy → ``purchase``),
  ``sku_id`` = ``item_id``, ``category_id`` (kept as an extra column) and the contract's nullable
  columns (``session_id``, ``channel``, ``slot``, ``platform``), all null: the format has none.
- ``products``: one row per item, ``sku_id`` and ``category`` = its ``category_id`` (the smallest
  one, should an item ever carry two); ``unit_cost`` and ``list_price`` are null.
- No ``orders`` (nor ``order_items``): a ``buy`` carries no amount. The overview, traffic,
  conversion and retention notebooks run on the events; their money sections and everything else
  needing orders (GMV, item-to-paid-order conversion, repurchase, RFM, decision stages) are
  skipped, each with a one-line note (:func:`lib.sections.note`). The notebooks that
  need orders (products, costs, supply chain) are skipped by the runner, which says so.

Row rules (tested in tests/test_taobao.py):

- The behaviour is matched after trimming and lower-casing. A row with any other behaviour (a
  typo, an empty field) is **kept** with event name ``unknown_behavior:<value>``, like any event
  name outside the contract: it counts as activity (DAU) but in no funnel step, and the runner's
  data check prints how many such rows there are and their values.
- ``?days=YYYY-MM-DD..YYYY-MM-DD`` keeps only rows on those local days in ``?tz=`` (default
  ``Asia/Shanghai``, Beijing time, the zone the data set was collected in). The public file has a
  few rows outside its collection window, which would otherwise shift users' first-seen days and
  the retention horizon (and rows before 2000 make the runner warn).
- A timestamp that is not an integer, or a row with a wrong number of fields, is an error naming
  the line, raised by the first query that reads it (the runner's value check does).

The same tables come from a source mapping, ``examples/taobao/shop.yaml`` (tested against this
adapter in tests/test_mapping_taobao.py); the adapter stays for its ``?days=`` option and its
fixed event names.

A folder of Parquet files is several times faster to query than the CSV, which every query parses
again: :func:`convert` (``python -m lib.taobao UserBehavior.csv OUT_DIR``) writes one, streaming.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from lib.periods import Period, check_timezone, parse_date

SCHEME = "taobao://"
DEFAULT_TIMEZONE = "Asia/Shanghai"
# The collection window of the public file (Beijing time), for the docs and the CLI's hint.
PUBLIC_DAYS = "2017-11-25..2017-12-03"
BEHAVIOURS = {
    "pv": "view_item",
    "fav": "add_to_wishlist",
    "cart": "add_to_cart",
    "buy": "purchase",
}
# The contract event names the format can produce (lib.data.Source.event_names).
EVENT_NAMES = tuple(BEHAVIOURS.values())
UNKNOWN_PREFIX = "unknown_behavior:"
# How notes name this data when they say a table is missing (lib.data.Source.kind).
KIND = "Taobao user-behaviour data"
_EPOCH = dt.datetime(1970, 1, 1)
# Read as text: the contract's ids are strings (lib.data would cast integers anyway), and a
# malformed id must not stop the read. The timestamp is parsed strictly.
CSV_COLUMNS = {
    "user_id": "VARCHAR",
    "item_id": "VARCHAR",
    "category_id": "VARCHAR",
    "behavior_type": "VARCHAR",
    "timestamp": "BIGINT",
}


class TaobaoError(ValueError):
    """A Taobao source that cannot be opened; :mod:`lib.data` turns it into a DataError."""


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def parse_url(url: str) -> tuple[Path, tuple[str, str] | None, str]:
    """``(csv_path, (first_day, last_day) or None, timezone)`` from a ``taobao://`` URL."""
    parts = urlsplit(url)
    path = Path(unquote(parts.netloc + parts.path))  # a space may be written %20
    if not path.is_absolute():
        raise TaobaoError(
            f"{url}: give the file's absolute path, e.g. taobao:///data/UserBehavior.csv "
            "(notebooks run in another folder, so a relative path would point elsewhere)"
        )
    if not path.is_file():
        raise TaobaoError(f"Taobao user-behaviour file {path} (from {url}) does not exist")
    query = parse_qs(parts.query)
    unknown = sorted(set(query) - {"days", "tz"})
    if unknown:
        raise TaobaoError(f"{url}: unknown option(s) {', '.join(unknown)}; known: days, tz")
    timezone = query.get("tz", [DEFAULT_TIMEZONE])[0]
    days = None
    if "days" in query:
        text = query["days"][0]
        first, sep, last = text.partition("..")
        if not sep:
            raise TaobaoError(f"{url}: days={text!r} should read FIRST..LAST, e.g. {PUBLIC_DAYS}")
        days = (first.strip(), last.strip())
    try:
        check_timezone(timezone)
        if days:
            parse_date(days[0], "days"), parse_date(days[1], "days")
    except ValueError as exc:
        raise TaobaoError(f"{url}: {exc}") from None
    return path, days, timezone


def event_sql(
    path: Path, days: tuple[str, str] | None = None, timezone: str = DEFAULT_TIMEZONE
) -> str:
    """The DuckDB query giving the contract's ``events`` from the CSV (no data is read here)."""
    columns = ", ".join(f"{_quote(name)}: {_quote(kind)}" for name, kind in CSV_COLUMNS.items())
    reader = (
        f"read_csv({_quote(str(path))}, columns = {{{columns}}}, header = false, delim = ',', "
        "quote = '', escape = '', auto_detect = false)"
    )
    behaviour = "lower(trim(behavior_type))"
    known = " ".join(
        f"WHEN {_quote(code)} THEN {_quote(name)}" for code, name in BEHAVIOURS.items()
    )
    where = ""
    if days:
        lo, hi = Period(days[0], days[1], timezone).utc_bounds()
        # compare raw seconds: the filter is applied while the file is read, before any cast
        lo_s, hi_s = (int((t - _EPOCH).total_seconds()) for t in (lo, hi))
        where = f'WHERE "timestamp" >= {lo_s} AND "timestamp" < {hi_s}'
    return (
        # make_timestamp(µs) is a naive timestamp of the UTC instant, as the contract wants
        'SELECT make_timestamp("timestamp" * 1000000) AS event_time, user_id, '
        f"CASE {behaviour} {known} "
        f"ELSE {_quote(UNKNOWN_PREFIX)} || coalesce({behaviour}, '') END AS event_name, "
        "CAST(NULL AS VARCHAR) AS session_id, item_id AS sku_id, "
        "CAST(NULL AS VARCHAR) AS channel, CAST(NULL AS VARCHAR) AS slot, "
        "CAST(NULL AS VARCHAR) AS platform, category_id "
        f"FROM {reader} {where}"
    )


def _products_sql(events_view: str) -> str:
    return (
        "SELECT sku_id, min(category_id) AS category, CAST(NULL AS DOUBLE) AS unit_cost, "
        f"CAST(NULL AS DOUBLE) AS list_price FROM {events_view} "
        "WHERE sku_id IS NOT NULL GROUP BY sku_id"
    )


def open_tables(
    url: str, con: BaseBackend | None = None
) -> tuple[BaseBackend, dict[str, ir.Table], Path]:
    """``(backend, {"events", "products"}, csv_path)``: the file's contract tables as DuckDB views.

    Only the views are created here; each query streams the CSV again.
    """
    path, days, timezone = parse_url(url)
    con = con if con is not None else ibis.duckdb.connect()
    con.raw_sql(f"CREATE OR REPLACE TEMP VIEW events AS {event_sql(path, days, timezone)}")
    con.raw_sql(f"CREATE OR REPLACE TEMP VIEW products AS {_products_sql('events')}")
    return con, {"events": con.table("events"), "products": con.table("products")}, path


def convert(url_or_path: str, out: Path) -> dict[str, int]:
    """Write ``events.parquet`` and ``products.parquet`` into ``out``; rows written per table.

    DuckDB streams the CSV into the Parquet files; memory stays bounded whatever the file size.
    The folder is then an ordinary source: ``--source OUT``.
    """
    url = (
        url_or_path
        if url_or_path.startswith(SCHEME)
        else SCHEME + str(Path(url_or_path).absolute())
    )
    con, tables, _ = open_tables(url)
    out.mkdir(parents=True, exist_ok=True)
    rows = {}
    for name in tables:
        target = out / f"{name}.parquet"
        # no ORDER BY: sorting 100M rows would need memory or spilling; a plain copy streams
        con.raw_sql(
            f"COPY (SELECT * FROM {name}) TO {_quote(str(target))} "
            "(FORMAT parquet, COMPRESSION zstd)"
        )
        rows[name] = int(con.raw_sql(f"SELECT count(*) FROM {_quote(str(target))}").fetchone()[0])
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Convert a Taobao user-behaviour CSV into a Parquet source folder."
    )
    parser.add_argument("csv", help=f"UserBehavior.csv, or a {SCHEME} URL with ?days=/&tz=")
    parser.add_argument("out", type=Path, help="folder to write events.parquet, products.parquet")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    rows = convert(args.csv, args.out)
    shown = ", ".join(f"{n:,} {name}" for name, n in rows.items())
    print(f"wrote {shown} to {args.out} in {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
