"""The supplier scorecard (lib/supply/suppliers.py) on the purchase orders of
tests/supply_shop.py."""

from __future__ import annotations

import pytest

from lib import supply

from .supply_shop import (
    PERIOD,
    PURCHASE_ORDERS,
)


def test_supplier_scorecard():
    table = supply.supplier_scorecard(PURCHASE_ORDERS, PERIOD).set_index("supplier")
    assert table.index.tolist() == ["Acme", "Bolt"]
    # Acme, promised in the period: P2 (on time in full, 9 days), P3 (a day late, 10 days)
    assert table.loc["Acme", "purchase_orders"] == 2
    assert table.loc["Acme", "otif_rate"] == pytest.approx(0.5)
    assert table.loc["Acme", "fill_rate"] == pytest.approx(1.0)
    assert table.loc["Acme", "lead_time_days_p50"] == pytest.approx(9.5)
    assert table.loc["Acme", "lead_time_days_p90"] == pytest.approx(9.9)
    # Bolt: P4 (on time, 6 of 10: short), P5 (not received); P6 is promised after the period
    assert table.loc["Bolt", "purchase_orders"] == 2
    assert table.loc["Bolt", "otif_rate"] == 0.0
    assert table.loc["Bolt", "fill_rate"] == pytest.approx(6 / 15)
    assert table.loc["Bolt", "lead_time_days_p50"] == pytest.approx(7.0)
