"""Compare two run folders of ``python -m lib.run``: the same tables, byte for byte.

::

    python scripts/compare_runs.py outputs/before outputs/after

A refactoring that must not change any number is checked this way: every ``tables/*.csv`` of
one run must exist in the other with identical bytes, and both runs must hold the same figure
and notebook names. Figures themselves are compared by name only (a PNG's bytes depend on the
matplotlib build). Exit code 0 when the runs agree, 1 with one line per difference otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path


def _names(folder: Path, pattern: str) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.glob(pattern) if p.is_file()}


def differences(before: Path, after: Path) -> list[str]:
    """How ``after`` differs from ``before`` (tables by bytes, figures and notebooks by name)."""
    found = []
    for pattern in ("tables/*.csv", "figures/*", "notebooks/*.ipynb"):
        old, new = _names(before, pattern), _names(after, pattern)
        found += [f"only in {before}: {name}" for name in sorted(old - new)]
        found += [f"only in {after}: {name}" for name in sorted(new - old)]
        if pattern.startswith("tables"):
            found += [
                f"differs: {name}"
                for name in sorted(old & new)
                if (before / name).read_bytes() != (after / name).read_bytes()
            ]
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print("usage: python scripts/compare_runs.py BEFORE AFTER", file=sys.stderr)
        return 2
    before, after = (Path(a) for a in argv)
    found = differences(before, after)
    for line in found:
        print(line)
    tables = len(_names(before, "tables/*.csv"))
    print(
        f"{tables} tables compared: " + ("identical" if not found else f"{len(found)} differences")
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
