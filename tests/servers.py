"""A minimal OpenAI-compatible stand-in server on loopback, for what the real `transformers serve`
(benchmarks/serving.py) cannot show: a server that honours `n`. Stopped by the test that starts it.
"""

from __future__ import annotations

import json
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING


if TYPE_CHECKING:
    from typing_extensions import Self


class StandIn:
    """A server that honours `n`: each choice is "<seed>/<index>", so a test reads which draw produced it.

    It keeps every payload it received (`payloads`).
    """

    def __init__(self) -> None:
        self.payloads: list[dict] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stand_in.payloads.append(payload)
                seed = payload.get("seed")
                words = random.Random(seed).choices(["agree", "disagree", "important", "not important"],
                                                    k=payload.get("n", 1))
                texts = [f"{word} {seed}/{index}" for index, word in enumerate(words)]
                chat = self.path.endswith("chat/completions")
                choices = [{"index": i, "finish_reason": "stop",
                            **({"message": {"role": "assistant", "content": text}} if chat else {"text": text})}
                           for i, text in enumerate(texts)]
                body = json.dumps({"id": "stand-in", "object": "chat.completion", "choices": choices}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, endpoint: str = "chat/completions") -> str:
        return f"http://127.0.0.1:{self.port}/v1/{endpoint}"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
