"""Screenshot of the Label view in "Label errors first" order (resources/screenshots/
label-issues.png), made under a real X server so it shows what a person sees:

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python -m tools.screenshots.issues_screenshot \
        --data CamVid --runs RUNS_DIR [--split val]

RUNS_DIR holds a run trained on another split (e.g. camvid-fast on train). The script picks the
first run in the Model list, scores the split in the view's background worker, opens --image
(default: the one with the largest outlined unlabelled region) and leaves the mouse on its
largest outlined unlabelled region (else its first outlined one), so the tooltip and status line
name it. It reads the dataset and writes nothing into it. The picture in docs/label-errors.md: CamVid val
with camvid-fast trained on train without 0006R0, the defaults (0016E5_08053: a hedge and fence
left void).
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tools.app_driver import SCREENSHOTS, save_screenshot, scratch_state, show_at, wait


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="a labelled dataset (only read)")
    ap.add_argument("--runs", required=True, help="runs folder with a model that did not train on --split")
    ap.add_argument("--split", default="val")
    ap.add_argument("--image", help="the image to show (default: the one with the largest unlabelled region)")
    ap.add_argument("--suggested", help="point at the unlabelled region the model calls this class "
                                        "(default: the image's largest unlabelled region)")
    ap.add_argument("--out", default=str(SCREENSHOTS / "label-issues.png"))
    ap.add_argument("--size", default="1500x860")
    args = ap.parse_args(argv)
    app = QApplication.instance() or QApplication(["roadseg-issues-shot"])
    from core.data.source import open_dataset
    from guiapp.views.label_view import LabelView

    tmp, state = scratch_state("issues-shot-", args.runs)
    view = LabelView(state)
    show_at(view, args.size)
    state.set_source(open_dataset(args.data))
    view.split_combo.setCurrentText(args.split)
    wait(300)
    view.picker.combo.setCurrentIndex(min(1, view.picker.combo.count() - 1))
    view.review.show_issues()
    for _ in range(6000):  # 10 minutes at most
        wait(100)
        if view.review.report is not None and not view.review.running:
            break
    report = view.review.report
    if report is None:
        print("scoring did not finish", file=sys.stderr)
        return 1

    names = list(state.source.schema.names)

    def largest_unlabelled(it):  # among the outlined regions
        return max((r for r in view.review.regions(it.name) if r.unlabelled and (
            args.suggested is None or names[r.suggested] == args.suggested)), key=lambda r: r.pixels, default=None)

    if args.image:
        shown = report.by_name()[args.image]
    else:
        shown = max(report.images, key=lambda it: getattr(largest_unlabelled(it), "pixels", 0))
    outlined = view.review.regions(shown.name)
    region = largest_unlabelled(shown) or (outlined[0] if outlined else None)
    view.open_image(shown.name)
    wait(500)
    if region is not None:
        ys, xs = np.nonzero(region.stencil)
        x, y = int(xs[len(xs) // 2]) + region.bbox[0], int(ys[len(ys) // 2]) + region.bbox[1]
        QTest.mouseMove(view.canvas.viewport(), view.canvas.mapFromScene(QPointF(x + 0.5, y + 0.5)))
        wait(300)
    out = save_screenshot(view, args.out, tmp)
    print(f"{out}: {out.stat().st_size / 1024:.0f} KB, platform {app.platformName()}, {shown.name}; "
          f"{view.status.text()}")
    view.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
