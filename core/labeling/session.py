"""One image open in the label editor: its mask, undo history, the model's prediction, and saving.

This is the editor's whole model without Qt, so the CLI, scripts and tests can edit labels the
same way the GUI does. Every change goes through here and returns the Rect it touched: the GUI
redraws only that rect, the history stores only that rect.

Saving keeps two promises: the file on disk is only ever replaced whole (DataSource.write_mask
writes a temporary file and os.replace's it), and the in-memory mask is never touched by a save,
so a failed save loses nothing. Before the first overwrite the original file is copied to the
backup folder (core.labeling.backup).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.classes import IGNORE_INDEX
from core.labeling import backup, edits
from core.labeling.edits import Rect
from core.labeling.history import EditHistory


class LabelSession:
    """Edit state of one Sample of a DataSource."""

    def __init__(self, source, sample, image: np.ndarray | None = None,
                 mask: np.ndarray | None = None, max_steps: int = 200):
        self.source, self.sample = source, sample
        self.image = source.read_image(sample) if image is None else image
        if mask is None:
            has_file = sample.mask is not None and Path(sample.mask).is_file()
            mask = (source.read_mask(sample) if has_file
                    else np.full(self.image.shape[:2], IGNORE_INDEX, np.uint8))
        self.mask = np.ascontiguousarray(mask, np.uint8)
        self.prediction = None  # core.evaluate.Prediction once the model has run on this image
        self.history = EditHistory(max_steps)
        self._saved_state = self.history.state_id
        self._before: np.ndarray | None = None
        self._stroke_rect: Rect | None = None

    # --- state -------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.sample.name

    @property
    def shape(self) -> tuple[int, int]:
        return self.mask.shape

    @property
    def dirty(self) -> bool:
        """True when the mask differs (by edit history) from what was last loaded or saved."""
        return self.history.state_id != self._saved_state

    @property
    def in_stroke(self) -> bool:
        return self._before is not None

    @property
    def prediction_mask(self) -> np.ndarray | None:
        return None if self.prediction is None else self.prediction.mask

    # --- edits -------------------------------------------------------------------------------
    def _commit(self, before: np.ndarray, within: Rect | None, label: str) -> Rect | None:
        rect = edits.changed_rect(before, self.mask, within)
        if rect is not None:
            self.history.record(rect, before[rect.slices], self.mask[rect.slices], label)
        return rect

    def _apply_once(self, found, value: int, label: str) -> Rect | None:
        """Apply a one-click edit (fill, polygon) as its own undo step."""
        if found is None:
            return None
        self.end_stroke()
        rect, stencil = found
        patch = self.mask[rect.slices].copy()
        edits.apply_stencil(self.mask, rect, stencil, value)
        diff = edits.changed_rect(patch, self.mask[rect.slices])
        if diff is None:
            return None
        moved = Rect(rect.x0 + diff.x0, rect.y0 + diff.y0, rect.x0 + diff.x1, rect.y0 + diff.y1)
        self.history.record(moved, patch[diff.slices], self.mask[moved.slices], label)
        return moved

    def begin_stroke(self) -> None:
        """Start a brush stroke: everything until end_stroke() is one undo step."""
        self._before = self.mask.copy()
        self._stroke_rect = None

    def stroke_to(self, p0: tuple[float, float], p1: tuple[float, float], size: int,
                  value: int | None = None, from_prediction: bool = False) -> Rect | None:
        """Paint dabs from p0 to p1 with `value` (or the prediction's classes); the touched rect."""
        source = None
        if from_prediction:
            source = self.prediction_mask
            if source is None:
                return None
        found = edits.stroke_stencil(p0, p1, size, self.mask.shape)
        if found is None:
            return None
        own_stroke = self._before is None
        if own_stroke:
            self.begin_stroke()
        rect, stencil = found
        edits.apply_stencil(self.mask, rect, stencil, value, source)
        self._stroke_rect = rect.union(self._stroke_rect)
        if own_stroke:
            self.end_stroke("brush")
        return rect

    def end_stroke(self, label: str = "brush") -> Rect | None:
        """Close the stroke as one undo step; the rect that really changed (None: nothing did)."""
        if self._before is None:
            return None
        before, within = self._before, self._stroke_rect
        self._before, self._stroke_rect = None, None
        if within is None:
            return None
        return self._commit(before, within, label)

    def flood_fill(self, x: int, y: int, value: int) -> Rect | None:
        """Give the connected region of the class at (x, y) the class `value`."""
        h, w = self.mask.shape
        if not (0 <= x < w and 0 <= y < h) or int(self.mask[y, x]) == int(value):
            return None
        return self._apply_once(edits.flood_stencil(self.mask, x, y), value, "flood fill")

    def fill_polygon(self, points: list[tuple[float, float]], value: int) -> Rect | None:
        return self._apply_once(edits.polygon_stencil(points, self.mask.shape), value, "polygon")

    def paint_region(self, region: np.ndarray, value: int, only_void: bool = False,
                     label: str = "segment") -> Rect | None:
        """Give the pixels of an HxW boolean region the class `value` as one undo step; with
        `only_void`, only those still void keep what is labelled."""
        region = np.asarray(region, bool)
        if region.shape != self.mask.shape:
            raise ValueError(f"{self.name}: region {region.shape} != mask {self.mask.shape}")
        allowed = self.mask == IGNORE_INDEX if only_void else None
        return self._apply_once(edits.region_stencil(region, allowed), value, label)

    def replace_mask(self, new_mask: np.ndarray, label: str) -> Rect | None:
        """Swap in a whole mask (pre-label, restore) as one undoable step."""
        new_mask = np.asarray(new_mask, np.uint8)
        if new_mask.shape != self.mask.shape:
            raise ValueError(f"{self.name}: new mask {new_mask.shape} != {self.mask.shape}")
        before = self.mask.copy()
        self.mask[...] = new_mask
        return self._commit(before, None, label)

    def undo(self) -> Rect | None:
        self.end_stroke()
        return self.history.undo(self.mask)

    def redo(self) -> Rect | None:
        self.end_stroke()
        return self.history.redo(self.mask)

    # --- files -------------------------------------------------------------------------------
    @property
    def mask_path(self) -> Path | None:
        return None if self.sample.mask is None else Path(self.sample.mask)

    @property
    def has_backup(self) -> bool:
        return self.mask_path is not None and backup.has_backup(self.source.root, self.mask_path)

    def save(self) -> Path:
        """Back up the original (first time only), then write atomically. Raises on failure,
        leaving the file on disk and the mask in memory as they were."""
        self.end_stroke()
        state = self.history.state_id
        if self.mask_path is not None:
            backup.ensure_backup(self.source.root, self.mask_path)
        path = self.source.write_mask(self.sample, self.mask)
        if self.mask_path is None:
            backup.ensure_backup(self.source.root, path)  # marks "did not exist": restore removes it
        self._saved_state = state
        return path

    def restore_original(self) -> Rect | None:
        """Put the backed-up original back on disk and into the editor (as an undoable step)."""
        self.end_stroke()
        path = self.mask_path
        if path is None or not backup.restore_original(self.source.root, path):
            return None
        original = (self.source.read_mask(self.sample) if path.is_file()
                    else np.full(self.mask.shape, IGNORE_INDEX, np.uint8))
        rect = self.replace_mask(original, "restore original")
        self._saved_state = self.history.state_id
        return rect
