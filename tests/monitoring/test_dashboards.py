"""Grafana dashboards as code (deploy/grafana/dashboards/): structure, PromQL and metric names.

Every PromQL expression of every panel is sent to a real Prometheus (`/api/v1/query`), which
rejects what it cannot parse, and may name only metrics the processes really export: the names
are read from real scrapes of the API's `/metrics/`, the worker's application endpoint and the
Temporal SDK endpoint of a worker that ran workflows (success, retried activity, failed workflow,
failed workflow task), plus the recording rules the same Prometheus loaded from the project.
"""

from __future__ import annotations

import asyncio
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from temporalio import activity, workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from core.config import Settings
from scripts.local_prometheus import running_prometheus
from tests.monitoring.test_prometheus_rules import PROMETHEUS, RULES, _free_port, _get
from worker.observability import metrics_runtime

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((REPO / "deploy" / "grafana" / "dashboards").glob("*.json"))
DATASOURCES = REPO / "deploy" / "compose" / "grafana-provisioning" / "datasources" / "prometheus.yml"
# Grafana's built-in interval variables, replaced the way Grafana would before querying.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "6h"}
# Series Prometheus writes itself for every target (not exported by any process).
PROMETHEUS_OWN = {"up"}
PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
    "and", "or", "unless", "inf", "nan", "atan2",
}  # fmt: skip


# ------------------------------------------------------------------ reading the dashboards
def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # collapsed rows hold their panels


def _expressions() -> list[tuple[str, str, str]]:
    """(dashboard file, panel title, expr) for every target of every panel."""
    found = []
    for path in DASHBOARDS:
        for panel in _panels(_load(path)["panels"]):
            for target in panel.get("targets", []):
                found.append((path.name, panel["title"], target["expr"]))
    return found


def _provisioned_uid() -> str:
    (source,) = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    assert source["type"] == "prometheus"
    uid: str = source["uid"]
    return uid


def promql(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"unknown Grafana variable in {expr!r}"
    return expr


def metric_names(expr: str) -> set[str]:
    """Metric names an expression selects: identifiers that are no function, keyword or label."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', promql(expr))
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges and subqueries
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.:])([A-Za-z_:][\w:]*)(\s*\()?", text):
        if match.group(2) is None and match.group(1).lower() not in PROMQL_WORDS:
            names.add(match.group(1))
    return names


# ------------------------------------------------------------------ structure (no servers)
def test_four_dashboards_with_unique_uids_and_titles() -> None:
    dashboards = [_load(path) for path in DASHBOARDS]
    assert len(dashboards) == 4
    for dashboard in dashboards:
        assert dashboard["uid"] and dashboard["title"] and dashboard["panels"], dashboard.get("uid")
        assert len(dashboard["uid"]) <= 40  # Grafana's limit
    assert len({d["uid"] for d in dashboards}) == len({d["title"] for d in dashboards}) == 4


def test_every_panel_queries_the_provisioned_prometheus() -> None:
    uid = _provisioned_uid()
    for path in DASHBOARDS:
        panels = [p for p in _panels(_load(path)["panels"]) if p["type"] != "row"]
        assert panels, path.name
        ids = [p["id"] for p in _panels(_load(path)["panels"])]
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids"
        for panel in panels:
            where = f"{path.name}: {panel['title']}"
            assert panel["datasource"] == {"type": "prometheus", "uid": uid}, where
            assert panel["targets"], f"{where}: no query"
            assert panel.get("description"), f"{where}: say what the panel answers"
            ref_ids = [t["refId"] for t in panel["targets"]]
            assert len(ref_ids) == len(set(ref_ids)), where
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == uid, where
                assert target["expr"].strip(), where


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        (
            'histogram_quantile(0.95, sum by (le, task_queue) (rate(temporal_activity_schedule_to_start_latency_bucket{task_queue=~".*llm.*"}[5m]))) > 1000',
            {"temporal_activity_schedule_to_start_latency_bucket"},
        ),
        (
            "abs(cc:triage_share:ratio6h - cc:triage_share:ratio7d) > 0.15 and on () cc:messages_accepted:rate6h * 21600 > 50",
            {"cc:triage_share:ratio6h", "cc:triage_share:ratio7d", "cc:messages_accepted:rate6h"},
        ),
        (
            'sum(rate(cc_llm_errors_total{kind="backend"}[$__rate_interval])) / clamp_min(sum(rate(x_total[10m])), 1e-9)',
            {"cc_llm_errors_total", "x_total"},
        ),
        (
            "time() - cc_queue_collector_last_success_timestamp_seconds > bool 600",
            {"cc_queue_collector_last_success_timestamp_seconds"},
        ),
        ('min by (job) (up{job=~"cc-.*|temporal"})', {"up"}),
    ],
)
def test_metric_names_are_read_from_promql(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


# ------------------------------------------------------------------ against real processes
@dataclass
class Live:
    exported: set[str]
    recorded: set[str]
    prometheus: str


def _exposed_names(exposition: str) -> set[str]:
    """Sample names of a scrape, plus the series each declared family will have once observed
    (a labelled metric that nothing recorded yet shows only its `# TYPE` line)."""
    names: set[str] = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            names.add(name)
            if kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
            elif kind == "summary":
                names |= {f"{name}_sum", f"{name}_count"}
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    return names


def _scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as reply:
        text: str = reply.read().decode()
        return text


@activity.defn(name="dashboards_flaky")
async def flaky() -> str:
    if activity.info().attempt == 1:
        raise RuntimeError("first attempt fails")  # a retried activity: execution_failed
    return "ok"


@workflow.defn(name="DashboardsSucceeds", sandboxed=False)
class Succeeds:
    @workflow.run
    async def run(self) -> str:
        return await workflow.execute_activity(
            flaky,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100)),
        )


@workflow.defn(name="DashboardsFails", sandboxed=False)
class Fails:
    @workflow.run
    async def run(self) -> None:
        raise ApplicationError("a failed workflow", non_retryable=True)


@workflow.defn(name="DashboardsTaskFails", sandboxed=False)
class TaskFails:
    @workflow.run
    async def run(self) -> None:
        raise RuntimeError("a bug: the workflow task fails and Temporal retries it")


async def _run_workflows(client: Client, task_queue: str) -> None:
    async with Worker(
        client, task_queue=task_queue, workflows=[Succeeds, Fails, TaskFails], activities=[flaky]
    ):
        suffix = uuid.uuid4().hex[:8]
        assert await client.execute_workflow(Succeeds.run, id=f"ok-{suffix}", task_queue=task_queue) == "ok"
        with pytest.raises(WorkflowFailureError):
            await client.execute_workflow(Fails.run, id=f"failed-{suffix}", task_queue=task_queue)
        stuck = await client.start_workflow(TaskFails.run, id=f"task-failed-{suffix}", task_queue=task_queue)
        for _ in range(100):
            history = [event async for event in stuck.fetch_history_events()]
            if any(event.HasField("workflow_task_failed_event_attributes") for event in history):
                break
            await asyncio.sleep(0.1)
        await stuck.terminate()


@pytest.fixture(scope="module")
async def live(
    dev_server_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Live]:
    if PROMETHEUS is None:
        pytest.skip("prometheus not installed (apt-get install -y prometheus)")
    settings = Settings(worker_metrics_port=_free_port(), worker_app_metrics_port=_free_port())
    runtime = metrics_runtime(settings)
    worker_client = await Client.connect(
        dev_server_env.client.service_client.config.target_host, runtime=runtime
    )
    # The API without its lifespan: /metrics/ and the HTTP middleware need none, and the
    # redactor's warm-up (seconds on a loaded machine) is not what this test is about.
    api_port = _free_port()
    app = create_app(settings, dev_server_env.client)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=api_port, log_config=None, lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    tmp = tmp_path_factory.mktemp("prometheus")
    config = {"global": {"evaluation_interval": "1s"}, "rule_files": [str(p) for p in RULES]}
    (tmp / "prometheus.yml").write_text(yaml.safe_dump(config))
    prom_port = _free_port()
    try:
        with running_prometheus(PROMETHEUS, tmp / "prometheus.yml", prom_port) as base:
            await _run_workflows(worker_client, f"dashboards-{uuid.uuid4().hex[:8]}")
            for _ in range(1200):
                if server.started:
                    break
                await asyncio.sleep(0.05)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}") as http:
                await http.get("/v1/cases/unknown")  # any route: the HTTP histograms get a series
            exported: set[str] = set()
            for url in (
                f"http://127.0.0.1:{api_port}/metrics/",
                f"http://127.0.0.1:{settings.worker_app_metrics_port}/metrics",
                f"http://127.0.0.1:{settings.worker_metrics_port}/metrics",
            ):
                exported |= _exposed_names(await asyncio.to_thread(_scrape, url))
            rules: dict[str, Any] = {}
            for _ in range(200):
                try:
                    rules = await asyncio.to_thread(_get, f"{base}/api/v1/rules")
                    break
                except OSError:
                    await asyncio.sleep(0.1)
            recorded = {
                rule["name"]
                for group in rules["data"]["groups"]
                for rule in group["rules"]
                if rule["type"] == "recording"
            }
            yield Live(exported=exported, recorded=recorded, prometheus=base)
    finally:
        server.should_exit = True
        await serving


def _query_error(base: str, expr: str) -> str | None:
    """None when Prometheus accepts the query, else its error message."""
    url = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            answer: dict[str, Any] = json.loads(reply.read())
    except urllib.error.HTTPError as error:
        answer = json.loads(error.read())
    return None if answer["status"] == "success" else str(answer.get("error"))


@pytest.mark.integration
async def test_the_scrapes_hold_what_the_dashboards_are_built_on(live: Live) -> None:
    """The harness itself: app, HTTP and every SDK family the Temporal dashboard draws."""
    for name in (
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "cc_messages_accepted_total",
        "cc_llm_classification_seconds_bucket",
        "cc_quality_confidence_psi",
        "temporal_activity_schedule_to_start_latency_bucket",
        "temporal_workflow_task_schedule_to_start_latency_bucket",
        "temporal_activity_execution_failed",
        "temporal_workflow_task_execution_failed",
        "temporal_workflow_failed",
        "temporal_worker_task_slots_used",
    ):
        assert name in live.exported, name
    assert "cc:category_share:ratio6h" in live.recorded
    # The SDK (temporalio 1.x, core-based) adds no unit suffix: latencies are milliseconds.
    assert "temporal_activity_schedule_to_start_latency_seconds_bucket" not in live.exported


@pytest.mark.integration
async def test_every_dashboard_query_parses_in_a_real_prometheus(live: Live) -> None:
    errors = {}
    for dashboard, title, expr in _expressions():
        error = await asyncio.to_thread(_query_error, live.prometheus, promql(expr))
        if error is not None:
            errors[f"{dashboard}: {title}: {expr}"] = error
    assert errors == {}
    # ...and the same check rejects what is not PromQL.
    assert await asyncio.to_thread(_query_error, live.prometheus, "sum(rate(x[5m])") is not None


@pytest.mark.integration
async def test_dashboards_use_only_exported_metric_names(live: Live) -> None:
    known = live.exported | live.recorded | PROMETHEUS_OWN
    unknown = {
        f"{dashboard}: {title}": sorted(metric_names(expr) - known)
        for dashboard, title, expr in _expressions()
        if metric_names(expr) - known
    }
    assert unknown == {}
    assert all(metric_names(expr) for _, _, expr in _expressions()), "a query selects no metric"


@pytest.mark.integration
async def test_alert_rules_use_only_exported_metric_names(live: Live) -> None:
    known = live.exported | live.recorded
    for path in RULES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                name = rule.get("alert") or rule["record"]
                assert metric_names(rule["expr"]) <= known, (name, sorted(metric_names(rule["expr"]) - known))
