"""The editor's keyboard map in one table, so tooltips, tests and the help text agree.

Shortcuts live on the label view with WidgetWithChildrenShortcut context: they work anywhere
inside the Label tab and nowhere else (the Train tab's form keeps its digits).
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

from guiapp.labeling.palette import KEYS


def key_map(view) -> list[tuple[str, Callable, str]]:
    """(key sequence, action, description) for a LabelView."""
    ed = view.editor
    table = [
        ("Ctrl+S", view.save, "save the mask"),
        ("Ctrl+Z", ed.undo, "undo"),
        ("Ctrl+Shift+Z", ed.redo, "redo"),
        ("Ctrl+Y", ed.redo, "redo"),
        ("B", lambda: ed.set_tool("brush"), "brush"),
        ("E", lambda: ed.set_tool("eraser"), "eraser (void)"),
        ("F", lambda: ed.set_tool("fill"), "flood fill"),
        ("L", lambda: ed.set_tool("polygon"), "polygon"),
        ("S", lambda: ed.set_tool("segment"), "segment an object by clicks (Enter: write, Esc: drop)"),
        ("T", lambda: ed.set_tool("predict"), "take the prediction"),
        ("[", ed.shrink_brush, "smaller brush"),
        ("]", ed.grow_brush, "larger brush"),
        ("N", view.next_image, "next image"),
        ("PgDown", view.next_image, "next image"),
        ("P", view.previous_image, "previous image"),
        ("PgUp", view.previous_image, "previous image"),
        ("M", view.tool_bar.show_mask.toggle, "show/hide mask"),
        ("Shift+M", view.tool_bar.show_pred.toggle, "show/hide prediction"),
        ("Home", view.canvas.fit, "fit image"),
        ("A", view.issue_overlay.accept, "accept the model's class for the suspect region"),
        ("R", view.issue_overlay.mark_reviewed, "mark the suspect region reviewed (keep its labels)"),
        ("J", view.issue_overlay.next_region, "next suspect region in this image"),
        ("Shift+J", view.issue_overlay.previous_region, "previous suspect region in this image"),
    ]
    for i, key in enumerate(KEYS):
        table.append((key, lambda i=i: ed.set_class(i), f"class {i}"))
    return table


def install(view: QWidget) -> list[QShortcut]:
    out = []
    for seq, slot, _desc in key_map(view):
        sc = QShortcut(QKeySequence(seq), view)
        sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        sc.activated.connect(slot)
        out.append(sc)
    return out
