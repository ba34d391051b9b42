"""Named training presets (core/resources/presets/NAME.yaml, shipped in the wheel), shared by the CLI and the GUI.

A preset is a mapping of TrainConfig values. One with a `runs:` list is a queue: each entry's
values go over the shared ones, and each run gets its own folder `<out>/<display_name>`.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from core.config import TrainConfig
from core.errors import ConfigError

PRESETS_DIR = Path(__file__).resolve().parent / "resources" / "presets"


def list_presets(directory: Path | None = None) -> list[str]:
    return sorted(p.stem for p in Path(directory or PRESETS_DIR).glob("*.yaml"))


def load_preset(name: str, directory: Path | None = None) -> dict:
    """A preset's raw values (with `runs` when it is a queue)."""
    directory = Path(directory or PRESETS_DIR)
    path = directory / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"unknown preset {name!r} (known: {', '.join(list_presets(directory)) or 'none'})")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({e})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a preset must be a mapping")
    runs = data.get("runs")
    if runs is not None and (not isinstance(runs, list) or not runs
                             or not all(isinstance(r, dict) for r in runs)):
        raise ConfigError(f"{path}: `runs` must be a non-empty list of mappings")
    return data


def expand_runs(values: dict, entries: list[dict] | None) -> list[TrainConfig]:
    """One config from `values`, or one per queue entry with out = <values.out>/<name>."""
    if not entries:
        return [TrainConfig.from_dict(values)]
    configs = []
    for entry in entries:
        cfg = TrainConfig.from_dict({**values, **entry})
        out = str(Path(values["out"]) / cfg.display_name) if values.get("out") else ""
        configs.append(cfg.replace(out=out))
    return configs


def preset_configs(name: str, directory: Path | None = None, **values) -> list[TrainConfig]:
    """The preset's run(s) with `values` (data, out, device, ...) set on each."""
    data = load_preset(name, directory)
    entries = data.pop("runs", None)
    return expand_runs({**data, **values}, entries)
