"""requirements.in, requirements.lock and environment.yml must name the same packages."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\-]+(?:\[[^\]]+\])?)\s*(.*)$")


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", requirement.split("[")[0]).lower()


def _specs(lines: list[str]) -> dict[str, str]:
    specs = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if not line:
            continue
        match = REQUIREMENT.match(line)
        assert match, f"unparsable requirement line: {line!r}"
        specs[_name(match.group(1))] = match.group(2).replace(" ", "")
    return specs


def requirements_in() -> dict[str, str]:
    return _specs((ROOT / "requirements.in").read_text().splitlines())


def environment_yml() -> dict[str, str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    pip_lines = [line.strip()[2:] for line in lines[start + 1 :] if line.strip().startswith("- ")]
    return _specs(pip_lines)


def lock() -> dict[str, str]:
    return _specs((ROOT / "requirements.lock").read_text().splitlines())


def test_environment_yml_matches_requirements_in():
    assert environment_yml() == requirements_in()


def test_lock_pins_every_requirement_exactly():
    locked = lock()
    missing = sorted(set(requirements_in()) - set(locked))
    assert not missing, f"requirements.lock lacks {missing}"
    loose = sorted(name for name, spec in locked.items() if not spec.startswith("=="))
    assert not loose, f"requirements.lock has unpinned entries {loose}"


def test_lock_satisfies_requirements_in():
    from packaging.specifiers import SpecifierSet

    locked = lock()
    for name, spec in requirements_in().items():
        version = locked[name].removeprefix("==")
        assert version in SpecifierSet(spec), f"{name}=={version} does not satisfy {spec!r}"
