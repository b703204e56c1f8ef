"""Comparisons only against a baseline the data covers (lib/comparison.py), and the notebooks that
compare (00 overview, 02's GMV decomposition, 05's cost growth) skip what they cannot compare."""

from __future__ import annotations

import ibis
import pytest

from lib import comparison
from lib.periods import Period
from tests.runner_support import REAL_NOTEBOOKS, call

from .conftest import events_table, printed

PERIOD = Period("2025-03-03", "2025-03-04", "UTC")  # previous period: 03-01..03-02


def test_a_baseline_is_complete_only_where_every_table_read_covers_all_its_days():
    events = events_table([("2025-03-02 10:00", "a", "page_view"), ("2025-03-04 10:00", "a", "x")])
    orders_like = events_table([("2025-02-01 10:00", "a", "x"), ("2025-03-04 10:00", "a", "x")])
    orders_like = orders_like.rename(order_time="event_time")
    base = comparison.baseline(PERIOD, "previous_period", {"events": events, "orders": orders_like})
    assert base.period == Period("2025-03-01", "2025-03-02")
    assert base.covered == {"events": 1, "orders": 2}
    assert base.complete(["orders"]) and not base.complete() and not base.complete(["events"])
    assert base.note(["orders"]) == ""
    assert base.note() == "the previous period covers only 1 of 2 days"
    assert base.skip_note("the cost growth", ["orders"]) is None
    assert base.skip_note("the GMV decomposition") == (
        "The GMV decomposition is skipped: the previous period (2025-03-01..2025-03-02) covers "
        "only 1 of 2 days."
    )


def test_no_baseline_and_a_table_not_read():
    none = comparison.baseline(PERIOD, "none", {"events": None})
    assert none.period is None and none.days == 0 and not none.complete()
    assert none.skip_note("the cost growth") == (
        "The cost growth is skipped: not compared (compare_to none)."
    )
    last_year = comparison.baseline(PERIOD, "same_period_last_year", {"events": None})
    assert last_year.period == Period("2024-03-03", "2024-03-04")
    assert last_year.covered == {} and last_year.covered_by(["events"]) == 0
    with pytest.raises(ValueError, match="compare_to='previous' must be one of"):
        comparison.baseline(PERIOD, "previous", {})


@pytest.fixture(scope="module")
def shifted_run(tmp_path_factory: pytest.TempPathFactory):
    """The sample shop from 19 days after its data begins (2025-08-01): the previous period,
    2025-06-21..2025-08-19, holds data on 19 of its 60 days (the known truth)."""
    out = tmp_path_factory.mktemp("shifted") / "run"
    code, _, err = call(
        ["--start", "2025-08-20", "--end", "2025-10-18", "--timezone", "Asia/Shanghai",
         "--notebooks-dir", str(REAL_NOTEBOOKS), "--notebooks", "overview,conversion,costs",
         "--output", str(out), "--quiet"]
    )  # fmt: skip
    assert code == 0, err
    return out


def test_the_notebooks_compare_nothing_with_a_partly_covered_baseline(shifted_run):
    overview_csv = (shifted_run / "tables" / "overview.csv").read_text()
    assert "the previous period covers only 19 of 60 days" in overview_csv
    for table, notebook, section in (
        ("cost_growth", "05_costs", "The cost growth"),
        ("gmv_decomposition", "02_conversion", "The GMV decomposition"),
    ):
        assert not (shifted_run / "tables" / f"{table}.csv").exists()
        shown = printed(shifted_run / "notebooks" / f"{notebook}.ipynb")
        assert (
            f"{section} is skipped: the previous period (2025-06-21..2025-08-19) covers only "
            "19 of 60 days." in shown
        )
    assert (
        "Compared with the previous period, 2025-06-21..2025-08-19: the data covers only 19 of "
        "its 60 days" in printed(shifted_run / "notebooks" / "00_overview.ipynb")
    )
    # and the report's contents say which sections were skipped, and why
    html = (shifted_run / "report.html").read_text()
    assert "(skipped: The cost growth is skipped: the previous period" in html


def test_dates_are_local_days_and_a_monthly_row_covers_its_month():
    spend = ibis.memtable({"date": ["2025-03-02", "2025-03-20"]}).mutate(
        date=ibis._.date.cast("date")
    )
    march = Period("2025-03-01", "2025-03-31", "America/New_York")  # no shift: dates are local
    assert comparison.covered_days(spend, "date", march) == 19  # 03-02 .. 03-20
    costs = ibis.memtable({"month": ["2025-02-01", "2025-03-01"]}).mutate(
        month=ibis._.month.cast("date")
    )
    # February and March rows cover 02-01 .. 03-31; a baseline 01-15..02-13 has 13 of 30 days
    assert comparison.covered_days(costs, "month", march, monthly=True) == 31
    january = Period("2025-01-15", "2025-02-13", "UTC")
    assert comparison.covered_days(costs, "month", january, monthly=True) == 13
    base = comparison.baseline(
        Period("2025-02-14", "2025-03-15"), "previous_period", {"costs": costs, "orders": None}
    )
    assert base.period == january and base.covered == {"costs": 13}
    assert base.note() == "the previous period covers only 13 of 30 days"
