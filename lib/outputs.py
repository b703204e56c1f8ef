"""Where a notebook's tables and figures go.

The runner passes ``output_dir``; a notebook opened by hand in JupyterLab leaves it ``None`` and
nothing is written, so exploring never overwrites a published run.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import pandas as pd
from matplotlib.figure import Figure

FIGURE_DPI = 110


def save_table(table: pd.DataFrame, name: str, output_dir: str | Path | None) -> None:
    """Write ``table`` to ``<output_dir>/tables/<name>.csv`` (nothing when ``output_dir`` is None).

    Returns nothing, so a notebook cell that ends with it shows no path (paths differ per run).
    """
    if output_dir is None:
        return
    path = Path(output_dir) / "tables" / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    # pandas writes midnight-only columns as plain dates and keeps the time elsewhere.
    table.to_csv(path, index=False)


def save_figure(
    figure: Figure | str,
    name: str,
    output_dir: str | Path | None,
    reading: str | None = None,
) -> None:
    """Write ``figure`` to ``<output_dir>/figures/<name>.png`` (no file without ``output_dir``)
    and, in a notebook, show that same image with its alt text (:func:`lib.plots.describe`:
    the title, what is plotted against what, and ``reading``, a sentence from the numbers), which
    report.html gives the image.

    A chart that would say nothing comes as a :class:`lib.plots.NoChart` (a ``str``: "<title>:
    <reason>"): its sentence is printed, followed by ``reading`` when there is one, and no PNG is
    written, so the run holds no image of empty axes or a single bar.

    The figure is drawn once, to PNG bytes (110 dpi, trimmed to its content). In a notebook (the
    inline backend) those bytes are displayed and the figure closed, so that the backend does not
    draw it a second time at the end of the cell: drawing is most of the time a chart costs, and
    the reader sees exactly the file of the run. Outside a notebook the figure is left open.
    """
    if isinstance(figure, str):
        print(f"{figure} {reading}" if reading else figure)
        return
    inline = "inline" in matplotlib.get_backend()
    if output_dir is None and not inline:
        return
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
    png = buffer.getvalue()
    if output_dir is not None:
        path = Path(output_dir) / "figures" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)
    if inline:
        import matplotlib.pyplot as plt
        from IPython.display import Image, display

        from lib.plots import describe

        alt = describe(figure, reading)
        display(Image(data=png, format="png", alt=alt))
        plt.close(figure)
