"""What the terminal shows when a command fails: exactly one `roadseg: error:` line.

These pin four faults that fault injection found in the CLI's error path (tests/RELIABILITY.md,
fixes F1, F3 and F4), so that none of them comes back.
"""
import io
import sys

from torch._utils import ExceptionWrapper

from core.data.source import DataSource
from core.errors import DataError

from .conftest import train_argv

YAML_PAYLOAD = "!!python/object/apply:os.system ['touch {marker}']\n"


def _terminal(raw: str) -> list[str]:
    """The lines a terminal would show: each carriage return overwrites from column 0."""
    shown = []
    for line in raw.split("\n"):
        screen = ""
        for segment in line.split("\r"):
            screen = segment + screen[len(segment):]
        if screen.strip():
            shown.append(screen.rstrip())
    return shown


def test_yaml_error_is_one_line(tmp_path, cli):
    config = tmp_path / "evil.yaml"
    config.write_text(YAML_PAYLOAD.format(marker=tmp_path / "pwned"))
    rc, err = cli(["train", "--config", config])
    assert rc == 2 and len(err) == 1, err


def test_error_from_a_loader_worker_is_one_line(tiny_data, tmp_path, cli, monkeypatch):
    """What `--workers 1` does with a corrupt image (checked for real by hand: a 30 s spawn),
    reproduced in-process with torch's own ExceptionWrapper."""

    def read_pair(self, sample):
        try:
            raise DataError(f"{sample.image}: not a readable image (corrupt or truncated PNG: test)")
        except DataError:
            ExceptionWrapper(where="in DataLoader worker process 0").reraise()

    monkeypatch.setattr(DataSource, "read_pair", read_pair)
    rc, err = cli(train_argv(tiny_data, tmp_path / "run"))
    assert rc == 2 and len(err) == 1 and "not a readable image" in err[0], err


def test_error_starts_its_own_line_after_a_progress_bar(data_copy, capfd):
    from core.cli import main

    (data_copy / "trainannot" / "synth_00002.png").write_bytes(b"not a png")  # third of four
    capfd.readouterr()
    assert main(["stats", "--data", str(data_copy)]) == 2
    shown = _terminal(capfd.readouterr().err)
    assert shown and shown[-1].startswith("roadseg: error:"), shown


def test_train_printer_writes_to_the_current_stdout(monkeypatch):
    from core.cli.progress import TrainPrinter

    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert TrainPrinter().out is sys.stdout
