"""The tiny shop of tests/fixtures/known_answers, whose answers were worked out by hand.

Range 2025-03-01..2025-03-07 in Asia/Shanghai; the fixture's README tells each user's story.
Each expected file lists only the columns it checks; the project's tables carry more.
"""

from __future__ import annotations

import pandas as pd
import pytest

from lib import funnel, gmv, repurchase, retention, traffic
from lib.periods import Period

from .conftest import KNOWN_ANSWERS

PERIOD = Period("2025-03-01", "2025-03-07", "Asia/Shanghai")


def expected(name: str) -> pd.DataFrame:
    table = pd.read_csv(KNOWN_ANSWERS / "expected" / f"{name}.csv")
    for column in ("date", "cohort_date"):
        if column in table:
            table[column] = pd.to_datetime(table[column])
    return table


def assert_matches(actual: pd.DataFrame, name: str) -> None:
    want = expected(name)
    got = actual[list(want.columns)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, check_exact=False, rtol=1e-9)


def test_traffic_daily(known_source):
    assert_matches(traffic.daily_traffic(known_source["events"], PERIOD), "traffic_daily")


def test_funnel(known_source):
    assert_matches(funnel.funnel_table(known_source["events"], PERIOD), "funnel")


def test_gmv_daily(known_source):
    table = gmv.gmv_daily(known_source["orders"], PERIOD, known_source["events"])
    assert_matches(table, "gmv_daily")


def test_retention(known_source):
    assert_matches(retention.cohort_retention(known_source["events"], PERIOD), "retention")


def test_repurchase(known_source):
    assert_matches(repurchase.repurchase_summary(known_source["orders"], PERIOD), "repurchase")


@pytest.mark.parametrize(
    "name", ["traffic_daily", "funnel", "gmv_daily", "retention", "repurchase"]
)
def test_expected_files_are_not_empty(name):
    # Guards against a fixture copied without its rows, which would make the checks above vacuous.
    assert len(expected(name)) > 0
