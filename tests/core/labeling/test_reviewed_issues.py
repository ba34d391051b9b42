"""The reviewed-regions sidecar: what a person kept is written next to the dataset and read back;
a damaged file is one clear error."""
import json

import pytest

from core.errors import DataError
from core.labeling.issue_regions import IssueRegion
from core.labeling.reviewed_issues import SIDECAR_NAME, ReviewedIssues


def test_sidecar_round_trip_and_bad_file(tmp_path):
    side = ReviewedIssues.for_dataset(tmp_path)
    r = IssueRegion(0, 2, 16, (2, 2, 6, 6), "abc")
    assert side.mark("img1", r) is True
    assert side.mark("img1", IssueRegion(0, 2, 16, (2, 2, 6, 6), "other")) is False
    path = side.save()
    assert path == tmp_path / SIDECAR_NAME
    back = ReviewedIssues.for_dataset(tmp_path)
    assert back.get("img1") == [r] and len(back) == 1
    assert json.loads(path.read_text())["regions"]["img1"][0]["bbox"] == [2, 2, 6, 6]
    path.write_text("{not json")
    with pytest.raises(DataError, match=SIDECAR_NAME):
        ReviewedIssues.for_dataset(tmp_path)
