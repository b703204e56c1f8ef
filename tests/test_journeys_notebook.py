"""Notebook 08 (journeys) on the bundled sample, whose search driver and checkout detour are
known (data/sample/README.md, "Known truth"): the runner's tables recover both."""

from __future__ import annotations

import pandas as pd
import pytest

from lib import drivers, paths, simulate

from .runner_support import run_sample_notebook

TABLES = {
    "conversion_drivers": drivers.DRIVER_COLUMNS,
    "path_transitions": paths.TRANSITIONS_COLUMNS,
    "step_matrix": paths.STEP_MATRIX_COLUMNS,
    "paths_top": paths.PATHS_TOP_COLUMNS,
    "step_matrix_last_step": paths.STEP_MATRIX_COLUMNS,
    "paths_last_step": paths.PATHS_TOP_COLUMNS,
    "after_dropoff_add_to_cart": paths.AFTER_DROPOFF_COLUMNS,
}


@pytest.fixture(scope="module")
def journeys_run(tmp_path_factory):
    return run_sample_notebook("journeys", tmp_path_factory.mktemp("runs") / "journeys")


def _table(run_folder, name: str) -> pd.DataFrame:
    return pd.read_csv(run_folder / "tables" / f"{name}.csv", keep_default_na=False)


@pytest.mark.parametrize(("name", "columns"), TABLES.items())
def test_the_runner_writes_every_table_with_its_exact_columns(journeys_run, name, columns):
    table = _table(journeys_run, name)
    assert list(table.columns) == columns
    assert len(table) > 0


def test_search_is_recovered_as_a_driver_of_converting(journeys_run):
    table = _table(journeys_run, "conversion_drivers")
    search = table[(table["kind"] == "event") & (table["value"] == "search")].iloc[0]
    # planted: searching sessions add to cart SEARCH_CART_LIFT (1.8) times as often
    assert simulate.SEARCH_CART_LIFT > 1
    assert search["direction"] == "success"
    assert search["q_value"] < 0.001
    assert search["ci_low"] > 1.2


def test_claiming_a_coupon_is_not_called_a_driver(journeys_run):
    # nothing in the simulated walk reads a claim: neutral by construction
    table = _table(journeys_run, "conversion_drivers")
    coupon = table[(table["kind"] == "event") & (table["value"] == "claim_coupon")].iloc[0]
    assert coupon["q_value"] >= drivers.DEFAULT_FDR
    assert coupon["ci_low"] < 1 < coupon["ci_high"]


def test_the_checkout_detour_is_recovered_from_the_last_step_paths(journeys_run):
    matrix = _table(journeys_run, "step_matrix_last_step")
    first = matrix[matrix["position"] == 1].set_index("event")["share"]
    assert first.sum() == pytest.approx(1)
    # planted: CHECKOUT_DETOUR_SHARE (20 %) of checkouts go back to the cart
    assert first["view_cart"] == pytest.approx(simulate.CHECKOUT_DETOUR_SHARE, abs=0.03)
    second = matrix[matrix["position"] == 2].set_index("event")["share"]
    assert second["begin_checkout"] == pytest.approx(first["view_cart"])  # the loop closes

    top = _table(journeys_run, "paths_last_step").set_index("path")
    detoured = [
        "begin_checkout → view_cart → begin_checkout → purchase",
        "begin_checkout → view_cart → begin_checkout",
    ]
    direct = ["begin_checkout → purchase", "begin_checkout"]
    paid = {
        name: top.loc[group[0], "users"] / top.loc[group, "users"].sum()
        for name, group in (("detour", detoured), ("direct", direct))
    }
    # planted: detoured checkouts are paid CHECKOUT_DETOUR_PAY_MULT (0.7) times as often
    assert paid["detour"] / paid["direct"] == pytest.approx(
        simulate.CHECKOUT_DETOUR_PAY_MULT, abs=0.08
    )


def test_the_steps_of_the_matrix_each_add_up_to_one(journeys_run):
    matrix = _table(journeys_run, "step_matrix")
    assert matrix.groupby("position")["share"].sum().tolist() == pytest.approx(
        [1.0] * matrix["position"].nunique()
    )
