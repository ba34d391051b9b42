"""The one rule for naming a run, shared by the CLI, presets, the runs table and the GUI.

A run's name is its config's `name` (a preset's queue entry, or the GUI's run folder) or else
arch-encoder-loss-optimizer, kept to characters that are safe in a folder name on every system
("+" of a combined loss becomes "_"). The GUI, which starts many runs into one folder, adds the
start time and a -2, -3... counter so that no two runs share a folder.
"""
from __future__ import annotations

import re
import time
from pathlib import Path


def display_name(cfg) -> str:
    """Readable run name: the config's name, else arch-encoder-loss-optimizer."""
    parts = [cfg.name] if cfg.name else [cfg.arch, cfg.encoder or "", cfg.loss, cfg.optimizer]
    name = "-".join(p for p in parts if p)
    return re.sub(r"[^A-Za-z0-9._-]+", "", name.replace("+", "_"))


def run_name(cfg, when: float | None = None) -> str:
    """`display_name(cfg)` then -YYYYmmdd-HHMMSS (local time `when`, default now)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
    return "-".join(p for p in (display_name(cfg), stamp) if p)


def unique_run_dir(root: str | Path, cfg, when: float | None = None) -> Path:
    """`root/run_name(cfg)`, with -2, -3... appended when that folder already exists."""
    root = Path(root)
    base = run_name(cfg, when)
    path, n = root / base, 2
    while path.exists():
        path, n = root / f"{base}-{n}", n + 1
    return path
