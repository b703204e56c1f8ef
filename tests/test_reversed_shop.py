"""Every notebook on a second shop whose relationships are the sample's reversed: no claim may be
written for the sample shop (issue 15, "narrative from the numbers").

The reversed shop is the sample with two changes to the amounts paid, both known:
- orders paid in the report's period are worth a quarter, so GMV falls against the previous
  period where the sample's rises (Singles' Day);
- the low-activity users' orders are worth a tenth, so the highly active bring more GMV in total
  where in the sample the far larger low-activity group brings more.
Each claim about these must follow the shop: the executive summary, the activity segments'
sentence, the GMV decomposition's direction. And no notebook prints a sentence naming the
sample shop, on either shop.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from lib import data, run, segments
from lib.periods import Period

from .conftest import printed

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
START, END, ZONE = "2025-10-15", "2025-11-14", "Asia/Shanghai"


def _reverse(sample: Path, folder: Path) -> None:
    """The sample's tables in ``folder``, with the two known changes to the amounts paid."""
    shutil.copytree(sample, folder, ignore=shutil.ignore_patterns("*.md"))
    source = data.open_source(sample)
    period = Period(START, END, ZONE)
    user_days, _ = segments.activity_user_days(period, source["orders"], source["events"])
    activity = segments.activity_segments(user_days, period)
    low = activity.loc[activity["segment"] == "low_activity", ["user_id"]]
    lo, hi = period.utc_bounds()
    con = duckdb.connect()
    con.register("low_activity", low)
    orders = folder / "orders.parquet"
    con.execute(
        f"""
        copy (
            select * replace (
                paid_amount
                * (case when paid_time >= '{lo:%Y-%m-%d %H:%M:%S}'
                         and paid_time < '{hi:%Y-%m-%d %H:%M:%S}' then 0.25 else 1 end)
                * (case when user_id in (select user_id from low_activity) then 0.1 else 1 end)
                as paid_amount
            )
            from read_parquet('{sample / "orders.parquet"}')
        ) to '{orders}' (format parquet)
        """
    )


@pytest.fixture(scope="module")
def reversed_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shops") / "reversed"
    _reverse(data.SAMPLE_DIR, folder)
    output = tmp_path_factory.mktemp("runs") / "reversed"
    code = run.main(
        ["--start", START, "--end", END, "--timezone", ZONE, "--quiet"]
        + ["--source", str(folder), "--output", str(output)]
    )
    assert code == 0
    return output


def _summary(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "tables" / "executive_summary.csv")


def test_the_summary_follows_the_shop(reversed_run):
    changes = _summary(reversed_run).set_index("indicator")
    assert changes.loc["GMV", "change"] < 0
    assert changes.loc["GMV", "sentence"].startswith("GMV fell ")
    # on the sample the same indicator rose (the committed notebook's summary)
    assert "1. GMV rose " in printed_summary(NOTEBOOKS / "00_overview.ipynb")


def printed_summary(notebook: Path) -> str:
    import nbformat

    cells = nbformat.read(notebook, as_version=4).cells
    return "".join(
        str(output.get("data", {}).get("text/markdown", ""))
        for cell in cells
        for output in cell.get("outputs", [])
        if output.get("metadata", {}).get("executive_summary")
    )


def test_the_activity_sentence_follows_the_shop(reversed_run):
    table = pd.read_csv(reversed_run / "tables" / "segments_activity.csv").set_index("segment")
    assert table.loc["highly_active", "gmv_in_period"] > table.loc["low_activity", "gmv_in_period"]
    reversed_text = printed(reversed_run / "notebooks" / "03_retention.ipynb")
    assert "the highly active users brought more GMV in total" in reversed_text
    assert "keeping the highly active comes first" in reversed_text
    sample_text = printed(NOTEBOOKS / "03_retention.ipynb")
    assert "the low-activity users brought more GMV in total" in sample_text


def test_the_gmv_decomposition_follows_the_shop(reversed_run):
    # the amounts fell, visitors and buyers did not: sales per buyer carries the fall, and the
    # effects still add up to the change of GMV
    effects = pd.read_csv(reversed_run / "tables" / "gmv_decomposition.csv").set_index("factor")
    assert effects.loc["gmv", "change"] < 0
    assert effects.loc["sales_per_buyer", "gmv_effect"] < 0
    parts = effects.loc[["uv", "conversion_rate", "sales_per_buyer"], "gmv_effect"].sum()
    assert parts == pytest.approx(effects.loc["gmv", "gmv_effect"], abs=0.02)


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")))
def test_no_sentence_is_written_for_the_sample_shop(reversed_run, name):
    for text in (printed(reversed_run / "notebooks" / name), printed(NOTEBOOKS / name)):
        # "source: the bundled sample shop" names the data; a claim about it reads like these
        assert "in the sample shop" not in text
        assert "as in the sample" not in text
