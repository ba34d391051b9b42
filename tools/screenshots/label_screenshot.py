"""Screenshot of the label editor in use (resources/screenshots/label.png), made under a real X
server so it shows what a person sees:

    .venv/bin/roadseg synth --out /tmp/labsynth --count 6
    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python -m tools.screenshots.label_screenshot \
        --data /tmp/labsynth [--runs RUNS_DIR]

Paints with real mouse events (QTest on the canvas viewport): brush strokes, a flood fill, a
polygon, saves one image (so it is marked edited) and leaves the brush ring under the mouse.
"""
from __future__ import annotations

import argparse
import shutil
import sys

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tools.app_driver import SCREENSHOTS, save_screenshot, scratch_state, show_at, wait

LEFT, NOMOD = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="a dataset to copy and edit (it is not changed)")
    ap.add_argument("--runs", default=None, help="runs folder with a model for the review order")
    ap.add_argument("--out", default=str(SCREENSHOTS / "label.png"))
    ap.add_argument("--size", default="1500x860")
    args = ap.parse_args(argv)
    app = QApplication.instance() or QApplication(["roadseg-label-shot"])
    from core.data.source import open_dataset
    from guiapp.views.label_view import LabelView

    tmp, state = scratch_state("label-shot-", args.runs)
    data = tmp / "data"
    shutil.copytree(args.data, data)
    view = LabelView(state)
    show_at(view, args.size)
    state.set_source(open_dataset(data))
    wait(200)
    if args.runs:
        view.picker.combo.setCurrentIndex(min(1, view.picker.combo.count() - 1))
        view.review.mode.setCurrentIndex(view.review.mode.findData("uncertainty"))
        for _ in range(1200):
            wait(100)
            if view.review.items and not view.review.running and not view.runner.running:
                break
        view.open_image(view.image_list.names()[0])  # start at the top of the review order
        wait(300)
    vp, canvas, ed = view.canvas.viewport(), view.canvas, view.editor

    def at(x, y):
        return canvas.mapFromScene(QPointF(x, y))

    def drag(points):
        QTest.mousePress(vp, LEFT, NOMOD, at(*points[0]))
        for p in points[1:]:
            QTest.mouseMove(vp, at(*p))
            app.processEvents()
        QTest.mouseRelease(vp, LEFT, NOMOD, at(*points[-1]))

    # a saved edit on the first image in review order, then work on the next one
    ed.set_class(8)  # car
    ed.set_brush_size(30)
    drag([(60, 300), (200, 300)])
    view.save()
    view.next_image()
    wait(300)
    ed.set_tool("polygon")
    ed.set_class(10)  # bicyclist
    for p in [(300, 170), (360, 150), (390, 250), (320, 270), (300, 170)]:
        QTest.mouseClick(vp, LEFT, NOMOD, at(*p))
    ed.set_tool("eraser")
    ed.set_brush_size(20)
    drag([(420 - 2 * i, 60 + i) for i in range(40)])
    ed.set_tool("brush")
    ed.set_class(8)  # car
    ed.set_brush_size(24)
    drag([(60 + 4 * i, 240 + (i % 10)) for i in range(40)])
    ed.set_class(3)  # road
    drag([(200 + 3 * i, 320 + (i // 3)) for i in range(50)])
    view.tool_bar.opacity_slider.setValue(60)
    QTest.mouseMove(vp, at(260, 200))  # leave the brush ring where a person would see it
    wait(300)
    out = save_screenshot(view, args.out, tmp)  # < 300 KB
    print(f"{out}: {out.stat().st_size / 1024:.0f} KB, platform {app.platformName()}")
    view.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
