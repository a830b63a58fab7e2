"""Bytecode for the workflow modules, which the Temporal sandbox re-imports for every workflow run.

The sandbox executes each workflow module afresh per run (that is what isolates runs). Python
reads the module from its cached bytecode when there is one; with PYTHONDONTWRITEBYTECODE set
(as in the image and on CI machines) and no `.pyc` files, every re-import compiles the source
again: ~6 ms of worker CPU on the first workflow task of every run, measured in
docs/performance.md. The image compiles at build time; this covers source checkouts.
"""

from __future__ import annotations

import compileall
from pathlib import Path

import temporal_workflows
from core.logging import get_logger

log = get_logger(__name__)

WORKFLOW_PACKAGE = Path(temporal_workflows.__file__).resolve().parent


def ensure_workflow_bytecode(package_dir: Path = WORKFLOW_PACKAGE) -> bool:
    """Write missing or stale `.pyc` files for the package; False if they could not be written.

    Up-to-date files are left alone, so this costs a few stat calls when the image has them.
    """
    compiled = bool(compileall.compile_dir(package_dir, quiet=2, workers=1))
    if not compiled:
        # A read-only source tree without bytecode: correct, only slower.
        log.warning("workflow_bytecode_not_written", package=str(package_dir))
    return compiled
