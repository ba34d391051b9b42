"""The repository stands alone: no tracked file points at the team's own shared folder beside the
checkout, which exists only on the team's machines (README and docs say where users get datasets)."""
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def tracked() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / p for p in out.splitlines()]


def test_no_tracked_text_file_points_at_the_teams_shared_folder():
    needle = "../" + "shared"  # spelled apart, so this file does not find itself
    offenders = []
    for path in tracked():
        if path.suffix.lower() in (".png", ".jpg", ".svg", ".ico") or not path.is_file():
            continue
        text = path.read_text(errors="replace")
        offenders += [f"{path.relative_to(ROOT)}:{i}" for i, line in enumerate(text.splitlines(), 1)
                      if needle in line]
    assert not offenders, f"points outside the repository: {offenders}"


def test_the_architecture_and_data_docs_exist_and_the_readme_links_them():
    readme = (ROOT / "README.md").read_text()
    for doc in ("docs/architecture.md", "docs/data.md"):
        assert (ROOT / doc).is_file() and f"({doc})" in readme


def test_every_file_the_docs_name_exists():
    import re

    missing = []
    for doc in sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]:
        for ref in re.findall(r"`((?:core|guiapp|tests|benchmarks|tools|research)/[\w./-]+\.(?:py|md|yaml))`",
                              doc.read_text()):
            if not (ROOT / ref).is_file():
                missing.append(f"{doc.name}: {ref}")
    assert not missing, missing
