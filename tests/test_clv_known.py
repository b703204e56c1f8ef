"""The simulator's known-CLV cohort (issue 19): customers whose purchases follow BG/NBD and whose
spend follows Gamma-Gamma with known parameters (lib/simulate.py, ``known_clv``), and lib.clv
recovering them from the cohort's orders.

The shops are small (``target_events=150_000``, ~3,300 ordinary users) with a larger cohort
than the sample's (4,000 customers instead of 500), so that the fit is tighter and the test
fast (a shop takes ~0.6 s).

Tolerances, measured first: the same shop with seeds 1-12 (benchmarks/clv_known_spread.py),
fitted on the orders up to 2025-11-14. Mean (standard
deviation) over the 12 fits, against the truth:

    r      0.431 (0.021)   truth 0.4       alpha   6.76 (0.47)   truth 6.0 weeks
    a/(a+b) 0.181 (0.025)  truth 0.2       r/alpha 0.0639 (0.0022)  truth 0.0667 per week
    p      3.78 (0.30)     truth 4         q       5.53 (0.47)   truth 5
    v      315 (50)        truth 250       p v / (q - 1)  260.2 (5.4)  truth 250 CNY
    a      0.67 (0.43)     truth 0.7       b       3.1 (2.2)     truth 2.8

Each tolerance is 4 of those standard deviations around the truth: the sampling error of one
fit, with room for the small biases the means show (1.3 to 1.9 standard deviations: the model
sees local purchase days, so two purchases of one day are one, worth their sum, and recency and
T are whole days; and maximum likelihood is biased in samples this size). ``a`` and ``b`` alone
are not pinned down by ~15 weeks of data (their spread is as large as they are), so the
dropout is checked through its mean a / (a + b). With a 30-day holdout the model's error was
below the naive baseline's in all 12 shops, in total (54 vs 167 purchases on average) and per
calibration frequency (85 vs 796).
"""

from __future__ import annotations

import duckdb
import ibis
import numpy as np
import pyarrow.parquet as pq
import pytest

from lib import clv, simulate
from lib.periods import Period

EVENTS = 150_000
CUSTOMERS = 4_000
SEED = 3
END = Period("2025-10-15", "2025-11-14", "Asia/Shanghai")  # the default report range
TRUE = {**simulate.KNOWN_CLV_BGNBD, **simulate.KNOWN_CLV_GAMMA_GAMMA}
# 4 standard deviations of the fit over seeds 1-12 (module docstring)
TOLERANCE = {
    "r": 4 * 0.021,
    "alpha": 4 * 0.47,
    "dropout": 4 * 0.025,
    "rate": 4 * 0.0022,
    "p": 4 * 0.30,
    "q": 4 * 0.47,
    "v": 4 * 50.0,
    "spend": 4 * 5.4,
}
TABLES = ("events", "orders", "order_items", "users", "products", "shipments")


@pytest.fixture(scope="module")
def shops(tmp_path_factory) -> dict[bool, duckdb.DuckDBPyConnection]:
    """The same small shop with and without the cohort."""
    base = tmp_path_factory.mktemp("known_clv")
    found = {}
    for on in (False, True):
        out = base / str(on)
        simulate.generate(out, seed=SEED, target_events=EVENTS, known_clv=CUSTOMERS if on else 0)
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        for name in TABLES:
            con.register(name, pq.read_table(out / f"{name}.parquet"))
        found[on] = con
    return found


@pytest.fixture(scope="module")
def cohort_orders(shops) -> ibis.Table:
    ids = simulate.known_clv_users(EVENTS, customers=CUSTOMERS)
    frame = shops[True].execute("SELECT * FROM orders").df()
    return ibis.memtable(frame[frame["user_id"].isin(ids)])


def scalar(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


def test_cohort_ids_follow_the_ordinary_and_planted_users():
    # 50,000 ordinary users and the sample's 10 planted abusers and bots: U00050011 on
    ids = simulate.known_clv_users()
    assert len(ids) == simulate.KNOWN_CLV_CUSTOMERS
    assert ids[0] == "U00050011" and ids[-1] == f"U{50_010 + simulate.KNOWN_CLV_CUSTOMERS:08d}"
    assert simulate.known_clv_users(EVENTS) == []  # off by default with target_events
    n_users = round(EVENTS / simulate.EVENTS_PER_USER)  # 3,319 ordinary users, no abusers
    assert simulate.known_clv_users(EVENTS, customers=2)[0] == f"U{n_users + 1:08d}"


def test_every_cohort_user_signs_up_with_a_paid_order(shops):
    con = shops[True]
    ids = simulate.known_clv_users(EVENTS, customers=CUSTOMERS)
    con.register("cohort", ibis.memtable({"user_id": ids}).to_pyarrow())
    assert scalar(con, "SELECT count(*) FROM users JOIN cohort USING (user_id)") == CUSTOMERS
    # the first order is paid and placed in the first session, which is the signup
    late = """
        WITH f AS (SELECT user_id, min(paid_time) AS t FROM orders JOIN cohort USING (user_id)
                   WHERE status = 'paid' GROUP BY 1),
             s AS (SELECT user_id, min(event_time) AS t FROM events JOIN cohort USING (user_id)
                   GROUP BY 1)
        SELECT count(*) FILTER (WHERE f.t IS NULL),
               count(*) FILTER (WHERE s.t < u.signup_time),
               max(epoch(f.t - u.signup_time)),
               max(epoch(u.signup_time) - epoch(TIMESTAMP '2025-07-31 16:00')) / 86400
        FROM users u JOIN cohort USING (user_id) LEFT JOIN f USING (user_id)
        LEFT JOIN s USING (user_id)"""
    no_purchase, before_signup, to_pay, last_signup_day = con.execute(late).fetchone()
    assert no_purchase == 0 and before_signup == 0
    assert to_pay < 3600  # the purchase ends the signup session
    assert last_signup_day < simulate.KNOWN_CLV_FIRST_DAYS  # first purchases: the first 4 weeks


def test_cohort_orders_are_complete_orders(shops):
    con = shops[True]
    ids = simulate.known_clv_users(EVENTS, customers=CUSTOMERS)
    con.register("cohort", ibis.memtable({"user_id": ids}).to_pyarrow())
    statuses = dict(
        con.execute(
            "SELECT status, count(*) FROM orders JOIN cohort USING (user_id) GROUP BY 1"
        ).fetchall()
    )
    assert set(statuses) == {"paid", "unpaid"}  # never cancelled or refunded
    # abandoned checkouts: paid / placed = KNOWN_CLV_PAY_RATE = 0.85 (no incident here);
    # binomial sd with ~10,000 orders is 0.004
    paid_share = statuses["paid"] / sum(statuses.values())
    assert paid_share == pytest.approx(simulate.KNOWN_CLV_PAY_RATE, abs=0.02)
    # paid_amount = its one line (quantity 1, priced at the drawn amount), no discount
    bad = """
        SELECT count(*) FROM orders o JOIN cohort USING (user_id)
        JOIN (SELECT order_id, count(*) AS lines, sum(quantity * unit_price) AS gross,
                     max(quantity) AS quantity
              FROM order_items GROUP BY 1) i USING (order_id)
        WHERE abs(o.paid_amount - i.gross) > 0.011 OR o.discount_amount <> 0
           OR o.coupon_id IS NOT NULL OR i.lines <> 1 OR i.quantity <> 1"""
    assert scalar(con, bad) == 0
    # the line's SKU is priced near the amount: within KNOWN_CLV_PRICE_BAND of the day's price
    # (list × the day's level, 0.85 on 11-11 .. 1, never below 1.03 × cost), but for amounts
    # beyond the catalogue's dearest or cheapest SKU (the nearest is taken then)
    band = simulate.KNOWN_CLV_PRICE_BAND
    far = f"""
        SELECT avg(CASE WHEN unit_price > {band} * greatest(list_price, 1.03 * unit_cost) + 0.01
                          OR unit_price < 0.85 * list_price / {band} - 0.01 THEN 1 ELSE 0 END)
        FROM order_items JOIN products USING (sku_id)
        WHERE order_id IN (SELECT order_id FROM orders JOIN cohort USING (user_id))"""
    assert scalar(con, far) < 0.01
    # each paid order has its session: purchase at paid_time, begin_checkout at order_time,
    # each line viewed and carted, one platform and channel (the order's)
    unmatched = """
        WITH o AS (SELECT o.* FROM orders o JOIN cohort USING (user_id)),
             p AS (SELECT session_id, user_id, event_time FROM events
                   WHERE event_name = 'purchase'),
             s AS (SELECT session_id,
                          min(event_time) FILTER (WHERE event_name = 'begin_checkout') AS co,
                          count(DISTINCT channel) AS channels, count(DISTINCT platform) AS pl,
                          any_value(channel) AS channel,
                          count(*) FILTER (WHERE event_name = 'session_start') AS starts,
                          count(*) FILTER (WHERE event_name = 'page_view') AS pages
                   FROM events GROUP BY 1)
        SELECT count(*) FROM o LEFT JOIN p ON p.user_id = o.user_id AND p.event_time = o.paid_time
        LEFT JOIN s USING (session_id)
        WHERE o.status = 'paid' AND (p.session_id IS NULL OR s.co <> o.order_time
              OR s.channels <> 1 OR s.pl <> 1 OR s.channel <> o.channel OR s.starts <> 1
              OR s.pages < 1)"""
    assert scalar(con, unmatched) == 0
    uncarted = """
        SELECT count(*) FROM orders o JOIN cohort USING (user_id)
        JOIN order_items i USING (order_id)
        WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.user_id = o.user_id
                          AND e.event_name = 'add_to_cart' AND e.sku_id = i.sku_id
                          AND e.event_time <= o.order_time
                          AND e.event_time >= o.order_time - INTERVAL 1 HOUR)"""
    assert scalar(con, uncarted) == 0
    # every paid order left the warehouse (or is about to, at the window's end)
    unshipped = """
        SELECT count(*) FROM orders o JOIN cohort USING (user_id)
        WHERE status = 'paid' AND paid_time < TIMESTAMP '2025-11-25'
          AND order_id NOT IN (SELECT order_id FROM shipments)"""
    assert scalar(con, unshipped) == 0


def test_the_ordinary_users_are_the_same_with_and_without_the_cohort(shops):
    ids = simulate.known_clv_users(EVENTS, customers=CUSTOMERS)
    off, on = shops[False], shops[True]
    for con in (off, on):
        con.register("cohort", ibis.memtable({"user_id": ids}).to_pyarrow())
    # the switch off leaves no cohort: no such user, order or session
    assert scalar(off, "SELECT count(*) FROM users JOIN cohort USING (user_id)") == 0
    assert scalar(off, "SELECT count(*) FROM orders WHERE order_id >= 'O950000000'") == 0
    assert scalar(off, "SELECT count(*) FROM events WHERE session_id >= 'S9500000000'") == 0
    # on: the cohort's orders and sessions are numbered from their own bases, and the ordinary
    # rows are unchanged (they draw from streams of their own)
    assert scalar(on, "SELECT min(order_id) FROM orders JOIN cohort USING (user_id)") == (
        f"O{simulate.KNOWN_CLV_ORDER_BASE:09d}"
    )
    for table, key in (("orders", "order_id"), ("events", "event_time, session_id, event_name")):
        sql = f"""SELECT * FROM {table} WHERE user_id NOT IN (SELECT user_id FROM cohort)
                  ORDER BY {key}, user_id"""
        a, b = off.execute(sql).df(), on.execute(sql).df()
        assert len(a) == len(b) and a.equals(b), table


def test_lib_clv_recovers_the_true_parameters(cohort_orders):
    summary = clv.customer_summary(cohort_orders, END)
    assert len(summary) == CUSTOMERS
    bg, gg = clv.fit_bgnbd(summary), clv.fit_gamma_gamma(summary)
    assert bg.r == pytest.approx(TRUE["r"], abs=TOLERANCE["r"])
    assert bg.alpha == pytest.approx(TRUE["alpha"], abs=TOLERANCE["alpha"])
    true_dropout = TRUE["a"] / (TRUE["a"] + TRUE["b"])  # 0.7 / 3.5 = 0.2
    assert bg.a / (bg.a + bg.b) == pytest.approx(true_dropout, abs=TOLERANCE["dropout"])
    true_rate = TRUE["r"] / TRUE["alpha"]  # 0.4 / 6 = 0.0667 purchases a week
    assert bg.r / bg.alpha == pytest.approx(true_rate, abs=TOLERANCE["rate"])
    assert gg.p == pytest.approx(TRUE["p"], abs=TOLERANCE["p"])
    assert gg.q == pytest.approx(TRUE["q"], abs=TOLERANCE["q"])
    assert gg.v == pytest.approx(TRUE["v"], abs=TOLERANCE["v"])
    true_spend = TRUE["p"] * TRUE["v"] / (TRUE["q"] - 1)  # 4 * 250 / 4 = 250 CNY
    spend = gg.p * gg.v / (gg.q - 1)
    assert spend == pytest.approx(true_spend, abs=TOLERANCE["spend"])
    # and a and b themselves are finite and off the search bound
    assert np.all(np.abs(np.log([bg.a, bg.b])) < clv.LOG_BOUND - 1)


def test_the_model_beats_the_naive_baseline_on_the_holdout(cohort_orders):
    # 30 days: calibration up to 10-15 (T of 7 to 11 weeks), holdout 10-16 .. 11-14
    table = clv.validation(cohort_orders, END, holdout_days=30)
    errors = clv.validation_errors(table)
    assert table["customers"].sum() == CUSTOMERS
    assert errors["model_total_error"] <= errors["naive_total_error"]
    assert errors["model_group_error"] <= errors["naive_group_error"]
    # the model's total is close to what happened: within 15 % (12 shops: 0.1-12 %)
    actual = table["actual_purchases"].sum()
    assert table["predicted_purchases"].sum() == pytest.approx(actual, rel=0.15)


def test_cli_switch(tmp_path, capsys):
    ids = simulate.known_clv_users(20_000, customers=simulate.KNOWN_CLV_CUSTOMERS)
    for flag, expected in (("--known-clv", len(ids)), ("--no-known-clv", 0)):
        out = tmp_path / flag
        simulate.main(["--out", str(out), "--events", "20000", "--seed", "1", flag])
        users = pq.read_table(out / "users.parquet", columns=["user_id"])["user_id"].to_pylist()
        assert len(set(users) & set(ids)) == expected, flag
    capsys.readouterr()
