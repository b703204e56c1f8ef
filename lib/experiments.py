"""A/B tests: conversion, revenue per user and average order value of each variant against the
control, with intervals, a sample-ratio-mismatch check that blocks the verdict when it fails,
CUPED variance reduction, and the sample size a test needs before it is read.

Definitions (docs/metrics.md):

- **Input.** ``experiments``: ``user_id, experiment, variant, assigned_time`` (naive UTC), one
  row per user and experiment. A repeated assignment of a user within one experiment is a data
  error reported elsewhere (the data contract names the users); here each row is one unit, so a
  duplicate would count twice. Orders as in the contract; a *paid order* is
  :func:`lib.definitions.paid_orders` (``paid_time`` set, not cancelled; refunded ones count).
- **Users** of a variant: its rows whose ``assigned_time`` falls on one of the period's local
  days (``[start 00:00, end + 1 day 00:00)`` in the run's time zone).
- **Outcome window** of a user: paid orders with ``assigned_time < paid_time <`` the end of the
  period's last local day. A payment at or before the assignment is no outcome (the variant
  cannot have caused it); one after the period's end is not counted either. Users assigned late
  have a shorter window, equally in every variant, so the comparison stays fair while the levels
  are lower than a fixed-length window would give.
- **conversion**: the share of users with at least one paid order in their window.
  **revenue_per_user**: the sum of ``paid_amount`` of those orders per user, users without one
  counting as 0, averaged over all users. **aov**: that revenue divided by the number of those
  orders (per order, among converters), i.e. ``Σ revenue / Σ orders`` of the variant.
- **Difference and interval** (conversion, revenue per user): ``diff = mean₁ − mean₀`` of the
  variant and the control, per-user values (0/1 for conversion), Welch's test: ``se² = s₁²/n₁ +
  s₀²/n₀`` with sample variances (ddof 1), Welch–Satterthwaite degrees of freedom, 95 % interval
  ``diff ± t·se`` and two-sided p-value from Student's t (the same as
  ``scipy.stats.ttest_ind(…, equal_var=False)``; for a few hundred users it is the unpooled normal
  test). **aov** is a ratio of two per-user sums (the user, not the order, is what was
  randomised, and one user's orders are not independent), so its variance is the delta method's
  ``var(R) = var(Y − R·X) / (n · mean(X)²)`` with ``Y`` the user's revenue and ``X`` their orders
  (all users, ddof 1), and the interval and p-value use the normal distribution.
- **lift** ``= mean₁ / mean₀ − 1``, its interval by the delta method, ``var = se₁²/mean₀² +
  mean₁²·se₀²/mean₀⁴``, normal 95 % (``lift_low``, ``lift_high``). Undefined when the control's
  mean is 0.
- **SRM** (sample-ratio mismatch): Pearson's χ² of each experiment's users per variant against
  the planned split (``planned_split``; default equal shares over the variants present), ``k − 1``
  degrees of freedom. A variant of the plan without a user counts with 0. When ``srm_p_value <
  srm_alpha`` (default 0.001) the assignment or its logging is broken, ``srm_ok`` is False and
  every verdict of the experiment is ``blocked by SRM``.
- **CUPED** (Deng et al. 2013), for conversion and revenue per user: the covariate ``X`` of a
  user is the same metric over the ``cuped_days`` × 24 h before the assignment (paid orders with
  ``assigned_time − cuped_days ≤ paid_time ≤ assigned_time``, to the second: bought at all for
  conversion, revenue for revenue per user). ``θ = cov(Y, X) / var(X)`` over the users of all the
  experiment's variants together (both groups of an A/B test), ``Y_cuped = Y − θ(X − X̄)`` with
  ``X̄`` that pooled mean. ``cuped`` is the adjusted mean of the variant; ``cuped_diff``,
  ``cuped_ci_low``, ``cuped_ci_high`` and ``cuped_p_value`` are Welch's test on ``Y_cuped``.
  ``variance_reduction = 1 − var(Y_cuped) / var(Y)`` within the row's variant, and
  ``diff_variance_reduction = 1 − se²(cuped_diff) / se²(diff)``: how much narrower the test got.
  Without variation of ``X`` (nobody bought before) ``θ = 0`` and nothing changes.
- **p_adjusted**: Holm's step-down adjustment of ``p_value`` over the experiment's tests (each
  variant but the control × the three metrics): sorted ascending, ``p_(i) × (m − i + 1)``, made
  non-decreasing and capped at 1, ``m`` the tests with a p-value. The experiment's chance of
  calling any of them moved when none did stays below 0.05, where six unadjusted tests at
  0.05 would have a chance of up to 26 %.
- **verdict**: ``control``; ``blocked by SRM``; ``higher`` or ``lower`` when ``p_adjusted <``
  0.05; ``no detectable difference`` otherwise; ``undefined`` when the test cannot be run (no
  variation, fewer than two users). Intervals and ``p_value`` are each test's own.
- **Control**: ``control_variant`` when given (one name, or one per experiment), else a variant
  called ``control`` when there is one, else the first variant alphabetically.

Everything per user is aggregated in the engine: assignments are joined to the paid orders of the
window, grouped by user, and summed per variant as counts, sums, sums of squares and
cross-products, so one row per variant comes back to pandas, where the statistics are worked
out. Money sums are rounded in the engine so DuckDB and PySpark give the same numbers.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import ndtri

from lib.definitions import MONEY_DECIMALS, paid_orders
from lib.periods import SECONDS_PER_DAY, Period, epoch_seconds

DEFAULT_CUPED_DAYS = 14
# A split this unlikely under the plan means broken assignment or logging, not chance; 0.001 is
# the usual threshold (the check runs on every test, so a loose one would block many good tests).
DEFAULT_SRM_ALPHA = 0.001
# The smallest relative change in conversion a test is sized to detect (the note's power warning).
DEFAULT_MDE = 0.10
DEFAULT_POWER = 0.80
# a difference is significant at p < ALPHA; intervals are 1 − ALPHA
ALPHA = 0.05
CONTROL_NAME = "control"

METRICS = ("conversion", "revenue_per_user", "aov")
CUPED_METRICS = ("conversion", "revenue_per_user")
COLUMNS = [
    "experiment",
    "variant",
    "users",
    "metric",
    "value",
    "diff",
    "ci_low",
    "ci_high",
    "p_value",
    "lift",
    "cuped",
    "srm_p_value",
]
EXTRA_COLUMNS = [
    "control",
    "lift_low",
    "lift_high",
    "cuped_diff",
    "cuped_ci_low",
    "cuped_ci_high",
    "cuped_p_value",
    "theta",
    "variance_reduction",
    "diff_variance_reduction",
    "srm_ok",
    "p_adjusted",
    "verdict",
]
SUM_COLUMNS = [
    "experiment",
    "variant",
    "users",
    "converters",
    "orders",
    "orders_sq",
    "revenue",
    "revenue_sq",
    "revenue_orders",
    "pre_converters",
    "converters_pre",
    "pre_revenue",
    "pre_revenue_sq",
    "revenue_pre",
]
SRM_COLUMNS = [
    "experiment",
    "variant",
    "users",
    "planned_share",
    "expected",
    "srm_chi2",
    "srm_p_value",
    "srm_ok",
]

VERDICT_CONTROL = "control"
VERDICT_BLOCKED = "blocked by SRM"
VERDICT_HIGHER = "higher"
VERDICT_LOWER = "lower"
VERDICT_NONE = "no detectable difference"
VERDICT_UNDEFINED = "undefined"

# Squares and cross-products of money (cents × cents) are rounded to this many decimals.
SQUARE_DECIMALS = 2 * MONEY_DECIMALS

PlannedSplit = Mapping[str, float] | Mapping[str, Mapping[str, float]]


def _check_days(cuped_days: int) -> None:
    if isinstance(cuped_days, bool) or not isinstance(cuped_days, int) or cuped_days < 1:
        raise ValueError(f"cuped_days={cuped_days!r} must be a whole number from 1")


def _check_share(name: str, value: float, low: float = 0.0, high: float = 1.0) -> None:
    if not (low < value < high):
        raise ValueError(f"{name}={value!r} must be between {low:g} and {high:g}, both excluded")


# --------------------------------------------------------------------------------------------
# In the engine


def assigned_users(experiments: ir.Table, period: Period) -> ir.Table:
    """``experiment, variant, user_id, assigned_time``: the assignments made on the period's
    local days (a UTC range, so the engine can skip the rest before any arithmetic)."""
    lo, hi = period.utc_bounds()
    t = experiments.assigned_time
    inside = experiments.filter(
        t >= ibis.literal(lo, "timestamp"), t < ibis.literal(hi, "timestamp")
    )
    return inside.select("experiment", "variant", "user_id", "assigned_time")


def _user_outcomes(
    experiments: ir.Table, orders: ir.Table, period: Period, cuped_days: int
) -> ir.Table:
    """One row per assignment: its orders and revenue in the outcome window and before it."""
    assigned = assigned_users(experiments, period)
    assigned = assigned.mutate(assigned_s=epoch_seconds(assigned.assigned_time))
    lo, hi = period.utc_bounds()
    # the earliest pre-period instant of any user assigned in the period
    earliest = lo - dt.timedelta(days=cuped_days)
    paid = paid_orders(orders)
    paid = paid.filter(
        paid.paid_time >= ibis.literal(earliest, "timestamp"),
        paid.paid_time < ibis.literal(hi, "timestamp"),
    )
    paid = paid.select(
        buyer=paid.user_id,
        paid_time=paid.paid_time,
        paid_s=epoch_seconds(paid.paid_time),
        amount=paid.paid_amount.fill_null(0.0),
    )
    joined = assigned.left_join(
        paid,
        [
            assigned.user_id == paid.buyer,
            paid.paid_s >= assigned.assigned_s - cuped_days * SECONDS_PER_DAY,
        ],
    )
    # without a matching order paid_time is null: neither branch holds and both sums get 0
    after = joined.paid_time > joined.assigned_time
    before = joined.paid_time <= joined.assigned_time
    per_user = joined.group_by(["experiment", "variant", "user_id", "assigned_time"]).aggregate(
        orders=ibis.cases((after, 1), else_=0).sum(),
        revenue=ibis.cases((after, joined.amount), else_=0.0).sum().round(MONEY_DECIMALS),
        pre_orders=ibis.cases((before, 1), else_=0).sum(),
        pre_revenue=ibis.cases((before, joined.amount), else_=0.0).sum().round(MONEY_DECIMALS),
    )
    return per_user.mutate(
        converted=(per_user.orders > 0).cast("int64"),
        pre_converted=(per_user.pre_orders > 0).cast("int64"),
    )


def experiment_sums(
    experiments: ir.Table,
    orders: ir.Table,
    period: Period,
    cuped_days: int = DEFAULT_CUPED_DAYS,
) -> pd.DataFrame:
    """One row per experiment and variant (sorted): ``users``, ``converters``, ``orders`` and
    ``revenue`` in the outcome window, their per-user sums of squares and cross-products
    (``orders_sq``, ``revenue_sq``, ``revenue_orders``) and the CUPED covariates' sums
    (``pre_converters``, ``converters_pre`` = Σ converted × converted before, ``pre_revenue``,
    ``pre_revenue_sq``, ``revenue_pre`` = Σ revenue × revenue before). Everything the statistics
    need, computed in the engine; see the module docstring for the windows."""
    _check_days(cuped_days)
    u = _user_outcomes(experiments, orders, period, cuped_days)
    sums = u.group_by(["experiment", "variant"]).aggregate(
        users=u.count(),
        converters=u.converted.sum(),
        orders=u.orders.sum(),
        orders_sq=(u.orders * u.orders).sum(),
        revenue=u.revenue.sum().round(MONEY_DECIMALS),
        revenue_sq=(u.revenue * u.revenue).sum().round(SQUARE_DECIMALS),
        revenue_orders=(u.revenue * u.orders).sum().round(SQUARE_DECIMALS),
        pre_converters=u.pre_converted.sum(),
        converters_pre=(u.converted * u.pre_converted).sum(),
        pre_revenue=u.pre_revenue.sum().round(MONEY_DECIMALS),
        pre_revenue_sq=(u.pre_revenue * u.pre_revenue).sum().round(SQUARE_DECIMALS),
        revenue_pre=(u.revenue * u.pre_revenue).sum().round(SQUARE_DECIMALS),
    )
    table = sums.to_pandas()
    if table.empty:
        return pd.DataFrame(columns=SUM_COLUMNS)
    ints = ["users", "converters", "orders", "orders_sq", "pre_converters", "converters_pre"]
    money = [c for c in SUM_COLUMNS[2:] if c not in ints]
    table = table.fillna({c: 0 for c in SUM_COLUMNS[2:]})
    table = table.astype({**{c: "int64" for c in ints}, **{c: "float64" for c in money}})
    table = table.astype({"experiment": str, "variant": str})
    table = table.sort_values(["experiment", "variant"])
    return table[SUM_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Sample-ratio mismatch


def _planned_for(
    experiment: str, variants: list[str], planned_split: PlannedSplit | None
) -> dict[str, float]:
    """The planned shares (summing to 1) of one experiment's variants; equal when unplanned."""
    plan: Mapping[str, float] | None = None
    if planned_split:
        nested = all(isinstance(v, Mapping) for v in planned_split.values())
        plan = planned_split.get(experiment) if nested else planned_split  # type: ignore[assignment]
    if not plan:
        return {v: 1.0 / len(variants) for v in variants}
    unplanned = sorted(set(variants) - set(plan))
    if unplanned:
        raise ValueError(
            f"experiment {experiment!r}: variant(s) {', '.join(unplanned)} have users but are "
            f"not in planned_split ({', '.join(map(str, plan))})"
        )
    weights = {str(k): float(w) for k, w in plan.items()}
    if not all(w > 0 for w in weights.values()):
        raise ValueError(f"experiment {experiment!r}: planned_split weights must be positive")
    total = sum(weights.values())
    return {k: w / total for k, w in weights.items()}


def srm_test(observed: Mapping[str, int], planned: Mapping[str, float]) -> tuple[float, float]:
    """Pearson's χ² statistic and p-value of the counts ``observed`` (variant → users; a planned
    variant missing counts 0) against the shares ``planned`` (variant → share, summing to 1),
    ``k − 1`` degrees of freedom. NaN with fewer than two variants or no user."""
    names = sorted(planned)
    counts = np.array([observed.get(v, 0) for v in names], dtype="float64")
    total = counts.sum()
    if len(names) < 2 or total <= 0:
        return math.nan, math.nan
    expected = total * np.array([planned[v] for v in names], dtype="float64")
    result = stats.chisquare(counts, expected)
    return float(result.statistic), float(result.pvalue)


def _srm_table(
    counts: pd.DataFrame, planned_split: PlannedSplit | None, srm_alpha: float
) -> pd.DataFrame:
    rows = []
    for experiment, group in counts.groupby("experiment", sort=True):
        observed = dict(zip(group["variant"], group["users"].astype(int), strict=True))
        plan = _planned_for(str(experiment), sorted(observed), planned_split)
        chi2, p = srm_test(observed, plan)
        total = sum(observed.values())
        for variant in sorted(plan):
            rows.append(
                {
                    "experiment": experiment,
                    "variant": variant,
                    "users": observed.get(variant, 0),
                    "planned_share": plan[variant],
                    "expected": total * plan[variant],
                    "srm_chi2": chi2,
                    "srm_p_value": p,
                    # NaN (one variant only) has nothing to mismatch
                    "srm_ok": not (p < srm_alpha),
                }
            )
    table = pd.DataFrame(rows, columns=SRM_COLUMNS)
    return table.astype({"users": "int64", "srm_ok": bool})


def srm_check(
    experiments: ir.Table,
    period: Period,
    planned_split: PlannedSplit | None = None,
    *,
    srm_alpha: float = DEFAULT_SRM_ALPHA,
) -> pd.DataFrame:
    """``experiment, variant, users, planned_share, expected, srm_chi2, srm_p_value, srm_ok``:
    the users assigned on the period's days per variant against the planned split.

    ``planned_split``: variant → weight for every experiment, or experiment → (variant →
    weight); weights are normalised; an experiment without a plan is planned equal over the
    variants it has. A planned variant without users is a row with 0 users. ``srm_ok`` is False
    when ``srm_p_value < srm_alpha``."""
    _check_share("srm_alpha", srm_alpha)
    assigned = assigned_users(experiments, period)
    counts = assigned.group_by(["experiment", "variant"]).aggregate(users=assigned.count())
    counts = counts.to_pandas().astype({"experiment": str, "variant": str})
    return _srm_table(counts, planned_split, srm_alpha)


# --------------------------------------------------------------------------------------------
# Statistics from the sums


@dataclass(frozen=True)
class _Estimate:
    """A group's estimate, the variance of that estimate and the degrees of freedom behind it
    (``n − 1`` for a mean; infinite for the delta method's normal approximation)."""

    mean: float
    se2: float
    dof: float


@dataclass(frozen=True)
class _Test:
    diff: float
    low: float
    high: float
    p_value: float
    lift: float
    lift_low: float
    lift_high: float
    se2: float


def _cov(n: float, sa: float, sb: float, sab: float) -> float:
    """The sample covariance (ddof 1) of two per-user values from their sums."""
    if n < 2:
        return math.nan
    return (sab - sa * sb / n) / (n - 1)


def _compare(one: _Estimate, zero: _Estimate, alpha: float = ALPHA) -> _Test:
    """Welch's test of ``one − zero`` and the delta-method interval of ``one / zero − 1``."""
    diff = one.mean - zero.mean
    se2 = one.se2 + zero.se2
    low = high = p = math.nan
    if se2 > 0:  # False for NaN too
        terms = [e.se2**2 / e.dof for e in (one, zero) if e.dof > 0 and np.isfinite(e.dof)]
        df = se2**2 / sum(terms) if sum(terms) > 0 else math.inf
        se = math.sqrt(se2)
        q = float(stats.t.ppf(1 - alpha / 2, df))
        low, high = diff - q * se, diff + q * se
        p = float(2 * stats.t.sf(abs(diff) / se, df))
    lift = lift_low = lift_high = math.nan
    if zero.mean > 0 and np.isfinite(one.mean):
        lift = one.mean / zero.mean - 1
        var = one.se2 / zero.mean**2 + one.mean**2 * zero.se2 / zero.mean**4
        if var > 0:
            z = float(ndtri(1 - alpha / 2))
            lift_low, lift_high = lift - z * math.sqrt(var), lift + z * math.sqrt(var)
    return _Test(diff, low, high, p, lift, lift_low, lift_high, se2)


# (per-user value Y, its square, covariate X, its square, Y·X) in experiment_sums, per metric
_FIELDS = {
    "conversion": (
        "converters",
        "converters",
        "pre_converters",
        "pre_converters",
        "converters_pre",
    ),
    "revenue_per_user": ("revenue", "revenue_sq", "pre_revenue", "pre_revenue_sq", "revenue_pre"),
}


def _mean_estimate(row: pd.Series, metric: str) -> _Estimate:
    y, yy = _FIELDS[metric][:2]
    n = float(row["users"])
    var = _cov(n, row[y], row[y], row[yy])
    return _Estimate(row[y] / n, var / n, n - 1)


def _aov_estimate(row: pd.Series) -> _Estimate:
    n, y, x = float(row["users"]), float(row["revenue"]), float(row["orders"])
    if x <= 0:
        return _Estimate(math.nan, math.nan, math.inf)
    r = y / x
    resid = (
        _cov(n, y, y, row["revenue_sq"])
        - 2 * r * _cov(n, y, x, row["revenue_orders"])
        + r**2 * _cov(n, x, x, row["orders_sq"])
    )
    # var(R) = var(Y − R·X) / (n · mean(X)²) = var(Y − R·X) · n / (ΣX)²
    return _Estimate(r, max(resid, 0.0) * n / x**2, math.inf)


def _theta(group: pd.DataFrame, metric: str) -> tuple[float, float]:
    """θ = cov(Y, X) / var(X) over all the experiment's users, and the pooled mean of X."""
    y, _, x, xx, xy = _FIELDS[metric]
    n = float(group["users"].sum())
    sy, sx, sxx, sxy = (float(group[c].sum()) for c in (y, x, xx, xy))
    var_x = _cov(n, sx, sx, sxx)
    cov_xy = _cov(n, sx, sy, sxy)
    theta = cov_xy / var_x if var_x > 0 else 0.0
    return theta, sx / n


def _cuped_estimate(
    row: pd.Series, metric: str, theta: float, pooled_x: float
) -> tuple[_Estimate, float]:
    """The adjusted mean of one group and ``1 − var(Y_cuped) / var(Y)`` within it."""
    y, yy, x, xx, xy = _FIELDS[metric]
    n = float(row["users"])
    var_y = _cov(n, row[y], row[y], row[yy])
    var_x = _cov(n, row[x], row[x], row[xx])
    cov_xy = _cov(n, row[x], row[y], row[xy])
    var_adj = max(var_y - 2 * theta * cov_xy + theta**2 * var_x, 0.0)
    mean = row[y] / n - theta * (row[x] / n - pooled_x)
    reduction = 1 - var_adj / var_y if var_y > 0 else math.nan
    return _Estimate(mean, var_adj / n, n - 1), reduction


def _control_of(experiment: str, variants: list[str], control_variant) -> str:
    if isinstance(control_variant, Mapping):
        control_variant = control_variant.get(experiment)
    if control_variant is not None:
        if control_variant not in variants:
            raise ValueError(
                f"experiment {experiment!r}: control_variant={control_variant!r} has no user "
                f"in the period (variants: {', '.join(variants)})"
            )
        return str(control_variant)
    return CONTROL_NAME if CONTROL_NAME in variants else sorted(variants)[0]


def _verdict(test: _Test, srm_ok: bool, alpha: float) -> str:
    if not srm_ok:
        return VERDICT_BLOCKED
    if not np.isfinite(test.p_value):
        return VERDICT_UNDEFINED
    if test.p_value < alpha:
        return VERDICT_HIGHER if test.diff > 0 else VERDICT_LOWER
    return VERDICT_NONE


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values: the ``m`` finite ones sorted ascending, the ``i``-th
    (from 1) times ``m − i + 1``, made non-decreasing and capped at 1, in the input's order; NaN
    stays NaN and does not count in ``m``. Rejecting where the adjusted value is below ``α``
    keeps the chance of any false rejection among the ``m`` below ``α``."""
    p = np.asarray(p_values, dtype="float64")
    adjusted = np.full(len(p), np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = len(finite)
    if not m:
        return adjusted
    order = finite[np.argsort(p[finite], kind="stable")]
    scaled = p[order] * (m - np.arange(m))
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return adjusted


def _adjusted(table: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """``p_adjusted`` per experiment (:func:`holm`), and a ``higher``/``lower`` verdict whose
    adjusted p-value is not below ``alpha`` turned to ``no detectable difference``."""
    table = table.copy()
    table["p_adjusted"] = np.nan
    for _, index in table.groupby("experiment", sort=False).groups.items():
        table.loc[index, "p_adjusted"] = holm(table.loc[index, "p_value"].to_numpy("float64"))
    moved = table["verdict"].isin([VERDICT_HIGHER, VERDICT_LOWER])
    table.loc[moved & ~(table["p_adjusted"] < alpha), "verdict"] = VERDICT_NONE
    return table


def _rows(sums: pd.DataFrame, srm: pd.DataFrame, control_variant, alpha: float) -> list[dict]:
    rows: list[dict] = []
    for experiment, group in sums.groupby("experiment", sort=True):
        group = group.set_index("variant")
        variants = sorted(group.index)
        control = _control_of(str(experiment), variants, control_variant)
        checked = srm[srm["experiment"] == experiment].iloc[0]
        srm_p, srm_ok = float(checked["srm_p_value"]), bool(checked["srm_ok"])
        thetas = {m: _theta(group, m) for m in CUPED_METRICS}
        for variant in [control, *[v for v in variants if v != control]]:
            row = group.loc[variant]
            base = group.loc[control]
            for metric in METRICS:
                if metric == "aov":
                    one, zero = _aov_estimate(row), _aov_estimate(base)
                else:
                    one, zero = _mean_estimate(row, metric), _mean_estimate(base, metric)
                out = {
                    "experiment": experiment,
                    "variant": variant,
                    "users": int(row["users"]),
                    "metric": metric,
                    "value": one.mean,
                    "srm_p_value": srm_p,
                    "control": control,
                    "srm_ok": srm_ok,
                }
                is_control = variant == control
                if not is_control:
                    test = _compare(one, zero, alpha)
                    out.update(
                        diff=test.diff,
                        ci_low=test.low,
                        ci_high=test.high,
                        p_value=test.p_value,
                        lift=test.lift,
                        lift_low=test.lift_low,
                        lift_high=test.lift_high,
                        verdict=_verdict(test, srm_ok, alpha),
                    )
                else:
                    out["verdict"] = VERDICT_CONTROL
                if metric in CUPED_METRICS:
                    theta, pooled_x = thetas[metric]
                    adj_one, reduction = _cuped_estimate(row, metric, theta, pooled_x)
                    out.update(cuped=adj_one.mean, theta=theta, variance_reduction=reduction)
                    if not is_control:
                        adj_zero, _ = _cuped_estimate(base, metric, theta, pooled_x)
                        adjusted = _compare(adj_one, adj_zero, alpha)
                        out.update(
                            cuped_diff=adjusted.diff,
                            cuped_ci_low=adjusted.low,
                            cuped_ci_high=adjusted.high,
                            cuped_p_value=adjusted.p_value,
                            diff_variance_reduction=(
                                1 - adjusted.se2 / test.se2 if test.se2 > 0 else math.nan
                            ),
                        )
                rows.append(out)
    return rows


def experiment_results(
    experiments: ir.Table,
    orders: ir.Table,
    period: Period,
    *,
    control_variant: str | Mapping[str, str] | None = None,
    planned_split: PlannedSplit | None = None,
    cuped_days: int = DEFAULT_CUPED_DAYS,
    srm_alpha: float = DEFAULT_SRM_ALPHA,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """Each experiment's variants against its control, one row per variant and metric
    (``conversion``, ``revenue_per_user``, ``aov``); the control's rows first, then the variants
    alphabetically.

    Columns: ``experiment, variant, users, metric, value, diff, ci_low, ci_high, p_value, lift,
    cuped, srm_p_value`` and then ``control, lift_low, lift_high, cuped_diff, cuped_ci_low,
    cuped_ci_high, cuped_p_value, theta, variance_reduction, diff_variance_reduction, srm_ok,
    p_adjusted, verdict`` (definitions in the module docstring; the verdict reads the p-value
    adjusted by Holm's method over the experiment's tests). The control's rows have no test (NaN);
    ``aov`` has no CUPED. ``planned_split`` as in :func:`srm_check`; intervals are ``1 −
    alpha``."""
    _check_share("srm_alpha", srm_alpha)
    _check_share("alpha", alpha)
    sums = experiment_sums(experiments, orders, period, cuped_days)
    columns = COLUMNS + EXTRA_COLUMNS
    if sums.empty:
        return pd.DataFrame(columns=columns)
    srm = _srm_table(sums[["experiment", "variant", "users"]], planned_split, srm_alpha)
    table = pd.DataFrame(_rows(sums, srm, control_variant, alpha)).reindex(columns=columns)
    table = _adjusted(table, alpha)
    floats = [c for c in columns if c not in ("experiment", "variant", "metric", "control")]
    floats = [c for c in floats if c not in ("users", "srm_ok", "verdict")]
    table = table.astype({**{c: "float64" for c in floats}, "users": "int64", "srm_ok": bool})
    return table.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Power


def required_sample_size(
    baseline_rate: float,
    mde: float,
    alpha: float = ALPHA,
    power: float = DEFAULT_POWER,
    *,
    relative: bool = True,
) -> int:
    """Users needed in each of two equal groups for a two-sided test at ``alpha`` to detect a
    change of the conversion rate from ``baseline_rate`` to ``baseline_rate × (1 + mde)`` (or
    ``baseline_rate + mde`` with ``relative=False``) with probability ``power``:

    ``n = (z₁₋α/₂·√(2·p̄(1 − p̄)) + z_power·√(p₀(1 − p₀) + p₁(1 − p₁)))² / (p₁ − p₀)²``, ``p̄`` the
    mean of the two rates, rounded up (the normal approximation of the two-proportion test).
    """
    _check_share("baseline_rate", baseline_rate)
    _check_share("alpha", alpha)
    _check_share("power", power)
    p0 = float(baseline_rate)
    p1 = p0 * (1 + mde) if relative else p0 + mde
    if mde == 0 or not (0 < p1 < 1):
        raise ValueError(
            f"mde={mde!r} must move the rate {p0:g} to another rate between 0 and 1 (got {p1:g})"
        )
    z_alpha = float(ndtri(1 - alpha / 2))
    z_power = float(ndtri(power))
    pooled = (p0 + p1) / 2
    root = z_alpha * math.sqrt(2 * pooled * (1 - pooled)) + z_power * math.sqrt(
        p0 * (1 - p0) + p1 * (1 - p1)
    )
    # a hair below a whole number from float noise stays that number
    return math.ceil(root**2 / (p1 - p0) ** 2 - 1e-9)


# --------------------------------------------------------------------------------------------
# Notes


def _p(value: float) -> str:
    """``= 0.043`` or ``< 0.001``: the text after ``p``."""
    return f"= {value:.2g}" if value >= 0.001 else "< 0.001"


def _fmt(metric: str, value: float, signed: bool = False) -> str:
    """A value (or, ``signed``, a difference) of ``metric``: % and points for conversion."""
    if not np.isfinite(value):
        return "n/a"
    if metric == "conversion":
        return f"{value * 100:+.2f} pp" if signed else f"{value:.2%}"
    return f"{value:+,.2f}" if signed else f"{value:,.2f}"


_LABELS = {
    "conversion": "conversion",
    "revenue_per_user": "revenue per user",
    "aov": "average order value",
}


def _p_text(row: pd.Series, tests: int) -> str:
    """``p 0.012`` and, when the experiment has several tests, its Holm-adjusted value."""
    text = f"p {_p(row['p_value'])}"
    if tests > 1 and np.isfinite(row["p_adjusted"]):
        text += f"; adjusted for the experiment's {tests} tests, p {_p(row['p_adjusted'])}"
    return text


def _metric_sentences(row: pd.Series, base: pd.Series, alpha: float, tests: int = 1) -> list[str]:
    metric, label = row["metric"], _LABELS[row["metric"]]
    v1, v0 = _fmt(metric, row["value"]), _fmt(metric, base["value"])
    interval = f"95% CI {_fmt(metric, row['ci_low'], True)} to {_fmt(metric, row['ci_high'], True)}"
    verdict = row["verdict"]
    if verdict == VERDICT_UNDEFINED or not np.isfinite(row["p_value"]):
        return [
            f"{row['variant']}: {label} cannot be tested ({v1} vs {v0} in {row['control']}; "
            "no variation or too few users)."
        ]
    if verdict in (VERDICT_HIGHER, VERDICT_LOWER):
        moved = "raised" if verdict == VERDICT_HIGHER else "lowered"
        lift = f", {row['lift']:+.1%} relative" if np.isfinite(row["lift"]) else ""
        out = [
            f"{row['variant']} {moved} {label} from {v0} to {v1}: "
            f"{_fmt(metric, row['diff'], True)} ({interval}{lift}; {_p_text(row, tests)})."
        ]
    else:
        out = [
            f"{row['variant']} vs {row['control']}: no detectable difference in {label} "
            f"({v1} vs {v0}; difference {_fmt(metric, row['diff'], True)}, {interval}, "
            f"{_p_text(row, tests)})."
        ]
    reduction = row["diff_variance_reduction"]
    if metric in CUPED_METRICS and np.isfinite(row["cuped_p_value"]) and np.isfinite(reduction):
        change = (
            f"cuts the variance of the difference by {reduction:.0%}"
            if reduction > 0
            else "does not reduce the variance of the difference"
        )
        out.append(
            f"CUPED on the same metric before assignment (θ = {row['theta']:.3g}) {change}: "
            f"adjusted difference {_fmt(metric, row['cuped_diff'], True)} (95% CI "
            f"{_fmt(metric, row['cuped_ci_low'], True)} to "
            f"{_fmt(metric, row['cuped_ci_high'], True)}, p {_p(row['cuped_p_value'])})."
        )
    return out


def _power_sentence(
    group: pd.DataFrame, mde: float, alpha: float, power: float, control: str
) -> str:
    conv = group[group["metric"] == "conversion"]
    base = float(conv.loc[conv["variant"] == control, "value"].iloc[0])
    smallest = int(conv["users"].min())
    target = base * (1 + mde)
    if not (0 < base < 1) or not (0 < target < 1):
        return (
            f"The control's conversion is {base:.2%}, so no sample size can be worked out for a "
            f"{mde:.0%} relative change."
        )
    n = required_sample_size(base, mde, alpha, power)
    head = (
        f"Detecting a {mde:.0%} relative change in conversion from the control's {base:.2%} "
        f"(α = {alpha:g}, power {power:.0%}) needs {n:,} users per group; the smallest group "
        f"has {smallest:,}"
    )
    if smallest >= n:
        return head + ", so the test has reached that size."
    return (
        head + ": the test is below its planned size. Do not stop it or act on it before every "
        "group reaches that size: reading a running test early and stopping at the first "
        "significant result inflates false positives."
    )


def experiments_note(
    results: pd.DataFrame,
    *,
    mde: float = DEFAULT_MDE,
    alpha: float = ALPHA,
    power: float = DEFAULT_POWER,
) -> str:
    """Sentences from :func:`experiment_results`, per experiment: the users per variant, the
    SRM check (a failed one blocks every verdict), each variant's difference in conversion,
    revenue per user and AOV — "raised"/"lowered" only when the table's verdict says so
    (Holm-adjusted p < ``alpha`` and SRM passed), otherwise "no detectable difference" with the
    interval — the CUPED-adjusted difference, and whether the groups reached the size needed to
    detect a ``mde`` relative change in conversion (:func:`required_sample_size`)."""
    if results.empty:
        return "No user was assigned to an experiment in the period."
    parts: list[str] = []
    for experiment, group in results.groupby("experiment", sort=True):
        control = str(group["control"].iloc[0])
        sizes = group.drop_duplicates("variant")
        split = ", ".join(
            f"{v} {int(n):,}" for v, n in zip(sizes["variant"], sizes["users"], strict=True)
        )
        total = int(sizes["users"].sum())
        if len(sizes) == 1:
            parts.append(
                f"Experiment {experiment}: all {total:,} users assigned in the period are in "
                f"one variant ({control}), so there is nothing to compare."
            )
            continue
        parts.append(
            f"Experiment {experiment}: {total:,} users assigned in the period ({split}; "
            f"each variant is compared with {control})."
        )
        srm_p = float(group["srm_p_value"].iloc[0])
        if not bool(group["srm_ok"].iloc[0]):
            parts.append(
                f"The split departs from the planned one (sample-ratio mismatch, χ² p "
                f"{_p(srm_p)}): assignment or logging is broken, so no verdict is read from this "
                "test until the cause is found."
            )
            continue
        if np.isfinite(srm_p):
            parts.append(f"The split matches the plan (sample-ratio check p {_p(srm_p)}).")
        base = group[group["variant"] == control].set_index("metric")
        variants = group[group["variant"] != control]
        tests = int(variants["p_value"].notna().sum())
        for _, row in variants.iterrows():
            parts.extend(_metric_sentences(row, base.loc[row["metric"]], alpha, tests))
        if len(sizes) > 1:
            parts.append(_power_sentence(group, mde, alpha, power, control))
    return " ".join(parts)


def lift_rows(results: pd.DataFrame, metric: str = "conversion") -> pd.DataFrame:
    """``label, lift, lift_low, lift_high, verdict``: each variant's relative lift in ``metric``
    against its control with its 95 % interval (rows of :func:`experiment_results` that have
    one), labelled ``experiment: variant``, in the table's order — the figure's rows."""
    rows = results[(results["metric"] == metric) & results["lift"].notna()]
    return pd.DataFrame(
        {
            "label": rows["experiment"].astype(str) + ": " + rows["variant"].astype(str),
            "lift": rows["lift"].astype("float64"),
            "lift_low": rows["lift_low"].astype("float64"),
            "lift_high": rows["lift_high"].astype("float64"),
            "verdict": rows["verdict"],
        }
    ).reset_index(drop=True)
