"""`roadseg` command line: the whole study without a window (see `roadseg --help`)."""
import os
import sys

from core.cli.main import main

__all__ = ["main", "entry"]


def entry() -> None:
    """Console-script entry: run, flush, and leave at once.

    Python's own teardown of torch takes seconds on a busy machine after the work is done (and
    after Ctrl+C has already saved last.pt); everything worth keeping is written and flushed.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
