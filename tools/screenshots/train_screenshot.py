"""Screenshot of the Train view after a finished run (resources/screenshots/train.png, the
README's first picture), made under a real X server so it shows what a person sees:

    .venv/bin/roadseg synth --out /tmp/trainsynth --count 24
    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python -m tools.screenshots.train_screenshot \
        --data /tmp/trainsynth

Drives the window as a person would: opens the dataset, picks the camvid-fast preset, shrinks
the images, crops and epochs to what a screenshot can wait for (the synthetic scenes are small),
presses Start and waits for the run to finish in its background thread, then grabs the window.
"""
from __future__ import annotations

import argparse
import sys
import time

from PySide6.QtWidgets import QApplication

from tools.app_driver import SCREENSHOTS, save_screenshot, scratch_state, show_at, wait


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="a dataset to train on (e.g. roadseg synth's)")
    ap.add_argument("--out", default=str(SCREENSHOTS / "train.png"))
    ap.add_argument("--size", default="1500x900")
    ap.add_argument("--image-size", default="128x160")
    ap.add_argument("--crop-size", default="96x128")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--timeout", type=float, default=900, help="seconds to wait for the run")
    args = ap.parse_args(argv)
    app = QApplication.instance() or QApplication(["roadseg-train-shot"])
    from core.data.source import open_dataset
    from guiapp.main_window import MainWindow

    tmp, state = scratch_state("train-shot-")
    win = MainWindow(state)
    show_at(win, args.size)
    state.set_source(open_dataset(args.data))
    view = win.views["Train"]
    win.tabs.setCurrentWidget(view)
    view.presets.select("camvid-fast")
    f = view.form
    (ih, iw), (ch, cw) = ((int(v) for v in s.split("x")) for s in (args.image_size, args.crop_size))
    f.height.setValue(ih)
    f.width.setValue(iw)
    f.crop_h.setValue(ch)
    f.crop_w.setValue(cw)
    f.epochs.setValue(args.epochs)
    f.time_budget.setValue(0)
    view.start()
    t0 = time.monotonic()
    wait(500)
    while view.is_running() and time.monotonic() - t0 < args.timeout:
        wait(200)
    if view.is_running():
        print("the run did not finish in time", file=sys.stderr)
        view.shutdown()
        return 1
    wait(1500)  # the finished run's last repaint and the background cost count
    out = save_screenshot(win, args.out, tmp)
    print(f"{out}: {out.stat().st_size / 1024:.0f} KB after {time.monotonic() - t0:.0f} s, "
          f"platform {app.platformName()}")
    view.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
