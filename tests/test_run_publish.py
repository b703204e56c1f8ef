"""Running and publishing: a successful run writes the run folder atomically, a failing one is kept
under failed/ and leaves the earlier run, and a second run of one output refuses."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from lib import run
from lib.run import plan as run_plan
from tests.runner_support import (
    RANGE,
    RUN_NAME,
    SOURCE,
    call,
    files_under,
    read_csv,
)

pytest_plugins = ("tests.runner_fixtures",)


@pytest.fixture(scope="module")
def completed(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, str, Path]:
    """One successful run of both fixture notebooks into the default place."""
    outputs = tmp_path_factory.mktemp("completed") / "outputs"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(run_plan, "OUTPUTS_DIR", outputs)
        code, out, err = call(
            [
                *RANGE,
                "--source",
                str(SOURCE),
                "--timezone",
                "Asia/Shanghai",
                "-p",
                "label",
                "2024-01-01'; DROP",
                "-p",
                "top_n",
                "5",
                "-p",
                "channels",
                '["web"]',
            ]
        )
    return code, out, err, outputs


def test_a_second_run_of_the_same_output_refuses_while_the_first_holds_the_lock(
    outputs: Path,
) -> None:
    target = outputs / RUN_NAME
    outputs.mkdir()
    with run.lock(target):
        code, _, err = call([*RANGE, "--source", str(SOURCE), "--notebooks", "traffic"])
    assert code == 2 and "another run is writing" in err
    assert not target.exists()


# ------------------------------------------------------------------ a successful run


def test_success_writes_the_run_folder_in_the_default_place(completed) -> None:
    code, out, err, outputs = completed
    assert code == 0, err
    folder = outputs / RUN_NAME
    assert out.strip() == str(folder)
    assert sorted(p.name for p in outputs.iterdir()) == [f".{RUN_NAME}.lock", RUN_NAME]
    assert sorted(files_under(folder)) == [
        "figures/traffic_line.png",
        "notebooks/00_overview.ipynb",
        "notebooks/01_traffic.ipynb",
        "report.html",
        "run.json",
        "tables/overview_summary.csv",
        "tables/traffic_parameters.csv",
    ]
    record = json.loads((folder / "run.json").read_text())
    assert record["status"] == "succeeded"
    assert (record["start"], record["end"], record["timezone"]) == (
        "2025-03-01",
        "2025-03-07",
        "Asia/Shanghai",
    )
    assert record["source"] == str(SOURCE)
    assert [n["name"] for n in record["notebooks"]] == ["overview", "traffic"]
    assert record["parameters"]["overview"]["top_n"] == 5
    assert "channels" not in record["parameters"]["overview"]  # only where declared
    assert record["versions"]["papermill"] and record["started_utc"] <= record["finished_utc"]
    # the executed notebooks name where the run ended up, not the temporary folder
    notebook_text = (folder / "notebooks" / "00_overview.ipynb").read_text()
    assert ".tmp-" not in notebook_text and json.dumps(str(folder))[1:-1] in notebook_text


def test_tables_hold_what_the_notebooks_computed_from_their_parameters(completed) -> None:
    folder = completed[3] / RUN_NAME
    [summary] = read_csv(folder / "tables" / "overview_summary.csv")
    assert summary == {
        "start": "2025-03-01",
        "end": "2025-03-07",
        "timezone": "Asia/Shanghai",
        "label": "2024-01-01'; DROP",
        "top_n": "5",
        "orders": "8",
    }
    echo = {r["name"]: r["value"] for r in read_csv(folder / "tables" / "traffic_parameters.csv")}
    assert echo["channels"] == '["web"]' and echo["scale"] == "1.5"
    assert echo["source"] == str(SOURCE)


def test_report_is_one_page_with_contents_and_every_notebook(completed) -> None:
    html = (completed[3] / RUN_NAME / "report.html").read_text()
    assert "2025-03-01 to 2025-03-07" in html and "Asia/Shanghai" in html
    for anchor in (
        "nb-overview",
        "nb-traffic",
        "overview--orders-in-the-period",
        "traffic--a-small-figure",
    ):
        assert f'href="#{anchor}"' in html and f'id="{anchor}"' in html
    assert "Overview (fixture)" in html and "Traffic (fixture)" in html
    assert "data:image/png;base64," in html
    assert "<script src=" not in html  # nothing fetched from a CDN
    assert "open_source(source)" not in html  # code is hidden


# ------------------------------------------------------------------ a failing run


def test_failure_keeps_the_earlier_run_and_files_the_new_one_under_failed(
    completed, tmp_path: Path
) -> None:
    outputs = tmp_path / "outputs"
    earlier = outputs / RUN_NAME
    shutil.copytree(completed[3] / RUN_NAME, earlier)
    before = files_under(earlier)
    dead = outputs / f".{RUN_NAME}.tmp-999999999-0bad"  # left by a killed run
    alive = outputs / f".{RUN_NAME}.tmp-{os.getpid()}-0ace"  # a run still going
    dead.mkdir()
    alive.mkdir()

    code, out, err = call(
        [*RANGE, "--source", str(SOURCE), "--output", str(earlier), "-p", "fail", "true"]
    )

    assert code == 1 and out == ""
    assert "notebook 'overview' failed" in err
    assert "In [" in err and "`if fail:`" in err and "ValueError" in err
    assert files_under(earlier) == before
    assert not dead.exists() and alive.exists()
    [kept] = (outputs / "failed").iterdir()
    assert kept.name.startswith(f"{RUN_NAME}-") and str(kept) in err
    record = json.loads((kept / "run.json").read_text())
    assert record["status"] == "failed"
    assert {n["name"]: n["status"] for n in record["notebooks"]} == {
        "overview": "failed",
        "traffic": "succeeded",
    }
    assert "the fixture was asked to fail" in (kept / "notebooks" / "00_overview.ipynb").read_text()
    assert (kept / "tables" / "traffic_parameters.csv").exists()  # the other notebook finished
    assert "(failed)" in (kept / "report.html").read_text()
