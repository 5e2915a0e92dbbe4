"""One figure style for the book: readable fonts, a colour-blind-safe palette, PNG + SVG files.

Notebooks call :func:`use_style` once (cell 2), build figures, show them and
save them with :func:`save_figure`. The paper's numbers are always drawn in
:data:`PAPER_COLOUR` (grey) and ours in :data:`OURS_COLOUR`, in every chapter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import matplotlib as mpl
import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

from avlib.errors import ConfigError

PALETTE_NAME = (
    "colorblind"  # seaborn's 10-colour palette, safe for common colour-vision deficiencies
)
PAPER_COLOUR = "#7f7f7f"  # the paper's numbers
OURS_COLOUR = sns.color_palette(PALETTE_NAME)[0]  # our numbers
STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",  # text stays text in SVG
}


def use_style() -> None:
    """Apply the book's style (seaborn whitegrid, colour-blind palette); in IPython, show Figures as PNG."""
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE_NAME)
    mpl.rcParams.update(STYLE)
    try:
        from IPython import get_ipython
        from IPython.core.pylabtools import select_figure_formats
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:  # a bare matplotlib Figure displays only once a formatter is registered
        select_figure_formats(shell, {"png"}, bbox_inches="tight")


def palette(n: int) -> list:
    """n colours: the colour-blind palette, or a perceptually uniform map beyond 10."""
    if n <= 10:
        return sns.color_palette(PALETTE_NAME, n)
    return sns.color_palette("viridis", n)


TRUTH_COLOUR = "#00c853"  # ground-truth boxes on frames


def draw_boxes(ax, boxes, height: int, width: int, linewidth: float = 1.5) -> None:
    """Draw normalised ``[x0, y0, x1, y1]`` boxes (NaN rows skipped) on an image of height x width."""
    from matplotlib.patches import Rectangle

    for x0, y0, x1, y1 in np.asarray(boxes, dtype=float).reshape(-1, 4):
        if np.isnan(x0):
            continue
        ax.add_patch(
            Rectangle(
                (x0 * width - 0.5, y0 * height - 0.5),
                (x1 - x0) * width,
                (y1 - y0) * height,
                fill=False,
                edgecolor=TRUTH_COLOUR,
                linewidth=linewidth,
            )
        )


def save_figure(
    fig: Figure, name: str, fig_dir: str | Path, formats: Sequence[str] = ("png", "svg")
) -> list[Path]:
    """Write ``fig`` as ``fig_dir/name.png`` (and .svg); returns the paths."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise ConfigError(f"figure name {name!r}: use letters, digits, '_', '-', '.' only")
    fig_dir = Path(fig_dir)
    fig_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = fig_dir / f"{name}.{fmt}"
        fig.savefig(path, format=fmt)
        paths.append(path)
    return paths
