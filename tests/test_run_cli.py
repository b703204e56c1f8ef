"""The runner's command line: reading the notebooks' cells, ``--list``, and errors that stop
before any notebook with one ``error:`` line and exit code 2, never a traceback."""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest

from lib import run
from lib.run import (
    UsageError,
    main,
    notebook_parameters,
)
from tests.runner_support import (
    NOTEBOOKS,
    RANGE,
    SOURCE,
    call,
)

pytest_plugins = ("tests.runner_fixtures",)


# ------------------------------------------------------------------ notebooks and parameters


def test_parameters_are_read_even_when_papermill_cannot_parse_the_line() -> None:
    params, has_cell = notebook_parameters(NOTEBOOKS / "00_overview.ipynb")
    assert has_cell
    # these two lines have '=' in their comments, which papermill's inspector skips
    assert {"start", "end", "source", "timezone", "output_dir", "label", "top_n", "fail"} <= set(
        params
    )
    assert params["output_dir"].help == "None = write nothing"
    assert params["top_n"].value == 3


def test_list_shows_notebooks_parameters_and_tables() -> None:
    code, out, _ = call(["--list"])
    assert code == 0
    assert "overview  (00_overview.ipynb; needs tables: events or orders)" in out
    assert "-p scale 1.5" in out and "traffic" in out


# ------------------------------------------------------------------ no tracebacks


@pytest.mark.parametrize(
    ("start", "end", "culprit"),
    [
        ("1900-01-01", "9999-12-31", "--start 1900-01-01"),
        ("0001-01-01", "2025-03-07", "--start 0001-01-01"),
        ("2025-03-01", "9999-12-31", "--end 9999-12-31"),
        ("1969-12-31", "2025-03-07", "--start 1969-12-31"),
    ],
)
def test_dates_outside_the_supported_years_are_refused(
    start: str, end: str, culprit: str, outputs: Path
) -> None:
    code, _, err = call(["--start", start, "--end", end, "--source", str(SOURCE), "--dry-run"])
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"error: {culprit} ") and "1970 to 2200" in err


def test_the_supported_years_include_their_ends(outputs: Path) -> None:
    for start, end in (("1970-01-01", "2025-03-07"), ("2025-03-01", "2200-12-31")):
        code, _, err = call(["--start", start, "--end", end, "--source", str(SOURCE), "--dry-run"])
        assert code == 0, err
        assert "warning: the data covers only part of" in err


def test_a_notebook_that_is_not_json_is_named(tmp_path: Path, outputs: Path) -> None:
    folder = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, folder)
    (folder / "05_broken.ipynb").write_text('{\n "cells": [\n  {,\n')
    for argv in (
        ["--notebooks", "overview", *RANGE, "--source", str(SOURCE), "--dry-run"],  # unselected
        ["--list"],
    ):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--notebooks-dir", str(folder), *argv])
        assert code == 2 and err.getvalue().count("\n") == 1, err.getvalue()
        assert err.getvalue().startswith(f"error: notebook {folder / '05_broken.ipynb'} ")
        assert "JSONDecodeError" in err.getvalue() and "line 3" in err.getvalue()


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_an_output_folder_that_cannot_be_created_is_refused(outputs: Path) -> None:
    code, _, err = call(
        [*RANGE, "--source", str(SOURCE), "--output", "/proc/ecom/run", "--dry-run"]
    )
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith("error: --output /proc/ecom/run cannot be created")
    # and if the folder goes away between the checks and the run, the same line, no traceback
    args = run.build_parser().parse_args([*RANGE, "--source", str(SOURCE), "--quiet"])
    plan = run.plan_run(args, run.discover_notebooks(NOTEBOOKS), NOTEBOOKS)
    plan.output = Path("/proc/ecom/run")
    with pytest.raises(UsageError, match=r"--output /proc/ecom/run cannot be created"):
        run.execute_plan(plan)
    assert not outputs.exists()
