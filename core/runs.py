"""Run folders and the comparison table over them (the report's Table 1, and more).

A run folder holds `config.yaml`, `metrics.jsonl` (one JSON line per epoch), `last.pt`, `best.pt`
and `summary.json`. Everything here reads and writes those plain files, so runs made by the CLI,
the GUI or torchrun look the same.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core.config import TrainConfig


@dataclass
class RunRecord:
    path: Path
    config: dict
    summary: dict | None
    epochs: list[dict] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def write_summary(run_dir: Path, cfg: TrainConfig, *, best_miou, best_epoch, scores: dict, gflops: float,
                  params: int, efficiency, train_seconds: float, images_per_s: float, device: str,
                  precision: str, cancelled: bool, holdout: dict | None = None,
                  phases: dict | None = None, data: dict | None = None, budget: dict | None = None) -> dict:
    """Write `summary.json`: the run's best numbers and the choices that produced them."""
    summary = {
        "name": cfg.display_name,
        "arch": cfg.arch, "encoder": cfg.encoder, "loss": cfg.loss, "optimizer": cfg.optimizer,
        "schedule": cfg.schedule, "lr": cfg.lr, "augment": cfg.augment, "class_weights": cfg.class_weights,
        "epochs": cfg.epochs, "batch_size": cfg.batch_size, "image_size": list(cfg.image_size),
        **cfg.model_options,  # every registered model option, by its current name
        "ema": cfg.ema, "time_budget": cfg.time_budget, "best_miou": best_miou, "best_epoch": best_epoch,
        "per_class_iou": scores.get("iou", {}) if scores else {},
        "pixel_acc": scores.get("pixel_acc") if scores else None,
        "gflops": gflops, "params": params, "efficiency": efficiency,
        "train_seconds": train_seconds, "images_per_s": images_per_s,
        "device": device, "precision": precision, "cancelled": cancelled,
        "crop_size": list(cfg.crop_size) if cfg.crop_size else None,
        "holdout": holdout,
        "phases": phases or {},  # wall seconds per phase of the run (core.engine.phases)
        "data": data,  # the memory plan: where the data lived and why (core.data.memory_plan)
        "budget": budget,  # a time budget's use: share used, epoch times, the last epoch (core.engine.budget)
        "miou_definition": "one confusion matrix over the val split at full mask resolution, void "
                           "ignored; IoU = TP/(TP+FP+FN); mean over classes in GT or prediction",
    }
    _atomic_write_text(Path(run_dir) / "summary.json", json.dumps(summary, indent=2))
    return summary


def checkpoint_for(run_dir: str | Path) -> Path | None:
    """The checkpoint that stands for a run: best.pt, else last.pt (a run stopped before its
    first validation), else None."""
    for name in ("best.pt", "last.pt"):
        path = Path(run_dir) / name
        if path.is_file():
            return path
    return None


def read_run(path: Path) -> RunRecord | None:
    """A run folder's files, or None when the folder is not a run (no config.yaml)."""
    path = Path(path)
    cfg_file = path / "config.yaml"
    if not cfg_file.is_file():
        return None
    try:
        config = yaml.safe_load(cfg_file.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return None
    summary = None
    if (path / "summary.json").is_file():
        try:
            summary = json.loads((path / "summary.json").read_text())
        except (OSError, json.JSONDecodeError):
            summary = None
    epochs = []
    if (path / "metrics.jsonl").is_file():
        for line in (path / "metrics.jsonl").read_text().splitlines():
            try:
                epochs.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a half-written last line from a killed run
    return RunRecord(path, config, summary, epochs)


def list_runs(root: str | Path) -> list[RunRecord]:
    """Every run folder directly under `root` (or `root` itself when it is one), by name."""
    root = Path(root)
    if not root.is_dir():
        return []
    own = read_run(root)
    if own is not None:
        return [own]
    found = (read_run(p) for p in sorted(root.iterdir()) if p.is_dir())
    return [r for r in found if r is not None]


COLUMNS = ["run", "arch", "encoder", "optimizer", "loss", "augment", "class_weights", "epochs",
           "image_size", "crop_size", "best_miou", "holdout_miou", "pixel_acc", "gflops", "efficiency",
           "params_m", "train_min", "images_per_s", "status",
           "options"]  # model options off the architecture's defaults (from the registry)


def options_text(config: dict) -> str:
    """The model options a run's config sets off its architecture's defaults, e.g.
    "boundary_head, dropout=0.1" (names and defaults from the model registry; older config
    files with flat keys read the same). Empty when none or when the config does not load."""
    import warnings

    from core.errors import RoadsegError
    from core.models.registry import model_info

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            cfg = TrainConfig.from_dict(dict(config))
        defaults = model_info(cfg.arch).defaults_for(cfg.encoder)
    except (RoadsegError, TypeError, ValueError):
        return ""
    parts = []
    for name, value in cfg.model_options.items():
        if value is None or value == defaults.get(name):
            continue
        parts.append(name if value is True else f"{name}={value}")
    return ", ".join(parts)


def runs_table(records: list[RunRecord]) -> list[dict]:
    """One row per run with the report's Table 1 columns (mIoU, GFLOPs, 100·mIoU/GFLOPs) and more."""
    rows = []
    for r in records:
        s, c = r.summary or {}, r.config
        best = s.get("best_miou")
        if best is None and r.epochs:
            best = max(e.get("miou", float("nan")) for e in r.epochs)
        status = "running/stopped" if not s else ("cancelled" if s.get("cancelled") else "done")
        size = s.get("image_size") or c.get("image_size") or []
        rows.append({
            "run": r.name, "arch": c.get("arch"), "encoder": c.get("encoder") or "",
            "options": options_text(c),
            "optimizer": c.get("optimizer"), "loss": c.get("loss"), "augment": c.get("augment"),
            "class_weights": c.get("class_weights"), "epochs": len(r.epochs),
            "image_size": "x".join(str(v) for v in size),
            "crop_size": "x".join(str(v) for v in c.get("crop_size") or []),
            "best_miou": best, "holdout_miou": (s.get("holdout") or {}).get("miou"),
            "pixel_acc": s.get("pixel_acc"), "gflops": s.get("gflops"),
            "efficiency": s.get("efficiency"),
            "params_m": s["params"] / 1e6 if s.get("params") else None,
            "train_min": s["train_seconds"] / 60 if s.get("train_seconds") is not None else None,
            "images_per_s": s.get("images_per_s"), "status": status,
        })
    return rows


DIGITS = {"best_miou": 4, "holdout_miou": 4, "miou": 4, "pixel_acc": 4, "gflops": 2, "efficiency": 2,
          "params_m": 2, "train_min": 1, "images_per_s": 2}


def format_value(key: str, v, missing: str = "") -> str:
    """How a table value is written (exports) and shown (the GUI's table): one rule for both."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return missing
    if isinstance(v, float):
        return f"{v:.{DIGITS.get(key, 4)}f}"
    return str(v)


def table_to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for row in rows:
        w.writerow([format_value(k, row.get(k)) for k in COLUMNS])
    return buf.getvalue()


def table_to_markdown(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(format_value(k, row.get(k)) for k in COLUMNS) + " |")
    return "\n".join(lines) + "\n"
