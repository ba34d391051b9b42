"""Untrusted files never run code, and nothing reaches the network unless asked.

- A checkpoint carrying a pickled payload is refused (torch.load(weights_only=True)) by every
  command that reads one, with one line and exit 2; the payload demonstrably did not run.
- A YAML file with a python tag is refused (yaml.safe_load) as a config and as a class schema.
- A scan of the source: every torch.load passes weights_only=True, no yaml.load/unsafe_load.
- Every registered model builds, and train/eval/predict/flops run, with sockets blocked.
"""
import ast
import socket
from pathlib import Path

import pytest
import torch

from core.data.source import open_dataset
from core.errors import ConfigError, DataError

from .conftest import ROOT, train_argv


class _Payload:
    """Unpickling this creates `path`: proof of code execution if the file appears."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _evil_checkpoint(path: Path, marker: Path) -> Path:
    torch.save({"format": "roadseg-checkpoint", "version": 1, "config": {}, "schema": {},
                "model": {"w": torch.zeros(1)}, "epoch": 1, "hook": _Payload(marker)}, path)
    return path


def test_pickled_checkpoint_is_refused_by_every_command(tiny_data, tmp_path, cli):
    marker = tmp_path / "pwned"
    evil = _evil_checkpoint(tmp_path / "evil.pt", marker)
    run = tmp_path / "run"
    run.mkdir()
    _evil_checkpoint(run / "last.pt", marker)
    for argv in (["eval", "--checkpoint", evil, "--data", tiny_data, "--device", "cpu"],
                 ["predict", "--checkpoint", evil, "--input", tiny_data / "val", "--out", tmp_path / "p"],
                 train_argv(tiny_data, run, "--resume")):
        rc, err = cli(argv)
        assert rc == 2 and len(err) == 1, (argv[0], err)
        assert "refused" in err[0] and "pickled objects" in err[0], (argv[0], err)
        assert not marker.exists(), f"{argv[0]} ran the payload"
    torch.load(evil, weights_only=False)  # the control: loaded unsafely, the payload does run
    assert marker.exists()


YAML_PAYLOAD = "!!python/object/apply:os.system ['touch {marker}']\n"


def test_yaml_with_python_tag_is_refused(tiny_data, tmp_path, cli):
    marker = tmp_path / "pwned"
    config = tmp_path / "evil.yaml"
    config.write_text(YAML_PAYLOAD.format(marker=marker))
    rc, err = cli(["train", "--config", config])
    assert rc == 2 and err and err[0].startswith(f"roadseg: error: {config}: not valid YAML"), err
    from core.config import TrainConfig

    with pytest.raises(ConfigError, match="evil.yaml"):
        TrainConfig.from_yaml(config)
    folder = tmp_path / "folder"  # the folder layout, one pair, and the schema beside it
    for sub, split in (("images", "val"), ("masks", "valannot")):
        (folder / sub).mkdir(parents=True)
        (folder / sub / "a.png").write_bytes((tiny_data / split / "synth_00005.png").read_bytes())
    (folder / "classes.yaml").write_text(YAML_PAYLOAD.format(marker=marker))
    with pytest.raises(DataError, match="classes.yaml"):
        open_dataset(folder)
    assert not marker.exists()


def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            yield (owner.id if isinstance(owner, ast.Name) else None), node.func.attr, node


def test_source_only_loads_safely():
    checked = 0
    for path in sorted((ROOT / "core").rglob("*.py")) + sorted((ROOT / "guiapp").rglob("*.py")):
        for owner, attr, node in _calls(ast.parse(path.read_text(), str(path))):
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if owner == "torch" and attr == "load":
                flags = {k.arg: k.value for k in node.keywords}
                assert isinstance(flags.get("weights_only"), ast.Constant) and \
                    flags["weights_only"].value is True, f"{where}: torch.load without weights_only=True"
                checked += 1
            if owner == "yaml":
                assert attr not in ("load", "load_all", "unsafe_load", "full_load", "unsafe_load_all",
                                    "full_load_all"), f"{where}: yaml.{attr} can build Python objects"
            if owner == "pickle":
                assert attr not in ("load", "loads"), f"{where}: pickle.{attr} runs code from files"
    assert checked >= 1


@pytest.fixture
def no_network(monkeypatch):
    """Every way out to the network raises and is recorded (in case a library swallows it)."""
    attempts = []

    def blocked(name):
        def fn(*a, **k):
            attempts.append((name, a[:2]))
            raise OSError(f"network blocked by the test ({name})")
        return fn

    monkeypatch.setattr(socket.socket, "connect", blocked("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", blocked("connect_ex"))
    monkeypatch.setattr(socket, "create_connection", blocked("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", blocked("getaddrinfo"))
    return attempts


def test_every_model_builds_offline(no_network):
    """Built from scratch, no model reaches for the network (pretrained weights offline:
    tests/core/models/test_pretrained_hub.py)."""
    from core.models import create_model, list_models

    for arch in list_models():
        model = create_model(arch, 11)
        assert sum(p.numel() for p in model.parameters()) > 0
    assert no_network == []


def test_cli_runs_offline(no_network, tiny_data, tmp_path, cli):
    run = tmp_path / "run"
    rc, err = cli(train_argv(tiny_data, run))
    assert rc == 0, err
    assert cli(["eval", "--checkpoint", run / "best.pt", "--data", tiny_data, "--device", "cpu"])[0] == 0
    assert cli(["predict", "--checkpoint", run / "best.pt", "--input", tiny_data / "val",
                "--out", tmp_path / "pred", "--device", "cpu"])[0] == 0
    assert cli(["flops", "--arch", "unet", "--image-size", "64x64"])[0] == 0  # an SMP/timm model
    assert cli(["models"])[0] == 0
    assert no_network == []
