"""Import / Export Labels dialog: drives core through the form, opens the imported dataset,
shows bad input in the error dialog, and the File menu has both entries."""
import json

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from core.data.source import open_dataset
from guiapp.widgets.label_io_dialog import LabelIODialog, open_label_io
from tests.core.labelformats.conftest import LABELME_A, labelme_dir, labelme_doc, shape, write_rgb  # noqa: F401


def _run(qtbot, dialog) -> None:
    assert dialog.start()
    assert not dialog.run_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.task.is_finished and dialog.run_button.isEnabled(), timeout=20000)


def test_import_labelme_writes_the_dataset_and_emits_it(qtbot, labelme_dir, tmp_path):  # noqa: F811
    dialog = LabelIODialog("import")
    qtbot.addWidget(dialog)
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("labelme"))
    dialog.input_edit.setText(str(labelme_dir))
    dialog.split_edit.setText("val")
    dialog.out_edit.setText(str(tmp_path / "ds"))
    with qtbot.waitSignal(dialog.imported, timeout=20000) as sig:
        assert dialog.start()
    assert sig.args == [str(tmp_path / "ds")]
    qtbot.waitUntil(lambda: dialog.task.is_finished)
    src = open_dataset(tmp_path / "ds")
    assert src.splits == ["val"]
    np.testing.assert_array_equal(src.read_mask(src.samples("val")[0]), LABELME_A)
    assert dialog.progress.value() == dialog.progress.maximum() == 1


def test_import_error_goes_to_the_error_dialog(qtbot, tmp_path, errors):
    write_rgb(tmp_path / "in" / "a.png", 4, 4)
    (tmp_path / "in" / "a.json").write_text("{broken")
    dialog = LabelIODialog("import")
    qtbot.addWidget(dialog)
    dialog.input_edit.setText(str(tmp_path / "in"))
    dialog.out_edit.setText(str(tmp_path / "ds"))
    _run(qtbot, dialog)
    assert len(errors) == 1 and str(tmp_path / "in" / "a.json") in errors[0] and "not valid JSON" in errors[0]
    assert dialog.status.text().startswith("Failed") and not (tmp_path / "ds").exists()


def test_incomplete_form_and_yaml_choice(qtbot, tmp_path, errors):
    dialog = LabelIODialog("import")
    qtbot.addWidget(dialog)
    assert not dialog.start() and "Choose the labels" in errors[-1]
    dialog.classes_combo.setCurrentIndex(dialog.classes_combo.findData("file"))
    assert dialog.classes_edit.isEnabled()
    dialog.input_edit.setText(str(tmp_path))
    dialog.out_edit.setText(str(tmp_path / "ds"))
    assert not dialog.start() and "Choose a classes file" in errors[-1]
    dialog.classes_combo.setCurrentIndex(dialog.classes_combo.findData("cityscapes"))
    assert not dialog.classes_edit.isEnabled() and dialog.classes() == "cityscapes"


def _edge_project(tmp_path):
    """A labelme project as labelme writes it: a person traced off the bottom edge, a chair
    dragged wholly off the image, and its labels.txt."""
    d = tmp_path / "data_annotated"
    write_rgb(d / "2011_000006.jpg", 20, 30)
    doc = labelme_doc("2011_000006.jpg", 20, 30, [
        shape("person", [[2.2, 3.1], [12.9, 3.0], [12.4, 20.77], [2.6, 19.6]]),
        shape("chair", [[31, 2], [40, 2], [35, 9]])])
    (d / "2011_000006.json").write_text(json.dumps(doc))
    (tmp_path / "labels.txt").write_text("__ignore__\n_background_\nchair\nperson\n")
    return d


@pytest.mark.parametrize("choice", ["from-labels", "file"])
def test_import_of_edge_shapes_with_class_lists_shows_the_summary(qtbot, tmp_path, choice):
    d = _edge_project(tmp_path)
    dialog = LabelIODialog("import", open_after=False)
    qtbot.addWidget(dialog)
    dialog.input_edit.setText(str(d))
    dialog.classes_combo.setCurrentIndex(dialog.classes_combo.findData(choice))
    if choice == "file":
        dialog.classes_edit.setText(str(tmp_path / "labels.txt"))
    dialog.out_edit.setText(str(tmp_path / "ds"))
    _run(qtbot, dialog)
    src = open_dataset(tmp_path / "ds")
    expected = ("person", "chair") if choice == "from-labels" else ("_background_", "chair", "person")
    assert src.schema.names == expected
    person = src.read_mask(src.samples("train")[0])
    assert (person[19, 3:12] == expected.index("person")).all()  # drawn down to the last row
    lines = dialog.status.text().splitlines()
    assert lines[0] == f"Done: {tmp_path / 'ds'}"
    assert lines[1] == ("1 image written, 1 shape clipped at the image border, 1 skipped "
                        "(2011_000006.json: shape 2 (polygon 'chair'): outside the image)")


def test_export_of_one_split_as_coco(qtbot, synth_data, tmp_path):
    source = open_dataset(synth_data)
    dialog = LabelIODialog("export", source)
    qtbot.addWidget(dialog)
    splits = [dialog.split_combo.itemText(i) for i in range(dialog.split_combo.count())]
    assert splits == ["All splits", "train", "val"]
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("coco"))
    dialog.split_combo.setCurrentText("val")
    dialog.out_edit.setText(str(tmp_path / "coco"))
    _run(qtbot, dialog)
    assert dialog.result_path == tmp_path / "coco"
    doc = json.loads((tmp_path / "coco" / "val" / "_annotations.coco.json").read_text())
    assert len(doc["images"]) == len(source.samples("val"))
    assert not (tmp_path / "coco" / "train").exists()
    assert dialog.status.text() == f"Done: {tmp_path / 'coco'}"


@pytest.fixture
def window(qtbot, tmp_path):
    from guiapp.app_state import AppState
    from guiapp.main_window import MainWindow

    w = MainWindow(AppState(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
                            runs_root=tmp_path / "runs"))
    qtbot.addWidget(w)
    yield w
    for view in w.views.values():
        if hasattr(view, "shutdown"):
            view.shutdown()


def test_file_menu_entries_and_import_opens_the_dataset(qtbot, window, labelme_dir,  # noqa: F811
                                                        tmp_path, errors):
    file_menu = window.menuBar().actions()[0].menu()
    texts = [a.text().replace("&", "") for a in file_menu.actions()]
    assert "Import Labels…" in texts and "Export Labels…" in texts
    assert open_label_io(window, "export") is None and "Open a dataset first" in errors[-1]
    dialog = open_label_io(window, "import")
    dialog.input_edit.setText(str(labelme_dir))
    dialog.out_edit.setText(str(tmp_path / "ds"))
    assert dialog.open_check.isChecked()
    dialog.start()
    qtbot.waitUntil(lambda: window.state.source is not None, timeout=20000)
    assert window.state.source.root == tmp_path / "ds" and window.state.source.format == "folder"
    exporter = open_label_io(window, "export")
    assert exporter.source is window.state.source
    exporter.reject()
