"""The layering rules checked by a tool: `lint-imports` reads the contracts in pyproject.toml
(core never imports Qt or guiapp; no evaluate <-> engine.setup or formats <-> source cycle;
option specs stay torch-free) and fails when one is broken."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports() -> str:
    exe = Path(sys.executable).with_name("lint-imports")
    found = str(exe) if exe.exists() else shutil.which("lint-imports")
    if found is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    return found


def test_import_contracts_are_kept():
    run = subprocess.run([_lint_imports(), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def test_a_broken_contract_fails(tmp_path):
    """The checker really looks: a package module importing PySide6 breaks such a contract."""
    pkg = tmp_path / "toycore"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "bad.py").write_text("import PySide6\n")
    (tmp_path / ".importlinter").write_text(
        "[importlinter]\nroot_package = toycore\ninclude_external_packages = True\n\n"
        "[importlinter:contract:qt]\nname = core never imports Qt\ntype = forbidden\n"
        "source_modules = toycore\nforbidden_modules = PySide6\n")
    run = subprocess.run([_lint_imports(), "--no-cache"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, env={"PYTHONPATH": str(tmp_path), "PATH": ""})
    assert run.returncode != 0 and "BROKEN" in run.stdout
