"""Makers of the screenshots in the README and docs (resources/screenshots/), run under a real X server as
modules: `xvfb-run -a python -m tools.screenshots.train_screenshot --data DIR`."""
