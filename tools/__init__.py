"""Scripts that drive the app's real windows to make project assets (screenshots), plus the
helpers they share with the GUI benchmarks (tools.app_driver)."""
