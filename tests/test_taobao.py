"""The Taobao user-behaviour adapter (lib/taobao.py) on a small file in the public format.

Beijing midnight 2017-11-26 00:00 (Asia/Shanghai) is 2017-11-25 16:00 UTC = 1511625600. Each
user's story, in Beijing time (the report's zone):

- u1: pv 25th 10:00, cart 10:10, buy 10:20, pv 25th 23:59:59, pv 27th 20:00.
- u2: pv 25th 23:30, cart 26th 00:30: one UTC day (the 25th), two Beijing days.
- u3: fav 26th 08:00 (00:00 UTC), then a row with behaviour ``click`` on the 27th 09:00.
- u4: pv 27th 12:00, buy 12:05 without a cart: enters the funnel, never reaches the cart.
- u5: `` PV `` (spaces, capitals) on the 26th 12:00, and a stray pv on 2017-09-11.

DAU 25th..27th in Beijing: 2 (u1 u2), 3 (u2 u3 u5), 3 (u1 u3 u4); in UTC it would be 2, 2, 3
(u2's cart falls on the UTC 25th).
Funnel view_item → add_to_cart → purchase (7-day window): 4 entrants (u1 u2 u4 u5), 2 carts
(u1 u2), 1 purchase (u1).
"""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pandas as pd
import pytest

from lib import data, funnel, taobao, traffic
from lib.periods import Period

BEIJING_25 = 1511539200  # 2017-11-25 00:00 Asia/Shanghai
HOUR = 3600
DAY = 24 * HOUR
ROWS = [
    # user_id,item_id,category_id,behavior_type,timestamp — exactly the public file's layout
    ("u1", 100, 10, "pv", BEIJING_25 + 10 * HOUR),
    ("u1", 100, 10, "cart", BEIJING_25 + 10 * HOUR + 600),
    ("u1", 100, 10, "buy", BEIJING_25 + 10 * HOUR + 1200),
    ("u1", 200, 20, "pv", BEIJING_25 + DAY - 1),
    ("u2", 200, 20, "pv", BEIJING_25 + 23 * HOUR + 1800),
    ("u2", 200, 20, "cart", BEIJING_25 + DAY + 1800),
    ("u3", 300, 10, "fav", BEIJING_25 + DAY + 8 * HOUR),
    ("u3", 300, 10, "click", BEIJING_25 + 2 * DAY + 9 * HOUR),
    ("u4", 300, 10, "pv", BEIJING_25 + 2 * DAY + 12 * HOUR),
    ("u4", 300, 10, "buy", BEIJING_25 + 2 * DAY + 12 * HOUR + 300),
    ("u5", 100, 10, " PV ", BEIJING_25 + DAY + 12 * HOUR),
    ("u5", 100, 10, "pv", 1505088000),  # 2017-09-11, outside the collection window
    ("u1", 200, 20, "pv", BEIJING_25 + 2 * DAY + 20 * HOUR),
]
PERIOD = Period("2017-11-25", "2017-11-27", "Asia/Shanghai")
STEPS = ["view_item", "add_to_cart", "purchase"]


def write_csv(folder: Path, rows: list[tuple] = ROWS, extra: str = "") -> Path:
    path = folder / "UserBehavior.csv"
    lines = [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


@pytest.fixture
def csv_path(tmp_path: Path) -> Path:
    return write_csv(tmp_path)


def test_events_follow_the_contract(csv_path: Path) -> None:
    src = data.open_source(f"taobao://{csv_path}")
    assert sorted(src.tables) == ["events", "products"]
    assert not data.check_tables(src.tables)
    events = src["events"].to_pandas().sort_values(["user_id", "event_time"])
    first = events.iloc[0]
    # Unix seconds as naive UTC: 10:00 Beijing is 02:00 UTC
    assert first["event_time"] == pd.Timestamp("2017-11-25 02:00:00")
    assert (first["user_id"], first["event_name"], first["sku_id"]) == ("u1", "view_item", "100")
    assert first["category_id"] == "10"
    assert set(events["event_name"]) == {
        "view_item",
        "add_to_cart",
        "purchase",
        "add_to_wishlist",
        "unknown_behavior:click",
    }
    assert events[["session_id", "channel", "slot", "platform"]].isna().all().all()
    products = src["products"].to_pandas().sort_values("sku_id").reset_index(drop=True)
    assert products[["sku_id", "category"]].values.tolist() == [
        ["100", "10"],
        ["200", "20"],
        ["300", "10"],
    ]
    assert products[["unit_cost", "list_price"]].isna().all().all()


def test_dau_counts_beijing_days(csv_path: Path) -> None:
    src = data.open_source(f"taobao://{csv_path}")
    daily = traffic.daily_traffic(src["events"], PERIOD)
    assert daily["dau"].tolist() == [2, 3, 3]
    utc = traffic.daily_traffic(src["events"], Period("2017-11-25", "2017-11-27", "UTC"))
    assert utc["dau"].tolist() == [2, 2, 3]  # u2's two events share one UTC day


def test_funnel_from_behaviour(csv_path: Path) -> None:
    src = data.open_source(f"taobao://{csv_path}")
    table = funnel.funnel_table(src["events"], PERIOD, STEPS)
    assert table["users"].tolist() == [4, 2, 1]


def test_unknown_behaviour_is_kept_and_reported(csv_path: Path) -> None:
    src = data.open_source(f"taobao://{csv_path}")
    notes = data.validate(src, PERIOD, now=pd.Timestamp("2018-01-01").to_pydatetime())
    assert any("'unknown_behavior:click' 1" in note for note in notes), notes
    # it is activity (u3 on the 27th) but in no funnel step
    assert traffic.daily_traffic(src["events"], PERIOD)["dau"].iloc[-1] == 3


def test_days_option_drops_rows_outside_the_window(csv_path: Path) -> None:
    everything = data.open_source(f"taobao://{csv_path}")["events"]
    inside = data.open_source(f"taobao://{csv_path}?days=2017-11-25..2017-11-27")["events"]
    assert everything.count().to_pandas() == len(ROWS)
    assert inside.count().to_pandas() == len(ROWS) - 1
    # the stray September row made u5 an old user; without it u5 is new on the 26th
    assert traffic.daily_traffic(everything, PERIOD)["new_users"].tolist() == [2, 1, 1]
    assert traffic.daily_traffic(inside, PERIOD)["new_users"].tolist() == [2, 2, 1]


@pytest.mark.parametrize(
    ("suffix", "message"),
    [("?days=2017-11-25", "FIRST..LAST"), ("?tz=Mars/Base", "Mars/Base"), ("?x=1", "unknown")],
)
def test_bad_options_are_refused(csv_path: Path, suffix: str, message: str) -> None:
    with pytest.raises(data.DataError, match=message):
        data.open_source(f"taobao://{csv_path}{suffix}")


def test_a_missing_or_relative_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(data.DataError, match="does not exist"):
        data.open_source(f"taobao://{tmp_path}/nope.csv")
    with pytest.raises(data.DataError, match="absolute path"):
        data.open_source("taobao://UserBehavior.csv")


def test_a_bad_timestamp_names_the_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path, extra="u9,1,1,pv,yesterday\n")
    src = data.open_source(f"taobao://{path}")
    with pytest.raises(data.DataError, match=f"line {len(ROWS) + 1}"):
        data.validate(src, PERIOD)


def test_convert_writes_a_parquet_source(csv_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "parquet"
    rows = taobao.convert(str(csv_path), out)
    assert rows == {"events": len(ROWS), "products": 3}
    src = data.open_source(out)
    assert traffic.daily_traffic(src["events"], PERIOD)["dau"].tolist() == [2, 3, 3]


def test_the_runner_runs_the_event_notebooks_and_skips_the_money_ones(csv_path: Path) -> None:
    from lib import run

    out, err = io.StringIO(), io.StringIO()
    argv = ["--source", f"taobao://{csv_path}", "--start", "2017-11-25", "--end", "2017-11-27"]
    with redirect_stdout(out), redirect_stderr(err):
        code = run.main([*argv, "--timezone", "Asia/Shanghai", "--dry-run", "--quiet"])
    assert code == 0, err.getvalue()
    assert "traffic" in out.getvalue()
    assert "skipping overview (no orders table)" in err.getvalue()
