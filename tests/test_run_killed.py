"""A run killed with SIGKILL half-way leaves nothing that looks like a result, and the next run
starts clean (issue 7). The fixture notebook sleeps for ``pause`` seconds, then writes a table."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
SLOW = FIXTURES / "slow_notebooks"
SOURCE = FIXTURES / "known_answers" / "source"
ROOT = Path(__file__).resolve().parent.parent


def runner(output: Path, pause: float) -> list[str]:
    return [
        sys.executable, "-m", "lib.run", "--notebooks-dir", str(SLOW), "--quiet",
        "--start", "2025-03-01", "--end", "2025-03-07", "--source", str(SOURCE),
        "--output", str(output), "-p", "pause", str(pause),
    ]  # fmt: skip


def test_sigkill_mid_run_leaves_the_earlier_result_and_the_next_run_cleans_up(tmp_path):
    output = tmp_path / "run"
    first = subprocess.run(runner(output, 0), cwd=ROOT, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    earlier = (output / "tables" / "slow.csv").read_bytes()

    killed = subprocess.Popen(
        runner(output, 60),
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".run.tmp-*/notebooks")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(tmp_path.glob(".run.tmp-*")), "the run never started its notebook"
    time.sleep(1)  # the kernel is asleep inside the notebook now
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait(timeout=30)

    # The half-written folder is hidden (dot name) and the earlier result is untouched.
    assert (output / "tables" / "slow.csv").read_bytes() == earlier
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == ["run"]

    again = subprocess.run(runner(output, 0), cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert not list(tmp_path.glob(".run.tmp-*")), "the killed run's folder was not cleaned"
    assert (output / "tables" / "slow.csv").exists()
