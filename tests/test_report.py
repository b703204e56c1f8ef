"""report.html: the run's summary above the contents, and links between notebooks kept inside the
page (or turned into plain text when the notebook is not on it)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd

from lib import executive
from lib.report import ReportSection, build_report
from lib.sections import SUMMARY_METADATA


def _notebook(path: Path, *cells: nbformat.NotebookNode) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    nbformat.write(nb, path)
    return path


def _summary_cell() -> nbformat.NotebookNode:
    table = pd.DataFrame(
        [
            {
                "rank": 1,
                "kind": "change",
                "family": "active users",
                "sentence": "Average DAU rose 50 %.",
                "section": executive.section_link("active users"),
            },
            {
                "rank": 2,
                "kind": "change",
                "family": "retention",
                "sentence": "Next-day retention fell 20 %.",
                "section": executive.section_link("retention"),
            },
        ]
    )
    cell = nbformat.v4.new_code_cell("executive.show(headlines)")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"text/html": executive._html(table), "text/plain": "summary"},
            metadata={SUMMARY_METADATA: True},
        )
    ]
    return cell


def test_summary_goes_on_top_and_links_stay_in_the_page(tmp_path):
    overview = _notebook(
        tmp_path / "00_overview.ipynb",
        nbformat.v4.new_markdown_cell("# 00 · Overview\n\n## Summary"),
        _summary_cell(),
        nbformat.v4.new_markdown_cell("See [the traffic notebook](01_traffic.ipynb)."),
    )
    traffic = _notebook(
        tmp_path / "01_traffic.ipynb",
        nbformat.v4.new_markdown_cell(
            "# 01 · Traffic\n\n## Active users: DAU, WAU, MAU and stickiness"
        ),
    )
    page = build_report(
        tmp_path / "report.html",
        [ReportSection("overview", overview), ReportSection("traffic", traffic)],
        title="t",
        details={},
        appendix=[("Appendix: which rate is which", "<table><tr><td>rate</td></tr></table>")],
    ).read_text()
    top, _, body = page.partition("<h2>Contents</h2>")
    assert '<section class="report-summary"><h2>Summary</h2>' in top
    # the change links to its heading's anchor on the page
    assert 'href="#traffic--active-users-dau-wau-mau-and-stickiness"' in top
    assert 'id="traffic--active-users-dau-wau-mau-and-stickiness"' in body
    # retention is not on the page: its link is plain text, pointing nowhere
    assert "Cohort retention (留存率)</li>" in top and "03_retention.ipynb" not in page
    # shown once: the overview's cell says where it went; its Markdown link is local too
    assert "Average DAU rose 50 %." not in body
    assert "The summary is at the top of this page." in body
    assert 'href="#nb-traffic"' in body and "01_traffic.ipynb" not in page
    # the appendix ends the page and the contents
    assert '<a href="#appendix-1">Appendix: which rate is which</a>' in page
    assert body.index('id="appendix-1"') > body.index('id="nb-traffic"')
    assert "<td>rate</td>" in body
