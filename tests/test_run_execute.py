"""Notebooks run on kernels kept between them (lib/run/execute.py): the next notebook sees none of
the names the previous one defined nor the tables it kept, and counts its cells from 1, and a
failed notebook's kernel is replaced, never reused."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

from lib.run import plan as run_plan
from tests.runner_support import RANGE, SOURCE, call

HEAD = (
    'start = "2025-03-01"\nend = "2025-03-07"\nsource = None\ntimezone = "UTC"\noutput_dir = None'
)
RECORD = """\
import os
import pandas as pd
from lib import data as _data
from lib.outputs import save_table
user_names = sorted(n for n in globals() if not n.startswith("_") and n not in {"In", "Out"})
_kept = sum(len(held) for held in _data._KEPT.values())
save_table(pd.DataFrame({"pid": [os.getpid()], "names": [" ".join(user_names)], "kept": [_kept]}),
           NAME, output_dir)
"""
# a table kept on a connection of its own, as a metric keeps a funnel's reach
KEEP = """\
import ibis
import pandas as pd
from lib import data
kept_table = data.kept(ibis.duckdb.connect().create_table("x", pd.DataFrame({"a": [1]})), "t", 1)
"""


def _notebook(folder: Path, file: str, body: str) -> None:
    nb = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell(HEAD)
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, folder / file)


@pytest.fixture(scope="module")
def kept_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    """Four notebooks on one job: a, b, c (fails), d."""
    folder = tmp_path_factory.mktemp("notebooks")
    _notebook(folder, "00_a.ipynb", 'NAME = "a"\nleft_by_a = 1\n' + KEEP + RECORD)
    _notebook(folder, "01_b.ipynb", 'NAME = "b"\n' + RECORD)
    _notebook(folder, "02_c.ipynb", 'left_by_c = 1\nraise ValueError("c fails on purpose")')
    _notebook(folder, "03_d.ipynb", 'NAME = "d"\n' + RECORD)
    outputs = tmp_path_factory.mktemp("kept") / "outputs"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(run_plan, "OUTPUTS_DIR", outputs)
        code, _, err = call(
            [*RANGE, "--source", str(SOURCE), "--notebooks-dir", str(folder), "--jobs", "1"]
        )
    [kept] = (outputs / "failed").iterdir()
    return code, err, kept


def _record(run: Path, name: str) -> dict[str, str]:
    import csv

    with (run / "tables" / f"{name}.csv").open() as f:
        [row] = list(csv.DictReader(f))
    return row


def test_the_next_notebook_sees_no_name_the_previous_one_left(kept_run) -> None:
    code, err, run = kept_run
    assert code == 1 and "notebook 'c' failed" in err
    a, b = _record(run, "a"), _record(run, "b")
    assert a["pid"] == b["pid"] != str(os.getpid())  # one kernel for both
    assert "left_by_a" in a["names"].split() and "left_by_a" not in b["names"].split()
    # b's names are those of a fresh kernel (a's) but for what a's cell defined
    assert set(b["names"].split()) == set(a["names"].split()) - {
        "left_by_a",
        "kept_table",
        "ibis",
        "data",
    }


def test_the_next_notebook_holds_none_of_the_tables_the_previous_one_kept(kept_run) -> None:
    # a kept table holds its connection (and its memory): the reset lets go of it
    _, _, run = kept_run
    assert (_record(run, "a")["kept"], _record(run, "b")["kept"]) == ("1", "0")


def test_cells_count_from_1_in_every_notebook(kept_run) -> None:
    _, _, run = kept_run
    for name in ("00_a", "01_b", "03_d"):
        cells = json.loads((run / "notebooks" / f"{name}.ipynb").read_text())["cells"]
        counts = [c["execution_count"] for c in cells if c["cell_type"] == "code"]
        assert counts[0] == 1 and counts == sorted(counts), (name, counts)


def test_a_failed_notebooks_kernel_is_not_reused(kept_run) -> None:
    _, _, run = kept_run
    a, d = _record(run, "a"), _record(run, "d")
    assert d["pid"] != a["pid"]
    assert "left_by_c" not in d["names"].split()


def _listed(name: str):
    from lib.run.notebooks import Notebook

    return Notebook(name=name, path=Path(f"{name}.ipynb"), parameters={}, has_parameters_cell=True)


def test_the_longest_notebooks_start_first_and_new_ones_before_them(tmp_path, monkeypatch):
    from lib.run import execute

    monkeypatch.setenv("ECOMMERCE_OPS_CACHE", str(tmp_path))
    notebooks = [_listed(n) for n in ("overview", "traffic", "conversion", "costs", "new")]
    assert execute.last_seconds() == {}
    # nothing timed yet: the catalogue's typical times (ties in report order), new ones first
    assert [nb.name for nb in execute.longest_first(notebooks, {})] == [
        "new",
        "traffic",
        "conversion",
        "overview",
        "costs",
    ]
    typical = execute.TYPICAL_SECONDS
    assert typical["traffic"] == typical["conversion"] > typical["overview"] > typical["costs"]
    results = [
        execute.Result(nb, tmp_path / nb.name, seconds)
        for nb, seconds in zip(notebooks[:4], (27.0, 61.0, 77.0, 3.0), strict=True)
    ]
    results.append(execute.Result(notebooks[4], tmp_path, 5.0, error="failed"))
    execute.remember_seconds(results)
    known = execute.last_seconds()
    assert known == {"overview": 27.0, "traffic": 61.0, "conversion": 77.0, "costs": 3.0}
    order = [nb.name for nb in execute.longest_first(notebooks, known)]
    assert order == ["new", "conversion", "traffic", "overview", "costs"]


def test_with_the_cache_off_the_times_are_not_kept(tmp_path, monkeypatch):
    from lib.run import execute

    monkeypatch.setenv("ECOMMERCE_OPS_CACHE", "off")
    execute.remember_seconds([execute.Result(_listed("overview"), tmp_path, 1.0)])
    assert execute.last_seconds() == {}


def test_every_catalogue_notebook_has_a_typical_time():
    from lib import parameters
    from lib.run import execute

    # a notebook added to the catalogue without one would start first on a fresh machine
    assert set(execute.TYPICAL_SECONDS) == set(parameters.NOTEBOOKS)
