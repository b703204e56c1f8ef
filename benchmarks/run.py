"""Time the core metrics and a plain-pandas baseline of the same metrics, in one process.

    python benchmarks/run.py [--source DIR] [--start 2025-10-15 --end 2025-11-14]

Prints, per metric, wall time for the project (Ibis on DuckDB, querying Parquet in place) and for
the way an analyst would write it in pandas (read the Parquet, then groupby/merge), the ratio
baseline / project, and checks that both give the same numbers. Figures, not pass/fail: speed
targets live here, never in unit tests. Larger data sets: ``python -m lib.simulate --events N``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from lib import data, gmv, repurchase, retention, traffic
from lib.periods import Period


def timed(function: Callable[[], object]) -> tuple[float, object]:
    began = time.perf_counter()
    result = function()
    return time.perf_counter() - began, result


def pandas_events(folder: Path, period: Period) -> pd.DataFrame:
    """What an analyst does first: read the events, add the local day."""
    events = pd.read_parquet(folder / "events.parquet", columns=["event_time", "user_id"])
    local = events["event_time"].dt.tz_localize("UTC").dt.tz_convert(period.timezone)
    events["day"] = local.dt.tz_localize(None).dt.normalize()
    return events


def pandas_traffic(folder: Path, period: Period) -> pd.DataFrame:
    events = pandas_events(folder, period)
    days = pd.date_range(period.start, period.end)
    user_days = events[["user_id", "day"]].drop_duplicates()
    rows = []
    for day in days:
        window = user_days[
            (user_days["day"] > day - pd.Timedelta(days=30)) & (user_days["day"] <= day)
        ]
        week = window[window["day"] > day - pd.Timedelta(days=7)]
        rows.append(
            {
                "date": day,
                "dau": int((window["day"] == day).sum()),
                "wau": week["user_id"].nunique(),
                "mau": window["user_id"].nunique(),
            }
        )
    return pd.DataFrame(rows)


def pandas_repurchase(folder: Path, period: Period) -> pd.DataFrame:
    orders = pd.read_parquet(folder / "orders.parquet")
    paid = orders[orders["paid_time"].notna() & (orders["status"] != "cancelled")].copy()
    local = paid["paid_time"].dt.tz_localize("UTC").dt.tz_convert(period.timezone).dt.date
    paid = paid[(local >= period.start) & (local <= period.end)]
    per_buyer = paid.groupby("user_id").size()
    return pd.DataFrame(
        {"buyers": [len(per_buyer)], "repeat_buyers": [int((per_buyer >= 2).sum())]}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=data.SAMPLE_DIR)
    parser.add_argument("--start", default="2025-10-15")
    parser.add_argument("--end", default="2025-11-14")
    parser.add_argument("--timezone", default="Asia/Shanghai")
    args = parser.parse_args()

    period = Period(args.start, args.end, args.timezone)
    src = data.open_source(args.source)
    events, orders = src["events"], src["orders"]
    n_events = int(events.count().to_pandas())
    print(f"source {args.source}: {n_events:,} events; period {period.start}..{period.end}")
    print(f"{'metric':<22}{'project s':>10}{'pandas s':>10}{'ratio':>8}{'events/s':>14}")

    project_traffic_s, project_traffic = timed(lambda: traffic.daily_traffic(events, period))
    pandas_traffic_s, baseline_traffic = timed(lambda: pandas_traffic(args.source, period))
    for column in ("dau", "wau", "mau"):
        assert project_traffic[column].tolist() == baseline_traffic[column].tolist(), column
    report("DAU/WAU/MAU", project_traffic_s, pandas_traffic_s, n_events)

    project_rep_s, project_rep = timed(lambda: repurchase.repurchase_summary(orders, period))
    pandas_rep_s, baseline_rep = timed(lambda: pandas_repurchase(args.source, period))
    assert project_rep[["buyers", "repeat_buyers"]].to_dict() == baseline_rep.to_dict()
    report("repurchase", project_rep_s, pandas_rep_s, n_events)

    for name, function in {
        "gmv_daily": lambda: gmv.gmv_daily(orders, period, events),
        "cohort_retention": lambda: retention.cohort_retention(events, period),
    }.items():
        seconds, _ = timed(function)
        report(name, seconds, None, n_events)
    print(f"finished {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")


def report(name: str, project_s: float, baseline_s: float | None, n_events: int) -> None:
    ratio = f"{baseline_s / project_s:7.1f}x" if baseline_s else f"{'-':>8}"
    baseline = f"{baseline_s:10.2f}" if baseline_s else f"{'-':>10}"
    print(f"{name:<22}{project_s:10.2f}{baseline}{ratio}{n_events / project_s:14,.0f}")


if __name__ == "__main__":
    main()
