"""Workers write the workflow modules' bytecode the sandbox re-imports for every run."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from worker.bytecode import WORKFLOW_PACKAGE, ensure_workflow_bytecode


def _package(tmp_path: Path) -> Path:
    package = tmp_path / "wfpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "flow.py").write_text("VALUE = 1\n")
    return package


def test_missing_bytecode_is_written_and_stale_bytecode_rewritten(tmp_path: Path) -> None:
    package = _package(tmp_path)
    cached = Path(importlib.util.cache_from_source(str(package / "flow.py")))
    assert not cached.exists()
    assert ensure_workflow_bytecode(package)
    assert cached.exists()
    first = cached.read_bytes()
    (package / "flow.py").write_text("VALUE = 2  # changed\n")
    os.utime(package / "flow.py", (cached.stat().st_mtime + 10, cached.stat().st_mtime + 10))
    assert ensure_workflow_bytecode(package)
    assert cached.read_bytes() != first


def test_a_tree_where_bytecode_cannot_be_written_is_reported_not_fatal(tmp_path: Path) -> None:
    package = _package(tmp_path)
    # A file where the cache directory should be: unwritable for any user, root included.
    (package / "__pycache__").write_text("")
    assert ensure_workflow_bytecode(package) is False


def test_the_default_package_is_the_workflow_package() -> None:
    assert (WORKFLOW_PACKAGE / "message.py").exists()
