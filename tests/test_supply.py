"""The supply-chain package (lib/supply/): the notes on missing tables, and the names it
re-exports from its modules.
"""

from __future__ import annotations

import ast
import importlib
import inspect

from lib import supply

from .supply_shop import (
    EVENTS,
    INVENTORY,
    PURCHASE_ORDERS,
    SHIPMENTS,
)


def test_notes_name_the_missing_tables():
    notes = supply.supply_notes(None, PURCHASE_ORDERS, None, None)
    assert set(notes) == {"inventory", "shipments", "events"}
    assert "inventory" in notes["inventory"] and "on_hand" in notes["inventory"]
    assert supply.supply_notes(INVENTORY, PURCHASE_ORDERS, SHIPMENTS, EVENTS) == {}


def test_the_package_re_exports_every_public_name_of_its_modules():
    # notebooks call ``supply.<name>`` for every metric, whichever module now defines it
    for part in ("inventory", "stockouts", "forecast", "fulfilment", "suppliers"):
        # import_module: ``lib.supply.fulfilment`` as an attribute is the function of that name
        module = importlib.import_module(f"lib.supply.{part}")
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
