"""`roadseg-gui --install-desktop-entry`: make the installed app show up in the desktop's
application menu like any other, with its icon.

Writes, following the freedesktop specifications (Desktop Entry 1.5, Icon Theme):
    $XDG_DATA_HOME/applications/roadseg.desktop        (from the template in guiapp/resources)
    $XDG_DATA_HOME/icons/hicolor/scalable/apps/roadseg.svg
    $XDG_DATA_HOME/icons/hicolor/256x256/apps/roadseg.png
with XDG_DATA_HOME defaulting to ~/.local/share. Exec is the `roadseg-gui` script beside the
Python that runs this (the venv's), so the entry starts this installation, not whatever is on PATH.
"""
from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from guiapp.app_icon import ICON_NAME, PNG_SIZE, icon_png, icon_svg, resource

DESKTOP_FILE = f"{ICON_NAME}.desktop"
TEMPLATE = f"{ICON_NAME}.desktop.in"


@dataclass
class InstalledEntry:
    desktop_file: Path
    icons: list[Path]


def data_home(environ=None) -> Path:
    """$XDG_DATA_HOME when set to an absolute path (the spec ignores relative ones), else
    ~/.local/share."""
    env = os.environ if environ is None else environ
    value = env.get("XDG_DATA_HOME", "")
    return Path(value) if value and os.path.isabs(value) else Path.home() / ".local" / "share"


def quote_exec_arg(arg: str) -> str:
    """One Exec argument, quoted as the Desktop Entry spec requires when it has reserved
    characters (space, quotes, $, \\, ` and friends)."""
    arg = arg.replace("%", "%%")  # a literal % (a single one starts a field code)
    if arg and not re.search(r"[\s\"'\\><~|&;$*?#()`]", arg):
        return arg
    escaped = re.sub(r'(["`$\\])', r"\\\1", arg)
    # the whole value is also a string value, where a backslash itself is escaped
    return '"' + escaped.replace("\\", "\\\\") + '"'


def gui_command() -> list[str]:
    """The command that starts this installation's GUI."""
    script = Path(sys.executable).parent / "roadseg-gui"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "guiapp.main"]


def render_entry(command: list[str] | None = None) -> str:
    command = command or gui_command()
    text = resource(TEMPLATE).read_text(encoding="utf-8")
    return text.format(exec=" ".join(quote_exec_arg(a) for a in command),
                       try_exec=command[0].replace("\\", "\\\\"), icon=ICON_NAME)


def install(target: Path | None = None, command: list[str] | None = None) -> InstalledEntry:
    """Write the desktop entry and the icons under `target` (default: data_home())."""
    root = Path(target) if target is not None else data_home()
    apps = root / "applications"
    svg_dir = root / "icons" / "hicolor" / "scalable" / "apps"
    png_dir = root / "icons" / "hicolor" / f"{PNG_SIZE}x{PNG_SIZE}" / "apps"
    icons = [svg_dir / f"{ICON_NAME}.svg", png_dir / f"{ICON_NAME}.png"]
    try:
        for d in (apps, svg_dir, png_dir):
            d.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(icon_svg(), icons[0])
        shutil.copyfile(icon_png(), icons[1])
        desktop = apps / DESKTOP_FILE
        tmp = desktop.with_suffix(".tmp")
        tmp.write_text(render_entry(command), encoding="utf-8")
        os.replace(tmp, desktop)  # a menu never reads a half-written entry
    except OSError as e:
        raise OSError(f"{e.filename or root}: cannot install the desktop entry ({e.strerror or e})") from None
    return InstalledEntry(desktop, icons)
