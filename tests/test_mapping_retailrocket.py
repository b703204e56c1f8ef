"""examples/retailrocket/shop.yaml maps the RetailRocket Kaggle files
(tests/fixtures/retailrocket: a few rows in their exact layout) to the contract, and the value
checks pass on the result."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from lib import data, quality
from lib.periods import Period

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "retailrocket" / "shop.yaml"
FIXTURE = Path(__file__).parent / "fixtures" / "retailrocket"


@pytest.fixture(scope="module")
def rocket(tmp_path_factory) -> data.Source:
    folder = tmp_path_factory.mktemp("retailrocket")
    shutil.copy(EXAMPLE, folder / "shop.yaml")
    shutil.copytree(FIXTURE, folder / "raw")
    return data.open_source(str(folder / "shop.yaml"))


def frame(source: data.Source, table: str, key: list[str]) -> pd.DataFrame:
    return source.table(table).order_by(key).to_pandas().set_index(key)


def test_the_retailrocket_mapping_opens_every_table(rocket):
    assert sorted(rocket.tables) == ["events", "order_items", "orders", "products"]
    # the value checks the runner makes before any notebook pass on the mapped tables; the
    # repeated transaction row is only a note
    messages = quality.validate(rocket)
    assert not any(m.startswith("warning") for m in messages)
    assert any("repeat another event exactly" in m for m in messages)


def test_retailrocket_events(rocket):
    events = rocket.table("events").order_by(["event_time", "event_name"]).to_pandas()
    assert events["event_name"].value_counts().to_dict() == {
        "view_item": 5,
        "purchase": 5,
        "add_to_cart": 2,
    }
    first = events.iloc[0]
    # milliseconds since 1970 are UTC instants
    assert first["event_time"] == pd.Timestamp("2015-06-02 05:02:12.117")
    assert (first["user_id"], first["sku_id"]) == ("257597", "355908")
    assert events[["session_id", "channel", "slot", "platform"]].isna().all().all()
    assert "transactionid" in events.columns  # kept as an extra column


def test_retailrocket_orders_and_items(rocket):
    orders = frame(rocket, "orders", ["order_id"])
    assert list(orders.index) == ["4000", "4001", "9725"]
    assert set(orders["status"]) == {"paid"}
    assert orders["user_id"].to_dict() == {"4000": "111016", "4001": "111016", "9725": "1150086"}
    assert orders.loc["4000", "order_time"] == pd.Timestamp("2015-06-02 05:15:00")
    assert (orders["paid_time"] == orders["order_time"]).all()
    # no prices in the data set: amounts are 0
    assert (orders["paid_amount"] == 0).all()
    items = frame(rocket, "order_items", ["order_id", "sku_id"])
    assert items["quantity"].to_dict() == {
        ("4000", "248676"): 2,  # two transaction rows of one item
        ("4000", "318965"): 1,
        ("4001", "355908"): 1,
        ("9725", "461686"): 1,
    }
    assert (items["unit_price"] == 0).all()


def test_retailrocket_products(rocket):
    products = frame(rocket, "products", ["sku_id"])["category"].to_dict()
    assert products == {
        "248676": "491",  # the categoryid in part 2
        "318965": "1016",
        "355908": "1338",  # the latest of two
        "461686": "1277",  # two at one time: the larger id
        "77777": "682",  # only in the property files
        "999999": "(unknown)",  # no categoryid property
    }


def test_retailrocket_period_coverage(rocket):
    found = data.coverage(rocket, Period("2015-06-01", "2015-06-30", "UTC"))
    assert found["orders"].rows == 1
    assert found["events"].rows == 8
