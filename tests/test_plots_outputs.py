"""Charts carry a title and labelled axes; outputs land where the runner expects them."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.text import Text

from lib import outputs, plots

DAILY = pd.DataFrame(
    {
        "date": pd.to_datetime(["2025-03-01", "2025-03-02"]),
        "uv": [3, 4],
        "pv": [5, 9],
        "rate": [0.1, 0.2],
    }
)


def _labels(fig) -> tuple[str, str, str]:
    ax = fig.axes[0]
    return (ax.get_title() or fig._suptitle.get_text(), ax.get_xlabel(), ax.get_ylabel())


@pytest.mark.parametrize(
    "make",
    [
        lambda: plots.daily_lines(DAILY, ["uv", "pv"], "UV and PV", "count", labels=["UV", "PV"]),
        lambda: plots.daily_lines(DAILY, ["rate"], "Rate", "share", percent=True),
        lambda: plots.stacked_area(
            pd.DataFrame(
                {
                    "date": DAILY["date"].repeat(2).to_numpy(),
                    "channel": ["a", "b"] * 2,
                    "users": [1, 2, 3, 4],
                }
            ),
            "channel",
            "users",
            "By channel",
            "users",
        ),
        lambda: plots.bars(
            pd.DataFrame({"k": ["x", "y"], "v": [1, 2]}), "k", "v", "Bars", "key", "value [units]"
        ),
        lambda: plots.hour_weekday_heatmap(
            pd.DataFrame(
                {
                    "weekday": [0, 1],
                    "weekday_name": ["Mon", "Tue"],
                    "hour": [0, 0],
                    "avg_events": [1.0, 2.0],
                }
            ),
            "avg_events",
            "Heat",
            "events per day",
        ),
        lambda: plots.rate_intervals(
            pd.DataFrame({"slot": ["a"], "r": [0.5], "lo": [0.4], "hi": [0.6]}),
            "slot",
            [("r", "lo", "hi", "rate [%]")],
            "Intervals",
        ),
        lambda: plots.indicator_changes(
            pd.DataFrame({"indicator": ["GMV", "UV"], "change": [0.1, -0.2]}), "Changes"
        ),
    ],
)
def test_every_chart_has_title_and_axis_labels(make):
    fig = make()
    title, xlabel, ylabel = _labels(fig)
    assert title
    assert xlabel or ylabel
    plt.close(fig)


def test_segment_sizes_draws_the_value_panel_only_when_there_is_a_value():
    sizes = pd.DataFrame({"segment": ["a", "b"], "users": [3, 1]})
    fig = plots.segment_sizes(sizes, "Segments")
    assert len(fig.axes) == 1 and fig.axes[0].get_xlabel() == "users"
    plt.close(fig)
    valued = sizes.assign(gmv_to_date_per_user=[10.0, 0.0])
    fig = plots.segment_sizes(valued, "Segments")
    assert [ax.get_xlabel() for ax in fig.axes] == ["users", "GMV to date per user [currency]"]
    plt.close(fig)


def test_outputs_write_only_with_an_output_dir(tmp_path):
    fig = plots.daily_lines(DAILY, ["uv"], "UV", "users")
    assert outputs.save_table(DAILY, "daily", None) is None
    outputs.save_figure(fig, "uv", None)
    assert not any(tmp_path.iterdir())

    outputs.save_table(DAILY, "daily", tmp_path)
    outputs.save_figure(fig, "uv", tmp_path)
    written = pd.read_csv(tmp_path / "tables" / "daily.csv")
    assert written["date"].tolist() == ["2025-03-01", "2025-03-02"]
    assert (tmp_path / "figures" / "uv.png").read_bytes()[:4] == b"\x89PNG"
    plt.close(fig)


def test_bars_label_the_value_axis_with_its_unit():
    fig = plots.bars(pd.DataFrame({"k": ["x"], "v": [1]}), "k", "v", "Bars", "key", "value [units]")
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("value [units]", "key")
    plt.close(fig)


# ------------------------------------------------------------------ readability of the charts


def _boxes(fig, ax) -> dict[str, object]:
    """Where each text of ``ax`` is drawn: the text alone, without an annotation's leader line."""
    fig.canvas.draw()  # an annotation's text box is only where it is drawn after a draw
    renderer = fig.canvas.get_renderer()
    return {text.get_text(): Text.get_window_extent(text, renderer) for text in ax.texts}


def _scatter_table() -> pd.DataFrame:
    # three long labels on almost the same spot: drawn where they fall, they would overlap
    return pd.DataFrame(
        {
            "name": ["alpha supplier", "beta supplier", "gamma supplier", "delta", "all"],
            "x": [1.0, 1.05, 1.1, 10.0, 3.0],
            "y": [0.50, 0.50, 0.51, 0.95, 0.60],
            "n": [1, 2, 3, 4, 10],
        }
    )


def test_rate_axes_start_at_zero_and_name_the_percent_unit():
    fig = plots.daily_lines(DAILY, ["rate"], "Rate", "share", percent=True)
    ax = fig.axes[0]
    assert ax.get_ylim()[0] == 0 and ax.get_ylabel() == "share [%]"
    plt.close(fig)
    falling = DAILY.assign(rate=[-0.1, 0.2])  # a negative rate stays visible below 0
    fig = plots.daily_lines(falling, ["rate"], "Rate", "change [%]", percent=True)
    assert fig.axes[0].get_ylim()[0] < -0.1 and fig.axes[0].get_ylabel() == "change [%]"
    plt.close(fig)
    slots = pd.DataFrame(
        {"slot": ["a", "b"], "r": [0.5, 0.6], "lo": [0.45, 0.55], "hi": [0.55, 0.65]}
    )
    fig = plots.rate_intervals(slots, "slot", [("r", "lo", "hi", "clickers who bought")], "CI")
    assert fig.axes[0].get_xlim()[0] == 0 and fig.axes[0].get_xlabel().endswith("[%]")
    plt.close(fig)
    fig = plots.labelled_scatter(
        _scatter_table(), "x", "y", "name", "S", "x [days]", "on time [% of orders]", y_percent=True
    )
    ax = fig.axes[0]
    assert ax.get_ylim()[0] == 0 and ax.get_ylabel() == "on time [% of orders]"
    plt.close(fig)


def test_cost_ratio_chart_draws_the_break_even_line_at_100_percent():
    trend = pd.DataFrame({"date": DAILY["date"], "cost_ratio": [0.9, 1.2]})
    fig = plots.cost_ratio_chart(trend, "Cost ratio")
    ax = fig.axes[0]
    lines = [line for line in ax.get_lines() if list(line.get_ydata()) == [1.0, 1.0]]
    assert len(lines) == 1 and "break-even" in lines[0].get_label()
    assert any("break-even" in t.get_text() for t in ax.get_legend().get_texts())
    assert ax.get_ylim()[0] == 0 and ax.get_title() == "Cost ratio"
    plt.close(fig)


def test_scatter_labels_do_not_overlap_and_the_summary_row_is_a_reference():
    fig = plots.labelled_scatter(
        _scatter_table(), "x", "y", "name", "S", "x [days]", "y [units]", size="n", reference="all"
    )
    ax = fig.axes[0]
    boxes = _boxes(fig, ax)
    assert sorted(boxes) == ["alpha supplier", "beta supplier", "delta", "gamma supplier"]
    placed = list(boxes.values())
    assert not any(a.overlaps(b) for i, a in enumerate(placed) for b in placed[i + 1 :])
    assert len(ax.collections[0].get_offsets()) == 4  # "all" is not drawn as a point ...
    reference = [line for line in ax.get_lines() if line.get_label() == "all names"]
    assert len(reference) == 1 and list(reference[0].get_xdata()) == [3.0, 3.0]  # ... but as lines
    plt.close(fig)


def test_bcg_labels_and_quadrant_names_do_not_overlap():
    table = pd.DataFrame(
        {
            "category": ["kitchen", "home_textiles", "skincare", "digital", "books", "phones"],
            "impressions": [5000, 5100, 7800, 7600, 2600, 2500],
            "conversion_rate": [0.063, 0.062, 0.089, 0.087, 0.106, 0.002],
            "revenue": [10.0, 12.0, 30.0, 9.0, 3.0, 100.0],
            "gross_margin": [0.3, 0.4, 0.6, 0.4, 0.2, 0.05],
        }
    )
    fig = plots.bcg_matrix(table, "category", "impressions", 5500, 0.08, "BCG", "impressions")
    ax = fig.axes[0]
    assert ax.get_ylim()[0] == 0
    boxes = _boxes(fig, ax)
    names = ["star", "traffic driver", "future star", "question"]
    assert set(names) <= set(boxes) and len(boxes) == len(table) + 4
    placed = list(boxes.values())
    assert not any(a.overlaps(b) for i, a in enumerate(placed) for b in placed[i + 1 :])
    # phones (the largest bubble) sits in the question corner: its name moved off the bubble
    bubbles = plots._bubble_boxes(ax, ax.collections[0])
    assert not any(boxes[name].overlaps(bubble) for name in names for bubble in bubbles)
    plt.close(fig)


def test_retention_curve_notes_stay_inside_the_axes():
    days = list(range(0, 8))
    rates = [1.0, 0.35, 0.26, 0.21, 0.18, 0.16, 0.15, 0.14]
    curve = pd.DataFrame(
        {"day": days, "retention_rate": rates, "retention_rate_on_or_after": rates}
    )
    headline = pd.DataFrame({"day": [1, 3, 7], "retention_rate": [0.35, 0.21, 0.14]})
    fig = plots.retention_curve(curve, headline, None, "Curve")
    ax = fig.axes[0]
    frame = ax.get_window_extent(fig.canvas.get_renderer())
    boxes = _boxes(fig, ax)
    assert sorted(boxes) == ["D1 35.0%", "D3 21.0%", "D7 14.0%"]
    assert all(frame.x0 <= box.x0 and box.x1 <= frame.x1 for box in boxes.values())
    plt.close(fig)


def test_indicator_changes_label_the_axis_and_each_bar():
    changes = pd.DataFrame({"indicator": ["GMV", "UV", "AOV"], "change": [0.1, -0.2, None]})
    fig = plots.indicator_changes(changes, "Changes")
    ax = fig.axes[0]
    assert ax.get_ylabel() == "indicator"
    assert [t.get_text().strip() for t in ax.texts] == ["+10.0%", "-20.0%"]
    plt.close(fig)


def test_daily_panels_give_each_count_its_own_axis():
    fig = plots.daily_panels(DAILY, [("uv", "UV [users]"), ("pv", "PV [views]")], "UV and PV")
    assert [ax.get_ylabel() for ax in fig.axes] == ["UV [users]", "PV [views]"]
    assert [ax.get_ylim()[0] for ax in fig.axes] == [0, 0]
    assert fig.axes[1].get_xlabel() == "date (local)" and fig._suptitle.get_text() == "UV and PV"
    plt.close(fig)


def test_report_style_shows_whole_texts_and_no_scientific_notation():
    assert plots.table_float(1.116e-31) == "<0.001"
    assert plots.table_float(0.0) == "0.000"
    assert plots.table_float(1952310.54) == "1,952,310.54"
    assert plots.table_float(-100.0) == "-100.00"
    assert plots.table_float(99.9996) == "100.000"  # rounds up, still shown with three
    assert plots.table_float(0.146) == "0.146"
    long = "keep it in stock and in the best slots; protect its margin and its reviews"
    table = pd.DataFrame({"action": [long], "p_value": [6.9e-4], "value": [1.952e6]})
    options = ("display.max_colwidth", 50, "display.float_format", None, "display.precision", 6)
    with pd.option_context(*options), matplotlib.rc_context():
        plots.use_report_style()
        shown = repr(table) + table._repr_html_()
    assert long in shown and "..." not in shown
    assert "e-" not in shown and "e+" not in shown and "1,952,000.00" in shown


def test_in_a_notebook_the_saved_image_is_shown_once_and_the_figure_closed(tmp_path, monkeypatch):
    # the inline backend would draw every open figure again at the end of the cell
    import IPython.display
    import matplotlib

    shown = []
    monkeypatch.setattr(
        matplotlib, "get_backend", lambda: "module://matplotlib_inline.backend_inline"
    )
    monkeypatch.setattr(IPython.display, "display", shown.append)
    fig = plots.daily_lines(DAILY, ["uv"], "UV", "users")
    outputs.save_figure(fig, "uv", tmp_path)
    [image] = shown
    assert image.data == (tmp_path / "figures" / "uv.png").read_bytes()
    assert image.alt == "UV: users against date (local)."
    assert not plt.fignum_exists(fig.number)
    # without an output folder (a notebook opened by hand) the image is shown all the same
    fig = plots.daily_lines(DAILY, ["uv"], "UV", "users")
    outputs.save_figure(fig, "uv", None)
    assert len(shown) == 2 and shown[1].data[:4] == b"\x89PNG"
    assert not plt.fignum_exists(fig.number)


def test_a_charts_alt_text_is_its_title_its_axes_and_the_reading():
    fig = plots.daily_lines(DAILY, ["uv"], "UV", "users")
    assert plots.describe(fig) == "UV: users against date (local)."
    assert plots.describe(fig, "UV rose 10%.") == "UV: users against date (local). UV rose 10%."
    plt.close(fig)
    panels = plots.daily_panels(DAILY, [("uv", "UV [users]"), ("pv", "PV [views]")], "Daily")
    assert plots.describe(panels).startswith("Daily: UV [users]")
    plt.close(panels)
