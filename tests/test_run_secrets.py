"""The source's secrets: a password in a source URL reaches the kernels but no output, relative
database files are made absolute, and the name 'sample'."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from lib.data import redact, url_secrets
from lib.run import (
    SourceSpec,
    absolute_file_url,
)
from tests.runner_support import (
    MARKER,
    NOTEBOOKS,
    PROJECT_ROOT,
    RANGE,
    SOURCE,
    call,
    files_under,
    read_csv,
)

pytest_plugins = ("tests.runner_fixtures",)


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
