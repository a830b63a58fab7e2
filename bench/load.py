"""Synthetic customer messages and the HTTP client side of the benchmarks."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

import httpx

TEMPLATES = (
    "Please cancel order {n}, I ordered it twice.",
    "Do you deliver to Ireland and how long does order {n} usually take?",
    "Since starting the tablets from order {n} I have a rash on my arms.",
    "What are your opening hours on public holidays? (ref {n})",
    "I was charged twice for order {n}, please refund one payment.",
    "My son swallowed two of my sleeping tablets from order {n}.",
)


def message_body(index: int, run: str) -> dict[str, str]:
    return {
        "text": TEMPLATES[index % len(TEMPLATES)].format(n=70000 + index),
        "channel": "chat",
        "message_id": f"bench-{run}-{index}",
    }


@dataclass
class Reply:
    message_id: str
    status: int
    latency_ms: float
    case_id: str | None
    error: str | None = None
    retry_after: str | None = None
    content_type: str = ""


@dataclass
class LoadResult:
    replies: list[Reply] = field(default_factory=list)
    elapsed_s: float = 0.0

    def statuses(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for reply in self.replies:
            key = str(reply.status) if reply.status else f"error:{reply.error}"
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items()))

    def latencies(self, *statuses: int) -> list[float]:
        return [r.latency_ms for r in self.replies if not statuses or r.status in statuses]

    def accepted(self) -> list[Reply]:
        return [r for r in self.replies if r.status in (200, 202)]


async def post(http: httpx.AsyncClient, body: dict[str, str]) -> Reply:
    started = time.perf_counter()
    try:
        response = await http.post("/v1/messages", json=body)
    except httpx.HTTPError as exc:
        return Reply(body["message_id"], 0, (time.perf_counter() - started) * 1000, None, type(exc).__name__)
    latency = (time.perf_counter() - started) * 1000
    case_id = None
    if response.headers.get("content-type", "").startswith("application/json"):
        case_id = response.json().get("case_id")
    return Reply(
        body["message_id"],
        response.status_code,
        latency,
        case_id,
        retry_after=response.headers.get("retry-after"),
        content_type=response.headers.get("content-type", ""),
    )


async def run_load(
    http: httpx.AsyncClient, count: int, concurrency: int, run: str | None = None
) -> LoadResult:
    """`count` distinct messages through `concurrency` clients, each posting one after the other."""
    run = run or uuid.uuid4().hex[:8]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)
    result = LoadResult()

    async def client() -> None:
        while not queue.empty():
            index = queue.get_nowait()
            result.replies.append(await post(http, message_body(index, run)))

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    result.elapsed_s = time.perf_counter() - started
    return result
