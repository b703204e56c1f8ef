"""How often a campaign that did nothing comes out "significant": the false-positive rate of the
campaign effects' 95 % intervals (lib/campaigns.py), measured on placebo campaigns.

A placebo is a campaign on a scope (each category, each channel) over a week in which the shop
ran nothing planted on it; its true effect is 0 for every metric, so an interval that excludes 0
is a false positive. An honest 95 % interval does that for about 5 % of the placebos (with 26
scopes × weeks, a rate between about 1 % and 11 % is within the noise of the count).

Run on the bundled sample (its planted campaigns start on 2025-09-28; the placebo weeks and
their baselines lie before):

    .venv/bin/python benchmarks/campaign_placebos.py
    .venv/bin/python benchmarks/campaign_placebos.py --source benchmarks/data/events_10m \\
        --weeks 2025-09-01 2025-09-08
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib import campaigns, data  # noqa: E402
from lib.periods import Period  # noqa: E402

DEFAULT_WEEKS = ("2025-09-08", "2025-09-15")
DAYS = 7


def placebo_campaigns(categories: list[str], channels: list[str], weeks: list[str]) -> pd.DataFrame:
    """One campaign per scope and week: ``campaign_id, name, start_date, end_date, kind,
    category, channel, discount_rate`` (no discount)."""
    rows = []
    for week in weeks:
        start = dt.date.fromisoformat(week)
        end = start + dt.timedelta(days=DAYS - 1)
        scopes = [("category", c) for c in categories] + [("channel", c) for c in channels]
        for kind, value in scopes:
            rows.append(
                {
                    "campaign_id": f"P{len(rows) + 1:03d}",
                    "name": f"placebo {kind} {value} {week}",
                    "start_date": start,
                    "end_date": end,
                    "kind": "placebo",
                    "category": value if kind == "category" else None,
                    "channel": value if kind == "channel" else None,
                    "discount_rate": None,
                }
            )
    return pd.DataFrame(rows)


def false_positive_rates(effects: pd.DataFrame) -> pd.DataFrame:
    """``method, metric, placebos, significant, rate``: the share of intervals excluding 0."""
    rated = effects.dropna(subset=["ci_low", "ci_high"])
    significant = (rated["ci_low"] > 0) | (rated["ci_high"] < 0)
    table = (
        rated.assign(significant=significant)
        .groupby(["method", "metric"])["significant"]
        .agg(placebos="size", significant="sum")
        .reset_index()
    )
    table["rate"] = table["significant"] / table["placebos"]
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=None, help="a folder of Parquet (default: the sample)")
    parser.add_argument("--weeks", nargs="+", default=list(DEFAULT_WEEKS), help="first days")
    parser.add_argument("--timezone", default="Asia/Shanghai")
    args = parser.parse_args(argv)
    src = data.open_source(args.source)
    products, events = src["products"], src["events"]
    categories = sorted(products.select("category").distinct().to_pandas()["category"].dropna())
    channels = sorted(events.select("channel").distinct().to_pandas()["channel"].dropna())
    placebos = placebo_campaigns(categories, channels, args.weeks)
    first = min(args.weeks)
    last = dt.date.fromisoformat(max(args.weeks)) + dt.timedelta(days=DAYS - 1)
    period = Period(first, last.isoformat(), args.timezone)
    effects = campaigns.campaign_effects(
        placebos, src["orders"], src["order_items"], products, events, period
    )
    print(f"{len(placebos)} placebo campaigns ({len(categories)} categories, {len(channels)} ")
    print(f"channels, weeks from {', '.join(args.weeks)}) on {src.description}")
    print(false_positive_rates(effects).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
