"""The core metrics three ways: the project's (Ibis on DuckDB), plain pandas and Polars.

    python benchmarks/metrics.py IMPL METRIC FOLDER START END TIMEZONE

runs one metric (``traffic``, ``funnel``, ``retention``, ``repurchase``) with one implementation
(``project``, ``pandas``, ``polars``) on a folder of Parquet tables and prints one JSON line:
``{"seconds": …, "result": {…}}``. ``benchmarks/run.py`` starts each in its own process so that
the process's peak RSS is that implementation's alone, then checks that every implementation
gives the project's numbers (:func:`compare`).

The baselines are written the way an analyst would write them: read the Parquet columns needed
into a data frame, convert times to the local zone, then filter, group and merge, with a loop over
the days where that is the obvious way. ``pandas-whole`` is the same code reading the whole file
(``pd.read_parquet(path)``, every column), the issue's "read the Parquet, then groupby/merge"
taken literally and the usual first notebook cell; ``pandas`` reads only the columns it needs.
Polars is used the way its documentation suggests (lazy scans, collected once per result). They
implement the definitions of docs/metrics.md:

- traffic: DAU, WAU, MAU per local day (distinct users active on the day / in the 7 / 30 days
  ending on it);
- funnel: the ordered funnel view_item → add_to_cart → begin_checkout → purchase with a 7-day
  window (users reaching each step);
- retention: D1, D7 and D30 retention of the daily cohorts of the period (first event anywhere),
  pooled over the cohorts old enough for that day;
- repurchase: buyers, repeat buyers, GMV and repeat GMV of the orders paid in the period.

Seconds are measured inside the process from before the first read to the finished result, so
interpreter start-up and imports are left out for every implementation alike.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

METRICS = ("traffic", "funnel", "retention", "repurchase")
IMPLEMENTATIONS = ("project", "pandas", "pandas-whole", "polars")
FUNNEL_STEPS = ("view_item", "add_to_cart", "begin_checkout", "purchase")
WINDOW_DAYS = 7
RETENTION_DAYS = (1, 7, 30)
# Result keys holding money, compared to the cent (engines add floats in different orders).
MONEY = ("gmv", "repeat_gmv")

Result = dict[str, Any]


class Spec:
    """The run's period: local days ``start..end`` in ``timezone``."""

    def __init__(self, folder: Path, start: str, end: str, timezone: str) -> None:
        self.folder = folder
        self.start = dt.date.fromisoformat(start)
        self.end = dt.date.fromisoformat(end)
        self.timezone = timezone

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def utc(self, day: dt.date) -> dt.datetime:
        """The naive UTC instant of local midnight starting ``day``."""
        from zoneinfo import ZoneInfo

        local = dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(self.timezone))
        return local.astimezone(dt.UTC).replace(tzinfo=None)


# --------------------------------------------------------------------------------------------
# The project


def project(metric: str, spec: Spec) -> Result:
    from lib import data, funnel, repurchase, retention, traffic
    from lib.periods import Period

    period = Period(spec.start, spec.end, spec.timezone)
    src = data.open_source(spec.folder)
    if metric == "traffic":
        table = traffic.active_users(src["events"], period)
        return {k: [int(v) for v in table[k]] for k in ("dau", "wau", "mau")}
    if metric == "funnel":
        table = funnel.funnel_table(src["events"], period, FUNNEL_STEPS, WINDOW_DAYS)
        return {"users": [int(v) for v in table["users"]]}
    if metric == "retention":
        cohorts = retention.cohort_retention(src["events"], period, max(RETENTION_DAYS))
        headline = retention.headline_retention(cohorts, RETENTION_DAYS)
        return {
            "rate": [float(v) for v in headline["retention_rate"]],
            "cohort_users": [int(v) for v in headline["cohort_users"]],
        }
    table = repurchase.repurchase_summary(src["orders"], period).iloc[0]
    return {
        "buyers": int(table["buyers"]),
        "repeat_buyers": int(table["repeat_buyers"]),
        "gmv": float(table["gmv"]),
        "repeat_gmv": float(table["repeat_gmv"]),
    }


# --------------------------------------------------------------------------------------------
# Plain pandas


def _read(spec: Spec, table: str, columns: list[str] | None, whole: bool) -> Any:
    """The table's Parquet file as a data frame: only ``columns``, or every column if ``whole``."""
    import pandas as pd

    return pd.read_parquet(spec.folder / f"{table}.parquet", columns=None if whole else columns)


def _pandas_local(times: Any, spec: Spec) -> Any:
    """Local calendar dates of naive-UTC timestamps (what an analyst writes)."""
    return times.dt.tz_localize("UTC").dt.tz_convert(spec.timezone).dt.date


def pandas_traffic(spec: Spec, whole: bool = False) -> Result:
    events = _read(spec, "events", ["event_time", "user_id"], whole)
    events["day"] = _pandas_local(events["event_time"], spec)
    first = spec.start - dt.timedelta(days=29)
    events = events[(events["day"] >= first) & (events["day"] <= spec.end)]
    user_days = events[["user_id", "day"]].drop_duplicates()
    result: Result = {"dau": [], "wau": [], "mau": []}
    for day in spec.days:
        month = user_days[
            (user_days["day"] > day - dt.timedelta(days=30)) & (user_days["day"] <= day)
        ]
        week = month[month["day"] > day - dt.timedelta(days=7)]
        result["dau"].append(int((month["day"] == day).sum()))
        result["wau"].append(int(week["user_id"].nunique()))
        result["mau"].append(int(month["user_id"].nunique()))
    return result


def pandas_funnel(spec: Spec, whole: bool = False) -> Result:
    import pandas as pd

    events = _read(spec, "events", ["event_time", "user_id", "event_name"], whole)
    events = events[events["event_name"].isin(FUNNEL_STEPS)]
    events["s"] = (events["event_time"] - pd.Timestamp(0)) // pd.Timedelta(seconds=1)
    events["day"] = _pandas_local(events["event_time"], spec)
    lo, hi = spec.utc(spec.start), spec.utc(spec.end + dt.timedelta(days=1))
    late = hi + dt.timedelta(days=WINDOW_DAYS)
    window = WINDOW_DAYS * 86_400

    entries = events[
        (events["event_name"] == FUNNEL_STEPS[0])
        & (events["day"] >= spec.start)
        & (events["day"] <= spec.end)
    ]
    reach = entries.groupby("user_id")["s"].min().rename("t1").reset_index()
    previous = "t1"
    for index, step in enumerate(FUNNEL_STEPS[1:], start=2):
        candidates = events[
            (events["event_name"] == step)
            & (events["event_time"] >= lo)
            & (events["event_time"] <= late)
        ][["user_id", "s"]]
        matched = reach[list(dict.fromkeys(["user_id", "t1", previous]))]
        matched = matched.merge(candidates, on="user_id")
        matched = matched[
            (matched["s"] >= matched[previous]) & (matched["s"] <= matched["t1"] + window)
        ]
        firsts = matched.groupby("user_id")["s"].min().rename(f"t{index}")
        reach = reach.merge(firsts, on="user_id", how="left")
        previous = f"t{index}"
    return {"users": [int(reach[f"t{i}"].notna().sum()) for i in range(1, len(FUNNEL_STEPS) + 1)]}


def pandas_retention(spec: Spec, whole: bool = False) -> Result:
    import pandas as pd

    events = _read(spec, "events", ["event_time", "user_id"], whole)
    events["day"] = _pandas_local(events["event_time"], spec)
    horizon = events["day"].max()
    firsts = events.groupby("user_id")["day"].min().rename("cohort_day").reset_index()
    cohort = firsts[(firsts["cohort_day"] >= spec.start) & (firsts["cohort_day"] <= spec.end)]
    active = events.loc[events["event_time"] >= spec.utc(spec.start), ["user_id", "day"]]
    active = active.drop_duplicates()
    joined = cohort.merge(active, on="user_id")
    joined["offset"] = (
        pd.to_datetime(joined["day"]) - pd.to_datetime(joined["cohort_day"])
    ).dt.days
    sizes = cohort.groupby("cohort_day").size()
    result: Result = {"rate": [], "cohort_users": []}
    for n in RETENTION_DAYS:
        eligible = [d for d in sizes.index if d + dt.timedelta(days=n) <= horizon]
        users = int(sizes[eligible].sum())
        retained = int(((joined["offset"] == n) & joined["cohort_day"].isin(eligible)).sum())
        result["rate"].append(retained / users if users else math.nan)
        result["cohort_users"].append(users)
    return result


def pandas_repurchase(spec: Spec, whole: bool = False) -> Result:
    columns = ["order_id", "user_id", "status", "paid_time", "paid_amount"]
    orders = _read(spec, "orders", columns, whole)
    paid = orders[orders["paid_time"].notna() & (orders["status"] != "cancelled")].copy()
    paid["day"] = _pandas_local(paid["paid_time"], spec)
    paid = paid[(paid["day"] >= spec.start) & (paid["day"] <= spec.end)]
    paid = paid.sort_values(["user_id", "paid_time", "order_id"])
    paid["rank"] = paid.groupby("user_id").cumcount() + 1
    per_buyer = paid.groupby("user_id").size()
    return {
        "buyers": len(per_buyer),
        "repeat_buyers": int((per_buyer >= 2).sum()),
        "gmv": round(float(paid["paid_amount"].sum()), 2),
        "repeat_gmv": round(float(paid.loc[paid["rank"] >= 2, "paid_amount"].sum()), 2),
    }


# --------------------------------------------------------------------------------------------
# Polars


def _polars_local(column: str, spec: Spec) -> Any:
    import polars as pl

    return pl.col(column).dt.replace_time_zone("UTC").dt.convert_time_zone(spec.timezone).dt.date()


def polars_traffic(spec: Spec) -> Result:
    import polars as pl

    first = spec.start - dt.timedelta(days=29)
    user_days = (
        pl.scan_parquet(spec.folder / "events.parquet")
        .select("user_id", day=_polars_local("event_time", spec))
        .filter(pl.col("day").is_between(first, spec.end))
        .unique()
        .collect()
    )
    result: Result = {"dau": [], "wau": [], "mau": []}
    for day in spec.days:
        month = user_days.filter(pl.col("day").is_between(day - dt.timedelta(days=29), day))
        week = month.filter(pl.col("day") > day - dt.timedelta(days=7))
        result["dau"].append(month.filter(pl.col("day") == day).height)
        result["wau"].append(week["user_id"].n_unique())
        result["mau"].append(month["user_id"].n_unique())
    return result


def polars_funnel(spec: Spec) -> Result:
    import polars as pl

    lo, hi = spec.utc(spec.start), spec.utc(spec.end + dt.timedelta(days=1))
    late = hi + dt.timedelta(days=WINDOW_DAYS)
    window = WINDOW_DAYS * 86_400
    events = (
        pl.scan_parquet(spec.folder / "events.parquet")
        .filter(pl.col("event_name").is_in(FUNNEL_STEPS))
        .select(
            "user_id",
            "event_name",
            "event_time",
            s=pl.col("event_time").dt.epoch("s"),
            day=_polars_local("event_time", spec),
        )
        .collect()
        .lazy()
    )
    reach = (
        events.filter(
            (pl.col("event_name") == FUNNEL_STEPS[0])
            & pl.col("day").is_between(spec.start, spec.end)
        )
        .group_by("user_id")
        .agg(t1=pl.col("s").min())
    )
    previous = "t1"
    for index, step in enumerate(FUNNEL_STEPS[1:], start=2):
        candidates = events.filter(
            (pl.col("event_name") == step) & pl.col("event_time").is_between(lo, late)
        ).select("user_id", "s")
        firsts = (
            reach.select(list(dict.fromkeys(["user_id", "t1", previous])))
            .join(candidates, on="user_id")
            .filter((pl.col("s") >= pl.col(previous)) & (pl.col("s") <= pl.col("t1") + window))
            .group_by("user_id")
            .agg(pl.col("s").min().alias(f"t{index}"))
        )
        reach = reach.join(firsts, on="user_id", how="left")
        previous = f"t{index}"
    table = reach.collect()
    return {"users": [int(table[f"t{i}"].count()) for i in range(1, len(FUNNEL_STEPS) + 1)]}


def polars_retention(spec: Spec) -> Result:
    import polars as pl

    events = (
        pl.scan_parquet(spec.folder / "events.parquet")
        .select("user_id", "event_time", day=_polars_local("event_time", spec))
        .collect()
    )
    horizon = events["day"].max()
    cohort = (
        events.group_by("user_id")
        .agg(cohort_day=pl.col("day").min())
        .filter(pl.col("cohort_day").is_between(spec.start, spec.end))
    )
    active = events.filter(pl.col("event_time") >= spec.utc(spec.start)).select("user_id", "day")
    joined = cohort.join(active.unique(), on="user_id").with_columns(
        offset=(pl.col("day") - pl.col("cohort_day")).dt.total_days()
    )
    sizes = cohort.group_by("cohort_day").len()
    result: Result = {"rate": [], "cohort_users": []}
    for n in RETENTION_DAYS:
        eligible = sizes.filter(pl.col("cohort_day") + dt.timedelta(days=n) <= horizon)
        users = int(eligible["len"].sum())
        retained = joined.filter(
            (pl.col("offset") == n) & pl.col("cohort_day").is_in(eligible["cohort_day"].to_list())
        ).height
        result["rate"].append(retained / users if users else math.nan)
        result["cohort_users"].append(users)
    return result


def polars_repurchase(spec: Spec) -> Result:
    import polars as pl

    paid = (
        pl.scan_parquet(spec.folder / "orders.parquet")
        .filter(pl.col("paid_time").is_not_null() & (pl.col("status") != "cancelled"))
        .with_columns(day=_polars_local("paid_time", spec))
        .filter(pl.col("day").is_between(spec.start, spec.end))
        .sort("user_id", "paid_time", "order_id")
        .with_columns(rank=pl.col("order_id").cum_count().over("user_id"))
        .collect()
    )
    per_buyer = paid.group_by("user_id").len()
    return {
        "buyers": per_buyer.height,
        "repeat_buyers": per_buyer.filter(pl.col("len") >= 2).height,
        "gmv": round(float(paid["paid_amount"].sum()), 2),
        "repeat_gmv": round(float(paid.filter(pl.col("rank") >= 2)["paid_amount"].sum()), 2),
    }


# --------------------------------------------------------------------------------------------
# Running and comparing


def implementation(impl: str, metric: str) -> Callable[[Spec], Result]:
    """The function computing ``metric`` the ``impl`` way."""
    if impl == "project":
        return lambda spec: project(metric, spec)
    if impl == "pandas-whole":
        return lambda spec: globals()[f"pandas_{metric}"](spec, whole=True)
    return globals()[f"{impl}_{metric}"]


def _close(a: Any, b: Any, key: str) -> bool:
    if isinstance(a, list):
        return len(a) == len(b) and all(_close(x, y, key) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        if math.isnan(a) and math.isnan(b):
            return True
        # money is rounded to cents by both sides after float sums in different orders
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=0.011 if key in MONEY else 0.0)
    return a == b


def compare(expected: Result, actual: Result) -> list[str]:
    """The keys whose values differ (counts exactly, rates to 1e-9 relative, money to a cent)."""
    return [key for key in expected if not _close(expected[key], actual.get(key), key)]


# Imported before the clock starts: start-up costs are not what is measured.
PRELOAD = {
    "project": (
        "lib.data",
        "lib.funnel",
        "lib.retention",
        "lib.repurchase",
        "ibis.backends.duckdb",
    ),
    "pandas": ("pandas", "pyarrow.parquet"),
    "pandas-whole": ("pandas", "pyarrow.parquet"),
    "polars": ("polars",),
}


def main(argv: list[str]) -> None:
    impl, metric, folder, start, end, timezone = argv
    spec = Spec(Path(folder), start, end, timezone)
    function = implementation(impl, metric)
    for module in PRELOAD[impl]:
        importlib.import_module(module)
    began = time.perf_counter()
    result = function(spec)
    seconds = time.perf_counter() - began
    print(json.dumps({"seconds": seconds, "result": result}))


if __name__ == "__main__":
    main(sys.argv[1:])
