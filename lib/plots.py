"""Every chart the notebooks draw: one place for style, titles, axis labels and units.

Each function takes a small table from a metric function and returns a matplotlib Figure with a
title and labelled axes (units in brackets). Notebooks call these and never style charts themselves.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.text import Annotation
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter
from matplotlib.transforms import Bbox

WIDE = (10, 4)
SQUARE = (8, 5)


def table_float(value: float) -> str:
    """How notebook tables show a float: with thousands separators, never in scientific
    notation; two decimals from 100 up (money in cents, large averages), three below (rates,
    shares, ratios); a non-zero value that would round to 0.000 (a tiny p-value or share) shows
    as ``<0.001`` so it does not read as exactly 0."""
    if value != 0 and abs(value) < 0.0005:
        return "<0.001" if value > 0 else ">-0.001"
    return f"{value:,.2f}" if abs(value) >= 100 else f"{value:,.3f}"


def use_report_style() -> None:
    """Seaborn theme and pandas display options shared by every notebook: text columns shown in
    full (an action or a segment name cut with "..." cannot be read) and floats by
    :func:`table_float`."""
    sns.set_theme(style="whitegrid", context="notebook", palette="deep")
    pd.set_option("display.precision", 3)
    pd.set_option("display.float_format", table_float)
    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 160)


def describe(figure: Figure, reading: str | None = None) -> str:
    """The alt text of a chart: its title, what each panel plots against what, and ``reading``
    (a sentence computed from the numbers, when the notebook has one).

    "Daily GMV: GMV per local day [currency] against date (local)."
    """
    suptitle = figure._suptitle.get_text() if figure._suptitle is not None else ""
    titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
    title = suptitle or "; ".join(dict.fromkeys(titles)) or "Chart"
    panels = []
    for ax in figure.axes:
        x, y = ax.get_xlabel(), ax.get_ylabel()
        if x and y:
            panels.append(f"{y} against {x}")
        elif x or y:
            panels.append(x or y)
    text = f"{title}: {'; '.join(dict.fromkeys(panels))}." if panels else f"{title}."
    return f"{text} {reading}" if reading else text


def _percent_label(label: str) -> str:
    """``label`` naming the percent unit: "[%]" is added unless it already says "[% ...]"."""
    return label if "[%" in label else f"{label} [%]"


def _from_zero(ax: plt.Axes, lowest: float, axis: str = "y") -> None:
    """Start a rate axis at 0 unless a value (``lowest`` is the smallest) is negative: an axis
    cut just below the data makes a move of one point look like a collapse."""
    low, high = ax.get_ylim() if axis == "y" else ax.get_xlim()
    if low > 0 or (low < 0 and not lowest < 0):  # margins alone can take the axis below 0
        if axis == "y":
            ax.set_ylim(0, high)
        else:
            ax.set_xlim(0, high)


# A colliding label is tried this many text lines lower or higher, nearest first, lower first.
_LABEL_SHIFTS = [0] + [sign * step for step in range(1, 9) for sign in (-1, 1)]


def _label_points(
    ax: plt.Axes,
    xs: Sequence[float],
    ys: Sequence[float],
    texts: Sequence[str],
    offset: tuple[float, float] = (0.0, 0.0),
    ha: str = "center",
    fontsize: str = "x-small",
) -> list[Bbox]:
    """Annotate each point with its text so that no two labels overlap; returns their boxes.

    Needs the final layout (call after :func:`_finish`). Labels are placed from the top point
    down (ties left to right, then by text); one that overlaps a label placed before moves by
    whole text lines (:data:`_LABEL_SHIFTS`) to the nearest free place inside the axes and gets a
    leader line to its point. A left-aligned label that would leave the axes on the right goes
    on the left of its point instead.
    """
    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    at = ax.transData.transform(np.column_stack([np.asarray(xs, float), np.asarray(ys, float)]))
    order = sorted(range(len(texts)), key=lambda i: (-at[i][1], at[i][0], str(texts[i])))
    points_per_pixel = 72 / ax.figure.dpi
    placed: list[Bbox] = []
    for i in order:
        dx, dy, align = offset[0], offset[1], ha
        note = _annotate(ax, texts[i], xs[i], ys[i], dx, dy, align, fontsize)
        box = note.get_window_extent(renderer)
        if align == "left" and box.x1 > frame.x1:
            note.remove()
            dx, align = -dx, "right"
            note = _annotate(ax, texts[i], xs[i], ys[i], dx, dy, align, fontsize)
            box = note.get_window_extent(renderer)
        step = box.height + 1

        def clashes(shift: int, box: Bbox = box, step: float = step) -> tuple[int, int]:
            moved = box.translated(0, shift * step)
            inside = frame.y0 <= moved.y0 and moved.y1 <= frame.y1
            return sum(moved.overlaps(other) for other in placed), 0 if inside else 1

        shift = min(_LABEL_SHIFTS, key=lambda k: (*clashes(k), _LABEL_SHIFTS.index(k)))
        if shift:
            note.remove()
            dy += shift * step * points_per_pixel
            note = _annotate(ax, texts[i], xs[i], ys[i], dx, dy, align, fontsize, leader=True)
        placed.append(box.translated(0, shift * step))
    return placed


def _annotate(
    ax: plt.Axes,
    text: str,
    x: float,
    y: float,
    dx: float,
    dy: float,
    ha: str,
    fontsize: str,
    leader: bool = False,
) -> Annotation:
    arrow = {"arrowstyle": "-", "color": "grey", "linewidth": 0.6} if leader else None
    return ax.annotate(
        str(text),
        (x, y),
        xytext=(dx, dy),
        textcoords="offset points",
        ha=ha,
        va="center",
        fontsize=fontsize,
        arrowprops=arrow,
    )


def _keep_inside(ax: plt.Axes, note: Annotation) -> None:
    """Move an annotation sideways until it no longer sticks out of the axes."""
    renderer = ax.figure.canvas.get_renderer()
    frame, box = ax.get_window_extent(renderer), note.get_window_extent(renderer)
    shift = max(frame.x0 - box.x0, 0) - max(box.x1 - frame.x1, 0)
    if shift:
        dx, dy = note.xyann
        note.xyann = (dx + shift * 72 / ax.figure.dpi, dy)


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
    reference: tuple[float, str] | None = None,
) -> Figure:
    """Lines of ``columns`` over ``table['date']``; a percent axis starts at 0.

    ``reference`` draws a horizontal line at a value, named in the legend (e.g. break-even).
    """
    fig, ax = plt.subplots(figsize=WIDE)
    long = table.melt(id_vars="date", value_vars=list(columns), var_name="series")
    if labels is not None:
        long["series"] = long["series"].map(dict(zip(columns, labels, strict=True)))
    sns.lineplot(data=long, x="date", y="value", hue="series", marker="o", markersize=3, ax=ax)
    if reference is not None:
        ax.axhline(reference[0], color=_ALERT, linestyle=":", linewidth=1.2, label=reference[1])
    ax.legend(title=None)
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        _from_zero(ax, long["value"].min())
        ylabel = _percent_label(ylabel)
    _date_axis(ax)
    return _finish(fig, ax, title, "date (local)", ylabel)


def daily_panels(table: pd.DataFrame, panels: Sequence[tuple[str, str]], title: str) -> Figure:
    """One line panel per ``(column, axis label)`` over ``table['date']``, sharing the date axis:
    counts of different sizes (UV and PV) each get a scale of their own, from 0."""
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(10, 2.4 * len(panels) + 0.8), sharex=True, squeeze=False
    )
    for ax, (column, axis_label), colour in zip(
        axes[:, 0], panels, sns.color_palette(), strict=False
    ):
        ax.plot(table["date"], table[column], marker="o", markersize=3, color=colour)
        ax.set_ylim(0, None)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.set_ylabel(axis_label)
    _date_axis(axes[-1, 0])
    axes[-1, 0].set_xlabel("date (local)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def cost_ratio_chart(trend: pd.DataFrame, title: str) -> Figure:
    """Daily ``cost_ratio`` (from :func:`lib.costs.cost_trend`) with the break-even line at 100%:
    above it the day's costs exceed its GMV."""
    return daily_lines(
        trend,
        ["cost_ratio"],
        title,
        "cost per unit of GMV [%]",
        labels=["cost / GMV"],
        percent=True,
        reference=(1.0, "break-even: cost = GMV (100%)"),
    )


def stacked_area(
    table: pd.DataFrame, dimension: str, value: str, title: str, ylabel: str
) -> Figure:
    """A stacked area per value of ``dimension`` over ``table['date']`` (long-form input)."""
    if table.empty:
        return _no_data(title, "date (local)", ylabel)
    wide = table.pivot_table(index="date", columns=dimension, values=value, fill_value=0)
    wide = wide[wide.sum().sort_values(ascending=False).index]
    fig, ax = plt.subplots(figsize=WIDE)
    ax.stackplot(wide.index, wide.T.to_numpy(), labels=wide.columns, alpha=0.85)
    ax.legend(loc="upper left", fontsize="small", ncols=min(len(wide.columns), 4), title=dimension)
    _date_axis(ax)
    return _finish(fig, ax, title, "date (local)", ylabel)


def bars(
    table: pd.DataFrame,
    category: str,
    value: str,
    title: str,
    category_label: str,
    value_label: str,
    percent: bool = False,
) -> Figure:
    """Horizontal bars of ``value`` per ``category``, in the table's order."""
    if table.empty:
        return _no_data(title, value_label, category_label)
    fig, ax = plt.subplots(figsize=SQUARE)
    sns.barplot(data=table, y=category, x=value, orient="h", color=sns.color_palette()[0], ax=ax)
    if percent:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        value_label = _percent_label(value_label)
    return _finish(fig, ax, title, value_label, category_label)


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
        _from_zero(ax, table[low].min(), "x")
        ax.set_xlabel(_percent_label(axis_label))
    axes[0][0].set_ylabel(label)
    axes[0][0].invert_yaxis()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def indicator_changes(table: pd.DataFrame, title: str) -> Figure:
    """Relative change of each indicator against its baseline (from lib.overview); indicators
    not compared (no baseline, or one the data covers in part) are left out."""
    shown = table.dropna(subset=["change"])
    if shown.empty:
        return _no_data(title, "change vs the baseline [%]", "")
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(shown) + 1.5))
    colours = [_RISE if value >= 0 else _FALL for value in shown["change"]]
    ax.barh(shown["indicator"], shown["change"], color=colours)
    _label_bar_ends(ax, shown["change"], "{:+.1%}")
    ax.axvline(0, color="black", linewidth=0.8)
    low, high = min(shown["change"].min(), 0.0), max(shown["change"].max(), 0.0)
    pad = 0.2 * (high - low if high > low else 1.0)  # room for the values next to the bars
    ax.set_xlim(low - pad if low < 0 else 0.0, high + pad if high > 0 else 0.0)
    ax.xaxis.set_major_locator(MaxNLocator(6))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:+.0%}"))
    ax.invert_yaxis()
    return _finish(fig, ax, title, "change vs the baseline [%]", "indicator")


# --------------------------------------------------------------------------------------------
# Conversion (notebook 02): funnels, monitoring band, items, drop-off behaviour, GMV waterfall

_RISE, _FALL, _LEVEL, _ALERT = "#2a9d8f", "#e76f51", "#8d99ae", "#d62828"


def _label_bar_ends(ax: plt.Axes, values: Sequence[float], fmt: str) -> None:
    """Each horizontal bar's value at its end, outside the bar (left of a negative one)."""
    for y, value in enumerate(values):
        ha = "left" if value >= 0 else "right"
        ax.text(value, y, f" {fmt.format(value)} ", va="center", ha=ha, fontsize="small")


def _funnel_bars(ax: plt.Axes, table: pd.DataFrame) -> None:
    positions = list(range(len(table)))
    ax.barh(positions, table["users"], color=sns.color_palette()[0])
    ax.set_yticks(
        positions, [f"{i}. {s}" for i, s in zip(table["step_index"], table["step"], strict=True)]
    )
    for y, (users, share) in enumerate(
        zip(table["users"], table["conversion_from_start"], strict=True)
    ):
        ax.text(users, y, f" {users:,} ({share:.1%})", va="center", fontsize="small")
    ax.set_xlim(0, max(table["users"].max(), 1) * 1.3)
    ax.invert_yaxis()


def funnel_chart(table: pd.DataFrame, title: str) -> Figure:
    """Users per step of :func:`lib.funnel.funnel_table`, labelled with the share of step 1."""
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(table) + 1.6))
    _funnel_bars(ax, table)
    return _finish(fig, ax, title, "users reaching the step (share of step 1)", "step")


def funnel_paths_chart(table: pd.DataFrame, title: str) -> Figure:
    """A panel per path of :func:`lib.funnel.funnel_paths`: users per step and share of step 1."""
    paths = list(dict.fromkeys(table["path"]))
    rows = [len(table[table["path"] == path]) for path in paths]
    fig, axes = plt.subplots(
        len(paths), 1, figsize=(9, 0.55 * sum(rows) + 1.2 * len(paths)), squeeze=False
    )
    for ax, path in zip(axes[:, 0], paths, strict=True):
        _funnel_bars(ax, table[table["path"] == path])
        ax.set_title(path, fontsize="medium")
        ax.set_xlabel("users reaching the step (share of step 1)")
        ax.set_ylabel("step")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def funnel_by_segment(table: pd.DataFrame, dimension: str, title: str) -> Figure:
    """Share of each segment's entrants reaching each step (from :func:`funnel_breakdown`)."""
    fig, ax = plt.subplots(figsize=WIDE)
    sns.lineplot(
        data=table, x="step_index", y="conversion_from_start", hue=dimension, marker="o", ax=ax
    )
    steps = table.drop_duplicates("step_index").sort_values("step_index")
    ax.set_xticks(steps["step_index"].tolist(), steps["step"].tolist())
    ax.set_yscale("log")
    # 1-2-5 ticks: a log axis otherwise labels only the powers of ten
    lowest = table["conversion_from_start"][table["conversion_from_start"] > 0].min()
    ticks = [m * 10.0**e for e in range(-4, 1) for m in (1, 2, 5) if m * 10.0**e <= 1]
    ax.set_yticks([t for t in ticks if t >= lowest / 2])
    ax.tick_params(axis="y", which="minor", labelleft=False)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
    ax.legend(title=dimension, fontsize="small", ncols=2)
    return _finish(fig, ax, title, "funnel step", "entrants reaching the step [%, log scale]")


def conversion_band(table: pd.DataFrame, title: str) -> Figure:
    """Daily conversion (from :func:`lib.funnel.daily_conversion`) with its band; days outside
    the band are marked."""
    fig, ax = plt.subplots(figsize=WIDE)
    ax.fill_between(
        table["date"],
        table["band_low"],
        table["band_high"],
        color=_LEVEL,
        alpha=0.3,
        label="expected band",
    )
    ax.plot(
        table["date"],
        table["band_median"],
        color=_LEVEL,
        linestyle="--",
        label="median of the days before",
    )
    ax.plot(table["date"], table["conversion_rate"], marker="o", markersize=3, label="conversion")
    outside = table[table["outside_band"]]
    ax.scatter(
        outside["date"],
        outside["conversion_rate"],
        color=_ALERT,
        s=60,
        zorder=3,
        label="outside the band",
    )
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    _from_zero(ax, 0.0)  # rates, and a band clipped to [0, 1]
    ax.legend(fontsize="small")
    _date_axis(ax)
    return _finish(fig, ax, title, "entry day (local)", "entrants reaching the last step [%]")


def item_conversion_scatter(
    table: pd.DataFrame, title: str, min_viewers: int | None = None
) -> Figure:
    """Conversion against viewers per item (from :func:`lib.funnel.item_conversion`); the
    flagged worst items are marked (their names are in the table next to the chart)."""
    fig, ax = plt.subplots(figsize=SQUARE)
    normal, worst = table[~table["worst"]], table[table["worst"]]
    ax.scatter(normal["viewers"], normal["conversion_rate"], s=10, alpha=0.4, label="items")
    ax.scatter(
        worst["viewers"],
        worst["conversion_rate"],
        s=30,
        color=_ALERT,
        label="flagged: worst with large traffic",
    )
    if min_viewers is not None:
        ax.axvline(
            min_viewers,
            color=_LEVEL,
            linestyle=":",
            label=f"large traffic (≥ {min_viewers} viewers)",
        )
    ax.set_xscale("log")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    _from_zero(ax, 0.0)  # shares of viewers
    ax.legend(fontsize="small")
    return _finish(
        fig,
        ax,
        title,
        "viewers in the period [users, log scale]",
        "viewers who bought the item [%]",
    )


def behaviour_comparison(table: pd.DataFrame, title: str) -> Figure:
    """Events per user by event name, droppers against converters (from
    :func:`lib.funnel.dropoff_behaviour`)."""
    long = table.melt(
        id_vars="event_name",
        value_vars=["events_per_dropper", "events_per_converter"],
        var_name="group",
        value_name="events_per_user",
    )
    long["group"] = long["group"].map(
        {"events_per_dropper": "dropped", "events_per_converter": "converted"}
    )
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(table) + 1.5))
    sns.barplot(
        data=long,
        y="event_name",
        x="events_per_user",
        hue="group",
        orient="h",
        palette=[_FALL, _RISE],
        ax=ax,
    )
    ax.legend(title=None)
    return _finish(fig, ax, title, "events per user [count]", "event")


def gmv_waterfall(decomposition: pd.DataFrame, title: str) -> Figure:
    """Previous GMV, the effect of each factor and current GMV (from
    :func:`lib.gmv.gmv_decomposition`) as a waterfall."""
    rows = decomposition.set_index("factor")
    start, end = rows.loc["gmv", "previous"], rows.loc["gmv", "current"]
    names = {
        "uv": "UV\neffect",
        "conversion_rate": "conversion\neffect",
        "sales_per_buyer": "sales-per-buyer\neffect",
    }
    labels, bottoms, heights, colours = ["previous\nperiod"], [0.0], [start], [_LEVEL]
    level = start
    for factor, name in names.items():
        effect = rows.loc[factor, "gmv_effect"]
        effect = 0.0 if pd.isna(effect) else float(effect)
        labels.append(name)
        bottoms.append(level if effect >= 0 else level + effect)
        heights.append(abs(effect))
        colours.append(_RISE if effect >= 0 else _FALL)
        level += effect
    labels.append("this\nperiod")
    bottoms.append(0.0)
    heights.append(end)
    colours.append(_LEVEL)
    fig, ax = plt.subplots(figsize=SQUARE)
    ax.bar(labels, heights, bottom=bottoms, color=colours)
    values = [start, *(rows.loc[f, "gmv_effect"] for f in names), end]
    for x, (bottom, height, value) in enumerate(zip(bottoms, heights, values, strict=True)):
        text = f"{value:,.0f}" if x in (0, len(values) - 1) else f"{value:+,.0f}"
        ax.text(x, bottom + height, text, ha="center", va="bottom", fontsize="small")
    ax.set_ylim(top=ax.get_ylim()[1] * 1.06)  # room for the labels above the tallest bar
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    return _finish(fig, ax, title, "GMV = UV × conversion × sales per buyer", "GMV [currency]")


# ---------------------------------------------------------------- retention and segments (issue 4)

PHASE_COLOURS = {"volatile": "#e76f51", "selection": "#e9c46a", "stable": "#2a9d8f"}
LIFECYCLE_COLOURS = {
    "new": "#2a9d8f",
    "returning": "#264653",
    "resurrected": "#8ab17d",
    "dormant": "#e76f51",
}


def _no_data(title: str, xlabel: str, ylabel: str) -> Figure:
    """An empty chart that says so, for a period without the data a chart needs."""
    fig, ax = plt.subplots(figsize=WIDE)
    ax.text(0.5, 0.5, "no data for this period", transform=ax.transAxes, ha="center")
    ax.set_xticks([])
    ax.set_yticks([])
    return _finish(fig, ax, title, xlabel, ylabel)


def cohort_heatmap(cohorts: pd.DataFrame, title: str, value: str = "retention_rate") -> Figure:
    """Cohort × day-N heatmap of a retention rate (from :func:`lib.retention.cohort_retention`)."""
    xlabel, ylabel = "day N after the cohort date [days]", "cohort (local date)"
    if cohorts.empty:
        return _no_data(title, xlabel, ylabel)
    grid = cohorts.pivot(index="cohort_date", columns="day", values=value)
    grid.index = [f"{d:%m-%d}" for d in grid.index]
    # day 0 is 100% by definition: scale the colours to the later days so they stay readable
    later = grid.drop(columns=0, errors="ignore").max().max()
    fig, ax = plt.subplots(figsize=(11, 0.22 * len(grid) + 2))
    sns.heatmap(
        grid,
        cmap="rocket_r",
        vmin=0,
        vmax=later if later > 0 else None,
        ax=ax,
        cbar_kws={"label": "users retained [% of cohort]", "format": PercentFormatter(1.0)},
    )
    ax.tick_params(axis="y", labelsize="small")
    return _finish(fig, ax, title, xlabel, ylabel)


def retention_curve(
    curve: pd.DataFrame, headline: pd.DataFrame, phases: pd.DataFrame | None, title: str
) -> Figure:
    """The average retention curve with the headline days labelled and the phases shaded."""
    xlabel, ylabel = "day N after the cohort date [days]", "retained [% of cohort]"
    if curve.empty:
        return _no_data(title, xlabel, ylabel)
    fig, ax = plt.subplots(figsize=WIDE)
    shown = curve[curve["day"] >= 1]
    ax.plot(
        shown["day"], shown["retention_rate"], marker="o", markersize=3, label="return on day N"
    )
    ax.plot(
        shown["day"],
        shown["retention_rate_on_or_after"],
        linestyle="--",
        color="grey",
        label="return on or after day N",
    )
    if phases is not None:
        for phase, days in phases.groupby("phase", sort=False)["day"]:
            ax.axvspan(
                max(days.min(), 1) - 0.5,
                days.max() + 0.5,
                color=PHASE_COLOURS[phase],
                alpha=0.12,
                label=f"{phase} phase (days {days.min()}–{days.max()})",
            )
    labelled = headline.dropna(subset=["retention_rate"])
    notes = [
        ax.annotate(
            f"D{int(day)} {rate:.1%}",
            (day, rate),
            xytext=(0, 12),
            textcoords="offset points",
            ha="center",
            fontsize="small",
            arrowprops={"arrowstyle": "-", "color": "grey"},
        )
        for day, rate in labelled[["day", "retention_rate"]].values
    ]
    ax.set_ylim(0, None)
    ax.set_xlim(0.5, curve["day"].max() + 0.5)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize="small")
    _finish(fig, ax, title, xlabel, ylabel)
    for note in notes:  # D1 sits half a day from the left edge: centred, its note would stick out
        _keep_inside(ax, note)
    return fig


def magic_number_chart(
    by_count: pd.DataFrame, best: pd.DataFrame, behaviour: str, title: str, ylabel: str
) -> Figure:
    """Retention per early-behaviour count, bars at or above the magic number highlighted."""
    fig, ax = plt.subplots(figsize=WIDE)
    threshold = int(best["threshold"].iloc[0]) if len(best) else None
    colours = [
        "#2a9d8f" if threshold is not None and count >= threshold else "#a8a8a8"
        for count in by_count["behaviour_count"]
    ]
    positions = range(len(by_count))
    ax.bar(positions, by_count["retention_rate"], color=colours)
    for x, (rate, users) in enumerate(
        zip(by_count["retention_rate"], by_count["users"], strict=True)
    ):
        ax.text(x, rate, f"n={users:,}", ha="center", va="bottom", fontsize="x-small")
    ax.set_xticks(list(positions), by_count["label"])
    top = by_count["retention_rate"].max() if len(by_count) else 0.0
    ax.set_ylim(0, max(top, 0.01) * 1.2)  # room for the note
    if by_count.empty:
        ax.text(
            0.5,
            0.5,
            "no cohort user can be followed that long: the data ends too soon after the period",
            transform=ax.transAxes,
            ha="center",
            fontsize="small",
        )
    if threshold is not None:
        row = best.iloc[0]
        ax.axhline(row["retention_below"], color="grey", linestyle=":", linewidth=1)
        ax.text(
            0.01,
            0.95,
            f"magic number: {behaviour} ≥ {threshold} — retention {row['retention_above']:.0%} "
            f"vs {row['retention_below']:.0%} below (lift {row['lift']:.1f}×), "
            f"{row['share_above']:.0%} of users",
            transform=ax.transAxes,
            va="top",
            fontsize="small",
        )
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    return _finish(fig, ax, title, f"{behaviour} [count]", ylabel)


def lifecycle_chart(table: pd.DataFrame, title: str) -> Figure:
    """Stacked bars per window: new, returning and resurrected up, dormant down."""
    if table.empty:
        return _no_data(title, "window (local dates)", "users (dormant below 0)")
    fig, ax = plt.subplots(figsize=WIDE)
    labels = [
        f"{s:%m-%d}\nto {e:%m-%d}"
        for s, e in zip(table["window_start"], table["window_end"], strict=True)
    ]
    positions = range(len(table))
    bottom = pd.Series(0, index=table.index)
    for state in ("returning", "resurrected", "new"):
        ax.bar(positions, table[state], bottom=bottom, color=LIFECYCLE_COLOURS[state], label=state)
        bottom = bottom + table[state]
    ax.bar(positions, -table["dormant"], color=LIFECYCLE_COLOURS["dormant"], label="dormant")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(list(positions), labels)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{abs(v):,.0f}"))
    ax.legend(fontsize="small", ncols=4)
    return _finish(fig, ax, title, "window (local dates)", "users (dormant below 0)")


def grouped_bars(
    table: pd.DataFrame,
    x: str,
    columns: Sequence[str],
    labels: Sequence[str],
    title: str,
    xlabel: str,
    ylabel: str,
    percent: bool = False,
) -> Figure:
    """Vertical bars of several ``columns`` side by side for each value of ``x``."""
    if table.empty:
        return _no_data(title, xlabel, ylabel)
    long = table.melt(id_vars=x, value_vars=list(columns), var_name="series")
    long["series"] = long["series"].map(dict(zip(columns, labels, strict=True)))
    if pd.api.types.is_datetime64_any_dtype(long[x]):  # months: label them 2025-08, not midnights
        long[x] = long[x].dt.strftime("%Y-%m")
    fig, ax = plt.subplots(figsize=WIDE)
    sns.barplot(data=long, x=x, y="value", hue="series", ax=ax)
    ax.legend(title=None, fontsize="small")
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ylabel = _percent_label(ylabel)
    return _finish(fig, ax, title, xlabel, ylabel)


def days_histogram(
    table: pd.DataFrame,
    days: str,
    count: str,
    title: str,
    xlabel: str,
    ylabel: str,
    bin_days: int = 7,
) -> Figure:
    """Counts per day in ``bin_days``-day bars, with the cumulative share on a second axis."""
    if table.empty:
        return _no_data(title, xlabel, ylabel)
    binned = table.assign(bin=table[days] // bin_days * bin_days).groupby("bin")[count].sum()
    fig, ax = plt.subplots(figsize=WIDE)
    ax.bar(binned.index, binned.to_numpy(), width=bin_days * 0.9, align="edge")
    share = ax.twinx()
    cumulative = table[count].cumsum() / table[count].sum()
    share.plot(table[days], cumulative, color="black", linewidth=1)
    share.set_ylim(0, 1.02)
    share.yaxis.set_major_formatter(PercentFormatter(1.0))
    share.set_ylabel("cumulative share [%]")
    share.grid(False)
    return _finish(fig, ax, title, xlabel, ylabel)


def segment_sizes(
    summary: pd.DataFrame, title: str, label: str = "segment", axis_label: str = "segment"
) -> Figure:
    """Two panels per segment: its size (users) and its value (GMV to date per user); only the
    size when the summary has no value (a source without orders)."""
    if summary.empty:
        return _no_data(title, "users", axis_label)
    valued = "gmv_to_date_per_user" in summary.columns
    width = 11 if valued else 6
    fig, axes = plt.subplots(
        1,
        2 if valued else 1,
        figsize=(width, 0.4 * len(summary) + 1.8),
        sharey=True,
        squeeze=False,
    )
    axes = axes[0]
    positions = range(len(summary))
    axes[0].barh(positions, summary["users"], color=sns.color_palette()[0])
    axes[0].set_yticks(list(positions), summary[label])
    axes[0].set_xlabel("users")
    axes[0].xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    axes[0].set_ylabel(axis_label)
    axes[0].invert_yaxis()
    if valued:
        axes[1].barh(positions, summary["gmv_to_date_per_user"], color=sns.color_palette()[1])
        axes[1].set_xlabel("GMV to date per user [currency]")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- products and costs (issue 5)

QUADRANT_COLOURS = {
    "star": "#2a9d8f",
    "traffic driver": "#e9c46a",
    "future star": "#8ab17d",
    "question": "#e76f51",
}
COMPONENT_COLOURS = {
    "platform": "#264653",
    "operating": "#2a9d8f",
    "people": "#e9c46a",
    "goods": "#e76f51",
}


def _money(ax_axis) -> None:
    ax_axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))


def bcg_matrix(
    table: pd.DataFrame,
    label: str,
    exposure: str,
    exposure_split: float,
    conversion_split: float,
    title: str,
    exposure_label: str,
) -> Figure:
    """The new BCG matrix (from :func:`lib.products.with_quadrants`): exposure against conversion,
    bubble area by revenue, colour by gross margin, the splits drawn and the quadrants named."""
    xlabel, ylabel = f"{exposure_label} [count, log scale]", "buyers / viewers [%]"
    rated = table[table["conversion_rate"].notna() & (table[exposure] > 0)]
    if rated.empty:
        return _no_data(title, xlabel, ylabel)
    fig, ax = plt.subplots(figsize=(9, 6))
    sizes = 2000 * rated["revenue"] / max(rated["revenue"].max(), 1e-9) + 20
    points = ax.scatter(
        rated[exposure],
        rated["conversion_rate"],
        s=sizes,
        c=rated["gross_margin"],
        cmap="viridis",
        alpha=0.7,
        edgecolors="white",
    )
    fig.colorbar(points, ax=ax, label="gross margin [%]", format=PercentFormatter(1.0))
    ax.set_xscale("log")
    ax.axvline(exposure_split, color="grey", linestyle=":", linewidth=1)
    ax.axhline(conversion_split, color="grey", linestyle=":", linewidth=1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.margins(0.1)  # the largest bubbles reach well beyond their centres
    _from_zero(ax, 0.0)  # shares of viewers
    _finish(fig, ax, title, xlabel, ylabel)
    labels = _label_points(ax, rated[exposure], rated["conversion_rate"], rated[label])
    _name_quadrants(ax, exposure_split, conversion_split, [*_bubble_boxes(ax, points), *labels])
    return fig


def _bubble_boxes(ax: plt.Axes, points) -> list[Bbox]:
    """The display boxes of a scatter's markers (``s`` is the marker area in points²)."""
    centres = ax.transData.transform(points.get_offsets())
    radii = np.sqrt(np.broadcast_to(points.get_sizes(), len(centres))) / 2 * ax.figure.dpi / 72
    return [
        Bbox.from_extents(x - r, y - r, x + r, y + r)
        for (x, y), r in zip(centres, radii, strict=True)
    ]


def _name_quadrants(ax: plt.Axes, x_split: float, y_split: float, avoid: list[Bbox]) -> None:
    """Name each BCG quadrant in a corner of it where the name covers no bubble or label: the
    outer corner first, then the quadrant's other corners; when every corner is covered, the one
    covering the fewest (the earlier on a tie). Needs the final layout."""
    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    sx, sy = ax.transData.transform((x_split, y_split))
    sx, sy = min(max(sx, frame.x0), frame.x1), min(max(sy, frame.y0), frame.y1)
    pad = 4 * ax.figure.dpi / 72
    spans = {  # quadrant: its x and y span in display units, and its outer corner
        "star": ((sx, frame.x1), (sy, frame.y1), ("right", "top")),
        "traffic driver": ((sx, frame.x1), (frame.y0, sy), ("right", "bottom")),
        "future star": ((frame.x0, sx), (sy, frame.y1), ("left", "top")),
        "question": ((frame.x0, sx), (frame.y0, sy), ("left", "bottom")),
    }
    flip = {"left": "right", "right": "left", "top": "bottom", "bottom": "top"}
    to_axes = ax.transAxes.inverted()
    for name, ((x0, x1), (y0, y1), (h, v)) in spans.items():
        best = None
        for ha, va in ((h, v), (flip[h], v), (h, flip[v]), (flip[h], flip[v])):
            x = x1 - pad if ha == "right" else x0 + pad
            y = y1 - pad if va == "top" else y0 + pad
            note = ax.text(
                *to_axes.transform((x, y)),
                name,
                transform=ax.transAxes,
                ha=ha,
                va=va,
                fontsize="small",
                color=QUADRANT_COLOURS[name],
                fontweight="bold",
            )
            box = note.get_window_extent(renderer)
            covered = sum(box.overlaps(other) for other in avoid)
            if best is None or covered < best[0]:
                if best is not None:
                    best[1].remove()
                best = (covered, note, box)
            else:
                note.remove()
            if covered == 0:
                break
        avoid.append(best[2])


def two_panel_bars(
    table: pd.DataFrame,
    label: str,
    left: str,
    right: str,
    title: str,
    left_label: str,
    right_label: str,
    axis_label: str,
    right_percent: bool = False,
) -> Figure:
    """Two horizontal bar panels per row of ``table`` (in its order): ``left`` and ``right``."""
    if table.empty:
        return _no_data(title, left_label, axis_label)
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.35 * len(table) + 1.8), sharey=True)
    positions = range(len(table))
    axes[0].barh(positions, table[left], color=sns.color_palette()[0])
    axes[0].set_yticks(list(positions), table[label])
    axes[0].set_xlabel(left_label)
    axes[0].xaxis.set_major_locator(MaxNLocator(5))
    _money(axes[0].xaxis)
    axes[0].set_ylabel(axis_label)
    axes[0].invert_yaxis()
    axes[1].barh(positions, table[right].fillna(0), color=sns.color_palette()[1])
    axes[1].set_xlabel(right_label)
    if right_percent:
        axes[1].xaxis.set_major_formatter(PercentFormatter(1.0))
        axes[1].set_xlabel(_percent_label(right_label))
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def pareto_curve(pareto: pd.DataFrame, title: str, a_share: float = 0.8) -> Figure:
    """Cumulative revenue share against the share of SKUs (from :func:`lib.products.sku_pareto`),
    with the point where the A class ends marked."""
    xlabel, ylabel = "SKUs by revenue, largest first [% of SKUs]", "cumulative revenue [%]"
    if pareto.empty or pareto["revenue"].sum() <= 0:
        return _no_data(title, xlabel, ylabel)
    fig, ax = plt.subplots(figsize=WIDE)
    ax.plot(pareto["sku_share"], pareto["cumulative_share"], color=_LEVEL)
    a = pareto[pareto["abc_class"] == "A"]
    if len(a):
        x, y = a["sku_share"].iloc[-1], a["cumulative_share"].iloc[-1]
        ax.axhline(a_share, color="grey", linestyle=":", linewidth=1)
        ax.axvline(x, color=_ALERT, linestyle=":", linewidth=1)
        ax.annotate(
            f"{len(a):,} SKUs ({x:.1%} of the catalogue) make {y:.0%} of revenue",
            (x, y),
            xytext=(12, -24),
            textcoords="offset points",
            fontsize="small",
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    return _finish(fig, ax, title, xlabel, ylabel)


def stacked_bars_h(
    table: pd.DataFrame,
    label: str,
    columns: Sequence[str],
    labels: Sequence[str],
    title: str,
    value_label: str,
    axis_label: str,
    percent: bool = False,
    colours: Sequence[str] | None = None,
) -> Figure:
    """Horizontal bars of ``columns`` stacked per row of ``table`` (in its order)."""
    if table.empty:
        return _no_data(title, value_label, axis_label)
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(table) + 1.8))
    positions = range(len(table))
    left = pd.Series(0.0, index=table.index)
    palette = colours or sns.color_palette("deep", len(columns))
    for column, name, colour in zip(columns, labels, palette, strict=False):
        values = table[column].fillna(0.0)
        ax.barh(positions, values, left=left, label=name, color=colour)
        left = left + values
    ax.set_yticks(list(positions), table[label])
    ax.invert_yaxis()
    if percent:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        value_label = _percent_label(value_label)
    else:
        _money(ax.xaxis)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _finish(fig, ax, title, value_label, axis_label)


def week_heatmap(
    table: pd.DataFrame, row: str, value: str, title: str, ylabel: str, unit: str
) -> Figure:
    """A ``row`` × week heatmap of ``value`` (long input with a ``week`` column of Mondays)."""
    xlabel = "week starting (local Monday)"
    if table.empty:
        return _no_data(title, xlabel, ylabel)
    grid = table.pivot(index=row, columns="week", values=value)
    grid.columns = [f"{w:%m-%d}" for w in grid.columns]
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(grid) + 1.8))
    sns.heatmap(grid, cmap="RdYlGn", annot=True, fmt=".1f", ax=ax, cbar_kws={"label": unit})
    return _finish(fig, ax, title, xlabel, ylabel)


def component_bars(totals: pd.DataFrame, title: str) -> Figure:
    """Monthly cost stacked by ROPG component (from :func:`lib.costs.component_totals`)."""
    xlabel, ylabel = "month (local; partial months hold only the period's days)", "cost [currency]"
    parts = totals[totals["component"] != "total"]
    if parts.empty:
        return _no_data(title, xlabel, ylabel)
    wide = parts.pivot(index="month", columns="component", values="amount").fillna(0.0)
    order = [c for c in COMPONENT_COLOURS if c in wide.columns]
    wide = wide[order + sorted(set(wide.columns) - set(order))]
    fig, ax = plt.subplots(figsize=WIDE)
    positions = range(len(wide))
    bottom = pd.Series(0.0, index=wide.index)
    for component in wide.columns:
        colour = COMPONENT_COLOURS.get(component, _LEVEL)
        ax.bar(positions, wide[component], bottom=bottom, color=colour, label=component)
        bottom = bottom + wide[component]
    ax.set_xticks(list(positions), [f"{m:%Y-%m}" for m in wide.index])
    _money(ax.yaxis)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _finish(fig, ax, title, xlabel, ylabel)


def unit_economics_bars(economics: pd.DataFrame, title: str) -> Figure:
    """Revenue, each cost and the margins per paid order (from
    :func:`lib.costs.unit_economics`); costs drawn below zero."""
    xlabel, ylabel = "per paid order [currency]", "line"
    shown = economics[~economics["line"].isin(["variable_costs", "fixed_costs", "total_cost"])]
    if shown.empty or shown["per_order"].isna().all():
        return _no_data(title, xlabel, ylabel)
    costs = ~shown["line"].isin(["revenue", "contribution_margin", "net_profit"])
    values = shown["per_order"].where(~costs, -shown["per_order"])
    colours = [_FALL if v < 0 else _RISE for v in values]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(shown) + 1.5))
    positions = range(len(shown))
    ax.barh(positions, values, color=colours)
    _label_bar_ends(ax, values, "{:,.1f}")
    ax.set_yticks(list(positions), shown["line"])
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    low, high = values.min(), values.max()
    pad = 0.25 * (high - low if high > low else 1)
    ax.set_xlim(min(low, 0) - pad, max(high, 0) + pad)  # room for the labels
    return _finish(fig, ax, title, xlabel, ylabel)


def channel_roi_chart(table: pd.DataFrame, title: str) -> Figure:
    """ROAS and ROI per channel and billing model (from :func:`lib.costs.channel_roi`)."""
    if table.empty:
        return _no_data(title, "return per unit of spend", "channel · billing model")
    labels = [f"{c} · {b}" for c, b in zip(table["channel"], table["billing_model"], strict=True)]
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.4 * len(table) + 1.8), sharey=True)
    positions = range(len(table))
    axes[0].barh(positions, table["roas"].fillna(0.0), color=sns.color_palette()[0])
    axes[0].axvline(1, color="grey", linestyle=":", linewidth=1)
    axes[0].set_xlabel("ROAS = GMV / spend [ratio]")
    axes[0].set_yticks(list(positions), labels)
    axes[0].set_ylabel("channel · billing model")
    axes[0].invert_yaxis()
    roi = table["roi"].fillna(0.0)
    axes[1].barh(positions, roi, color=[_RISE if v >= 0 else _FALL for v in roi])
    axes[1].axvline(0, color="black", linewidth=0.8)
    axes[1].set_xlabel("ROI after goods cost = (GMV − goods − spend) / spend [ratio]")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def cost_growth_bars(growth: pd.DataFrame, title: str, n: int = 10) -> Figure:
    """Growth of the ``n`` fastest-growing cost items (from :func:`lib.costs.cost_growth`), the
    flagged ones highlighted; items without a previous cost have no growth and are left out."""
    xlabel, ylabel = "growth against the previous period [%]", "cost item"
    shown = growth[growth["growth"].notna()].head(n)
    if shown.empty:
        return _no_data(title, xlabel, ylabel)
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(shown) + 1.5))
    positions = range(len(shown))
    colours = [_ALERT if flagged else _LEVEL for flagged in shown["fastest_growth"]]
    ax.barh(positions, shown["growth"], color=colours)
    ax.set_yticks(
        list(positions),
        [f"{c}: {i}" for c, i in zip(shown["component"], shown["item"], strict=True)],
    )
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    return _finish(fig, ax, title, xlabel, ylabel)


# ---------------------------------------------------------------- supply chain (issue 8)


def ranked_bars(
    table: pd.DataFrame,
    category: str,
    value: str,
    title: str,
    category_label: str,
    value_label: str,
    top: int | None = None,
    percent: bool = False,
) -> Figure:
    """Horizontal bars of ``value`` per ``category``, largest first (the ``top`` largest only);
    rows without a value are left out."""
    shown = table.dropna(subset=[value]).sort_values([value, category], ascending=[False, True])
    if top is not None:
        shown = shown.head(top)
    if shown.empty:
        return _no_data(title, value_label, category_label)
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(shown) + 1.6))
    positions = range(len(shown))
    ax.barh(positions, shown[value], color=sns.color_palette()[0])
    ax.set_yticks(list(positions), shown[category].astype(str))
    ax.invert_yaxis()
    if percent:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        value_label = _percent_label(value_label)
    else:
        _money(ax.xaxis)
    return _finish(fig, ax, title, value_label, category_label)


def labelled_scatter(
    table: pd.DataFrame,
    x: str,
    y: str,
    label: str,
    title: str,
    xlabel: str,
    ylabel: str,
    size: str | None = None,
    y_percent: bool = False,
    reference: str | None = None,
) -> Figure:
    """One labelled point per row (area by ``size`` when given), e.g. suppliers or carriers;
    labels that would overlap are moved apart (:func:`_label_points`).

    ``reference`` is the ``label`` of a row that sums up the others (``lib.supply.ALL``): it is
    drawn as dotted lines through its x and y, not as one more point (the table keeps it).
    """
    shown = table.dropna(subset=[x, y])
    summary = shown[shown[label] == reference].head(1)
    shown = shown[shown[label] != reference]
    if y_percent:
        ylabel = _percent_label(ylabel)
    if shown.empty:
        return _no_data(title, xlabel, ylabel)
    fig, ax = plt.subplots(figsize=SQUARE)
    sizes = 60.0
    if size is not None:
        sizes = 40 + 600 * shown[size] / max(float(shown[size].max()), 1e-9)
    ax.scatter(shown[x], shown[y], s=sizes, alpha=0.6, color=sns.color_palette()[0])
    for _, row in summary.iterrows():
        line = {"color": _LEVEL, "linestyle": ":", "linewidth": 1.2}
        ax.axvline(row[x], label=f"{reference} {label}s", **line)
        ax.axhline(row[y], **line)
        ax.legend(fontsize="small")
    if y_percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.margins(0.15)
    if y_percent:
        _from_zero(ax, shown[y].min())
    _finish(fig, ax, title, xlabel, ylabel)
    _label_points(ax, shown[x], shown[y], shown[label], (6, 4), "left", "small")
    return fig


def demand_forecast_panels(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    keys: Sequence[str],
    title: str,
    ylabel: str,
    history_days: int = 28,
) -> Figure:
    """Small multiples, one per key: the last ``history_days`` of actual daily units, the
    forecast (dashed) and its interval (shaded), from :func:`lib.supply.forecast_demand`."""
    keys = list(keys)
    if not keys or forecast.empty:
        return _no_data(title, "date (local)", ylabel)
    columns = min(len(keys), 3)
    rows = (len(keys) + columns - 1) // columns
    fig, axes = plt.subplots(
        rows, columns, figsize=(4.2 * columns, 2.8 * rows + 0.6), squeeze=False, sharex=True
    )
    for ax, key in zip(axes.ravel(), keys, strict=False):
        past = history[history["key"] == key].sort_values("date").tail(history_days)
        ahead = forecast[forecast["key"] == key].sort_values("date")
        ax.plot(past["date"], past["units"], color=_LEVEL, label="actual")
        ax.plot(ahead["date"], ahead["forecast"], color=_RISE, linestyle="--", label="forecast")
        ax.fill_between(
            ahead["date"], ahead["low"], ahead["high"], color=_RISE, alpha=0.2, label="interval"
        )
        ax.set_title(str(key), fontsize="small")
        ax.set_ylim(0, None)
        _date_axis(ax)
        ax.tick_params(axis="x", labelsize="x-small")
    for ax in axes.ravel()[len(keys) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    for ax in axes[-1, :]:
        ax.set_xlabel("date (local)")
    axes[0][0].legend(fontsize="x-small")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def ship_hours_chart(daily: pd.DataFrame, sla_hours: float, title: str) -> Figure:
    """Median and 90th percentile of payment-to-shipment hours per payment day, with the SLA."""
    xlabel, ylabel = "payment day (local)", "hours from payment to shipment [h]"
    if daily["orders"].sum() == 0:
        return _no_data(title, xlabel, ylabel)
    fig, ax = plt.subplots(figsize=WIDE)
    ax.plot(daily["date"], daily["ship_hours_p50"], marker="o", markersize=3, label="median")
    ax.plot(
        daily["date"], daily["ship_hours_p90"], marker="o", markersize=3, label="90th percentile"
    )
    ax.axhline(sla_hours, color=_ALERT, linestyle=":", linewidth=1.2, label=f"SLA {sla_hours:g} h")
    ax.set_ylim(0, None)
    ax.legend(fontsize="small")
    _date_axis(ax)
    return _finish(fig, ax, title, xlabel, ylabel)


def inventory_status_chart(summary: pd.DataFrame, title: str) -> Figure:
    """SKUs and stock value per inventory status (from :func:`lib.supply.status_summary`)."""
    if summary["skus"].sum() == 0:
        return _no_data(title, "SKUs [count]", "status")
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.4 * len(summary) + 1.8), sharey=True)
    positions = range(len(summary))
    axes[0].barh(positions, summary["skus"], color=sns.color_palette()[0])
    axes[0].set_yticks(list(positions), summary["status"])
    axes[0].set_xlabel("SKUs [count]")
    axes[0].set_ylabel("status")
    axes[0].invert_yaxis()
    axes[1].barh(positions, summary["inventory_value"], color=sns.color_palette()[1])
    axes[1].xaxis.set_major_locator(MaxNLocator(4))
    _money(axes[1].xaxis)
    axes[1].set_xlabel("stock value at unit cost [currency]")
    for position, share in zip(positions, summary["value_share"], strict=True):
        if pd.notna(share):
            axes[1].text(0, position, f" {share:.0%}", va="center", fontsize="small")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
