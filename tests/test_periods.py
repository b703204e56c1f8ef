"""Local days from UTC timestamps, across midnight and daylight-saving changes."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pytest

from lib import periods
from lib.periods import Period, PeriodError, epoch_day, offset_segments, parse_date, utc_midnight


def local_days(period: Period, utc_times: list[str]) -> list[dt.date]:
    frame = pd.DataFrame({"t": pd.to_datetime(utc_times)})
    table = ibis.memtable(frame, schema={"t": "timestamp"})
    days = table.select(day=period.local_day(table.t)).to_pandas()["day"]
    return [dt.date(1970, 1, 1) + dt.timedelta(days=int(d)) for d in days]


def test_shanghai_midnight_boundary():
    period = Period("2025-03-01", "2025-03-07", "Asia/Shanghai")
    # 15:59:59 UTC is 23:59:59 local; 16:00 UTC is midnight of the next local day.
    got = local_days(period, ["2025-03-01 15:59:59", "2025-03-01 16:00:00", "2025-03-01 16:30:00"])
    assert got == [dt.date(2025, 3, 1), dt.date(2025, 3, 2), dt.date(2025, 3, 2)]


def test_fractional_second_before_midnight_stays_on_its_day():
    period = Period("2025-03-01", "2025-03-07", "Asia/Shanghai")
    assert local_days(period, ["2025-03-01 15:59:59.900"]) == [dt.date(2025, 3, 1)]


def test_new_york_across_daylight_saving_start():
    # DST began 2025-03-09 at 07:00 UTC (02:00 EST -> 03:00 EDT).
    period = Period("2025-03-08", "2025-03-10", "America/New_York")
    got = local_days(
        period,
        [
            "2025-03-09 04:59:00",  # 23:59 EST on 03-08
            "2025-03-09 05:00:00",  # 00:00 EST on 03-09
            "2025-03-10 03:59:00",  # 23:59 EDT on 03-09
            "2025-03-10 04:00:00",  # 00:00 EDT on 03-10
        ],
    )
    assert got == [
        dt.date(2025, 3, 8),
        dt.date(2025, 3, 9),
        dt.date(2025, 3, 9),
        dt.date(2025, 3, 10),
    ]


def test_offset_segments_find_the_exact_change():
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/New_York")
    lo = int(dt.datetime(2025, 3, 1, tzinfo=dt.UTC).timestamp())
    hi = int(dt.datetime(2025, 3, 20, tzinfo=dt.UTC).timestamp())
    change = int(dt.datetime(2025, 3, 9, 7, tzinfo=dt.UTC).timestamp())
    assert offset_segments(zone, lo, hi) == ((lo, -5 * 3600), (change, -4 * 3600))


def test_utc_bounds_and_days():
    period = Period("2025-03-01", "2025-03-02", "Asia/Shanghai")
    assert period.utc_bounds() == (dt.datetime(2025, 2, 28, 16), dt.datetime(2025, 3, 2, 16))
    assert list(period.days()) == [pd.Timestamp("2025-03-01"), pd.Timestamp("2025-03-02")]
    assert period.previous() == Period("2025-02-27", "2025-02-28", "Asia/Shanghai")
    assert utc_midnight(dt.date(2025, 7, 1), period.zone) == dt.datetime(2025, 6, 30, 16)
    assert epoch_day(dt.date(1970, 1, 2)) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": "2025-03-02", "end": "2025-03-01"}, "before start"),
        ({"start": "2025-13-01", "end": "2025-03-01"}, "start='2025-13-01'"),
        ({"start": "2025-03-01", "end": "2025-03-02", "timezone": "Mars/Olympus"}, "Mars/Olympus"),
    ],
)
def test_bad_periods_are_named(kwargs, message):
    with pytest.raises(PeriodError, match=message):
        Period(**kwargs)


def test_parse_date_accepts_dates():
    assert parse_date(dt.date(2025, 1, 2)) == dt.date(2025, 1, 2)
    assert parse_date(dt.datetime(2025, 1, 2, 5)) == dt.date(2025, 1, 2)


def test_offset_segments_give_every_instant_its_offset():
    # Zones with half-hour DST (Lord Howe), two changes a year around Ramadan (Casablanca), a
    # 45-minute offset (Chatham) and none (Shanghai): each sampled second gets its zone's offset.
    import bisect
    import random
    from zoneinfo import ZoneInfo

    from lib.periods import _offset_at

    rng = random.Random(7)
    for name in ("Australia/Lord_Howe", "Africa/Casablanca", "Pacific/Chatham", "Asia/Shanghai"):
        zone = ZoneInfo(name)
        lo = 1_672_531_200 + rng.randrange(3600)  # 2023, not on the hour
        hi = lo + 800 * 86_400
        segments = offset_segments(zone, lo, hi)
        starts = [start for start, _ in segments]
        assert starts == sorted(starts) and starts[0] == lo
        assert all(a[1] != b[1] for a, b in zip(segments, segments[1:], strict=False))
        for second in [lo, hi, *(rng.randrange(lo, hi) for _ in range(2000))]:
            offset = segments[bisect.bisect_right(starts, second) - 1][1]
            assert offset == _offset_at(zone, second), (name, second)
        for start, offset in segments[1:]:  # each change is pinned to the second
            assert _offset_at(zone, start - 1) != offset == _offset_at(zone, start)


def test_contains_keeps_local_dates_of_the_period_ends_included():
    import ibis
    import pandas as pd

    period = Period("2025-03-02", "2025-03-04", "Asia/Shanghai")
    dates = pd.to_datetime(["2025-03-01", "2025-03-02", "2025-03-04", "2025-03-05"]).date
    table = ibis.memtable({"date": list(dates)})
    kept = table.filter(period.contains(table.date)).to_pandas()["date"]
    assert [pd.Timestamp(d).date().isoformat() for d in kept] == ["2025-03-02", "2025-03-04"]


def test_check_lengths_names_the_first_length_below_1_and_refuses_nan():
    periods.check_lengths(window_days=1, hours=24.5)  # accepted
    for value in (0, -3, 0.5, float("nan")):
        with pytest.raises(ValueError, match=f"^window_days={value} must be at least 1$"):
            periods.check_lengths(hours=2, window_days=value)
