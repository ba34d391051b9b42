"""paste: the donor's pixels of the chosen classes replace the receiver's, nothing else changes."""
import numpy as np
import pytest

from core.data.copy_paste import paste


def test_hand_made_paste():
    image = np.zeros((2, 3, 3), np.uint8)
    mask = np.array([[0, 1, 1], [1, 255, 0]], np.uint8)
    donor_image = np.arange(18, dtype=np.uint8).reshape(2, 3, 3) + 100
    donor_mask = np.array([[2, 2, 0], [255, 7, 2]], np.uint8)
    out_image, out_mask = paste(image, mask, donor_image, donor_mask, [2, 7])
    # class 2 at (0,0), (0,1), (1,2) and class 7 at (1,1) come over; donor 0 and void do not
    assert out_mask.tolist() == [[2, 2, 1], [1, 7, 2]]
    taken = np.array([[1, 1, 0], [0, 1, 1]], bool)
    assert (out_image[taken] == donor_image[taken]).all() and (out_image[~taken] == 0).all()
    # the inputs (a dataset's cached arrays) are not written to
    assert mask.tolist() == [[0, 1, 1], [1, 255, 0]] and not image.any()


def test_a_donor_of_another_size_is_refused():
    image, mask = np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.uint8)
    with pytest.raises(ValueError, match="not the size"):
        paste(image, mask, np.zeros((4, 5, 3), np.uint8), np.zeros((4, 5), np.uint8), [1])
