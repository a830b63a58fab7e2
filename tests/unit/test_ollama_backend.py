"""The Ollama backend against a local HTTP server that records requests and answers like Ollama."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from classifier.backends.base import LLMBackendError
from classifier.backends.ollama_backend import OllamaBackend
from classifier.prompt import PRODUCTION_PROMPT
from classifier.service import Classifier
from core.models import Category, Channel, ClassifyInput


class FakeOllama:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append((self.path, body))
                if outer.status != 200:
                    self.send_response(outer.status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"error": "model is overloaded"}')
                    return
                # Shape of a non-streaming /api/chat reply from Ollama >= 0.12.11 with logprobs.
                reply = {
                    "model": body["model"],
                    "created_at": "2026-11-25T12:00:00Z",
                    "message": {"role": "assistant", "content": '"safety"'},
                    "done": True,
                    "done_reason": "stop",
                    "total_duration": 1,
                    "prompt_eval_count": 412,
                    "eval_count": 2,
                    "logprobs": [
                        {"token": '"', "logprob": 0.0, "top_logprobs": [{"token": '"', "logprob": 0.0}]},
                        {
                            "token": "s",
                            "logprob": -0.2,
                            "top_logprobs": [
                                {"token": "s", "logprob": -0.2},
                                {"token": "service", "logprob": -2.0},
                                {"token": "info", "logprob": -3.0},
                            ],
                        },
                    ],
                }
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def fake_ollama() -> Iterator[FakeOllama]:
    fake = FakeOllama()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()


def test_request_carries_prompt_schema_logprobs_and_greedy_options(fake_ollama: FakeOllama) -> None:
    backend = OllamaBackend(fake_ollama.url, "cc-qwen", timeout_seconds=5)
    result = Classifier(backend).classify(
        ClassifyInput(case_id="c1", redacted_text="my son swallowed my pills", channel=Channel.chat)
    )
    path, body = fake_ollama.requests[0]
    assert path == "/api/chat"
    assert body["model"] == "cc-qwen"
    assert body["messages"] == PRODUCTION_PROMPT.build_messages("my son swallowed my pills")
    assert body["format"] == PRODUCTION_PROMPT.json_schema
    assert body["logprobs"] is True and body["top_logprobs"] == 10
    assert body["options"]["temperature"] == 0.0
    assert body["options"]["num_predict"] == PRODUCTION_PROMPT.max_tokens
    assert body["stream"] is False
    # Same parsing as llama.cpp: the forced quote is skipped, the label token decides.
    assert result.label is Category.safety_compliance
    assert result.probabilities.safety_compliance > 0.7
    assert result.backend == "ollama"
    assert result.prompt_tokens == 412


def test_server_error_is_raised_once_without_client_side_retries(fake_ollama: FakeOllama) -> None:
    fake_ollama.status = 503
    backend = OllamaBackend(fake_ollama.url, "cc-qwen", timeout_seconds=5)
    with pytest.raises(LLMBackendError):
        Classifier(backend).classify(ClassifyInput(case_id="c1", redacted_text="hi", channel=Channel.chat))
    assert len(fake_ollama.requests) == 1  # Temporal owns retries


def test_unreachable_server_is_a_backend_error() -> None:
    backend = OllamaBackend("http://127.0.0.1:9", "cc-qwen", timeout_seconds=1)
    with pytest.raises(LLMBackendError):
        Classifier(backend).classify(ClassifyInput(case_id="c1", redacted_text="hi", channel=Channel.chat))
