"""A tiny OpenAI-compatible chat server on 127.0.0.1 for tests (no network).

    with FakeOpenAI() as server:
        server.script(content="答案[1]。")          # next replies
        client = ChatClient(server.base_url, "m")
        ...
        server.requests[0]["json"]["model"]

``script`` sets what every following request gets: a fixed ``content``, a
``delay`` in seconds before answering (to force client timeouts), an HTTP
``status`` other than 200, or a raw ``body`` (e.g. invalid JSON).  Every
request is recorded as ``{"path", "headers", "json", "raw"}``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Script:
    content: str = "好的[1]。"
    delay: float = 0.0
    status: int = 200
    body: bytes | None = None  # raw response body, overrides content


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # never wait for a handler that is still sleeping


class FakeOpenAI:
    """OpenAI-compatible ``POST /v1/chat/completions`` with scripted replies."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self._script = Script()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                try:
                    payload = json.loads(raw.decode("utf-8"))
                except ValueError:
                    payload = None
                with fake._lock:
                    fake.requests.append({"path": self.path, "headers": dict(self.headers), "json": payload, "raw": raw})
                    script = fake._script
                if script.delay:
                    fake._stop.wait(script.delay)
                    if fake._stop.is_set():
                        return
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, b'{"error": "not found"}')
                elif script.body is not None:
                    self._send(script.status, script.body)
                elif script.status != 200:
                    self._send(script.status, json.dumps({"error": {"message": "scripted failure"}}).encode())
                else:
                    model = payload.get("model", "") if isinstance(payload, dict) else ""
                    reply = {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion",
                        "model": model,
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": script.content}, "finish_reason": "stop"}],
                    }
                    self._send(200, json.dumps(reply, ensure_ascii=False).encode("utf-8"))

            def _send(self, status: int, body: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client gave up (timeout test)
                    pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, content: str = "好的[1]。", delay: float = 0.0, status: int = 200, body: bytes | None = None) -> None:
        with self._lock:
            self._script = Script(content, delay, status, body)

    def start(self) -> "FakeOpenAI":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=1.0)

    def __enter__(self) -> "FakeOpenAI":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
