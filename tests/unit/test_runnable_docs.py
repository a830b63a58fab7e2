"""Commands in the docs work as written: every ```bash runnable block is run here.

Blocks fenced as ```bash runnable in README.md and docs/*.md are run with bash (-e, -u,
pipefail) from the repository root, in the environment of the test run; each must exit 0
within its time limit. Other shell blocks (e.g. `docker compose up`, which needs a Docker
engine) are shown, not run: mark a block runnable only when it is cheap and self-contained.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```bash runnable[^\n]*\n(.*?)^```", flags=re.MULTILINE | re.DOTALL)
TIMEOUT_SECONDS = 300


def runnable_blocks() -> list[tuple[str, str]]:
    blocks = []
    for document in DOCUMENTS:
        text = document.read_text()
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            blocks.append((f"{document.relative_to(REPO)}:{line}", match.group(1)))
    return blocks


BLOCKS = runnable_blocks()


def test_the_design_document_has_runnable_commands() -> None:
    assert any(where.startswith("docs/design.md") for where, _ in BLOCKS), (
        "docs/design.md has no runnable block"
    )


@pytest.mark.parametrize(("where", "script"), BLOCKS, ids=[where for where, _ in BLOCKS])
def test_runnable_block_succeeds(where: str, script: str) -> None:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )
    assert result.returncode == 0, (
        f"{where} failed ({result.returncode}):\n{result.stdout[-1500:]}\n{result.stderr[-1500:]}"
    )
