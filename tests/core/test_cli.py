"""The `roadseg` command line, driven through main(argv) plus one real subprocess."""
import json
import subprocess
import sys

import numpy as np
import pytest

from core.cli import main
from core.config import TrainConfig
from core.data import io
from core.data.source import open_dataset
from core.data.stats import compute_stats


@pytest.fixture(scope="module")
def trained(synth_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    rc = main(["train", "--data", str(synth_data), "--arch", "baseline", "--loss", "wce", "--optimizer", "sgd",
               "--epochs", "1", "--image-size", "32x48", "--batch-size", "4", "--augment", "none", "--out", str(out)])
    assert rc == 0
    return out


def test_train_then_eval_reports_summary_miou(trained, synth_data, capsys, tmp_path):
    summary = json.loads((trained / "summary.json").read_text())
    assert summary["loss"] == "wce" and summary["class_weights"] == "median"
    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(trained / "best.pt"), "--data", str(synth_data),
                 "--split", "val", "--json", str(tmp_path / "e.json")]) == 0
    out = capsys.readouterr().out
    assert f"mIoU {summary['best_miou']:.4f}" in out
    assert json.loads((tmp_path / "e.json").read_text())["miou"] == pytest.approx(summary["best_miou"])


def test_predict_writes_masks_and_overlays(trained, synth_data, tmp_path):
    src = open_dataset(synth_data)
    images = synth_data / "val"
    assert main(["predict", "--checkpoint", str(trained / "best.pt"), "--input", str(images),
                 "--out", str(tmp_path / "p")]) == 0
    names = sorted(p.name for p in images.iterdir())
    assert sorted(p.name for p in (tmp_path / "p").glob("*.png")) == names
    mask = io.read_index_mask(tmp_path / "p" / names[0])
    assert mask.shape == src.read_image(src.samples("val")[0]).shape[:2]
    assert mask.max() < src.schema.num_classes
    assert (tmp_path / "p" / "overlay" / names[0]).is_file()


def test_stats_json_matches_core(synth_data, tmp_path, capsys):
    assert main(["stats", "--data", str(synth_data), "--split", "train", "--json", str(tmp_path / "s.json")]) == 0
    d = json.loads((tmp_path / "s.json").read_text())
    st = compute_stats(open_dataset(synth_data), "train")
    assert d["pixel_counts"] == st.pixel_counts.tolist()
    assert np.allclose(d["weights"]["median"], st.weights("median"))
    assert np.allclose(d["weights"]["sqrt-median"], np.sqrt(st.weights("median")))
    lines = capsys.readouterr().out.splitlines()
    header = next(line for line in lines if line.startswith("class"))
    assert header.split()[-4:] == ["inverse", "median", "enet", "sqrt-median"]  # a heading per column
    ped = next(line for line in lines if line.startswith("Pedestrian"))
    assert len(ped.split()) == len(header.split())


def test_flops_runs_and_models(trained, capsys):
    assert main(["flops", "--arch", "baseline", "--image-size", "64x96"]) == 0
    assert "GFLOPs" in capsys.readouterr().out
    assert main(["runs", str(trained.parent), "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("run,baseline")
    assert main(["models"]) == 0
    assert "segformer" in capsys.readouterr().out


def test_synth_writes_camvid_layout(tmp_path):
    assert main(["synth", "--out", str(tmp_path / "s"), "--count", "5", "--size", "40x60", "--seed", "1"]) == 0
    src = open_dataset(tmp_path / "s")
    assert src.format == "camvid" and sum(len(src.samples(s)) for s in src.splits) == 5


@pytest.mark.parametrize("argv, needle", [
    (["train", "--data", "/nonexistent", "--arch", "unet", "--out", "x"], "/nonexistent"),
    (["eval", "--checkpoint", "/nope.pt", "--data", "."], ""),
    (["flops", "--arch", "no-such-net"], "no-such-net"),
    (["train", "--arch", "unet", "--out", "x"], "--data"),
    (["synth", "--out", "x", "--size", "big"], "HxW"),
])
def test_bad_input_is_one_line_and_nonzero(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("roadseg: error:") and needle in err[0]


def test_console_script_entry_point():
    r = subprocess.run([sys.executable, "-m", "core.cli.main", "flops", "--arch", "no-such-net"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_preset_with_runs_trains_a_queue(synth_data, tmp_path, monkeypatch, capsys):
    from core.cli import commands

    presets = tmp_path / "presets"
    presets.mkdir()
    (presets / "tiny-study.yaml").write_text(
        "image_size: [32, 48]\nepochs: 1\nbatch_size: 4\naugment: none\nloss: ce\noptimizer: adam\n"
        "runs:\n  - {name: base-adam, arch: baseline}\n  - {name: base-sgd, arch: baseline, optimizer: sgd}\n")
    monkeypatch.setattr(commands, "PRESETS_DIR", presets)
    out = tmp_path / "study"
    assert main(["train", "--preset", "tiny-study", "--data", str(synth_data), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["base-adam", "base-sgd"]
    assert json.loads((out / "base-sgd" / "summary.json").read_text())["optimizer"] == "sgd"
    assert "queue: 2 of 2 runs finished" in capsys.readouterr().out
    assert main(["train", "--preset", "no-such", "--data", str(synth_data), "--out", str(out)]) == 2
    assert "tiny-study" in capsys.readouterr().err


def test_eval_with_test_time_augmentation(trained, synth_data, capsys):
    assert main(["eval", "--checkpoint", str(trained / "best.pt"), "--data", str(synth_data),
                 "--tta-flip", "--tta-scales", "0.75,1,1.25"]) == 0
    assert "flip=True, scales=[0.75, 1.0, 1.25] (6 views per image)" in capsys.readouterr().out
    assert main(["eval", "--checkpoint", str(trained / "best.pt"), "--data", str(synth_data),
                 "--tta-scales", "big"]) == 2


def test_train_with_crops_and_a_held_out_sequence(synth_data, tmp_path, capsys):
    out = tmp_path / "held"
    assert main(["train", "--data", str(synth_data), "--arch", "baseline", "--epochs", "1", "--image-size",
                 "32x48", "--crop-size", "24x32", "--rare-crop", "0.5", "--copy-paste", "0.3", "--holdout", "synth_00000,synth_00001",
                 "--batch-size", "4", "--class-weights", "sqrt-median",
                 "--augment", "strong", "--loss", "ohem+dice", "--ema", "0.99", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["crop_size"] == [24, 32] and summary["loss"] == "ohem+dice"
    saved = TrainConfig.from_yaml(out / "config.yaml")
    assert saved.rare_crop == 0.5 and saved.copy_paste == 0.3 and saved.class_weights == "sqrt-median" and saved.ema == 0.99
    held = summary["holdout"]
    n_held = sum(n.startswith(("synth_00000", "synth_00001"))
                 for n in (s.name for s in open_dataset(synth_data).samples("train")))
    assert held["prefixes"] == "synth_00000,synth_00001" and held["images"] == n_held > 0
    assert "held-out synth_00000,synth_00001" in capsys.readouterr().out
    # eval --holdout scores the same split with the best checkpoint: the same number
    assert main(["eval", "--checkpoint", str(out / "best.pt"), "--data", str(synth_data), "--split", "holdout",
                 "--holdout", "synth_00000,synth_00001"]) == 0
    assert f"mIoU {held['miou']:.4f}" in capsys.readouterr().out


@pytest.mark.parametrize("flag, field, key, bad, error", [
    ("--boundary-head", "boundary_head", ".detail_head.", ["--arch", "unet"],
     "boundary_head=True does not apply to 'unet'"),
    ("--refine", "refine", ".head.refine.", ["--arch", "ddrnet23-slim", "--no-skip"], "needs skip"),
    ("--strip", "strip", ".strip.gate.", ["--arch", "unet"], "strip=True does not apply to 'unet'"),
])
def test_train_with_a_ddrnet_option_saves_and_evaluates_it(synth_data, tmp_path, capsys, flag, field, key,
                                                             bad, error):
    """--detail (train-time boundary head), --refine (deeper 1/4 skip path) and --strip (strip
    pooling) reach the config, the checkpoint and the summary, and the checkpoint rebuilds the
    network that trained."""
    from core.engine.checkpoint import load_checkpoint

    out = tmp_path / field
    assert main(["train", "--data", str(synth_data), "--arch", "ddrnet23-slim", flag, "--epochs", "1",
                 "--image-size", "64x96", "--batch-size", "4", "--augment", "none", "--out", str(out)]) == 0
    assert getattr(TrainConfig.from_yaml(out / "config.yaml"), field) is True
    assert any(key in k for k in load_checkpoint(out / "best.pt")["model"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary[field] is True
    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(out / "best.pt"), "--data", str(synth_data), "--split", "val"]) == 0
    assert f"mIoU {summary['best_miou']:.4f}" in capsys.readouterr().out
    assert main(["train", "--data", str(synth_data), *bad, flag, "--epochs", "1",
                 "--out", str(tmp_path / "bad")]) == 2
    assert error in capsys.readouterr().err


def test_train_with_a_time_budget_reports_the_epochs_that_fit(synth_data, tmp_path, capsys):
    out = tmp_path / "budget"
    assert main(["train", "--data", str(synth_data), "--arch", "baseline", "--epochs", "3", "--time-budget",
                 "0.001", "--image-size", "32x48", "--batch-size", "4", "--augment", "none",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "a 0.001-minute time budget (at most 3 epochs)" in printed
    assert "time budget: about 1 epochs in all at this pace" in printed
    assert "time budget: 0.0 of 0.001 min used (1 epochs); last epoch: epoch 2 skipped" in printed
    assert TrainConfig.from_yaml(out / "config.yaml").time_budget == 0.001
    assert json.loads((out / "summary.json").read_text())["epochs"] == 1


def test_synth_with_planted_label_errors_says_where_they_are_listed(tmp_path, capsys):
    import json

    out = tmp_path / "demo"
    assert main(["synth", "--out", str(out), "--count", "12", "--size", "180x240", "--val-fraction", "0.5",
                 "--label-errors", "0.5"]) == 0
    listed = json.loads((out / "label-errors.json").read_text())["errors"]
    assert listed
    assert f"planted {len(listed)} label errors in val, listed in {out / 'label-errors.json'}" in capsys.readouterr().out
