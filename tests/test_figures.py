"""The book's figure style and figure files."""

import matplotlib as mpl
import pytest
from matplotlib.figure import Figure

from avlib.errors import ConfigError
from avlib.figures import palette, save_figure, training_curves, use_style


def test_style_and_palette():
    use_style()
    assert mpl.rcParams["svg.fonttype"] == "none" and mpl.rcParams["font.size"] == 11
    assert len(palette(3)) == 3 and len(palette(30)) == 30


def test_save_figure_writes_png_and_svg(tmp_path):
    fig = Figure()
    fig.add_subplot().plot([0, 1], [1, 0])
    paths = save_figure(fig, "curve-1", tmp_path / "figs")
    assert [p.name for p in paths] == ["curve-1.png", "curve-1.svg"]
    assert paths[0].read_bytes()[:4] == b"\x89PNG" and b"<svg" in paths[1].read_bytes()
    with pytest.raises(ConfigError, match="figure name"):
        save_figure(fig, "../escape", tmp_path)


def test_training_curves_from_trainer_records():
    steps = [{"step": i, "loss": 1 / (i + 1), "acc": i / 10} for i in range(10)]
    fig = training_curves(steps, ["loss", "acc"])
    assert [line.get_label() for line in fig.axes[0].lines] == ["loss", "acc"]
