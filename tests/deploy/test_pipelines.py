"""CI/CD definitions: the jobs the pipeline promises exist and are wired in the right order.

GitHub Actions cannot run here; these tests read the workflow files as data, and run the
deployment script's argument checks (they happen before any cluster is contacted).
"""

from __future__ import annotations

import re
import subprocess
from typing import Any

import yaml

from .conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"


def workflow(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return loaded


def commands(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) + str(step.get("uses", "")) for step in job["steps"])


def test_ci_runs_lint_tests_with_postgres_eval_gate_audit_and_image() -> None:
    jobs = workflow("ci.yml")["jobs"]
    assert "make lint" in commands(jobs["lint"])
    assert "make test" in commands(jobs["test"])
    assert jobs["test"]["services"]["postgres"]["image"].startswith("postgres:")
    assert "prometheus chromium" in commands(jobs["test"])
    assert "make eval-smoke" in commands(jobs["eval-gate"])
    assert "pip-audit" in commands(jobs["audit"]) and "--frozen" in commands(jobs["audit"])
    image = commands(jobs["image"])
    assert "docker/build-push-action" in image and "docker compose" in image
    cached = [
        step for job in jobs.values() for step in job["steps"] if "actions/cache" in step.get("uses", "")
    ]
    assert any("contact-center/models" in step["with"]["path"] for step in cached), "model cache"
    assert any("enable-cache: true" in yaml.safe_dump(step) for job in jobs.values() for step in job["steps"])


def test_cd_ships_one_digest_through_staging_then_approved_production() -> None:
    cd = workflow("cd.yml")
    # PyYAML reads the `on:` key as the boolean True.
    triggers = cd[True]
    assert triggers["push"]["tags"] == ["v*.*.*"]
    jobs = cd["jobs"]
    build = next(s for s in jobs["build"]["steps"] if "build-push-action" in s.get("uses", ""))
    assert build["with"]["push"] is True and build["with"]["sbom"] is True
    assert str(build["with"]["provenance"]).startswith("mode=max")
    assert jobs["staging"]["environment"]["name"] == "staging"
    assert jobs["production"]["environment"]["name"] == "production"
    assert "staging" in jobs["production"]["needs"]
    for env in ("staging", "production"):
        run = commands(jobs[env])
        assert f'deploy/k8s/deploy.sh {env} "${{{{ needs.build.outputs.image }}}}"' in run
        assert "scripts.smoke_test" in run
        assert "secrets.KUBE_CONFIG" in run


def test_ci_script_calls_the_readme_test_command() -> None:
    readme = (REPO / "README.md").read_text()
    assert re.search(r"^make test\b", readme, flags=re.MULTILINE)
    ci_script = (REPO / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci_script, flags=re.MULTILINE)


def run_deploy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(REPO / "deploy" / "k8s" / "deploy.sh"), *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin"},
    )


def test_deploy_script_refuses_tags_and_unknown_environments_before_touching_a_cluster() -> None:
    by_tag = run_deploy("staging", "ghcr.io/acme/cc:1.2.3")
    assert by_tag.returncode == 2 and "by digest" in by_tag.stderr
    unknown = run_deploy("qa", "ghcr.io/acme/cc@sha256:" + "0" * 64)
    assert unknown.returncode == 2 and "unknown environment" in unknown.stderr
    option = run_deploy("staging", "ghcr.io/acme/cc@sha256:" + "0" * 64, "--force")
    assert option.returncode == 2 and "unknown option" in option.stderr
