"""lib/parameters.py, the one declaration of the notebooks' parameters: the notebooks' cells are
written from it, its defaults lie inside its own bounds, the lib functions' defaults and the domain
constants agree with it, and ``-p`` text converts and checks through it alone."""

from __future__ import annotations

import dataclasses
import inspect
import math
import re
from pathlib import Path

import nbformat
import pytest

from lib import (
    costs,
    executive,
    funnel,
    overview,
    parameters,
    products,
    repurchase,
    retention,
    segments,
    slots,
    supply,
)
from lib.parameters import Bounds, Param

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOK_FILES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def _cell(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    [cell] = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    return cell.source


def test_the_catalogue_names_every_notebook_of_the_folder_and_no_other() -> None:
    names = [path.stem.split("_", 1)[1] for path in NOTEBOOK_FILES]
    assert names == list(parameters.NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_each_parameters_cell_is_the_one_written_from_the_declarations(path: Path) -> None:
    name = path.stem.split("_", 1)[1]
    assert _cell(path) == parameters.parameters_cell(name), (
        f"run `python -m lib.parameters --write` after changing lib/parameters.py ({path.name})"
    )


def test_every_notebook_parameter_is_declared_once_and_the_runners_come_first() -> None:
    for spec in parameters.NOTEBOOKS.values():
        assert len(set(spec.parameters)) == len(spec.parameters), spec.name
        assert set(spec.parameters) <= set(parameters.PARAMETERS), spec.name
        assert set(parameters.RUN_PARAMETERS) <= set(spec.parameters[:6])
    used = {name for spec in parameters.NOTEBOOKS.values() for name in spec.parameters}
    assert used == set(parameters.PARAMETERS), "declared but in no notebook"
    # as many as the runner's range table (_NUMBER_RANGES) had before it moved here, and the
    # executive summary's two, the magic number's and the products' minimum counts (issue 15),
    # and the monitoring's four and the risk rules' eight (issue 17), and the after-sales
    # window and refund SLA (issue 21), and the time-to-convert bins, the drivers' support and
    # false discovery rate, the path's steps and the session timeout (issue 18), and the
    # baskets' three, the cross-sell window and lifetime value's three (issue 19), and the
    # campaigns' dip, the A/B tests' four, the prices' three and the attribution's two (issue 20)
    bounded = [p for p in parameters.PARAMETERS.values() if p.bounds is not None]
    assert len(bounded) == 85


@pytest.mark.parametrize("param", parameters.PARAMETERS.values(), ids=lambda p: p.name)
def test_every_default_lies_inside_its_own_declaration(param: Param) -> None:
    assert parameters.problem(param, param.default) is None
    assert param.default is None or isinstance(param.default, param.type)
    assert param.default is not None or param.none
    if param.keys is not None:
        assert tuple(param.default) == param.keys


def test_the_default_orders_hold() -> None:
    defaults = {name: p.default for name, p in parameters.PARAMETERS.items()}
    assert parameters.order_problem(defaults, defaults) is None
    for chain in parameters.ORDERS:
        values = [defaults[name] for name in chain]
        assert values == sorted(values), chain


# the lib functions' keyword defaults that are a notebook parameter's default
LIB_DEFAULTS = [
    (funnel.funnel_table, "window_days", "conversion_window_days"),
    (funnel.item_conversion, "window_days", "conversion_window_days"),
    (funnel.dropoff_users, "window_days", "conversion_window_days"),
    (funnel.daily_conversion, "band_days", "band_days"),
    (funnel.daily_conversion, "k", "band_k"),
    (funnel.item_conversion, "min_viewers", "min_viewers"),
    (funnel.item_conversion, "worst_n", "worst_n"),
    (retention.cohort_retention, "max_day", "max_day"),
    (retention.cohort_retention, "granularity", "cohort_granularity"),
    (retention.early_behaviour_by_user, "k_days", "magic_k_days"),
    (retention.early_behaviour_by_user, "retention_day", "magic_retention_day"),
    (retention.magic_number, "min_users", "magic_min_users"),
    (retention.retention_phases, "volatile_below", "phase_volatile_below"),
    (retention.retention_phases, "stable_below", "phase_stable_below"),
    (repurchase.buyer_cohorts, "months", "buyer_cohort_months"),
    (segments.lifecycle, "window_days", "lifecycle_days"),
    (segments.activity_segments, "window_days", "activity_window_days"),
    (segments.activity_segments, "highly_active_days", "highly_active_days"),
    (segments.activity_segments, "churn_days", "churn_days"),
    (segments.rfm_scores, "lookback_days", "rfm_lookback_days"),
    (segments.category_propensity, "half_life_days", "propensity_half_life_days"),
    (slots.slot_performance, "attribution_hours", "attribution_hours"),
    (costs.cost_ledger, "commission_rate", "commission_rate"),
    (costs.cost_ledger, "business_model", "business_model"),
    (costs.shop_revenue, "business_model", "business_model"),
    (costs.shop_revenue, "commission_rate", "commission_rate"),
    (costs.cost_growth, "top_n", "top_growing"),
    (overview.indicator_summary, "compare_to", "compare_to"),
    (executive.significant_changes, "min_change", "summary_min_change"),
    (executive.significant_changes, "max_items", "summary_items"),
    (executive.executive_summary, "min_change", "summary_min_change"),
    (executive.executive_summary, "max_items", "summary_items"),
    (products.low_rated_skus, "max_average", "low_rating_max"),
    (products.with_quadrants, "min_viewers", "quadrant_min_viewers"),
    (products.quadrant_splits, "min_viewers", "quadrant_min_viewers"),
    (products.product_roles, "min_buyers", "role_min_buyers"),
    (products.low_rated_skus, "min_reviews", "min_reviews"),
    (products.rating_repurchase, "window_days", "repurchase_window_days"),
    (supply.inventory_health, "velocity_days", "velocity_days"),
    (supply.inventory_health, "dead_stock_days", "dead_stock_days"),
    (supply.inventory_health, "low_stock_days", "low_stock_days"),
    (supply.inventory_health, "overstock_days", "overstock_days"),
    (supply.stock_status, "low_stock_days", "low_stock_days"),
    (supply.stock_status, "overstock_days", "overstock_days"),
    (supply.inventory_holding_cost, "holding_rate", "holding_rate"),
    (supply.forecast_demand, "horizon_days", "horizon_days"),
    (supply.forecast_demand, "interval", "forecast_interval"),
    (supply.backtest_forecast, "weeks", "backtest_weeks"),
    (supply.reorder_points, "velocity_days", "velocity_days"),
    (supply.reorder_points, "service_level", "service_level"),
    (supply.reorder_points, "default_lead_time_days", "default_lead_time_days"),
    (supply.fulfilment, "ship_sla_hours", "ship_sla_hours"),
    (supply.delivery_effect, "slow_delivery_days", "slow_delivery_days"),
    (supply.delivered_orders, "repurchase_days", "repurchase_days"),
    (supply.calendar_days, "country", "country"),
]


@pytest.mark.parametrize(
    ("function", "argument", "name"),
    LIB_DEFAULTS,
    ids=[f"{f.__module__}.{f.__name__}-{a}" for f, a, _ in LIB_DEFAULTS],
)
def test_lib_function_defaults_are_the_declared_ones(function, argument: str, name: str) -> None:
    found = inspect.signature(function).parameters[argument].default
    assert found == parameters.default(name)


def test_lib_constants_are_the_declared_ones() -> None:
    assert parameters.choices("cohort_granularity") == retention.GRANULARITIES
    assert tuple(products.PERFORMANCE_COLUMNS) == parameters.choices("exposure_measure")
    assert parameters.keys("target_mix") == products.QUADRANTS
    assert parameters.default("target_mix") == products.DEFAULT_TARGET_MIX
    assert dataclasses.asdict(products.RoleRule()) == parameters.default("role_rule")
    assert [f.name for f in dataclasses.fields(products.RoleRule)] == list(
        parameters.keys("role_rule")
    )
    pareto = inspect.signature(products.sku_pareto).parameters
    assert [pareto["a_share"].default, pareto["b_share"].default] == parameters.default(
        "abc_shares"
    )
    assert parameters.bounds("buyer_cohort_months").high == repurchase.MAX_COHORT_MONTHS
    assert parameters.default("velocity_days") == supply.VELOCITY_DAYS
    assert parameters.default("conversion_window_days") == funnel.DEFAULT_WINDOW_DAYS
    assert parameters.default("commission_rate") == costs.DEFAULT_COMMISSION_RATE
    assert {retention.ACTIVE_DAYS, retention.PURCHASES} <= set(
        re.findall(r'"(\w+)"', parameters.PARAMETERS["magic_behaviour"].help)
    )


def test_lib_parameters_imports_no_domain_module() -> None:
    source = Path(parameters.__file__).read_text()
    assert not re.search(r"^\s*(from lib\b|import lib\b)", source, re.MULTILINE)


# ------------------------------------------------------------------ -p text to values


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("top_n", " 12 ", 12),
        ("band_k", "2", 2.0),
        ("band_k", "1e-3", 0.001),
        ("dedupe_events", "yes", True),
        ("dedupe_events", "OFF", False),
        ("commission_rate", "None", None),
        ("commission_rate", "null", None),
        ("exposure_split", "5000", 5000.0),
        ("start_event", "NULL", None),
        ("start_event", "purchase", "purchase"),
        ("breakdown", "None", "None"),  # None is not a value of breakdown: the text
        ("funnel_steps", '["view_item", "purchase"]', ["view_item", "purchase"]),
        ("target_mix", '{"star": 1}', {"star": 1}),
        ("dropoff_step", "__import__('os')", "__import__('os')"),  # text, never code
    ],
)
def test_convert_follows_the_declared_type_and_none_flag(
    name: str, raw: str, expected: object
) -> None:
    value = parameters.convert(raw, parameters.PARAMETERS[name])
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("top_n", "1.5", "expected an integer"),
        ("top_n", "None", "expected an integer"),  # top_n does not take None
        ("band_k", "nan", "expected a number"),
        ("band_k", "inf", "expected a number"),
        ("commission_rate", "abc", "expected a number or None"),
        ("dedupe_events", "maybe", "expected true or false"),
        ("funnel_steps", "['a']", "expected a JSON list"),
        ("target_mix", "[1]", "expected a JSON object"),
    ],
)
def test_convert_refuses_text_of_another_type(name: str, raw: str, expected: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        parameters.convert(raw, parameters.PARAMETERS[name])


def test_an_undeclared_parameter_is_typed_by_its_default_alone() -> None:
    assert parameters.from_default("x", 3).type is int
    assert parameters.from_default("x", True).type is bool
    assert parameters.from_default("x", ("a",)).type is list
    untyped = parameters.from_default("x", None)
    assert untyped.none and parameters.convert("[1]", untyped) == "[1]"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("attribution_hours", 0, "expected an integer from 1 to 87840"),
        ("conversion_split", 2.5, "expected a number above 0 and at most 1 or None"),
        ("service_level", 1.0, "expected a number above 0 and below 1"),
        ("top_n", 0, "expected an integer of at least 1"),
        ("cohort_granularity", "month", "expected one of day, week"),
        ("funnel_steps", ["a"], "expected [] (the default funnel) or a list of two or more"),
        ("secondary_paths", [["a"]], "expected [] (the default paths) or a list of lists"),
        ("compare_segments", ["a"], "expected [] (the two largest segments) or a list of two"),
        (
            "abc_shares",
            [0.95, 0.8],
            "expected a JSON list of 2 numbers above 0 and at most 1, each at most the next",
        ),
        ("target_mix", {"stars": 0.5}, "under the keys star, traffic driver"),
        ("top_n", None, "expected an integer"),
    ],
)
def test_problem_names_what_the_parameter_takes(name: str, value: object, expected: str) -> None:
    found = parameters.problem(parameters.PARAMETERS[name], value)
    assert found is not None and found.startswith("expected ") and expected in found


@pytest.mark.parametrize(
    ("name", "value", "argument", "message"),
    [
        ("conversion_window_days", 0, "window_days", "window_days=0 must be from 1 to 3660"),
        ("conversion_window_days", math.nan, None, "conversion_window_days=nan must be from 1"),
        ("band_k", -3, "k", "k=-3 must be above 0"),
        ("buyer_cohort_months", 121, "months", "months=121 must be from 1 to 120"),
        ("cohort_granularity", "month", "granularity", "granularity='month' must be one of day"),
        ("target_mix", {"star": 1.5}, None, "target_mix['star']=1.5 must be from 0 to 1"),
        ("target_mix", {"stars": 0.5}, None, "target_mix has unknown key(s) 'stars'; known: star"),
        ("commission_rate", 1.7, None, "commission_rate=1.7 must be from 0 to 1"),
    ],
)
def test_check_names_the_lib_argument_and_the_runners_bound(
    name: str, value: object, argument: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        parameters.check(name, value, argument)


def test_check_accepts_the_bounds_and_none_where_declared() -> None:
    parameters.check("conversion_window_days", 3660)
    parameters.check("service_level", 0.999)
    parameters.check("commission_rate", None)
    parameters.check("target_mix", {"star": 1})
    with pytest.raises(ValueError, match="top_n=None"):
        parameters.check("top_n", None)


def test_bounds_text_reads_as_the_runner_prints_it() -> None:
    assert str(Bounds(1, 5)) == "from 1 to 5"
    assert str(Bounds(1)) == "of at least 1"
    assert str(Bounds(0, open_low=True)) == "above 0"
    assert str(Bounds(0, 1, open_low=True)) == "above 0 and at most 1"
    assert str(Bounds(0, 1, open_low=True, open_high=True)) == "above 0 and below 1"
    assert not Bounds(0, 1).admits(True) and not Bounds(0, 1).admits(math.nan)


def test_the_writer_rewrites_only_the_parameters_cell(tmp_path: Path) -> None:
    path = tmp_path / NOTEBOOK_FILES[1].name
    original = NOTEBOOK_FILES[1].read_text(encoding="utf-8")
    path.write_text(original.replace("attribution_hours = 24", "attribution_hours = 12"))
    assert parameters.write_cells(tmp_path) == [path]
    assert path.read_text(encoding="utf-8") == original
    assert parameters.write_cells(tmp_path) == []  # nothing to do the second time
