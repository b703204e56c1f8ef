"""examples/olist/shop.yaml maps the Olist Kaggle files (tests/fixtures/olist: a few rows in
their exact layout) to the contract, and the value checks pass on the result."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from lib import data, quality
from lib.periods import Period

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "olist" / "shop.yaml"
FIXTURE = Path(__file__).parent / "fixtures" / "olist"


@pytest.fixture(scope="module")
def olist(tmp_path_factory) -> data.Source:
    folder = tmp_path_factory.mktemp("olist")
    shutil.copy(EXAMPLE, folder / "shop.yaml")
    shutil.copytree(FIXTURE, folder / "raw")
    return data.open_source(str(folder / "shop.yaml"))


def frame(source: data.Source, table: str, key: list[str]) -> pd.DataFrame:
    return source.table(table).order_by(key).to_pandas().set_index(key)


def test_the_olist_mapping_opens_every_table(olist):
    assert sorted(olist.tables) == [
        "order_items",
        "orders",
        "products",
        "reviews",
        "shipments",
        "users",
    ]
    # the value checks the runner makes before any notebook pass on the mapped tables
    assert not any(m.startswith("warning") for m in quality.validate(olist))


def test_olist_orders(olist):
    orders = frame(olist, "orders", ["order_id"])
    assert orders["status"].to_dict() == {
        "ord1": "paid",
        "ord2": "cancelled",
        "ord3": "paid",
        "ord4": "unpaid",
        "ord5": "paid",
    }
    # the person is customer_unique_id: u1 ordered twice under two customer_ids
    assert orders["user_id"].to_dict()["ord3"] == "u1"
    # the voucher is a discount; the card paid the rest, freight included
    assert orders.loc["ord1", ["paid_amount", "discount_amount"]].tolist() == [131.0, 10.0]
    assert orders.loc["ord4", "paid_amount"] == 0.0  # no payment row
    # São Paulo local times: 21:30 (UTC-3) is 00:30 UTC the next day; ord5 was placed just
    # before the clocks went forward at midnight on 4 November 2018 and paid just after
    assert orders.loc["ord1", "order_time"] == pd.Timestamp("2018-03-02 00:30:00")
    assert orders.loc["ord5", "order_time"] == pd.Timestamp("2018-11-04 02:50:00")
    assert orders.loc["ord5", "paid_time"] == pd.Timestamp("2018-11-04 03:10:00")


def test_olist_items_products_users_reviews_shipments(olist):
    items = frame(olist, "order_items", ["order_id", "sku_id"])
    assert items.loc[("ord1", "p1"), ["quantity", "unit_price"]].tolist() == [2, 50.0]
    products = frame(olist, "products", ["sku_id"])["category"].to_dict()
    assert products == {"p1": "health_beauty", "p2": "(unknown)", "p3": "computers_accessories"}
    users = frame(olist, "users", ["user_id"])
    assert users.loc["u1", "signup_time"] == pd.Timestamp("2018-03-02 00:30:00")
    assert users.loc["u2", "region"] == "RJ"
    reviews = frame(olist, "reviews", ["user_id", "sku_id"])["rating"].to_dict()
    assert reviews == {("u1", "p1"): 5, ("u1", "p2"): 5, ("u1", "p3"): 2}
    shipments = frame(olist, "shipments", ["order_id"])
    assert list(shipments.index) == ["ord1", "ord3", "ord5"]
    assert pd.isna(shipments.loc["ord3", "delivered_time"])
    assert shipments.loc["ord1", "shipping_cost"] == 21.0
    assert set(shipments["carrier"]) == {"(not recorded)"}


def test_olist_period_coverage(olist):
    found = data.coverage(olist, Period("2018-03-01", "2018-03-31", "America/Sao_Paulo"))
    assert found["orders"].rows == 4
