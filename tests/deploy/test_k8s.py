"""Kubernetes manifests (deploy/k8s): rendered per overlay, schema-validated, and held to the rules.

No cluster or kustomize binary here: `render` applies the subset of kustomize the overlays use
(resources, namespace, images, strategic-merge patches of maps; lists are replaced, which is
also kustomize's behaviour for custom resources). Native objects are validated against the
Kubernetes JSON schemas (kubernetes-validate, offline); KEDA objects are checked by hand.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any
from unittest import mock

import kubernetes_validate
import pytest
import yaml

from core.config import Settings
from worker.sizing import sizing_problems

from .conftest import REPO

K8S = REPO / "deploy" / "k8s"
OVERLAYS = ["staging", "production"]
KUBERNETES_VERSION = "1.30"
APP_SECRET = "cc-app-secrets"
APP_SECRET_KEYS = {"database-url", "payload-keys", "payload-active-key"}

Manifest = dict[str, Any]


def load_documents(path: Path) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(patch)


def key(manifest: Manifest) -> tuple[str, str]:
    return manifest["kind"], manifest["metadata"]["name"]


def render(directory: Path) -> list[Manifest]:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    allowed = {"apiVersion", "kind", "namespace", "resources", "images", "patches", "labels"}
    assert set(kustomization) <= allowed, f"renderer does not know {set(kustomization) - allowed}"
    manifests: list[Manifest] = []
    for resource in kustomization.get("resources", []):
        path = (directory / resource).resolve()
        manifests += render(path) if path.is_dir() else load_documents(path)
    by_key = {key(m): m for m in manifests}
    assert len(by_key) == len(manifests), "duplicate objects"
    for patch_entry in kustomization.get("patches", []):
        for patch in load_documents(directory / patch_entry["path"]):
            assert key(patch) in by_key, f"patch targets nothing: {key(patch)}"
            by_key[key(patch)] = merge(by_key[key(patch)], patch)
    rendered = list(by_key.values())
    for manifest in rendered:
        for label in kustomization.get("labels", []):
            manifest["metadata"].setdefault("labels", {}).update(label["pairs"])
        if "namespace" in kustomization:
            manifest["metadata"]["namespace"] = kustomization["namespace"]
        for container in containers(manifest):
            for image in kustomization.get("images", []):
                if container["image"] == image["name"]:
                    container["image"] = f"{image['newName']}:{image['newTag']}"
    return rendered


def pod_spec(manifest: Manifest) -> dict[str, Any] | None:
    if manifest["kind"] in {"Deployment", "Job"}:
        spec: dict[str, Any] = manifest["spec"]["template"]["spec"]
        return spec
    return None


def containers(manifest: Manifest) -> list[dict[str, Any]]:
    spec = pod_spec(manifest)
    return list(spec["containers"]) if spec else []


def env_of(container: dict[str, Any], config: dict[str, str]) -> dict[str, str]:
    """The container's effective plain settings: the ConfigMap, then its own `env` values."""
    env = dict(config)
    env.update({item["name"]: item["value"] for item in container.get("env", []) if "value" in item})
    return env


def settings_from_env(env: dict[str, str]) -> Settings:
    """Settings exactly as the process in the pod would read them from its environment."""
    cleared = {name: value for name, value in os.environ.items() if not name.startswith("CC_")}
    with mock.patch.dict(os.environ, {**cleared, **env}, clear=True):
        return Settings(_env_file=None)


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> tuple[str, dict[tuple[str, str], Manifest]]:
    name: str = request.param
    return name, {key(m): m for m in render(K8S / "overlays" / name)}


def test_native_objects_match_the_kubernetes_schemas(
    overlay: tuple[str, dict[tuple[str, str], Manifest]],
) -> None:
    _, objects = overlay
    for manifest in objects.values():
        if manifest["apiVersion"].startswith("keda.sh/"):
            continue
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_every_object_lands_in_the_overlay_namespace_with_the_registry_image(
    overlay: tuple[str, dict[tuple[str, str], Manifest]],
) -> None:
    name, objects = overlay
    for manifest in objects.values():
        assert manifest["metadata"]["namespace"] == f"cc-{name}"
        for container in containers(manifest):
            assert container["image"].startswith("ghcr.io/"), container["image"]


def test_pods_are_non_root_bounded_and_read_only(
    overlay: tuple[str, dict[tuple[str, str], Manifest]],
) -> None:
    _, objects = overlay
    workloads = [m for m in objects.values() if pod_spec(m)]
    assert {m["metadata"]["name"] for m in workloads} == {
        "cc-api",
        "cc-codec-server",
        "cc-worker-workflows",
        "cc-worker-llm",
        "cc-migrate",
    }
    for manifest in workloads:
        spec = pod_spec(manifest)
        assert spec and spec["securityContext"]["runAsNonRoot"] is True
        for container in containers(manifest):
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(
                resources["limits"]
            )
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_secrets_come_only_from_the_referenced_secret(
    overlay: tuple[str, dict[tuple[str, str], Manifest]],
) -> None:
    _, objects = overlay
    assert not [m for m in objects.values() if m["kind"] == "Secret"], "secrets never live in the repository"
    for manifest in objects.values():
        for container in containers(manifest):
            for item in container.get("env", []):
                if "valueFrom" in item:
                    ref = item["valueFrom"]["secretKeyRef"]
                    assert ref["name"] == APP_SECRET and ref["key"] in APP_SECRET_KEYS
    config = objects[("ConfigMap", "cc-config")]["data"]
    assert not [
        k for k in config if any(word in k for word in ("PASSWORD", "KEYS", "SECRET", "DATABASE_URL"))
    ]


def test_api_probes_mean_alive_and_able_to_accept(
    overlay: tuple[str, dict[tuple[str, str], Manifest]],
) -> None:
    _, objects = overlay
    [api] = containers(objects[("Deployment", "cc-api")])
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    config = objects[("ConfigMap", "cc-config")]["data"]
    assert config["CC_AUTH_JWKS_URL"].startswith("https://"), "tokens are verified against the IdP's keys"
    service = objects[("Service", "cc-api")]
    assert service["spec"]["selector"] == objects[("Deployment", "cc-api")]["spec"]["selector"]["matchLabels"]


def test_every_deployment_has_a_disruption_budget(
    overlay: tuple[str, dict[tuple[str, str], Manifest]],
) -> None:
    _, objects = overlay
    budgets = {m["metadata"]["name"]: m for m in objects.values() if m["kind"] == "PodDisruptionBudget"}
    for manifest in objects.values():
        if manifest["kind"] == "Deployment" and manifest["metadata"]["name"] != "cc-codec-server":
            budget = budgets[manifest["metadata"]["name"]]
            assert budget["spec"]["selector"] == manifest["spec"]["selector"]


def test_migrations_run_once_in_a_job_not_in_replicas(
    overlay: tuple[str, dict[tuple[str, str], Manifest]],
) -> None:
    _, objects = overlay
    job = objects[("Job", "cc-migrate")]
    [container] = containers(job)
    assert container["command"] == ["python", "-m", "adapters.db.migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert objects[("ConfigMap", "cc-config")]["data"]["CC_MIGRATE_ON_START"] == "false"


def test_worker_roles_shutdown_and_autoscaling_on_the_right_queues(
    overlay: tuple[str, dict[tuple[str, str], Manifest]],
) -> None:
    _, objects = overlay
    config = objects[("ConfigMap", "cc-config")]["data"]
    settings = settings_from_env(config)
    queues = {"cc-worker-workflows": settings.workflow_task_queue, "cc-worker-llm": settings.llm_task_queue}
    roles = {"cc-worker-workflows": '["workflows"]', "cc-worker-llm": '["llm"]'}
    for name, queue in queues.items():
        deployment = objects[("Deployment", name)]
        [worker] = containers(deployment)
        assert env_of(worker, config)["CC_WORKER_ROLES"] == roles[name]
        grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        assert grace > settings.worker_graceful_shutdown_seconds
        scaled = objects[("ScaledObject", name)]
        assert scaled["spec"]["scaleTargetRef"]["name"] == name
        [trigger] = scaled["spec"]["triggers"]
        assert trigger["type"] == "temporal"
        assert trigger["metadata"]["taskQueue"] == queue
        assert trigger["metadata"]["namespace"] == settings.temporal_namespace
        assert trigger["metadata"]["endpoint"] == settings.temporal_address
        assert scaled["spec"]["minReplicaCount"] >= 1, "never scale a worker pool to zero under open cases"
    assert (
        objects[("ScaledObject", "cc-worker-llm")]["spec"]["triggers"][0]["metadata"]["queueTypes"]
        == "activity"
    )


def test_worker_pools_are_sized_to_the_database_and_the_model_slots(
    overlay: tuple[str, dict[tuple[str, str], Manifest]],
) -> None:
    _, objects = overlay
    config = objects[("ConfigMap", "cc-config")]["data"]
    llm = objects[("ScaledObject", "cc-worker-llm")]
    model_slots = int(llm["metadata"]["annotations"]["contact-center/model-slots"])
    for name in ("cc-worker-workflows", "cc-worker-llm"):
        [worker] = containers(objects[("Deployment", name)])
        env = env_of(worker, config)
        settings = settings_from_env(env)
        replicas = llm["spec"]["maxReplicaCount"] if name == "cc-worker-llm" else 1
        assert sizing_problems(settings, model_slots=model_slots, llm_replicas=replicas) == [], name
