"""One widget per model option, made from the registry's option specs: a bool is a checkbox,
a float a spin box, a choice a combo box. The Train form lays them out and greys them out
where core says they cannot be used, so a new option needs no GUI code."""
from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QWidget


def make_option_widget(spec) -> QWidget:
    """The widget for `spec` (core.models.option_spec.Option), its help as the tooltip."""
    if spec.kind == "bool":
        w = QCheckBox(spec.label or spec.name)
    elif spec.kind == "float":
        w = QDoubleSpinBox()
        low, high = spec.bounds
        w.setRange(low, min(high, 0.9) if high <= 1.0 else high)
        w.setSingleStep(0.05)
    else:
        w = QComboBox()
    w.setObjectName(spec.name)
    w.setToolTip(spec.help[:1].upper() + spec.help[1:])
    return w


def option_value(w: QWidget):
    """What the widget shows, as the option's value (None for an empty combo)."""
    if isinstance(w, QCheckBox):
        return w.isChecked()
    if isinstance(w, QDoubleSpinBox):
        return round(w.value(), 4)
    text = w.currentText()
    if not text:
        return None
    return int(text) if text.lstrip("-").isdigit() else text


def show_value(w: QWidget, value) -> None:
    """Show `value`; a value the widget does not offer (or None) keeps the current one."""
    if value is None:
        return
    if isinstance(w, QCheckBox):
        w.setChecked(bool(value))
    elif isinstance(w, QDoubleSpinBox):
        w.setValue(float(value))
    elif w.findText(str(value)) >= 0:
        w.setCurrentText(str(value))


def set_choices(w: QWidget, choices, current) -> None:
    """A combo's items (signals blocked); other widgets ignore this."""
    if not isinstance(w, QComboBox):
        return
    w.blockSignals(True)
    w.clear()
    w.addItems([str(c) for c in choices])
    w.setCurrentText(str(current))
    w.blockSignals(False)


def changed_signal(w: QWidget):
    """The signal fired when the person edits the widget."""
    if isinstance(w, QCheckBox):
        return w.toggled
    if isinstance(w, QDoubleSpinBox):
        return w.valueChanged
    return w.currentTextChanged
