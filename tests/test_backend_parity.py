"""DuckDB and PySpark give the same tables, metric by metric (docs/engines.md).

Runs in `make test` (CI has Java 17). Locally, `pytest --skip-spark` skips it, and the skip is
reported, never silent. Counts must match exactly; money and rates to 1e-9 relative.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd
import pytest

from lib import data, funnel, gmv, overview, repurchase, retention, slots, traffic
from lib.periods import Period

from .conftest import KNOWN_ANSWERS

pytestmark = pytest.mark.spark

SAMPLE_PERIOD = Period("2025-11-05", "2025-11-14", "Asia/Shanghai")
KNOWN_PERIOD = Period("2025-03-01", "2025-03-07", "Asia/Shanghai")
NEW_YORK = Period("2025-11-01", "2025-11-05", "America/New_York")  # DST ends 11-02

Metric = Callable[[data.Source, Period], pd.DataFrame]

METRICS: dict[str, Metric] = {
    "daily_traffic": lambda s, p: traffic.daily_traffic(s["events"], p),
    "traffic_by_channel": lambda s, p: traffic.traffic_by(s["events"], p, "channel"),
    "daily_users_by_platform": lambda s, p: traffic.daily_users_by(s["events"], p, "platform"),
    "hour_weekday": lambda s, p: traffic.hour_weekday_activity(s["events"], p),
    "slots": lambda s, p: slots.slot_performance(s["events"], s["orders"], p, min_clickers=1),
    "gmv_daily": lambda s, p: gmv.gmv_daily(s["orders"], p, s["events"]),
    "gmv_summary": lambda s, p: gmv.gmv_summary(s["orders"], p, s["events"]),
    "funnel": lambda s, p: funnel.funnel_table(s["events"], p),
    "retention": lambda s, p: retention.cohort_retention(s["events"], p),
    "repurchase": lambda s, p: repurchase.repurchase_summary(s["orders"], p),
    "overview": lambda s, p: overview.indicator_summary(p, s["events"], s["orders"]),
}


@pytest.fixture(scope="session")
def sample_slice(tmp_path_factory) -> str:
    """Every 25th user of the bundled sample with their orders: small, but every kind of row."""
    folder = tmp_path_factory.mktemp("parity_shop")
    sample = data.SAMPLE_DIR
    con = duckdb.connect()
    con.execute(
        f"CREATE VIEW users_kept AS SELECT DISTINCT user_id FROM '{sample}/events.parquet' "
        "WHERE hash(user_id) % 25 = 0"
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
    }
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
