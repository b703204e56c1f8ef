"""Report periods and local calendar days.

Stored timestamps are UTC (a naive timestamp means UTC). Reports count calendar days in the run's
time zone. Engines disagree on how they cast naive timestamps to a zone (DuckDB uses the session
zone, Spark ``session.timeZone``, and casting to ``timestamp('Asia/Shanghai')`` through Ibis does
not move the wall time on either), so this module never asks the engine to convert zones.
Instead it works out in Python, with :mod:`zoneinfo`, the zone's UTC offsets and the instants where
they change around the period, and builds an integer expression ``epoch seconds + offset``: the
same arithmetic on every backend, daylight-saving days included.

Days are carried through queries as integer *epoch days* (days since 1970-01-01 in local time),
which keeps day arithmetic (windows, day N of a cohort) plain integer arithmetic on every engine.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from lib import parameters

SECONDS_PER_DAY = 86_400
EPOCH = dt.date(1970, 1, 1)

# How far around the period the exact offsets are worked out. Metrics look back at most 30 days
# (MAU) and forward at most 31 (retention, funnel windows); beyond the margin the nearest known
# offset is used, which can move a timestamp by at most a DST hour, far from the period.
OFFSET_MARGIN_DAYS = 400


class PeriodError(ValueError):
    """A date range or time zone that cannot be used."""


def parse_date(value: str | dt.date, name: str = "date") -> dt.date:
    """Parse ``YYYY-MM-DD`` (or pass a date through), naming the parameter on failure."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise PeriodError(f"{name}={value!r} is not a date in the form YYYY-MM-DD") from None


def check_timezone(name: str) -> ZoneInfo:
    """Return the zone for an IANA name such as ``Asia/Shanghai`` or raise :class:`PeriodError`."""
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise PeriodError(
            f"timezone={name!r} is not a known IANA time zone (e.g. 'Asia/Shanghai', 'UTC')"
        ) from None


def check_lengths(**lengths: float) -> None:
    """Raise a ValueError for the first of ``lengths`` (name=value: a window or count of days or
    hours) below 1, naming it. ``not >= 1`` refuses NaN too, which would make every comparison
    with it silently false."""
    for name, value in lengths.items():
        if not value >= 1:
            raise ValueError(f"{name}={value} must be at least 1")


def epoch_day(day: dt.date) -> int:
    """Days since 1970-01-01 for a calendar date."""
    return (day - EPOCH).days


def to_timestamps(epoch_days: pd.Series | list[int]) -> pd.Series:
    """Epoch days as midnight ``datetime64`` timestamps: the form tables report dates in."""
    values = pd.Series(epoch_days, dtype="int64")
    return pd.to_datetime(values * SECONDS_PER_DAY, unit="s").astype("datetime64[ns]")


@dataclass(frozen=True)
class Period:
    """An inclusive range of local calendar days ``[start, end]`` in ``timezone``."""

    start: dt.date
    end: dt.date
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", parse_date(self.start, "start"))
        object.__setattr__(self, "end", parse_date(self.end, "end"))
        check_timezone(self.timezone)
        if self.end < self.start:
            raise PeriodError(f"end={self.end} is before start={self.start}")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_day(self) -> int:
        """The first day as an epoch day."""
        return epoch_day(self.start)

    @property
    def end_day(self) -> int:
        """The last day as an epoch day."""
        return epoch_day(self.end)

    def days(self) -> pd.Series:
        """Every local day of the period as midnight timestamps, in order."""
        return to_timestamps(list(range(self.start_day, self.end_day + 1)))

    def previous(self) -> Period:
        """The period of equal length that ends the day before this one starts."""
        length = dt.timedelta(days=self.n_days)
        return Period(self.start - length, self.end - length, self.timezone)

    def last_year(self) -> Period:
        """The same calendar days a year earlier (29 February becomes the 28th)."""

        def year_before(day: dt.date) -> dt.date:
            return day.replace(year=day.year - 1, day=min(day.day, 28 if day.month == 2 else 31))

        return Period(year_before(self.start), year_before(self.end), self.timezone)

    def baseline(self, compare_to: str) -> Period | None:
        """The period this one is compared with: ``previous_period`` (:meth:`previous`),
        ``same_period_last_year`` (:meth:`last_year`) or ``none`` (None)."""
        parameters.check("compare_to", compare_to)  # one of its declared choices
        if compare_to == "none":
            return None
        return self.last_year() if compare_to == "same_period_last_year" else self.previous()

    def utc_bounds(
        self, days_before: int = 0, days_after: int = 0
    ) -> tuple[dt.datetime, dt.datetime]:
        """Naive UTC instants ``[lo, hi)`` covering the period widened by whole local days.

        Filtering on these lets an engine skip Parquet row groups before any conversion.
        """
        lo = self.start - dt.timedelta(days=days_before)
        hi = self.end + dt.timedelta(days=days_after + 1)
        return utc_midnight(lo, self.zone), utc_midnight(hi, self.zone)

    @cached_property
    def offsets(self) -> tuple[tuple[int, int], ...]:
        """``(from_epoch_second, utc_offset_seconds)`` pieces around the period, in order."""
        margin = dt.timedelta(days=OFFSET_MARGIN_DAYS)
        lo = utc_midnight(self.start - margin, self.zone)
        hi = utc_midnight(self.end + margin, self.zone)
        return offset_segments(self.zone, _epoch_seconds(lo), _epoch_seconds(hi))

    def contains(self, dates: ir.DateValue) -> ir.BooleanValue:
        """Whether a column of dates that are already local days (a ``date`` column such as
        ``marketing_spend.date`` or ``inventory.date``) falls in the period, ends included."""
        start, end = ibis.literal(self.start, "date"), ibis.literal(self.end, "date")
        return (dates >= start) & (dates <= end)

    def local_seconds(self, ts: ir.TimestampValue) -> ir.IntegerValue:
        """Local wall-clock time of a UTC timestamp column, as seconds since the local epoch."""
        seconds = epoch_seconds(ts)
        offsets = self.offsets
        if len(offsets) == 1:
            return seconds + offsets[0][1]
        # piece i applies from its own start until the next piece's start
        branches = [
            (seconds < next_start, seconds + offset)
            for (_, offset), (next_start, _) in zip(offsets, offsets[1:], strict=False)
        ]
        return ibis.cases(*branches, else_=seconds + offsets[-1][1])

    def local_day(self, ts: ir.TimestampValue) -> ir.IntegerValue:
        """The local calendar day of a UTC timestamp column, as an epoch day."""
        return self.local_seconds(ts) // SECONDS_PER_DAY


def epoch_seconds(ts: ir.TimestampValue) -> ir.IntegerValue:
    """Whole seconds since 1970-01-01 of a naive-UTC timestamp column, rounded down."""
    # floor, not a plain cast: DuckDB rounds fractional seconds when casting to an integer,
    # which would move 23:59:59.6 onto the next second, and onto the next day at midnight.
    return ts.epoch_seconds().floor().cast("int64")


def utc_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The naive UTC instant at which local ``day`` begins in ``zone``."""
    local = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def _epoch_seconds(naive_utc: dt.datetime) -> int:
    return int(naive_utc.replace(tzinfo=dt.UTC).timestamp())


def _offset_at(zone: ZoneInfo, second: int) -> int:
    offset = dt.datetime.fromtimestamp(second, zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def offset_segments(zone: ZoneInfo, lo: int, hi: int) -> tuple[tuple[int, int], ...]:
    """The zone's UTC offset between epoch seconds ``lo`` and ``hi`` as ``(from, offset)`` pieces.

    Zones change offset at most a few times a year and never twice within an hour, so the
    offsets at every hour (one vectorised pandas conversion) find every change and a bisection
    pins it to the second.
    """
    hours = pd.date_range(
        pd.Timestamp(lo, unit="s", tz="UTC"), pd.Timestamp(hi, unit="s", tz="UTC"), freq="h"
    )
    local = hours.tz_convert(zone).tz_localize(None)
    hourly = (local - hours.tz_localize(None)).total_seconds().to_numpy()
    segments = [(lo, _offset_at(zone, lo))]
    changes = (np.flatnonzero(np.diff(hourly)) + 1).tolist()
    if len(hourly) and hourly[-1] != _offset_at(zone, hi):
        changes.append(len(hourly))  # between the last whole hour and hi
    for i in changes:
        # offset(a) is the current one, offset(b) the new one
        a, b = lo + 3600 * (i - 1), min(lo + 3600 * i, hi)
        while b - a > 1:
            mid = (a + b) // 2
            if _offset_at(zone, mid) == segments[-1][1]:
                a = mid
            else:
                b = mid
        segments.append((b, _offset_at(zone, b)))
    return tuple(segments)
