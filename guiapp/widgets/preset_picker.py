"""The "Preset" dropdown: the named training presets of core.presets (core/resources/presets/*.yaml),
the same ones `roadseg train --preset NAME` uses.

Choosing one emits `chosen(name, values)` with the preset's raw values (a `runs` list when it is a
queue); the owner decides what to do with them. A preset that cannot be read is reported in the
error dialog and the dropdown goes back to "(custom)"; nothing is emitted.
"""
from __future__ import annotations

import traceback

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from guiapp.widgets.error_dialog import show_error

CUSTOM = "(custom)"


def summarize(values: dict) -> str:
    """A tooltip line: "1 run · ddrnet23-slim · 28 epochs" or "queue of 11 runs · archs …"."""
    runs = values.get("runs")
    if not runs:
        return (f"1 run · {values.get('arch', 'unet')} · {values.get('epochs', '?')} epochs · "
                "loads into the form")
    archs = list(dict.fromkeys(str(r.get("arch", values.get("arch", "unet"))) for r in runs))
    return (f"queue of {len(runs)} runs · {', '.join(archs)} · {values.get('epochs', '?')} "
            "epoch(s) each · adds them to the run queue")


class PresetPicker(QWidget):
    """Label + dropdown; `chosen(name, values)` fires when a preset is picked (even the same again)."""

    chosen = Signal(str, object)  # name, the raw values (a dict)

    def __init__(self, parent=None, directory=None):
        super().__init__(parent)
        self.directory = directory  # None: core/resources/presets
        self.combo = QComboBox()
        self.combo.setToolTip("Named training presets (core/resources/presets, as `roadseg train "
                              "--preset`). One run loads into the form; a queue preset adds "
                              "its runs to the queue, trained into the runs folder")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(QLabel("Preset"))
        lay.addWidget(self.combo, 1)
        self.refresh()
        self.combo.activated.connect(self._on_activated)

    def refresh(self) -> None:
        """Fill the dropdown from the presets folder (tooltips: run count, architectures)."""
        from core.presets import list_presets, load_preset

        self.combo.clear()
        self.combo.addItem(CUSTOM)
        self.combo.setItemData(0, "The form's own settings", Qt.ItemDataRole.ToolTipRole)
        for name in list_presets(self.directory):
            self.combo.addItem(name)
            try:
                tip = summarize(load_preset(name, self.directory))
            except Exception as exc:  # noqa: BLE001 - a broken file is still listed; choosing it says why
                tip = f"cannot be read: {exc}"
            self.combo.setItemData(self.combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)

    def names(self) -> list[str]:
        return [self.combo.itemText(i) for i in range(1, self.combo.count())]

    def select(self, name: str) -> None:
        """Pick `name` as a person would (tests, menus)."""
        index = self.combo.findText(name)
        if index < 0:
            show_error(self, "Preset", f"No preset named {name!r}.")
            return
        self.combo.setCurrentIndex(index)
        self._on_activated(index)

    def reset(self) -> None:
        self.combo.setCurrentIndex(0)

    def _on_activated(self, index: int) -> None:
        if index <= 0:
            return
        from core.presets import load_preset

        name = self.combo.itemText(index)
        try:
            values = load_preset(name, self.directory)
        except Exception as exc:  # noqa: BLE001 - ConfigError, OSError: a dialog, never a crash
            self.reset()
            show_error(self, "Preset", f"Cannot load preset {name!r}:\n\n{exc}",
                       traceback.format_exc())
            return
        self.chosen.emit(name, values)
