"""The book's figure style and figure files."""

import matplotlib as mpl
import pytest
from matplotlib.figure import Figure

from avlib.errors import ConfigError
from avlib.figures import palette, save_figure, use_style


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


def test_learning_curves_draw_loss_with_chance_and_held_out_accuracy(tmp_path):
    from avlib import report
    from avlib.results import Selection, save_result

    history = [{"step": 10 * i, "loss": 0.7 - 0.01 * i, "chance_loss": 0.693, "val_acc": 0.5 + i / 50}
               for i in range(1, 6)]  # fmt: skip
    for seed in (0, 1):
        save_result(profile="smoke", paper="toy", experiment="a", seed=seed, metrics={},
                    results_dir=tmp_path, extra={"history": {"net": history}})  # fmt: skip
    fig = report.learning_curves({"net": ("toy/a", "net")}, Selection("smoke", tmp_path))
    loss_ax, acc_ax = fig.axes
    assert len(loss_ax.lines) == 3 and loss_ax.lines[0].get_ydata()[0] == pytest.approx(0.69)
    assert any(c.get_linestyle() == "--" for c in loss_ax.get_lines()), "the chance level"
    assert [t.get_text() for t in acc_ax.get_legend().get_texts()] == ["seed 0", "seed 1"]
    assert acc_ax.lines[0].get_ydata()[-1] == pytest.approx(60.0)
