"""`roadseg-gui [--data DIR] [--runs DIR]`: start the workbench.

With no --data it opens the built-in synthetic demo set (generated once into the user's data
folder), so the app always starts on something to look at and train."""
from __future__ import annotations

import argparse
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from guiapp.app_state import APPLICATION, ORGANISATION


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="roadseg-gui", description=__doc__.splitlines()[0])
    p.add_argument("--data", metavar="DIR", help="dataset folder (CamVid, Cityscapes or "
                                                  "image/mask folders); default: the demo set")
    p.add_argument("--format", default="auto", help="dataset format (default: auto-detect)")
    p.add_argument("--runs", metavar="DIR", help="runs folder (default: user data folder/runs)")
    p.add_argument("--install-desktop-entry", action="store_true",
                   help="add roadseg to the desktop's application menu ($XDG_DATA_HOME/applications "
                        "and its icon theme, default ~/.local/share) and exit")
    return p.parse_args(argv)


def make_app() -> QApplication:
    """The QApplication with names set first (QSettings and AppDataLocation depend on them)."""
    app = QApplication.instance()
    if app is None:
        QApplication.setOrganizationName(ORGANISATION)
        QApplication.setApplicationName(APPLICATION)
        app = QApplication(sys.argv[:1])
    from guiapp import style
    from guiapp.app_icon import ICON_NAME, app_icon

    app.setWindowIcon(app_icon())
    app.setDesktopFileName(ICON_NAME)  # Wayland shells match the window to roadseg.desktop

    style.apply(app)
    return app


def build(args: argparse.Namespace):
    """Create state and window and schedule the initial dataset (testable without exec())."""
    from guiapp.app_state import AppState
    from guiapp.main_window import MainWindow

    state = AppState(runs_root=args.runs)
    if args.runs:
        state.set_runs_root(args.runs)
    window = MainWindow(state)
    if args.data:
        QTimer.singleShot(0, lambda: window.open_dataset(args.data, args.format))
    else:
        QTimer.singleShot(0, window.open_demo)
    return state, window


def install_desktop_entry() -> int:
    from guiapp.desktop_entry import install

    try:
        entry = install()
    except OSError as exc:
        print(f"roadseg-gui: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {entry.desktop_file}")
    for icon in entry.icons:
        print(f"wrote {icon}")
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.install_desktop_entry:
        return install_desktop_entry()
    app = make_app()
    _state, window = build(args)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
