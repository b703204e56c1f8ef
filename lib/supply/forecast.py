"""Demand forecast and reorder points (补货): daily units, the weekday-mean forecast and its
backtest against naive forecasts, the shop's peaks, safety stock and reorder points.

*Units sold*, *snapshots* and local days are defined in :mod:`lib.supply`; docs/metrics.md,
"Supply chain", has every definition.

Demand forecast (:func:`forecast_demand`): the forecast for a day is the mean of the same weekday
over the last ``level_days`` (28) days of history, leaving out *campaign days* (units above
``outlier_factor`` × the median day of that window, when the median is above 0); a weekday
without such days takes the mean of all kept days. The interval is the forecast ± z × σ, σ the
standard deviation (n − 1) of the kept days around their weekday means and z the normal quantile
of the ``interval`` level; the lower end is clipped at 0. :func:`backtest_forecast` compares it
with three naive forecasts (the same weekday a week earlier, last week's mean day, zero) from
weekly rolling origins, a week ahead each, by WAPE = Σ |actual − forecast| / Σ actual, and
counts how often its interval held the actual units; :func:`backtest_verdict` recommends the
forecast only for the keys where it beats every naive forecast. :func:`peak_days` finds the
shop's own campaign peaks, named by the calendar of :mod:`lib.shop_calendar`.

Reorder points (:func:`reorder_points`): ``reorder_point = μ × L + z × σ × √L`` with μ and σ the
mean and standard deviation (n − 1) of the SKU's daily units over the ``velocity_days`` ending on
end (days without sales count as 0), L the mean ``received_date − ordered_date`` of the SKU's
purchase orders received on or before end (else ``default_lead_time_days``) and z the normal
quantile of ``service_level``.
"""

from __future__ import annotations

import datetime as dt
import math

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from lib import parameters
from lib.periods import Period, to_timestamps
from lib.shop_calendar import name_day
from lib.supply._shared import (
    ALL,
    DAYS,
    TOTAL_FLAG,
    VELOCITY_DAYS,
    _catalogue,
    _category_of,
    _epoch_days,
    _latest_on_or_before,
    daily_stock,
    paid_units,
)

# The notebook parameters' declared defaults (lib/parameters.py), and two fixed settings.
HORIZON_DAYS = parameters.default("horizon_days")
LEVEL_DAYS = 28
BACKTEST_WEEKS = parameters.default("backtest_weeks")
FORECAST_INTERVAL = parameters.default("forecast_interval")
OUTLIER_FACTOR = 3.0
SERVICE_LEVEL = parameters.default("service_level")
DEFAULT_LEAD_TIME_DAYS = parameters.default("default_lead_time_days")

REORDER_COLUMNS = [
    "sku_id",
    "category",
    "mean_daily_demand",
    "demand_std",
    "lead_time_days",
    "lead_time_source",
    "safety_stock",
    "reorder_point",
    "ending_units",
    "below_reorder_point",
]


def _period_ending(end: dt.date, days: int, timezone: str) -> Period:
    """The ``days`` local days ending on ``end``."""
    return Period(end - dt.timedelta(days=days - 1), end, timezone)


def daily_units(
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    end: dt.date,
    timezone: str,
    history_days: int,
    level: str = "category",
    skus: list[str] | None = None,
) -> pd.DataFrame:
    """``key, date, units``: units sold per local day over the ``history_days`` ending on
    ``end``, per category (``level="category"``, every category of the catalogue) or per SKU of
    ``skus`` (``level="sku"``); days without sales are 0. Sorted by key and date."""
    if level not in ("category", "sku"):
        raise ValueError(f"level={level!r} must be 'category' or 'sku'")
    history = _period_ending(end, history_days, timezone)
    lines = paid_units(orders, order_items, history)
    catalogue = _catalogue(products)
    if level == "sku":
        keys = sorted(skus or [])
        if not keys:
            return pd.DataFrame({"key": [], "date": [], "units": []})
        lines = lines.filter(lines.sku_id.isin(keys))
        grouped = lines.group_by(["sku_id", "day"]).aggregate(units=lines.quantity.sum())
        frame = grouped.to_pandas().rename(columns={"sku_id": "key"})
    else:
        per_sku = lines.group_by(["sku_id", "day"]).aggregate(units=lines.quantity.sum())
        frame = per_sku.to_pandas()
        frame["key"] = _category_of(frame["sku_id"], catalogue).to_numpy()
        frame = frame.groupby(["key", "day"], as_index=False)["units"].sum()
        keys = sorted(set(catalogue["category"]) | set(frame["key"]))
    days = range(history.start_day, history.end_day + 1)
    grid = pd.MultiIndex.from_product([keys, days], names=["key", "day"])
    units = frame.set_index(["key", "day"])["units"].reindex(grid).fillna(0).astype("int64")
    table = units.reset_index()
    table.insert(1, "date", to_timestamps(table.pop("day")).to_numpy())
    return table


def forecast_history_days(backtest_weeks: int, level_days: int = LEVEL_DAYS) -> int:
    """Days of daily units :func:`backtest_forecast` needs: ``level_days`` to fit the method at
    the earliest origin plus the 7 days of each of the ``backtest_weeks`` weeks it forecasts
    (also enough for :func:`forecast_demand`, which fits on the last ``level_days``)."""
    return level_days + 7 * backtest_weeks


def top_keys(daily: pd.DataFrame, n: int, days: int = LEVEL_DAYS) -> list[str]:
    """The ``n`` keys of ``daily`` with the most units in its last ``days`` days (ties by key)."""
    if daily.empty:
        return []
    recent = daily[daily["date"] > daily["date"].max() - pd.Timedelta(days=days)]
    totals = recent.groupby("key")["units"].sum().reset_index()
    totals = totals.sort_values(["units", "key"], ascending=[False, True], kind="stable")
    return totals["key"].head(n).tolist()


def top_skus(orders: ir.Table, order_items: ir.Table, period: Period, n: int) -> list[str]:
    """The ``n`` SKUs with the most units sold in the period (ties by ``sku_id``)."""
    lines = paid_units(orders, order_items, period)
    sold = lines.group_by("sku_id").aggregate(units=lines.quantity.sum()).to_pandas()
    sold = sold.sort_values(["units", "sku_id"], ascending=[False, True], kind="stable")
    return sold["sku_id"].head(n).tolist()


def _weekday_means(
    dates: pd.Series, units: np.ndarray, outlier_factor: float
) -> tuple[dict[int, float], float, np.ndarray, np.ndarray]:
    """Means per weekday of the kept days, the mean of all kept days, the kept mask and the
    weekday of each day (campaign days above ``outlier_factor`` × median are left out)."""
    median = float(np.median(units)) if len(units) else 0.0
    kept = units <= outlier_factor * median if median > 0 else np.ones(len(units), dtype=bool)
    weekdays = pd.to_datetime(dates).dt.weekday.to_numpy()
    overall = float(units[kept].mean()) if kept.any() else 0.0
    means = {}
    for weekday in range(7):
        chosen = kept & (weekdays == weekday)
        means[weekday] = float(units[chosen].mean()) if chosen.any() else overall
    return means, overall, kept, weekdays


def _forecast_one(
    dates: pd.Series,
    units: np.ndarray,
    horizon_days: int,
    level_days: int,
    z: float,
    outlier_factor: float,
) -> pd.DataFrame:
    """Forecast ``horizon_days`` after the last of ``dates`` from its last ``level_days``."""
    recent_dates, recent = dates.iloc[-level_days:], units[-level_days:]
    means, _, kept, weekdays = _weekday_means(recent_dates, recent, outlier_factor)
    fitted = np.array([means[w] for w in weekdays])
    residuals = (recent - fitted)[kept]
    sigma = float(np.std(residuals, ddof=1)) if len(residuals) >= 2 else 0.0
    last = pd.Timestamp(dates.iloc[-1])
    future = pd.date_range(last + DAYS, periods=horizon_days, freq="D")
    forecast = np.array([means[d.weekday()] for d in future])
    return pd.DataFrame(
        {
            "date": future.astype("datetime64[ns]"),
            "forecast": forecast,
            "low": np.maximum(forecast - z * sigma, 0.0),
            "high": forecast + z * sigma,
        }
    )


def _z(level: float) -> float:
    # the callers check their level is a probability (0 < p < 1) through lib/parameters.py
    return float(scipy_stats.norm.ppf(level))


def forecast_demand(
    daily: pd.DataFrame,
    horizon_days: int = HORIZON_DAYS,
    level_days: int = LEVEL_DAYS,
    interval: float = FORECAST_INTERVAL,
    outlier_factor: float = OUTLIER_FACTOR,
) -> pd.DataFrame:
    """``key, date, forecast, low, high`` for the ``horizon_days`` after the last day of
    ``daily`` (from :func:`daily_units`), per key (module docstring)."""
    parameters.check("horizon_days", horizon_days)
    parameters.check("forecast_interval", interval, "interval")
    z = _z(0.5 + interval / 2)
    pieces = []
    for key, rows in daily.groupby("key", sort=True):
        rows = rows.sort_values("date")
        piece = _forecast_one(
            rows["date"],
            rows["units"].to_numpy(dtype="float64"),
            horizon_days,
            level_days,
            z,
            outlier_factor,
        )
        pieces.append(piece.assign(key=key))
    if not pieces:
        return pd.DataFrame(columns=["key", "date", "forecast", "low", "high"])
    table = pd.concat(pieces, ignore_index=True)
    return table[["key", "date", "forecast", "low", "high"]]


BASELINES = {
    "seasonal_naive": "last week's same weekday",
    "last_week_mean": "last week's average day",
    "zero": "a forecast of zero",
}
"""The naive forecasts the backtest holds the method against, in the order a tie is settled."""

BACKTEST_COLUMNS = [
    "key",
    "actual_units",
    "wape_method",
    "wape_seasonal_naive",
    "beats_naive",
    "wape_last_week_mean",
    "wape_zero",
    "best_baseline",
    "wape_best_baseline",
    "use_forecast",
    "interval_coverage",
    TOTAL_FLAG,
]


def backtest_forecast(
    daily: pd.DataFrame,
    weeks: int = BACKTEST_WEEKS,
    level_days: int = LEVEL_DAYS,
    outlier_factor: float = OUTLIER_FACTOR,
    interval: float = FORECAST_INTERVAL,
) -> pd.DataFrame:
    """Rolling-origin backtest against naive baselines, per key and pooled (``all``, last row):
    ``key, actual_units, wape_method, wape_seasonal_naive, beats_naive, wape_last_week_mean,
    wape_zero, best_baseline, wape_best_baseline, use_forecast, interval_coverage, is_total``
    (true on the pooled row only: a key may itself be called ``all``).

    Origins are the last day of ``daily`` minus 7, 14, …, 7 × ``weeks`` days; from each, the
    method (fitted on the ``level_days`` up to the origin, with its ``interval``) and three naive
    forecasts predict the 7 days after it: the seasonal naive (the same weekday a week earlier),
    last week's mean (the mean of the 7 days before the origin, every day) and zero. WAPE =
    Σ |actual − forecast| / Σ actual over the weeks (so ``wape_zero`` is 1); null when the actual
    units add up to 0. ``beats_naive``: the method's WAPE is below the seasonal naive's;
    ``best_baseline``: the baseline with the lowest WAPE (ties in the order of
    :data:`BASELINES`); ``use_forecast``: the method's WAPE is below every baseline's (null
    without sales). ``interval_coverage``: the share of forecast days whose actual units lay
    within the method's interval. ``daily`` must hold ``level_days + 7 × weeks`` days.
    """
    parameters.check("backtest_weeks", weeks, "weeks")
    parameters.check("forecast_interval", interval, "interval")
    z = _z(0.5 + interval / 2)
    needed = level_days + 7 * weeks
    rows = []
    pooled = np.zeros(6)
    for key, frame in daily.groupby("key", sort=True):
        frame = frame.sort_values("date")
        units = frame["units"].to_numpy(dtype="float64")
        dates = frame["date"].reset_index(drop=True)
        if len(units) < needed:
            raise ValueError(f"the backtest needs {needed} days of history, {key} has {len(units)}")
        # actual, |error| of the method, of the seasonal naive, of last week's mean; days inside
        # the interval, days forecast
        sums = np.zeros(6)
        for week in range(weeks, 0, -1):
            origin = len(units) - 7 * week  # index of the first day forecast
            history = slice(origin - level_days, origin)
            fitted = _forecast_one(
                dates.iloc[history], units[history], 7, level_days, z, outlier_factor
            )
            actual = units[origin : origin + 7]
            last_week = units[origin - 7 : origin]
            inside = (actual >= fitted["low"].to_numpy()) & (actual <= fitted["high"].to_numpy())
            sums += [
                actual.sum(),
                np.abs(actual - fitted["forecast"].to_numpy()).sum(),
                np.abs(actual - last_week).sum(),
                np.abs(actual - last_week.mean()).sum(),
                inside.sum(),
                len(actual),
            ]
        pooled += sums
        rows.append(_wape_row(key, sums))
    rows.append(_wape_row(ALL, pooled, total=True))
    return pd.DataFrame(rows, columns=BACKTEST_COLUMNS)


def _wape_row(key: str, sums: np.ndarray, total: bool = False) -> dict:
    actual, method, naive, flat, inside, days = sums
    row = {"key": key, "actual_units": int(actual), TOTAL_FLAG: total}
    if actual > 0:
        baselines = {"seasonal_naive": naive / actual, "last_week_mean": flat / actual, "zero": 1.0}
        best = min(baselines, key=baselines.__getitem__)  # the first of equal minima
        row |= {
            "wape_method": method / actual,
            "beats_naive": bool(method / actual < baselines["seasonal_naive"]),
            "best_baseline": best,
            "wape_best_baseline": baselines[best],
            "use_forecast": bool(method / actual < baselines[best]),
        }
        row |= {f"wape_{name}": value for name, value in baselines.items()}
    else:
        row |= {"best_baseline": None, "beats_naive": None, "use_forecast": None}
        row |= {column: math.nan for column in BACKTEST_COLUMNS if column.startswith("wape_")}
    row["interval_coverage"] = inside / days if days else math.nan
    return row


def _listed(names: pd.Index | list[str], limit: int = 8) -> str:
    """``a, b and c``; past ``limit`` names, the first ones "and N more"."""
    names = [str(name) for name in names]
    if len(names) > limit:
        return f"{', '.join(names[:limit])} and {len(names) - limit} more"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def backtest_verdict(backtest: pd.DataFrame, what: str, interval: float = FORECAST_INTERVAL) -> str:
    """Whether to plan with the forecast, from :func:`backtest_forecast`: the pooled (``all``)
    comparison with the naive baselines, the keys for which the method beats every baseline (the
    only ones to use it for) and those for which it does worse than a forecast of zero, and how
    often its ``interval`` held the actual units on the keys it is recommended for."""
    total = backtest[TOTAL_FLAG].astype(bool)
    row = backtest[total].iloc[0]
    if pd.isna(row["wape_method"]):
        return f"Nothing sold in the backtest weeks for {what}: the forecast cannot be judged."
    method = row["wape_method"]
    against = _listed(
        [f"{row[f'wape_{name}']:.0%} for {label}" for name, label in BASELINES.items()]
    )
    if row["use_forecast"]:
        parts = [
            f"Pooled over {what}, the weekday mean beats every naive baseline in the backtest "
            f"(WAPE {method:.0%} against {against})."
        ]
    elif method >= row["wape_zero"]:
        parts = [
            f"Pooled over {what}, the weekday mean does NOT beat even a forecast of zero in the "
            f"backtest (WAPE {method:.0%} against 100%: its errors add up to at least the units "
            "sold); do not plan with it."
        ]
    else:
        best = BASELINES[row["best_baseline"]]
        parts = [
            f"Pooled over {what}, the weekday mean does NOT beat {best} in the backtest (WAPE "
            f"{method:.0%} against {row['wape_best_baseline']:.0%}): plan with {best} instead, "
            "or improve the method before trusting it."
        ]
    keys = backtest[~total].set_index("key")
    judged = keys[keys["wape_method"].notna()]
    pooled = backtest[total].set_index("key")
    used = judged[judged["use_forecast"].astype(bool)] if len(judged) > 1 else pooled
    if len(judged) > 1:
        noun = what.removeprefix("the ")
        if len(used):
            parts.append(
                f"One by one, it beats every baseline for {len(used)} of the {len(judged)} "
                f"{noun} ({_listed(used.index)}): use the forecast for those only."
            )
        else:
            parts.append(
                f"One by one, it beats every baseline for none of the {len(judged)} {noun}: "
                "use it for none of them."
            )
        worse = judged[judged["wape_method"] >= judged["wape_zero"]]
        if len(worse):
            shown = [f"{key} ({wape:.0%})" for key, wape in worse["wape_method"].items()]
            parts.append(f"It does worse than a forecast of zero for {_listed(shown)}.")
    if len(used) and bool(used["use_forecast"].astype(bool).all()):
        # every key has the same number of forecast days, so the mean of the shares is the share
        coverage = float(used["interval_coverage"].mean())
        parts.append(
            f"Where it is used, its {interval:.0%} interval held the actual units on "
            f"{coverage:.0%} of the backtest days."
        )
    return " ".join(parts)


def forecast_labels(backtest: pd.DataFrame) -> dict[str, str]:
    """A panel title per key of :func:`backtest_forecast`: the key, the method's WAPE and the
    verdict ("use", "naive better", "worse than zero"), e.g. ``SKU1 · WAPE 62% (use)``."""
    labels = {}
    keys = backtest[~backtest[TOTAL_FLAG].astype(bool)]
    for key, row in keys.set_index("key").iterrows():
        if pd.isna(row["wape_method"]):
            labels[key] = f"{key} · no sales in the backtest"
            continue
        if row["use_forecast"]:
            verdict = "use"
        elif row["wape_method"] >= row["wape_zero"]:
            verdict = "worse than zero"
        else:
            verdict = "naive better"
        labels[key] = f"{key} · WAPE {row['wape_method']:.0%} ({verdict})"
    return labels


PEAK_COLUMNS = ["date", "units", "median_units", "times_median", "calendar"]
PEAK_DAYS = 3


def peak_days(
    daily: pd.DataFrame,
    calendar: pd.DataFrame,
    days: int = LEVEL_DAYS,
    outlier_factor: float = OUTLIER_FACTOR,
    n: int = PEAK_DAYS,
) -> pd.DataFrame:
    """The shop's own peaks: the (at most ``n``) days of the last ``days`` days of ``daily``
    whose units of all keys together exceed ``outlier_factor`` × the median day of that window
    (the forecast's campaign-day rule, on the total), largest first (ties by date):
    ``date, units, median_units, times_median, calendar`` (what
    :func:`lib.shop_calendar.name_day` says of the date, "" when nothing)."""
    if daily.empty:
        return pd.DataFrame(columns=PEAK_COLUMNS)
    totals = daily.groupby("date", as_index=False)["units"].sum()
    recent = totals[totals["date"] > totals["date"].max() - pd.Timedelta(days=days)]
    median = float(recent["units"].median())
    peaks = recent[recent["units"] > outlier_factor * median] if median > 0 else recent.iloc[0:0]
    peaks = peaks.sort_values(["units", "date"], ascending=[False, True], kind="stable").head(n)
    table = peaks.reset_index(drop=True).assign(median_units=median)
    table["times_median"] = table["units"] / median if median > 0 else math.nan
    table["calendar"] = [name_day(day, calendar) for day in table["date"]]
    return table[PEAK_COLUMNS]


def peaks_note(
    peaks: pd.DataFrame, days: int = LEVEL_DAYS, outlier_factor: float = OUTLIER_FACTOR
) -> str:
    """One sentence naming the shop's peaks of :func:`peak_days` by the calendar."""
    if peaks.empty:
        return (
            f"No day of the last {days} sold more than {outlier_factor:g} × the median day: "
            "no campaign peak to name."
        )
    named = [
        f"{row.date:%Y-%m-%d}, {row.units:,.0f} units ({row.times_median:.1f} ×), "
        + (row.calendar or "a day the calendar does not name")
        for row in peaks.itertuples()
    ]
    return (
        f"The peaks of the last {days} days (all keys, above {outlier_factor:g} × the median day "
        f"of {peaks['median_units'].iloc[0]:,.0f} units): {'; '.join(named)}. The forecast "
        "leaves such campaign days out."
    )


def horizon_note(calendar: pd.DataFrame, first: dt.date, last: dt.date, country: str) -> str:
    """One sentence listing the calendar days of ``country`` from ``first`` to ``last`` (the
    forecast's days), which the weekday mean does not foresee."""
    within = calendar[
        (calendar["date"] >= pd.Timestamp(first)) & (calendar["date"] <= pd.Timestamp(last))
    ]
    span = f"the forecast's days ({first:%Y-%m-%d} … {last:%Y-%m-%d})"
    if within.empty:
        return f"The {country} calendar names no day in {span}."
    named = [f"{row.date:%Y-%m-%d} {row.name} ({row.kind})" for row in within.itertuples()]
    count = len(within.drop_duplicates("date"))
    return (
        f"The {country} calendar names {count} day{'s' if count > 1 else ''} in {span}: "
        f"{'; '.join(named)}. The weekday mean does not foresee them: plan these days separately."
    )


def reorder_points(
    inventory: ir.Table,
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table,
    period: Period,
    purchase_orders: ir.Table | None = None,
    velocity_days: int = VELOCITY_DAYS,
    service_level: float = SERVICE_LEVEL,
    default_lead_time_days: float = DEFAULT_LEAD_TIME_DAYS,
) -> pd.DataFrame:
    """Per SKU with a snapshot on or before end or sales in the velocity window:
    ``sku_id, category, mean_daily_demand, demand_std, lead_time_days, lead_time_source
    (purchase_orders / default), safety_stock, reorder_point, ending_units,
    below_reorder_point`` (module docstring), sorted by ``sku_id``."""
    # a velocity window of 0 days divides the demand by 0; a default lead time of 0 zeroes the
    # reorder points it sets
    parameters.check("velocity_days", velocity_days)
    parameters.check("default_lead_time_days", default_lead_time_days)
    parameters.check("service_level", service_level)
    z = _z(service_level)
    window = _period_ending(period.end, velocity_days, period.timezone)
    lines = paid_units(orders, order_items, window)
    per_day = lines.group_by(["sku_id", "day"]).aggregate(units=lines.quantity.sum())
    moments = (
        per_day.group_by("sku_id")
        .aggregate(total=per_day.units.sum(), squares=(per_day.units * per_day.units).sum())
        .to_pandas()
        .set_index("sku_id")
    )
    ending = _latest_on_or_before(daily_stock(inventory), period.end)
    skus = pd.Index(sorted(ending.index.union(moments.index)), name="sku_id")
    lead = pd.Series(dtype="float64")
    if purchase_orders is not None:
        received = purchase_orders.filter(
            purchase_orders.received_date.notnull(),
            purchase_orders.received_date <= ibis.literal(period.end, "date"),
        )
        frame = received.select("sku_id", "ordered_date", "received_date").to_pandas()
        if len(frame):
            frame["days"] = _epoch_days(frame["received_date"]) - _epoch_days(frame["ordered_date"])
            lead = frame.groupby("sku_id")["days"].mean()

    n = velocity_days
    total = moments["total"].reindex(skus).fillna(0).astype("float64")
    squares = moments["squares"].reindex(skus).fillna(0).astype("float64")
    mean = total / n
    # sample variance over the n days, the days without sales included as 0
    variance = ((squares - n * mean**2) / (n - 1)).clip(lower=0.0) if n > 1 else 0.0 * mean
    table = pd.DataFrame({"sku_id": skus})
    table["category"] = _category_of(table["sku_id"], _catalogue(products)).to_numpy()
    table["mean_daily_demand"] = mean.to_numpy()
    table["demand_std"] = np.sqrt(variance).to_numpy()
    known = lead.reindex(skus)
    table["lead_time_days"] = known.fillna(default_lead_time_days).to_numpy()
    table["lead_time_source"] = np.where(known.notna(), "purchase_orders", "default")
    root = np.sqrt(table["lead_time_days"])
    table["safety_stock"] = z * table["demand_std"] * root
    table["reorder_point"] = (
        table["mean_daily_demand"] * table["lead_time_days"] + table["safety_stock"]
    )
    table["ending_units"] = ending.reindex(skus).fillna(0).astype("int64").to_numpy()
    table["below_reorder_point"] = table["ending_units"] < table["reorder_point"]
    return table[REORDER_COLUMNS]


def skus_to_reorder(points: pd.DataFrame) -> pd.DataFrame:
    """The SKUs of :func:`reorder_points` whose ending units are below their reorder point, with
    ``shortfall = reorder_point − ending_units``, largest first."""
    below = points[points["below_reorder_point"]].copy()
    below["shortfall"] = below["reorder_point"] - below["ending_units"]
    below = below.sort_values(["shortfall", "sku_id"], ascending=[False, True], kind="stable")
    return below.reset_index(drop=True)
