"""`python -m bench drills`: break one component while messages are in flight, then check the cases.

Every drill sends `messages` distinct messages (concurrently), injects its fault, removes it,
and ends with the same check over every accepted message (200/202): exactly one case row, a
category, and the record that is due for its route (a ticket for service_action, an adverse
event report for safety_compliance). Messages refused while a fault lasted (503 + Retry-After)
were not accepted and are resent by the client afterwards, as the contract asks.

Drills: worker_kill (SIGKILL the worker while classifications run, restart it), llm_fault (the
LLM server errors, then hangs past the client timeout, then recovers), temporal_restart (the
dev server is stopped mid-flight and restarted on its SQLite file), postgres_outage (the
workers' database link is cut through a proxy; the shared PostgreSQL server keeps running).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bench.faults import FakeOllama, TcpProxy
from bench.load import Reply, message_body, post
from bench.stack import Stack, StackOptions, WorkerSpec

SETTLE_TIMEOUT_S = 240.0
DRILLS = ("worker_kill", "llm_fault", "temporal_restart", "postgres_outage")


async def send_all(stack: Stack, count: int, run: str) -> list[Reply]:
    """Send every message until it is accepted: a refused one (429/503/connection) is resent."""
    pending = [message_body(index, run) for index in range(count)]
    accepted: list[Reply] = []
    refusals = 0
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    async with stack.http(timeout=60) as http:
        while pending and time.monotonic() < deadline:
            replies = await asyncio.gather(*(post(http, body) for body in pending))
            accepted += [r for r in replies if r.status in (200, 202)]
            done = {r.message_id for r in replies if r.status in (200, 202)}
            unexpected = [r for r in replies if r.status not in (0, 200, 202, 429, 503)]
            if unexpected:
                raise AssertionError(
                    f"unexpected answers: {[(r.status, r.content_type) for r in unexpected]}"
                )
            refusals += len(replies) - len(done)
            pending = [body for body in pending if body["message_id"] not in done]
            if pending:
                await asyncio.sleep(2)
    accepted.append(Reply("_refusals", -1, 0.0, None, error=str(refusals)))
    return accepted


async def check_cases(stack: Stack, case_ids: list[str]) -> dict[str, Any]:
    """Wait until every case is complete; return the counts the drill reports."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    summary: dict[str, Any] = {}
    while time.monotonic() < deadline:
        rows = await stack.rows(
            """
            SELECT c.case_id, c.category, c.route,
                   (SELECT count(*) FROM tickets t WHERE t.case_id = c.case_id) AS tickets,
                   (SELECT count(*) FROM adverse_event_reports r WHERE r.case_id = c.case_id) AS reports
            FROM cases c WHERE c.case_id = ANY(:ids)
            """,
            ids=case_ids,
        )
        by_case = {row["case_id"]: row for row in rows}
        missing = [cid for cid in case_ids if cid not in by_case]
        uncategorised = [row for row in rows if row["category"] is None]
        ticket_due = [r for r in rows if r["route"] == "service_action"]
        report_due = [r for r in rows if r["route"] == "safety_compliance"]
        failed = await stack.rows(
            "SELECT count(DISTINCT case_id) AS n FROM audit_events WHERE case_id = ANY(:ids)"
            " AND step = 'llm_classification' AND decision = 'failed'",
            ids=case_ids,
        )
        routes: dict[str, int] = {}
        for row in rows:
            routes[str(row["route"])] = routes.get(str(row["route"]), 0) + 1
        summary = {
            "accepted": len(case_ids),
            "routes": dict(sorted(routes.items())),
            # Classification gave up after its retries: the case went to an agent (human triage).
            "classification_failed_to_triage": int(failed[0]["n"]),
            "cases": len(rows),
            "missing_cases": len(missing),
            "duplicate_cases": len(rows) - len(by_case),
            "without_category": len(uncategorised),
            "tickets_due": len(ticket_due),
            "tickets_missing": sum(1 for r in ticket_due if r["tickets"] != 1),
            "reports_due": len(report_due),
            "reports_missing": sum(1 for r in report_due if r["reports"] != 1),
        }
        if (
            not missing
            and not uncategorised
            and not summary["tickets_missing"]
            and not summary["reports_missing"]
        ):
            break
        await asyncio.sleep(1)
    summary["ok"] = (
        summary["missing_cases"] == 0
        and summary["duplicate_cases"] == 0
        and summary["without_category"] == 0
        and summary["tickets_missing"] == 0
        and summary["reports_missing"] == 0
    )
    return summary


async def _drill(
    stack: Stack, messages: int, fault: Callable[[], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    started = time.monotonic()
    sending = asyncio.create_task(send_all(stack, messages, run))
    notes = await fault()
    replies = await sending
    refusals = int(replies.pop().error or 0)
    case_ids = sorted({r.case_id for r in replies if r.case_id is not None})
    result = await check_cases(stack, case_ids)
    return {
        **result,
        "refused_then_resent": refusals,
        **notes,
        "seconds": round(time.monotonic() - started, 1),
    }


async def worker_kill(messages: int) -> dict[str, Any]:
    llm = {"CC_LLM_BACKEND": "fixed_latency", "CC_LLM_FIXED_LATENCY_MS": "1500", "CC_LLM_MAX_CONCURRENT": "2"}
    options = StackOptions(workers=[WorkerSpec(roles=("workflows",)), WorkerSpec(roles=("llm",), env=llm)])
    async with Stack.start(options) as stack:

        async def fault() -> dict[str, Any]:
            await asyncio.sleep(2.0)  # classifications are running (1.5 s each, 2 slots)
            stack.kill_worker(1)
            stack.kill_worker(0)
            await asyncio.sleep(3.0)
            stack.start_worker(0)
            stack.start_worker(1)
            return {"fault": "SIGKILL workflow and LLM workers at 2 s, restarted at 5 s"}

        return await _drill(stack, messages, fault)


async def llm_fault(messages: int) -> dict[str, Any]:
    ollama = FakeOllama()
    async with ollama.serve():
        llm = {
            "CC_LLM_BACKEND": "ollama",
            "CC_OLLAMA_HOST": f"http://127.0.0.1:{ollama.port}",
            "CC_LLM_TIMEOUT_SECONDS": "2",
        }
        options = StackOptions(workers=[WorkerSpec(roles=("workflows", "llm"), env=llm)])
        async with Stack.start(options) as stack:

            async def fault() -> dict[str, Any]:
                ollama.mode = "error"
                await asyncio.sleep(10)
                ollama.mode = "hang"
                await asyncio.sleep(10)
                ollama.mode = "ok"
                return {"fault": "LLM server 500s for 10 s, then hangs past the 2 s client timeout for 10 s"}

            result = await _drill(stack, messages, fault)
            return {**result, "llm_calls": dict(ollama.calls)}


async def temporal_restart(messages: int) -> dict[str, Any]:
    async with Stack.start(StackOptions()) as stack:

        async def fault() -> dict[str, Any]:
            await asyncio.sleep(1.0)
            stack.stop_temporal()
            await asyncio.sleep(3.0)
            await stack.start_temporal()
            return {"fault": "Temporal dev server stopped at 1 s, restarted on its SQLite file at 4 s"}

        return await _drill(stack, messages, fault)


async def postgres_outage(messages: int) -> dict[str, Any]:
    proxy = TcpProxy(5432)
    await proxy.open()
    options = StackOptions(worker_db_port=proxy.port)
    async with Stack.start(options) as stack:

        async def fault() -> dict[str, Any]:
            await asyncio.sleep(1.0)
            await proxy.cut()
            await asyncio.sleep(15.0)
            await proxy.open()
            return {"fault": "workers' database link cut at 1 s for 15 s (PostgreSQL itself kept running)"}

        try:
            return await _drill(stack, messages, fault)
        finally:
            await proxy.cut()


async def run_drills(only: list[str] | None, messages: int) -> dict[str, Any]:
    chosen = only or list(DRILLS)
    table = {
        "worker_kill": worker_kill,
        "llm_fault": llm_fault,
        "temporal_restart": temporal_restart,
        "postgres_outage": postgres_outage,
    }
    results: dict[str, Any] = {}
    for name in chosen:
        try:
            results[name] = await table[name](messages)
        except (AssertionError, httpx.HTTPError, RuntimeError, TimeoutError) as exc:
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"bench": "drills", "messages": messages, **results, "ok": all(r["ok"] for r in results.values())}
