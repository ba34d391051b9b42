"""ExperimentsView over a runs folder made by really training a tiny run: the table shows
summary.json's numbers, sorts numerically, overlays curves of selected runs, exports CSV and
Markdown with core's formatting, and the scatter has one point per run."""
from __future__ import annotations

import json
import shutil

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog

from core.runs import list_runs, runs_table, table_to_csv, table_to_markdown
from guiapp.app_state import AppState
from guiapp.views.experiments_view import ExperimentsView
from guiapp.widgets.runs_table_model import KEY_ROLE, MIOU_TOOLTIP
from tests.guiapp.tiny_runs import fake_copy, tiny_runs


@pytest.fixture
def runs(tmp_path, tmp_path_factory, synth_data):
    """The real run plus two edited copies: 3 rows whose numbers sort differently as text."""
    real = tiny_runs(tmp_path_factory, synth_data)
    root = tmp_path / "runs"
    shutil.copytree(real, root)
    fake_copy(root / "base-adam", root / "unet-sgd", config={"arch": "unet", "optimizer": "sgd"},
              best_miou=0.5, gflops=12.0, efficiency=100 * 0.5 / 12.0, params=31_000_000)
    fake_copy(root / "base-adam", root / "fpn-adam", config={"arch": "fpn"},
              best_miou=0.45, gflops=3.0, efficiency=150.0, params=9_000_000)
    return root


@pytest.fixture
def view(qtbot, tmp_path, runs):
    state = AppState(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
                     runs_root=runs)
    v = ExperimentsView(state)
    qtbot.addWidget(v)
    v.resize(1200, 800)
    return v


def column(view, key: str) -> int:
    return [k for k, _ in view.model.columns].index(key)


def shown(view, key: str) -> list[str]:
    c = column(view, key)
    return [view.proxy.index(r, c).data() for r in range(view.proxy.rowCount())]


def test_table_lists_real_run_with_summary_numbers(view, runs):
    summary = json.loads((runs / "base-adam" / "summary.json").read_text())
    assert view.proxy.rowCount() == 3
    row = shown(view, "run").index("base-adam")
    get = lambda key: view.proxy.index(row, column(view, key)).data()  # noqa: E731
    assert get("arch") == "baseline" and get("optimizer") == "adam" and get("loss") == "ce"
    assert get("epochs") == "1"
    assert get("best_miou") == f"{summary['best_miou']:.4f}"
    assert get("gflops") == f"{summary['gflops']:.2f}"
    assert get("efficiency") == f"{summary['efficiency']:.2f}"
    assert get("params_m") == f"{summary['params'] / 1e6:.2f}"
    assert abs(summary["efficiency"] - 100 * summary["best_miou"] / summary["gflops"]) < 1e-9
    # raw numbers behind the text are summary.json's own values
    raw = view.proxy.index(row, column(view, "best_miou")).data(Qt.ItemDataRole.UserRole + 1)
    assert raw == summary["best_miou"]


def test_miou_header_tooltip_explains_computation(view):
    tip = view.model.headerData(column(view, "best_miou"), Qt.Orientation.Horizontal,
                                Qt.ItemDataRole.ToolTipRole)
    assert tip == MIOU_TOOLTIP
    assert "confusion matrix" in tip and "void" in tip and "present" in tip


def test_sorting_is_numeric(view, runs):
    eff = {r["run"]: r["efficiency"] for r in runs_table(list_runs(runs))}
    numeric = sorted(eff, key=eff.get)
    as_text = sorted(eff, key=lambda n: f"{eff[n]:.2f}")
    assert numeric != as_text          # 4.17 < ~20 < 150 but "150.00" < "20.xx" < "4.17"
    view.table.sortByColumn(column(view, "efficiency"), Qt.SortOrder.AscendingOrder)
    assert shown(view, "run") == numeric
    view.table.sortByColumn(column(view, "efficiency"), Qt.SortOrder.DescendingOrder)
    assert shown(view, "run") == numeric[::-1]
    view.table.sortByColumn(column(view, "params_m"), Qt.SortOrder.DescendingOrder)
    assert shown(view, "run") == ["unet-sgd", "fpn-adam", "base-adam"]   # 31 M, 9 M, 2.5 M


def test_selecting_rows_overlays_curves(view, runs):
    assert view.curves.curve_count() == 0
    view.select_runs(str(runs / "base-adam"))
    assert view.curves.curve_count() == 3          # mIoU, train loss, val loss
    view.select_runs(str(runs / "base-adam"), str(runs / "unet-sgd"), str(runs / "fpn-adam"))
    assert view.curves.curve_count() == 9
    assert sorted(view.curves.labels) == ["base-adam", "fpn-adam", "unet-sgd"]
    epochs = list_runs(runs)[0].epochs
    item = view.curves.miou_plot.listDataItems()[0]
    assert list(item.yData) == pytest.approx([e["miou"] for e in epochs])
    # the scatter rings the selected runs
    assert len(view.pareto._highlight.points()) == 3


def test_export_csv_and_markdown_use_core_formatting(view, runs, tmp_path, monkeypatch):
    target = {"path": str(tmp_path / "table.csv")}
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (target["path"], "CSV files (*.csv)"))
    view.table.sortByColumn(column(view, "run"), Qt.SortOrder.AscendingOrder)
    rows = runs_table(list_runs(runs))          # folder order = by name = this sort
    assert view.export("csv") == target["path"]
    assert (tmp_path / "table.csv").read_text() == table_to_csv(rows)
    target["path"] = str(tmp_path / "table")      # extension added when missing
    assert view.export("md") == str(tmp_path / "table.md")
    assert (tmp_path / "table.md").read_text() == table_to_markdown(rows)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    assert view.export("csv") is None


def test_export_follows_the_sort_order(view, tmp_path, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "t.csv"), ""))
    view.table.sortByColumn(column(view, "params_m"), Qt.SortOrder.AscendingOrder)
    view.export("csv")
    lines = (tmp_path / "t.csv").read_text().splitlines()
    assert [ln.split(",")[0] for ln in lines[1:]] == ["base-adam", "fpn-adam", "unet-sgd"]


def test_scatter_one_point_per_run_and_click_selects(view, runs):
    assert view.pareto.point_count() == 3
    assert set(view.pareto.scatters) == {"baseline", "unet", "fpn"}
    # front: baseline (0.17 GFLOPs) -> fpn (3, 0.45) -> unet (12, 0.5)
    assert [k.split("/")[-1] for k in view.pareto.front_keys] == ["base-adam", "fpn-adam",
                                                                  "unet-sgd"]
    sc = view.pareto.scatters["unet"]
    view.pareto._clicked(sc, sc.points())
    assert view.selected_keys() == [str(runs / "unet-sgd")]
    tip = view.pareto._tip(0, 0, str(runs / "unet-sgd"))
    assert "unet-sgd" in tip and "0.500" in tip


def test_refresh_on_run_finished_and_root_change(view, runs, tmp_path):
    fake_copy(runs / "base-adam", runs / "zz-new", best_miou=0.3, gflops=1.0)
    view.state.run_finished.emit(str(runs / "zz-new"))
    assert view.proxy.rowCount() == 4
    empty = tmp_path / "empty"
    empty.mkdir()
    view.state.set_runs_root(empty)
    assert view.proxy.rowCount() == 0 and view.pareto.point_count() == 0
    assert view.curves.curve_count() == 0


def test_keys_are_run_folders(view, runs):
    keys = {view.proxy.index(r, 0).data(KEY_ROLE) for r in range(view.proxy.rowCount())}
    assert keys == {str(runs / n) for n in ("base-adam", "unet-sgd", "fpn-adam")}
