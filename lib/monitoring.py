"""Monitoring (风险识别与预警): which of the shop's daily series moved beyond their noise, when,
at which funnel step, and what it cost.

The shop's daily series come in two kinds (docs/monitoring.md explains the method for analysts):

- **Rates**, ``date, series, step, k, n``: ``k`` successes out of ``n`` trials per local day. A
  funnel step's conversion from the previous step (``step_conversion``, ``step`` = the step
  reached), the whole funnel (``funnel_conversion``), payment success (paid orders / placed
  orders by local order day), the refund rate (refunded / paid orders by local payment day) and
  on-time shipping (orders shipped within ``ship_sla_hours`` of payment / shipped orders, by
  local payment day). Built by :func:`funnel_series`, :func:`order_series` and
  :func:`shipping_series` from the lib functions that already define them.
- **Counts and amounts**, ``date, series, step, value`` (and ``count``, the number of orders
  behind an amount): UV, orders, buyers, GMV, average order value, stock-out SKUs and late
  shipments (:func:`count_series`, :func:`shipping_series`).

The tests (:func:`rate_tests`, :func:`count_tests`):

- A rate's day is tested against ``p0 = Σk / Σn`` pooled over the ``baseline_days`` days
  before it (with ``per_weekday``, the default, only the same weekday in those days: conversion
  often differs by weekday, and at high volume a pooled baseline calls every weekend unusual;
  docs/monitoring.md has the evaluation) by a two-sided exact
  binomial test: ``p = min(1, 2 · min(P(X ≤ k), P(X ≥ k)))`` with ``X ~ Binomial(n, p0)``. The
  band ``lower … upper`` is the central ``1 − alert_fdr`` interval of ``k / n`` under ``p0``,
  so a point outside the band is a day the test finds unusual. A day with ``n = 0`` has no
  value, no test and is never flagged; a day whose baseline has no trials has no test. The test
  uses ``p0`` shrunk by half a success in one trial (Jeffreys), which only matters when the
  baseline saw no success (or no failure): a rate it never saw is then rare, not impossible.
- Low-volume rates are also tested over **scan windows**: the 3 and 7 days ending on a day
  against the baseline before them (:data:`SCAN_WINDOWS`). At 25 entrants a day the last step
  sees about four trials; no single day can show that its conversion fell from 0.8 to 0.2,
  three days can. A day is flagged by the evidence of the window ending on it, so an alert is
  raised on the day it could have been known, never earlier.
- A count's expected value is the mean of the same weekday over the ``baseline_weeks`` weeks
  before (shops have strong weekly seasonality), its standard deviation the larger of the
  empirical one of those values and the sampling noise of a count: Poisson ``sqrt(expected)``
  (at least 1, so a count that was 0 for a month and is 1 today is no alert). Four values give
  a very uncertain spread; the floor keeps a lucky quiet month from making every day an alert.
  Amounts (GMV) take the floor of the orders behind them, ``expected · sqrt(2 / expected
  orders)``: the noise of a sum of a Poisson number of orders whose values vary as much as they
  average (a coefficient of variation of 1, typical of order values). A mean (AOV) takes
  ``expected / sqrt(orders of the day)``: the noise of a mean of that many such orders. The
  expected value is itself a mean of m baseline values, so ``sd`` is multiplied by
  ``sqrt(1 + 1/m)`` (the spread of a prediction). ``p`` is two-sided from the normal
  approximation of ``z = (value − expected) / sd``; the band is ``expected ± z_(1 − alert_fdr/2)
  · sd`` (never below 0). A few events a day are far from normal, so a count's p-value is the
  larger of that and the exact test of the day's count against the baseline's total (under one
  Poisson rate the day holds ``1/(m+1)`` of them, a binomial test); an amount's likewise uses
  the exact test of the orders behind it, so GMV is flagged only when its orders moved too (a
  change of order value alone is the AOV's alert).

Flags (:func:`_flagged_days`): a day is flagged when its test passes both rules, kept apart so
each can be checked: the Benjamini–Hochberg procedure over every series and day tested
together (:func:`benjamini_hochberg`; a rate's scan windows make one p-value per day, the
smallest times the number of windows, false discovery rate ``alert_fdr``; statsmodels is not
installed, so it is written here) and a minimum relative effect ``|value / expected − 1| ≥
min_effect`` (:func:`large_effect`), so that a 2 % wobble at 20,000 entrants a day is no alert.
Days inside an incident leave the baselines of later days (the detection is repeated until no
new day joins an incident), and a rate's pooled baseline looks further back, up to twice
``baseline_days``, for ``baseline_days`` days outside incidents: a three-week fall would
otherwise become its own baseline, end early and turn the recovery into an "above" alert (per
weekday likewise: up to twice as many weeks back for as many same weekdays). A lasting change
becomes the new normal once it fills the baseline (after about twice ``baseline_days`` for
rates, ``baseline_weeks`` for counts). Once an incident has begun, a day continues it on weaker
evidence than a new one needs (:func:`_flagged_days`).

Incidents (:func:`incidents`): consecutive flagged days of one series and step with one
direction. Days without trials (``n = 0``) or without a value in between neither break nor
extend an incident: they cannot say that it ended; nor does one unflagged day between two
flagged ones (:data:`MAX_GAP_DAYS`): at a few trials a day, one day of an ongoing fall looks
normal by chance. ``days`` counts the days from start to end; ``expected`` is Σ expected over
them (for a rate the expected successes Σ p0 · n), ``observed`` Σ k (rates) or Σ value, and
``impact = observed − expected`` in the series' unit (conversions lost are negative; GMV lost
is negative money).

Alerts (``ALERT_COLUMNS``): one row per flagged day; ``value, expected, lower, upper`` are the
day's own, ``p_value`` and ``direction`` those of the test that flagged it (for a rate, its
strongest scan window, its p-value times the number of windows), so at low volume a flagged
day's own point may sit inside its band.

Weekly monitoring (:func:`detect_weekly`) runs the same tests on ISO weeks (Monday to Sunday of
the local days): rates sum ``k`` and ``n``, counts and amounts their values (a mean: weighted by
its count), over complete weeks only; a rate's baseline is the ``baseline_days // 7`` weeks
before, a count's the ``baseline_weeks`` weeks before. ``date`` is the week's Monday.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from lib import parameters
from lib.data import Source, coverage
from lib.definitions import paid_orders, paid_orders_in
from lib.funnel import DEFAULT_WINDOW_DAYS, _check_steps, _reach, main_path, path_name
from lib.gmv import gmv_daily
from lib.periods import Period, to_timestamps
from lib.supply.fulfilment import SHIP_SLA_HOURS, fulfilment_daily
from lib.supply.stockouts import stockouts_daily
from lib.traffic import active_and_new_users

DEFAULT_BASELINE_DAYS = parameters.default("baseline_days")
DEFAULT_BASELINE_WEEKS = parameters.default("baseline_weeks")
DEFAULT_PER_WEEKDAY = parameters.default("per_weekday")
DEFAULT_ALERT_FDR = parameters.default("alert_fdr")
DEFAULT_MIN_EFFECT = parameters.default("min_effect")

# Days tested together, ending on the day flagged (see the module docstring).
SCAN_WINDOWS = (1, 3, 7)
# A count needs this many of its same-weekday baseline values (an empirical spread needs two;
# three keeps one odd week from setting the band alone).
MIN_BASELINE_VALUES = 3
# Detection is repeated with the flagged days left out of the baselines until nothing changes;
# it converges in two or three passes, the cap only guards against a pathological series.
MAX_PASSES = 6
# Unflagged days (with a value) an incident may span: at a few trials a day one day of an
# ongoing fall can look normal by chance, and should not split it in two.
MAX_GAP_DAYS = 1

RATE_COLUMNS = ["date", "series", "step", "k", "n"]
COUNT_COLUMNS = ["date", "series", "step", "value"]
ALERT_COLUMNS = [
    "date",
    "series",
    "step",
    "value",
    "expected",
    "lower",
    "upper",
    "p_value",
    "direction",
    "incident_id",
]
INCIDENT_COLUMNS = [
    "incident_id",
    "series",
    "step",
    "start",
    "end",
    "days",
    "direction",
    "expected",
    "observed",
    "impact",
]
DAY_COLUMNS = [
    "date",
    "series",
    "step",
    "value",
    "expected",
    "lower",
    "upper",
    "p_value",
    "direction",
    "observed",
    "expected_total",
    "has_value",
]

# How each count series' noise floor is worked out (module docstring); others are counts.
AMOUNT_SERIES = ("gmv",)
MEAN_SERIES = ("aov",)
KEYS = ["series", "step"]


# --------------------------------------------------------------------------------------------
# The two flagging rules


def benjamini_hochberg(p_values: Sequence[float] | np.ndarray, fdr: float) -> np.ndarray:
    """Which of ``p_values`` the Benjamini–Hochberg procedure rejects at false discovery rate
    ``fdr``: with the m non-missing p-values sorted, ``p_(1) ≤ … ≤ p_(m)``, the largest i with
    ``p_(i) ≤ i · fdr / m`` sets the cut, and every p-value up to ``p_(i)`` is rejected. Missing
    p-values (no test) are neither rejected nor counted in m."""
    p = np.asarray(p_values, dtype="float64")
    rejected = np.zeros(p.shape, dtype=bool)
    tested = ~np.isnan(p)
    m = int(tested.sum())
    if m == 0:
        return rejected
    ranked = np.sort(p[tested])
    passing = np.flatnonzero(ranked <= fdr * np.arange(1, m + 1) / m)
    if len(passing) == 0:
        return rejected
    cut = ranked[passing[-1]]
    rejected[tested] = p[tested] <= cut
    return rejected


def relative_effect(value: np.ndarray | pd.Series, expected: np.ndarray | pd.Series) -> np.ndarray:
    """``|value / expected − 1|``: infinite when only ``expected`` is 0, 0 when both are."""
    value = np.asarray(value, dtype="float64")
    expected = np.asarray(expected, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        effect = np.abs(value / expected - 1)
    effect = np.where((expected == 0) & (value != 0), np.inf, effect)
    return np.where((expected == 0) & (value == 0), 0.0, effect)


def large_effect(
    value: np.ndarray | pd.Series,
    expected: np.ndarray | pd.Series,
    min_effect: float = DEFAULT_MIN_EFFECT,
) -> np.ndarray:
    """Whether ``|value / expected − 1| ≥ min_effect`` (:func:`relative_effect`); False where
    either is missing."""
    parameters.check("min_effect", min_effect)
    effect = relative_effect(value, expected)
    return ~np.isnan(effect) & (effect >= min_effect)


# --------------------------------------------------------------------------------------------
# Tests of one series


def _direction(value: np.ndarray, expected: np.ndarray) -> np.ndarray:
    return np.select([value > expected, value < expected], ["above", "below"], default="")


def _span(cumulative: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Sums over rows ``[lo, hi)`` from a cumulative sum with a leading 0 (bounds clipped)."""
    size = len(cumulative) - 1
    return cumulative[np.clip(hi, 0, size)] - cumulative[np.clip(lo, 0, size)]


def _binomial(
    k: np.ndarray, n: np.ndarray, base_k: np.ndarray, base_n: np.ndarray, alpha: float
) -> dict[str, np.ndarray]:
    """The exact test and band of ``k`` of ``n`` against the pooled baseline (module docstring)."""
    tested = (n > 0) & (base_n > 0)
    safe_n = np.where(tested, n, 1)
    p0 = np.where(tested, base_k / np.where(base_n > 0, base_n, 1), np.nan)
    shrunk = np.where(tested, (base_k + 0.5) / (base_n + 1), 0.5)
    low_tail = scipy_stats.binom.cdf(k, safe_n, shrunk)
    high_tail = scipy_stats.binom.sf(k - 1, safe_n, shrunk)
    p_value = np.where(tested, np.minimum(1.0, 2 * np.minimum(low_tail, high_tail)), np.nan)
    lower = scipy_stats.binom.ppf(alpha / 2, safe_n, shrunk) / safe_n
    upper = scipy_stats.binom.ppf(1 - alpha / 2, safe_n, shrunk) / safe_n
    value = np.where(n > 0, k / np.where(n > 0, n, 1), np.nan)
    return {
        "value": value,
        "expected": p0,
        "lower": np.where(tested, lower, np.nan),
        "upper": np.where(tested, upper, np.nan),
        "p_value": p_value,
        "direction": np.where(tested, _direction(value, p0), ""),
    }


def _rate_one(
    k: np.ndarray,
    n: np.ndarray,
    excluded: np.ndarray,
    baseline_rows: int,
    season: int | None,
    windows: Sequence[int],
    alpha: float,
) -> tuple[dict[str, np.ndarray], list[dict[str, np.ndarray]]]:
    """One contiguous rate series: the day's own test, and one test per scan window.

    The baseline of a window of ``w`` rows ending on row d is the ``baseline_rows`` rows before
    the window that are not ``excluded``, looking back at most ``2 · baseline_rows`` rows
    (``season`` None), or the same window ``season``, 2·``season``, … rows earlier until
    ``baseline_rows // season`` windows' worth of rows not ``excluded`` are in, looking back at
    most twice as many seasons (per weekday).
    """
    rows = np.arange(len(k))
    total_k = np.concatenate([[0.0], np.cumsum(k)])
    total_n = np.concatenate([[0.0], np.cumsum(n)])
    kept_k = np.concatenate([[0.0], np.cumsum(np.where(excluded, 0.0, k))])
    kept_n = np.concatenate([[0.0], np.cumsum(np.where(excluded, 0.0, n))])
    kept_rows = np.concatenate([[0], np.cumsum(~excluded)])
    scans = []
    day: dict[str, np.ndarray] = {}
    for width in windows:
        first = rows - width + 1
        whole = first >= 0
        window_k = np.where(whole, _span(total_k, first, rows + 1), 0.0)
        window_n = np.where(whole, _span(total_n, first, rows + 1), 0.0)
        if season is None:
            # the baseline_rows kept rows before the window, looking back at most twice as far
            target = kept_rows[np.clip(first, 0, len(k))] - baseline_rows
            back = np.searchsorted(kept_rows, target, side="right") - 1
            back = np.maximum(np.maximum(back, 0), first - 2 * baseline_rows)
            base_k = _span(kept_k, back, first)
            base_n = _span(kept_n, back, first)
        else:
            # the same window 1, 2, … seasons earlier, until baseline_rows // season of them
            # (in kept rows) are in, looking back at most twice as far
            wanted = (baseline_rows // season) * width
            base_k, base_n, taken = np.zeros(len(k)), np.zeros(len(k)), np.zeros(len(k))
            for shift in range(season, 2 * (baseline_rows // season) * season + 1, season):
                use = (first - shift >= 0) & (taken < wanted)
                lo, hi = first - shift, rows + 1 - shift
                base_k += np.where(use, _span(kept_k, lo, hi), 0.0)
                base_n += np.where(use, _span(kept_n, lo, hi), 0.0)
                taken += np.where(use, _span(kept_rows, lo, hi), 0)
        test = _binomial(window_k, window_n, base_k, base_n, alpha)
        scans.append(test)
        if width == 1:
            day = test
            day["observed"] = k
            day["expected_total"] = test["expected"] * n
    return day, scans


def _count_one(
    value: np.ndarray,
    count: np.ndarray,
    excluded: np.ndarray,
    lag: int,
    lags: int,
    kind: str,
    alpha: float,
) -> dict[str, np.ndarray]:
    """One contiguous count series tested against its values ``lag``, 2·``lag``, … ``lags``·``lag``
    rows before (module docstring); ``kind`` is ``count``, ``amount`` or ``mean``."""
    size = len(value)
    kept = np.where(excluded, np.nan, value)
    kept_count = np.where(excluded, np.nan, count)
    history = np.full((lags, size), np.nan)
    counts = np.full((lags, size), np.nan)
    for j in range(1, lags + 1):
        if j * lag < size:
            history[j - 1, j * lag :] = kept[: size - j * lag]
            counts[j - 1, j * lag :] = kept_count[: size - j * lag]
    used = (~np.isnan(history)).sum(axis=0)
    enough = used >= min(MIN_BASELINE_VALUES, lags)
    # all-missing columns (no baseline yet) give NaN with a warning; they are not tested
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanmean(history, axis=0)
        spread = np.nanstd(history, axis=0, ddof=1) if lags > 1 else np.zeros(size)
        if kind == "amount":
            orders = np.nanmean(counts, axis=0)
            floor = expected * np.sqrt(2.0 / np.maximum(orders, 1.0))
        elif kind == "mean":
            floor = expected / np.sqrt(np.maximum(count, 1.0))
        else:
            floor = np.sqrt(np.maximum(expected, 1.0))
    # the expected value is itself a mean of `used` values: a prediction's variance is
    # σ² (1 + 1/m), not σ²
    sd = np.fmax(np.nan_to_num(spread, nan=0.0), floor) * np.sqrt(1 + 1 / np.maximum(used, 1))
    tested = enough & ~np.isnan(value) & (sd > 0)
    expected = np.where(enough, expected, np.nan)
    z = np.where(tested, (value - expected) / np.where(sd > 0, sd, 1.0), np.nan)
    p_value = np.where(tested, 2 * scipy_stats.norm.sf(np.abs(z)), np.nan)
    if kind in ("count", "amount"):
        # a few events a day are far from normal: also ask the exact test of the day's count
        # (for an amount, of the orders behind it) against the baseline's total (same Poisson
        # rate: the day holds 1/(m+1) of the two), and keep the larger p-value, so a flag
        # needs both
        behind = history if kind == "count" else counts
        total = np.nan_to_num(np.nansum(behind, axis=0))
        own = np.nan_to_num(value if kind == "count" else count)
        trials = np.maximum(np.round(own + total), 0)
        share = 1 / (np.maximum(used, 1) + 1)
        low_tail = scipy_stats.binom.cdf(own, trials, share)
        high_tail = scipy_stats.binom.sf(own - 1, trials, share)
        exact = np.minimum(1.0, 2 * np.minimum(low_tail, high_tail))
        p_value = np.where(tested, np.fmax(p_value, exact), np.nan)
    half = scipy_stats.norm.ppf(1 - alpha / 2) * sd
    return {
        "value": value,
        "expected": expected,
        "lower": np.where(tested, np.maximum(expected - half, 0.0), np.nan),
        "upper": np.where(tested, expected + half, np.nan),
        "p_value": p_value,
        "direction": np.where(tested, _direction(value, expected), ""),
        "observed": value,
        "expected_total": expected,
    }


# --------------------------------------------------------------------------------------------
# Tests of many series


def _contiguous(group: pd.DataFrame, step_days: int, fill: dict[str, float]) -> pd.DataFrame:
    """One series' rows on every date from its first to its last, ``step_days`` apart."""
    dates = pd.date_range(group["date"].min(), group["date"].max(), freq=f"{step_days}D")
    frame = group.set_index("date").reindex(dates)
    frame.index.name = "date"
    return frame.fillna(fill).reset_index()


def _series_groups(frame: pd.DataFrame):
    frame = frame.assign(date=pd.to_datetime(frame["date"]).astype("datetime64[ns]"))
    frame = frame.assign(step=frame["step"].fillna("").astype(str))
    return frame.sort_values([*KEYS, "date"], kind="stable").groupby(KEYS, sort=True)


def _excluded_rows(days: pd.DataFrame, excluded: set | None) -> np.ndarray:
    if not excluded:
        return np.zeros(len(days), dtype=bool)
    keys = zip(days["series"], days["step"], days["date"], strict=True)
    return np.fromiter((key in excluded for key in keys), dtype=bool, count=len(days))


def _day_frame(group: pd.DataFrame, series: str, step: str, day: dict) -> pd.DataFrame:
    frame = pd.DataFrame({"date": group["date"].to_numpy(), "series": series, "step": step})
    for column in DAY_COLUMNS[3:-1]:
        frame[column] = day[column]
    return frame


def _rate_frames(
    rates: pd.DataFrame,
    baseline_days: int,
    per_weekday: bool,
    windows: Sequence[int],
    alpha: float,
    step_days: int,
    excluded: set | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per series-day: the day's own test (``DAY_COLUMNS``); and every scan window's test:
    ``date, series, step, window, p_value, direction, value, expected``."""
    parameters.check("baseline_days", baseline_days)
    days, scans = [], []
    baseline_rows = baseline_days if step_days == 1 else max(1, baseline_days // step_days)
    season = 7 if per_weekday and step_days == 1 else None
    for (series, step), group in _series_groups(rates[RATE_COLUMNS]):
        group = _contiguous(group.drop(columns=KEYS), step_days, {"k": 0.0, "n": 0.0})
        k = group["k"].to_numpy(dtype="float64")
        n = group["n"].to_numpy(dtype="float64")
        frame = pd.DataFrame({"date": group["date"], "series": series, "step": step})
        drop = _excluded_rows(frame, excluded)
        day, tests = _rate_one(k, n, drop, baseline_rows, season, windows, alpha)
        day_frame = _day_frame(group, series, step, day)
        day_frame["has_value"] = n > 0
        days.append(day_frame)
        for width, test in zip(windows, tests, strict=True):
            scan = frame.assign(window=width)
            for column in ("p_value", "direction", "value", "expected"):
                scan[column] = test[column]
            scans.append(scan)
    return _concat(days, DAY_COLUMNS), _concat(scans, SCAN_COLUMNS)


SCAN_COLUMNS = ["date", "series", "step", "window", "p_value", "direction", "value", "expected"]


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def _kind(series: str) -> str:
    if series in AMOUNT_SERIES:
        return "amount"
    return "mean" if series in MEAN_SERIES else "count"


def _count_frames(
    counts: pd.DataFrame,
    baseline_weeks: int,
    alpha: float,
    step_days: int,
    excluded: set | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`_rate_frames` for counts and amounts: one test per day (no scan windows)."""
    parameters.check("baseline_weeks", baseline_weeks)
    days, scans = [], []
    frame = counts if "count" in counts.columns else counts.assign(count=np.nan)
    for (series, step), group in _series_groups(frame[[*COUNT_COLUMNS, "count"]]):
        group = _contiguous(group.drop(columns=KEYS), step_days, {})
        value = group["value"].to_numpy(dtype="float64")
        count = group["count"].to_numpy(dtype="float64")
        keys = pd.DataFrame({"date": group["date"], "series": series, "step": step})
        drop = _excluded_rows(keys, excluded)
        lag = 7 if step_days == 1 else 1
        day = _count_one(value, count, drop, lag, baseline_weeks, _kind(series), alpha)
        day_frame = _day_frame(group, series, step, day)
        day_frame["has_value"] = ~np.isnan(value)
        days.append(day_frame)
        scan = keys.assign(window=1)
        for column in ("p_value", "direction", "value", "expected"):
            scan[column] = day[column]
        scans.append(scan)
    return _concat(days, DAY_COLUMNS), _concat(scans, SCAN_COLUMNS)


def rate_tests(
    rates: pd.DataFrame,
    *,
    baseline_days: int = DEFAULT_BASELINE_DAYS,
    per_weekday: bool = DEFAULT_PER_WEEKDAY,
    alert_fdr: float = DEFAULT_ALERT_FDR,
) -> pd.DataFrame:
    """Each day of each rate series (``date, series, step, k, n``; missing days have no trials)
    tested alone against its baseline: ``date, series, step, k, n, value`` (k / n),
    ``expected`` (p0), ``lower, upper`` (the central 1 − ``alert_fdr`` interval of k / n under
    p0), ``p_value`` (exact two-sided binomial), ``direction`` (``above``/``below``). Days with
    n = 0 or without baseline trials have no p-value. Module docstring: the method."""
    parameters.check("alert_fdr", alert_fdr)
    days, _ = _rate_frames(rates, baseline_days, per_weekday, (1,), alert_fdr, 1, None)
    counts = rates.assign(date=pd.to_datetime(rates["date"]).astype("datetime64[ns]"))
    counts = counts.assign(step=counts["step"].fillna("").astype(str))[RATE_COLUMNS]
    days = days.merge(counts, on=["date", *KEYS], how="left").fillna({"k": 0, "n": 0})
    columns = ["date", *KEYS, "k", "n", *DAY_COLUMNS[3:9]]
    return days[columns].sort_values([*KEYS, "date"], kind="stable").reset_index(drop=True)


def count_tests(
    counts: pd.DataFrame,
    *,
    baseline_weeks: int = DEFAULT_BASELINE_WEEKS,
    alert_fdr: float = DEFAULT_ALERT_FDR,
) -> pd.DataFrame:
    """Each day of each count series (``date, series, step, value`` and, for ``gmv`` and
    ``aov``, ``count``: the orders behind them) against the same weekday of the
    ``baseline_weeks`` weeks before: ``date, series, step, value, expected, lower, upper,
    p_value, direction``. Module docstring: the method and its noise floor."""
    parameters.check("alert_fdr", alert_fdr)
    days, _ = _count_frames(counts, baseline_weeks, alert_fdr, 1, None)
    return days[DAY_COLUMNS[:9]].sort_values([*KEYS, "date"], kind="stable").reset_index(drop=True)


def flag_tests(
    tests: pd.DataFrame,
    alert_fdr: float = DEFAULT_ALERT_FDR,
    min_effect: float = DEFAULT_MIN_EFFECT,
) -> np.ndarray:
    """Which rows of ``tests`` (columns ``p_value, value, expected``) pass both rules:
    :func:`benjamini_hochberg` over all of them together and :func:`large_effect`."""
    parameters.check("alert_fdr", alert_fdr)
    significant = benjamini_hochberg(tests["p_value"].to_numpy(dtype="float64"), alert_fdr)
    return significant & large_effect(tests["value"], tests["expected"], min_effect)


# --------------------------------------------------------------------------------------------
# Detection: flags, incidents


@dataclass(frozen=True)
class Detection:
    """What :func:`detect` found: ``days`` (every tested series-day: ``DAY_COLUMNS`` less
    ``has_value``, with ``flagged`` and ``incident_id``; for charts), ``alerts``
    (``ALERT_COLUMNS``, one row per flagged day) and ``incidents`` (``INCIDENT_COLUMNS``)."""

    days: pd.DataFrame
    alerts: pd.DataFrame
    incidents: pd.DataFrame


def _flagged_days(
    days: pd.DataFrame, scans: pd.DataFrame, alert_fdr: float, min_effect: float, start
) -> pd.DataFrame:
    """``days`` with ``flagged`` and, on flagged days, the ``p_value`` and ``direction`` of the
    test that flagged them.

    A window of several days counts only on a day that shows the effect by itself, in the same
    direction (so an incident ends when its days return to normal). The tests of one series and
    day (one per scan window) make one p-value: the smallest among
    the windows with the minimum effect (:func:`large_effect`; without one, the smallest of all,
    which is counted but cannot flag), times the number of windows tested (Bonferroni within the
    day). The Benjamini–Hochberg procedure then runs over those, one per series and day, as the
    number of days × series tested. A day starts an incident when it passes both rules; the
    next days continue it while a window in the same direction, with the effect, has a p-value
    below ``alert_fdr`` without any correction (hysteresis, as in any alarm: a fall shown beyond
    doubt needs less evidence to go on than to begin, or a low-volume incident breaks into
    pieces on its noisier days). Days without a value neither continue nor end it, nor does
    one unflagged day (:data:`MAX_GAP_DAYS`).
    """
    if start is not None:
        scans = scans[scans["date"] >= pd.Timestamp(start)]
    scans = scans[scans["p_value"].notna()]
    scans = scans.assign(effect=large_effect(scans["value"], scans["expected"], min_effect))
    day_keys = [*KEYS, "date"]
    # A longer window speaks for the day it ends on only while that day itself shows the effect
    # in the same direction: after a fall ends, the 3- and 7-day windows still hold its days and
    # would otherwise stretch the incident over normal days.
    own = scans[(scans["window"] == 1) & scans["effect"]]
    own_keys = set(zip(*(own[key] for key in [*day_keys, "direction"]), strict=True))
    same = [
        key in own_keys for key in zip(*(scans[k] for k in [*day_keys, "direction"]), strict=True)
    ]
    scans = scans.assign(effect=scans["effect"].to_numpy(dtype=bool) & np.array(same, dtype=bool))
    windows = scans.groupby(day_keys, sort=False)["p_value"].transform("size")
    scans = scans.assign(raw=scans["p_value"], p_value=np.minimum(1.0, scans["p_value"] * windows))
    # per series-day: the best window with the effect, else the best of all (no flag)
    ranked = scans.sort_values(
        [*day_keys, "effect", "p_value", "window"],
        ascending=[True, True, True, False, True, True],
        kind="stable",
    )
    best = ranked.drop_duplicates(day_keys)
    rejected = benjamini_hochberg(best["p_value"].to_numpy(dtype="float64"), alert_fdr)
    best = best[rejected & best["effect"].to_numpy(dtype=bool)]
    strict = dict(
        zip(
            zip(*(best[key] for key in day_keys), strict=True),
            zip(best["p_value"], best["direction"], strict=True),
            strict=True,
        )
    )
    going = ranked[ranked["effect"] & (ranked["raw"] < alert_fdr)]
    going = going.drop_duplicates([*day_keys, "direction"])
    lenient = dict(
        zip(
            zip(*(going[key] for key in [*day_keys, "direction"]), strict=True),
            zip(going["p_value"], going["direction"], strict=True),
            strict=True,
        )
    )
    days = days.sort_values(day_keys, kind="stable").reset_index(drop=True)
    flagged = np.zeros(len(days), dtype=bool)
    p_value = days["p_value"].to_numpy(dtype="float64").copy()
    direction = days["direction"].to_numpy(dtype=object).copy()
    keys = zip(days["series"], days["step"], days["date"], days["has_value"], strict=True)
    current: tuple | None = None  # (series, step, direction) of the incident going on
    gap = 0  # unflagged days with a value since its last flagged day
    for row, (series, step, date, has_value) in enumerate(keys):
        if current is not None and current[:2] != (series, step):
            current = None
        if not has_value:
            continue
        going_on = current and lenient.get((series, step, date, current[2]))
        found = going_on or strict.get((series, step, date))
        if found:
            flagged[row] = True
            p_value[row], direction[row] = found
            current, gap = (series, step, found[1]), 0
        elif current is not None and gap < MAX_GAP_DAYS:
            gap += 1  # the incident may go on across it (as :func:`incidents` joins them)
        else:
            current = None
    return days.assign(flagged=flagged, p_value=p_value, direction=direction.astype(str))


def incidents(days: pd.DataFrame, step_days: int = 1) -> tuple[pd.DataFrame, pd.Series]:
    """Incidents of :class:`Detection`-style ``days`` (``date, series, step, flagged,
    direction, has_value, observed, expected_total``; ``step_days`` apart): runs of flagged
    days of one series and step with one direction, joined across at most
    :data:`MAX_GAP_DAYS` unflagged days with a value and any days without one (module
    docstring). ``days`` of an incident counts its days (weeks, weekly) from start to end;
    ``expected`` and ``observed`` sum over them. Returns the incidents (``INCIDENT_COLUMNS``,
    numbered by start, series, step) and each day's incident id (0 outside any), aligned with
    ``days``."""
    original = days.index
    days = days.sort_values([*KEYS, "date"], kind="stable")
    ids = pd.Series(0, index=days.index, dtype="int64")
    valued = days[days["has_value"].astype(bool)]
    records = []
    for (series, step), group in valued.groupby(KEYS, sort=True):
        flagged = group["flagged"].to_numpy(dtype=bool)
        direction = group["direction"].to_numpy()
        spans: list[list] = []  # [first row, last row, direction]
        for row in np.flatnonzero(flagged):
            last = spans[-1] if spans else None
            if last and last[2] == direction[row] and row - last[1] <= 1 + MAX_GAP_DAYS:
                last[1] = row
            else:
                spans.append([row, row, direction[row]])
        for first, last, way in spans:
            part = group.iloc[first : last + 1]
            start, end = part["date"].iloc[0], part["date"].iloc[-1]
            expected = float(part["expected_total"].sum())
            observed = float(part["observed"].sum())
            records.append(
                {
                    "series": series,
                    "step": step,
                    "start": start,
                    "end": end,
                    "days": (end - start).days // step_days + 1,
                    "direction": way,
                    "expected": expected,
                    "observed": observed,
                    "impact": observed - expected,
                    "rows": part.index,
                }
            )
    table = pd.DataFrame(records, columns=[*INCIDENT_COLUMNS[1:], "rows"])
    # typed even when empty, so callers can compare dates and add numbers on any result
    table = table.astype(
        {
            "series": str,
            "step": str,
            "start": "datetime64[ns]",
            "end": "datetime64[ns]",
            "days": "int64",
            "direction": str,
            "expected": "float64",
            "observed": "float64",
            "impact": "float64",
        }
    )
    table = table.sort_values(["start", *KEYS], kind="stable").reset_index(drop=True)
    table.insert(0, "incident_id", np.arange(1, len(table) + 1, dtype="int64"))
    for incident_id, rows in zip(table["incident_id"], table["rows"], strict=True):
        ids.loc[rows] = incident_id
    return table[INCIDENT_COLUMNS], ids.reindex(original)


def _detect(
    rates: pd.DataFrame | None,
    counts: pd.DataFrame | None,
    *,
    baseline_days: int,
    baseline_weeks: int,
    per_weekday: bool,
    alert_fdr: float,
    min_effect: float,
    windows: Sequence[int],
    start,
    step_days: int,
) -> Detection:
    parameters.check("alert_fdr", alert_fdr)
    parameters.check("min_effect", min_effect)
    parameters.check("per_weekday", per_weekday)
    excluded: set = set()
    for _ in range(MAX_PASSES):
        parts_days, parts_scans = [], []
        if rates is not None and len(rates):
            d, s = _rate_frames(
                rates, baseline_days, per_weekday, windows, alert_fdr, step_days, excluded
            )
            parts_days.append(d)
            parts_scans.append(s)
        if counts is not None and len(counts):
            d, s = _count_frames(counts, baseline_weeks, alert_fdr, step_days, excluded)
            parts_days.append(d)
            parts_scans.append(s)
        days = _concat(parts_days, DAY_COLUMNS)
        scans = _concat(parts_scans, SCAN_COLUMNS)
        if start is not None:
            days = days[days["date"] >= pd.Timestamp(start)].reset_index(drop=True)
        days = _flagged_days(days, scans, alert_fdr, min_effect, start)
        table, ids = incidents(days, step_days)
        inside = ids.to_numpy() > 0
        found = set(
            zip(
                days.loc[inside, "series"],
                days.loc[inside, "step"],
                days.loc[inside, "date"],
                strict=True,
            )
        )
        # monotone: a day once in an incident stays out of the baselines, so passes converge
        if found <= excluded:
            break
        excluded |= found
    days = days.assign(incident_id=ids.to_numpy())
    days = days.sort_values([*KEYS, "date"], kind="stable").reset_index(drop=True)
    alerts = days[days["flagged"]].sort_values(["date", *KEYS], kind="stable")
    alerts = alerts[ALERT_COLUMNS].reset_index(drop=True)
    return Detection(days.drop(columns="has_value"), alerts, table)


def detect(
    rates: pd.DataFrame | None = None,
    counts: pd.DataFrame | None = None,
    *,
    baseline_days: int = DEFAULT_BASELINE_DAYS,
    baseline_weeks: int = DEFAULT_BASELINE_WEEKS,
    per_weekday: bool = DEFAULT_PER_WEEKDAY,
    alert_fdr: float = DEFAULT_ALERT_FDR,
    min_effect: float = DEFAULT_MIN_EFFECT,
    windows: Sequence[int] = SCAN_WINDOWS,
    start: dt.date | str | None = None,
) -> Detection:
    """Daily alerts and incidents of every rate and count series together (module docstring):
    rates tested per day and per scan window, counts per day, one Benjamini–Hochberg correction
    over all of them, the minimum effect, flagged days left out of later baselines, incidents.
    Days before ``start`` only serve as baseline (they are neither tested nor reported)."""
    return _detect(
        rates,
        counts,
        baseline_days=baseline_days,
        baseline_weeks=baseline_weeks,
        per_weekday=per_weekday,
        alert_fdr=alert_fdr,
        min_effect=min_effect,
        windows=windows,
        start=start,
        step_days=1,
    )


def _week_start(dates: pd.Series) -> pd.Series:
    dates = pd.to_datetime(dates).astype("datetime64[ns]")
    return dates - pd.to_timedelta(dates.dt.weekday, unit="D")


def weekly_series(
    rates: pd.DataFrame | None = None, counts: pd.DataFrame | None = None
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Daily series summed over ISO weeks (``date`` = the Monday), complete weeks only (all
    seven days present): rates sum k and n, counts sum their values and counts, and a mean
    (``aov``) is weighted by its count."""
    weekly_rates = weekly_counts = None
    if rates is not None:
        frame = rates.assign(date=_week_start(rates["date"]), days=1)
        summed = frame.groupby(["date", *KEYS], as_index=False, dropna=False)[
            ["k", "n", "days"]
        ].sum()
        weekly_rates = summed[summed["days"] == 7][RATE_COLUMNS].reset_index(drop=True)
    if counts is not None:
        frame = counts if "count" in counts.columns else counts.assign(count=np.nan)
        frame = frame.assign(date=_week_start(frame["date"]), days=1)
        mean = frame["series"].isin(MEAN_SERIES)
        frame["value"] = frame["value"].where(~mean, frame["value"] * frame["count"])
        grouped = frame.groupby(["date", *KEYS], as_index=False, dropna=False)
        summed = grouped.agg(
            value=("value", lambda v: v.sum(min_count=1)),
            count=("count", lambda v: v.sum(min_count=1)),
            days=("days", "sum"),
        )
        mean = summed["series"].isin(MEAN_SERIES)
        per_order = summed["value"] / summed["count"].where(summed["count"] > 0)
        summed["value"] = summed["value"].where(~mean, per_order)
        weekly_counts = summed[summed["days"] == 7][[*COUNT_COLUMNS, "count"]]
        weekly_counts = weekly_counts.reset_index(drop=True)
    return weekly_rates, weekly_counts


def detect_weekly(
    rates: pd.DataFrame | None = None,
    counts: pd.DataFrame | None = None,
    *,
    baseline_days: int = DEFAULT_BASELINE_DAYS,
    baseline_weeks: int = DEFAULT_BASELINE_WEEKS,
    alert_fdr: float = DEFAULT_ALERT_FDR,
    min_effect: float = DEFAULT_MIN_EFFECT,
    start: dt.date | str | None = None,
) -> Detection:
    """:func:`detect` on ISO weeks (:func:`weekly_series`): one test per week, a rate's baseline
    the ``baseline_days // 7`` weeks before, a count's the ``baseline_weeks`` weeks before;
    weeks starting before ``start`` only serve as baseline."""
    weekly_rates, weekly_counts = weekly_series(rates, counts)
    return _detect(
        weekly_rates,
        weekly_counts,
        baseline_days=baseline_days,
        baseline_weeks=baseline_weeks,
        per_weekday=False,
        alert_fdr=alert_fdr,
        min_effect=min_effect,
        windows=(1,),
        start=start,
        step_days=7,
    )


# --------------------------------------------------------------------------------------------
# Series from the source (Ibis in, small pandas out)


def _long(days: pd.RangeIndex, series: str, step: str, **columns: pd.Series) -> pd.DataFrame:
    frame = pd.DataFrame({"date": to_timestamps(days).to_numpy(), "series": series, "step": step})
    for name, values in columns.items():
        frame[name] = pd.Series(values).reindex(days).to_numpy()
    return frame


def _per_day(table: pd.DataFrame, days: pd.RangeIndex, column: str) -> pd.Series:
    """``column`` of a per-day frame (``day`` = epoch day) on every day, 0 where absent."""
    return table.set_index("day")[column].reindex(days).fillna(0).astype("int64")


def funnel_series(
    events: ir.Table,
    period: Period,
    steps: Sequence[str],
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> pd.DataFrame:
    """``date, series, step, k, n`` per local entry day: ``step_conversion`` of each step from
    the one before (``step`` = the step reached; n = entrants of the day who reached the step
    before, k = those who reached this one) and ``funnel_conversion`` (``step`` = the path; n
    = entrants, k = reached the last step), the per-entry-day funnel of
    :func:`lib.funnel.daily_conversion`. The last ``window_days`` days of the data are still
    converting: their rates are low until the window has passed."""
    steps = _check_steps(steps)
    reach = _reach(events, period, steps, window_days, ["user_id", "day"])
    reached = {f"r{i}": reach[f"t{i}"].count() for i in range(1, len(steps) + 1)}
    table = reach.group_by("day").aggregate(**reached).to_pandas()
    days = pd.RangeIndex(period.start_day, period.end_day + 1)
    users = {i: _per_day(table, days, f"r{i}") for i in range(1, len(steps) + 1)}
    parts = [
        _long(days, "step_conversion", steps[i - 1], k=users[i], n=users[i - 1])
        for i in range(2, len(steps) + 1)
    ]
    parts.append(
        _long(days, "funnel_conversion", path_name(steps), k=users[len(steps)], n=users[1])
    )
    return pd.concat(parts, ignore_index=True)[RATE_COLUMNS]


def order_series(orders: ir.Table, period: Period) -> pd.DataFrame:
    """``date, series, step, k, n``: ``payment_success`` (n = orders placed on the local day,
    k = those of them that are paid orders, :func:`lib.definitions.paid_orders`) and
    ``refund_rate`` (n = paid orders paid on the local day, k = those refunded; refunds come
    days after payment, so the last days' refund rates are still rising)."""
    lo, hi = period.utc_bounds()
    placed = orders.filter(
        orders.order_time >= ibis.literal(lo, "timestamp"),
        orders.order_time < ibis.literal(hi, "timestamp"),
    )
    placed = placed.mutate(day=period.local_day(placed.order_time))
    placed_n = placed.group_by("day").aggregate(n=placed.count()).to_pandas()
    paid = paid_orders(placed)
    paid_k = paid.group_by("day").aggregate(k=paid.count()).to_pandas()
    by_payment = paid_orders_in(orders, period)
    refunds = (
        by_payment.group_by("day")
        .aggregate(n=by_payment.count(), k=(by_payment.status == "refunded").sum())
        .to_pandas()
    )
    days = pd.RangeIndex(period.start_day, period.end_day + 1)
    payment = _long(
        days,
        "payment_success",
        "",
        k=_per_day(paid_k, days, "k"),
        n=_per_day(placed_n, days, "n"),
    )
    refund = _long(
        days, "refund_rate", "", k=_per_day(refunds, days, "k"), n=_per_day(refunds, days, "n")
    )
    return pd.concat([payment, refund], ignore_index=True)[RATE_COLUMNS]


def shipping_series(
    orders: ir.Table,
    shipments: ir.Table,
    period: Period,
    ship_sla_hours: float = SHIP_SLA_HOURS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``on_time_shipping`` (rates: n = shipped orders paid on the local day, k = shipped within
    ``ship_sla_hours`` of payment) and ``late_shipments`` (counts: n − k), both from
    :func:`lib.supply.fulfilment.fulfilment_daily`."""
    parameters.check("ship_sla_hours", ship_sla_hours)
    daily = fulfilment_daily(orders, shipments, period, ship_sla_hours)
    n = daily["orders"].astype("int64")
    k = (daily["on_time_ship_rate"].fillna(0.0) * n).round().astype("int64")
    base = pd.DataFrame({"date": daily["date"], "step": ""})
    rates = base.assign(series="on_time_shipping", k=k, n=n)[RATE_COLUMNS]
    late = base.assign(series="late_shipments", value=(n - k).astype("float64"))
    return rates, late[COUNT_COLUMNS]


def count_series(
    period: Period,
    events: ir.Table | None = None,
    orders: ir.Table | None = None,
    inventory: ir.Table | None = None,
) -> pd.DataFrame:
    """``date, series, step, value, count`` for ``uv`` (users with an event on the local day),
    ``orders``, ``buyers``, ``gmv`` and ``aov`` (paid orders by local payment day,
    :func:`lib.gmv.gmv_daily`; ``count`` = the day's orders for gmv and aov) and
    ``stockout_skus`` (SKUs with a snapshot at 0, :func:`lib.supply.stockouts.stockouts_daily`;
    days without snapshots have no value). A series whose table is absent is left out."""
    parts = []
    if orders is not None:
        daily = gmv_daily(orders, period, events)
        counted = daily["orders"].astype("float64")
        names = ["orders", "buyers", "gmv", "aov"] + (["uv"] if events is not None else [])
        for name in names:
            count = counted if name in (*AMOUNT_SERIES, *MEAN_SERIES) else np.nan
            parts.append(
                pd.DataFrame(
                    {
                        "date": daily["date"],
                        "series": name,
                        "step": "",
                        "value": daily[name].astype("float64"),
                        "count": count,
                    }
                )
            )
    elif events is not None:
        # the active-user columns alone: no pass over the events for page views and sessions
        daily = active_and_new_users(events, period)
        parts.append(
            daily[["date"]].assign(
                series="uv", step="", value=daily["dau"].astype("float64"), count=np.nan
            )
        )
    if inventory is not None:
        stock = stockouts_daily(inventory, period)
        value = stock["out_of_stock"].astype("float64").where(stock["skus"] > 0)
        parts.append(
            stock[["date"]].assign(series="stockout_skus", step="", value=value, count=np.nan)
        )
    if not parts:
        return pd.DataFrame(columns=[*COUNT_COLUMNS, "count"])
    return pd.concat(parts, ignore_index=True)[[*COUNT_COLUMNS, "count"]]


def history_days(
    baseline_days: int = DEFAULT_BASELINE_DAYS,
    baseline_weeks: int = DEFAULT_BASELINE_WEEKS,
    windows: Sequence[int] = SCAN_WINDOWS,
) -> int:
    """How many days before the period the series must start for its first day to have a full
    baseline: the longer of the rates' (scan window included) and the counts' look-back."""
    return max(baseline_days + max(windows) - 1, 7 * baseline_weeks)


# The table whose days a count series covers (a series not listed keeps every day: stock-outs
# have no value on days without a snapshot already).
COUNT_TABLES = {
    "uv": "events",
    "new_users": "events",
    "orders": "orders",
    "buyers": "orders",
    "gmv": "orders",
    "aov": "orders",
    "late_shipments": "orders",
}
ALL_DAYS = object()  # a coverage that keeps every day


def in_coverage(frame: pd.DataFrame, span: Any) -> pd.DataFrame:
    """The rows of ``frame`` (a ``date`` column) from ``span.first`` to ``span.last``, a table's
    first and last local days (:class:`lib.data.Coverage`); none when the table has no rows,
    all for :data:`ALL_DAYS`."""
    if span is ALL_DAYS:
        return frame
    if span is None or span.first is None or span.last is None:
        return frame.iloc[0:0]
    dates = pd.to_datetime(frame["date"])
    return frame[dates.between(pd.Timestamp(span.first), pd.Timestamp(span.last))]


def monitoring_series(
    source: Source,
    period: Period,
    *,
    steps: Sequence[str] | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
    ship_sla_hours: float = SHIP_SLA_HOURS,
    baseline_days: int = DEFAULT_BASELINE_DAYS,
    baseline_weeks: int = DEFAULT_BASELINE_WEEKS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every rate and count series the source can give (``rates, counts``), from
    :func:`history_days` before ``period`` to its end; a section whose table is absent (no
    shipments, no inventory, no events) is simply absent."""
    before = dt.timedelta(days=history_days(baseline_days, baseline_weeks))
    widened = Period(period.start - before, period.end, period.timezone)
    has = source.has
    events = source.table("events") if has("events") else None
    orders = source.table("orders") if has("orders") else None
    rates, counts = [], []
    if events is not None:
        rates.append(funnel_series(events, widened, main_path(source, steps), window_days))
    if orders is not None:
        rates.append(order_series(orders, widened))
        if has("shipments"):
            on_time, late = shipping_series(
                orders, source.table("shipments"), widened, ship_sla_hours
            )
            rates.append(on_time)
            counts.append(late.assign(count=np.nan))
    inventory = source.table("inventory") if has("inventory") else None
    counts.insert(0, count_series(widened, events, orders, inventory))
    # counts read 0 on days before a table's first row or after its last: keep only the days
    # each table covers, or a shop's opening is a rise of every count against a baseline of 0
    covered = coverage(source, period)
    counts = [
        pd.concat(
            [
                in_coverage(part, covered.get(COUNT_TABLES.get(name, ""), ALL_DAYS))
                for name, part in frame.groupby("series", sort=False)
            ]
        )
        for frame in counts
        if len(frame)
    ]
    rate_table = _concat(rates, RATE_COLUMNS)
    count_table = _concat([c for c in counts if len(c)], [*COUNT_COLUMNS, "count"])
    return rate_table, count_table


# --------------------------------------------------------------------------------------------
# Reading the results: units, sentences, charts' labels, the risk flags' summary

# What a rate's successes (k) count, so an incident's impact reads in the series' own unit.
_RATE_UNITS = {
    "payment_success": "paid orders",
    "refund_rate": "refunded orders",
    "on_time_shipping": "orders shipped on time",
}
_COUNT_UNITS = {
    "uv": "visitors",
    "orders": "paid orders",
    "buyers": "buyers",
    "stockout_skus": "SKU-days out of stock",
    "late_shipments": "late shipments",
}
# A rate's chart axis: successes / trials.
_RATE_AXES = {
    "payment_success": "paid orders / orders placed",
    "refund_rate": "refunded / paid orders",
    "on_time_shipping": "shipped within the SLA / shipped orders",
}
_COUNT_AXES = {
    "uv": "users with an event [count]",
    "orders": "paid orders [count]",
    "buyers": "buyers with a paid order [count]",
    "gmv": "GMV by payment day [currency]",
    "aov": "GMV / paid orders [currency]",
    "stockout_skus": "SKUs with nothing on hand [count]",
    "late_shipments": "orders shipped after the SLA [count]",
}
# How many series the notebook draws: the few with the largest incidents keep it short.
TOP_CHARTS = 6


def _last_step(step: str) -> str:
    return step.split(" → ")[-1] if step else step


def is_rate(series: str) -> bool:
    """Whether ``series`` is a rate (k of n) rather than a count or an amount."""
    return series in ("step_conversion", "funnel_conversion", *_RATE_UNITS)


def series_label(series: str, step: str = "") -> str:
    """How a sentence or a chart names a series: ``payment success``, ``step conversion to
    purchase``, ``GMV``."""
    if series == "step_conversion":
        return f"step conversion to {step}"
    if series == "funnel_conversion":
        return f"whole-funnel conversion ({step})" if step else "whole-funnel conversion"
    named = {
        "gmv": "GMV",
        "aov": "AOV",
        "uv": "UV",
        "on_time_shipping": "on-time shipping",
        "stockout_skus": "stock-out SKUs",
    }
    return named.get(series, series.replace("_", " "))


def impact_unit(series: str, step: str = "", currency: str = "") -> str:
    """The unit of an incident's ``expected``, ``observed`` and ``impact``: a rate's successes
    (``users reaching purchase``, ``paid orders``), a count's items, money in ``currency``."""
    if series == "step_conversion":
        return f"users reaching {step}"
    if series == "funnel_conversion":
        return f"entrants reaching {_last_step(step)}"
    if series == "gmv":
        return currency or "money"
    if series == "aov":
        # a mean summed over the incident's days: money per order, day by day
        return f"{currency or 'money'} of daily AOV"
    return _RATE_UNITS.get(series) or _COUNT_UNITS.get(series, "")


def chart_axis(series: str, step: str = "") -> tuple[str, bool]:
    """The y-axis label (unit in brackets; ``[currency]`` for money) of a series' chart and
    whether it is a percentage (rates)."""
    if series == "step_conversion":
        return f"reached {step} / reached the step before [%]", True
    if series == "funnel_conversion":
        return f"entrants reaching {_last_step(step)} [%]", True
    if series in _RATE_AXES:
        return f"{_RATE_AXES[series]} [%]", True
    return _COUNT_AXES.get(series, f"{series} [count]"), False


def relative_impact(incidents: pd.DataFrame) -> pd.Series:
    """``impact / expected`` of each incident (NaN when nothing was expected): the size that
    ranks incidents of different units against each other (GMV in money would always come
    first by its raw impact)."""
    expected = incidents["expected"].astype("float64")
    return incidents["impact"].astype("float64") / expected.where(expected != 0)


# Series for which a rise, not a fall, is the harm: an incident is serious in that direction.
HARM_ABOVE = ("refund_rate", "late_shipments", "stockout_skus")


def harmful(incidents: pd.DataFrame) -> pd.Series:
    """Whether each incident goes the harmful way: below expected, or above for
    :data:`HARM_ABOVE` (refunds, late shipments, stock-outs)."""
    bad_way = np.where(incidents["series"].isin(HARM_ABOVE), "above", "below")
    return pd.Series(incidents["direction"].to_numpy() == bad_way, index=incidents.index)


def ranked_incidents(incidents: pd.DataFrame) -> pd.DataFrame:
    """``incidents`` most serious first: the harmful ones (:func:`harmful`) before the others
    (the monitoring looks for what broke; a rise of orders is good news), each group largest
    first by ``|impact / expected|`` (:func:`relative_impact`; an incident expected at 0 first
    of all), then by start and id, so the order is fixed."""
    size = relative_impact(incidents).abs().fillna(np.inf)
    ranked = incidents.assign(_harm=~harmful(incidents), _size=-size)
    ranked = ranked.sort_values(["_harm", "_size", "start", "incident_id"], kind="stable")
    return ranked.drop(columns=["_harm", "_size"]).reset_index(drop=True)


def top_series(incidents: pd.DataFrame, n: int = TOP_CHARTS) -> list[tuple[str, str]]:
    """The ``(series, step)`` of the ``n`` series whose most serious incident is most serious
    (:func:`ranked_incidents`), in that order: the series the notebook draws."""
    pairs = ranked_incidents(incidents)[KEYS].itertuples(index=False, name=None)
    return list(dict.fromkeys((str(s), str(t)) for s, t in pairs))[:n]


def _note_amount(value: float, series: str, signed: bool = False) -> str:
    decimals = 2 if series in (*AMOUNT_SERIES, *MEAN_SERIES) else 0
    text = f"{abs(value):,.{decimals}f}"
    if not signed:
        return text
    return ("+" if value >= 0 else "−") + text


def _dates(start: pd.Timestamp, end: pd.Timestamp, days: int, step_days: int) -> str:
    if step_days == 7:  # a weekly table's dates are the weeks' Mondays
        span = f"{start:%Y-%m-%d}" if start == end else f"{start:%Y-%m-%d}..{end:%Y-%m-%d}"
        return (
            f"the week{'' if days == 1 else 's'} of {span} ({days} week{'' if days == 1 else 's'})"
        )
    span = f"{start:%Y-%m-%d}" if start == end else f"{start:%Y-%m-%d}..{end:%Y-%m-%d}"
    return f"{span} ({days} day{'' if days == 1 else 's'})"


def incidents_note(incidents: pd.DataFrame, currency: str = "", step_days: int = 1) -> str:
    """One sentence from an incidents table (``INCIDENT_COLUMNS``): how many incidents, how many
    below and above expected, and the most serious (:func:`ranked_incidents`: harmful first,
    then the largest relative to expected) with its series and step, dates, observed against
    expected and the impact in the series' unit; "no incident above the noise" when there is
    none. ``step_days`` 7 reads a weekly table (``start`` is a week's Monday, ``days`` counts
    weeks)."""
    if incidents.empty:
        return "No incident above the noise in this period: every series stayed within its band."
    top = ranked_incidents(incidents).iloc[0]
    series, step = str(top["series"]), str(top["step"])
    change = relative_impact(pd.DataFrame([top])).iloc[0]
    sign = "+" if change >= 0 else "−"
    size = f", {sign}{abs(change):,.0%} of expected" if pd.notna(change) else ""
    what = (
        f"{series_label(series, step)}, "
        f"{_dates(top['start'], top['end'], int(top['days']), step_days)}, {top['direction']} "
        f"expected: {_note_amount(top['observed'], series)} observed against "
        f"{_note_amount(top['expected'], series)} expected, impact "
        f"{_note_amount(top['impact'], series, signed=True)} {impact_unit(series, step, currency)}"
        f"{size}."
    )
    count = len(incidents)
    if count == 1:
        return f"1 incident above the noise: {what}"
    below = int((incidents["direction"] == "below").sum())
    return (
        f"{count} incidents above the noise ({below} below expected, {count - below} above); "
        f"the most serious: {what}"
    )


def series_days(detection: Detection, series: str, step: str = "") -> pd.DataFrame:
    """The tested days of one series of a :class:`Detection` (``date, value, expected, lower,
    upper, flagged, incident_id``), by date: what :func:`lib.plots.monitored_series` draws."""
    days = detection.days
    rows = days[(days["series"] == series) & (days["step"] == step)]
    columns = ["date", "value", "expected", "lower", "upper", "flagged", "incident_id"]
    return rows.sort_values("date")[columns].reset_index(drop=True)


def risk_summary(flags: pd.DataFrame, rules: Sequence[str]) -> pd.DataFrame:
    """Per rule that ran (``rules``, :func:`lib.risks.rules_run`, in that order): ``rule,
    flagged`` (rows of :func:`lib.risks.risk_flags`: users, or order lines for the SKU rules)
    and ``threshold`` (the value a flag reached; for the SKU rules, a multiple of each SKU's
    median, the smallest of them; NaN when nothing was flagged, since the bot rules' threshold
    is only known from the shop's p99.9)."""
    grouped = flags.groupby("rule")
    flagged = grouped.size()
    threshold = grouped["threshold"].min()
    table = pd.DataFrame({"rule": list(rules)})
    table["flagged"] = table["rule"].map(flagged).fillna(0).astype("int64")
    table["threshold"] = table["rule"].map(threshold).astype("float64")
    return table


def figure_name(series: str, step: str = "") -> str:
    """The file name of a series' chart: ``monitoring_payment_success``,
    ``monitoring_step_conversion_purchase`` (the whole funnel is one series: no step)."""
    named = step if series == "step_conversion" else ""
    parts = ["monitoring", series, *named.replace("→", " ").split()]
    return "_".join(part.strip("_") for part in parts if part.strip("_"))


def series_incidents(incidents: pd.DataFrame, series: str, step: str = "") -> pd.DataFrame:
    """The incidents of one series and step."""
    return incidents[(incidents["series"] == series) & (incidents["step"] == step)]


def rules_note(rules: Sequence[str]) -> str:
    """Which risk rules ran (``rules``, :func:`lib.risks.rules_run`) and which were skipped
    because the source lacks their table or column."""
    from lib.risks import RULES  # only the sentence needs the full list

    skipped = [rule for rule in RULES if rule not in rules]
    ran = ", ".join(rules) if rules else "none"
    if not skipped:
        return f"Rules run: {ran} (all {len(RULES)})."
    return (
        f"Rules run: {ran}; skipped, the source lacking their table or column: "
        f"{', '.join(skipped)}."
    )


def chart_title(series: str, step: str = "") -> str:
    """The title of a series' chart: ``Payment success: observed against expected``."""
    label = series_label(series, step)
    return f"{label[:1].upper()}{label[1:]}: observed against expected"


# --------------------------------------------------------------------------------------------
# The overview's headline incidents (issue 17): the shop's headline series from cheap sources

# The monitoring notebook, linked from the overview (report.html makes it a link in the page).
MONITORING_NOTEBOOK = "07_monitoring.ipynb"
# series: (name in a sentence, its verb, what its impact counts: "money" is in the currency,
# "money per order" an average order value's daily difference)
HEADLINE_SERIES = {
    "uv": ("UV", "was", "visitors (summed over the days)"),
    "new_users": ("New users", "were", "new users"),
    "orders": ("Paid orders", "were", "paid orders"),
    "buyers": ("Buyers", "were", "buyers (summed over the days)"),
    "gmv": ("GMV", "was", "money"),
    "aov": ("AOV", "was", "money per order"),
    "payment_success": ("Payment success", "was", "paid orders"),
    "refund_rate": ("The refund rate", "was", "refunded orders"),
}
HEADLINE_EVENTS = "UV and new users"
HEADLINE_ORDERS = "paid orders, buyers, GMV, AOV, payment success and refund rate"


def headline_series(
    source: Source,
    period: Period,
    baseline_days: int = DEFAULT_BASELINE_DAYS,
    baseline_weeks: int = DEFAULT_BASELINE_WEEKS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``rates, counts`` of the headline series, from :func:`history_days` before ``period``:
    UV (``dau``) and new users from :func:`lib.traffic.active_and_new_users` (the stored
    user-days, no pass over the events), paid orders, buyers, GMV and AOV
    (:func:`count_series` on the orders alone), payment success and refund rate
    (:func:`order_series`). A series whose table the source lacks is absent, and each keeps
    only the days from its table's first to its last local day (:func:`lib.data.coverage`):
    the builders count 0 on days without data, and a shop's opening would otherwise be a rise
    of every count against a baseline of zeros, a period past the data's end a fall."""

    before = dt.timedelta(days=history_days(baseline_days, baseline_weeks))
    widened = Period(period.start - before, period.end, period.timezone)
    # the tables' first and last days (memoised for the period the notebook already asked)
    covered = coverage(source, period)

    def within(frame: pd.DataFrame, table: str) -> pd.DataFrame:
        return in_coverage(frame, covered.get(table))

    rates, counts = [], []
    if source.has("events"):
        users = active_and_new_users(source.table("events"), widened)
        for name, column in (("uv", "dau"), ("new_users", "new_users")):
            frame = pd.DataFrame(
                {
                    "date": users["date"],
                    "series": name,
                    "step": "",
                    "value": users[column].astype("float64"),
                    "count": np.nan,
                }
            )
            counts.append(within(frame, "events"))
    if source.has("orders"):
        orders = source.table("orders")
        counts.append(within(count_series(widened, orders=orders), "orders"))
        rates.append(within(order_series(orders, widened), "orders"))
    rates = [frame for frame in rates if len(frame)]
    counts = [frame for frame in counts if len(frame)]
    return _concat(rates, RATE_COLUMNS), _concat(counts, [*COUNT_COLUMNS, "count"])


def headline_incidents(
    source: Source,
    period: Period,
    *,
    baseline_days: int = DEFAULT_BASELINE_DAYS,
    baseline_weeks: int = DEFAULT_BASELINE_WEEKS,
    per_weekday: bool = DEFAULT_PER_WEEKDAY,
    alert_fdr: float = DEFAULT_ALERT_FDR,
    min_effect: float = DEFAULT_MIN_EFFECT,
    top: int | None = 3,
) -> pd.DataFrame:
    """The period's incidents (``INCIDENT_COLUMNS``) on the headline series
    (:func:`headline_series`), detected together (:func:`detect`: one Benjamini–Hochberg
    correction over these series only), at most ``top`` (None: all), most serious first as in
    the monitoring notebook (:func:`ranked_incidents`): what broke before what rose, then the
    largest relative impact, since visitors, orders and money cannot be ranked in their own
    units."""
    rates, counts = headline_series(source, period, baseline_days, baseline_weeks)
    found = detect(
        rates,
        counts,
        baseline_days=baseline_days,
        baseline_weeks=baseline_weeks,
        per_weekday=per_weekday,
        alert_fdr=alert_fdr,
        min_effect=min_effect,
        start=period.start,
    ).incidents
    ranked = ranked_incidents(found)
    ranked = ranked if top is None else ranked.head(top)
    return ranked[INCIDENT_COLUMNS].reset_index(drop=True)


def _amount(value: float, unit: str, currency: str) -> str:
    """``1,234`` (counts), ``CNY 12,345`` or ``CNY 12.30`` (money): a magnitude, no sign."""
    value = abs(value)
    if unit.startswith("money"):
        text = f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
        return f"{currency} {text}" if currency else text
    return f"{value:,.0f}"


def incident_sentence(row: pd.Series, currency: str = "") -> str:
    """One incident of :func:`headline_incidents` in words: the series, its days, the direction
    and the impact in the series' unit (money in ``currency``), e.g. ``Payment success was
    below the expected level from 2025-10-20 to 2025-10-24 (5 days): 1,234 paid orders fewer
    than expected (766 observed, 38 % of the 2,000 expected).``"""
    name, verb, unit = HEADLINE_SERIES.get(row["series"], (str(row["series"]), "was", ""))
    start, end = pd.Timestamp(row["start"]), pd.Timestamp(row["end"])
    days = int(row["days"])
    when = (
        f"on {start:%Y-%m-%d}"
        if days == 1
        else f"from {start:%Y-%m-%d} to {end:%Y-%m-%d} ({days} days)"
    )
    more = "more" if row["impact"] > 0 else "fewer"
    # no share of an expected 0 (a series that had been 0 all along)
    share = row["observed"] / row["expected"] if row["expected"] > 0 else np.nan
    of_expected = "" if np.isnan(share) else f"{share * 100:.0f} % of "
    if unit == "money per order":
        # an average order value's impact sums daily differences: per day it reads as a price
        per_day = row["impact"] / days
        impact = (
            f"{_amount(per_day, unit, currency)} per order {'above' if per_day > 0 else 'below'}"
            f" expected on average ({of_expected}the expected)"
        )
    else:
        noun = "" if unit == "money" else f" {unit}"
        impact = (
            f"{_amount(row['impact'], unit, currency)}{noun} {more} than expected "
            f"({_amount(row['observed'], unit, currency)} observed, {of_expected}the "
            f"{_amount(row['expected'], unit, currency)} expected)"
        )
    return f"{name} {verb} {row['direction']} the expected level {when}: {impact}."


def headline_note(incidents: pd.DataFrame, currency: str = "") -> str:
    """What the overview says about :func:`headline_incidents` (Markdown): each incident
    (:func:`incident_sentence`), or that none rose above the noise, then a link to the
    monitoring notebook."""
    link = f"Every series and funnel step: [the monitoring notebook]({MONITORING_NOTEBOOK})."
    if incidents.empty:
        return f"No incident on the headline series above the noise. {link}"
    sentences = [incident_sentence(row, currency) for _, row in incidents.iterrows()]
    if len(sentences) == 1:
        return f"{sentences[0]} {link}"
    listed = "\n".join(f"{i}. {text}" for i, text in enumerate(sentences, start=1))
    return f"{listed}\n\n{link}"
