"""The notebooks of a folder (``NN_name.ipynb``), their ``parameters`` cells and declarations.

A cell's parameter is the one of that name declared in :mod:`lib.parameters`; a parameter no
declaration names (in a notebook outside the catalogue, such as a test fixture) is typed from the
literal type of its default alone (:func:`lib.parameters.from_default`). The comments of the cell
are shown by ``--list`` and never read for meaning.
"""

from __future__ import annotations

import ast
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import papermill

from lib import parameters as declared
from lib import sections
from lib.parameters import RUN_PARAMETERS, NotebookSpec, Param
from lib.run.errors import UsageError

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"

_NOTEBOOK_FILE = re.compile(r"^(\d+)_(\w+)\.ipynb$")
UNKNOWN = object()  # a default that is not a Python literal, so its type is unknown


@dataclass(frozen=True)
class Parameter:
    """One assignment of a notebook's ``parameters`` cell."""

    name: str
    default: str  # the source text of the default, e.g. ``'"UTC"'`` or ``"30"``
    help: str = ""

    @property
    def value(self) -> Any:
        """The default as a Python value, or :data:`UNKNOWN` when it is not a plain literal."""
        try:
            return ast.literal_eval(self.default)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return UNKNOWN

    @property
    def spec(self) -> Param:
        """Its declaration in :mod:`lib.parameters`, else one typed by its default's literal."""
        found = declared.PARAMETERS.get(self.name)
        if found is not None:
            return found
        value = self.value
        if value is UNKNOWN:  # an expression: no type to follow, so the text as given
            return Param(self.name, str, self.default)
        return declared.from_default(self.name, value)


@dataclass(frozen=True)
class Notebook:
    """A notebook of the notebooks folder, e.g. ``01_traffic.ipynb`` named ``traffic``."""

    name: str
    path: Path
    parameters: dict[str, Parameter] = field(default_factory=dict)
    has_parameters_cell: bool = True

    @property
    def spec(self) -> NotebookSpec | None:
        """Its entry of the catalogue :data:`lib.parameters.NOTEBOOKS`, if it has one."""
        return declared.NOTEBOOKS.get(self.name)

    @property
    def required_tables(self) -> tuple[str, ...]:
        """Each entry a table name, or alternatives ``"events|orders"`` (either will do); none
        for a notebook outside the catalogue."""
        return self.spec.tables if self.spec else ()

    @property
    def needs(self) -> sections.Needs:
        """What the notebook needs from the source, declared as a section's needs are: the runner
        skips the notebook on the same rule (:func:`lib.sections.missing`) that skips a section."""
        return sections.Needs(tables=self.required_tables)

    @property
    def own_parameters(self) -> dict[str, Parameter]:
        """The parameters that ``-p`` may set (all but the runner's own)."""
        return {k: p for k, p in self.parameters.items() if k not in RUN_PARAMETERS}


def escape_format(path: Path | str) -> str:
    """``path`` for papermill, which str.format()s paths: braces in a folder name survive."""
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
            inspected = papermill.inspect_notebook(escape_format(path))
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


def names(notebooks: list[Notebook]) -> str:
    """The notebooks' names, comma-separated (``none`` for none)."""
    return ", ".join(nb.name for nb in notebooks) or "none"
