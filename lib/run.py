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
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import datetime as dt
import difflib
import fcntl
import itertools
import json
import logging
import math
import os
import platform
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, fields
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import nbformat
import papermill
from jupyter_client.manager import AsyncKernelManager
from papermill.exceptions import PapermillExecutionError
from tqdm import tqdm
from traitlets import default

from lib.data import (
    DataError,
    Source,
    coverage,
    days_text,
    open_source,
    redact,
    url_secrets,
)
from lib.periods import Period, PeriodError
from lib.quality import validate
from lib.report import ReportSection, build_report
from lib.repurchase import MAX_COHORT_MONTHS
from lib.retention import ACTIVE_DAYS, GRANULARITIES, PURCHASES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
OUTPUTS_DIR = PROJECT_ROOT / "outputs"
KERNEL_NAME = "python3"
SOURCE_ENV_VAR = "ECOM_SOURCE_URL"
DEFAULT_TIMEZONE = "UTC"
DEFAULT_JOBS = 2
# Years a run may cover. Timestamps before 2000 fail the value checks, so earlier ranges cannot
# hold data; the bounds also keep every local midnight the metrics compute (a period widened by
# lib.periods.OFFSET_MARGIN_DAYS) inside what datetime can represent, near year 1 and 9999.
MIN_YEAR, MAX_YEAR = 1970, 2200

# Set by the runner from its own flags; every notebook must declare them.
RUN_PARAMETERS = ("start", "end", "source", "timezone", "output_dir")
_FLAG_FOR = {
    "start": "--start",
    "end": "--end",
    "source": "--source",
    "timezone": "--timezone",
    "output_dir": "--output",
}

# Contract tables (lib/data.py) each notebook cannot do without; unknown names need none. Every
# entry must be present; "events|orders" is met by either table. Sections needing a table the
# source lacks are skipped inside the notebook with a note (lib.data.missing_tables_note): the
# overview and retention run on events alone (e.g. Taobao behaviour data) or on orders alone,
# conversion on events alone.
REQUIRED_TABLES: dict[str, tuple[str, ...]] = {
    "overview": ("events|orders",),
    "traffic": ("events",),
    "conversion": ("events",),
    "retention": ("events|orders",),
    "products": ("orders", "order_items", "products"),
    "costs": ("orders", "order_items", "products"),
    "supply_chain": ("orders", "order_items", "products"),
}

# The rules of lib.data.redact: a URL's password runs from "scheme://user:" to the last "@" (an
# unencoded "/", "#" or "?" in it defeats urlsplit), and a query value is secret when its key
# names a password, secret, token or key.
# ibis opens these schemes' URLs as a file path relative to the working directory
# (ibis.backends.UrlFromPath), and kernels run in the notebooks folder.
_FILE_URL_SCHEMES = ("duckdb", "sqlite", "file")
_NOTEBOOK_FILE = re.compile(r"^(\d+)_(\w+)\.ipynb$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STALE = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>\d+)-[0-9a-f]+$")
_TEXT_SUFFIXES = {".ipynb", ".csv", ".html", ".json", ".txt", ".md", ".log", ".svg", ".tsv"}
_UNKNOWN = object()  # a default that is not a Python literal, so its type is unknown


class UsageError(Exception):
    """A problem with the command line or the data, found before anything ran (exit code 2)."""


# --------------------------------------------------------------------------------------------
# Notebooks and their parameters


@dataclass(frozen=True)
class Parameter:
    """One assignment of a notebook's ``parameters`` cell."""

    name: str
    default: str  # the source text of the default, e.g. ``'"UTC"'`` or ``"30"``
    help: str = ""

    @property
    def value(self) -> Any:
        """The default as a Python value, or ``_UNKNOWN`` when it is not a plain literal."""
        try:
            return ast.literal_eval(self.default)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return _UNKNOWN


def _requirement_text(entry: str) -> str:
    """``"events|orders"`` as ``"events or orders"``."""
    return " or ".join(entry.split("|"))


@dataclass(frozen=True)
class Notebook:
    """A notebook of the notebooks folder, e.g. ``01_traffic.ipynb`` named ``traffic``."""

    name: str
    path: Path
    parameters: dict[str, Parameter] = field(default_factory=dict)
    has_parameters_cell: bool = True

    @property
    def required_tables(self) -> tuple[str, ...]:
        """Each entry a table name, or alternatives ``"events|orders"`` (either will do)."""
        return REQUIRED_TABLES.get(self.name, ())

    def missing_tables(self, has: Callable[[str], bool]) -> list[str]:
        """The required entries none of whose tables ``has``, as text (``"events or orders"``)."""
        return [
            _requirement_text(entry)
            for entry in self.required_tables
            if not any(has(name) for name in entry.split("|"))
        ]

    @property
    def own_parameters(self) -> dict[str, Parameter]:
        """The parameters that ``-p`` may set (all but the runner's own)."""
        return {k: p for k, p in self.parameters.items() if k not in RUN_PARAMETERS}


def _escape_format(path: Path | str) -> str:
    # papermill str.format()s paths with the parameters; braces in a folder name must survive
    return str(path).replace("{", "{{").replace("}", "}}")


def _ast_parameters(source: str) -> dict[str, Parameter]:
    """Top-level assignments of a parameters cell, with the trailing ``#`` comment as help."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    lines = source.splitlines()
    found: dict[str, Parameter] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        default = ast.get_source_segment(source, value) or ""
        end_line = node.end_lineno or node.lineno
        # ast column offsets count UTF-8 bytes
        rest = lines[end_line - 1].encode()[node.end_col_offset or 0 :].decode(errors="ignore")
        help_text = rest.split("#", 1)[1].strip() if "#" in rest else ""
        found[target.id] = Parameter(target.id, default, help_text)
    return found


def notebook_parameters(path: Path) -> tuple[dict[str, Parameter], bool]:
    """The parameters a notebook declares and whether it has a ``parameters`` cell at all.

    papermill's inspector drops a line whose comment contains ``=`` (``x = None  # None = all``),
    so its answer is completed from a parse of the same cell.
    """
    try:
        nb = nbformat.read(path, as_version=4)
        cell = next(
            (c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None
        )
        if cell is None:
            return {}, False
        papermill_log = logging.getLogger("papermill")
        level = papermill_log.level
        papermill_log.setLevel(logging.ERROR)  # its "Unable to parse line" is repaired below
        try:
            inspected = papermill.inspect_notebook(_escape_format(path))
        finally:
            papermill_log.setLevel(level)
    except Exception as exc:
        # nbformat's own message quotes the file's first characters over several lines
        cause = exc.__cause__ if isinstance(exc.__cause__, json.JSONDecodeError) else exc
        detail = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
        raise UsageError(
            f"notebook {path} cannot be read ({type(cause).__name__}: {detail}); every "
            f"NN_name.ipynb in {path.parent} is read, so fix the file or move it out"
        ) from None
    params = {
        name: Parameter(name, str(info.get("default", "")), str(info.get("help", "") or ""))
        for name, info in inspected.items()
    }
    for name, param in _ast_parameters(cell.source).items():
        params.setdefault(name, param)
    return params, True


def discover_notebooks(folder: Path | None = None) -> list[Notebook]:
    """Every ``NN_name.ipynb`` of ``folder`` (default :data:`NOTEBOOKS_DIR`) in file order."""
    folder = Path(folder or NOTEBOOKS_DIR)
    notebooks = []
    for path in sorted(folder.glob("*.ipynb")):
        match = _NOTEBOOK_FILE.match(path.name)
        if not match:
            continue
        params, has_cell = notebook_parameters(path)
        notebooks.append(Notebook(match.group(2), path, params, has_cell))
    return notebooks


# --------------------------------------------------------------------------------------------
# Parameter values from the command line: data, never code


_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}
_NONE = {"none", "null"}
# A parameter defaulting to None whose comment offers "or a number" (exposure_split) or "or a
# share" (conversion_split) takes numbers; the lib function would choke on other text.
_NUMBER_HELP = re.compile(r"\bor an? (?:number|share)\b")


def accepts_none(param: Parameter) -> bool:
    """Whether ``None`` is a value of ``param``: its default, or one its comment documents
    (``commission_rate = 0.03  # ...; None: use the costs table's ... rows``)."""
    return param.value is None or re.search(r"\bNone\b", param.help) is not None


def convert_value(raw: str, param: Parameter) -> Any:
    """Convert a ``-p`` value to the type of the notebook's default, without evaluating code.

    ``None`` or ``null`` is None where :func:`accepts_none`; int, float and bool are parsed as
    such; lists and dicts are read as JSON; a default of None whose comment offers a number
    takes a number; anything else, including a default of ``None`` or an expression, stays the
    string given.
    """
    if raw.strip().lower() in _NONE and accepts_none(param):
        return None
    default = param.value
    expected: str
    if isinstance(default, bool):
        expected = "true or false"
        if raw.strip().lower() in _TRUE:
            return True
        if raw.strip().lower() in _FALSE:
            return False
    elif isinstance(default, int):
        expected = "an integer"
        with contextlib.suppress(ValueError):
            return int(raw.strip())
    elif isinstance(default, float) or (default is None and _NUMBER_HELP.search(param.help)):
        expected = "a number"
        with contextlib.suppress(ValueError):
            number = float(raw.strip())
            if math.isfinite(number):
                return number
    elif isinstance(default, list | tuple | dict):
        kind = dict if isinstance(default, dict) else list
        expected = "a JSON object" if kind is dict else "a JSON list"
        with contextlib.suppress(ValueError):
            value = json.loads(raw)
            if isinstance(value, kind):
                return value
    else:
        return raw
    if accepts_none(param):
        expected += " or None"
    raise UsageError(
        f"-p {param.name} {raw!r}: expected {expected} (the notebook's default is {param.default})"
    )


# --------------------------------------------------------------------------------------------
# Secrets in the source


def absolute_file_url(url: str) -> str:
    """``url`` with a relative database file made absolute (``duckdb://shop.ddb`` becomes
    ``duckdb:///<working directory>/shop.ddb``); any other URL as it is.

    The path is the one ibis opens: host and path joined (``UrlFromPath``), or for ``file://``
    the two side by side.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _FILE_URL_SCHEMES or url_secrets(url):
        # a file needs no password; moved into the path, one would escape lib.data.redact
        return url
    if scheme == "file":
        path = parts.netloc + parts.path
    else:
        pieces = [p for p in (parts.netloc, parts.path[bool(parts.netloc) :]) if p]
        path = str(Path(*pieces)) if pieces else ""
    if not path or path == ":memory:" or path.startswith(("md:", "motherduck:")):
        return url
    if Path(path).is_absolute():
        return url
    rebuilt = f"{parts.scheme}://{Path(path).absolute()}"
    rebuilt += f"?{parts.query}" if parts.query else ""
    return rebuilt + (f"#{parts.fragment}" if parts.fragment else "")


@dataclass(frozen=True)
class SourceSpec:
    """How the source reaches the notebooks without its secret reaching any output."""

    raw: str | None  # as the user gave it (None = the bundled sample)
    parameter: str | None  # the notebooks' ``source`` parameter
    env: dict[str, str]  # variables the kernels need
    display: str  # safe to print and store
    secrets: tuple[str, ...]  # strings that must not appear in any output

    @classmethod
    def from_arg(cls, raw: str | None) -> SourceSpec:
        if raw is None or raw.strip() == "":
            return cls(None, None, {}, "sample (data/sample)", ())
        if raw.strip() == "sample":
            if Path("sample").is_dir():
                # open_source("sample") means the bundled shop; the user may mean the folder
                raise UsageError(
                    "--source sample is ambiguous: it names the bundled sample shop, and there "
                    f"is also a folder {Path('sample').absolute()}; use --source ./sample for "
                    "the folder, or leave out --source for the bundled sample"
                )
            return cls(None, None, {}, "sample (data/sample)", ())
        expanded = os.path.expandvars(raw)
        if "://" not in expanded:
            # kernels run in the notebooks folder, so a relative folder must be made absolute
            folder = str(Path(expanded).expanduser().absolute())
            return cls(raw, folder, {}, folder, ())
        url = absolute_file_url(expanded)
        values = url_secrets(expanded)
        # a very short secret would blank out ordinary text; the URL itself still is hidden
        hidden = {v for value in values if len(value) >= 4 for v in (value, unquote(value))}
        found = hidden | ({expanded, url} if values else set())
        secrets_ = tuple(sorted(found, key=len, reverse=True))
        display = redact(url if expanded == raw else raw)
        if url == expanded and (expanded != raw or not values):
            # a ${VAR} reference stays one: the kernels inherit the variable and expand it alike
            return cls(raw, raw, {}, display, secrets_)
        if not values and expanded == raw:
            return cls(raw, url, {}, url, ())
        # a secret, or a ${VAR} holding a relative file that kernels would look for in notebooks/
        return cls(raw, "${" + SOURCE_ENV_VAR + "}", {SOURCE_ENV_VAR: url}, display, secrets_)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


# --------------------------------------------------------------------------------------------
# Planning: every check that can fail before a notebook runs


@dataclass
class Plan:
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
    names = [n.strip() for n in wanted.split(",") if n.strip()]
    if not names:
        raise UsageError("--notebooks is empty; known notebooks: " + _names(notebooks))
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise UsageError(
            f"unknown notebook(s) {', '.join(repr(n) for n in unknown)}; "
            f"known notebooks: {_names(notebooks)}"
        )
    chosen = {by_name[n].name for n in names}
    return [nb for nb in notebooks if nb.name in chosen], True


def _names(notebooks: Sequence[Notebook]) -> str:
    return ", ".join(nb.name for nb in notebooks) or "none"


def _user_parameters(pairs: list[list[str]], selected: list[Notebook]) -> dict[str, dict[str, Any]]:
    """``-p`` values per notebook, converted to each notebook's type; only where declared."""
    per_notebook: dict[str, dict[str, Any]] = {nb.name: {} for nb in selected}
    seen: set[str] = set()
    for name, raw in pairs:
        if name in RUN_PARAMETERS:
            raise UsageError(f"-p {name}: set it with {_FLAG_FOR[name]} instead")
        if name in seen:
            raise UsageError(f"-p {name} is given more than once")
        seen.add(name)
        owners = [nb for nb in selected if name in nb.own_parameters]
        if not owners:
            known = sorted({p for nb in selected for p in nb.own_parameters})
            raise UsageError(
                f"-p {name}: no selected notebook has a parameter {name!r}"
                f"{_did_you_mean(name, known)} (parameters: {', '.join(known) or 'none'})"
            )
        for nb in owners:
            param = nb.own_parameters[name]
            try:
                value = convert_value(raw, param)
                problem = _range_problem(param, value) or _fixed_value_problem(name, value)
                if problem:
                    raise UsageError(
                        f"-p {name} {raw!r}: {problem} (the notebook's default is {param.default})"
                    )
            except UsageError as exc:
                raise UsageError(f"{exc} in notebook '{nb.name}'") from None
            per_notebook[nb.name][name] = value
    raws = dict(pairs)
    for nb in selected:
        found = _order_problem(nb.own_parameters, per_notebook[nb.name])
        if found:
            name, problem = found
            raise UsageError(
                f"-p {name} {raws[name]!r}: {problem} (the notebook's default is "
                f"{nb.own_parameters[name].default}) in notebook '{nb.name}'"
            )
    return per_notebook


def _did_you_mean(word: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _listing(names: Sequence[str], most: int = 20) -> str:
    shown = ", ".join(names[:most]) or "none"
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _fixed_choices(name: str) -> tuple[str, ...] | None:
    """The values the lib function behind a parameter accepts, when they are a fixed set.

    Any other value would stop the notebook midway with the function's ValueError. Checked by
    name, whatever notebook declares the parameter.
    """
    if name == "cohort_granularity":
        return GRANULARITIES  # retention.cohort_retention
    if name == "exposure_measure":
        # imported only when needed: lib.products pulls in scipy, a second of start-up
        from lib.products import PERFORMANCE_COLUMNS  # products.quadrant_splits

        return tuple(PERFORMANCE_COLUMNS)
    return None


@dataclass(frozen=True)
class _Range:
    """Numbers from ``low`` to ``high`` (None: unbounded), each bound included unless open.

    For a list or dict parameter it holds for each of its values; ``length`` and ``ascending``
    also shape a list.
    """

    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    length: int | None = None
    ascending: bool = False

    def admits(self, number: Any) -> bool:
        if isinstance(number, bool) or not isinstance(number, int | float):
            return False
        low, high = self.low, self.high
        above = low is None or (number > low if self.open_low else number >= low)
        below = high is None or (number < high if self.open_high else number <= high)
        return above and below

    def __str__(self) -> str:
        if self.low is not None and self.high is not None and not (self.open_low or self.open_high):
            return f"from {self.low} to {self.high}"
        bounds = []
        if self.low is not None:
            bounds.append(f"{'above' if self.open_low else 'at least'} {self.low}")
        if self.high is not None:
            bounds.append(f"{'below' if self.open_high else 'at most'} {self.high}")
        text = " and ".join(bounds)
        return f"of {text}" if bounds == [f"at least {self.low}"] else text


# Ten years: longer than any window an analysis of a shop's data uses, and short enough that every
# date the metrics derive from it (end minus a lookback, end plus a horizon) stays representable.
_MAX_DAYS = 3660
_DAYS = _Range(1, _MAX_DAYS)
_HOURS = _Range(1, 24 * _MAX_DAYS)
_COUNT = _Range(1)  # 0 flags, shows or requires nothing, which reads like a result
_SHARE = _Range(0, 1)
_PROBABILITY = _Range(0, 1, open_low=True, open_high=True)  # lib.supply._z: a normal quantile

# The numbers each numeric parameter's lib function can use, by name whatever notebook declares
# it; anything else stops the notebook midway or gives a table that silently means nothing. None
# is checked by convert_value. Where no lib function raises, the range is what the metric means
# (docs/metrics.md). tests/test_run.py requires an entry for every numeric parameter.
_NUMBER_RANGES: dict[str, _Range] = {
    "attribution_hours": _HOURS,  # slots.slot_performance
    "conversion_window_days": _DAYS,  # funnel: 0 only counts steps in the first step's second
    "band_days": _DAYS,  # funnel.daily_conversion raises below 1
    "band_k": _Range(0, open_low=True),  # 0 flags every day, a negative k turns the band over
    "min_viewers": _COUNT,
    "worst_n": _COUNT,
    "worst_categories": _COUNT,
    "max_day": _DAYS,  # retention.cohort_retention: 0 leaves day 0, when everyone is retained
    "phase_volatile_below": _Range(0, 1, open_low=True),  # a daily loss as a share of day 1
    "phase_stable_below": _Range(0, 1, open_low=True),
    "magic_k_days": _DAYS,  # retention.early_behaviour_by_user, with _ORDERED
    "magic_retention_day": _DAYS,
    "buyer_cohort_months": _Range(1, MAX_COHORT_MONTHS),  # repurchase.buyer_cohorts raises
    "lifecycle_days": _DAYS,  # segments.lifecycle divides the period by it
    "activity_window_days": _DAYS,  # segments.activity_segments, with _ORDERED
    "highly_active_days": _DAYS,
    "churn_days": _DAYS,
    "rfm_lookback_days": _DAYS,  # segments.rfm_scores: 0 days ending on end is no period
    "propensity_half_life_days": _DAYS,  # segments.category_propensity divides ages by it
    "exposure_split": _Range(0, open_low=True),  # at 0 every item would have high exposure
    "conversion_split": _Range(0, 1, open_low=True),  # a share of viewers, as its comment says
    "target_mix": _SHARE,  # products.quadrant_mix: revenue share per quadrant
    "abc_shares": _Range(0, 1, open_low=True, length=2, ascending=True),  # products.sku_pareto
    "role_rule": _SHARE,  # products.RoleRule: quantiles
    "top_n": _COUNT,
    "low_rating_max": _Range(1, 5),  # an average of 1-5 star ratings
    "min_reviews": _COUNT,
    "repurchase_window_days": _DAYS,
    "commission_rate": _SHARE,  # costs.cost_ledger
    "top_growing": _COUNT,
    "velocity_days": _DAYS,  # supply.inventory_health, supply.reorder_points
    "dead_stock_days": _DAYS,
    "low_stock_days": _DAYS,
    "overstock_days": _DAYS,
    "holding_rate": _SHARE,  # a year's cost as a share of the stock's value
    "horizon_days": _DAYS,
    "backtest_weeks": _Range(1, _MAX_DAYS // 7),  # 0: no backtest, yet a verdict on it
    "forecast_interval": _PROBABILITY,  # supply.forecast_demand
    "top_skus": _Range(1, 30),  # one panel each in one figure; more is no longer readable
    "top_categories": _Range(1, 30),  # likewise: one forecast panel per category
    "service_level": _PROBABILITY,  # supply.reorder_points
    "default_lead_time_days": _DAYS,  # 0 zeroes the reorder points it sets
    "ship_sla_hours": _HOURS,
    "slow_delivery_days": _DAYS,
    "repurchase_days": _DAYS,
}

# Orders among parameters that a lib function raises for (a ≤ b ≤ …), checked on the values the
# notebook will see: its defaults with the -p values in their place.
_ORDERED = (
    ("highly_active_days", "activity_window_days", "churn_days"),  # segments.activity_segments
    ("magic_k_days", "magic_retention_day"),  # retention.early_behaviour_by_user
)


def _dict_keys(name: str) -> tuple[str, ...] | None:
    """The keys a dict parameter's lib function knows (another one stops the notebook)."""
    if name not in ("target_mix", "role_rule"):
        return None
    from lib.products import QUADRANTS, RoleRule  # lib.products pulls in scipy

    return tuple(QUADRANTS) if name == "target_mix" else tuple(f.name for f in fields(RoleRule))


def _range_problem(param: Parameter, value: Any) -> str | None:
    """What is wrong with a converted number (or the numbers of a list or dict), or None."""
    name, limits = param.name, _NUMBER_RANGES.get(param.name)
    if limits is None or value is None:
        return None
    if isinstance(value, dict):
        keys = _dict_keys(name)
        if all(limits.admits(v) for v in value.values()) and (
            keys is None or set(value) <= set(keys)
        ):
            return None
        under = f" under the keys {', '.join(keys)}" if keys else ""
        return f"expected a JSON object of numbers {limits}{under}"
    if isinstance(value, list):
        if (
            all(limits.admits(v) for v in value)
            and (limits.length is None or len(value) == limits.length)
            and not (limits.ascending and value != sorted(value))
        ):
            return None
        count = f"{limits.length} numbers" if limits.length else "numbers"
        order = ", each at most the next" if limits.ascending else ""
        return f"expected a JSON list of {count} {limits}{order}"
    if limits.admits(value):
        return None
    kind = "an integer" if isinstance(value, int) else "a number"
    return f"expected {kind} {limits}" + (" or None" if accepts_none(param) else "")


def _order_problem(params: dict[str, Parameter], given: dict[str, Any]) -> tuple[str, str] | None:
    """The ``given`` name that breaks an order of :data:`_ORDERED` and what it should be, or None.

    Values are the defaults in ``params`` with ``given`` in their place; a pair that ``given``
    does not touch is left to the notebook (tests/test_run.py checks its defaults).
    """
    for chain in _ORDERED:
        if not all(name in params for name in chain):
            continue
        values = {name: given.get(name, params[name].value) for name in chain}
        for a, b in itertools.pairwise(chain):
            first, second = values[a], values[b]
            if not all(isinstance(v, int | float) for v in (first, second)) or first <= second:
                continue
            order = " ≤ ".join(chain)
            if b in given:
                return b, f"expected at least {a} ({first}), since {order}"
            if a in given:
                return a, f"expected at most {b} ({second}), since {order}"
    return None


# Parameters naming events. A name the source never has does not fail: it gives an empty cohort
# or a funnel that drops to 0, which reads like a result; so they are checked against the source.
# The value is one name, a list of names or a list of lists of names.
_EVENT_PARAMETERS = {
    "start_event": "name",  # retention.cohort_users; None: any event
    "return_event": "name",  # retention.cohort_retention; None: any event
    "dropoff_step": "name",  # funnel.dropoff_users
    "magic_behaviour": "behaviour",  # retention.early_behaviour_by_user
    "funnel_steps": "steps",  # funnel.main_path: [] or two or more steps
    "secondary_paths": "paths",  # funnel.secondary_paths: [] or lists of two or more steps
}


def _fixed_value_problem(name: str, value: Any) -> str | None:
    """What is wrong with a converted ``-p`` value whatever the source, or None."""
    choices = _fixed_choices(name)
    if choices is not None and value not in choices:
        return f"expected one of {', '.join(choices)}"
    kind = _EVENT_PARAMETERS.get(name)
    if kind == "steps" and not (isinstance(value, list) and (not value or len(value) >= 2)):
        return "expected [] (the default funnel) or a list of two or more event names"
    if kind == "paths" and not (
        isinstance(value, list) and all(isinstance(p, list) and len(p) >= 2 for p in value)
    ):
        return "expected [] (the default paths) or a list of lists of two or more event names"
    if kind in ("steps", "paths"):
        steps = value if kind == "steps" else [s for path in value for s in path]
        if not all(isinstance(s, str) for s in steps):
            return "expected event names (text)"
    if name == "compare_segments" and not (isinstance(value, list) and len(value) in (0, 2)):
        # funnel.compare_segments: both segments named, or neither (the two largest)
        return "expected [] (the two largest segments) or a list of two segment names"
    return None


def _source_value_problem(name: str, value: Any, source: Source) -> str | None:
    """What is wrong with a ``-p`` value on this source (event names, breakdowns), or None."""
    kind = _EVENT_PARAMETERS.get(name)
    if kind == "behaviour" and value == PURCHASES and not source.has("orders"):
        return (
            f"{PURCHASES!r} counts paid orders, and the source has no orders table "
            f"(expected {ACTIVE_DAYS} or an event name)"
        )
    # without events the sections using these are skipped in the notebook
    if kind is not None and value is not None and source.has("events"):
        if kind == "behaviour" and value in (ACTIVE_DAYS, PURCHASES):
            return None
        if kind == "paths":
            names = [step for path in value for step in path]
        else:
            names = value if kind == "steps" else [value]
        possible = sorted(source.possible_event_names())
        unknown = [n for n in names if n not in possible]
        if unknown:
            allowed = _listing(possible)
            if kind == "behaviour":
                allowed = f"{ACTIVE_DAYS}, {PURCHASES} or one of {allowed}"
            return (
                f"{unknown[0]!r} is not an event name of the source"
                f"{_did_you_mean(str(unknown[0]), possible)} (expected {allowed})"
            )
    if name == "breakdown" and source.has("events"):
        options = _breakdowns(source)
        if value not in options:
            return (
                f"{value!r} is not a breakdown of the source{_did_you_mean(str(value), options)} "
                f"(expected an events column, 'category' with a products table, or a users "
                f"column: {', '.join(options)})"
            )
    return None


def _breakdowns(source: Source) -> list[str]:
    """The values of ``breakdown`` that funnel.first_touch accepts on this source."""
    from lib.funnel import breakdowns  # lib.funnel pulls in scipy: only when needed

    return breakdowns(source.table("events"), source.optional("products"), source.optional("users"))


def _check_source_values(
    pairs: list[list[str]],
    parameters: dict[str, dict[str, Any]],
    runnable: list[Notebook],
    source: Source,
) -> None:
    """Raise UsageError for the first ``-p`` value the source cannot serve."""
    for name, raw in pairs:
        for nb in runnable:
            if name not in parameters[nb.name]:
                continue
            problem = _source_value_problem(name, parameters[nb.name][name], source)
            if problem:
                raise UsageError(f"-p {name} {raw!r}: {problem} in notebook '{nb.name}'")


def _default_timezone(selected: list[Notebook]) -> str:
    """The time zone the notebooks themselves default to when they agree, else UTC."""
    zones = {nb.parameters["timezone"].value for nb in selected if "timezone" in nb.parameters}
    if len(zones) == 1:
        (zone,) = zones
        if isinstance(zone, str) and zone:
            return zone
    return DEFAULT_TIMEZONE


def _check_output(output: Path) -> None:
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


def _runnable(
    selected: list[Notebook], named: bool, opened: Source, source: SourceSpec
) -> tuple[list[Notebook], list[str]]:
    """The selected notebooks whose tables the source has, and notes on those skipped."""
    runnable, skipped = [], []
    for nb in selected:
        missing = nb.missing_tables(opened.has)
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

    timezone = args.timezone if args.timezone is not None else _default_timezone(selected)
    try:
        period = Period(args.start.strip(), args.end.strip(), timezone)
    except PeriodError as exc:
        message = str(exc)
        for name, flag in _FLAG_FOR.items():
            message = re.sub(rf"^{name}=", f"{flag} ", message)
        raise UsageError(message) from None
    _check_years(period)

    user_params = _user_parameters(args.params or [], selected)

    output = (
        Path(args.output).expanduser().absolute()
        if args.output
        else (Path(OUTPUTS_DIR) / f"{period.start}_{period.end}")
    )
    _check_output(output)

    source = SourceSpec.from_arg(args.source)
    with _environment(source.env):
        try:
            opened = open_source(source.parameter)
        except DataError as exc:
            raise UsageError(source.scrub(str(exc))) from None
        try:
            # the scans of the values happen here, once, rather than in every notebook
            messages = [source.scrub(m) for m in validate(opened, period)]
            messages += coverage_warnings(opened, period)
            runnable, skipped = _runnable(selected, named, opened, source)
            _check_source_values(args.params or [], user_params, runnable, opened)
        except DataError as exc:
            raise UsageError(source.scrub(str(exc))) from None
        finally:
            with contextlib.suppress(Exception):
                # a database file (DuckDB) admits one writer: let the kernels have it
                opened.backend.disconnect()

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


# --------------------------------------------------------------------------------------------
# Execution


@dataclass
class Result:
    """How one notebook's execution went."""

    notebook: Notebook
    output: Path
    seconds: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set variables for the duration (kernels inherit the environment at start-up)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _describe_failure(exc: BaseException) -> str:
    if isinstance(exc, PapermillExecutionError):
        first_line = next((ln.strip() for ln in (exc.source or "").splitlines() if ln.strip()), "")
        evalue = str(exc.evalue).strip().splitlines()
        return (
            f"cell In [{exc.exec_count}] (`{first_line[:80]}`) "
            f"raised {exc.ename}: {evalue[0] if evalue else ''}"
        )
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"


class _KernelManager(AsyncKernelManager):
    """Kernels whose channel to the runner is encrypted (CurveZMQ) when the kernel supports it.

    The channel carries the notebooks' code and outputs, and with a database source its
    credentials (through the environment, docs/reliability.md); unencrypted TCP also makes
    every kernel log a warning on each start.
    """

    @default("transport_encryption")
    def _encrypt_when_supported(self) -> str:
        return "auto"


def _execute(nb: Notebook, out: Path, parameters: dict[str, Any], cwd: Path, bar: bool) -> Result:
    started = time.monotonic()
    result = Result(nb, out)
    try:
        papermill.execute_notebook(
            _escape_format(nb.path),
            _escape_format(out),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            kernel_manager_class=_KernelManager,
            cwd=str(cwd),
            progress_bar=bar,
        )
    except Exception as exc:  # papermill has already saved the partly executed notebook
        result.error = _describe_failure(exc)
    result.seconds = time.monotonic() - started
    return result


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_stale(output: Path) -> None:
    """Remove temporary folders of killed runs of ``output`` (call while holding its lock)."""
    for path in output.parent.glob(f".{output.name}.*-*-*"):
        match = _STALE.match(path.name)
        if not match or match["name"] != output.name or _pid_alive(int(match["pid"])):
            continue
        if match["kind"] == "old" and not output.exists():
            # killed between moving the old run aside and moving the new one in: put it back
            path.rename(output)
        else:
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _lock(output: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``output``; a second run of it refuses instead of mixing in.

    The lock file stays behind: unlinking a flock()ed file lets a third run lock a new inode.
    """
    lock_path = output.parent / f".{output.name}.lock"
    try:
        fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
    except OSError as exc:
        raise UsageError(
            f"--output {output} cannot be created: {exc.strerror} ({lock_path})"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                f"another run is writing {output} (lock {lock_path} is held); "
                "wait for it to finish or choose another --output"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _rewrite_text(folder: Path, replacements: dict[str, str]) -> list[Path]:
    """Replace strings in every file under ``folder``; return the files that held one.

    Binary files cannot be edited safely, so one holding a string is deleted instead.
    """
    needles = {old.encode(): new for old, new in replacements.items() if old}
    changed = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if not any(n in data for n in needles):
            continue
        changed.append(path)
        if path.suffix.lower() in _TEXT_SUFFIXES:
            text = data.decode("utf-8", "replace")
            for old, new in replacements.items():
                text = text.replace(old, new)
            path.write_text(text, encoding="utf-8")
        else:
            path.unlink()
    return changed


def _scrub_folder(folder: Path, source: SourceSpec) -> list[Path]:
    """Mask any secret a notebook printed or saved; return the files that held one."""
    return _rewrite_text(folder, dict.fromkeys(source.secrets, "***"))


def _relocate_notebooks(tmp: Path, destination: Path) -> None:
    """Make the executed notebooks name the folder the run ends up in, not the temporary one."""
    old, new = json.dumps(str(tmp))[1:-1], json.dumps(str(destination))[1:-1]
    _rewrite_text(tmp / "notebooks", {old: new})


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in (
        "ecommerce-ops-analysis",
        "papermill",
        "nbconvert",
        "nbclient",
        "nbformat",
        "ipykernel",
        "ibis-framework",
        "duckdb",
        "pandas",
        "matplotlib",
    ):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return versions


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _write_run_json(
    path: Path, plan: Plan, results: list[Result], started: dt.datetime, status: str
) -> None:
    by_name = {r.notebook.name: r for r in results}
    notebooks = []
    for nb in plan.notebooks:
        r = by_name.get(nb.name)
        notebooks.append(
            {
                "name": nb.name,
                "file": f"notebooks/{nb.path.name}",
                "status": "not run" if r is None else ("succeeded" if r.ok else "failed"),
                "seconds": None if r is None else round(r.seconds, 1),
                "error": None if r is None or r.ok else plan.source.scrub(r.error or ""),
                "required_tables": [_requirement_text(entry) for entry in nb.required_tables],
            }
        )
    record = {
        "status": status,
        "start": plan.period.start.isoformat(),
        "end": plan.period.end.isoformat(),
        "timezone": plan.period.timezone,
        "source": plan.source.display,
        "notebooks": notebooks,
        "skipped": plan.skipped,
        # output_dir is left out: it named the temporary folder, not where the run ended up
        "parameters": {
            name: {**params, "source": plan.source.display}
            for name, params in plan.parameters.items()
        },
        "versions": _versions(),
        "arguments": [plan.source.scrub(a) for a in plan.argv],
        "started_utc": started.isoformat(),
        "finished_utc": _utc_now().isoformat(),
    }
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _publish(tmp: Path, output: Path) -> None:
    """Move the finished run into place; the old run is replaced only once the new one is in."""
    old = None
    if output.exists():
        old = output.with_name(f".{output.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
        output.rename(old)
    tmp.rename(output)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _failed_target(output: Path) -> Path:
    """A new ``failed/<name>-<UTC time>`` folder path beside ``output``."""
    failed_root = output.parent / "failed"
    stamp = _utc_now().strftime("%Y%m%dT%H%M%SZ")
    target = failed_root / f"{output.name}-{stamp}"
    n = 2
    while target.exists():
        target, n = failed_root / f"{output.name}-{stamp}-{n}", n + 1
    return target


def _keep_failed(tmp: Path, output: Path, target: Path | None = None) -> Path:
    target = target or _failed_target(output)
    target.parent.mkdir(exist_ok=True)
    tmp.rename(target)
    return target


def execute_plan(plan: Plan) -> int:
    """Run the planned notebooks and publish (exit 0) or keep the failed run (exit 1)."""
    err = sys.stderr
    output = plan.output
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"--output {output} cannot be created: {exc.strerror} ({exc.filename})"
        ) from None
    with _lock(output):
        _clean_stale(output)
        tmp = output.with_name(f".{output.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            (tmp / "notebooks").mkdir(parents=True)
        except OSError as exc:
            raise UsageError(
                f"--output {output} cannot be created: {exc.strerror} ({exc.filename})"
            ) from None
        started = _utc_now()
        try:
            return _run_in(tmp, plan, started)
        except BaseException:
            # a runner bug or Ctrl-C: keep what there is as a failed run, never as a result
            if tmp.exists():
                _scrub_folder(tmp, plan.source)
                print(
                    f"error: run aborted; partial output in {_keep_failed(tmp, output)}", file=err
                )
            raise


def _run_in(tmp: Path, plan: Plan, started: dt.datetime) -> int:
    err = sys.stderr
    jobs = min(plan.jobs, len(plan.notebooks))
    # papermill's cell bar only makes sense when one notebook runs at a time
    cell_bar = plan.progress and jobs == 1 and err.isatty()
    results: dict[str, Result] = {}
    papermill_log = logging.getLogger("papermill")
    level = papermill_log.level
    # parameters were checked already; papermill's per-run warnings would only repeat noise
    papermill_log.setLevel(logging.ERROR)
    try:
        with (
            _environment(plan.source.env),
            tqdm(
                total=len(plan.notebooks),
                desc="notebooks",
                unit="nb",
                file=err,
                disable=None if plan.progress else True,
            ) as bar,
            ThreadPoolExecutor(max_workers=jobs) as pool,
        ):
            futures = {
                pool.submit(
                    _execute,
                    nb,
                    tmp / "notebooks" / nb.path.name,
                    {**plan.parameters[nb.name], "output_dir": str(tmp)},
                    plan.notebooks_dir,
                    cell_bar,
                ): nb
                for nb in plan.notebooks
            }
            for future in as_completed(futures):
                result = future.result()
                results[result.notebook.name] = result
                state = "ok" if result.ok else "FAILED"
                bar.write(f"  {state:6} {result.notebook.name} ({result.seconds:.1f} s)", file=err)
                bar.update()
    finally:
        papermill_log.setLevel(level)

    ordered = [results[nb.name] for nb in plan.notebooks]
    for path in _scrub_folder(tmp, plan.source):
        print(
            f"warning: {path.relative_to(tmp)} contained the source's secret; "
            "it was masked (or the file removed)",
            file=err,
        )
    failed = [r for r in ordered if not r.ok]
    destination = _failed_target(plan.output) if failed else plan.output
    _relocate_notebooks(tmp, destination)
    try:
        build_report(
            tmp / "report.html",
            [ReportSection(r.notebook.name, r.output, failed=not r.ok) for r in ordered],
            title=f"E-commerce operations report, {plan.period.start} to {plan.period.end}",
            details={
                "Period": f"{plan.period.start} to {plan.period.end} ({plan.period.n_days} days)",
                "Time zone": plan.period.timezone,
                "Source": plan.source.display,
                "Generated": _utc_now().strftime("%Y-%m-%d %H:%M UTC"),
                **(
                    {"Status": "FAILED: " + ", ".join(r.notebook.name for r in failed)}
                    if failed
                    else {}
                ),
            },
            base_dir=plan.notebooks_dir,
        )
    except Exception as exc:
        report_error = f"report.html could not be built: {_describe_failure(exc)}"
        print(f"error: {report_error}", file=err)
        if not failed:
            ordered[-1].error = report_error  # a run without its report is not a result
            failed = [ordered[-1]]
            destination = _failed_target(plan.output)
    _scrub_folder(tmp, plan.source)

    status = "failed" if failed else "succeeded"
    _write_run_json(tmp / "run.json", plan, ordered, started, status)
    if failed:
        kept = _keep_failed(tmp, plan.output, destination)
        for r in failed:
            print(
                f"error: notebook '{r.notebook.name}' failed: {plan.source.scrub(r.error or '')}",
                file=err,
            )
        print(
            f"error: {len(failed)} of {len(ordered)} notebook(s) failed; {plan.output} was "
            f"left as it was; this run is kept in {kept}",
            file=err,
        )
        return 1
    _publish(tmp, plan.output)
    print(plan.output)
    return 0


# --------------------------------------------------------------------------------------------
# Command line


def build_parser() -> argparse.ArgumentParser:
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
        help="set a notebook parameter (repeatable); converted to the type of its default, "
        "lists/dicts as JSON, None or null where the notebook allows None",
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
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def _print_list(notebooks: list[Notebook], folder: Path) -> None:
    print(f"Notebooks in {folder} (each also takes {', '.join(RUN_PARAMETERS)} from the flags):")
    for nb in notebooks:
        tables = ", ".join(_requirement_text(entry) for entry in nb.required_tables) or "none"
        print(f"\n{nb.name}  ({nb.path.name}; needs tables: {tables})")
        for p in nb.own_parameters.values():
            print(f"  -p {p.name} {p.default}" + (f"    # {p.help}" if p.help else ""))
        if not nb.own_parameters:
            print("  (no parameters of its own)")


def _print_plan(plan: Plan, dry_run: bool = False) -> None:
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
        f"{verb} {_names(plan.notebooks)} with {min(plan.jobs, len(plan.notebooks))} "
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
    notebooks_dir = Path(args.notebooks_dir or NOTEBOOKS_DIR).absolute()
    try:
        if not notebooks_dir.is_dir():
            raise UsageError(f"notebooks folder {notebooks_dir} does not exist")
        notebooks = discover_notebooks(notebooks_dir)
        if not notebooks:
            raise UsageError(f"no NN_name.ipynb notebooks in {notebooks_dir}")
        if args.list:
            _print_list(notebooks, notebooks_dir)
            return 0
        plan = plan_run(args, notebooks, notebooks_dir)
        plan.argv = list(sys.argv[1:] if argv is None else argv)
        _print_plan(plan, args.dry_run)
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


if __name__ == "__main__":
    sys.exit(main())
