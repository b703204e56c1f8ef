"""``python -m lib.run --profile --source X``: what a source holds, before any analysis.

For a new shop's data the first question is what was found: which tables, how many rows, from
when to when (in the chosen time zone), how many users, which event names and how often, and
what the value checks say. Nothing runs and nothing is written; the checks are the runner's own
(:func:`lib.quality.validate`), so a problem reads as it would before a run.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from lib.data import DataError, Source, read_error
from lib.periods import Period
from lib.quality import profile_tables, validate
from lib.run.errors import UsageError
from lib.run.source import SourceSpec, opened

# The column a table's date range is read from: its time of record (timestamps come from the
# value checks' own scan; dates are local days already and read with one small query).
TIME_COLUMNS = {
    "events": "event_time",
    "orders": "order_time",
    "users": "signup_time",
    "reviews": "review_time",
    "shipments": "shipped_time",
    "marketing_spend": "date",
    "costs": "month",
    "inventory": "date",
    "purchase_orders": "ordered_date",
}
TOP_EVENT_NAMES = 20


def _local(value: datetime | None, zone: str) -> str:
    """A naive-UTC timestamp as the local day in ``zone`` (dates are local already)."""
    if value is None or pd.isna(value):
        return "-"
    stamp = pd.Timestamp(value)
    if stamp.hour or stamp.minute or stamp.second or stamp.microsecond:
        return str(stamp.tz_localize("UTC").tz_convert(zone).date())
    return str(stamp.date())


def profile_lines(source: Source, timezone: str, now: datetime | None = None) -> list[str]:
    """The profile of ``source`` as lines of text: per table its rows and date range (local days
    in ``timezone``), the distinct users of the events, orders and users tables, the event names
    with their counts, then the value checks' problems, warnings and notes."""
    Period("2000-01-01", "2000-01-01", timezone)  # a bad zone is refused here, by name
    now = now or datetime.now(UTC).replace(tzinfo=None)
    lines = [f"source: {source.description}", f"time zone: {timezone}", "", "tables:"]
    for profile in profile_tables(source, now):
        column = TIME_COLUMNS.get(profile.name)
        first, last = profile.first.get(column), profile.last.get(column)
        if column and column not in profile.first and profile.rows:
            dates = source[profile.name][column]
            found = source[profile.name].aggregate(first=dates.min(), last=dates.max())
            first, last = found.to_pandas().iloc[0]
        span = f", {_local(first, timezone)} to {_local(last, timezone)}" if column else ""
        lines.append(f"  {profile.name}: {profile.rows:,} rows{span}")
    users = []
    for name in ("events", "orders", "users"):
        if name in source.tables:
            try:
                count = int(source[name].user_id.nunique().to_pandas())
            except Exception as exc:
                raise read_error(source, name, exc) from None
            users.append(f"{count:,} in {name}")
    if users:
        lines += ["", f"users: {'; '.join(users)}"]
    if "events" in source.tables:
        events = source["events"]
        counts = (
            events.group_by("event_name").aggregate(n=events.count()).to_pandas()
        ).sort_values(["n", "event_name"], ascending=[False, True])
        lines += ["", f"event names ({len(counts)}):"]
        lines += [
            f"  {row.event_name}: {int(row.n):,}"
            for row in counts.head(TOP_EVENT_NAMES).itertuples()
        ]
        if len(counts) > TOP_EVENT_NAMES:
            lines.append(f"  … and {len(counts) - TOP_EVENT_NAMES} more")
    lines += ["", "checks:"]
    try:
        messages = validate(source, None, now)
    except DataError as exc:
        messages = [f"error: {exc}"]
    lines += [f"  {message}" for message in messages] or ["  no problem found"]
    return lines


def run_profile(raw_source: str | None, timezone: str | None) -> int:
    """Print the profile of the ``--source`` argument; 0, or 2 when the checks found errors."""
    source = SourceSpec.from_arg(raw_source)
    with opened(source) as found:
        try:
            lines = [source.scrub(line) for line in profile_lines(found, timezone or "UTC")]
        except ValueError as exc:  # a time zone the Period refuses
            raise UsageError(source.scrub(str(exc))) from None
    print("\n".join(lines))
    return 2 if any(line.startswith("  error:") for line in lines) else 0
