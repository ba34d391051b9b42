"""Makers of the README's screenshots (resources/screenshots/), run under a real X server as
modules: `xvfb-run -a python -m tools.screenshots.train_screenshot --data DIR`."""
