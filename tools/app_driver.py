"""Shared bits for the scripts that drive the app's windows: waiting on the event loop, a
throw-away AppState, and saving a screenshot small enough for the README."""
from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QWidget

SCREENSHOTS = Path(__file__).resolve().parents[1] / "resources" / "screenshots"  # the README's


def wait(ms: int) -> None:
    """Run the event loop for `ms` (QEventLoop.exec lets the model threads have the GIL and the
    training thread's signals arrive; QTest.qWait does not)."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def scratch_state(prefix: str, runs_root: str | Path | None = None):
    """(temporary folder, AppState) with settings in that folder, so a script never reads or
    changes the user's own settings and recent runs."""
    from guiapp.app_state import AppState

    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    settings = QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat)
    return tmp, AppState(settings, runs_root=runs_root or tmp / "runs")


def show_at(widget: QWidget, size: str) -> None:
    """Show `widget` as a window of `size` ("WxH") and let it lay out."""
    w, h = (int(v) for v in size.split("x"))
    widget.resize(w, h)
    widget.show()
    widget.activateWindow()
    wait(300)


def save_screenshot(widget: QWidget, out: str | Path, scratch: Path) -> Path:
    """Grab `widget` and save it to `out` as a 256-colour PNG without dithering: readable and
    small (Pillow comes with torchvision)."""
    from PIL import Image

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    raw = scratch / "raw.png"
    widget.grab().save(str(raw))
    Image.open(raw).convert("RGB").quantize(256, dither=Image.Dither.NONE).save(out, optimize=True)
    return out
