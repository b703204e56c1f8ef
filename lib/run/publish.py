"""Publishing a run: a hidden temporary folder next to the destination, locked against a second
run of it, which replaces ``outputs/<start>_<end>/`` only when every notebook succeeded; otherwise
it is kept under ``outputs/failed/`` (exit code 1). Temporary folders of killed runs are cleaned
up by the next run of the same destination. Also writes ``run.json`` and ``report.html``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import platform
import re
import secrets
import shutil
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from lib import rates
from lib.report import ReportSection, build_report
from lib.run.errors import UsageError
from lib.run.execute import Result, describe_failure, run_notebooks
from lib.run.plan import Plan
from lib.run.source import rewrite_text, scrub_folder

_STALE = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>\d+)-[0-9a-f]+$")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(output: Path) -> None:
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
def lock(output: Path) -> Iterator[None]:
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


def _relocate_notebooks(tmp: Path, destination: Path) -> None:
    """Make the executed notebooks name the folder the run ends up in, not the temporary one."""
    old, new = json.dumps(str(tmp))[1:-1], json.dumps(str(destination))[1:-1]
    rewrite_text(tmp / "notebooks", {old: new})


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
                "required_tables": nb.needs.table_texts,
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


def publish(tmp: Path, output: Path) -> None:
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
    with lock(output):
        clean_stale(output)
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
                scrub_folder(tmp, plan.source)
                print(
                    f"error: run aborted; partial output in {_keep_failed(tmp, output)}", file=err
                )
            raise


def _run_in(tmp: Path, plan: Plan, started: dt.datetime) -> int:
    err = sys.stderr
    ordered = run_notebooks(plan, tmp)
    for path in scrub_folder(tmp, plan.source):
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
            skipped=plan.skipped,
            appendix=[("Appendix: which rate is which", rates.html_table())],
        )
    except Exception as exc:
        report_error = f"report.html could not be built: {describe_failure(exc)}"
        print(f"error: {report_error}", file=err)
        if not failed:
            ordered[-1].error = report_error  # a run without its report is not a result
            failed = [ordered[-1]]
            destination = _failed_target(plan.output)
    scrub_folder(tmp, plan.source)

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
    publish(tmp, plan.output)
    print(plan.output)
    return 0
