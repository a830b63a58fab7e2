"""The Dockerfile and its build context, checked without a Docker engine.

No engine runs here, so the tests check what can be checked statically: the pinned base, the
stages, the user, the health check, and - by rebuilding the build context from .dockerignore
the way Docker would - that every role's entry point imports from what the image ships.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import REPO

DOCKERFILE = (REPO / "Dockerfile").read_text()
ENTRY_POINTS = [
    "api.main",
    "api.codec_server",
    "worker.main",
    "adapters.db.migrate",
    "classifier.model_files",
    "scripts.healthcheck",
]


def stages() -> dict[str, str]:
    parts = re.split(r"^FROM ", DOCKERFILE, flags=re.MULTILINE)[1:]
    named = {}
    for part in parts:
        header = part.splitlines()[0]
        match = re.search(r"\bAS (\S+)", header)
        assert match, f"unnamed stage: FROM {header}"
        named[match.group(1)] = "FROM " + part
    return named


def test_base_image_is_pinned_by_digest() -> None:
    match = re.search(r"^ARG PYTHON_BASE=(\S+)$", DOCKERFILE, flags=re.MULTILINE)
    assert match, "no PYTHON_BASE argument"
    assert re.fullmatch(r"python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", match.group(1))
    for line in re.findall(r"^FROM (\S+)", DOCKERFILE, flags=re.MULTILINE):
        assert line == "${PYTHON_BASE}" or line in stages(), f"unpinned base {line}"
    assert "imagetools inspect" in DOCKERFILE, "say how to refresh the digest"


def test_runtime_stage_is_slim_non_root_and_health_checked() -> None:
    runtime = stages()["runtime"]
    assert list(stages())[-1] == "runtime", "the default build target must be the runtime stage"
    user = re.search(r"^USER (\S+)$", runtime, flags=re.MULTILINE)
    assert user and user.group(1) not in {"root", "0"}
    assert "HEALTHCHECK" in runtime and "scripts.healthcheck" in runtime
    # No package manager, compilers or uv in the final stage: only the built venv is copied in.
    for forbidden in ("apt-get", "gcc", "build-essential", "pip install", "uv sync"):
        assert forbidden not in runtime, forbidden
    assert "COPY --from=builder /opt/venv /opt/venv" in runtime


def test_the_app_source_is_compiled_at_build_time_before_the_user_drops_root() -> None:
    """The workflow sandbox re-imports workflow modules per run; without .pyc it recompiles them."""
    runtime = stages()["runtime"]
    copy_source = runtime.index("COPY . .")
    compile_step = runtime.index("RUN python -m compileall")
    assert copy_source < compile_step < runtime.index("USER ")


def test_the_production_venv_has_no_dev_tools_or_model_parts() -> None:
    builder = stages()["builder"]
    assert "--no-default-groups" in builder and "--frozen" in builder
    assert "--group local" not in builder, "model parts and Temporal dev binaries stay out"
    assert 'if [ "$BAKE_MODEL" = "true" ]' in stages()["baked-model"]


def dockerignore_rules() -> list[tuple[bool, str]]:
    rules = []
    for raw in (REPO / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            negate = line.startswith("!")
            rules.append((negate, line.lstrip("!").rstrip("/")))
    return rules


def excluded(relative: str, rules: list[tuple[bool, str]]) -> bool:
    """Docker's rule: the last matching pattern wins; a directory pattern covers its contents."""
    result = False
    for negate, pattern in rules:
        candidates = [pattern, pattern.removeprefix("**/")]
        parts = relative.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        suffixes = ["/".join(parts[i:]) for i in range(len(parts))]
        hit = any(fnmatch.fnmatch(p, c) for c in candidates[:1] for p in prefixes)
        if pattern.startswith("**/"):
            hit = hit or any(fnmatch.fnmatch(s.split("/")[0], candidates[1]) for s in suffixes)
            hit = hit or any(fnmatch.fnmatch(s, candidates[1]) for s in suffixes)
        if hit:
            result = not negate
    return result


def test_secrets_vcs_and_local_state_never_enter_the_build_context() -> None:
    rules = dockerignore_rules()
    assert rules[0] == (False, "*"), "allow-list: start by excluding everything"
    for path in (
        ".git/config",
        ".venv/bin/python",
        ".tools/bin/uv",
        ".env",
        "api/.env",
        "tests/conftest.py",
        "eval/runs/ci/metrics.json",
        "api/__pycache__/main.cpython-311.pyc",
        "cases.sqlite",
        "model.gguf",
    ):
        assert excluded(path, rules), path
    for path in ("api/main.py", "uv.lock", "migrations/env.py", "config/acceptance_policy.json"):
        assert not excluded(path, rules), path


@pytest.fixture(scope="module")
def build_context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files `COPY . .` would put into /app, rebuilt from git's file list and .dockerignore."""
    rules = dockerignore_rules()
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    context = tmp_path_factory.mktemp("context")
    for relative in listed:
        source = REPO / relative
        if source.is_file() and not excluded(relative, rules):
            target = context / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return context


@pytest.fixture(scope="module")
def runtime_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The image's venv: `uv sync` exactly as the Dockerfile's builder stage runs it (no dev
    tools, no model parts), from the local uv cache only (`--offline`)."""
    uv = REPO / ".tools" / "bin" / "uv"
    uv_binary = str(uv) if uv.exists() else shutil.which("uv")
    assert uv_binary, "uv missing: `make venv` installs it into .tools/"
    project = tmp_path_factory.mktemp("runtime")
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy2(REPO / name, project / name)
    venv = project / "venv"
    result = subprocess.run(
        [uv_binary, "sync", "--frozen", "--offline", "--no-default-groups", "--no-install-project"],
        cwd=project,
        env={
            **os.environ,
            "UV_PROJECT_ENVIRONMENT": str(venv),
            "UV_PYTHON": sys.executable,
            "UV_LINK_MODE": "copy",
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    yield venv
    shutil.rmtree(project, ignore_errors=True)  # ~400 MB: never keep it between runs


def test_every_role_imports_from_the_shipped_files_and_runtime_dependencies_alone(
    build_context: Path, runtime_venv: Path
) -> None:
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    # -P: the repository is not on sys.path; only the rebuilt context (as /app in the image) is,
    # and the interpreter is the runtime venv's: a dev-only import fails here as in the image.
    result = subprocess.run(
        [str(runtime_venv / "bin" / "python"), "-P", "-c", code, *ENTRY_POINTS],
        cwd=build_context,
        env={"PYTHONPATH": str(build_context), "PATH": "/usr/bin:/bin", "HOME": str(build_context)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert not (build_context / "tests").exists() and not (build_context / ".git").exists()


def test_the_model_files_stage_needs_only_what_it_copies(tmp_path: Path) -> None:
    stage = stages()["model-files"]
    copied = re.findall(r"^COPY (\S+)/ \1/$", stage, flags=re.MULTILINE)
    assert sorted(copied) == ["classifier", "core"]
    for package in copied:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run(
        [sys.executable, "-P", "-c", "import classifier.model_files as m; assert m.MODEL_SPECS"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'CMD ["python", "-m", "classifier.model_files"]' in stage
