"""The checks of a run's plan: bad input exits 2 naming the culprit and creates nothing; notebooks
whose tables the source lacks are skipped unless named; ranges the data does not cover."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.runner_support import (
    MARKER,
    RANGE,
    SOURCE,
    call,
    source_without,
)

pytest_plugins = ("tests.runner_fixtures",)


# ------------------------------------------------------------------ bad input: exit 2, nothing made


@pytest.mark.parametrize(
    ("argv", "culprits"),
    [
        (["--start", "2025-03-07", "--end", "2025-03-01"], ["--end 2025-03-01", "before"]),
        (["--start", "2025-3-1", "--end", "2025-03-07"], ["--start", "2025-3-1"]),
        (["--start", "2025-02-30", "--end", "2025-03-07"], ["--start", "2025-02-30"]),
        ([*RANGE, "--timezone", "Mars/Olympus"], ["Mars/Olympus"]),
        ([*RANGE, "--notebooks", "traffic,nope"], ["'nope'", "overview, traffic"]),
        ([*RANGE, "-p", "colour", "red"], ["colour", "label"]),
        ([*RANGE, "-p", "scael", "2"], ["scael", "did you mean 'scale'"]),
        ([*RANGE, "-p", "label", "x", "--notebooks", "traffic"], ["label"]),
        ([*RANGE, "-p", "start", "2025-01-01"], ["-p start", "--start"]),
        ([*RANGE, "-p", "top_n", "many"], ["top_n", "integer", "overview"]),
        ([*RANGE, "--jobs", "0"], ["--jobs"]),
        ([*RANGE, "--source", "{tmp}/missing"], ["missing", "does not exist"]),
        ([*RANGE, "--source", "{no_events}", "--notebooks", "traffic"], ["traffic", "events"]),
        ([*RANGE, "--source", f"postgres://me:{MARKER}@127.0.0.1:9/shop"], ["***"]),
    ],
)
def test_bad_input_exits_2_naming_the_culprit_and_creates_nothing(
    argv: list[str], culprits: list[str], tmp_path: Path, outputs: Path
) -> None:
    no_events = source_without(tmp_path, "events")
    argv = [a.format(tmp=tmp_path, no_events=no_events) for a in argv]
    if "--source" not in argv:
        argv += ["--source", str(SOURCE)]
    code, out, err = call(argv)
    assert code == 2, err
    assert err.startswith("error: ") and err.count("error: ") == 1, err
    for culprit in culprits:
        assert culprit in err
    assert MARKER not in err + out
    assert not outputs.exists()


def test_output_that_is_someone_elses_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    code, _, err = call([*RANGE, "--source", str(SOURCE), "--output", str(tmp_path)])
    assert code == 2 and "not an earlier run" in err
    assert (tmp_path / "mine.txt").read_text() == "keep me"


def test_notebooks_without_their_tables_are_skipped_unless_named(
    tmp_path: Path, outputs: Path
) -> None:
    code, out, err = call(
        [*RANGE, "--source", str(source_without(tmp_path, "events")), "--dry-run"]
    )
    assert code == 0, err
    assert "note: skipping traffic (no events table)" in err
    assert out.startswith("overview: ") and "traffic:" not in out
    assert not outputs.exists()


def test_a_requirement_of_alternatives_is_met_by_either_table(
    tmp_path: Path, outputs: Path
) -> None:
    # the overview needs events or orders: either one will do, neither will not
    code, out, err = call(
        [*RANGE, "--source", str(source_without(tmp_path, "orders")), "--dry-run"]
    )
    assert code == 0, err
    assert out.startswith("overview: ") and "traffic:" in out
    (tmp_path / "partial" / "events.csv").unlink()
    code, _, err = call([*RANGE, "--source", str(tmp_path / "partial"), "--dry-run"])
    assert code == 2
    assert "skipped: overview (no events or orders table), traffic (no events table)" in err
    code, _, err = call(
        [*RANGE, "--source", str(tmp_path / "partial"), "--notebooks", "overview", "--dry-run"]
    )
    assert code == 2 and "notebook 'overview' needs table(s) events or orders" in err
    assert not outputs.exists()


# ------------------------------------------------------------------ ranges the data does not cover


def test_a_range_without_any_data_is_refused_naming_where_the_data_is(outputs: Path) -> None:
    code, out, err = call(
        ["--start", "2024-01-01", "--end", "2024-01-07", "--source", str(SOURCE),
         "--timezone", "Asia/Shanghai", "--dry-run"]
    )  # fmt: skip
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith(
        "error: no events or orders from 2024-01-01 to 2024-01-07 (Asia/Shanghai)"
    )
    assert "events run from 2025-02-27 to 2025-03-10" in err
    assert "orders run from 2025-03-01 to 2025-03-07" in err
    assert not outputs.exists()


def test_a_range_with_events_but_no_orders_warns_naming_where_the_orders_are(
    outputs: Path,
) -> None:
    code, _, err = call(
        ["--start", "2025-03-09", "--end", "2025-03-10", "--source", str(SOURCE),
         "--timezone", "Asia/Shanghai", "--dry-run"]
    )  # fmt: skip
    assert code == 0, err
    [warning] = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert warning.startswith(
        "warning: no orders from 2025-03-09 to 2025-03-10 (Asia/Shanghai); orders run from "
        "2025-03-01 to 2025-03-07 (local days); in range: "
    )
    assert warning.endswith(
        " events; the sections that need them will be empty: check --start and --end"
    )
    assert not outputs.exists()


def test_a_range_the_data_covers_in_part_warns_naming_the_days_without_data(
    outputs: Path,
) -> None:
    code, out, err = call(
        ["--start", "2025-03-05", "--end", "2025-03-12", "--source", str(SOURCE),
         "--timezone", "UTC", "--dry-run"]
    )  # fmt: skip
    assert code == 0, err
    [warning] = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert "covers only part of 2025-03-05 to 2025-03-12 (UTC)" in warning
    assert "no events on 2025-03-10 to 2025-03-12 (3 of 8 days)" in warning
    assert "no orders on 2025-03-08 to 2025-03-12 (5 of 8 days)" in warning
    assert out.startswith("overview: ")
    # a range inside the data: no warning
    code, _, err = call([*RANGE, "--source", str(SOURCE), "--timezone", "UTC", "--dry-run"])
    assert code == 0 and "warning" not in err
