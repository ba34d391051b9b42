"""Augmentation preview: one image through a preset several times, in a grid, by the same
batched augmentation the trainer runs (core.data.batch_augment.preview_draws).

Seeing six random draws (flip, rotation, scale, brightness…) with the mask following along tells a
person at once whether a preset is too weak, too wild, or breaks image/mask alignment."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLabel,
                               QPushButton, QSizePolicy, QVBoxLayout, QWidget)

from core.data.model_input import AUGMENT_PRESETS
from core.data.batch_augment import preview_draws
from guiapp.widgets.np_qimage import blend, rgb_to_pixmap

def preview_size(h: int, w: int, max_w: int = 320) -> tuple[int, int]:
    """Keep the aspect ratio, at most `max_w` wide, both sides multiples of 8."""
    scale = min(1.0, max_w / w)
    return max(8, int(round(h * scale / 8)) * 8), max(8, int(round(w * scale / 8)) * 8)


class AugmentGrid(QWidget):
    """`set_sample(image, mask, schema)`; preset combo + "New draws" re-runs the transform."""

    def __init__(self, parent=None, draws: int = 6, columns: int = 2):
        super().__init__(parent)
        self._image = self._mask = self._schema = None
        self.preset = QComboBox()
        self.preset.addItems(list(AUGMENT_PRESETS))
        self.preset.setCurrentText("light" if "light" in AUGMENT_PRESETS else AUGMENT_PRESETS[0])
        self.preset.setToolTip("Augmentation preset (core.data.augment)")
        self.show_mask = QCheckBox("Mask")
        self.show_mask.setChecked(True)
        self.reroll = QPushButton("New draws")
        self.reroll.setToolTip("Draw new random augmentations (R)")
        self.reroll.setShortcut("R")
        self.status = QLabel("")
        self.status.setObjectName("muted")
        for w in (self.preset, self.show_mask):
            (w.currentTextChanged if isinstance(w, QComboBox) else w.toggled).connect(self.refresh)
        self.reroll.clicked.connect(self.refresh)

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Preset"))
        bar.addWidget(self.preset)
        bar.addWidget(self.show_mask)
        bar.addStretch(1)
        bar.addWidget(self.reroll)
        self.grid = QGridLayout()
        self.grid.setSpacing(6)
        self.tiles: list[QLabel] = []
        for i in range(draws):
            tile = QLabel()
            tile.setAlignment(Qt.AlignmentFlag.AlignCenter)
            tile.setMinimumSize(120, 90)
            tile.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
            tile.setStyleSheet("background: #1e2429; border-radius: 4px;")
            self.grid.addWidget(tile, i // columns, i % columns)
            self.tiles.append(tile)
        self._arrays: list[np.ndarray] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(bar)
        lay.addLayout(self.grid, 1)
        lay.addWidget(self.status)

    def set_sample(self, image: np.ndarray | None, mask: np.ndarray | None, schema) -> None:
        self._image, self._mask, self._schema = image, mask, schema
        if self.isVisible():
            self.refresh()
        else:
            self._arrays = []  # redrawn when shown: no work while the tab is hidden

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._image is not None and not self._arrays:
            self.refresh()

    def draws(self) -> list[np.ndarray]:
        """The RGB arrays last shown (for tests and screenshots)."""
        return list(self._arrays)

    def refresh(self) -> None:
        """Run the chosen preset once per tile and show the results."""
        if self._image is None:
            return
        h, w = preview_size(*self._image.shape[:2])
        try:
            mask = self._mask if self._mask is not None else np.full(self._image.shape[:2], 255,
                                                                     np.uint8)
            self._arrays = []
            draws = preview_draws(self.preset.currentText(), self._image, mask, (h, w), len(self.tiles))
            for rgb, m in draws:
                if self.show_mask.isChecked() and self._mask is not None:
                    rgb = blend(rgb, self._schema.colorize(m), 0.45, valid=m != 255)
                self._arrays.append(rgb)
            self.status.setText(f"{len(self.tiles)} random draws at {h}x{w}")
        except Exception as exc:  # noqa: BLE001 - a preset error is shown, not raised
            self._arrays = []
            self.status.setText(f"Augmentation failed: {exc}")
        self._render_tiles()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._render_tiles()

    def _render_tiles(self) -> None:
        for i, tile in enumerate(self.tiles):
            if i < len(self._arrays):
                tile.setPixmap(rgb_to_pixmap(self._arrays[i], max(40, tile.width() - 4),
                                             max(30, tile.height() - 4)))
            else:
                tile.clear()
