"""Value checks on a source's data, run once by the runner (lib.run) before any notebook starts.

:func:`lib.data.open_source` checks the schema (tables, columns, types); this module checks the
values, docs/reliability.md lists every check:

- :func:`check_values`: nulls in required columns, negative amounts and quantities, repeated
  keys (:data:`UNIQUE_KEYS`: ``order_id``, ``sku_id`` of products, …), unknown order statuses,
  Unix-epoch placeholder timestamps or ones in the future, empty tables (timestamps before 2000
  are a warning: :func:`early_time_warnings`). Each table is scanned by one aggregate
  query that computes every count at once, in the engine; nothing is pulled into pandas. A key
  of several columns takes one grouped query more (small tables only, never ``events``).
- :func:`unknown_event_names`, :func:`duplicate_events`, :func:`exact_copies`,
  :func:`unknown_label_notes` (text that is literally ``(unknown)``): counted and reported, not
  errors.
- :func:`validate`: all of it, raising one :class:`~lib.data.DataError` naming every problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import ibis
import ibis.expr.types as ir
import pandas as pd

from lib.data import (
    CONTRACT,
    EVENT_NAMES,
    MONTH_COLUMNS,
    ORDER_STATUSES,
    TEXT_SUFFIX,
    DataError,
    Source,
    as_count,
    event_keys,
    raw_table,
    read_error,
    remembered,
)
from lib.definitions import UNKNOWN, events_in
from lib.periods import Period, to_timestamps

# Timestamps before this are rare enough to deserve a warning (a wrong time unit turns
# milliseconds into 1970s dates), but a shop's history may really start in the 1990s: they are
# kept. Exactly the Unix epoch is an export's placeholder for "no time", never a real event.
EARLIEST_TIME = datetime(2000, 1, 1)
EPOCH = datetime(1970, 1, 1)
FUTURE_TOLERANCE = timedelta(days=1)
# Amounts and quantities that are never negative (a refund is status 'refunded').
NON_NEGATIVE: dict[str, tuple[str, ...]] = {
    "orders": ("paid_amount",),
    "order_items": ("quantity", "unit_price"),
    "inventory": ("on_hand",),
    "purchase_orders": ("qty_ordered", "qty_received"),
    "shipments": ("shipping_cost",),
    "returns": ("quantity", "refund_amount"),
    "campaigns": ("discount_rate",),
    "competitor_prices": ("price",),
}
TOP_UNKNOWN_EVENT_NAMES = 5
# Text columns whose missing values the reports show under the label UNKNOWN ("(unknown)",
# lib.definitions): the traffic and conversion breakdowns (lib.traffic.traffic_by,
# lib.funnel.first_touch), the product categories (a SKU missing from the catalogue too) and
# the return reasons. A value that is literally the label lands in the same row as the missing
# ones: counted in the profile scan and named by a note (docs/reliability.md). Required text
# columns elsewhere (shipments.carrier, purchase_orders.supplier) are never missing, so a
# literal "(unknown)" there stays a row of its own.
UNKNOWN_LABELLED: dict[str, tuple[str, ...]] = {
    "events": ("channel", "slot", "platform"),
    "products": ("category",),
    "users": ("acquisition_channel", "region"),
    "returns": ("reason",),
}

# Tables the metrics read as one row per key (docs/reliability.md, "Repeated rows"): a repeated
# key joins each order line, event or order to two rows, or counts one thing twice. Columns a
# table lacks are left out (``location`` is optional).
UNIQUE_KEYS: dict[str, tuple[str, ...]] = {
    "orders": ("order_id",),
    "products": ("sku_id",),
    "users": ("user_id",),
    # rows of one SKU and date are summed as locations; without a location, copies look the same
    "inventory": ("date", "sku_id", "location"),
    "purchase_orders": ("po_id",),
    # a return request is one row: a repeated one would count its refund twice
    "returns": ("return_id",),
    # lib.products.rating_repurchase: "a review is (user, SKU, second)"
    "reviews": ("user_id", "sku_id", "review_time"),
    # issue 20; experiments' (user_id, experiment) has its own check (repeated_assignments)
    "campaigns": ("campaign_id",),
    "competitor_prices": ("date", "sku_id", "competitor"),
}
# What to do about a repeated key, per table.
KEY_ADVICE = {
    "orders": "orders must have one row per order: keep only the latest version of each order "
    "in the export",
    "products": "the catalogue must have one row per SKU (each order line joins every row of its "
    "SKU, so its units and revenue count once per row): keep only one row per sku_id in the "
    "export",
    "users": "users must have one row per user (their events and orders join every row): keep "
    "only one row per user_id, e.g. the latest, in the export",
    "inventory": "a SKU has one on_hand per date and location (locations are summed): keep only "
    "one row per key in the export",
    "inventory_no_location": "rows of one SKU and date are summed as locations, so copies add "
    "stock: add a 'location' column if they are different places, else keep only one row per "
    "date and sku_id in the export",
    "purchase_orders": "a purchase order is one row (the scorecard counts rows and sums their "
    "quantities): keep only the latest version of each po_id in the export",
    "reviews": "a review is one user's rating of one SKU at one time: keep only one row per "
    "review in the export",
    "returns": "a return request is one row (its refund_amount is summed into the refunds): keep "
    "only the latest version of each return_id in the export",
    "campaigns": "a campaign is one row (its days and scope are read from it): keep only one row "
    "per campaign_id in the export",
    "competitor_prices": "a competitor has one price per SKU and day: keep only one row per date, "
    "sku_id and competitor in the export",
}
# Tables the metrics add up row by row, with no key: two equal rows may be two real ones (two
# equal lines of an order, two parcels, two invoices), so exact copies are a note, not an error.
EXACT_COPY_EFFECTS: dict[str, str] = {
    "order_items": "count as separate lines, adding to units, revenue and goods cost (an order "
    "may hold one SKU at one price on two lines)",
    "shipments": "count as separate parcels, adding to the order's shipping cost",
    "costs": "add to the month's costs",
    "marketing_spend": "add to the channel's spend",
}


@dataclass
class Repeats:
    """Rows whose values of ``columns`` another row of the table also has."""

    columns: tuple[str, ...]
    values: int  # distinct values of the columns found in more than one row
    rows: int  # rows beyond the first of each such value
    example: dict[str, object]
    example_rows: int  # rows holding the example value


def unique_key(name: str, columns: Sequence[str]) -> tuple[str, ...]:
    """The columns that identify a row of table ``name`` (empty: the table has no key)."""
    return tuple(c for c in UNIQUE_KEYS.get(name, ()) if c in columns)


def find_repeats(source: Source, name: str, columns: Sequence[str]) -> Repeats | None:
    """Values of ``columns`` in more than one row of table ``name``, or None when there are none.

    One grouped query; only the totals and one example (the most repeated value) come back.
    Rows with a null in a required column are left out: that null is reported as such.
    """
    table = raw_table(source, name)
    spec = CONTRACT[name]
    required = [c.name for c in spec.columns if c.name in columns and not c.nullable]
    if required:
        table = table.filter(*[table[c].notnull() for c in required])
    groups = table.group_by(list(columns)).aggregate(copies=ibis._.count())
    repeated = groups.filter(groups["copies"] > 1)
    totals = repeated.aggregate(n_values=repeated.count(), n_rows=(repeated["copies"] - 1).sum())
    example = repeated.order_by([ibis.desc("copies"), *columns]).limit(1)
    try:
        # a cross join, not a window over every value: Spark would move a window to one partition
        frame = example.cross_join(totals).to_pandas()
    except Exception as exc:
        raise read_error(source, name, exc) from None
    if frame.empty:
        return None
    row = frame.iloc[0]
    return Repeats(
        tuple(columns),
        as_count(row["n_values"]),
        as_count(row["n_rows"]),
        {c: row[c] for c in columns},
        as_count(row["copies"]),
    )


def exact_copies(source: Source, name: str) -> Repeats | None:
    """Rows of table ``name`` equal to another on every contract column (nulls equal), or None."""
    table = source.tables[name]
    return find_repeats(
        source, name, [c.name for c in CONTRACT[name].columns if c.name in table.columns]
    )


def _value_text(name: str, column: str, value: object) -> str:
    """A key value as the user would find it in the file: quoted text, plain dates and numbers."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "null"
    kind = next((c.kind for c in CONTRACT[name].columns if c.name == column), "string")
    if kind == "date":
        return str(pd.Timestamp(value).date())
    if kind == "timestamp":
        return str(pd.Timestamp(value))
    return repr(value) if isinstance(value, str) else str(value)


def _example(name: str, repeats: Repeats) -> str:
    values = [_value_text(name, c, v) for c, v in repeats.example.items()]
    shown = (
        values[0]
        if len(values) == 1
        else ", ".join(f"{c} {v}" for c, v in zip(repeats.columns, values, strict=True))
    )
    return f"e.g. {shown} in {repeats.example_rows} rows"


@dataclass
class TableProfile:
    """The counts one aggregate query found in one table (naive UTC timestamps)."""

    name: str
    rows: int
    nulls: dict[str, int] = field(default_factory=dict)  # required columns only
    negative: dict[str, int] = field(default_factory=dict)
    repeats: Repeats | None = None
    bad_status: int = 0
    bad_status_example: str | None = None
    too_early: dict[str, int] = field(default_factory=dict)  # before 2000, the epoch excepted
    epoch: dict[str, int] = field(default_factory=dict)  # exactly 1970-01-01 00:00:00
    # date columns held as text: values that are not ISO dates (nor YYYY-MM for a month), and one
    not_dates: dict[str, int] = field(default_factory=dict)
    not_date_example: dict[str, str] = field(default_factory=dict)
    too_late: dict[str, int] = field(default_factory=dict)
    # rows whose value is literally UNKNOWN, in the columns of UNKNOWN_LABELLED
    unknown_label: dict[str, int] = field(default_factory=dict)
    first: dict[str, datetime | None] = field(default_factory=dict)
    last: dict[str, datetime | None] = field(default_factory=dict)


def _instant(value: object) -> datetime | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).to_pydatetime()


def profile_table(source: Source, name: str, now: datetime | None = None) -> TableProfile:
    """Count the value problems of one contract table with a single aggregate query (and a
    grouped one for a key of several columns, or for an example of a repeated id)."""
    spec = CONTRACT[name]
    table = raw_table(source, name, keep_text=True)
    limit = (now or datetime.now(UTC).replace(tzinfo=None)) + FUTURE_TOLERANCE
    measures: dict[str, ir.Scalar] = {"rows": table.count()}
    keys: dict[tuple[str, str], str] = {}

    def measure(kind: str, column: str, expr: ir.Scalar) -> None:
        # positional names: column names need not be valid SQL aliases on every engine
        keys[(kind, column)] = f"m{len(measures)}"
        measures[keys[(kind, column)]] = expr

    # the optional columns read when present (products.unit_cost) are scanned too; absent, the
    # normalised table holds them as nulls, which there is nothing to check in
    raw = source.tables[name].columns
    present = [c for c in spec.read_columns if c.name in raw]
    for col in present:
        value = table[col.name]
        # counting every contract column also makes a CSV reader convert each of its values
        measure("present", col.name, value.count())
        if col.kind == "timestamp":
            epoch = value == ibis.literal(EPOCH, "timestamp")
            measure("epoch", col.name, epoch.sum())
            early = (value < ibis.literal(EARLIEST_TIME, "timestamp")) & ~epoch
            measure("early", col.name, early.sum())
            # the earliest real value, for the warning: the placeholder is reported on its own
            measure("first", col.name, value.min(where=~epoch))
            measure("late", col.name, (value > ibis.literal(limit, "timestamp")).sum())
            measure("last", col.name, value.max())
        if (text_name := col.name + TEXT_SUFFIX) in table.columns:
            # text that did not parse as a date reads as null: count it apart from real nulls
            text = table[text_name]
            unread = text.notnull() & (text.strip() != "") & value.isnull()
            measure("not_dates", col.name, unread.sum())
            measure("not_date_example", col.name, text.min(where=unread))
        if col.name in NON_NEGATIVE.get(name, ()):
            measure("negative", col.name, (value < 0).sum())
        if col.name in UNKNOWN_LABELLED.get(name, ()) and value.type().is_string():
            measure("unknown_label", col.name, (value == ibis.literal(UNKNOWN)).sum())
    key = unique_key(name, table.columns)
    if len(key) == 1:
        # in this scan: only a table with a repeated id pays for the query finding an example
        measure("repeated", key[0], table[key[0]].count() - table[key[0]].nunique())
    if name == "orders":
        bad = ~table.status.isin(ORDER_STATUSES)  # null stays null: counted as a null instead
        measure("status", "status", bad.sum())
        measure("example", "status", table.status.min(where=bad))
    try:
        row = table.aggregate(**measures).to_pandas().iloc[0]
    except Exception as exc:
        raise read_error(source, name, exc) from None

    def get(kind: str, column: str) -> object:
        return row[keys[(kind, column)]]

    rows = as_count(row["rows"])
    profile = TableProfile(name, rows)
    for col in present:
        if ("not_dates", col.name) in keys:
            profile.not_dates[col.name] = as_count(get("not_dates", col.name))
            profile.not_date_example[col.name] = str(get("not_date_example", col.name))
        if not col.nullable:
            missing = rows - as_count(get("present", col.name))
            profile.nulls[col.name] = missing - profile.not_dates.get(col.name, 0)
        if col.kind == "timestamp":
            profile.too_early[col.name] = as_count(get("early", col.name))
            profile.epoch[col.name] = as_count(get("epoch", col.name))
            profile.too_late[col.name] = as_count(get("late", col.name))
            profile.first[col.name] = _instant(get("first", col.name))
            profile.last[col.name] = _instant(get("last", col.name))
        if (kind_key := ("negative", col.name)) in keys:
            profile.negative[col.name] = as_count(get(*kind_key))
        if (kind_key := ("unknown_label", col.name)) in keys:
            profile.unknown_label[col.name] = as_count(get(*kind_key))
    if key and (len(key) > 1 or as_count(get("repeated", key[0]))):
        profile.repeats = find_repeats(source, name, key)
    if name == "orders":
        profile.bad_status = as_count(get("status", "status"))
        example = get("example", "status")
        profile.bad_status_example = None if example is None or pd.isna(example) else str(example)
    return profile


def _rows(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


def _problems(profile: TableProfile, limit: datetime) -> list[str]:
    """One line per problem: table, column, rows affected and what to do."""
    t = f"table '{profile.name}'"
    problems = []
    for column, n in profile.nulls.items():
        if n:
            problems.append(
                f"{t} column '{column}' is empty (null) in {_rows(n)} of {profile.rows:,}, but "
                "it is required; fill it in or drop those rows in the export"
            )
    for column, n in profile.not_dates.items():
        if n:
            forms = "YYYY-MM-DD" + (
                " or YYYY-MM (read as the month's first day)"
                if (profile.name, column) in MONTH_COLUMNS
                else ""
            )
            problems.append(
                f"{t} column '{column}' holds text that is not a date in {_rows(n)} (e.g. "
                f"{profile.not_date_example[column]!r}); write dates as {forms}, or as the "
                "file format's date type"
            )
    for column, n in profile.negative.items():
        if n:
            problems.append(
                f"{t} column '{column}' is negative in {_rows(n)}; amounts and quantities must "
                "be 0 or more (a refund is status 'refunded', not a negative amount); fix or "
                "drop those rows"
            )
    if (repeats := profile.repeats) is not None:
        columns = repeats.columns
        if len(columns) == 1:
            what = f"column '{columns[0]}' repeats the id of another row"
            values = f"{repeats.values:,} {columns[0]} value" + ("" if repeats.values == 1 else "s")
        else:
            what = f"key ({', '.join(columns)}) repeats that of another row"
            values = f"{repeats.values:,} key" + ("" if repeats.values == 1 else "s")
        advice = KEY_ADVICE[profile.name]
        if profile.name == "inventory" and "location" not in columns:
            advice = KEY_ADVICE["inventory_no_location"]
        problems.append(
            f"{t} {what} in {_rows(repeats.rows)} ({values} in more than one row, "
            f"{_example(profile.name, repeats)}); {advice}"
        )
    if profile.bad_status:
        problems.append(
            f"{t} column 'status' is not one of {', '.join(ORDER_STATUSES)} in "
            f"{_rows(profile.bad_status)} (e.g. {profile.bad_status_example!r}); map those "
            "values to one of the four"
        )
    for column, n in profile.epoch.items():
        if n:
            problems.append(
                f"{t} column '{column}' is exactly {EPOCH:%Y-%m-%d %H:%M:%S} (the Unix epoch, a "
                f"placeholder for a missing time) in {_rows(n)}; fix those rows in the export: "
                "leave the time empty (null) where the column allows it, or drop them"
            )
    for column, n in profile.too_late.items():
        if n:
            problems.append(
                f"{t} column '{column}' is more than a day in the future in {_rows(n)} (after "
                f"{limit:%Y-%m-%d %H:%M} UTC; latest {profile.last[column]}); check the "
                "export's time zone and time unit, and drop placeholder dates such as 9999-12-31"
            )
    return problems


def profile_tables(source: Source, now: datetime | None) -> list[TableProfile]:
    """:func:`profile_table` of every table of the source, by name."""
    return [profile_table(source, name, now) for name in sorted(source.tables)]


def _value_problems(source: Source, profiles: list[TableProfile], limit: datetime) -> list[str]:
    if profiles and not any(p.rows for p in profiles):
        return [
            f"the source has table(s) {', '.join(p.name for p in profiles)} but no rows in any "
            "of them; check that the export wrote its data, or point --source at another folder"
        ]
    problems = []
    for profile in profiles:
        if not profile.rows:
            problems.append(
                f"table '{profile.name}' has no rows; export it again, or remove it from the "
                "source so that the notebooks needing it are skipped"
            )
        problems.extend(_problems(profile, limit))
    if "experiments" in source.tables:
        problems.extend(repeated_assignments(source))
    if "campaigns" in source.tables:
        problems.extend(campaigns_ending_before_start(source))
    return problems


# Campaigns (issue 20): those named when one ends before it starts.
CAMPAIGN_EXAMPLES = 10


def campaigns_ending_before_start(source: Source, examples: int = CAMPAIGN_EXAMPLES) -> list[str]:
    """One problem line when a campaign's ``end_date`` is before its ``start_date``: its days
    (both included) would be none, and its effect could not be measured. Names the first
    ``examples`` by ``campaign_id`` with their dates; null dates are reported as such."""
    table = raw_table(source, "campaigns")
    backwards = table.filter(table.end_date < table.start_date)
    try:
        count = as_count(backwards.count().to_pandas())
        frame = backwards.order_by("campaign_id").limit(examples).to_pandas() if count else None
    except Exception as exc:
        raise read_error(source, "campaigns", exc) from None
    if not count:
        return []
    shown = "; ".join(
        f"{row['campaign_id']!r} ({pd.Timestamp(row['start_date']).date()} to "
        f"{pd.Timestamp(row['end_date']).date()})"
        for _, row in frame.iterrows()
    )
    more = f" and {count - len(frame):,} more" if count > len(frame) else ""
    return [
        f"table 'campaigns' has {count:,} campaign(s) whose end_date is before its start_date: "
        f"{shown}{more}; both dates are local days and both are included: swap or fix them in "
        "the export"
    ]


# A/B tests (issue 20): the users named when one is assigned more than once in an experiment.
ASSIGNMENT_EXAMPLES = 10


def repeated_assignments(source: Source, examples: int = ASSIGNMENT_EXAMPLES) -> list[str]:
    """One problem line when a user has more than one ``experiments`` row in one experiment.

    A user has one variant per experiment: a second row (another variant, or the same one
    again) would count the user in two groups, or twice in one. The line gives the number of
    such users, how many of them hold different variants, and names the first ``examples``
    (by experiment and user_id) with their variants. One grouped query in the engine; only the
    totals and the named users come back. Rows with a null ``user_id`` or ``experiment`` are
    left out (those nulls are reported as such).
    """
    table = raw_table(source, "experiments")
    table = table.filter(table.user_id.notnull(), table.experiment.notnull())
    groups = table.group_by(["experiment", "user_id"]).aggregate(
        rows=ibis._.count(),
        variants=table.variant.nunique(),
        first=table.variant.min(),
        last=table.variant.max(),
    )
    repeated = groups.filter(groups["rows"] > 1)
    totals = repeated.aggregate(
        users=repeated.count(), mixed=(repeated["variants"] > 1).sum().fill_null(0)
    )
    named = repeated.order_by(["experiment", "user_id"]).limit(examples)
    try:
        total = totals.to_pandas().iloc[0]
        frame = named.to_pandas() if as_count(total["users"]) else pd.DataFrame()
    except Exception as exc:
        raise read_error(source, "experiments", exc) from None
    users = as_count(total["users"])
    if not users:
        return []

    def variants(row: pd.Series) -> str:
        if as_count(row["variants"]) <= 1:
            return f"{row['first']!r} in {as_count(row['rows'])} rows"
        if as_count(row["variants"]) == 2:
            return f"{row['first']!r} and {row['last']!r}"
        return f"{as_count(row['variants'])} variants"

    shown = "; ".join(
        f"{row['user_id']!r} in {row['experiment']!r} ({variants(row)})"
        for _, row in frame.iterrows()
    )
    more = f" and {users - len(frame):,} more" if users > len(frame) else ""
    mixed = as_count(total["mixed"])
    return [
        f"table 'experiments' assigns {users:,} user(s) more than once in one experiment "
        f"({mixed:,} of them to different variants): {shown}{more}; a user has one variant per "
        "experiment: keep one row per user and experiment in the export (a user moved between "
        "variants saw both: leave them out rather than count them in two groups)"
    ]


def early_time_warnings(profiles: Sequence[TableProfile]) -> list[str]:
    """``warning:`` lines for timestamps before :data:`EARLIEST_TIME` (the epoch placeholder is
    an error of its own): the count and the earliest value, per table and column. They are kept,
    so a run over the 1990s works; a wrong time unit shows up here as 1970s dates."""
    return [
        f"warning: table '{p.name}' column '{column}' is before {EARLIEST_TIME:%Y-%m-%d} in "
        f"{_rows(n)} (earliest {p.first[column]}); they are kept: if the shop's data does not go "
        "back that far, check the export's time unit (seconds or milliseconds)"
        for p in profiles
        for column, n in p.too_early.items()
        if n
    ]


def unknown_label_notes(profiles: Sequence[TableProfile]) -> list[str]:
    """``note:`` lines for text that is literally :data:`~lib.definitions.UNKNOWN`, the reports'
    label of a missing value (:data:`UNKNOWN_LABELLED`): those rows are kept and reported
    together with the missing ones, in one row of the breakdowns."""
    return [
        f"note: table '{p.name}' column '{column}' holds the text {UNKNOWN!r} in {_rows(n)}; "
        f"the reports label a missing {column} {UNKNOWN} too, so these rows are reported "
        "together with the missing ones, in one row; to keep them apart, rename that value in "
        "the export (or with a value map in a source mapping, docs/bring-your-own-data.md)"
        for p in profiles
        for column, n in p.unknown_label.items()
        if n
    ]


def check_values(source: Source, now: datetime | None = None) -> list[str]:
    """Every value problem of the source's contract tables, one line each (empty when none).

    Required columns without nulls; no negative ``quantity``, ``unit_price`` or ``paid_amount``;
    unique keys (:data:`UNIQUE_KEYS`); ``status`` one of :data:`ORDER_STATUSES`; no timestamp
    exactly at :data:`EPOCH` or after ``now`` (UTC, default the clock) + :data:`FUTURE_TOLERANCE`;
    no empty table (timestamps before :data:`EARLIEST_TIME` are :func:`early_time_warnings`); no
    date text that is not a date. One aggregate query per table; an unreadable row raises
    :class:`DataError`.
    """
    now = now or datetime.now(UTC).replace(tzinfo=None)
    return _value_problems(source, profile_tables(source, now), now + FUTURE_TOLERANCE)


def unknown_event_names(
    source: Source, top: int = TOP_UNKNOWN_EVENT_NAMES
) -> tuple[int, int, list[tuple[str, int]]]:
    """Events whose name is not in :data:`EVENT_NAMES`: ``(rows, names, [(name, rows)…top])``.

    Such events are kept; metrics ask for the names they use, so they are simply not counted.
    One query, reading only ``event_name``; just the ``top`` rows come back. (The totals are
    joined on rather than taken by a window over all names: Spark would move such a window to
    one partition, and says so.)
    """
    if "events" not in source.tables:
        return 0, 0, []
    events = raw_table(source, "events")
    unknown = events.filter(~events.event_name.isin(EVENT_NAMES))
    per_name = unknown.group_by("event_name").aggregate(rows=ibis._.count())
    totals = per_name.aggregate(names=per_name.count(), total=per_name.rows.sum())
    ranked = per_name.order_by([ibis.desc("rows"), "event_name"]).limit(top)
    try:
        frame = ranked.cross_join(totals).to_pandas()
    except Exception as exc:
        raise read_error(source, "events", exc) from None
    if frame.empty:
        return 0, 0, []
    # a join need not keep the order of its input
    frame = frame.sort_values(["rows", "event_name"], ascending=[False, True])
    listed = [(str(n), int(r)) for n, r in zip(frame["event_name"], frame["rows"], strict=True)]
    return int(frame["total"].iloc[0]), int(frame["names"].iloc[0]), listed


def duplicate_events(source: Source, period: Period | None = None) -> tuple[int, int]:
    """``(events, duplicates)``: rows, and rows identical to another on every contract column.

    With ``period``, only events in its UTC bounds are looked at: the duplicates that can reach
    that run's numbers, and far less to group on a large source.

    Rows are first grouped by a hash of their contract columns, a single 64-bit key (on Spark
    32-bit) instead of every column: identical rows share a hash, so when no hash is shared
    there is no copy (the usual case, one query, 3-4× faster than grouping on every column at
    100M events). Rows whose hash is shared are then grouped exactly, since different rows can
    collide.
    """
    if "events" not in source.tables:
        return 0, 0
    events = raw_table(source, "events")
    if period is not None:
        lo, hi = period.utc_bounds()
        ts = events.event_time
        events = events.filter(
            ts >= ibis.literal(lo, "timestamp"), ts < ibis.literal(hi, "timestamp")
        )
    keys = event_keys(events)
    hashed = events.mutate(row_hash=ibis.struct({k: events[k] for k in keys}).hash())
    per_hash = hashed.group_by("row_hash").aggregate(n=ibis._.count())
    summary = per_hash.aggregate(rows=per_hash.n.sum(), shared=(per_hash.n > 1).sum())
    try:
        row = summary.to_pandas().iloc[0]
        if not as_count(row["shared"]):
            return as_count(row["rows"]), 0
        suspects = hashed.semi_join(per_hash.filter(per_hash.n > 1), "row_hash")
        copies = suspects.group_by(keys).aggregate(n=ibis._.count())
        duplicates = copies.aggregate(duplicates=(copies.n - 1).sum()).to_pandas()
    except Exception as exc:
        raise read_error(source, "events", exc) from None
    return as_count(row["rows"]), as_count(duplicates["duplicates"].iloc[0])


def validate(
    source: Source, period: Period | None = None, now: datetime | None = None
) -> list[str]:
    """Run the value checks once, before any notebook: raise one :class:`DataError` naming every
    problem, or return the notes and warnings to show (each line starts ``note:``/``warning:``).

    Warnings: timestamps before 2000 (kept, :func:`early_time_warnings`). Notes: text that is
    literally the label of a missing value (:func:`unknown_label_notes`), events with
    unknown names (kept, counted), duplicate events (kept, counted; within
    ``period`` when given) and exact copies of rows in the tables without a key
    (:data:`EXACT_COPY_EFFECTS`). How the data covers ``period`` is
    :func:`lib.run.coverage_warnings`'s.

    With the clock's ``now`` (None) the messages are kept for the same unchanged files and period
    (:func:`lib.data.remembered`): a check that passed passes later too, as a later clock only
    moves the limit of future timestamps on. A source that fails is checked again every time.
    """
    if now is None:
        extra = (str(period.start), str(period.end), period.timezone) if period else ()
        return remembered(source, "checks", extra, lambda: _validate(source, period, None))
    return _validate(source, period, now)


def _validate(source: Source, period: Period | None, now: datetime | None) -> list[str]:
    now = now or datetime.now(UTC).replace(tzinfo=None)
    profiles = profile_tables(source, now)
    problems = _value_problems(source, profiles, now + FUTURE_TOLERANCE)
    if problems:
        raise DataError(
            f"the source ({source.description}) fails the value checks "
            "(docs/reliability.md):\n  - " + "\n  - ".join(problems)
        )
    messages = early_time_warnings(profiles) + unknown_label_notes(profiles)
    unknown_rows, unknown_names, listed = unknown_event_names(source)
    if unknown_rows:
        shown = ", ".join(f"{name!r} {rows:,}" for name, rows in listed)
        more = unknown_names - len(listed)
        messages.append(
            f"note: {unknown_rows:,} events have {unknown_names} name(s) outside the contract's "
            f"list (kept, unused by default): {shown}" + (f" and {more} more" if more else "")
        )
    rows, duplicates = duplicate_events(source, period)
    if duplicates:
        scope = f" from {period.start} to {period.end}" if period else ""
        messages.append(
            f"note: {duplicates:,} of {rows:,} events{scope} ({duplicates / rows:.2%}) repeat "
            "another event exactly (every contract column equal); they are kept and add only "
            "to event and page-view counts (users and sessions are counted distinct); "
            "-p dedupe_events true (open_source(..., dedupe_events=True) in Python) drops them "
            "(docs/reliability.md)"
        )
    rows_of = {p.name: p.rows for p in profiles}
    for name, effect in EXACT_COPY_EFFECTS.items():
        if name in source.tables and (copies := exact_copies(source, name)):
            messages.append(
                f"note: {copies.rows:,} of {rows_of[name]:,} {name} rows "
                f"({copies.rows / rows_of[name]:.2%}) repeat another row exactly (every contract "
                f"column equal; {_example(name, copies)}); they are kept and {effect}; if they "
                "are copies, drop them in the export (docs/reliability.md)"
            )
    return messages


# --------------------------------------------------------------------------------------------
# Do the events and the orders tell the same story? (shown in the overview, not a run check)

PURCHASE_EVENT = "purchase"
# Gaps the summary tolerates: a few late or test events are export noise, a whole share is not.
RECONCILE_TOLERANCE = 0.02  # of the period's payments
RECONCILE_DAY_TOLERANCE = 0.10  # of a day's payments, on days with at least RECONCILE_MIN_DAY
RECONCILE_MIN_DAY = 20


def purchase_reconciliation(events: ir.Table, orders: ir.Table, period: Period) -> pd.DataFrame:
    """``date, purchase_events, payments, gap, gap_share`` per local day of the period.

    ``payments`` are orders with a ``paid_time`` on that local day, whatever their status (a
    purchase event records the payment; a later cancellation or refund does not undo it), so they
    are the paid orders of every metric plus the paid orders cancelled later. ``gap`` is
    purchase events − payments, ``gap_share`` the gap over the payments (null on a day without
    any). Two honest definitions of a buyer rest on these two records (docs/metrics.md, "Rates"),
    so they should agree.
    """
    inside = events_in(events, period)
    purchases = inside.filter(inside.event_name == PURCHASE_EVENT)
    lo, hi = period.utc_bounds()
    paid = orders.filter(
        orders.paid_time >= ibis.literal(lo, "timestamp"),
        orders.paid_time < ibis.literal(hi, "timestamp"),
    )
    paid = paid.mutate(day=period.local_day(paid.paid_time))
    days = pd.RangeIndex(period.start_day, period.end_day + 1)
    table = pd.DataFrame(index=days)
    for column, counted in (("purchase_events", purchases), ("payments", paid)):
        per_day = counted.group_by("day").aggregate(n=counted.count()).to_pandas()
        table[column] = per_day.set_index("day")["n"].reindex(days).fillna(0).astype("int64")
    table["gap"] = table["purchase_events"] - table["payments"]
    table["gap_share"] = table["gap"] / table["payments"].where(table["payments"] > 0)
    table.insert(0, "date", to_timestamps(days).to_numpy())
    return table.reset_index(drop=True)


def reconciliation_note(table: pd.DataFrame) -> tuple[str, bool]:
    """One sentence on :func:`purchase_reconciliation`'s table, and whether they disagree.

    They disagree when the period's gap exceeds :data:`RECONCILE_TOLERANCE` of its payments, or a
    day with at least :data:`RECONCILE_MIN_DAY` payments or purchase events is off by more than
    :data:`RECONCILE_DAY_TOLERANCE`.
    """
    events, payments = int(table["purchase_events"].sum()), int(table["payments"].sum())
    if events == 0 and payments == 0:
        return "No purchase events and no payments in the period to compare.", False
    if events == 0:
        return (
            f"The events hold no '{PURCHASE_EVENT}' event against {payments:,} payments in the "
            "orders: event-based conversion (the funnel) cannot count buyers.",
            True,
        )
    total_gap = (events - payments) / payments if payments else float("inf")
    busy = table[table[["purchase_events", "payments"]].max(axis=1) >= RECONCILE_MIN_DAY]
    off = busy[(busy["gap"].abs() > RECONCILE_DAY_TOLERANCE * busy["payments"])]
    counts = f"{events:,} purchase events against {payments:,} payments in the orders"
    if abs(total_gap) <= RECONCILE_TOLERANCE and off.empty:
        return (
            f"Purchase events and orders agree: {counts} (within {RECONCILE_TOLERANCE:.0%} over "
            f"the period and {RECONCILE_DAY_TOLERANCE:.0%} on every day with "
            f"{RECONCILE_MIN_DAY} or more).",
            False,
        )
    gap = "more" if events > payments else "fewer"
    text = f"Purchase events and orders disagree: {counts}"
    if payments:
        text += f" ({abs(total_gap):.0%} {gap} events)"
    if not off.empty:
        worst = off.loc[off["gap"].abs().idxmax()]
        text += (
            f"; {len(off)} day(s) differ by more than {RECONCILE_DAY_TOLERANCE:.0%}, most on "
            f"{worst['date']:%Y-%m-%d} ({int(worst['purchase_events']):,} against "
            f"{int(worst['payments']):,})"
        )
    return (
        text + ". Buyers counted from events (the funnel) and from orders (GMV, products) differ "
        "by as much.",
        True,
    )


def purchase_reconciliation_by_item(
    events: ir.Table, orders: ir.Table, order_items: ir.Table, period: Period
) -> pd.DataFrame:
    """``sku_id, purchase_events, payment_lines, gap`` per SKU, where the purchase events carry
    a ``sku_id`` (GA4 exports one purchase row per item; the sample logs one per order, without
    it): purchase events of the SKU in the period against the lines of that SKU in orders paid
    in the period (any status, as :func:`purchase_reconciliation`). Sorted by the size of the gap,
    largest first; empty when no purchase event names a SKU."""
    inside = events_in(events, period)
    purchases = inside.filter(inside.event_name == PURCHASE_EVENT, inside.sku_id.notnull())
    per_event = purchases.group_by("sku_id").aggregate(purchase_events=purchases.count())
    columns = ["sku_id", "purchase_events", "payment_lines", "gap"]
    found = per_event.to_pandas()
    if found.empty:
        return pd.DataFrame(columns=columns)
    lo, hi = period.utc_bounds()
    paid = orders.filter(
        orders.paid_time >= ibis.literal(lo, "timestamp"),
        orders.paid_time < ibis.literal(hi, "timestamp"),
    ).select("order_id")
    lines = order_items.join(paid, "order_id")
    per_line = lines.group_by("sku_id").aggregate(payment_lines=lines.count()).to_pandas()
    table = found.merge(per_line, on="sku_id", how="outer").fillna(0)
    table[["purchase_events", "payment_lines"]] = table[
        ["purchase_events", "payment_lines"]
    ].astype("int64")
    table["gap"] = table["purchase_events"] - table["payment_lines"]
    table["size"] = table["gap"].abs()
    table = table.sort_values(["size", "sku_id"], ascending=[False, True])
    return table.reset_index(drop=True)[columns]


def item_reconciliation_note(table: pd.DataFrame) -> str:
    """One sentence on :func:`purchase_reconciliation_by_item`'s table."""
    if table.empty:
        return "The purchase events name no SKU: no check per item."
    off = table[table["gap"] != 0]
    if off.empty:
        return f"Per item, purchase events and paid order lines agree for all {len(table):,} SKUs."
    worst = off.iloc[0]
    return (
        f"Per item, purchase events and paid order lines differ for {len(off):,} of "
        f"{len(table):,} SKUs, most for {worst['sku_id']} ({int(worst['purchase_events']):,} "
        f"events against {int(worst['payment_lines']):,} lines)."
    )
