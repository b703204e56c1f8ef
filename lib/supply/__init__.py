"""Supply chain (库存管理, 供应链, 物流): stock health and turnover, stock-outs and lost sales,
demand forecast and reorder points, fulfilment and carriers, suppliers.

Definitions (docs/metrics.md, "Supply chain"). *Units sold* are always the quantities of the
lines of paid orders (:func:`lib.definitions.paid_orders`) on the local day of payment.
``inventory`` and ``purchase_orders`` dates are local calendar days already and are compared
as they are; the timestamps of orders, shipments, events and reviews are UTC and become local
days through :class:`lib.periods.Period`. A *snapshot* is the ``on_hand`` of one SKU on one
date, summed over the rows of that SKU and date (locations).

One module per subdomain, each with the definitions of its metrics in its docstring:

- :mod:`lib.supply.inventory`: inventory health, days of supply, dead/low/over stock, turnover
  and holding cost;
- :mod:`lib.supply.stockouts`: stock-outs per day and lost sales;
- :mod:`lib.supply.forecast`: daily units, demand forecast and its backtest, safety stock and
  reorder points;
- :mod:`lib.supply.fulfilment`: shipping SLA, delivery times, carriers, ratings and repurchase
  after delivery;
- :mod:`lib.supply.suppliers`: purchase orders, lead times and the supplier scorecard;
- :mod:`lib.shop_calendar` (in ``lib``: other notebooks mark holidays too): the holidays and
  shopping days of the ``country`` parameter, which name the shop's peaks and the forecast's days.

Their public names are re-exported here, so ``from lib import supply; supply.inventory_health(…)``
works as it did when this was one module. ``supply.fulfilment`` is the function (imported after
the submodule of the same name, it takes the package attribute); import the submodule's names
with ``from lib.supply.fulfilment import …``.
"""

from __future__ import annotations

from lib.shop_calendar import (
    CALENDAR_COLUMNS,
    COUNTRY,
    KINDS,
    NEAR_DAYS,
    SHOPPING,
    SHOPPING_DAYS,
    calendar_days,
    days_label,
    name_day,
)
from lib.supply._shared import (
    ALL,
    DAYS,
    TOTAL_FLAG,
    UNKNOWN_CATEGORY,
    VELOCITY_DAYS,
    daily_stock,
    paid_units,
)
from lib.supply.forecast import (
    BACKTEST_COLUMNS,
    BACKTEST_WEEKS,
    BASELINES,
    DEFAULT_LEAD_TIME_DAYS,
    FORECAST_INTERVAL,
    HORIZON_DAYS,
    LEVEL_DAYS,
    OUTLIER_FACTOR,
    PEAK_COLUMNS,
    PEAK_DAYS,
    REORDER_COLUMNS,
    SERVICE_LEVEL,
    backtest_forecast,
    backtest_verdict,
    daily_units,
    forecast_demand,
    forecast_history_days,
    forecast_labels,
    horizon_note,
    peak_days,
    peaks_note,
    reorder_points,
    skus_to_reorder,
    top_keys,
    top_skus,
)
from lib.supply.fulfilment import (
    DELIVERY_BUCKET_DAYS,
    DELIVERY_BUCKETS,
    DELIVERY_QUANTILES,
    FULFILMENT_COLUMNS,
    HOURS,
    ONE_SIDED_SHARE,
    REPURCHASE_DAYS,
    SHIP_SLA_HOURS,
    SLOW_DELIVERY_DAYS,
    delivered_orders,
    delivery_bucket_edges,
    delivery_bucket_labels,
    delivery_effect,
    delivery_experience,
    delivery_times,
    delivery_times_note,
    delivery_verdict,
    fulfilment,
    fulfilment_daily,
    ship_sla_note,
    shipped_orders,
    shipping_backlog,
)
from lib.supply.inventory import (
    DEAD_STOCK_DAYS,
    HEALTH_COLUMNS,
    HOLDING_RATE,
    LOW_STOCK_DAYS,
    OVERSTOCK_DAYS,
    STATUSES,
    TURNOVER_COLUMNS,
    holding_cost_daily,
    inventory_health,
    inventory_holding_cost,
    inventory_turnover,
    status_summary,
    stock_status,
)
from lib.supply.stockouts import (
    LOST_SALES_COLUMNS,
    lost_sales,
    lost_sales_summary,
    stockouts_daily,
)
from lib.supply.suppliers import SUPPLIER_COLUMNS, supplier_scorecard

__all__ = [
    "ALL",
    "TOTAL_FLAG",
    "BACKTEST_COLUMNS",
    "BACKTEST_WEEKS",
    "BASELINES",
    "CALENDAR_COLUMNS",
    "COUNTRY",
    "DAYS",
    "DEAD_STOCK_DAYS",
    "DEFAULT_LEAD_TIME_DAYS",
    "DELIVERY_BUCKETS",
    "DELIVERY_BUCKET_DAYS",
    "DELIVERY_QUANTILES",
    "FORECAST_INTERVAL",
    "FULFILMENT_COLUMNS",
    "HEALTH_COLUMNS",
    "HOLDING_RATE",
    "HORIZON_DAYS",
    "HOURS",
    "KINDS",
    "LEVEL_DAYS",
    "LOST_SALES_COLUMNS",
    "LOW_STOCK_DAYS",
    "NEAR_DAYS",
    "ONE_SIDED_SHARE",
    "OUTLIER_FACTOR",
    "OVERSTOCK_DAYS",
    "PEAK_COLUMNS",
    "PEAK_DAYS",
    "REORDER_COLUMNS",
    "REPURCHASE_DAYS",
    "SERVICE_LEVEL",
    "SHIP_SLA_HOURS",
    "SHOPPING",
    "SHOPPING_DAYS",
    "SLOW_DELIVERY_DAYS",
    "STATUSES",
    "SUPPLIER_COLUMNS",
    "TURNOVER_COLUMNS",
    "UNKNOWN_CATEGORY",
    "VELOCITY_DAYS",
    "backtest_forecast",
    "backtest_verdict",
    "calendar_days",
    "daily_stock",
    "daily_units",
    "days_label",
    "delivered_orders",
    "delivery_bucket_edges",
    "delivery_bucket_labels",
    "delivery_effect",
    "delivery_experience",
    "delivery_times",
    "delivery_times_note",
    "delivery_verdict",
    "forecast_demand",
    "forecast_history_days",
    "forecast_labels",
    "fulfilment",
    "fulfilment_daily",
    "holding_cost_daily",
    "horizon_note",
    "inventory_health",
    "inventory_holding_cost",
    "inventory_turnover",
    "lost_sales",
    "lost_sales_summary",
    "name_day",
    "paid_units",
    "peak_days",
    "peaks_note",
    "reorder_points",
    "ship_sla_note",
    "shipped_orders",
    "shipping_backlog",
    "skus_to_reorder",
    "status_summary",
    "stock_status",
    "stockouts_daily",
    "supplier_scorecard",
    "top_keys",
    "top_skus",
]
