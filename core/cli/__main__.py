"""`python -m core.cli ...`: what torchrun starts on every rank; the same entry as the `roadseg`
script, which leaves without the interpreter's teardown of torch (core.cli.entry)."""
from core.cli import entry

entry()
