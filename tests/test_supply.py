"""The supply-chain package (lib/supply/): the names it re-exports from its modules."""

from __future__ import annotations

import ast
import importlib
import inspect
import re

import pandas as pd
import pytest

from lib import supply

EMPTY_DAILY = pd.DataFrame({"key": [], "date": [], "units": []})


def test_the_package_re_exports_every_public_name_of_its_modules():
    # notebooks call ``supply.<name>`` for every metric, whichever module now defines it
    parts = ("inventory", "stockouts", "forecast", "fulfilment", "suppliers")
    for name in [f"lib.supply.{part}" for part in parts] + ["lib.shop_calendar"]:
        # import_module: ``lib.supply.fulfilment`` as an attribute is the function of that name
        module = importlib.import_module(name)
        defined = [
            node.name if isinstance(node, ast.FunctionDef) else node.targets[0].id
            for node in ast.parse(inspect.getsource(module)).body
            if isinstance(node, ast.FunctionDef | ast.Assign)
        ]
        public = [name for name in defined if not name.startswith("_")]
        assert public, module.__name__
        for name in public:
            assert getattr(supply, name) is getattr(module, name), f"supply.{name}"
            assert name in supply.__all__, name
    assert callable(supply.fulfilment) and supply.fulfilment.__name__ == "fulfilment"
    assert supply.ALL == "all"


@pytest.mark.parametrize(
    ("call", "refusal"),
    [
        (lambda: supply.forecast_demand(EMPTY_DAILY, horizon_days=0), "horizon_days=0 must be"),
        (lambda: supply.forecast_demand(EMPTY_DAILY, interval=1.0), "interval=1.0 must be"),
        (lambda: supply.backtest_forecast(EMPTY_DAILY, weeks=0), "weeks=0 must be"),
        (lambda: supply.backtest_forecast(EMPTY_DAILY, interval=0), "interval=0 must be"),
        (lambda: supply.delivery_times(None, slow_delivery_days=0), "slow_delivery_days=0"),
        (lambda: supply.calendar_days(None, None, country=None), "country=None"),
        (lambda: supply.fulfilment(None, None, None, ship_sla_hours=0), "ship_sla_hours=0"),
        (lambda: supply.delivery_effect(None, slow_delivery_days=0), "slow_delivery_days=0"),
        (
            lambda: supply.delivered_orders(None, None, None, None, repurchase_days=0),
            "repurchase_days=0",
        ),
        (
            lambda: supply.inventory_holding_cost(None, None, None, None, None, holding_rate=1.5),
            "holding_rate=1.5 must be from 0 to 1",
        ),
        (
            lambda: supply.reorder_points(None, None, None, None, None, service_level=1),
            "service_level=1 must be above 0 and below 1",
        ),
    ],
)
def test_supply_arguments_are_checked_against_their_declarations(call, refusal):
    # the bounds are those of lib/parameters.py, checked before any table is read
    with pytest.raises(ValueError, match=re.escape(refusal)):
        call()
