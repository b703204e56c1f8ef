"""Charts carry a title and labelled axes; outputs land where the runner expects them."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

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
