"""How the source reaches the notebooks without its secret reaching any output.

A password in a source URL reaches the kernels only through the ``ECOM_SOURCE_URL`` environment
variable, never through a notebook parameter; whatever a notebook prints or saves is scrubbed of
it before the run is published.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lib import mapping
from lib.data import DataError, Source, open_source, redact, url_secrets
from lib.run.errors import UsageError

SOURCE_ENV_VAR = "ECOM_SOURCE_URL"

# The rules of lib.data.redact: a URL's password runs from "scheme://user:" to the last "@" (an
# unencoded "/", "#" or "?" in it defeats urlsplit), and a query value is secret when its key
# names a password, secret, token or key.
# ibis opens these schemes' URLs as a file path relative to the working directory
# (ibis.backends.UrlFromPath), and kernels run in the notebooks folder.
_FILE_URL_SCHEMES = ("duckdb", "sqlite", "file")
_TEXT_SUFFIXES = {".ipynb", ".csv", ".html", ".json", ".txt", ".md", ".log", ".svg", ".tsv"}


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
        """The spec of ``--source raw`` (None or ``sample``: the bundled sample)."""
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
            # a source mapping's database URL may expand a ${VAR} secret (lib/mapping.py)
            hidden = mapping.secrets(folder) if mapping.is_mapping(folder) else ()
            return cls(raw, folder, {}, folder, hidden)
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
        """``text`` with every secret of the source masked as ``***``."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
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


def rewrite_text(folder: Path, replacements: dict[str, str]) -> list[Path]:
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


def scrub_folder(folder: Path, source: SourceSpec) -> list[Path]:
    """Mask any secret a notebook printed or saved; return the files that held one."""
    return rewrite_text(folder, dict.fromkeys(source.secrets, "***"))


@contextlib.contextmanager
def opened(source: SourceSpec) -> Iterator[Source]:
    """The source opened with its secrets in the environment, for the runner's own checks.

    A :class:`~lib.data.DataError` while opening or reading it becomes one :class:`UsageError`
    with the secrets masked; the connection is closed on leaving, since a database file (DuckDB)
    admits one writer and the kernels need it.
    """
    with environment(source.env):
        try:
            found = open_source(source.parameter)
        except DataError as exc:
            raise UsageError(source.scrub(str(exc))) from None
        try:
            yield found
        except DataError as exc:
            raise UsageError(source.scrub(str(exc))) from None
        finally:
            with contextlib.suppress(Exception):
                found.backend.disconnect()
