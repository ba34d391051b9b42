"""The Segment tool's model: loads the promptable model and embeds images off the UI thread,
then answers each set of clicks with a mask proposal.

Embedding an image takes seconds on a CPU, so it runs in a background task as soon as the Segment
tool is chosen or another image opens while it is; the embedding is kept while the image is open
(and for the last few images), and the next image in the list is embedded after the current one.
A prompt given before the embedding is ready waits for it. The prompt itself (the prompt encoder
and mask decoder, tens of milliseconds) runs on the UI thread, so the outline follows each click.
core.labeling.click_segment does the work; this class only schedules it and reports.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from core.labeling.click_segment import (LARGE_MODEL, SMALL_MODEL, ClickSegmenter, ImageEmbedding,
                                         default_model)
from guiapp.workers.background import run_in_background

KEEP = 3  # embeddings kept: the open image, the next and the previous one


def segment_model_choices() -> list[tuple[str, str]]:
    """(text, model) for the Label view's Segment model box: the default first."""
    out = [("SAM 2.1 tiny (fast)", SMALL_MODEL), ("SAM 2.1 base+ (better)", LARGE_MODEL)]
    own = default_model()  # ROADSEG_SEGMENT_MODEL, else the small one
    if own not in (SMALL_MODEL, LARGE_MODEL):
        out.insert(0, (own, own))
    elif own == LARGE_MODEL:
        out.reverse()
    return out


class SegmentAssistant(QObject):
    """Signals: status(str) a line for the person (also why a model cannot load); proposal(object)
    an HxW bool mask for the open image's current prompt (None when dropped)."""

    status = Signal(str)
    proposal = Signal(object)

    def __init__(self, model: str | None = None, parent=None, factory: Callable = ClickSegmenter):
        super().__init__(parent)
        self.model_name = model or default_model()
        self._factory = factory
        self._segmenter = None
        self._load_lock = threading.Lock()
        self._cache: OrderedDict[str, ImageEmbedding] = OrderedDict()
        self._running: dict[str, object] = {}  # key -> BackgroundTask embedding it
        self._image: tuple[str, object] | None = None  # (key, HxWx3 RGB) open now
        self._next: tuple[str, Callable] | None = None  # (key, loader) to embed after it
        self._pending = None  # the prompt waiting for the open image's embedding
        self.active = False  # the Segment tool is chosen: embed what opens
        self.error: str | None = None

    # --- choices -------------------------------------------------------------------------------
    def set_model(self, name: str) -> None:
        if name == self.model_name:
            return
        self.model_name = name
        self._segmenter, self.error = None, None
        self._cache.clear()
        self._pending = None
        self.proposal.emit(None)
        if self.active:
            self._embed_open()

    def set_active(self, on: bool) -> None:
        self.active = bool(on)
        if on:
            self._embed_open()

    def set_image(self, key: str | None, image=None, next_image: tuple[str, Callable] | None = None) -> None:
        """The image now open (HxWx3 RGB) and, optionally, (key, loader) of the one likely next."""
        self._pending = None
        self._image = (key, image) if key is not None else None
        self._next = next_image
        if self.active:
            self._embed_open()

    # --- prompts -------------------------------------------------------------------------------
    def request(self, points, labels, box=None) -> None:
        """A proposal for the open image from these clicks (now, or once its embedding is ready)."""
        if self._image is None:
            return
        self._pending = (list(points), list(labels), box)
        emb = self._cache.get(self._image[0])
        if emb is not None:
            self._answer(emb)
        elif self.error is not None:
            self.status.emit(self.error)
        else:
            self._embed_open()

    def drop(self) -> None:
        self._pending = None

    def embedding(self, key: str) -> ImageEmbedding | None:
        return self._cache.get(key)

    def _answer(self, emb: ImageEmbedding) -> None:
        points, labels, box = self._pending
        try:
            mask = self._segmenter.segment(emb, points, labels, box)
        except Exception as exc:  # noqa: BLE001 - a model failure is a line, not a crash
            self.status.emit(f"Segment: {exc}")
            return
        self.proposal.emit(mask)

    # --- background work -------------------------------------------------------------------------
    def segmenter(self):
        """The loaded model (loading it on first use; call from a worker thread)."""
        with self._load_lock:
            if self._segmenter is None:
                self._segmenter = self._factory(self.model_name)
            return self._segmenter

    def _embed_open(self) -> None:
        if self._image is None or self.error is not None:
            return
        key, image = self._image
        if key in self._cache:
            self.status.emit(f"Segment: ready ({self._cache[key].seconds:.1f} s to embed) — click an object")
            self._embed_next()
            return
        self._embed(key, lambda: image)

    def _embed_next(self) -> None:
        if self._next is not None and self._next[0] not in self._cache and not self._running:
            self._embed(*self._next, quiet=True)

    def _embed(self, key: str, load: Callable, quiet: bool = False) -> None:
        if key in self._running:
            return
        model = self.model_name
        if not quiet:
            self.status.emit(f"Segment: {'loading the model and ' if self._segmenter is None else ''}"
                             f"embedding the image…")

        def work(progress, cancelled):
            seg = self.segmenter()
            return seg.embed(load(), key)

        def done(emb: ImageEmbedding) -> None:
            self._running.pop(key, None)
            if model != self.model_name:
                return
            self._cache[key] = emb
            self._cache.move_to_end(key)
            while len(self._cache) > KEEP:
                self._cache.popitem(last=False)
            if self._image is not None and self._image[0] == key:
                self.status.emit(f"Segment: ready ({emb.seconds:.1f} s to embed) — click an object")
                if self._pending is not None:
                    self._answer(emb)
                self._embed_next()

        def failed(message: str, _details: str) -> None:
            self._running.pop(key, None)
            self.error = f"Segment: {message}"
            self.status.emit(self.error)

        self._running[key] = run_in_background(work, done, failed)

    def shutdown(self, timeout_ms: int = 30000) -> None:
        for task in list(self._running.values()):
            task.cancel()
            task.thread.quit()
            task.thread.wait(timeout_ms)
        self._running.clear()
