"""Where a notebook's tables and figures go.

The runner passes ``output_dir``; a notebook opened by hand in JupyterLab leaves it ``None`` and
nothing is written, so exploring never overwrites a published run.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure


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


def save_figure(figure: Figure, name: str, output_dir: str | Path | None) -> None:
    """Write ``figure`` to ``<output_dir>/figures/<name>.png`` (nothing without ``output_dir``)."""
    if output_dir is None:
        return
    path = Path(output_dir) / "figures" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, bbox_inches="tight")
