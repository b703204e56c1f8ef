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

The runner runs the overview, traffic, conversion and retention notebooks on the file; their
sections that need orders print a note instead and write no table.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pandas as pd
import pytest

from lib import data, funnel, quality, taobao, traffic
from lib.periods import Period

from .conftest import printed

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


def test_main_path_leaves_out_steps_the_format_cannot_have(csv_path: Path) -> None:
    src = data.open_source(f"taobao://{csv_path}")
    assert funnel.secondary_paths(src) == []  # promotions and lists: not in this format
    own = [["view_item", "add_to_wishlist", "purchase"]]
    assert funnel.secondary_paths(src, own) == [tuple(own[0])]
    assert funnel.main_path(src) == tuple(STEPS)
    assert funnel.main_path(src, []) == tuple(STEPS)
    chosen = ["view_item", "add_to_wishlist"]
    assert funnel.main_path(src, chosen) == tuple(chosen)  # given steps are kept as given
    assert funnel.main_path(data.open_source()) == funnel.DEFAULT_STEPS


def test_unknown_behaviour_is_kept_and_reported(csv_path: Path) -> None:
    src = data.open_source(f"taobao://{csv_path}")
    notes = quality.validate(src, PERIOD, now=pd.Timestamp("2018-01-01").to_pydatetime())
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
        quality.validate(src, PERIOD)


def test_convert_writes_a_parquet_source(csv_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "parquet"
    rows = taobao.convert(str(csv_path), out)
    assert rows == {"events": len(ROWS), "products": 3}
    src = data.open_source(out)
    assert traffic.daily_traffic(src["events"], PERIOD)["dau"].tolist() == [2, 3, 3]


# ------------------------------------------------------------------ the runner on this file

EVENT_NOTEBOOKS = ("overview", "traffic", "conversion", "retention", "monitoring", "journeys")
# Tables of the sections that need orders (money, paid orders): never written, not even empty.
ORDER_TABLES = (
    "gmv_daily",
    "gmv_summary",
    "gmv_decomposition",
    "conversion_by_category",
    "conversion_by_sku",
    "repurchase",
    "repurchase_by_month",
    "repurchase_by_category",
    "buyer_cohorts",
    "days_to_second_purchase",
    "segments_rfm",
    "segments_decision_stage",
    "segment_category_propensity",
)


@pytest.fixture(scope="module")
def taobao_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    """The runner on the file: every notebook that can run on events (five notebooks, ~25 s)."""
    from lib import run

    folder = tmp_path_factory.mktemp("taobao")
    csv_path = write_csv(folder)
    output = folder / "run"
    argv = ["--source", f"taobao://{csv_path}", "--start", "2017-11-25", "--end", "2017-11-27"]
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        code = run.main([*argv, "--timezone", "Asia/Shanghai", "--output", str(output), "--quiet"])
    return code, err.getvalue(), output


def test_the_runner_runs_the_event_notebooks_and_skips_the_order_ones(taobao_run) -> None:
    code, err, output = taobao_run
    assert code == 0, err
    record = json.loads((output / "run.json").read_text())
    assert {n["name"]: n["status"] for n in record["notebooks"]} == dict.fromkeys(
        EVENT_NOTEBOOKS, "succeeded"
    )
    for name in ("products", "costs", "supply_chain"):
        assert f"note: skipping {name} (no orders, order_items table)" in err
    assert (output / "report.html").stat().st_size > 0


def test_skipped_sections_say_why_in_the_notebooks(taobao_run) -> None:
    _, _, output = taobao_run
    no_orders = "No orders table in this source (Taobao user-behaviour data): "
    no_items = "No orders or order_items table in this source (Taobao user-behaviour data): "
    expected = {
        "00_overview": [f"{no_orders}the GMV section is skipped."],
        "02_conversion": [
            f"{no_items}conversion by category is skipped.",
            f"{no_items}conversion by SKU is skipped.",
            f"{no_orders}the GMV section is skipped.",
            f"{no_orders}the GMV decomposition is skipped.",
            "None of the default secondary paths fits this source's events",
        ],
        "03_retention": [
            f"{no_orders}the repurchase section is skipped.",
            f"{no_orders}the buyer-cohort section is skipped.",
            f"{no_orders}the RFM section is skipped.",
            f"{no_orders}the decision-stage section is skipped.",
        ],
    }
    for notebook, notes in expected.items():
        shown = printed(output / "notebooks" / f"{notebook}.ipynb")
        for note in notes:
            assert note in shown, (notebook, note)
    # the sections that need only events ran and said nothing of the kind
    assert "is skipped" not in printed(output / "notebooks" / "01_traffic.ipynb")
    retention_notes = printed(output / "notebooks" / "03_retention.ipynb")
    assert "No events table" not in retention_notes


def test_event_tables_hold_the_hand_worked_numbers(taobao_run) -> None:
    _, _, output = taobao_run
    tables = output / "tables"
    daily = pd.read_csv(tables / "traffic_daily.csv")
    assert daily["dau"].tolist() == [2, 3, 3]
    # the default main path without begin_checkout, which the format cannot have
    steps = pd.read_csv(tables / "funnel.csv")
    assert steps["step"].tolist() == STEPS
    assert steps["users"].tolist() == [4, 2, 1]
    # Cohorts by first event in the period (u5 is older: the September row). The 25th: u1 and u2;
    # u2 is back on the 26th (the cart), u1 on the 27th. The 26th: u3, back on the 27th (the
    # unknown behaviour still counts as activity).
    cohorts = pd.read_csv(tables / "retention.csv").set_index(["cohort_date", "day"])
    assert cohorts.loc[("2017-11-25", 0), "cohort_size"] == 2
    assert cohorts.loc[("2017-11-25", 1), "retained_users"] == 1
    assert cohorts.loc[("2017-11-25", 2), "retained_users"] == 1
    assert cohorts.loc[("2017-11-26", 1), "retained_users"] == 1
    overview = pd.read_csv(tables / "overview.csv").set_index("indicator")
    assert overview.loc["average DAU", "value"] == pytest.approx(8 / 3)
    assert "GMV" not in overview.index and "repurchase rate" not in overview.index
    # segments by activity are written; their value needs orders, so only their size is there
    activity = pd.read_csv(tables / "segments_activity.csv")
    assert list(activity.columns) == ["segment", "users"]
    assert activity["users"].sum() == 5
    for table in ("funnel_daily", "lifecycle", "retention_phases"):
        assert (tables / f"{table}.csv").is_file(), table


def test_tables_of_skipped_sections_are_not_written(taobao_run) -> None:
    _, _, output = taobao_run
    written = {path.stem for path in (output / "tables").glob("*.csv")}
    assert not written & set(ORDER_TABLES)
    # both default secondary paths start from events the format cannot have
    assert "funnel_paths" not in written
    figures = {path.stem for path in (output / "figures").glob("*.png")}
    assert not figures & {"overview_gmv", "overview_conversion", "gmv_daily", "gmv_decomposition"}
