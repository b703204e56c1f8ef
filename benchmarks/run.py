"""Benchmark the full report and the core metrics on simulated data sets of 1M and 10M events.

    make bench                       # installs benchmarks/requirements.txt, then runs this
    python benchmarks/run.py [--sizes 1m,10m] [--with-100m] [--no-report] [--no-solo]
        [--no-baselines] [--baselines-at-100m] [--no-fixed] [--jobs 2] [--repeat 3]
        [--json FILE] [--start YYYY-MM-DD --end YYYY-MM-DD] [--timezone Asia/Shanghai]

The period is the issue's: 60 days (2025-09-16..2025-11-14) at 1M and 10M, 31 days
(2025-10-15..2025-11-14) at 100M. For each size it

0. at 1M (unless ``--no-fixed``), measures the fixed cost of a notebook: the runner with 11
   notebooks that only import ``lib`` and open the source, minus the runner's checks alone
   (``--dry-run``), per notebook; and the same with one notebook (a kernel's first);
1. generates the data set with the simulator as Parquet under ``benchmarks/data/events_<size>/``
   (git-ignored; kept and reused by later runs, since generation is deterministic);
2. runs the full report (``python -m lib.run --source DIR``, every notebook the source allows,
   ``--jobs`` at once) and, unless ``--no-solo``, each notebook alone, printing wall time, peak
   RSS of the whole process tree (runner and kernels, polled every 0.1 s) and events per second;
3. runs each core metric (DAU/WAU/MAU, main funnel, D1/D7/D30 retention, repurchase) three ways,
   each in its own process: the project's (Ibis on DuckDB), plain pandas and Polars
   (``benchmarks/metrics.py``), ``--repeat`` times (the best time is shown: other work on the
   machine only ever adds), with time, peak RSS, events per second, the ratio of each
   baseline's time to the project's, and a check that every baseline's numbers equal the
   project's (the run exits 1 if one does not).

Figures, not pass/fail: the issue's floors are printed next to them, and speed targets stay out
of the unit tests. docs/performance.md records a run and the command that produced it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
PYTHON = sys.executable
SIZES = {"1m": 1_000_000, "10m": 10_000_000, "100m": 100_000_000}
NOTEBOOKS = ("overview", "traffic", "conversion", "retention")
METRIC_LABELS = {
    "traffic": "DAU/WAU/MAU",
    "funnel": "main funnel",
    "retention": "D1/D7/D30 retention",
    "repurchase": "repurchase",
}
# The floors of issue 14 on a 2-core, 24 GB machine (figures to compare with, not assertions).
FLOORS = (
    "10M over 60 days: the full report <= 60 s wall and <= 2 GB peak RSS of the process tree; "
    "each event-scale core metric (DAU/WAU/MAU, main funnel, retention) no slower than Polars; "
    "100M over 31 days: the full report <= 180 s and <= 4 GB; "
    "1M: the fixed cost of a notebook (kernel, imports, opening the source) <= 1.5 s"
)
# The periods: 60 days at 1M and 10M, 31 days at 100M (--start/--end override both).
PERIODS = {
    "1m": ("2025-09-16", "2025-11-14"),
    "10m": ("2025-09-16", "2025-11-14"),
    "100m": ("2025-10-15", "2025-11-14"),
}
# Notebooks in the fixed-cost run: as many as the report will have once issues 15-19 land.
FIXED_NOTEBOOKS = 11
FIXED_COST_FLOOR = 1.5  # seconds per notebook
# What every notebook does before its first section (00-06 do the same, with their own modules).
FIXED_CELL = """\
from lib import costs, data, funnel, gmv, outputs, overview, plots, products, retention, sections
from lib import segments, slots, supply, traffic
from lib.periods import Period

plots.use_report_style()
period = Period(start, end, timezone)
src = data.open_source(source, dedupe_events=dedupe_events)
print(data.coverage_note(src, period))
"""
MIB = 2**20


@dataclass
class Measured:
    """One process tree's wall time and peak resident memory."""

    seconds: float
    peak_rss: int  # bytes
    returncode: int
    stdout: str = ""
    stderr: str = ""


def measure(argv: list[str], env: dict[str, str] | None = None, interval: float = 0.1) -> Measured:
    """Run ``argv`` and poll the RSS of its whole process tree until it exits.

    The sum over the tree counts each kernel papermill starts. Polling can miss a peak shorter
    than ``interval``; the exited process's own ``ru_maxrss`` (exact, one process) is a floor
    taken into account too.
    """
    began = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=ROOT)
        root = psutil.Process(process.pid)
        peak = 0
        done = threading.Event()

        def poll() -> None:
            nonlocal peak
            while not done.is_set():
                total = 0
                try:
                    tree = [root, *root.children(recursive=True)]
                except psutil.Error:
                    tree = []
                for member in tree:
                    # a member may exit (or be a zombie) between listing and reading
                    with contextlib.suppress(psutil.Error):
                        total += member.memory_info().rss
                peak = max(peak, total)
                done.wait(interval)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        # wait4 (not Popen.wait) hands back the child's resource usage, ru_maxrss included
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - began
        done.set()
        poller.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            seconds,
            max(peak, usage.ru_maxrss * 1024),
            process.returncode,
            out.read(),
            err.read(),
        )


def load() -> str:
    """The 1-, 5- and 15-minute load averages."""
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def events_in(folder: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(folder / "events.parquet").metadata.num_rows


def simulator_version() -> str:
    """A hash of lib/simulate.py: a data set made by another version is made again."""
    return hashlib.sha1((ROOT / "lib" / "simulate.py").read_bytes()).hexdigest()[:12]


# The simulator's switches for a benchmark shop: --marketing writes the campaigns, A/B tests and
# competitor prices notebook 10 reads (off by default for an --events shop).
SIMULATOR_FLAGS = ["--marketing"]


def generate(size: str) -> Path:
    """The data set of ``size`` events, generated once per simulator version (it is
    deterministic, so a kept data set is the one the current simulator would write)."""
    folder = DATA / f"events_{size}"
    stamp = folder / ".simulator"
    version = " ".join([simulator_version(), *SIMULATOR_FLAGS])  # other flags: other data
    if stamp.exists() and stamp.read_text().strip() == version:
        return folder
    if folder.exists():
        shutil.rmtree(folder)  # tables an older simulator wrote must not linger
    print(f"generating {size} events into {folder.relative_to(ROOT)} ...", flush=True)
    argv = [PYTHON, "-m", "lib.simulate", "--out", str(folder), "--events", str(SIZES[size])]
    argv += SIMULATOR_FLAGS
    run = measure([*argv, "--no-progress"])
    if run.returncode:
        raise SystemExit(f"the simulator failed:\n{run.stderr}")
    stamp.write_text(version + "\n")
    print(f"  generated in {run.seconds:.0f} s (peak RSS {run.peak_rss / MIB:,.0f} MiB)")
    return folder


@dataclass
class Row:
    """A printed and recorded measurement."""

    size: str
    kind: str  # report, notebook, notebook-alone, metric
    name: str
    impl: str
    seconds: float
    peak_rss_mib: float
    events_per_second: float
    extra: dict = field(default_factory=dict)


def report_rows(
    size: str, folder: Path, args: argparse.Namespace, n_events: int, solo: bool
) -> list[Row]:
    """The full report under one runner, then (``solo``) each notebook alone."""
    rows = []
    out = DATA / f"report_{size}"
    start, end = period_of(size, args)
    base = [PYTHON, "-m", "lib.run", "--source", str(folder), "--start", start]
    base += ["--end", end, "--timezone", args.timezone, "--quiet"]
    full = measure([*base, "--jobs", str(args.jobs), "--output", str(out)])
    if full.returncode:
        raise SystemExit(f"the report failed on {size}:\n{full.stderr[-3000:]}")
    run_json = json.loads((out / "run.json").read_text())
    ran = [nb["name"] for nb in run_json["notebooks"]]
    rows.append(
        Row(size, "report", "all notebooks", f"project, {args.jobs} jobs", full.seconds,
            full.peak_rss / MIB, n_events / full.seconds, {"notebooks": ran})
    )  # fmt: skip
    for nb in run_json["notebooks"]:
        seconds = float(nb["seconds"])
        rows.append(
            Row(size, "notebook", nb["name"], "in the full run", seconds, float("nan"),
                n_events / seconds)
        )  # fmt: skip
    if solo:
        for name in ran:
            alone = measure([*base, "--notebooks", name, "--output", str(out) + f"_{name}"])
            if alone.returncode:
                raise SystemExit(f"notebook {name} failed on {size}:\n{alone.stderr[-3000:]}")
            rows.append(
                Row(size, "notebook-alone", name, "alone (runner + kernel)", alone.seconds,
                    alone.peak_rss / MIB, n_events / alone.seconds)
            )  # fmt: skip
    return rows


def period_of(size: str, args: argparse.Namespace) -> tuple[str, str]:
    """The report period of ``size``: the issue's unless --start/--end say otherwise."""
    start, end = PERIODS[size]
    return args.start or start, args.end or end


def _fixed_notebooks(folder: Path, count: int) -> None:
    """``count`` notebooks doing only what each report notebook does before its first section."""
    import nbformat

    from lib import parameters

    for index in range(count):
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell(
            "\n".join(
                f"{name} = {parameters.literal(parameters.default(name))}"
                for name in parameters.CELL_HEAD
            )
        )
        cell.metadata["tags"] = ["parameters"]
        nb.cells = [cell, nbformat.v4.new_code_cell(FIXED_CELL)]
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nbformat.write(nb, folder / f"{index:02d}_fixed{index}.ipynb")


def fixed_cost_rows(size: str, folder: Path, args: argparse.Namespace) -> list[Row]:
    """The fixed cost of a notebook: the runner with FIXED_NOTEBOOKS notebooks that only import
    and open the source, against the same runner's checks alone (``--dry-run``), per notebook;
    and one such notebook alone (a kernel's first notebook: start, imports, source)."""
    start, end = period_of(size, args)
    base = [PYTHON, "-m", "lib.run", "--source", str(folder), "--start", start, "--end", end]
    base += ["--timezone", args.timezone, "--quiet", "--jobs", str(args.jobs)]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        notebooks = Path(scratch) / "notebooks"
        notebooks.mkdir()
        _fixed_notebooks(notebooks, FIXED_NOTEBOOKS)
        base += ["--notebooks-dir", str(notebooks)]
        checks = min(measure([*base, "--dry-run"]).seconds for _ in range(args.repeat))
        for count in (1, FIXED_NOTEBOOKS):
            names = ",".join(f"fixed{index}" for index in range(count))
            runs = []
            for attempt in range(args.repeat):
                out = Path(scratch) / f"out{count}_{attempt}"
                run = measure([*base, "--notebooks", names, "--output", str(out)])
                if run.returncode:
                    raise SystemExit(f"the fixed-cost notebooks failed:\n{run.stderr[-3000:]}")
                runs.append(run)
            best = min(runs, key=lambda r: r.seconds)
            per_notebook = (best.seconds - checks) / count
            label = "1 notebook" if count == 1 else f"{count} notebooks, {args.jobs} jobs"
            rows.append(
                Row(size, "fixed cost", "per notebook", label, per_notebook,
                    best.peak_rss / MIB, float("nan"),
                    {"run_seconds": best.seconds, "checks_seconds": checks, "notebooks": count})
            )  # fmt: skip
    return rows


def metric_rows(
    size: str, folder: Path, args: argparse.Namespace, n_events: int, impls: list[str]
) -> tuple[list[Row], list[str]]:
    """Each core metric by each implementation in its own process; mismatches are returned."""
    rows, mismatches = [], []
    sys.path.insert(0, str(HERE))
    from metrics import compare  # benchmarks/metrics.py, beside this file

    for metric in METRIC_LABELS:
        results = {}
        for impl in impls:
            start, end = period_of(size, args)
            argv = [PYTHON, str(HERE / "metrics.py"), impl, metric, str(folder), start]
            seconds, peak = [], 0
            for _ in range(args.repeat):
                run = measure([*argv, end, args.timezone], interval=0.05)
                if run.returncode:
                    raise SystemExit(f"{impl} {metric} failed on {size}:\n{run.stderr[-3000:]}")
                answer = json.loads(run.stdout.strip().splitlines()[-1])
                seconds.append(answer["seconds"])
                peak = max(peak, run.peak_rss)
            results[impl] = answer["result"]
            extra: dict = {"runs": seconds}
            if impl != "project":
                differs = compare(results["project"], answer["result"])
                extra["equal"] = not differs
                if differs:
                    mismatches.append(f"{size} {metric} {impl}: {', '.join(differs)} differ")
            # the best of the runs: what the code costs when nothing else takes the cores
            rows.append(
                Row(size, "metric", METRIC_LABELS[metric], impl, min(seconds), peak / MIB,
                    n_events / min(seconds), extra)
            )  # fmt: skip
    return rows, mismatches


def print_rows(rows: list[Row]) -> None:
    project = {
        (r.size, r.name): r.seconds for r in rows if r.kind == "metric" and r.impl == "project"
    }
    print(f"{'size':<6}{'what':<22}{'how':<26}{'wall s':>8}{'peak MiB':>10}{'events/s':>13}"
          f"{'  project vs it':>16}")  # fmt: skip
    for r in rows:
        rss = "-" if r.peak_rss_mib != r.peak_rss_mib else f"{r.peak_rss_mib:,.0f}"
        ratio = ""
        if r.kind == "fixed cost":
            ratio = f"{r.seconds / FIXED_COST_FLOOR:6.2f} of the {FIXED_COST_FLOOR} s floor"
        if r.kind == "metric" and r.impl != "project":
            speedup = r.seconds / project[(r.size, r.name)]
            ratio = f"{speedup:6.1f}x faster" if speedup >= 1 else f"{1 / speedup:6.1f}x slower"
            ratio += "" if r.extra.get("equal") else "  NOT EQUAL"
        print(f"{r.size:<6}{r.name:<22}{r.impl:<26}{r.seconds:8.2f}{rss:>10}"
              f"{r.events_per_second:13,.0f}  {ratio}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m,10m", help="comma-separated of 1m, 10m, 100m")
    parser.add_argument("--with-100m", action="store_true", help="add the 100M data set")
    parser.add_argument("--no-report", action="store_true", help="skip the notebooks")
    parser.add_argument("--no-solo", action="store_true", help="skip the notebook-alone runs")
    parser.add_argument("--no-baselines", action="store_true", help="project metrics only")
    parser.add_argument(
        "--baselines-at-100m",
        action="store_true",
        help="run the pandas and Polars baselines at 100M too (in memory: 13 GB or more)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="notebooks at once in the report")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each metric; the best time is shown, the highest peak RSS (default 3)",
    )
    parser.add_argument("--start", help="first day (default: the issue's period of each size)")
    parser.add_argument("--end", help="last day (default: the issue's period of each size)")
    parser.add_argument(
        "--no-fixed", action="store_true", help="skip the fixed cost per notebook (at 1M)"
    )
    parser.add_argument("--timezone", default="Asia/Shanghai")
    parser.add_argument("--json", type=Path, help="also write every measurement to this file")
    args = parser.parse_args(argv)

    sizes = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]
    if args.with_100m and "100m" not in sizes:
        sizes.append("100m")
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {', '.join(unknown)}; known: {', '.join(SIZES)}")
    machine = f"{psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB"
    print(f"benchmark {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
          f"({machine}, Python {platform.python_version()}); periods "
          f"{', '.join(f'{s} {period_of(s, args)[0]}..{period_of(s, args)[1]}' for s in sizes)} "
          f"{args.timezone}")  # fmt: skip
    print(f"floors: {FLOORS}")
    print(f"load average before: {load()} (other work on the machine slows every figure)")

    rows: list[Row] = []
    mismatches: list[str] = []
    for size in sizes:
        folder = generate(size)
        n_events = events_in(folder)
        print(f"\n{size}: {n_events:,} events in {folder.relative_to(ROOT)}; load {load()}",
              flush=True)  # fmt: skip
        found: list[Row] = []
        if size == "1m" and not args.no_fixed:
            found += fixed_cost_rows(size, folder, args)
        if not args.no_report:
            found += report_rows(size, folder, args, n_events, solo=not args.no_solo)
        impls = ["project"]
        if not args.no_baselines and (size != "100m" or args.baselines_at_100m):
            impls += ["pandas", "pandas-whole", "polars"]
        metrics, wrong = metric_rows(size, folder, args, n_events, impls)
        found += metrics
        mismatches += wrong
        print_rows(found)
        rows += found

    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1) + "\n")
    if mismatches:
        print("\nbaselines that do not give the project's numbers:\n  " + "\n  ".join(mismatches))
        return 1
    print(f"\nfinished {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, load average {load()}; "
          "baselines equal the project")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
