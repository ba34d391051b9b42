"""`roadseg label-issues` end to end on the synthetic set, with a checkpoint trained here."""
import json

import pytest

from core.cli import main
from core.data.source import open_dataset
from core.labeling.issue_regions import IssueRegion
from core.labeling.reviewed_issues import ReviewedIssues

TINY = ["--arch", "baseline", "--epochs", "1", "--image-size", "32x48", "--batch-size", "4"]


@pytest.fixture(scope="module")
def checkpoint(synth_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("li") / "run"
    assert main(["train", "--data", str(synth_data), *TINY, "--augment", "none", "--out", str(out)]) == 0
    return out / "best.pt"


def _read(path):
    return json.loads(path.read_text())


def test_checkpoint_scores_every_image_worst_first(checkpoint, synth_data, tmp_path, capsys):
    out = tmp_path / "val.json"
    assert main(["label-issues", "--checkpoint", str(checkpoint), "--data", str(synth_data),
                 "--split", "val", "--min-pixels", "1", "--json", str(out)]) == 0
    d = _read(out)
    names = sorted(s.name for s in open_dataset(synth_data).samples("val"))
    assert sorted(i["name"] for i in d["images"]) == names
    scores = [i["score"] for i in d["images"]]
    assert scores == sorted(scores, reverse=True)
    assert not any(i["in_sample"] for i in d["images"])  # it trained on train, not val
    regions = [r for i in d["images"] for r in i["regions"]]
    assert regions, "a one-epoch model doubts some labels"
    r = regions[0]
    assert set(r) >= {"given", "suggested", "given_name", "suggested_name", "pixels", "bbox", "stencil"}
    x0, y0, x1, y1 = r["bbox"]
    assert 0 <= x0 < x1 <= 96 and 0 <= y0 < y1 <= 64 and r["pixels"] <= (x1 - x0) * (y1 - y0)
    assert r["given"] != r["suggested"]
    out_text = capsys.readouterr().out
    assert "val: 4 images" in out_text
    # the model's IoU with the labels per class; the classes it barely knows are named
    assert set(d["class_iou"]) == set(open_dataset(synth_data).schema.names)
    weak = [k for k, v in d["class_iou"].items() if v is not None and v < 0.5]
    assert weak, "a one-epoch model knows some classes poorly"
    note = next(line for line in out_text.splitlines() if line.startswith("note: wrong labels of"))
    assert all(f"{k} (" in note for k in weak)
    assert d["flip"] is True and d["skip_edges"] is True  # the defaults: mirror-averaged, edges left out
    # four images are too few to fit the learned region scorer: the uncertainty ranking, and why
    assert d["image_score"] == "regions" and d["region_fit"]["used"] is False
    assert "note: 4 images: the region scorer needs at least 12 to fit" in out_text
    assert all(i["learned"] is None and i["score"] == pytest.approx(1 - i["relative_quality"]) for i in d["images"])


def test_no_flip_predicts_each_image_once(checkpoint, synth_data, tmp_path, monkeypatch):
    from core.evaluate import Predictor

    views = []
    predict = Predictor.predict
    monkeypatch.setattr(Predictor, "predict", lambda self, *a, **k: views.append(self.tta.views) or predict(self, *a, **k))
    args = ["label-issues", "--checkpoint", str(checkpoint), "--data", str(synth_data), "--split", "val"]
    assert main([*args, "--json", str(tmp_path / "a.json")]) == 0
    assert set(views) == {2}
    views.clear()
    assert main([*args, "--no-flip", "--keep-edges", "--json", str(tmp_path / "b.json")]) == 0
    assert set(views) == {1}
    d = _read(tmp_path / "b.json")
    assert d["flip"] is False and d["skip_edges"] is False


def test_training_split_is_marked_in_sample(checkpoint, synth_data, tmp_path, capsys):
    out = tmp_path / "train.json"
    assert main(["label-issues", "--checkpoint", str(checkpoint), "--data", str(synth_data),
                 "--split", "train", "--json", str(out)]) == 0
    d = _read(out)
    assert d["in_sample_images"] == 12 and all(i["in_sample"] for i in d["images"])
    assert "trained on 12 of these images" in capsys.readouterr().err


def test_reviewed_regions_are_left_out(checkpoint, synth_data, tmp_path):
    data = tmp_path / "copy"
    import shutil
    shutil.copytree(synth_data, data)
    first = tmp_path / "a.json"
    args = ["label-issues", "--checkpoint", str(checkpoint), "--data", str(data), "--split", "val",
            "--min-pixels", "1"]
    assert main([*args, "--json", str(first)]) == 0
    top = _read(first)["images"][0]
    side = ReviewedIssues.for_dataset(data)
    side.mark(top["name"], IssueRegion.from_dict(top["regions"][0]))
    side.save()
    second = tmp_path / "b.json"
    assert main([*args, "--json", str(second)]) == 0
    again = {i["name"]: i for i in _read(second)["images"]}[top["name"]]
    assert len(again["regions"]) == len(top["regions"]) - 1
    assert top["regions"][0]["digest"] not in {r["digest"] for r in again["regions"]}
    assert main([*args, "--include-reviewed", "--json", str(second)]) == 0
    assert len({i["name"]: i for i in _read(second)["images"]}[top["name"]]["regions"]) == len(top["regions"])


def test_folds_score_each_image_with_the_model_that_held_it_out(synth_data, tmp_path):
    out = tmp_path / "issues.json"
    runs = tmp_path / "folds"
    assert main(["label-issues", "--folds", "2", "--data", str(synth_data), *TINY, "--out", str(runs),
                 "--split", "train", "--json", str(out)]) == 0
    d = _read(out)
    assert d["models"] == [str(runs / "fold-1" / "best.pt"), str(runs / "fold-2" / "best.pt")]
    assert len(d["images"]) == 12 and not any(i["in_sample"] for i in d["images"])
    import yaml
    for k in (1, 2):
        cfg = yaml.safe_load((runs / f"fold-{k}" / "config.yaml").read_text())
        held = set(cfg["holdout"].split(","))
        assert len(held) == 6
        assert {i["name"] for i in d["images"] if i["model"].endswith(f"fold-{k}/best.pt")} == held


def test_a_fold_that_cannot_train_says_why(synth_data, tmp_path, capsys):
    args = ["label-issues", "--folds", "2", "--data", str(synth_data), *TINY, "--batch-size", "64",
            "--out", str(tmp_path / "folds"), "--split", "train"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "fold-1 failed: the 'train' split has 6 images, fewer than the batch size 64" in err
    assert err.strip().endswith("fold training failed")


def test_bad_arguments_end_in_one_line(synth_data, checkpoint, capsys):
    assert main(["label-issues", "--data", str(synth_data)]) == 2
    assert "either --checkpoint or --folds" in capsys.readouterr().err
    assert main(["label-issues", "--checkpoint", str(checkpoint), "--data", str(synth_data),
                 "--split", "nope"]) == 2
    assert "no split 'nope'" in capsys.readouterr().err


def test_rank_choices_and_default_are_cores():
    """The CLI builds its parser without importing the scoring (numpy, OpenCV): its list of image
    scores and its default must still be core's."""
    import argparse

    from core.cli.label_issues import add_parser
    from core.labeling.issue_options import IMAGE_SCORES, IssueOptions

    parser = add_parser(argparse.ArgumentParser().add_subparsers())
    rank = next(a for a in parser._actions if a.dest == "rank")
    assert tuple(rank.choices) == tuple(IMAGE_SCORES)
    assert rank.default == IssueOptions().method
    void = next(a for a in parser._actions if a.dest == "void_confidence")
    assert void.default == IssueOptions().void_confidence


def test_a_learned_report_prints_the_likely_errors_and_the_fit(capsys):
    from types import SimpleNamespace

    from core.cli.label_issues import _print
    from tests.core.labeling.test_region_scorer import _score, _split

    probs, labels, wrong = _split(32)
    report = _score(probs, labels)
    names = ["road", "car", "pole", "sky", "person"]
    _print(report, names, SimpleNamespace(split="val", top=3))
    lines = capsys.readouterr().out.splitlines()
    likely = sum((r.probability or 0) >= 0.6 for it in report.images for r in it.regions)
    assert lines[0].startswith(f"val: 32 images, {likely} likely label errors (probability >= 0.6) among ")
    assert lines[1].startswith("note: learned region scores: fitted on ") and "held-out AP on planted errors" in lines[1]
    first = report.ranked()[0]
    assert first.name in wrong and lines[2].startswith(f"   1. {first.name}  score ")
    assert "most likely: road -> car " in lines[2] and f" p {first.regions[0].probability:.2f}" in lines[2]
