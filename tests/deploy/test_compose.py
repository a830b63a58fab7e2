"""docker-compose.yml, checked by the real Compose binary and then by the rules it must keep.

The Compose binary resolves the file (interpolation, anchors, merges, schema); the tests then
read its canonical JSON, so they check what Docker would run, not what the YAML looks like.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from classifier.model_files import MODEL_SPECS
from core.config import Settings
from temporal_workflows.message import CLASSIFY_TIMEOUT

from .conftest import REPO

COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / "deploy" / "compose.env.example"
JOBS = {"migrate", "temporal-schema", "temporal-namespace", "model-files", "ollama-model"}
# Images without a shell or HTTP client to run a health command; dependants wait for a start
# (the collector), or nothing depends on them (the Web UI).
NO_HEALTHCHECK_POSSIBLE = {"otel-collector", "temporal-ui"}


def run_compose(binary: Path, *args: str, env_file: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(binary), "-f", str(COMPOSE_FILE)]
    if env_file is not None:
        command += ["--env-file", str(env_file)]
    # A clean environment: nothing from the developer's shell may satisfy a required variable.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=60)


@pytest.fixture(scope="module")
def config(compose_binary: Path) -> dict[str, Any]:
    result = run_compose(compose_binary, "config", "--format", "json", env_file=ENV_EXAMPLE)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", f"compose warned: {result.stderr}"
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


@pytest.fixture(scope="module")
def services(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    loaded: dict[str, dict[str, Any]] = config["services"]
    return loaded


def long_running(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: spec for name, spec in services.items() if name not in JOBS}


def test_compose_refuses_to_render_without_the_secrets(compose_binary: Path) -> None:
    result = run_compose(compose_binary, "config", "--quiet")
    assert result.returncode != 0
    assert "required variable" in result.stderr


def test_every_required_variable_is_documented_in_the_env_example() -> None:
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", COMPOSE_FILE.read_text()))
    documented = set(re.findall(r"^([A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))
    assert required, "no required variables found: secrets would have defaults"
    assert required <= documented, f"undocumented: {sorted(required - documented)}"


def test_no_password_has_a_default_value() -> None:
    for match in re.finditer(
        r"\$\{([A-Z0-9_]*(PASSWORD|KEYS|SECRET)[A-Z0-9_]*)(:?[-?])?", COMPOSE_FILE.read_text()
    ):
        assert match.group(3) == ":?", f"{match.group(1)} must be required (${{VAR:?}}), not defaulted"


def test_long_running_services_have_health_checks_restart_policies_and_limits(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, spec in long_running(services).items():
        assert spec.get("restart") == "unless-stopped", name
        limits = spec.get("deploy", {}).get("resources", {}).get("limits", {})
        assert limits.get("cpus") and limits.get("memory"), f"{name}: no cpu/memory limit"
        if name in NO_HEALTHCHECK_POSSIBLE:
            continue
        healthcheck = spec.get("healthcheck", {})
        assert healthcheck.get("test") and not healthcheck.get("disable"), f"{name}: no health check"


def test_jobs_run_once_with_limits(services: dict[str, dict[str, Any]]) -> None:
    for name in JOBS:
        spec = services[name]
        assert spec.get("restart", "no") == "no" or spec["restart"].startswith("on-failure"), name
        assert spec["deploy"]["resources"]["limits"]["memory"], name


def test_start_order_uses_health_and_completion_conditions(services: dict[str, dict[str, Any]]) -> None:
    for name, spec in services.items():
        for dependency, condition in spec.get("depends_on", {}).items():
            wanted = condition["condition"]
            if dependency in JOBS:
                assert wanted == "service_completed_successfully", f"{name} -> {dependency}"
            elif dependency in NO_HEALTHCHECK_POSSIBLE:
                assert wanted == "service_started", f"{name} -> {dependency}"
            else:
                assert wanted == "service_healthy", f"{name} -> {dependency}"
                assert services[dependency].get("healthcheck", {}).get("test"), dependency
    # The chains that matter: schema before Temporal, migration before the app, model before LLM workers.
    assert "temporal-schema" in services["temporal"]["depends_on"]
    assert "temporal-namespace" in services["api"]["depends_on"]
    for app in ("api", "worker-workflows"):
        assert "migrate" in services[app]["depends_on"]
    assert "ollama-model" in services["worker-llm"]["depends_on"]
    assert "model-files" in services["ollama-model"]["depends_on"]


def test_nothing_is_published_beyond_loopback(services: dict[str, dict[str, Any]]) -> None:
    published = {}
    for name, spec in services.items():
        for port in spec.get("ports", []):
            assert port.get("host_ip") == "127.0.0.1", f"{name} publishes {port} beyond loopback"
            published[int(port["target"])] = name
    assert published.get(7233) == "temporal" and published.get(8080) == "temporal-ui"


def test_temporal_has_its_own_database_server_and_user(services: dict[str, dict[str, Any]]) -> None:
    temporal_env = services["temporal"]["environment"]
    cases_env = services["postgres"]["environment"]
    assert temporal_env["POSTGRES_SEEDS"] == "temporal-postgres"
    assert services["temporal-postgres"]["environment"]["POSTGRES_USER"] == temporal_env["POSTGRES_USER"]
    assert temporal_env["POSTGRES_USER"] != cases_env["POSTGRES_USER"]
    assert temporal_env["POSTGRES_PWD"] != cases_env["POSTGRES_PASSWORD"]
    assert "auto-setup" not in services["temporal"]["image"]


def test_temporal_schema_is_set_up_by_the_official_admin_tools(services: dict[str, dict[str, Any]]) -> None:
    job = services["temporal-schema"]
    assert job["image"].startswith("temporalio/admin-tools:")
    assert job["image"].split(":")[1] == services["temporal"]["image"].split(":")[1]
    script = (REPO / "deploy" / "temporal" / "setup-schema.sh").read_text()
    for step in ("temporal-sql-tool", "setup-schema -v 0.0", "update-schema -d", "temporal_visibility"):
        assert step in script


def test_web_ui_decodes_payloads_through_the_codec_server(services: dict[str, dict[str, Any]]) -> None:
    ui = services["temporal-ui"]["environment"]
    codec = services["codec-server"]
    assert codec["command"] == ["python", "-m", "api.codec_server"]
    port = codec["environment"]["CC_CODEC_SERVER_PORT"]
    assert ui["TEMPORAL_CODEC_ENDPOINT"] == f"http://127.0.0.1:{port}"
    assert codec["environment"]["CC_CODEC_UI_ORIGIN"] == "http://127.0.0.1:8233"
    # The codec server answers authenticated people only: the browser must send its session cookie.
    assert ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"
    for name in ("codec-server", "api"):
        assert services[name]["environment"]["CC_AUTH_JWKS_URL"].startswith("https://"), name


def llm_capacity_violations(services: dict[str, dict[str, Any]]) -> list[str]:
    """The sizing rule of docs/design.md, applied to a rendered Compose file."""
    worker = services["worker-llm"]
    env = worker["environment"]
    slots = int(env["CC_LLM_MAX_CONCURRENT"]) * int(worker["deploy"]["replicas"])
    model_slots = int(services["ollama"]["environment"]["OLLAMA_NUM_PARALLEL"])
    problems = []
    if slots > model_slots:
        problems.append(f"{slots} LLM activity slots > {model_slots} Ollama slots")
    if float(env["CC_LLM_TIMEOUT_SECONDS"]) >= CLASSIFY_TIMEOUT.total_seconds():
        problems.append("LLM HTTP timeout must end before the activity's start-to-close timeout")
    return problems


def test_llm_workers_never_oversubscribe_ollama(services: dict[str, dict[str, Any]]) -> None:
    assert llm_capacity_violations(services) == []


def test_the_capacity_rule_catches_an_oversubscribed_stack(services: dict[str, dict[str, Any]]) -> None:
    oversubscribed = json.loads(json.dumps(services))
    oversubscribed["worker-llm"]["environment"]["CC_LLM_MAX_CONCURRENT"] = "4"
    oversubscribed["worker-llm"]["environment"]["CC_LLM_TIMEOUT_SECONDS"] = "45"
    assert len(llm_capacity_violations(oversubscribed)) == 2


def test_ollama_model_is_created_from_the_evaluated_gguf(services: dict[str, dict[str, Any]]) -> None:
    spec = MODEL_SPECS["qwen2.5-coder-1.5b"]
    job = services["ollama-model"]["environment"]
    files = services["model-files"]
    assert files["build"]["target"] == "model-files"
    assert files["environment"]["CC_MODEL_CACHE_DIR"] == "/models"
    assert job["GGUF"] == f"/models/{spec.filename}"
    assert job["GGUF_SHA256"] == spec.sha256
    assert (
        job["MODEL_NAME"]
        == Settings().ollama_model
        == services["worker-llm"]["environment"]["CC_OLLAMA_MODEL"]
    )
    modelfile = (REPO / "deploy" / "ollama" / "Modelfile").read_text()
    assert re.search(rf"^FROM {re.escape(job['GGUF'])}$", modelfile, flags=re.MULTILINE)
    assert "TEMPLATE" in modelfile and "<|im_start|>" in modelfile and "<|im_end|>" in modelfile


def test_separate_worker_pools_and_migrations_only_in_the_job(services: dict[str, dict[str, Any]]) -> None:
    assert services["worker-workflows"]["environment"]["CC_WORKER_ROLES"] == '["workflows"]'
    assert services["worker-llm"]["environment"]["CC_WORKER_ROLES"] == '["llm"]'
    assert services["migrate"]["command"] == ["python", "-m", "adapters.db.migrate"]
    for name in ("api", "worker-workflows", "worker-llm", "codec-server"):
        assert services[name]["environment"]["CC_MIGRATE_ON_START"] == "false", name
    for name in ("worker-workflows", "worker-llm"):
        grace = int(services[name]["environment"]["CC_WORKER_GRACEFUL_SHUTDOWN_SECONDS"])
        assert _seconds(services[name]["stop_grace_period"]) > grace, name


def _seconds(duration: str) -> float:
    match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert match, duration
    return int(match.group(1) or 0) * 60 + int(match.group(2) or 0)


def test_prometheus_config_of_the_stack_is_valid_and_loads_the_project_rules(tmp_path: Path) -> None:
    """promtool checks the config and every rule file it loads, with the container's mount point
    (/etc/prometheus/project = deploy/prometheus) mapped back to the repository."""
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing: apt-get install -y prometheus (.ci/run does)"
    config = (REPO / "deploy" / "compose" / "prometheus.yml").read_text()
    assert "/etc/prometheus/project/rules/*.yml" in config
    rules = sorted((REPO / "deploy" / "prometheus" / "rules").glob("*.yml"))
    assert rules, "the stack loads no alert or recording rules"
    local = tmp_path / "prometheus.yml"
    local.write_text(config.replace("/etc/prometheus/project", str(REPO / "deploy" / "prometheus")))
    result = subprocess.run(
        [promtool, "check", "config", str(local)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for rule_file in rules:
        assert rule_file.name in result.stdout, f"{rule_file} not loaded"


def test_bind_mounts_exist_in_the_repository(services: dict[str, dict[str, Any]]) -> None:
    for name, spec in services.items():
        for volume in spec.get("volumes", []):
            if volume["type"] == "bind":
                assert Path(volume["source"]).exists(), f"{name}: {volume['source']} missing"


def _in_container(spec: dict[str, Any], path: str) -> Path | None:
    """The repository path a container path resolves to through the service's bind mounts."""
    best: tuple[str, str] | None = None
    for volume in spec.get("volumes", []):
        target = volume["target"].rstrip("/")
        inside = path == target or path.startswith(target + "/")
        if volume["type"] == "bind" and inside and (best is None or len(target) > len(best[0])):
            best = (target, volume["source"])
    return None if best is None else Path(best[1]) / path[len(best[0]) :].lstrip("/")


def test_grafana_provisions_the_repositorys_dashboards_and_prometheus(
    services: dict[str, dict[str, Any]],
) -> None:
    """Grafana's provisioning files, followed through the stack's mounts, reach the dashboards
    of deploy/grafana/dashboards and a data source pointing at the stack's Prometheus."""
    grafana = services["grafana"]
    provisioning = _in_container(grafana, "/etc/grafana/provisioning")
    assert provisioning == REPO / "deploy" / "compose" / "grafana-provisioning"
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "project.yml").read_text())["providers"]
    assert provider["type"] == "file"
    dashboards = _in_container(grafana, provider["options"]["path"])
    assert dashboards == REPO / "deploy" / "grafana" / "dashboards"
    assert len(sorted(dashboards.glob("*.json"))) >= 4
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert source["type"] == "prometheus"
    assert source["url"] == f"http://prometheus:{services['prometheus']['ports'][0]['target']}"
    assert "prometheus" in grafana["depends_on"]
