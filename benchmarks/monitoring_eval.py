"""How well the monitoring finds known incidents: lib/monitoring.py against the old band.

    .venv/bin/python benchmarks/monitoring_eval.py [--replicates 30] [--seed 2025]

Simulates shops at three volumes (about 25, 500 and 20,000 funnel entrants a day) for 120 days:
a funnel view_item → add_to_cart (0.2) → begin_checkout (0.5) → purchase (0.8), traffic with
weekly seasonality (±20 %), conversion a little higher at the weekend (±5 %) and a small daily
wobble beyond sampling noise (3 % log-normal), as real shops have. In each replicate one step's
conversion falls to half (or a quarter) of its level for 3, 7 or 20 days, from a known day;
every fourth replicate has no incident at all. Both detectors see the four rate series (the
three steps and the whole funnel) and the first 28 days only as history.

- ``new``: :func:`lib.monitoring.detect` with its defaults (binomial test against the same
  weekday of the previous 28 days, scan windows of 1, 3 and 7 days, Benjamini–Hochberg at
  0.01, minimum effect 20 %).
- ``new, per_weekday=False``: the same with a baseline pooled over all 28 days.
- ``new, weekly``: :func:`lib.monitoring.detect_weekly` on the same series (ISO weeks, the
  previous four weeks as baseline); a week's incident counts from the Sunday that ends it, the
  day it could be known, and may start up to 6 days after the true end.
- ``old``: the band of :func:`lib.funnel.daily_conversion` before issue 17, re-implemented
  here on the same series for comparison only: the median of the previous 7 days' rates ± 3 ×
  1.4826 × MAD, at least ± 3 binomial standard errors, a day outside it flagged.

Both form incidents with :func:`lib.monitoring.incidents` (so only the detector differs). An
injected incident is **found** when an incident of its step's series, falling, starts between
3 days before its start and its end; **days late** = that start − the true start. Every other
incident is **false**, except a falling ``funnel_conversion`` overlapping the true incident
(the whole funnel really falls with its step). False incidents are counted per 1,000
series-days tested. Prints one Markdown table (docs/monitoring.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib import monitoring  # noqa: E402

DAYS = 120
HISTORY = 28
STEPS = (("add_to_cart", 0.2), ("begin_checkout", 0.5), ("purchase", 0.8))
VOLUMES = (25, 500, 20_000)
DURATIONS = (3, 7, 20)
FACTORS = (0.5, 0.25)
START = pd.Timestamp("2025-01-06")
WHOLE = "whole funnel"
WEEK = pd.Timedelta(days=6)

# the old band (lib/funnel.py daily_conversion before issue 17), for comparison only
OLD_BAND_DAYS = 7
OLD_K = 3.0
MAD_TO_SIGMA = 1.4826


def simulate(
    rng: np.random.Generator, entrants_per_day: int, incident: dict | None
) -> pd.DataFrame:
    """``date, series, step, k, n`` of the three step conversions and the whole funnel."""
    day = np.arange(DAYS)
    weekday = (START + pd.to_timedelta(day, unit="D")).day_of_week
    weekend = np.isin(weekday, (5, 6))
    traffic = entrants_per_day * (1 + 0.2 * np.sin(2 * np.pi * day / 7))
    entrants = rng.poisson(traffic)
    reached, frames = entrants, []
    dates = START + pd.to_timedelta(day, unit="D")
    for step, rate in STEPS:
        p = rate * np.where(weekend, 1.05, 0.98) * rng.lognormal(0.0, 0.03, DAYS)
        if incident and incident["step"] == step:
            inside = (day >= incident["start"]) & (day < incident["start"] + incident["days"])
            p = np.where(inside, p * incident["factor"], p)
        k = rng.binomial(reached, np.clip(p, 0, 1))
        frames.append(
            pd.DataFrame(
                {"date": dates, "series": "step_conversion", "step": step, "k": k, "n": reached}
            )
        )
        reached = k
    frames.append(
        pd.DataFrame(
            {
                "date": dates,
                "series": "funnel_conversion",
                "step": WHOLE,
                "k": reached,
                "n": entrants,
            }
        )
    )
    return pd.concat(frames, ignore_index=True)


def _mad(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(np.median(np.abs(values - np.median(values)))) if len(values) else np.nan


def old_band_days(rates: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    """The old method's flags as a :func:`lib.monitoring.incidents` input."""
    parts = []
    for (series, step), group in rates.groupby(["series", "step"], sort=True):
        group = group.sort_values("date")
        n = group["n"].astype("float64")
        rate = group["k"] / n.where(n > 0)
        history = rate.shift(1).rolling(OLD_BAND_DAYS, min_periods=(OLD_BAND_DAYS + 1) // 2)
        median = history.median()
        spread = MAD_TO_SIGMA * history.apply(_mad, raw=True)
        floor = np.sqrt(median * (1 - median) / n.where(n > 0))
        spread = OLD_K * np.maximum(spread, floor.fillna(0.0))
        low, high = (median - spread).clip(lower=0.0), (median + spread).clip(upper=1.0)
        direction = np.select([rate < low, rate > high], ["below", "above"], default="")
        parts.append(
            pd.DataFrame(
                {
                    "date": group["date"].to_numpy(),
                    "series": series,
                    "step": step,
                    "flagged": direction != "",
                    "direction": direction,
                    "has_value": (n > 0).to_numpy(),
                    "observed": group["k"].to_numpy(dtype="float64"),
                    "expected_total": (median * n).to_numpy(),
                }
            )
        )
    days = pd.concat(parts, ignore_index=True)
    return days[days["date"] >= start].reset_index(drop=True)


def score(
    found: pd.DataFrame, incident: dict | None, grace: int = 0
) -> tuple[bool | None, int | None, int]:
    """``(found, days late, false incidents)`` of one replicate; an incident may be found up to
    ``grace`` days after the true end (a week's alert comes on its Sunday)."""
    hit, late, allowed = None, None, set()
    if incident is not None:
        true_start = START + pd.Timedelta(days=incident["start"])
        true_end = true_start + pd.Timedelta(days=incident["days"] - 1)
        falling = found["direction"] == "below"
        at_step = found[falling & (found["step"] == incident["step"])]
        at_step = at_step[
            (at_step["start"] >= true_start - pd.Timedelta(days=3))
            & (at_step["start"] <= true_end + pd.Timedelta(days=grace))
        ]
        hit = len(at_step) > 0
        if hit:
            late = int((at_step["start"].min() - true_start).days)
        whole = found[falling & (found["step"] == WHOLE)]
        whole = whole[
            (whole["end"] >= true_start) & (whole["start"] <= true_end + pd.Timedelta(days=grace))
        ]
        allowed = set(at_step["incident_id"]) | set(whole["incident_id"])
    false = int((~found["incident_id"].isin(allowed)).sum())
    return hit, late, false


def evaluate(replicates: int, seed: int) -> pd.DataFrame:
    rows = []
    start = START + pd.Timedelta(days=HISTORY)
    series_days = len(STEPS) + 1
    for volume in VOLUMES:
        rng = np.random.default_rng([seed, volume])
        tally = {
            name: {"found": 0, "late": [], "false": 0, "seconds": 0.0, "by": {}} for name in METHODS
        }
        injected = 0
        for replicate in range(replicates):
            incident = None
            if replicate % 4 != 3:
                injected += 1
                incident = {
                    "step": STEPS[replicate % len(STEPS)][0],
                    "start": int(rng.integers(HISTORY + 14, DAYS - 25)),
                    "days": DURATIONS[replicate % len(DURATIONS)],
                    "factor": FACTORS[(replicate // len(DURATIONS)) % len(FACTORS)],
                }
            rates = simulate(rng, volume, incident)
            for name, method in METHODS.items():
                began = time.perf_counter()
                found = method(rates, start)
                tally[name]["seconds"] += time.perf_counter() - began
                hit, late, false = score(found, incident, 6 if method is _weekly else 0)
                tally[name]["found"] += bool(hit)
                if incident is not None:
                    kind = (incident["days"], incident["factor"])
                    seen, total = tally[name]["by"].get(kind, (0, 0))
                    tally[name]["by"][kind] = (seen + bool(hit), total + 1)
                if late is not None:
                    tally[name]["late"].append(late)
                tally[name]["false"] += false
        tested = replicates * series_days * (DAYS - HISTORY)
        for name, counts in tally.items():
            late = counts["late"]
            rows.append(
                {
                    "entrants/day": f"{volume:,}",
                    "method": name,
                    "incidents found": f"{counts['found']} / {injected}",
                    "found by days × size": " ".join(
                        f"{days}d×{factor:g}:{seen}/{total}"
                        for (days, factor), (seen, total) in sorted(counts["by"].items())
                    ),
                    "days late (mean, max)": (f"{np.mean(late):.1f}, {max(late)}" if late else "–"),
                    "false incidents": counts["false"],
                    "false per 1,000 series-days": round(1000 * counts["false"] / tested, 2),
                    "seconds per shop": round(counts["seconds"] / replicates, 2),
                }
            )
    return pd.DataFrame(rows)


def _new(rates: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    return monitoring.detect(rates, start=start, per_weekday=True).incidents


def _new_pooled(rates: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    return monitoring.detect(rates, start=start, per_weekday=False).incidents


def _weekly(rates: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    found = monitoring.detect_weekly(rates, start=start).incidents
    # a week's alert is known on its Sunday: count it from then, and let it span the week
    return found.assign(start=found["start"] + pd.Timedelta(days=6), end=found["end"] + WEEK)


def _old(rates: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    return monitoring.incidents(old_band_days(rates, start))[0]


METHODS = {
    "new": _new,
    "new, per_weekday=False": _new_pooled,
    "new, weekly": _weekly,
    "old (median ± 3·MAD, 7 days)": _old,
}


def markdown(table: pd.DataFrame) -> str:
    """A Markdown table (tabulate is not among the project's packages)."""
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.to_numpy()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    table = evaluate(args.replicates, args.seed)
    print(markdown(table))


if __name__ == "__main__":
    main()
