"""Every chart the notebooks draw: one place for style, titles, axis labels and units.

Each function takes a small table from a metric function and returns a matplotlib Figure with a
title and labelled axes (units in brackets). Notebooks call these and never style charts themselves.

The same hygiene holds for every chart, here and nowhere else:

- a long list of categories shows its :data:`TOP_N` largest items by the measure, plus one
  "other (k more)" bar when the values add up (counts, money), or a "top N of M" subtitle when
  they do not (rates); time axes are never cut, their labels are thinned instead;
- a chart that would say nothing (no data, one bar or one day, every value the same, series that
  are identical) is not drawn: the function returns a :class:`NoChart`, the one sentence that says
  so, which :func:`lib.outputs.save_figure` prints in place of an image;
- numbers are plain (thousands separators, never scientific notation or an offset), on every
  axis, log axes and colour bars included; a date axis picks its label format from its span, so no
  two ticks read the same;
- colour scales start at 0, or, when a heatmap's cells differ little (:func:`heatmap_spread` below
  :data:`MATERIAL_SPREAD`), show the difference from the mean on a fixed diverging scale, so that a
  spread of ±2 % does not look like hot spots;
- legends sit right of the axes, never over the data.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import ParamSpec

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axis import Axis, XAxis
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.legend import Legend
from matplotlib.text import Annotation
from matplotlib.ticker import (
    AutoLocator,
    Formatter,
    FuncFormatter,
    LogFormatter,
    MaxNLocator,
    PercentFormatter,
    ScalarFormatter,
)
from matplotlib.transforms import Bbox

WIDE = (10, 4)
SQUARE = (8, 5)

# A categorical chart shows at most this many items (bars, rows, labelled points): beyond it the
# labels no longer fit and the tail is noise. 20 keeps whole the sample shop's 20 categories.
TOP_N = 20
# A line or stacked-area chart shows at most this many series: more colours cannot be told apart.
TOP_LINES = 8
# A heatmap whose cells span less than this share of their mean ((max − min) / mean) is flat: its
# colours show the difference from the mean on a fixed ±MATERIAL_SPREAD scale, so they stay pale.
MATERIAL_SPREAD = 0.2

_OTHER = "other ({:,} more)"
_OTHER_COLOUR = "#b0b0b0"


class NoChart(str):
    """A chart not drawn, as the one sentence a reader gets instead: ``"<title>: <reason>"``.

    Chart functions return it instead of a Figure when the chart would be empty, a single bar or
    day, one value everywhere, or series that are all the same. :func:`lib.outputs.save_figure`
    prints it and writes no PNG; being a ``str``, it can also be printed or quoted as it is.
    """

    title: str
    reason: str

    def __new__(cls, title: str, reason: str) -> NoChart:
        self = super().__new__(cls, f"{title}: {reason}" if title else reason)
        self.title, self.reason = title, reason
        return self


Chart = Figure | NoChart
_P = ParamSpec("_P")


def _plural(noun: str) -> str:
    if re.search(r"[^aeiou]y$", noun):
        return noun[:-1] + "ies"
    return noun + ("es" if re.search(r"(s|x|ch|sh)$", noun) else "s")


def _point_text(label: object) -> str:
    if isinstance(label, pd.Timestamp):
        return f"{label:%Y-%m-%d}"
    if isinstance(label, tuple):
        return " ".join(_point_text(part) for part in label)
    return str(label)


def _value_text(value: float, percent: bool = False) -> str:
    """A value in a sentence: 12.3%, 1,234 or 1,234.56, never in scientific notation."""
    if percent:
        return f"{value:.1%}"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return table_float(float(value))


def _names(names: Sequence[str]) -> str:
    names = [str(n) for n in names]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def degenerate(table: pd.DataFrame, what: str = "point", percent: bool = False) -> str | None:
    """Why a chart of ``table`` would show nothing a sentence cannot say, or None when it is worth
    drawing. The index labels the points (categories, days), each column is one series, named by
    its column; ``what`` names a point ("day", "platform").

    The sentence (ending in a full stop) names the first of: no value at all; one point only
    (its values given); every value the same; two or more series identical on every point.
    """
    values = table.apply(pd.to_numeric, errors="coerce").dropna(how="all")
    if values.empty:
        return "no data for this period."
    if len(values) == 1:
        row = values.iloc[0]
        shown = [
            _value_text(v, percent)
            if len(values.columns) == 1
            else f"{n} {_value_text(v, percent)}"
            for n, v in row.items()
            if pd.notna(v)
        ]
        label = _point_text(values.index[0])
        return f"only one {what}, {label}: {', '.join(shown)}; nothing to compare it with."
    cells = values.stack()
    if cells.nunique() == 1:
        return f"every {what} has the same value, {_value_text(cells.iloc[0], percent)}."
    first = values.iloc[:, 0]
    if len(values.columns) > 1 and all(values[c].equals(first) for c in values.columns[1:]):
        low, high = _value_text(first.min(), percent), _value_text(first.max(), percent)
        return (
            f"{_names(list(values.columns))} are identical for every {what}, from {low} to {high}."
        )
    return None


def heatmap_spread(table: pd.DataFrame | pd.Series | np.ndarray, value: str | None = None) -> float:
    """How far apart a heatmap's cells are, relative to their mean: (max − min) / |mean| of the
    values (``table[value]`` of a long table, or every numeric cell of a grid). NaN when there is
    no value or the mean is 0.

    Below :data:`MATERIAL_SPREAD` no cell differs much from the others (4,240 to 4,390 events an
    hour is 0.035): a sentence can say the pattern is flat instead of naming hot spots.
    """
    if isinstance(table, pd.DataFrame):
        cells = table[value] if value is not None else table.select_dtypes("number").stack()
        cells = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=float)
    else:
        cells = np.asarray(table, dtype=float).ravel()
    cells = cells[np.isfinite(cells)]
    if not len(cells) or cells.mean() == 0:
        return float("nan")
    return float((cells.max() - cells.min()) / abs(cells.mean()))


def table_float(value: float) -> str:
    """How notebook tables show a float: with thousands separators, never in scientific
    notation; two decimals from 100 up (money in cents, large averages), three below (rates,
    shares, ratios); a non-zero value that would round to 0.000 (a tiny p-value or share) shows
    as ``<0.001`` so it does not read as exactly 0."""
    if value != 0 and abs(value) < 0.0005:
        return "<0.001" if value > 0 else ">-0.001"
    return f"{value:,.2f}" if abs(value) >= 100 else f"{value:,.3f}"


# The shop's currency (the `currency` parameter), named on money axes instead of "[currency]".
_STYLE: dict[str, str | None] = {"currency": None}
MONEY_UNIT = "[currency]"  # what notebooks and charts write on a money axis


def use_report_style(currency: str | None = None) -> None:
    """Seaborn theme and pandas display options shared by every notebook: text columns shown in
    full (an action or a segment name cut with "..." cannot be read) and floats by
    :func:`table_float`. With ``currency`` (e.g. ``"CNY"``) every chart names it where a label
    says ``[currency]``."""
    _STYLE["currency"] = currency or None
    sns.set_theme(style="whitegrid", context="notebook", palette="deep")
    pd.set_option("display.precision", 3)
    pd.set_option("display.float_format", table_float)
    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 160)


_SUBTITLE = "subtitle"  # the gid of a chart's subtitle, which describe() reads


def describe(figure: Chart, reading: str | None = None) -> str:
    """The alt text of a chart: its title (and subtitle, e.g. "top 20 of 70"), what each panel
    plots against what, and ``reading`` (a sentence computed from the numbers, when the notebook
    has one). A :class:`NoChart` is its own sentence.

    "Daily GMV: GMV per local day [currency] against date (local)."
    """
    if isinstance(figure, str):
        return f"{figure} {reading}" if reading else str(figure)
    suptitle = figure._suptitle.get_text() if figure._suptitle is not None else ""
    titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
    title = suptitle or "; ".join(dict.fromkeys(titles)) or "Chart"
    notes = [t.get_text() for ax in figure.axes for t in ax.texts if t.get_gid() == _SUBTITLE]
    if notes:
        title = f"{title} ({'; '.join(notes)})"
    panels = []
    for ax in figure.axes:
        x, y = ax.get_xlabel(), ax.get_ylabel()
        if x and y:
            panels.append(f"{y} against {x}")
        elif x or y:
            panels.append(x or y)
    text = f"{title}: {'; '.join(dict.fromkeys(panels))}." if panels else f"{title}."
    return f"{text} {reading}" if reading else text


# ------------------------------------------------------------------ plain numbers on every axis


def _plain(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    if float(text.replace(",", "")) == 0:
        text = text.lstrip("-")  # no "-0"
    return text.replace("-", "\N{MINUS SIGN}")


def _decimals(values: Sequence[float]) -> int:
    """The fewest decimals (at most 8) that write every value exactly: ticks are round numbers."""
    most = 0
    for value in values:
        if not np.isfinite(value) or value == 0:
            continue
        places = 0
        while places < 8 and abs(round(value, places) - value) > 1e-9 * abs(value):
            places += 1
        most = max(most, places)
    return most


class _PlainFormatter(Formatter):
    """Ticks as plain numbers: thousands separators, as many decimals as the ticks need, never
    scientific notation or an offset (a reader should not have to add "+4.24e3" in their head)."""

    def __init__(self) -> None:
        self.locs: list[float] = []

    def set_locs(self, locs) -> None:
        self.locs = list(locs)

    def __call__(self, x: float, pos: int | None = None) -> str:
        return _plain(x, _decimals(self.locs or [x]))


class _PlainLogFormatter(LogFormatter):
    """A log axis labelled with plain numbers (10,000, not 10⁴), on the ticks a log formatter
    labels."""

    def _num_to_string(self, x: float, vmin: float, vmax: float) -> str:
        return _plain(x, _decimals([x]))


class _FittingLocator(MaxNLocator):
    """Round ticks on a horizontal axis, no more than its plain labels ("1,750,000") fit side
    by side: the default assumes labels three characters wide and lets long ones overlap."""

    def __init__(self) -> None:
        super().__init__(nbins="auto", steps=[1, 2, 2.5, 5, 10])

    def __call__(self) -> list[float]:
        low, high = self.axis.get_view_interval()
        characters = max(len(_plain(v, _decimals([v]) if abs(v) < 10 else 0)) for v in (low, high))
        size = FontProperties(size=plt.rcParams["xtick.labelsize"]).get_size_in_points()
        label = (characters + 3) * 0.6 * size * self.axis.figure.dpi / 72  # + a gap between labels
        self.set_params(nbins=max(2, int(self.axis.axes.bbox.width // label)))
        return super().__call__()


def _plain_axis(axis: Axis) -> None:
    if isinstance(axis, XAxis) and type(axis.get_major_locator()) is AutoLocator:
        axis.set_major_locator(_FittingLocator())
    for minor in (False, True):
        current = axis.get_minor_formatter() if minor else axis.get_major_formatter()
        if isinstance(current, LogFormatter) and not isinstance(current, _PlainLogFormatter):
            new = _PlainLogFormatter(
                current._base, current.labelOnlyBase, current.minor_thresholds, current._linthresh
            )
        elif isinstance(current, ScalarFormatter):
            new = _PlainFormatter()
        else:  # dates, percents, categories and formatters set on purpose stay
            continue
        if minor:
            axis.set_minor_formatter(new)
        else:
            axis.set_major_formatter(new)


def _plain_numbers(fig: Figure) -> None:
    """Every numeric axis of ``fig`` (colour bars included) in plain numbers."""
    for ax in fig.axes:
        colorbar = getattr(ax, "_colorbar", None)
        if colorbar is not None and isinstance(colorbar.formatter, ScalarFormatter):
            # a colour bar resets its axis's formatter from its own at each draw
            colorbar.formatter = _PlainFormatter()
        _plain_axis(ax.xaxis)
        _plain_axis(ax.yaxis)


def _layout(fig: Figure) -> Figure:
    """Plain numbers, then the layout (the tick labels' final widths decide it)."""
    _plain_numbers(fig)
    fig.tight_layout()
    return fig


def _name_currency(fig: Figure) -> None:
    """``[currency]`` in every title, axis label, legend title and text of ``fig`` made the shop's
    currency (:func:`use_report_style`); unchanged when none was set."""
    currency = _STYLE["currency"]
    if not currency:
        return
    named = f"[{currency}]"
    texts = [fig._suptitle] if fig._suptitle is not None else []
    for ax in fig.axes:
        texts += [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            texts.append(legend.get_title())
    for text in texts:
        if MONEY_UNIT in text.get_text():
            text.set_text(text.get_text().replace(MONEY_UNIT, named))


def _chart(draw: Callable[_P, Chart]) -> Callable[_P, Chart]:
    """Every public chart goes through here, so no chart misses the plain-number rule."""

    @functools.wraps(draw)
    def checked(*args: _P.args, **kwargs: _P.kwargs) -> Chart:
        # no offset and no scientific notation even for formatters made after the layout
        with plt.rc_context(
            {"axes.formatter.useoffset": False, "axes.formatter.limits": (-30, 30)}
        ):
            drawn = draw(*args, **kwargs)
        if isinstance(drawn, Figure):
            _plain_numbers(drawn)
            _name_currency(drawn)
        return drawn

    return checked


# ------------------------------------------------------------------ legends, dates, long lists


def _legend_outside(ax: plt.Axes, title: str | None = None, **kwargs) -> Legend:
    """The legend right of the axes: inside, it covers data it knows nothing about."""
    return ax.legend(
        title=title,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        borderaxespad=0.0,
        fontsize="small",
        title_fontsize="small",
        frameon=False,
        **kwargs,
    )


def _date_formats(span_days: float) -> list[str]:
    """Date label formats for a span, shortest first: days, months, then years."""
    if span_days > 3 * 365:
        return ["%Y", "%Y-%m", "%Y-%m-%d"]
    if span_days > 120:
        return ["%Y-%m", "%Y-%m-%d"]
    return ["%m-%d", "%Y-%m-%d"]


def _date_labels(dates: Sequence[pd.Timestamp], formats: Sequence[str] | None = None) -> list[str]:
    """``dates`` written in the first format that tells them all apart (one date: in full)."""
    dates = list(dates)
    if len(dates) < 2:
        return [f"{d:%Y-%m-%d}" for d in dates]
    if formats is None:
        formats = _date_formats((max(dates) - min(dates)).days)
    for fmt in formats:
        labels = [d.strftime(fmt) for d in dates]
        if len(set(labels)) == len(labels):
            return labels
    return [f"{d:%Y-%m-%d %H:%M}" for d in dates]


class _SpanDateFormatter(Formatter):
    """Date ticks in the shortest format that tells them apart over the axis's span
    (days → 10-17, many months → 2025-10, years → 2025): never every tick "01-01"."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{mdates.num2date(x):%Y-%m-%d}"

    def format_ticks(self, values) -> list[str]:
        dates = [pd.Timestamp(mdates.num2date(v)).tz_localize(None) for v in values]
        low, high = sorted(self.axis.get_view_interval()) if self.axis else (0.0, 0.0)
        return _date_labels(dates, _date_formats(high - low))


class _DayLocator(mdates.AutoDateLocator):
    """Date ticks at midnights at the finest: daily data has no hours to tick."""

    def __call__(self) -> list[float]:
        low, high = sorted(self.axis.get_view_interval())
        if high - low < 5:
            return [float(d) for d in np.arange(np.ceil(low), np.floor(high) + 1)]
        return super().__call__()


def _date_axis(ax: plt.Axes, most: int = 8) -> None:
    ax.xaxis.set_major_locator(_DayLocator(minticks=3, maxticks=most))
    ax.xaxis.set_major_formatter(_SpanDateFormatter())
    for label in ax.get_xticklabels():
        label.set_rotation(0)


def _thin_labels(ax: plt.Axes, most: int = TOP_N, axis: str = "x") -> None:
    """Keep every k-th tick label of an ordered axis (months, windows, cohort days): k the
    smallest with which the kept labels fit side by side (or one above the other on the y axis),
    at most ``most`` of them. A time axis is not cut to its top N; its labels are thinned. Needs
    the final layout (call after :func:`_finish`)."""
    ticks = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    labels = [label for label in ticks if label.get_text()]
    if len(labels) < 2:
        return
    renderer = ax.figure.canvas.get_renderer()
    boxes = [label.get_window_extent(renderer) for label in labels]
    frame = ax.get_window_extent(renderer)
    if axis == "x":
        widest, room = max(box.width for box in boxes), frame.width
    else:
        widest, room = max(box.height for box in boxes), frame.height
    fit = int(room // (widest * 1.2))  # a gap between labels
    step = -(-len(labels) // max(1, min(most, fit)))
    for i, label in enumerate(labels):
        label.set_visible(i % step == 0)


def _tilt_labels(ax: plt.Axes) -> None:
    """Tilt the category labels of an x axis when they do not fit side by side: unlike months,
    every category has to stay named. Needs the final layout; lays the figure out again."""
    labels = [label for label in ax.get_xticklabels() if label.get_text()]
    renderer = ax.figure.canvas.get_renderer()
    if sum(label.get_window_extent(renderer).width for label in labels) * 1.1 > (
        ax.get_window_extent(renderer).width
    ):
        for label in labels:
            label.set(rotation=35, ha="right", rotation_mode="anchor")
        _layout(ax.figure)


_SUMMED_UNITS = {
    "buyers",
    "count",
    "currency",
    "events",
    "items",
    "orders",
    "sessions",
    "skus",
    "units",
    "users",
    "views",
}


def _summable(label: str, percent: bool = False) -> bool:
    """Whether values labelled ``label`` add up across items, read from the unit in brackets: a
    count or money ("[currency]", "[units]", "[users]") does, a rate, a share or a duration
    ("[%]", "[days]") does not, and neither does a label without a unit (the safe side)."""
    unit = re.search(r"\[([^\]]+)\]", label)
    if percent or unit is None:
        return False
    return unit.group(1).split(",")[0].strip().lower() in _SUMMED_UNITS


def _top(
    table: pd.DataFrame,
    label: str,
    measure: str,
    n: int = TOP_N,
    summable: bool = False,
    sums: Sequence[str] = (),
    by: str | None = None,
    what: str = "",
) -> tuple[pd.DataFrame, str | None]:
    """At most ``n`` rows of ``table``, the largest by ``measure`` first, and the subtitle saying
    what was left out (None when nothing was). When the values add up (``summable``) the rest is
    one more row, "other (k more)", with the sum of each of ``sums`` (other columns empty) and no
    subtitle; when they do not, the subtitle says "top n of M ``what`` by ``by``"."""
    if len(table) <= n:
        return table, None
    ranked = table.assign(_key=table[label].astype(str)).sort_values(
        [measure, "_key"], ascending=[False, True], na_position="last"
    )
    ranked = ranked.drop(columns="_key")
    shown, rest = ranked.head(n), ranked.iloc[n:]
    if summable:
        other = {column: rest[column].sum() for column in sums}
        other[label] = _OTHER.format(len(rest))
        shown = pd.concat([shown.astype({label: str}), pd.DataFrame([other])], ignore_index=True)
        return shown, None
    items = f" {what}" if what else ""
    return shown, f"top {n} of {len(table):,}{items} by {by or measure}"


def _is_other(label: object) -> bool:
    return isinstance(label, str) and re.fullmatch(r"other \([\d,]+ more\)", label) is not None


def _colours(labels: Sequence[object], colour: object) -> list[object]:
    """``colour`` for each bar, grey for the "other" bar: it is not an item like the others."""
    return [_OTHER_COLOUR if _is_other(label) else colour for label in labels]


def _subtitle(ax: plt.Axes, note: str | None) -> None:
    """A line under the title saying what the chart leaves out (e.g. "top 20 of 70 by GMV")."""
    if not note:
        return
    ax.set_title(ax.get_title(), pad=ax.title.get_fontsize() + 8)
    ax.annotate(
        note,
        (0.5, 1.0),
        xycoords="axes fraction",
        xytext=(0, 5),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize="small",
        color="dimgrey",
        gid=_SUBTITLE,
    )


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
    # by position: a filtered table's Series keep labels that are not 0..n-1
    xs, ys, texts = list(xs), list(ys), [str(text) for text in texts]
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


def _finish(
    fig: Figure, ax: plt.Axes, title: str, xlabel: str, ylabel: str, note: str | None = None
) -> Figure:
    ax.set_title(title)
    _subtitle(ax, note)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return _layout(fig)


def _panels_title(fig: Figure, ax: plt.Axes, title: str, note: str | None = None) -> Figure:
    """A figure of several panels: ``title`` over them, ``note`` under it on the first panel."""
    fig.suptitle(title)
    _subtitle(ax, note)
    return _layout(fig)


def _no_data(title: str) -> NoChart:
    """What a chart without the data it needs says instead of showing empty axes."""
    return NoChart(title, "no data for this period.")


def _distinct_series(
    table: pd.DataFrame, columns: Sequence[str], labels: Sequence[str]
) -> tuple[list[str], list[str]]:
    """The columns to draw and their legend labels, a column identical to an earlier one drawn
    once under both names ("WAU = MAU"): two lines on top of each other look like one."""
    kept: list[str] = []
    names: list[str] = []
    for column, label in zip(columns, labels, strict=True):
        same = next((i for i, k in enumerate(kept) if table[k].equals(table[column])), None)
        if same is None:
            kept.append(column)
            names.append(str(label))
        else:
            names[same] = f"{names[same]} = {label}"
    return kept, names


@_chart
def daily_lines(
    table: pd.DataFrame,
    columns: Sequence[str],
    title: str,
    ylabel: str,
    labels: Sequence[str] | None = None,
    percent: bool = False,
    reference: tuple[float, str] | None = None,
    marks: pd.DataFrame | None = None,
) -> Chart:
    """Lines of ``columns`` over ``table['date']``; a percent axis starts at 0.

    ``reference`` draws a horizontal line at a value, named in the legend (e.g. break-even).
    ``marks`` (``date, name``: e.g. :func:`lib.shop_calendar.calendar_days`) draws a dashed
    vertical line on each named day inside the dates, with its name, so a peak can be read
    against the calendar instead of a fixed holiday name in the text.
    Not drawn (:class:`NoChart`) for no day, one day, one value on every day, or columns that
    are identical on every day; columns identical to another are drawn once, named together.
    """
    names = list(labels) if labels is not None else list(columns)
    values = table.set_index("date")[list(columns)].set_axis(names, axis=1)
    reason = degenerate(values, "day", percent)
    if reason:
        return NoChart(title, reason)
    kept, names = _distinct_series(table, columns, names)
    fig, ax = plt.subplots(figsize=WIDE)
    for column, name in zip(kept, names, strict=True):
        ax.plot(table["date"], table[column], marker="o", markersize=3, label=name)
    if reference is not None:
        ax.axhline(reference[0], color=_ALERT, linestyle=":", linewidth=1.2, label=reference[1])
    if marks is not None:
        _mark_days(ax, marks, table["date"].min(), table["date"].max())
    if len(kept) > 1 or reference is not None:  # one line needs no legend: the axis names it
        _legend_outside(ax)
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        _from_zero(ax, values.min().min())
        ylabel = _percent_label(ylabel)
    _date_axis(ax)
    return _finish(fig, ax, title, "date (local)", ylabel)


def _mark_days(ax: plt.Axes, marks: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp) -> None:
    """A dashed line and the name (several names of one day joined) on each marked day."""
    inside = marks[(marks["date"] >= first) & (marks["date"] <= last)]
    for day, names in inside.groupby("date", sort=True)["name"]:
        ax.axvline(day, color="grey", linestyle="--", linewidth=0.8, alpha=0.7)
        ax.annotate(
            " / ".join(dict.fromkeys(names)),
            xy=(day, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(2, -2),
            textcoords="offset points",
            rotation=90,
            va="top",
            fontsize="x-small",
            color="dimgrey",
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 0.5},
        )


@_chart
def daily_panels(table: pd.DataFrame, panels: Sequence[tuple[str, str]], title: str) -> Chart:
    """One line panel per ``(column, axis label)`` over ``table['date']``, sharing the date axis:
    counts of different sizes (UV and PV) each get a scale of their own, from 0. Not drawn for
    no day, one day, one value everywhere or identical panels."""
    values = table.set_index("date")[[column for column, _ in panels]]
    reason = degenerate(values.set_axis([label for _, label in panels], axis=1), "day")
    if reason:
        return NoChart(title, reason)
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(10, 2.4 * len(panels) + 0.8), sharex=True, squeeze=False
    )
    for ax, (column, axis_label), colour in zip(
        axes[:, 0], panels, sns.color_palette(), strict=False
    ):
        ax.plot(table["date"], table[column], marker="o", markersize=3, color=colour)
        ax.set_ylim(0, None)
        ax.set_ylabel(axis_label)
    _date_axis(axes[-1, 0])
    axes[-1, 0].set_xlabel("date (local)")
    return _panels_title(fig, axes[0, 0], title)


def cost_ratio_chart(trend: pd.DataFrame, title: str) -> Chart:
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


@_chart
def stacked_area(table: pd.DataFrame, dimension: str, value: str, title: str, ylabel: str) -> Chart:
    """A stacked area per value of ``dimension`` over ``table['date']`` (long-form input), the
    :data:`TOP_LINES` largest by total and the rest as one "other" area. Not drawn for one value
    of ``dimension`` (the area would be the daily total, a chart shown elsewhere) or one day."""
    if table.empty:
        return _no_data(title)
    wide = table.pivot_table(index="date", columns=dimension, values=value, fill_value=0)
    totals = wide.sum().sort_values(ascending=False)
    if len(totals) == 1:
        reason = f"one {dimension} only, {totals.index[0]}: the chart would repeat the daily total."
        return NoChart(title, reason)
    reason = degenerate(wide.sum(axis=1).to_frame(ylabel), "day")
    if reason:
        return NoChart(title, reason)
    wide = wide[totals.index]
    if len(totals) > TOP_LINES:
        rest = totals.index[TOP_LINES - 1 :]
        wide = wide[totals.index[: TOP_LINES - 1]].assign(
            **{_OTHER.format(len(rest)): wide[rest].sum(axis=1)}
        )
    fig, ax = plt.subplots(figsize=WIDE)
    colours = _colours(wide.columns, None)
    palette = iter(sns.color_palette("deep", len(wide.columns)))
    colours = [c if c is not None else next(palette) for c in colours]
    ax.stackplot(wide.index, wide.T.to_numpy(), labels=wide.columns, colors=colours, alpha=0.85)
    ax.set_ylim(0, None)
    handles, names = ax.get_legend_handles_labels()
    # listed top down as the areas are stacked, so the legend reads like the chart
    _legend_outside(ax, title=dimension, handles=handles[::-1], labels=names[::-1])
    _date_axis(ax)
    return _finish(fig, ax, title, "date (local)", ylabel)


def _hbars(
    ax: plt.Axes, labels: Sequence[object], values: Sequence[float], colour: object, **kwargs
) -> None:
    """Horizontal bars, the first on top, the "other" bar grey."""
    positions = range(len(labels))
    ax.barh(positions, values, color=_colours(labels, colour), **kwargs)
    ax.set_yticks(list(positions), [str(label) for label in labels])
    ax.invert_yaxis()


@_chart
def bars(
    table: pd.DataFrame,
    category: str,
    value: str,
    title: str,
    category_label: str,
    value_label: str,
    percent: bool = False,
    top: int = TOP_N,
    summable: bool | None = None,
) -> Chart:
    """Horizontal bars of ``value`` per ``category``, largest first; rows without a value are
    left out. Beyond ``top`` categories: the ``top`` largest and one "other (k more)" bar when the
    values add up (``summable``; by default when ``value_label``'s unit is a count or money, see
    :func:`_summable`), else the ``top`` largest under a "top N of M" subtitle. Not drawn for no
    bar, one bar or the same value everywhere."""
    if percent:
        value_label = _percent_label(value_label)
    rows = table.dropna(subset=[value])
    reason = degenerate(rows.set_index(category)[[value]], category_label, percent)
    if reason:
        return NoChart(title, reason)
    adds = _summable(value_label, percent) if summable is None else summable
    rows = rows.sort_values(value, ascending=False, kind="stable")
    shown, note = _top(
        rows, category, value, top, adds, [value], value_label, _plural(category_label)
    )
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(shown) + 1.6))
    _hbars(ax, shown[category].tolist(), shown[value], sns.color_palette()[0])
    if percent:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    return _finish(fig, ax, title, value_label, category_label, note)


def _weekday_grid(table: pd.DataFrame, value: str) -> pd.DataFrame:
    grid = table.pivot(index="weekday_name", columns="hour", values=value)
    order = table.drop_duplicates("weekday").sort_values("weekday")["weekday_name"]
    return grid.reindex(order)


def _heatmap(
    ax: plt.Axes,
    grid: pd.DataFrame,
    unit: str,
    cmap: str = "rocket_r",
    limits: tuple[float, float] | None = None,
    annotate: str | None = None,
    diverging: str = "vlag",
) -> str | None:
    """Draw ``grid`` on an honest colour scale, and return the subtitle when the scale is the
    difference from the mean.

    ``limits`` when the unit has a fixed range (a rating from 1 to 5). Otherwise: when the cells
    differ by less than :data:`MATERIAL_SPREAD` of their mean, the colours are each cell's
    difference from the mean on a fixed ±MATERIAL_SPREAD diverging scale, white at the mean (a
    ±2 % pattern stays pale instead of filling a colour scale fitted to it); else the scale runs
    from 0 (or the lowest value, if negative) to the highest.
    """
    cells = grid.to_numpy(dtype=float)
    annot = cells if annotate else False
    spread = heatmap_spread(cells)
    if limits is None and spread < MATERIAL_SPREAD:
        mean = float(np.nanmean(cells))
        difference = grid / mean - 1
        sns.heatmap(
            difference,
            cmap=diverging,
            vmin=-MATERIAL_SPREAD,
            vmax=MATERIAL_SPREAD,  # symmetric: the diverging map's middle (white) is the mean
            annot=annot,
            fmt=annotate or "",
            ax=ax,
            cbar_kws={
                "label": "difference from the mean [%]",
                "format": FuncFormatter(lambda v, _: f"{v:+.0%}" if v else "0%"),
            },
        )
        low, high = np.nanmin(difference.to_numpy()), np.nanmax(difference.to_numpy())
        return (
            f"flat: every cell within {low:+.1%} to {high:+.1%} of the mean, "
            f"{_value_text(round(mean, 2))} {unit}"
        )
    low, high = limits or (min(0.0, float(np.nanmin(cells))), float(np.nanmax(cells)))
    sns.heatmap(
        grid,
        cmap=cmap,
        vmin=low,
        vmax=high,
        annot=annot,
        fmt=annotate or "",
        ax=ax,
        cbar_kws={"label": unit},
    )
    return None


@_chart
def hour_weekday_heatmap(table: pd.DataFrame, value: str, title: str, unit: str) -> Chart:
    """A weekday × hour heatmap from :func:`lib.traffic.hour_weekday_activity`: counts from 0,
    or, when the cells are within :data:`MATERIAL_SPREAD` of each other, their difference from
    the mean (see :func:`_heatmap`; :func:`heatmap_spread` gives the same measure to a
    sentence). Not drawn without data or with the same value in every cell."""
    if table.empty:
        return _no_data(title)
    grid = _weekday_grid(table, value)
    reason = degenerate(grid.stack().to_frame(unit), "hour of the week")
    if reason:
        return NoChart(title, reason)
    fig, ax = plt.subplots(figsize=(11, 4))
    note = _heatmap(ax, grid, unit)
    return _finish(fig, ax, title, "hour of day (local)", "weekday", note)


@_chart
def rate_intervals(
    table: pd.DataFrame,
    label: str,
    panels: Sequence[tuple[str, str, str, str]],
    title: str,
    rank_by: str | None = None,
    top: int = TOP_N,
) -> Chart:
    """Estimates with confidence intervals, a panel per ``(rate, low, high, axis label)``, in
    the table's order. Beyond ``top`` rows: the ``top`` largest by ``rank_by`` (a column of
    ``table``, e.g. its viewers; by default the first panel's rate), largest first, under a
    "top N of M" subtitle (rates do not add up into an "other" row). Not drawn for no row, one
    row or the same estimate everywhere."""
    estimates = table.set_index(label)[[rate for rate, *_ in panels]]
    reason = degenerate(estimates.set_axis([p[3] for p in panels], axis=1), label, percent=True)
    if reason:
        return NoChart(title, reason)
    rank = rank_by or panels[0][0]
    total = len(table)
    table, note = _top(table, label, rank, top, by=rank.replace("_", " "), what=_plural(label))
    if note and rank_by:  # chosen by their size, shown by their rate
        table = table.sort_values(panels[0][0], ascending=False, kind="stable")
        note = f"the {top} {_plural(label)} with the most {rank_by.replace('_', ' ')}, of {total:,}"
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
        ax.set_yticks(list(positions), table[label].astype(str))
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        _from_zero(ax, table[low].min(), "x")
        ax.set_xlabel(_percent_label(axis_label))
    axes[0][0].set_ylabel(label)
    axes[0][0].invert_yaxis()
    return _panels_title(fig, axes[0][0], title, note)


@_chart
def indicator_changes(table: pd.DataFrame, title: str) -> Chart:
    """Relative change of each indicator against its baseline (from lib.overview); indicators
    not compared (no baseline, or one the data covers in part) are left out."""
    shown = table.dropna(subset=["change"])
    if shown.empty:
        return _no_data(title)
    if len(shown) == 1:
        return NoChart(
            title, degenerate(shown.set_index("indicator")[["change"]], "indicator", True)
        )
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


@_chart
def funnel_chart(table: pd.DataFrame, title: str) -> Chart:
    """Users per step of :func:`lib.funnel.funnel_table`, labelled with the share of step 1.
    Not drawn when no user reached the first step."""
    if table.empty or table["users"].max() == 0:
        return NoChart(title, "no user reached the first step in this period.")
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(table) + 1.6))
    _funnel_bars(ax, table)
    return _finish(fig, ax, title, "users reaching the step (share of step 1)", "step")


@_chart
def funnel_paths_chart(table: pd.DataFrame, title: str) -> Chart:
    """A panel per path of :func:`lib.funnel.funnel_paths`: users per step and share of step 1."""
    if table.empty or table["users"].max() == 0:
        return NoChart(title, "no user entered any of the paths in this period.")
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
    return _panels_title(fig, axes[0, 0], title)


@_chart
def funnel_by_segment(table: pd.DataFrame, dimension: str, title: str) -> Chart:
    """Share of each segment's entrants reaching each step (from :func:`funnel_breakdown`): the
    :data:`TOP_LINES` segments with the most entrants. Not drawn for one segment (the main
    funnel again) or segments whose lines are all identical."""
    if table.empty:
        return _no_data(title)
    lines = table.pivot_table(
        index="step_index", columns=dimension, values="conversion_from_start", dropna=False
    )
    if len(lines.columns) == 1:
        only = lines.columns[0]
        return NoChart(
            title, f"every entrant is in one {dimension}, {only}: the main funnel above."
        )
    reason = degenerate(lines, "step")
    if reason:
        return NoChart(title, reason)
    entrants = table[table["step_index"] == table["step_index"].min()]
    segments, note = _top(
        entrants, dimension, "users", TOP_LINES, by="entrants", what=_plural(dimension)
    )
    shown = table[table[dimension].isin(segments[dimension])]
    fig, ax = plt.subplots(figsize=WIDE)
    sns.lineplot(
        data=shown,
        x="step_index",
        y="conversion_from_start",
        hue=dimension,
        hue_order=list(segments[dimension]),
        marker="o",
        ax=ax,
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
    _legend_outside(ax, title=dimension)
    ylabel = "entrants reaching the step [%, log scale]"
    return _finish(fig, ax, title, "funnel step", ylabel, note)


@_chart
def conversion_band(table: pd.DataFrame, title: str) -> Chart:
    """Daily conversion (from :func:`lib.funnel.daily_conversion`) with its band; flagged days
    (``outside_band``: the day or a window ending on it beyond the noise) are marked."""
    reason = degenerate(table.set_index("date")[["conversion_rate"]], "day", percent=True)
    if reason:
        return NoChart(title, reason)
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
        label="expected (from the days before)",
    )
    ax.plot(table["date"], table["conversion_rate"], marker="o", markersize=3, label="conversion")
    outside = table[table["outside_band"]]
    ax.scatter(
        outside["date"],
        outside["conversion_rate"],
        color=_ALERT,
        s=60,
        zorder=3,
        label="flagged day",
    )
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    _from_zero(ax, 0.0)  # rates, and a band clipped to [0, 1]
    _legend_outside(ax)
    _date_axis(ax)
    return _finish(fig, ax, title, "entry day (local)", "entrants reaching the last step [%]")


@_chart
def item_conversion_scatter(
    table: pd.DataFrame, title: str, min_viewers: int | None = None
) -> Chart:
    """Conversion against viewers per item (from :func:`lib.funnel.item_conversion`); the
    flagged worst items are marked (their names are in the table next to the chart)."""
    if table.empty:
        return _no_data(title)
    if len(table) == 1:
        row = table.iloc[0]
        return NoChart(
            title,
            f"only one item, {row.iloc[0]}: {row['conversion_rate']:.1%} of "
            f"{row['viewers']:,} viewers bought it.",
        )
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
            label=f"large traffic (≥ {min_viewers:,} viewers)",
        )
    ax.set_xscale("log")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    _from_zero(ax, 0.0)  # shares of viewers
    _legend_outside(ax)
    return _finish(
        fig,
        ax,
        title,
        "viewers in the period [users, log scale]",
        "viewers who bought the item [%]",
    )


@_chart
def behaviour_comparison(table: pd.DataFrame, title: str, top: int = TOP_N) -> Chart:
    """Events per user by event name, droppers against converters (from
    :func:`lib.funnel.dropoff_behaviour`); beyond ``top`` event names, the ``top`` most frequent
    (for either group) under a "top N of M" subtitle."""
    names = {"events_per_dropper": "dropped", "events_per_converter": "converted"}
    reason = degenerate(table.set_index("event_name")[list(names)].rename(columns=names), "event")
    if reason:
        return NoChart(title, reason)
    ranked = table.assign(_most=table[list(names)].max(axis=1))
    shown, note = _top(ranked, "event_name", "_most", top, by="events per user", what="events")
    long = shown.melt(
        id_vars="event_name", value_vars=list(names), var_name="group", value_name="events_per_user"
    )
    long["group"] = long["group"].map(names)
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(shown) + 1.5))
    sns.barplot(
        data=long,
        y="event_name",
        x="events_per_user",
        hue="group",
        orient="h",
        palette=[_FALL, _RISE],
        ax=ax,
    )
    _legend_outside(ax)
    return _finish(fig, ax, title, "events per user [count]", "event", note)


@_chart
def gmv_waterfall(decomposition: pd.DataFrame, title: str) -> Chart:
    """Previous GMV, the effect of each factor and current GMV (from
    :func:`lib.gmv.gmv_decomposition`) as a waterfall."""
    rows = decomposition.set_index("factor")
    start, end = rows.loc["gmv", "previous"], rows.loc["gmv", "current"]
    if not start and not end:
        return NoChart(title, "no GMV in either period.")
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


@_chart
def cohort_heatmap(cohorts: pd.DataFrame, title: str, value: str = "retention_rate") -> Chart:
    """Cohort × day-N heatmap of a retention rate (from :func:`lib.retention.cohort_retention`),
    coloured from 0."""
    xlabel, ylabel = "day N after the cohort date [days]", "cohort (local date)"
    if cohorts.empty:
        return _no_data(title)
    grid = cohorts.pivot(index="cohort_date", columns="day", values=value)
    grid.index = _date_labels(grid.index, _month_formats(grid.index))
    # day 0 is 100% by definition: scale the colours to the later days so they stay readable
    later = grid.drop(columns=0, errors="ignore").max().max()
    # a year of daily cohorts would make a figure 80 inches tall: at most 12, labels thinned
    fig, ax = plt.subplots(figsize=(11, min(0.22 * len(grid) + 2, 12)))
    sns.heatmap(
        grid,
        cmap="rocket_r",
        vmin=0,
        vmax=later if later > 0 else None,
        ax=ax,
        cbar_kws={"label": "users retained [% of cohort]", "format": PercentFormatter(1.0)},
    )
    ax.tick_params(axis="y", labelsize="small")
    _finish(fig, ax, title, xlabel, ylabel)
    _thin_labels(ax, most=len(grid), axis="y")
    return fig


def _month_formats(dates: Sequence[pd.Timestamp]) -> list[str] | None:
    """Months (every date a 1st) are written 2025-10; other dates by their span."""
    dates = list(dates)
    if len(dates) > 1 and all(d.day == 1 for d in dates):
        return ["%Y-%m", "%Y-%m-%d"]
    return None


@_chart
def retention_curve(
    curve: pd.DataFrame, headline: pd.DataFrame, phases: pd.DataFrame | None, title: str
) -> Chart:
    """The average retention curve with the headline days labelled and the phases shaded."""
    xlabel, ylabel = "day N after the cohort date [days]", "retained [% of cohort]"
    shown = curve[curve["day"] >= 1]
    if shown.empty:
        return NoChart(title, "no cohort can be followed beyond its first day yet.")
    fig, ax = plt.subplots(figsize=WIDE)
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
    _legend_outside(ax)
    _finish(fig, ax, title, xlabel, ylabel)
    for note in notes:  # D1 sits half a day from the left edge: centred, its note would stick out
        _keep_inside(ax, note)
    return fig


@_chart
def magic_number_chart(
    by_count: pd.DataFrame, best: pd.DataFrame, behaviour: str, title: str, ylabel: str
) -> Chart:
    """Retention per early-behaviour count, bars at or above the magic number highlighted. Not
    drawn when no cohort user can be followed that long, or for one count only."""
    if by_count.empty:
        return NoChart(
            title,
            "no cohort user can be followed that long: the data ends too soon after the period.",
        )
    if len(by_count) == 1:
        row = by_count.iloc[0]
        return NoChart(
            title,
            f"every user has the same {behaviour}, {row['label']}, and "
            f"{row['retention_rate']:.1%} of them were retained; nothing to compare it with.",
        )
    reason = degenerate(by_count.set_index("label")[["retention_rate"]], "count", percent=True)
    if reason:
        return NoChart(title, reason)
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
    top = by_count["retention_rate"].max()
    ax.set_ylim(0, max(top, 0.01) * 1.2)  # room for the note
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
    _finish(fig, ax, title, f"{behaviour} [count]", ylabel)
    _thin_labels(ax)
    return fig


@_chart
def lifecycle_chart(table: pd.DataFrame, title: str) -> Chart:
    """Stacked bars per window: new, returning and resurrected up, dormant down."""
    xlabel, ylabel = "window (local dates)", "users (dormant below 0)"
    if table.empty:
        return _no_data(title)
    starts = _date_labels(table["window_start"])
    ends = _date_labels(table["window_end"])
    labels = [f"{s}\nto {e}" for s, e in zip(starts, ends, strict=True)]
    states = ["returning", "resurrected", "new", "dormant"]
    reason = degenerate(table[states].set_axis(labels), "window")
    if reason:
        return NoChart(title, reason.replace("\n", " "))
    fig, ax = plt.subplots(figsize=WIDE)
    positions = range(len(table))
    bottom = pd.Series(0, index=table.index)
    for state in ("returning", "resurrected", "new"):
        ax.bar(positions, table[state], bottom=bottom, color=LIFECYCLE_COLOURS[state], label=state)
        bottom = bottom + table[state]
    ax.bar(positions, -table["dormant"], color=LIFECYCLE_COLOURS["dormant"], label="dormant")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(list(positions), labels)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{abs(v):,.0f}"))
    handles, names = ax.get_legend_handles_labels()
    order = [names.index(state) for state in ("new", "resurrected", "returning", "dormant")]
    _legend_outside(ax, handles=[handles[i] for i in order], labels=[names[i] for i in order])
    _finish(fig, ax, title, xlabel, ylabel)
    _thin_labels(ax)
    return fig


@_chart
def grouped_bars(
    table: pd.DataFrame,
    x: str,
    columns: Sequence[str],
    labels: Sequence[str],
    title: str,
    xlabel: str,
    ylabel: str,
    percent: bool = False,
    top: int = TOP_N,
    counts: Sequence[str] | None = None,
) -> Chart:
    """Vertical bars of several ``columns`` side by side for each value of ``x``. Dates (months)
    keep their order, their labels thinned; beyond ``top`` categories, the ``top`` largest by the
    first column, with an "other" group when the values add up, else a "top N of M" subtitle.
    Not drawn for one bar, or columns identical for every ``x``. ``counts`` (one column per
    series) writes each group's n under it, in legend order, so a rate on 55 buyers does not look
    as solid as one on 12,000."""
    if percent:
        ylabel = _percent_label(ylabel)
    if table.empty:
        return _no_data(title)
    dated = pd.api.types.is_datetime64_any_dtype(table[x])
    if dated:  # months: label them 2025-08, not midnights
        table = table.assign(**{x: table[x].dt.strftime("%Y-%m")})
    series = table.set_index(x)[list(columns)].set_axis(list(labels), axis=1)
    reason = degenerate(series, xlabel, percent)
    if reason:
        return NoChart(title, reason)
    note = None
    if not dated:
        adds = _summable(ylabel, percent)
        table, note = _top(table, x, columns[0], top, adds, columns, labels[0], _plural(xlabel))
    long = table.melt(id_vars=x, value_vars=list(columns), var_name="series")
    long["series"] = long["series"].map(dict(zip(columns, labels, strict=True)))
    fig, ax = plt.subplots(figsize=WIDE)
    sns.barplot(data=long, x=x, y="value", hue="series", ax=ax)
    if counts is not None:  # under each group, the n of its bars in legend order
        names = table[x].astype(str).tolist()
        ns = table[list(counts)].fillna(0).astype("int64").to_numpy()
        ax.set_xticks(
            range(len(names)),
            [
                f"{name}\nn = {' · '.join(f'{n:,}' for n in row)}"
                for name, row in zip(names, ns, strict=True)
            ],
        )
    _legend_outside(ax)
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    _finish(fig, ax, title, xlabel, ylabel, note)
    if not dated:
        _tilt_labels(ax)
    elif counts is None:  # with counts, every month keeps its label: its n must be read
        _thin_labels(ax)
    return fig


@_chart
def days_histogram(
    table: pd.DataFrame,
    days: str,
    count: str,
    title: str,
    xlabel: str,
    ylabel: str,
    bin_days: int = 7,
) -> Chart:
    """Counts per day in ``bin_days``-day bars, with the cumulative share on a second axis. Not
    drawn when every count falls in one bar."""
    if table.empty or table[count].sum() == 0:
        return _no_data(title)
    binned = table.assign(bin=table[days] // bin_days * bin_days).groupby("bin")[count].sum()
    binned = binned[binned > 0]
    if len(binned) == 1:
        low = int(binned.index[0])
        return NoChart(
            title,
            f"all {binned.iloc[0]:,} fall within days {low}–{low + bin_days - 1}; one bar only.",
        )
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


@_chart
def segment_sizes(
    summary: pd.DataFrame,
    title: str,
    label: str = "segment",
    axis_label: str = "segment",
    top: int = TOP_N,
) -> Chart:
    """Two panels per segment: its size (users) and its value (GMV to date per user); only the
    size when the summary has no value (a source without orders). In the summary's order; beyond
    ``top`` segments, the ``top`` largest and one "other (k more)" row (its users summed, its
    value per user from the summed GMV to date when the summary has it). Not drawn for one
    segment."""
    if summary.empty:
        return _no_data(title)
    valued = "gmv_to_date_per_user" in summary.columns
    reason = degenerate(summary.set_index(label)[["users"]], axis_label)
    if reason and reason.startswith("only one"):
        return NoChart(title, reason)
    sums = [c for c in ("users", "gmv_to_date") if c in summary.columns]
    shown, _ = _top(summary, label, "users", top, summable=True, sums=sums)
    if valued and "gmv_to_date" in shown.columns and _is_other(shown[label].iloc[-1]):
        other = shown.index[-1]
        users = shown.at[other, "users"]
        per_user = shown.at[other, "gmv_to_date"] / users if users else np.nan
        shown.at[other, "gmv_to_date_per_user"] = per_user
    width = 11 if valued else 6
    fig, axes = plt.subplots(
        1,
        2 if valued else 1,
        figsize=(width, 0.4 * len(shown) + 1.8),
        sharey=True,
        squeeze=False,
    )
    axes = axes[0]
    names = shown[label].tolist()
    _hbars(axes[0], names, shown["users"], sns.color_palette()[0])
    axes[0].set_xlabel("users")
    axes[0].xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    axes[0].set_ylabel(axis_label)
    if valued:
        positions = range(len(shown))
        values = shown["gmv_to_date_per_user"].fillna(0.0)
        axes[1].barh(positions, values, color=_colours(names, sns.color_palette()[1]))
        axes[1].set_xlabel("GMV to date per user [currency]")
    return _panels_title(fig, axes[0], title)


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


def _top_labels(
    table: pd.DataFrame, label: str, by: str, n: int = TOP_N
) -> tuple[pd.Series, str | None]:
    """Which points of a scatter get a label: all, or beyond ``n`` the ``n`` largest by ``by``
    (every point is still drawn), with the subtitle that says so."""
    if len(table) <= n:
        return pd.Series(True, index=table.index), None
    largest = table[by].rank(method="first", ascending=False) <= n
    return largest, f"labelled: the {n} largest by {by.replace('_', ' ')}, of {len(table):,}"


@_chart
def bcg_matrix(
    table: pd.DataFrame,
    label: str,
    exposure: str,
    exposure_split: float,
    conversion_split: float,
    title: str,
    exposure_label: str,
) -> Chart:
    """The new BCG matrix (from :func:`lib.products.with_quadrants`): exposure against conversion,
    bubble area by revenue, colour by gross margin (from 0), the splits drawn and the quadrants
    named; beyond :data:`TOP_N` items only the largest by revenue are labelled."""
    xlabel, ylabel = f"{exposure_label} [count, log scale]", "buyers / viewers [%]"
    rated = table[table["conversion_rate"].notna() & (table[exposure] > 0)]
    if rated.empty:
        return _no_data(title)
    if len(rated) == 1:
        row = rated.iloc[0]
        return NoChart(
            title,
            f"only one {label}, {row[label]}: {row[exposure]:,.0f} {exposure_label}, "
            f"{row['conversion_rate']:.1%} conversion; nothing to compare it with.",
        )
    fig, ax = plt.subplots(figsize=(9, 6))
    sizes = 2000 * rated["revenue"] / max(rated["revenue"].max(), 1e-9) + 20
    margins = rated["gross_margin"]
    points = ax.scatter(
        rated[exposure],
        rated["conversion_rate"],
        s=sizes,
        c=margins,
        cmap="viridis",
        vmin=min(0.0, margins.min()),  # from 0: a 5% margin is not the "bottom" of the scale
        vmax=max(0.0, margins.max()),
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
    labelled, note = _top_labels(rated, label, "revenue")
    _finish(fig, ax, title, xlabel, ylabel, note)
    named = rated[labelled]
    labels = _label_points(ax, named[exposure], named["conversion_rate"], named[label])
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


@_chart
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
    top: int = TOP_N,
) -> Chart:
    """Two horizontal bar panels per row of ``table`` (in its order): ``left`` and ``right``.
    Beyond ``top`` rows, the ``top`` largest by ``left``, plus an "other (k more)" row with the
    summed ``left`` (and no ``right``, which need not add up) when ``left_label``'s unit adds up,
    else a "top N of M" subtitle. Not drawn for one row."""
    if table.empty:
        return _no_data(title)
    if right_percent:
        right_label = _percent_label(right_label)
    if len(table) == 1:
        row = table.iloc[0]
        right_value = _value_text(row[right], right_percent) if pd.notna(row[right]) else "none"
        return NoChart(
            title,
            f"only one {axis_label}, {row[label]}: {left_label} {_value_text(row[left])}, "
            f"{right_label} {right_value}; nothing to compare it with.",
        )
    adds = _summable(left_label)
    shown, note = _top(table, label, left, top, adds, [left], left_label, _plural(axis_label))
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.35 * len(shown) + 1.8), sharey=True)
    names = shown[label].tolist()
    _hbars(axes[0], names, shown[left], sns.color_palette()[0])
    axes[0].set_xlabel(left_label)
    axes[0].xaxis.set_major_locator(MaxNLocator(5))
    _money(axes[0].xaxis)
    axes[0].set_ylabel(axis_label)
    positions = range(len(shown))
    axes[1].barh(positions, shown[right].fillna(0), color=sns.color_palette()[1])
    axes[1].set_xlabel(right_label)
    if right_percent:
        axes[1].xaxis.set_major_formatter(PercentFormatter(1.0))
    return _panels_title(fig, axes[0], title, note)


@_chart
def pareto_curve(pareto: pd.DataFrame, title: str, a_share: float = 0.8) -> Chart:
    """Cumulative revenue share against the share of SKUs (from :func:`lib.products.sku_pareto`),
    with the point where the A class ends marked."""
    xlabel, ylabel = "SKUs by revenue, largest first [% of SKUs]", "cumulative revenue [%]"
    if pareto.empty or pareto["revenue"].sum() <= 0:
        return _no_data(title)
    if (pareto["revenue"] > 0).sum() == 1:
        return NoChart(title, f"one SKU makes all the revenue, {pareto['sku_id'].iloc[0]}.")
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


@_chart
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
    top: int = TOP_N,
) -> Chart:
    """Horizontal bars of ``columns`` stacked per row of ``table`` (in its order). Beyond
    ``top`` rows, the ``top`` largest by their total, plus an "other (k more)" row when the
    values add up (money, counts), else (shares) a "top N of M" subtitle. Not drawn for one
    row (its parts are said in the sentence)."""
    if percent:
        value_label = _percent_label(value_label)
    if table.empty:
        return _no_data(title)
    parts = table.set_index(label)[list(columns)].set_axis(list(labels), axis=1)
    reason = degenerate(parts, axis_label, percent)
    if reason and reason.startswith(("no data", "only one")):
        return NoChart(title, reason)
    ranked = table.assign(_total=table[list(columns)].sum(axis=1))
    adds = _summable(value_label, percent)
    shown, note = _top(ranked, label, "_total", top, adds, columns, "total", _plural(axis_label))
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(shown) + 1.8))
    positions = range(len(shown))
    left = pd.Series(0.0, index=shown.index)
    palette = colours or sns.color_palette("deep", len(columns))
    for column, name, colour in zip(columns, labels, palette, strict=False):
        values = shown[column].fillna(0.0)
        ax.barh(positions, values, left=left, label=name, color=colour)
        left = left + values
    ax.set_yticks(list(positions), shown[label].astype(str))
    ax.invert_yaxis()
    if percent:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    else:
        _money(ax.xaxis)
    _legend_outside(ax)
    return _finish(fig, ax, title, value_label, axis_label, note)


def _unit_range(unit: str) -> tuple[float, float] | None:
    """The range a unit declares in brackets ("average rating [1–5]" → (1, 5)), if any."""
    found = re.search(r"\[\s*(-?\d+(?:\.\d+)?)\s*[–-]\s*(-?\d+(?:\.\d+)?)\s*\]", unit)
    return (float(found.group(1)), float(found.group(2))) if found else None


@_chart
def week_heatmap(
    table: pd.DataFrame,
    row: str,
    value: str,
    title: str,
    ylabel: str,
    unit: str,
    limits: tuple[float, float] | None = None,
    rank_by: str | None = None,
    top: int = TOP_N,
) -> Chart:
    """A ``row`` × week heatmap of ``value`` (long input with a ``week`` column of Mondays),
    each cell annotated. Colours on ``limits`` when the unit has a fixed range (by default the
    range ``unit`` states in brackets: "average rating [1–5]"), else from 0, or as the
    difference from the mean when the cells differ little (see :func:`_heatmap`). Beyond
    ``top`` rows, the ``top`` largest by the sum of ``rank_by`` (a column, e.g. reviews; by
    default ``value``) under a "top N of M" subtitle."""
    xlabel = "week starting (local Monday)"
    limits = limits or _unit_range(unit)
    if table.empty or table[value].isna().all():
        return _no_data(title)
    grid = table.pivot(index=row, columns="week", values=value)
    reason = degenerate(grid.stack().to_frame(unit), f"{row} and week")
    if reason:
        return NoChart(title, reason)
    rank = rank_by or value
    sizes = table.groupby(row, as_index=False)[rank].sum()
    kept, note = _top(sizes, row, rank, top, by=rank.replace("_", " "), what=_plural(ylabel))
    if note:
        grid = grid.loc[kept[row]]
    grid.columns = _date_labels(list(grid.columns))
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(grid) + 1.8))
    # green is high on each scale; red to green only where the low end is a real value (limits)
    cmap = "RdYlGn" if limits else "YlGn"
    flat = _heatmap(ax, grid, unit, cmap, limits, annotate=".1f", diverging="RdYlGn")
    return _finish(fig, ax, title, xlabel, ylabel, "; ".join(n for n in (note, flat) if n))


@_chart
def component_bars(totals: pd.DataFrame, title: str) -> Chart:
    """Monthly cost stacked by ROPG component (from :func:`lib.costs.component_totals`)."""
    xlabel, ylabel = "month (local; partial months hold only the period's days)", "cost [currency]"
    parts = totals[~totals["is_total"].astype(bool)]
    if parts.empty:
        return _no_data(title)
    wide = parts.pivot(index="month", columns="component", values="amount").fillna(0.0)
    order = [c for c in COMPONENT_COLOURS if c in wide.columns]
    wide = wide[order + sorted(set(wide.columns) - set(order))]
    months = [f"{m:%Y-%m}" for m in wide.index]
    reason = degenerate(wide.set_axis(months), "month")
    if reason and reason.startswith(("no data", "only one")):
        return NoChart(title, reason)
    fig, ax = plt.subplots(figsize=WIDE)
    positions = range(len(wide))
    bottom = pd.Series(0.0, index=wide.index)
    for component in wide.columns:
        colour = COMPONENT_COLOURS.get(component, _LEVEL)
        ax.bar(positions, wide[component], bottom=bottom, color=colour, label=component)
        bottom = bottom + wide[component]
    ax.set_xticks(list(positions), months)
    _money(ax.yaxis)
    handles, names = ax.get_legend_handles_labels()
    _legend_outside(ax, handles=handles[::-1], labels=names[::-1])  # top down, as stacked
    _finish(fig, ax, title, xlabel, ylabel)
    _thin_labels(ax)
    return fig


@_chart
def unit_economics_bars(economics: pd.DataFrame, title: str) -> Chart:
    """Revenue, each cost and the margins per paid order (from
    :func:`lib.costs.unit_economics`); costs drawn below zero."""
    xlabel, ylabel = "per paid order [currency]", "line"
    shown = economics[~economics["line"].isin(["variable_costs", "fixed_costs", "total_cost"])]
    if shown.empty or shown["per_order"].isna().all():
        return NoChart(title, "no paid order in this period.")
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


@_chart
def channel_roi_chart(table: pd.DataFrame, title: str, top: int = TOP_N) -> Chart:
    """ROAS and ROI per channel and billing model (from :func:`lib.costs.channel_roi`); beyond
    ``top`` rows, the ``top`` with the largest spend under a "top N of M" subtitle. Not drawn
    for one row."""
    if table.empty:
        return _no_data(title)
    labels = [f"{c} · {b}" for c, b in zip(table["channel"], table["billing_model"], strict=True)]
    table = table.assign(_label=labels)
    if len(table) == 1:
        row = table.iloc[0]
        return NoChart(
            title,
            f"only one channel, {row['_label']}: ROAS {_value_text(row['roas'])}, "
            f"ROI {_value_text(row['roi'])}; nothing to compare it with.",
        )
    table, note = _top(table, "_label", "spend", top, what="channels", by="spend")
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.4 * len(table) + 1.8), sharey=True)
    positions = range(len(table))
    axes[0].barh(positions, table["roas"].fillna(0.0), color=sns.color_palette()[0])
    axes[0].axvline(1, color="grey", linestyle=":", linewidth=1)
    axes[0].set_xlabel("ROAS = GMV / spend [ratio]")
    axes[0].set_yticks(list(positions), table["_label"])
    axes[0].set_ylabel("channel · billing model")
    axes[0].invert_yaxis()
    roi = table["roi"].fillna(0.0)
    axes[1].barh(positions, roi, color=[_RISE if v >= 0 else _FALL for v in roi])
    axes[1].axvline(0, color="black", linewidth=0.8)
    axes[1].set_xlabel("ROI after goods cost = (GMV − goods − spend) / spend [ratio]")
    return _panels_title(fig, axes[0], title, note)


@_chart
def cost_growth_bars(growth: pd.DataFrame, title: str, n: int = 10) -> Chart:
    """Growth of the ``n`` fastest-growing cost items (from :func:`lib.costs.cost_growth`), the
    flagged ones highlighted, fastest first; items without a previous cost have no growth and
    are left out."""
    xlabel, ylabel = "growth against the previous period [%]", "cost item"
    shown = growth[growth["growth"].notna()].head(n)
    shown = shown.sort_values("growth", ascending=False, kind="stable")
    names = [f"{c}: {i}" for c, i in zip(shown["component"], shown["item"], strict=True)]
    reason = degenerate(shown.set_axis(names)[["growth"]], "cost item", percent=True)
    if reason:
        return NoChart(title, reason)
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(shown) + 1.5))
    positions = range(len(shown))
    colours = [_ALERT if flagged else _LEVEL for flagged in shown["fastest_growth"]]
    ax.barh(positions, shown["growth"], color=colours)
    ax.set_yticks(list(positions), names)
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    return _finish(fig, ax, title, xlabel, ylabel)


# ---------------------------------------------------------------- supply chain (issue 8)


@_chart
def ranked_bars(
    table: pd.DataFrame,
    category: str,
    value: str,
    title: str,
    category_label: str,
    value_label: str,
    top: int | None = None,
    percent: bool = False,
    summable: bool | None = None,
) -> Chart:
    """Horizontal bars of ``value`` per ``category``, largest first; rows without a value are
    left out. Beyond ``top`` (by default :data:`TOP_N`) rows: the ``top`` largest and one "other
    (k more)" bar when the values add up (``summable``; by default when ``value_label``'s unit
    is a count or money: lost revenue, units short), else a "top N of M" subtitle (days of
    inventory). Not drawn for one bar or the same value everywhere."""
    if percent:
        value_label = _percent_label(value_label)
    shown = table.dropna(subset=[value]).sort_values([value, category], ascending=[False, True])
    reason = degenerate(shown.set_index(category)[[value]], category_label, percent)
    if reason:
        return NoChart(title, reason)
    adds = _summable(value_label, percent) if summable is None else summable
    what = _plural(category_label)
    shown, note = _top(shown, category, value, top or TOP_N, adds, [value], value_label, what)
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(shown) + 1.6))
    _hbars(ax, shown[category].tolist(), shown[value], sns.color_palette()[0])
    if percent:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    else:
        _money(ax.xaxis)
    return _finish(fig, ax, title, value_label, category_label, note)


@_chart
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
) -> Chart:
    """One labelled point per row (area by ``size`` when given), e.g. suppliers or carriers;
    labels that would overlap are moved apart (:func:`_label_points`); beyond :data:`TOP_N`
    points only the largest by ``size`` are labelled.

    ``reference`` names a row that sums up the others (``lib.supply.ALL``): it is drawn as dotted
    lines through its x and y, not as one more point (the table keeps it). That row is the one
    whose ``is_total`` is true when the table has that column (a point may bear the same label,
    e.g. a carrier called "all"), else the one whose ``label`` is ``reference``.
    """
    shown = table.dropna(subset=[x, y])
    if reference is None:
        is_total = pd.Series(False, index=shown.index)
    elif "is_total" in shown.columns:
        is_total = shown["is_total"].astype(bool)
    else:
        is_total = shown[label] == reference
    summary = shown[is_total].head(1)
    shown = shown[~is_total]
    if y_percent:
        ylabel = _percent_label(ylabel)
    if shown.empty:
        return _no_data(title)
    if len(shown) == 1:
        row = shown.iloc[0]
        return NoChart(
            title,
            f"only one {label}, {row[label]}: {xlabel} {_value_text(row[x])}, "
            f"{ylabel} {_value_text(row[y], y_percent)}; nothing to compare it with.",
        )
    fig, ax = plt.subplots(figsize=SQUARE)
    sizes = 60.0
    if size is not None:
        sizes = 40 + 600 * shown[size] / max(float(shown[size].max()), 1e-9)
    ax.scatter(shown[x], shown[y], s=sizes, alpha=0.6, color=sns.color_palette()[0])
    for _, row in summary.iterrows():
        line = {"color": _LEVEL, "linestyle": ":", "linewidth": 1.2}
        ax.axvline(row[x], label=f"{reference} {label}s", **line)
        ax.axhline(row[y], **line)
        _legend_outside(ax)
    if y_percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.margins(0.15)
    if y_percent:
        _from_zero(ax, shown[y].min())
    labelled, note = _top_labels(shown, label, size or y)
    _finish(fig, ax, title, xlabel, ylabel, note)
    named = shown[labelled]
    _label_points(ax, named[x], named[y], named[label], (6, 4), "left", "small")
    return fig


@_chart
def demand_forecast_panels(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    keys: Sequence[str],
    title: str,
    ylabel: str,
    history_days: int = 28,
) -> Chart:
    """Small multiples, one per key: the last ``history_days`` of actual daily units, the
    forecast (dashed) and its interval (shaded), from :func:`lib.supply.forecast_demand`."""
    keys = list(keys)
    if not keys or forecast.empty:
        return _no_data(title)
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
        _date_axis(ax, most=4)  # a narrow panel: fewer dates fit
        ax.tick_params(axis="x", labelsize="x-small")
    for ax in axes.ravel()[len(keys) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    for ax in axes[-1, :]:
        ax.set_xlabel("date (local)")
    _legend_outside(axes[0][-1])  # right of the top-right panel, off every panel's data
    fig.suptitle(title)
    return _layout(fig)


@_chart
def ship_hours_chart(daily: pd.DataFrame, sla_hours: float, title: str) -> Chart:
    """Median and 90th percentile of payment-to-shipment hours per payment day, with the SLA."""
    xlabel, ylabel = "payment day (local)", "hours from payment to shipment [h]"
    if daily.empty or daily["orders"].sum() == 0:
        return NoChart(title, "no paid order was shipped in this period.")
    hours = daily.set_index("date")[["ship_hours_p50", "ship_hours_p90"]]
    reason = degenerate(hours.set_axis(["median", "90th percentile"], axis=1), "payment day")
    if reason:
        return NoChart(title, reason)
    fig, ax = plt.subplots(figsize=WIDE)
    ax.plot(daily["date"], daily["ship_hours_p50"], marker="o", markersize=3, label="median")
    ax.plot(
        daily["date"], daily["ship_hours_p90"], marker="o", markersize=3, label="90th percentile"
    )
    ax.axhline(sla_hours, color=_ALERT, linestyle=":", linewidth=1.2, label=f"SLA {sla_hours:g} h")
    ax.set_ylim(0, None)
    _legend_outside(ax)
    _date_axis(ax)
    return _finish(fig, ax, title, xlabel, ylabel)


@_chart
def inventory_status_chart(summary: pd.DataFrame, title: str) -> Chart:
    """SKUs and stock value per inventory status (from :func:`lib.supply.status_summary`). Not
    drawn when every SKU has the same status."""
    if summary["skus"].sum() == 0:
        return NoChart(title, "no SKU has an inventory row in this period.")
    held = summary[summary["skus"] > 0]
    if len(held) == 1:
        row = held.iloc[0]
        return NoChart(
            title,
            f"every SKU is {row['status']}: {row['skus']:,} SKUs, stock value "
            f"{_value_text(row['inventory_value'])}.",
        )
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
    return _panels_title(fig, axes[0], title)


@_chart
def monitored_series(days: pd.DataFrame, title: str, ylabel: str, percent: bool = False) -> Chart:
    """One monitored series (:func:`lib.monitoring.series_days`: ``date, value, expected,
    lower, upper, flagged, incident_id``): its value per day, the expected value and the band
    the test calls ordinary, flagged days marked and each incident's days shaded. A rate's axis
    is a percentage from 0. Not drawn for no day, one day or one value on every day."""
    values = days.set_index("date")[["value"]].dropna()
    reason = degenerate(values, "day", percent)
    if reason:
        return NoChart(title, reason)
    fig, ax = plt.subplots(figsize=WIDE)
    ax.fill_between(
        days["date"], days["lower"], days["upper"], color=_LEVEL, alpha=0.3, label="expected band"
    )
    ax.plot(days["date"], days["expected"], color=_LEVEL, linestyle="--", label="expected")
    ax.plot(days["date"], days["value"], marker="o", markersize=3, label="observed")
    # an incident covers whole days: shade from half a day before its first to after its last
    half = pd.Timedelta(hours=12)
    inside = days[days["incident_id"] > 0]
    for k, (_, span) in enumerate(inside.groupby("incident_id", sort=True)["date"]):
        ax.axvspan(
            span.min() - half,
            span.max() + half,
            color=_ALERT,
            alpha=0.12,
            label="incident" if k == 0 else None,
        )
    flagged = days[days["flagged"].astype(bool)]
    ax.scatter(flagged["date"], flagged["value"], color=_ALERT, s=30, zorder=3, label="flagged day")
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ylabel = _percent_label(ylabel)
    _from_zero(ax, float(np.nanmin(days[["value", "lower"]].to_numpy(dtype="float64"))))
    _legend_outside(ax)
    _date_axis(ax)
    return _finish(fig, ax, title, "date (local)", ylabel)


# ------------------------------------------------------------------ after-sales (issue 21)


def _pareto_panel(
    ax: plt.Axes, table: pd.DataFrame, value: str, cumulative: str, ylabel: str, share_label: str
) -> None:
    """Bars of ``value`` per reason, largest first, and their cumulative share on a second axis."""
    ranked = table.sort_values([value, "reason"], ascending=[False, True], kind="stable")
    positions = list(range(len(ranked)))
    ax.bar(positions, ranked[value].to_numpy(dtype="float64"), color=sns.color_palette()[0])
    ax.set_xticks(positions, ranked["reason"].astype(str).tolist())
    ax.set_xlabel("return reason")
    ax.set_ylabel(ylabel)
    share = ax.twinx()
    share.plot(positions, ranked[cumulative].to_numpy(dtype="float64"), color="black", marker="o")
    share.set_ylim(0, 1.02)
    share.yaxis.set_major_formatter(PercentFormatter(1.0))
    share.set_ylabel(share_label)
    share.grid(False)


@_chart
def return_reasons_chart(reasons: pd.DataFrame, title: str, top: int = TOP_N) -> Chart:
    """Two Pareto panels of the return reasons (:func:`lib.supply.return_reasons`): requests
    and refunded amount per reason, each ranked by its own measure, with its cumulative share.
    Beyond ``top`` reasons, the ``top`` with the most requests under a "top N of M" subtitle. Not
    drawn for no reason or a single one."""
    if reasons.empty or reasons["returns"].sum() == 0:
        return _no_data(title)
    if len(reasons) == 1:
        row = reasons.iloc[0]
        return NoChart(
            title, f"every request gives one reason, {row['reason']} ({row['returns']:,})."
        )
    shown, note = _top(reasons, "reason", "returns", top, by="requests", what="reasons")
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    _pareto_panel(
        axes[0],
        shown,
        "returns",
        "cumulative_share",
        "return requests [count]",
        "cumulative share of requests [%]",
    )
    _pareto_panel(
        axes[1],
        shown,
        "refund_amount",
        "cumulative_amount_share",
        "refunded [currency]",
        "cumulative share of refunds [%]",
    )
    _money(axes[1].yaxis)
    fig.suptitle(title)
    _subtitle(axes[0], note)
    _layout(fig)
    for ax in axes:
        _tilt_labels(ax)
    return fig


@_chart
def refund_speed_chart(speed: pd.DataFrame, sla_hours: float, title: str) -> Chart:
    """Median and 90th percentile of the hours from request to refund per week of the request
    (:func:`lib.supply.refund_speed`; its total row left out), with the refund SLA. Not drawn
    when fewer than two weeks had a refund."""
    weeks = speed[~speed["is_total"].astype(bool)].set_index("week")
    hours = weeks[["hours_p50", "hours_p90"]].set_axis(["median", "90th percentile"], axis=1)
    reason = degenerate(hours.dropna(how="all"), "week")
    if reason:
        return NoChart(title, reason)
    fig, ax = plt.subplots(figsize=WIDE)
    ax.plot(weeks.index, weeks["hours_p50"], marker="o", label="median")
    ax.plot(weeks.index, weeks["hours_p90"], marker="o", label="90th percentile")
    ax.axhline(sla_hours, color=_ALERT, linestyle=":", linewidth=1.2, label=f"SLA {sla_hours:g} h")
    ax.set_ylim(0, None)
    _legend_outside(ax)
    _date_axis(ax)
    return _finish(
        fig,
        ax,
        title,
        "week of the request (local, from Monday)",
        "hours from request to refund [h]",
    )


@_chart
def return_rate_chart(table: pd.DataFrame, breakdown: str, title: str) -> Chart:
    """The return rate with its 95 % interval per group of one ``breakdown`` of
    :func:`lib.supply.returns_by_carrier` (``carrier`` or ``delivery``), in the table's order,
    with the pooled rate of the breakdown's orders as a dotted line. Not drawn for no group, one
    group or the same rate everywhere."""
    rows = table[(table["breakdown"] == breakdown) & (table["orders"] > 0)]
    reason = degenerate(rows.set_index("group")[["return_rate"]], breakdown, percent=True)
    if reason:
        return NoChart(title, reason)
    pooled = rows["returned_orders"].sum() / rows["orders"].sum()
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.8))
    positions = list(range(len(rows)))
    errors = [rows["return_rate"] - rows["rate_low"], rows["rate_high"] - rows["return_rate"]]
    ax.errorbar(rows["return_rate"], positions, xerr=errors, fmt="o", capsize=3)
    ax.axvline(pooled, color=_LEVEL, linestyle=":", linewidth=1.2, label=f"all: {pooled:.1%}")
    labels = [f"{g} (n = {n:,})" for g, n in zip(rows["group"], rows["orders"], strict=True)]
    ax.set_yticks(positions, labels)
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    _from_zero(ax, float(rows["rate_low"].min()), "x")
    _legend_outside(ax)
    axis = {"delivery": "delivery (days from payment to door)"}.get(breakdown, breakdown)
    return _finish(fig, ax, title, "orders returned within the window [%]", axis)


# ------------------------------------------------------------------ journeys (issue 18)


@_chart
def driver_odds_chart(table: pd.DataFrame, title: str) -> Chart:
    """A forest plot of conversion drivers (from :func:`lib.drivers.conversion_drivers` or
    :func:`lib.drivers.top_drivers`): each candidate's odds ratio with its 95 % interval on a
    log axis, a line at 1 (no association), labelled ``name: value`` and coloured by direction,
    in the table's order (first on top). Beyond :data:`TOP_N` rows, the first :data:`TOP_N` (the
    table's order: lowest q-value first) under a "top N of M" subtitle. Not drawn for no
    candidate."""
    if table.empty:
        return NoChart(title, "no candidate had enough entrants to be tested.")
    note = None
    if len(table) > TOP_N:
        note = f"top {TOP_N} of {len(table):,} candidates by q-value"
        table = table.head(TOP_N)
    labels = [f"{n}: {v}" for n, v in zip(table["name"], table["value"], strict=True)]
    colours = {"success": _RISE, "failure": _FALL, "none": _LEVEL}
    names = {"success": "converting", "failure": "not converting", "none": "neither"}
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(table) + 1.8))
    positions = np.arange(len(table))
    for direction in ("success", "failure", "none"):
        rows = (table["direction"] == direction).to_numpy()
        if not rows.any():
            continue
        odds = table["odds_ratio"].to_numpy(dtype="float64")[rows]
        low = table["ci_low"].to_numpy(dtype="float64")[rows]
        high = table["ci_high"].to_numpy(dtype="float64")[rows]
        ax.errorbar(
            odds,
            positions[rows],
            xerr=[odds - low, high - odds],
            fmt="o",
            capsize=3,
            color=colours[direction],
            label=names[direction],
        )
    ax.axvline(1, color="grey", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_yticks(list(positions), labels)
    ax.invert_yaxis()
    _legend_outside(ax, "goes with")
    return _finish(
        fig,
        ax,
        title,
        "odds ratio, converters against the other entrants [ratio, log scale]",
        "candidate (name: value)",
        note,
    )


@_chart
def time_to_convert_chart(
    histogram: pd.DataFrame, title: str, median_hours: float | None = None
) -> Chart:
    """The bars of :func:`lib.funnel.time_to_convert` (converters per equal-width range of hours
    from the first step to the last), with the median as a dotted line when given. Not drawn
    for no converter, or when every converter falls in one bar."""
    if histogram.empty or not histogram["users"].sum():
        return _no_data(title)
    filled = histogram[histogram["users"] > 0]
    if len(filled) == 1:
        row = filled.iloc[0]
        return NoChart(
            title,
            f"all {int(row['users']):,} converters took {row['bin_start_hours']:,.1f}–"
            f"{row['bin_end_hours']:,.1f} h; one bar only.",
        )
    fig, ax = plt.subplots(figsize=WIDE)
    widths = histogram["bin_end_hours"] - histogram["bin_start_hours"]
    ax.bar(
        histogram["bin_start_hours"],
        histogram["users"],
        width=widths * 0.95,  # a gap between neighbours so equal bars read as separate ranges
        align="edge",
    )
    if median_hours is not None and np.isfinite(median_hours):
        # minutes below an hour, as the notebook's sentence says it: "0.1 h" would read as zero
        median = float(median_hours)
        shown = f"{median * 60:.0f} min" if median < 1 else f"{median:,.1f} h"
        ax.axvline(median, color=_ALERT, linestyle=":", linewidth=1.2, label=f"median {shown}")
        _legend_outside(ax)
    ax.set_xlim(0, float(histogram["bin_end_hours"].iloc[-1]))
    return _finish(
        fig, ax, title, "hours from the first step to the last [h]", "converters [users]"
    )


@_chart
def funnel_trend_chart(trends: pd.DataFrame, interval: str, title: str) -> Chart:
    """``conversion_rate`` of :func:`lib.funnel.funnel_trends` per entry day or week, from 0.
    Not drawn for no entrants, one day or week with entrants, or one rate throughout."""
    what = "day" if interval == "day" else "week"
    values = trends.set_index("period_start")[["conversion_rate"]].dropna()
    reason = degenerate(values, what, percent=True)
    if reason:
        return NoChart(title, reason)
    fig, ax = plt.subplots(figsize=WIDE)
    ax.plot(trends["period_start"], trends["conversion_rate"], marker="o", markersize=3)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    _from_zero(ax, float(values["conversion_rate"].min()))
    _date_axis(ax)
    xlabel = "entry day (local)" if interval == "day" else "entry week (local, from Monday)"
    return _finish(fig, ax, title, xlabel, "entrants who reached the last step [%]")


@_chart
def stickiness_chart(table: pd.DataFrame, title: str) -> Chart:
    """:func:`lib.traffic.stickiness` as bars of ``share`` per number of active days, with
    ``cumulative_share`` (at least that many days) as a line on the same percent axis. Not drawn
    for no user-interval, or when every one had the same number of days."""
    if table.empty or not table["users"].sum():
        return _no_data(title)
    interval = str(table["interval"].iloc[0])
    noun = {"week": "week", "month": "30-day block"}.get(interval, interval)
    user_noun = {"week": "user-week", "month": "user-block"}.get(interval, f"user-{interval}")
    filled = table[table["users"] > 0]
    if len(filled) == 1:
        days = int(filled["active_days"].iloc[0])
        return NoChart(title, f"every {user_noun} had {days} active day{'s' if days != 1 else ''}.")
    fig, ax = plt.subplots(figsize=WIDE)
    ax.bar(table["active_days"], table["share"], width=0.8, label="exactly that many days")
    ax.plot(
        table["active_days"],
        table["cumulative_share"],
        color=_LEVEL,
        marker="o",
        markersize=4,
        label="at least that many days",
    )
    if len(table) <= 10:  # a week: every day count named; a 30-day block: round ones
        ax.set_xticks(table["active_days"].tolist())
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    _legend_outside(ax)
    return _finish(
        fig, ax, title, f"active days in the {noun} [days]", f"share of {user_noun}s [%]"
    )


# ------------------------------------------------------------------ user paths (lib/paths.py)

# the flow chart's boxes per position beyond which the smallest events share one "other" box
_FLOW_BOXES = 8
_ENDED = "ENDED"  # lib.paths.ENDED: plots imports no metric module


def _flow_nodes(transitions: pd.DataFrame, boxes: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(flows, nodes)`` of :func:`path_flow_chart`: the transitions with each event outside a
    column's ``boxes`` largest named "other (k more)", summed, and the boxes per position
    (``position, event, users``), the largest first and the ends (ENDED) last."""
    first = transitions[transitions["step"] == 1]
    columns = [first.groupby("from_event")["users"].sum().rename_axis("event").reset_index()]
    columns[0]["position"] = 0
    for step, rows in transitions.groupby("step"):
        column = rows.groupby("to_event")["users"].sum().rename_axis("event").reset_index()
        column["position"] = int(step)
        columns.append(column)
    nodes = pd.concat(columns, ignore_index=True)
    renames: dict[tuple[int, str], str] = {}
    for position, column in nodes.groupby("position"):
        kept = column[column["event"] != _ENDED].sort_values(
            ["users", "event"], ascending=[False, True]
        )
        rest = kept.iloc[boxes:]
        for event in rest["event"]:
            renames[(int(position), event)] = _OTHER.format(len(rest))

    def named(position: int, event: str) -> str:
        return renames.get((position, event), event)

    flows = transitions.assign(
        from_event=[
            named(s - 1, e)
            for s, e in zip(transitions["step"], transitions["from_event"], strict=True)
        ],
        to_event=[
            named(s, e) for s, e in zip(transitions["step"], transitions["to_event"], strict=True)
        ],
    )
    flows = flows.groupby(["step", "from_event", "to_event"], as_index=False)["users"].sum()
    nodes = nodes.assign(
        event=[named(p, e) for p, e in zip(nodes["position"], nodes["event"], strict=True)]
    )
    nodes = nodes.groupby(["position", "event"], as_index=False)["users"].sum()
    nodes["_last"] = nodes["event"].map(lambda e: 2 if e == _ENDED else int(_is_other(e)))
    nodes = nodes.sort_values(
        ["position", "_last", "users", "event"], ascending=[True, True, False, True]
    )
    return flows, nodes.drop(columns="_last").reset_index(drop=True)


@_chart
def path_flow_chart(transitions: pd.DataFrame, title: str, top: int = TOP_N) -> Chart:
    """The paths of :func:`lib.paths.path_transitions` as a flow (Sankey) figure: one column per
    position (0 = the path's start), one box per event, its height proportional to the users
    whose path has it there (grey: the paths that end there), and a band for each of the ``top``
    strongest transitions, its width proportional to their users. Beyond :data:`_FLOW_BOXES`
    events in a column the smallest share an "other" box. Not drawn without transitions."""
    from matplotlib.patches import PathPatch, Rectangle
    from matplotlib.path import Path as MplPath

    if transitions.empty or not transitions["users"].sum():
        return _no_data(title)
    flows, nodes = _flow_nodes(transitions, _FLOW_BOXES)
    total = float(nodes.loc[nodes["position"] == 0, "users"].sum())
    gap, width = 0.02, 0.12
    most = int(nodes.groupby("position").size().max())
    scale = (1 - gap * (most - 1)) / total  # the height of one user
    boxes: dict[tuple[int, str], list[float]] = {}  # (position, event) → [top, out, in]
    fig, ax = plt.subplots(figsize=(max(8.0, 2.0 * (nodes["position"].max() + 1)), 6))
    palette = sns.color_palette("tab10")
    colours: dict[str, object] = {}
    for position, column in nodes.groupby("position"):
        y = 1.0
        for row in column.itertuples():
            height = row.users * scale
            event = str(row.event)
            if event == _ENDED or _is_other(event):
                colour = _OTHER_COLOUR
            else:
                colour = colours.setdefault(event, palette[len(colours) % len(palette)])
            ax.add_patch(Rectangle((position - width / 2, y - height), width, height, color=colour))
            if height > 0.025:
                label = "end" if event == _ENDED else event
                ax.text(
                    position + width / 2 + 0.02,
                    y - height / 2,
                    f"{label} ({row.users:,})",
                    va="center",
                    fontsize="x-small",
                )
            boxes[(int(position), event)] = [y, y, y]
            y -= height + gap
    shown = flows.sort_values(
        ["users", "step", "from_event", "to_event"], ascending=[False, True, True, True]
    ).head(top)
    # bands stacked in each box in the order of the boxes they come from or go to
    order = {key: rank for rank, key in enumerate(boxes)}
    shown = shown.assign(
        _to=[order[(s, t)] for s, t in zip(shown["step"], shown["to_event"], strict=True)],
        _from=[order[(s - 1, f)] for s, f in zip(shown["step"], shown["from_event"], strict=True)],
    )
    for row in shown.sort_values(["step", "_from", "_to"]).itertuples():
        source, target = boxes[(row.step - 1, row.from_event)], boxes[(row.step, row.to_event)]
        height = row.users * scale
        x0, x1 = row.step - 1 + width / 2, row.step - width / 2
        y0, y1 = source[1], target[2]
        source[1] -= height
        target[2] -= height
        mid = (x0 + x1) / 2
        vertices = [
            (x0, y0),
            (mid, y0),
            (mid, y1),
            (x1, y1),
            (x1, y1 - height),
            (mid, y1 - height),
            (mid, y0 - height),
            (x0, y0 - height),
            (x0, y0),
        ]
        codes = [MplPath.MOVETO] + [MplPath.CURVE4] * 3 + [MplPath.LINETO] + [MplPath.CURVE4] * 3
        codes += [MplPath.CLOSEPOLY]
        colour = colours.get(row.from_event, _OTHER_COLOUR)
        ax.add_patch(PathPatch(MplPath(vertices, codes), facecolor=colour, alpha=0.35, lw=0))
    last = int(nodes["position"].max())
    ax.set_xlim(-0.5, last + 0.9)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xticks(range(last + 1), ["start", *(str(p) for p in range(1, last + 1))])
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    left = len(flows) - len(shown)
    note = f"the {len(shown)} strongest of {len(flows):,} transitions drawn" if left > 0 else None
    return _finish(
        fig,
        ax,
        title,
        "position on the path (events after the start)",
        f"users (box and band heights; {int(total):,} paths)",
        note,
    )


@_chart
def step_matrix_heatmap(matrix: pd.DataFrame, title: str) -> Chart:
    """:func:`lib.paths.step_matrix` as an event × position heatmap of the share of paths with
    that event there [%] (ENDED, the paths already ended, last), each cell annotated; beyond
    :data:`TOP_N` events, the most frequent under a "top N of M" subtitle. Not drawn without
    paths."""
    if matrix.empty or not matrix["users"].sum():
        return _no_data(title)
    grid = matrix.pivot(index="event", columns="position", values="share").fillna(0.0)
    totals = matrix.groupby("event", as_index=False)["users"].sum()
    events = totals[totals["event"] != _ENDED]
    kept, note = _top(events, "event", "users", TOP_N, by="users", what="events")
    ranked = kept.sort_values(["users", "event"], ascending=[False, True])["event"].tolist()
    if _ENDED in grid.index:
        ranked.append(_ENDED)
    grid = grid.loc[ranked]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.0 * grid.shape[1] + 3), 0.35 * len(grid) + 1.8))
    sns.heatmap(
        grid,
        cmap="YlGnBu",
        vmin=0,
        vmax=1,
        annot=True,
        fmt=".0%",
        annot_kws={"fontsize": "x-small"},
        ax=ax,
        cbar_kws={"label": "share of paths [%]", "format": PercentFormatter(1.0)},
    )
    return _finish(fig, ax, title, "position on the path (events after the start)", "event", note)


@_chart
def cross_sell_heatmap(matrix: pd.DataFrame, title: str) -> Chart:
    """:func:`lib.baskets.cross_sell_matrix` as a first category × next category heatmap of the
    share of the first category's first-time buyers who bought the next one [%], each cell
    annotated and each row labelled with its first-time buyers (n). Colours from 0 to the
    largest share. Beyond :data:`TOP_N` first (or next) categories, those with the most buyers
    under a "top N of M" subtitle. Not drawn when no first-time buyer bought again."""
    if matrix.empty or not matrix["buyers"].sum():
        return _no_data(title)
    firsts = matrix.assign(first_buyers=(matrix["buyers"] / matrix["share"]).round())
    firsts = firsts.groupby("first_category", as_index=False)["first_buyers"].max()
    rows, row_note = _top(firsts, "first_category", "first_buyers", TOP_N, what="first categories")
    rows = rows.sort_values(["first_buyers", "first_category"], ascending=[False, True])
    nexts = matrix.groupby("next_category", as_index=False)["buyers"].sum()
    columns, column_note = _top(nexts, "next_category", "buyers", TOP_N, what="next categories")
    columns = columns.sort_values(["buyers", "next_category"], ascending=[False, True])
    grid = matrix.pivot(index="first_category", columns="next_category", values="share")
    grid = grid.reindex(index=rows["first_category"], columns=columns["next_category"]).fillna(0.0)
    labels = zip(rows["first_category"], rows["first_buyers"], strict=True)
    grid.index = [f"{category} ({int(n):,})" for category, n in labels]
    size = (max(6.0, 0.7 * grid.shape[1] + 3), 0.35 * len(grid) + 1.8)
    fig, ax = plt.subplots(figsize=size)
    sns.heatmap(
        grid,
        cmap="YlGnBu",
        vmin=0,
        vmax=float(grid.to_numpy().max()),
        annot=True,
        fmt=".1%",
        annot_kws={"fontsize": "x-small"},
        xticklabels=True,
        yticklabels=True,
        ax=ax,
        cbar_kws={
            "label": "share of the first category's buyers [%]",
            "format": PercentFormatter(1.0),
        },
    )
    note = "; ".join(n for n in (row_note, column_note) if n) or None
    return _finish(
        fig, ax, title, "category bought next", "first order's category (first-time buyers)", note
    )


@_chart
def segment_portrait_chart(table: pd.DataFrame, title: str) -> Chart:
    """:func:`lib.portrait.segment_portraits` as bars side by side per segment: its share of the
    users, of the GMV and of the expected value [%] (the last left out when no segment has one,
    a source without CLV), in the table's order (GMV descending), each segment's users (n) in its
    label. Beyond :data:`TOP_N` segments, those with the largest user share. Not drawn without
    users, for one segment, or shares identical for every segment."""
    if table.empty or not table["users"].sum():
        return _no_data(title)
    series = [("share", "users"), ("gmv_share", "GMV"), ("expected_value_share", "expected value")]
    shown = [(column, label) for column, label in series if table[column].notna().any()]
    columns, labels = [c for c, _ in shown], [label for _, label in shown]
    named = [
        f"{name} (n = {int(n):,})" for name, n in zip(table["segment"], table["users"], strict=True)
    ]
    return grouped_bars(
        table.assign(segment=named, **{c: table[c].fillna(0.0) for c in columns}),
        "segment",
        columns,
        labels,
        title,
        "segment",
        "share of the total [%]",
        percent=True,
    )


@_chart
def effect_intervals(
    table: pd.DataFrame,
    label: str,
    estimate: str,
    low: str,
    high: str,
    title: str,
    xlabel: str,
    percent: bool = False,
    reference: float = 0.0,
    ylabel: str | None = None,
) -> Chart:
    """Estimates with their 95 % intervals (a forest plot), one row per ``label`` in the table's
    order (first on top), around a dotted line at ``reference`` (no effect: 0 for a difference
    or a lift, 1 for a ratio). A row is coloured by where its interval lies: above the line,
    below it, or across it (not told apart from no effect). Rows without an estimate are left
    out. Not drawn for no row with an estimate."""
    shown = table[table[estimate].notna()]
    if shown.empty:
        return NoChart(title, "no estimate to show.")
    note = None
    if len(shown) > TOP_N:
        note = f"the first {TOP_N} of {len(shown):,}"
        shown = shown.head(TOP_N)
    values = shown[estimate].to_numpy(dtype="float64")
    lows = shown[low].to_numpy(dtype="float64")
    highs = shown[high].to_numpy(dtype="float64")
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(shown) + 1.8))
    positions = np.arange(len(shown))
    sides = {
        "above": (lows > reference, _RISE),
        "below": (highs < reference, _FALL),
        "across": (~((lows > reference) | (highs < reference)), _LEVEL),
    }
    names = {
        "above": f"interval above {reference:g}",
        "below": f"interval below {reference:g}",
        "across": f"interval includes {reference:g}",
    }
    for side, (rows, colour) in sides.items():
        if not rows.any():
            continue
        with np.errstate(invalid="ignore"):
            errors = [
                np.nan_to_num(values[rows] - lows[rows]),
                np.nan_to_num(highs[rows] - values[rows]),
            ]
        ax.errorbar(
            values[rows],
            positions[rows],
            xerr=errors,
            fmt="o",
            capsize=3,
            color=colour,
            label=names[side],
        )
    ax.axvline(reference, color="grey", linestyle=":", linewidth=1)
    ax.set_yticks(list(positions), shown[label].astype(str))
    ax.invert_yaxis()
    if percent:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        xlabel = _percent_label(xlabel)
    _legend_outside(ax, "95 % interval")
    return _finish(fig, ax, title, xlabel, ylabel or label.replace("_", " "), note)
