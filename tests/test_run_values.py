"""``-p`` values: converted as data (never code) by the declared type, and checked against the
declared bounds, choices and orders and against the source, on the project's notebooks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lib import parameters, run
from lib.parameters import Param
from lib.run import (
    Parameter,
    UsageError,
    convert_value,
)
from tests.runner_support import (
    REAL_NOTEBOOKS,
    dry_run_real,
    source_without,
)

pytest_plugins = ("tests.runner_fixtures",)


@pytest.mark.parametrize(
    ("default", "raw", "expected"),
    [
        ("3", "12", 12),
        ("1.5", "2", 2.0),
        ("False", "yes", True),
        ("True", "0", False),
        ('["a"]', '["x", "y"]', ["x", "y"]),
        ('{"a": 1}', '{"b": 2}', {"b": 2}),
        ('"text"', "2024-01-01'; DROP", "2024-01-01'; DROP"),
        ('"text"', "__import__('os').system('echo hi')", "__import__('os').system('echo hi')"),
        ("None", "[1, 2]", "[1, 2]"),  # no type to follow: the text as given
    ],
)
def test_parameter_values_are_data_not_code(default: str, raw: str, expected: object) -> None:
    assert convert_value(raw, Parameter("x", default)) == expected


@pytest.mark.parametrize(
    ("default", "raw"),
    [
        ("3", "1.5"),
        ("3", "__import__('os')"),
        ("1.5", "nan"),
        ("False", "maybe"),
        ('["a"]', "['a']"),
        ('["a"]', '{"a": 1}'),
    ],
)
def test_parameter_values_of_the_wrong_type_are_refused(default: str, raw: str) -> None:
    with pytest.raises(UsageError, match=r"-p x"):
        convert_value(raw, Parameter("x", default))


# ------------------------------------------------------------------ -p values the notebooks accept


def test_every_checked_parameter_is_a_parameter_of_the_notebooks() -> None:
    declared = {p for nb in run.discover_notebooks(REAL_NOTEBOOKS) for p in nb.own_parameters}
    checked = {
        p.name
        for p in parameters.PARAMETERS.values()
        if p.event or p.bounds or p.choices or p.keys or p.sizes
    }
    checked |= {"breakdown", *(name for chain in parameters.ORDERS for name in chain)}
    assert {"cohort_granularity", "exposure_measure", "start_event", "band_k"} <= checked
    assert checked <= declared, checked - declared


@pytest.mark.parametrize(
    ("argv", "culprits"),
    [
        (["-p", "cohort_granularity", "month"], ["-p cohort_granularity 'month'", "day, week"]),
        (["-p", "exposure_measure", "views"], ["exposure_measure", "impressions, clicks"]),
        (["-p", "breakdown", "chanel"], ["-p breakdown", "did you mean 'channel'?", "platform"]),
        (["-p", "breakdown", "category", "--notebooks", "conversion"], []),  # checked: ok
        (
            ["-p", "funnel_steps", '["view_item", "add_to_chart"]'],
            ["-p funnel_steps", "'add_to_chart'", "did you mean 'add_to_cart'?", "page_view"],
        ),
        (["-p", "funnel_steps", '["view_item"]'], ["funnel_steps", "two or more"]),
        (["-p", "secondary_paths", '[["view_item"]]'], ["secondary_paths", "two or more"]),
        (
            ["-p", "secondary_paths", '[["view_item", "purchas"]]'],
            ["secondary_paths", "did you mean 'purchase'?"],
        ),
        (["-p", "dropoff_step", "add_to_chart"], ["dropoff_step", "did you mean 'add_to_cart'?"]),
        (["-p", "start_event", "purchse"], ["start_event", "did you mean 'purchase'?"]),
        (["-p", "return_event", "login"], ["return_event", "'login'", "view_item"]),
        (["-p", "magic_behaviour", "foo"], ["magic_behaviour", "active_days, purchases or one"]),
        (["-p", "compare_segments", '["search"]'], ["compare_segments", "two segment names"]),
        (["-p", "commission_rate", "abc"], ["commission_rate", "a number or None"]),
        (["-p", "exposure_split", "lots"], ["exposure_split", "a number or None"]),
    ],
)
def test_parameter_values_outside_what_the_notebooks_accept_are_refused(
    argv: list[str], culprits: list[str], outputs: Path
) -> None:
    code, out, err = dry_run_real(argv)
    if not culprits:
        assert code == 0, err
        return
    assert code == 2, err
    assert err.startswith("error: -p ") and err.count("\n") == 1, err
    for culprit in culprits:
        assert culprit in err
    assert out == "" and not outputs.exists()


def test_none_and_numbers_reach_the_notebooks_as_such(outputs: Path) -> None:
    code, out, err = dry_run_real(
        ["-p", "commission_rate", "None", "-p", "start_event", "null", "-p", "return_event",
         "purchase", "-p", "exposure_split", "5000", "-p", "conversion_split", "none",
         "-p", "magic_behaviour", "purchases", "-p", "funnel_steps", '["view_item", "purchase"]',
         "-p", "cohort_granularity", "week"]
    )  # fmt: skip
    assert code == 0, err
    shown = {
        line.split(": ", 1)[0]: json.loads(line.split(": ", 1)[1]) for line in out.split("\n")[:-1]
    }
    assert shown["costs"]["commission_rate"] is None
    assert shown["retention"]["start_event"] is None
    assert shown["retention"]["return_event"] == "purchase"
    assert shown["products"]["exposure_split"] == 5000.0
    assert shown["products"]["conversion_split"] is None
    assert shown["conversion"]["funnel_steps"] == ["view_item", "purchase"]


@pytest.mark.parametrize(
    ("declared", "raw", "expected"),
    [
        (Param("x", float, 0.03, "a share; None: use the costs table", none=True), "None", None),
        (Param("x", float, 0.03, "a share; None: use the costs table", none=True), "0.05", 0.05),
        (Param("x", str, None, "None: any event", none=True), "null", None),
        (Param("x", str, None, "None: any event", none=True), "purchase", "purchase"),
        (Param("x", float, None, "None: the median; or a number", none=True), "12", 12.0),
        (Param("x", str, "text", "free text"), "None", "None"),  # not a value here: the text
        # the wording does not matter: the same comment without the flag does not take None
        (Param("x", str, "text", "None: any event"), "None", "None"),
    ],
)
def test_none_is_a_value_where_the_notebook_allows_it(
    declared: Param, raw: str, expected: object
) -> None:
    # None is a value by the declaration's flag, never by the wording of a comment
    assert parameters.convert(raw, declared) == expected


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("commission_rate", "None", None),
        ("exposure_split", "12", 12.0),
        ("start_event", "null", None),
    ],
)
def test_the_notebooks_parameters_take_none_and_numbers_by_their_declarations(
    name: str, raw: str, expected: object
) -> None:
    assert convert_value(raw, Parameter(name, "None")) == expected


def test_purchases_as_magic_behaviour_needs_orders(tmp_path: Path, outputs: Path) -> None:
    source = source_without(tmp_path, "orders")
    code, _, err = dry_run_real(["--source", str(source), "-p", "magic_behaviour", "purchases"])
    assert code == 2 and "-p magic_behaviour 'purchases'" in err and "no orders table" in err


def _holds_numbers(param: Parameter) -> bool:
    """A number, a list or dict of numbers, or declared as a number (a default of None)."""
    value = param.value
    values = list(value.values()) if isinstance(value, dict) else value
    values = values if isinstance(values, list) else [values]
    if any(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return True
    return param.spec.type in (int, float)


def test_every_numeric_parameter_of_the_notebooks_has_a_range() -> None:
    numeric = {
        name
        for nb in run.discover_notebooks(REAL_NOTEBOOKS)
        for name, param in nb.own_parameters.items()
        if _holds_numbers(param)
    }
    assert {"band_k", "exposure_split", "abc_shares", "target_mix", "service_level"} <= numeric
    unbounded = {name for name in numeric if parameters.PARAMETERS[name].bounds is None}
    assert unbounded == set(), "give each bounds in lib/parameters.py"


def test_every_default_of_the_notebooks_is_inside_its_range() -> None:
    for nb in run.discover_notebooks(REAL_NOTEBOOKS):
        for name, param in nb.own_parameters.items():
            assert parameters.problem(param.spec, param.value) is None, (nb.name, name)
        defaults = {name: param.value for name, param in nb.own_parameters.items()}
        assert parameters.order_problem(defaults, defaults) is None, nb.name


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["-p", "attribution_hours", "-5"],
            "-p attribution_hours '-5': expected an integer from 1 to 87840 "
            "(the notebook's default is 24) in notebook 'traffic'",
        ),
        (
            ["-p", "conversion_window_days", "0"],
            "-p conversion_window_days '0': expected an integer from 1 to 3660 "
            "(the notebook's default is 7) in notebook 'conversion'",
        ),
        (
            ["-p", "commission_rate", "1.7"],
            "-p commission_rate '1.7': expected a number from 0 to 1 or None "
            "(the notebook's default is 0.03) in notebook 'costs'",
        ),
        (
            ["-p", "conversion_split", "2.5"],
            "-p conversion_split '2.5': expected a number above 0 and at most 1 or None "
            "(the notebook's default is None) in notebook 'products'",
        ),
        (
            ["-p", "service_level", "1"],
            "-p service_level '1': expected a number above 0 and below 1 "
            "(the notebook's default is 0.95) in notebook 'supply_chain'",
        ),
        (
            ["-p", "propensity_half_life_days", "-30"],
            "-p propensity_half_life_days '-30': expected an integer from 1 to 3660 "
            "(the notebook's default is 30) in notebook 'retention'",
        ),
        (
            ["-p", "top_n", "0"],
            "-p top_n '0': expected an integer of at least 1 "
            "(the notebook's default is 10) in notebook 'products'",
        ),
        (
            ["-p", "abc_shares", "[0.95, 0.8]"],
            "-p abc_shares '[0.95, 0.8]': expected a JSON list of 2 numbers above 0 and at most "
            "1, each at most the next (the notebook's default is [0.8, 0.95]) in notebook "
            "'products'",
        ),
        (
            ["-p", "target_mix", '{"stars": 0.5}'],
            "-p target_mix '{\"stars\": 0.5}': expected a JSON object of numbers from 0 to 1 "
            "under the keys star, traffic driver, future star, question",
        ),
        (
            ["-p", "highly_active_days", "40"],
            "-p highly_active_days '40': expected at most activity_window_days (30), since "
            "highly_active_days ≤ activity_window_days ≤ churn_days "
            "(the notebook's default is 8) in notebook 'retention'",
        ),
        (
            ["-p", "activity_window_days", "90", "-p", "churn_days", "60"],
            "-p churn_days '60': expected at least activity_window_days (90), since "
            "highly_active_days ≤ activity_window_days ≤ churn_days "
            "(the notebook's default is 60) in notebook 'retention'",
        ),
        (
            ["-p", "magic_retention_day", "3"],
            "-p magic_retention_day '3': expected at least magic_k_days (7), since "
            "magic_k_days ≤ magic_retention_day (the notebook's default is 30) in notebook "
            "'retention'",
        ),
    ],
)
def test_numbers_outside_what_the_lib_functions_can_use_are_refused(
    argv: list[str], message: str, outputs: Path
) -> None:
    code, out, err = dry_run_real(argv)
    assert code == 2 and err.startswith(f"error: {message}") and err.count("\n") == 1, err
    assert out == "" and not outputs.exists()


def test_numbers_on_the_bounds_and_orders_met_by_the_final_values_are_accepted(
    outputs: Path,
) -> None:
    code, out, err = dry_run_real(
        ["-p", "commission_rate", "0", "-p", "low_rating_max", "5", "-p", "abc_shares",
         "[0.8, 0.8]", "-p", "target_mix", '{"star": 1}', "-p", "highly_active_days", "30",
         "-p", "activity_window_days", "90", "-p", "churn_days", "90", "-p", "magic_k_days",
         "30", "-p", "service_level", "0.999"]
    )  # fmt: skip
    assert code == 0, err
    shown = {
        line.split(": ", 1)[0]: json.loads(line.split(": ", 1)[1]) for line in out.splitlines()
    }
    assert shown["retention"]["activity_window_days"] == 90
    assert shown["products"]["abc_shares"] == [0.8, 0.8]
