"""Timestamps before 2000 are kept with a warning (a shop's history may start in the 1990s); the
exact Unix epoch, an export's placeholder for "no time", stays an error (docs/reliability.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from lib.run import main
from tests.conftest import KNOWN_ANSWERS
from tests.runner_support import SOURCE, call, read_csv

pytest_plugins = ("tests.runner_fixtures",)

RANGE_1997 = ["--start", "1997-03-01", "--end", "1997-03-07", "--timezone", "UTC"]


def _source_in(tmp_path: Path, year: str) -> Path:
    """The known-answers shop moved from March 2025 to March ``year`` (every time and date)."""
    folder = tmp_path / f"shop_{year}"
    shutil.copytree(SOURCE, folder)
    for path in folder.glob("*.csv"):
        path.write_text(path.read_text().replace("2025-0", f"{year}-0"))
    return folder


def test_a_1997_range_runs_end_to_end_with_a_warning_naming_count_and_earliest(
    tmp_path: Path, outputs: Path
) -> None:
    source = _source_in(tmp_path, "1997")
    events = read_csv(source / "events.csv")
    earliest = min(row["event_time"] for row in events)
    code, _, err = call([*RANGE_1997, "--source", str(source)])
    assert code == 0, err
    [warning] = [line for line in err.splitlines() if "'event_time'" in line]
    assert warning == (
        f"warning: table 'events' column 'event_time' is before 2000-01-01 in "
        f"{len(events)} rows (earliest {earliest}); they are kept: if the shop's data does not "
        "go back that far, check the export's time unit (seconds or milliseconds)"
    )
    # orders' two timestamp columns are warned about too, each with its own count
    assert "table 'orders' column 'order_time' is before 2000-01-01" in err
    assert not any(line.startswith("error") for line in err.splitlines())
    # the run reached the notebooks: the overview's table holds 1997's orders
    run = outputs / "1997-03-01_1997-03-07"
    assert (run / "report.html").is_file()
    [summary] = read_csv(run / "tables" / "overview_summary.csv")
    assert int(float(summary["orders"])) > 0


def test_an_exact_epoch_placeholder_stays_an_error(tmp_path: Path, outputs: Path) -> None:
    source = _source_in(tmp_path, "1997")
    text = (source / "events.csv").read_text().splitlines()
    # the first event's time becomes the placeholder; a time one second later is only early
    text[1] = "1970-01-01 00:00:00" + text[1][len("1997-03-01 01:00:00") :]
    text[2] = "1970-01-01 00:00:01" + text[2][len("1997-03-01 02:00:00") :]
    (source / "events.csv").write_text("\n".join(text) + "\n")
    code, out, err = call([*RANGE_1997, "--source", str(source), "--dry-run"])
    assert code == 2 and out == "", err
    assert err.startswith("error: ")
    assert (
        "table 'events' column 'event_time' is exactly 1970-01-01 00:00:00 (the Unix epoch, a "
        "placeholder for a missing time) in 1 row;" in err
    )
    assert not outputs.exists()


def test_the_real_notebooks_give_the_known_answers_in_1997(tmp_path: Path) -> None:
    # the hand-checked shop moved to 1997 gives the numbers it gives in 2025, day for day
    source = _source_in(tmp_path, "1997")
    output = tmp_path / "run"
    code = main(
        [*RANGE_1997[:4], "--timezone", "Asia/Shanghai", "--quiet", "--source", str(source),
         "--notebooks", "conversion", "--output", str(output)]
    )  # fmt: skip
    assert code == 0
    got = pd.read_csv(output / "tables" / "gmv_daily.csv")
    want = pd.read_csv(KNOWN_ANSWERS / "expected" / "gmv_daily.csv")
    want["date"] = want["date"].str.replace("2025-", "1997-")
    pd.testing.assert_frame_equal(got[list(want.columns)], want, check_dtype=False)
