"""The label-issue options: checked values, the default smallest region, and a module light
enough for the CLI's parser."""
import subprocess
import sys

import pytest

from core.errors import ConfigError
from core.labeling.issue_options import IssueOptions, min_region_pixels


def test_options_reject_unknown_rules():
    with pytest.raises(ConfigError, match="rule"):
        IssueOptions(rule="vote")
    with pytest.raises(ConfigError, match="image score"):
        IssueOptions(method="max")
    with pytest.raises(ConfigError, match="void_confidence"):
        IssueOptions(void_confidence=1.5)


def test_the_default_smallest_region_follows_the_image_size():
    assert min_region_pixels((360, 480)) == 86 and min_region_pixels((1024, 2048)) == 1048
    assert min_region_pixels((64, 96)) == 20  # never below 20
    assert IssueOptions().min_region((360, 480)) == 86
    assert IssueOptions(min_pixels=5).min_region((360, 480)) == 5


def test_the_cli_parser_reads_the_options_without_numpy():
    code = ("import argparse, sys; from core.cli.label_issues import add_parser; "
            "add_parser(argparse.ArgumentParser().add_subparsers()); "
            "print(sorted(m for m in ('numpy', 'cv2', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
