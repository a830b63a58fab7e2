"""`python -m bench overhead`: the cost of orchestration alone (HTTP -> workflows -> answer).

The LLM backend is the instant `fake` one, so every millisecond measured is API, Temporal,
worker and database. Sequential: one client; concurrent: 20 clients.
"""

from __future__ import annotations

import platform
from typing import Any

from bench.load import run_load
from bench.report import latency_summary
from bench.stack import Stack, StackOptions, WorkerSpec


async def overhead(n: int, concurrency: int = 20, warmup: int = 20) -> dict[str, Any]:
    options = StackOptions(workers=[WorkerSpec(roles=("workflows", "llm"), env={"CC_LLM_BACKEND": "fake"})])
    async with Stack.start(options) as stack, stack.http() as http:
        await run_load(http, warmup, 4, run="warmup")
        sequential = await run_load(http, n, 1)
        concurrent = await run_load(http, n, concurrency)
        rss = stack.rss_mb()
    seq_ms = sequential.latencies(200)
    con_ms = concurrent.latencies(200, 202)
    return {
        "bench": "overhead",
        "n": n,
        "llm_backend": "fake",
        "sequential": {**latency_summary(seq_ms), "statuses": sequential.statuses()},
        "concurrent": {
            "clients": concurrency,
            **latency_summary(con_ms),
            "msgs_per_s": round(n / concurrent.elapsed_s, 2),
            "statuses": concurrent.statuses(),
        },
        "rss_mb": rss,
        "machine": machine(),
    }


def machine() -> dict[str, Any]:
    import os

    load1, load5, _ = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg_1m_5m": [round(load1, 2), round(load5, 2)],
    }
