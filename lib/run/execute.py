"""Executing notebooks with papermill, a few at a time, each in its own kernel."""

from __future__ import annotations

import logging
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import papermill
from jupyter_client.manager import AsyncKernelManager
from papermill.exceptions import PapermillExecutionError
from tqdm import tqdm
from traitlets import default

from lib.run.notebooks import Notebook, escape_format
from lib.run.plan import Plan
from lib.run.source import environment

KERNEL_NAME = "python3"


@dataclass
class Result:
    """How one notebook's execution went."""

    notebook: Notebook
    output: Path
    seconds: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the notebook ran to its end."""
        return self.error is None


def describe_failure(exc: BaseException) -> str:
    """One line naming what failed: the cell and its error, or the exception."""
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
            escape_format(nb.path),
            escape_format(out),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            kernel_manager_class=_KernelManager,
            cwd=str(cwd),
            progress_bar=bar,
        )
    except Exception as exc:  # papermill has already saved the partly executed notebook
        result.error = describe_failure(exc)
    result.seconds = time.monotonic() - started
    return result


def run_notebooks(plan: Plan, tmp: Path) -> list[Result]:
    """Execute the plan's notebooks into ``tmp/notebooks`` (``output_dir`` set to ``tmp``),
    ``plan.jobs`` at a time, reporting each as it ends; the results in the plan's order."""
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
            environment(plan.source.env),
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
    return [results[nb.name] for nb in plan.notebooks]
