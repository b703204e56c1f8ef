"""DuckDB and PySpark give the same tables, metric by metric (docs/engines.md).

Runs in `make test` (CI has Java 17). Locally, `pytest --skip-spark` skips it, and the skip is
reported, never silent. Counts must match exactly; money and rates to 1e-9 relative.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import ibis
import pandas as pd
import pytest

from lib import (
    attribution,
    baskets,
    campaigns,
    clv,
    costs,
    data,
    drivers,
    experiments,
    funnel,
    gmv,
    overview,
    paths,
    portrait,
    pricing,
    products,
    quality,
    repurchase,
    retention,
    risks,
    segments,
    slots,
    supply,
    traffic,
)
from lib.periods import Period

from .conftest import KNOWN_ANSWERS

pytestmark = pytest.mark.spark

SAMPLE_PERIOD = Period("2025-11-05", "2025-11-14", "Asia/Shanghai")
KNOWN_PERIOD = Period("2025-03-01", "2025-03-07", "Asia/Shanghai")
NEW_YORK = Period("2025-11-01", "2025-11-05", "America/New_York")  # DST ends 11-02

Metric = Callable[[data.Source, Period], pd.DataFrame]
# an event both sources have, between the cart and the purchase of the default funnel
PAGE_VIEW_IN_CHECKOUT = [{"event": "page_view", "from_step": 2, "to_step": 4}]

NO_CLV = pd.DataFrame(columns=["user_id", "p_alive", "expected_value"])


def _portrait(s: data.Source, p: Period) -> pd.DataFrame:
    return portrait.user_portrait(
        s["orders"],
        p,
        s["events"],
        s["order_items"],
        s.optional("products"),
        s.optional("users"),
        lifecycle_days=2,
        clv_table=NO_CLV,
    )


METRICS: dict[str, Metric] = {
    "daily_traffic": lambda s, p: traffic.daily_traffic(s["events"], p),
    "active_users": lambda s, p: traffic.active_users(s["events"], p),
    "active_and_new_users": lambda s, p: traffic.active_and_new_users(s["events"], p),
    "traffic_by_channel": lambda s, p: traffic.traffic_by(s["events"], p, "channel"),
    "daily_users_by_platform": lambda s, p: traffic.daily_users_by(s["events"], p, "platform"),
    "hour_weekday": lambda s, p: traffic.hour_weekday_activity(s["events"], p),
    # three weeks more, so that every period holds full weeks (New York's with its clock change)
    "stickiness": lambda s, p: traffic.stickiness(s["events"], _weeks_earlier(p, 3)),
    "slots": lambda s, p: slots.slot_performance(s["events"], s["orders"], p, min_clickers=1),
    "gmv_daily": lambda s, p: gmv.gmv_daily(s["orders"], p, s["events"]),
    "gmv_summary": lambda s, p: gmv.gmv_summary(s["orders"], p, s["events"]),
    "funnel": lambda s, p: funnel.funnel_table(s["events"], p),
    # issue 18's order modes: every event between two steps (strict), a range window (any)
    "funnel_strict": lambda s, p: funnel.funnel_table(s["events"], p, order="strict"),
    "funnel_any": lambda s, p: funnel.funnel_table(s["events"], p, order="any"),
    "funnel_exclusions": lambda s, p: _with_excluded(
        funnel.funnel_table(s["events"], p, exclusions=PAGE_VIEW_IN_CHECKOUT)
    ),
    "funnel_strict_exclusions": lambda s, p: _with_excluded(
        funnel.funnel_table(s["events"], p, order="strict", exclusions=PAGE_VIEW_IN_CHECKOUT)
    ),
    # per user and entry day: the other branch of the funnel's reach
    "daily_conversion": lambda s, p: funnel.daily_conversion(s["events"], p, band_days=3),
    "funnel_by_channel": lambda s, p: funnel.funnel_breakdown(s["events"], p),
    "funnel_paths": lambda s, p: funnel.funnel_paths(s["events"], p),
    "dropoff_users": lambda s, p: funnel.dropoff_users(s["events"], p),
    "dropoff_behaviour": lambda s, p: funnel.dropoff_behaviour(s["events"], p),
    # issue 18: the bars and the exact median (DuckDB percentile_cont, Spark percentile) of the
    # main path's time to convert, and its trend by entry week
    # issue 19: each customer's purchase days (the models' input) and the holdout check
    "clv_summary": lambda s, p: clv.customer_summary(s["orders"], p),
    "clv_validation": lambda s, p: clv.validation(s["orders"], p, holdout_days=3),
    # issue 19: the user portrait, without the fitted lifetime value (its maximum-likelihood fit
    # may move a cent between engines whose amounts differ in the 13th digit)
    "user_portrait": lambda s, p: _portrait(s, p),
    "segment_portraits": lambda s, p: portrait.segment_portraits(_portrait(s, p)),
    # issue 19: baskets, companions and cross-sell
    "basket_summary": lambda s, p: baskets.basket_summary(s["orders"], s["order_items"], p),
    "basket_pairs": lambda s, p: baskets.basket_pairs(
        s["orders"], s["order_items"], p, min_pair_orders=1
    ),
    "basket_category_pairs": lambda s, p: baskets.basket_category_pairs(
        s["orders"], s["order_items"], s["products"], p, min_pair_orders=1
    ),
    "bought_together": lambda s, p: baskets.bought_together(
        s["orders"], s["order_items"], p, s["products"], top_skus=1000, min_pair_orders=1
    ),
    "cross_sell_matrix": lambda s, p: baskets.cross_sell_matrix(
        s["orders"], s["order_items"], s["products"], p
    ),
    "cross_sell_buyers": lambda s, p: baskets.cross_sell_buyers(
        s["orders"], s["order_items"], s["products"], p
    ),
    # issue 18: what goes with converting, and the paths through a visit and after the drop
    "conversion_drivers": lambda s, p: (
        drivers.conversion_drivers(
            s["events"], p, products=s["products"], users=s.optional("users"), min_support=1
        ).table
    ),
    "path_transitions": lambda s, p: paths.path_transitions(paths.session_paths(s["events"], p)),
    "step_matrix": lambda s, p: paths.step_matrix(
        paths.session_paths(s["events"], p, path_start_event="view_item", path_end_event="purchase")
    ),
    "paths_top": lambda s, p: paths.paths_top(
        paths.session_paths(s["events"], p, session_timeout_minutes=10)
    ),
    "after_dropoff": lambda s, p: paths.after_dropoff(s["events"], p),
    "time_to_convert": lambda s, p: funnel.time_to_convert(s["events"], p)[0],
    "time_to_convert_summary": lambda s, p: funnel.time_to_convert(s["events"], p)[1],
    "funnel_trends_week": lambda s, p: funnel.funnel_trends(s["events"], p, interval="week"),
    "item_conversion_sku": lambda s, p: funnel.item_conversion(
        s["events"], s["orders"], s["order_items"], p, min_viewers=1
    ),
    "item_conversion_category": lambda s, p: funnel.item_conversion(
        s["events"], s["orders"], s["order_items"], p, level="category", products=s["products"]
    ),
    "retention": lambda s, p: retention.cohort_retention(s["events"], p),
    "repurchase": lambda s, p: repurchase.repurchase_summary(s["orders"], p),
    # thresholds low enough that ordinary users trip every rule: rows to compare, exact medians
    # and p99.9 from the engines' counts
    "risks": lambda s, p: risks.risk_flags(
        p,
        s["events"],
        s["orders"],
        s["order_items"],
        unpaid_orders=1,
        coupon_claims=1,
        coupon_uses=1,
        refund_share=0.2,
        refund_min_orders=1,
        bot_factor=1.0,
        sku_factor=1.5,
        sku_min_orders=2,
    ),
    "overview": lambda s, p: overview.indicator_summary(p, s["events"], s["orders"]),
    "purchase_reconciliation": lambda s, p: quality.purchase_reconciliation(
        s["events"], s["orders"], p
    ),
    "category_performance": lambda s, p: products.with_quadrants(
        products.item_performance(s["orders"], s["order_items"], s["products"], p, s["events"])
    ),
    "sku_performance": lambda s, p: products.item_performance(
        s["orders"], s["order_items"], s["products"], p, s["events"], "sku"
    ),
    # roles and their label_basis from the engine's counts (the quadrants' are in
    # category_performance)
    "product_roles": lambda s, p: products.product_roles(
        products.item_performance(
            s["orders"], s["order_items"], s["products"], p, s["events"], "sku"
        ),
        min_buyers=1,
    ),
    "discount_loss": lambda s, p: products.discount_loss(
        s["orders"], s["order_items"], s["products"], p
    ),
    "review_summary": lambda s, p: _if_has(
        s, "reviews", lambda: products.review_summary(s["reviews"], s["products"], p)
    ),
    "rating_trend": lambda s, p: _if_has(
        s, "reviews", lambda: products.rating_trend(s["reviews"], s["products"], p)
    ),
    "low_rated_skus": lambda s, p: _if_has(
        s,
        "reviews",
        lambda: products.low_rated_skus(
            s["reviews"], s["orders"], s["order_items"], s["products"], p, 4.0, 1
        ),
    ),
    "rating_repurchase": lambda s, p: _if_has(
        s,
        "reviews",
        lambda: products.rating_repurchase(s["reviews"], s["orders"], s["products"], p, 7),
    ),
    "cost_breakdown": lambda s, p: costs.cost_breakdown(_cost_ledger(s, p)),
    "unit_economics": lambda s, p: costs.unit_economics(_cost_ledger(s, p), s["orders"], p),
    "channel_roi": lambda s, p: _if_has(
        s,
        "marketing_spend",
        lambda: costs.channel_roi(
            s["marketing_spend"], s["orders"], s["order_items"], s["products"], p
        ),
    ),
    "supply_daily_units": lambda s, p: supply.daily_units(*_shop(s), p.end, p.timezone, 70),
    # the backtest's baselines, verdict columns and interval coverage, and the data's peaks
    "forecast_backtest": lambda s, p: supply.backtest_forecast(
        supply.daily_units(*_shop(s), p.end, p.timezone, 70)
    ),
    # days above the median (not 3 ×): a period without a campaign still has some
    "demand_peaks": lambda s, p: supply.peak_days(
        supply.daily_units(*_shop(s), p.end, p.timezone, 28),
        supply.calendar_days(p.end - pd.Timedelta(days=27), p.end, "CN"),
        outlier_factor=1.0,
        n=5,
    ),
    "inventory_health": lambda s, p: _if_has(
        s,
        "inventory",
        lambda: supply.inventory_health(
            s["inventory"], *_shop(s), p, s.optional("purchase_orders")
        ),
    ),
    "inventory_turnover": lambda s, p: _if_has(
        s, "inventory", lambda: supply.inventory_turnover(s["inventory"], *_shop(s), p)
    ),
    "inventory_holding_cost": lambda s, p: _if_has(
        s, "inventory", lambda: supply.inventory_holding_cost(s["inventory"], *_shop(s), p)
    ),
    "holding_cost_daily": lambda s, p: _if_has(
        s, "inventory", lambda: supply.holding_cost_daily(s["inventory"], s["products"], p)
    ),
    "stockouts_daily": lambda s, p: _if_has(
        s, "inventory", lambda: supply.stockouts_daily(s["inventory"], p)
    ),
    "lost_sales": lambda s, p: _if_has(
        s,
        "inventory",
        lambda: supply.lost_sales_summary(
            supply.lost_sales(s["inventory"], s["events"], *_shop(s), p)
        ),
    ),
    "reorder_points": lambda s, p: _if_has(
        s,
        "inventory",
        lambda: supply.reorder_points(s["inventory"], *_shop(s), p, s.optional("purchase_orders")),
    ),
    "fulfilment": lambda s, p: _if_has(
        s, "shipments", lambda: supply.fulfilment(s["orders"], s["shipments"], p)
    ),
    "fulfilment_daily": lambda s, p: _if_has(
        s, "shipments", lambda: supply.fulfilment_daily(s["orders"], s["shipments"], p)
    ),
    "shipping_backlog": lambda s, p: _if_has(s, "shipments", lambda: _backlog_summary(s, p)),
    "delivery_experience": lambda s, p: _if_has(
        s,
        "shipments",
        lambda: supply.delivery_experience(
            supply.delivered_orders(
                s["orders"], s["order_items"], s["shipments"], p, s.optional("reviews")
            )
        ),
    ),
    "delivery_times": lambda s, p: _if_has(
        s,
        "shipments",
        lambda: supply.delivery_times(
            supply.delivered_orders(s["orders"], s["order_items"], s["shipments"], p)
        ),
    ),
    "supplier_scorecard": lambda s, p: _if_has(
        s, "purchase_orders", lambda: supply.supplier_scorecard(s["purchase_orders"], p)
    ),
    # after-sales: the returns table where the source has one, else the refunded orders
    "aftersales_summary": lambda s, p: supply.returns_summary(*_shop(s), p, s.optional("returns")),
    "aftersales_overview": lambda s, p: supply.returns_overview(
        s["orders"], p, s.optional("returns")
    ),
    "aftersales_by_carrier": lambda s, p: _if_has(
        s,
        "shipments",
        lambda: supply.returns_by_carrier(s["orders"], s["shipments"], p, s.optional("returns")),
    ),
    "aftersales_ratings": lambda s, p: _if_has(
        s,
        "reviews",
        lambda: supply.returns_ratings(
            s["orders"],
            s["order_items"],
            s["reviews"],
            p,
            s.optional("returns"),
            s.optional("shipments"),
        ),
    ),
    # 7 days: the sample's orders end with the period, so 90 would leave nobody to follow
    "aftersales_repurchase": lambda s, p: supply.returns_repurchase(
        s["orders"], p, s.optional("returns"), days=7
    ),
    **(
        {
            "aftersales_reasons": lambda s, p: _if_has(
                s, "returns", lambda: supply.return_reasons(s["returns"], p)
            ),
            "aftersales_refund_speed": lambda s, p: _if_has(
                s, "returns", lambda: supply.refund_speed(s["returns"], p)
            ),
            "aftersales_backlog_and_cost": lambda s, p: _if_has(
                s, "returns", lambda: _aftersales_totals(s, p)
            ),
        }
        # the table is in data/sample only once the simulator writes it; until then the
        # summary, carriers, ratings and repurchase above test the refunded-orders fallback
        if (data.SAMPLE_DIR / "returns.parquet").exists()
        else {}
    ),
    # the user-days are cached on the engine (a temporary table, a cached Spark DataFrame)
    "lifecycle": lambda s, p: segments.lifecycle(_user_days(s, p), p, 2),  # windows of 2 days
    "activity_segments": lambda s, p: segments.activity_segments(_user_days(s, p), p, 30, 10, 60),
    # marketing (issue 20): the known-answer shop has none of its tables (empty on both engines)
    "campaign_effects": lambda s, p: campaigns.campaign_effects(
        _parity_campaigns(p), *_shop(s), s["events"], p, baseline_days=14, dip_days=3
    ),
    "campaign_daily": lambda s, p: campaigns.campaign_daily(
        _parity_campaigns(p), *_shop(s), s["events"], p, baseline_days=14, dip_days=3
    ),
    "campaign_effects_table": lambda s, p: _if_has(
        s,
        "campaigns",
        lambda: campaigns.campaign_effects(s["campaigns"], *_shop(s), s.optional("events"), p),
    ),
    "experiment_results": lambda s, p: _if_has(
        s, "experiments", lambda: experiments.experiment_results(s["experiments"], s["orders"], p)
    ),
    "experiment_sums": lambda s, p: _if_has(
        s, "experiments", lambda: experiments.experiment_sums(s["experiments"], s["orders"], p)
    ),
    "price_bands": lambda s, p: pricing.price_bands(*_shop(s), p),
    "discount_depth": lambda s, p: pricing.discount_depth(*_shop(s), p, s["events"]),
    "price_elasticity": lambda s, p: pricing.price_elasticity(*_shop(s), p, min_price_changes=1),
    "competitor_price_index": lambda s, p: _if_has(
        s,
        "competitor_prices",
        lambda: pricing.competitor_price_index(s["competitor_prices"], s["products"], p),
    ),
    "price_index_daily": lambda s, p: _if_has(
        s,
        "competitor_prices",
        lambda: pricing.price_index_daily(s["competitor_prices"], s["products"], p),
    ),
    "overpriced_conversion": lambda s, p: _if_has(
        s,
        "competitor_prices",
        lambda: pricing.overpriced_conversion(
            s["events"],
            s["orders"],
            s["order_items"],
            pricing.competitor_price_index(s["competitor_prices"], s["products"], p),
            p,
        ),
    ),
    "attribution": lambda s, p: attribution.attribution(
        s["events"], s["orders"], p, marketing_spend=s.optional("marketing_spend")
    ),
    "attribution_short_window": lambda s, p: attribution.attribution(
        s["events"], s["orders"], p, attribution_days=7, half_life_days=2.0
    ),
}


def _parity_campaigns(p: Period) -> pd.DataFrame:
    """A shop-wide, a category and a channel campaign on the period's first (up to) 3 days
    ("shoes" and "search" exist in both the known-answer shop and the sample slice)."""
    end = min(p.end, p.start + pd.Timedelta(days=2))
    scopes = [("shop", None, None), ("shoes", "shoes", None), ("search", None, "search")]
    return pd.DataFrame(
        [
            {
                "campaign_id": cid,
                "name": cid,
                "start_date": p.start,
                "end_date": end,
                "kind": "promotion",
                "category": category,
                "channel": channel,
            }
            for cid, category, channel in scopes
        ]
    )


def _with_excluded(table: pd.DataFrame) -> pd.DataFrame:
    """The funnel with the number of excluded entrants as a column, so that it is compared too."""
    return table.assign(excluded_users=table.attrs["excluded_users"])


def _user_days(source: data.Source, period: Period) -> ibis.Table:
    return segments.activity_user_days(period, source.optional("orders"), source["events"])[0]


def _weeks_earlier(period: Period, weeks: int) -> Period:
    """``period`` starting ``weeks`` weeks earlier."""
    return Period(period.start - pd.Timedelta(weeks=weeks), period.end, period.timezone)


def _if_has(source: data.Source, table: str, metric: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """The metric, or an empty table on a source without the optional ``table``."""
    return metric() if source.has(table) else pd.DataFrame()


def _shop(source: data.Source) -> tuple:
    return source["orders"], source["order_items"], source["products"]


def _backlog_summary(source: data.Source, period: Period) -> pd.DataFrame:
    """The shipping backlog as one row (a short period can have none)."""
    backlog = supply.shipping_backlog(source["orders"], source["shipments"], period)
    return pd.DataFrame({"orders": [len(backlog)], "hours": [backlog["hours_waiting"].sum()]})


def _aftersales_totals(source: data.Source, period: Period) -> pd.DataFrame:
    """The refund backlog and the returns' cost item as one row (a short period can have none)."""
    backlog = supply.refund_backlog(source["returns"], period, 24)
    cost = supply.returns_cost(source["returns"], source["order_items"], source["products"], period)
    return pd.DataFrame(
        {
            "backlog": [len(backlog)],
            "hours": [backlog["hours_waiting"].sum()],
            "refunds": [cost["refunds"].sum()],
            "amount": [cost["amount"].sum()],
        }
    )


def _cost_ledger(source: data.Source, period: Period) -> pd.DataFrame:
    return costs.cost_ledger(
        source["orders"],
        source["order_items"],
        source["products"],
        period,
        source.optional("costs"),
        source.optional("marketing_spend"),
    )


@pytest.fixture(scope="session")
def sample_slice(tmp_path_factory) -> str:
    """Every 25th user of the bundled sample with their orders (and shipments, reviews), plus the
    stock and purchase orders of the SKUs they bought: small, but every kind of row."""
    folder = tmp_path_factory.mktemp("parity_shop")
    sample = data.SAMPLE_DIR
    con = duckdb.connect()
    con.execute(
        f"CREATE VIEW users_kept AS SELECT DISTINCT user_id FROM '{sample}/events.parquet' "
        "WHERE hash(user_id) % 25 = 0"
    )
    con.execute(
        f"CREATE VIEW kept_skus AS SELECT DISTINCT sku_id FROM '{sample}/order_items.parquet' "
        f"WHERE order_id IN (SELECT order_id FROM '{sample}/orders.parquet' WHERE user_id IN "
        "(SELECT user_id FROM users_kept))"
    )
    queries = {
        "events": f"SELECT * FROM '{sample}/events.parquet' WHERE user_id IN "
        "(SELECT user_id FROM users_kept) ORDER BY event_time, user_id",
        "orders": f"SELECT * FROM '{sample}/orders.parquet' WHERE user_id IN "
        "(SELECT user_id FROM users_kept) ORDER BY order_id",
        "order_items": f"SELECT * FROM '{sample}/order_items.parquet' WHERE order_id IN (SELECT "
        f"order_id FROM '{sample}/orders.parquet' WHERE user_id IN (SELECT user_id FROM "
        "users_kept)) ORDER BY order_id, sku_id",
        "products": f"SELECT * FROM '{sample}/products.parquet' ORDER BY sku_id",
        "reviews": f"SELECT * FROM '{sample}/reviews.parquet' WHERE user_id IN "
        "(SELECT user_id FROM users_kept) ORDER BY review_time, user_id, sku_id",
        "marketing_spend": f"SELECT * FROM '{sample}/marketing_spend.parquet' "
        "ORDER BY date, channel, billing_model",
        "costs": f"SELECT * FROM '{sample}/costs.parquet' ORDER BY month, component, item",
        # supply chain: the kept orders' shipments; stock and purchase orders of their SKUs
        "shipments": f"SELECT * FROM '{sample}/shipments.parquet' WHERE order_id IN (SELECT "
        f"order_id FROM '{sample}/orders.parquet' WHERE user_id IN (SELECT user_id FROM "
        "users_kept)) ORDER BY order_id",
        "inventory": f"SELECT * FROM '{sample}/inventory.parquet' WHERE sku_id IN (SELECT "
        "sku_id FROM kept_skus) ORDER BY date, sku_id, location",
        "purchase_orders": f"SELECT * FROM '{sample}/purchase_orders.parquet' WHERE sku_id IN "
        "(SELECT sku_id FROM kept_skus) ORDER BY po_id",
    }
    if (sample / "returns.parquet").exists():  # after-sales: once the simulator writes it
        queries["returns"] = (
            f"SELECT * FROM '{sample}/returns.parquet' WHERE order_id IN (SELECT order_id FROM "
            f"'{sample}/orders.parquet' WHERE user_id IN (SELECT user_id FROM users_kept)) "
            "ORDER BY return_id"
        )
    # marketing (issue 20): the kept users' assignments, every campaign, the kept SKUs' rivals
    marketing = {
        "experiments": f"SELECT * FROM '{sample}/experiments.parquet' WHERE user_id IN "
        "(SELECT user_id FROM users_kept) ORDER BY experiment, user_id",
        "campaigns": f"SELECT * FROM '{sample}/campaigns.parquet' ORDER BY campaign_id",
        "competitor_prices": f"SELECT * FROM '{sample}/competitor_prices.parquet' WHERE sku_id "
        "IN (SELECT sku_id FROM kept_skus) ORDER BY date, sku_id, competitor",
    }
    queries.update({k: q for k, q in marketing.items() if (sample / f"{k}.parquet").exists()})
    for name, query in queries.items():
        con.execute(f"COPY ({query}) TO '{folder / name}.parquet' (FORMAT parquet)")
    return str(folder)


@pytest.fixture(scope="session")
def sources(sample_slice) -> dict[str, tuple[data.Source, data.Source]]:
    known = str(KNOWN_ANSWERS / "source")
    return {
        "known_answers": (data.open_source(known), data.open_source(f"spark://{known}")),
        "sample_slice": (
            data.open_source(sample_slice),
            data.open_source(f"spark://{sample_slice}"),
        ),
    }


def assert_same(duck: pd.DataFrame, spark: pd.DataFrame) -> None:
    assert list(duck.columns) == list(spark.columns)
    assert len(duck) == len(spark)
    for column in duck.columns:
        left, right = duck[column].reset_index(drop=True), spark[column].reset_index(drop=True)
        if pd.api.types.is_float_dtype(left) or pd.api.types.is_float_dtype(right):
            pd.testing.assert_series_equal(
                left.astype("float64"), right.astype("float64"), rtol=1e-9, check_names=False
            )
        else:
            assert left.astype(str).tolist() == right.astype(str).tolist(), column


@pytest.mark.parametrize("metric", sorted(METRICS))
@pytest.mark.parametrize(
    ("source_name", "period"),
    [("known_answers", KNOWN_PERIOD), ("sample_slice", SAMPLE_PERIOD), ("sample_slice", NEW_YORK)],
    ids=["known_answers", "sample_slice", "sample_slice_new_york"],
)
def test_duckdb_and_spark_agree(sources, source_name, period, metric):
    duck_source, spark_source = sources[source_name]
    assert spark_source.backend.name == "pyspark"
    duck = METRICS[metric](duck_source, period)
    spark = METRICS[metric](spark_source, period)
    if source_name == "sample_slice":  # the known-answer shop has no promotion slots
        assert len(duck) > 0
    assert_same(duck, spark)
