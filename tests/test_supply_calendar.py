"""The shop's calendar (lib/shop_calendar.py): holidays from the holidays package and the
table of shopping days, for the market of the ``country`` parameter."""

from __future__ import annotations

import datetime as dt
import inspect

import pandas as pd
import pytest

from lib import parameters, supply

D = dt.date


def named(calendar: pd.DataFrame) -> dict[str, list[str]]:
    """``MM-DD`` → the names of that day, ``kind`` in brackets."""
    days: dict[str, list[str]] = {}
    for row in calendar.itertuples():
        days.setdefault(f"{row.date:%m-%d}", []).append(f"{row.name} [{row.kind}]")
    return days


def test_the_country_default_is_the_declared_one():
    assert supply.COUNTRY == parameters.default("country") == "CN"
    signature = inspect.signature(supply.calendar_days)
    assert signature.parameters["country"].default == supply.COUNTRY


def test_china_public_holidays_and_shopping_days():
    calendar = supply.calendar_days(D(2025, 9, 30), D(2025, 12, 31), "CN")
    assert calendar.columns.tolist() == supply.CALENDAR_COLUMNS
    days = named(calendar)
    assert days["10-01"] == ["National Day [public holiday]"]
    assert days["10-06"] == ["Mid-Autumn Festival [public holiday]"]
    assert days["11-11"] == ["Singles' Day [shopping day]"]
    assert days["12-12"] == ["Double 12 [shopping day]"]
    assert "09-30" not in days  # a working day
    assert calendar["date"].is_monotonic_increasing


def test_black_friday_follows_thanksgiving_each_year():
    calendar = supply.calendar_days(D(2024, 11, 1), D(2026, 12, 31), "US")
    shopping = calendar[calendar["kind"] == "shopping day"]
    by_name = shopping.groupby("name")["date"].apply(lambda d: d.dt.date.tolist()).to_dict()
    # Thanksgiving, the fourth Thursday of November: 2024-11-28, 2025-11-27, 2026-11-26
    assert by_name == {
        "Black Friday": [D(2024, 11, 29), D(2025, 11, 28), D(2026, 11, 27)],
        "Cyber Monday": [D(2024, 12, 2), D(2025, 12, 1), D(2026, 11, 30)],
    }
    days = named(supply.calendar_days(D(2025, 10, 1), D(2025, 12, 31), "US"))
    assert days["11-27"] == ["Thanksgiving Day [public holiday]"]
    assert days["11-28"] == ["Black Friday [shopping day]"]
    assert days["10-31"] == ["Halloween [observance]"]  # holidays' "unofficial" category
    assert days["11-11"] == ["Veterans Day [public holiday]"]  # no Singles' Day in the US


def test_brazil_has_its_own_shopping_days_and_optional_holidays():
    days = named(supply.calendar_days(D(2025, 3, 1), D(2025, 12, 31), "BR"))
    assert days["03-15"] == ["Consumer Day [shopping day]"]
    assert days["11-28"] == ["Black Friday [shopping day]"]
    assert days["11-15"] == ["Republic Proclamation Day [public holiday]"]
    assert days["03-04"] == ["Carnival [observance]"]  # holidays' "optional" category


def test_a_market_without_shopping_days_has_its_holidays_alone():
    calendar = supply.calendar_days(D(2025, 1, 1), D(2025, 12, 31), "JP")
    assert len(calendar) > 10
    assert set(calendar["kind"]) == {"public holiday"}


def test_country_codes_ignore_case_and_accept_three_letters():
    base = supply.calendar_days(D(2025, 11, 1), D(2025, 12, 31), "US")
    pd.testing.assert_frame_equal(supply.calendar_days(D(2025, 11, 1), D(2025, 12, 31), "us"), base)
    pd.testing.assert_frame_equal(
        supply.calendar_days(D(2025, 11, 1), D(2025, 12, 31), "USA"), base
    )


def test_an_unknown_country_is_refused_by_name():
    with pytest.raises(ValueError, match="country='XX' is not a country the holidays package"):
        supply.calendar_days(D(2025, 1, 1), D(2025, 1, 2), "XX")
    with pytest.raises(ValueError, match="country=7"):
        supply.calendar_days(D(2025, 1, 1), D(2025, 1, 2), 7)


def test_the_calendar_spans_the_turn_of_a_year():
    days = named(supply.calendar_days(D(2025, 12, 31), D(2026, 1, 1), "CN"))
    assert days == {"01-01": ["New Year's Day [public holiday]"]}


CALENDAR = pd.DataFrame(
    {
        "date": pd.to_datetime(["2025-11-11", "2025-11-11", "2025-11-20", "2025-11-22"]),
        "name": ["Singles' Day", "Veterans Day", "A", "B"],
        "kind": ["shopping day", "public holiday", "observance", "observance"],
    }
)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2025-11-11", "Singles' Day (shopping day); Veterans Day (public holiday)"),
        ("2025-11-10", "the day before Singles' Day (shopping day); Veterans Day (public holiday)"),
        ("2025-11-13", "2 days after Singles' Day (shopping day); Veterans Day (public holiday)"),
        ("2025-11-14", ""),  # 3 days away: too far to borrow a name
        ("2025-11-08", ""),
        ("2025-11-21", "the day after A (observance)"),  # a tie: the earlier calendar day
        (pd.Timestamp("2025-11-22 23:59"), "B (observance)"),  # a time of day names its date
    ],
)
def test_name_day_says_what_the_calendar_holds_on_or_near_a_day(day, expected):
    assert supply.name_day(day, CALENDAR) == expected


def test_name_day_on_an_empty_calendar_and_a_narrower_reach():
    assert supply.name_day("2025-11-11", CALENDAR.iloc[0:0]) == ""
    assert supply.name_day("2025-11-10", CALENDAR, near=0) == ""


def test_days_label_for_chart_titles():
    assert supply.days_label(CALENDAR) == "11-11 Singles' Day, 11-20 A, 11-22 B"
    assert supply.days_label(CALENDAR, limit=2) == "11-11 Singles' Day, 11-20 A, …"
    assert supply.days_label(CALENDAR.iloc[0:0]) == ""
