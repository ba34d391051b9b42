"""Each kind of bad data gives one clear error naming the file and the problem.

Where it fails is a decision per fault (see core/data/formats.py):
- layout faults (missing mask, empty folders, unreadable folder, unknown or wrong format) fail
  `open_dataset`, so nothing half-works;
- faults inside one file (corrupt, truncated, empty, not an image, unreadable, wrong size, values
  outside the schema, colour or 16-bit masks) fail only when that file is read: the rest of the
  dataset stays usable and `DataSource.check` lists every bad image up front (the GUI's
  per-image warning).
On the command line each is one `roadseg: error:` line and exit code 2, for `stats`, `train`
and `eval` alike.
"""
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.data import io
from core.data.source import open_dataset
from core.errors import ConfigError, DataError

from .conftest import train_argv

TRAIN_BAD, VAL_BAD = "synth_00001", "synth_00005"  # one broken sample in each split


def _write(path: Path, array: np.ndarray) -> None:
    ok, buf = cv2.imencode(".png", array)
    path.write_bytes(buf.tobytes())


def _denied(path: Path, monkeypatch) -> None:
    """Make `path` unreadable: chmod 000, or (as root, which chmod does not stop) an OS-level
    PermissionError from numpy's file read, the call io.py reads every file with."""
    if os.geteuid() != 0:
        os.chmod(path, 0)
        return
    real = np.fromfile

    def fromfile(file, *a, **k):
        if Path(file) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return real(file, *a, **k)

    monkeypatch.setattr(io.np, "fromfile", fromfile)


def _folder_denied(path: Path, monkeypatch) -> None:
    if os.geteuid() != 0:
        os.chmod(path, 0)
        return
    real = Path.iterdir

    def iterdir(self):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)


# name -> (break one sample: fn(image path, mask path, monkeypatch), words the error must hold)
FILE_FAULTS = {
    "corrupt_image": (lambda img, m, mp: img.write_bytes(img.read_bytes()[:40] + b"\x00" * 200),
                      "not a readable image (corrupt or truncated PNG"),
    "truncated_image": (lambda img, m, mp: img.write_bytes(img.read_bytes()[:-100]),
                        "not a readable image (corrupt or truncated PNG"),
    "empty_image": (lambda img, m, mp: img.write_bytes(b""), "not a readable image (empty file"),
    "text_named_png": (lambda img, m, mp: img.write_bytes(b"just some notes\n"),
                       "its content is not PNG, JPEG, BMP, TIFF or WebP data"),
    "unreadable_image": (lambda img, m, mp: _denied(img, mp), "cannot read file (Permission denied)"),
    "corrupt_mask": (lambda img, m, mp: m.write_bytes(m.read_bytes()[:-30]),
                     "not a readable mask image (corrupt or truncated PNG"),
    "size_mismatch": (lambda img, m, mp: _write(m, np.zeros((16, 24), np.uint8)),
                      "mask is 16x24 but its image"),
    "values_outside_schema": (lambda img, m, mp: _write(m, np.resize(np.uint8([0, 12, 40]), (32, 48))),
                              "mask values 12, 40 are outside the class schema"),
    "rgb_mask": (lambda img, m, mp: _write(m, np.resize(np.uint8([[128, 64, 128], [0, 0, 142]]),
                                                        (32, 48, 3))),
                 "colour (RGB) mask found where a single-channel index mask is expected"),
    "mask_16bit": (lambda img, m, mp: _write(m, np.full((32, 48), 300, np.uint16)),
                   "uint16 mask with values 300..300"),
}


def _files(root: Path, split: str, name: str) -> tuple[Path, Path]:
    return root / split / f"{name}.png", root / f"{split}annot" / f"{name}.png"


@pytest.mark.parametrize("fault", FILE_FAULTS)
def test_file_fault_fails_only_that_image(fault, data_copy, monkeypatch):
    breaker, words = FILE_FAULTS[fault]
    img, mask = _files(data_copy, "train", TRAIN_BAD)
    breaker(img, mask, monkeypatch)
    source = open_dataset(data_copy)  # the listing is fine: nothing is decoded yet
    bad = {s.name: e for s, e in source.check("train")}
    assert list(bad) == [TRAIN_BAD]
    assert words in str(bad[TRAIN_BAD])
    assert str(img) in str(bad[TRAIN_BAD]) or str(mask) in str(bad[TRAIN_BAD])
    for sample in source.samples("train"):  # the rest of the dataset is still usable
        if sample.name != TRAIN_BAD:
            image, labels = source.read_pair(sample)
            assert image.shape[:2] == labels.shape == (32, 48)
        else:
            with pytest.raises(DataError, match="synth_00001"):
                source.read_pair(sample)


@pytest.mark.parametrize("fault", FILE_FAULTS)
def test_file_fault_on_the_command_line(fault, data_copy, tiny_checkpoint, monkeypatch, cli, tmp_path):
    breaker, words = FILE_FAULTS[fault]
    for split, name in (("train", TRAIN_BAD), ("val", VAL_BAD)):
        breaker(*_files(data_copy, split, name), monkeypatch)
    for argv, name in ((["stats", "--data", data_copy], TRAIN_BAD),
                       (train_argv(data_copy, tmp_path / "run"), TRAIN_BAD),
                       (["eval", "--checkpoint", tiny_checkpoint, "--data", data_copy, "--device", "cpu"],
                        VAL_BAD)):
        rc, err = cli(argv)
        if argv[0] == "stats" and fault.endswith("_image") and rc == 0:
            continue  # stats reads masks only (and the image's header for the size check)
        assert rc == 2, (argv[0], err)
        assert len(err) == 1 and err[0].startswith("roadseg: error:"), (argv[0], err)
        assert words in err[0] and f"{name}.png" in err[0], (argv[0], err)


def _missing_mask(root, mp):
    (root / "trainannot" / f"{TRAIN_BAD}.png").unlink()


def _empty_folders(root, mp):
    for f in root.glob("*/*.png"):
        f.unlink()


def _empty_root(root, mp):
    _empty_folders(root, mp)
    for d in root.iterdir():
        d.rmdir()


# name -> (break the layout: fn(root, monkeypatch), extra CLI flags, words the error must hold)
LAYOUT_FAULTS = {
    "missing_mask": (_missing_mask, [], f"train/{TRAIN_BAD}.png: no mask for this image"),
    "empty_folders": (_empty_folders, [], "no images found"),
    "empty_root": (_empty_root, [], "not a known dataset layout"),
    "unreadable_folder": (lambda root, mp: _folder_denied(root / "trainannot", mp), [],
                          "trainannot: cannot read (Permission denied)"),
    "unknown_format": (lambda root, mp: None, ["--format", "pascal"], "unknown dataset format 'pascal'"),
    "wrong_format": (lambda root, mp: None, ["--format", "cityscapes"], "leftImg8bit folder is missing"),
}


@pytest.mark.parametrize("fault", LAYOUT_FAULTS)
def test_layout_fault_fails_open(fault, data_copy, tiny_checkpoint, monkeypatch, cli, tmp_path):
    breaker, flags, words = LAYOUT_FAULTS[fault]
    breaker(data_copy, monkeypatch)
    fmt = flags[1] if flags else "auto"
    with pytest.raises((DataError, ConfigError), match=words.replace("(", r"\(").replace(")", r"\)")):
        open_dataset(data_copy, fmt)
    for argv in (["stats", "--data", data_copy, *flags], train_argv(data_copy, tmp_path / "run", *flags),
                 ["eval", "--checkpoint", tiny_checkpoint, "--data", data_copy, "--device", "cpu", *flags]):
        rc, err = cli(argv)
        assert rc == 2 and len(err) == 1 and words in err[0], (argv[0], err)


def test_stray_files_are_skipped(data_copy, cli):
    """Non-image files, hidden files (a macOS `._x.png` copy artefact) and folders beside the
    images are not samples; the dataset opens exactly as before."""
    before = {s: [x.name for x in open_dataset(data_copy).samples(s)] for s in ("train", "val")}
    (data_copy / "train" / "notes.txt").write_text("taken on a sunny day\n")
    (data_copy / "train" / "Thumbs.db").write_bytes(b"\x00" * 64)
    (data_copy / "train" / f"._{TRAIN_BAD}.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    (data_copy / "trainannot" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (data_copy / "val" / "old.png").mkdir()
    source = open_dataset(data_copy)
    assert {s: [x.name for x in source.samples(s)] for s in ("train", "val")} == before
    assert source.check("train") == [] and source.check("val") == []
    assert cli(["stats", "--data", data_copy])[0] == 0


def test_tolerated_mask_encodings(data_copy):
    """A 16-bit mask whose values fit, and a grey mask saved as RGB, still read as index masks."""
    img, mask = _files(data_copy, "train", TRAIN_BAD)
    values = cv2.imread(str(mask), cv2.IMREAD_UNCHANGED)
    _write(mask, values.astype(np.uint16))
    img2, mask2 = _files(data_copy, "train", "synth_00002")
    values2 = cv2.imread(str(mask2), cv2.IMREAD_UNCHANGED)
    _write(mask2, np.dstack([values2] * 3))
    source = open_dataset(data_copy)
    assert source.check("train") == []
    expected = np.where(values == 11, 255, values)  # CamVid void 11 -> 255
    np.testing.assert_array_equal(source.read_mask(source.samples("train")[1]), expected)


def test_check_reports_progress_and_stops_on_cancel(data_copy):
    (data_copy / "train" / f"{TRAIN_BAD}.png").write_bytes(b"")
    source = open_dataset(data_copy)
    seen = []
    bad = source.check("train", progress=lambda done, total: seen.append((done, total)))
    assert [s.name for s, _ in bad] == [TRAIN_BAD]
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    calls = []
    assert source.check("train", cancel=lambda: calls.append(1) or len(calls) > 1) == []  # stopped after 1
    with pytest.raises(DataError, match="no split 'test'"):
        source.check("test")
