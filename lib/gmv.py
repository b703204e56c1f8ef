"""GMV and its decomposition: GMV = UV × conversion rate × sales per buyer (客单价).

Definitions (docs/metrics.md):

- Only *paid orders* count (:func:`lib.definitions.paid_orders` is the rule).
- An order belongs to the local day of its ``paid_time``.
- ``gmv``: sum of ``paid_amount`` of the paid orders; ``orders``: their count;
  ``buyers``: distinct users among them.
- ``conversion_rate = buyers / uv``; ``sales_per_buyer = gmv / buyers``; ``aov = gmv / orders``.
  So ``gmv = uv × conversion_rate × sales_per_buyer`` exactly whenever ``uv`` and ``buyers`` > 0.
  Buyers without events (phone orders) count for GMV but not for UV, so the conversion rate can
  exceed 1 on a day without traffic; it is null when ``uv`` is 0.

Period-over-period change (:func:`gmv_decomposition`): ``ΔGMV`` is split into a UV, a conversion
and a sales-per-buyer effect by the *Shapley* decomposition of the product
``uv × conversion_rate × sales_per_buyer``: each factor's effect is its change times the other two
factors averaged over the six orders in which the three changes can be applied. The effects add up
to ``ΔGMV`` exactly (an identity, not an approximation), are symmetric in the factors, and, unlike
the log (LMDI) decomposition, stay defined when a factor is 0 (a period without buyers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import ibis.expr.types as ir
import pandas as pd

from lib import stats, traffic
from lib.definitions import MONEY_DECIMALS, paid_orders_in
from lib.periods import Period, to_timestamps


def _ratios(table: pd.DataFrame) -> pd.DataFrame:
    uv = table["uv"].astype("float64")
    buyers = table["buyers"].astype("float64")
    orders = table["orders"].astype("float64")
    table["conversion_rate"] = table["buyers"] / uv.where(uv > 0)
    table["sales_per_buyer"] = table["gmv"] / buyers.where(buyers > 0)
    table["aov"] = table["gmv"] / orders.where(orders > 0)
    return table


def gmv_daily(orders: ir.Table, period: Period, events: ir.Table | None = None) -> pd.DataFrame:
    """``date, uv, buyers, orders, gmv, conversion_rate, sales_per_buyer, aov`` per local day.

    Without an events table ``uv`` and ``conversion_rate`` are null (GMV still works).
    """
    paid = paid_orders_in(orders, period)
    per_day = (
        paid.group_by("day")
        .aggregate(buyers=paid.user_id.nunique(), orders=paid.count(), gmv=paid.paid_amount.sum())
        .to_pandas()
        .set_index("day")
    )
    days = pd.RangeIndex(period.start_day, period.end_day + 1)
    table = pd.DataFrame(index=days)
    if events is not None:
        active = traffic.active_user_days(events, period)
        uv = active.group_by("day").aggregate(uv=active.user_id.nunique()).to_pandas()
        table["uv"] = uv.set_index("day")["uv"].reindex(days).fillna(0).astype("int64")
    else:
        table["uv"] = pd.array([pd.NA] * len(days), dtype="Int64")
    table["buyers"] = per_day["buyers"].reindex(days).fillna(0).astype("int64")
    table["orders"] = per_day["orders"].reindex(days).fillna(0).astype("int64")
    table["gmv"] = per_day["gmv"].reindex(days).fillna(0.0).astype("float64").round(MONEY_DECIMALS)
    table.insert(0, "date", to_timestamps(days).to_numpy())
    return _ratios(table).reset_index(drop=True)


def gmv_summary(orders: ir.Table, period: Period, events: ir.Table | None = None) -> pd.DataFrame:
    """The same measures over the whole period, one row: users and buyers counted once each."""
    paid = paid_orders_in(orders, period)
    row = paid.aggregate(
        buyers=paid.user_id.nunique(), orders=paid.count(), gmv=paid.paid_amount.sum()
    ).to_pandas()
    uv = None
    if events is not None:
        uv = traffic.period_active_users(events, period)
    table = pd.DataFrame(
        {
            "start": [pd.Timestamp(period.start)],
            "end": [pd.Timestamp(period.end)],
            "uv": pd.array([uv], dtype="Int64"),
            "buyers": [int(row["buyers"].iloc[0])],
            "orders": [int(row["orders"].iloc[0])],
            "gmv": [round(float(row["gmv"].fillna(0.0).iloc[0]), MONEY_DECIMALS)],
        }
    )
    return _ratios(table)


def order_amounts(orders: ir.Table, period: Period) -> stats.Mean:
    """The mean, variance and count of the paid orders' ``paid_amount`` in the period.

    The evidence for a change of the average order value (:func:`lib.stats.mean_change`): orders
    are its observations. One aggregate in the engine; no order is pulled into pandas.
    """
    paid = paid_orders_in(orders, period)
    row = paid.aggregate(
        count=paid.count(), mean=paid.paid_amount.mean(), variance=paid.paid_amount.var()
    ).to_pandas()
    count = int(row["count"].iloc[0])
    mean, variance = (float(row[c].fillna(float("nan")).iloc[0]) for c in ("mean", "variance"))
    return stats.Mean(mean, variance, count)


# --------------------------------------------------------------------------------------------
# Period-over-period decomposition

DECOMPOSITION_FACTORS = ("uv", "conversion_rate", "sales_per_buyer")


def shapley_effects(before: Sequence[float], after: Sequence[float]) -> tuple[float, float, float]:
    """Shapley effects of the three factors on the change of their product ``x × y × z``.

    The effect of ``x`` is ``Δx × ((y0·z0 + y1·z1) / 3 + (y0·z1 + y1·z0) / 6)``: its marginal
    contribution averaged over the six orders in which the factors can change (likewise for
    ``y`` and ``z``). The three effects add up to ``x1·y1·z1 − x0·y0·z0``.
    """
    (x0, y0, z0), (x1, y1, z1) = before, after

    def effect(change: float, b0: float, c0: float, b1: float, c1: float) -> float:
        return change * ((b0 * c0 + b1 * c1) / 3 + (b0 * c1 + b1 * c0) / 6)

    return (
        effect(x1 - x0, y0, z0, y1, z1),
        effect(y1 - y0, x0, z0, x1, z1),
        effect(z1 - z0, x0, y0, x1, y1),
    )


def round_to_total(
    parts: Sequence[float], total: float, decimals: int = MONEY_DECIMALS
) -> list[float]:
    """Round ``parts`` to ``decimals`` so that the rounded parts add up to the rounded ``total``.

    Largest-remainder rounding: each part is rounded down to the unit, and the units still missing
    go to the parts with the largest remainders. Plain rounding of each part could leave the
    waterfall a cent short of the total.
    """
    scale = 10**decimals
    scaled = [part * scale for part in parts]
    units = [math.floor(value) for value in scaled]
    missing = round(total * scale) - sum(units)
    # the parts add up to the total up to float error, so ``missing`` is within ±len(parts)
    order = sorted(range(len(parts)), key=lambda i: (units[i] - scaled[i], i))
    if missing < 0:
        order = order[::-1]
    for step in range(abs(missing)):
        units[order[step % len(parts)]] += 1 if missing > 0 else -1
    return [unit / scale for unit in units]


def _factors(summary: pd.DataFrame) -> tuple[float, float, float] | None:
    """``(uv, conversion_rate, sales_per_buyer)`` of a one-row :func:`gmv_summary`, or None when
    GMV is not their product (no events, or buyers but no visitors)."""
    row = summary.iloc[0]
    if pd.isna(row["uv"]):
        return None
    uv, buyers, gmv = int(row["uv"]), int(row["buyers"]), float(row["gmv"])
    if uv == 0:
        return (0.0, 0.0, 0.0) if buyers == 0 else None
    # No buyers means no GMV: sales per buyer enters as 0, which keeps GMV the product.
    return (float(uv), buyers / uv, gmv / buyers if buyers else 0.0)


def gmv_decomposition(
    orders: ir.Table, period: Period, events: ir.Table, previous: Period | None = None
) -> pd.DataFrame:
    """GMV change against ``previous`` (default: :meth:`Period.previous`) by factor.

    Rows ``uv``, ``conversion_rate``, ``sales_per_buyer`` and ``gmv``; columns ``factor, previous,
    current, change, relative_change, gmv_effect, share_of_change``. ``gmv_effect`` is the factor's
    Shapley effect (:func:`shapley_effects`) in money, rounded so the three effects add up to the
    ``gmv`` row's ``gmv_effect`` (the total change) to the cent; ``share_of_change`` divides by
    that total. Effects are null when GMV is not ``uv × conversion × sales_per_buyer`` in one of
    the periods (buyers but no visitors).
    """
    previous = previous or period.previous()
    before_summary = gmv_summary(orders, previous, events)
    after_summary = gmv_summary(orders, period, events)
    before, after = _factors(before_summary), _factors(after_summary)
    gmv_before = float(before_summary["gmv"].iloc[0])
    gmv_after = float(after_summary["gmv"].iloc[0])
    total = round(gmv_after - gmv_before, MONEY_DECIMALS)
    if before is None or after is None:
        effects = [math.nan] * 3
        before = before or (math.nan,) * 3
        after = after or (math.nan,) * 3
    else:
        effects = round_to_total(shapley_effects(before, after), total)
    table = pd.DataFrame(
        {
            "factor": [*DECOMPOSITION_FACTORS, "gmv"],
            "previous": [*before, gmv_before],
            "current": [*after, gmv_after],
            "gmv_effect": [*effects, total],
        }
    )
    table.insert(3, "change", table["current"] - table["previous"])
    table.loc[table["factor"] == "gmv", "change"] = total  # money: to the cent
    previous_values = table["previous"].where(table["previous"] != 0)
    table.insert(4, "relative_change", table["current"] / previous_values - 1)
    table["share_of_change"] = table["gmv_effect"] / total if total else math.nan
    return table
