"""One look for the whole app: Fusion style, a light palette, and pyqtgraph plots that match it
(white background, dark axes, antialiased lines). Views use the colour constants below instead of
inventing their own, so plots read the same everywhere."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = "#2f6fb3"        # primary curves, selection
ACCENT_2 = "#d9822b"      # second series (validation, mIoU)
ACCENT_3 = "#3a9a5b"      # third series (learning rate, success)
MUTED = "#9aa7b4"         # raw/noisy data drawn under a smoothed line
TEXT_MUTED = "#5b6670"
DANGER = "#c0392b"

STYLESHEET = """
QGroupBox { font-weight: 600; border: 1px solid #d5dbe1; border-radius: 6px;
            margin-top: 10px; padding: 8px 6px 6px 6px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; color: #34495e; }
QTabWidget::pane { border-top: 1px solid #d5dbe1; }
QTabBar::tab { padding: 6px 16px; }
QPushButton { padding: 5px 12px; }
QPushButton#primary { background: #2f6fb3; color: white; border-radius: 4px; font-weight: 600;
                      border: 1px solid #25588f; }
QPushButton#primary:disabled { background: #9fb6cf; border-color: #9fb6cf; }
QPushButton#danger { color: #c0392b; }
QLabel#heading { font-size: 13pt; font-weight: 600; color: #2c3e50; }
QLabel#muted { color: #5b6670; }
QLabel#metric { font-size: 11pt; font-weight: 600; color: #2c3e50; }
QListView, QListWidget, QTableWidget { border: 1px solid #d5dbe1; border-radius: 4px; }
QSplitter::handle { background: #e6eaee; }
"""


def configure_pyqtgraph() -> None:
    """Plots on white with dark ink; called before any plot widget is created."""
    pg.setConfigOptions(background="w", foreground="#34495e", antialias=True)


def apply(app: QApplication) -> None:
    """Apply the app-wide style to `app` (idempotent)."""
    app.setStyle("Fusion")
    pal = app.palette()
    pal.setColor(QPalette.ColorRole.Window, QColor("#f4f6f8"))
    pal.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    pal.setColor(QPalette.ColorRole.AlternateBase, QColor("#f0f3f6"))
    pal.setColor(QPalette.ColorRole.Highlight, QColor(ACCENT))
    pal.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    app.setPalette(pal)
    app.setStyleSheet(STYLESHEET)
    configure_pyqtgraph()


def format_seconds(seconds: float | None) -> str:
    """ETA-style duration: 42s, 3:05, 1:02:09."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "–"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"
