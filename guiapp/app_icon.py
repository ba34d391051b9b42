"""The application icon, read from the installed package (guiapp/resources), never from the
source tree, so a wheel install shows the same icon as a checkout.

`python -m guiapp.app_icon` re-renders roadseg.png from roadseg.svg after the drawing changes
(a test checks that the two agree)."""
from __future__ import annotations

import sys
from importlib.resources import as_file, files
from pathlib import Path

ICON_NAME = "roadseg"  # the name the desktop entry and the hicolor icon theme use
PNG_SIZE = 256


def resource(name: str) -> Path:
    """A file of guiapp/resources as a filesystem path (it is one in any non-zipped install)."""
    with as_file(files("guiapp") / "resources" / name) as path:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: guiapp resource missing (a broken install?)")
        return Path(path)


def icon_svg() -> Path:
    return resource(f"{ICON_NAME}.svg")


def icon_png() -> Path:
    return resource(f"{ICON_NAME}.png")


def app_icon():
    """A QIcon with the scalable drawing and the 256 px rendering (for platforms without SVG)."""
    from PySide6.QtGui import QIcon

    icon = QIcon(str(icon_svg()))
    icon.addFile(str(icon_png()))
    return icon


def render_png(svg: Path, size: int = PNG_SIZE):
    """The SVG drawn by Qt's renderer into a size x size ARGB QImage."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg}: not an SVG drawing Qt can render")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    svg = Path(__file__).resolve().parent / "resources" / f"{ICON_NAME}.svg"
    out = svg.with_suffix(".png")
    if not render_png(svg).save(str(out)):
        print(f"cannot write {out}", file=sys.stderr)
        return 1
    print(f"wrote {out} ({PNG_SIZE} px)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
