"""The executive summary: the few changes a head of operations should read first, and what limits
the reading.

Built from the overview's table (:func:`lib.overview.indicator_summary`), never from fixed text:

- A **change** is listed when its indicator was compared (the data covers the baseline), tested
  (``test`` is set: daily values, two proportions or order amounts; :mod:`lib.stats`), its
  p-value adjusted for the number of indicators tested (Benjamini–Hochberg, :data:`FDR`) is
  below :data:`FDR`, and its size is at least ``min_change`` (``summary_min_change``: tiny
  changes on huge samples are significant and still not news). Listed changes are ranked by
  size, measured as ``|log(value / previous)|`` so that halving and doubling weigh the same;
  at most ``max_items`` (``summary_items``) are shown.
- A **warning** says what limits the reading: a baseline the data covers only in part (those
  changes are not compared at all), days of the period without data, purchase events that
  disagree with the paid orders (:func:`lib.quality.purchase_reconciliation`).
- A **note** says so when nothing moved beyond its noise, or nothing was compared.

Each sentence names the size, the 95 % interval and links to the section where the indicator
is explained (:data:`SECTIONS`; the report turns the notebook links into links inside the page).
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
from IPython.display import display
from scipy.stats import false_discovery_control

from lib import comparison, overview, parameters, quality, sections

FDR = 0.05  # the false-discovery rate over the indicators tested
COLUMNS = [
    "rank",
    "kind",
    "family",
    "indicator",
    "value",
    "previous",
    "change",
    "change_low",
    "change_high",
    "p_adjusted",
    "sentence",
    "section",
]
# Where each family is explained: the notebook and its section (Jupyter's heading anchor).
SECTIONS = {
    "active users": ("01_traffic.ipynb", "Active users: DAU, WAU, MAU and stickiness"),
    "conversion": ("02_conversion.ipynb", "GMV = UV × conversion rate × sales per buyer"),
    "retention": ("03_retention.ipynb", "Cohort retention (留存率)"),
    "repurchase": ("03_retention.ipynb", "Repurchase (复购)"),
    "GMV": ("02_conversion.ipynb", "What moved GMV"),
}


def section_link(family: str) -> str:
    """``01_traffic.ipynb#Active-users:-DAU,-WAU,-MAU-and-stickiness``: the family's section."""
    notebook, heading = SECTIONS[family]
    return f"{notebook}#{heading.replace(' ', '-')}"


def _percent(share: float) -> str:
    """``12 %`` or, below 10 %, ``4.3 %``: as many digits as the size needs."""
    digits = 0 if abs(share) >= 0.1 else 1
    return f"{share * 100:.{digits}f} %"


def _signed(share: float) -> str:
    return ("+" if share >= 0 else "−") + _percent(abs(share))


def format_value(value: float, unit: str, currency: str = "") -> str:
    """An indicator's value as the sentence shows it (rates as percentages, counts with commas,
    money with the ``currency`` code when given)."""
    if value is None or pd.isna(value):
        return "n/a"
    if unit == "ratio":
        return f"{value * 100:.1f} %"
    if unit == "currency":
        amount = f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
        return f"{currency} {amount}" if currency else amount
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def change_sentence(row: pd.Series, currency: str = "") -> str:
    """``GMV rose 143 % (371,728 → 902,680; 95 % interval +48 % to +299 %).``"""
    verb = "rose" if row["change"] > 0 else "fell"
    before = format_value(row["previous"], row["unit"], currency)
    after = format_value(row["value"], row["unit"], currency)
    return (
        f"{row['indicator'][0].upper()}{row['indicator'][1:]} {verb} "
        f"{_percent(abs(row['change']))} ({before} → {after}; "
        f"95 % interval {_signed(row['change_low'])} "
        f"to {_signed(row['change_high'])})."
    )


def significant_changes(
    indicators: pd.DataFrame,
    min_change: float = parameters.default("summary_min_change"),
    max_items: int = parameters.default("summary_items"),
    currency: str = "",
) -> pd.DataFrame:
    """The listed changes of :func:`lib.overview.indicator_summary`'s table, largest first.

    Adds ``p_adjusted`` (Benjamini–Hochberg over every tested, compared indicator) and
    ``sentence``; the module docstring gives the rule.
    """
    parameters.check("summary_min_change", min_change)
    parameters.check("summary_items", max_items)
    tested = indicators[
        (indicators["test"] != "")
        & (indicators["comparison"] == "")
        & indicators["p_value"].notna()
    ].copy()
    if tested.empty:
        return tested.assign(p_adjusted=pd.Series(dtype="float64"), sentence="")
    tested["p_adjusted"] = false_discovery_control(tested["p_value"].to_numpy(), method="bh")
    listed = tested[(tested["p_adjusted"] < FDR) & (tested["change"].abs() >= min_change)].copy()
    listed["size"] = np.log1p(listed["change"]).abs()
    listed = listed.sort_values(["size", "indicator"], ascending=[False, True]).head(max_items)
    listed["sentence"] = [change_sentence(row, currency) for _, row in listed.iterrows()]
    return listed.drop(columns="size").reset_index(drop=True)


def executive_summary(
    indicators: pd.DataFrame,
    compare_to: str,
    warnings: list[str] | tuple[str, ...] = (),
    min_change: float = parameters.default("summary_min_change"),
    max_items: int = parameters.default("summary_items"),
    currency: str = "",
) -> pd.DataFrame:
    """``rank, kind, family, indicator, value, previous, change, change_low, change_high,
    p_adjusted, sentence, section``: the listed changes (kind ``change``), then a ``note`` when
    none is listed, then the ``warnings`` (kind ``warning``: coverage, data quality); money is
    named in ``currency`` when given."""
    rows: list[dict] = []
    changes = significant_changes(indicators, min_change, max_items, currency)
    for rank, (_, row) in enumerate(changes.iterrows(), start=1):
        rows.append(
            {
                "rank": rank,
                "kind": "change",
                **{c: row[c] for c in COLUMNS[2:11]},
                "section": section_link(row["family"]),
            }
        )
    compared = (indicators["test"] != "") & (indicators["comparison"] == "")
    tested = int((compared & indicators["p_value"].notna()).sum())
    if compare_to == "none":
        rows.append(
            {
                "kind": "note",
                "sentence": "Not compared with another period "
                "(compare_to none): no change is listed.",
            }
        )
    elif changes.empty:
        name = comparison.baseline_name(compare_to)
        text = (
            f"No indicator moved beyond its noise against {name} ({tested} tested; a change is "
            f"listed when it is at least {_percent(min_change)} and significant at a false "
            f"discovery rate of {_percent(FDR)})."
            if tested
            else f"No indicator could be compared with {name}."
        )
        rows.append({"kind": "note", "sentence": text})
    rows += [{"kind": "warning", "sentence": text} for text in warnings if text]
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["rank"] = table["rank"].astype("Int64")
    table["section"] = table["section"].fillna("")
    return table


def _markdown(table: pd.DataFrame) -> str:
    lines = []
    for _, row in table.iterrows():
        if row["kind"] == "change":
            notebook, heading = SECTIONS[row["family"]]
            lines.append(f"{row['rank']}. {row['sentence']} [{heading}]({row['section']})")
        else:
            mark = "**Warning.** " if row["kind"] == "warning" else ""
            lines.append(f"- {mark}{row['sentence']}")
    return "\n".join(lines)


def _html(table: pd.DataFrame) -> str:
    changes, others = [], []
    for _, row in table.iterrows():
        sentence = html.escape(row["sentence"])
        if row["kind"] == "change":
            _, heading = SECTIONS[row["family"]]
            link = f'<a href="{html.escape(row["section"])}">{html.escape(heading)}</a>'
            changes.append(f"<li>{sentence} {link}</li>")
        else:
            mark = "<strong>Warning.</strong> " if row["kind"] == "warning" else ""
            others.append(f"<li>{mark}{sentence}</li>")
    parts = [f"<ol>{''.join(changes)}</ol>"] if changes else []
    parts += [f"<ul>{''.join(others)}</ul>"] if others else []
    return "".join(parts)


def show(table: pd.DataFrame) -> None:
    """Display the summary (HTML and Markdown), marked for the top of report.html."""
    display(
        {
            "text/html": _html(table),
            "text/markdown": _markdown(table),
            "text/plain": _markdown(table),
        },
        raw=True,
        metadata={sections.SUMMARY_METADATA: True},
    )


def warnings(
    indicators: pd.DataFrame,
    compare_to: str,
    coverage_gaps: str = "",
    reconciliation: pd.DataFrame | None = None,
) -> list[str]:
    """What limits the reading, for :func:`executive_summary`: a partly covered baseline (the
    overview's :func:`~lib.overview.comparison_note`), the period's days without data
    (:func:`lib.data.coverage_gaps`) and purchase events that disagree with the orders
    (:func:`lib.quality.reconciliation_note`)."""
    found = []
    if compare_to != "none" and (indicators["comparison"] != "").any():
        found.append(overview.comparison_note(indicators, compare_to))
    if coverage_gaps:
        found.append(coverage_gaps)
    if reconciliation is not None:
        text, disagree = quality.reconciliation_note(reconciliation)
        if disagree:
            found.append(text)
    return found
