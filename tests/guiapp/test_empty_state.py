"""Before there is data, each view shows a plain "nothing here yet — do X" message instead of a
plot with meaningless axes; the plot replaces the message once data arrives."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLabel

from core.data.source import open_dataset
from core.engine.events import EpochDone, StepDone
from guiapp.app_state import AppState
from guiapp.widgets.empty_state import EmptyState
from tests.guiapp.tiny_runs import tiny_runs


def shows_message(box: EmptyState) -> bool:
    return box.is_empty and box.message.isVisible() and not box.content.isVisible()


def shows_content(box: EmptyState) -> bool:
    return not box.is_empty and box.content.isVisible() and not box.message.isVisible()


def make_state(tmp_path, runs_root, source=None) -> AppState:
    state = AppState(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), runs_root=runs_root)
    if source is not None:
        state.set_source(source)
    return state


def test_widget_switches_between_message_and_content(qtbot):
    content = QLabel("the plot")
    box = EmptyState(content, "nothing here yet — do X")
    qtbot.addWidget(box)
    box.show()
    assert shows_message(box) and box.message.text() == "nothing here yet — do X"
    box.show_content()
    assert shows_content(box)
    box.show_content()  # repeated updates keep the content
    assert shows_content(box)
    box.show_empty("gone — do Y")
    assert shows_message(box) and box.message.text() == "gone — do Y"
    box.show_empty()  # no text: keeps the last one
    assert box.message.text() == "gone — do Y"


def test_evaluate_view_message_until_a_result_arrives(qtbot, tmp_path, tmp_path_factory, synth_data):
    from core.evaluate import evaluate
    from guiapp.views.evaluate_view import EvaluateView, checkpoint_of

    empty_root = tmp_path / "no-runs"
    empty_root.mkdir()
    source = open_dataset(synth_data)
    bare = EvaluateView(make_state(tmp_path, empty_root, source))
    qtbot.addWidget(bare)
    bare.show()
    assert shows_message(bare.results_box)
    assert "No trained runs" in bare.results_box.message.text() and str(empty_root) in bare.results_box.message.text()
    assert not bare.heatmap.isVisible()
    bare.shutdown()

    runs = tiny_runs(tmp_path_factory, synth_data)
    view = EvaluateView(make_state(tmp_path, runs, source))
    qtbot.addWidget(view)
    view.show()
    assert shows_message(view.results_box) and "press Evaluate" in view.results_box.message.text()
    assert not view.heatmap.isVisible() and not view.bars.isVisible()

    ckpt = checkpoint_of(runs / "base-adam")
    view.show_result(evaluate(ckpt, source, "val", device="cpu"), source, ckpt, "val")
    assert shows_content(view.results_box)
    assert view.heatmap.isVisible() and view.bars.isVisible() and view.browser.isVisible()
    view.refresh_runs()  # a later refresh keeps the result on screen
    assert shows_content(view.results_box)
    view.shutdown()


def test_train_view_message_until_the_first_step(train_view):
    view = train_view
    view.show()
    box = view.curves_box
    assert shows_message(box) and "press Start" in box.message.text()
    assert not view.curves.isVisible()
    view._on_event(StepDone(epoch=1, step=1, epoch_step=1, steps_per_epoch=3, loss=2.3, lr=1e-3,
                            images_per_s=10.0, eta_s=5.0))
    assert shows_content(box) and view.curves.point_counts() == {"steps": 1, "epochs": 0}


def test_train_view_epoch_alone_shows_curves(train_view):
    # torchrun runs report epochs from metrics.jsonl; an epoch must reveal the curves too
    train_view.show()
    train_view._on_event(EpochDone(epoch=1, train_loss=1.0, val_loss=1.1, miou=0.2, pixel_acc=0.5,
                                   iou=[0.2], is_best=True, seconds=3.0, lr=1e-3, total_epochs=2))
    assert shows_content(train_view.curves_box)


def test_experiments_view_messages_for_no_runs_and_no_selection(qtbot, tmp_path, tmp_path_factory,
                                                                synth_data):
    from guiapp.views.experiments_view import ExperimentsView

    empty_root = tmp_path / "no-runs"
    empty_root.mkdir()
    bare = ExperimentsView(make_state(tmp_path, empty_root))
    qtbot.addWidget(bare)
    bare.show()
    assert shows_message(bare.runs_box) and str(empty_root) in bare.runs_box.message.text()
    assert not bare.pareto.isVisible() and not bare.table.isVisible() and not bare.hint.isVisible()

    runs = tiny_runs(tmp_path_factory, synth_data)
    view = ExperimentsView(make_state(tmp_path, runs))
    qtbot.addWidget(view)
    view.show()
    view.select_runs()
    assert shows_content(view.runs_box) and view.table.isVisible() and view.pareto.isVisible()
    assert view.hint.isVisible()
    assert shows_message(view.curves_box) and "Select runs" in view.curves_box.message.text()
    view.select_runs(str(runs / "base-adam"))
    assert shows_content(view.curves_box)
    view.select_runs()
    assert shows_message(view.curves_box)


def test_dataset_view_histogram_message_until_counts_arrive(qtbot, tmp_path, synth_data):
    from guiapp.views.dataset_view import DatasetView

    state = make_state(tmp_path, tmp_path / "runs")
    view = DatasetView(state)
    qtbot.addWidget(view)
    view.show()
    assert shows_message(view.histogram_box) and "Open Dataset" in view.histogram_box.message.text()
    state.set_source(open_dataset(synth_data))
    assert shows_message(view.histogram_box) and "Counting" in view.histogram_box.message.text()
    qtbot.waitUntil(lambda: view.stats_for("train") is not None, timeout=10000)
    qtbot.waitUntil(lambda: not view.histogram_box.is_empty, timeout=5000)
    assert shows_content(view.histogram_box) and view.histogram.plot.isVisible()
    view.shutdown()


@pytest.fixture(autouse=True)
def _no_dialogs(errors):
    """Any error dialog is recorded (and would show in a failing assertion) instead of blocking."""
    yield
    assert errors == []
