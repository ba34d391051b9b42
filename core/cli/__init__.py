"""`roadseg` command line: the whole study without a window (see `roadseg --help`)."""
from core.cli.main import main

__all__ = ["main"]
