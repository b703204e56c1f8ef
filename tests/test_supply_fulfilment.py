"""Fulfilment, delivery times, ratings and repurchase after delivery (lib/supply/fulfilment.py) on
the shipments of tests/supply_shop.py and a small review shop.
"""

from __future__ import annotations

import math

import ibis
import pandas as pd
import pytest

from lib import supply
from lib.periods import Period

from .conftest import memtable, orders_table
from .supply_shop import (
    SHIP_ORDERS,
    SHIP_PERIOD,
    SHIPMENTS,
)


def test_fulfilment_per_carrier_and_total():
    table = supply.fulfilment(SHIP_ORDERS, SHIPMENTS, SHIP_PERIOD, ship_sla_hours=48)
    assert table["carrier"].tolist() == ["SF", "ZTO", "all"]
    sf, zto, total = (row for _, row in table.iterrows())
    one_second = 1 / 3600
    # SF: s1 (48 h, delivered in 1.5 days) and s2 (48 h 1 s, not delivered)
    assert sf["orders"] == 2
    assert sf["ship_hours_p50"] == pytest.approx(48 + one_second / 2)
    assert sf["ship_hours_p90"] == pytest.approx(48 + 0.9 * one_second)
    assert sf["delivery_days_p50"] == pytest.approx(1.5)
    assert sf["delivery_days_p90"] == pytest.approx(1.5)
    assert sf["on_time_ship_rate"] == pytest.approx(0.5)  # exactly at the SLA is on time
    assert sf["shipping_cost_per_order"] == pytest.approx(11.0)
    assert sf["shipping_cost_share"] == pytest.approx(22 / 150)
    # ZTO: s3 (12 h; both parcels delivered: 03-10 14:00 -> 03-13 02:00 = 2.5 days; cost 6 + 4)
    # and s7 (49 h, not delivered)
    assert zto["orders"] == 2
    assert zto["ship_hours_p50"] == pytest.approx(30.5)
    assert zto["ship_hours_p90"] == pytest.approx(12 + 0.9 * 37)
    assert zto["delivery_days_p50"] == pytest.approx(2.5)
    assert zto["on_time_ship_rate"] == pytest.approx(0.5)
    assert zto["shipping_cost_per_order"] == pytest.approx(7.5)
    assert zto["shipping_cost_share"] == pytest.approx(15 / 100)
    # all four: hours 48, 48 h 1 s, 12, 49 -> p90 at rank 2.7
    assert total["orders"] == 4
    assert total["ship_hours_p90"] == pytest.approx(48 + one_second + 0.7 * (1 - one_second))
    assert total["delivery_days_p50"] == pytest.approx(2.0)
    assert total["delivery_days_p90"] == pytest.approx(1.5 + 0.9 * 1.0)
    assert total["shipping_cost_per_order"] == pytest.approx(37 / 4)
    assert total["shipping_cost_share"] == pytest.approx(37 / 250)


def test_fulfilment_daily_by_local_payment_day():
    table = supply.fulfilment_daily(SHIP_ORDERS, SHIPMENTS, SHIP_PERIOD, 48)
    # 03-10: s1, s2, s3; 03-11: s7 (paid 00:00 local 03-11); 03-12: none
    assert table["orders"].tolist() == [3, 1, 0]
    assert table["on_time_ship_rate"].iloc[0] == pytest.approx(2 / 3)
    assert table["ship_hours_p50"].iloc[1] == pytest.approx(49.0)
    assert math.isnan(table["ship_hours_p50"].iloc[2])


def test_shipping_backlog_as_of_the_end_of_the_period():
    table = supply.shipping_backlog(SHIP_ORDERS, SHIPMENTS, SHIP_PERIOD, 48)
    # s6: 64 h unshipped; s5 waited 30 h; s7 exactly 48 h at the end (shipped later): not yet late
    assert table["order_id"].tolist() == ["s6"]
    assert table["hours_waiting"].iloc[0] == pytest.approx(64.0)


def test_a_refunded_order_without_a_shipment_is_not_waiting_to_ship():
    # r1 was paid 64 h before the end, like s6, then refunded and never shipped
    refunded = orders_table(
        [("r1", "u6", "2025-03-09 23:00", "2025-03-10 00:00", "refunded", 20.0)]
    )
    table = supply.shipping_backlog(SHIP_ORDERS.union(refunded), SHIPMENTS, SHIP_PERIOD, 48)
    assert table["order_id"].tolist() == ["s6"]


def test_delivered_orders_ratings_and_repurchase():
    reviews = memtable(
        [
            # u1 reviews s1's SKU after delivery (2) and before it (5: not about this delivery)
            {"sku_id": "K1", "user_id": "u1", "review_time": "2025-03-14 00:00", "rating": 2},
            {"sku_id": "K1", "user_id": "u1", "review_time": "2025-03-12 00:00", "rating": 5},
            {"sku_id": "K9", "user_id": "u3", "review_time": "2025-03-14 00:00", "rating": 4},
        ],
        sku_id="string",
        user_id="string",
        review_time="timestamp",
        rating="int64",
    )
    items = memtable(
        [
            {"order_id": "s1", "sku_id": "K1", "quantity": 1, "unit_price": 100.0},
            {"order_id": "s3", "sku_id": "K3", "quantity": 1, "unit_price": 40.0},
        ]
    )
    table = supply.delivered_orders(SHIP_ORDERS, items, SHIPMENTS, SHIP_PERIOD, reviews, 30)
    table = table.set_index("order_id")
    assert table.index.tolist() == ["s1", "s3"]  # s2 and s7 were not delivered
    # s1: paid 03-09 16:00, delivered 03-13 04:00; s3: paid 03-10 02:00, delivered 03-13 02:00
    assert table.loc["s1", "days_to_door"] == pytest.approx(3.5)
    assert table.loc["s3", "days_to_door"] == pytest.approx(3.0)
    assert table.loc["s1", "rating"] == 2
    assert math.isnan(table.loc["s3", "rating"])  # u3 reviewed a SKU not in s3
    assert table["observed"].all()  # the data runs to 04-30
    assert bool(table.loc["s3", "repurchased"]) is True  # s9 on 03-20
    assert bool(table.loc["s1", "repurchased"]) is False
    fixed = supply.DELIVERY_BUCKET_DAYS  # (2, 3, 4, 5): the labels of the fallback
    experience = supply.delivery_experience(table.reset_index(), fixed).set_index("delivery")
    assert experience.index.tolist() == list(supply.DELIVERY_BUCKETS)
    assert experience.loc["3–4 days", "orders"] == 2
    assert experience.loc["3–4 days", "repurchase_rate"] == pytest.approx(0.5)
    assert experience["orders"].sum() == 2


REVIEW_PERIOD = Period("2025-03-01", "2025-03-07", "UTC")


REVIEW_ORDERS = orders_table(
    [
        ("a1", "u1", "2025-03-02 10:00", "2025-03-02 10:00", "paid", 50.0),  # K and J
        ("b1", "u1", "2025-03-15 10:00", "2025-03-15 10:00", "paid", 50.0),  # K again, later
        ("a2", "u2", "2025-03-03 10:00", "2025-03-03 10:00", "paid", 50.0),  # K
        ("b2", "u2", "2025-03-10 10:00", "2025-03-10 10:00", "paid", 50.0),  # K again, later
        ("p3", "u3", "2025-02-20 10:00", "2025-02-20 10:00", "paid", 50.0),  # K, earlier
        ("a3", "u3", "2025-03-04 10:00", "2025-03-04 10:00", "paid", 50.0),  # K
    ]
)


REVIEW_SKUS = {"a1": "KJ", "b1": "K", "a2": "K", "b2": "K", "p3": "K", "a3": "K"}


REVIEW_ITEMS = memtable(
    [
        {"order_id": order, "sku_id": sku, "quantity": 1, "unit_price": 50.0}
        for order, skus in REVIEW_SKUS.items()
        for sku in skus
    ]
)


REVIEW_SHIPMENTS = memtable(
    [
        {
            "order_id": order,
            "carrier": "SF",
            "shipped_time": shipped,
            "delivered_time": delivered,
            "shipping_cost": 5.0,
        }
        for order, shipped, delivered in [
            ("a1", "2025-03-03 10:00", "2025-03-04 10:00"),
            ("b1", "2025-03-16 10:00", "2025-03-17 10:00"),
            ("a2", "2025-03-04 10:00", "2025-03-05 10:00"),
            ("b2", "2025-03-11 10:00", "2025-03-12 10:00"),
            ("p3", "2025-02-21 10:00", "2025-02-22 10:00"),
            ("a3", "2025-03-05 10:00", "2025-03-06 10:00"),
        ]
    ],
    order_id="string",
    carrier="string",
    shipped_time="timestamp",
    delivered_time="timestamp",
    shipping_cost="float64",
)


def review_rows(rows: list[tuple]) -> ibis.Table:
    """Reviews from ``(user_id, sku_id, review_time, rating)``."""
    columns = ["user_id", "sku_id", "review_time", "rating"]
    return memtable(
        [dict(zip(columns, row, strict=True)) for row in rows],
        user_id="string",
        sku_id="string",
        review_time="timestamp",
        rating="int64",
    )


def test_delivered_orders_review_after_a_later_delivery_belongs_to_it():
    reviews = review_rows(
        [
            ("u1", "K", "2025-03-10 10:00", 4),  # between a1's (03-04) and b1's (03-17) delivery
            ("u1", "K", "2025-03-20 10:00", 1),  # after b1's delivery: b1's, paid after the end
            ("u1", "J", "2025-03-20 10:00", 3),  # J was only in a1: still a1's
            ("u2", "K", "2025-03-13 10:00", 1),  # after b2's delivery (03-12): nothing for a2
        ]
    )
    table = supply.delivered_orders(
        REVIEW_ORDERS, REVIEW_ITEMS, REVIEW_SHIPMENTS, REVIEW_PERIOD, reviews, 30
    ).set_index("order_id")
    assert table.index.tolist() == ["a1", "a2", "a3"]  # b1, b2 paid after the end, p3 before
    assert table.loc["a1", "rating"] == pytest.approx((4 + 3) / 2)
    assert math.isnan(table.loc["a2", "rating"])
    assert math.isnan(table.loc["a3", "rating"])


def test_delivered_orders_review_after_an_earlier_delivery_goes_to_the_periods_order():
    reviews = review_rows(
        [
            ("u3", "K", "2025-02-25 10:00", 2),  # after p3's delivery (02-22), before a3's: p3's
            ("u3", "K", "2025-03-07 10:00", 5),  # after a3's delivery (03-06): a3's
            ("u3", "K", "2025-03-20 10:00", 4),  # after the end, no later delivery: a3's
        ]
    )
    table = supply.delivered_orders(
        REVIEW_ORDERS, REVIEW_ITEMS, REVIEW_SHIPMENTS, REVIEW_PERIOD, reviews, 30
    ).set_index("order_id")
    assert table.loc["a3", "rating"] == pytest.approx((5 + 4) / 2)
    assert math.isnan(table.loc["a1", "rating"])
    assert math.isnan(table.loc["a2", "rating"])


def test_delivery_effect_compares_fast_and_slow():
    delivered = pd.DataFrame(
        {
            "days_to_door": [1.0, 2.0, 4.0, 5.0],
            "rating": [5.0, 4.0, 2.0, math.nan],
            "observed": [True, True, True, False],
            "repurchased": [True, False, False, True],
        }
    )
    effect = supply.delivery_effect(delivered, slow_delivery_days=3).set_index("measure")
    assert effect.loc["rating", "fast"] == pytest.approx(4.5)
    assert effect.loc["rating", "slow"] == pytest.approx(2.0)
    assert (effect.loc["rating", "fast_orders"], effect.loc["rating", "slow_orders"]) == (2, 1)
    assert effect.loc["repurchase", "fast"] == pytest.approx(0.5)
    assert effect.loc["repurchase", "slow"] == pytest.approx(0.0)  # the unobserved one is out
    assert effect.loc["repurchase", "slow_orders"] == 1


def test_delivery_bucket_edges_are_the_datas_quintiles_in_whole_days():
    days = pd.Series([float(day) for day in range(1, 11)])  # 1 … 10 days
    # quintiles 2.8, 4.6, 6.4, 8.2 -> 3, 5, 6, 8
    assert supply.delivery_bucket_edges(days) == (3, 5, 6, 8)
    # a Brazilian marketplace's slow deliveries: the buckets end past its median, not at 5 days
    slow = pd.Series([6.0, 8.0, 9.0, 10.0, 11.0, 12.0, 14.0, 16.0, 21.0, 30.0])
    edges = supply.delivery_bucket_edges(slow)
    assert edges == (9, 11, 13, 17) and edges[-1] > slow.median()
    assert supply.delivery_bucket_edges(pd.Series([2.0, 3.0]), quantiles=(0.5,)) == (
        3,
    )  # halves up
    # edges under 1 day go, repeats merge
    assert supply.delivery_bucket_edges(pd.Series([0.2, 0.2, 0.2, 0.2, 3.0])) == (1,)
    assert supply.delivery_bucket_edges(pd.Series([], dtype="float64")) == (2, 3, 4, 5)


def test_delivery_bucket_labels():
    assert supply.delivery_bucket_labels((3, 5, 6, 8)) == (
        "< 3 days",
        "3–5 days",
        "5–6 days",
        "6–8 days",
        "≥ 8 days",
    )
    assert supply.delivery_bucket_labels((1,)) == ("< 1 day", "≥ 1 day")
    assert supply.DELIVERY_BUCKETS == ("< 2 days", "2–3 days", "3–4 days", "4–5 days", "≥ 5 days")


def test_delivery_experience_buckets_from_the_data():
    delivered = pd.DataFrame(
        {
            "days_to_door": [float(day) for day in range(1, 11)],
            "rating": [5.0, 5.0, 4.0, math.nan, 4.0, 3.0, 3.0, 2.0, 2.0, 1.0],
            "observed": [True] * 9 + [False],
            "repurchased": [True, False, True, True, False, False, False, False, True, True],
        }
    )
    table = supply.delivery_experience(delivered)  # edges (3, 5, 6, 8), as above
    assert table["delivery"].tolist() == [
        "< 3 days",
        "3–5 days",
        "5–6 days",
        "6–8 days",
        "≥ 8 days",
    ]
    # a delivery of exactly 3 days opens the 3–5 bucket
    assert table["orders"].tolist() == [2, 2, 1, 2, 3]
    assert table["days_from"].tolist()[1:] == [3, 5, 6, 8] and math.isnan(table["days_from"][0])
    assert table["days_to"].tolist()[:-1] == [3, 5, 6, 8] and math.isnan(table["days_to"][4])
    assert table["reviewed_orders"].tolist() == [2, 1, 1, 2, 3]
    assert table["mean_rating"].tolist() == pytest.approx([5.0, 4.0, 4.0, 3.0, 5 / 3])
    # ≥ 8 days: 8 (no), 9 (yes) observed; 10 not observed
    assert table["observed_orders"].tolist() == [2, 2, 1, 2, 2]
    assert table["repurchase_rate"].tolist() == pytest.approx([0.5, 1.0, 0.0, 0.0, 0.5])


def test_delivery_times_and_where_the_slow_threshold_falls():
    delivered = pd.DataFrame({"days_to_door": [1.0, 2.0, 4.0, 5.0]})
    times = supply.delivery_times(delivered, slow_delivery_days=3)
    assert times.iloc[0].to_dict() == pytest.approx(
        {
            "orders": 4,
            "days_to_door_p50": 3.0,
            "days_to_door_p90": 4.7,
            "slow_orders": 2,
            "slow_share": 0.5,
        }
    )
    assert supply.delivery_times_note(times, 3) == (
        "Payment to door: median 3.0 days, 90th percentile 4.7 days over 4 delivered orders (the "
        "buckets below are this period's quintiles); the slow threshold of 3+ days counts 50% of "
        "them as slow."
    )
    # a threshold every order reaches: the note points to the median instead
    every = supply.delivery_times(delivered, slow_delivery_days=1)
    assert every["slow_share"].iloc[0] == 1.0
    assert supply.delivery_times_note(every, 1).endswith(
        "counts 100% of them as slow: nearly every order is on one side of it, so set "
        "slow_delivery_days near the median (3 days) for a comparison that says something."
    )
    none = supply.delivery_times(delivered.iloc[0:0], 3)
    assert "cannot be described" in supply.delivery_times_note(none, 3)


def test_ship_sla_note_sets_the_target_beside_the_shops_own_times():
    # all four: 48 h, 48 h 1 s, 12 h and 49 h; payment days 03-10 (p90 above 48 h), 03-11 (49 h)
    # and 03-12 (no order)
    carriers = supply.fulfilment(SHIP_ORDERS, SHIPMENTS, SHIP_PERIOD, 48)
    daily = supply.fulfilment_daily(SHIP_ORDERS, SHIPMENTS, SHIP_PERIOD, 48)
    assert supply.ship_sla_note(carriers, daily, 48) == (
        "50% of shipped orders left within the 48 h target; the shop's own median is 48 h and "
        "90th percentile 49 h, and 2 of 2 payment days had a 90th percentile above the target."
    )
    carriers = supply.fulfilment(SHIP_ORDERS, SHIPMENTS, SHIP_PERIOD, 24)
    daily = supply.fulfilment_daily(SHIP_ORDERS, SHIPMENTS, SHIP_PERIOD, 24)
    text = supply.ship_sla_note(carriers, daily, 24)
    assert text.startswith("25% of shipped orders left within the 24 h target")
    assert text.endswith(
        "Most orders miss 24 h: unless that is the promise made to buyers, set ship_sla_hours to "
        "it (the 90th percentile, 49 h, is what this shop achieves for nine orders in ten); the "
        "on-time rates and the backlog are measured against 24 h."
    )
