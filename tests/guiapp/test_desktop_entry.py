"""`roadseg-gui --install-desktop-entry`: a freedesktop .desktop file and the icon in the hicolor
theme under $XDG_DATA_HOME, with an Exec line that starts this installation."""
from __future__ import annotations

import configparser
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from guiapp import desktop_entry
from guiapp.app_icon import icon_png, icon_svg
from guiapp.main import main


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in desktop entries
    parser.read_string(path.read_text(encoding="utf-8"))
    assert parser.sections() == ["Desktop Entry"]
    return dict(parser["Desktop Entry"])


def test_install_writes_entry_and_icons_under_xdg_data_home(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert main(["--install-desktop-entry"]) == 0

    desktop = tmp_path / "share" / "applications" / "roadseg.desktop"
    entry = read_entry(desktop)
    assert entry["Type"] == "Application" and entry["Name"] == "roadseg"
    assert entry["Terminal"] == "false"
    categories = entry["Categories"].split(";")
    assert categories[-1] == "" and {"Science", "Graphics"} <= set(categories)
    exec_argv = shlex.split(entry["Exec"])
    assert exec_argv == desktop_entry.gui_command()
    assert Path(exec_argv[0]).is_absolute() and os.access(exec_argv[0], os.X_OK)
    assert entry["TryExec"] == exec_argv[0]

    # Icon= is a theme name: the theme's files are what a menu loads
    assert entry["Icon"] == "roadseg"
    png = tmp_path / "share" / "icons" / "hicolor" / "256x256" / "apps" / "roadseg.png"
    svg = tmp_path / "share" / "icons" / "hicolor" / "scalable" / "apps" / "roadseg.svg"
    assert png.read_bytes() == icon_png().read_bytes()
    assert svg.read_bytes() == icon_svg().read_bytes()
    assert capsys.readouterr().out.splitlines() == [f"wrote {desktop}", f"wrote {svg}", f"wrote {png}"]

    assert main(["--install-desktop-entry"]) == 0  # again: replaces, leaves no temporary file
    assert sorted(p.name for p in desktop.parent.iterdir()) == ["roadseg.desktop"]


def test_default_location_is_local_share(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert desktop_entry.data_home({}) == tmp_path / ".local" / "share"
    assert desktop_entry.data_home({"XDG_DATA_HOME": "relative/dir"}) == tmp_path / ".local" / "share"
    assert desktop_entry.data_home({"XDG_DATA_HOME": "/x/y"}) == Path("/x/y")


@pytest.mark.parametrize("arg, quoted", [
    ("/opt/venv/bin/roadseg-gui", "/opt/venv/bin/roadseg-gui"),
    ("/home/a b/venv/bin/roadseg-gui", '"/home/a b/venv/bin/roadseg-gui"'),
    ("/p/$HOME/x", '"/p/\\\\$HOME/x"'),  # \$ inside quotes, its backslash escaped once more
    ("/p/100%/x", "/p/100%%/x"),
])
def test_exec_arguments_are_quoted_as_the_spec_says(arg, quoted):
    assert desktop_entry.quote_exec_arg(arg) == quoted


def test_unwritable_target_is_one_error_line(tmp_path):
    blocker = tmp_path / "share"
    blocker.write_text("a file where the folder should be")
    proc = subprocess.run([sys.executable, "-m", "guiapp.main", "--install-desktop-entry"],
                          capture_output=True, text=True, env={**os.environ, "XDG_DATA_HOME": str(blocker)})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("roadseg-gui: error: ") and str(blocker) in lines[0]
