"""The fixture shared by the runner's tests, loaded by each through ``pytest_plugins`` (kept apart
from tests/runner_support.py, which the tests import, so that pytest can load it first)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.run import plan as run_plan


@pytest.fixture
def outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh default outputs folder (not created yet)."""
    folder = tmp_path / "outputs"
    monkeypatch.setattr(run_plan, "OUTPUTS_DIR", folder)
    return folder
