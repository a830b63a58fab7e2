"""`python -m bench e2e`: the whole path with the embedded model next to the bare LLM call.

Both halves run in the same invocation on the same messages (redacted as the API does): first
the bare classifier call in this process (model loaded once, then freed), then the stack with
the real `llamacpp` backend in its worker, one client posting sequentially. ratio_p50 =
e2e p50 / bare LLM p50 says what orchestration adds on top of the model (target <= 1.10).
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

from bench.load import message_body, run_load
from bench.overhead import machine
from bench.report import latency_summary
from bench.stack import Stack, StackOptions, WorkerSpec
from core.config import Settings
from core.models import Channel, ClassifyInput
from core.redaction import redact


def bare_llm_ms(n: int, run: str) -> list[float]:
    from classifier.factory import build_classifier

    classifier = build_classifier(Settings(llm_backend="llamacpp"))
    timings: list[float] = []
    for index in range(n):
        text = redact(message_body(index, run)["text"]).text
        request = ClassifyInput(case_id=f"bare-{index}", redacted_text=text, channel=Channel.chat)
        started = time.perf_counter()
        classifier.classify(request)
        timings.append((time.perf_counter() - started) * 1000)
    del classifier
    gc.collect()
    return timings


async def e2e(n: int) -> dict[str, Any]:
    run = f"e2e{int(time.time())}"
    bare = await asyncio.to_thread(bare_llm_ms, n, run)
    options = StackOptions(
        workers=[WorkerSpec(roles=("workflows", "llm"), env={"CC_LLM_BACKEND": "llamacpp"})]
    )
    async with Stack.start(options) as stack, stack.http() as http:
        await run_load(http, 3, 1, run="warmup")
        result = await run_load(http, n, 1, run=run)
        rss = stack.rss_mb()
    e2e_ms = result.latencies(200)
    bare_summary = latency_summary(bare)
    e2e_summary = latency_summary(e2e_ms)
    return {
        "bench": "e2e",
        "n": n,
        "e2e": {**e2e_summary, "statuses": result.statuses()},
        "bare_llm": bare_summary,
        "ratio_p50": round(e2e_summary["p50_ms"] / bare_summary["p50_ms"], 3),
        "rss_mb": rss,
        "machine": machine(),
    }
