"""Notebook 10 (marketing) on the bundled sample, whose promotion, A/B tests and undercut SKUs
are planted with known sizes (data/sample/README.md, "Known truth: a promotion, two A/B tests and
competitors' prices"): the runner's tables recover each within its 95 % interval, and carry the
issue's columns."""

from __future__ import annotations

import pandas as pd
import pytest

from lib import simulate

from .runner_support import run_sample_notebook

TABLES = {
    "campaign_effects": [
        "campaign_id", "metric", "actual", "expected", "incremental", "ci_low", "ci_high",
        "discount_cost", "net_margin", "roi", "post_dip",
    ],
    "experiment_results": [
        "experiment", "variant", "users", "metric", "value", "diff", "ci_low", "ci_high",
        "p_value", "lift", "cuped", "srm_p_value",
    ],
    "price_bands": None,
    "price_elasticity": None,
    "competitor_price_index": None,
    "attribution": ["channel", "model", "orders", "gmv", "share"],
}  # fmt: skip


@pytest.fixture(scope="module")
def marketing_run(tmp_path_factory):
    return run_sample_notebook("marketing", tmp_path_factory.mktemp("runs") / "marketing")


def _table(folder, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / "tables" / f"{name}.csv")


@pytest.mark.parametrize("name", TABLES)
def test_the_runner_writes_every_table(marketing_run, name):
    table = _table(marketing_run, name)
    assert len(table) > 0
    if TABLES[name] is not None:
        assert list(table.columns)[: len(TABLES[name])] == TABLES[name]


def test_the_promotion_uplift_and_its_dip_are_recovered(marketing_run):
    effects = _table(marketing_run, "campaign_effects")
    promo = effects[(effects["campaign_id"] == simulate.PROMO_CAMPAIGN) & effects["primary"]]
    orders = promo[promo["metric"] == "orders"].iloc[0]
    assert orders["method"] == "did"  # a category campaign: against the rest of the shop
    # the planted lift: orders × PROMO_CART_LIFT, so the truth is expected × (lift − 1)
    truth = orders["expected"] * (simulate.PROMO_CART_LIFT - 1)
    assert orders["ci_low"] > 0
    assert orders["ci_low"] <= truth <= orders["ci_high"]
    # after it, fewer orders than expected (the size: the next test)
    assert orders["post_dip"] < 0
    # its discounts were real money: 20 % of the category's lines in the campaign's orders
    gmv = promo[promo["metric"] == "gmv"].iloc[0]
    assert gmv["discount_cost"] > 0 and gmv["incremental"] > 0
    # UV was not moved by the promotion (it changes the cart rate only)
    uv = promo[promo["metric"] == "uv"].iloc[0]
    assert uv["ci_low"] <= 0 <= uv["ci_high"]


def test_the_promotion_dip_covers_the_planted_one(marketing_run):
    effects = _table(marketing_run, "campaign_effects")
    row = effects[
        (effects["campaign_id"] == simulate.PROMO_CAMPAIGN)
        & effects["primary"]
        & (effects["metric"] == "orders")
    ].iloc[0]
    daily = _table(marketing_run, "campaign_daily")
    dip = daily[
        (daily["campaign_id"] == simulate.PROMO_CAMPAIGN)
        & (daily["phase"] == "dip")
        & (daily["metric"] == "orders")
        & (daily["method"] == row["method"])
    ]
    assert len(dip) == simulate.PROMO_DIP_DAYS
    counterfactual = dip["expected"].sum()
    assert row["post_dip"] == pytest.approx(dip["actual"].sum() - counterfactual)
    truth = counterfactual * (simulate.PROMO_DIP_MULT - 1)
    assert row["post_dip_low"] <= truth <= row["post_dip_high"]


def test_the_ab_tests_are_read_right(marketing_run):
    results = _table(marketing_run, "experiment_results")
    conversion = results[(results["metric"] == "conversion") & (results["variant"] == "treatment")]
    by_test = conversion.set_index("experiment")
    planted = dict(simulate.EXPERIMENTS)
    effect = by_test.loc["one_tap_checkout"]
    # planted: treatment pays × 1.15; the lift's interval holds it and excludes no effect
    assert effect["lift_low"] > 0
    assert effect["lift_low"] <= planted["one_tap_checkout"] - 1 <= effect["lift_high"]
    assert effect["verdict"] == "higher"
    none = by_test.loc["homepage_recs"]
    assert planted["homepage_recs"] == 1.0
    assert none["ci_low"] <= 0 <= none["ci_high"]
    assert none["verdict"] == "no detectable difference"
    # both splits were 50/50 as planned: no sample-ratio mismatch blocks a verdict
    assert (results["srm_p_value"] > 0.001).all()


def test_the_undercut_skus_are_flagged_and_convert_less(marketing_run):
    index = _table(marketing_run, "competitor_price_index")
    flagged = index[index["overpriced"]]
    # planted: from PRICE_WAR_START every undercut SKU is at least 1.149 × the cheapest rival
    # and every other tracked SKU at most 1.075, so price_gap 0.10 splits them exactly
    assert (flagged["price_index"] > 1.10).all()
    assert (index.loc[~index["overpriced"], "price_index"] <= 1.10).all()
    assert 0 < len(flagged) < len(index)
    conversion = _table(marketing_run, "overpriced_conversion").set_index("group")
    over, rest = conversion.loc["overpriced"], conversion.loc["rest"]
    # planted: undercut SKUs are carted × 0.7; their viewers buy less, beyond the noise
    assert over["diff_high"] < 0
    ratio = over["conversion"] / rest["conversion"]
    assert 0.5 < ratio < simulate.UNDERCUT_CART_MULT + 0.15


def test_every_attribution_model_credits_every_order(marketing_run):
    credit = _table(marketing_run, "attribution")
    totals = credit.groupby("model")["orders"].sum()
    assert totals.nunique() == 1 or (totals.max() - totals.min()) < 1e-6
    assert credit.groupby("model")["share"].sum().round(9).eq(1).all()
