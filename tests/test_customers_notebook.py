"""Notebook 09 (customers) on the bundled sample, whose bought-together pairs are planted
(data/sample/README.md, "Known truth: products bought together"): the runner's tables recover
exactly those pairs, and write the lifetime-value tables with their exact columns."""

from __future__ import annotations

import pandas as pd
import pytest

from lib import baskets, clv, portrait, simulate

from .runner_support import run_sample_notebook

TABLES = {
    "basket_pairs": baskets.PAIR_COLUMNS,
    "bought_together": None,
    "cross_sell": baskets.CROSS_SELL_COLUMNS,
    "clv": clv.CLV_COLUMNS,
    "clv_model": clv.MODEL_COLUMNS,
    "clv_validation": clv.VALIDATION_COLUMNS,
    "user_portrait": portrait.PORTRAIT_COLUMNS,
    "segment_portraits": portrait.SEGMENT_COLUMNS,
}


@pytest.fixture(scope="module")
def customers_run(tmp_path_factory):
    return run_sample_notebook("customers", tmp_path_factory.mktemp("runs") / "customers")


def _table(folder, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / "tables" / f"{name}.csv", keep_default_na=False)


@pytest.mark.parametrize("name", TABLES)
def test_the_runner_writes_every_table(customers_run, name):
    table = _table(customers_run, name)
    assert len(table) > 0
    if TABLES[name] is not None:
        assert list(table.columns)[: len(TABLES[name])] == list(TABLES[name])


def test_exactly_the_planted_pairs_are_bought_together(customers_run):
    pairs = _table(customers_run, "basket_pairs")
    pairs["q_value"] = pairs["q_value"].astype(float)
    pairs["lift"] = pairs["lift"].astype(float)
    found = pairs[baskets.is_bought_together(pairs)]
    called = {frozenset(pair) for pair in zip(found["sku_a"], found["sku_b"], strict=True)}
    planted = {frozenset(pair) for pair in simulate.bought_together_pairs()}
    assert len(planted) == simulate.BOUGHT_TOGETHER_PAIRS
    assert called == planted


def test_each_planted_anchor_recommends_its_companion_first(customers_run):
    companions = _table(customers_run, "bought_together")
    first = companions[companions["rank"] == 1].set_index("sku_id")["companion_sku_id"]
    for anchor, companion in simulate.bought_together_pairs():
        if anchor in first.index:  # a top SKU of the month
            assert first[anchor] == companion
