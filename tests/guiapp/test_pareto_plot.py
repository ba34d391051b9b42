"""ParetoPlot: one point per usable run, colours by architecture, the front on hand-made points,
the staircase drawn through it, tooltips and clicks naming the run."""
from __future__ import annotations

import math

import pytest

from guiapp.widgets.pareto_plot import ParetoPlot, RunPoint

PTS = [
    RunPoint("r/a", "a", "unet", 10.0, 0.50),
    RunPoint("r/b", "b", "baseline", 2.0, 0.40),
    RunPoint("r/c", "c", "segformer", 5.0, 0.45),
    RunPoint("r/d", "d", "baseline", 4.0, 0.30),      # dominated by b
    RunPoint("r/e", "e", "unet", 20.0, 0.48),         # dominated by a
    RunPoint("r/f", "f", "baseline", 1.0, 0.20),
    RunPoint("r/g", "g", "unet", None, 0.9),          # no GFLOPs: not drawn
    RunPoint("r/h", "h", "unet", 3.0, None),          # unfinished: not drawn
]


@pytest.fixture
def plot(qtbot):
    p = ParetoPlot()
    qtbot.addWidget(p)
    p.set_points(PTS)
    return p


def test_points_and_front(plot):
    assert plot.point_count() == 6
    assert plot.front_keys == ["r/f", "r/b", "r/c", "r/a"]
    assert {a: len(s.points()) for a, s in plot.scatters.items()} == {
        "baseline": 3, "segformer": 1, "unet": 2}


def test_front_is_a_staircase_on_log_x(plot):
    xs, ys = plot._front_item.getData()
    lx = [math.log10(v) for v in (1.0, 2.0, 5.0, 10.0)]
    assert list(xs) == pytest.approx([lx[0], lx[1], lx[1], lx[2], lx[2], lx[3], lx[3]])
    assert list(ys) == pytest.approx([0.20, 0.20, 0.40, 0.40, 0.45, 0.45, 0.50])
    assert plot.getAxis("bottom").logMode


def test_arch_colours_and_legend(plot):
    colours = {a: s.points()[0].brush().color().name() for a, s in plot.scatters.items()}
    assert len(set(colours.values())) == 3
    labels = [item[1].text for item in plot.legend.items]
    assert {"baseline", "segformer", "unet"} <= set(labels)


def test_tooltip_and_click(plot, qtbot):
    assert plot._tip(0, 0, "r/c").startswith("c\nsegformer: mIoU 0.450 at 5 GFLOPs")
    sc = plot.scatters["segformer"]
    with qtbot.waitSignal(plot.run_clicked) as sig:
        plot._clicked(sc, sc.points())
    assert sig.args == ["r/c"]


def test_highlight_and_reset(plot):
    plot.highlight(["r/a", "r/b", "r/g"])
    assert len(plot._highlight.points()) == 2
    plot.set_points([])
    assert plot.point_count() == 0 and plot.front_keys == []
