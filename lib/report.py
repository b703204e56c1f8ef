"""The one-page HTML report of a run: every executed notebook's results behind a contents list.

The executed notebooks are merged into one notebook and rendered once with nbconvert's
:class:`~nbconvert.HTMLExporter` (code and prompts hidden, images embedded as base64), so the page
carries its CSS once and is a single self-contained file. The lab template's CDN scripts
(require.js, MathJax, Mermaid) are dropped: the notebooks show static tables and PNG figures, and
MathJax would turn prices such as ``$5 ... $10`` into formulas.
"""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from traitlets.config import Config

from lib.sections import NOTE_METADATA, SUMMARY_METADATA

# Extends the stock lab page: the head scripts and the page header change, and an image with an
# "alt" in its output metadata (lib.outputs.save_figure) carries it as its alt text.
_TEMPLATE = """\
{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}<style>{{ resources.report_css }}</style>{%- endblock extra_css -%}
{%- block body_header -%}{{ super() }}{{ resources.report_header }}{%- endblock body_header -%}
{%- block data_png scoped -%}
{%- set alt = output | get_metadata('alt', 'image/png') -%}
{%- if alt -%}
{{ super() | replace('<img ', '<img alt="' ~ (alt | escape_html) ~ '" ', 1) }}
{%- else -%}
{{ super() }}
{%- endif -%}
{%- endblock data_png -%}
"""

_CSS = """
.report-header { max-width: 1100px; margin: 1.5em auto 1em; padding: 0 1em; font-family: system-ui,
  -apple-system, "Segoe UI", sans-serif; }
.report-header h1 { margin-bottom: 0.2em; }
.report-meta { border-collapse: collapse; margin: 0.5em 0 1em; }
.report-meta th { text-align: left; padding: 0.15em 1em 0.15em 0; color: #555; font-weight: 600; }
.report-meta td { padding: 0.15em 0; }
.report-toc ol { padding-left: 1.4em; }
.report-toc ul { padding-left: 1.2em; margin: 0.2em 0 0.5em; }
.report-failed { color: #b00020; font-weight: 600; }
.report-skipped { color: #6c757d; font-style: italic; }
.report-notebook-start { border-top: 3px solid #ccc; margin-top: 2.5em; }
.report-summary { background: #f6f8fa; border-left: 4px solid #4c72b0; padding: 0.3em 1em; }
"""

# Cells a notebook author wants out of the published page entirely.
REMOVE_CELL_TAGS = {"remove_cell", "remove-cell"}

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


@dataclass(frozen=True)
class ReportSection:
    """One executed notebook to show, under ``name`` (also the anchor, ``#nb-<name>``)."""

    name: str
    path: Path
    failed: bool = False


def _slug(text: str) -> str:
    # \w keeps non-Latin headings (e.g. Chinese) readable in the anchor
    return re.sub(r"[^\w]+", "-", text.lower(), flags=re.UNICODE).strip("-") or "section"


def _plain(heading: str) -> str:
    """Heading text without the commonest inline Markdown marks."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    return re.sub(r"[`*]|__", "", text).strip()


def _anchor_headings(source: str, prefix: str, used: set[str]) -> tuple[str, list[tuple[str, str]]]:
    """Put an anchor before every ``##`` heading of a Markdown cell; return the new text and
    ``(anchor, heading)`` pairs. Headings inside code fences are left alone."""
    lines_out: list[str] = []
    found: list[tuple[str, str]] = []
    fence: str | None = None
    for line in source.splitlines():
        fence_match = _FENCE.match(line)
        if fence_match:
            marker = fence_match.group(1)
            if fence is None:
                fence = marker[0] * 3
            elif marker.startswith(fence):
                fence = None
        heading = _HEADING.match(line) if fence is None else None
        if heading and len(heading.group(1)) == 2:
            anchor = base = f"{prefix}--{_slug(_plain(heading.group(2)))}"
            n = 2
            while anchor in used:
                anchor, n = f"{base}-{n}", n + 1
            used.add(anchor)
            found.append((anchor, _plain(heading.group(2))))
            # the blank line ends the HTML block, so the heading is still parsed as Markdown
            lines_out += [f'<div id="{html.escape(anchor)}"></div>', ""]
        lines_out.append(line)
    return "\n".join(lines_out), found


def _title(nb: nbformat.NotebookNode, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                heading = _HEADING.match(line)
                if heading and len(heading.group(1)) == 1:
                    return _plain(heading.group(2))
    return fallback


def _report_cells(nb: nbformat.NotebookNode, name: str) -> list[nbformat.NotebookNode]:
    """The notebook's cells as the report shows them: without stderr noise, with fresh ids."""
    cells = []
    for i, cell in enumerate(nb.cells):
        if REMOVE_CELL_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        cell = copy.deepcopy(cell)
        cell["id"] = f"{_slug(name)}-{i}"  # ids must be unique across the merged notebook
        if cell.cell_type == "code":
            # warnings from libraries belong in the executed notebook, not the business report
            cell.outputs = [
                o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")
            ]
        cells.append(cell)
    return cells


def _skipped_notes(cell: nbformat.NotebookNode) -> list[str]:
    """The notes of skipped sections a code cell showed (:func:`lib.sections.show`)."""
    return [
        str(output.get("data", {}).get("text/plain", ""))
        for output in cell.get("outputs", [])
        if output.get("metadata", {}).get(NOTE_METADATA, {}).get("skipped")
    ]


def _skipped_text(notes: Sequence[str]) -> str:
    if not notes:
        return ""
    reasons = "; ".join(html.escape(note) for note in notes)
    return f' <span class="report-skipped">(skipped: {reasons})</span>'


# A link to a notebook of the folder, with an optional heading anchor (Jupyter's: spaces as "-").
_HTML_LINK = re.compile(r'<a href="(\d\d_[\w-]+\.ipynb)(?:#([^"]*))?">(.*?)</a>', re.DOTALL)
_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\((\d\d_[\w-]+\.ipynb)(?:#([^)]*))?\)")


@dataclass
class _Targets:
    """Where a link to each notebook file goes on the page: its start, or one of its headings."""

    starts: dict[str, str]  # file name -> the notebook's anchor
    headings: dict[str, dict[str, str]]  # file name -> slug of a heading -> its anchor

    def anchor(self, file: str, fragment: str | None) -> str | None:
        """The page anchor of ``file#fragment``; None when the notebook is not on the page."""
        if file not in self.starts:
            return None
        found = self.headings[file].get(_slug(fragment)) if fragment else None
        return found or self.starts[file]


def _local_links(text: str, targets: _Targets) -> str:
    """Links between notebooks made links inside the page; a link to a notebook the page does
    not hold (skipped, failed, not selected) becomes its plain text: nothing points nowhere."""

    def html_link(match: re.Match) -> str:
        anchor = targets.anchor(match.group(1), match.group(2))
        return (
            f'<a href="#{html.escape(anchor)}">{match.group(3)}</a>' if anchor else match.group(3)
        )

    def markdown_link(match: re.Match) -> str:
        anchor = targets.anchor(match.group(2), match.group(3))
        return f"[{match.group(1)}](#{anchor})" if anchor else match.group(1)

    return _MARKDOWN_LINK.sub(markdown_link, _HTML_LINK.sub(html_link, text))


def _summary_html(cell: nbformat.NotebookNode) -> str:
    """The HTML of the run's summary if the cell displayed it (:func:`lib.executive.show`), and
    the cell left with a pointer to the top of the page in its place."""
    found = ""
    for output in cell.get("outputs", []):
        if output.get("metadata", {}).get(SUMMARY_METADATA) and not found:
            found = str(output.get("data", {}).get("text/html", ""))
            output["data"] = {"text/markdown": "The summary is at the top of this page."}
            output["metadata"] = {}
    return found


def _link_cell(cell: nbformat.NotebookNode, targets: _Targets) -> None:
    if cell.cell_type == "markdown":
        cell.source = _local_links(cell.source, targets)
        return
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        for kind in ("text/html", "text/markdown"):
            if kind in data:
                data[kind] = _local_links(str(data[kind]), targets)


def build_report(
    path: Path,
    sections: Sequence[ReportSection],
    *,
    title: str,
    details: Mapping[str, str],
    base_dir: Path | None = None,
    skipped: Sequence[str] = (),
    appendix: Sequence[tuple[str, str]] = (),
) -> Path:
    """Write the report of ``sections`` to ``path``.

    ``details`` are shown as a small table under the title (e.g. period, time zone, source); they
    are escaped here, so pass plain text. Missing notebooks (a run that failed early) are listed
    as failed and skipped. ``base_dir`` is where relative Markdown image paths are looked up
    (the notebooks' source folder). The contents list the notebooks the run ``skipped`` (each a
    name and its reason, e.g. "products (no orders table)"), and, under each notebook, every
    section that skipped itself, with the note it showed (:func:`lib.sections.show`). The run's
    summary (:func:`lib.executive.show`) goes above the contents, and links between notebooks
    become links inside the page (:func:`_local_links`). Each ``appendix`` entry, a title and
    its HTML (e.g. the glossary of rates, :func:`lib.rates.html_table`), ends the page and the
    contents.
    """
    merged = nbformat.v4.new_notebook()
    toc: list[str] = []
    used: set[str] = set()
    targets = _Targets({}, {})
    summary = ""
    for section in sections:
        anchor = f"nb-{_slug(section.name)}"
        used.add(anchor)
        if not section.path.exists():
            toc.append(
                f'<li>{html.escape(section.name)} <span class="report-failed">(no output)</span>'
                "</li>"
            )
            continue
        nb = nbformat.read(section.path, as_version=4)
        if not merged.metadata:
            merged.metadata = copy.deepcopy(nb.metadata)
            merged.metadata.pop("papermill", None)
        merged.cells.append(
            nbformat.v4.new_markdown_cell(
                f'<div id="{anchor}" class="report-notebook-start"></div>', id=f"{anchor}-start"
            )
        )
        headings: list[tuple[str, str]] = []
        notes: dict[str, list[str]] = {}  # heading anchor (or the notebook's) -> skipped notes
        for cell in _report_cells(nb, section.name):
            if cell.cell_type == "markdown":
                cell.source, found = _anchor_headings(cell.source, _slug(section.name), used)
                headings += found
            else:
                notes.setdefault(headings[-1][0] if headings else anchor, []).extend(
                    _skipped_notes(cell)
                )
                summary = summary or _summary_html(cell)
            merged.cells.append(cell)
        targets.starts[section.path.name] = anchor
        targets.headings[section.path.name] = {_slug(h): a for a, h in headings}
        failed = ' <span class="report-failed">(failed)</span>' if section.failed else ""
        items = "".join(
            f'<li><a href="#{html.escape(a)}">{html.escape(h)}</a>{_skipped_text(notes.get(a, []))}'
            "</li>"
            for a, h in headings
        )
        toc.append(
            f'<li><a href="#{anchor}">{html.escape(_title(nb, section.name))}</a>{failed}'
            + _skipped_text(notes.get(anchor, []))
            + (f"<ul>{items}</ul>" if items else "")
            + "</li>"
        )
    for entry in skipped:  # "products (no orders table)": the runner's note on a notebook
        name, _, reason = entry.removesuffix(")").partition(" (")
        toc.append(f"<li>{html.escape(name)}{_skipped_text([reason or 'not run'])}</li>")
    for number, (heading, body) in enumerate(appendix, start=1):
        anchor = f"appendix-{number}"
        merged.cells.append(
            nbformat.v4.new_markdown_cell(
                f'<div id="{anchor}" class="report-notebook-start"></div>\n\n'
                f"## {heading}\n\n{body}",
                id=anchor,
            )
        )
        toc.append(f'<li><a href="#{anchor}">{html.escape(heading)}</a></li>')

    for cell in merged.cells:
        _link_cell(cell, targets)
    if summary:
        summary = (
            '<section class="report-summary"><h2>Summary</h2>'
            f"{_local_links(summary, targets)}</section>"
        )
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in details.items()
    )
    header = (
        f'<header class="report-header"><h1>{html.escape(title)}</h1>'
        f'<table class="report-meta">{rows}</table>{summary}'
        f'<nav class="report-toc"><h2>Contents</h2><ol>{"".join(toc)}</ol></nav></header>'
    )

    config = Config()
    config.TagRemovePreprocessor.enabled = False  # done in _report_cells, which also sees tags
    exporter = HTMLExporter(
        config=config,
        template_name="lab",
        raw_template=_TEMPLATE,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(
        merged,
        resources={
            "metadata": {"name": title, "path": str(base_dir or Path.cwd())},
            "report_css": _CSS,
            "report_header": header,
        },
    )
    path.write_text(body, encoding="utf-8")
    return path
