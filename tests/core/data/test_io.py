"""Image/mask reading (RGB order, refusing colour masks) and atomic mask writes."""
import os

import cv2
import numpy as np
import pytest

from core.data import io
from core.errors import DataError


def test_read_image_is_rgb(tmp_path):
    bgr = np.zeros((4, 6, 3), np.uint8)
    bgr[..., 2] = 200  # red in OpenCV's BGR order
    cv2.imwrite(str(tmp_path / "a.png"), bgr)
    rgb = io.read_image(tmp_path / "a.png")
    assert rgb.shape == (4, 6, 3) and rgb.dtype == np.uint8
    assert (rgb[..., 0] == 200).all() and (rgb[..., 2] == 0).all()


def test_read_grey_image_gives_three_channels(tmp_path):
    cv2.imwrite(str(tmp_path / "g.png"), np.full((3, 5), 7, np.uint8))
    assert io.read_image(tmp_path / "g.png").shape == (3, 5, 3)


def test_unreadable_image_names_the_file(tmp_path):
    p = tmp_path / "broken.png"
    p.write_bytes(b"not a png at all")
    with pytest.raises(DataError, match="broken.png"):
        io.read_image(p)
    with pytest.raises(DataError, match="missing.png"):
        io.read_image(tmp_path / "missing.png")


def test_index_mask_refuses_colour_masks(tmp_path):
    colour = np.zeros((4, 4, 3), np.uint8)
    colour[:2] = (128, 64, 128)
    cv2.imwrite(str(tmp_path / "c.png"), colour)
    with pytest.raises(DataError, match="c.png.*colour"):
        io.read_index_mask(tmp_path / "c.png")


def test_index_mask_accepts_grey_saved_as_rgb(tmp_path):
    grey = np.array([[0, 1], [2, 11]], np.uint8)
    cv2.imwrite(str(tmp_path / "g.png"), np.dstack([grey] * 3))
    np.testing.assert_array_equal(io.read_index_mask(tmp_path / "g.png"), grey)


def test_index_mask_16bit_small_values(tmp_path):
    cv2.imwrite(str(tmp_path / "w.png"), np.array([[1, 2]], np.uint16))
    assert io.read_index_mask(tmp_path / "w.png").dtype == np.uint8
    cv2.imwrite(str(tmp_path / "big.png"), np.array([[1, 300]], np.uint16))
    with pytest.raises(DataError, match="big.png"):
        io.read_index_mask(tmp_path / "big.png")


def test_image_size_from_header(tmp_path):
    cv2.imwrite(str(tmp_path / "a.jpg"), np.zeros((7, 9, 3), np.uint8))
    assert io.image_size(tmp_path / "a.jpg") == (7, 9)


def test_write_index_mask_round_trip_leaves_no_temp(tmp_path):
    mask = np.arange(12, dtype=np.uint8).reshape(3, 4)
    target = tmp_path / "sub" / "m.png"
    io.write_index_mask(target, mask)
    io.write_index_mask(target, mask + 1)  # overwrite in place
    np.testing.assert_array_equal(io.read_index_mask(target), mask + 1)
    assert sorted(p.name for p in target.parent.iterdir()) == ["m.png"]


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "m.png"
    io.write_index_mask(target, np.zeros((2, 2), np.uint8))
    before = target.read_bytes()

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(DataError, match="m.png"):
        io.write_index_mask(target, np.ones((2, 2), np.uint8))
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.png"]


def test_masks_are_not_written_lossy(tmp_path):
    with pytest.raises(DataError, match="losslessly"):
        io.write_index_mask(tmp_path / "m.jpg", np.zeros((2, 2), np.uint8))
