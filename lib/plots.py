"""Every chart the notebooks draw: one place for style, titles, axis labels and units.

Each function takes a small table from a metric function and returns a matplotlib Figure with a
title and labelled axes (units in brackets). Notebooks call these and never style charts themselves.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

WIDE = (10, 4)
SQUARE = (8, 5)


def use_report_style() -> None:
    """Seaborn theme and pandas display options shared by every notebook."""
    sns.set_theme(style="whitegrid", context="notebook", palette="deep")
    pd.set_option("display.precision", 3)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 160)


def _finish(fig: Figure, ax: plt.Axes, title: str, xlabel: str, ylabel: str) -> Figure:
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.tight_layout()
    return fig


def _date_axis(ax: plt.Axes) -> None:
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
    for label in ax.get_xticklabels():
        label.set_rotation(0)


def daily_lines(
    table: pd.DataFrame,
    columns: Sequence[str],
    title: str,
    ylabel: str,
    labels: Sequence[str] | None = None,
    percent: bool = False,
) -> Figure:
    """Lines of ``columns`` over ``table['date']``."""
    fig, ax = plt.subplots(figsize=WIDE)
    long = table.melt(id_vars="date", value_vars=list(columns), var_name="series")
    if labels is not None:
        long["series"] = long["series"].map(dict(zip(columns, labels, strict=True)))
    sns.lineplot(data=long, x="date", y="value", hue="series", marker="o", markersize=3, ax=ax)
    ax.legend(title=None)
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    _date_axis(ax)
    return _finish(fig, ax, title, "date (local)", ylabel)


def stacked_area(
    table: pd.DataFrame, dimension: str, value: str, title: str, ylabel: str
) -> Figure:
    """A stacked area per value of ``dimension`` over ``table['date']`` (long-form input)."""
    wide = table.pivot_table(index="date", columns=dimension, values=value, fill_value=0)
    wide = wide[wide.sum().sort_values(ascending=False).index]
    fig, ax = plt.subplots(figsize=WIDE)
    ax.stackplot(wide.index, wide.T.to_numpy(), labels=wide.columns, alpha=0.85)
    ax.legend(loc="upper left", fontsize="small", ncols=min(len(wide.columns), 4), title=dimension)
    _date_axis(ax)
    return _finish(fig, ax, title, "date (local)", ylabel)


def bars(
    table: pd.DataFrame, x: str, y: str, title: str, xlabel: str, ylabel: str, percent: bool = False
) -> Figure:
    """Horizontal bars of ``y`` per ``x`` in the table's order."""
    fig, ax = plt.subplots(figsize=SQUARE)
    sns.barplot(data=table, y=x, x=y, orient="h", color=sns.color_palette()[0], ax=ax)
    if percent:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    return _finish(fig, ax, title, ylabel, xlabel)


def hour_weekday_heatmap(table: pd.DataFrame, value: str, title: str, unit: str) -> Figure:
    """A weekday × hour heatmap from :func:`lib.traffic.hour_weekday_activity`."""
    grid = table.pivot(index="weekday_name", columns="hour", values=value)
    order = table.drop_duplicates("weekday").sort_values("weekday")["weekday_name"]
    grid = grid.reindex(order)
    fig, ax = plt.subplots(figsize=(11, 4))
    sns.heatmap(grid, cmap="rocket_r", ax=ax, cbar_kws={"label": unit})
    return _finish(fig, ax, title, "hour of day (local)", "weekday")


def rate_intervals(
    table: pd.DataFrame,
    label: str,
    panels: Sequence[tuple[str, str, str, str]],
    title: str,
) -> Figure:
    """Estimates with confidence intervals, a panel per ``(rate, low, high, axis label)``."""
    fig, axes = plt.subplots(
        1,
        len(panels),
        figsize=(5 * len(panels), 0.45 * len(table) + 1.8),
        sharey=True,
        squeeze=False,
    )
    positions = range(len(table))
    for ax, (rate, low, high, axis_label) in zip(axes[0], panels, strict=True):
        errors = [table[rate] - table[low], table[high] - table[rate]]
        ax.errorbar(table[rate], positions, xerr=errors, fmt="o", capsize=3)
        ax.set_yticks(list(positions), table[label])
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlabel(axis_label)
    axes[0][0].set_ylabel(label)
    axes[0][0].invert_yaxis()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def indicator_changes(table: pd.DataFrame, title: str) -> Figure:
    """Relative change of each indicator against the previous period (from lib.overview)."""
    shown = table.dropna(subset=["change"])
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(shown) + 1.5))
    colours = ["#2a9d8f" if value >= 0 else "#e76f51" for value in shown["change"]]
    ax.barh(shown["indicator"], shown["change"], color=colours)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.xaxis.set_major_locator(MaxNLocator(6))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:+.0%}"))
    ax.invert_yaxis()
    return _finish(fig, ax, title, "change vs previous period [%]", "")
