"""RunsTableModel/RunsSortProxy: display formatting, numeric sorting with missing values last,
header tooltips."""
from PySide6.QtCore import Qt

from guiapp.widgets.runs_table_model import (MIOU_TOOLTIP, RunsSortProxy, RunsTableModel,
                                             format_cell)


def test_format_cell():
    assert format_cell("best_miou", 0.123456) == "0.1235"
    assert format_cell("gflops", 12.345) == "12.35"
    assert format_cell("epochs", 10) == "10"
    assert format_cell("best_miou", None) == "–" and format_cell("x", float("nan")) == "–"
    assert format_cell("train_seconds", 125.0) == "2:05"


def test_numeric_sort_missing_last(qtbot):
    m = RunsTableModel()
    rows = [{"run": "a", "gflops": 9.0}, {"run": "b", "gflops": None},
            {"run": "c", "gflops": 10.0}, {"run": "d", "gflops": 100.0}]
    m.set_rows(rows, ["/a", "/b", "/c", "/d"], [("run", "run"), ("gflops", "GFLOPs")])
    p = RunsSortProxy()
    p.setSourceModel(m)
    p.sort(1, Qt.SortOrder.AscendingOrder)
    assert [p.index(r, 0).data() for r in range(4)] == ["a", "c", "d", "b"]
    p.sort(0, Qt.SortOrder.DescendingOrder)
    assert [p.index(r, 0).data() for r in range(4)] == ["d", "c", "b", "a"]
    assert m.headerData(1, Qt.Orientation.Horizontal) == "GFLOPs"
    m.set_rows(rows, ["/a"] * 4, [("best_miou", "best mIoU")])
    assert m.headerData(0, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole) == MIOU_TOOLTIP
