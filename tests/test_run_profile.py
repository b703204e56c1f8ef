"""``python -m lib.run --profile``: what a source holds, before any analysis (issue 16)."""

from __future__ import annotations

import shutil

import pandas as pd

from lib import run

from .conftest import KNOWN_ANSWERS


def test_profile_names_tables_ranges_users_and_event_names(capsys):
    source = KNOWN_ANSWERS / "source"
    code = run.main(["--profile", "--source", str(source), "--timezone", "Asia/Shanghai"])
    out = capsys.readouterr().out
    assert code == 0
    orders = pd.read_csv(source / "orders.csv", parse_dates=["order_time"])
    first = orders["order_time"].min().tz_localize("UTC").tz_convert("Asia/Shanghai").date()
    last = orders["order_time"].max().tz_localize("UTC").tz_convert("Asia/Shanghai").date()
    assert f"  orders: {len(orders):,} rows, {first} to {last}" in out
    events = pd.read_csv(source / "events.csv")
    assert f"{events['user_id'].nunique():,} in events" in out
    top = events["event_name"].value_counts()
    assert f"event names ({len(top)}):" in out
    assert f"  {top.index[0]}: {top.iloc[0]:,}" in out
    assert "checks:\n  no problem found" in out


def test_profile_reports_a_value_error_with_exit_code_2(tmp_path, capsys):
    source = tmp_path / "shop"
    shutil.copytree(KNOWN_ANSWERS / "source", source)
    orders = pd.read_csv(source / "orders.csv")
    orders.loc[0, "paid_amount"] = -5.0
    orders.to_csv(source / "orders.csv", index=False)
    code = run.main(["--profile", "--source", str(source)])
    out = capsys.readouterr().out
    assert code == 2
    assert "time zone: UTC" in out  # no --timezone: UTC
    assert "  error: " in out and "paid_amount" in out
