"""LitData shards: a dataset written as shards reads back pixel for pixel, trains (in memory and
streamed) to the same run as its folder, resumes exactly, and evaluates."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

pytest.importorskip("litdata")

from core.data.shards import MANIFEST, ShardSource, write_shards  # noqa: E402
from core.data.source import open_dataset  # noqa: E402
from core.engine.checkpoint import load_checkpoint  # noqa: E402
from core.engine.events import StepDone  # noqa: E402
from core.engine.trainer import Trainer  # noqa: E402
from core.errors import DataError  # noqa: E402
from core.evaluate import evaluate  # noqa: E402

from tests.core.engine.test_trainer import assert_same_weights, tiny  # noqa: E402


@pytest.fixture(scope="module")
def shards(synth_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("shards") / "demo-shards"
    write_shards(open_dataset(synth_data), out, chunk_bytes="64KB")  # several chunks per split
    return out


def test_shards_hold_every_file_byte_for_byte_and_read_back_the_same_pixels(synth_data, shards):
    import litdata

    source, sharded = open_dataset(synth_data), open_dataset(shards)
    assert isinstance(sharded, ShardSource) and sharded.format == "litdata" and sharded.encoded_as == "camvid"
    assert sharded.schema == source.schema and sharded.splits == source.splits
    assert len(list((shards / "train").glob("chunk-*.bin"))) > 1
    for split in source.splits:
        assert [s.name for s in sharded.samples(split)] == [s.name for s in source.samples(split)]
        items = {str(it["name"]): it for it in litdata.StreamingDataset(str(shards / split))}
        for s, t in zip(source.samples(split), sharded.samples(split)):
            assert bytes(items[s.name]["image"]) == s.image.read_bytes()  # lossless: the file itself
            assert bytes(items[s.name]["mask"]) == s.mask.read_bytes()
            a, b = source.read_pair(s), sharded.read_pair(t)
            assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
            assert sharded.image_size(t) == source.image_size(s)
    manifest = json.loads((shards / MANIFEST).read_text())
    assert manifest["format"] == "camvid" and len(manifest["splits"]["train"]["names"]) == 12


def test_a_run_on_shards_is_the_run_on_the_folder_and_resumes_exactly(synth_data, shards, tmp_path):
    folder = Trainer(tiny(synth_data, tmp_path / "folder", data_path="memory", augment="light")).run()
    cfg = tiny(shards, tmp_path / "shards", data_path="stream", augment="light")
    trainer = Trainer(cfg)
    trainer.add_listener(lambda e: isinstance(e, StepDone) and e.epoch == 2 and e.epoch_step == 1
                         and trainer.cancel())
    assert trainer.run()["cancelled"] is True
    assert load_checkpoint(tmp_path / "shards" / "last.pt")["epoch_step"] == 1
    resumed = []
    summary = Trainer(cfg, [lambda e: isinstance(e, StepDone) and resumed.append(e.epoch_step)], resume=True).run()
    assert resumed == [2, 3] and summary["data"]["path"] == "stream"
    assert summary["best_miou"] == pytest.approx(folder["best_miou"], abs=1e-9)
    assert_same_weights(tmp_path / "folder" / "last.pt", tmp_path / "shards" / "last.pt")
    res = evaluate(tmp_path / "shards" / "best.pt", open_dataset(shards), "val", device="cpu")
    assert res.scores.miou == pytest.approx(summary["best_miou"], abs=1e-9)


def test_hold_out_reads_the_held_out_pairs_from_their_own_shards(synth_data, shards):
    source, sharded = open_dataset(synth_data).hold_out("synth_0000"), open_dataset(shards).hold_out("synth_0000")
    assert [s.name for s in sharded.samples("holdout")] == [s.name for s in source.samples("holdout")]
    for s, t in zip(source.samples("holdout"), sharded.samples("holdout")):
        assert np.array_equal(source.read_pair(s)[1], sharded.read_pair(t)[1])


def test_shards_are_read_only_and_a_bad_manifest_is_named(shards, tmp_path):
    sharded = open_dataset(shards)
    sample = sharded.samples("val")[0]
    with pytest.raises(DataError, match="read-only"):
        sharded.write_mask(sample, sharded.read_mask(sample))
    broken = tmp_path / "broken"
    shutil.copytree(shards, broken)
    (broken / MANIFEST).write_text('{"format": "camvid"}')
    with pytest.raises(DataError, match="malformed manifest"):
        open_dataset(broken)


def test_convert_to_litdata_from_the_command_line(synth_data, tmp_path, capsys):
    from core.cli.main import main

    out = tmp_path / "cli-shards"
    assert main(["convert", "--from", "camvid", "--to", "litdata", "--input", str(synth_data),
                 "--out", str(out), "--split", "val"]) == 0
    assert "wrote 4 images as litdata" in capsys.readouterr().out
    assert open_dataset(out).splits == ["val"]
    assert main(["convert", "--from", "labelme", "--to", "litdata", "--input", str(synth_data), "--out",
                 str(tmp_path / "x")]) == 2
    assert "--to folder first" in capsys.readouterr().err
