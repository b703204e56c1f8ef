"""The glossary of rates (lib/rates.py): the README shows it as generated, it names only tables the
notebooks save, its names are unique, and its HTML is escaped."""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
import pytest

from lib import rates
from lib.rates import Rate

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
# `outputs.save_table(table, "name", output_dir)`, the name a literal or an f-string
SAVE_TABLE = re.compile(r"save_table\(\s*[^,]+,\s*f?\"([^\"]+)\"")
# a table in a Rate's `where`: `name.csv`, where `<breakdown>` stands for a computed part
TABLE = re.compile(r"`([A-Za-z0-9_<>]+)\.csv`")
# a computed part of a name, `{breakdown}` in a notebook or `<breakdown>` in the glossary
COMPUTED = re.compile(r"\{[^}]*\}|<[^>]*>")
# the only markup html_table writes itself
OWN_TAGS = re.compile(r"</?(?:table|caption|thead|tbody|tr|th|td|code)\b[^>]*>")


def _pattern(name: str) -> str:
    """A table name with each computed part as ``*``, so ``funnel_by_{breakdown}`` (notebook)
    and ``funnel_by_<breakdown>`` (glossary) are the same name."""
    return COMPUTED.sub("*", name)


def saved_tables() -> set[str]:
    """Every table name the notebooks pass to ``save_table``, computed parts as ``*``."""
    names = set()
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                names.update(_pattern(name) for name in SAVE_TABLE.findall(cell.source))
    return names


def test_the_readme_shows_the_generated_glossary():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert rates.readme_block(text) == rates.markdown_table(), (
        "README.md's rates block differs from lib/rates.py: run "
        "`.venv/bin/python -m lib.rates --write`"
    )
    # the section sits right after the glossary, before Development
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    at = headings.index("Rates: which is which")
    assert headings[at - 1 : at + 2] == ["Glossary", "Rates: which is which", "Development"]
    assert text.index(rates.START) > text.index("## Rates: which is which")
    assert text.index(rates.END) < text.index("## Development")


def test_every_table_a_rate_names_is_saved_by_a_notebook():
    saved = saved_tables()
    # the pattern must see literal and computed names, or the check below proves nothing
    assert {"funnel", "slots", "retention", "funnel_by_*"} <= saved
    for rate in rates.RATES:
        named = TABLE.findall(rate.where)
        assert named, f"{rate.name!r} names no table in its where"
        unsaved = [n for n in named if _pattern(n) not in saved]
        assert not unsaved, f"{rate.name!r} names tables no notebook saves: {unsaved}"


def test_rate_names_are_unique():
    names = [" ".join(rate.name.lower().split()) for rate in rates.RATES]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f"rates share a name: {duplicates}"


def test_rates_are_complete_and_in_group_order():
    order = list(rates.GROUPS)
    groups = [rate.group for rate in rates.RATES]
    assert groups == sorted(groups, key=order.index)
    assert set(groups) == set(order)  # each group has a rate
    for rate in rates.RATES:
        empty = [field for field, value in vars(rate).items() if not value.strip()]
        assert not empty, f"{rate.name!r} has empty {empty}"


def test_the_markdown_has_one_row_per_rate_under_its_group():
    text = rates.markdown_table()
    for caption in rates.GROUPS.values():
        assert f"### {caption}" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    header = "| " + " | ".join(rates.COLUMNS) + " |"
    body = [row for row in rows if row != header]
    assert len(body) == len(rates.RATES)
    assert [row.split(" | ")[0].removeprefix("| ") for row in body] == [
        rate.name for rate in rates.RATES
    ]
    # a pipe in a text stays inside its cell
    piped = Rate("conversion", "a | b", "`x.csv`: `y`", "n", "d", "why")
    assert "| a \\| b |" in rates.markdown_table([piped])


def test_html_names_every_rate_and_escapes_all_text():
    page = rates.html_table()
    for rate in rates.RATES:
        assert html.escape(" ".join(rate.name.split())) in page
    assert page.count('<table class="rates">') == len(rates.GROUPS)
    for caption in rates.GROUPS.values():
        assert f"<caption>{html.escape(caption)}</caption>" in page
    assert "<h2" not in page  # the report places its own heading
    # a computed table name is text, not a tag
    assert "<code>funnel_by_&lt;breakdown&gt;.csv</code>" in page
    assert not re.search("[<>]", OWN_TAGS.sub("", page))

    hostile = Rate(
        "retention", "<script>alert(1)</script>", "`a<b>.csv`", "x & y", '"q"', "it's <i>"
    )
    out = rates.html_table([hostile])
    assert "<script>" not in out and "<i>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "<code>a&lt;b&gt;.csv</code>" in out and "x &amp; y" in out
    assert not re.search("[<>]", OWN_TAGS.sub("", out))


def test_main_prints_the_markdown_and_writes_the_block(tmp_path, capsys):
    assert rates.main([]) == 0
    assert capsys.readouterr().out == rates.markdown_table()

    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{rates.START}\nold\n{rates.END}\n\nafter\n", encoding="utf-8")
    assert rates.main(["--write", "--readme", str(readme)]) == 0
    written = readme.read_text(encoding="utf-8")
    assert rates.readme_block(written) == rates.markdown_table()
    assert written.startswith("# x\n\n") and written.endswith(f"{rates.END}\n\nafter\n")
    assert not rates.write_readme(readme)  # a second run changes nothing


def test_a_readme_without_the_markers_is_refused(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# no block\n", encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(rates.START)):
        rates.write_readme(readme)
    assert readme.read_text(encoding="utf-8") == "# no block\n"  # left as it was
