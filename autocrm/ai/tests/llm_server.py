"""A local OpenAI-compatible HTTP server for the LLM tests (no outside calls).

``mode`` scripts its behaviour: "ok" answers ``/chat/completions`` with ``reply(messages)``
(and ``/embeddings`` with fixed vectors) after ``delay_seconds``, "slow" sleeps past the
client's timeout, "garbage" answers 200 with a body that is not JSON, "empty" answers a
completion without text, "error" answers 500.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class FakeLLM:
    url: str
    mode: str = "ok"
    reply: Callable[[list[dict[str, Any]]], str] = lambda messages: "Answer [1]."
    requests: list[dict[str, Any]] = field(default_factory=list)
    slow_seconds: float = 3.0
    delay_seconds: float = 0.0  # "ok" answers after this long (latency percentiles)


def _handler(server_state: dict[str, FakeLLM]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            fake = server_state["fake"]
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            fake.requests.append({"path": self.path, "body": body})
            if fake.mode == "slow":
                time.sleep(fake.slow_seconds)
            elif fake.delay_seconds:
                time.sleep(fake.delay_seconds)
            if fake.mode == "error":
                self._send(500, b'{"error": {"message": "boom"}}')
                return
            if fake.mode == "garbage":
                self._send(200, b"<html>certainly not json")
                return
            if self.path.endswith("/embeddings"):
                data = [
                    {"object": "embedding", "index": i, "embedding": [1.0] + [0.0] * 383}
                    for i, _ in enumerate(body["input"])
                ]
                payload = {
                    "object": "list",
                    "data": data,
                    "model": body["model"],
                    "usage": {"prompt_tokens": 1, "total_tokens": 1},
                }
            else:
                content = None if fake.mode == "empty" else fake.reply(body["messages"])
                payload = {
                    "id": "chatcmpl-test",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": content},
                        }
                    ],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
                }
            self._send(200, json.dumps(payload).encode())

        def _send(self, status: int, payload: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the "slow" mode's point)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def fake_llm(settings: Any) -> Iterator[FakeLLM]:
    state: dict[str, FakeLLM] = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state["fake"] = FakeLLM(url=f"http://127.0.0.1:{server.server_address[1]}/v1")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.AI_LLM_BASE_URL = state["fake"].url
    settings.AI_LLM_MODEL = "test-model"
    settings.AI_LLM_TIMEOUT = 1.0
    settings.AI_LLM_MAX_RETRIES = 0
    settings.AI_LLM_PRICE_INPUT = 1.0
    settings.AI_LLM_PRICE_OUTPUT = 2.0
    try:
        yield state["fake"]
    finally:
        server.shutdown()
        server.server_close()
