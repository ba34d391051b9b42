"""Fixtures shared by the GUI tests: app state and a Train view on the synthetic dataset,
recorded dialogs."""
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from core.data.source import open_dataset


@pytest.fixture
def app_state(tmp_path, synth_data):
    """App state with its own settings file and runs folder, the synthetic dataset open."""
    from guiapp.app_state import AppState

    state = AppState(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
                     runs_root=tmp_path / "runs")
    state.set_source(open_dataset(synth_data))
    return state


@pytest.fixture
def train_view(qtbot, app_state):
    from guiapp.views.train_view import TrainView

    v = TrainView(app_state)
    qtbot.addWidget(v)
    yield v
    v.shutdown()


@pytest.fixture
def errors(monkeypatch):
    """Record error dialogs instead of showing them."""
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "open", lambda self: shown.append(self.text()))
    return shown
