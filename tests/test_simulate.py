"""Tests of lib.simulate and the committed sample in data/sample/."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import duckdb
import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib import data, simulate

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"

# The data contract, spelled out here rather than imported so that a change to the
# generator's schemas cannot silently change what the tests accept.
TS = pa.timestamp("us")
STR = pa.string()
CONTRACT: dict[str, dict[str, pa.DataType]] = {
    "events": {
        "event_time": TS,
        "user_id": STR,
        "event_name": STR,
        "session_id": STR,
        "sku_id": STR,
        "channel": STR,
        "slot": STR,
        "platform": STR,
    },
    "orders": {
        "order_id": STR,
        "user_id": STR,
        "order_time": TS,
        "paid_time": TS,
        "status": STR,
        "paid_amount": pa.float64(),
        "discount_amount": pa.float64(),
        "coupon_id": STR,
        "channel": STR,
    },
    "order_items": {
        "order_id": STR,
        "sku_id": STR,
        "quantity": pa.int64(),
        "unit_price": pa.float64(),
    },
    "products": {
        "sku_id": STR,
        "category": STR,
        "unit_cost": pa.float64(),
        "list_price": pa.float64(),
        "brand": STR,
        "product_name": STR,
    },
    "users": {
        "user_id": STR,
        "signup_time": TS,
        "acquisition_channel": STR,
        "region": STR,
    },
    "marketing_spend": {
        "date": pa.date32(),
        "channel": STR,
        "billing_model": STR,
        "impressions": pa.int64(),
        "clicks": pa.int64(),
        "spend": pa.float64(),
    },
    "costs": {
        "month": pa.date32(),
        "component": STR,
        "item": STR,
        "amount": pa.float64(),
    },
    "reviews": {
        "sku_id": STR,
        "user_id": STR,
        "review_time": TS,
        "rating": pa.int64(),
    },
    "inventory": {
        "date": pa.date32(),
        "sku_id": STR,
        "location": STR,
        "on_hand": pa.int64(),
    },
    "purchase_orders": {
        "po_id": STR,
        "supplier": STR,
        "sku_id": STR,
        "ordered_date": pa.date32(),
        "promised_date": pa.date32(),
        "received_date": pa.date32(),
        "qty_ordered": pa.int64(),
        "qty_received": pa.int64(),
        "unit_cost": pa.float64(),
    },
    "shipments": {
        "order_id": STR,
        "carrier": STR,
        "shipped_time": TS,
        "delivered_time": TS,
        "shipping_cost": pa.float64(),
    },
    "returns": {
        "return_id": STR,
        "order_id": STR,
        "sku_id": STR,
        "quantity": pa.int64(),
        "requested_time": TS,
        "refunded_time": TS,
        "reason": STR,
        "refund_amount": pa.float64(),
    },
    # issue 20: the marketing tables
    "campaigns": {
        "campaign_id": STR,
        "name": STR,
        "start_date": pa.date32(),
        "end_date": pa.date32(),
        "kind": STR,
        "category": STR,
        "channel": STR,
        "discount_rate": pa.float64(),
    },
    "experiments": {
        "user_id": STR,
        "experiment": STR,
        "variant": STR,
        "assigned_time": TS,
    },
    "competitor_prices": {
        "date": pa.date32(),
        "sku_id": STR,
        "competitor": STR,
        "price": pa.float64(),
    },
}
# The tables of a data set made with --events: the marketing ones are off there by default
MARKETING_TABLES = ("campaigns", "experiments", "competitor_prices")
EVENTS_SHOP_TABLES = [name for name in CONTRACT if name not in MARKETING_TABLES]
EVENT_NAMES = set(data.EVENT_NAMES)
SLOTS = {
    "home_banner_1",
    "home_banner_2",
    "home_banner_3",
    "home_grid_1",
    "home_grid_2",
    "home_grid_3",
    "home_grid_4",
    "search_top",
    "category_top",
}
# 2025-08-01 00:00 .. 2025-11-29 00:00 Asia/Shanghai, as naive UTC.
WINDOW_START = datetime(2025, 7, 31, 16)
WINDOW_END = datetime(2025, 11, 28, 16)


@pytest.fixture(scope="module")
def sample() -> dict[str, pa.Table]:
    return {name: pq.read_table(SAMPLE / f"{name}.parquet") for name in CONTRACT}


@pytest.fixture(scope="module")
def db(sample: dict[str, pa.Table]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name, table in sample.items():
        con.register(name, table)
    return con


def scalar(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


# --------------------------------------------------------------------------- determinism
def test_regenerating_with_same_seed_reproduces_sample(tmp_path, sample):
    counts = simulate.generate(tmp_path, seed=42)
    for name, committed in sample.items():
        fresh = pq.read_table(tmp_path / f"{name}.parquet")
        assert counts[name] == fresh.num_rows, name
        assert fresh.schema.equals(committed.schema), name
        assert fresh.equals(committed), f"{name} differs from the committed sample"


def test_sample_size_budget():
    files = sorted(SAMPLE.glob("*.parquet"))
    assert {f.stem for f in files} == set(CONTRACT)
    assert sum(f.stat().st_size for f in files) < 25 * 1024 * 1024


# ------------------------------------------------------------------------------ contract
@pytest.mark.parametrize("name", list(CONTRACT))
def test_tables_follow_contract(sample, name):
    schema = sample[name].schema
    for column, dtype in CONTRACT[name].items():
        assert column in schema.names, f"{name}.{column} missing"
        assert schema.field(column).type == dtype, f"{name}.{column}: {schema.field(column).type}"
    assert sample[name].num_rows > 0


@pytest.mark.parametrize("name", list(CONTRACT))
def test_simulated_schemas_are_the_ones_derived_from_the_contract(sample, name):
    # lib.data.CONTRACT is the one home of the tables' layout: columns (optional ones included)
    # in order, their Arrow types and nullability; the generator writes exactly that
    spec = data.CONTRACT[name]
    derived = spec.arrow_schema()
    assert derived.names == [column.name for column in spec.all_columns]
    assert simulate.SCHEMAS[name].equals(derived), name
    assert sample[name].schema.remove_metadata().equals(derived), name


def test_simulated_statuses_and_event_names_are_the_contracts():
    assert simulate.ORDER_STATUSES == data.ORDER_STATUSES
    assert simulate.EVENT_NAMES == data.EVENT_NAMES
    assert set(simulate.SCHEMAS) == set(data.CONTRACT) == set(CONTRACT)


def test_optional_columns_the_sample_carries_are_not_required(sample):
    optional = {
        name: [c.name for c in spec.all_columns if c.optional]
        for name, spec in data.CONTRACT.items()
    }
    assert {name: cols for name, cols in optional.items() if cols} == {
        "events": ["coupon_id"],
        # unit_cost and list_price: many marketplaces publish no costs (issue 16)
        "products": ["unit_cost", "list_price", "brand", "product_name"],
        "inventory": ["location"],
        # returns.status: many after-sales exports only have the refund time (issue 21)
        "returns": ["status"],
        # a campaign may target the shop, a category or a channel, with or without a discount
        "campaigns": ["category", "channel", "discount_rate"],
    }
    # a source without them passes the checks, and they are no key of the events' copies
    tables = {
        name: ibis.memtable(sample[name].slice(0, 5).drop_columns(cols))  # Arrow: keeps types
        for name, cols in optional.items()
        if cols
    }
    assert data.check_tables(tables) == []
    assert "coupon_id" not in data.event_keys(ibis.memtable(sample["events"].slice(0, 5)))


def test_sample_volume(sample):
    assert 1_500_000 <= sample["events"].num_rows <= 2_500_000
    assert 40_000 <= sample["users"].num_rows <= 60_000
    assert 1_500 <= sample["products"].num_rows <= 2_500


def test_ids_unique(db):
    assert scalar(db, "SELECT count(*) - count(DISTINCT order_id) FROM orders") == 0
    assert scalar(db, "SELECT count(*) - count(DISTINCT sku_id) FROM products") == 0
    assert scalar(db, "SELECT count(*) - count(DISTINCT user_id) FROM users") == 0
    dup_lines = "SELECT count(*) - count(DISTINCT (order_id, sku_id)) FROM order_items"
    assert scalar(db, dup_lines) == 0


def test_order_invariants(db):
    assert scalar(db, "SELECT min(paid_amount) FROM orders") >= 0
    assert scalar(db, "SELECT min(discount_amount) FROM orders") >= 0
    assert scalar(db, "SELECT min(quantity) FROM order_items") >= 1
    assert scalar(db, "SELECT min(unit_price) FROM order_items") > 0
    statuses = {r[0] for r in db.execute("SELECT DISTINCT status FROM orders").fetchall()}
    assert statuses == {"paid", "unpaid", "cancelled", "refunded"}
    bad_unpaid = "SELECT count(*) FROM orders WHERE (status = 'unpaid') <> (paid_time IS NULL)"
    assert scalar(db, bad_unpaid) == 0
    assert scalar(db, "SELECT count(*) FROM orders WHERE paid_time < order_time") == 0
    # paid_amount = sum(quantity * unit_price) - discount_amount
    mismatch = """
        SELECT count(*) FROM orders o
        JOIN (SELECT order_id, sum(quantity * unit_price) AS gross
              FROM order_items GROUP BY order_id) i USING (order_id)
        WHERE abs(o.paid_amount - (i.gross - o.discount_amount)) > 0.011
    """
    assert scalar(db, mismatch) == 0
    no_items = """SELECT count(*) FROM orders
                  WHERE order_id NOT IN (SELECT order_id FROM order_items)"""
    assert scalar(db, no_items) == 0
    # a coupon gives a discount; without one, only the planted promotion's orders (placed
    # 10-15..10-25 local, tests/test_simulate_marketing.py checks their amounts) have one
    coupon_rule = "SELECT count(*) FROM orders WHERE coupon_id IS NOT NULL AND discount_amount = 0"
    assert scalar(db, coupon_rule) == 0
    promotion_days = "(order_time + INTERVAL 8 HOUR)::DATE BETWEEN '2025-10-15' AND '2025-10-25'"
    others = f"coupon_id IS NULL AND discount_amount > 0 AND NOT {promotion_days}"
    assert scalar(db, f"SELECT count(*) FROM orders WHERE {others}") == 0


def test_referential_integrity(db):
    orphan_items = """SELECT count(*) FROM order_items
                      WHERE order_id NOT IN (SELECT order_id FROM orders)"""
    assert scalar(db, orphan_items) == 0
    for table in ("events", "order_items", "reviews"):
        sql = f"""SELECT count(*) FROM {table}
                  WHERE sku_id IS NOT NULL AND sku_id NOT IN (SELECT sku_id FROM products)"""
        assert scalar(db, sql) == 0, table
    for table in ("events", "orders", "reviews"):
        sql = f"SELECT count(*) FROM {table} WHERE user_id NOT IN (SELECT user_id FROM users)"
        assert scalar(db, sql) == 0, table
    # Reviews come from buyers of that SKU, after they paid.
    unbought = """
        SELECT count(*) FROM reviews r WHERE NOT EXISTS (
            SELECT 1 FROM orders o JOIN order_items i USING (order_id)
            WHERE o.user_id = r.user_id AND i.sku_id = r.sku_id AND o.paid_time < r.review_time)
    """
    assert scalar(db, unbought) == 0


# Every order is the first begin_checkout of a session, at its order_time (a checkout detour
# repeats begin_checkout in the session, issue 18): the rows of either side without the other.
FIRST_CHECKOUTS_ARE_ORDERS = """
    WITH c AS (SELECT user_id, min(event_time) AS t FROM events
               WHERE event_name = 'begin_checkout' GROUP BY session_id, user_id),
         c2 AS (SELECT user_id, t, count(*) AS n FROM c GROUP BY ALL),
         o AS (SELECT user_id, order_time AS t, count(*) AS n FROM orders GROUP BY ALL)
    SELECT count(*) FROM c2 FULL JOIN o USING (user_id, t) WHERE c2.n IS DISTINCT FROM o.n
"""


def test_purchase_events_match_paid_orders(db):
    # Same multiset of (user, time) on both sides: every purchase is one paid order.
    sql = """
        WITH p AS (SELECT user_id, event_time AS t, count(*) AS n FROM events
                   WHERE event_name = 'purchase' GROUP BY ALL),
             o AS (SELECT user_id, paid_time AS t, count(*) AS n FROM orders
                   WHERE paid_time IS NOT NULL GROUP BY ALL)
        SELECT count(*) FROM p FULL JOIN o USING (user_id, t) WHERE p.n IS DISTINCT FROM o.n
    """
    assert scalar(db, sql) == 0
    assert scalar(db, FIRST_CHECKOUTS_ARE_ORDERS) == 0


def test_event_values(db, sample):
    names = {r[0] for r in db.execute("SELECT DISTINCT event_name FROM events").fetchall()}
    assert names == EVENT_NAMES
    slots = {
        r[0]
        for r in db.execute("SELECT DISTINCT slot FROM events WHERE slot IS NOT NULL").fetchall()
    }
    assert slots == SLOTS
    misplaced_slot = """SELECT count(*) FROM events WHERE (slot IS NOT NULL)
                        <> (event_name IN ('view_promotion', 'select_promotion'))"""
    assert scalar(db, misplaced_slot) == 0
    item_events = "('view_item', 'select_item', 'view_item_list', 'add_to_cart', 'add_to_wishlist')"
    assert (
        scalar(
            db, f"SELECT count(*) FROM events WHERE event_name IN {item_events} AND sku_id IS NULL"
        )
        == 0
    )
    # A session has one user, channel and platform.
    per_session = """SELECT count(*) FROM (SELECT session_id FROM events GROUP BY session_id
                     HAVING count(DISTINCT user_id) > 1 OR count(DISTINCT platform) > 1
                        OR count(DISTINCT coalesce(channel, '?')) > 1)"""
    assert scalar(db, per_session) == 0
    # Sorted by time.
    times = sample["events"].column("event_time").to_numpy()
    assert (times[1:] >= times[:-1]).all()


def test_timestamps_within_window(db):
    for table, column in [
        ("events", "event_time"),
        ("orders", "order_time"),
        ("orders", "paid_time"),
        ("users", "signup_time"),
        ("reviews", "review_time"),
        ("shipments", "shipped_time"),
        ("shipments", "delivered_time"),
        ("returns", "requested_time"),
        ("returns", "refunded_time"),
    ]:
        lo, hi = db.execute(f"SELECT min({column}), max({column}) FROM {table}").fetchone()
        assert lo >= WINDOW_START, (table, column, lo)
        assert hi < WINDOW_END, (table, column, hi)
    days = scalar(db, "SELECT count(DISTINCT date) FROM marketing_spend")
    assert days == 120
    months = [
        r[0].isoformat()
        for r in db.execute("SELECT DISTINCT month FROM costs ORDER BY 1").fetchall()
    ]
    assert months == ["2025-08-01", "2025-09-01", "2025-10-01", "2025-11-01"]


def test_spend_and_costs_values(db):
    models = db.execute("SELECT DISTINCT billing_model FROM marketing_spend").fetchall()
    assert {r[0] for r in models} == {"CPC", "CPM", "CPT", "CPS"}
    assert scalar(db, "SELECT min(spend) FROM marketing_spend") >= 0
    assert scalar(db, "SELECT count(*) FROM marketing_spend WHERE clicks > impressions") == 0
    components = db.execute("SELECT DISTINCT component FROM costs").fetchall()
    assert {r[0] for r in components} == {"platform", "operating", "goods", "people"}
    assert scalar(db, "SELECT min(rating) FROM reviews") >= 1
    assert scalar(db, "SELECT max(rating) FROM reviews") <= 5


# ------------------------------------------------------------------------------- scaling
def test_target_events_is_met_and_streamed(tmp_path, monkeypatch):
    written: list[int] = []
    original = pq.ParquetWriter.write_table

    def spy(self, table, *args, **kwargs):
        written.append(table.num_rows)
        return original(self, table, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", spy)
    counts = simulate.generate(tmp_path, seed=7, target_events=200_000, row_group_rows=40_000)
    assert 160_000 <= counts["events"] <= 240_000
    events = pq.ParquetFile(tmp_path / "events.parquet")
    assert events.metadata.num_rows == counts["events"]
    assert events.metadata.num_row_groups >= 4
    sizes = [events.metadata.row_group(i).num_rows for i in range(events.metadata.num_row_groups)]
    assert set(sizes[:-1]) == {40_000} and sizes[-1] <= 40_000
    # Tables reach the writer piecewise, never as one events-sized table.
    assert max(written) < counts["events"] / 2
    # Stock is written day by day: one SKU-day table never reaches the writer whole.
    inventory = pq.ParquetFile(tmp_path / "inventory.parquet")
    assert inventory.metadata.num_rows == counts["inventory"]
    assert inventory.metadata.num_row_groups >= 2
    assert max(written) < counts["inventory"]


# ------------------------------------------------------------------------------- realism
def test_singles_day_peak(db):
    sql = """
        WITH d AS (SELECT CAST(event_time + INTERVAL 8 HOUR AS DATE) AS day, count(*) AS n
                   FROM events GROUP BY 1)
        SELECT (SELECT n FROM d WHERE day = DATE '2025-11-11') / median(n) FROM d
    """
    assert scalar(db, sql) >= 2.0


def test_evening_peak(db):
    sql = """SELECT hour(event_time + INTERVAL 8 HOUR) AS h FROM events
             WHERE event_name = 'session_start' GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"""
    assert 19 <= scalar(db, sql) <= 22


def test_revenue_concentrated_in_top_skus(db):
    sql = """
        WITH rev AS (SELECT p.sku_id, coalesce(sum(i.quantity * i.unit_price), 0) AS r
                     FROM products p
                     LEFT JOIN (order_items i JOIN orders o ON o.order_id = i.order_id
                                AND o.paid_time IS NOT NULL) ON i.sku_id = p.sku_id
                     GROUP BY p.sku_id),
             ranked AS (SELECT r, row_number() OVER (ORDER BY r DESC) AS k,
                               count(*) OVER () AS n FROM rev)
        SELECT sum(r) FILTER (WHERE k <= 0.2 * n) / sum(r) FROM ranked
    """
    assert scalar(db, sql) >= 0.6


def test_repeat_buyers_and_retention(db):
    buyers, repeat = db.execute("""
        SELECT count(*), count(*) FILTER (WHERE n > 1) FROM
        (SELECT user_id, count(*) AS n FROM orders WHERE paid_time IS NOT NULL GROUP BY 1)
    """).fetchone()
    assert repeat >= 0.05 * buyers
    d1 = scalar(
        db,
        """
        WITH a AS (SELECT DISTINCT user_id, CAST(event_time + INTERVAL 8 HOUR AS DATE) AS d
                   FROM events),
             u AS (SELECT user_id, CAST(signup_time + INTERVAL 8 HOUR AS DATE) AS d FROM users
                   WHERE signup_time < TIMESTAMP '2025-11-01')
        SELECT avg(CASE WHEN a.user_id IS NULL THEN 0 ELSE 1 END)
        FROM u LEFT JOIN a ON a.user_id = u.user_id AND a.d = u.d + 1
    """,
    )
    assert 0.2 <= d1 <= 0.4


def test_order_status_mix(db):
    shares = dict(
        db.execute("""
        SELECT status, count(*) / sum(count(*)) OVER () FROM orders GROUP BY 1
    """).fetchall()
    )
    assert 0.08 <= shares["unpaid"] <= 0.22
    assert 0.02 <= shares["refunded"] <= 0.09
    assert 0.01 <= shares["cancelled"] <= 0.06


def test_every_slot_has_impressions_and_clicks(db):
    rows = db.execute("""
        SELECT slot, count(*) FILTER (WHERE event_name = 'view_promotion'),
               count(*) FILTER (WHERE event_name = 'select_promotion')
        FROM events WHERE slot IS NOT NULL GROUP BY 1
    """).fetchall()
    assert {r[0] for r in rows} == SLOTS
    ctr = {}
    for slot, impressions, clicks in rows:
        assert impressions > 0 and clicks > 0, slot
        ctr[slot] = clicks / impressions
    # Slots differ clearly in CTR.
    assert max(ctr.values()) > 3 * min(ctr.values())


def test_bad_skus_stand_out_in_reviews(db):
    median_sku, bad_skus = db.execute("""
        WITH s AS (SELECT sku_id, avg(rating) AS r FROM reviews GROUP BY 1 HAVING count(*) >= 5)
        SELECT median(r), count(*) FILTER (WHERE r < 3) FROM s
    """).fetchone()
    assert median_sku >= 4.0
    assert bad_skus >= 3


# -------------------------------------------------------------------------- supply chain
# Daily stock per SKU (locations summed), sales = units of paid, not cancelled lines by local
# payment day, receipts = qty_received by received_date.
STOCK_FLOWS = """
    WITH stock AS (SELECT sku_id, date, sum(on_hand) AS on_hand FROM inventory GROUP BY ALL),
    sold AS (SELECT i.sku_id, CAST(o.paid_time + INTERVAL 8 HOUR AS DATE) AS date,
                    sum(i.quantity) AS units
             FROM order_items i JOIN orders o USING (order_id)
             WHERE o.paid_time IS NOT NULL AND o.status <> 'cancelled' GROUP BY ALL),
    received AS (SELECT sku_id, received_date AS date, sum(qty_received) AS units
                 FROM purchase_orders WHERE received_date IS NOT NULL GROUP BY ALL)
    SELECT s.sku_id, s.date, s.on_hand, p.on_hand AS previous,
           coalesce(r.units, 0) AS received, coalesce(x.units, 0) AS sold
    FROM stock s JOIN stock p ON p.sku_id = s.sku_id AND p.date = s.date - 1
    LEFT JOIN received r ON r.sku_id = s.sku_id AND r.date = s.date
    LEFT JOIN sold x ON x.sku_id = s.sku_id AND x.date = s.date
"""


def test_inventory_covers_every_sku_and_day(db):
    first, last, days, skus = db.execute(
        "SELECT min(date), max(date), count(DISTINCT date), count(DISTINCT sku_id) FROM inventory"
    ).fetchone()
    assert (first.isoformat(), last.isoformat(), days) == ("2025-07-31", "2025-11-28", 121)
    assert skus == scalar(db, "SELECT count(*) FROM products")
    assert scalar(db, "SELECT min(on_hand) FROM inventory") >= 0
    per_sku_day = "SELECT count(*) FROM (SELECT DISTINCT sku_id, date FROM inventory)"
    assert scalar(db, per_sku_day) == 121 * skus
    # the best sellers are split over two warehouses
    assert scalar(db, "SELECT count(DISTINCT location) FROM inventory") == 2


def test_stock_identity_holds_every_day(db):
    flows = db.execute(f"""
        SELECT count(*), count(*) FILTER (WHERE on_hand <> previous + received - sold),
               count(*) FILTER (WHERE previous = 0 AND received = 0 AND sold > 0)
        FROM ({STOCK_FLOWS})
    """).fetchone()
    rows, broken, sold_from_empty_shelf = flows
    assert rows == 120 * scalar(db, "SELECT count(*) FROM products")
    assert broken == 0
    assert sold_from_empty_shelf == 0
    # every receipt falls inside the window, so the identity covers all of them
    outside = """SELECT count(*) FROM purchase_orders
                 WHERE received_date < DATE '2025-08-01' OR received_date > DATE '2025-11-28'"""
    assert scalar(db, outside) == 0


def test_stockouts_have_no_sales_but_views_and_some_stock_piles_up(db):
    # days that start and end out of stock, without a receipt: nobody could buy, yet people looked
    empty = db.execute(f"""
        WITH empty AS (SELECT * FROM ({STOCK_FLOWS}) WHERE previous = 0 AND on_hand = 0
                                                      AND received = 0),
             views AS (SELECT sku_id, CAST(event_time + INTERVAL 8 HOUR AS DATE) AS date,
                              count(*) AS n
                       FROM events WHERE event_name = 'view_item' GROUP BY ALL)
        SELECT count(DISTINCT e.sku_id), count(*), sum(e.sold), coalesce(sum(v.n), 0)
        FROM empty e LEFT JOIN views v USING (sku_id, date)
    """).fetchone()
    skus, days, sold, views = empty
    assert skus >= 50 and days >= 1_000
    assert sold == 0
    assert views >= 1_000
    # stock piled up: SKUs whose last stock lasts more than 90 days at their average pace
    piled = """
        WITH last AS (SELECT sku_id, sum(on_hand) AS units FROM inventory
                      WHERE date = DATE '2025-11-28' GROUP BY ALL),
             pace AS (SELECT i.sku_id, sum(i.quantity) / 120 AS per_day
                      FROM order_items i JOIN orders o USING (order_id)
                      WHERE o.paid_time IS NOT NULL AND o.status <> 'cancelled' GROUP BY ALL)
        SELECT count(*) FILTER (WHERE per_day IS NULL AND units > 0),
               count(*) FILTER (WHERE units > 90 * per_day)
        FROM last LEFT JOIN pace USING (sku_id)
    """
    dead, overstock = db.execute(piled).fetchone()
    assert dead >= 200 and overstock >= 200


def test_purchase_order_invariants(db):
    assert scalar(db, "SELECT count(*) - count(DISTINCT po_id) FROM purchase_orders") == 0
    bad = """SELECT count(*) FROM purchase_orders WHERE promised_date < ordered_date
             OR received_date < ordered_date OR qty_received > qty_ordered OR qty_ordered < 1
             OR (received_date IS NULL) <> (qty_received = 0) OR unit_cost <= 0"""
    assert scalar(db, bad) == 0
    unknown = """SELECT count(*) FROM purchase_orders
                 WHERE sku_id NOT IN (SELECT sku_id FROM products)"""
    assert scalar(db, unknown) == 0
    assert scalar(db, "SELECT count(*) FROM purchase_orders WHERE received_date IS NULL") > 0


def test_suppliers_differ_in_reliability_and_lead_time(db):
    rows = db.execute("""
        SELECT supplier,
               avg(CASE WHEN received_date <= promised_date AND qty_received >= qty_ordered
                   THEN 1 ELSE 0 END) AS otif,
               median(received_date - ordered_date) AS lead
        FROM purchase_orders GROUP BY 1
    """).fetchall()
    assert len(rows) == len(simulate.SUPPLIERS)
    otif = [r[1] for r in rows]
    lead = [r[2] for r in rows]
    assert max(otif) - min(otif) >= 0.3
    assert max(lead) >= 3 * min(lead)


def test_shipment_invariants(db):
    assert scalar(db, "SELECT count(*) - count(DISTINCT order_id) FROM shipments") == 0
    # only paid, not cancelled orders ship, after payment; deliveries come after shipping
    wrong = """
        SELECT count(*) FROM shipments s LEFT JOIN orders o USING (order_id)
        WHERE o.order_id IS NULL OR o.paid_time IS NULL OR o.status = 'cancelled'
           OR s.shipped_time <= o.paid_time OR s.delivered_time <= s.shipped_time
           OR s.shipping_cost <= 0
    """
    assert scalar(db, wrong) == 0
    # nearly every paid order shipped: the rest were paid in the last days of the window
    waiting, first_paid = db.execute("""
        SELECT count(*), min(paid_time) FROM orders
        WHERE paid_time IS NOT NULL AND status <> 'cancelled'
          AND order_id NOT IN (SELECT order_id FROM shipments)
    """).fetchone()
    assert 0 < waiting < 0.02 * scalar(db, "SELECT count(*) FROM shipments")
    assert first_paid >= datetime(2025, 11, 20)
    assert scalar(db, "SELECT count(*) FROM shipments WHERE delivered_time IS NULL") > 0


def test_carriers_differ_in_speed_and_cost_and_singles_day_slows_shipping(db):
    rows = db.execute("""
        SELECT carrier, median(epoch(delivered_time - shipped_time)) / 86400 AS days,
               avg(shipping_cost) AS cost
        FROM shipments GROUP BY 1
    """).fetchall()
    assert len(rows) == len(simulate.CARRIERS)
    days = {r[0]: r[1] for r in rows}
    cost = {r[0]: r[2] for r in rows}
    assert days["SF Express"] < days["ZTO Express"] < days["EMS"]
    assert cost["ZTO Express"] < cost["SF Express"]
    on_time = dict(
        db.execute("""
        SELECT CAST(o.paid_time + INTERVAL 8 HOUR AS DATE) = DATE '2025-11-11',
               avg(CASE WHEN s.shipped_time <= o.paid_time + INTERVAL 48 HOUR THEN 1 ELSE 0 END)
        FROM shipments s JOIN orders o USING (order_id) GROUP BY 1
    """).fetchall()
    )
    assert on_time[False] >= 0.85
    assert on_time[True] <= 0.7


# --------------------------------------------------------------------------- known truth
KNOWN_TRUTH_EVENTS = 300_000
# Local days as naive-UTC bounds: 10-20 00:00 .. 10-25 00:00 Asia/Shanghai.
INCIDENT_FROM, INCIDENT_TO = datetime(2025, 10, 19, 16), datetime(2025, 10, 24, 16)
LOCAL_DAY = "CAST({} + INTERVAL 8 HOUR AS DATE)"


@pytest.fixture(scope="module")
def known_truth(tmp_path_factory) -> dict[str, duckdb.DuckDBPyConnection]:
    """A small shop generated twice with one seed: plain (the --events default) and with the
    sample's incident, abusers and bots."""
    base = tmp_path_factory.mktemp("known_truth")
    shops = {}
    for name, extra in (
        ("plain", {}),
        ("planted", {"incidents": simulate.SAMPLE_INCIDENTS, "abusers": simulate.SAMPLE_ABUSERS}),
    ):
        simulate.generate(base / name, seed=11, target_events=KNOWN_TRUTH_EVENTS, **extra)
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        for table in EVENTS_SHOP_TABLES:
            con.register(table, pq.read_table(base / name / f"{table}.parquet"))
        shops[name] = con
    return shops


def payment_success(con: duckdb.DuckDBPyConnection, days: str) -> float:
    """Paid orders / placed orders over the local order days ``days`` (a SQL condition on d)."""
    return scalar(
        con,
        f"""SELECT avg(CASE WHEN paid_time IS NULL THEN 0 ELSE 1 END) FROM
            (SELECT *, {LOCAL_DAY.format("order_time")} AS d FROM orders) WHERE {days}""",
    )


INCIDENT = "d BETWEEN DATE '2025-10-20' AND DATE '2025-10-24'"
AROUND = (
    "(d BETWEEN DATE '2025-10-09' AND DATE '2025-10-19' "
    "OR d BETWEEN DATE '2025-10-25' AND DATE '2025-11-04')"
)


def test_sample_incident_is_inside_the_default_range_and_away_from_singles_day():
    (incident,) = simulate.SAMPLE_INCIDENTS
    assert incident.step == "purchase" and incident.size == pytest.approx(0.4)
    assert datetime(2025, 10, 15).date() <= incident.start <= incident.end
    assert incident.end < datetime(2025, 11, 9).date()
    assert (incident.end - incident.start).days == 4


def test_the_incident_cuts_payment_success_on_its_days_only(known_truth):
    planted, plain = known_truth["planted"], known_truth["plain"]
    during, around = payment_success(planted, INCIDENT), payment_success(planted, AROUND)
    assert around >= 0.75
    assert during <= 0.6 * around  # ~40 % of the usual rate
    # the same days without the incident are ordinary
    assert payment_success(plain, INCIDENT) >= 0.85 * payment_success(plain, AROUND)
    # and the events show it as the orders do: purchases per checkout by local event day
    rate = f"""
        SELECT count(*) FILTER (WHERE event_name = 'purchase')
               / count(*) FILTER (WHERE event_name = 'begin_checkout')
        FROM (SELECT *, {LOCAL_DAY.format("event_time")} AS d FROM events) WHERE {{}}"""
    assert scalar(planted, rate.format(INCIDENT)) <= 0.6 * scalar(planted, rate.format(AROUND))


def test_incidents_and_abusers_leave_the_ordinary_data_before_the_incident_alone(known_truth):
    # planted users live in streams and id ranges of their own, and the incident only changes
    # outcomes from its first day: before it, the ordinary users' rows are the same
    planted_ids = [i for ids in simulate.planted_users(KNOWN_TRUTH_EVENTS).values() for i in ids]
    assert planted_ids == []  # an --events data set has none by default ...
    planted_ids = [
        i
        for ids in simulate.planted_users(KNOWN_TRUTH_EVENTS, simulate.SAMPLE_ABUSERS).values()
        for i in ids
    ]
    assert len(planted_ids) == 10  # ... the sample's kind has ten
    ids = "(" + ", ".join(f"'{i}'" for i in planted_ids) + ")"
    for table, time in (("events", "event_time"), ("orders", "order_time")):
        sql = f"""SELECT * FROM {table} WHERE user_id NOT IN {ids}
                  AND {time} < TIMESTAMP '{INCIDENT_FROM}' ORDER BY ALL"""
        before = [known_truth[n].execute(sql).to_arrow_table() for n in ("plain", "planted")]
        assert before[0].num_rows > 0
        assert before[0].equals(before[1]), table
    users = [
        known_truth[n].execute("SELECT * FROM users").to_arrow_table() for n in ("plain", "planted")
    ]
    assert users[1].num_rows == users[0].num_rows + 10
    assert users[1].slice(0, users[0].num_rows).equals(users[0])


def test_planted_abusers_and_bots_exist(known_truth):
    con = known_truth["planted"]
    planted = simulate.planted_users(KNOWN_TRUTH_EVENTS, simulate.SAMPLE_ABUSERS)
    n_users = round(KNOWN_TRUTH_EVENTS / simulate.EVENTS_PER_USER)
    assert planted["coupon"] == [f"U{n_users + 1:08d}", f"U{n_users + 2:08d}"]
    assert {role: len(ids) for role, ids in planted.items()} == dict.fromkeys(
        ("coupon", "unpaid", "refund", "crawler", "session"), 2
    )

    def per_user(sql: str) -> dict[str, float]:
        return dict(con.execute(sql).fetchall())

    claims = per_user(
        "SELECT user_id, count(*) FROM events WHERE event_name = 'claim_coupon' GROUP BY 1"
    )
    assert all(claims[u] >= 100 for u in planted["coupon"])  # about one a day
    uses = per_user("SELECT user_id, count(coupon_id) FROM orders GROUP BY 1")
    assert all(uses[u] >= 20 for u in planted["coupon"])
    not_paid = per_user(
        "SELECT user_id, avg(CASE WHEN paid_time IS NULL OR status = 'cancelled' THEN 1 ELSE 0 "
        "END) FROM orders GROUP BY 1"
    )
    assert all(not_paid[u] >= 0.6 for u in planted["unpaid"])
    refunded = per_user(
        "SELECT user_id, avg(CASE WHEN status = 'refunded' THEN 1 ELSE 0 END) FROM orders "
        "WHERE paid_time IS NOT NULL AND status <> 'cancelled' GROUP BY 1"
    )
    assert all(refunded[u] >= 0.6 for u in planted["refund"])
    per_minute = per_user(
        "SELECT user_id, max(n) FROM (SELECT user_id, count(*) AS n FROM events "
        "GROUP BY user_id, date_trunc('minute', event_time)) GROUP BY 1"
    )
    assert all(per_minute[u] >= 100 for u in planted["crawler"])
    per_day = per_user(
        f"SELECT user_id, max(n) FROM (SELECT user_id, count(DISTINCT session_id) AS n "
        f"FROM events GROUP BY user_id, {LOCAL_DAY.format('event_time')}) GROUP BY 1"
    )
    assert all(per_day[u] >= 30 for u in planted["session"])
    # the ordinary users stay far below (the risk flags' test checks the rules themselves)
    ordinary = [u for u in per_minute if u not in planted["crawler"]]
    assert max(per_minute[u] for u in ordinary) < 50
    # bots only request pages and never order
    bots = "(" + ", ".join(f"'{u}'" for u in planted["crawler"] + planted["session"]) + ")"
    names = con.execute(f"SELECT DISTINCT event_name FROM events WHERE user_id IN {bots}")
    assert {r[0] for r in names.fetchall()} == {"session_start", "page_view"}
    assert scalar(con, f"SELECT count(*) FROM orders WHERE user_id IN {bots}") == 0


def test_planted_data_keeps_the_invariants(known_truth):
    con = known_truth["planted"]
    # every purchase event pays one order, every checkout creates one
    sql = """
        WITH p AS (SELECT user_id, event_time AS t, count(*) AS n FROM events
                   WHERE event_name = 'purchase' GROUP BY ALL),
             o AS (SELECT user_id, paid_time AS t, count(*) AS n FROM orders
                   WHERE paid_time IS NOT NULL GROUP BY ALL)
        SELECT count(*) FROM p FULL JOIN o USING (user_id, t) WHERE p.n IS DISTINCT FROM o.n
    """
    assert scalar(con, sql) == 0
    assert scalar(con, FIRST_CHECKOUTS_ARE_ORDERS) == 0
    for table, key in (("orders", "order_id"), ("users", "user_id")):
        assert scalar(con, f"SELECT count(*) - count(DISTINCT {key}) FROM {table}") == 0
    sessions = """SELECT count(*) FROM (SELECT session_id FROM events GROUP BY 1
                  HAVING count(DISTINCT user_id) > 1)"""
    assert scalar(con, sessions) == 0
    times = con.execute("SELECT event_time FROM events").to_arrow_table().column(0).to_numpy()
    assert (times[1:] >= times[:-1]).all()
    # stock still follows the sales, the planted ones included
    broken = (
        f"SELECT count(*) FILTER (WHERE on_hand <> previous + received - sold) FROM ({STOCK_FLOWS})"
    )
    assert scalar(con, broken) == 0
    unknown = "SELECT count(*) FROM events WHERE user_id NOT IN (SELECT user_id FROM users)"
    assert scalar(con, unknown) == 0
    first = """SELECT count(*) FROM users u JOIN (SELECT user_id, min(event_time) AS t
               FROM events GROUP BY 1) e USING (user_id) WHERE e.t < u.signup_time"""
    assert scalar(con, first) == 0


def test_incident_parsing_and_checks():
    parsed = simulate.Incident.parse("begin_checkout, 2025-09-01, 2025-09-03, 0.5")
    assert parsed == simulate.Incident(
        "begin_checkout", datetime(2025, 9, 1).date(), datetime(2025, 9, 3).date(), 0.5
    )
    for text in ("payment,2025-09-01,2025-09-03,0.5", "purchase,2025-09-03,2025-09-01,0.5",
                 "purchase,2025-12-01,2025-12-03,0.5", "purchase,2025-09-01,0.5"):  # fmt: skip
        with pytest.raises(ValueError):
            simulate.Incident.parse(text)


def test_cli_switches_incidents_and_abusers(tmp_path, capsys):
    out = tmp_path / "shop"
    args = ["--out", str(out), "--events", "20000", "--seed", "3"]
    assert (
        simulate.main([*args, "--abusers", "--incident", "purchase,2025-10-20,2025-10-22,0"]) == 0
    )
    users = pq.read_table(out / "users.parquet").column("user_id").to_pylist()
    planted = simulate.planted_users(20_000, simulate.SAMPLE_ABUSERS)
    assert users[-10:] == [u for role in planted.values() for u in role]
    orders = pq.read_table(out / "orders.parquet").to_pandas()
    local_day = (orders["order_time"] + pd.Timedelta(hours=8)).dt.date.astype(str)
    during = orders[local_day.between("2025-10-20", "2025-10-22")]
    assert len(during) > 0 and during["paid_time"].isna().all()  # size 0: nobody could pay
    with pytest.raises(SystemExit):
        simulate.main([*args, "--no-incidents", "--incident", "purchase,2025-10-20,2025-10-22,0"])


# each step's own measure: (numerator events, denominator) by local day of the event
STEP_MEASURES = {
    "sessions": "count(DISTINCT session_id) / 1.0",
    "add_to_cart": "count(*) FILTER (WHERE event_name = 'add_to_cart') "
    "/ count(*) FILTER (WHERE event_name = 'view_item')",
    "begin_checkout": "count(*) FILTER (WHERE event_name = 'begin_checkout') "
    "/ count(DISTINCT session_id) FILTER (WHERE event_name = 'add_to_cart')",
    "purchase": "count(*) FILTER (WHERE event_name = 'purchase') "
    "/ count(*) FILTER (WHERE event_name = 'begin_checkout')",
}


@pytest.mark.parametrize("step", simulate.INCIDENT_STEPS)
def test_every_incident_step_falls_on_its_days(tmp_path, known_truth, step):
    incident = simulate.Incident.parse(f"{step},2025-09-10,2025-09-16,0.3")
    simulate.generate(tmp_path, seed=11, target_events=KNOWN_TRUTH_EVENTS, incidents=[incident])
    con = duckdb.connect()
    con.register("events", pq.read_table(tmp_path / "events.parquet"))
    days = "BETWEEN DATE '2025-09-10' AND DATE '2025-09-16'"
    sql = f"""SELECT {STEP_MEASURES[step]} FROM events
              WHERE {LOCAL_DAY.format("event_time")} {days}"""
    hit, plain = scalar(con, sql), scalar(known_truth["plain"], sql)
    # 30 % of the step's chance; visits fall less, since new users' first visits stay
    assert hit <= (0.75 if step == "sessions" else 0.5) * plain


# ---------------------------------------------------------------------------- after-sales
# Every contract rule the returns keep with the orders, as a count of rows breaking it.
RETURNS_RULES = {
    "repeated return_id": "SELECT count(*) - count(DISTINCT return_id) FROM returns",
    "refunded order without a refunded return": """
        SELECT count(*) FROM orders WHERE status = 'refunded' AND order_id NOT IN
            (SELECT order_id FROM returns WHERE refunded_time IS NOT NULL)""",
    "return of an order not paid": """
        SELECT count(*) FROM returns r LEFT JOIN orders o USING (order_id)
        WHERE o.order_id IS NULL OR o.paid_time IS NULL OR o.status NOT IN ('paid', 'refunded')""",
    "refund of an order not refunded": """
        SELECT count(*) FROM returns r JOIN orders o USING (order_id)
        WHERE r.refunded_time IS NOT NULL AND o.status <> 'refunded'""",
    "requested before payment": """
        SELECT count(*) FROM returns r JOIN orders o USING (order_id)
        WHERE r.requested_time <= o.paid_time""",
    "refunded before the request": """
        SELECT count(*) FROM returns WHERE refunded_time <= requested_time""",
    "refund amount without refund time or back": """
        SELECT count(*) FROM returns WHERE (refund_amount IS NULL) <> (refunded_time IS NULL)""",
    "quantity without SKU or back": """
        SELECT count(*) FROM returns WHERE (quantity IS NULL) <> (sku_id IS NULL)""",
    "line not in the order, or more units than it holds": """
        SELECT count(*) FROM returns r LEFT JOIN order_items i USING (order_id, sku_id)
        WHERE r.sku_id IS NOT NULL
          AND (i.order_id IS NULL OR r.quantity > i.quantity OR r.quantity < 1)""",
    "refunds beyond the payment": """
        SELECT count(*) FROM (SELECT order_id, sum(refund_amount) AS refunded FROM returns
                              GROUP BY 1) JOIN orders USING (order_id)
        WHERE refunded > paid_amount + 0.005""",
    "whole-order refund not the payment": """
        SELECT count(*) FROM returns r JOIN orders o USING (order_id)
        WHERE r.sku_id IS NULL AND r.refund_amount IS NOT NULL
          AND abs(r.refund_amount - o.paid_amount) > 0.005""",
    "negative refund": "SELECT count(*) FROM returns WHERE refund_amount < 0",
    "unknown reason": f"""
        SELECT count(*) FROM returns
        WHERE reason NOT IN ({", ".join(f"'{r}'" for r in simulate.RETURN_REASONS)})""",
}
# Delivered paid orders with the band of their payment-to-door days against the report's default
# slow_delivery_days of 3 (0 on time: under 3 days, 1: 1-2 days late, 2: more) and whether a
# return was requested.
DELIVERED_RETURNS = """
    WITH door AS (
        SELECT o.order_id, s.carrier, epoch(s.delivered_time - o.paid_time) / 86400 AS days
        FROM orders o JOIN shipments s USING (order_id)
        WHERE s.delivered_time IS NOT NULL AND o.status IN ('paid', 'refunded'))
    SELECT order_id, carrier, CASE WHEN days < 3 THEN 0 WHEN days < 5 THEN 1 ELSE 2 END AS band,
           order_id IN (SELECT order_id FROM returns) AS returned
    FROM door
"""


def return_rates(con: duckdb.DuckDBPyConnection, by: str) -> dict:
    """Share of delivered paid orders with a return request, per ``by`` (band or carrier)."""
    sql = f"SELECT {by}, avg(returned::INT), count(*) FROM ({DELIVERED_RETURNS}) GROUP BY 1"
    return {key: rate for key, rate, _ in con.execute(sql).fetchall()}


def broken_return_rules(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    counts = {rule: scalar(con, sql) for rule, sql in RETURNS_RULES.items()}
    return {rule: n for rule, n in counts.items() if n}


def test_returns_agree_with_the_orders_in_the_sample(db):
    assert broken_return_rules(db) == {}
    shapes = db.execute("""
        WITH lines AS (SELECT order_id, count(*) AS lines FROM order_items GROUP BY 1),
             rows AS (SELECT order_id, count(*) AS n FROM returns GROUP BY 1)
        SELECT count(*) FILTER (WHERE r.sku_id IS NULL),
               count(*) FILTER (WHERE r.quantity < i.quantity
                                   OR (l.lines > 1 AND w.n = 1 AND r.sku_id IS NOT NULL)),
               count(*) FILTER (WHERE w.n > 1),
               count(*) FILTER (WHERE r.refunded_time IS NULL),
               count(*) FILTER (WHERE r.requested_time > o.paid_time + INTERVAL 30 DAY)
        FROM returns r JOIN orders o USING (order_id) JOIN lines l USING (order_id)
        JOIN rows w USING (order_id) LEFT JOIN order_items i USING (order_id, sku_id)
    """).fetchone()
    whole, partial, itemised, open_, after_window = shapes
    assert min(whole, partial, itemised, open_) >= 30, shapes
    assert 5 <= after_window <= 0.1 * scalar(db, "SELECT count(*) FROM returns")
    # requests follow delivery (bar a parcel still on the road, or one refunded at the very end)
    before = """SELECT count(*) FROM returns r JOIN shipments s USING (order_id)
                WHERE r.requested_time < s.delivered_time"""
    assert scalar(db, before) <= 0.01 * scalar(db, "SELECT count(*) FROM returns")


def test_returns_agree_with_the_orders_in_small_shops(known_truth):
    # with and without the planted abusers (refund abusers' orders are refunded too)
    for name, con in known_truth.items():
        assert broken_return_rules(con) == {}, name
        assert scalar(con, "SELECT count(*) FROM returns") > 0, name


def test_late_deliveries_are_returned_more(db, known_truth):
    rate = return_rates(db, "band")
    assert rate[0] < rate[1] < rate[2] and rate[2] >= 1.7 * rate[0], rate
    small = return_rates(known_truth["plain"], "band")  # a small shop shows it as well
    assert small[2] >= 1.3 * small[0], small
    # and they come back for being late
    share = dict(
        db.execute(f"""
        SELECT d.band, avg((r.reason = 'late_delivery')::INT)
        FROM ({DELIVERED_RETURNS}) d JOIN returns r USING (order_id) GROUP BY 1
    """).fetchall()
    )
    assert share[2] >= 0.3 and share[0] <= 0.1, share


def test_return_rates_differ_by_carrier_and_category(db):
    by_carrier = return_rates(db, "carrier")
    assert len(by_carrier) == len(simulate.CARRIERS)
    assert max(by_carrier.values()) >= 1.3 * min(by_carrier.values()), by_carrier
    by_category = dict(
        db.execute("""
        SELECT p.category, avg((o.order_id IN (SELECT order_id FROM returns))::INT)
        FROM orders o JOIN order_items i USING (order_id) JOIN products p USING (sku_id)
        WHERE o.status IN ('paid', 'refunded') GROUP BY 1
    """).fetchall()
    )
    assert by_category["womens_apparel"] >= 2 * by_category["snacks"], by_category
    reasons = {r[0] for r in db.execute("SELECT DISTINCT reason FROM returns").fetchall()}
    assert reasons == {*simulate.RETURN_REASONS, None}


def test_refund_delays_have_a_long_tail(db):
    p50, p90 = db.execute("""
        SELECT quantile_cont(h, 0.5), quantile_cont(h, 0.9) FROM
        (SELECT epoch(refunded_time - requested_time) / 3600 AS h FROM returns
         WHERE refunded_time IS NOT NULL)
    """).fetchone()
    assert 20 <= p50 <= 45 and 80 <= p90 <= 200, (p50, p90)


def table_digest(table: pa.Table) -> str:
    """A fingerprint of a table's schema and values, in row order."""
    digest = hashlib.sha256(str(table.schema.remove_metadata()).encode())
    for column in table.columns:
        digest.update(repr(column.to_pylist()).encode())
    return digest.hexdigest()


# The other tables of a small planted shop (seed 3, 20,000 events, the sample's incident, abusers
# and bots) as the simulator wrote them before it wrote returns: returns come from a random
# stream of their own and are derived last, so none of them may move.
DIGESTS_BEFORE_RETURNS: dict[str, str] = {
    "events": "a25cbc095ea7a8d47fa3092da1c7c7df035b0e3740689a4c2b4226d08d5dc31e",
    "orders": "f58ad21e07c75c89ffa8bbbf0fc6c198621be6ef326311a94803bd317c2259dd",
    "order_items": "c240daa661f3c3ef54566b3c2e9f0004ef2f8d281c5d1c60c6aab26cf0c68029",
    "products": "0ec79f758ae19e257764114dbfbd15c6d89469f114191d6eae920949d199167f",
    "users": "45369808f7821d5cf5ebeaee312496264cb3268c1deff99d0048b2d245dec9b8",
    "marketing_spend": "0a53468793b8a4267f0251ff65285390a0812ad0cdae7832289d7c325ed15448",
    "costs": "376ba3a4d37a764f449537d0e4dc4737646cef0dfbbe1af3ea017cf19a2ef84e",
    "reviews": "4597daf113b63d08447145f3cb9d36ad87a06a0e175ccd68b503d7234c3bc99a",
    "inventory": "af3c1acd859030f980249e6ff4347ccc8c422d7d380ec3583b9eeeb2b067facc",
    "purchase_orders": "a85d7fbd5c5eed38baa67595aad98e3ab03644c6a387e28d8f1a5c4b094bb9ef",
    "shipments": "7fee45cc383adb2846e6c325cc51425493f6b4e24580096f4278f30400fa02ad",
}


@pytest.mark.parametrize("journeys", [False, True])
def test_returns_leave_every_other_table_as_it_was(tmp_path, journeys):
    # and so do the journeys (issue 18): without them the events are those of before, with
    # them every other table is; and without the products bought together (issue 19) nothing
    # moves either
    simulate.generate(
        tmp_path,
        seed=3,
        target_events=20_000,
        incidents=simulate.SAMPLE_INCIDENTS,
        abusers=simulate.SAMPLE_ABUSERS,
        journeys=journeys,
        bought_together=False,
    )
    digests = {
        name: table_digest(pq.read_table(tmp_path / f"{name}.parquet"))
        for name in EVENTS_SHOP_TABLES
        if name != "returns" and not (journeys and name == "events")
    }
    expected = dict(DIGESTS_BEFORE_RETURNS)
    if journeys:
        del expected["events"]
    assert digests == expected


# ---------------------------------------------------- journeys: search and detour (issue 18)
SESSIONS_WITH = """
    SELECT session_id, bool_or(event_name = 'search') AS searched,
           bool_or(event_name = 'view_item') AS viewed,
           bool_or(event_name = 'add_to_cart') AS carted,
           bool_or(event_name = 'begin_checkout') AS checked_out,
           bool_or(event_name = 'view_cart') AS detoured,
           bool_or(event_name = 'purchase') AS paid
    FROM events GROUP BY 1
"""


def test_searching_sessions_add_to_cart_more(db):
    share, carted_s, carted_n = db.execute(
        f"""SELECT avg(searched::INT), avg(carted::INT) FILTER (WHERE searched),
                   avg(carted::INT) FILTER (WHERE NOT searched)
            FROM ({SESSIONS_WITH}) WHERE viewed"""
    ).fetchone()
    assert share == pytest.approx(simulate.SEARCH_SHARE, abs=0.01)
    assert carted_s / carted_n == pytest.approx(simulate.SEARCH_CART_LIFT, abs=0.1)
    # searches only in sessions with a view_item, before the first one, and without a SKU
    misplaced = """
        WITH s AS (SELECT session_id,
                          min(event_time) FILTER (WHERE event_name = 'search') AS searched,
                          min(event_time) FILTER (WHERE event_name = 'view_item') AS viewed,
                          count(*) FILTER (WHERE event_name = 'search') AS searches
                   FROM events GROUP BY 1)
        SELECT count(*) FROM s WHERE searched IS NOT NULL
            AND (viewed IS NULL OR searched >= viewed OR searches > 1)"""
    assert scalar(db, misplaced) == 0
    assert scalar(db, "SELECT count(sku_id) FROM events WHERE event_name = 'search'") == 0


def test_checkout_detours_go_back_to_the_cart_and_pay_less(db):
    share, paid_d, paid_n = db.execute(
        f"""SELECT avg(detoured::INT), avg(paid::INT) FILTER (WHERE detoured),
                   avg(paid::INT) FILTER (WHERE NOT detoured)
            FROM ({SESSIONS_WITH}) WHERE checked_out"""
    ).fetchone()
    assert share == pytest.approx(simulate.CHECKOUT_DETOUR_SHARE, abs=0.01)
    assert paid_d / paid_n == pytest.approx(simulate.CHECKOUT_DETOUR_PAY_MULT, abs=0.05)
    # the loop: begin_checkout -> view_cart -> begin_checkout (-> purchase or the end)
    steps = db.execute(
        """SELECT prev, next, count(*) FROM (
               SELECT event_name,
                      lag(event_name) OVER (PARTITION BY session_id ORDER BY event_time) AS prev,
                      lead(event_name) OVER (PARTITION BY session_id ORDER BY event_time) AS next
               FROM events) WHERE event_name = 'view_cart' GROUP BY ALL"""
    ).fetchall()
    assert {(prev, nxt) for prev, nxt, _ in steps} <= {
        ("begin_checkout", "begin_checkout"),
        ("begin_checkout", None),  # its repeat fell after the window end
    }
    assert sum(n for prev, nxt, n in steps if nxt is None) <= 5
    repeats = """SELECT count(*) - count(DISTINCT session_id) FROM events
                 WHERE event_name = 'begin_checkout'"""
    view_carts = "SELECT count(*) FROM events WHERE event_name = 'view_cart'"
    assert 0 <= scalar(db, view_carts) - scalar(db, repeats) <= 5


def _shops_with_and_without(tmp_path_factory, feature: str) -> dict[bool, Path]:
    """Two small shops of one seed, ``feature`` (a switch of ``simulate.generate``) off and on."""
    base = tmp_path_factory.mktemp(feature)
    for on in (False, True):
        simulate.generate(base / str(on), seed=5, target_events=150_000, **{feature: on})
    return {on: base / str(on) for on in (False, True)}


@pytest.fixture(scope="module")
def journeys_on_off(tmp_path_factory) -> dict[bool, Path]:
    return _shops_with_and_without(tmp_path_factory, "journeys")


def test_journeys_only_add_events(journeys_on_off):
    off, on = journeys_on_off[False], journeys_on_off[True]
    for name in EVENTS_SHOP_TABLES:
        if name != "events":
            assert pq.read_table(on / f"{name}.parquet").equals(
                pq.read_table(off / f"{name}.parquet")
            ), name
    plain = pq.read_table(off / "events.parquet")
    events = pq.read_table(on / "events.parquet")
    # drop the searches, view_carts and repeated checkouts: what is left is the plain walk,
    # in the same file order
    frame = events.select(["session_id", "event_name"]).to_pandas()
    checkout = frame["event_name"] == "begin_checkout"
    again = checkout & (frame[checkout].groupby("session_id").cumcount() > 0).reindex(
        frame.index, fill_value=False
    )
    walk = ~frame["event_name"].isin(simulate.JOURNEY_EVENTS) & ~again
    assert events.filter(pa.array(walk.to_numpy())).equals(plain)
    assert (~walk).sum() > 0
    # the data contract lists the journeys' event names
    assert set(simulate.JOURNEY_EVENTS) <= set(data.EVENT_NAMES)


def test_cli_switches_journeys_off(tmp_path):
    assert simulate.main(["--out", str(tmp_path), "--events", "20000", "--no-journeys"]) == 0
    names = pq.read_table(tmp_path / "events.parquet", columns=["event_name"]).column(0)
    assert not set(names.to_pylist()) & set(simulate.JOURNEY_EVENTS)


# ------------------------------------------------------ products bought together (issue 19)
def together_rates(con: duckdb.DuckDBPyConnection, pairs: list[tuple[str, str]]) -> dict:
    """Per planted pair (and None: all of them): ``(orders with A, of which with B)``."""
    values = ", ".join(f"('{a}', '{b}')" for a, b in pairs)
    rows = con.execute(f"""
        WITH p(sku_a, sku_b) AS (VALUES {values})
        SELECT p.sku_a, count(*), count(b.order_id)
        FROM order_items a JOIN p ON a.sku_id = p.sku_a
        LEFT JOIN order_items b ON b.order_id = a.order_id AND b.sku_id = p.sku_b
        GROUP BY ROLLUP (1)""").fetchall()
    return {sku: (n, with_b) for sku, n, with_b in rows}


def test_bought_together_pairs_are_popular_skus_of_complementary_categories(sample):
    pairs = simulate.bought_together_pairs()
    assert pairs == simulate.bought_together_pairs(seed=42)  # deterministic
    assert len(pairs) == simulate.BOUGHT_TOGETHER_PAIRS
    skus = [sku for pair in pairs for sku in pair]
    assert len(set(skus)) == len(skus)  # a SKU is in one pair at most: no chains
    category = dict(
        zip(
            sample["products"].column("sku_id").to_pylist(),
            sample["products"].column("category").to_pylist(),
            strict=True,
        )
    )
    expected = simulate.BOUGHT_TOGETHER_CATEGORIES[: simulate.BOUGHT_TOGETHER_PAIRS]
    assert [(category[a], category[b]) for a, b in pairs] == list(expected)
    # the anchors sell: each is in the top 3 of its category by order lines in the sample
    lines = pa.TableGroupBy(sample["order_items"], "sku_id").aggregate([("order_id", "count")])
    sold = dict(zip(lines["sku_id"].to_pylist(), lines["order_id_count"].to_pylist(), strict=True))
    for a, _ in pairs:
        rivals = sorted((n for s, n in sold.items() if category[s] == category[a]), reverse=True)
        assert sold[a] >= rivals[min(2, len(rivals) - 1)], a
    # fewer pairs: the first anchors (companions may differ: fewer SKUs are taken)
    assert [a for a, _ in simulate.bought_together_pairs(n_pairs=3)] == [a for a, _ in pairs[:3]]
    with pytest.raises(ValueError):
        simulate.bought_together_pairs(n_pairs=len(simulate.BOUGHT_TOGETHER_CATEGORIES) + 1)


def test_orders_with_a_get_b_at_the_planted_rate(db, known_truth):
    rate = simulate.BOUGHT_TOGETHER_RATE
    # the sample: every pair, and all of them at once
    got = together_rates(db, simulate.bought_together_pairs())
    n, with_b = got[None]
    assert n >= 500 and with_b / n == pytest.approx(rate, abs=0.05), got
    assert all(b / a == pytest.approx(rate, abs=0.2) for a, b in got.values()), got
    # a small shop (seed 11, 300,000 events), with and without the planted abusers
    pairs = simulate.bought_together_pairs(11, KNOWN_TRUTH_EVENTS)
    for name, con in known_truth.items():
        n, with_b = together_rates(con, pairs)[None]
        assert n >= 150 and with_b / n == pytest.approx(rate, abs=0.08), (name, n, with_b)


def test_companion_lines_are_carted_with_their_anchor(db):
    # every line of an order was added to the cart in the order's session (its checkout is the
    # order_time), and a companion B at the very instant of its anchor A
    session_of = """
        SELECT o.order_id, e.session_id FROM orders o JOIN events e
            ON e.user_id = o.user_id AND e.event_time = o.order_time
           AND e.event_name = 'begin_checkout'"""
    uncarted = f"""
        WITH s AS ({session_of})
        SELECT count(*) FROM order_items i JOIN s USING (order_id) WHERE NOT EXISTS (
            SELECT 1 FROM events e WHERE e.session_id = s.session_id
               AND e.event_name = 'add_to_cart' AND e.sku_id = i.sku_id)"""
    assert scalar(db, uncarted) == 0
    pairs = simulate.bought_together_pairs()
    values = ", ".join(f"('{a}', '{b}')" for a, b in pairs)
    apart = f"""
        WITH p(sku_a, sku_b) AS (VALUES {values}), s AS ({session_of}),
             c AS (SELECT session_id, sku_id, event_time FROM events
                   WHERE event_name = 'add_to_cart')
        SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (
            SELECT 1 FROM c ca JOIN c cb USING (session_id, event_time)
            WHERE ca.session_id = s.session_id AND ca.sku_id = p.sku_a
              AND cb.sku_id = p.sku_b))
        FROM order_items a JOIN p ON a.sku_id = p.sku_a
        JOIN order_items b ON b.order_id = a.order_id AND b.sku_id = p.sku_b
        JOIN s ON s.order_id = a.order_id"""
    both, not_together = db.execute(apart).fetchone()
    # orders with both where B was the shopper's own pick may have it carted at another time
    assert both >= 300 and not_together <= 0.1 * both, (both, not_together)


@pytest.fixture(scope="module")
def together_on_off(tmp_path_factory) -> dict[bool, Path]:
    return _shops_with_and_without(tmp_path_factory, "bought_together")


def test_bought_together_only_adds_lines_and_their_cart_events(together_on_off):
    off, on = together_on_off[False], together_on_off[True]
    read = {
        (name, flag): pq.read_table(path / f"{name}.parquet")
        for name in EVENTS_SHOP_TABLES
        for flag, path in ((False, off), (True, on))
    }
    for name in ("products", "users"):
        assert read[(name, True)].equals(read[(name, False)]), name
    con = duckdb.connect()
    for (name, flag), table in read.items():
        con.register(f"{name}_{'on' if flag else 'off'}", table)
    added_lines = scalar(con, "SELECT count(*) FROM order_items_on") - scalar(
        con, "SELECT count(*) FROM order_items_off"
    )
    assert added_lines > 0
    # the walk's lines, orders' statuses and times, and events stay; companions are added
    kept = {
        "order_items": "SELECT * FROM order_items_off EXCEPT ALL SELECT * FROM order_items_on",
        "events": "SELECT * FROM events_off EXCEPT ALL SELECT * FROM events_on",
        "orders": """SELECT order_id, user_id, order_time, paid_time, status, channel
                     FROM orders_off EXCEPT ALL SELECT order_id, user_id, order_time, paid_time,
                     status, channel FROM orders_on""",
        "reviews": "SELECT * FROM reviews_off EXCEPT ALL SELECT * FROM reviews_on",
    }
    for name, sql in kept.items():
        assert scalar(con, f"SELECT count(*) FROM ({sql})") == 0, name
    added_events = con.execute(
        "SELECT event_name, count(*) FROM (SELECT * FROM events_on EXCEPT ALL "
        "SELECT * FROM events_off) GROUP BY 1"
    ).fetchall()
    assert added_events == [("add_to_cart", added_lines)]
    pairs = simulate.bought_together_pairs(5, 150_000)
    companions = "(" + ", ".join(f"'{b}'" for _, b in pairs) + ")"
    new_lines = """SELECT * FROM order_items_on EXCEPT ALL SELECT * FROM order_items_off"""
    assert scalar(con, f"SELECT count(*) FROM ({new_lines}) WHERE sku_id NOT IN {companions}") == 0
    # and the amounts follow the lines: paid = lines - discount, coupons only above threshold
    mismatch = """
        SELECT count(*) FROM orders_on o
        JOIN (SELECT order_id, sum(quantity * unit_price) AS gross
              FROM order_items_on GROUP BY order_id) i USING (order_id)
        WHERE abs(o.paid_amount - (i.gross - o.discount_amount)) > 0.011
           OR (o.coupon_id IS NULL) <> (o.discount_amount = 0) OR o.paid_amount < 0"""
    assert scalar(con, mismatch) == 0
    for flag in ("on", "off"):
        for table in ("events", "order_items", "reviews"):
            sql = f"""SELECT count(*) FROM {table}_{flag}
                      WHERE sku_id IS NOT NULL AND sku_id NOT IN (SELECT sku_id FROM products_on)"""
            assert scalar(con, sql) == 0, (flag, table)


def test_cli_switches_bought_together_off(tmp_path):
    # off, the small planted shop is exactly what it was before issue 19
    args = ["--out", str(tmp_path), "--events", "20000", "--seed", "3", "--abusers"]
    args += ["--incident", "purchase,2025-10-20,2025-10-24,0.4", "--no-journeys"]
    assert simulate.main([*args, "--no-bought-together"]) == 0
    digests = {
        name: table_digest(pq.read_table(tmp_path / f"{name}.parquet"))
        for name in EVENTS_SHOP_TABLES
        if name != "returns"
    }
    assert digests == DIGESTS_BEFORE_RETURNS
