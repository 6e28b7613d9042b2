"""A minimal OpenAI-compatible stand-in server on loopback, for what the real `transformers serve`
(benchmarks/serving.py) cannot show: a server that honours `n`, and one that misbehaves the way gateways and hosted
APIs do. Started on a free port, stopped by the test that starts it.
"""

from __future__ import annotations

import json
import random
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING


if TYPE_CHECKING:
    from typing_extensions import Self


# What a faulty response holds; "fewer-choices" sends n - 1 choices (none to a request for one).
FAULTS = ("null-content", "no-index", "error-200", "not-json", "no-choices", "fewer-choices", "429-seconds",
          "429-date", "503", "401", "silence")


class StandIn:
    """A server that honours `n`: each choice is "<word> <seed>/<index>", so a test reads which draw produced it.

    `fault` (one of FAULTS) spoils every `every`-th request from request number `start` on: with one request at a
    time and `every=2`, a spoiled request's retry is answered. Silence holds the connection open, saying nothing,
    until the server stops. `seedless` answers every choice alike, as a server that ignores seeds and `n` might.
    It keeps every payload it received (`payloads`), those it answered (`answered`) and when each arrived.
    """

    def __init__(self, fault: str | None = None, every: int = 2, start: int = 0, retry_after: float = 1,
                 seedless: bool = False) -> None:
        if fault not in (None, *FAULTS):
            raise ValueError(f"unknown fault {fault!r}")
        self.fault, self.every, self.start, self.retry_after = fault, every, start, retry_after
        self.seedless = seedless
        self.payloads: list[dict] = []
        self.answered: list[dict] = []
        self.arrivals: list[float] = []
        self.released = threading.Event()
        self.lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with stand_in.lock:
                    number = len(stand_in.payloads) - stand_in.start
                    spoiled = stand_in.fault is not None and number >= 0 and number % stand_in.every == 0
                    stand_in.payloads.append(payload)
                    stand_in.arrivals.append(time.monotonic())
                chat = self.path.endswith("chat/completions")
                if not spoiled:
                    with stand_in.lock:
                        stand_in.answered.append(payload)
                    self.reply(200, stand_in.body(payload, chat))
                elif stand_in.fault == "silence":
                    stand_in.released.wait()
                else:
                    self.reply(*stand_in.spoiled(payload, chat))

            def reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def choices(self, payload: dict, chat: bool) -> list[dict]:
        seed = payload.get("seed")
        words = random.Random(seed).choices(["agree", "disagree", "important", "not important"],
                                            k=payload.get("n", 1))
        texts = [("agree" if self.seedless else f"{word} {seed}/{index}") for index, word in enumerate(words)]
        return [{"index": i, "finish_reason": "stop",
                 **({"message": {"role": "assistant", "content": text}} if chat else {"text": text})}
                for i, text in enumerate(texts)]

    def body(self, payload: dict, chat: bool, choices: list[dict] | None = None) -> bytes:
        choices = self.choices(payload, chat) if choices is None else choices
        return json.dumps({"id": "stand-in", "object": "chat.completion" if chat else "text_completion",
                           "model": "stand-in-model", "choices": choices}).encode()

    def spoiled(self, payload: dict, chat: bool) -> tuple[int, bytes, dict[str, str]]:
        """The status, body and headers of a faulty response."""
        choices = self.choices(payload, chat)
        if self.fault == "null-content":
            for choice in choices:
                choice["message" if chat else "text"] = {"role": "assistant", "content": None} if chat else None
            return 200, self.body(payload, chat, choices), {}
        if self.fault == "no-index":
            return 200, self.body(payload, chat, [{k: v for k, v in c.items() if k != "index"} for c in choices]), {}
        if self.fault == "error-200":
            return 200, json.dumps({"error": {"message": "upstream model overloaded", "code": 529}}).encode(), {}
        if self.fault == "not-json":
            return 200, b"<html><body>502 Bad Gateway</body></html>", {"Content-Type": "text/html"}
        if self.fault in ("no-choices", "fewer-choices"):
            count = 0 if self.fault == "no-choices" else payload.get("n", 1) - 1
            return 200, self.body(payload, chat, choices[:count]), {}
        overload = json.dumps({"error": {"message": "rate limit reached, slow down"}}).encode()
        if self.fault == "429-seconds":
            return 429, overload, {"Retry-After": f"{self.retry_after:g}"}
        if self.fault == "429-date":
            return 429, overload, {"Retry-After": formatdate(time.time() + self.retry_after + 1, usegmt=True)}
        if self.fault == "401":
            return 401, json.dumps({"error": {"message": "invalid API key"}}).encode(), {}
        return 503, b"Service Unavailable", {"Content-Type": "text/plain"}

    def url(self, endpoint: str = "chat/completions") -> str:
        return f"http://127.0.0.1:{self.port}/v1/{endpoint}"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
