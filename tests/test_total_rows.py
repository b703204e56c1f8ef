"""A key named like a total row ("all", "total") stays a row of its own: the total row is the
one whose ``is_total`` is true, never the one found by its label (issue 16)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from lib import costs, plots, supply

from .supply_shop import SHIP_ORDERS, SHIP_PERIOD, SHIPMENTS
from .test_supply_forecast import X, Y, series


def test_a_key_called_all_keeps_its_own_backtest_row_and_the_verdict_reads_the_pool():
    named = supply.backtest_forecast(series(all=X, y=Y), weeks=1, level_days=14)
    plain = supply.backtest_forecast(series(x=X, y=Y), weeks=1, level_days=14)
    assert named["key"].tolist() == ["all", "y", "all"]
    assert named["is_total"].tolist() == [False, False, True]
    # the key's row is x's, the pooled row the same as with x: nothing merged
    columns = [c for c in supply.BACKTEST_COLUMNS if c != "key"]
    pd.testing.assert_frame_equal(named[columns], plain[columns])
    verdict = supply.backtest_verdict(named, "the test keys")
    # the same words as with x, the key named as it is
    assert verdict == supply.backtest_verdict(plain, "the test keys").replace("(x)", "(all)")
    assert supply.forecast_labels(named) == {
        "all": "all · WAPE 0% (use)",
        "y": "y · WAPE 40% (naive better)",
    }


def test_a_carrier_called_all_is_a_carrier_and_the_note_reads_the_total():
    renamed = SHIPMENTS.mutate(carrier=(SHIPMENTS.carrier == "SF").ifelse("all", SHIPMENTS.carrier))
    table = supply.fulfilment(SHIP_ORDERS, renamed, SHIP_PERIOD, ship_sla_hours=48)
    assert table["carrier"].tolist() == ["ZTO", "all", "all"]
    assert table["is_total"].tolist() == [False, False, True]
    assert table["orders"].tolist() == [2, 2, 4]  # SF's two orders, then all four
    daily = supply.fulfilment_daily(SHIP_ORDERS, renamed, SHIP_PERIOD, 48)
    note = supply.ship_sla_note(table, daily, 48)
    # 2 of the 4 shipped orders within 48 h (the total row), not SF's 1 of 2
    assert note.startswith("50% of shipped orders left within the 48 h target")
    plain = supply.fulfilment(SHIP_ORDERS, SHIPMENTS, SHIP_PERIOD, ship_sla_hours=48)
    assert note == supply.ship_sla_note(plain, daily, 48)
    # the chart draws the carrier as a point and the total as the reference lines
    fig = plots.labelled_scatter(
        table, "ship_hours_p50", "shipping_cost_per_order", "carrier", "Carriers", "h", "cost",
        reference=supply.ALL,
    )  # fmt: skip
    ax = fig.axes[0]
    assert len(ax.collections[0].get_offsets()) == 2  # ZTO and the carrier called "all"
    [line] = [line for line in ax.get_lines() if line.get_label() == "all carriers"]
    total = table[table["is_total"]].iloc[0]
    assert line.get_xdata()[0] == pytest.approx(total["ship_hours_p50"])
    plt.close(fig)


def test_a_cost_component_called_total_is_not_the_months_total():
    breakdown = pd.DataFrame(
        {
            "month": pd.to_datetime(["2025-03-01"] * 2),
            "component": ["operating", "total"],
            "item": ["rent", "fees"],
            "amount": [30.0, 10.0],
        }
    )
    totals = costs.component_totals(breakdown)
    assert totals["component"].tolist() == ["operating", "total", "total"]
    assert totals["is_total"].tolist() == [False, False, True]
    assert totals["amount"].tolist() == [30.0, 10.0, 40.0]
    assert totals["share"].tolist() == [0.75, 0.25, 1.0]
