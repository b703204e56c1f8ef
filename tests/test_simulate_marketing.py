"""Issue 20: the simulator's campaigns, A/B tests and competitor prices, and the check that a
user has one variant per experiment."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import ibis
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from lib import data, quality, simulate
from tests.test_simulate import DIGESTS_BEFORE_RETURNS, table_digest

MARKETING_TABLES = ("campaigns", "experiments", "competitor_prices")
SHOP_EVENTS = 1_000_000
LOCAL_DAY = "CAST(({} + INTERVAL 8 HOUR) AS DATE)"


@pytest.fixture(scope="module")
def shops(tmp_path_factory) -> dict[bool, Path]:
    """One small shop with the marketing effects and the same shop without them. The A/B test
    with an effect gets ratio 2 here, so that a shop this small shows it plainly."""
    base = tmp_path_factory.mktemp("marketing")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(simulate, "EXPERIMENTS", (("one_tap_checkout", 2.0), ("homepage_recs", 1.0)))
        for on in (False, True):
            simulate.generate(base / str(on), seed=7, target_events=SHOP_EVENTS, marketing=on)
    return {on: base / str(on) for on in (False, True)}


def connect(folder: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for path in folder.glob("*.parquet"):
        con.register(path.stem, pq.read_table(path))
    return con


def scalar(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


# ------------------------------------------------------------------------------ contract
def test_the_tables_follow_the_contract(shops):
    for name in MARKETING_TABLES:
        table = pq.read_table(shops[True] / f"{name}.parquet")
        assert table.schema.remove_metadata().equals(data.CONTRACT[name].arrow_schema()), name
        assert table.num_rows > 0, name
        assert simulate.SCHEMAS[name].equals(data.CONTRACT[name].arrow_schema())
    tables = {
        n: ibis.memtable(pq.read_table(shops[True] / f"{n}.parquet")) for n in MARKETING_TABLES
    }
    assert data.check_tables(tables) == []
    # campaigns' category, channel and discount_rate are optional: a table without them passes
    campaigns = data.CONTRACT["campaigns"]
    assert [c.name for c in campaigns.all_columns if c.optional] == [
        "category",
        "channel",
        "discount_rate",
    ]
    bare = pq.read_table(shops[True] / "campaigns.parquet").drop_columns(
        ["category", "channel", "discount_rate"]
    )
    assert data.check_tables({"campaigns": ibis.memtable(bare)}) == []
    assert [c.name for c in data.CONTRACT["experiments"].columns] == [
        "user_id",
        "experiment",
        "variant",
        "assigned_time",
    ]
    assert [c.name for c in data.CONTRACT["competitor_prices"].columns] == [
        "date",
        "sku_id",
        "competitor",
        "price",
    ]


def test_off_writes_none_of_them_and_leaves_the_shop_as_it_was(tmp_path, shops):
    assert not any((shops[False] / f"{n}.parquet").exists() for n in MARKETING_TABLES)
    # the small planted shop of tests/test_simulate.py, with marketing off: the same tables
    simulate.generate(
        tmp_path,
        seed=3,
        target_events=20_000,
        incidents=simulate.SAMPLE_INCIDENTS,
        abusers=simulate.SAMPLE_ABUSERS,
        journeys=False,
        bought_together=False,
        marketing=False,
    )
    digests = {
        name: table_digest(pq.read_table(tmp_path / f"{name}.parquet"))
        for name in DIGESTS_BEFORE_RETURNS
    }
    assert digests == DIGESTS_BEFORE_RETURNS


def test_nothing_moves_before_the_first_effect_day(shops):
    # the effects start on 10-15 local (16:00 UTC on 10-14); every row before is the same
    cut = "TIMESTAMP '2025-10-14 16:00:00'"
    for table, time in (("events", "event_time"), ("orders", "order_time")):
        sql = f"SELECT * FROM {table} WHERE {time} < {cut} ORDER BY ALL"
        before = [connect(shops[on]).execute(sql).to_arrow_table() for on in (False, True)]
        assert before[0].num_rows > 0
        assert before[0].equals(before[1]), table


def test_cli_switch(tmp_path):
    assert simulate.main(["--out", str(tmp_path / "on"), "--events", "5000", "--marketing"]) == 0
    assert all((tmp_path / "on" / f"{n}.parquet").exists() for n in MARKETING_TABLES)
    assert simulate.main(["--out", str(tmp_path / "off"), "--events", "5000"]) == 0
    assert not any((tmp_path / "off" / f"{n}.parquet").exists() for n in MARKETING_TABLES)


# ----------------------------------------------------------------------------- campaigns
def test_the_multipliers_by_day_and_sku():
    cat = simulate._make_catalog(400, np.random.default_rng(0))
    market = simulate._Market(cat, np.zeros((0, 2), np.int64), np.random.default_rng(1))
    day = lambda x: (x - simulate.START_DATE).days  # noqa: E731
    promo = cat.cat == simulate.CAT_NAMES.index(simulate.PROMO_CATEGORY)
    assert market.atc_mult(day(date(2025, 10, 14))) is None  # before everything: untouched
    first = market.atc_mult(day(date(2025, 10, 15)))  # promotion day 1, price war day 1
    # promoted SKUs 1.6, undercut ones 0.7 (never promoted ones), the rest 1
    assert set(first[promo]) == {1.6}
    assert set(first[market.undercut]) == {0.7}
    assert set(first[~promo & ~market.undercut]) == {1.0}
    assert set(market.atc_mult(day(date(2025, 10, 24)))[promo]) == {1.6}  # the last day
    # the dip: 10-25 .. 10-31 (7 days) at 0.7, then back to 1 (undercut SKUs stay 0.7)
    assert set(market.atc_mult(day(date(2025, 10, 25)))[promo]) == {0.7}
    assert set(market.atc_mult(day(date(2025, 10, 31)))[promo]) == {0.7}
    later = market.atc_mult(day(date(2025, 11, 1)))
    assert set(later[promo]) == {1.0} and set(later[market.undercut]) == {0.7}
    assert not (promo & market.undercut).any()
    # tracked: the ceil(15 %) most popular SKUs of each category; the 3 hits are not undercut
    weight = np.diff(np.concatenate([[0.0], cat.cum_w]))
    for c in range(len(simulate.CATEGORIES)):
        idx = np.flatnonzero(cat.cat == c)
        top = idx[np.argsort(-weight[idx], kind="stable")]
        k = int(np.ceil(0.15 * len(idx)))
        assert set(market.tracked[cat.cat[market.tracked] == c]) == set(top[:k])
        assert not market.undercut[top[:3]].any()


def test_promotion_orders_carry_its_discount(shops):
    con = connect(shops[True])
    coupons = ", ".join(f"('{c}', {v})" for c, _, v, _, _ in simulate.COUPONS)
    # discount = the coupon's value + 20 % of the order's digital_accessories lines when it was
    # placed in a session of 10-15..10-24 (an order placed after midnight may fall on 10-25)
    rows = con.execute(
        f"""WITH c(coupon_id, value) AS (VALUES {coupons}),
           promo AS (SELECT order_id, round(0.2 * sum(quantity * unit_price), 2) AS off
                     FROM order_items JOIN products USING (sku_id)
                     WHERE category = 'digital_accessories' GROUP BY 1)
        SELECT o.order_id, {LOCAL_DAY.format("o.order_time")} AS day,
               o.discount_amount - coalesce(c.value, 0) AS extra, coalesce(p.off, 0) AS off
        FROM orders o LEFT JOIN c USING (coupon_id) LEFT JOIN promo p USING (order_id)"""
    ).df()
    extra = rows[rows["extra"].abs() > 0.001]
    assert len(extra) >= 5
    assert (extra["extra"] - extra["off"]).abs().max() < 0.011
    assert extra["day"].between(pd.Timestamp("2025-10-15"), pd.Timestamp("2025-10-25")).all()
    inside = rows[rows["day"].between(pd.Timestamp("2025-10-16"), pd.Timestamp("2025-10-24"))]
    assert ((inside["off"] > 0) == (inside["extra"].abs() > 0.001)).all()
    # off: no discount without a coupon
    assert scalar(connect(shops[False]), "SELECT count(*) FROM orders WHERE "
                  "(coupon_id IS NULL) <> (discount_amount = 0)") == 0  # fmt: skip


def cart_rates(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """add_to_cart / view_item events of digital_accessories and the rest, by window."""
    return (
        con.execute(
            f"""SELECT CASE WHEN d BETWEEN DATE '2025-09-17' AND DATE '2025-10-14' THEN 'before'
                        WHEN d BETWEEN DATE '2025-10-15' AND DATE '2025-10-24' THEN 'promo'
                        WHEN d BETWEEN DATE '2025-10-25' AND DATE '2025-10-31' THEN 'dip' END AS w,
                   category = 'digital_accessories' AS promoted,
                   count(*) FILTER (WHERE event_name = 'add_to_cart')
                   / count(*) FILTER (WHERE event_name = 'view_item') AS rate
            FROM (SELECT *, {LOCAL_DAY.format("event_time")} AS d FROM events)
            JOIN products USING (sku_id) WHERE w IS NOT NULL GROUP BY ALL"""
        )
        .df()
        .pivot(index="w", columns="promoted", values="rate")
    )


def test_promotion_lifts_carting_then_dips(shops):
    # ratio of ratios: the category's cart rate against the rest, window over the 4 weeks
    # before. Planted 1.6 and 0.7; without the effects about 1. This shop has ~1,000 views of
    # the category in the promotion: the log of the ratio has a standard error of ~0.1.
    found = {}
    for on in (False, True):
        r = cart_rates(connect(shops[on]))
        found[on] = {w: (r.loc[w, True] / r.loc["before", True]) / (
            r.loc[w, False] / r.loc["before", False]) for w in ("promo", "dip")}  # fmt: skip
    assert found[True]["promo"] == pytest.approx(1.6, rel=0.25), found
    assert found[True]["dip"] == pytest.approx(0.7, rel=0.3), found
    assert found[False]["promo"] == pytest.approx(1.0, rel=0.25), found
    assert found[True]["promo"] > 1.25 * found[False]["promo"]
    assert found[True]["dip"] < 0.85 * found[False]["dip"]


def test_campaigns_list_the_planted_promotion_and_the_calendar(shops):
    frame = pq.read_table(shops[True] / "campaigns.parquet").to_pandas()
    assert list(frame["campaign_id"]) == [f"CMP00{i}" for i in range(1, 7)]
    promo = frame.iloc[0]
    assert (promo["start_date"], promo["end_date"]) == (date(2025, 10, 15), date(2025, 10, 24))
    assert (promo["kind"], promo["category"], promo["discount_rate"]) == (
        "promotion",
        "digital_accessories",
        0.2,
    )
    assert set(frame["kind"]) == set(data.CAMPAIGN_KINDS)
    assert (frame["start_date"] <= frame["end_date"]).all()


# ------------------------------------------------------------------- competitor prices
def test_competitors_undercut_some_skus_from_the_price_war(shops):
    con = connect(shops[True])
    gap = """SELECT date, sku_id, count(*) AS sellers,
                    any_value(list_price) / min(price) AS ratio
             FROM competitor_prices JOIN products USING (sku_id) GROUP BY 1, 2"""
    per = con.execute(
        f"""SELECT date >= DATE '2025-10-15' AS war, ratio > 1.1 AS under,
                   count(DISTINCT sku_id) AS skus, min(ratio) AS lo, max(ratio) AS hi,
                   min(sellers) AS fewest, max(sellers) AS most
            FROM ({gap}) GROUP BY ALL ORDER BY ALL"""
    ).fetchall()
    # before 10-15 nobody is more than 10 % cheaper (list / cheapest <= 1 / 0.93 = 1.075);
    # from then on the undercut SKUs are >= 1 / 0.87 = 1.149 every day, the others <= 1.075
    (pre, lo_pre, hi_pre), (war, lo_war, hi_war), (cut, lo_cut, hi_cut) = (
        ((w, u), lo, hi) for w, u, _, lo, hi, _, _ in per
    )
    assert (pre, war, cut) == ((False, False), (True, False), (True, True))
    assert hi_pre <= 1 / 0.93 + 0.001 and hi_war <= 1 / 0.93 + 0.001
    assert lo_cut >= 1 / 0.87 - 0.001
    assert all(row[5] >= 1 and row[6] <= 3 for row in per)
    # every day of the window, the same SKUs
    assert scalar(con, "SELECT count(DISTINCT date) FROM competitor_prices") == 120
    undercut = {
        r[0]
        for r in con.execute(f"SELECT DISTINCT sku_id FROM ({gap}) WHERE ratio > 1.1").fetchall()
    }
    pairs = {s for pair in simulate.bought_together_pairs(7, SHOP_EVENTS) for s in pair}
    assert undercut and not undercut & pairs


def test_undercut_skus_are_carted_less(shops):
    # view -> add_to_cart of the undercut SKUs against the other tracked SKUs, in the price war
    # (10-15..11-14) over before it (09-15..10-14): planted 0.7; without the effects ~1
    sql = f"""
        WITH cut AS (SELECT DISTINCT sku_id FROM competitor_prices JOIN products USING (sku_id)
                     WHERE list_price / price > 1.1)
        SELECT sku_id IN (SELECT sku_id FROM cut) AS undercut, d >= DATE '2025-10-15' AS war,
               count(*) FILTER (WHERE event_name = 'add_to_cart')
               / count(*) FILTER (WHERE event_name = 'view_item') AS rate
        FROM (SELECT *, {LOCAL_DAY.format("event_time")} AS d FROM events)
        WHERE sku_id IN (SELECT sku_id FROM competitor_prices)
          AND d BETWEEN DATE '2025-09-15' AND DATE '2025-11-14' GROUP BY ALL"""
    found = {}
    for flag in (False, True):
        con = connect(shops[flag])
        con.register("competitor_prices", pq.read_table(shops[True] / "competitor_prices.parquet"))
        r = {(u, w): rate for u, w, rate in con.execute(sql).fetchall()}
        found[flag] = (r[(True, True)] / r[(True, False)]) / (r[(False, True)] / r[(False, False)])
    assert found[True] == pytest.approx(0.7, rel=0.2), found
    assert found[False] == pytest.approx(1.0, rel=0.2), found


# ------------------------------------------------------------------------------ A/B tests
def test_every_user_of_the_window_is_assigned_once_at_the_first_session(shops):
    con = connect(shops[True])
    first = f"""SELECT user_id, min(event_time) AS t FROM events
                WHERE event_name = 'session_start'
                  AND {LOCAL_DAY.format("event_time")} BETWEEN DATE '2025-10-15'
                      AND DATE '2025-11-14' GROUP BY 1"""
    for name, _ in simulate.EXPERIMENTS:
        mismatch = f"""SELECT count(*) FROM ({first}) f FULL JOIN
                       (SELECT * FROM experiments WHERE experiment = '{name}') a USING (user_id)
                       WHERE a.assigned_time IS DISTINCT FROM f.t"""
        assert scalar(con, mismatch) == 0, name
    assert (
        scalar(con, "SELECT count(*) - count(DISTINCT (user_id, experiment)) FROM experiments") == 0
    )
    split = con.execute(
        "SELECT experiment, avg((variant = 'treatment')::INT), count(*) FROM experiments GROUP BY 1"
    ).fetchall()
    for _, share, n in split:  # 50/50: within 4 standard errors of 0.5
        assert abs(share - 0.5) < 4 * (0.25 / n) ** 0.5
    assert {r[0] for r in con.execute("SELECT DISTINCT variant FROM experiments").fetchall()} == {
        "control",
        "treatment",
    }


def conversion_ratio(con: duckdb.DuckDBPyConnection, experiment: str) -> float:
    """Treatment over control: users with a paid, not cancelled order paid after assignment and
    before the window's end (11-15 00:00 local = 11-14 16:00 UTC)."""
    rates = dict(
        con.execute(
            f"""SELECT variant, avg(converted::INT) FROM (
                  SELECT a.user_id, a.variant, bool_or(o.paid_time >= a.assigned_time
                      AND o.paid_time < TIMESTAMP '2025-11-14 16:00:00'
                      AND o.status <> 'cancelled') IS TRUE AS converted
                  FROM experiments a LEFT JOIN orders o USING (user_id)
                  WHERE a.experiment = '{experiment}' GROUP BY ALL) GROUP BY 1"""
        ).fetchall()
    )
    return rates["treatment"] / rates["control"]


def test_the_ab_test_with_an_effect_converts_more(shops):
    # the fixture plants ratio 2 (the sample: 1.15); ~300 converters per experiment here, so
    # the log of the ratio has a standard error of ~0.12; the other test has none
    con = connect(shops[True])
    assert conversion_ratio(con, "one_tap_checkout") == pytest.approx(2.0, rel=0.3)
    assert conversion_ratio(con, "homepage_recs") == pytest.approx(1.0, rel=0.3)


def test_the_ab_tests_move_no_other_table(shops, tmp_path):
    # the assignments are drawn after the simulation: another ratio, the same shop
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(simulate, "EXPERIMENTS", (("one_tap_checkout", 1.0), ("homepage_recs", 1.0)))
        simulate.generate(tmp_path, seed=7, target_events=SHOP_EVENTS, marketing=True)
    for name in data.CONTRACT:
        fresh = pq.read_table(tmp_path / f"{name}.parquet")
        kept = pq.read_table(shops[True] / f"{name}.parquet")
        if name == "experiments":
            assert fresh.drop_columns(["variant"]).equals(kept.drop_columns(["variant"]))
        else:
            assert fresh.equals(kept), name


# ------------------------------------------------------------- one variant per experiment
def source_of(frame: pd.DataFrame) -> data.Source:
    con = ibis.duckdb.connect()
    return data.Source(con, {"experiments": con.create_table("experiments", frame)}, "test")


def assignments(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["user_id", "experiment", "variant"])
    frame["assigned_time"] = datetime(2025, 10, 15, 3)
    return frame


def test_a_repeated_assignment_is_an_error_naming_the_users():
    frame = assignments(
        [
            ("U1", "a", "control"),
            ("U1", "a", "treatment"),  # U1 in both variants of a
            ("U1", "b", "control"),  # ... once in b: fine
            ("U2", "a", "control"),
            ("U3", "b", "treatment"),
            ("U3", "b", "treatment"),  # U3 twice in the same variant of b
            ("U4", "b", "control"),
        ]
    )
    (line,) = quality.repeated_assignments(source_of(frame))
    # 2 users (U1 in a, U3 in b), 1 of them in two variants; named by experiment, then user
    assert line.startswith(
        "table 'experiments' assigns 2 user(s) more than once in one experiment (1 of them to "
        "different variants): 'U1' in 'a' ('control' and 'treatment'); 'U3' in 'b' "
        "('treatment' in 2 rows); a user has one variant per experiment"
    ), line
    # the runner's value checks raise it
    with pytest.raises(data.DataError, match="'U1' in 'a'"):
        quality.validate(source_of(frame), now=datetime(2025, 12, 1))
    # one row per user and experiment passes
    clean = frame.drop_duplicates(["user_id", "experiment"])
    assert quality.repeated_assignments(source_of(clean)) == []
    assert quality.check_values(source_of(clean), now=datetime(2025, 12, 1)) == []


def test_only_the_first_users_are_named():
    frame = assignments([(f"U{i:02d}", "a", v) for i in range(12) for v in ("x", "y")])
    (line,) = quality.repeated_assignments(source_of(frame), examples=3)
    # 12 users, 3 named (U00, U01, U02), 9 more
    assert "12 user(s)" in line and "(12 of them to different variants)" in line
    assert "'U00' in 'a' ('x' and 'y'); 'U01'" in line and "'U02' in 'a'" in line
    assert "'U03'" not in line and "and 9 more;" in line


def test_campaign_and_competitor_price_rules():
    con = ibis.duckdb.connect()
    prices = pd.DataFrame(
        {
            "date": [date(2025, 10, 15)] * 3,
            "sku_id": ["S1", "S1", "S2"],
            "competitor": ["JD.com", "JD.com", "JD.com"],  # S1 twice on one day
            "price": [10.0, 11.0, -1.0],  # S2 negative
        }
    )
    campaigns = pd.DataFrame(
        {
            "campaign_id": ["C1", "C1"],
            "name": ["a", "b"],
            "start_date": [date(2025, 10, 1)] * 2,
            "end_date": [date(2025, 10, 2)] * 2,
            "kind": ["promotion", "coupon"],
        }  # no optional columns: fine
    )
    source = data.Source(
        con,
        {
            "competitor_prices": con.create_table("competitor_prices", prices),
            "campaigns": con.create_table("campaigns", campaigns),
        },
        "test",
    )
    problems = quality.check_values(source, now=datetime(2025, 12, 1))
    assert len(problems) == 3, problems
    assert any("'campaigns' column 'campaign_id' repeats the id" in p for p in problems)
    assert any("'competitor_prices' key (date, sku_id, competitor)" in p for p in problems)
    assert any("'competitor_prices' column 'price' is negative in 1 row" in p for p in problems)


def test_a_campaign_ending_before_it_starts_is_an_error_naming_it():
    con = ibis.duckdb.connect()
    campaigns = pd.DataFrame(
        {
            "campaign_id": ["C2", "C1", "C3"],
            "name": ["b", "a", "c"],
            "start_date": [date(2025, 10, 5), date(2025, 10, 1), date(2025, 10, 7)],
            "end_date": [date(2025, 10, 4), date(2025, 10, 1), date(2025, 10, 1)],
            "kind": ["promotion"] * 3,
        }
    )
    source = data.Source(con, {"campaigns": con.create_table("campaigns", campaigns)}, "test")
    # C1 is one day (start = end): fine; C2 and C3 end before they start, named by id
    (line,) = quality.campaigns_ending_before_start(source)
    assert line.startswith(
        "table 'campaigns' has 2 campaign(s) whose end_date is before its start_date: "
        "'C2' (2025-10-05 to 2025-10-04); 'C3' (2025-10-07 to 2025-10-01); both dates"
    ), line
    (short,) = quality.campaigns_ending_before_start(source, examples=1)
    assert "'C2'" in short and "'C3'" not in short and "and 1 more;" in short
    # the runner's value checks raise it, before any notebook runs
    with pytest.raises(data.DataError, match="'C2' \\(2025-10-05 to 2025-10-04\\)"):
        quality.validate(source, now=datetime(2025, 12, 1))
