"""Shared pieces for the label-editor tests: a private copy of the synthetic dataset (the session
fixture is shared, and these tests write masks), a shown and active LabelView, and mouse helpers
that send real QTest events to the canvas viewport at image-pixel positions."""
from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from core.data.source import open_dataset

LEFT = Qt.MouseButton.LeftButton
NOMOD = Qt.KeyboardModifier.NoModifier


@pytest.fixture
def dataset(synth_data, tmp_path):
    root = tmp_path / "ds"
    shutil.copytree(synth_data, root)
    return open_dataset(root)


@pytest.fixture
def errors(monkeypatch):
    """Texts of error dialogs, instead of showing them."""
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "open", lambda self: shown.append(self.text()))
    return shown


def make_view(qtbot, tmp_path, source=None, runs_root=None):
    from guiapp.app_state import AppState
    from guiapp.views.label_view import LabelView

    state = AppState(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
                     runs_root=runs_root or tmp_path / "runs")
    view = LabelView(state)
    qtbot.addWidget(view)
    view.resize(1300, 700)
    with qtbot.waitExposed(view):
        view.show()
    view.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is view)  # shortcuts need it active
    if source is not None:
        state.set_source(source)
    view.canvas.setFocus()
    return view


@pytest.fixture
def view(qtbot, tmp_path, dataset, errors):
    v = make_view(qtbot, tmp_path, dataset)
    yield v
    v.review.cancel()


@pytest.fixture
def runs(tmp_path_factory, synth_data):
    """Tiny trained runs (their checkpoints pick the model in the Label view)."""
    from tests.guiapp.tiny_runs import tiny_runs

    return tiny_runs(tmp_path_factory, synth_data)


@pytest.fixture
def mview(qtbot, tmp_path, dataset, runs, errors):
    """A Label view that can use the tiny runs' models; stops its background work at the end."""
    v = make_view(qtbot, tmp_path, dataset, runs_root=runs)
    yield v
    v.review.cancel()
    qtbot.waitUntil(lambda: not v.runner.running, timeout=20000)


def vp_pos(view, x: float, y: float) -> QPoint:
    """Viewport position of the centre of image pixel (x, y)."""
    return view.canvas.mapFromScene(QPointF(x + 0.5, y + 0.5))


def stroke(view, points, button=LEFT, modifier=NOMOD) -> None:
    vp = view.canvas.viewport()
    QTest.mousePress(vp, button, modifier, vp_pos(view, *points[0]))
    for p in points[1:]:
        QTest.mouseMove(vp, vp_pos(view, *p))
    QTest.mouseRelease(vp, button, modifier, vp_pos(view, *points[-1]))


def click(view, x, y) -> None:
    QTest.mouseClick(view.canvas.viewport(), LEFT, NOMOD, vp_pos(view, x, y))


def key(qtbot, view, k, modifier=NOMOD) -> None:
    qtbot.keyClick(view.canvas, k, modifier)
