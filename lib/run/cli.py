"""The command line ``python -m lib.run``: flags, ``--list``, ``--dry-run`` and the exit codes
(0 success, 1 a notebook failed, 2 invalid input with nothing created, 130 interrupted)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from lib.parameters import RUN_PARAMETERS
from lib.run import notebooks as found
from lib.run.errors import UsageError
from lib.run.notebooks import Notebook, discover_notebooks, names
from lib.run.plan import Plan, plan_run
from lib.run.profile import run_profile
from lib.run.publish import execute_plan
from lib.run.source import SOURCE_ENV_VAR

DEFAULT_JOBS = 2


def build_parser() -> argparse.ArgumentParser:
    """The runner's flags (a public contract: no abbreviations)."""
    parser = argparse.ArgumentParser(
        prog="python -m lib.run",
        description="Run the analysis notebooks for a date range into outputs/<start>_<end>/.",
        allow_abbrev=False,  # the flags are a public contract; no prefix guessing
        epilog="Exit codes: 0 success, 1 a notebook failed, 2 invalid input (nothing ran).",
    )
    parser.add_argument("--start", help="first local day, YYYY-MM-DD")
    parser.add_argument("--end", help="last local day (inclusive), YYYY-MM-DD")
    parser.add_argument(
        "--source",
        help="folder of tables or database URL (default: the bundled sample); a password in "
        "the URL is passed to the notebooks through $" + SOURCE_ENV_VAR,
    )
    parser.add_argument(
        "--timezone",
        help="IANA time zone of the report days (default: the notebooks' own default, else UTC)",
    )
    parser.add_argument(
        "--notebooks",
        help="comma-separated names, e.g. traffic,conversion "
        "(default: every notebook whose tables the source has)",
    )
    parser.add_argument("--output", help="run folder (default: outputs/<start>_<end>)")
    parser.add_argument(
        "-p",
        dest="params",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="set a notebook parameter (repeatable); converted to its declared type (--list), "
        "lists/dicts as JSON, None or null where it allows None",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=DEFAULT_JOBS,
        help=f"notebooks run at once (default {DEFAULT_JOBS})",
    )
    parser.add_argument(
        "--notebooks-dir",
        help="folder of NN_name.ipynb notebooks (default: the project's notebooks/)",
    )
    parser.add_argument(
        "--list",
        action="store_true",
        help="list the notebooks, their parameters and tables, and exit",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check everything and show what would run, without running it",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="print what the source holds (tables, rows, date ranges in --timezone, users, event "
        "names, the checks' findings) and exit; needs no --start or --end",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def print_list(notebooks: list[Notebook], folder: Path) -> None:
    """Print every notebook, the tables it needs and its parameters: default, accepted values
    and help."""
    print(f"Notebooks in {folder} (each also takes {', '.join(RUN_PARAMETERS)} from the flags):")
    for nb in notebooks:
        tables = ", ".join(nb.needs.table_texts) or "none"
        print(f"\n{nb.name}  ({nb.path.name}; needs tables: {tables})")
        for p in nb.own_parameters.values():
            # the values come from the declaration (lib/parameters.py), the comment from the cell
            takes = p.spec.describe()
            print(f"  -p {p.name} {p.default}    ({takes})" + (f"  # {p.help}" if p.help else ""))
        if not nb.own_parameters:
            print("  (no parameters of its own)")


def print_plan(plan: Plan, dry_run: bool = False) -> None:
    """Print to stderr what will run (or would, with ``--dry-run``), with the plan's notes."""
    err = sys.stderr
    print(
        f"period {plan.period.start} to {plan.period.end} ({plan.period.timezone}), "
        f"source {plan.source.display}",
        file=err,
    )
    for note in plan.skipped:
        print(f"note: skipping {note}", file=err)
    for message in plan.messages:
        print(message, file=err)
    verb = "would run" if dry_run else "running"
    print(
        f"{verb} {names(plan.notebooks)} with {min(plan.jobs, len(plan.notebooks))} "
        f"job(s) into {plan.output}",
        file=err,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed its message; keep main() in-process-friendly
        return int(exc.code or 0)
    notebooks_dir = Path(args.notebooks_dir or found.NOTEBOOKS_DIR).absolute()
    try:
        if not notebooks_dir.is_dir():
            raise UsageError(f"notebooks folder {notebooks_dir} does not exist")
        notebooks = discover_notebooks(notebooks_dir)
        if not notebooks:
            raise UsageError(f"no NN_name.ipynb notebooks in {notebooks_dir}")
        if args.list:
            print_list(notebooks, notebooks_dir)
            return 0
        if args.profile:
            return run_profile(args.source, args.timezone)
        plan = plan_run(args, notebooks, notebooks_dir)
        plan.argv = list(sys.argv[1:] if argv is None else argv)
        print_plan(plan, args.dry_run)
        if args.dry_run:
            for nb in plan.notebooks:
                shown = plan.parameters[nb.name] | {"source": plan.source.display}
                print(f"{nb.name}: {json.dumps(shown, ensure_ascii=False)}")
            return 0
        return execute_plan(plan)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
