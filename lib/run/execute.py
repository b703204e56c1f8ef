"""Executing notebooks with papermill, a few at a time, on kernels kept between notebooks.

Starting a kernel and importing ``lib`` (pandas, Ibis, DuckDB, matplotlib, seaborn, SciPy) costs
about 3 s, more than many a notebook's own work on a small shop. So each of the ``--jobs``
workers keeps one kernel and runs notebook after notebook on it: between two notebooks the
kernel's namespace is emptied (``%reset -f``, figures closed, the cell counter back to 1), while
the imported modules stay loaded. A notebook therefore sees no name another one defined, as in a
fresh kernel; what survives is only what the modules hold themselves (e.g. the report style). A
notebook that fails, or whose reset fails, takes its kernel with it: the next one starts afresh.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import papermill
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from papermill.exceptions import PapermillExecutionError
from tqdm import tqdm
from traitlets import List, default

from lib.data import cache_folder
from lib.run.notebooks import Notebook, escape_format
from lib.run.plan import Plan
from lib.run.source import environment

KERNEL_NAME = "python3"
# Each notebook's last time on this machine (in lib.data.cache_folder), to start the long ones
# first.
SECONDS_FILE = "notebook_seconds.json"


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

    The manager outlives the notebooks run on its kernel, and papermill's client of each
    notebook leaves its channels open when it does not own the manager: the manager keeps the
    clients it hands out, so that :meth:`stop_clients` can close them after each notebook.
    """

    _clients = List()

    @default("transport_encryption")
    def _encrypt_when_supported(self) -> str:
        return "auto"

    def client(self, **kwargs: Any) -> AsyncKernelClient:
        """A client of the kernel, kept until :meth:`stop_clients`."""
        made = super().client(**kwargs)
        self._clients.append(made)
        return made

    def stop_clients(self) -> None:
        """Close the channels of every client handed out so far."""
        for made in self._clients:
            made.stop_channels()
        self._clients.clear()


# Run between two notebooks on a kept kernel: the namespace is emptied as a fresh kernel's
# would be (the imported modules stay in sys.modules, which is the point), open figures closed,
# and the tables lib.data keeps let go, so that the notebook's connection closes with it.
_RESET = """\
import matplotlib.pyplot as _plt
_plt.close("all")
del _plt
import sys as _sys
if "lib.data" in _sys.modules:
    _sys.modules["lib.data"].release_kept()
del _sys
get_ipython().run_line_magic("reset", "-f")
import gc as _gc
_gc.collect()
del _gc
get_ipython().execution_count = 1
"""
RESET_TIMEOUT = 60  # seconds; a reset that takes longer means the kernel is unwell


def _execute(
    nb: Notebook,
    out: Path,
    parameters: dict[str, Any],
    cwd: Path,
    bar: bool,
    km: _KernelManager,
) -> Result:
    started = time.monotonic()
    result = Result(nb, out)
    try:
        papermill.execute_notebook(
            escape_format(nb.path),
            escape_format(out),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            km=km,  # started by papermill on first use, then kept (see the module docstring)
            cwd=str(cwd),
            progress_bar=bar,
        )
    except Exception as exc:  # papermill has already saved the partly executed notebook
        result.error = describe_failure(exc)
    result.seconds = time.monotonic() - started
    return result


async def _reset(km: _KernelManager) -> bool:
    """Empty the kernel's namespace for the next notebook; False when that failed."""
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=RESET_TIMEOUT)
        reply = await client.execute_interactive(
            _RESET, silent=True, store_history=False, timeout=RESET_TIMEOUT
        )
        return reply["content"]["status"] == "ok"
    except Exception:  # a dead or stuck kernel: the caller replaces it
        return False
    finally:
        km.stop_clients()  # papermill's and this one


def _shutdown(km: _KernelManager) -> None:
    km.stop_clients()
    try:
        if run_sync(km.is_alive)():
            run_sync(km.shutdown_kernel)(now=False)
    finally:
        run_sync(km.cleanup_resources)()


def _worker(
    todo: queue.Queue,
    run_one: Callable[[Notebook, _KernelManager], Result],
    done: Callable[[Result], None],
) -> None:
    """Run notebooks from ``todo`` until it is empty, on one kernel kept between them."""
    km: _KernelManager | None = None
    try:
        while True:
            try:
                nb = todo.get_nowait()
            except queue.Empty:
                return
            if km is None:
                km = _KernelManager(kernel_name=KERNEL_NAME)
            result = run_one(nb, km)
            if not (result.ok and run_sync(_reset)(km)):
                _shutdown(km)  # a failed notebook may have left anything behind
                km = None
            done(result)
    finally:
        if km is not None:
            _shutdown(km)


def _seconds_path() -> Path | None:
    folder = cache_folder()
    return None if folder is None else folder / SECONDS_FILE


def last_seconds() -> dict[str, float]:
    """Each notebook's time in the last run that ran it on this machine (none known: empty)."""
    path = _seconds_path()
    try:
        found = json.loads(path.read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return {}
    return {str(k): float(v) for k, v in found.items()} if isinstance(found, dict) else {}


def remember_seconds(results: list[Result]) -> None:
    """Keep the times of the notebooks that ran to their end, for :func:`longest_first`."""
    path = _seconds_path()
    if path is None:
        return
    seconds = last_seconds() | {r.notebook.name: round(r.seconds, 1) for r in results if r.ok}
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.write_text(json.dumps(seconds, sort_keys=True), encoding="utf-8")
        os.replace(partial, path)


# Each catalogue notebook's time in the 100M report on a 2-core machine (docs/performance.md),
# for a first run on a machine that has timed none of them yet: only their order matters.
TYPICAL_SECONDS = {
    "journeys": 107.0,
    "customers": 63.0,
    "retention": 61.0,
    "monitoring": 54.0,
    "traffic": 46.0,
    "conversion": 46.0,
    "supply_chain": 24.0,
    "marketing": 24.0,
    "overview": 23.0,
    "products": 18.0,
    "costs": 4.0,
}


def longest_first(notebooks: list[Notebook], seconds: dict[str, float]) -> list[Notebook]:
    """The order to start ``notebooks`` in: the longest last time first, a notebook never timed
    before them all, ties in report order. When none of them was ever timed on this machine (a
    first run, or the cache cleared), the catalogue's :data:`TYPICAL_SECONDS` stand in for the
    last times. With a few workers, a long notebook started last would keep one busy while the
    others idle: longest-first ends the run soonest (at 100M events the notebooks range from
    4 s to 107 s)."""
    if not any(nb.name in seconds for nb in notebooks):
        seconds = TYPICAL_SECONDS
    return sorted(notebooks, key=lambda nb: -seconds.get(nb.name, math.inf))


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
    lock = threading.Lock()
    todo: queue.Queue = queue.Queue()
    for nb in longest_first(plan.notebooks, last_seconds()):
        todo.put(nb)

    def run_one(nb: Notebook, km: _KernelManager) -> Result:
        out = tmp / "notebooks" / nb.path.name
        parameters = {**plan.parameters[nb.name], "output_dir": str(tmp)}
        return _execute(nb, out, parameters, plan.notebooks_dir, cell_bar, km)

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

            def done(result: Result) -> None:
                with lock:
                    results[result.notebook.name] = result
                    state = "ok" if result.ok else "FAILED"
                    line = f"  {state:6} {result.notebook.name} ({result.seconds:.1f} s)"
                    bar.write(line, file=err)
                    bar.update()

            workers = [pool.submit(_worker, todo, run_one, done) for _ in range(jobs)]
            for worker in workers:
                worker.result()  # re-raises what a worker did not expect
    finally:
        papermill_log.setLevel(level)
    ordered = [results[nb.name] for nb in plan.notebooks]
    remember_seconds(ordered)
    return ordered
