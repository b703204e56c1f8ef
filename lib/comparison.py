"""What a period is compared with, and whether the data covers it: one rule for every "vs".

``compare_to`` (a notebook parameter, lib/parameters.py) names the baseline: the previous period
of equal length (``previous_period``, the default), the same calendar days a year earlier
(``same_period_last_year``) or none (:meth:`lib.periods.Period.baseline`).

A baseline the data covers only in part is no baseline: a previous period whose first 41 days
hold no data makes every number look several times larger now. A baseline's *covered days* are
its days between the local days of the first and the last timestamp of a table the comparison
reads (:func:`covered_days`); a day inside that span counts even without a row (a shop can sell
nothing on a day), a day before the data begins or after it ends does not. A comparison is made
only when every table it reads covers every day of the baseline; otherwise it is replaced by
one sentence, :attr:`Baseline.note` ("the previous period covers only 19 of 60 days").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import ibis.expr.types as ir
import pandas as pd

from lib import sections
from lib.periods import Period, epoch_day

# The time column by which each table that comparisons read meets a period (for events and
# orders the runner's coverage warnings use the same: lib/data.py PERIOD_COLUMNS). Timestamps
# are UTC and become local days; dates are local days already.
TIME_COLUMNS = {
    "events": "event_time",
    "orders": "order_time",
    "marketing_spend": "date",
    "costs": "month",
}
# Tables whose row stands for its whole calendar month (lib/costs.py spreads it over the days).
MONTHLY = {"costs"}
BASELINE_NAMES = {
    "previous_period": "the previous period",
    "same_period_last_year": "the same period last year",
}


def baseline_name(compare_to: str) -> str:
    """``the previous period``, ``the same period last year`` or ``no other period``."""
    return BASELINE_NAMES.get(compare_to, "no other period")


def covered_days(table: ir.Table, column: str, period: Period, monthly: bool = False) -> int:
    """How many local days of ``period`` lie between the local days of the first and the last
    ``column`` value of ``table``: the days its data covers (module docstring).

    A timestamp column is UTC and is read on the local day of each instant; a date column is a
    local day already. ``monthly``: each date stands for its calendar month, so the data covers
    from the first month's first day to the last month's last day.
    """
    times = table[column]
    if times.type().is_date():
        span = table.aggregate(first=times.min(), last=times.max()).to_pandas()
        first, last = span["first"].iloc[0], span["last"].iloc[0]
        if pd.isna(first):
            return 0
        first, last = pd.Timestamp(first).date(), pd.Timestamp(last).date()
        if monthly:
            first = first.replace(day=1)
            last = (last.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
            last -= dt.timedelta(days=1)
        first_day, last_day = epoch_day(first), epoch_day(last)
    else:
        span = table.aggregate(
            first=period.local_day(times.min()), last=period.local_day(times.max())
        ).to_pandas()
        first_day, last_day = span["first"].iloc[0], span["last"].iloc[0]
        if pd.isna(first_day):
            return 0
    return max(min(int(last_day), period.end_day) - max(int(first_day), period.start_day) + 1, 0)


@dataclass(frozen=True)
class Baseline:
    """The period a run is compared with (None: ``compare_to`` none) and, per table read, how
    many of its days the data covers."""

    compare_to: str
    period: Period | None
    covered: Mapping[str, int] = field(default_factory=dict)

    @property
    def days(self) -> int:
        """The baseline's days (0 without one)."""
        return self.period.n_days if self.period is not None else 0

    @property
    def name(self) -> str:
        """``the previous period`` or ``the same period last year``."""
        return baseline_name(self.compare_to)

    def covered_by(self, tables: Iterable[str]) -> int:
        """The days of the baseline that every one of ``tables`` covers (0 when none was read)."""
        counts = [self.covered[name] for name in tables if name in self.covered]
        return min(counts) if counts else 0

    def complete(self, tables: Iterable[str] | None = None) -> bool:
        """Whether there is a baseline and ``tables`` (default: all read) cover all its days."""
        names = list(self.covered) if tables is None else list(tables)
        return self.period is not None and self.covered_by(names) == self.days

    def note(self, tables: Iterable[str] | None = None, dated: bool = False) -> str:
        """Why a comparison reading ``tables`` (default: all) is not made; empty when it is.
        ``dated`` names the baseline's days after its name."""
        names = list(self.covered) if tables is None else list(tables)
        if self.period is None:
            return "not compared (compare_to none)"
        if self.complete(names):
            return ""
        name = f"{self.name} ({self.dates})" if dated else self.name
        return f"{name} covers only {self.covered_by(names)} of {self.days} days"

    def skip_note(self, section: str, tables: Iterable[str] | None = None) -> sections.Note | None:
        """The reader's note when ``section`` (a noun phrase taking "is skipped") cannot be
        compared, e.g. "The GMV decomposition is skipped: the previous period
        (2025-06-21..2025-08-19) covers only 19 of 60 days."; None when it can."""
        why = self.note(tables, dated=True)
        return sections.skip_note(section, why) if why else None

    @property
    def dates(self) -> str:
        """``2025-09-14..2025-10-14`` (empty without a baseline)."""
        return f"{self.period.start}..{self.period.end}" if self.period is not None else ""


def baseline(period: Period, compare_to: str, tables: Mapping[str, ir.Table | None]) -> Baseline:
    """The baseline of ``period`` for ``compare_to`` and its covered days in each of ``tables``
    (named as in :data:`TIME_COLUMNS`; a None table is not read)."""
    before = period.baseline(compare_to)
    if before is None:
        return Baseline(compare_to, None)
    covered = {
        name: covered_days(table, TIME_COLUMNS[name], before, monthly=name in MONTHLY)
        for name, table in tables.items()
        if table is not None
    }
    return Baseline(compare_to, before, covered)
