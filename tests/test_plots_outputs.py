"""Charts carry a title and labelled axes; outputs land where the runner expects them."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
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
            pd.DataFrame({"slot": ["a", "b"], "r": [0.5, 0.3], "lo": [0.4, 0.2], "hi": [0.6, 0.4]}),
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
    table = pd.DataFrame({"k": ["x", "y"], "v": [1, 2]})
    fig = plots.bars(table, "k", "v", "Bars", "key", "value [units]")
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


# ------------------------------------------------------------------ chart hygiene (issue 15)


def _ticks(fig, ax, axis: str = "x") -> list[str]:
    fig.canvas.draw()  # tick labels are only formatted at a draw
    labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [label.get_text() for label in labels if label.get_text() and label.get_visible()]


def _subtitles(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == "subtitle"]


def _categories(n: int, values) -> pd.DataFrame:
    return pd.DataFrame({"category": [f"c{i:02d}" for i in range(n)], "v": values})


def test_a_long_list_of_counts_shows_the_top_n_sorted_and_one_other_bar():
    table = _categories(30, [float(i) for i in range(30)])  # c29 is the largest
    fig = plots.bars(table, "category", "v", "Users", "category", "users [users]")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(ax.patches) == plots.TOP_N + 1 and len(labels) == plots.TOP_N + 1
    assert labels[:3] == ["c29", "c28", "c27"] and labels[-1] == "other (10 more)"
    widths = [bar.get_width() for bar in ax.patches]
    assert widths[: plots.TOP_N] == sorted(widths[: plots.TOP_N], reverse=True)
    assert widths[-1] == sum(range(10))  # the ten smallest, summed
    assert ax.patches[-1].get_facecolor() != ax.patches[0].get_facecolor()  # other is grey
    assert _subtitles(fig) == []
    plt.close(fig)


def test_a_long_list_of_rates_shows_the_top_n_with_a_subtitle_and_no_other_bar():
    table = _categories(30, [i / 100 for i in range(30)])
    fig = plots.bars(
        table, "category", "v", "Repurchase", "category", "repeat buyers", percent=True
    )
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(ax.patches) == plots.TOP_N and labels[0] == "c29" and "other" not in labels[-1]
    assert _subtitles(fig) == [f"top {plots.TOP_N} of 30 categories by repeat buyers [%]"]
    assert f"(top {plots.TOP_N} of 30 categories" in plots.describe(fig)  # in the alt text too
    plt.close(fig)


def test_short_lists_are_sorted_by_the_measure():
    table = pd.DataFrame({"platform": ["ios", "web", "android"], "users": [5, 9, 7]})
    fig = plots.bars(table, "platform", "users", "Users", "platform", "users [users]")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["web", "android", "ios"]
    plt.close(fig)


def test_whether_values_add_up_is_read_from_the_unit():
    assert plots._summable("lost revenue [currency]") and plots._summable("short [units]")
    assert plots._summable("impressions [count, log scale]")
    assert not plots._summable("days of inventory [days]")
    assert not plots._summable("users in the period")  # no unit: the safe side
    assert not plots._summable("revenue [currency]", percent=True)
    # days of inventory do not add up: the top N and a subtitle, no "other" bar
    table = pd.DataFrame({"category": [f"c{i}" for i in range(25)], "days": range(25)})
    fig = plots.ranked_bars(table, "category", "days", "Days", "category", "cover [days]")
    ax = fig.axes[0]
    assert len(ax.patches) == plots.TOP_N and _subtitles(fig)[0].startswith("top 20 of 25")
    plt.close(fig)
    money = table.rename(columns={"days": "lost"})
    fig = plots.ranked_bars(money, "category", "lost", "Lost", "SKU", "lost [currency]", top=5)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["c24", "c23", "c22", "c21", "c20", "other (20 more)"]
    assert fig.axes[0].patches[-1].get_width() == sum(range(20))
    plt.close(fig)


def test_long_rate_intervals_keep_the_largest_by_a_size_column_sorted_by_the_rate():
    n = 30
    table = pd.DataFrame(
        {
            "category": [f"c{i:02d}" for i in range(n)],
            "viewers": range(n),  # the last twenty are the largest
            "r": [(i % 7) / 10 for i in range(n)],
        }
    ).assign(lo=lambda t: t["r"] * 0.9, hi=lambda t: t["r"] * 1.1)
    fig = plots.rate_intervals(
        table, "category", [("r", "lo", "hi", "conversion")], "Conversion", rank_by="viewers"
    )
    ax = fig.axes[0]
    shown = [t.get_text() for t in ax.get_yticklabels()]
    assert len(shown) == plots.TOP_N and set(shown) == {f"c{i:02d}" for i in range(10, 30)}
    rates = table.set_index("category").loc[shown, "r"].tolist()
    assert rates == sorted(rates, reverse=True)
    assert _subtitles(fig) == [f"the {plots.TOP_N} categories with the most viewers, of 30"]
    plt.close(fig)


def test_the_other_segment_gets_its_summed_users_and_its_value_per_user():
    summary = pd.DataFrame(
        {
            "segment": [f"s{i:02d}" for i in range(22)],
            "users": [100 - i for i in range(22)],
            "gmv_to_date": [1000.0] * 22,
        }
    ).assign(gmv_to_date_per_user=lambda t: t["gmv_to_date"] / t["users"])
    fig = plots.segment_sizes(summary, "Segments")
    users, value = fig.axes
    assert users.get_yticklabels()[-1].get_text() == "other (2 more)"
    assert users.patches[-1].get_width() == 80 + 79
    assert value.patches[-1].get_width() == pytest.approx(2000 / 159)
    plt.close(fig)


def _week(rows: int, base: float, step: float) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (w, name, h, base + step * ((3 * h + w) % 5))
            for w, name in enumerate(["Mon", "Tue"][:rows])
            for h in range(4)
        ],
        columns=["weekday", "weekday_name", "hour", "avg_events"],
    )


def test_a_flat_heatmap_shows_the_difference_from_the_mean_on_a_fixed_scale():
    flat = _week(2, 4240.0, 30.0)  # 4,240 to 4,360 around a mean of 4,296.25
    spread = plots.heatmap_spread(flat, "avg_events")
    assert spread == pytest.approx(120 / flat["avg_events"].mean())
    assert spread < plots.MATERIAL_SPREAD
    fig = plots.hour_weekday_heatmap(flat, "avg_events", "Events", "events per day")
    ax, bar = fig.axes
    norm = ax.collections[0].norm
    assert (norm.vmin, norm.vmax) == (-plots.MATERIAL_SPREAD, plots.MATERIAL_SPREAD)
    assert bar.get_ylabel() == "difference from the mean [%]"
    assert "+20%" in _ticks(fig, bar, "y")
    assert _subtitles(fig) == [
        "flat: every cell within -1.3% to +1.5% of the mean, 4,296.25 events per day"
    ]
    plt.close(fig)


def test_a_heatmap_of_counts_that_differ_is_coloured_from_zero():
    varied = _week(2, 100.0, 2000.0)  # 100 to 8,100
    assert plots.heatmap_spread(varied, "avg_events") > plots.MATERIAL_SPREAD
    fig = plots.hour_weekday_heatmap(varied, "avg_events", "Events", "events per day")
    ax, bar = fig.axes
    norm = ax.collections[0].norm
    assert (norm.vmin, norm.vmax) == (0.0, 8100.0) and bar.get_ylabel() == "events per day"
    assert _subtitles(fig) == []
    assert "8,000" in _ticks(fig, bar, "y")  # thousands separators on the colour bar
    plt.close(fig)


def test_heatmap_spread_of_a_grid_and_of_nothing():
    assert plots.heatmap_spread(pd.DataFrame({"a": [1.0, 3.0], "b": [2.0, None]})) == 1.0
    assert np.isnan(plots.heatmap_spread(pd.DataFrame({"v": [0.0, 0.0]}), "v"))
    assert np.isnan(plots.heatmap_spread(np.array([])))


def test_a_rating_heatmap_is_coloured_on_the_range_its_unit_states():
    trend = pd.DataFrame(
        {
            "week": pd.to_datetime(["2025-03-03", "2025-03-10"] * 2),
            "category": ["a", "a", "b", "b"],
            "average_rating": [2.0, 3.0, 4.5, 5.0],
        }
    )
    fig = plots.week_heatmap(trend, "category", "average_rating", "R", "category", "rating [1–5]")
    norm = fig.axes[0].collections[0].norm
    assert (norm.vmin, norm.vmax) == (1.0, 5.0)
    assert _ticks(fig, fig.axes[0]) == ["03-03", "03-10"]
    plt.close(fig)


def test_a_degenerate_chart_is_one_sentence_and_no_image(tmp_path, capsys):
    one = plots.bars(pd.DataFrame({"p": ["web"], "u": [1234]}), "p", "u", "Users", "platform", "u")
    assert isinstance(one, plots.NoChart) and isinstance(one, str)
    assert one == "Users: only one platform, web: 1,234; nothing to compare it with."
    assert one.title == "Users" and one.reason.startswith("only one platform")
    outputs.save_figure(one, "users", tmp_path, reading="All users came on the web.")
    assert capsys.readouterr().out == f"{one} All users came on the web.\n"
    assert not (tmp_path / "figures").exists()
    empty = plots.bars(pd.DataFrame({"p": [], "u": []}), "p", "u", "Users", "platform", "u")
    assert empty.reason == "no data for this period."
    same = pd.DataFrame({"date": DAILY["date"], "dau": [3, 4], "wau": [3, 4], "mau": [3, 4]})
    lines = plots.daily_lines(same, ["dau", "wau", "mau"], "Active", "users", ["DAU", "WAU", "MAU"])
    assert lines.reason == "DAU, WAU and MAU are identical for every day, from 3 to 4."
    flat = plots.daily_lines(DAILY.assign(uv=0), ["uv"], "UV", "users")
    assert flat.reason == "every day has the same value, 0."
    day = plots.daily_lines(DAILY.head(1), ["uv", "pv"], "UV", "users", ["UV", "PV"])
    assert day.reason == "only one day, 2025-03-01: UV 3, PV 5; nothing to compare it with."
    assert plots.describe(day) == str(day)


def test_a_single_channel_is_not_drawn_again_as_a_stacked_area():
    long = pd.DataFrame({"date": DAILY["date"], "channel": ["(unknown)"] * 2, "users": [3, 4]})
    chart = plots.stacked_area(long, "channel", "users", "By channel", "users")
    assert isinstance(chart, plots.NoChart) and "one channel only, (unknown)" in chart


def test_identical_series_among_others_are_drawn_once_under_both_names():
    table = DAILY.assign(wau=[8, 9], mau=[8, 9])
    fig = plots.daily_lines(table, ["uv", "wau", "mau"], "Active", "users", ["DAU", "WAU", "MAU"])
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["DAU", "WAU = MAU"]
    plt.close(fig)


def test_degenerate_names_the_first_reason_or_none():
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [2.0, 1.0]}, index=["x", "y"])
    assert plots.degenerate(frame, "platform") is None
    assert plots.degenerate(frame.iloc[:0], "platform") == "no data for this period."
    assert plots.degenerate(frame[["a"]].assign(a=[0.25, 0.25]), "slot", percent=True) == (
        "every slot has the same value, 25.0%."
    )


def _daily(start: str, end: str) -> pd.DataFrame:
    days = pd.date_range(start, end, freq="D")
    return pd.DataFrame(
        {"date": days, "a": np.arange(len(days)) % 7, "b": np.arange(len(days)) ** 2}
    )


@pytest.mark.parametrize(
    ("start", "end", "pattern"),
    [
        ("2025-03-01", "2025-03-31", r"\d\d-\d\d"),  # days
        ("2024-12-20", "2025-01-10", r"\d\d-\d\d"),  # days across a new year
        ("2024-01-01", "2025-06-30", r"\d{4}-\d\d"),  # many months
        ("2019-01-01", "2025-06-30", r"\d{4}"),  # years
        ("2025-03-01", "2025-03-03", r"\d\d-\d\d"),  # three days: midnights, never hours
    ],
)
def test_date_ticks_never_repeat_and_follow_the_span(start, end, pattern):
    import re

    fig = plots.daily_lines(_daily(start, end), ["a", "b"], "Span", "units")
    ax = fig.axes[0]
    labels = _ticks(fig, ax)
    assert len(labels) >= 2 and len(set(labels)) == len(labels)
    assert all(re.fullmatch(pattern, label) for label in labels), labels
    plt.close(fig)


def test_no_scientific_notation_or_offset_on_any_axis():
    big = pd.DataFrame({"k": list("abcd"), "v": [1.0e9, 2.0e9, 3.5e9, 7.0e9]})
    fig = plots.bars(big, "k", "v", "GMV", "key", "GMV [currency]")
    ax = fig.axes[0]
    labels = _ticks(fig, ax)
    assert "2,000,000,000" in labels and ax.xaxis.get_offset_text().get_text() == ""
    assert not any("e" in label or "×" in label for label in labels)
    # tick labels do not overlap: long numbers get fewer ticks
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
    assert not any(a.overlaps(b) for a, b in zip(boxes, boxes[1:], strict=False))
    plt.close(fig)
    near = DAILY.assign(uv=[4240.0, 4241.5])  # a ScalarFormatter would write +4.24e3 offsets
    fig = plots.daily_lines(near, ["uv"], "UV", "users")
    labels = _ticks(fig, fig.axes[0], "y")
    assert "4,241.0" in labels and fig.axes[0].yaxis.get_offset_text().get_text() == ""
    plt.close(fig)
    items = pd.DataFrame(
        {"viewers": [1, 10, 100, 2000], "conversion_rate": [0.1, 0.2, 0.05, 0.01]}
    ).assign(worst=[False, False, False, True])
    fig = plots.item_conversion_scatter(items, "SKUs", 200)
    labels = _ticks(fig, fig.axes[0])
    assert {"1", "10", "100", "1,000"} <= set(labels), labels  # a log axis, in plain numbers
    plt.close(fig)


def _legend_charts():
    long = pd.DataFrame(
        {
            "date": DAILY["date"].repeat(2).to_numpy(),
            "channel": ["a", "b"] * 2,
            "users": [1, 2, 3, 4],
        }
    )
    band = DAILY.assign(
        conversion_rate=[0.1, 0.2],
        band_low=[0.05, 0.1],
        band_high=[0.2, 0.3],
        band_median=[0.1, 0.15],
        outside_band=[False, True],
    )
    hours = DAILY.assign(orders=[3, 4], ship_hours_p50=[10.0, 12.0], ship_hours_p90=[30.0, 40.0])
    return [
        plots.daily_lines(DAILY, ["uv", "pv"], "UV and PV", "count", labels=["UV", "PV"]),
        plots.stacked_area(long, "channel", "users", "By channel", "users"),
        plots.conversion_band(band, "Band"),
        plots.ship_hours_chart(hours, 24, "Hours"),
        plots.grouped_bars(
            pd.DataFrame({"q": ["a", "b"], "x": [0.1, 0.2], "y": [0.3, 0.1]}),
            "q",
            ["x", "y"],
            ["actual", "target"],
            "Mix",
            "quadrant",
            "share",
            percent=True,
        ),
        plots.stacked_bars_h(
            pd.DataFrame({"c": ["a", "b"], "x": [1.0, 2.0], "y": [3.0, 1.0]}),
            "c",
            ["x", "y"],
            ["price cuts", "coupons"],
            "Lost",
            "lost [currency]",
            "category",
        ),
    ]


def test_legends_sit_right_of_the_axes_off_the_data():
    for fig in _legend_charts():
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
        assert legends, plots.describe(fig)
        for ax in fig.axes:
            legend = ax.get_legend()
            if legend is not None:
                box, frame = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
                assert box.x0 >= frame.x1, plots.describe(fig)
        plt.close(fig)


def test_every_public_chart_goes_through_the_hygiene_wrapper():
    import inspect

    charts = [
        f
        for name, f in inspect.getmembers(plots, inspect.isfunction)
        if not name.startswith("_")
        and f.__module__ == plots.__name__
        and inspect.signature(f).return_annotation == "Chart"
    ]
    assert len(charts) > 30
    unwrapped = [f.__name__ for f in charts if not hasattr(f, "__wrapped__")]
    assert unwrapped == ["cost_ratio_chart"]  # it returns daily_lines(...)


def test_time_axes_thin_their_labels_and_categories_stay_named():
    starts = pd.date_range("2024-01-01", periods=52, freq="7D")
    windows = pd.DataFrame(
        {"window_start": starts, "window_end": starts + pd.Timedelta(days=6)}
    ).assign(new=5, returning=np.arange(52), resurrected=2, dormant=3)
    fig = plots.lifecycle_chart(windows, "Lifecycle")
    ax = fig.axes[0]
    shown = [t for t in ax.get_xticklabels() if t.get_visible()]
    assert 2 <= len(shown) < 52 and shown[0].get_text() == "2024-01-01\nto 2024-01-07"
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in shown]
    assert not any(a.overlaps(b) for a, b in zip(boxes, boxes[1:], strict=False))
    plt.close(fig)
    roles = pd.DataFrame(
        {"role": [f"a rather long role name {i}" for i in range(12)], "x": np.arange(12) / 20}
    ).assign(y=lambda t: t["x"] / 2)
    fig = plots.grouped_bars(roles, "role", ["x", "y"], ["SKUs", "revenue"], "R", "role", "share")
    labels = fig.axes[0].get_xticklabels()
    assert len(labels) == 12 and all(t.get_visible() and t.get_rotation() == 35 for t in labels)
    plt.close(fig)


def test_a_long_week_heatmap_keeps_the_rows_with_the_most_reviews():
    weeks = pd.to_datetime(["2025-03-03", "2025-03-10"])
    trend = pd.DataFrame(
        [(w, f"c{i:02d}", 1 + i % 5 * 0.9, i) for w in weeks for i in range(25)],
        columns=["week", "category", "average_rating", "reviews"],
    )
    fig = plots.week_heatmap(
        trend, "category", "average_rating", "R", "category", "rating [1–5]", rank_by="reviews"
    )
    rows = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert rows[0] == "c24" and len(rows) == plots.TOP_N and "c04" not in rows
    assert _subtitles(fig) == ["top 20 of 25 categories by reviews"]
    plt.close(fig)


def test_money_axes_name_the_shops_currency():
    table = pd.DataFrame(
        {"date": pd.date_range("2025-03-01", periods=4), "gmv": [10.0, 30.0, 20.0, 40.0]}
    )
    plots.use_report_style("BRL")
    try:
        fig = plots.daily_lines(table, ["gmv"], "Daily GMV", "GMV per day [currency]")
        assert fig.axes[0].get_ylabel() == "GMV per day [BRL]"
        assert "[BRL]" in plots.describe(fig)
    finally:
        plots.use_report_style()
    fig = plots.daily_lines(table, ["gmv"], "Daily GMV", "GMV per day [currency]")
    assert fig.axes[0].get_ylabel() == "GMV per day [currency]"  # no currency set: unchanged


def test_grouped_bars_write_each_bars_n():
    table = pd.DataFrame(
        {
            "month": pd.to_datetime(["2025-08-01", "2025-09-01"]),
            "rate_30d": [0.2, 0.73],
            "rate_60d": [0.3, float("nan")],
            "n_30d": [12000, 55],
            "n_60d": [12000, 0],
        }
    )
    fig = plots.grouped_bars(
        table,
        "month",
        ["rate_30d", "rate_60d"],
        ["30 days", "60 days"],
        "Bought again",
        "month",
        "bought again [%]",
        percent=True,
        counts=["n_30d", "n_60d"],
    )
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["2025-08\nn = 12,000 · 12,000", "2025-09\nn = 55 · 0"]


def test_daily_lines_mark_the_calendars_days_inside_the_dates():
    table = pd.DataFrame(
        {"date": pd.date_range("2025-11-09", periods=4), "gmv": [10.0, 30.0, 90.0, 20.0]}
    )
    marks = pd.DataFrame(
        {
            "date": pd.to_datetime(["2025-11-11", "2025-11-11", "2025-12-12"]),
            "name": ["Singles' Day", "Singles' Day", "Double 12"],  # a day listed twice
        }
    )
    fig = plots.daily_lines(table, ["gmv"], "Daily GMV", "GMV [currency]", marks=marks)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["Singles' Day"]  # 12-12 lies outside
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 1


def test_effect_intervals_colour_each_row_by_where_its_interval_lies():
    table = pd.DataFrame(
        {
            "label": ["a", "b", "c", "d"],
            "lift": [0.10, -0.05, 0.01, np.nan],  # d has no estimate: left out
            "low": [0.02, -0.09, -0.03, np.nan],
            "high": [0.18, -0.01, 0.05, np.nan],
        }
    )
    fig = plots.effect_intervals(
        table, "label", "lift", "low", "high", "Lifts", "relative lift", percent=True,
        ylabel="test",
    )  # fmt: skip
    title, xlabel, ylabel = _labels(fig)
    assert (title, xlabel, ylabel) == ("Lifts", "relative lift [%]", "test")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["interval above 0", "interval below 0", "interval includes 0"]
    plt.close(fig)
    empty = plots.effect_intervals(table.iloc[3:], "label", "lift", "low", "high", "Lifts", "x")
    assert isinstance(empty, plots.NoChart) and "no estimate" in empty
