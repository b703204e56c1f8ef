"""Source mappings (lib/mapping.py): a YAML file turns raw files into the contract's tables."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from lib import data, run
from lib.periods import Period

from .conftest import KNOWN_ANSWERS

ORDER_CONSTANTS = "{paid_time: null, discount_amount: null, coupon_id: null, channel: null}"


def write(folder: Path, files: dict[str, str]) -> Path:
    """Write ``name: text`` files (dedented) into ``folder``; return the mapping's path."""
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return folder / "shop.yaml"


def rows(source: data.Source, table: str, order: str) -> list[dict]:
    return source.table(table).order_by(order).to_pandas().to_dict("records")


SALES = """
    id,customer,created,state,amount,note
    o1,c1,2025-03-01 10:00:00,canceled,10.5,a
    o2,,2025-03-01 11:00:00,paid,20,guest
    o3,c2,2025-03-02 12:00:00,paid,30,b
"""


def test_renames_filters_value_maps_and_constants(tmp_path):
    mapping = write(
        tmp_path,
        {
            "raw/sales.csv": SALES,
            "shop.yaml": """
                raw:
                  sales: raw/sales.csv
                tables:
                  orders:
                    from: sales
                    filter: "customer is not null"   # guest lines have no customer
                    columns: {order_id: id, user_id: customer, order_time: created,
                              status: state, paid_amount: amount}
                    values: {status: {canceled: cancelled}}
                    constants: {paid_time: null, discount_amount: 0, coupon_id: null,
                                channel: web}
            """,
        },
    )
    source = data.open_source(str(mapping))
    got = rows(source, "orders", "order_id")
    assert [r["order_id"] for r in got] == ["o1", "o3"]  # the guest line o2 is filtered out
    assert [r["status"] for r in got] == ["cancelled", "paid"]
    assert [r["paid_amount"] for r in got] == [10.5, 30.0]
    assert {r["channel"] for r in got} == {"web"}
    assert {r["discount_amount"] for r in got} == {0.0}
    assert all(pd.isna(r["paid_time"]) and pd.isna(r["coupon_id"]) for r in got)
    # contract columns first in contract order; extra raw columns kept, renamed ones not
    columns = source.table("orders").columns
    assert columns[:9] == tuple(c.name for c in data.CONTRACT["orders"].columns)
    assert "note" in columns and "customer" not in columns and "id" not in columns
    assert source.table("orders").schema()["discount_amount"].is_floating()


def test_from_a_file_path_and_unmapped_values_are_kept(tmp_path):
    mapping = write(
        tmp_path,
        {
            "exports/behaviour.csv": """
                ts,visitor,action
                2025-03-01 10:00:00,u1,pv
                2025-03-01 10:01:00,u1,cart
                2025-03-01 10:02:00,u2,zoom
                2025-03-01 10:03:00,u2,
            """,
            "shop.yaml": """
                tables:
                  events:
                    from: exports/behaviour.csv     # relative to this file
                    columns: {event_time: ts, user_id: visitor, event_name: action}
                    # a null key names the empty values
                    values: {event_name: {pv: view_item, cart: add_to_cart, null: page_view}}
                    constants: {session_id: null, sku_id: null, channel: null, slot: null,
                                platform: web}
            """,
        },
    )
    source = data.open_source(str(mapping))
    names = [r["event_name"] for r in rows(source, "events", "event_time")]
    # a value the map does not name stays as it is: the runner's checks report unknown names
    assert names == ["view_item", "add_to_cart", "zoom", "page_view"]
    assert source.paths["events"] == tmp_path / "exports" / "behaviour.csv"


def test_a_sql_table_over_raw_tables_and_files(tmp_path):
    mapping = write(
        tmp_path,
        {
            "raw/lines.csv": """
                order,product,price
                o1,S1,10
                o1,S1,10
                o1,S2,5
                o2,S1,12
            """,
            "raw/catalogue.csv": """
                product,cat
                S1,shoes
                S2,hats
            """,
            "shop.yaml": """
                raw:
                  lines: raw/lines.csv
                tables:
                  order_items:     # one raw row per unit sold: count them
                    sql: |
                      select "order" as order_id, product as sku_id, count(*) as quantity,
                             avg(price) as unit_price
                      from lines group by all
                  products:        # a file path in SQL is relative to the mapping too
                    sql: select product as sku_id, cat as category
                         from read_csv('raw/catalogue.csv')
                    constants: {unit_cost: null, list_price: 9.5}
            """,
        },
    )
    source = data.open_source(str(mapping))
    items = source.table("order_items").order_by(["order_id", "sku_id"]).to_pandas()
    assert items[["order_id", "sku_id", "quantity"]].values.tolist() == [
        ["o1", "S1", 2],
        ["o1", "S2", 1],
        ["o2", "S1", 1],
    ]
    assert items["unit_price"].tolist() == [10.0, 5.0, 12.0]
    products = rows(source, "products", "sku_id")
    assert [(r["sku_id"], r["category"], r["list_price"]) for r in products] == [
        ("S1", "shoes", 9.5),
        ("S2", "hats", 9.5),
    ]
    assert source.paths["order_items"] == mapping  # a read error names the query's file


def _events_at(tmp_path: Path, times: list[str], settings: str) -> data.Source:
    """Events at the given raw times, mapped with the top-level ``settings`` lines."""
    body = "\n".join(f"{t},u1,view_item" for t in times)
    mapping = write(
        tmp_path,
        {
            "raw/events.csv": "t,u,e\n" + body + "\n",
            "shop.yaml": """
                tables:
                  events:
                    from: raw/events.csv
                    columns: {event_time: t, user_id: u, event_name: e}
                    constants: {session_id: null, sku_id: null, channel: null, slot: null,
                                platform: null}
            """,
        },
    )
    mapping.write_text(settings + "\n" + mapping.read_text())
    return data.open_source(str(mapping))


def _utc_times(source: data.Source) -> list[str]:
    got = source.table("events").to_pandas()["event_time"]
    return [str(t) for t in got]


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        # across a local midnight: the evening before is the next UTC day
        ("2025-03-08 23:30:00", "2025-03-09 04:30:00"),  # EST, UTC-5
        ("2025-03-09 01:59:00", "2025-03-09 06:59:00"),  # last minute before the jump
        # spring forward: 02:00-02:59 do not exist; read with the offset before the jump (EST),
        # so 02:30 lands at 03:30 EDT
        ("2025-03-09 02:30:00", "2025-03-09 07:30:00"),
        ("2025-03-09 03:00:00", "2025-03-09 07:00:00"),  # EDT, UTC-4
        ("2025-11-01 23:30:00", "2025-11-02 03:30:00"),  # EDT, next UTC day
        ("2025-11-02 00:30:00", "2025-11-02 04:30:00"),
        # fall back: 01:00-01:59 happen twice; the later instant (EST) is taken
        ("2025-11-02 01:30:00", "2025-11-02 06:30:00"),
        ("2025-11-02 02:30:00", "2025-11-02 07:30:00"),  # EST, UTC-5
    ],
)
def test_naive_times_are_local_times_converted_to_utc(tmp_path, local, utc):
    source = _events_at(tmp_path, [local], "naive_time_zone: America/New_York")
    assert _utc_times(source) == [utc]


def test_dst_at_local_midnight_and_a_table_of_its_own_zone(tmp_path):
    # London's clocks change at 01:00 UTC: a zone where the ambiguous hour follows midnight
    source = _events_at(
        tmp_path,
        ["2025-10-25 23:30:00", "2025-10-26 01:30:00", "2025-03-30 01:30:00"],
        "naive_time_zone: Europe/London",
    )
    # 23:30 BST is 22:30 UTC; 01:30 on 26 Oct is the later (GMT) instant; 01:30 on 30 Mar does
    # not exist and is read as GMT (02:30 BST)
    assert _utc_times(source) == [
        "2025-10-25 22:30:00",
        "2025-10-26 01:30:00",
        "2025-03-30 01:30:00",
    ]
    # a table's own naive_time_zone wins over the file's
    text = (tmp_path / "shop.yaml").read_text()
    text = text.replace("    from:", "    naive_time_zone: Asia/Shanghai\n    from:")
    (tmp_path / "shop.yaml").write_text(text)
    assert _utc_times(data.open_source(str(tmp_path / "shop.yaml")))[0] == "2025-10-25 15:30:00"


def test_zoned_timestamps_are_instants_and_are_not_shifted_again(tmp_path):
    source = _events_at(
        tmp_path, ["2025-03-01 10:00:00+08:00"], "naive_time_zone: America/New_York"
    )
    assert _utc_times(source) == ["2025-03-01 02:00:00"]


@pytest.mark.parametrize(("unit", "value"), [("s", "1741500000"), ("ms", "1741500000123")])
def test_epoch_seconds_and_milliseconds(tmp_path, unit, value):
    # epoch integers are UTC instants: naive_time_zone does not apply to them
    source = _events_at(tmp_path, [value], f"epoch_unit: {unit}\nnaive_time_zone: Asia/Tokyo")
    got = source.table("events").to_pandas()["event_time"][0]
    want = pd.Timestamp("2025-03-09 06:00:00") + (
        pd.Timedelta(milliseconds=123) if unit == "ms" else pd.Timedelta(0)
    )
    assert got == want
    assert source.table("events").schema()["event_time"].timezone is None


def test_integer_times_without_an_epoch_unit_are_named(tmp_path):
    with pytest.raises(data.DataError, match=r"'event_time' holds integers.*epoch_unit: s or ms"):
        _events_at(tmp_path, ["1741500000"], "")


def test_every_problem_of_a_mapping_is_named_in_one_message(tmp_path):
    mapping = write(
        tmp_path,
        {
            "raw/sales.csv": SALES,
            "shop.yaml": """
                naive_time_zone: Mars/Olympus_Mons
                epoch_unit: us
                timezone: UTC
                raw:
                  sales: raw/sales.csv
                  old: raw/missing.csv
                tables:
                  order:
                    from: sales
                  orders:
                    from: sales
                    colums: {order_id: id}
                    columns: {order_id: id, user_idd: customer}
                  order_items:
                    from: sales
                    columns: {order_id: id, sku_id: product}
                    values: {unit_price: {a: b}}
                  products:
                    from: sales
                    values: {category: {x: y}}
                  events:
                    from: raw/nowhere.parquet
            """,
        },
    )
    with pytest.raises(data.DataError) as caught:
        data.open_source(str(mapping))
    message = str(caught.value)
    expected = [
        "naive_time_zone 'Mars/Olympus_Mons' is not a known IANA time zone",
        "epoch_unit 'us' is not one of s, ms",
        "mapping: unknown key 'timezone'",
        "raw.old: raw file 'raw/missing.csv' not found",
        "tables: 'order' is not a contract table; did you mean 'orders'?",
        "tables.orders: unknown key 'colums'; did you mean 'columns'?",
        "tables.orders.columns: 'user_idd' is not a column of the contract's orders table; "
        "did you mean 'user_id'?",
        "tables.order_items.values.unit_price: value maps apply to text columns",
        "tables.events.from: 'raw/nowhere.parquet' is neither a raw table nor a file",
        # found from the raw table's schema, in the same message
        "tables.order_items.columns.sku_id: 'product' is not a column of raw table 'sales'",
        "tables.products.values.category: the mapped table has no column 'category'",
    ]
    for line in expected:
        assert line in message, line
    assert message.count("\n  - ") == len(expected)


def test_a_bad_filter_or_query_is_named_with_its_table(tmp_path):
    mapping = write(
        tmp_path,
        {
            "raw/sales.csv": SALES,
            "shop.yaml": """
                raw: {sales: raw/sales.csv}
                tables:
                  orders: {from: sales, filter: "costumer is not null"}
                  order_items: {sql: "select * from nowhere"}
            """,
        },
    )
    with pytest.raises(data.DataError) as caught:
        data.open_source(str(mapping))
    assert "tables.orders.filter: DuckDB cannot run it" in str(caught.value)
    assert "costumer" in str(caught.value)
    assert "tables.order_items.sql: DuckDB cannot run it" in str(caught.value)


def test_a_query_over_a_raw_table_with_a_problem_is_not_blamed_too(tmp_path):
    mapping = write(
        tmp_path,
        {
            "shop.yaml": """
                raw: {lines: raw/lines.csv}
                tables:
                  order_items: {sql: "select * from lines"}
            """,
        },
    )
    with pytest.raises(data.DataError) as caught:
        data.open_source(str(mapping))
    assert "raw.lines: raw file 'raw/lines.csv' not found" in str(caught.value)
    assert "1 problem(s)" in str(caught.value)


def test_a_raw_table_may_be_a_pattern_of_files(tmp_path):
    mapping = write(
        tmp_path,
        {
            "raw/events_1.csv": "t,u,e\n2025-03-01 10:00:00,u1,view_item\n",
            "raw/events_2.csv": "t,u,e\n2025-03-02 10:00:00,u2,view_item\n",
            "shop.yaml": """
                raw: {behaviour: raw/events_*.csv}
                tables:
                  events:
                    from: behaviour
                    columns: {event_time: t, user_id: u, event_name: e}
                    constants: {session_id: null, sku_id: null, channel: null, slot: null,
                                platform: null}
            """,
        },
    )
    source = data.open_source(str(mapping))
    assert [r["user_id"] for r in rows(source, "events", "event_time")] == ["u1", "u2"]
    assert set(source.depends_on) == {
        mapping,
        tmp_path / "raw" / "events_1.csv",
        tmp_path / "raw" / "events_2.csv",
    }


def test_the_contract_checks_run_on_the_mapped_tables(tmp_path):
    mapping = write(
        tmp_path,
        {
            "raw/sales.csv": SALES,
            "shop.yaml": """
                raw: {sales: raw/sales.csv}
                tables:
                  orders:
                    from: sales
                    columns: {order_id: id, user_id: customer, order_time: created,
                              paid_amount: note}
            """,
        },
    )
    with pytest.raises(data.DataError) as caught:
        data.open_source(str(mapping))
    message = str(caught.value)
    assert "does not meet the data contract" in message
    assert "table 'orders' is missing column(s) paid_time, status" in message
    assert "table 'orders' column 'paid_amount' should be a number but is string" in message


def test_mapped_tables_stay_lazy_views_over_the_raw_files(tmp_path):
    mapping = write(
        tmp_path,
        {
            "raw/sales.csv": SALES,
            "shop.yaml": f"""
                tables:
                  orders:
                    from: raw/sales.csv
                    columns: {{order_id: id, user_id: customer, order_time: created,
                              status: state, paid_amount: amount}}
                    constants: {ORDER_CONSTANTS}
            """,
        },
    )
    source = data.open_source(str(mapping))
    # rows written after opening are seen: nothing was read or copied when the source opened
    with (tmp_path / "raw" / "sales.csv").open("a") as handle:
        handle.write("o4,c3,2025-03-03 09:00:00,paid,40,c\n")
    assert source.table("orders").count().execute() == 4


def test_a_changed_mapping_is_not_answered_from_the_coverage_memo(tmp_path):
    period = Period("2025-03-01", "2025-03-01", "UTC")
    source = _events_at(tmp_path, ["2025-03-01 23:30:00"], "naive_time_zone: UTC")
    assert data.coverage(source, period)["events"].rows == 1
    # the same raw file, read as New York times, falls on 2 March UTC
    text = (tmp_path / "shop.yaml").read_text().replace("UTC", "America/New_York")
    (tmp_path / "shop.yaml").write_text(text)
    moved = data.open_source(str(tmp_path / "shop.yaml"))
    assert data.coverage(moved, period)["events"].rows == 0
    assert data.coverage(moved, period)["events"].first == dt.date(2025, 3, 2)


def _raw_known_shop(folder: Path) -> Path:
    """The hand-checked shop exported the way a shop might: other names, epoch seconds for
    events, Shanghai local times and upper-case statuses for orders, a guest order line."""
    source = KNOWN_ANSWERS / "source"
    events = pd.read_csv(source / "events.csv")
    events = pd.DataFrame(
        {
            "ts": (pd.to_datetime(events["event_time"]) - pd.Timestamp(0)) // pd.Timedelta("1s"),
            "visitor": events["user_id"],
            "action": "ev_" + events["event_name"],
            "item": events["sku_id"],
        }
    )
    orders = pd.read_csv(source / "orders.csv")
    for column in ("order_time", "paid_time"):
        orders[column] = (pd.to_datetime(orders[column]) + pd.Timedelta(hours=8)).astype(str)
    orders["paid_time"] = orders["paid_time"].replace("NaT", "")
    orders["status"] = orders["status"].str.upper()
    guest = orders.iloc[[0]].assign(order_id="guest1", user_id="")
    orders = pd.concat([orders, guest]).rename(columns={"order_id": "id", "user_id": "buyer"})
    (folder / "raw").mkdir()
    events.to_csv(folder / "raw" / "behaviour.csv", index=False)
    orders.to_csv(folder / "raw" / "orders.csv", index=False)
    for name in ("order_items", "products"):
        (folder / "raw" / f"{name}.csv").write_text((source / f"{name}.csv").read_text())
    names = {f"ev_{n}": n for n in ("view_item", "add_to_cart", "begin_checkout", "purchase")}
    names["ev_page_view"] = "page_view"
    statuses = {s.upper(): s for s in data.ORDER_STATUSES}
    return write(
        folder,
        {
            "shop.yaml": f"""
                epoch_unit: s
                naive_time_zone: Asia/Shanghai
                tables:
                  events:
                    from: raw/behaviour.csv
                    columns: {{event_time: ts, user_id: visitor, event_name: action,
                              sku_id: item}}
                    values: {{event_name: {names}}}
                    constants: {{session_id: null, channel: null, slot: null, platform: null}}
                  orders:
                    from: raw/orders.csv
                    filter: buyer is not null
                    columns: {{order_id: id, user_id: buyer}}
                    values: {{status: {statuses}}}
                  order_items: {{from: raw/order_items.csv}}
                  products: {{from: raw/products.csv}}
            """
        },
    )


def test_the_mapped_shop_gives_the_known_answers(tmp_path):
    mapped = data.open_source(str(_raw_known_shop(tmp_path)))
    known = data.open_source(KNOWN_ANSWERS / "source")
    for name in ("events", "orders"):
        columns = [c.name for c in data.CONTRACT[name].columns]
        key = columns[:3]
        got = mapped.table(name).select(columns).order_by(key).to_pandas()
        want = known.table(name).select(columns).order_by(key).to_pandas()
        pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_the_runner_runs_the_overview_on_a_mapped_source(tmp_path, monkeypatch):
    (tmp_path / "shop").mkdir()
    mapping = _raw_known_shop(tmp_path / "shop")
    # a relative --source is taken from the working directory, as for a folder
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "run"
    args = ["--start", "2025-03-01", "--end", "2025-03-07", "--timezone", "Asia/Shanghai"]
    code = run.main(
        [
            *args,
            "--quiet",
            "--source",
            "shop/shop.yaml",
            "--notebooks",
            "overview",
            "--output",
            str(output),
        ]
    )
    assert code == 0
    assert mapping.is_file()
    table = pd.read_csv(output / "tables" / "overview.csv").set_index("indicator")
    assert table.loc["GMV", "value"] == 235.0  # the known answer (test_report_end_to_end.py)
    assert table.loc["repeat buyers", "value"] == 2
    # the kernel was given the mapping (made absolute: kernels run in the notebooks folder)
    notebook = (output / "notebooks" / "00_overview.ipynb").read_text()
    assert str(mapping.absolute()) in notebook


def test_the_documented_example_opens(tmp_path):
    """docs/bring-your-own-data.md's complete example, on raw files in its layout."""
    page = (Path(__file__).parent.parent / "docs" / "bring-your-own-data.md").read_text()
    example = page.split("```yaml\n", 1)[1].split("```", 1)[0]
    raw = tmp_path / "raw"
    (raw / "clicks").mkdir(parents=True)
    (tmp_path / "shop.yaml").write_text(example)
    (raw / "orders_export.csv").write_text(
        "id,customer,created_at,approved_at,state,total,promo\n"
        "o1,c1,2018-03-01 21:30:00,2018-03-01 21:40:00,delivered,50.0,\n"
        "o2,,2018-03-01 22:00:00,,canceled,20.0,\n"
        "o3,c2,2018-03-02 09:00:00,,canceled,30.0,P1\n"
    )
    (raw / "order_lines.csv").write_text("order,product,price\no1,S1,25\no1,S1,25\no3,S2,30\n")
    pd.DataFrame(
        {"product": ["S1", "S2"], "category_name": ["toys", "books"], "cost": [9.0, 12.0]}
    ).to_parquet(raw / "catalogue.parquet")
    pd.DataFrame(
        {"ts": [1519950600000], "visitor": ["c1"], "action": ["pv"], "product": ["S1"]}
    ).to_parquet(raw / "clicks" / "part-0001.parquet")
    source = data.open_source(str(tmp_path / "shop.yaml"))
    orders = rows(source, "orders", "order_id")
    assert [(r["order_id"], r["status"]) for r in orders] == [("o1", "paid"), ("o3", "cancelled")]
    # 21:30 in São Paulo (UTC-3 in March 2018, summer time having ended in February) is 00:30 UTC
    assert orders[0]["order_time"] == pd.Timestamp("2018-03-02 00:30:00")
    items = rows(source, "order_items", "sku_id")
    assert [(r["sku_id"], r["quantity"], r["unit_price"]) for r in items] == [
        ("S1", 2, 25.0),
        ("S2", 1, 30.0),
    ]
    events = rows(source, "events", "event_time")
    assert events[0]["event_name"] == "view_item"
    assert events[0]["event_time"] == pd.Timestamp("2018-03-02 00:30:00")
    assert events[0]["platform"] == "app"


@pytest.mark.parametrize(
    "zone",
    ["America/New_York", "Europe/London", "America/Sao_Paulo", "Australia/Lord_Howe", "UTC"],
)
def test_the_offset_table_gives_duckdbs_answers(zone):
    # every quarter hour of 2018 (São Paulo changed at midnight, Lord Howe by 30 minutes) and of
    # 2025, and local times outside the table's years, which DuckDB's timezone() converts
    from lib import mapping

    local = [
        *pd.date_range("2018-01-01", "2019-01-01", freq="15min"),
        *pd.date_range("2025-01-01", "2026-01-01", freq="15min"),
        pd.Timestamp("1969-07-20 20:17:00"),
        pd.Timestamp("2060-03-01 12:00:00"),
    ]
    table = data.ibis.memtable({"t": local})
    fast = mapping._local_to_utc_table(zone, table.t)
    slow = mapping._local_to_utc(zone, table.t).cast("timestamp")
    checked = table.mutate(fast=fast, slow=slow)
    differ = checked.filter((checked.fast != checked.slow) | checked.fast.isnull())
    assert data.duckdb_connect().execute(differ.count()) == 0


def _database(tmp_path: Path) -> Path:
    """A DuckDB database file holding one raw table of sales."""
    import duckdb

    file = tmp_path / "shop.ddb"
    with duckdb.connect(str(file)) as con:
        con.execute(
            "create table sales as select * from (values "
            "('o1', 'c1', timestamp '2025-11-02 01:30:00', 'canceled', 10.5), "
            "('o2', null, timestamp '2025-11-02 02:00:00', 'paid', 20.0)) "
            "as t(id, customer, created, state, amount)"
        )
    return file


def test_a_mapping_over_a_database_url_with_a_var(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOP_DB_FILE", str(_database(tmp_path)))
    mapping = write(
        tmp_path,
        {
            "shop.yaml": f"""
                database: "duckdb://${{SHOP_DB_FILE}}"   # ${{VAR}} comes from the environment
                naive_time_zone: America/New_York
                tables:
                  orders:
                    from: sales                        # a table of the database
                    filter: customer is not null
                    columns: {{order_id: id, user_id: customer, order_time: created,
                              status: state, paid_amount: amount}}
                    values: {{status: {{canceled: cancelled}}}}
                    constants: {ORDER_CONSTANTS}
                  order_items:
                    sql: select id as order_id, 'S1' as sku_id, 1 as quantity,
                         amount as unit_price from sales
            """,
        },
    )
    source = data.open_source(str(mapping))
    got = rows(source, "orders", "order_id")
    assert [(r["order_id"], r["status"]) for r in got] == [("o1", "cancelled")]
    assert got[0]["order_time"] == pd.Timestamp("2025-11-02 06:30:00")  # the later instant
    assert source.table("order_items").count().execute() == 2
    # a database table has no file: the coverage memo is not used for it
    assert "orders" not in source.paths and "order_items" not in source.paths


def test_a_database_url_must_keep_its_secrets_in_variables(tmp_path, monkeypatch):
    monkeypatch.delenv("SHOP_NO_SUCH_VAR", raising=False)
    secret = "S3cr3t-Hunter2"
    mapping = write(
        tmp_path,
        {
            "shop.yaml": f"""
                database: postgres://analyst:{secret}@127.0.0.1:9/shop?user=${{SHOP_NO_SUCH_VAR}}
                tables:
                  orders: {{from: orders}}
            """,
        },
    )
    with pytest.raises(data.DataError) as caught:
        data.open_source(str(mapping))
    message = str(caught.value)
    assert secret not in message
    assert "postgres://analyst:***@127.0.0.1:9/shop" in message
    assert "writes a secret into the mapping" in message
    assert "environment variable(s) SHOP_NO_SUCH_VAR not set" in message


def test_a_failed_connection_names_no_secret(tmp_path, monkeypatch):
    secret = "S3cr3t-Hunter2"
    monkeypatch.setenv("SHOP_DB_PASSWORD", secret)
    mapping = write(
        tmp_path,
        {
            "shop.yaml": """
                database: postgres://analyst:${SHOP_DB_PASSWORD}@127.0.0.1:9/shop
                tables:
                  orders: {from: orders}
            """,
        },
    )
    with pytest.raises(data.DataError) as caught:
        data.open_source(str(mapping))
    assert "database: cannot connect to postgres://analyst:***@127.0.0.1:9/shop" in str(
        caught.value
    )
    assert secret not in str(caught.value)


def test_an_unknown_database_table_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOP_DB_FILE", str(_database(tmp_path)))
    mapping = write(
        tmp_path,
        {
            "shop.yaml": """
                database: duckdb://${SHOP_DB_FILE}
                tables:
                  orders: {from: sale}
            """,
        },
    )
    with pytest.raises(data.DataError, match="'sale' is not a table of the database; did you"):
        data.open_source(str(mapping))


def test_the_runner_masks_a_mapping_databases_secret(tmp_path, monkeypatch):
    from lib.run.source import SourceSpec

    secret = "S3cr3t-Hunter2"
    monkeypatch.setenv("SHOP_DB_PASSWORD", secret)
    mapping = write(
        tmp_path,
        {
            "shop.yaml": """
                database: postgres://analyst:${SHOP_DB_PASSWORD}@db.internal/shop
                tables:
                  orders: {from: orders}
            """,
        },
    )
    spec = SourceSpec.from_arg(str(mapping))
    assert spec.parameter == str(mapping)  # the kernels expand the variable themselves
    assert spec.scrub(f"error: password {secret} refused") == "error: password *** refused"
    # a mapping without a database has nothing to mask
    plain = write(tmp_path / "plain", {"shop.yaml": "tables: {orders: {from: x.csv}}\n"})
    assert SourceSpec.from_arg(str(plain)).secrets == ()
