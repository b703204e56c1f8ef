"""Run the analysis notebooks for a date range and publish one folder of results.

::

    python -m lib.run --start 2025-03-01 --end 2025-03-31 [--source PATH_OR_URL]
        [--timezone Asia/Shanghai] [--notebooks traffic,conversion] [--output DIR]
        [-p NAME VALUE ...] [--jobs 2] [--list] [--dry-run] [--quiet]

Everything is checked before any notebook starts (dates, time zone, notebook names, ``-p``
parameters and their values, the source, the tables each notebook needs and the values in them,
see :func:`lib.quality.validate`, and that the date range holds data); a problem is one
``error: ...`` message on stderr and exit code 2, with nothing created. Notes (unknown event
names, duplicate events) and warnings (days of the range outside the data) are printed before the
notebooks start. The notebooks then run with papermill into a
hidden temporary folder next to the destination, which replaces ``outputs/<start>_<end>/`` only
when every notebook succeeded; otherwise the run is kept under ``outputs/failed/`` (exit code 1).

A run folder holds ``notebooks/NN_name.ipynb`` (executed), ``tables/*.csv``, ``figures/*.png``,
``report.html`` and ``run.json``. A password in a source URL reaches the kernels only through the
``ECOM_SOURCE_URL`` environment variable, never through a notebook parameter.

Parameters are declared once, in :mod:`lib.parameters` (type, default, bounds, choices, keys,
whether None is a value, whether it names events); each notebook's ``parameters`` cell is written
from there. A ``-p`` value is converted and checked through the declaration of its name, whatever
notebook has it. A notebook of ``--notebooks-dir`` outside that catalogue (a test fixture, a
notebook being written) still runs: it needs no tables, and a parameter of its cell that no
declaration names is typed by the literal type of its default alone (int, float, true/false, a
JSON list or object; a default of None takes None or text; anything else text), without bounds.
No comment of a cell is read for meaning: comments are only shown by ``--list``.

One module per job: :mod:`~lib.run.cli` (the command line), :mod:`~lib.run.notebooks` (finding
notebooks and reading their cells), :mod:`~lib.run.values` (``-p`` values),
:mod:`~lib.run.plan` (every check before a run), :mod:`~lib.run.execute` (papermill and
kernels), :mod:`~lib.run.publish` (the temporary folder, lock, report, ``run.json`` and atomic
publication) and :mod:`~lib.run.source` (the source's secrets).
"""

from lib.run import _lean_imports  # noqa: F401 (first: see the module)
from lib.run.cli import DEFAULT_JOBS, build_parser, main, print_list, print_plan
from lib.run.errors import UsageError
from lib.run.execute import KERNEL_NAME, Result, describe_failure, run_notebooks
from lib.run.notebooks import (
    NOTEBOOKS_DIR,
    PROJECT_ROOT,
    Notebook,
    Parameter,
    discover_notebooks,
    notebook_parameters,
)
from lib.run.plan import (
    DEFAULT_TIMEZONE,
    MAX_YEAR,
    MIN_YEAR,
    Plan,
    check_output,
    coverage_warnings,
    plan_run,
)
from lib.run.publish import clean_stale, execute_plan, lock, publish
from lib.run.source import (
    SOURCE_ENV_VAR,
    SourceSpec,
    absolute_file_url,
    environment,
    rewrite_text,
    scrub_folder,
)
from lib.run.values import (
    check_source_values,
    convert_value,
    source_value_problem,
    user_parameters,
)

__all__ = [
    "DEFAULT_JOBS",
    "DEFAULT_TIMEZONE",
    "KERNEL_NAME",
    "MAX_YEAR",
    "MIN_YEAR",
    "NOTEBOOKS_DIR",
    "PROJECT_ROOT",
    "SOURCE_ENV_VAR",
    "Notebook",
    "Parameter",
    "Plan",
    "Result",
    "SourceSpec",
    "UsageError",
    "absolute_file_url",
    "build_parser",
    "check_output",
    "check_source_values",
    "clean_stale",
    "convert_value",
    "coverage_warnings",
    "describe_failure",
    "discover_notebooks",
    "environment",
    "execute_plan",
    "lock",
    "main",
    "notebook_parameters",
    "plan_run",
    "print_list",
    "print_plan",
    "publish",
    "rewrite_text",
    "run_notebooks",
    "scrub_folder",
    "source_value_problem",
    "user_parameters",
]
