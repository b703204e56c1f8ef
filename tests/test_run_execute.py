"""Notebooks run on kernels kept between them (lib/run/execute.py): the next notebook sees none of
the names the previous one defined and counts its cells from 1, and a failed notebook's kernel is
replaced, never reused."""

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
from lib.outputs import save_table
user_names = sorted(n for n in globals() if not n.startswith("_") and n not in {"In", "Out"})
save_table(pd.DataFrame({"pid": [os.getpid()], "names": [" ".join(user_names)]}), NAME, output_dir)
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
    _notebook(folder, "00_a.ipynb", 'NAME = "a"\nleft_by_a = 1\n' + RECORD)
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
    assert set(b["names"].split()) == set(a["names"].split()) - {"left_by_a"}


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
