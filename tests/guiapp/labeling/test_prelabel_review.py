"""Pre-label from a real (tiny, really trained) checkpoint, copy the prediction with the brush, and
rank the split by uncertainty / error — all through the LabelView, with the model running in
background threads."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from core.evaluate import Predictor
from core.labeling.review import image_error, image_uncertainty
from tests.guiapp.labeling.label_helpers import (dataset, errors, key, make_view, mview, runs,  # noqa: F401
                                                 stroke)


def _choose_model(view, runs):
    ckpt = str(runs / "base-adam" / "best.pt")
    i = view.picker.combo.findData(ckpt)
    assert i > 0, "the trained run is listed under the runs folder"
    view.picker.combo.setCurrentIndex(i)
    return ckpt


def test_prelabel_then_take_prediction(qtbot, mview, runs, dataset, errors):
    ckpt = _choose_model(mview, runs)
    sample = dataset.samples("train")[0]
    expected = Predictor.from_checkpoint(ckpt, device="cpu").predict(dataset.read_image(sample)).mask
    qtbot.waitUntil(lambda: mview.editor.session.prediction is not None, timeout=20000)
    original = mview.editor.session.mask.copy()
    mview.prelabel_button.click()
    qtbot.waitUntil(lambda: np.array_equal(mview.editor.session.mask, expected), timeout=20000)
    assert mview.editor.session.dirty and not errors
    key(qtbot, mview, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(mview.editor.session.mask, original)

    key(qtbot, mview, Qt.Key.Key_T)  # take the prediction here
    mview.editor.set_brush_size(5)
    stroke(mview, [(10, 30), (80, 30)])
    m = mview.editor.session.mask
    assert np.array_equal(m[28:33, 10:81], expected[28:33, 10:81])
    assert np.array_equal(m[:20], original[:20])  # outside the brushed band nothing changed


def test_review_queue_orders_by_uncertainty_and_error(qtbot, mview, runs, dataset):
    ckpt = _choose_model(mview, runs)
    pred = Predictor.from_checkpoint(ckpt, device="cpu")
    samples = dataset.samples("train")
    unc, err = {}, {}
    for s in samples:
        p = pred.predict(dataset.read_image(s))
        unc[s.name] = image_uncertainty(p.entropy)
        err[s.name] = image_error(p.mask, dataset.read_mask(s), dataset.schema.num_classes)

    mview.review.mode.setCurrentIndex(mview.review.mode.findData("uncertainty"))
    qtbot.waitUntil(lambda: bool(mview.review.items) and not mview.review.running, timeout=30000)
    names = mview.image_list.names()
    assert names == sorted(unc, key=lambda n: (-unc[n], n))
    assert mview.image_list.topLevelItem(0).text(1) == f"{unc[names[0]]:.3f}"

    mview.review.mode.setCurrentIndex(mview.review.mode.findData("error"))  # no second pass
    names = mview.image_list.names()
    assert names == sorted(err, key=lambda n: (-err[n], n))

    mview.open_image(names[0])
    key(qtbot, mview, Qt.Key.Key_N)
    assert mview.current_name() == names[1]
    key(qtbot, mview, Qt.Key.Key_PageDown)
    assert mview.current_name() == names[2]
    key(qtbot, mview, Qt.Key.Key_PageUp)
    assert mview.current_name() == names[1]


def test_no_model_gives_a_note_not_an_error(qtbot, mview, errors):
    mview.prelabel_button.click()
    assert "model" in mview.note.text().lower() and not errors
    key(qtbot, mview, Qt.Key.Key_T)
    stroke(mview, [(10, 10), (20, 10)])
    assert "prediction" in mview.note.text().lower()
    assert len(mview.editor.session.history) == 0
