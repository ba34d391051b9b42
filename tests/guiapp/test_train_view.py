"""TrainView: the form builds the right TrainConfig, options grey out per architecture, the queue
and grid helper, and real (tiny) training through the worker: curves, run_finished, queue, Stop,
and errors shown in a dialog while the window survives."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from guiapp.views.train_view import TrainView
from guiapp.widgets.train_form import MODEL_KEYS


@pytest.fixture
def view(train_view):
    return train_view


def tiny(view, epochs=1):
    """Baseline CNN, 32x48 images, batch 4, CPU: a run of a few seconds."""
    f = view.form
    f.arch.setCurrentText("baseline")
    f.height.setValue(32)
    f.width.setValue(48)
    f.batch_size.setValue(4)
    f.epochs.setValue(epochs)
    f.device.setCurrentText("cpu")
    f.augment.setCurrentText("none")
    f.schedule.setCurrentText("constant")


def test_dropdowns_change_the_config(view):
    f = view.form
    f.arch.setCurrentText("unet")
    f.encoder.setCurrentText("resnet34")
    f.loss.setCurrentText("focal")
    f.optimizer.setCurrentText("sgd")
    f.schedule.setCurrentText("cosine")
    f.augment.setCurrentText("strong")
    f.class_weights.setCurrentText("enet")
    f.lr.setValue(0.01)
    f.batch_size.setValue(8)
    f.epochs.setValue(3)
    f.height.setValue(128)
    f.width.setValue(160)
    f.dropout.setValue(0.2)
    f.norm.setCurrentText("group")
    f.skip.setChecked(False)
    cfg = view.build_config()
    assert (cfg.arch, cfg.encoder, cfg.loss, cfg.optimizer, cfg.schedule) == \
        ("unet", "resnet34", "focal", "sgd", "cosine")
    assert (cfg.augment, cfg.class_weights, cfg.batch_size, cfg.epochs) == ("strong", "enet", 8, 3)
    assert cfg.lr == pytest.approx(0.01) and cfg.image_size == (128, 160)
    assert (cfg.dropout, cfg.norm, cfg.skip) == (pytest.approx(0.2), "group", False)
    assert cfg.data == str(view.state.source.root) and cfg.workers == 0


def test_weight_average_is_off_by_default_and_set_from_its_box(view):
    f = view.form
    assert view.build_config().ema == 0.0 and f.ema.text() == "off"
    f.ema.setValue(0.999)
    assert view.build_config().ema == pytest.approx(0.999)
    f.set_config(view.build_config().replace(ema=0.99))
    assert f.ema.value() == pytest.approx(0.99)


def test_options_grey_out_where_they_do_not_apply(view):
    from core.models.registry import model_info

    f = view.form
    f.arch.setCurrentText("fpn")
    assert not f.output_stride.isEnabled() and f.skip.isEnabled()
    f.arch.setCurrentText("segformer")
    assert not f.skip.isEnabled() and f.output_stride.isEnabled()
    assert [f.encoder.itemText(i) for i in range(f.encoder.count())] == \
        list(model_info("segformer").encoders)
    f.arch.setCurrentText("deeplabv3")
    cfg = view.build_config()
    assert cfg.output_stride == model_info("deeplabv3").defaults["output_stride"]
    assert cfg.skip == model_info("deeplabv3").defaults["skip"]  # n/a: arch default, not the box
    f.arch.setCurrentText("baseline")
    assert all(w.isEnabled() for w in (f.dropout, f.output_stride, f.skip, f.norm))


def test_time_budget_box_and_a_plan_that_shortens_the_run(view):
    from core.engine.events import EpochDone, RunFinished, RunStarted, StepDone

    f = view.form
    assert view.build_config().time_budget == 0.0 and f.time_budget.text() == "off"
    f.time_budget.setValue(55)
    assert view.build_config().time_budget == 55.0
    f.set_config(view.build_config().replace(time_budget=20.0))
    assert f.time_budget.value() == 20
    f.set_config(view.build_config().replace(time_budget=0.5))  # half a minute is not "off"
    assert view.build_config().time_budget == 0.5
    # a run with a 55-minute budget: the bar is the budget's time, the epochs an estimate
    view._on_event(RunStarted("runs/x", {"time_budget": 55}, 0, 100, 10, 1000, "cpu", "bf16", 6.5, 5_750_000))
    assert view.progress.maximum() == 3300
    view._on_event(StepDone(1, 3, 3, 10, 0.9, 1e-3, 12.0, 3000.0))
    assert view.progress.value() == 300
    assert view.status.text() == "Epoch 1 of about 100 · step 3/10 · 12.0 img/s · 50:00 of the 55-min budget left"
    view._on_event(EpochDone(1, 1.0, 1.0, 0.2, 0.5, [], True, 30.0, 1e-3, 60))
    assert view._total_epochs == 60 and view.progress.maximum() == 3300
    view._on_event(RunFinished("runs/x", {"best_miou": 0.5, "budget": {
        "budget_s": 3300.0, "used_s": 3270.0, "epochs": 61, "last_epoch": "whole",
        "epoch_s": {"min": 30.0, "median": 31.0, "max": 90.0}}}, False))
    assert view.status.text() == "Finished · best mIoU 0.500 · 54.5 of 55 min used"
    assert "Last epoch: whole" in view.status.toolTip()


def test_boundary_head_box_applies_to_ddrnet_only(view):
    f = view.form
    f.arch.setCurrentText("ddrnet23-slim")
    assert f.boundary_head.isEnabled() and view.build_config().detail is False
    f.boundary_head.setChecked(True)
    cfg = view.build_config()
    assert cfg.detail is True and f.model_key()[6] is True  # a new key: the params change
    f.set_config(cfg.replace(detail=False))
    assert not f.boundary_head.isChecked()
    f.boundary_head.setChecked(True)
    f.arch.setCurrentText("unet")  # n/a there: greyed, unticked, and the config says False
    assert not f.boundary_head.isEnabled() and not f.boundary_head.isChecked()
    assert view.build_config().detail is False and "does not apply" in f.boundary_head.statusTip()


def _ddrnet_at_360x480(view):
    """The form showing DDRNet with its skip at 360x480, the size the cost labels are checked at."""
    f = view.form
    f.arch.setCurrentText("ddrnet23-slim")
    f.height.setValue(360)
    f.width.setValue(480)
    f.quarter_skip.setChecked(True)
    view.show()
    return f


def test_deeper_skip_box_needs_ddrnet_and_its_skip(qtbot, view):
    f = _ddrnet_at_360x480(view)
    assert f.refine.isEnabled() and view.build_config().refine is False
    f.refine.setChecked(True)
    cfg = view.build_config()
    assert cfg.refine is True and f.model_key()[MODEL_KEYS.index("refine")] is True
    from core.models.registry import OPTIONS
    assert MODEL_KEYS == ("arch", "encoder", *OPTIONS, "image_size")  # every model option counts
    # the cost label follows: +1.59 GFLOPs at 360x480 (two 64->64 3x3 convs at 90x120)
    qtbot.waitUntil(lambda: "8.11 GFLOPs" in f.cost_label.text(), timeout=20000)
    f.quarter_skip.setChecked(False)  # no skip path to deepen: greyed, and the config says False
    assert not f.refine.isEnabled() and view.build_config().refine is False
    f.set_config(cfg)  # a loaded config with skip + refine ticks both again
    assert f.quarter_skip.isChecked() and f.refine.isEnabled() and f.refine.isChecked()
    f.arch.setCurrentText("unet")  # n/a there
    assert not f.refine.isEnabled() and view.build_config().refine is False
    assert "does not apply" in f.refine.statusTip()


def test_strip_pooling_box_follows_the_architecture(qtbot, view):
    f = _ddrnet_at_360x480(view)
    assert f.strip.isEnabled() and view.build_config().strip is False
    f.strip.setChecked(True)
    cfg = view.build_config()
    assert cfg.strip is True and cfg.refine is False
    assert f.model_key()[MODEL_KEYS.index("strip")] is True
    # the cost label follows: 6.52 + 0.10 GFLOPs at 360x480 (core.models.ddrnet.StripPooling)
    qtbot.waitUntil(lambda: "6.62 GFLOPs" in f.cost_label.text(), timeout=20000)
    f.arch.setCurrentText("unet")  # n/a there: greyed, unticked, and the config says False
    assert not f.strip.isEnabled() and not f.strip.isChecked()
    assert view.build_config().strip is False and "does not apply" in f.strip.statusTip()
    f.set_config(cfg)  # a loaded config with strip ticks it again
    assert f.strip.isEnabled() and f.strip.isChecked()


def test_wce_picks_a_weighting_and_grid_queues_combinations(view):
    f = view.form
    f.loss.setCurrentText("wce")
    assert f.class_weights.currentText() == "median"
    f.class_weights.setCurrentText("none")
    q = view.queue
    for lw, names in ((q.losses, {"ce", "wce"}), (q.optimizers, {"adam", "sgd"})):
        for i in range(lw.count()):
            it = lw.item(i)
            it.setCheckState(Qt.CheckState.Checked if it.text() in names
                             else Qt.CheckState.Unchecked)
    q.grid_btn.click()
    combos = [(c.loss, c.optimizer, c.class_weights) for c, _ in q.entries]
    assert sorted(combos) == sorted([("ce", "adam", "none"), ("ce", "sgd", "none"),
                                     ("wce", "adam", "median"), ("wce", "sgd", "median")])
    assert view.start_btn.text() == "Start queue (4)"


def test_cost_label_shows_gflops(qtbot, view):
    tiny(view)
    view.show()
    qtbot.waitUntil(lambda: "GFLOPs" in view.form.cost_label.text(), timeout=20000)


def test_worker_error_shows_dialog(qtbot, view, errors):
    def broken(cfg, listeners):
        raise RuntimeError("boom: no such encoder")

    view.trainer_factory = broken
    tiny(view)
    view.start()
    qtbot.waitUntil(lambda: not view.is_running() and bool(errors), timeout=10000)
    assert "boom: no such encoder" in errors[0]
    assert view.queue.entries[0][1] == "failed"
    assert view.start_btn.isEnabled() and view.isVisible() is False  # never shown; still alive


def test_core_error_shows_dialog(qtbot, view, errors, monkeypatch):
    """A real Trainer failing on bad input (device missing) -> dialog, not a crash."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    tiny(view)
    cfg = view.build_config(device="cuda")
    view.queue.add(cfg)
    view.start()
    qtbot.waitUntil(lambda: not view.is_running() and bool(errors), timeout=30000)
    assert "cuda" in errors[0].lower()


@pytest.mark.slow
def test_tiny_training_updates_curves_and_finishes(qtbot, view, errors):
    tiny(view)
    finished: list[str] = []
    view.state.run_finished.connect(finished.append)
    view.start_btn.click()
    assert view.is_running()
    qtbot.waitUntil(lambda: bool(finished), timeout=120000)
    qtbot.waitUntil(lambda: not view.is_running(), timeout=10000)
    assert not errors
    counts = view.curves.point_counts()
    assert counts["steps"] >= 1 and counts["epochs"] == 1
    run_dir = Path(finished[0])
    assert run_dir.parent == view.state.runs_root
    assert run_dir.name.startswith("baseline-cnn-ce-adam-")
    assert (run_dir / "config.yaml").is_file() and (run_dir / "last.pt").is_file()
    assert view.queue.entries[0][1] == "done"
    assert view.progress.value() == view.progress.maximum()
    tip = view.status.toolTip()  # where the time went, from the run's summary
    assert tip.startswith("Where the run's time went: ") and "training" in tip and "total" not in tip


@pytest.mark.slow
def test_queue_of_two_runs_completes(qtbot, view, errors):
    tiny(view)
    view.add_to_queue()
    view.form.optimizer.setCurrentText("sgd")
    view.add_to_queue()
    finished: list[str] = []
    view.state.run_finished.connect(finished.append)
    view.start()
    qtbot.waitUntil(lambda: len(finished) == 2, timeout=180000)
    qtbot.waitUntil(lambda: not view.is_running(), timeout=10000)
    assert [s for _, s in view.queue.entries] == ["done", "done"]
    assert "-sgd-" in Path(finished[1]).name and finished[0] != finished[1]
    assert not errors


@pytest.mark.slow
def test_stop_cancels_and_keeps_last_checkpoint(qtbot, view, errors):
    tiny(view, epochs=200)
    finished: list[str] = []
    view.state.run_finished.connect(finished.append)
    view.start()
    qtbot.waitUntil(lambda: view.curves.point_counts()["steps"] >= 2, timeout=60000)
    view.stop_btn.click()
    qtbot.waitUntil(lambda: bool(finished), timeout=60000)
    qtbot.waitUntil(lambda: not view.is_running(), timeout=10000)
    assert view.queue.entries[0][1] == "cancelled"
    assert "Cancelled" in view.status.text()
    assert (Path(finished[0]) / "last.pt").is_file()
    assert not errors


def test_runs_queued_during_training_follow_and_running_ones_stay(qtbot, view, errors):
    """Queue edits while a batch trains: held entries cannot be removed, new ones run next."""
    import threading

    from tests.guiapp.test_train_worker import FakeTrainer

    gate = threading.Event()

    class Gated(FakeTrainer):
        def run(self):
            gate.wait(10)
            return super().run()

    view.trainer_factory = lambda cfg, listeners: Gated(cfg, listeners)
    finished: list[str] = []
    view.state.run_finished.connect(finished.append)
    tiny(view)
    view.start()
    qtbot.waitUntil(lambda: view.queue.entries[0][1] == "running", timeout=5000)
    view.queue.list.selectAll()
    view.queue.remove_selected()
    assert len(view.queue.entries) == 1  # the running run stays listed
    view.form.optimizer.setCurrentText("sgd")
    view.add_to_queue()
    gate.set()
    qtbot.waitUntil(lambda: len(finished) == 2 and not view.is_running() and view.start_btn.isEnabled(),
                    timeout=10000)
    assert [s for _, s in view.queue.entries] == ["done", "done"]
    assert not errors


# --- several processes (torchrun) ------------------------------------------------------------
def two_procs(view):
    if view.procs.maximum() < 2:
        pytest.skip("needs 2 GPUs or CPU cores")
    view.procs.setValue(2)


def test_processes_setting_persists(qtbot, view):
    two_procs(view)
    assert view.state.settings.value("train/processes", type=int) == 2
    again = TrainView(view.state)
    qtbot.addWidget(again)
    assert again.procs.value() == 2
    assert "processes" not in view.build_config().to_dict()  # a launch setting, not config


def test_batch_that_does_not_split_is_refused(view, errors):
    made = []
    view.run_factory = lambda cfg, n: made.append(cfg)
    tiny(view)
    two_procs(view)
    view.form.batch_size.setValue(3)
    view.start()
    assert errors and "multiple of 2" in errors[0]
    assert not view.is_running() and not made and not view.queue.entries


def test_torchrun_run_is_drawn_and_stop_reaches_it(qtbot, view, errors):
    """Fake TorchrunRun: events reach the curves (no img/s: one step per epoch), Stop cancels."""
    from tests.guiapp.test_torchrun_worker import FakeRun

    made = []

    def factory(cfg, nproc, mode="ok"):
        made.append(FakeRun(cfg, nproc, mode))
        return made[-1]

    view.run_factory = factory
    finished: list[str] = []
    view.state.run_finished.connect(finished.append)
    tiny(view)
    two_procs(view)
    view.start()
    assert view.is_running() and view._active is view.torchrun_runner
    assert not view.procs.isEnabled()
    qtbot.waitUntil(lambda: bool(finished) and not view.is_running() and view.procs.isEnabled(),
                    timeout=10000)  # the queued "thread finished" handler re-enables the form
    assert made[0].nproc == 2 and view.curves.point_counts()["epochs"] == 1
    assert view.queue.entries[0][1] == "done" and view.procs.isEnabled()

    view.run_factory = lambda cfg, n: factory(cfg, n, "hang")
    view.start()
    qtbot.waitUntil(lambda: view.queue.entries[-1][1] == "running", timeout=5000)
    qtbot.waitUntil(lambda: "ETA" in view.status.text(), timeout=5000)
    assert "img/s" not in view.status.text()
    view.stop_btn.click()
    qtbot.waitUntil(lambda: len(finished) == 2 and not view.is_running() and view.start_btn.isEnabled(),
                    timeout=10000)
    assert made[-1].stop_requested and view.queue.entries[-1][1] == "cancelled"
    assert "Cancelled" in view.status.text() and view.start_btn.isEnabled()
    assert not errors


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")
def test_tiny_torchrun_training_through_the_view(qtbot, view, errors):
    """A real 2-process torchrun run (CPU, gloo): the epoch point, run_finished, summary.json."""
    tiny(view)
    view.form.norm.setCurrentText("group")
    two_procs(view)
    finished: list[str] = []
    view.state.run_finished.connect(finished.append)
    view.start()
    qtbot.waitUntil(lambda: not view.is_running(), timeout=180000)
    assert not errors and len(finished) == 1
    assert view.curves.point_counts()["epochs"] == 1
    assert (Path(finished[0]) / "summary.json").is_file()
    assert view.queue.entries[0][1] == "done"


def test_data_path_box_sets_the_config_and_a_streamed_run_says_so(qtbot, view, errors):
    f = view.form
    assert view.build_config().data_path == "auto" and f.data_path.currentText() == "auto"
    f.set_config(view.build_config().replace(data_path="memory"))
    assert f.data_path.currentText() == "memory"
    tiny(view)
    f.data_path.setCurrentText("stream")
    assert view.build_config().data_path == "stream"
    finished: list[str] = []
    view.state.run_finished.connect(finished.append)
    view.start_btn.click()
    qtbot.waitUntil(lambda: bool(finished), timeout=120000)
    qtbot.waitUntil(lambda: not view.is_running(), timeout=10000)
    assert not errors
    assert "data: streamed from the files" in view.header.text()
    assert view.header.toolTip().startswith("data: streamed from the files, validation cached (asked for;")
