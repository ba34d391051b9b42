"""The built-in demo dataset: synthetic road scenes generated once into the user's data folder, so
`roadseg-gui` with no arguments opens on something real to browse and train.

Generation runs in a background thread behind a QProgressDialog (Cancel works). A marker file is
written only after the last image, so an interrupted generation is redone next time instead of
opening a half dataset. Folder, count and size are parameters: tests make a tiny one elsewhere.
"""
from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QEventLoop, Qt
from PySide6.QtWidgets import QProgressDialog, QWidget

from guiapp.app_state import user_data_dir
from guiapp.workers.background import run_in_background

DEMO_COUNT = 120
DEMO_SIZE = (360, 480)
MARKER = ".roadseg-demo.json"


class _Cancelled(Exception):
    pass


def default_demo_dir() -> Path:
    return user_data_dir() / "demo"


def demo_ready(folder: Path, count: int, size: tuple[int, int]) -> bool:
    """True when `folder` holds a complete demo set of this count and size."""
    try:
        meta = json.loads((Path(folder) / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return meta.get("count") == count and tuple(meta.get("size", ())) == tuple(size)


def ensure_demo(parent: QWidget | None = None, folder: str | Path | None = None,
                count: int = DEMO_COUNT, size: tuple[int, int] = DEMO_SIZE) -> Path | None:
    """Return the demo folder, generating it first (with a progress dialog) when needed.
    Returns None when the person cancels; raises the generator's error on failure."""
    from core.data.synth import generate_synthetic

    folder = Path(folder) if folder is not None else default_demo_dir()
    if demo_ready(folder, count, size):
        return folder

    dialog = QProgressDialog(f"Generating the demo dataset ({count} road scenes)…", "Cancel",
                             0, count, parent)
    dialog.setWindowTitle("roadseg")
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)
    dialog.setValue(0)
    loop = QEventLoop()
    outcome: dict = {}

    def work(progress, cancelled):
        def report(done, total):
            if cancelled():
                raise _Cancelled()
            progress(done, total)

        generate_synthetic(folder, count=count, size=size, seed=0, progress=report)
        (folder / MARKER).write_text(json.dumps({"count": count, "size": list(size)}))
        return folder

    def done(path):
        outcome["path"] = path
        loop.quit()

    def failed(message, tb):
        outcome["error"] = message
        loop.quit()

    task = run_in_background(work, done, failed, lambda d, t: dialog.setValue(d))

    def cancel():
        task.cancel()
        outcome["cancelled"] = True
        loop.quit()

    dialog.canceled.connect(cancel)
    loop.exec()
    task.thread.wait()
    dialog.canceled.disconnect(cancel)  # close() emits canceled; it must not count as one
    dialog.close()
    dialog.deleteLater()
    if outcome.get("cancelled"):
        return None
    if "error" in outcome:
        raise RuntimeError(f"{folder}: could not generate the demo dataset: {outcome['error']}")
    return outcome["path"]
