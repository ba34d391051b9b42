"""MainWindow: opens on a dataset, five tabs with Ctrl+1..5, bad folders give a dialog (window
survives), the demo set is generated where and how big we say, geometry persists, main() args."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from guiapp.app_state import AppState
from guiapp.main_window import VIEWS, MainWindow


def make_state(tmp_path) -> AppState:
    return AppState(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
                    runs_root=tmp_path / "runs")


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow(make_state(tmp_path))
    qtbot.addWidget(w)
    yield w
    for view in w.views.values():
        if hasattr(view, "shutdown"):
            view.shutdown()


def test_opens_dataset_and_switches_tabs(qtbot, window, synth_data):
    assert window.open_dataset(synth_data)
    assert window.state.source.root == synth_data
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == [v[0] for v in VIEWS]
    assert window.views["Dataset"].model.rowCount() == len(window.state.source.samples("train"))
    assert "train" in window.dataset_label.text()
    with qtbot.waitExposed(window):
        window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)  # shortcuts need it active
    for i in (1, 4, 0, 2):
        qtbot.keyClick(window, Qt.Key(Qt.Key.Key_1.value + i), Qt.KeyboardModifier.ControlModifier)
        assert window.tabs.currentIndex() == i
    window.close()
    assert window.state.settings.value("window/geometry") is not None
    assert window.state.settings.value("window/tab", type=int) == 2


def test_bad_dataset_gives_dialog_and_window_survives(window, tmp_path, errors):
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("not a dataset")
    assert not window.open_dataset(tmp_path / "junk")
    assert not window.open_dataset(tmp_path / "missing")
    assert len(errors) == 2 and "missing" in errors[1]
    assert window.state.source is None and window.tabs.count() == len(VIEWS)


def test_demo_dataset_is_generated_once(window, tmp_path):
    folder = tmp_path / "demo"
    assert window.open_demo(folder=folder, count=3, size=(32, 48))
    assert window.state.source.root == folder
    stamp = (folder / "train").stat().st_mtime_ns
    assert window.open_demo(folder=folder, count=3, size=(32, 48))  # reused, not regenerated
    assert (folder / "train").stat().st_mtime_ns == stamp


def test_runs_root_persists(window, tmp_path):
    window.state.set_runs_root(tmp_path / "elsewhere")
    assert "elsewhere" in window.runs_label.text()
    assert AppState(window.state.settings).runs_root == tmp_path / "elsewhere"


def test_main_build_opens_data_from_args(qtbot, tmp_path, synth_data, monkeypatch):
    from guiapp import app_state, main

    monkeypatch.setattr(app_state, "QSettings",
                        lambda *a: QSettings(str(tmp_path / "m.ini"), QSettings.Format.IniFormat))
    args = main.parse_args(["--data", str(synth_data), "--runs", str(tmp_path / "r")])
    state, window = main.build(args)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: state.source is not None, timeout=10000)
    assert state.runs_root == tmp_path / "r" and state.source.root == synth_data
    for view in window.views.values():
        if hasattr(view, "shutdown"):
            view.shutdown()
