"""Customer lifetime value (CLV): BG/NBD for repeat purchasing, Gamma-Gamma for spend.

Definitions (docs/metrics.md), from the paid orders (:func:`lib.definitions.paid_orders`, refunded
ones included) paid on or before ``end``, by local calendar day in the run's timezone:

- A customer's **purchase days** are the local days with at least one paid order; orders of one
  day are one purchase, worth the sum of their ``paid_amount`` (the GMV amount).
- ``frequency`` = purchase days − 1 (repeat purchases); ``recency`` = days from the first to the
  last purchase day; ``T`` = days from the first purchase day to ``end``; ``monetary_value`` = mean
  amount of the repeat purchase days (the first day left out; NaN with no repeat purchase).
  ``recency`` and ``T`` are in ``time_unit`` (``week`` = 7 days, or ``day``).
- **BG/NBD** (Fader, Hardie and Lee 2005, "Counting your customers the easy way"): while alive a
  customer buys as a Poisson process with rate λ ~ Gamma(r, α); after each purchase they drop out
  with probability p ~ Beta(a, b). **Gamma-Gamma** (Fader, Hardie and Lee 2005, "RFM and CLV";
  Fader and Hardie 2013): a customer's purchase amounts are Gamma(p, ν) with ν ~ Gamma(q, v),
  independent of the purchasing; it is fitted on the customers with a repeat purchase and a
  positive ``monetary_value``.
- Both are fitted by maximum likelihood of their published likelihoods (scipy L-BFGS-B on the
  log-parameters within ±:data:`LOG_BOUND`; customers with equal summaries are weighted, not
  repeated). pymc-marketing's ``clv`` was measured and left out: docs/metrics.md says why.
- ``p_alive``: probability the customer has not dropped out by ``end``; ``expected_purchases``:
  expected purchase days in the ``horizon_days`` days after ``end``; ``expected_value``: the
  expected spend per purchase (Gamma-Gamma, the population mean for customers without a repeat
  purchase) times those purchases, the purchases expected in the k-th 30-day month after ``end``
  discounted by ``(1 + discount_rate)^k`` (``discount_rate`` is monthly; a last, partial month
  counts by its days / 30).
- **Validation** (:func:`validation`): the same model fitted on the orders up to
  ``end − holdout_days`` (calibration) predicts each calibration customer's purchase days in the
  holdout; the naive baseline repeats the customer's calibration rate ``frequency / T``. Per
  calibration frequency (``max_frequency`` and above pooled), the table sums the predicted,
  actual and naive purchases.

Only one row per customer reaches pandas: the summary is computed in the engine. The fitting
imports scipy inside the functions, so ``import lib.clv`` stays cheap.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from lib import parameters
from lib.definitions import MONEY_DECIMALS, paid_orders, paid_orders_in
from lib.periods import Period

# Defaults of the notebook parameters (to be declared in lib/parameters.py).
DEFAULT_TIME_UNIT = parameters.default("clv_time_unit")
DEFAULT_HORIZON_DAYS = parameters.default("clv_horizon_days")
DEFAULT_DISCOUNT_RATE = parameters.default("clv_discount_rate")  # per month
DEFAULT_HOLDOUT_DAYS = parameters.default("holdout_days")
TIME_UNITS = {"day": 1, "week": 7}  # days per unit
DAYS_PER_MONTH = 30  # a month for discounting, as in lifetimes / pymc-marketing ("D": 30)
MAX_FREQUENCY = 7  # validation rows: calibration frequencies 0 … 6 and "7+"
# The fits search log-parameters within ±LOG_BOUND (e^15 ≈ 3.3 million): on data that cannot pin
# a parameter down (no dropout seen: a and b grow without end) the likelihood is maximised at
# the bound, and the notes say so (:func:`at_bound`).
LOG_BOUND = 15.0

SUMMARY_COLUMNS = ["user_id", "frequency", "recency", "T", "monetary_value"]
CLV_COLUMNS = [*SUMMARY_COLUMNS, "p_alive", "expected_purchases", "expected_value"]
MODEL_COLUMNS = ["model", "parameter", "value"]
VALIDATION_COLUMNS = [
    "frequency_cal",
    "customers",
    "predicted_purchases",
    "actual_purchases",
    "naive_purchases",
]
BGNBD, GAMMA_GAMMA = "BG/NBD", "Gamma-Gamma"


# --------------------------------------------------------------------------------------------
# The summary per customer


def _check_unit(time_unit: str) -> int:
    if time_unit not in TIME_UNITS:
        raise ValueError(f"time_unit={time_unit!r} must be one of {', '.join(TIME_UNITS)}")
    return TIME_UNITS[time_unit]


def _paid_up_to(orders: ir.Table, period: Period) -> ir.Table:
    """Every paid order paid before the end of ``period.end`` (local), with its local ``day``."""
    paid = paid_orders(orders)
    _, hi = period.utc_bounds()
    paid = paid.filter(paid.paid_time < ibis.literal(hi, "timestamp"))
    return paid.mutate(day=period.local_day(paid.paid_time))


def customer_summary(
    orders: ir.Table, period: Period, time_unit: str = DEFAULT_TIME_UNIT
) -> pd.DataFrame:
    """``user_id, frequency, recency, T, monetary_value`` of every buyer as of ``period.end``
    (definitions in the module docstring), sorted by ``user_id``."""
    per_day = _check_unit(time_unit)
    paid = _paid_up_to(orders, period)
    # Money rounded to the cent after each sum: an engine adds floats in the order its threads
    # finish, so unrounded sums differ in the 13th digit from run to run, and the likelihood,
    # flat along a/b, turns that into a different fit in the 7th (a value that moves by cents).
    days = paid.group_by(["user_id", "day"]).aggregate(
        amount=paid.paid_amount.sum().round(MONEY_DECIMALS)
    )
    per_user = days.group_by("user_id").aggregate(
        purchase_days=days.count(),
        first_day=days.day.min(),
        last_day=days.day.max(),
        total=days.amount.sum().round(MONEY_DECIMALS),
        first_amount=days.amount.argmin(days.day),
    )
    table = per_user.to_pandas()
    return _summary_frame(table, period.end_day, per_day)


def _summary_frame(table: pd.DataFrame, end_day: int, per_day: int) -> pd.DataFrame:
    repeats = table["purchase_days"].astype("int64") - 1
    repeat_amount = table["total"].astype("float64") - table["first_amount"].astype("float64")
    summary = pd.DataFrame(
        {
            "user_id": table["user_id"],
            "frequency": repeats,
            "recency": (table["last_day"] - table["first_day"]).astype("float64") / per_day,
            "T": (end_day - table["first_day"]).astype("float64") / per_day,
            "monetary_value": (repeat_amount / repeats.where(repeats > 0)).astype("float64"),
        }
    )
    return summary.sort_values("user_id", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# The models


@dataclass(frozen=True)
class BgNbd:
    """Fitted BG/NBD parameters (``alpha`` in the summary's time unit)."""

    r: float
    alpha: float
    a: float
    b: float

    def _log_odds_dead(self, frequency, recency, T) -> np.ndarray:  # noqa: N803 (T as published)
        x, tx, big_t = (np.asarray(v, dtype="float64") for v in (frequency, recency, T))
        with np.errstate(divide="ignore", invalid="ignore"):
            odds = (
                np.log(self.a)
                - np.log(self.b + np.maximum(x, 1) - 1)
                + (self.r + x) * (np.log(self.alpha + big_t) - np.log(self.alpha + tx))
            )
        return np.where(x > 0, odds, -np.inf)

    def p_alive(self, frequency, recency, T) -> np.ndarray:  # noqa: N803
        """P(alive at T | x, t_x, T) (Fader, Hardie and Lee 2008, note 021)."""
        from scipy import special

        return special.expit(-self._log_odds_dead(frequency, recency, T))

    def expected_purchases(self, t: float, frequency, recency, T) -> np.ndarray:  # noqa: N803
        """E[X(T, T + t) | x, t_x, T]: expected purchases in the next ``t`` time units
        (Fader, Hardie and Lee 2005, equation 10)."""
        from scipy import special

        x, big_t = (np.asarray(v, dtype="float64") for v in (frequency, T))
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        if t <= 0:
            return np.zeros_like(x)
        z = t / (alpha + big_t + t)
        hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
        growth = 1 - np.exp((r + x) * (np.log(alpha + big_t) - np.log(alpha + big_t + t))) * hyp
        value = (a + b + x - 1) / (a - 1) * growth * self.p_alive(frequency, recency, T)
        return np.where(np.isfinite(value), np.maximum(value, 0.0), np.nan)

    def parameters(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}


@dataclass(frozen=True)
class GammaGamma:
    """Fitted Gamma-Gamma parameters (``v`` in money)."""

    p: float
    q: float
    v: float

    def expected_spend(self, frequency, monetary_value) -> np.ndarray:
        """E[Z | x, z̄] = p (v + x z̄) / (p x + q − 1): the expected amount of a purchase; the
        population mean p v / (q − 1) for ``frequency`` 0 (infinite, NaN here, when q ≤ 1)."""
        x = np.asarray(frequency, dtype="float64")
        z = np.nan_to_num(np.asarray(monetary_value, dtype="float64"), nan=0.0)
        denominator = self.p * x + self.q - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            spend = self.p * (self.v + x * z) / denominator
        return np.where(denominator > 0, spend, np.nan)

    def parameters(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "v": self.v}


def _weighted(frame: pd.DataFrame, columns: list[str]) -> list[np.ndarray]:
    """The distinct rows of ``columns`` and their counts (the likelihood weights)."""
    counted = frame[columns].value_counts(sort=False).reset_index()
    return [counted[c].to_numpy("float64") for c in [*columns, "count"]]


def _maximise(nll, start: np.ndarray, args: tuple) -> list[float]:
    from scipy import optimize

    # the likelihood is flat along a/b: tight tolerances reach the optimum to 4 significant digits
    tight = {"ftol": 1e-12, "gtol": 1e-8}
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
    with np.errstate(all="ignore"):
        result = optimize.minimize(
            nll, start, args=args, method="L-BFGS-B", bounds=bounds, options=tight
        )
        if not result.success:  # retry from the L-BFGS-B point without gradients
            result = optimize.minimize(
                nll, result.x, args=args, method="Nelder-Mead", bounds=bounds
            )
    if not result.success or not np.all(np.isfinite(result.x)):
        raise ValueError(f"the maximum-likelihood fit did not converge: {result.message}")
    return [float(value) for value in np.exp(result.x)]


def _bgnbd_nll(log_params: np.ndarray, x, tx, big_t, weight) -> float:
    from scipy import special

    r, alpha, a, b = np.exp(log_params)
    common = (
        special.gammaln(r + x)
        - special.gammaln(r)
        + r * np.log(alpha)
        + special.betaln(a, b + x)
        - special.betaln(a, b)
    )
    alive = -(r + x) * np.log(alpha + big_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        dead = np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + tx)
    ll = common + np.where(x > 0, np.logaddexp(alive, dead), alive)
    total = float((weight * ll).sum() / weight.sum())
    return -total if math.isfinite(total) else 1e300


def fit_bgnbd(summary: pd.DataFrame) -> BgNbd:
    """Maximum-likelihood BG/NBD on ``frequency, recency, T`` (Fader, Hardie and Lee 2005,
    equation 6); needs at least one customer with a repeat purchase."""
    if summary.empty or not (summary["frequency"] > 0).any():
        raise ValueError("BG/NBD needs at least one customer with a repeat purchase")
    x, tx, big_t, weight = _weighted(summary, ["frequency", "recency", "T"])
    start = np.log([1.0, max(float(np.mean(big_t)), 1e-3), 1.0, 1.0])
    return BgNbd(*_maximise(_bgnbd_nll, start, (x, tx, big_t, weight)))


def _gamma_gamma_nll(log_params: np.ndarray, x, z, weight) -> float:
    from scipy import special

    p, q, v = np.exp(log_params)
    ll = (
        special.gammaln(p * x + q)
        - special.gammaln(p * x)
        - special.gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(z)
        + p * x * np.log(x)
        - (p * x + q) * np.log(x * z + v)
    )
    total = float((weight * ll).sum() / weight.sum())
    return -total if math.isfinite(total) else 1e300


def gamma_gamma_customers(summary: pd.DataFrame) -> pd.DataFrame:
    """The customers the Gamma-Gamma model is fitted on: a repeat purchase and a positive
    ``monetary_value``."""
    return summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]


def fit_gamma_gamma(summary: pd.DataFrame) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma on the mean repeat amounts (Fader and Hardie 2013,
    equation 5) of :func:`gamma_gamma_customers`; needs two different amounts at least."""
    fitted = gamma_gamma_customers(summary)
    if fitted["monetary_value"].nunique() < 2:
        raise ValueError("Gamma-Gamma needs repeat customers with two different amounts at least")
    x, z, weight = _weighted(fitted, ["frequency", "monetary_value"])
    start = np.log([1.0, 1.0, max(float(np.mean(z)), 1e-3)])
    return GammaGamma(*_maximise(_gamma_gamma_nll, start, (x, z, weight)))


def model_table(bgnbd: BgNbd | None, gamma_gamma: GammaGamma | None) -> pd.DataFrame:
    """``model, parameter, value``: BG/NBD r, alpha, a, b and Gamma-Gamma p, q, v (NaN when a
    model could not be fitted)."""
    rows = [(BGNBD, k, v) for k, v in (bgnbd or BgNbd(*[math.nan] * 4)).parameters().items()]
    gg = gamma_gamma or GammaGamma(*[math.nan] * 3)
    rows += [(GAMMA_GAMMA, k, v) for k, v in gg.parameters().items()]
    return pd.DataFrame(rows, columns=MODEL_COLUMNS)


def at_bound(model: pd.DataFrame) -> list[str]:
    """``model parameter`` of the fitted parameters that reached the search bound (see
    :data:`LOG_BOUND`), from a :func:`model_table`."""
    logs = np.log(model["value"].astype("float64"))
    hit = model[(logs.abs() >= LOG_BOUND - 1e-6) & np.isfinite(logs)]
    return [f"{m} {p}" for m, p in zip(hit["model"], hit["parameter"], strict=True)]


# --------------------------------------------------------------------------------------------
# The CLV table


def discounted_purchases(
    bgnbd: BgNbd,
    summary: pd.DataFrame,
    horizon_days: int,
    discount_rate: float,
    time_unit: str = DEFAULT_TIME_UNIT,
) -> np.ndarray:
    """Expected purchases in the ``horizon_days`` after ``end``, those of the k-th 30-day month
    discounted by ``(1 + discount_rate)^k`` (a last, partial month by its days / 30)."""
    per_day = _check_unit(time_unit)
    args = (summary["frequency"], summary["recency"], summary["T"])
    total = np.zeros(len(summary))
    before = np.zeros(len(summary))
    for month in range(1, math.ceil(horizon_days / DAYS_PER_MONTH) + 1):
        days = min(month * DAYS_PER_MONTH, horizon_days)
        cumulative = bgnbd.expected_purchases(days / per_day, *args)
        total += (cumulative - before) / (1 + discount_rate) ** (days / DAYS_PER_MONTH)
        before = cumulative
    return total


def customer_value(
    summary: pd.DataFrame,
    bgnbd: BgNbd | None,
    gamma_gamma: GammaGamma | None,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    discount_rate: float = DEFAULT_DISCOUNT_RATE,
    time_unit: str = DEFAULT_TIME_UNIT,
) -> pd.DataFrame:
    """The ``tables/clv.csv`` rows: the summary with ``p_alive, expected_purchases,
    expected_value`` (NaN where a model is missing), by ``expected_value`` descending."""
    if horizon_days < 1:
        raise ValueError(f"horizon_days={horizon_days} must be at least 1")
    if discount_rate < 0:
        raise ValueError(f"discount_rate={discount_rate} must be at least 0")
    per_day = _check_unit(time_unit)
    table = summary.copy()
    n = len(table)
    args = (table["frequency"], table["recency"], table["T"])
    if bgnbd is None:
        table["p_alive"] = np.full(n, np.nan)
        table["expected_purchases"] = np.full(n, np.nan)
        value = np.full(n, np.nan)
    else:
        table["p_alive"] = bgnbd.p_alive(*args)
        table["expected_purchases"] = bgnbd.expected_purchases(horizon_days / per_day, *args)
        discounted = discounted_purchases(bgnbd, table, horizon_days, discount_rate, time_unit)
        spend = (
            gamma_gamma.expected_spend(table["frequency"], table["monetary_value"])
            if gamma_gamma is not None
            else np.full(n, np.nan)
        )
        value = discounted * spend
    table["expected_value"] = np.round(value, MONEY_DECIMALS)
    table["monetary_value"] = table["monetary_value"].round(MONEY_DECIMALS)
    table = table.sort_values(["expected_value", "user_id"], ascending=[False, True])
    return table[CLV_COLUMNS].reset_index(drop=True)


def _fit_both(summary: pd.DataFrame) -> tuple[BgNbd | None, GammaGamma | None]:
    try:
        bgnbd = fit_bgnbd(summary)
    except ValueError:
        bgnbd = None
    try:
        gamma_gamma = fit_gamma_gamma(summary)
    except ValueError:
        gamma_gamma = None
    return bgnbd, gamma_gamma


def lifetime_value(
    orders: ir.Table,
    period: Period,
    time_unit: str = DEFAULT_TIME_UNIT,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    discount_rate: float = DEFAULT_DISCOUNT_RATE,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(clv, clv_model)``: the tables ``tables/clv.csv`` and ``tables/clv_model.csv``, fitted
    on every paid order up to ``period.end``."""
    summary = customer_summary(orders, period, time_unit)
    bgnbd, gamma_gamma = _fit_both(summary)
    table = customer_value(summary, bgnbd, gamma_gamma, horizon_days, discount_rate, time_unit)
    return table, model_table(bgnbd, gamma_gamma)


def clv_note(clv: pd.DataFrame, model: pd.DataFrame, horizon_days: int) -> str:
    """What the CLV table says: customers, expected purchases and value, and how concentrated the
    value is, from :func:`lifetime_value`'s tables."""
    if clv.empty:
        return "No paid order up to the end: no customer to value."
    fitted = model.dropna(subset=["value"])
    if BGNBD not in set(fitted["model"]):
        return (
            f"{len(clv):,} customers, but none bought on a second day: "
            "the BG/NBD model cannot be fitted, so no lifetime value is given."
        )
    purchases = clv["expected_purchases"].sum()
    text = (
        f"{len(clv):,} customers ({(clv['frequency'] > 0).mean():.1%} bought on two days or "
        f"more; mean P(alive) {clv['p_alive'].mean():.1%}) are expected to buy on "
        f"{purchases:,.0f} days in the next {horizon_days} days"
    )
    if GAMMA_GAMMA not in set(fitted["model"]) or clv["expected_value"].isna().all():
        return text + "; the spend model could not be fitted, so no value is given."
    bounded = at_bound(model)
    if bounded:
        text += (
            f" ({', '.join(bounded)} reached the fitting bound: the data cannot pin "
            f"{'it' if len(bounded) == 1 else 'them'} down, so treat the predictions as rough)"
        )
    values = clv["expected_value"].fillna(0.0).sort_values(ascending=False)
    top = max(1, math.ceil(len(values) / 10))
    share = values.iloc[:top].sum() / values.sum() if values.sum() > 0 else math.nan
    return (
        text + f", worth {values.sum():,.2f} (discounted); the top 10% of customers "
        f"({top:,}) hold {share:.1%} of that value."
    )


# --------------------------------------------------------------------------------------------
# Validation


def _frequency_label(frequency: pd.Series, max_frequency: int) -> pd.Series:
    return frequency.map(lambda f: f"{max_frequency}+" if f >= max_frequency else str(int(f)))


def validation(
    orders: ir.Table,
    period: Period,
    holdout_days: int = DEFAULT_HOLDOUT_DAYS,
    time_unit: str = DEFAULT_TIME_UNIT,
    max_frequency: int = MAX_FREQUENCY,
) -> pd.DataFrame:
    """``frequency_cal, customers, predicted_purchases, actual_purchases, naive_purchases``.

    Fitted on the paid orders up to ``end − holdout_days``; the holdout is the following
    ``holdout_days`` local days through ``end``. Rows are the calibration frequencies present,
    ``"0"`` to ``"6"`` and ``"7+"`` (``max_frequency`` and above pooled); empty when no customer
    bought before the holdout; predictions NaN when BG/NBD cannot be fitted.
    """
    per_day = _check_unit(time_unit)
    if holdout_days < 1:
        raise ValueError(f"holdout_days={holdout_days} must be at least 1")
    cal_end = period.end - dt.timedelta(days=holdout_days)
    calibration = Period(min(period.start, cal_end), cal_end, period.timezone)
    holdout = Period(cal_end + dt.timedelta(days=1), period.end, period.timezone)
    summary = customer_summary(orders, calibration, time_unit)
    if summary.empty:
        return pd.DataFrame(columns=VALIDATION_COLUMNS)
    paid = paid_orders_in(orders, holdout)
    actual = (
        paid.group_by("user_id").aggregate(actual=paid.day.nunique()).to_pandas()
    )  # purchase days in the holdout, per buyer
    table = summary.merge(actual, on="user_id", how="left")
    table["actual"] = table["actual"].fillna(0).astype("int64")
    try:
        bgnbd = fit_bgnbd(summary)
        args = (table["frequency"], table["recency"], table["T"])
        table["predicted"] = bgnbd.expected_purchases(holdout_days / per_day, *args)
    except ValueError:
        table["predicted"] = np.nan
    rate = table["frequency"] / table["T"].where(table["T"] > 0)
    table["naive"] = rate.fillna(0.0) * holdout_days / per_day
    table["frequency_cal"] = _frequency_label(table["frequency"], max_frequency)
    table["order"] = table["frequency"].clip(upper=max_frequency)
    grouped = (
        table.groupby(["order", "frequency_cal"])
        .agg(
            customers=("user_id", "size"),
            predicted_purchases=("predicted", lambda s: s.sum(min_count=1)),
            actual_purchases=("actual", "sum"),
            naive_purchases=("naive", "sum"),
        )
        .reset_index()
        .sort_values("order")
    )
    grouped["customers"] = grouped["customers"].astype("int64")
    grouped["actual_purchases"] = grouped["actual_purchases"].astype("int64")
    return grouped[VALIDATION_COLUMNS].reset_index(drop=True)


def validation_errors(table: pd.DataFrame) -> dict[str, float]:
    """Model and baseline errors from a :func:`validation` table: ``*_total_error`` = |predicted
    total − actual total|, ``*_group_error`` = Σ over the frequency rows of |predicted − actual|."""
    actual = table["actual_purchases"].astype("float64")
    errors = {}
    for name, column in (("model", "predicted_purchases"), ("naive", "naive_purchases")):
        errors[f"{name}_total_error"] = abs(table[column].sum() - actual.sum())
        errors[f"{name}_group_error"] = (table[column] - actual).abs().sum()
    return errors


def validation_note(table: pd.DataFrame, holdout_days: int) -> str:
    """Whether the model predicted the holdout better than the naive baseline, in total and per
    calibration frequency, from a :func:`validation` table — saying so when it does not."""
    if table.empty:
        return f"No customer bought before the last {holdout_days} days: nothing to validate."
    if table["predicted_purchases"].isna().all():
        return (
            "No customer bought on a second day before the holdout: the model cannot be "
            "fitted on the calibration part, so it is not validated."
        )
    actual = int(table["actual_purchases"].sum())
    predicted = float(table["predicted_purchases"].sum())
    naive = float(table["naive_purchases"].sum())
    e = validation_errors(table)
    head = (
        f"In the last {holdout_days} days the {int(table['customers'].sum()):,} earlier "
        f"customers bought on {actual:,} days; the model predicted {predicted:,.0f}, the naive "
        f"baseline (each repeating their own rate) {naive:,.0f}. Summed over the calibration "
        f"frequencies the absolute error is {e['model_group_error']:,.0f} for the model and "
        f"{e['naive_group_error']:,.0f} for the baseline. "
    )
    total_better = e["model_total_error"] < e["naive_total_error"]
    group_better = e["model_group_error"] < e["naive_group_error"]
    if total_better and group_better:
        return head + "The model beats the baseline in total and per frequency."
    if not total_better and not group_better:
        return head + (
            "The model does NOT beat the naive baseline here: read its predictions with care."
        )
    where = "in total" if total_better else "per frequency"
    other = "per frequency" if total_better else "in total"
    return head + f"The model beats the baseline {where} but NOT {other}."
