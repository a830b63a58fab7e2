"""`python -m bench spike`: a burst of messages at once against an LLM pool of known capacity.

The LLM pool is `llm_workers` processes with `slots` concurrent calls each, every call taking
exactly `service_ms` (the `fixed_latency` backend), so its capacity is
llm_workers x slots / service time. The burst goes to the real API at once; then we wait until
every accepted message has a classified case in PostgreSQL.

- accepted: 200 or 202 answers; `5xx` must be 0 and `lost` (accepted without a case) 0.
- drain_s: from the first POST until the last accepted message is classified.
- capacity_ratio: drain_msgs_per_s / pool capacity (1.0 = the pool never idled).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.load import Reply, message_body, post
from bench.overhead import machine
from bench.report import latency_summary, percentile
from bench.stack import Stack, StackOptions, WorkerSpec

DRAIN_TIMEOUT_S = 600.0


async def classified_count(stack: Stack, case_ids: list[str]) -> int:
    rows = await stack.rows(
        "SELECT count(*) AS n FROM cases WHERE case_id = ANY(:ids) AND category IS NOT NULL", ids=case_ids
    )
    return int(rows[0]["n"])


async def wait_until_classified(stack: Stack, case_ids: list[str], timeout: float) -> float | None:
    """Seconds (monotonic clock) at which all cases were classified, None on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await classified_count(stack, case_ids) >= len(case_ids):
            return time.monotonic()
        await asyncio.sleep(0.25)
    return None


async def spike(burst: int, service_ms: int, slots: int, llm_workers: int) -> dict[str, Any]:
    llm_env = {
        "CC_LLM_BACKEND": "fixed_latency",
        "CC_LLM_FIXED_LATENCY_MS": str(service_ms),
        "CC_LLM_MAX_CONCURRENT": str(slots),
    }
    options = StackOptions(
        workers=[WorkerSpec(roles=("workflows",))]
        + [WorkerSpec(roles=("llm",), env=llm_env) for _ in range(llm_workers)]
    )
    capacity = llm_workers * slots / (service_ms / 1000)
    async with Stack.start(options) as stack:
        async with stack.http(timeout=300, connections=burst) as http:
            bodies = [message_body(index, f"spike{int(time.time())}") for index in range(burst)]
            started = time.monotonic()
            replies: list[Reply] = await asyncio.gather(*(post(http, body) for body in bodies))
            answered = time.monotonic()
        accepted = [r for r in replies if r.status in (200, 202) and r.case_id]
        case_ids = [r.case_id for r in accepted if r.case_id is not None]
        done_at = await wait_until_classified(stack, case_ids, DRAIN_TIMEOUT_S)
        classified = await classified_count(stack, case_ids)
        rss = stack.rss_mb()
    drain_s = (done_at - started) if done_at is not None else float("nan")
    accept_ms = [r.latency_ms for r in replies]
    statuses: dict[str, int] = {}
    for reply in replies:
        key = str(reply.status) if reply.status else f"error:{reply.error}"
        statuses[key] = statuses.get(key, 0) + 1
    drain_rate = len(accepted) / drain_s if done_at is not None else 0.0
    return {
        "bench": "spike",
        "burst": burst,
        "pool": {
            "llm_workers": llm_workers,
            "slots_per_worker": slots,
            "service_ms": service_ms,
            "capacity_msgs_per_s": round(capacity, 2),
        },
        "accepted": len(accepted),
        "lost": len(accepted) - classified,
        "5xx": sum(1 for r in replies if r.status >= 500),
        "refused_429": sum(1 for r in replies if r.status == 429),
        "statuses": dict(sorted(statuses.items())),
        "accept_p50_ms": round(percentile(accept_ms, 0.5), 1),
        "accept_p99_ms": round(percentile(accept_ms, 0.99), 1),
        "all_answered_s": round(answered - started, 2),
        "decided_within_budget": sum(1 for r in replies if r.status == 200),
        "with_retry_after": sum(1 for r in replies if r.retry_after is not None),
        "drain_s": round(drain_s, 2),
        "drain_msgs_per_s": round(drain_rate, 2),
        "capacity_ratio": round(drain_rate / capacity, 3),
        "answer_latency_200": latency_summary([r.latency_ms for r in replies if r.status == 200]),
        "rss_mb": rss,
        "machine": machine(),
        "ok": len(accepted) == burst and classified == len(accepted),
    }
