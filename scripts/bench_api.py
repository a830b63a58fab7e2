"""Load benchmark against a running stack (`make run`): latency percentiles, throughput, memory.

    python -m scripts.bench_api --messages 60 --concurrency 4 [--url http://127.0.0.1:8000]

Sends distinct synthetic messages (bounded count, loopback only), prints one JSON line with the
numbers, and the resident memory of the worker/API/Temporal processes when they run on this host.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
import uuid

import httpx

TEMPLATES = (
    "Please cancel order {n}, I ordered it twice.",
    "Do you deliver to Ireland and how long does order {n} usually take?",
    "Since starting the tablets from order {n} I have a rash on my arms.",
    "What are your opening hours on public holidays? (ref {n})",
    "I was charged twice for order {n}, please refund one payment.",
    "My son swallowed two of my sleeping tablets from order {n}.",
)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _rss_mb(pattern: str) -> float | None:
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True, check=False)
    total = 0.0
    for pid in found.stdout.split():
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return round(total, 1) if total else None


async def _run(url: str, messages: int, concurrency: int) -> dict[str, object]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    semaphore = asyncio.Semaphore(concurrency)

    async def one(http: httpx.AsyncClient, index: int) -> None:
        text = TEMPLATES[index % len(TEMPLATES)].format(n=70000 + index)
        body = {"text": text, "channel": "chat", "message_id": f"bench-{uuid.uuid4()}"}
        async with semaphore:
            started = time.perf_counter()
            reply = await http.post("/v1/messages", json=body)
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[reply.status_code] = statuses.get(reply.status_code, 0) + 1

    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        started = time.perf_counter()
        await asyncio.gather(*(one(http, i) for i in range(messages)))
        elapsed = time.perf_counter() - started
    return {
        "messages": messages,
        "concurrency": concurrency,
        "statuses": statuses,
        "throughput_msg_per_s": round(messages / elapsed, 2),
        "latency_ms": {
            "p50": round(statistics.median(latencies), 1),
            "p95": round(_percentile(latencies, 0.95), 1),
            "max": round(max(latencies), 1),
        },
        "rss_mb": {
            "worker": _rss_mb("worker.main"),
            "api": _rss_mb("api.main"),
            "temporal": _rss_mb("temporal server start-dev"),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--messages", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    if not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        parser.error("the benchmark only targets this machine")
    result = asyncio.run(_run(args.url, min(args.messages, 1000), args.concurrency))
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
