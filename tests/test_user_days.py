"""The stored user-days (lib.data.user_days) and the kept check results (lib.data.remembered).

The stored table must be exactly the expression it replaces, found again only for the same files,
zone and definition; and the runner makes it before the notebooks start.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from lib import data, funnel, quality, traffic
from lib.periods import Period
from lib.run.plan import store_user_days
from tests.conftest import KNOWN_ANSWERS, events_table

SHANGHAI = Period("2025-03-01", "2025-03-07", "Asia/Shanghai")
NEW_YORK = Period("2025-11-01", "2025-11-05", "America/New_York")  # DST ends on 11-02


def _sorted(table) -> pd.DataFrame:
    frame = table.to_pandas()
    return frame.sort_values(["user_id", "day"], na_position="first").reset_index(drop=True)


@pytest.fixture
def shop(tmp_path) -> Path:
    """A copy of the known-answers source that a test may change."""
    folder = tmp_path / "shop"
    shutil.copytree(KNOWN_ANSWERS / "source", folder)
    return folder


@pytest.mark.parametrize("period", [SHANGHAI, NEW_YORK], ids=["shanghai", "new_york"])
def test_stored_user_days_equal_the_expression(shop, period):
    source = data.open_source(shop)
    events = source.table("events")
    stored = data.user_days(events, period)
    path = data.user_days_path(source, period)
    assert path is not None and path.exists()
    expected = _sorted(data.user_days_of(events, period))
    assert len(expected) > 0
    pd.testing.assert_frame_equal(_sorted(stored), expected, check_dtype=False)


def test_a_local_midnight_splits_a_user_day(tmp_path):
    # 23:59:59 and 00:00:00 in Shanghai (UTC+8) are two local days; 15:59:59 UTC is the first
    folder = tmp_path / "midnight"
    folder.mkdir()
    (folder / "events.csv").write_text(
        "event_time,user_id,event_name,session_id,sku_id,channel,slot,platform\n"
        "2025-03-01 15:59:59,u1,page_view,s1,,,,\n"
        "2025-03-01 16:00:00,u1,page_view,s1,,,,\n"
        "2025-03-01 16:30:00,u2,page_view,s2,,,,\n"
    )
    source = data.open_source(folder)
    days = _sorted(data.user_days(source.table("events"), SHANGHAI))
    first = SHANGHAI.start_day  # 2025-03-01
    assert days.to_dict("records") == [
        {"user_id": "u1", "day": first},
        {"user_id": "u1", "day": first + 1},
        {"user_id": "u2", "day": first + 1},
    ]
    # and the daily counts built on it: u1 active on both days, u2 new on the second
    two_days = Period("2025-03-01", "2025-03-02", "Asia/Shanghai")
    daily = traffic.active_and_new_users(source.table("events"), two_days)
    assert daily["dau"].tolist() == [1, 2]
    assert daily["new_users"].tolist() == [1, 1]


def test_changed_events_get_a_new_store(shop):
    source = data.open_source(shop)
    before = data.user_days_path(source, SHANGHAI)
    data.user_days(source.table("events"), SHANGHAI)
    with (shop / "events.csv").open("a") as file:
        file.write("2025-03-02 01:00:00,u_new,page_view,,,,,\n")
    changed = data.open_source(shop)
    after = data.user_days_path(changed, SHANGHAI)
    assert after != before
    users = set(data.user_days(changed.table("events"), SHANGHAI).to_pandas()["user_id"])
    assert "u_new" in users


def test_zones_with_other_offsets_are_stored_apart(shop):
    source = data.open_source(shop)
    assert data.user_days_path(source, SHANGHAI) != data.user_days_path(source, NEW_YORK)
    # the same zone over another period has the same offsets: one store serves both
    later = Period("2025-04-01", "2025-04-30", "Asia/Shanghai")
    assert data.user_days_path(source, SHANGHAI) == data.user_days_path(source, later)


def test_with_the_cache_off_nothing_is_stored(shop, monkeypatch):
    monkeypatch.setenv(data.CACHE_ENV, "off")
    source = data.open_source(shop)
    assert data.cache_folder() is None
    assert data.user_days_path(source, SHANGHAI) is None
    events = source.table("events")
    pd.testing.assert_frame_equal(
        _sorted(data.user_days(events, SHANGHAI)),
        _sorted(data.user_days_of(events, SHANGHAI)),
        check_dtype=False,
    )


def test_a_table_of_no_source_is_computed_not_stored():
    events = events_table([("2025-03-01 01:00:00", "u1", "page_view")])
    table = data.user_days(events, SHANGHAI)
    assert table.to_pandas().to_dict("records") == [{"user_id": "u1", "day": SHANGHAI.start_day}]


def test_the_runner_stores_them_before_the_notebooks(shop, capsys):
    source = data.open_source(shop)
    path = data.user_days_path(source, SHANGHAI)
    assert not path.exists()
    store_user_days(source, SHANGHAI)
    assert path.exists()
    assert "storing the events' user-days" in capsys.readouterr().err
    store_user_days(source, SHANGHAI)  # made: nothing to do, nothing printed
    assert capsys.readouterr().err == ""


def test_remembered_results_are_computed_once_per_unchanged_source(shop):
    calls = []

    def compute() -> list[str]:
        calls.append(1)
        return ["note: one"]

    source = data.open_source(shop)
    assert data.remembered(source, "test", ("p",), compute) == ["note: one"]
    assert data.remembered(source, "test", ("p",), compute) == ["note: one"]
    assert len(calls) == 1
    data.remembered(source, "test", ("another period",), compute)
    assert len(calls) == 2
    with (shop / "orders.csv").open("a") as file:  # any table's change counts
        file.write("\n")
    data.remembered(data.open_source(shop), "test", ("p",), compute)
    assert len(calls) == 3


def test_a_failing_check_is_not_remembered(shop):
    source = data.open_source(shop)

    def fail() -> list[str]:
        raise data.DataError("bad")

    with pytest.raises(data.DataError):
        data.remembered(source, "test-fail", (), fail)
    assert data.remembered(source, "test-fail", (), lambda: ["ok"]) == ["ok"]


def test_validate_gives_the_same_messages_from_memory(shop, monkeypatch):
    source = data.open_source(shop)
    first = quality.validate(source, SHANGHAI)
    scans = []
    real = quality.profile_tables
    monkeypatch.setattr(quality, "profile_tables", lambda *a: scans.append(1) or real(*a))
    assert quality.validate(data.open_source(shop), SHANGHAI) == first
    assert scans == []
    # a given clock is a test's: always checked afresh
    quality.validate(source, SHANGHAI, now=pd.Timestamp("2026-01-01").to_pydatetime())
    assert scans == [1]


@pytest.mark.parametrize("cache", ["on", "off"])
def test_two_shops_open_at_once_each_read_their_own_user_days(tmp_path, monkeypatch, cache):
    # Ibis calls the two `events` tables equal (same name, same schema): each must still find
    # its own source's user-days, stored (cache on) or kept on its own connection (off)
    if cache == "off":
        monkeypatch.setenv(data.CACHE_ENV, "off")
    header = "event_time,user_id,event_name,session_id,sku_id,channel,slot,platform\n"
    shops = {}
    for name, users in (("one", 1), ("two", 3)):
        folder = tmp_path / name
        folder.mkdir()
        rows = "".join(f"2025-03-02 08:00:00,u{k},page_view,s{k},,,,\n" for k in range(users))
        (folder / "events.csv").write_text(header + rows)
        shops[name] = data.open_source(folder)
    one, two = (shops[name].table("events") for name in ("one", "two"))
    assert one.op() == two.op()
    uv = {
        name: traffic.daily_traffic(t, SHANGHAI)["uv"].sum()
        for name, t in (("one", one), ("two", two))
    }
    assert uv == {"one": 1, "two": 3}


# --------------------------------------------------------------------------------------------
# The stored events of a funnel's steps (lib.data.events_named)

STEPS = ("view_item", "add_to_cart", "begin_checkout", "purchase")


def _named(table) -> pd.DataFrame:
    frame = table.to_pandas()
    return frame.sort_values(["event_time", "user_id", "event_name"]).reset_index(drop=True)


def test_stored_named_events_equal_the_filter_and_serve_any_order_of_names(shop):
    source = data.open_source(shop)
    events = source.table("events")
    stored = data.events_named(events, STEPS)
    path = data.named_events_path(source, tuple(sorted(STEPS)))
    assert path is not None and path.exists()
    expected = _named(data.named_events_of(events, STEPS))
    assert set(expected["event_name"]) <= set(STEPS) and len(expected) > 0
    pd.testing.assert_frame_equal(_named(stored), expected, check_dtype=False)
    # the same names in another order are the same store, read once per source
    assert data.events_named(events, reversed(STEPS)) is stored
    assert data.named_events_path(source, ("purchase", "view_item")) != path


def test_a_funnel_reads_the_stored_step_events_with_the_same_answer(shop, monkeypatch):
    source = data.open_source(shop)
    stored = funnel.funnel_table(source.table("events"), SHANGHAI, list(STEPS), 7)
    assert data.named_events_path(source, tuple(sorted(STEPS))).exists()
    monkeypatch.setenv(data.CACHE_ENV, "off")
    plain = funnel.funnel_table(data.open_source(shop).table("events"), SHANGHAI, list(STEPS), 7)
    pd.testing.assert_frame_equal(stored, plain)


def test_changed_events_get_new_stored_step_events(shop):
    source = data.open_source(shop)
    names = tuple(sorted(STEPS))
    before = data.named_events_path(source, names)
    data.events_named(source.table("events"), STEPS)
    with (shop / "events.csv").open("a") as file:
        file.write("2025-03-02 01:00:00,u_new,view_item,,,,,\n")
    changed = data.open_source(shop)
    assert data.named_events_path(changed, names) != before
    users = set(data.events_named(changed.table("events"), STEPS).to_pandas()["user_id"])
    assert "u_new" in users


def test_step_events_of_no_source_are_the_filter():
    events = events_table(
        [("2025-03-01 01:00:00", "u1", "view_item"), ("2025-03-01 02:00:00", "u1", "page_view")]
    )
    table = data.events_named(events, ["view_item"]).to_pandas()
    assert table[["user_id", "event_name"]].values.tolist() == [["u1", "view_item"]]


def test_the_secondary_paths_read_once_store_nothing(shop):
    source = data.open_source(shop)
    path = ("view_item", "add_to_cart")
    table = funnel.funnel_paths(source.table("events"), SHANGHAI, [path], 7)
    assert not data.named_events_path(source, tuple(sorted(path))).exists()
    plain = funnel.funnel_table(source.table("events"), SHANGHAI, list(path), 7)
    assert table["users"].tolist() == plain["users"].tolist()
