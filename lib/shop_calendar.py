"""The shop's calendar: the days a maintained holiday calendar and a short table of well-known
shopping days name, for the market of the ``country`` parameter (an ISO 3166 code).

Holidays come from the ``holidays`` package (maintained, one class per country): its ``public``
holidays, plus the ``unofficial`` and ``optional`` days where the country has those categories
(e.g. the US's Halloween and Christmas Eve, Brazil's Carnival), in English where the package
translates them. Shopping days are not public holidays, so that package leaves them out
(0.109 has no Singles' Day and no Black Friday); :data:`SHOPPING_DAYS` lists the well-known ones
per country, each with the rule that gives its date. Add a row there for a market it lacks.

A day is named by what the calendar holds for it; a day that holds nothing is named after the
nearest calendar day at most :data:`NEAR_DAYS` away ("the day before Singles' Day (shopping
day)"), so a peak is never given a fixed name.

Nothing here depends on the supply chain; when a second notebook names holidays, this module can
move to ``lib/`` unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import holidays
import pandas as pd

from lib import parameters

# The notebook parameter's declared default (lib/parameters.py).
COUNTRY = parameters.default("country")

# holidays' categories read as days a shop's sales may follow: public holidays, and the days
# people mark without a day off. Bank, school, government or armed-forces days are left out.
_HOLIDAY_KINDS = {"public": "public holiday", "unofficial": "observance", "optional": "observance"}
SHOPPING = "shopping day"
KINDS = ("public holiday", "observance", SHOPPING)
CALENDAR_COLUMNS = ["date", "name", "kind"]

# A day without a calendar entry takes the name of one at most this many days away: campaigns
# start before their day and parcels leave after it.
NEAR_DAYS = 2


def _fixed(month: int, day: int) -> Callable[[int], dt.date]:
    return lambda year: dt.date(year, month, day)


def _thanksgiving(year: int) -> dt.date:
    """The US Thanksgiving: the fourth Thursday of November."""
    first = dt.date(year, 11, 1)
    return first + dt.timedelta(days=(3 - first.weekday()) % 7 + 21)


def _after_thanksgiving(days: int) -> Callable[[int], dt.date]:
    return lambda year: _thanksgiving(year) + dt.timedelta(days=days)


_CN_FESTIVALS = (
    ("618 shopping festival", _fixed(6, 18)),  # JD's anniversary sale, now every platform's
    ("Singles' Day", _fixed(11, 11)),  # 11.11, 双十一, Alibaba's since 2009
    ("Double 12", _fixed(12, 12)),  # 12.12, 双十二
)
# Shopee's and Lazada's two largest campaign days in Southeast Asia.
_SEA_FESTIVALS = (
    ("Singles' Day", _fixed(11, 11)),
    ("Double 12", _fixed(12, 12)),
)
# Black Friday is the day after the US Thanksgiving wherever retailers adopted it; Cyber Monday
# the Monday after.
_THANKSGIVING_SALES = (
    ("Black Friday", _after_thanksgiving(1)),
    ("Cyber Monday", _after_thanksgiving(4)),
)

SHOPPING_DAYS: dict[str, tuple[tuple[str, Callable[[int], dt.date]], ...]] = {
    "CN": _CN_FESTIVALS,
    **dict.fromkeys(("SG", "MY", "ID", "PH", "TH", "VN"), _SEA_FESTIVALS),
    **dict.fromkeys(("US", "CA", "GB", "DE", "FR", "ES", "IT", "NL", "AU"), _THANKSGIVING_SALES),
    # Brazil: Black Friday is its largest e-commerce day; the Consumer Day (Dia do Consumidor)
    # on 03-15 is a second sale
    "BR": (("Consumer Day", _fixed(3, 15)), *_THANKSGIVING_SALES),
}
"""Well-known shopping days per ISO 3166 alpha-2 code: ``(name, year → date)``."""


def _holidays_of(country: str, years: range) -> tuple[str, dict[str, holidays.HolidayBase]]:
    """The alpha-2 code of ``country`` and its holidays per category that the country has."""
    code = str(country).strip().upper()
    try:
        base = holidays.country_holidays(code)
    except NotImplementedError:
        raise ValueError(
            f"country={country!r} is not a country the holidays package knows: give an ISO 3166 "
            "code such as CN, US or BR"
        ) from None
    language = "en_US" if "en_US" in (base.supported_languages or ()) else None
    found = {}
    for category in _HOLIDAY_KINDS:
        if category in (base.supported_categories or ("public",)):
            found[category] = holidays.country_holidays(
                code, years=list(years), categories=(category,), language=language
            )
    return base.country, found


def calendar_days(first: dt.date, last: dt.date, country: str = COUNTRY) -> pd.DataFrame:
    """``date, name, kind`` for every day from ``first`` to ``last`` (inclusive, local calendar
    days) that the calendar of ``country`` names (module docstring); ``kind`` is one of
    :data:`KINDS`. A day with several entries has one row each. Sorted by date, kind and name."""
    parameters.check("country", country)
    first, last = pd.Timestamp(first).date(), pd.Timestamp(last).date()
    years = range(first.year, last.year + 1)
    code, by_category = _holidays_of(country, years)
    rows = []
    for category, days in by_category.items():
        for day, names in days.items():
            if first <= day <= last:
                # the package joins several holidays of one day with "; "
                rows += [(day, name, _HOLIDAY_KINDS[category]) for name in names.split("; ")]
    for name, rule in SHOPPING_DAYS.get(code, ()):
        for year in years:
            day = rule(year)
            if first <= day <= last:
                rows.append((day, name, SHOPPING))
    table = pd.DataFrame(rows, columns=CALENDAR_COLUMNS).drop_duplicates()
    table["date"] = pd.to_datetime(table["date"]).astype("datetime64[ns]")
    order = table["kind"].map({kind: i for i, kind in enumerate(KINDS)})
    table = table.assign(_order=order).sort_values(["date", "_order", "name"], kind="stable")
    return table.drop(columns="_order").reset_index(drop=True)


def _named(rows: pd.DataFrame) -> str:
    """``Name (kind)`` of one day's rows, joined with "; "."""
    return "; ".join(f"{row.name} ({row.kind})" for row in rows.itertuples())


def name_day(day: dt.date | pd.Timestamp, calendar: pd.DataFrame, near: int = NEAR_DAYS) -> str:
    """What ``calendar`` (from :func:`calendar_days`) says about ``day``: its entries; else the
    nearest entry at most ``near`` days away ("the day before X", "2 days after X"; the earlier
    one on a tie); else "" (the calendar names nothing near it)."""
    day = pd.Timestamp(day).normalize()
    if calendar.empty:
        return ""
    offsets = (pd.to_datetime(calendar["date"]) - day).dt.days
    exact = calendar[offsets == 0]
    if len(exact):
        return _named(exact)
    close = offsets[offsets.abs() <= near]
    if close.empty:
        return ""
    # nearest first; on a tie the earlier calendar day (the day after it), as sorted
    nearest = close.loc[close.abs().sort_values(kind="stable").index[0]]
    rows = calendar[offsets == nearest]
    count = abs(int(nearest))
    when = "the day" if count == 1 else f"{count} days"
    side = "before" if nearest > 0 else "after"
    return f"{when} {side} {_named(rows)}"


def days_label(calendar: pd.DataFrame, limit: int = 3) -> str:
    """A short list for a chart title: ``MM-DD name`` of the first ``limit`` named days, "" when
    there are none, "…" when more follow."""
    if calendar.empty:
        return ""
    firsts = calendar.drop_duplicates("date")
    shown = [
        f"{pd.Timestamp(row.date):%m-%d} {row.name}" for row in firsts.head(limit).itertuples()
    ]
    return ", ".join(shown) + (", …" if len(firsts) > limit else "")
