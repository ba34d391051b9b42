"""Thousands of generated broken datasets thrown at the loaders: never a crash.

Every call either succeeds with a well-formed result or raises the library's own error
(a `RoadsegError`), which the CLI prints as one line and the GUI as a warning; nothing is printed
to stderr behind the caller's back (OpenCV and libpng would otherwise). Trees mix valid and
broken files (truncated, bit-flipped, empty, not images at all), wrong sizes, dtypes and channel
counts, odd names, missing pairs and stray files, in the camvid / folder / cityscapes layouts,
opened with auto-detection or a (possibly wrong) explicit format.
"""
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core.data.source import open_dataset
from core.data.stats import compute_stats
from core.errors import RoadsegError

IMAGE_KINDS = ("rgb", "grey", "rgba", "u16")
MASK_KINDS = ("index", "any", "rgb", "grey3", "u16small", "u16big", "rgba", "float", "two_channel")
DAMAGE = ("none",) * 12 + ("truncate", "flip", "empty", "text")
EXTS = (".png", ".png", ".jpg", ".bmp", ".tif")
SIZES = ((4, 6), (6, 8), (5, 5))
NAMES = st.text(alphabet="abcXYZ09 _-.é中", min_size=1, max_size=6).filter(lambda s: s not in (".", ".."))


def _array(kind: str, hw, rng, top: int) -> np.ndarray:
    h, w = hw
    if kind == "index":
        return rng.integers(0, top, (h, w)).astype(np.uint8)
    return {
        "rgb": lambda: rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
        "grey": lambda: rng.integers(0, 256, (h, w), dtype=np.uint8),
        "rgba": lambda: rng.integers(0, 256, (h, w, 4), dtype=np.uint8),
        "u16": lambda: rng.integers(0, 65536, (h, w, 3)).astype(np.uint16),
        "any": lambda: rng.integers(0, 256, (h, w), dtype=np.uint8),
        "grey3": lambda: np.repeat(rng.integers(0, top, (h, w, 1)).astype(np.uint8), 3, axis=2),
        "u16small": lambda: rng.integers(0, top, (h, w)).astype(np.uint16),
        "u16big": lambda: rng.integers(0, 65536, (h, w)).astype(np.uint16),
        "float": lambda: rng.random((h, w)).astype(np.float32),
        "two_channel": lambda: rng.integers(0, top, (h, w, 2)).astype(np.uint8),
    }[kind]()


def _encode(array: np.ndarray, ext: str, damage: str, cut: float, rng) -> bytes:
    try:
        ok, buf = cv2.imencode(ext, array)
        data = buf.tobytes() if ok else b"\x00not encodable"
    except cv2.error:  # this codec cannot hold this dtype/channel count: leave junk instead
        data = b"\x00not encodable"
    if damage == "truncate":
        return data[: int(len(data) * cut)]
    if damage == "flip":
        b = bytearray(data)
        b[int(len(b) * cut) % len(b)] ^= 0xFF
        return bytes(b)
    return {"empty": b"", "text": b"this is not an image\n"}.get(damage, data)


@st.composite
def file_pair(draw, top: int, png_only: bool):
    """(image bytes or None, image ext, mask bytes or None, mask ext)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    hw = draw(st.sampled_from(SIZES))
    mhw = hw if draw(st.integers(0, 9)) else draw(st.sampled_from(SIZES))  # sometimes a wrong size
    ext, mext = draw(st.sampled_from(EXTS)), draw(st.sampled_from((".png", ".png", ".bmp", ".tif", ".jpg")))
    if png_only and draw(st.integers(0, 9)):  # Cityscapes names end in .png
        ext = mext = ".png"
    image = _encode(_array(draw(st.sampled_from(IMAGE_KINDS)), hw, rng, top), ext,
                    draw(st.sampled_from(DAMAGE)), draw(st.floats(0, 1)), rng)
    mask_kind = "index" if draw(st.booleans()) else draw(st.sampled_from(MASK_KINDS))
    mask = _encode(_array(mask_kind, mhw, rng, top), mext,
                   draw(st.sampled_from(DAMAGE)), draw(st.floats(0, 1)), rng)
    missing = draw(st.sampled_from(("none",) * 12 + ("image", "mask")))
    return (None if missing == "image" else image, ext, None if missing == "mask" else mask, mext)


def _paths(layout: str, split: str, name: str, ext: str, mext: str, nested: bool):
    if layout == "camvid":
        return f"{split}/{name}{ext}", f"{split}annot/{name}{mext}"
    if layout == "folder":
        sub = f"{split}/" if nested else ""
        return f"images/{sub}{name}{ext}", f"masks/{sub}{name}{mext}"
    return (f"leftImg8bit/{split}/city/{name}_leftImg8bit{ext}",
            f"gtFine/{split}/city/{name}_gtFine_labelIds{mext}")


@st.composite
def dataset_tree(draw):
    """(files {relative path: bytes, or None for a folder}, format argument)."""
    layout = draw(st.sampled_from(("camvid", "folder", "cityscapes")))
    top = {"camvid": 12, "folder": 12, "cityscapes": 34}[layout] + draw(st.sampled_from((0,) * 5 + (3,)))
    nested = draw(st.booleans())
    files: dict[str, bytes | None] = {}
    for split in draw(st.lists(st.sampled_from(("train", "val", "test")), min_size=0, max_size=2, unique=True)
                      | st.just(["train"])):
        files[_paths(layout, split, "", "", "", nested)[0].rsplit("/", 1)[0]] = None  # the folders
        files[_paths(layout, split, "", "", "", nested)[1].rsplit("/", 1)[0]] = None
        for name in draw(st.lists(NAMES, min_size=0, max_size=3) | st.lists(NAMES, min_size=1, max_size=3)):
            image, ext, mask, mext = draw(file_pair(top, layout == "cityscapes"))
            ipath, mpath = _paths(layout, split, name, ext, mext, nested)
            if image is not None:
                files[ipath] = image
            if mask is not None:
                files[mpath] = mask
    for _ in range(draw(st.integers(0, 2))):  # stray files and folders where images live
        folder = draw(st.sampled_from(sorted({p.rsplit("/", 1)[0] for p in files if "/" in p} or {""})))
        stray = f"{folder}/{draw(NAMES)}{draw(st.sampled_from(('.txt', '.png', '', '.jpg')))}".lstrip("/")
        files[stray] = None if draw(st.booleans()) else draw(st.binary(max_size=40))
    if layout == "folder" and draw(st.booleans()):
        files["classes.yaml"] = draw(st.sampled_from((
            b"name: x\nclasses:\n  - {name: road, color: [1, 2, 3]}\n  - {name: car, color: [4, 5, 6]}\n",
            b"classes: 3\n", b"classes: [1, 2]\n", b"{{{", b"\xff\xfe\x00bad", b"",
            b"classes:\n  - {name: a, color: [1, 2]}\n", b"!!python/object/apply:os.getcwd []\n",
        )))
    fmt = draw(st.sampled_from(("auto",) * 6 + ("camvid", "folder", "cityscapes")))
    return files, fmt


def _materialise(root: Path, files: dict) -> None:
    for rel, data in sorted(files.items(), key=lambda kv: kv[1] is not None):
        path = root / rel
        try:
            if data is None:
                path.mkdir(parents=True, exist_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        except (IsADirectoryError, FileExistsError, NotADirectoryError):
            pass  # a name drawn twice as file and folder: keep whichever came first


def _well_formed(source, image, mask) -> None:
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert mask.dtype == np.uint8 and mask.shape == image.shape[:2]
    ids = np.unique(mask)
    assert ((ids < source.schema.num_classes) | (ids == 255)).all()


def _exercise(root: Path, fmt: str) -> None:
    try:
        source = open_dataset(root, fmt)
    except RoadsegError:
        event("open refused")
        return
    event("opened")
    for split in source.splits:
        bad = {s.name for s, _ in source.check(split)}
        for sample in source.samples(split):
            try:
                _well_formed(source, *source.read_pair(sample))
                assert sample.name not in bad, "check() reported a sample that reads fine"
                event("sample read")
            except RoadsegError as e:
                assert sample.name in bad, f"check() missed {sample.name}: {e}"
                assert str(sample.image) in str(e) or str(sample.mask) in str(e), str(e)
                event("sample refused")
            for read in (source.read_image, source.read_mask):
                try:
                    read(sample)
                except RoadsegError:
                    pass
        try:
            compute_stats(source, split)
        except RoadsegError:
            pass


# libjpeg reports a damaged JPEG that still decodes on stderr itself: its warnings, the JWRN_*
# messages of libjpeg-turbo's jerror.h, are allowed (all of them, not one per hypothesis find:
# "Corrupt JPEG data: ..." covers the bad-code/extraneous-bytes/resync/ICC ones); nothing else
# may print
_LIBJPEG = ("Corrupt JPEG data", "Premature end of JPEG file",
            "Invalid SOS parameters for sequential JPEG",  # JWRN_NOT_SEQUENTIAL
            "Warning: unknown JFIF revision number",  # JWRN_JFIF_MAJOR
            "Inconsistent progression sequence",  # JWRN_BOGUS_PROGRESSION
            "Unknown Adobe color transform code",  # JWRN_ADOBE_XFORM
            "Application transferred too many scanlines")  # JWRN_TOO_MUCH_DATA


@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")  # as io.py does outside pytest
@settings(max_examples=1000, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(tree=dataset_tree())
def test_loaders_never_crash_on_broken_datasets(tree, capfd):
    files, fmt = tree
    capfd.readouterr()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ds"
        root.mkdir()
        _materialise(root, files)
        _exercise(root, fmt)
    noise = [ln for ln in capfd.readouterr().err.splitlines() if ln.strip() and not ln.startswith(_LIBJPEG)]
    assert noise == [], "the loaders printed to stderr (breaks the CLI's one-line errors)"
