import json

import pytest
import yaml

from core.runs import COLUMNS, list_runs, runs_table, table_to_csv, table_to_markdown


def make_run(root, name, miou, gflops, cancelled=False, summary=True):
    d = root / name
    d.mkdir(parents=True)
    (d / "config.yaml").write_text(yaml.safe_dump({"arch": "unet", "encoder": "resnet18", "loss": "ce",
                                                   "optimizer": "adam", "augment": "light",
                                                   "class_weights": "none", "image_size": [36, 48]}))
    (d / "metrics.jsonl").write_text(json.dumps({"epoch": 1, "miou": miou / 2}) + "\n"
                                     + json.dumps({"epoch": 2, "miou": miou}) + "\n{half-written")
    if summary:
        (d / "summary.json").write_text(json.dumps({
            "best_miou": miou, "gflops": gflops, "efficiency": 100 * miou / gflops, "params": 2_500_000,
            "train_seconds": 90.0, "images_per_s": 3.5, "pixel_acc": 0.9, "cancelled": cancelled,
            "image_size": [36, 48]}))
    return d


def test_list_and_table(tmp_path):
    make_run(tmp_path, "b", 0.5, 2.0)
    make_run(tmp_path, "a", 0.4, 4.0, cancelled=True)
    make_run(tmp_path, "c", 0.3, 1.0, summary=False)
    (tmp_path / "not-a-run").mkdir()
    records = list_runs(tmp_path)
    assert [r.name for r in records] == ["a", "b", "c"]
    assert len(records[0].epochs) == 2  # the half-written line is skipped
    rows = runs_table(records)
    assert rows[1]["best_miou"] == 0.5 and rows[1]["efficiency"] == pytest.approx(25.0)
    assert rows[1]["params_m"] == pytest.approx(2.5) and rows[1]["train_min"] == pytest.approx(1.5)
    assert [r["status"] for r in rows] == ["cancelled", "done", "running/stopped"]
    assert rows[2]["best_miou"] == 0.3  # from metrics.jsonl when there is no summary
    assert list_runs(tmp_path / "b")[0].name == "b"  # a run folder itself
    assert list_runs(tmp_path / "missing") == []


def test_csv_and_markdown(tmp_path):
    make_run(tmp_path, "r1", 0.5, 2.0)
    rows = runs_table(list_runs(tmp_path))
    csv_text = table_to_csv(rows).splitlines()
    assert csv_text[0] == ",".join(COLUMNS)
    assert csv_text[1].startswith("r1,unet,resnet18,adam,ce,light,none,2,36x48,,0.5000,,0.9000,2.00,25.00,2.50,1.5,3.50,done")
    md = table_to_markdown(rows).splitlines()
    assert md[0].startswith("| run | arch |") and md[1].startswith("|---|")
    assert "| 0.5000 |" in md[2] and "| 25.00 |" in md[2]


def test_crop_and_held_out_columns(tmp_path):
    d = make_run(tmp_path, "h", 0.5, 2.0)
    cfg = yaml.safe_load((d / "config.yaml").read_text())
    (d / "config.yaml").write_text(yaml.safe_dump({**cfg, "crop_size": [24, 32], "holdout": "0006R0"}))
    summary = json.loads((d / "summary.json").read_text())
    (d / "summary.json").write_text(json.dumps({**summary, "holdout": {"prefixes": "0006R0", "miou": 0.25}}))
    (row,) = runs_table(list_runs(tmp_path))
    assert row["crop_size"] == "24x32" and row["holdout_miou"] == 0.25
    assert "| 24x32 | 0.5000 | 0.2500 |" in table_to_markdown([row])
