"""Alert rules as code: promtool checks and unit-tests them, a real Prometheus scrapes and evaluates.

promtool and prometheus come from Debian's `prometheus` package (.ci/run installs it); without
them locally these tests skip with a message saying so.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from core.config import Settings
from core.temporal_client import build_data_converter
from scripts.local_prometheus import running_prometheus
from temporal_workflows.quality import QualityReportWorkflow
from tests.workflows.test_agent_api import MemoryCaseStore
from worker.observability import metrics_runtime

PROMETHEUS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULES = sorted((PROMETHEUS_DIR / "rules").glob("*.yml"))
RULE_TESTS = sorted((PROMETHEUS_DIR / "tests").glob("*.yml"))
PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (apt-get install -y prometheus); CI installs it"
)


def _alerts() -> list[dict[str, Any]]:
    alerts = []
    for path in RULES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            alerts += [rule for rule in group["rules"] if "alert" in rule]
    return alerts


def test_every_alert_has_a_runbook_and_a_firing_unit_test() -> None:
    tested: set[str] = set()
    for path in RULE_TESTS:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                if case["exp_alerts"]:
                    tested.add(case["alertname"])
    alerts = _alerts()
    assert len(alerts) >= 10
    for alert in alerts:
        assert alert["annotations"].get("runbook"), alert["alert"]
        assert alert["annotations"]["runbook_url"].startswith("docs/monitoring.md#"), alert["alert"]
    assert {a["alert"] for a in alerts} <= tested, "alerts without a unit test that makes them fire"


@needs_promtool
def test_promtool_check_rules() -> None:
    assert PROMTOOL is not None
    result = subprocess.run([PROMTOOL, "check", "rules", *map(str, RULES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_promtool_unit_tests_of_every_alert() -> None:
    assert PROMTOOL is not None
    result = subprocess.run(
        [PROMTOOL, "test", "rules", *(str(p.relative_to(PROMETHEUS_DIR)) for p in RULE_TESTS)],
        capture_output=True,
        text=True,
        cwd=PROMETHEUS_DIR,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as reply:
        data: dict[str, Any] = json.loads(reply.read())
        return data


@pytest.mark.integration
@pytest.mark.skipif(PROMETHEUS is None, reason="prometheus not installed (apt-get install -y prometheus)")
async def test_a_real_prometheus_scrapes_the_api_and_the_worker_and_loads_the_rules(
    dev_server_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    assert PROMETHEUS is not None
    suffix = uuid.uuid4().hex[:8]
    settings = Settings(
        workflow_task_queue=f"wf-{suffix}",
        llm_task_queue=f"llm-{suffix}",
        worker_metrics_port=_free_port(),
        worker_app_metrics_port=_free_port(),
    )
    # Worker side: the app metrics server and the Temporal SDK's Prometheus endpoint, with a
    # worker polling so the SDK has metrics to show.
    runtime = metrics_runtime(settings)
    worker_client = await Client.connect(
        dev_server_env.client.service_client.config.target_host,
        runtime=runtime,
        data_converter=build_data_converter(settings),
    )
    api_port = _free_port()
    app = create_app(settings, dev_server_env.client, case_store=MemoryCaseStore())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=api_port, log_config=None))
    prom_port = _free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(p) for p in RULES],
        "scrape_configs": [
            {
                "job_name": "cc-api",
                "metrics_path": "/metrics/",
                "static_configs": [{"targets": [f"127.0.0.1:{api_port}"]}],
            },
            {
                "job_name": "cc-worker-app",
                "static_configs": [{"targets": [f"127.0.0.1:{settings.worker_app_metrics_port}"]}],
            },
            {
                "job_name": "cc-worker-temporal",
                "static_configs": [{"targets": [f"127.0.0.1:{settings.worker_metrics_port}"]}],
            },
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    async with Worker(
        worker_client, task_queue=settings.workflow_task_queue, workflows=[QualityReportWorkflow]
    ):
        serving = asyncio.create_task(server.serve())
        try:
            with running_prometheus(PROMETHEUS, tmp_path / "prometheus.yml", prom_port) as prometheus:
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}") as http:
                    for _ in range(1200):  # uvicorn exposes only a flag; the CI machine is shared
                        if server.started:
                            break
                        await asyncio.sleep(0.05)
                    await http.get("/v1/cases/unknown")  # any route: the HTTP metrics get a series
                base = f"{prometheus}/api/v1"
                healths: dict[str, str] = {}
                for _ in range(120):
                    await asyncio.sleep(0.5)
                    try:
                        targets = await asyncio.to_thread(_get, f"{base}/targets")
                    except OSError:
                        continue
                    healths = {t["labels"]["job"]: t["health"] for t in targets["data"]["activeTargets"]}
                    if len(healths) == 3 and set(healths.values()) == {"up"}:
                        break
                assert healths == {"cc-api": "up", "cc-worker-app": "up", "cc-worker-temporal": "up"}
                rules = await asyncio.to_thread(_get, f"{base}/rules")
                groups = {g["name"]: g for g in rules["data"]["groups"]}
                assert {"cc-service", "cc-safety", "cc-quality", "cc-recording"} <= set(groups)
                assert all(r["health"] != "err" for g in groups.values() for r in g["rules"])
                http_series = await asyncio.to_thread(_get, f"{base}/query?query=http_requests_total")
                handlers = {r["metric"].get("handler") for r in http_series["data"]["result"]}
                assert "/v1/cases/{case_id}" in handlers  # route templates, never raw paths
                sdk = await asyncio.to_thread(
                    _get, f"{base}/query?query=count(%7Bjob%3D%22cc-worker-temporal%22%7D)"
                )
                assert float(sdk["data"]["result"][0]["value"][1]) > 0
        finally:
            server.should_exit = True
            await serving
