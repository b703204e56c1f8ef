"""Shared helpers of the runner's tests (tests/test_run_*.py); their fixture ``outputs`` is in
tests/runner_fixtures.py, which each loads through ``pytest_plugins``.

Kernels take a few seconds to start, so the real runs are few: one successful run shared by several
tests, one failing run, and one subprocess run with a password-bearing URL. Every bad-input case
stops before a kernel starts. The notebooks are the tiny fixtures in tests/fixtures/notebooks:
``00_overview`` (needs ``orders``, writes ``tables/overview_summary.csv``, can be told to fail with
``-p fail true``) and ``01_traffic`` (needs ``events``, echoes its parameters, draws a figure).
Neither has a declaration in lib/parameters.py beyond the names they share with it, so their own
parameters are typed by their defaults.
"""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
from pathlib import Path

from lib.run import main

FIXTURES = Path(__file__).parent / "fixtures"
NOTEBOOKS = FIXTURES / "notebooks"
SOURCE = FIXTURES / "known_answers" / "source"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
REAL_NOTEBOOKS = PROJECT_ROOT / "notebooks"
RANGE = ["--start", "2025-03-01", "--end", "2025-03-07"]
RUN_NAME = "2025-03-01_2025-03-07"
MARKER = "S3cr3tMarker"


def call(argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)`` in-process, with its stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--notebooks-dir", str(NOTEBOOKS), "--quiet", *argv])
    return code, out.getvalue(), err.getvalue()


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def source_without(tmp_path: Path, table: str) -> Path:
    """A copy of the known-answers source without ``table``, in ``tmp_path/partial``."""
    folder = tmp_path / "partial"
    shutil.copytree(SOURCE, folder)
    (folder / f"{table}.csv").unlink()
    return folder


def dry_run_real(argv: list[str]) -> tuple[int, str, str]:
    """``--dry-run`` of the project's notebooks on the hand-checked shop."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(
            ["--notebooks-dir", str(REAL_NOTEBOOKS), "--quiet", "--dry-run", *RANGE,
             "--source", str(SOURCE), *argv]
        )  # fmt: skip
    return code, out.getvalue(), err.getvalue()


# The bundled sample's default month, where its known truths are planted (data/sample/README.md)
SAMPLE_MONTH = ["--start", "2025-10-15", "--end", "2025-11-14", "--timezone", "Asia/Shanghai"]


def run_sample_notebook(name: str, output: Path) -> Path:
    """Run one real notebook (``monitoring``, ``journeys``, ``customers`` …) on the bundled sample's
    default month into ``output``, through the runner as a user would; ``output`` once it passed."""
    code = main([*SAMPLE_MONTH, "--notebooks", name, "--output", str(output), "--quiet"])
    assert code == 0, f"the {name} notebook failed on the sample"
    return output
