"""The one declaration of every notebook parameter: its type, default, accepted values and help.

Each notebook's ``parameters`` cell is written from :data:`NOTEBOOKS` and :data:`PARAMETERS`
(``python -m lib.parameters --write``; tests/test_parameters.py fails when a cell differs), the
runner (``python -m lib.run``) converts and checks ``-p`` values with :func:`convert` and
:func:`problem`, ``--list`` prints the declarations, and the lib functions check their arguments
with :func:`check`, so a bound is written once. Nothing is read from the wording of a help text.

A new notebook adds an entry to :data:`NOTEBOOKS`, and each parameter of its own a
:class:`Param` to :data:`PARAMETERS`.

This module imports no domain module (lib.products, lib.funnel, ...): the domain modules take the
values they share with a parameter from here (``retention.GRANULARITIES``,
``repurchase.MAX_COHORT_MONTHS``, ``products.QUADRANTS``, ...).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "Bounds",
    "NOTEBOOKS",
    "NotebookSpec",
    "ORDERS",
    "PARAMETERS",
    "Param",
    "RUN_PARAMETERS",
    "bounds",
    "cell_parameters",
    "check",
    "choices",
    "convert",
    "default",
    "from_default",
    "keys",
    "literal",
    "order_problem",
    "parameters_cell",
    "problem",
    "write_cells",
]

EVENT_KINDS = (None, "name", "behaviour", "steps", "paths", "exclusions")
TYPES = (int, float, bool, str, list, dict)


@dataclass(frozen=True)
class Bounds:
    """Numbers from ``low`` to ``high`` (None: unbounded), each bound included unless open.

    For a list or dict parameter they hold for each of its values; ``length`` and ``ascending``
    also shape a list.
    """

    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    length: int | None = None
    ascending: bool = False

    def admits(self, number: Any) -> bool:
        """Whether ``number`` is a number (not a bool, not NaN) within the bounds."""
        if isinstance(number, bool) or not isinstance(number, int | float):
            return False
        low, high = self.low, self.high
        above = low is None or (number > low if self.open_low else number >= low)
        below = high is None or (number < high if self.open_high else number <= high)
        return above and below and not (isinstance(number, float) and math.isnan(number))

    def __str__(self) -> str:
        if self.low is not None and self.high is not None and not (self.open_low or self.open_high):
            return f"from {self.low} to {self.high}"
        parts = []
        if self.low is not None:
            parts.append(f"{'above' if self.open_low else 'at least'} {self.low}")
        if self.high is not None:
            parts.append(f"{'below' if self.open_high else 'at most'} {self.high}")
        text = " and ".join(parts)
        return f"of {text}" if parts == [f"at least {self.low}"] else text


@dataclass(frozen=True)
class Param:
    """One notebook parameter.

    ``event`` says what the value names in the source's events, checked by the runner against
    the source: ``"name"`` one event name, ``"behaviour"`` an event name or a behaviour keyword,
    ``"steps"`` a funnel ([] or two or more names), ``"paths"`` funnels (lists of two or more).
    ``sizes`` are the lengths a list may have, with ``sizes_text`` describing them.
    """

    name: str
    type: type
    default: Any
    help: str = ""
    bounds: Bounds | None = None
    choices: tuple[str, ...] | None = None
    keys: tuple[str, ...] | None = None
    none: bool = False
    event: str | None = None
    sizes: tuple[int, ...] | None = None
    sizes_text: str = ""

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise TypeError(f"{self.name}: type {self.type!r} is not one of {TYPES}")
        if self.event not in EVENT_KINDS:
            raise ValueError(f"{self.name}: event {self.event!r} is not one of {EVENT_KINDS}")

    @property
    def expected(self) -> str:
        """The kind of value ``-p`` takes, as text (``"an integer"``, ``"a JSON list"``)."""
        text = {
            bool: "true or false",
            int: "an integer",
            float: "a number",
            list: "a JSON list",
            dict: "a JSON object",
            str: "text",
        }[self.type]
        return text + (" or None" if self.none else "")

    def describe(self) -> str:
        """What values the parameter takes, e.g. ``an integer from 1 to 3660``."""
        limits = self.bounds
        if self.choices is not None:
            text = f"one of {', '.join(self.choices)}"
        elif limits is not None and self.type is list:
            count = f"{limits.length} numbers" if limits.length else "numbers"
            order = ", each at most the next" if limits.ascending else ""
            text = f"a JSON list of {count} {limits}{order}"
        elif limits is not None and self.type is dict:
            under = f" under the keys {', '.join(self.keys)}" if self.keys else ""
            text = f"a JSON object of numbers {limits}{under}"
        elif limits is not None:
            text = f"{'an integer' if self.type is int else 'a number'} {limits}"
        elif self.event is not None:
            text = _EVENT_TEXT[self.event]
        elif self.sizes is not None:
            text = self.sizes_text
        else:
            return self.expected
        return text + (" or None" if self.none else "")


_EVENT_TEXT = {
    "name": "an event name of the source",
    "behaviour": "a behaviour of lib.retention (active_days, purchases) or an event name",
    "steps": "[] or a JSON list of two or more event names",
    "paths": "[] or a JSON list of lists of two or more event names",
    "exclusions": 'a JSON list of {"event": name, "from_step": i, "to_step": j}, 1 ≤ i < j',
}


# --------------------------------------------------------------------------------------------
# The declarations

# Ten years: longer than any window an analysis of a shop's data uses, and short enough that every
# date the metrics derive from it (end minus a lookback, end plus a horizon) stays representable.
MAX_DAYS = 3660
DAYS = Bounds(1, MAX_DAYS)
HOURS = Bounds(1, 24 * MAX_DAYS)
COUNT = Bounds(1)  # 0 flags, shows or requires nothing, which reads like a result
SHARE = Bounds(0, 1)
PROBABILITY = Bounds(0, 1, open_low=True, open_high=True)  # a normal quantile needs 0 < p < 1
# Ten years of cohort months. Each cohort month adds a branch to the query's CASE (5,000 months:
# 4 s on a handful of orders), and more months than the calendar holds end in an OverflowError
# that names no argument.
MAX_COHORT_MONTHS = 120

_SOURCE_HELP = "the bundled sample shop; or a folder of Parquet/CSV, or a database URL"

# Set by the runner from its own flags (in the order its messages name them); every notebook
# declares them, and -p refuses them.
RUN_PARAMETERS = ("start", "end", "source", "timezone", "output_dir")

_DECLARED = [
    # the runner's own, then dedupe_events, which every notebook has
    Param("start", str, "2025-10-15", "first local day of the report (inclusive)"),
    Param("end", str, "2025-11-14", "last local day (inclusive)"),
    Param("timezone", str, "Asia/Shanghai", "days are calendar days in this IANA zone"),
    Param("source", str, None, f"None = {_SOURCE_HELP}", none=True),
    Param(
        "output_dir",
        str,
        None,
        "set by the runner (tables/ and figures/ go there); None writes nothing",
        none=True,
    ),
    Param(
        "dedupe_events",
        bool,
        False,
        "True: drop events identical on every contract column (docs/reliability.md)",
    ),
    # the shop's market, in every notebook that shows money
    Param(
        "currency",
        str,
        "CNY",
        "the shop's currency (an ISO 4217 code such as CNY, USD, BRL), named on money axes",
    ),
    # overview
    Param(
        "compare_to",
        str,
        "previous_period",
        '"previous_period" (as long, just before), "same_period_last_year" or "none"',
        choices=("previous_period", "same_period_last_year", "none"),  # Period.baseline
    ),
    Param(
        "summary_items",
        int,
        7,
        "the executive summary lists at most this many changes, the largest first",
        COUNT,  # executive.significant_changes
    ),
    Param(
        "summary_min_change",
        float,
        0.05,
        "a significant change is listed from this relative size (0.05 = 5 %)",
        SHARE,  # executive.significant_changes: 0 lists every significant change
    ),
    # traffic
    Param(
        "attribution_hours",
        int,
        24,
        "a paid order is credited to the slot clicked last within this many hours",
        HOURS,  # slots.slot_performance
    ),
    Param(
        "stickiness_interval",
        str,
        "week",
        '"week" (full Monday-to-Sunday weeks) or "month" (full 30-day blocks from start): '
        "stickiness counts each user's active days in each",
        choices=("week", "month"),  # traffic.stickiness
    ),
    # conversion
    Param(
        "funnel_steps",
        list,
        [],
        "the main path, in order; empty: view_item, add_to_cart, begin_checkout, purchase less "
        "steps the source cannot have",
        event="steps",  # funnel.main_path
    ),
    Param(
        "conversion_window_days",
        int,
        7,
        "later steps count within this many days of a user's first step",
        DAYS,  # funnel: 0 only counts steps in the first step's second
    ),
    Param(
        "breakdown",
        str,
        "channel",
        "first-touch property: channel, platform, category, or a users column",
    ),  # the runner checks it against funnel.breakdowns of the source
    Param(
        "compare_segments",
        list,
        [],
        "two breakdown values to test against each other; empty: the two largest",
        # funnel.compare_segments: both segments named, or neither (the two largest)
        sizes=(0, 2),
        sizes_text="[] (the two largest segments) or a list of two segment names",
    ),
    Param(
        "secondary_paths",
        list,
        [],
        "extra funnels, each a list of steps; empty: from a promotion and from a product list, "
        "where the source has those events",
        event="paths",  # funnel.secondary_paths
    ),
    Param(
        "funnel_order",
        str,
        "ordered",
        "ordered (later steps in order, other events between allowed), strict (nothing else in "
        "between) or any (steps in any order within one window)",
        choices=("ordered", "strict", "any"),  # funnel.funnel_table(order=...)
    ),
    Param(
        "funnel_exclusions",
        list,
        [],
        'users doing an event between two steps leave the funnel: [{"event": "search", '
        '"from_step": 2, "to_step": 4}]',
        event="exclusions",  # funnel.check_exclusions; against the steps in lib/run/values.py
    ),
    Param(
        "dropoff_step",
        str,
        "add_to_cart",
        "export the users who reached this step but not the next one",
        event="name",  # funnel.dropoff_users
    ),
    Param(
        "band_days",
        int,
        28,
        "daily conversion: each day is tested against the entrants of this many days before it",
        DAYS,  # funnel.daily_conversion (monitoring's baseline_days for this one check)
    ),
    Param(
        "band_k",
        float,
        3.0,
        "deprecated: ignored since issue 17, alert_fdr and min_effect replaced the k x MAD band",
        # still checked: a value refused before issue 17 is refused still
        Bounds(0, open_low=True),
    ),
    Param(
        "min_viewers",
        int,
        200,
        "items with at least this many viewers count as large traffic",
        COUNT,
    ),
    Param("worst_n", int, 10, "large-traffic SKUs flagged as the worst converters", COUNT),
    Param(
        "time_to_convert_bins",
        int,
        None,
        "bars of the time-to-convert histogram; None: the cube root of the converters, rounded "
        "up, at most 60",
        Bounds(1, 60),  # funnel.time_to_convert: more bars than 60 no longer read on one chart
        none=True,
    ),
    Param(
        "trend_interval",
        str,
        "day",
        '"day" or "week" (Monday to Sunday, local) of the first step, for the funnel trend',
        choices=("day", "week"),  # funnel.funnel_trends
    ),
    # journeys (lib/drivers.py, lib/paths.py)
    Param(
        "driver_min_support",
        int,
        30,
        "a conversion driver candidate needs at least this many entrants with it",
        COUNT,  # drivers.conversion_drivers: below it an odds ratio is mostly noise
    ),
    Param(
        "driver_fdr",
        float,
        0.05,
        "a candidate is called a driver when its Benjamini-Hochberg q-value is below this",
        PROBABILITY,  # drivers.top_drivers
    ),
    Param(
        "path_start_event",
        str,
        None,
        "paths start at the first occurrence of this event in a session (None: the session start)",
        none=True,
        event="name",  # paths.session_paths
    ),
    Param(
        "path_end_event",
        str,
        None,
        "paths stop after the first occurrence of this event (None: at the session's end)",
        none=True,
        event="name",  # paths.session_paths
    ),
    Param(
        "path_steps",
        int,
        5,
        "events followed along each path (after its first)",
        Bounds(1, 20),  # paths.path_transitions: longer paths are each their own, nothing repeats
    ),
    Param(
        "session_timeout_minutes",
        int,
        30,
        "events without a session_id start a new session after this many minutes of inactivity",
        Bounds(1, 24 * 60),  # paths.sessionised
    ),
    # monitoring (lib/monitoring.py)
    Param(
        "baseline_days",
        int,
        28,
        "expected values are fitted on this many days before: a monitored rate's before each "
        "day, a campaign's counterfactual before its start",
        DAYS,  # monitoring.rate_tests, campaigns.campaign_effects
    ),
    Param(
        "baseline_weeks",
        int,
        4,
        "a count's expected value: the same weekday over this many weeks before",
        Bounds(1, MAX_DAYS // 7),  # monitoring.count_tests: 1 week gives no spread, the floor only
    ),
    Param(
        "per_weekday",
        bool,
        True,
        "a rate's baseline pools only the same weekday of its baseline_days (False: every day)",
    ),
    Param(
        "alert_fdr",
        float,
        0.01,
        "false discovery rate of the alerts over every day and series tested (Benjamini-Hochberg)",
        PROBABILITY,  # monitoring.benjamini_hochberg: 0 flags nothing, 1 everything
    ),
    Param(
        "min_effect",
        float,
        0.2,
        "an alert needs at least this relative change from the expected value (0.2 = 20 %)",
        Bounds(0),  # monitoring.large_effect: 0 keeps every significant day
    ),
    Param("worst_categories", int, 3, "categories flagged as the worst converters", COUNT),
    # customers (lib/baskets.py)
    Param(
        "basket_max_items",
        int,
        20,
        "paid orders with more distinct SKUs than this are left out of the baskets (and counted)",
        Bounds(2, 1000),  # baskets: below 2 no pair; each order self-joins to n(n−1)/2 pairs
    ),
    Param(
        "basket_min_pair_orders",
        int,
        5,
        "a pair of SKUs or categories is listed when at least this many baskets hold both",
        COUNT,  # baskets.basket_pairs: a lift on 1-2 baskets is noise
    ),
    Param(
        "recommend_n",
        int,
        5,
        "companions listed for each top SKU in bought_together.csv",
        Bounds(1, 50),  # baskets.bought_together
    ),
    Param(
        "cross_sell_days",
        int,
        90,
        "first-time buyers' next orders count within this many days of their first",
        DAYS,  # baskets.cross_sell_matrix
    ),
    # customers (lib/clv.py)
    Param(
        "clv_time_unit",
        str,
        "week",
        "lifetime value: recency, T and the BG/NBD alpha in this unit (day or week)",
        choices=("day", "week"),  # clv.TIME_UNITS
    ),
    Param(
        "clv_horizon_days",
        int,
        90,
        "lifetime value: expected purchases and value over these days after end",
        DAYS,  # clv.customer_value
    ),
    Param(
        "clv_discount_rate",
        float,
        0.01,
        "lifetime value: monthly discount rate (0.01 = 1 % a month; a month is 30 days)",
        Bounds(0, 1, open_high=True),  # clv.discounted_purchases
    ),
    Param(
        "holdout_days",
        int,
        90,
        "lifetime value check: fit on the orders up to end minus these days, predict these days",
        DAYS,  # clv.validation
    ),
    # marketing (lib/campaigns.py, lib/experiments.py, lib/pricing.py, lib/attribution.py)
    Param(
        "dip_days",
        int,
        7,
        "campaign effects: the pull-forward dip is measured over these days after the end",
        DAYS,  # campaigns.campaign_effects
    ),
    Param(
        "control_variant",
        str,
        None,
        "A/B tests: the control variant (None: 'control' if present, else the first by name)",
        none=True,  # experiments.control_of
    ),
    Param(
        "cuped_days",
        int,
        14,
        "A/B tests: CUPED uses each user's same metric over these days before assignment",
        DAYS,  # experiments.experiment_results
    ),
    Param(
        "srm_alpha",
        float,
        0.001,
        "A/B tests: a sample-ratio-mismatch p-value below this blocks the verdict",
        PROBABILITY,  # experiments.srm_check
    ),
    Param(
        "experiment_mde",
        float,
        0.10,
        "A/B tests: relative change in conversion a test is sized to detect (planned size)",
        Bounds(0, 10, open_low=True),  # experiments.required_sample_size
    ),
    Param(
        "price_bands",
        int,
        4,
        "prices: quantile bands of the paid unit price per category",
        Bounds(1, 20),  # pricing.price_bands
    ),
    Param(
        "min_price_changes",
        int,
        5,
        "prices: a category needs this many SKU price changes for an elasticity",
        COUNT,  # pricing.price_elasticity: fewer and the slope is noise
    ),
    Param(
        "price_gap",
        float,
        0.10,
        "prices: a SKU more than this share above the cheapest competitor is overpriced",
        Bounds(0, 10),  # pricing.competitor_price_index
    ),
    Param(
        "attribution_days",
        int,
        30,
        "attribution: a channel touch counts within this many days before the payment",
        DAYS,  # attribution.attribution
    ),
    Param(
        "attribution_half_life_days",
        float,
        7.0,
        "attribution: in the time-decay model a touch this many days old weighs half",
        Bounds(0, MAX_DAYS, open_low=True),  # attribution.attribution
    ),
    # retention
    Param(
        "max_day",
        int,
        30,
        "cohort retention is followed for days 0..max_day after the cohort date",
        DAYS,  # retention.cohort_retention: 0 leaves day 0, when everyone is retained
    ),
    Param(
        "start_event",
        str,
        None,
        "event that puts a user in a cohort (None: their first event of any kind)",
        none=True,
        event="name",  # retention.cohort_users
    ),
    Param(
        "return_event",
        str,
        None,
        'event that counts as a return (None: any event; "purchase": buyer retention)',
        none=True,
        event="name",  # retention.cohort_retention
    ),
    Param(
        "cohort_granularity",
        str,
        "day",
        '"day" or "week" (users grouped by the Monday-to-Sunday week they start)',
        choices=("day", "week"),  # retention.cohort_retention
    ),
    Param(
        "phase_volatile_below",
        float,
        0.05,
        "volatile phase ends when the curve loses < 5% of D1 retention a day",
        Bounds(0, 1, open_low=True),  # a daily loss as a share of day 1
    ),
    Param(
        "phase_stable_below",
        float,
        0.01,
        "stable phase starts when it loses < 1% of D1 retention a day",
        Bounds(0, 1, open_low=True),
    ),
    Param(
        "magic_behaviour",
        str,
        "active_days",
        'early behaviour: "active_days", "purchases" or an event name',
        event="behaviour",  # retention.early_behaviour_by_user
    ),
    Param(
        "magic_k_days",
        int,
        7,
        "the behaviour is counted on days 0..magic_k_days-1 after the cohort date",
        DAYS,  # with ORDERS
    ),
    Param(
        "magic_retention_day",
        int,
        30,
        "a user is retained when they return on or after this day",
        DAYS,
    ),
    Param(
        "magic_min_users",
        int,
        30,
        "a magic number leaves at least this many users on each side of it",
        COUNT,  # retention.magic_number: fewer make a threshold from a handful of users
    ),
    Param(
        "buyer_cohort_months",
        int,
        6,
        "first-purchase months shown, counting back from the month of end",
        Bounds(1, MAX_COHORT_MONTHS),  # repurchase.buyer_cohorts
    ),
    Param(
        "lifecycle_days",
        int,
        7,
        "length of each lifecycle window (windows end on end)",
        DAYS,  # segments.lifecycle divides the period by it
    ),
    Param(
        "activity_window_days",
        int,
        30,
        "activity segments look at the days ending on end",
        DAYS,  # segments.activity_segments, with ORDERS
    ),
    Param(
        "highly_active_days",
        int,
        8,
        "highly active: at least this many active days in that window",
        DAYS,
    ),
    Param(
        "churn_days",
        int,
        60,
        "churned: no activity for at least this many days (silent: in between)",
        DAYS,
    ),
    Param(
        "rfm_lookback_days",
        int,
        365,
        "RFM scores buyers with a paid order in these days ending on end",
        DAYS,  # segments.rfm_scores: 0 days ending on end is no period
    ),
    Param(
        "propensity_half_life_days",
        int,
        30,
        "older views, carts and purchases count half after this many days",
        DAYS,  # segments.category_propensity divides ages by it
    ),
    # products
    Param(
        "exposure_measure",
        str,
        "impressions",
        "matrix x-axis: impressions (list views), clicks or viewers",
        # products.quadrant_splits takes any column of products.PERFORMANCE_COLUMNS
        choices=(
            "impressions",
            "clicks",
            "ctr",
            "viewers",
            "buyers",
            "conversion_rate",
            "units",
            "revenue",
            "cost",
            "gross_margin",
            "revenue_share",
        ),
    ),
    Param(
        "exposure_split",
        float,
        None,
        "None: the median over categories with viewers; or a number",
        Bounds(0, open_low=True),  # at 0 every item would have high exposure
        none=True,
    ),
    Param(
        "conversion_split",
        float,
        None,
        "None: the median over categories with viewers; or a share, e.g. 0.08",
        Bounds(0, 1, open_low=True),  # a share of viewers
        none=True,
    ),
    Param(
        "quadrant_min_viewers",
        int,
        30,
        "items with fewer viewers get no quadrant: not enough data",
        COUNT,  # products.with_quadrants; the medians are over the items with this many
    ),
    Param(
        "target_mix",
        dict,
        {"star": 0.5, "traffic driver": 0.2, "future star": 0.2, "question": 0.1},
        "target revenue share per quadrant",
        SHARE,  # products.quadrant_mix: its keys are the quadrants
        keys=("star", "traffic driver", "future star", "question"),
    ),
    Param(
        "abc_shares",
        list,
        [0.8, 0.95],
        "cumulative revenue shares where classes A and B end",
        Bounds(0, 1, open_low=True, length=2, ascending=True),  # products.sku_pareto
    ),
    Param(
        "role_rule",
        dict,
        {
            "image_price_quantile": 0.9,
            "image_max_units_quantile": 0.5,
            "traffic_views_quantile": 0.8,
            "traffic_max_margin_quantile": 0.5,
            "profit_margin_quantile": 0.75,
        },
        "product-role thresholds as quantiles over the SKUs sold",
        SHARE,  # products.RoleRule: quantiles, one per field
        keys=(
            "image_price_quantile",
            "image_max_units_quantile",
            "traffic_views_quantile",
            "traffic_max_margin_quantile",
            "profit_margin_quantile",
        ),
    ),
    Param(
        "role_min_buyers",
        int,
        3,
        "SKUs with fewer buyers are image items or 'not enough data', never another role",
        COUNT,  # products.product_roles: a margin seen on one or two sales is not a role
    ),
    Param(
        "top_n",
        int,
        10,
        "rows shown of the long SKU tables (the saved tables hold every row)",
        COUNT,
    ),
    Param(
        "low_rating_max",
        float,
        3.0,
        "SKUs averaging at most this rating are listed as low rated",
        Bounds(1, 5),  # an average of 1-5 star ratings
    ),
    Param(
        "min_reviews",
        int,
        3,
        "... when they have at least this many reviews in the period",
        COUNT,
    ),
    Param(
        "repurchase_window_days",
        int,
        30,
        "a reviewer repurchased when they paid for another order within this many days",
        DAYS,
    ),
    # costs
    Param(
        "commission_rate",
        float,
        0.03,
        "platform commission as a share of GMV; None: use the costs table's platform_commission "
        "rows",
        SHARE,  # costs.cost_ledger
        none=True,
    ),
    Param(
        "business_model",
        str,
        "retailer",
        "retailer: revenue is the amount paid (GMV) and the goods sold are the shop's cost; "
        "marketplace: revenue is commission_rate × GMV (the take rate) and the sellers' goods are "
        "not its cost",
        choices=("retailer", "marketplace"),  # costs.cost_ledger, costs.shop_revenue
    ),
    Param(
        "top_growing",
        int,
        3,
        "cost items flagged as growing fastest against the previous period",
        COUNT,
    ),
    # the shop's market; declared once for every notebook that names holidays (supply chain now)
    Param(
        "country",
        str,
        "CN",
        "ISO 3166 code of the shop's market: its holidays (the holidays package) and shopping days "
        "name the peaks and the forecast's days",
    ),
    # supply chain
    Param(
        "velocity_days",
        int,
        28,
        "days of supply and reorder points use the daily sales of this many days ending on end",
        DAYS,  # supply.inventory_health, supply.reorder_points
    ),
    Param(
        "dead_stock_days",
        int,
        60,
        "dead stock: units on hand and nothing sold in this many days ending on end",
        DAYS,
    ),
    Param("low_stock_days", int, 14, "low stock: fewer days of supply than this", DAYS),
    Param("overstock_days", int, 90, "overstock: more days of supply than this", DAYS),
    Param(
        "holding_rate",
        float,
        0.25,
        "yearly cost of holding stock as a share of its value (backlog cost)",
        SHARE,  # a year's cost as a share of the stock's value
    ),
    Param("horizon_days", int, 28, "days forecast after end", DAYS),
    Param(
        "backtest_weeks",
        int,
        6,
        "weekly origins of the rolling backtest (each forecasts the next 7 days)",
        Bounds(1, MAX_DAYS // 7),  # 0: no backtest, yet a verdict on it
    ),
    Param(
        "forecast_interval",
        float,
        0.9,
        "coverage of the forecast interval",
        PROBABILITY,  # supply.forecast_demand
    ),
    Param(
        "top_skus",
        int,
        6,
        "best-selling SKUs of the period forecast one by one",
        Bounds(1, 30),  # one panel each in one figure; more is no longer readable
    ),
    Param(
        "top_categories",
        int,
        6,
        "categories drawn in the forecast chart: most units in the last four weeks (the tables "
        "hold all)",
        Bounds(1, 30),  # likewise: one forecast panel per category
    ),
    Param(
        "service_level",
        float,
        0.95,
        "wanted chance of not running out during a lead time (sets the safety stock)",
        PROBABILITY,  # supply.reorder_points
    ),
    Param(
        "default_lead_time_days",
        int,
        14,
        "lead time of SKUs without received purchase orders",
        DAYS,  # 0 zeroes the reorder points it sets
    ),
    Param("ship_sla_hours", int, 48, "promised hours from payment to shipment", HOURS),
    Param(
        "slow_delivery_days",
        int,
        3,
        "deliveries taking this many days from payment or more are slow",
        DAYS,
    ),
    Param(
        "repurchase_days",
        int,
        30,
        "a buyer who pays again within this many days after delivery repurchased",
        DAYS,
    ),
    # after-sales (supply chain notebook; lib/supply/aftersales.py)
    Param(
        "return_window_days",
        int,
        30,
        "an order is returned when a return is requested within this many local days of payment",
        DAYS,  # supply.returns_summary, supply.order_returns
    ),
    Param(
        "refund_sla_hours",
        int,
        72,
        "return requests still not refunded this many hours after the request are the backlog",
        HOURS,  # supply.refund_backlog
    ),
    # risk flags (lib/risks.py; the rules are defined in its docstring)
    Param(
        "risk_unpaid_orders",
        int,
        5,
        "flag users with at least this many orders placed in the period left unpaid or cancelled",
        COUNT,  # risks.unpaid_order_users
    ),
    Param(
        "risk_coupon_claims",
        int,
        10,
        "flag users with at least this many claim_coupon events in the period",
        COUNT,  # risks.coupon_claim_users
    ),
    Param(
        "risk_coupon_uses",
        int,
        5,
        "flag users with at least this many paid orders with a coupon in the period",
        COUNT,  # risks.coupon_use_users
    ),
    Param(
        "risk_refund_share",
        float,
        0.5,
        "flag users with at least this share of their paid orders refunded",
        Bounds(0, 1, open_low=True),  # risks.refund_share_users: 0 would flag every buyer
    ),
    Param(
        "risk_refund_min_orders",
        int,
        5,
        "the refund share is judged for users with at least this many paid orders",
        COUNT,  # risks.refund_share_users
    ),
    Param(
        "risk_bot_factor",
        float,
        3.0,
        "flag users whose busiest minute (day) reaches this multiple of the shop's p99.9 of "
        "events per user-minute (sessions per user-day); 1 = the p99.9 itself",
        Bounds(1),  # risks.bot_users: below 1 flags the ordinary top 0.1 %
    ),
    Param(
        "risk_sku_factor",
        float,
        5.0,
        "flag order lines whose quantity or amount reaches this multiple of the SKU's median",
        Bounds(1, open_low=True),  # risks.extreme_sku_lines: 1 flags half the lines
    ),
    Param(
        "risk_sku_min_orders",
        int,
        10,
        "SKUs are judged with at least this many paid lines in the period",
        COUNT,  # risks.extreme_sku_lines
    ),
]

PARAMETERS: dict[str, Param] = {p.name: p for p in _DECLARED}
# One declaration per name: a second one would silently replace the first for every notebook.
_TWICE = sorted({p.name for p in _DECLARED if sum(q.name == p.name for q in _DECLARED) > 1})
if _TWICE:
    raise RuntimeError(f"parameters declared more than once in lib/parameters.py: {_TWICE}")

# Orders among parameters that a lib function raises for (a ≤ b ≤ …), checked on the values the
# notebook will see: its defaults with the -p values in their place.
ORDERS: tuple[tuple[str, ...], ...] = (
    ("highly_active_days", "activity_window_days", "churn_days"),  # segments.activity_segments
    ("magic_k_days", "magic_retention_day"),  # retention.early_behaviour_by_user
)


@dataclass(frozen=True)
class NotebookSpec:
    """A notebook of the catalogue: its own parameters, in cell order, and the tables it needs.

    Each entry of ``tables`` is a contract table (lib/data.py) the notebook cannot do without,
    or alternatives ``"events|orders"`` met by either. Sections needing a table the source lacks
    are skipped inside the notebook with a note (lib.sections.note); the runner skips a
    notebook the source cannot feed by the same rule (lib.sections.missing).
    """

    name: str
    own: tuple[str, ...]
    tables: tuple[str, ...]

    @property
    def parameters(self) -> tuple[str, ...]:
        """Every parameter of the cell: the runner's, ``dedupe_events``, then its own."""
        return CELL_HEAD + self.own


# The parameters every cell starts with, in cell order.
CELL_HEAD = ("start", "end", "timezone", "source", "output_dir", "dedupe_events")

_CATALOGUE = [
    # the overview and retention run on events alone (e.g. Taobao behaviour data) or on orders
    # alone, conversion on events alone
    NotebookSpec(
        "overview",
        (
            "currency",
            "country",
            "compare_to",
            "summary_items",
            "summary_min_change",
            "baseline_days",
            "baseline_weeks",
            "per_weekday",
            "alert_fdr",
            "min_effect",
        ),
        ("events|orders",),
    ),
    NotebookSpec("traffic", ("currency", "attribution_hours", "stickiness_interval"), ("events",)),
    NotebookSpec(
        "conversion",
        (
            "currency",
            "funnel_steps",
            "conversion_window_days",
            "breakdown",
            "compare_segments",
            "secondary_paths",
            "funnel_order",
            "funnel_exclusions",
            "dropoff_step",
            "band_days",
            "band_k",
            "alert_fdr",
            "min_effect",
            "per_weekday",
            "min_viewers",
            "worst_n",
            "worst_categories",
            "time_to_convert_bins",
            "trend_interval",
            "compare_to",
        ),
        ("events",),
    ),
    NotebookSpec(
        "retention",
        (
            "currency",
            "max_day",
            "start_event",
            "return_event",
            "cohort_granularity",
            "phase_volatile_below",
            "phase_stable_below",
            "magic_behaviour",
            "magic_k_days",
            "magic_retention_day",
            "magic_min_users",
            "buyer_cohort_months",
            "lifecycle_days",
            "activity_window_days",
            "highly_active_days",
            "churn_days",
            "rfm_lookback_days",
            "propensity_half_life_days",
        ),
        ("events|orders",),
    ),
    NotebookSpec(
        "products",
        (
            "currency",
            "exposure_measure",
            "exposure_split",
            "conversion_split",
            "quadrant_min_viewers",
            "target_mix",
            "abc_shares",
            "role_rule",
            "role_min_buyers",
            "top_n",
            "low_rating_max",
            "min_reviews",
            "repurchase_window_days",
        ),
        ("orders", "order_items", "products"),
    ),
    NotebookSpec(
        "costs",
        ("currency", "commission_rate", "business_model", "top_growing", "compare_to"),
        ("orders", "order_items", "products"),
    ),
    NotebookSpec(
        "supply_chain",
        (
            "currency",
            "velocity_days",
            "dead_stock_days",
            "low_stock_days",
            "overstock_days",
            "holding_rate",
            "horizon_days",
            "backtest_weeks",
            "forecast_interval",
            "top_skus",
            "top_categories",
            "service_level",
            "default_lead_time_days",
            "ship_sla_hours",
            "slow_delivery_days",
            "repurchase_days",
            "return_window_days",
            "refund_sla_hours",
            "country",
        ),
        ("orders", "order_items", "products"),
    ),
    # monitoring runs on events alone (the funnel, UV, bot rules) or on orders alone
    NotebookSpec(
        "monitoring",
        (
            "currency",
            "funnel_steps",
            "conversion_window_days",
            "ship_sla_hours",
            "baseline_days",
            "baseline_weeks",
            "per_weekday",
            "alert_fdr",
            "min_effect",
            "risk_unpaid_orders",
            "risk_coupon_claims",
            "risk_coupon_uses",
            "risk_refund_share",
            "risk_refund_min_orders",
            "risk_bot_factor",
            "risk_sku_factor",
            "risk_sku_min_orders",
        ),
        ("events|orders",),
    ),
    NotebookSpec(
        "journeys",
        (
            "funnel_steps",
            "conversion_window_days",
            "driver_min_support",
            "driver_fdr",
            "path_start_event",
            "path_end_event",
            "path_steps",
            "session_timeout_minutes",
            "dropoff_step",
        ),
        ("events",),
    ),
    # customers: orders alone give lifetime value; baskets and cross-sell need the lines
    NotebookSpec(
        "customers",
        (
            "currency",
            "basket_max_items",
            "basket_min_pair_orders",
            "recommend_n",
            "cross_sell_days",
            "clv_time_unit",
            "clv_horizon_days",
            "clv_discount_rate",
            "holdout_days",
            "lifecycle_days",
            "activity_window_days",
            "highly_active_days",
            "churn_days",
            "rfm_lookback_days",
        ),
        ("orders", "order_items"),
    ),
    # marketing: orders alone give campaigns, A/B tests and prices; attribution needs events
    NotebookSpec(
        "marketing",
        (
            "currency",
            "baseline_days",
            "dip_days",
            "control_variant",
            "cuped_days",
            "srm_alpha",
            "experiment_mde",
            "price_bands",
            "min_price_changes",
            "price_gap",
            "attribution_days",
            "attribution_half_life_days",
        ),
        ("orders",),
    ),
]

NOTEBOOKS: dict[str, NotebookSpec] = {nb.name: nb for nb in _CATALOGUE}


# --------------------------------------------------------------------------------------------
# Looking up a declaration


def _param(name: str) -> Param:
    try:
        return PARAMETERS[name]
    except KeyError:
        raise KeyError(f"no parameter {name!r} is declared in lib/parameters.py") from None


def default(name: str) -> Any:
    """The declared default of parameter ``name`` (a copy, for lists and dicts)."""
    value = _param(name).default
    return json.loads(json.dumps(value)) if isinstance(value, list | dict) else value


def bounds(name: str) -> Bounds:
    """The declared bounds of parameter ``name``."""
    found = _param(name).bounds
    if found is None:
        raise KeyError(f"parameter {name!r} has no bounds")
    return found


def choices(name: str) -> tuple[str, ...]:
    """The fixed values parameter ``name`` takes."""
    found = _param(name).choices
    if found is None:
        raise KeyError(f"parameter {name!r} has no fixed choices")
    return found


def keys(name: str) -> tuple[str, ...]:
    """The keys dict parameter ``name`` takes."""
    found = _param(name).keys
    if found is None:
        raise KeyError(f"parameter {name!r} has no fixed keys")
    return found


def from_default(name: str, value: Any) -> Param:
    """A parameter typed by the literal type of its default alone, for a notebook parameter that
    is not declared here (a notebook outside :data:`NOTEBOOKS`, such as a test fixture).

    A default of None takes None or any text; a default that is not a literal takes text.
    """
    kind: type = str
    for candidate in (bool, int, float, dict):  # bool first: it is an int
        if isinstance(value, candidate):
            kind = candidate
            break
    else:
        if isinstance(value, list | tuple):
            kind = list
    return Param(name, kind, value, none=value is None)


# --------------------------------------------------------------------------------------------
# Converting and checking values


_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}
_NONE = {"none", "null"}


def convert(raw: str, param: Param) -> Any:
    """Convert command-line text to a value of ``param``'s declared type, evaluating no code.

    ``None`` or ``null`` is None where ``param.none``; bool takes true/false, yes/no, on/off,
    1/0; int and float are parsed as such (a float must be finite); lists and dicts are read as
    JSON; text stays as given. Raise ValueError saying what was expected (``param.expected``).
    """
    text = raw.strip().lower()
    if text in _NONE and param.none:
        return None
    if param.type is bool:
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    elif param.type is int:
        with contextlib.suppress(ValueError):
            return int(raw.strip())
    elif param.type is float:
        with contextlib.suppress(ValueError):
            number = float(raw.strip())
            if math.isfinite(number):
                return number
    elif param.type in (list, dict):
        with contextlib.suppress(ValueError):
            value = json.loads(raw)
            if isinstance(value, param.type):
                return value
    else:
        return raw
    raise ValueError(f"expected {param.expected}")


def _bounds_problem(param: Param, value: Any) -> str | None:
    limits = param.bounds
    if limits is None:
        return None
    if isinstance(value, dict):
        if all(limits.admits(v) for v in value.values()) and (
            param.keys is None or set(value) <= set(param.keys)
        ):
            return None
        return f"expected {param.describe()}"
    if isinstance(value, list):
        if (
            all(limits.admits(v) for v in value)
            and (limits.length is None or len(value) == limits.length)
            and not (limits.ascending and value != sorted(value))
        ):
            return None
        return f"expected {param.describe()}"
    if limits.admits(value):
        return None
    kind = "an integer" if isinstance(value, int) else "a number"
    return f"expected {kind} {limits}" + (" or None" if param.none else "")


def _shape_problem(param: Param, value: Any) -> str | None:
    kind = param.event
    if kind == "steps" and not (isinstance(value, list) and (not value or len(value) >= 2)):
        return "expected [] (the default funnel) or a list of two or more event names"
    if kind == "paths" and not (
        isinstance(value, list) and all(isinstance(p, list) and len(p) >= 2 for p in value)
    ):
        return "expected [] (the default paths) or a list of lists of two or more event names"
    if kind == "exclusions":
        return _exclusions_problem(value)
    if kind in ("steps", "paths"):
        steps = value if kind == "steps" else [s for path in value for s in path]
        if not all(isinstance(s, str) for s in steps):
            return "expected event names (text)"
    if param.sizes is not None and not (isinstance(value, list) and len(value) in param.sizes):
        return f"expected {param.sizes_text}"
    return None


def _exclusions_problem(value: Any) -> str | None:
    """The shape of ``funnel_exclusions``, whatever the funnel: which steps exist is checked
    against the funnel by the runner and lib.funnel."""
    expected = f"expected {_EVENT_TEXT['exclusions']}"
    if not isinstance(value, list):
        return expected
    for rule in value:
        if not isinstance(rule, dict) or set(rule) != {"event", "from_step", "to_step"}:
            return expected
        lo, hi = rule["from_step"], rule["to_step"]
        steps_are_numbers = all(isinstance(n, int) and not isinstance(n, bool) for n in (lo, hi))
        if not isinstance(rule["event"], str) or not steps_are_numbers or not 1 <= lo < hi:
            return f"{expected} (got {json.dumps(rule, ensure_ascii=False)})"
    return None


def problem(param: Param, value: Any) -> str | None:
    """What is wrong with ``value`` (already of ``param``'s type) whatever the source, as
    ``"expected ..."``, or None: its bounds (each value of a list or dict, the list's length and
    order, the dict's keys), its choices, and the shape of a funnel, paths or a sized list."""
    if value is None:
        return None if param.none else f"expected {param.expected}"
    found = _bounds_problem(param, value)
    if found:
        return found
    if param.choices is not None and value not in param.choices:
        return f"expected one of {', '.join(param.choices)}"
    return _shape_problem(param, value)


def check(name: str, value: Any, argument: str | None = None) -> None:
    """Raise ValueError when ``value`` is not a value of declared parameter ``name``, naming the
    lib function's ``argument`` (default ``name``) and the values it takes, with the bound text
    the runner prints: ``window_days=0 must be from 1 to 3660``."""
    param = _param(name)
    label = argument or name
    if value is None and param.none:
        return
    if isinstance(value, dict) and param.type is dict:
        unknown = sorted(set(value) - set(param.keys or value))
        if unknown:
            raise ValueError(
                f"{label} has unknown key(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(param.keys or ())}"
            )
        for key, item in value.items():
            if param.bounds is not None and not param.bounds.admits(item):
                raise ValueError(f"{label}[{key!r}]={item} must be {param.bounds}")
        return
    if param.type in (int, float) and param.bounds is not None:
        if not param.bounds.admits(value):
            raise ValueError(f"{label}={value} must be {param.bounds}")
        return
    found = problem(param, value)
    if found:
        raise ValueError(f"{label}={value!r} must be {found.removeprefix('expected ')}")


def order_problem(defaults: dict[str, Any], given: dict[str, Any]) -> tuple[str, str] | None:
    """The ``given`` name that breaks an order of :data:`ORDERS` and what it should be, or None.

    Values are ``defaults`` with ``given`` in their place; a chain not wholly in ``defaults`` is
    skipped, and a pair that ``given`` does not touch is left alone (its defaults are tested).
    """
    for chain in ORDERS:
        if not all(name in defaults for name in chain):
            continue
        values = {name: given.get(name, defaults[name]) for name in chain}
        for a, b in itertools.pairwise(chain):
            first, second = values[a], values[b]
            if not all(isinstance(v, int | float) for v in (first, second)) or first <= second:
                continue
            order = " ≤ ".join(chain)
            if b in given:
                return b, f"expected at least {a} ({first}), since {order}"
            if a in given:
                return a, f"expected at most {b} ({second}), since {order}"
    return None


# --------------------------------------------------------------------------------------------
# The parameters cells of the notebooks


def literal(value: Any) -> str:
    """``value`` as Python source in the cells' style: strings in double quotes, as in JSON."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def parameters_cell(notebook: str) -> str:
    """The source of notebook ``notebook``'s ``parameters`` cell: one ``name = default  # help``
    line per parameter, the runner's first."""
    lines = []
    for name in NOTEBOOKS[notebook].parameters:
        param = _param(name)
        lines.append(f"{name} = {literal(param.default)}  # {param.help}")
    return "\n".join(lines)


def cell_parameters(notebook: str) -> tuple[Param, ...]:
    """The declarations of notebook ``notebook``'s parameters, in cell order."""
    return tuple(_param(name) for name in NOTEBOOKS[notebook].parameters)


def write_cells(folder: Path | str) -> list[Path]:
    """Rewrite the ``parameters`` cell source of every catalogue notebook ``NN_name.ipynb`` in
    ``folder`` from the declarations; nothing else of the file changes. Return those rewritten."""
    import nbformat  # only the writer needs it

    changed = []
    for path in sorted(Path(folder).glob("*.ipynb")):
        stem = path.stem.split("_", 1)
        if len(stem) != 2 or not stem[0].isdigit() or stem[1] not in NOTEBOOKS:
            continue
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
        wanted = parameters_cell(stem[1])
        if cell.source != wanted:
            cell.source = wanted
            nbformat.write(nb, path)
            changed.append(path)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m lib.parameters --write [FOLDER]``: rewrite the notebooks' parameters cells;
    without ``--write``, print each notebook's cell."""
    parser = argparse.ArgumentParser(prog="python -m lib.parameters", description=main.__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite the cells in place")
    parser.add_argument(
        "folder", nargs="?", default=str(Path(__file__).resolve().parent.parent / "notebooks")
    )
    args = parser.parse_args(argv)
    if args.write:
        for path in write_cells(args.folder):
            print(f"rewrote the parameters cell of {path}")
        return 0
    for name in NOTEBOOKS:
        print(f"# {name}\n{parameters_cell(name)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
