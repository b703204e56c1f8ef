"""Sentences that state a direction, a ranking or a verdict are computed from the run's tables:
each helper is checked on a hand-made table and on the same table with the relationship
reversed, so no sentence can only be right for the sample shop."""

from __future__ import annotations

import pandas as pd
import pytest

from lib import retention, segments, traffic

# --------------------------------------------------------------------------------------------
# Activity segments: which group brings more GMV


def _activity(high_gmv: float, low_gmv: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment": ["highly_active", "low_activity", "silent", "churned"],
            "users": [100, 1000, 50, 20],
            "buyers_in_period": [60, 80, 1, 0],
            "gmv_in_period": [high_gmv, low_gmv, 10.0, 0.0],
            "gmv_to_date": [30000.0, 28000.0, 500.0, 100.0],
            "gmv_to_date_per_user": [300.0, 28.0, 10.0, 5.0],
        }
    )


def test_activity_value_note_follows_the_totals():
    low_more = segments.activity_value_note(_activity(20000.0, 25000.0))
    assert "low-activity users brought more GMV in total (25,000 against 20,000" in low_more
    assert low_more.endswith("worth as much as keeping the highly active.")
    high_more = segments.activity_value_note(_activity(25000.0, 20000.0))
    assert "highly active users brought more GMV in total (25,000 against 20,000" in high_more
    assert high_more.endswith("keeping the highly active comes first.")
    assert "Per user, the highly active are worth 300 to date against 28" in high_more


def test_activity_value_note_says_nothing_without_value():
    sizes = pd.DataFrame({"segment": ["highly_active", "low_activity"], "users": [1, 2]})
    assert segments.activity_value_note(sizes) == ""


# --------------------------------------------------------------------------------------------
# Lifecycle: did the active base grow?


def _lifecycle(new: int, resurrected: int, dormant: int) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "window_start": pd.to_datetime(["2025-03-01", "2025-03-08"]),
            "window_end": pd.to_datetime(["2025-03-07", "2025-03-14"]),
            "new": [10, new],
            "returning": [5, 5],
            "resurrected": [2, resurrected],
            "dormant": [4, dormant],
        }
    )
    table["quick_ratio"] = (table["new"] + table["resurrected"]) / table["dormant"]
    return table


def test_lifecycle_note_reads_the_last_window_both_ways():
    grew = segments.lifecycle_note(_lifecycle(6, 2, 4))
    assert "quick ratio was 2.00: 8 new and resurrected users against 4 dormant" in grew
    assert "so the active base grew; it grew in 2 of 2 windows." in grew
    shrank = segments.lifecycle_note(_lifecycle(1, 1, 8))
    assert (
        "quick ratio was 0.25" in shrank and "the active base shrank; it grew in 1 of 2" in shrank
    )


# --------------------------------------------------------------------------------------------
# The magic number: only above the noise, with enough users on each side


def _by_count(retained: list[int], users: list[int]) -> pd.DataFrame:
    table = pd.DataFrame(
        {"behaviour_count": range(1, len(users) + 1), "users": users, "retained_users": retained}
    )
    table["retention_rate"] = table["retained_users"] / table["users"]
    return table


def test_magic_number_needs_a_significant_split_with_enough_users():
    # 1: 10 of 100 retained; 2: 60 of 100. Above 2: 60 % against 10 %, p far below 0.05
    clear = _by_count([10, 60], [100, 100])
    best = retention.magic_number(clear, min_users=30)
    assert best["threshold"].tolist() == [2]
    assert best["users_below"].tolist() == [100]
    note = retention.magic_number_note(best, "active_days", 7, 30)
    assert note.startswith("Users with 2 or more active days in their first 7 days: 60% retained")
    assert "against 10% of the others (lift 6.0; 100 and 100 users; p < 0.001)" in note
    # the same split on 20 users each side: too few for the minimum
    assert retention.magic_number(_by_count([2, 12], [20, 20]), min_users=30).empty
    # enough users but no difference beyond the noise: 30 % against 32 %
    flat = retention.magic_number(_by_count([30, 32], [100, 100]), min_users=30)
    assert flat.empty
    assert retention.magic_number_note(flat, "purchases", 7, 30).startswith(
        "No count of purchases in the first 7 days separates"
    )


def test_magic_number_thresholds_test_above_against_below():
    table = retention.magic_number_thresholds(_by_count([10, 60], [100, 100]))
    # chi-square of [[60, 40], [10, 90]]: 55.6 on 1 df
    assert table["p_value"].iloc[0] == pytest.approx(8.9e-14, rel=0.05)


# --------------------------------------------------------------------------------------------
# RFM: one order says nothing about loyalty


def test_a_one_order_buyer_is_named_by_recency_alone():
    assert segments.rfm_segment(5, 4, frequency=2) == "champions"
    assert segments.rfm_segment(5, 4, frequency=1) == "new_customers"
    assert segments.rfm_segment(4, 3, frequency=1) == "promising"
    assert segments.rfm_segment(4, 3, frequency=3) == "potential_loyalists"
    assert segments.rfm_segment(3, 5, frequency=1) == "about_to_sleep"
    assert segments.rfm_segment(1, 5, frequency=1) == "hibernating"


# --------------------------------------------------------------------------------------------
# When people shop: busiest hours, or a day that is nearly even


def _activity_grid(peak: float) -> pd.DataFrame:
    rows = [
        {"weekday": d, "hour": h, "avg_events": 100.0 * (peak if h == 21 else 1.0) * (1 + d / 10)}
        for d in range(7)
        for h in range(24)
    ]
    return pd.DataFrame(rows)


def test_busiest_hours_note_names_a_real_peak_and_not_a_flat_day():
    peaked = traffic.busiest_hours_note(_activity_grid(3.0))
    # hour 21 holds 3 of 26 units, the average hour 26 / 24: 3 / (26 / 24) - 1 = +177 %
    assert peaked.startswith("The busiest local hours are 21:00 (+177%)")
    assert "The busiest weekday is Sun (+" in peaked
    flat = traffic.busiest_hours_note(_activity_grid(1.1))
    assert flat.startswith("Activity is nearly even across the day: the busiest hour, 21:00 (+10%)")
