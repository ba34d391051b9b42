"""`roadseg train --resume --out RUN` alone: the run's own config.yaml, with only the flags given
beside it changed."""
import json

import yaml

from core.cli import main


def _epochs(run):
    return [json.loads(line)["epoch"] for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]


def test_resume_reads_run_config_and_flags_override_only_what_they_name(synth_data, tmp_path):
    run = tmp_path / "run"
    assert main(["train", "--data", str(synth_data), "--arch", "baseline", "--loss", "dice", "--optimizer", "sgd",
                 "--lr", "0.02", "--epochs", "1", "--image-size", "32x48", "--batch-size", "4",
                 "--augment", "none", "--seed", "3", "--out", str(run)]) == 0
    first = yaml.safe_load((run / "config.yaml").read_text())
    assert _epochs(run) == [1]

    assert main(["train", "--resume", "--out", str(run), "--epochs", "2"]) == 0

    assert _epochs(run) == [1, 2]  # epoch 1 kept, epoch 2 trained from last.pt
    second = yaml.safe_load((run / "config.yaml").read_text())
    assert second["epochs"] == 2
    changed = {k for k in first if first[k] != second[k]}
    assert changed == {"epochs"}
    assert second["arch"] == "baseline" and second["loss"] == "dice" and second["lr"] == 0.02
    assert second["image_size"] == [32, 48] and second["seed"] == 3


def test_resume_without_run_config_names_the_missing_file(tmp_path, capsys):
    missing = tmp_path / "never-trained"
    assert main(["train", "--resume", "--out", str(missing)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert str(missing / "config.yaml") in err[0] and "no such file" in err[0]
