"""examples/uci_online_retail/shop.yaml maps the UCI Online Retail invoice lines
(tests/fixtures/uci_online_retail: a few rows in the CSV export's exact layout) to the contract,
and the value checks pass on the result."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from lib import data, quality
from lib.periods import Period

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "uci_online_retail" / "shop.yaml"
FIXTURE = Path(__file__).parent / "fixtures" / "uci_online_retail"


@pytest.fixture(scope="module")
def retail(tmp_path_factory) -> data.Source:
    folder = tmp_path_factory.mktemp("uci_online_retail")
    shutil.copy(EXAMPLE, folder / "shop.yaml")
    shutil.copytree(FIXTURE, folder / "raw")
    return data.open_source(str(folder / "shop.yaml"))


def frame(source: data.Source, table: str, key: list[str]) -> pd.DataFrame:
    return source.table(table).order_by(key).to_pandas().set_index(key)


def test_the_uci_mapping_opens_every_table(retail):
    assert sorted(retail.tables) == ["order_items", "orders", "products", "users"]
    # the value checks the runner makes before any notebook pass on the mapped tables
    assert not any(m.startswith("warning") for m in quality.validate(retail))


def test_uci_orders(retail):
    orders = frame(retail, "orders", ["order_id"])
    # guest invoices (no CustomerID: 536414, 536544 and the bad-debt adjustment A563185) are
    # left out; invoices starting with C are cancellations
    assert orders["status"].to_dict() == {
        "536365": "paid",
        "536370": "paid",
        "537226": "paid",
        "540372": "paid",
        "556000": "paid",
        "581587": "paid",
        "C536379": "cancelled",
        "C536383": "cancelled",
    }
    assert orders["user_id"].to_dict()["556000"] == "17850"
    # the sum of quantity x unit price; a cancellation paid nothing and has no paid_time
    assert orders.loc["536365", "paid_amount"] == pytest.approx(6 * 2.55 + 6 * 3.39 + 2 * 2.95)
    assert orders.loc["536370", "paid_amount"] == pytest.approx(144.0)  # postage included
    assert orders.loc["540372", "paid_amount"] == 0.0  # a free line
    assert orders.loc["C536379", "paid_amount"] == 0.0
    assert pd.isna(orders.loc["C536379", "paid_time"])
    # M/D/YYYY London times: GMT in December, BST (UTC+1) in June
    assert orders.loc["536365", "order_time"] == pd.Timestamp("2010-12-01 08:26:00")
    assert orders.loc["536365", "paid_time"] == pd.Timestamp("2010-12-01 08:26:00")
    assert orders.loc["537226", "order_time"] == pd.Timestamp("2010-12-13 13:05:00")
    assert orders.loc["556000", "order_time"] == pd.Timestamp("2011-06-08 09:15:00")
    assert orders["discount_amount"].isna().all()


def test_uci_items_products_users(retail):
    items = frame(retail, "order_items", ["order_id", "sku_id"])
    assert sorted(set(items.index.get_level_values(0))) == sorted(
        frame(retail, "orders", ["order_id"]).index
    )
    # one product on two lines of an invoice, at two prices: units summed, price weighted
    assert items.loc[("536365", "85123A"), "quantity"] == 8
    assert items.loc[("536365", "85123A"), "unit_price"] == pytest.approx((6 * 2.55 + 2 * 2.95) / 8)
    # a cancellation's units are positive (the units cancelled)
    assert items.loc[("C536383", "35004C"), ["quantity", "unit_price"]].tolist() == [1, 4.65]
    products = frame(retail, "products", ["sku_id"])
    assert products.loc["85123A", "category"] == "(none)"
    assert products.loc["85123A", "product_name"] == "WHITE HANGING HEART T-LIGHT HOLDER"
    not_goods = set(products.index[products["category"] == "(not a product)"])
    assert not_goods == {"POST", "D", "B"}
    assert products.loc["22613", "product_name"] == "PACK OF 20 SPACEBOY NAPKINS, BLUE"
    assert products["unit_cost"].isna().all()
    users = frame(retail, "users", ["user_id"])
    assert sorted(users.index) == ["12583", "12680", "13081", "14527", "15311", "17850"]
    assert users.loc["17850", "signup_time"] == pd.Timestamp("2010-12-01 08:26:00")
    assert users.loc["12583", "region"] == "France"


def test_uci_period_coverage(retail):
    found = data.coverage(retail, Period("2010-12-01", "2010-12-31", "Europe/London"))
    assert found["orders"].rows == 5
