"""The application icon: shipped in guiapp/resources, set on the app and the main window, and the
PNG is the SVG's current rendering (re-render with `python -m guiapp.app_icon`)."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

from guiapp.app_icon import PNG_SIZE, app_icon, icon_png, icon_svg, render_png


def pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    return np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.width(), 4).copy()


def test_png_is_the_svg_rendered_at_256(qapp):
    png = QImage(str(icon_png()))
    assert (png.width(), png.height()) == (PNG_SIZE, PNG_SIZE)
    a, b = pixels(png).astype(int), pixels(render_png(icon_svg())).astype(int)
    assert np.abs(a - b).max() <= 2
    assert a[0, 0, 3] == 0 and a[128, 128, 3] == 255  # transparent corners, opaque tile


def test_icon_loads_and_is_set_on_app_and_window(qapp, tmp_path):
    from PySide6.QtCore import QSettings

    from guiapp.app_state import AppState
    from guiapp.main import make_app
    from guiapp.main_window import MainWindow

    icon = app_icon()
    assert not icon.isNull() and icon.pixmap(64, 64).width() == 64
    app = make_app()
    assert not app.windowIcon().isNull() and app.desktopFileName() == "roadseg"
    window = MainWindow(AppState(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
                                 runs_root=tmp_path / "runs"))
    try:
        assert window.windowIcon().cacheKey() != 0 and not window.windowIcon().isNull()
        shown = window.windowIcon().pixmap(32, 32).toImage()
        assert shown.width() == 32 and QImage(shown).pixelColor(16, 16).alpha() == 255
    finally:
        window.close()
        window.deleteLater()
