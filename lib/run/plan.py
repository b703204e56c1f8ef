"""Planning a run: every check that can fail before a notebook runs.

Dates, time zone, notebook names, ``-p`` values (:mod:`lib.run.values`), the output folder, the
source, the tables each notebook needs and the values in them (:func:`lib.quality.validate`), and
that the date range holds data. A problem is a :class:`UsageError`; notes and warnings are kept
in :attr:`Plan.messages`.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib import sections
from lib.data import Source, coverage, days_text, stored_user_days, user_days_path
from lib.parameters import RUN_PARAMETERS
from lib.periods import Period, PeriodError
from lib.quality import validate
from lib.run.errors import UsageError
from lib.run.notebooks import PROJECT_ROOT, Notebook, names
from lib.run.source import SourceSpec, opened
from lib.run.values import FLAG_FOR, check_source_values, user_parameters

OUTPUTS_DIR = PROJECT_ROOT / "outputs"
DEFAULT_TIMEZONE = "UTC"
# Years a run may cover: from the Unix epoch (timestamps before 2000 are a warning, not an
# error, so a run over the 1990s works; the epoch itself is a placeholder). The bounds also keep
# every local midnight the metrics compute (a period widened by lib.periods.OFFSET_MARGIN_DAYS)
# inside what datetime can represent, near year 1 and 9999.
MIN_YEAR, MAX_YEAR = 1970, 2200

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Plan:
    """A checked run: what to run, with which parameters, from which source, into where."""

    period: Period
    source: SourceSpec
    notebooks: list[Notebook]
    parameters: dict[str, dict[str, Any]]  # notebook name -> all parameters papermill injects
    output: Path
    notebooks_dir: Path
    jobs: int
    progress: bool
    skipped: list[str] = field(default_factory=list)
    argv: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # notes and warnings of the data checks


def _parse_date(flag: str, value: str) -> None:
    if not _DATE.match(value.strip()):
        raise UsageError(f"{flag} {value!r} is not a date in the form YYYY-MM-DD")


def _check_years(period: Period) -> None:
    for flag, day in (("--start", period.start), ("--end", period.end)):
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            raise UsageError(
                f"{flag} {day} is outside the years {MIN_YEAR} to {MAX_YEAR} that a run can cover"
            )


def _select(notebooks: list[Notebook], wanted: str | None) -> tuple[list[Notebook], bool]:
    """The notebooks named in ``--notebooks`` (or all), in file order; whether they were named."""
    if wanted is None:
        return notebooks, False
    by_name = {nb.name: nb for nb in notebooks} | {nb.path.stem: nb for nb in notebooks}
    wanted_names = [n.strip() for n in wanted.split(",") if n.strip()]
    if not wanted_names:
        raise UsageError("--notebooks is empty; known notebooks: " + names(notebooks))
    unknown = [n for n in wanted_names if n not in by_name]
    if unknown:
        raise UsageError(
            f"unknown notebook(s) {', '.join(repr(n) for n in unknown)}; "
            f"known notebooks: {names(notebooks)}"
        )
    chosen = {by_name[n].name for n in wanted_names}
    return [nb for nb in notebooks if nb.name in chosen], True


def default_timezone(selected: list[Notebook]) -> str:
    """The time zone the notebooks themselves default to when they agree, else UTC."""
    zones = {nb.parameters["timezone"].value for nb in selected if "timezone" in nb.parameters}
    if len(zones) == 1:
        (zone,) = zones
        if isinstance(zone, str) and zone:
            return zone
    return DEFAULT_TIMEZONE


def check_output(output: Path) -> None:
    """Raise UsageError unless ``output`` is a new, empty or earlier-run folder that can be made."""
    if output.exists() and not output.is_dir():
        raise UsageError(f"--output {output} exists and is not a folder")
    if output.is_dir() and any(output.iterdir()) and not (output / "run.json").is_file():
        # the folder is replaced wholesale on success; never do that to someone's own files
        raise UsageError(
            f"--output {output} is a non-empty folder that is not an earlier run (no run.json); "
            "choose a new or empty folder"
        )
    for parent in output.parents:
        if parent.exists():
            if not parent.is_dir() or not os.access(parent, os.W_OK):
                raise UsageError(f"--output {output}: {parent} is not a writable folder")
            # os.access says yes to root on /proc, /sys and read-only mounts: try a folder
            try:
                probe = tempfile.mkdtemp(prefix=".probe-", dir=parent)
            except OSError as exc:
                raise UsageError(
                    f"--output {output} cannot be created: no folder can be made in {parent} "
                    f"({exc.strerror})"
                ) from None
            os.rmdir(probe)
            break


def runnable_notebooks(
    selected: list[Notebook], named: bool, opened: Source, source: SourceSpec
) -> tuple[list[Notebook], list[str]]:
    """The selected notebooks whose tables the source has, and notes on those skipped."""
    runnable, skipped = [], []
    for nb in selected:
        missing = sections.missing(opened, nb.needs)
        if not missing:
            runnable.append(nb)
        elif named:
            raise UsageError(
                f"notebook '{nb.name}' needs table(s) {', '.join(missing)}, which the source "
                f"({source.display}) lacks; it has: {', '.join(sorted(opened.tables))}"
            )
        else:
            skipped.append(f"{nb.name} (no {', '.join(missing)} table)")
    if not runnable:
        raise UsageError(
            f"no notebook can run on this source ({source.display}); skipped: {', '.join(skipped)}"
        )
    return runnable, skipped


def coverage_warnings(source: Source, period: Period) -> list[str]:
    """How the data meets the period (:func:`lib.data.coverage`): a UsageError when neither
    events nor orders have a row in it, naming the days the data covers; else warnings, one line
    each, for a table without rows in it (its sections will be empty) and for days of the period
    before the first or after the last row of events or orders.
    """
    found = coverage(source, period)
    runs = {
        name: f"{name} run from {c.first} to {c.last}" if c.first else f"{name} have no timestamps"
        for name, c in found.items()
    }
    span = f"{period.start} to {period.end} ({period.timezone})"
    if found and not any(c.rows for c in found.values()):
        raise UsageError(
            f"no {' or '.join(found)} from {span}; {'; '.join(runs.values())} (local days): "
            "choose --start and --end within them"
        )
    warnings = []
    empty = [name for name, c in found.items() if not c.rows]
    if empty:
        present = ", ".join(f"{c.rows:,} {name}" for name, c in found.items() if c.rows)
        warnings.append(
            f"warning: no {' or '.join(empty)} from {span}; "
            f"{'; '.join(runs[n] for n in empty)} (local days); in range: {present}; the "
            "sections that need them will be empty: check --start and --end"
        )
    gaps: dict[str, list[str]] = {}  # days without data -> tables lacking them
    for name, c in found.items():
        if runs_out := c.uncovered(period):
            days = " and ".join(days_text(a, b, period) for a, b in runs_out)
            gaps.setdefault(days, []).append(name)
    if gaps:
        parts = []
        for days, names in gaps.items():
            if len({(found[n].first, found[n].last) for n in names}) == 1:
                first, last = found[names[0]].first, found[names[0]].last
                data = f"{' and '.join(names)} run from {first} to {last}"
            else:
                data = ", ".join(runs[n] for n in names)
            parts.append(f"no {' or '.join(names)} on {days}; {data}")
        warnings.append(
            f"warning: the data covers only part of {span}: {'; '.join(parts)} (local days); "
            "those days will show as empty: check --start and --end"
        )
    return warnings


def store_user_days(source: Source, period: Period, progress: bool = True) -> None:
    """Make the events' user-days (:func:`lib.data.user_days`) before the notebooks start, when
    they can be stored and are not yet: every kernel then reads one table instead of two kernels
    making it at once. On unchanged files in the same zone a later run finds it made."""
    if "events" not in source.tables:
        return
    path = user_days_path(source, period)
    if path is None or path.exists():
        return
    started = time.perf_counter()
    if progress:
        print(f"storing the events' user-days ({period.timezone}) for the notebooks ...",
              file=sys.stderr, flush=True)  # fmt: skip
    stored_user_days(source, period)
    if progress:
        print(f"  stored in {time.perf_counter() - started:.1f} s ({path})", file=sys.stderr)


def plan_run(args: argparse.Namespace, notebooks: list[Notebook], notebooks_dir: Path) -> Plan:
    """Validate the command line against the notebooks and the source; raise UsageError."""
    if args.start is None or args.end is None:
        raise UsageError("--start and --end are required (dates in the form YYYY-MM-DD)")
    _parse_date("--start", args.start)
    _parse_date("--end", args.end)
    if args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: must be at least 1")

    selected, named = _select(notebooks, args.notebooks)
    lacking = [
        f"{nb.path.name} ({', '.join(p for p in RUN_PARAMETERS if p not in nb.parameters)})"
        if nb.has_parameters_cell
        else f"{nb.path.name} (no cell tagged 'parameters')"
        for nb in selected
        if not nb.has_parameters_cell or any(p not in nb.parameters for p in RUN_PARAMETERS)
    ]
    if lacking:
        raise UsageError(
            f"notebook(s) lack runner parameter(s): {'; '.join(lacking)}; every notebook's "
            f"'parameters' cell must set {', '.join(RUN_PARAMETERS)}"
        )

    timezone = args.timezone if args.timezone is not None else default_timezone(selected)
    try:
        period = Period(args.start.strip(), args.end.strip(), timezone)
    except PeriodError as exc:
        message = str(exc)
        for name, flag in FLAG_FOR.items():
            message = re.sub(rf"^{name}=", f"{flag} ", message)
        raise UsageError(message) from None
    _check_years(period)

    user_params = user_parameters(args.params or [], selected)

    output = (
        Path(args.output).expanduser().absolute()
        if args.output
        else (Path(OUTPUTS_DIR) / f"{period.start}_{period.end}")
    )
    check_output(output)

    source = SourceSpec.from_arg(args.source)
    with opened(source) as found:
        # the scans of the values happen here, once, rather than in every notebook
        messages = [source.scrub(m) for m in validate(found, period)]
        messages += coverage_warnings(found, period)
        runnable, skipped = runnable_notebooks(selected, named, found, source)
        check_source_values(args.params or [], user_params, runnable, found)
        # the notebooks' own user-days: of the events as they read them (not de-duplicated)
        deduped = any(user_params[nb.name].get("dedupe_events") for nb in runnable)
        if not getattr(args, "dry_run", False) and not deduped:
            store_user_days(found, period, progress=not getattr(args, "quiet", False))

    parameters = {}
    for nb in runnable:
        parameters[nb.name] = {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "source": source.parameter,
            "timezone": period.timezone,
            **user_params[nb.name],
        }
    return Plan(
        period=period,
        source=source,
        notebooks=runnable,
        parameters=parameters,
        output=output,
        notebooks_dir=notebooks_dir,
        jobs=args.jobs,
        progress=not args.quiet,
        skipped=skipped,
        messages=messages,
    )
