"""The one object every view shares: the open dataset, the runs folder, and the signals that keep
views in step (a finished run refreshes the experiments table, a new dataset refreshes the rest).

Views never talk to each other directly; they read and write AppState and listen to its signals.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QStandardPaths, Signal

ORGANISATION = "roadseg"
APPLICATION = "roadseg-gui"


def user_data_dir() -> Path:
    """The per-user folder for the demo dataset and default runs (QStandardPaths AppDataLocation).

    Falls back to ~/.local/share/roadseg when Qt has no application name (e.g. a bare script)."""
    loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    if not loc:
        return Path.home() / ".local" / "share" / ORGANISATION
    return Path(loc)


class AppState(QObject):
    """Shared state of the workbench.

    Signals:
        dataset_changed(object)  -- the new core DataSource (or None)
        runs_root_changed(str)   -- the runs folder path
        run_finished(str)        -- a run directory that just finished (or was cancelled)
        eval_done(object)        -- a core EvalResult from the evaluate view
    """

    dataset_changed = Signal(object)
    runs_root_changed = Signal(str)
    run_finished = Signal(str)
    eval_done = Signal(object)

    def __init__(self, settings: QSettings | None = None, runs_root: str | Path | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        # Tests pass an ini-file QSettings so they never touch the user's real settings.
        self.settings = settings if settings is not None else QSettings(ORGANISATION, APPLICATION)
        self.source = None
        if runs_root is None:
            saved = self.settings.value("paths/runs_root", "", type=str)
            runs_root = saved or (user_data_dir() / "runs")
        self.runs_root = Path(runs_root)

    def set_source(self, src) -> None:
        """Make `src` (a core DataSource) the open dataset and tell every view."""
        self.source = src
        if src is not None:
            self.settings.setValue("paths/last_dataset", str(src.root))
        self.dataset_changed.emit(src)

    def set_runs_root(self, path: str | Path) -> None:
        """Point the app at another runs folder (created on demand when a run starts)."""
        self.runs_root = Path(path)
        self.settings.setValue("paths/runs_root", str(self.runs_root))
        self.runs_root_changed.emit(str(self.runs_root))
