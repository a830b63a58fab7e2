"""Screenshot of a real Prometheus graphing the service's own metrics (docs/img/).

Starts a whole local stack (Temporal dev server, a fresh PostgreSQL database, one worker with
both roles and the fake LLM backend, the API: bench.stack), a Debian `prometheus` scraping the
API, the worker's application metrics and the worker's Temporal SDK metrics with the project's
rules (deploy/prometheus/rules/), sends messages through the API spread over a few minutes,
lets Prometheus scrape, then opens Prometheus's graph page in headless Chromium and saves a PNG.

    python -m scripts.screenshot_prometheus --out docs/img/prometheus-accepted-messages.png

Needs PostgreSQL on 127.0.0.1:5432 (as the tests do), /usr/bin/prometheus and /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import tempfile
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import yaml
from playwright.sync_api import sync_playwright

from bench.stack import Stack, StackOptions, WorkerSpec, free_port
from scripts.local_prometheus import running_prometheus

log = logging.getLogger("screenshot_prometheus")

REPO = Path(__file__).resolve().parent.parent
RULES = sorted((REPO / "deploy" / "prometheus" / "rules").glob("*.yml"))
TEXTS = (
    "Where is my order {n}? It has not arrived yet.",
    "Please cancel my subscription {n} and refund the last payment.",
    "After taking the tablets my child got a rash and feels dizzy (batch {n}).",
    "What are your opening hours on public holidays? Ref {n}",
    "I want to change the delivery address of order {n}.",
    "Does the 500 mg pack contain lactose? Question {n}",
)
CHANNELS = ("chat", "email", "voice")
# The graph page's panels: what was accepted (by category and answer), and the category mix as
# the project's recording rule computes it (the input of the CCCategoryMixDrift alert).
PANELS = (
    "sum by (category, answer) (cc_messages_accepted_total)",
    "cc:category_share:ratio6h",
)


def prometheus_config(api_port: int, app_port: int, sdk_port: int) -> dict[str, Any]:
    def job(name: str, port: int, path: str = "/metrics") -> dict[str, Any]:
        return {
            "job_name": name,
            "metrics_path": path,
            "static_configs": [{"targets": [f"127.0.0.1:{port}"]}],
        }

    return {
        "global": {"scrape_interval": "5s", "evaluation_interval": "5s"},
        "rule_files": [str(path) for path in RULES],
        "scrape_configs": [
            job("cc-api", api_port, "/metrics/"),
            job("cc-worker-app", app_port),
            job("cc-worker-temporal", sdk_port),
        ],
    }


def message(index: int, run: str) -> dict[str, str]:
    return {
        "text": TEXTS[index % len(TEXTS)].format(n=40000 + index),
        "channel": CHANNELS[index % len(CHANNELS)],
        "message_id": f"shot-{run}-{index}",
    }


async def send_messages(stack: Stack, count: int, spread_seconds: float) -> dict[int, int]:
    """`count` messages, one after the other, spread evenly over `spread_seconds`."""
    run = uuid.uuid4().hex[:8]
    statuses: dict[int, int] = {}
    async with stack.http() as http:
        for index in range(count):
            reply = await http.post("/v1/messages", json=message(index, run))
            statuses[reply.status_code] = statuses.get(reply.status_code, 0) + 1
            await asyncio.sleep(spread_seconds / count)
    return statuses


def query(prom: str, expr: str) -> list[dict[str, Any]]:
    url = f"{prom}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    with urllib.request.urlopen(url, timeout=5) as reply:
        result: list[dict[str, Any]] = json.loads(reply.read())["data"]["result"]
        return result


def graph_url(prom: str, exprs: tuple[str, ...], range_input: str) -> str:
    params: dict[str, str] = {}
    for index, expr in enumerate(exprs):
        params |= {f"g{index}.expr": expr, f"g{index}.tab": "0", f"g{index}.range_input": range_input}
    # Debian's prometheus package serves the classic UI (its /graph redirects there).
    return f"{prom}/classic/graph?{urllib.parse.urlencode(params)}"


def screenshot(url: str, out: Path, chromium: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.wait_for_selector(".graph_area svg", timeout=20000)
        page.wait_for_timeout(2000)  # the legend renders after the series
        page.screenshot(path=str(out), full_page=True)
        browser.close()


async def run(args: argparse.Namespace) -> int:
    prometheus_binary = shutil.which(args.prometheus) or args.prometheus
    sdk_port, app_port, prom_port = free_port(), free_port(), free_port()
    worker = WorkerSpec(
        env={"CC_WORKER_METRICS_PORT": str(sdk_port), "CC_WORKER_APP_METRICS_PORT": str(app_port)}
    )
    tmp = Path(tempfile.mkdtemp(prefix="cc-prom-shot-"))
    async with Stack.start(StackOptions(workers=[worker])) as stack:
        (tmp / "prometheus.yml").write_text(
            yaml.safe_dump(prometheus_config(stack.api_port, app_port, sdk_port))
        )
        try:
            with (
                (tmp / "prometheus.log").open("wb") as prometheus_log,
                running_prometheus(
                    prometheus_binary, tmp / "prometheus.yml", prom_port, log=prometheus_log
                ) as prom,
            ):
                await asyncio.sleep(args.before_seconds)  # a flat start before the first message
                statuses = await send_messages(stack, args.messages, args.spread_seconds)
                log.info("sent %d messages: %s", args.messages, statuses)
                await asyncio.sleep(args.after_seconds)  # scrapes and rule evaluations after the last
                accepted = await asyncio.to_thread(query, prom, "sum(cc_messages_accepted_total)")
                log.info("Prometheus sees %s accepted messages", accepted[0]["value"][1] if accepted else 0)
                url = graph_url(prom, PANELS, args.range)
                await asyncio.to_thread(screenshot, url, Path(args.out), args.chromium)
                log.info("saved %s (%s)", args.out, url)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "img" / "prometheus-accepted-messages.png"))
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--before-seconds", type=float, default=30)
    parser.add_argument("--spread-seconds", type=float, default=120)
    parser.add_argument("--after-seconds", type=float, default=90)
    parser.add_argument("--range", default="10m", help="the graph's range_input")
    parser.add_argument("--prometheus", default="/usr/bin/prometheus")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
