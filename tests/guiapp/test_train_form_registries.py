"""The Train form's optimizer, schedule, loss and class-weight dropdowns list core's registries,
each entry with its help line as tooltip, so a newly registered optimizer needs no GUI edit."""
from __future__ import annotations

import torch
from PySide6.QtCore import Qt

import core.optim
from core.data.stats import weighting_specs
from core.losses import loss_specs
from core.optim import optimizer_specs, register_optimizer, schedule_specs


def _form(qtbot):
    from guiapp.widgets.train_form import TrainForm

    form = TrainForm()
    qtbot.addWidget(form)
    return form


def _entries(box):
    return [(box.itemText(i), box.itemData(i, Qt.ItemDataRole.ToolTipRole)) for i in range(box.count())]


def test_dropdowns_list_the_registries_with_their_help_lines(qtbot):
    form = _form(qtbot)
    assert _entries(form.optimizer) == [(s.name, s.help) for s in optimizer_specs().values()]
    assert _entries(form.schedule) == [(s.name, s.help) for s in schedule_specs().values()]
    assert _entries(form.loss) == [(s.name, s.help) for s in loss_specs().values()]
    assert _entries(form.class_weights) == [("none", "unweighted")] + [
        (s.name, s.help) for s in weighting_specs().values()]


def test_a_registered_optimizer_appears_and_reaches_the_config(qtbot, monkeypatch):
    monkeypatch.setattr(core.optim, "_OPTIMIZERS", dict(core.optim._OPTIMIZERS))
    register_optimizer("adagrad", "Adagrad")(
        lambda params, lr, weight_decay, momentum, nesterov: torch.optim.Adagrad(params, lr=lr))
    form = _form(qtbot)
    assert form.optimizer.itemText(form.optimizer.count() - 1) == "adagrad"
    form.optimizer.setCurrentText("adagrad")
    assert form.build_config().optimizer == "adagrad"
