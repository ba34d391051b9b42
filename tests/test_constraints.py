"""constraints.txt (the tested versions) and pyproject.toml (the oldest versions that work) must
agree: every declared dependency is pinned, and each pin lies inside the declared range."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    return [Requirement(r) for r in reqs]


def pins() -> dict[str, Version]:
    out = {}
    for n, line in enumerate((ROOT / "constraints.txt").read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
        assert m, f"constraints.txt:{n}: not NAME==VERSION: {line!r}"
        out[canonicalize_name(m[1])] = Version(m[2])
    return out


def test_every_dependency_is_pinned_inside_its_range():
    pinned = pins()
    for req in declared():
        name = canonicalize_name(req.name)
        assert name in pinned, f"{req.name} is declared in pyproject.toml but not pinned in constraints.txt"
        assert req.specifier.contains(pinned[name], prereleases=True), \
            f"constraints.txt pins {req.name}=={pinned[name]}, outside pyproject's {req.specifier}"


def test_lower_bounds_only_except_where_explained():
    text = (ROOT / "pyproject.toml").read_text()
    for req in declared():
        for spec in req.specifier:
            assert spec.operator in (">=", "<", "!="), f"{req}: use a lower bound (>=), not {spec.operator}"
            if spec.operator == "<":  # an upper bound needs its reason on the same line
                line = next(ln for ln in text.splitlines() if f"{spec.operator}{spec.version}" in ln)
                assert "#" in line and len(line.split("#", 1)[1].strip()) > 10, f"{req}: upper bound without a reason"


def test_project_itself_is_not_pinned():
    assert "roadseg" not in pins()
