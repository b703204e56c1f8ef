"""Tests of the notebook runner ``python -m lib.run``.

Kernels take a few seconds to start, so the real runs are few: one successful run shared by several
tests, one failing run, and one subprocess run with a password-bearing URL. Every bad-input case
stops before a kernel starts. The notebooks are the tiny fixtures in tests/fixtures/notebooks:
``00_overview`` (needs ``orders``, writes ``tables/overview_summary.csv``, can be told to fail with
``-p fail true``) and ``01_traffic`` (needs ``events``, echoes its parameters, draws a figure).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from lib import run
from lib.data import redact, url_secrets
from lib.run import (
    Parameter,
    SourceSpec,
    UsageError,
    absolute_file_url,
    convert_value,
    main,
    notebook_parameters,
)

FIXTURES = Path(__file__).parent / "fixtures"
NOTEBOOKS = FIXTURES / "notebooks"
SOURCE = FIXTURES / "known_answers" / "source"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
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


@pytest.fixture
def outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh default outputs folder (not created yet)."""
    folder = tmp_path / "outputs"
    monkeypatch.setattr(run, "OUTPUTS_DIR", folder)
    return folder


@pytest.fixture(scope="module")
def completed(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, str, Path]:
    """One successful run of both fixture notebooks into the default place."""
    outputs = tmp_path_factory.mktemp("completed") / "outputs"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(run, "OUTPUTS_DIR", outputs)
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


@pytest.mark.parametrize(
    ("default", "raw", "expected"),
    [
        ("3", "12", 12),
        ("1.5", "2", 2.0),
        ("False", "yes", True),
        ("True", "0", False),
        ('["a"]', '["x", "y"]', ["x", "y"]),
        ('{"a": 1}', '{"b": 2}', {"b": 2}),
        ('"text"', "2024-01-01'; DROP", "2024-01-01'; DROP"),
        ('"text"', "__import__('os').system('echo hi')", "__import__('os').system('echo hi')"),
        ("None", "[1, 2]", "[1, 2]"),  # no type to follow: the text as given
    ],
)
def test_parameter_values_are_data_not_code(default: str, raw: str, expected: object) -> None:
    assert convert_value(raw, Parameter("x", default)) == expected


@pytest.mark.parametrize(
    ("default", "raw"),
    [
        ("3", "1.5"),
        ("3", "__import__('os')"),
        ("1.5", "nan"),
        ("False", "maybe"),
        ('["a"]', "['a']"),
        ('["a"]', '{"a": 1}'),
    ],
)
def test_parameter_values_of_the_wrong_type_are_refused(default: str, raw: str) -> None:
    with pytest.raises(UsageError, match=r"-p x"):
        convert_value(raw, Parameter("x", default))


def test_source_spec_hides_only_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert SourceSpec.from_arg("shop").parameter == str(tmp_path / "shop")
    assert SourceSpec.from_arg(None).parameter is None
    plain = SourceSpec.from_arg("duckdb:///tmp/shop.duckdb")
    assert plain.parameter == "duckdb:///tmp/shop.duckdb" and not plain.env
    hidden = SourceSpec.from_arg(f"postgres://me:{MARKER}@db/shop?sslmode=require")
    assert hidden.parameter == "${ECOM_SOURCE_URL}"
    assert MARKER in hidden.env["ECOM_SOURCE_URL"] and MARKER not in hidden.display
    assert hidden.scrub(f"failed: {MARKER}") == "failed: ***"
    token = SourceSpec.from_arg(f"trino://host/db?access_token={MARKER}")
    assert token.parameter == "${ECOM_SOURCE_URL}" and MARKER not in token.display


# ------------------------------------------------------------------ bad input: exit 2, nothing made


def _source_without(tmp_path: Path, table: str) -> Path:
    folder = tmp_path / "partial"
    shutil.copytree(SOURCE, folder)
    (folder / f"{table}.csv").unlink()
    return folder


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
    no_events = _source_without(tmp_path, "events")
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
        [*RANGE, "--source", str(_source_without(tmp_path, "events")), "--dry-run"]
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
        [*RANGE, "--source", str(_source_without(tmp_path, "orders")), "--dry-run"]
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


def test_a_second_run_of_the_same_output_refuses_while_the_first_holds_the_lock(
    outputs: Path,
) -> None:
    target = outputs / RUN_NAME
    outputs.mkdir()
    with run._lock(target):
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


# ------------------------------------------------------------------ secrets, through the real CLI


def test_a_password_in_the_source_url_reaches_the_kernels_but_no_output(tmp_path: Path) -> None:
    database = tmp_path / "shop.duckdb"
    with duckdb.connect(str(database)) as con:
        for table in ("events", "orders", "order_items", "products"):
            con.execute(
                f"create table {table} as select * from read_csv_auto(?)",
                [str(SOURCE / f"{table}.csv")],
            )
    # DuckDB accepts (and ignores) a password option, so this URL really connects
    url = f"duckdb:///{database}?password={MARKER}"
    output = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k != "ECOM_SOURCE_URL"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "lib.run",
            *RANGE,
            "--source",
            url,
            "--output",
            str(output),
            "--notebooks-dir",
            str(NOTEBOOKS),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(output)
    assert MARKER not in proc.stdout + proc.stderr and "password=***" in proc.stderr
    leaks = [
        p
        for p, data in files_under(tmp_path).items()
        if p != database.name and MARKER.encode() in data
    ]
    assert leaks == []
    # the kernel got the URL: it counted the orders through it
    [summary] = read_csv(output / "tables" / "overview_summary.csv")
    assert summary["orders"] == "8"
    echo = {r["name"]: r["value"] for r in read_csv(output / "tables" / "traffic_parameters.csv")}
    assert echo["source"] == "${ECOM_SOURCE_URL}"
    executed = (output / "notebooks" / "01_traffic.ipynb").read_text()
    assert "secret variable present: True" in executed
    assert "password=***" in json.loads((output / "run.json").read_text())["source"]
    # the credentials crossed to the kernels over an encrypted channel: ipykernel warns on
    # every start over plain TCP, and no kernel of this run did
    assert "without encryption" not in proc.stderr


# ------------------------------------------------------------------ secrets that urlsplit misses

# (URL, its secret): a '/', '#', '?' or '@' in a password hides it from urlsplit; query keys that
# name a secret, token or key anywhere in them
LEAKY_URLS = [
    (f"postgres://user:Xk9/{MARKER}@127.0.0.1:9/db", f"Xk9/{MARKER}"),
    (f"postgres://user:Xk9#{MARKER}@127.0.0.1:9/db", f"Xk9#{MARKER}"),
    (f"postgres://user:Xk9?{MARKER}@127.0.0.1:9/db", f"Xk9?{MARKER}"),
    (f"postgres://user:Xk9@{MARKER}@127.0.0.1:9/db", f"Xk9@{MARKER}"),
    (f"duckdb:///nowhere/shop.ddb?s3_secret_access_key={MARKER}&threads=1", MARKER),
    (f"duckdb:///nowhere/shop.ddb?api_key={MARKER}", MARKER),
    (f"duckdb:///nowhere/shop.ddb?threads=1&access_key={MARKER}", MARKER),
    (f"trino://u@h/cat?SessionToken={MARKER}", MARKER),
]


@pytest.mark.parametrize(("url", "secret"), LEAKY_URLS)
def test_redact_and_the_source_spec_find_every_secret(url: str, secret: str) -> None:
    assert MARKER not in redact(url) and "***" in redact(url)
    assert url_secrets(url) == [secret]
    spec = SourceSpec.from_arg(url)
    assert secret in spec.secrets and url in spec.secrets
    assert MARKER not in spec.display
    assert spec.parameter == "${ECOM_SOURCE_URL}" and spec.env == {"ECOM_SOURCE_URL": url}
    assert spec.scrub(f"failed on {secret}") == "failed on ***"


def test_redact_keeps_what_is_not_secret() -> None:
    for url in ("duckdb:///tmp/shop.ddb", "postgres://u@db/shop", "postgres://db:5432/shop?x=1"):
        assert redact(url) == url and url_secrets(url) == []
    assert redact("postgres://me:pw@db/shop?monkey=1") == "postgres://me:***@db/shop?monkey=***"


def _connect_failure(argv: list[str]) -> str:
    code, out, err = call([*RANGE, "--dry-run", *argv])
    assert code == 2, err
    assert err.startswith("error: cannot connect to ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return out + err


@pytest.mark.parametrize(("url", "secret"), LEAKY_URLS[:7])
def test_a_failing_connection_does_not_print_a_password_urlsplit_misses(
    url: str, secret: str, outputs: Path
) -> None:
    printed = _connect_failure(["--source", url])
    assert MARKER not in printed
    assert not outputs.exists()


@pytest.mark.parametrize(
    "url",
    [
        # DuckDB reads the slash as a path and names the file, password included, in its message
        f"duckdb://analyst:Xk9/{MARKER}@localhost//nowhere/shop.ddb",
        f"postgres://analyst:Xk9/{MARKER}@127.0.0.1:9/shop",
        f"duckdb:///nowhere/shop.ddb?s3_secret_access_key={MARKER}",
    ],
)
def test_a_var_reference_stays_unexpanded_and_its_secret_is_not_printed(
    url: str, monkeypatch: pytest.MonkeyPatch, outputs: Path
) -> None:
    monkeypatch.setenv("SHOP_DB_URL", url)
    spec = SourceSpec.from_arg("${SHOP_DB_URL}")
    # the kernels inherit the variable and expand it themselves
    assert spec.parameter == "${SHOP_DB_URL}" and spec.env == {}
    assert url in spec.secrets and any(MARKER in s and s != url for s in spec.secrets)
    assert MARKER not in _connect_failure(["--source", "${SHOP_DB_URL}"])
    monkeypatch.setenv("SHOP_DB_PASSWORD", f"Xk9/{MARKER}")
    spec = SourceSpec.from_arg("postgres://analyst:${SHOP_DB_PASSWORD}@127.0.0.1:9/shop")
    assert spec.parameter == "postgres://analyst:${SHOP_DB_PASSWORD}@127.0.0.1:9/shop"
    assert f"Xk9/{MARKER}" in spec.secrets
    printed = _connect_failure(
        ["--source", "postgres://analyst:${SHOP_DB_PASSWORD}@127.0.0.1:9/shop"]
    )
    assert MARKER not in printed


# ------------------------------------------------------------------ relative database files


def _duckdb_file(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        for table in ("events", "orders", "order_items", "products"):
            con.execute(
                f"create table {table} as select * from read_csv_auto(?)",
                [str(SOURCE / f"{table}.csv")],
            )
    return path


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("duckdb://shop.ddb", "duckdb:///{cwd}/shop.ddb"),
        ("duckdb://data/shop.ddb?threads=1", "duckdb:///{cwd}/data/shop.ddb?threads=1"),
        ("sqlite://relative.db", "sqlite:///{cwd}/relative.db"),
        ("file://shop.duckdb", "file:///{cwd}/shop.duckdb"),
        ("duckdb:///abs/shop.ddb", "duckdb:///abs/shop.ddb"),
        ("duckdb://", "duckdb://"),
        ("duckdb://:memory:", "duckdb://:memory:"),
        ("duckdb://md:shop", "duckdb://md:shop"),
        ("postgres://db/shop", "postgres://db/shop"),
    ],
)
def test_a_relative_database_file_is_made_absolute(
    url: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    expected = expected.format(cwd=str(tmp_path).lstrip("/"))
    assert absolute_file_url(url) == expected
    assert SourceSpec.from_arg(url).parameter == expected
    monkeypatch.setenv("SHOP_DB_URL", url)
    spec = SourceSpec.from_arg("${SHOP_DB_URL}")
    if expected == url:
        assert spec.parameter == "${SHOP_DB_URL}" and spec.env == {}
    else:
        # expanded in notebooks/, the variable would name another file: pass the absolute one
        assert spec.parameter == "${ECOM_SOURCE_URL}"
        assert spec.env == {"ECOM_SOURCE_URL": expected}


def test_a_relative_duckdb_url_reaches_the_kernels_as_an_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _duckdb_file(tmp_path / "shop.ddb")
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "out"
    code, out, err = call(
        [
            *RANGE,
            "--source",
            "duckdb://shop.ddb",
            "--notebooks",
            "overview",
            "--output",
            str(output),
        ]
    )
    assert code == 0, err
    [summary] = read_csv(output / "tables" / "overview_summary.csv")
    assert summary["orders"] == "8"  # the kernel, working in the notebooks folder, found it
    assert json.loads((output / "run.json").read_text())["source"] == (
        f"duckdb://{tmp_path}/shop.ddb"
    )


# ------------------------------------------------------------------ -p values the notebooks accept

REAL_NOTEBOOKS = PROJECT_ROOT / "notebooks"


def dry_run_real(argv: list[str]) -> tuple[int, str, str]:
    """``--dry-run`` of the project's notebooks on the hand-checked shop."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(
            ["--notebooks-dir", str(REAL_NOTEBOOKS), "--quiet", "--dry-run", *RANGE,
             "--source", str(SOURCE), *argv]
        )  # fmt: skip
    return code, out.getvalue(), err.getvalue()


def test_every_checked_parameter_is_a_parameter_of_the_notebooks() -> None:
    declared = {p for nb in run.discover_notebooks(REAL_NOTEBOOKS) for p in nb.own_parameters}
    checked = {*run._EVENT_PARAMETERS, "cohort_granularity", "exposure_measure", "breakdown"}
    checked |= {*run._NUMBER_RANGES, *(name for chain in run._ORDERED for name in chain)}
    assert checked <= declared, checked - declared


@pytest.mark.parametrize(
    ("argv", "culprits"),
    [
        (["-p", "cohort_granularity", "month"], ["-p cohort_granularity 'month'", "day, week"]),
        (["-p", "exposure_measure", "views"], ["exposure_measure", "impressions, clicks"]),
        (["-p", "breakdown", "chanel"], ["-p breakdown", "did you mean 'channel'?", "platform"]),
        (["-p", "breakdown", "category", "--notebooks", "conversion"], []),  # checked: ok
        (
            ["-p", "funnel_steps", '["view_item", "add_to_chart"]'],
            ["-p funnel_steps", "'add_to_chart'", "did you mean 'add_to_cart'?", "page_view"],
        ),
        (["-p", "funnel_steps", '["view_item"]'], ["funnel_steps", "two or more"]),
        (["-p", "secondary_paths", '[["view_item"]]'], ["secondary_paths", "two or more"]),
        (
            ["-p", "secondary_paths", '[["view_item", "purchas"]]'],
            ["secondary_paths", "did you mean 'purchase'?"],
        ),
        (["-p", "dropoff_step", "add_to_chart"], ["dropoff_step", "did you mean 'add_to_cart'?"]),
        (["-p", "start_event", "purchse"], ["start_event", "did you mean 'purchase'?"]),
        (["-p", "return_event", "login"], ["return_event", "'login'", "view_item"]),
        (["-p", "magic_behaviour", "foo"], ["magic_behaviour", "active_days, purchases or one"]),
        (["-p", "compare_segments", '["search"]'], ["compare_segments", "two segment names"]),
        (["-p", "commission_rate", "abc"], ["commission_rate", "a number or None"]),
        (["-p", "exposure_split", "lots"], ["exposure_split", "a number or None"]),
    ],
)
def test_parameter_values_outside_what_the_notebooks_accept_are_refused(
    argv: list[str], culprits: list[str], outputs: Path
) -> None:
    code, out, err = dry_run_real(argv)
    if not culprits:
        assert code == 0, err
        return
    assert code == 2, err
    assert err.startswith("error: -p ") and err.count("\n") == 1, err
    for culprit in culprits:
        assert culprit in err
    assert out == "" and not outputs.exists()


def test_none_and_numbers_reach_the_notebooks_as_such(outputs: Path) -> None:
    code, out, err = dry_run_real(
        ["-p", "commission_rate", "None", "-p", "start_event", "null", "-p", "return_event",
         "purchase", "-p", "exposure_split", "5000", "-p", "conversion_split", "none",
         "-p", "magic_behaviour", "purchases", "-p", "funnel_steps", '["view_item", "purchase"]',
         "-p", "cohort_granularity", "week"]
    )  # fmt: skip
    assert code == 0, err
    shown = {
        line.split(": ", 1)[0]: json.loads(line.split(": ", 1)[1]) for line in out.split("\n")[:-1]
    }
    assert shown["costs"]["commission_rate"] is None
    assert shown["retention"]["start_event"] is None
    assert shown["retention"]["return_event"] == "purchase"
    assert shown["products"]["exposure_split"] == 5000.0
    assert shown["products"]["conversion_split"] is None
    assert shown["conversion"]["funnel_steps"] == ["view_item", "purchase"]


@pytest.mark.parametrize(
    ("default", "help_text", "raw", "expected"),
    [
        ("0.03", "a share; None: use the costs table", "None", None),
        ("0.03", "a share; None: use the costs table", "0.05", 0.05),
        ("None", "None: any event", "null", None),
        ("None", "None: any event", "purchase", "purchase"),
        ("None", "None: the median; or a number", "12", 12.0),
        ('"text"', "free text", "None", "None"),  # None is not a value here: the text as given
    ],
)
def test_none_is_a_value_where_the_notebook_allows_it(
    default: str, help_text: str, raw: str, expected: object
) -> None:
    assert convert_value(raw, Parameter("x", default, help_text)) == expected


def test_purchases_as_magic_behaviour_needs_orders(tmp_path: Path, outputs: Path) -> None:
    source = _source_without(tmp_path, "orders")
    code, _, err = dry_run_real(["--source", str(source), "-p", "magic_behaviour", "purchases"])
    assert code == 2 and "-p magic_behaviour 'purchases'" in err and "no orders table" in err


def _holds_numbers(param: Parameter) -> bool:
    """A number, a list or dict of numbers, or a None default whose comment offers a number."""
    value = param.value
    values = list(value.values()) if isinstance(value, dict) else value
    values = values if isinstance(values, list) else [values]
    if any(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return True
    return value is None and run._NUMBER_HELP.search(param.help) is not None


def test_every_numeric_parameter_of_the_notebooks_has_a_range() -> None:
    numeric = {
        name
        for nb in run.discover_notebooks(REAL_NOTEBOOKS)
        for name, param in nb.own_parameters.items()
        if _holds_numbers(param)
    }
    assert {"band_k", "exposure_split", "abc_shares", "target_mix", "service_level"} <= numeric
    assert numeric - set(run._NUMBER_RANGES) == set(), "give each a range in lib/run.py"


def test_every_default_of_the_notebooks_is_inside_its_range() -> None:
    for nb in run.discover_notebooks(REAL_NOTEBOOKS):
        for name, param in nb.own_parameters.items():
            assert run._range_problem(param, param.value) is None, (nb.name, name)
        defaults = {name: param.value for name, param in nb.own_parameters.items()}
        assert run._order_problem(nb.own_parameters, defaults) is None, nb.name


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["-p", "attribution_hours", "-5"],
            "-p attribution_hours '-5': expected an integer from 1 to 87840 "
            "(the notebook's default is 24) in notebook 'traffic'",
        ),
        (
            ["-p", "conversion_window_days", "0"],
            "-p conversion_window_days '0': expected an integer from 1 to 3660 "
            "(the notebook's default is 7) in notebook 'conversion'",
        ),
        (
            ["-p", "commission_rate", "1.7"],
            "-p commission_rate '1.7': expected a number from 0 to 1 or None "
            "(the notebook's default is 0.03) in notebook 'costs'",
        ),
        (
            ["-p", "conversion_split", "2.5"],
            "-p conversion_split '2.5': expected a number above 0 and at most 1 or None "
            "(the notebook's default is None) in notebook 'products'",
        ),
        (
            ["-p", "service_level", "1"],
            "-p service_level '1': expected a number above 0 and below 1 "
            "(the notebook's default is 0.95) in notebook 'supply_chain'",
        ),
        (
            ["-p", "propensity_half_life_days", "-30"],
            "-p propensity_half_life_days '-30': expected an integer from 1 to 3660 "
            "(the notebook's default is 30) in notebook 'retention'",
        ),
        (
            ["-p", "top_n", "0"],
            "-p top_n '0': expected an integer of at least 1 "
            "(the notebook's default is 10) in notebook 'products'",
        ),
        (
            ["-p", "abc_shares", "[0.95, 0.8]"],
            "-p abc_shares '[0.95, 0.8]': expected a JSON list of 2 numbers above 0 and at most "
            "1, each at most the next (the notebook's default is [0.8, 0.95]) in notebook "
            "'products'",
        ),
        (
            ["-p", "target_mix", '{"stars": 0.5}'],
            "-p target_mix '{\"stars\": 0.5}': expected a JSON object of numbers from 0 to 1 "
            "under the keys star, traffic driver, future star, question",
        ),
        (
            ["-p", "highly_active_days", "40"],
            "-p highly_active_days '40': expected at most activity_window_days (30), since "
            "highly_active_days ≤ activity_window_days ≤ churn_days "
            "(the notebook's default is 8) in notebook 'retention'",
        ),
        (
            ["-p", "activity_window_days", "90", "-p", "churn_days", "60"],
            "-p churn_days '60': expected at least activity_window_days (90), since "
            "highly_active_days ≤ activity_window_days ≤ churn_days "
            "(the notebook's default is 60) in notebook 'retention'",
        ),
        (
            ["-p", "magic_retention_day", "3"],
            "-p magic_retention_day '3': expected at least magic_k_days (7), since "
            "magic_k_days ≤ magic_retention_day (the notebook's default is 30) in notebook "
            "'retention'",
        ),
    ],
)
def test_numbers_outside_what_the_lib_functions_can_use_are_refused(
    argv: list[str], message: str, outputs: Path
) -> None:
    code, out, err = dry_run_real(argv)
    assert code == 2 and err.startswith(f"error: {message}") and err.count("\n") == 1, err
    assert out == "" and not outputs.exists()


def test_numbers_on_the_bounds_and_orders_met_by_the_final_values_are_accepted(
    outputs: Path,
) -> None:
    code, out, err = dry_run_real(
        ["-p", "commission_rate", "0", "-p", "low_rating_max", "5", "-p", "abc_shares",
         "[0.8, 0.8]", "-p", "target_mix", '{"star": 1}', "-p", "highly_active_days", "30",
         "-p", "activity_window_days", "90", "-p", "churn_days", "90", "-p", "magic_k_days",
         "30", "-p", "service_level", "0.999"]
    )  # fmt: skip
    assert code == 0, err
    shown = {
        line.split(": ", 1)[0]: json.loads(line.split(": ", 1)[1]) for line in out.splitlines()
    }
    assert shown["retention"]["activity_window_days"] == 90
    assert shown["products"]["abc_shares"] == [0.8, 0.8]


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


# ------------------------------------------------------------------ the name 'sample'


def test_sample_is_ambiguous_when_a_folder_of_that_name_is_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outputs: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    assert SourceSpec.from_arg("sample").parameter is None  # no folder: the bundled sample
    shutil.copytree(SOURCE, tmp_path / "sample")
    code, _, err = call([*RANGE, "--source", "sample", "--dry-run"])
    assert code == 2 and err.count("\n") == 1, err
    assert "--source sample is ambiguous" in err
    assert "--source ./sample" in err and "leave out --source" in err
    code, out, err = call([*RANGE, "--source", "./sample", "--dry-run"])
    assert code == 0, err
    assert json.loads(out.splitlines()[0].split(": ", 1)[1])["source"] == str(tmp_path / "sample")
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
