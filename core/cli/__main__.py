"""`python -m core.cli ...`: what torchrun starts on every rank (same as the `roadseg` script)."""
import sys

from core.cli.main import main

sys.exit(main())
