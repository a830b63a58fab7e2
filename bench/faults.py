"""Things a drill can break on purpose: an LLM server that fails or hangs, a database link that drops.

Both are real network services on loopback: the worker's Ollama backend talks HTTP to the fake
LLM server, and the worker's database URL points at the TCP proxy in front of PostgreSQL. The
shared PostgreSQL server itself is never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.stack import free_port, wait_for_port
from classifier.backends.base import LLMRequest
from classifier.backends.fake import FakeBackend

LlmMode = Literal["ok", "error", "hang"]


class FakeOllama:
    """Ollama's /api/chat (JSON schema format, log-probs), answering with the fake's keyword scorer."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mode: LlmMode = "ok"
        self.calls: dict[str, int] = {"ok": 0, "error": 0, "hang": 0}
        self._backend = FakeBackend()
        self._stopping = asyncio.Event()

    async def chat(self, request: Request) -> JSONResponse:
        body = await request.json()
        mode = self.mode
        self.calls[mode] += 1
        if mode == "error":
            return JSONResponse({"error": "model runner has unexpectedly stopped"}, status_code=500)
        if mode == "hang":
            # Longer than any client timeout; released when the server stops.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=3600)
            return JSONResponse({"error": "stopping"}, status_code=503)
        reply = self._backend.complete(
            LLMRequest(
                messages=body["messages"],
                json_schema=body["format"],
                max_tokens=int(body.get("options", {}).get("num_predict", 8)),
                top_logprobs=int(body.get("top_logprobs", 5)),
            )
        )
        logprobs = [
            {
                "token": position.token,
                "logprob": next((lp for tok, lp in position.candidates if tok == position.token), 0.0),
                "top_logprobs": [{"token": tok, "logprob": lp} for tok, lp in position.candidates],
            }
            for position in reply.positions
        ]
        return JSONResponse(
            {
                "model": body.get("model", "fake"),
                "created_at": "2026-12-01T00:00:00Z",
                "message": {"role": "assistant", "content": reply.content},
                "done": True,
                "done_reason": "stop",
                "logprobs": logprobs,
                "prompt_eval_count": reply.prompt_tokens,
                "eval_count": reply.completion_tokens,
            }
        )

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator[FakeOllama]:
        app = Starlette(routes=[Route("/api/chat", self.chat, methods=["POST"])])
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        )
        task = asyncio.create_task(server.serve())
        await wait_for_port(self.port, 10)
        try:
            yield self
        finally:
            self._stopping.set()
            server.should_exit = True
            await asyncio.wait_for(task, timeout=10)


class TcpProxy:
    """Forwards 127.0.0.1:port to a target; `cut()` drops every connection and refuses new ones."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self._target = target_port
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self._target)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers.update({client_writer, upstream_writer})
        await asyncio.gather(
            _pipe(client_reader, upstream_writer),
            _pipe(upstream_reader, client_writer),
            return_exceptions=True,
        )
        self._writers.difference_update({client_writer, upstream_writer})


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.transport.abort()
