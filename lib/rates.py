"""One glossary of the rates the report shows: which is which, and why they differ.

The report shows more than a dozen conversion rates and several retention, repurchase and
click-through rates. Each is honest, but each divides a different set of people (or events) over a
different time, so two tables can give one SKU very different rates without either being wrong.
This module lists every such rate once (:data:`RATES`): the tables and columns that show it, its
numerator and denominator as the code computes them, and how it differs from its neighbours.

The definitions themselves live in the domain modules and docs/metrics.md; this is the reader's
map across them. ``python -m lib.rates --write`` rewrites the block of README.md between
:data:`START` and :data:`END` from :func:`markdown_table` (tests/test_rates.py fails when they
differ); :func:`html_table` gives the same for the appendix of report.html.

This module imports nothing from ``lib`` but :mod:`lib.parameters`, whose defaults it names (the
windows, the attribution hours), so a changed default changes the glossary with it.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lib import parameters

README = Path(__file__).resolve().parent.parent / "README.md"
START = "<!-- rates:start -->"
END = "<!-- rates:end -->"

# The groups in the order the glossary shows them, with their captions.
GROUPS = {
    "conversion": "Conversion rates",
    "click-through": "Click-through rates",
    "retention": "Retention rates",
    "repurchase": "Repurchase rates",
    "after-sales": "After-sales rates",
}
COLUMNS = ("rate", "where", "numerator", "denominator", "why it differs from its neighbours")


@dataclass(frozen=True)
class Rate:
    """One rate the report shows.

    ``where`` names the tables (`` `name.csv` ``) and columns that show it; ``numerator`` and
    ``denominator`` say who is counted, over which time and from which records (events or paid
    orders); ``differs`` says why it is not the rate next to it. Text in backticks is code.
    """

    group: str
    name: str
    where: str
    numerator: str
    denominator: str
    differs: str


# The defaults the texts name: read from the declarations, never retyped.
_WINDOW = parameters.default("conversion_window_days")
_ATTRIBUTION = parameters.default("attribution_hours")
_BAND_DAYS = parameters.default("band_days")
_K_DAYS = parameters.default("magic_k_days")
_RETENTION_DAY = parameters.default("magic_retention_day")
_COHORT_MONTHS = parameters.default("buyer_cohort_months")
_REVIEW_DAYS = parameters.default("repurchase_window_days")
_DELIVERY_DAYS = parameters.default("repurchase_days")
_RETURN_WINDOW = parameters.default("return_window_days")
_SLOW_DAYS = parameters.default("slow_delivery_days")

_IN_WINDOW = f"within `conversion_window_days` ({_WINDOW}) × 24 h"
_FUNNEL_REACH = (
    "reaching step k in order (each step at or after the previous one, to the second) "
    f"{_IN_WINDOW} of their first step-1 event; the last step is the `purchase` event"
)

RATES: tuple[Rate, ...] = (
    # ---------------------------------------------------------------- conversion
    Rate(
        "conversion",
        "Period conversion rate (buyers / UV)",
        "`gmv_summary.csv`: `conversion_rate`; `overview.csv` and `executive_summary.csv`: "
        "indicator `conversion rate (buyers / UV)`; `gmv_decomposition.csv`: row "
        "`conversion_rate`",
        "distinct users with a paid order paid in the period (from orders; no event needed)",
        "distinct users with any event on a local day of the period (period UV), each once",
        "The headline. Every visitor counts, not only product viewers, and any paid order counts, "
        "with no path or window. A visitor counts once however many days they came, so it is not "
        "the average of the daily rates (usually above them). Buyers without events (phone "
        "orders) can lift it above 1.",
    ),
    Rate(
        "conversion",
        "Daily conversion rate (buyers / UV of the day)",
        "`gmv_daily.csv`: `conversion_rate`",
        "distinct users with a paid order paid on the local day",
        "distinct users with any event on that local day (UV = DAU)",
        "Per day: a visitor who comes on five days is in five denominators but usually buys on "
        "one of them, so daily rates usually sit below the period rate, and their average is not "
        "it.",
    ),
    Rate(
        "conversion",
        "Main-path conversion from step 1",
        "`funnel.csv`: `conversion_from_start` (its last row is the whole funnel); "
        "`funnel_by_<breakdown>.csv`: `conversion_from_start` per first-touch value",
        f"entrants {_FUNNEL_REACH}",
        "entrants: distinct users with a step-1 event (default `view_item`) on a local day of "
        "the period, each once (first entry)",
        "Only product viewers enter; buyers come from `purchase` events, not paid orders "
        "(`purchase_reconciliation.csv` says how far they differ); a purchase of any item counts, "
        "but only after the earlier steps in order and inside the window, which may run past "
        "`end`. Buyers who skipped a step or bought later are not counted.",
    ),
    Rate(
        "conversion",
        "Funnel step conversion (from the previous step)",
        "`funnel.csv`, `funnel_by_<breakdown>.csv`, `funnel_paths.csv`: `conversion_from_previous`",
        "entrants reaching step k (as in the funnel it belongs to)",
        "entrants reaching step k − 1",
        "A share of the previous step, not of all entrants: the product of the steps' rates is "
        "the rate from step 1. The lowest one marks the step that loses most users.",
    ),
    Rate(
        "conversion",
        "Secondary-path conversion from step 1",
        "`funnel_paths.csv`: `conversion_from_start` per `path`",
        f"the path's entrants {_FUNNEL_REACH}",
        "distinct users with the path's first event (by default `view_promotion` or "
        "`view_item_list`) on a local day of the period, each once",
        "The main path's rule on other entrants: users who saw a promotion or a product list, "
        "through more steps. Compare the paths with each other; their entrants overlap with the "
        "main path's but are not the same people.",
    ),
    Rate(
        "conversion",
        "Whole-funnel conversion by first touch",
        "`funnel_segments_<breakdown>.csv`: `conversion_rate` (95 % Wilson interval); "
        "`funnel_compare_<breakdown>.csv`: `conversion_a`, `conversion_b`",
        "the segment's entrants who reached the last step of the main path (`converters`)",
        "the segment's entrants: main-path entrants whose first step-1 event in the period "
        "carried that value (`breakdown`, default `channel`)",
        "The last step's `conversion_from_start` of `funnel_by_<breakdown>.csv`. Each entrant is "
        "in one segment, so the main path's whole-funnel rate is the segments' rates weighted by "
        "entrants.",
    ),
    Rate(
        "conversion",
        "Daily funnel conversion (per entry day)",
        "`funnel_daily.csv`: `conversion_rate`; `band_median`, `band_low`, `band_high` are "
        "built from it",
        f"that day's entrants reaching the last step in order {_IN_WINDOW} of their first "
        "step-1 event of that day (the `purchase` event)",
        "users with a step-1 event on that local day: a user who enters on three days counts on "
        "all three",
        "Each day is a funnel of its own, so a user enters again on every day they view a "
        "product, while the main path counts each user once from their first entry. A day is "
        f"tested against the entrants of the {_BAND_DAYS} days before it (`band_days`; "
        "docs/monitoring.md).",
    ),
    Rate(
        "conversion",
        "Main-path conversion by entry day or week (trend)",
        "`funnel_trends.csv`: `conversion_rate` per `period_start`",
        f"those entrants reaching the last step in order {_IN_WINDOW} of their first step-1 "
        "event (the `purchase` event)",
        "the main path's entrants whose first step-1 event of the period (`t1`) fell on that "
        "local day, or in that Monday-to-Sunday week (`trend_interval`)",
        "The main path's entrants split by when they entered, each user once: the rows add up to "
        "the funnel's first and last steps, unlike the daily funnel conversion, where a user "
        "enters again on every day. Entrants of the last days have had less time to convert "
        "when the data stops at `end`.",
    ),
    Rate(
        "conversion",
        "SKU view-to-purchase conversion (within the window)",
        "`conversion_by_sku.csv`: `conversion_rate` (95 % Wilson interval)",
        "viewers with a paid order containing that SKU, paid between their first view of it in "
        f"the period and {_WINDOW} × 24 h later (`conversion_window_days`; payments after `end` "
        "count)",
        "viewers: distinct users with a `view_item` of the SKU on a local day of the period",
        "Buyers from paid orders (not `purchase` events) who viewed first and bought that very "
        "SKU in the window, so at most 1 and well below the funnel, where a purchase of anything "
        "counts. `sku_performance.csv` has the same viewers but counts every buyer of the SKU in "
        "the period, viewed or not: the same SKU can be 0 here and well above 0 there.",
    ),
    Rate(
        "conversion",
        "Category view-to-purchase conversion (within the window)",
        "`conversion_by_category.csv`: `conversion_rate` (95 % Wilson interval)",
        "viewers with a paid order containing any SKU of the category, paid between their first "
        f"view of a SKU of it in the period and {_WINDOW} × 24 h later",
        "distinct users with a `view_item` of any SKU of the category on a local day of the period",
        "A viewer who looks at one SKU and buys another of the category counts here but in no "
        "SKU's rate, and a viewer of several SKUs counts once, so it is no average of its SKUs' "
        "rates. `category_performance.csv` has the same viewers but counts every buyer of the "
        "category in the period.",
    ),
    Rate(
        "conversion",
        "Category buyers per viewer (period counts)",
        "`category_performance.csv`: `conversion_rate` (the matrix's conversion axis and "
        "`quadrant`)",
        "distinct users with a paid order paid in the period containing a line of the category",
        "distinct users with a `view_item` of a SKU of the category on a local day of the period",
        "Two counts of the same period, not a funnel: a buyer need not have viewed, in the "
        "period or ever, and no window applies (but a payment after `end` does not count), so it "
        "is mostly above `conversion_by_category.csv`'s rate and can exceed 1.",
    ),
    Rate(
        "conversion",
        "SKU buyers per viewer (period counts)",
        "`sku_performance.csv`: `conversion_rate` (and its `quadrant`)",
        "distinct users with a paid order paid in the period containing the SKU",
        "distinct users with a `view_item` of the SKU on a local day of the period",
        "As for categories: not a funnel, so it counts buyers who never viewed the SKU in the "
        "period and is mostly above `conversion_by_sku.csv`'s rate for the same viewers.",
    ),
    Rate(
        "conversion",
        "Slot conversion (clickers who bought through the slot)",
        "`slots.csv`: `conversion_rate` (95 % Wilson interval; `p_value_vs_best` tests it)",
        "`converting_clickers`: the slot's clickers with a paid order paid in the period "
        "credited to the slot by last click (their latest `select_promotion` within "
        f"`attribution_hours` ({_ATTRIBUTION}) before payment)",
        "`clickers`: distinct users with a `select_promotion` of the slot in the period",
        "Starts from users who already clicked a promotion (more intent than all visitors or "
        "viewers); an order counts for one slot only (the last clicked) and needs no cart or "
        "checkout. `buyers` (credited buyers, clicks just before the period included) is not "
        "its numerator.",
    ),
    Rate(
        "conversion",
        "Units sold per view (lost-sales estimate)",
        "`lost_sales.csv`: `units_per_view`",
        "units on the lines of paid orders paid on the SKU's in-stock local days of the period",
        "`view_item` events (not users) of the SKU on those days",
        "Units per view event, not buyers per viewer: a repeated view counts twice, a line of "
        "three units three times. Only SKUs with a stock-out day; it turns their views on "
        "stock-out days into lost units.",
    ),
    Rate(
        "conversion",
        "Payment success (paid orders / orders placed, monitored daily)",
        "`alerts.csv` and `incidents.csv`: series `payment_success` (`value`, `expected`)",
        "orders placed on the local day (by `order_time`) that are paid orders (a `paid_time`, "
        "not cancelled), whenever paid",
        "orders placed on that local day",
        "From orders, not events: the funnel's step to `purchase` counts entrants with a "
        "`purchase` event after `begin_checkout` within the window, by their entry day. An order "
        "paid days later counts on its order day, so the last days' rates are still rising.",
    ),
    # ---------------------------------------------------------------- click-through
    Rate(
        "click-through",
        "Promotion slot click-through rate",
        "`slots.csv`: `ctr` (95 % Wilson interval)",
        "`select_promotion` events of the slot on local days of the period",
        "`view_promotion` events of the slot on local days of the period",
        "Events, not users: one user's repeated clicks all count (the slot's conversion "
        "divides users). Promotion slots only.",
    ),
    Rate(
        "click-through",
        "Product list click-through rate",
        "`category_performance.csv`, `sku_performance.csv`: `ctr`",
        "`select_item` events of the item (a SKU, or any SKU of the category) on local days of "
        "the period",
        "`view_item_list` events of the item on local days of the period",
        "Clicks on the shop's own lists (search results, category pages), not on promotion "
        "slots; events, not users; a category pools its SKUs' events.",
    ),
    Rate(
        "click-through",
        "Paid channel click-through rate",
        "`channel_roi.csv`: `ctr`",
        "`clicks` of the `marketing_spend` rows of the channel and billing model dated on a "
        "local day of the period",
        "`impressions` of the same rows",
        "Reported by the ad platforms in `marketing_spend`, outside the shop: not counted from "
        "events, so not comparable with the shop's own click-through rates.",
    ),
    # ---------------------------------------------------------------- retention
    Rate(
        "retention",
        "Cohort retention on day N",
        "`retention.csv`: `retention_rate` (the heatmap)",
        "`retained_users`: cohort users with a return event (`return_event`, default any event) "
        "on the local day cohort date + N exactly",
        "`cohort_size`: users whose first start event (`start_event`, default any event) anywhere "
        "in the source falls on the cohort's local day (or week, `cohort_granularity`) in the "
        "period",
        "A share of new users, not of all visitors, on one exact day, so it can rise again after "
        "a dip. A cell exists only when cohort date + N is on or before the data's last event "
        "day.",
    ),
    Rate(
        "retention",
        "Cohort retention on or after day N",
        "`retention.csv`: `retention_rate_on_or_after`",
        "cohort users with a return event on day N or any later day, up to the end of the data",
        "`cohort_size`, as for retention on day N",
        "Never rises with N and is at least the day-N rate; unbounded, so older cohorts have had "
        "longer to come back.",
    ),
    Rate(
        "retention",
        "Average retention curve (D1, D3, D7, D14, D30)",
        "`retention_phases.csv`: `retention_rate` (the curve and its headline days in notebook 03)",
        "retained users on day N summed over the cohorts old enough to have day N",
        "the cohort sizes of those same cohorts",
        "Cohorts pooled by size; each day uses only the cohorts that reached it, so D30 rests on "
        "fewer, older cohorts than D1. The phases are cut on this day-N curve.",
    ),
    Rate(
        "retention",
        "Overview next-day and 7-day retention",
        "`overview.csv` and `executive_summary.csv`: indicators `next-day retention`, `7-day "
        "retention`",
        "as the average curve on day 1 and day 7: retained users summed over the period's daily "
        "cohorts that reached that day",
        "the sizes of those cohorts; a cohort is a day's new users by their first event of any "
        "kind",
        "Always daily cohorts with any event as start and return, whatever notebook 03's "
        "`start_event`, `return_event` and `cohort_granularity` say; equal to 03's D1 and D7 "
        "only at their defaults.",
    ),
    Rate(
        "retention",
        "Retention by early behaviour (magic number)",
        "`magic_number_by_count.csv`: `retention_rate`; `magic_number_thresholds.csv`: "
        "`retention_above`, `retention_below`",
        "users with that early count (`magic_behaviour` on days 0 to "
        f"{_K_DAYS - 1}, `magic_k_days`) with a return event on or after day {_RETENTION_DAY} "
        "(`magic_retention_day`)",
        f"cohort users with that count whose cohort date + {_RETENTION_DAY} is on or before the "
        "last event day",
        "Only cohorts old enough to be followed to the day, and return on or after it "
        "(unbounded), split by what users did early; not the day-N curve.",
    ),
    # ---------------------------------------------------------------- repurchase
    Rate(
        "repurchase",
        "Repurchase rate (period)",
        "`repurchase.csv`: `repurchase_rate`; `overview.csv` and `executive_summary.csv`: "
        "indicator `repurchase rate`",
        "buyers with two or more paid orders paid in the period",
        "buyers with at least one paid order paid in the period",
        "Both orders inside the period: a first order before `start` does not count, and a "
        "longer period gives a higher rate. Users, from orders alone.",
    ),
    Rate(
        "repurchase",
        "Repurchase rate by month",
        "`repurchase_by_month.csv`: `repurchase_rate`",
        "buyers with two or more paid orders paid in the month (clipped to the period)",
        "buyers with a paid order paid in that month",
        "Both orders in the same calendar month, so a month's rate is usually below the "
        "period's, and a clipped month at an edge (`days`) lower still.",
    ),
    Rate(
        "repurchase",
        "Repurchase rate by category",
        "`repurchase_by_category.csv`: `repurchase_rate`",
        "buyers with two or more paid orders paid in the period containing the category",
        "buyers with a paid order paid in the period containing the category",
        "Both orders must contain the category: a buyer of two different categories is a repeat "
        "buyer of the period but of neither category. An order counts in every category it "
        "contains.",
    ),
    Rate(
        "repurchase",
        "Repeat rate within 30 / 60 / 90 days (buyer cohorts)",
        "`buyer_cohorts.csv`: `repeat_rate_30d`, `repeat_rate_60d`, `repeat_rate_90d`",
        "`repeat_buyers_Xd`: those buyers whose second paid order ever came at most X local days "
        "after their first (the same day counts)",
        "`observed_Xd`: buyers whose first paid order ever falls in the cohort month (the "
        f"{_COHORT_MONTHS} months to `end`'s, `buyer_cohort_months`) and at least X days before "
        "the last local day in the orders",
        "First-time buyers from their first order ever, across the period's edges (orders after "
        "`end` count): time to a second purchase, not repeat buying inside a period. Young "
        "buyers are left out, not counted as lost.",
    ),
    Rate(
        "repurchase",
        "Repurchase after a review",
        "`rating_repurchase.csv`: `repurchase_rate` per `rating` (95 % Wilson interval)",
        "those reviews whose author paid for an order after the review and within "
        f"`repurchase_window_days` ({_REVIEW_DAYS}) × 24 h",
        "reviews written on a local day of the period, per rating, whose day + "
        f"{_REVIEW_DAYS} is on or before the last local day in the orders",
        "Counts reviews, not users (each of a user's reviews counts); any paid order counts, "
        "whatever it contains; the clock starts at the review.",
    ),
    Rate(
        "repurchase",
        "Repurchase after delivery",
        "`delivery_experience.csv`: `repurchase_rate`; `delivery_effect.csv`: row `repurchase` "
        "(`fast`, `slow`)",
        "those orders whose buyer paid for another order after the delivery and within "
        f"`repurchase_days` ({_DELIVERY_DAYS}) × 24 h of it",
        "delivered paid orders paid in the period (every parcel delivered) in the delivery "
        f"bucket whose delivery + {_DELIVERY_DAYS} days is on or before the last payment in the "
        "orders",
        "Counts orders, not buyers (a buyer with three orders counts three times); the clock "
        "starts at delivery; the horizon is the last payment time, where the review and cohort "
        "rates use the last local order day.",
    ),
    Rate(
        "repurchase",
        "Repurchase after a refund",
        "`returns_repurchase.csv`: `repurchase_rate` per `group` (`refunded`, `not returned`; "
        "95 % Wilson interval)",
        "those buyers who paid for another order within 90 × 24 h after their first refund (the "
        "others: after their first paid order of the period)",
        "buyers of the period's paid orders with a refunded return (without a returns table, a "
        "`refunded` order), or without any return request, whose clock started at least 90 days "
        "before the last payment in the orders",
        "Buyers, not orders; the refunded group's clock starts at the refund (at the payment "
        "without a returns table, when no refund time is known), so it is not the delivery "
        "rate's clock; buyers with only open requests are in neither group.",
    ),
    # ---------------------------------------------------------------- after-sales
    Rate(
        "after-sales",
        "Return rate (within the return window)",
        "`returns_summary.csv`: `return_rate` per category and SKU",
        "those orders with a return requested at most `return_window_days` "
        f"({_RETURN_WINDOW}) local days after the local day of payment that touches the "
        "category or SKU (a line of it, or the whole order)",
        "paid orders paid in the period with a line of the category or SKU",
        "By the orders' payment day, not the request's: orders paid near `end` may still be "
        "returned, so the last days' rate is a floor. An order counts in each category it has a "
        "line of. Without a returns table, refunded orders are whole-order returns with no "
        "window.",
    ),
    Rate(
        "after-sales",
        "Return rate by carrier and delivery band",
        "`returns_by_carrier.csv`: `return_rate` per `carrier` and per `delivery` band (95 % "
        "Wilson interval; `rest_rate`, `vs_rest`)",
        "those orders returned as in `returns_summary.csv`",
        "paid orders paid in the period that shipped, per first parcel's carrier, or per band of "
        f"payment-to-door days against `slow_delivery_days` ({_SLOW_DAYS})",
        "Only shipped orders, so it differs from the category rate's denominator; each group is "
        "set against the pooled rate of the others of its breakdown, not against the shop's.",
    ),
)


# --------------------------------------------------------------------------------------------
# Rendering


def _grouped(rates: Sequence[Rate]) -> list[tuple[str, list[Rate]]]:
    """``(group, rates)`` in :data:`GROUPS` order, groups without rates left out."""
    unknown = sorted({rate.group for rate in rates} - set(GROUPS))
    if unknown:
        raise ValueError(f"unknown rate group(s) {', '.join(unknown)}; groups: {', '.join(GROUPS)}")
    grouped = [(group, [rate for rate in rates if rate.group == group]) for group in GROUPS]
    return [(group, members) for group, members in grouped if members]


def _cells(rate: Rate) -> tuple[str, ...]:
    return (rate.name, rate.where, rate.numerator, rate.denominator, rate.differs)


def _markdown_cell(text: str) -> str:
    # a pipe ends a Markdown table cell and a line break ends the row
    return " ".join(text.split()).replace("|", "\\|")


def markdown_table(rates: Sequence[Rate] = RATES) -> str:
    """One Markdown table per group (a ``###`` heading each), in :data:`GROUPS` order."""
    parts = []
    for group, members in _grouped(rates):
        lines = [f"### {GROUPS[group]}", ""]
        lines.append("| " + " | ".join(COLUMNS) + " |")
        lines.append("|" + "---|" * len(COLUMNS))
        for rate in members:
            lines.append("| " + " | ".join(_markdown_cell(c) for c in _cells(rate)) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


_CODE = re.compile(r"`([^`]+)`")


def _html_cell(text: str) -> str:
    # escape first, so nothing in the text becomes markup; only the backticks become <code>
    return _CODE.sub(r"<code>\1</code>", html.escape(" ".join(text.split())))


def html_table(rates: Sequence[Rate] = RATES) -> str:
    """The same as :func:`markdown_table` in plain HTML: one ``<table class="rates">`` per group
    with the group as its ``<caption>``, every text escaped. No heading: the page places it."""
    tables = []
    for group, members in _grouped(rates):
        rows = [f'<table class="rates">\n<caption>{html.escape(GROUPS[group])}</caption>']
        rows.append(
            "<thead><tr>"
            + "".join(f'<th scope="col">{html.escape(c)}</th>' for c in COLUMNS)
            + "</tr></thead>\n<tbody>"
        )
        for rate in members:
            name, *rest = (_html_cell(c) for c in _cells(rate))
            rows.append(
                f'<tr><th scope="row">{name}</th>'
                + "".join(f"<td>{c}</td>" for c in rest)
                + "</tr>"
            )
        rows.append("</tbody>\n</table>")
        tables.append("\n".join(rows))
    return "\n".join(tables) + "\n"


# --------------------------------------------------------------------------------------------
# The README block


def readme_block(text: str) -> str:
    """The text between :data:`START` and :data:`END` in ``text`` (without the marker lines)."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README.md lacks the lines {START} … {END}")
    return text[start + len(START) : end].strip("\n") + "\n"


def with_block(text: str, block: str) -> str:
    """``text`` with the block between the markers replaced by ``block``."""
    readme_block(text)  # the markers must be there, in order
    start, end = text.find(START) + len(START), text.find(END)
    return text[:start] + "\n" + block.strip("\n") + "\n" + text[end:]


def write_readme(path: Path = README) -> bool:
    """Rewrite the README's block from :func:`markdown_table`; True when it changed."""
    text = path.read_text(encoding="utf-8")
    updated = with_block(text, markdown_table())
    if updated == text:
        return False
    path.write_text(updated, encoding="utf-8")
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m lib.rates [--write]``: print the glossary as Markdown, or rewrite README.md's
    block with it."""
    parser = argparse.ArgumentParser(prog="python -m lib.rates", description=main.__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite the README.md block")
    parser.add_argument("--readme", default=str(README), help="the README to rewrite")
    args = parser.parse_args(argv)
    if args.write:
        changed = write_readme(Path(args.readme))
        print(f"{'rewrote' if changed else 'unchanged:'} the rates block of {args.readme}")
        return 0
    print(markdown_table(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
